/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's answer to a packet too big for the tunnel with DF set (katran
 * handle_icmp.h): ICMP fragmentation needed back to the client, built in place; and what both
 * too-big answers (this one and dsr_icmp6.h's) pass first: the RFC's rules on when no error may
 * be sent, then the per-CPU rate limit. */
#ifndef DSR_ICMP_H
#define DSR_ICMP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "icmp.h"
#include "icmp_rate.h"
#include "l2_copy.h"
#include "dsr_shared.h"
#include "dsr_parsing.h"
#include "dsr_maps.h"

/* This CPU's too-big answers (dsr_icmp_budget()). Not pinned: a new program starts full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_rate_bucket);
} dsr_icmp_rate SEC(".maps");

/* Whether this CPU may send one more too-big answer now (DSR_ICMP_PER_SEC at once, then that
 * many a second; XDP bypasses the kernel's icmp_ratelimit); takes its token if so. Else the
 * packet is dropped, counted TOO_BIG_LIMITED: a client that ignores the errors, or a flood of
 * forged sources, gets no more than that out of the load balancer. */
static __always_inline int dsr_icmp_budget(enum dsr_counter *outcome)
{
	struct icmp_rate_bucket *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&dsr_icmp_rate, &zero);
	if (b && icmp_rate_take(b, bpf_ktime_get_ns(), DSR_ICMP_PER_SEC, DSR_ICMP_PER_SEC))
		return 1;
	*outcome = DSR_CNT_TOO_BIG_LIMITED;
	return 0;
}

/* RFC 1122 3.2.2: no ICMP error about an ICMP error (the fragmentation needed dsr_lb forwards to
 * a backend, p->icmp), a datagram to an IP broadcast or multicast address or sent as a link-layer
 * broadcast or multicast (the group bit of the destination MAC), a non-first fragment (those pass
 * before this today: PASS_FRAGMENT), or one whose source is no single host (0/8, loopback 127/8,
 * multicast 224/4, class E 240/4 and broadcast). A subnet's directed broadcast is not known here;
 * it is never a VIP. Such a packet is dropped, counted TOO_BIG_SUPPRESSED: it cannot be
 * encapsulated whole either (DF). Returns 1 when an error may be sent. */
static __always_inline int dsr_icmp_allowed(struct xdp_md *ctx, const struct dsr_packet *p,
					    enum dsr_counter *outcome)
{
	__u8 *dmac = (void *)(long)ctx->data;
	__u32 src = bpf_ntohl(p->ip->saddr), dst = bpf_ntohl(p->ip->daddr);

	if ((void *)(dmac + 1) > (void *)(long)ctx->data_end || (dmac[0] & 1) || p->icmp ||
	    (p->frag & IPV4_OFFSET_MASK) || dst >> 28 == 0xe || dst == 0xffffffff ||
	    src >> 24 == 0 || src >> 24 == 127 || src >> 28 >= 0xe) {
		*outcome = DSR_CNT_TOO_BIG_SUPPRESSED;
		return 0;
	}
	return 1;
}

/* Turns the packet into ICMP fragmentation needed to the client, in place: L2 (MACs swapped) |
 * IPv4 (VIP -> client) | ICMP 3/4 with next-hop MTU | the original IP header + 8 bytes. */
static __always_inline int dsr_icmp_too_big(struct xdp_md *ctx, const struct dsr_packet *p,
					    __u16 next_hop_mtu, enum dsr_counter *outcome)
{
	__u32 l2 = p->l2, ihl_bytes = p->ihl_bytes;
	__u8 l2_hdr[L2_MAX_LEN];
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *ip, *orig;
	struct icmp_frag_hdr *icmp;
	__u8 mac[ETH_ALEN];
	__u32 quote = ihl_bytes + 8, keep, len, sum = 0;
	__u16 *w;
	int i;

	if (!dsr_icmp_allowed(ctx, p, outcome) || !dsr_icmp_budget(outcome))
		return XDP_DROP;
	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(struct iphdr) + sizeof(struct icmp_frag_hdr)))) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + l2 + 28 + ETH_HLEN + 8 > data_end || l2 > L2_MAX_LEN) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	l2_move(data, data + 28, p->vlans, l2_hdr);
	eth = data;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	keep = l2 + 28 + quote;
	len = (__u32)(data_end - data);
	if (len > keep && bpf_xdp_adjust_tail(ctx, -(int)(len - keep))) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > L2_MAX_LEN) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	ip = data + l2;
	icmp = (void *)(ip + 1);
	orig = (void *)(icmp + 1);
	if ((void *)(orig + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(28 + quote);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = orig->daddr;
	ip->daddr = orig->saddr;
	ip->check = ipv4_csum(ip);

	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(next_hop_mtu);
	/* ICMP checksum: header + quote, at most 8 + 60 + 8 bytes, all whole 16-bit words. */
	w = (__u16 *)icmp;
	for (i = 0; i < (8 + 60 + 8) / 2; i++) {
		if ((__u32)i * 2 >= 8 + quote)
			break;
		if ((void *)(w + i + 1) > data_end)
			break;
		sum += w[i];
	}
	icmp->checksum = csum_fold(sum);
	*outcome = DSR_CNT_ICMP_TOO_BIG;
	return XDP_TX;
}

#endif /* DSR_ICMP_H */
