/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the policy decision shared by policy_tc and policy_xdp: parsing a packet
 * into a tuple and judging the tuple against the identity, rule and conntrack maps. */
#ifndef POLICY_LOGIC_H
#define POLICY_LOGIC_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_parsing.h"
#include "policy_shared.h"
#include "policy_maps.h"

#define POL_IPV4_FRAG_OFFSET_MASK 0x1FFF
#define POL_TCP_PORTS_LEN 20 /* the whole fixed TCP header must be there */
#define POL_UDP_HLEN 8
#define POL_ICMP_HLEN 8      /* type, code, checksum, id, sequence (ICMP and ICMPv6) */
#define POL_ICMP_ECHO_REQUEST 8
#define POL_ICMP_ECHO_REPLY 0
#define POL_ICMPV6_ECHO_REQUEST 128
#define POL_ICMPV6_ECHO_REPLY 129
#define POL_ICMPV6_ND_FIRST 133 /* router solicitation ... */
#define POL_ICMPV6_ND_LAST 137  /* ... redirect: neighbour discovery (RFC 4861) */

/* What pol_parse() found. */
enum pol_parse_result {
	POL_PARSE_OK = 0,
	POL_PARSE_NOT_IP = 1,
	POL_PARSE_MALFORMED = -1,
};

/* One packet as the policy sees it. Addresses are IPv6; IPv4 as ::ffff:a.b.c.d. */
struct pol_tuple {
	__u32 saddr[4];    /* network byte order */
	__u32 daddr[4];    /* network byte order */
	__u16 sport;       /* conntrack ports, network byte order (ICMP echo: the echo id) */
	__u16 dport;
	__u16 rule_port;   /* port for the rule lookup: TCP/UDP dport, ICMP type (network order) */
	__u8 proto;
	__u8 family;       /* 4 or 6 */
};

/* What the policy decided for one packet. */
struct pol_result {
	__u32 outcome;      /* enum pol_counter (an outcome) */
	__u32 rule_id;      /* rule that allowed it (or the connection's), 0 for none */
	__u32 src_identity;
	__u32 dst_identity;
};

static __always_inline void pol_map_v4(__u32 *addr, __be32 v4)
{
	addr[0] = 0;
	addr[1] = 0;
	addr[2] = bpf_htonl(0x0000ffff);
	addr[3] = v4;
}

/* The L4 part: ports for TCP/UDP, type and echo id for ICMP; other protocols have port 0. */
static __always_inline int pol_parse_l4(struct hdr_cursor *nh, void *data_end,
					struct pol_tuple *t)
{
	__u8 *l4 = nh->pos;
	__u8 type;

	switch (t->proto) {
	case IPPROTO_TCP:
		if ((void *)(l4 + POL_TCP_PORTS_LEN) > data_end)
			return POL_PARSE_MALFORMED;
		break;
	case IPPROTO_UDP:
		if ((void *)(l4 + POL_UDP_HLEN) > data_end)
			return POL_PARSE_MALFORMED;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((void *)(l4 + POL_ICMP_HLEN) > data_end)
			return POL_PARSE_MALFORMED;
		type = l4[0];
		t->rule_port = bpf_htons(type);
		/* Echo request and reply share the echo id: it stands in for both ports, so the
		 * reply finds the request's connection. Other ICMP messages track with port 0. */
		if (type == POL_ICMP_ECHO_REQUEST || type == POL_ICMP_ECHO_REPLY ||
		    type == POL_ICMPV6_ECHO_REQUEST || type == POL_ICMPV6_ECHO_REPLY) {
			t->sport = *(__u16 *)(l4 + 4); /* network byte order */
			t->dport = t->sport;
		}
		return POL_PARSE_OK;
	default:
		return POL_PARSE_OK;
	}
	t->sport = *(__u16 *)l4;       /* network byte order */
	t->dport = *(__u16 *)(l4 + 2); /* network byte order */
	t->rule_port = t->dport;
	return POL_PARSE_OK;
}

/*
 * Ethernet (+ up to SFC_MAX_VLANS tags), IPv4 or IPv6, then TCP/UDP ports or the ICMP type.
 *  - A frame whose innermost ethertype is not IP (ARP, more tags than we read) is NOT_IP.
 *  - IPv4 options are skipped by IHL. A non-first IPv4 fragment has no L4 header: its ports
 *    are 0, so only "any port" and "any protocol" rules allow it.
 *  - IPv6 extension headers are not walked: the first next-header value is the protocol and
 *    the ports are 0, so such a packet (hop-by-hop, routing, fragment, ...) is allowed only by
 *    an "any protocol" rule.
 *  - A header cut short by the end of the packet is MALFORMED (Ethernet, VLAN, IP, the fixed
 *    TCP header, the UDP header, the first 8 ICMP bytes).
 */
