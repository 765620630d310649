/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains how tc_tx puts SRv6 headers back (End.AD, draft-ietf-spring-sr-service-
 * programming 6.4, per packet): the cached outer IPv6 header and extension headers byte for byte,
 * with the hop limit handled as the router the proxy stands for would (RFC 8754 4.3.1.1 S13-S17)
 * and the payload length recomputed; and the static miss policy's fixed IPv6 header and SRH. */
#ifndef TC_TX_SRV6_H
#define TC_TX_SRV6_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "tx_push.h"

/*
 * SRv6 restore rule: the header set goes back as xdp_rx cached it (Segments Left and destination
 * already those of the next segment; traffic class, flow label, source, every extension header and
 * TLV as received), except
 *  - hop limit - 1 (RFC 8754 4.3.1.1 S16-S17, the End behaviour the proxy performs on the VNF's
 *    behalf). A hop limit of 0 or 1 cannot be decremented and forwarded (S13): TX_TTL_EXPIRED,
 *    drop. No ICMP Time Exceeded is sent (the VNF has seen the packet already; the source learns
 *    nothing, as from a router that rate-limits its ICMP to zero).
 *  - payload length: set by srv6_set_plen() once the packet's final size is known.
 * Framing, as for NSH (build_nsh_buf()): inner IPv4/IPv6 behind the VNF's own L2 header with the
 * innermost ethertype IPv6; inner Ethernet (next header 143) behind a new untagged outer header
 * to Nsh:NextHopMac or, unset, the popped frame's source, from the egress MAC.
 * The header set is in b already (the take copied it there, copy_entry()); e holds its length.
 * Fills b's L2 header; sets *l2_len, *grow. Returns the header set's length, or -1 with *outcome
 * set.
 */
static __always_inline int build_srv6_buf(struct push_buf *b, void *data, void *data_end,
					  __u32 vlans, const struct sfc_config *cfg,
					  const struct sfc_cache_entry *e, __u32 *l2_len,
					  __u32 *grow, enum sfc_counter *outcome)
{
	__u32 hlen;

	*outcome = SFC_CNT_TX_ERROR;
	hlen = e->srv6_len;
	if (hlen < SFC_IP6_HLEN + SFC_SRH_HLEN || hlen > SFC_SRV6_MAX_LEN)
		return -1; /* xdp_rx cached 48..384 bytes; re-stated for the verifier */
	if (b->hdr.srv6[SFC_IP6_HLIM_OFF] <= 1) {
		*outcome = SFC_CNT_TX_TTL_EXPIRED;
		return -1;
	}
	b->hdr.srv6[SFC_IP6_HLIM_OFF] -= 1;

	return put_l2(b, data, data_end, vlans, cfg, e, e->srv6_next == SFC_NH_ETHERNET,
		      bpf_htons(ETH_P_IPV6), hlen, l2_len, grow);
}

/*
 * Static miss rule for SRv6 (Srv6:Static): the configured outer IPv6 header and SRH (built by the
 * host, hop limit and segments as configured), its SRH's next header set to the VNF's packet (4
 * IPv4, 41 IPv6), behind the VNF's own L2 header. Returns the header's length, or -1.
 */
static __always_inline int build_static_srv6(struct push_buf *b, void *data, void *data_end,
					     __u32 vlans, const struct sfc_config *cfg,
					     __u8 family, __u32 *l2_len, __u32 *grow)
{
	__u32 hlen = cfg->static_srv6_len;
	int len;

	if (hlen < SFC_IP6_HLEN + SFC_SRH_HLEN || hlen > SFC_SRV6_STATIC_MAX_LEN)
		return -1;
	__builtin_memcpy(b->hdr.srv6, cfg->static_srv6, SFC_SRV6_STATIC_MAX_LEN);
	b->hdr.srv6[SFC_IP6_HLEN] = family == 4 ? SFC_NH_IPV4 : SFC_NH_IPV6;
	len = copy_l2(b, data, data_end, vlans, bpf_htons(ETH_P_IPV6));
	if (len < 0)
		return -1;
	*l2_len = len;
	*grow = hlen;
	return hlen;
}

/* Payload length rule: everything behind the fixed outer IPv6 header, its extension headers and
 * the packet as it leaves (the VNF's IP packet, or its whole frame for inner Ethernet), known only
 * after the too-big rule may have turned the packet into an ICMP error. l2_in_skb: bytes of the
 * skb in front of the inner packet that stay in front of the outer header (0 for inner Ethernet). */
static __always_inline void srv6_set_plen(struct push_buf *b, __u32 skb_len, __u32 l2_in_skb,
					  __u32 hdr_len)
{
	__u32 plen = skb_len - l2_in_skb + hdr_len - SFC_IP6_HLEN;

	*(__be16 *)&b->hdr.srv6[SFC_IP6_PLEN_OFF] = bpf_htons((__u16)plen);
}

#endif /* TC_TX_SRV6_H */
