/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's answer to a packet too big for the tunnel with DF set (katran
 * handle_icmp.h): ICMP fragmentation needed back to the client, built in place. */
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
#include "l2_copy.h"
#include "dsr_shared.h"
#include "dsr_parsing.h"

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
