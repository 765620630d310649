/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the connection side of the policy: the conntrack key of a flow, which side
 * of a tracked connection a packet comes from, and the opening flow a tracked connection is judged
 * by again on every packet. */
#ifndef POLICY_CONNTRACK_H
#define POLICY_CONNTRACK_H

#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include "policy_shared.h"
#include "policy_parsing.h"

/* Which side of its connection a packet comes from (pol_ct_key_of()). */
enum pol_ct_dir {
	POL_DIR_A = 0, /* from endpoint a of the key (ICMP query: the request) */
	POL_DIR_B = 1, /* from endpoint b (ICMP query: the reply) */
};

/*
 * The conntrack key of a flow, and the side the flow's packet comes from.
 *  - ICMP request or reply: a = the requester (a request's source, a reply's destination), ports
 *    = identifier and code, icmp_query = the request's type. So a request from the other side
 *    with the same identifier is another key (it cannot pass as a reply), and only the reply type
 *    of a tracked request finds it.
 *  - Anything else: canonical order, the endpoint whose address (then port) compares lower as a
 *    big-endian number is a, so both directions find one entry with one lookup.
 */
static __always_inline __u8 pol_ct_key_of(const struct pol_flow *f, struct pol_ct_key *k)
{
	int src_lower = -1;
	__u32 s, d, i;

	__builtin_memset(k, 0, sizeof(*k));
	k->proto = f->proto;
	k->family = f->family;
	if (f->kind == POL_PKT_ICMP_REQUEST || f->kind == POL_PKT_ICMP_REPLY) {
		k->icmp_query = f->icmp_query;
		src_lower = f->kind == POL_PKT_ICMP_REQUEST;
	} else {
#pragma unroll
		for (i = 0; i < 4; i++) {
			s = bpf_ntohl(f->saddr[i]);
			d = bpf_ntohl(f->daddr[i]);
			if (src_lower < 0 && s != d)
				src_lower = s < d;
		}
		if (src_lower < 0)
			src_lower = bpf_ntohs(f->sport) <= bpf_ntohs(f->dport);
	}
	if (src_lower) {
		__builtin_memcpy(k->addr_a, f->saddr, sizeof(k->addr_a));
		__builtin_memcpy(k->addr_b, f->daddr, sizeof(k->addr_b));
	} else {
		__builtin_memcpy(k->addr_a, f->daddr, sizeof(k->addr_a));
		__builtin_memcpy(k->addr_b, f->saddr, sizeof(k->addr_b));
	}
	if (k->icmp_query || src_lower) {
		k->port_a = f->sport; /* ICMP query: the identifier and the code, either way */
		k->port_b = f->dport;
	} else {
		k->port_a = f->dport;
		k->port_b = f->sport;
	}
	return src_lower ? POL_DIR_A : POL_DIR_B;
}

/* The rule port of a tracked connection's opening, read from one of its packets f: the answering
 * side's port (f's destination port when f comes from the opening side, else its source port), or
 * for an ICMP query the request's type. */
static __always_inline __u16 pol_opening_port(const struct pol_flow *f, int from_opener)
{
	if (f->icmp_query)
		return bpf_htons(f->icmp_query);
	return from_opener ? f->dport : f->sport;
}

/* Whether an ICMP error is addressed to the sender of the packet it quotes, as the kernel's
 * conntrack requires (nf_conntrack_inet_error()): an error quoting b's packet and sent to some
 * other host is no news for that host, so it is judged as a packet of its own. */
static __always_inline int pol_error_to_quoted_sender(const struct pol_packet *p)
{
	return p->pkt.daddr[0] == p->quoted.saddr[0] && p->pkt.daddr[1] == p->quoted.saddr[1] &&
	       p->pkt.daddr[2] == p->quoted.saddr[2] && p->pkt.daddr[3] == p->quoted.saddr[3];
}

#endif /* POLICY_CONNTRACK_H */