static __always_inline int pol_parse(void *data, void *data_end, struct pol_tuple *t)
{
	struct hdr_cursor nh = { .pos = data };
	struct ipv6hdr *ip6h;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 vlans;
	int l3, proto;

	l3 = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (l3 < 0)
		return POL_PARSE_MALFORMED;

	if (l3 == bpf_htons(ETH_P_IP)) {
		proto = parse_iphdr(&nh, data_end, &iph);
		if (proto < 0)
			return POL_PARSE_MALFORMED;
		t->family = 4;
		t->proto = proto;
		pol_map_v4(t->saddr, iph->saddr);
		pol_map_v4(t->daddr, iph->daddr);
		if (iph->frag_off & bpf_htons(POL_IPV4_FRAG_OFFSET_MASK))
			return POL_PARSE_OK; /* non-first fragment: no L4 header */
	} else if (l3 == bpf_htons(ETH_P_IPV6)) {
		proto = parse_ip6hdr(&nh, data_end, &ip6h);
		if (proto < 0)
			return POL_PARSE_MALFORMED;
		t->family = 6;
		t->proto = proto;
		__builtin_memcpy(t->saddr, &ip6h->saddr, sizeof(t->saddr));
		__builtin_memcpy(t->daddr, &ip6h->daddr, sizeof(t->daddr));
	} else {
		return POL_PARSE_NOT_IP;
	}
	return pol_parse_l4(&nh, data_end, t);
}

/* Identity of an address in the live trie; no trie or no covering prefix: WORLD, open. */
static __always_inline void pol_identity_of(void *trie, const __u32 *addr,
					    struct pol_identity *out)
{
	struct pol_lpm_key key = { .prefixlen = 128 };
	struct pol_identity *v = 0;

	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	if (trie)
		v = bpf_map_lookup_elem(trie, &key);
	if (v) {
		*out = *v;
	} else {
		out->identity = POL_IDENTITY_WORLD;
		out->flags = 0;
	}
}

/* Rule lookups, most specific first: (proto, port), (proto, any port), (any proto). At most
 * three hash lookups whatever the number of rules. Returns 1 with *rule_id set on a match. */
static __always_inline int pol_rule_find(void *rules, struct pol_rule_key *k, __u32 *rule_id)
{
	struct pol_rule *r;

	if (!rules)
		return 0;
	r = bpf_map_lookup_elem(rules, k);
	if (!r && k->dport) {
		k->dport = 0;
		r = bpf_map_lookup_elem(rules, k);
	}
	if (!r && k->proto) {
		k->proto = 0;
		k->dport = 0;
		r = bpf_map_lookup_elem(rules, k);
	}
	if (!r)
		return 0;
	*rule_id = r->rule_id;
	return 1;
}

/* Builds the canonical conntrack key (lower endpoint first, comparing the address as a
 * big-endian number, then the port). Returns the packet's direction: 0 if its source is
 * endpoint a, 1 if it is endpoint b. */
static __always_inline __u8 pol_ct_key_of(const struct pol_tuple *t, struct pol_ct_key *k)
{
	__u32 s, d, i;
	int src_lower = -1;

#pragma unroll
	for (i = 0; i < 4; i++) {
		s = bpf_ntohl(t->saddr[i]);
		d = bpf_ntohl(t->daddr[i]);
		if (src_lower < 0 && s != d)
			src_lower = s < d;
	}
	if (src_lower < 0)
		src_lower = bpf_ntohs(t->sport) <= bpf_ntohs(t->dport);

	__builtin_memset(k, 0, sizeof(*k));
	k->proto = t->proto;
	k->family = t->family;
	if (src_lower) {
		__builtin_memcpy(k->addr_a, t->saddr, sizeof(k->addr_a));
		__builtin_memcpy(k->addr_b, t->daddr, sizeof(k->addr_b));
		k->port_a = t->sport;
		k->port_b = t->dport;
		return 0;
	}
	__builtin_memcpy(k->addr_a, t->daddr, sizeof(k->addr_a));
	__builtin_memcpy(k->addr_b, t->saddr, sizeof(k->addr_b));
	k->port_a = t->dport;
	k->port_b = t->sport;
	return 1;
}

