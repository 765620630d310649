/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's parse (katran pckt_parsing.h): a frame into the TCP or UDP over
 * IPv4 packet it balances, with the bpf/lib cursor parsers; what is not one passes or drops
 * under its own counter. */
#ifndef DSR_PARSING_H
#define DSR_PARSING_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"
#include "parse_eth.h"
#include "parse_ip.h"
#include "parse_l4.h"
#include "icmp.h"
#include "dsr_shared.h"

/* A step's "go on": any other value a step returns is the packet's XDP verdict, its outcome
 * already set. */
#define DSR_NEXT -1

/* dsr_parse()'s "an IPv6 packet": dsr_parse6() takes it from the L2 header dsr_parse() read. */
#define DSR_IPV6 -2

/* What dsr_parse() found: a TCP or UDP over IPv4 packet, not a fragment. */
struct dsr_packet {
	struct dsr_conn_key flow; /* the client's 5-tuple, network byte order */
	void *data_end;
	struct iphdr *ip;
	struct tcphdr *tcp;       /* NULL for UDP */
	/* 64 bits wide, each in a stack slot of its own: the verifier keeps a spilled scalar's
	 * value only for a whole 8-byte slot, and the L2 moves after bpf_xdp_adjust_head() need
	 * these known exactly to check their packet accesses. */
	__u64 vlans;              /* VLAN tags kept in front of the IPv4 header */
	__u64 l2;                 /* L2 header bytes: ETH_HLEN + vlans * VLAN_HLEN */
	__u32 ihl_bytes;          /* IPv4 header bytes, options included */
	__u32 tot_len;            /* IPv4 total length, host byte order */
	__u16 frag;               /* IPv4 flags and fragment offset, host byte order */
	__u8 syn;                 /* TCP SYN without ACK: a new connection */
	__u8 tos;                 /* IPv4 TOS (DSCP and ECN): the outer header copies it */
	__u8 icmp;                /* an ICMP error about the flow (dsr_parse_icmp()), not the client's */
};

/* The largest ICMP error dsr_lb forwards (RFC 1812 4.3.2.3: an error is at most 576 bytes);
 * a larger one passes, so it is never answered with fragmentation needed (RFC 1122 3.2.2). */
#define DSR_ICMP_ERROR_MAX 576

/*
 * An ICMP fragmentation needed (type 3 code 4) sent to a VIP is about a reply a backend sent
 * from that VIP straight to the client: a router on the way back could not forward it. Only
 * the backend can act on it (its TCP lowers the path MTU towards the client; without it the
 * connection stalls on its first full-size segment: a PMTU black hole), so it goes to the
 * backend of the quoted flow, as katran's parse_icmp() does. RFC 792: the quote is the reply's
 * IP header and its first 8 bytes, so the ports are there. The client's flow is the quote
 * reversed (client -> VIP); p->flow is set to it, p->icmp marks the packet. Anything else
 * (another ICMP type, a fragment, a quote cut short, of another protocol, or not from the
 * address the error is sent to) passes as before: PASS_NOT_VIP.
 */
static __always_inline int dsr_parse_icmp(struct dsr_packet *p, struct hdr_cursor *nh,
					  void *data_end, enum dsr_counter *outcome)
{
	struct icmp_frag_hdr *icmp = nh->pos;
	void *ip_end = (void *)p->ip + p->tot_len;
	struct iphdr *quoted;
	__be16 *ports;
	int proto;

	p->frag = bpf_ntohs(p->ip->frag_off);
	if (p->frag & (IPV4_MF | IPV4_OFFSET_MASK) || p->tot_len > DSR_ICMP_ERROR_MAX)
		goto pass;
	if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_DEST_UNREACH ||
	    icmp->code != ICMP_FRAG_NEEDED)
		goto pass;
	nh->pos = icmp + 1;
	proto = parse_iphdr(nh, data_end, &quoted);
	if (proto < 0 || quoted->version != 4 || (proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    quoted->saddr != p->ip->daddr)
		goto pass;
	ports = nh->pos;
	if ((void *)(ports + 2) > data_end || (void *)(ports + 2) > ip_end)
		goto pass;
	p->flow.saddr = quoted->daddr;
	p->flow.daddr = quoted->saddr;
	p->flow.sport = ports[1];
	p->flow.dport = ports[0];
	p->flow.proto = proto;
	p->tos = p->ip->tos;
	p->icmp = 1;
	return DSR_NEXT;
pass:
	*outcome = DSR_CNT_PASS_NOT_VIP;
	return XDP_PASS;
}

