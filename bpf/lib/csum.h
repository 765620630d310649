/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the Internet checksum helpers (RFC 1071, RFC 1624): folding a 32-bit ones'
 * complement sum, the IPv4 header checksum, and an incremental update for one changed 16-bit
 * word. It knows no product type. */
#ifndef LIB_CSUM_H
#define LIB_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

/* Folds a 32-bit ones' complement sum to the 16-bit checksum field (complemented). */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xFFFF) + (sum >> 16);
	sum = (sum & 0xFFFF) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of a 20-byte IPv4 header (no options) whose check field is 0. */
static __always_inline __u16 ipv4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	return csum_fold(sum);
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the checksum check (host byte order) after one 16-bit
 * word of the summed data changes from old to new (both as they sit in the sum: a word at an odd
 * offset counts byte-swapped). */
static __always_inline __u16 csum_replace16(__u16 check, __u16 old, __u16 new)
{
	return csum_fold((__u16)~check + (__u32)(__u16)~old + new);
}

#endif /* LIB_CSUM_H */
