/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the parsing of the policy programs: a frame into the flow the policy judges
 * (addresses, protocol, ports or ICMP fields, what kind of packet it is for connection tracking)
 * and, for an ICMP error, the flow of the packet it quotes. The cursor and the IPv6 extension
 * header walk, the Ethernet/VLAN parser and the header sizes are the product-neutral ones of
 * bpf/lib. */
#ifndef POLICY_PARSING_H
#define POLICY_PARSING_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"
#include "parse_eth.h"
#include "parse_ip.h"
#include "parse_l4.h"
#include "ipv6_ext.h"

/* How much of a TCP header must be there: the whole fixed header (TCP_MIN_HLEN) in a forward
 * packet; only the ports (L4_PORTS_LEN) in an error's quote. */
#define POL_TCP_FLAGS_OFF 13

/* TCP flags as conntrack judges them (PSH, ECE and CWR do not matter). */
#define POL_TCP_FIN 0x01
#define POL_TCP_SYN 0x02
#define POL_TCP_RST 0x04
#define POL_TCP_ACK 0x10
#define POL_TCP_URG 0x20
#define POL_TCP_FLAG_MASK (POL_TCP_FIN | POL_TCP_SYN | POL_TCP_RST | POL_TCP_ACK | POL_TCP_URG)
/* Bit n set: flags n (masked) are a combination a TCP stack sends, the same set as the kernel's
 * conntrack (tcp_valid_flags in nf_conntrack_proto_tcp.c). */
#define POL_TCP_VALID_FLAGS                                                                        \
	((1ULL << POL_TCP_SYN) | (1ULL << (POL_TCP_SYN | POL_TCP_URG)) |                           \
	 (1ULL << (POL_TCP_SYN | POL_TCP_ACK)) | (1ULL << POL_TCP_RST) |                           \
	 (1ULL << (POL_TCP_RST | POL_TCP_ACK)) | (1ULL << (POL_TCP_FIN | POL_TCP_ACK)) |           \
	 (1ULL << (POL_TCP_FIN | POL_TCP_ACK | POL_TCP_URG)) | (1ULL << POL_TCP_ACK) |             \
	 (1ULL << (POL_TCP_ACK | POL_TCP_URG)))

#define POL_ICMPV6_ERROR_LAST 127 /* ICMPv6 types 0..127 are errors (RFC 4443 2.1) */

/* What pol_parse() found. */
enum pol_parse_result {
	POL_PARSE_OK = 0,
	POL_PARSE_NOT_IP = 1,
	POL_PARSE_MALFORMED = -1,
};

/* What a packet is to connection tracking. */
enum pol_pkt_kind {
	POL_PKT_FLOW = 0,     /* UDP and protocols without a start marker: the first allowed packet opens */
	POL_PKT_TCP_SYN,      /* SYN without ACK: opens its connection (again, if it was tracked) */
	POL_PKT_TCP,          /* any other segment a TCP stack sends: a reply when tracked, never opens */
	POL_PKT_ICMP_REQUEST, /* echo, timestamp, information, address mask; ICMPv6 echo, node info: opens */
	POL_PKT_ICMP_REPLY,   /* the reply types of those: a reply when its request is tracked */
	POL_PKT_ICMP_ERROR,   /* unreachable, quench, redirect, time exceeded, parameter problem (ICMPv6
			       * 0..127): related when the packet it quotes belongs to a tracked connection */
	POL_PKT_UNTRACKED,    /* the policy alone judges it: other ICMP types, TCP flags no stack sends
			       * (SYN+FIN, none, ...), fragments after the first (no transport header) */
};

/* The addresses, protocol and transport fields of one packet. */
struct pol_flow {
	__u32 saddr[4];  /* network byte order; IPv4 as ::ffff:a.b.c.d */
	__u32 daddr[4];  /* network byte order */
	__u16 sport;     /* network byte order: TCP/UDP ports; ICMP query: the identifier */
	__u16 dport;     /* ICMP query: the code */
	__u16 rule_port; /* port of the rule lookup: TCP/UDP destination port, ICMP type (network
			  * byte order); 0 for other protocols and later fragments */
	__u8 proto;
	__u8 family;     /* 4 or 6 */
	__u8 kind;       /* enum pol_pkt_kind */
	__u8 icmp_query; /* ICMP request or reply: the request's type; 0 otherwise */
	__u32 scratch;   /* parse only: pol_forget()'s untracked memory */
};

