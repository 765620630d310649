/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains xdp_rx's reading of the SFC headers: the SR-MPLS label stack, the NSH header
 * and the inner packet behind either, into a struct sfc_pop that the cache and pop steps use. */
#ifndef XDP_RX_PARSE_H
#define XDP_RX_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_parsing.h"

/* What parsing found: the SFC headers to cache and how to pop them. Kept on the stack until
 * the cache entry is known (the claimed slot, or the header-hash scratch). */
struct sfc_pop {
	__be32 *labels;      /* MPLS: the popped stack, top first, network byte order; the
			      * labels of the sfc_rx_scratch entry (map memory: parsing into the
			      * stack cost ~1 ns more per label) */
	__u32 l2_len;        /* bytes of L2 header in front of the SFC headers */
	__u32 hdr_len;       /* bytes of SFC headers: label stack or NSH */
	__u8 encap;          /* enum sfc_encap */
	__u8 label_count;    /* MPLS: entries in labels */
	__u8 nsh_next_proto; /* NSH: next protocol */
	__u8 strip_l2;       /* NSH carrying Ethernet: the L2 header goes too */
	__u8 oam;            /* NSH: O bit set */
};

/* Copies the label stack at nh into p->labels (network byte order, exactly as on the wire),
 * sets p->label_count and leaves nh on the inner packet. Returns 0, or -1 with *outcome set. */
static __always_inline int read_label_stack(struct hdr_cursor *nh, void *data_end,
					    struct sfc_pop *p, enum sfc_counter *outcome)
{
	__be32 *labels = p->labels; /* loaded once, not per label */
	__be32 lse;
	__u32 i;
	int bos;

	for (i = 0; i < SFC_MAX_LABELS; i++) {
		bos = parse_mplshdr(nh, data_end, &lse);
		if (bos < 0) {
			/* packet ends before the bottom of stack */
			*outcome = SFC_CNT_RX_TRUNCATED;
			return -1;
		}
		labels[i] = lse;
		if (bos) {
			p->label_count = i + 1;
			return 0;
		}
	}
	/* deeper than we can cache, and popping part of it would break the chain */
	*outcome = SFC_CNT_RX_TOO_MANY_LABELS;
	return -1;
}

/* Identifies the packet behind the SFC headers by its version nibble and checks its IP header
 * is complete. MPLS does not say what it carries (expect 0: either version); NSH and an inner
 * Ethernet header do (expect: that ethertype, network byte order), and a version nibble that
 * contradicts them is not IP either. nh is not moved. Returns 0 and the matching ethertype
 * (network byte order), or -1 with *outcome set. */
static __always_inline int inner_ip(struct hdr_cursor *nh, void *data_end, __be16 expect,
				    __be16 *l3_proto, enum sfc_counter *outcome)
{
	struct hdr_cursor ip = *nh;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	__u8 *first = nh->pos;

	if ((void *)(first + 1) > data_end) {
		*outcome = SFC_CNT_RX_TRUNCATED;
		return -1;
	}

	switch (*first >> 4) {
	case 4:
		*l3_proto = bpf_htons(ETH_P_IP);
		break;
	case 6:
		*l3_proto = bpf_htons(ETH_P_IPV6);
		break;
	default:
		/* e.g. an Ethernet pseudowire: the VNF could not use it without the stack */
		*outcome = SFC_CNT_RX_NOT_IP;
		return -1;
	}

	if (expect && *l3_proto != expect) {
		/* NSH or the inner Ethernet says one IP version, the packet is another: the VNF and
		 * tc_tx would read it as the wrong one */
		*outcome = SFC_CNT_RX_NOT_IP;
		return -1;
	}

	if (*l3_proto == bpf_htons(ETH_P_IP) ? parse_iphdr(&ip, data_end, &iph) < 0
					     : parse_ip6hdr(&ip, data_end, &ip6h) < 0) {
		/* shorter than its header (IPv4: its IHL), or IPv4 IHL < 5 */
		*outcome = SFC_CNT_RX_TRUNCATED;
		return -1;
	}
	return 0;
}

/*
 * An encapsulation that carries an Ethernet frame (NSH next protocol 3, SRv6 next header 143): the
 * VNF gets that frame as is, so the outer L2 header goes with the popped headers (p->strip_l2).
 * Walks its Ethernet header and up to VLAN_MAX_DEPTH tags to the IP packet. A frame that ends
 * inside its Ethernet header counts RX_TRUNCATED; one that is not IP (ARP, a third VLAN tag,
 * MPLS, ...) counts RX_NOT_IP: tc_tx can key and restore only IP frames. Returns 0 with nh on the
 * inner IP header and *l3_proto set, or -1 with *outcome set.
 */
static __always_inline int inner_eth(struct hdr_cursor *nh, void *data_end, struct sfc_pop *p,
				     __be16 *l3_proto, enum sfc_counter *outcome)
{
	struct ethhdr *ieth;
	__u32 ivlans;
	int proto;

	proto = parse_eth_vlans(nh, data_end, &ieth, &ivlans);
	if (proto < 0) {
		*outcome = SFC_CNT_RX_TRUNCATED;
		return -1;
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6)) {
		*outcome = SFC_CNT_RX_NOT_IP;
		return -1;
	}
	p->strip_l2 = 1;
	return inner_ip(nh, data_end, proto, l3_proto, outcome);
}

/*
 * Checks the NSH header at nh (p->l2_len bytes into the frame, by parse_nshhdr(): verdicts and
 * counters are listed there; fill_entry() copies it byte for byte) and finds the packet it
 * carries:
 *
 *  next protocol | the VNF gets                       | outer L2 header
 *  --------------+------------------------------------+-----------------------------------------
 *  IPv4, IPv6    | the IP packet (as for MPLS)        | kept, innermost ethertype set to the IP
 *                |                                    | version (pop_headers())
 *  Ethernet      | the inner Ethernet frame as is     | removed with the NSH header; its source
 *                | (up to VLAN_MAX_DEPTH tags, then    | MAC is saved in e->outer_src so tc_tx can
 *                | IPv4/IPv6)                         | send the restored frame back to that SFF
 *
 * An inner frame: inner_eth() (RX_TRUNCATED, RX_NOT_IP). Leaves nh on the inner IP header, sets *l3_proto (network byte order), p->hdr_len,
 * p->nsh_next_proto, p->oam and, for an inner Ethernet frame, p->strip_l2. Returns 0, or -1 with
 * *outcome set.
 */
static __always_inline int read_nsh(struct hdr_cursor *nh, void *data_end, struct sfc_pop *p,
				    __be16 *l3_proto, enum sfc_counter *outcome)
{
	struct sfc_nsh_hdr *nsh;
	__u32 hlen;
	int np;

	np = parse_nshhdr(nh, data_end, &nsh, &hlen, outcome);
	if (np < 0)
		return -1;

	p->hdr_len = hlen;
	p->nsh_next_proto = np;
	p->oam = !!(bpf_ntohs(nsh->ver_ttl_len) & SFC_NSH_OAM_MASK);

	switch (np) {
	case SFC_NSH_NP_IPV4:
		return inner_ip(nh, data_end, bpf_htons(ETH_P_IP), l3_proto, outcome);
	case SFC_NSH_NP_IPV6:
		return inner_ip(nh, data_end, bpf_htons(ETH_P_IPV6), l3_proto, outcome);
	default: /* SFC_NSH_NP_ETHERNET, the only other one parse_nshhdr() lets through */
		return inner_eth(nh, data_end, p, l3_proto, outcome);
	}
}

#endif /* XDP_RX_PARSE_H */
