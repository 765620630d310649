/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's IPv6 parse: the IPv6 packet behind the L2 header dsr_parse() read
 * into the TCP or UDP flow it balances, extension headers walked by bpf/lib's ipv6_ext.h; what
 * is not one passes or drops under the same counters as IPv4. */
#ifndef DSR_PARSING6_H
#define DSR_PARSING6_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"
#include "parse_ip.h"
#include "parse_l4.h"
#include "ipv6_ext.h"
#include "dsr_shared.h"
#include "dsr_parsing.h"

/* Extension header bytes dsr_lb walks at most; a longer chain passes as not a service's (no
 * real client sends one to a VIP). Also what keeps the verifier's view of the L4 offset small. */
#define DSR_IPV6_EXT_MAX_LEN 256

/* dsr_ipv6_ext_walk()'s answers besides a length. */
#define DSR_EXT_CUT_SHORT -1 /* a header runs past the packet */
#define DSR_EXT_FRAGMENT -2  /* a fragment header */
#define DSR_EXT_TOO_LONG -3  /* more than DSR_IPV6_EXT_MAX_LEN bytes or IPV6_EXT_MAX headers */

/* Walks the extension headers from offset off (right after the fixed header, whose next header
 * is nexthdr) with the rules of bpf/lib's parse_ipv6_ext() (hop-by-hop, routing, destination
 * options: (Hdr Ext Len + 1) * 8 bytes; AH (Payload Len + 2) * 4), and returns their length with
 * *proto the upper-layer protocol, or a DSR_EXT_ answer. Reads with bpf_xdp_load_bytes at a
 * plain scalar offset, in a global function checked once: the lib's walk over packet pointers
 * does not pass the verifier in this object's instruction set (it is built with -mcpu=v3 where
 * it is used), and a fragment, the one header that would need its fields, ends the walk here. */
__attribute__((noinline)) int dsr_ipv6_ext_walk(struct xdp_md *ctx, __u32 off, __u32 nexthdr,
						__u32 *proto)
{
	__u32 len = 0;
	__u8 h[2];
	int i;

	if (!ctx || !proto)
		return DSR_EXT_CUT_SHORT;
	for (i = 0; i < IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext(nexthdr)) {
			*proto = nexthdr;
			return len;
		}
		if (nexthdr == IPPROTO_FRAGMENT)
			return DSR_EXT_FRAGMENT;
		if (bpf_xdp_load_bytes(ctx, off + len, h, 2))
			return DSR_EXT_CUT_SHORT;
		len += nexthdr == IPPROTO_AH ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
		nexthdr = h[0];
		if (len > DSR_IPV6_EXT_MAX_LEN)
			return DSR_EXT_TOO_LONG;
	}
	return DSR_EXT_TOO_LONG;
}

/* What dsr_parse6() found: a TCP or UDP over IPv6 packet, not a fragment. */
struct dsr_packet6 {
	struct dsr_conn6_key flow; /* the client's 5-tuple, network byte order */
	void *data_end;
	struct tcphdr *tcp;        /* NULL for UDP */
	__u64 vlans;               /* as struct dsr_packet: 8-byte slots the verifier keeps exact */
	__u64 l2;
	__u64 l4_off;              /* TCP/UDP header offset from the frame start */
	__u32 tot_len;             /* fixed header + payload length (host byte order) */
	__u8 syn;                  /* TCP SYN without ACK: a new connection */
	__u8 tclass;               /* traffic class (DSCP and ECN): the outer header copies it */
	__u8 icmp;                 /* an ICMPv6 error about the flow (dsr_parse_icmp6()) */
};

#ifndef IPPROTO_ICMPV6
#define IPPROTO_ICMPV6 58
#endif

/* The largest ICMPv6 error dsr_lb forwards: RFC 4443 2.4 (c) keeps errors within IPv6's minimum
 * MTU; a larger one passes, so it is never answered with packet too big (2.4 (e.1)). */
#define DSR_ICMP6_ERROR_MAX 1280

/*
 * ICMPv6 packet too big (type 2) sent to a VIP, at offset off of the frame: the IPv6 twin of
 * dsr_parse_icmp() (dsr_parsing.h; why it goes to the backend). The quote starts with the reply's
 * IPv6 header; a backend's reply carries no extension headers, so the ports follow it. The
 * client's flow, the quote reversed, goes to p->flow with p->icmp set; anything else passes
 * (PASS_NOT_VIP, as before).
 */
