/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The benchmark's least pop, shared by the static proxy (static_pop) and the least per-packet cache
 * (slot_cache): how many bytes of SFC headers follow the Ethernet header, and taking them off. */
#ifndef BENCH_POP_H
#define BENCH_POP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MPLS_HLEN 4
#define MPLS_BOS 0x00000100u
#define MAX_LABELS 16
#define NSH_LEN_MASK 0x003Fu
#define IP6_HLEN 40
#define NH_ROUTING 43

/* Bytes of SFC headers behind eth: an SR-MPLS stack walked to its bottom (at most 16 entries), an
 * NSH header's length, or an outer IPv6 header and the SRH right behind it (no SID match, no
 * Segments Left, no TLVs looked at). Returns that length (0..2,088), or -XDP_PASS (not SFC) or
 * -XDP_DROP (cut short): a return value, so it stays in a register the verifier tracks. */
static __always_inline int bench_pop_len(struct ethhdr *eth, void *data_end)
{
	__u8 *p = (__u8 *)(eth + 1);
	__u32 i;

	if (eth->h_proto == bpf_htons(0x8847)) {
		for (i = 0; i < MAX_LABELS; i++) {
			if ((void *)(p + MPLS_HLEN) > data_end)
				return -XDP_DROP;
			p += MPLS_HLEN;
			if (*(__be32 *)(p - MPLS_HLEN) & bpf_htonl(MPLS_BOS))
				break;
		}
		return (int)(p - (__u8 *)(eth + 1));
	} else if (eth->h_proto == bpf_htons(0x894F)) {
		if ((void *)(p + 2) > data_end)
			return -XDP_DROP;
		return (bpf_ntohs(*(__be16 *)p) & NSH_LEN_MASK) * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		/* next header (byte 6) routing, then the SRH's Hdr Ext Len (its byte 1) */
		if ((void *)(p + IP6_HLEN + 2) > data_end)
			return -XDP_PASS;
		if (p[6] != NH_ROUTING)
			return -XDP_PASS;
		return IP6_HLEN + ((int)p[IP6_HLEN + 1] + 1) * 8;
	}
	return -XDP_PASS;
}

/* Moves the packet start pop bytes on with bpf_xdp_adjust_head() and writes the Ethernet header
 * saved back in front of the inner packet, its type from the inner version nibble. Returns 0, or
 * XDP_DROP. */
static __always_inline int bench_pop(struct xdp_md *ctx, struct ethhdr saved, __u32 pop)
{
	struct ethhdr *eth;
	__u8 *inner;

	if (bpf_xdp_adjust_head(ctx, pop))
		return XDP_DROP;
	eth = (void *)(long)ctx->data;
	inner = (__u8 *)(eth + 1);
	if ((void *)(inner + 1) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	saved.h_proto = (*inner >> 4) == 6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	*eth = saved;
	return 0;
}

#endif /* BENCH_POP_H */
