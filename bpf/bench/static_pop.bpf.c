// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The benchmark's static proxy, ingress half: the least an XDP program can do to take SFC headers
 * off a packet. It walks an SR-MPLS stack to its bottom (at most 16 entries), reads an NSH
 * header's length, or (SRv6, a static End.AS-like pop) reads the length of the SRH right behind
 * an outer IPv6 header (no SID match, no Segments Left, no TLVs looked at), moves the packet
 * start past them with bpf_xdp_adjust_head() and writes the
 * Ethernet header back in front of the inner packet. No VLANs, no inner parse, no cache, no
 * counters: what any proxy in this hook design pays, so the datapath's cost reads as a ratio to
 * its job's own limit (sfcproxy bench, "static" columns). */
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

SEC("xdp")
int static_pop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data, saved;
	__u32 pop = 0, i;
	__u8 *p, *inner;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	p = (__u8 *)(eth + 1);
	if (eth->h_proto == bpf_htons(0x8847)) {
		for (i = 0; i < MAX_LABELS; i++) {
			if ((void *)(p + MPLS_HLEN) > data_end)
				return XDP_DROP;
			p += MPLS_HLEN;
			if (*(__be32 *)(p - MPLS_HLEN) & bpf_htonl(MPLS_BOS))
				break;
		}
		pop = (__u32)(p - (__u8 *)(eth + 1));
	} else if (eth->h_proto == bpf_htons(0x894F)) {
		if ((void *)(p + 2) > data_end)
			return XDP_DROP;
		pop = (bpf_ntohs(*(__be16 *)p) & NSH_LEN_MASK) * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		/* next header (byte 6) routing, then the SRH's Hdr Ext Len (its byte 1) */
		if ((void *)(p + IP6_HLEN + 2) > data_end)
			return XDP_PASS;
		if (p[6] != NH_ROUTING)
			return XDP_PASS;
		pop = IP6_HLEN + ((__u32)p[IP6_HLEN + 1] + 1) * 8;
	} else {
		return XDP_PASS;
	}
	saved = *eth;
	if (bpf_xdp_adjust_head(ctx, pop))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	inner = (__u8 *)(eth + 1);
	if ((void *)(inner + 1) > data_end)
		return XDP_DROP;
	saved.h_proto = (*inner >> 4) == 6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	*eth = saved;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
