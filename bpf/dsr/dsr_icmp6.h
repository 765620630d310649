/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's answer to an IPv6 packet too big for the tunnel: ICMPv6 packet too
 * big (RFC 4443 3.2) back to the client, built in place. */
#ifndef DSR_ICMP6_H
#define DSR_ICMP6_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "icmp.h"
#include "l2_copy.h"
#include "dsr_shared.h"
#include "dsr_encap.h"
#include "dsr_icmp.h"
#include "dsr_parsing6.h"

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

/* RFC 4443 2.4 (c): an error carries as much of the invoking packet as fits in the minimum IPv6
 * MTU, so the answer is exactly 1280 bytes: IPv6 header, 8 bytes of ICMPv6, and this much of the
 * client's packet, which is always longer (it exceeded an MTU of at least 1280 + 40). */
#define DSR_PTB6_QUOTE (DSR_IPV6_MIN_MTU - IPV6_HLEN - 8)

/* The ICMPv6 packet too big header (RFC 4443 3.2). */
struct icmp6_too_big_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 mtu;
};

/* The ones' complement sum (unfolded) of len bytes at ptr, a multiple of 4 of at most 512 (what
 * bpf_csum_diff takes at once), added to seed. */
#define DSR_CSUM_CHUNK 512

/* RFC 4443 2.4 (e): no ICMPv6 error about an ICMPv6 error (e.1: the packet too big dsr_lb
 * forwards to a backend, p->icmp) or a packet whose source does not identify a single node (e.5:
 * the unspecified address ::, multicast ff00::/8; and loopback ::1, never valid off the node, RFC
 * 4291 2.5.3). A multicast destination, link-layer multicast or broadcast (e.2 to e.4) do not
 * stop a packet too big: PTB is their exception, so path MTU discovery works for multicast.
 * Dropped, counted TOO_BIG_SUPPRESSED. Returns 1 when an error may be sent. */
static __always_inline int dsr_icmp6_allowed(const struct dsr_packet6 *p, enum dsr_counter *outcome)
{
	const __be32 *s = p->flow.saddr;

	if (p->icmp || (s[0] | s[1] | s[2] | (s[3] & ~bpf_htonl(1))) == 0 ||
	    (bpf_ntohl(s[0]) >> 24) == 0xff) {
		*outcome = DSR_CNT_TOO_BIG_SUPPRESSED;
		return 0;
	}
	return 1;
}

/* Turns the packet into ICMPv6 packet too big to the client, in place: L2 (MACs swapped) | IPv6
 * (VIP -> client, hop limit dsr_hop_limit()) | ICMPv6 2/0 with the MTU | the first
 * DSR_PTB6_QUOTE bytes of the client's packet. The checksum covers the pseudo-header (RFC 8200
 * 8.1), summed with bpf_csum_diff over the packet in three pieces. */
static __always_inline int dsr_icmp6_too_big(struct xdp_md *ctx, const struct dsr_packet6 *p,
					     const struct dsr_config *cfg, __u32 mtu,
					     enum dsr_counter *outcome)
{
	const __u32 icmp_len = sizeof(struct icmp6_too_big_hdr) + DSR_PTB6_QUOTE;
	__be32 pseudo[2] = { bpf_htonl(icmp_len), bpf_htonl(IPPROTO_ICMPV6) };
	__u64 l2 = p->l2;
	__u8 l2_hdr[L2_MAX_LEN];
	void *data, *data_end;
	struct ethhdr *eth;
	struct ipv6hdr *ip6, *orig;
	struct icmp6_too_big_hdr *icmp;
	__u8 mac[ETH_ALEN];
	__u32 len, keep;
	__s64 sum;

	if (!dsr_icmp6_allowed(p, outcome) || !dsr_icmp_budget(outcome))
		return XDP_DROP;
	if (bpf_xdp_adjust_head(ctx, -(int)(IPV6_HLEN + sizeof(struct icmp6_too_big_hdr)))) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > L2_MAX_LEN || data + l2 + IPV6_HLEN + icmp_len > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	l2_move(data, data + IPV6_HLEN + sizeof(struct icmp6_too_big_hdr), p->vlans, l2_hdr);
	eth = data;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	keep = l2 + IPV6_HLEN + icmp_len;
	len = (__u32)(data_end - data);
	if (len > keep && bpf_xdp_adjust_tail(ctx, -(int)(len - keep))) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > L2_MAX_LEN || data + l2 + IPV6_HLEN + icmp_len > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	ip6 = data + l2;
	icmp = (void *)(ip6 + 1);
	orig = (void *)(icmp + 1);

	*(__be32 *)ip6 = bpf_htonl(6u << 28);
	ip6->payload_len = bpf_htons(icmp_len);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = dsr_hop_limit(cfg);
	ip6->saddr = orig->daddr;
	ip6->daddr = orig->saddr;

	icmp->type = ICMPV6_PKT_TOO_BIG;
	icmp->code = 0;
	icmp->checksum = 0;
	icmp->mtu = bpf_htonl(mtu);

	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ip6->saddr, 32, 0);
	sum = bpf_csum_diff(NULL, 0, pseudo, sizeof(pseudo), sum);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)icmp, DSR_CSUM_CHUNK, sum);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)((void *)icmp + DSR_CSUM_CHUNK), DSR_CSUM_CHUNK, sum);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)((void *)icmp + 2 * DSR_CSUM_CHUNK),
			    icmp_len - 2 * DSR_CSUM_CHUNK, sum);
	if (sum < 0) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	icmp->checksum = csum_fold((__u32)sum);
	*outcome = DSR_CNT_ICMP_TOO_BIG;
	return XDP_TX;
}

#endif /* DSR_ICMP6_H */