/* One packet as the policy sees it. */
struct pol_packet {
	struct pol_flow pkt;
	struct pol_flow quoted; /* an ICMP error's quoted packet, when quoted_ok */
	__u8 quoted_ok;
};

static __always_inline void pol_map_v4(__u32 *addr, __be32 v4)
{
	addr[0] = 0;
	addr[1] = 0;
	addr[2] = bpf_htonl(0x0000ffff);
	addr[3] = v4;
}

/* Longest offset the parse follows (Ethernet, tags, IP and its extension headers): a packet
 * whose transport header starts further in is MALFORMED. */
#define POL_L4_MAX_OFF 4096

/*
 * Returns v as read back from scratch memory the verifier does not track (a field of the global
 * parse function's argument): afterwards the verifier knows nothing of v but the bound its caller
 * checks next, so every way the parse took to an offset ends in the same verifier state and is
 * checked once (see pol_ipv6_ext_walk()).
 */
static __always_inline __u32 pol_forget(volatile __u32 *scratch, __u32 v)
{
	*scratch = v;
	return *scratch;
}

/*
 * The IPv6 extension header walk of parse_ipv6_ext() in bpf/lib/ipv6_ext.h, with the same rules
 * (the headers of ipv6_is_ext(), their lengths, a later fragment ending the walk, at most
 * IPV6_EXT_MAX headers), from offset *off of data. Returns the upper-layer protocol with *off on its
 * header, or -1 (cut short, too many headers); *later is set for a fragment after the first.
 * Why not the lib's function itself: its loop carries a packet pointer whose range differs for
 * every way through each header (fragment, AH, others), so the verifier checks the walk once per
 * combination: about 58,000 instructions and 3 s for IPV6_EXT_MAX 8 on its own, and more than the
 * 1,000,000-instruction limit with the policy's parse behind it. Here the position passes through
 * pol_forget() at the end of every round, so each round is checked once.
 */
static __always_inline int pol_ipv6_ext_walk(void *data, void *data_end, volatile __u32 *scratch,
					     __u32 *off, __u8 nexthdr, int *later)
{
	__u32 pos = pol_forget(scratch, *off), len, i;
	__u8 *hdr;

	*later = 0;
	for (i = 0; i < IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext(nexthdr))
			goto done;
		if (pos > POL_L4_MAX_OFF)
			return -1;
		hdr = data + pos;
		if ((void *)(hdr + IPV6_FRAG_HLEN) > data_end)
			return -1; /* every extension header is at least 8 bytes */
		if (nexthdr == IPPROTO_FRAGMENT) {
			len = IPV6_FRAG_HLEN;
			*later = !!(bpf_ntohs(*(__be16 *)(hdr + 2)) & IPV6_FRAG_OFFSET_MASK);
		} else if (nexthdr == IPPROTO_AH) {
			len = ((__u32)hdr[1] + 2) * 4;
		} else {
			len = ((__u32)hdr[1] + 1) * 8;
		}
		if ((void *)hdr + len > data_end)
			return -1;
		nexthdr = hdr[0];
		pos = pol_forget(scratch, pos + len);
		if (*later)
			goto done; /* no upper-layer header behind a later fragment */
	}
	if (ipv6_is_ext(nexthdr))
		return -1; /* more than IPV6_EXT_MAX headers */
done:
	*off = pos;
	return nexthdr;
}

/*
 * The IP header at offset *off (IPv4 with its options, or IPv6 with its extension headers):
 * addresses and family into f, *off moved to the transport header. Returns the transport
 * protocol, or -1 when a header is cut short or invalid (IHL < 5, more extension headers than
 * IPV6_EXT_MAX, the transport header beyond POL_L4_MAX_OFF). *later is set for a fragment that is
 * not the first: what follows is the middle of a datagram, no transport header.
 */
static __always_inline int pol_parse_ip(void *data, void *data_end, __be16 l3, __u32 *off,
					struct pol_flow *f, int *later)
{
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	__u32 pos, hlen;

