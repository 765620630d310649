/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains xdp_rx's reading of SRv6 (RFC 8754 SRH, RFC 8986 behaviours) as an End.AD
 * proxy (draft-ietf-spring-sr-service-programming 6.4) that keeps each packet's own headers: an
 * IPv6 packet to one of the proxy SIDs, with an SRH and Segments Left > 0, has Segments Left
 * decremented and its destination set to the next segment (RFC 8754 4.3.1.1 S11-S12), then its
 * outer IPv6 header and every extension header up to the inner packet are cached byte for byte
 * and popped. Hop limit and payload length are tc_tx's (tx_srv6.h). */
#ifndef XDP_RX_SRV6_H
#define XDP_RX_SRV6_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"
#include "rx_parse.h"

/* The inner packet types a next header names (SFC_SRV6_INNER_*), 0: none End.AD can hand on. */
static __always_inline __u32 srv6_inner_bit(__u32 nh)
{
	if (nh == SFC_NH_IPV4)
		return SFC_SRV6_INNER_IPV4;
	if (nh == SFC_NH_IPV6)
		return SFC_SRV6_INNER_IPV6;
	if (nh == SFC_NH_ETHERNET)
		return SFC_SRV6_INNER_ETHERNET;
	return 0;
}

/*
 * Checks the IPv6 packet l2_len bytes into the frame as End.AD and caches its headers in e (the
 * sfc_rx_scratch entry): e->hdr.srv6 (as it will leave), srv6_len, srv6_next, srv6_sid. Verdicts, in
 * the order they are checked:
 *  - destination not a proxy SID (Srv6:Sids)             RX_SRV6_NOT_SID (a routing header
 *                                                         follows) or RX_NOT_SFC (plain IPv6),
 *                                                         passed untouched
 *  - a header before the inner packet runs past the frame RX_SRV6_BAD_LENGTH, drop
 *  - a routing header other than an SRH, or two          RX_SRV6_NOT_SRH, drop
 *  - more than SFC_SRV6_MAX_EXT extension headers        RX_SRV6_BAD_INNER, drop
 *  - no routing header at all                             RX_SRV6_NO_SRH, passed to the host
 *  - Segments Left 0                                      RX_SRV6_SL_ZERO, drop
 *  - Last Entry past the SRH, SL > Last Entry + 1 (S07)   RX_SRV6_BAD_SRH, drop
 *  - IPv6 + extension headers > SFC_SRV6_MAX_LEN          RX_SRV6_TOO_LONG, drop
 *  - inner next header not one this SID serves            RX_SRV6_BAD_INNER, drop
 *  - an SRH TLV runs past the SRH (or > SFC_SRH_MAX_TLVS) RX_SRV6_BAD_TLV, drop
 * A reduced SRH (Segment List[Last Entry + 1], the first segment, left out: SL = Last Entry + 1)
 * is one that passes S07. A global function: the verifier walks the extension headers and the
 * TLVs once, not on every path of xdp_rx. Returns 0, or the outcome counter.
 */