/*
 * The verdict for one packet; res->outcome says pass or drop (pol_allows()). Cost whatever the
 * number of rules: 1 conntrack lookup, 1 state + 2 outer-map lookups, 2 LPM lookups, at most
 * 3 rule hash lookups, at most 1 conntrack insert (first packet of a connection).
 *
 *  1. A packet whose connection is tracked and was opened from the other side is a reply:
 *     pass (ALLOWED_REPLY), no policy lookup.
 *  2. Otherwise (new connection or forward packet of a tracked one) the policy decides, every
 *     time: a destination identity that is not enforced takes all (ALLOWED_NOT_ENFORCED); an
 *     enforced one needs a rule (ALLOWED_RULE, else DENIED_DEFAULT). So a rule removed by an
 *     Apply stops the forward direction of open connections at once; their first denied
 *     forward packet also deletes the conntrack entry, which ends the replies too.
 *  3. An allowed packet of an untracked connection opens it in conntrack.
 * TCP has no state machine here: any allowed packet opens (SYN or not), entries leave by LRU
 * eviction or revocation only.
 *
 * probe (PolicyObjects.Check): steps 1 and 3 are skipped and nothing is counted, so a check
 * judges the policy alone and leaves no trace in the live maps.
 */
static __always_inline void pol_evaluate(void *data, void *data_end, int probe,
					 struct pol_result *res)
{
	struct pol_ct_entry *ce = 0, ne = {};
	struct pol_identity src, dst;
	struct pol_tuple t = {};
	struct pol_rule_key rk;
	struct pol_ct_key ck;
	struct pol_state *st;
	void *trie, *rules;
	__u32 zero = 0, slot;
	__u8 dir;
	int rc;

	res->outcome = POL_CNT_MALFORMED;
	res->rule_id = 0;
	res->src_identity = 0;
	res->dst_identity = 0;

	rc = pol_parse(data, data_end, &t);
	if (rc == POL_PARSE_NOT_IP) {
		/* not ours to judge (ARP, neighbour discovery over other ethertypes): pass */
		res->outcome = POL_CNT_NOT_IP;
		goto out;
	}
	if (rc < 0)
		goto out; /* drop: a header is cut short, the policy cannot tell what it is */
	if (t.proto == IPPROTO_ICMPV6 && t.rule_port >= bpf_htons(POL_ICMPV6_ND_FIRST) &&
	    t.rule_port <= bpf_htons(POL_ICMPV6_ND_LAST)) {
		/* IPv6 cannot work without neighbour discovery, and its unicast solicitations go to
		 * enforced addresses: they are exempt from policy, as in Cilium. */
		res->outcome = POL_CNT_ALLOWED_ND;
		goto out;
	}

	dir = pol_ct_key_of(&t, &ck);
	if (!probe) {
		ce = bpf_map_lookup_elem(&pol_conntrack, &ck);
		if (ce && ce->origin != dir) {
			res->outcome = POL_CNT_ALLOWED_REPLY;
			res->rule_id = ce->rule_id;
			goto out;
		}
	}

	/* Read the live slot once: both tables come from the same Apply. */
	st = bpf_map_lookup_elem(&pol_state, &zero);
	slot = st ? *(volatile __u32 *)&st->active & 1 : 0;
	trie = bpf_map_lookup_elem(&pol_identities, &slot);
	rules = bpf_map_lookup_elem(&pol_rules, &slot);
	if (!probe && (!trie || !rules))
		pol_count(POL_CNT_NO_TABLES);

	pol_identity_of(trie, t.saddr, &src);
	pol_identity_of(trie, t.daddr, &dst);
	res->src_identity = src.identity;
	res->dst_identity = dst.identity;

	if (!(dst.flags & POL_F_ENFORCED)) {
		res->outcome = POL_CNT_ALLOWED_NOT_ENFORCED;
	} else {
		rk.src_identity = src.identity;
		rk.dst_identity = dst.identity;
		rk.proto = t.proto;
		rk.reserved = 0;
		rk.dport = t.rule_port;
		if (pol_rule_find(rules, &rk, &res->rule_id)) {
			res->outcome = POL_CNT_ALLOWED_RULE;
		} else {
			/* drop: enforced destination and no rule allows this source/protocol/port */
			res->outcome = POL_CNT_DENIED_DEFAULT;
			if (ce && bpf_map_delete_elem(&pol_conntrack, &ck) == 0)
				pol_count(POL_CNT_CT_REVOKED);
			goto out;
		}
	}

	if (!probe && !ce) {
		ne.rule_id = res->rule_id;
		ne.origin = dir;
		if (bpf_map_update_elem(&pol_conntrack, &ck, &ne, BPF_NOEXIST) == 0)
			pol_count(POL_CNT_CT_CREATED);
	}
out:
	if (probe)
		return;
	pol_count(res->outcome);
	if (res->outcome == POL_CNT_ALLOWED_RULE)
		pol_count_rule(res->rule_id);
}

/* Whether an outcome lets the packet through. */
static __always_inline int pol_allows(__u32 outcome)
{
	return outcome != POL_CNT_DENIED_DEFAULT && outcome != POL_CNT_MALFORMED;
}

#endif /* POLICY_LOGIC_H */