	*later = 0;
	pos = pol_forget(&f->scratch, *off);
	if (pos > POL_L4_MAX_OFF)
		return -1;
	if (l3 == bpf_htons(ETH_P_IP)) {
		iph = data + pos;
		if ((void *)(iph + 1) > data_end)
			return -1;
		hlen = iph->ihl * 4;
		if (hlen < IPV4_MIN_HLEN || (void *)iph + hlen > data_end)
			return -1;
		f->family = 4;
		pol_map_v4(f->saddr, iph->saddr);
		pol_map_v4(f->daddr, iph->daddr);
		*later = !!(iph->frag_off & bpf_htons(IPV4_OFFSET_MASK));
		*off = pos + hlen;
		return iph->protocol;
	}
	ip6h = data + pos;
	if ((void *)(ip6h + 1) > data_end)
		return -1;
	f->family = 6;
	__builtin_memcpy(f->saddr, &ip6h->saddr, sizeof(f->saddr));
	__builtin_memcpy(f->daddr, &ip6h->daddr, sizeof(f->daddr));
	*off = pos + sizeof(*ip6h);
	return pol_ipv6_ext_walk(data, data_end, &f->scratch, off, ip6h->nexthdr, later);
}

/* ICMP type -> kind; for a request or reply also the request's type (the query the key names). */
static __always_inline __u8 pol_icmp_kind(__u8 proto, __u8 type, __u8 *query)
{
	*query = 0;
	if (proto == IPPROTO_ICMP) {
		switch (type) {
		case 8:  /* echo */
		case 13: /* timestamp */
		case 15: /* information */
		case 17: /* address mask */
			*query = type;
			return POL_PKT_ICMP_REQUEST;
		case 0:
			*query = 8;
			return POL_PKT_ICMP_REPLY;
		case 14:
		case 16:
		case 18:
			*query = type - 1;
			return POL_PKT_ICMP_REPLY;
		case 3:  /* destination unreachable */
		case 4:  /* source quench */
		case 5:  /* redirect */
		case 11: /* time exceeded */
		case 12: /* parameter problem */
			return POL_PKT_ICMP_ERROR;
		}
		return POL_PKT_UNTRACKED;
	}
	switch (type) {
	case 128: /* echo */
	case 139: /* node information query */
		*query = type;
		return POL_PKT_ICMP_REQUEST;
	case 129:
	case 140:
		*query = type - 1;
		return POL_PKT_ICMP_REPLY;
	}
	return type <= POL_ICMPV6_ERROR_LAST ? POL_PKT_ICMP_ERROR : POL_PKT_UNTRACKED;
}

/*
 * The transport fields at offset off. need_tcp: the bytes a TCP header must have here (the whole fixed
 * header in a packet of its own, only the ports in an error's quote, which RFC 792 cuts after 8
 * bytes). Returns -1 when the packet ends first.
 *  - TCP: ports, rule port = destination port; kind SYN, TCP, or UNTRACKED for flags no stack
 *    sends. A quoted TCP header is only its ports (kind TCP).
 *  - UDP: ports, rule port = destination port, kind FLOW.
 *  - ICMP (ICMPv4 after IPv4, ICMPv6 after IPv6): rule port = type; requests and replies carry the
 *    identifier in sport and the code in dport, so a reply of another code is another query.
 *  - Anything else: no ports, kind FLOW (the first packet opens, per address pair and protocol).
 */
static __always_inline int pol_parse_l4(void *data, void *data_end, __u32 off, struct pol_flow *f,
					__u32 need_tcp)
{
	__u8 *l4, flags;

	off = pol_forget(&f->scratch, off);
	if (off > POL_L4_MAX_OFF)
		return -1;
	l4 = data + off;
	f->sport = 0;
	f->dport = 0;
	f->rule_port = 0;
	f->icmp_query = 0;
	f->kind = POL_PKT_FLOW;
	if (f->proto == IPPROTO_TCP) {
		if ((void *)(l4 + need_tcp) > data_end || (void *)(l4 + L4_PORTS_LEN) > data_end)
			return -1;
		f->kind = POL_PKT_TCP;
		if (need_tcp > POL_TCP_FLAGS_OFF) {
			flags = l4[POL_TCP_FLAGS_OFF] & POL_TCP_FLAG_MASK;
			if (!((POL_TCP_VALID_FLAGS >> flags) & 1))
				f->kind = POL_PKT_UNTRACKED;
			else if ((flags & (POL_TCP_SYN | POL_TCP_ACK)) == POL_TCP_SYN)
				f->kind = POL_PKT_TCP_SYN;
		}
	} else if (f->proto == IPPROTO_UDP) {
		if ((void *)(l4 + UDP_HLEN) > data_end)
			return -1;
	} else if ((f->proto == IPPROTO_ICMP && f->family == 4) ||
		   (f->proto == IPPROTO_ICMPV6 && f->family == 6)) {
		if ((void *)(l4 + ICMP_HLEN) > data_end)
			return -1;
		f->rule_port = bpf_htons(l4[0]);
		f->kind = pol_icmp_kind(f->proto, l4[0], &f->icmp_query);
		if (f->icmp_query) {
			f->sport = *(__u16 *)(l4 + 4); /* identifier, network byte order */
			f->dport = bpf_htons(l4[1]);   /* code */
		}
		return 0;
	} else {
		return 0;
	}
	read_l4_ports(l4, &f->sport, &f->dport);
	f->rule_port = f->dport;
	return 0;
}