__attribute__((noinline)) int rx_srv6(struct xdp_md *ctx, __u32 l2_len, struct sfc_cache_entry *e)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 zero = 0, sid, n, i, nh, off, srh_off = 0, srh_len, sl, last, t, end, seg;
	__u64 da0, da1;
	struct sfc_config *cfg;
	struct ipv6hdr *ip6;
	__u8 *p;

	if (!e || l2_len > L2_MAX_LEN)
		return SFC_CNT_RX_ERROR;
	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	if (!cfg)
		return SFC_CNT_RX_ERROR;
	ip6 = data + l2_len;
	if ((void *)(ip6 + 1) > data_end)
		return SFC_CNT_RX_TRUNCATED;

	/* SID rule: the destination is the SID (RFC 8986 3); each serves its own inner types. Not
	 * ours: SRv6 for someone else when a routing header follows (RX_SRV6_NOT_SID), else plain
	 * IPv6 (ND, ...: RX_NOT_SFC); both pass untouched */
	/* the address as two 64-bit words, compared with each configured SID in turn (unaligned
	 * packet and map loads are allowed where this runs) */
	da0 = *(const __u64 *)&ip6->daddr;
	da1 = *(const __u64 *)((const __u8 *)&ip6->daddr + 8);
	n = cfg->srv6_sid_count;
	for (sid = 0; sid < SFC_SRV6_MAX_SIDS; sid++) {
		if (sid >= n)
			break;
		if (da0 == *(const __u64 *)&cfg->srv6_sid_addr[sid][0] &&
		    da1 == *(const __u64 *)&cfg->srv6_sid_addr[sid][2])
			break;
	}
	if (sid >= n || sid >= SFC_SRV6_MAX_SIDS)
		return ip6->nexthdr == SFC_NH_ROUTING ? SFC_CNT_RX_SRV6_NOT_SID : SFC_CNT_RX_NOT_SFC;

	/* the extension headers up to the inner packet: hop-by-hop and destination options stay
	 * with the SRH in the cache, whichever side of it they are on */
	nh = ip6->nexthdr;
	off = SFC_IP6_HLEN;
	for (i = 0; i < SFC_SRV6_MAX_EXT; i++) {
		if (nh != SFC_NH_HOPOPTS && nh != SFC_NH_ROUTING && nh != SFC_NH_DSTOPTS)
			break;
		p = (__u8 *)ip6 + off;
		if ((void *)(p + SFC_SRH_HLEN) > data_end)
			return SFC_CNT_RX_SRV6_BAD_LENGTH;
		if (nh == SFC_NH_ROUTING) {
			if (p[SFC_SRH_TYPE_OFF] != SFC_SRH_ROUTING_TYPE || srh_off)
				return SFC_CNT_RX_SRV6_NOT_SRH;
			srh_off = off;
		}
		nh = p[0];
		off += ((__u32)p[1] + 1) * 8;
		if ((void *)((__u8 *)ip6 + off) > data_end)
			return SFC_CNT_RX_SRV6_BAD_LENGTH;
	}
	if (nh == SFC_NH_HOPOPTS || nh == SFC_NH_ROUTING || nh == SFC_NH_DSTOPTS)
		return SFC_CNT_RX_SRV6_BAD_INNER;
	if (!srh_off)
		return SFC_CNT_RX_SRV6_NO_SRH;

	p = (__u8 *)ip6 + srh_off;
	if ((void *)(p + SFC_SRH_HLEN) > data_end)
		return SFC_CNT_RX_SRV6_BAD_LENGTH; /* cannot happen: walked above */
	sl = p[SFC_SRH_SL_OFF];
	last = p[SFC_SRH_LAST_OFF];
	srh_len = ((__u32)p[1] + 1) * 8;
	if (!sl)
		return SFC_CNT_RX_SRV6_SL_ZERO;
	/* RFC 8754 4.3.1.1 S06-S07: max_last_entry = Hdr Ext Len / 2 - 1 */
	if (last + 1 > (__u32)p[1] / 2 || sl > last + 1)
		return SFC_CNT_RX_SRV6_BAD_SRH;
	if (off > SFC_SRV6_MAX_LEN)
		return SFC_CNT_RX_SRV6_TOO_LONG;
	if (!(srv6_inner_bit(nh) & cfg->srv6_sid_inner[sid]))
		return SFC_CNT_RX_SRV6_BAD_INNER;

	/* from here on the cached copy: offsets into a 384-byte buffer the verifier can bound */
	if (off < SFC_IP6_HLEN + SFC_SRH_HLEN ||
	    bpf_xdp_load_bytes(ctx, l2_len, e->hdr.srv6, off))
		return SFC_CNT_RX_ERROR;

	/* TLV rule (RFC 8754 2.1): from behind Segment List[Last Entry] to the SRH's end, Pad1 one
	 * byte, every other TLV 2 + its length; one that ends past the SRH is malformed */
	t = srh_off + SFC_SRH_HLEN + (last + 1) * SFC_SRH_SEG_LEN;
	end = srh_off + srh_len;
	for (i = 0; i < SFC_SRH_MAX_TLVS; i++) {
		if (t >= end)
			break;
		if (t >= SFC_SRV6_MAX_LEN - 1)
			return SFC_CNT_RX_SRV6_BAD_TLV;
		if (e->hdr.srv6[t] == SFC_SRH_TLV_PAD1) {
			t += 1;
			continue;
		}
		t += 2 + (__u32)e->hdr.srv6[t + 1];
		if (t > end)
			return SFC_CNT_RX_SRV6_BAD_TLV;
	}
	if (t < end)
		return SFC_CNT_RX_SRV6_BAD_TLV; /* more TLVs than we walk */

	/* End behaviour (RFC 8754 4.3.1.1 S11-S12): Segments Left - 1, destination = Segment
	 * List[Segments Left] */
	sl -= 1;
	seg = srh_off + SFC_SRH_HLEN + sl * SFC_SRH_SEG_LEN;
	if (srh_off > SFC_SRV6_MAX_LEN - SFC_SRH_HLEN || seg > SFC_SRV6_MAX_LEN - SFC_SRH_SEG_LEN)
		return SFC_CNT_RX_ERROR; /* cannot happen: S07 and the length checked it */
	e->hdr.srv6[srh_off + SFC_SRH_SL_OFF] = sl;
	__builtin_memcpy(&e->hdr.srv6[SFC_IP6_DADDR_OFF], &e->hdr.srv6[seg], SFC_SRH_SEG_LEN);

	e->srv6_len = off;
	e->srv6_next = nh;
	e->srv6_sid = sid;
	e->srv6_reserved = 0;
	return 0;
}

