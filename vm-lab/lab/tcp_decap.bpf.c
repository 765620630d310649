// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only (vm-lab/lab.sh bench-tcp, built at run time): XDP on the receiver veth. Counts every
 * frame by what it carries (per-CPU counters, no atomics needed: 0 = plain IPv4, 1..16 = that
 * many MPLS labels, 17 = anything else, 18 = NSH) and strips the labels or the NSH header the
 * proxy restored, so the iperf3 server sees plain TCP/IPv4.
 * XDP, not tc: bpf_skb_adjust_room() refuses to shrink a frame whose skb->protocol is not IPv4 or
 * IPv6 (here MPLS / NSH), and tc has no other helper that removes bytes after the MAC header.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_LABELS 16
#define SEEN_OTHER 17
#define SEEN_NSH 18

/* Frames seen, by kind (see above); read by lab.sh through bpftool to check the restored stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 19);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 kind = SEEN_OTHER, strip = 0;

	if ((void *)(eth + 1) > end)
		goto out;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		kind = 0;
	} else if (eth->h_proto == bpf_htons(ETH_P_MPLS_UC)) {
		__be32 *l = (void *)(eth + 1);
		for (int i = 0; i < MAX_LABELS; i++, l++) {
			if ((void *)(l + 1) > end)
				break;
			if (bpf_ntohl(*l) & 0x100) { /* bottom of stack */
				kind = i + 1;
				strip = 4 * (i + 1);
				break;
			}
		}
	} else if (eth->h_proto == bpf_htons(0x894F)) {
		__u8 *n = (void *)(eth + 1);
		if ((void *)(n + 8) > end)
			goto out;
		kind = SEEN_NSH;
		if (n[3] == 1) /* next protocol IPv4: strip Length x 4 bytes */
			strip = (n[1] & 0x3f) * 4;
	}
	if (strip) {
		struct ethhdr copy = *eth;
		if (bpf_xdp_adjust_head(ctx, strip))
			goto out;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		eth = data;
		if ((void *)(eth + 1) > end)
			goto out;
		__builtin_memcpy(eth->h_dest, copy.h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_source, copy.h_source, ETH_ALEN);
		eth->h_proto = bpf_htons(ETH_P_IP);
	}
out:;
	__u64 *c = bpf_map_lookup_elem(&seen, &kind);
	if (c)
		*c += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