/*
 * The packet an ICMP error quotes, at offset off (right after the 8-byte ICMP header): an IP header
 * of the error's own family, its extension headers, and the first bytes of its transport header,
 * as the kernel's conntrack reads them (nf_conntrack_inet_error()). Returns 0 with q filled, or -1:
 * quote cut short, of the other family, a later fragment, or itself an ICMP error or untracked.
 */
static __always_inline int pol_parse_quote(void *data, void *data_end, __u32 off, __u32 family,
					   struct pol_flow *q)
{
	int proto, later;

	proto = pol_parse_ip(data, data_end, family == 4 ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6),
			     &off, q, &later);
	if (proto < 0 || later)
		return -1;
	q->proto = proto;
	if (pol_parse_l4(data, data_end, off, q, L4_PORTS_LEN) < 0)
		return -1;
	return q->kind == POL_PKT_ICMP_ERROR || q->kind == POL_PKT_UNTRACKED ? -1 : 0;
}

/*
 * Ethernet (+ up to VLAN_MAX_DEPTH tags), IPv4 or IPv6, then the transport fields. For an ICMP
 * error *quote_off is the offset of the quoted packet, for pol_parse_quote() (0 otherwise), which
 * the programs call as a function of its own so the verifier checks it once.
 *  - A frame whose innermost ethertype is not IP (ARP, more tags than we read) is NOT_IP.
 *  - IPv4 options are skipped by IHL; IPv6 extension headers are walked to the transport header.
 *  - A fragment after the first has no transport header: ports 0, kind UNTRACKED, so only rules
 *    with any port of its protocol, or any protocol, allow it (an open destination takes it too).
 *  - A header cut short by the end of the packet is MALFORMED (Ethernet, VLAN, IP, extension
 *    headers, the fixed TCP header, the UDP header, the first 8 ICMP bytes), and so is an IPv6
 *    chain longer than IPV6_EXT_MAX headers.
 * Must run in a global function whose argument holds p: pol_forget() needs untracked memory.
 */
static __always_inline int pol_parse(void *data, void *data_end, struct pol_packet *p,
				     __u32 *quote_off)
{
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	int l3, proto, later;
	__u32 off, vlans;

	*quote_off = 0;
	p->quoted_ok = 0;
	l3 = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (l3 < 0)
		return POL_PARSE_MALFORMED;
	if (l3 != bpf_htons(ETH_P_IP) && l3 != bpf_htons(ETH_P_IPV6))
		return POL_PARSE_NOT_IP;
	off = nh.pos - data;
	proto = pol_parse_ip(data, data_end, l3, &off, &p->pkt, &later);
	if (proto < 0)
		return POL_PARSE_MALFORMED;
	p->pkt.proto = proto;
	if (later) {
		p->pkt.sport = 0;
		p->pkt.dport = 0;
		p->pkt.rule_port = 0;
		p->pkt.icmp_query = 0;
		p->pkt.kind = POL_PKT_UNTRACKED;
		return POL_PARSE_OK;
	}
	if (pol_parse_l4(data, data_end, off, &p->pkt, TCP_MIN_HLEN) < 0)
		return POL_PARSE_MALFORMED;
	if (p->pkt.kind == POL_PKT_ICMP_ERROR)
		*quote_off = off + ICMP_HLEN;
	return POL_PARSE_OK;
}

#endif /* POLICY_PARSING_H */