static __always_inline int dsr_parse_icmp6(struct xdp_md *ctx, struct dsr_packet6 *p, __u64 off,
					   enum dsr_counter *outcome)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *ip_end = data + p->l2 + p->tot_len;
	struct icmp_frag_hdr *icmp; /* type, code, checksum, 4 more bytes: ICMPv6's layout too */
	struct ipv6hdr *quoted;
	__be16 *ports;

	if (p->tot_len > DSR_ICMP6_ERROR_MAX || off > p->l2 + IPV6_HLEN + DSR_IPV6_EXT_MAX_LEN)
		goto pass;
	icmp = data + off;
	if ((void *)(icmp + 1) > data_end || icmp->type != ICMPV6_PKT_TOO_BIG)
		goto pass;
	quoted = (void *)(icmp + 1);
	ports = (void *)(quoted + 1);
	if ((void *)(ports + 2) > data_end || (void *)(ports + 2) > ip_end ||
	    (quoted->nexthdr != IPPROTO_TCP && quoted->nexthdr != IPPROTO_UDP))
		goto pass;
	/* Word by word: BPF has no memcmp to call. */
	if ((quoted->saddr.in6_u.u6_addr32[0] ^ p->flow.daddr[0]) |
	    (quoted->saddr.in6_u.u6_addr32[1] ^ p->flow.daddr[1]) |
	    (quoted->saddr.in6_u.u6_addr32[2] ^ p->flow.daddr[2]) |
	    (quoted->saddr.in6_u.u6_addr32[3] ^ p->flow.daddr[3]))
		goto pass;
	__builtin_memcpy(p->flow.saddr, &quoted->daddr, 16);
	p->flow.sport = ports[1];
	p->flow.dport = ports[0];
	p->flow.proto = quoted->nexthdr;
	p->icmp = 1;
	return DSR_NEXT;
pass:
	*outcome = DSR_CNT_PASS_NOT_VIP;
	return XDP_PASS;
}

/*
 * Parses the IPv6 packet behind the L2 header of vlans tags into p. Returns DSR_NEXT, or the
 * verdict with *outcome, as dsr_parse() for IPv4:
 *  - fixed header cut short, version not 6, payload length past the frame: MALFORMED, drop;
 *  - extension headers (hop-by-hop, routing, destination options, AH) are walked
 *    (dsr_ipv6_ext_walk()); a chain cut short: MALFORMED; one longer than DSR_IPV6_EXT_MAX_LEN
 *    bytes or IPV6_EXT_MAX headers: PASS_NOT_VIP; a fragment header: PASS_FRAGMENT (no ports to balance on in later fragments,
 *    and all fragments of a datagram must reach one backend);
 *  - ICMPv6 packet too big about a reply from the VIP: DSR_NEXT with the quoted flow reversed
 *    (dsr_parse_icmp6()); other ICMPv6 (neighbour discovery to the VIP included), and neither
 *    TCP nor UDP: PASS_NOT_VIP;
 *  - TCP or UDP header cut short or past the payload length, TCP data offset < 5: MALFORMED.
 */
static __always_inline int dsr_parse6(struct xdp_md *ctx, struct dsr_packet6 *p, __u64 vlans,
				      enum dsr_counter *outcome)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh;
	struct ipv6hdr *ip6;
	struct udphdr *udp;
	__u64 ext_len = 0;
	__u32 upper = 0;
	int proto, walked;

	__builtin_memset(&p->flow, 0, sizeof(p->flow)); /* a hash key: no stray padding bytes */
	p->data_end = data_end;
	p->tcp = NULL;
	p->syn = 0;
	p->icmp = 0;
	p->vlans = vlans > VLAN_MAX_DEPTH ? VLAN_MAX_DEPTH : vlans;
	p->l2 = ETH_HLEN + p->vlans * VLAN_HLEN;
	nh.pos = data + p->l2;

	proto = parse_ip6hdr(&nh, data_end, &ip6);
	if (proto < 0 || ip6->version != 6) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	p->tot_len = IPV6_HLEN + bpf_ntohs(ip6->payload_len);
	if (p->l2 + p->tot_len > (__u32)(data_end - data)) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	p->tclass = ip6->priority << 4 | ip6->flow_lbl[0] >> 4;
	__builtin_memcpy(p->flow.saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->flow.daddr, &ip6->daddr, 16);

	if (ipv6_is_ext(proto)) {
		walked = dsr_ipv6_ext_walk(ctx, p->l2 + IPV6_HLEN, proto, &upper);
		if (walked == DSR_EXT_FRAGMENT) {
			*outcome = DSR_CNT_PASS_FRAGMENT;
			return XDP_PASS;
		}
		if (walked == DSR_EXT_TOO_LONG) {
			*outcome = DSR_CNT_PASS_NOT_VIP;
			return XDP_PASS;
		}
		/* The bound checked on the 64-bit value the offset is made of, so the verifier
		 * knows it (a check on the int before the widening is lost to it). */
		ext_len = (__u32)walked;
		barrier_var(ext_len);
		if (ext_len > DSR_IPV6_EXT_MAX_LEN) {
			*outcome = DSR_CNT_MALFORMED;
			return XDP_DROP;
		}
		proto = upper;
	}
	if (proto == IPPROTO_ICMPV6)
		return dsr_parse_icmp6(ctx, p, p->l2 + IPV6_HLEN + ext_len, outcome);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
		*outcome = DSR_CNT_PASS_NOT_VIP;
		return XDP_PASS;
	}
	p->l4_off = p->l2 + IPV6_HLEN + ext_len;
	nh.pos = data + p->l4_off;
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
	/* The L4 header must lie inside the payload length, not only inside the frame (padding). */
	if (nh.pos > data + p->l2 + p->tot_len) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	return DSR_NEXT;
}

#endif /* DSR_PARSING6_H */
