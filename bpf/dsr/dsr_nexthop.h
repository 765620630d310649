/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's last step: the encapsulated packet's next hop (bpf_fib_lookup,
 * kept per CPU and backend in dsr_nexthops, or the configured next hop MAC) and how it leaves
 * (XDP_TX, a redirect, or the stack). */
#ifndef DSR_NEXTHOP_H
#define DSR_NEXTHOP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "dsr_shared.h"
#include "dsr_maps.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* bpf_fib_lookup for the outer packet to be (tot_len: the route-MTU check's length): IPv4 from
 * src with protocol 4, or with outer6 IPv6 from cfg->source6 with next header nexthdr. */
static __always_inline int dsr_fib(struct xdp_md *ctx, struct bpf_fib_lookup *fib,
				   const struct dsr_config *cfg, __be32 src,
				   const struct dsr_backend *be, __u32 tot_len, int outer6,
				   __u8 nexthdr)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	if (outer6) {
		fib->family = AF_INET6;
		fib->l4_protocol = nexthdr;
		__builtin_memcpy(fib->ipv6_src, cfg->source6, 16);
		__builtin_memcpy(fib->ipv6_dst, be->addr6, 16);
	} else {
		fib->family = AF_INET;
		fib->l4_protocol = IPPROTO_IPIP;
		fib->ipv4_src = src;
		fib->ipv4_dst = be->addr;
	}
	fib->tot_len = tot_len;
	fib->ifindex = ctx->ingress_ifindex;
	dsr_count_in(&dsr_counters, DSR_CNT_FIB_LOOKUP);
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* Whether a next-hop cache entry was looked up for backend be (an IPv4 entry holds its address,
 * an IPv6 one 0 there and the address in backend6; no IPv4 backend is 0). */
static __always_inline int dsr_nexthop_for(const struct dsr_nexthop *nh,
					   const struct dsr_backend *be, int outer6)
{
	if (!outer6)
		return nh->backend == be->addr;
	return nh->backend == 0 && nh->backend6[0] == be->addr6[0] &&
	       nh->backend6[1] == be->addr6[1] && nh->backend6[2] == be->addr6[2] &&
	       nh->backend6[3] == be->addr6[3];
}

/* Sends the encapsulated packet (outer_len: its IP length, outer header included; outer6: an
 * outer IPv6 header with next header nexthdr) to the next hop for backend be (id backend_id):
 * see the next-hop paragraph at the top of dsr_lb.bpf.c. Returns the verdict with *outcome set. */
static __always_inline int dsr_send(struct xdp_md *ctx, const struct dsr_config *cfg, __be32 src,
				    const struct dsr_backend *be, __u32 backend_id, __u32 outer_len,
				    __u32 mtu, int outer6, __u8 nexthdr, enum dsr_counter *outcome)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib;
	__u32 egress;
	int rc;

	if ((void *)(eth + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	if (!(cfg->flags & DSR_F_STATIC_NEXTHOP)) {
		struct dsr_nexthop *nh = NULL;
		__u64 now = 0;

		if (!(cfg->flags & DSR_F_NO_NEXTHOP_CACHE)) {
			__u64 max_age = (cfg->nexthop_max_age_ms ? cfg->nexthop_max_age_ms :
					 DSR_NEXTHOP_DEFAULT_MAX_AGE_MS) * 1000000ull;

			nh = bpf_map_lookup_elem(&dsr_nexthops, &backend_id);
			now = bpf_ktime_get_coarse_ns();
			if (nh && dsr_nexthop_for(nh, be, outer6) && nh->ingress == ctx->ingress_ifindex &&
			    now - nh->stamp < max_age) {
				dsr_count_in(&dsr_counters, DSR_CNT_NEXTHOP_CACHED);
				__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
				__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
				egress = nh->egress;
				goto send;
			}
		}
		/* An entry serves every later packet up to mtu, so the lookup that fills it checks
		 * the route MTU for mtu; if the route's is smaller, this packet's own length decides
		 * as without the cache, and nothing is stored. */
		rc = dsr_fib(ctx, &fib, cfg, src, be, nh ? mtu : outer_len, outer6, nexthdr);
		if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED && nh) {
			nh = NULL;
			rc = dsr_fib(ctx, &fib, cfg, src, be, outer_len, outer6, nexthdr);
		}
		if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
			__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
			__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
			egress = fib.ifindex;
			if (nh) {
				nh->stamp = now;
				if (outer6) {
					nh->backend = 0;
					__builtin_memcpy(nh->backend6, be->addr6, 16);
				} else {
					nh->backend = be->addr;
				}
				nh->ingress = ctx->ingress_ifindex;
				nh->egress = egress;
				__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
				__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
			}
			goto send;
		}
		/* Failures (no route, no neighbour, ...) are never cached: the next packet asks again. */
		if (!(cfg->nexthop_mac[0] | cfg->nexthop_mac[1] | cfg->nexthop_mac[2] |
		      cfg->nexthop_mac[3] | cfg->nexthop_mac[4] | cfg->nexthop_mac[5])) {
			*outcome = DSR_CNT_PASS_ENCAP;
			return XDP_PASS;
		}
		dsr_count_in(&dsr_counters, DSR_CNT_FIB_FALLBACK);
	}
	/* Static next hop: our MAC (the frame's destination) becomes the source. */
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, cfg->nexthop_mac, ETH_ALEN);
	*outcome = DSR_CNT_TX;
	return XDP_TX;

send:
	if (egress == ctx->ingress_ifindex) {
		*outcome = DSR_CNT_TX;
		return XDP_TX;
	}
	*outcome = DSR_CNT_REDIRECT;
	return bpf_redirect(egress, 0);
}

#endif /* DSR_NEXTHOP_H */
