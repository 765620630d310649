/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the rate limit of ICMP errors a BPF program builds itself (RFC 1812 4.3.2.8
 * and RFC 4443 2.4 (f): the originator of an error MUST limit their rate). XDP and tc programs
 * bypass the kernel's own icmp_ratelimit, so each such program keeps a per-CPU bucket of its own
 * in a map and asks icmp_rate_take() before every error. It knows no product type. */
#ifndef LIB_ICMP_RATE_H
#define LIB_ICMP_RATE_H

#include <linux/types.h>

/* A token bucket as a theoretical arrival time (GCRA): full after a silence, it lets burst errors
 * through at once, then one every 1e9 / per_sec ns. One word, no division at run time (per_sec
 * is a constant), and a lookup of a zeroed map value is a full bucket. Per CPU: no atomics. */
struct icmp_rate_bucket {
	__u64 tat_ns; /* when the bucket would be full again; 0: never used */
};

/* Whether one more error may be sent at now_ns (bpf_ktime_get_ns()); takes its token if so. At
 * most burst + elapsed * per_sec / 1e9 errors pass in any stretch of time. */
static __always_inline int icmp_rate_take(struct icmp_rate_bucket *b, __u64 now_ns, __u32 per_sec,
					  __u32 burst)
{
	const __u64 interval = 1000000000ULL / per_sec;
	__u64 tat = b->tat_ns > now_ns ? b->tat_ns : now_ns;

	if (tat - now_ns > (__u64)(burst - 1) * interval)
		return 0;
	b->tat_ns = tat + interval;
	return 1;
}

#endif /* LIB_ICMP_RATE_H */
