/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's IPv6 tunnel encapsulation (RFC 2473): the outer IPv6 header put in
 * front of the client's packet, IPv6 (next header 41) or IPv4 (next header 4, the migration
 * case: IPv4 clients to IPv4 VIPs over an IPv6 underlay), behind its L2 header. */
#ifndef DSR_ENCAP6_H
#define DSR_ENCAP6_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "l2_copy.h"
#include "dsr_shared.h"
#include "dsr_encap.h"

/* The outer flow label (RFC 6438): 20 bits of the inner flow's hash, so ECMP and receive-side
 * hashing that read the label spread tunnelled flows as they would the flows themselves; never 0
 * (RFC 6437: 0 means "no label"). */
static __always_inline __u32 dsr_flow_label(__u32 hash)
{
	__u32 label = (hash ^ hash >> 20) & 0xFFFFF;

	return label ? label : 1;
}

/* Puts the outer IPv6 header (cfg->source6 -> be->addr6, next header nexthdr) between the L2
 * header of vlans tags (l2 bytes) and the client's packet of inner_len bytes, and sets the L2
 * header's ethertype to IPv6. RFC 2473 5.1 and RFC 6040 normal mode: the traffic class is the
 * inner packet's (DSCP and ECN; an IPv4 TOS), the flow label dsr_flow_label(hash), the hop limit
 * dsr_hop_limit(). No extension headers (no tunnel encapsulation limit option). Returns
 * DSR_NEXT, or XDP_DROP with ABORTED when a helper or a bounds check fails. */
static __always_inline int dsr_encap6(struct xdp_md *ctx, __u64 vlans, __u64 l2, __u32 inner_len,
				      __u8 tclass, __u8 nexthdr, const struct dsr_config *cfg,
				      const struct dsr_backend *be, __u32 hash,
				      enum dsr_counter *outcome)
{
	void *data, *data_end;
	struct ipv6hdr *outer;
	__u8 l2_hdr[L2_MAX_LEN];

	if (bpf_xdp_adjust_head(ctx, -DSR_ENCAP6_LEN)) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > L2_MAX_LEN || l2 < ETH_HLEN ||
	    data + DSR_ENCAP6_LEN + l2 + sizeof(struct ipv6hdr) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	l2_move(data, data + DSR_ENCAP6_LEN, vlans, l2_hdr);
	outer = data + l2;
	if ((void *)(outer + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	*((__be16 *)outer - 1) = bpf_htons(ETH_P_IPV6); /* the innermost ethertype */
	*(__be32 *)outer = bpf_htonl(6u << 28 | (__u32)tclass << 20 | dsr_flow_label(hash));
	outer->payload_len = bpf_htons(inner_len);
	outer->nexthdr = nexthdr;
	outer->hop_limit = dsr_hop_limit(cfg);
	__builtin_memcpy(&outer->saddr, cfg->source6, 16);
	__builtin_memcpy(&outer->daddr, be->addr6, 16);
	return DSR_NEXT;
}

#endif /* DSR_ENCAP6_H */
