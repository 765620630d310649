/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's IP-in-IP encapsulation (katran pckt_encap.h): the outer source
 * address, the outer IPv4 ID, and the outer IPv4 header (protocol 4) put in front of the
 * client's IPv4 packet, behind its L2 header (dsr_encap6.h: the outer IPv6 header). */
#ifndef DSR_ENCAP_H
#define DSR_ENCAP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "l2_copy.h"
#include "parse_ip.h"
#include "dsr_shared.h"
#include "dsr_maps.h"
#include "dsr_bench.h"
#include "dsr_parsing.h"

/* The outer source: with source_prefix_len set, an address of that prefix picked by the flow
 * hash (the backend's receive side spreads flows over its queues by it), else cfg->source. */
static __always_inline __be32 dsr_source(const struct dsr_config *cfg, __u32 hash)
{
	if (cfg->source_prefix_len) {
		__u32 plen = cfg->source_prefix_len > 32 ? 32 : cfg->source_prefix_len;
		__u32 hostmask = plen >= 32 ? 0 : 0xffffffffu >> plen;

		return bpf_htonl(bpf_ntohl(cfg->source_prefix) & ~hostmask | (hash & hostmask));
	}
	return cfg->source;
}

/* The outer TTL / hop limit: dsr_config.hop_limit, 0: DSR_DEFAULT_HOP_LIMIT. */
static __always_inline __u8 dsr_hop_limit(const struct dsr_config *cfg)
{
	return cfg->hop_limit ? cfg->hop_limit : DSR_DEFAULT_HOP_LIMIT;
}

/* RFC 6864: the outer header of a DF-clear packet is not atomic (a router may fragment it), so
 * its ID must not repeat for the same (source, backend, protocol 4) while fragments may live
 * (4.3); an atomic datagram (DF set, not a fragment: every outer header with DF) may carry any
 * ID, and keeps 0 as Linux's tunnels send it (4.2). The ID is a per-CPU count shifted left by
 * ip_id_shift with the CPU number in the low bits: two CPUs never send the same ID, each goes
 * through 65536 >> ip_id_shift IDs before one repeats, without an atomic operation. */
static __always_inline __be16 dsr_ip_id(const struct dsr_config *cfg)
{
	__u32 zero = 0, *n = bpf_map_lookup_elem(&dsr_ip_ids, &zero);
	__u32 shift = cfg->ip_id_shift & 15;

	if (!n)
		return 0;
	*n += 1; /* per-CPU slot: no atomics needed */
	return bpf_htons((__u16)(*n << shift | (bpf_get_smp_processor_id() & ((1u << shift) - 1))));
}

/* Puts the outer IPv4 header (src -> backend, protocol 4) between the L2 header and the client's
 * packet. RFC 2003 3.1 and RFC 6040 normal mode: the TOS (DSCP and ECN) and DF are the inner
 * packet's; the ID is 0 with DF, else dsr_ip_id(); TTL dsr_hop_limit(). Returns DSR_NEXT, or
 * XDP_DROP with ABORTED when a helper or a bounds check fails. */
static __always_inline int dsr_encap(struct xdp_md *ctx, const struct dsr_packet *p,
				     const struct dsr_config *cfg, __be32 src, __be32 backend,
				     enum dsr_counter *outcome)
{
	__be16 id = p->frag & IPV4_DF ? 0 : dsr_ip_id(cfg);
	void *data, *data_end;
	struct iphdr *outer;
	__u8 l2_hdr[L2_MAX_LEN];
	__u32 l2 = p->l2;

	if (bpf_xdp_adjust_head(ctx, -DSR_ENCAP_LEN)) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > L2_MAX_LEN || data + DSR_ENCAP_LEN + l2 + sizeof(struct iphdr) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	l2_move(data, data + DSR_ENCAP_LEN, p->vlans, l2_hdr);
	outer = data + l2;
	if ((void *)(outer + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = p->tos;
	outer->tot_len = bpf_htons(p->tot_len + DSR_ENCAP_LEN);
	outer->id = id;
	outer->frag_off = bpf_htons(p->frag & IPV4_DF);
	outer->ttl = dsr_hop_limit(cfg);
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = src;
	outer->daddr = backend;
	DSR_BENCH_CUT(5, outer);
	outer->check = ipv4_csum(outer);
	DSR_BENCH_CUT(6, outer);
	return DSR_NEXT;
}

#endif /* DSR_ENCAP_H */