/* Whether an rx_srv6() outcome leaves the packet to the host stack (not ours) rather than
 * dropping it. */
static __always_inline int srv6_passes(enum sfc_counter outcome)
{
	return outcome == SFC_CNT_RX_NOT_SFC || outcome == SFC_CNT_RX_SRV6_NOT_SID ||
	       outcome == SFC_CNT_RX_SRV6_NO_SRH;
}

/*
 * read_nsh()'s counterpart for SRv6: rx_srv6() checks and caches the headers into e, then the
 * inner packet is found behind them, nh (on the outer IPv6 header) moved onto it:
 *
 *  inner (next header) | the VNF gets                    | outer L2 header
 *  --------------------+---------------------------------+--------------------------------------
 *  4 IPv4, 41 IPv6     | the IP packet                   | kept, innermost ethertype set to the
 *                      |                                 | IP version (pop_headers())
 *  143 Ethernet        | the inner Ethernet frame as is  | removed with the SRv6 headers; its
 *                      |                                 | source MAC saved (e->outer_src)
 *
 * Sets p->hdr_len and, for Ethernet, p->strip_l2. Returns 0, or -1 with *outcome set.
 */
static __always_inline int read_srv6(struct xdp_md *ctx, struct hdr_cursor *nh, void *data_end,
				     struct sfc_pop *p, struct sfc_cache_entry *e,
				     __be16 *l3_proto, enum sfc_counter *outcome)
{
	__u32 hlen;
	int r;

	r = rx_srv6(ctx, p->l2_len, e);
	if (r) {
		*outcome = r;
		return -1;
	}
	hlen = e->srv6_len;
	if (hlen > SFC_SRV6_MAX_LEN) {
		*outcome = SFC_CNT_RX_ERROR; /* cannot happen: re-stated for the verifier */
		return -1;
	}
	nh->pos += hlen;
	p->hdr_len = hlen;
	if (e->srv6_next == SFC_NH_IPV4)
		return inner_ip(nh, data_end, bpf_htons(ETH_P_IP), l3_proto, outcome);
	if (e->srv6_next == SFC_NH_IPV6)
		return inner_ip(nh, data_end, bpf_htons(ETH_P_IPV6), l3_proto, outcome);
	return inner_eth(nh, data_end, p, l3_proto, outcome);
}

#endif /* XDP_RX_SRV6_H */