/*
 * Parses the frame into p. Returns DSR_NEXT, or the verdict with *outcome:
 *  - Ethernet or VLAN tag cut short (up to VLAN_MAX_DEPTH tags): MALFORMED, drop;
 *  - innermost ethertype IPv6: DSR_IPV6 with p->vlans and p->l2 set (dsr_parse6() goes on);
 *  - innermost ethertype neither (more tags than that included): PASS_NOT_IP;
 *  - IPv4 header cut short, IHL < 5, version not 4, total length shorter than the header or
 *    longer than the frame: MALFORMED, drop (Ethernet padding after the total length is fine);
 *  - ICMP fragmentation needed about a reply from a VIP: DSR_NEXT with the quoted flow reversed
 *    (dsr_parse_icmp()); other ICMP, and neither TCP nor UDP: PASS_NOT_VIP; a fragment (MF or
 *    offset): PASS_FRAGMENT, no ports to balance on;
 *  - TCP header cut short, data offset < 5 or past the frame; UDP header cut short: MALFORMED.
 */
static __always_inline int dsr_parse(struct xdp_md *ctx, struct dsr_packet *p,
				     enum dsr_counter *outcome)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	struct udphdr *udp;
	__u32 vlans;
	int proto;

	__builtin_memset(&p->flow, 0, sizeof(p->flow)); /* a hash key: no stray padding bytes */
	p->data_end = data_end;
	p->tcp = NULL;
	p->syn = 0;
	p->icmp = 0;

	proto = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (proto < 0) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	p->vlans = vlans;
	p->l2 = ETH_HLEN + vlans * VLAN_HLEN;
	if (proto != bpf_htons(ETH_P_IP)) {
		if (proto == bpf_htons(ETH_P_IPV6))
			return DSR_IPV6;
		*outcome = DSR_CNT_PASS_NOT_IP;
		return XDP_PASS;
	}
	proto = parse_iphdr(&nh, data_end, &p->ip);
	if (proto < 0 || p->ip->version != 4) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	p->ihl_bytes = p->ip->ihl * 4;
	p->tot_len = bpf_ntohs(p->ip->tot_len);
	if (p->tot_len < p->ihl_bytes || p->l2 + p->tot_len > (__u32)(data_end - data)) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	if (proto == IPPROTO_ICMP)
		return dsr_parse_icmp(p, &nh, data_end, outcome);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		*outcome = DSR_CNT_PASS_NOT_VIP;
		return XDP_PASS;
	}
	p->frag = bpf_ntohs(p->ip->frag_off);
	if (p->frag & (IPV4_MF | IPV4_OFFSET_MASK)) {
		*outcome = DSR_CNT_PASS_FRAGMENT;
		return XDP_PASS;
	}
	p->tos = p->ip->tos;
	p->flow.saddr = p->ip->saddr;
	p->flow.daddr = p->ip->daddr;
	p->flow.proto = proto;
	if (proto == IPPROTO_TCP) {
		if (parse_tcphdr(&nh, data_end, &p->tcp) < 0) {
			*outcome = DSR_CNT_MALFORMED;
			return XDP_DROP;
		}
		read_l4_ports(p->tcp, &p->flow.sport, &p->flow.dport);
		p->syn = p->tcp->syn && !p->tcp->ack;
	} else {
		if (parse_udphdr(&nh, data_end, &udp) < 0) {
			*outcome = DSR_CNT_MALFORMED;
			return XDP_DROP;
		}
		read_l4_ports(udp, &p->flow.sport, &p->flow.dport);
	}
	return DSR_NEXT;
}

#endif /* DSR_PARSING_H */
