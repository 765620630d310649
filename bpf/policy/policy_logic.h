/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the policy decision shared by policy_tc and policy_xdp: a parsed packet
 * (policy_parsing.h) judged against the identity, rule and conntrack maps. */
#ifndef POLICY_LOGIC_H
#define POLICY_LOGIC_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "policy_shared.h"
#include "policy_maps.h"
#include "policy_parsing.h"
#include "policy_conntrack.h"

#define POL_ICMPV6_ND_FIRST 133 /* router solicitation ... */
#define POL_ICMPV6_ND_LAST 137  /* ... redirect: neighbour discovery (RFC 4861) */

/* What the policy decided for one packet. */
struct pol_result {
	__u32 outcome;      /* enum pol_counter (an outcome) */
	__u32 rule_id;      /* rule that allowed it (or its connection's opening), 0 for none */
	__u32 src_identity;
	__u32 dst_identity;
};

/* How a packet stands to a tracked connection. */
enum pol_role {
	POL_ROLE_NONE = 0, /* no tracked connection (or the probe, which never looks) */
	POL_ROLE_FORWARD,  /* from the side that opened it */
	POL_ROLE_REPLY,    /* from the other side */
	POL_ROLE_RELATED,  /* an ICMP error quoting one of its packets, to that packet's sender */
};

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

/* The rules' verdict on src -> dst, proto, port: ALLOWED_NOT_ENFORCED, ALLOWED_RULE (with
 * *rule_id) or DENIED_DEFAULT. */
static __always_inline __u32 pol_rule_verdict(void *rules, const struct pol_identity *src,
					      const struct pol_identity *dst, __u8 proto,
					      __u16 rule_port, __u32 *rule_id)
{
	struct pol_rule_key rk;

	if (!(dst->flags & POL_F_ENFORCED))
		return POL_CNT_ALLOWED_NOT_ENFORCED;
	rk.src_identity = src->identity;
	rk.dst_identity = dst->identity;
	rk.proto = proto;
	rk.reserved = 0;
	rk.dport = rule_port;
	if (pol_rule_find(rules, &rk, rule_id))
		return POL_CNT_ALLOWED_RULE;
	return POL_CNT_DENIED_DEFAULT;
}

/* The generation of the tables a packet reads (POL_GENERATION_KEY in its rules hash): a stamp
 * equal to it means "judged by these very tables". 0 without tables. */
static __always_inline __u32 pol_generation(void *rules)
{
	struct pol_rule_key k = {};
	struct pol_rule *g;

	if (!rules)
		return 0;
	g = bpf_map_lookup_elem(rules, &k);
	return g ? g->rule_id : 0;
}

/* Records on a tracked connection that the tables of generation gen allow its opening. */
static __always_inline void pol_stamp(struct pol_ct_entry *ce, __u32 gen, __u32 outcome,
				      __u32 rule_id)
{
	ce->rule_id = rule_id;
	ce->open_outcome = outcome;
	ce->generation = gen;
}

/* Whether an outcome lets the packet through. */
static __always_inline int pol_allows(__u32 outcome)
{
	return outcome != POL_CNT_DENIED_DEFAULT && outcome != POL_CNT_MALFORMED;
}

/* The conntrack entry a packet belongs to and its role there; *ck holds the key looked up and
 * *dir the side the packet (for RELATED: the quoted packet) comes from. */
static __always_inline struct pol_ct_entry *pol_ct_find(const struct pol_packet *p,
						       struct pol_ct_key *ck, __u8 *dir,
						       __u8 *role)
{
	struct pol_ct_entry *ce;

	*role = POL_ROLE_NONE;
	if (p->pkt.kind == POL_PKT_UNTRACKED)
		return 0;
	if (p->pkt.kind == POL_PKT_ICMP_ERROR) {
		if (!p->quoted_ok || !pol_error_to_quoted_sender(p))
			return 0;
		*dir = pol_ct_key_of(&p->quoted, ck);
		ce = bpf_map_lookup_elem(&pol_conntrack, ck);
		if (ce)
			*role = POL_ROLE_RELATED;
		return ce;
	}
	*dir = pol_ct_key_of(&p->pkt, ck);
	ce = bpf_map_lookup_elem(&pol_conntrack, ck);
	if (!ce)
		return 0;
	if (p->pkt.kind == POL_PKT_ICMP_REQUEST || p->pkt.kind == POL_PKT_TCP_SYN)
		*role = ce->origin == *dir ? POL_ROLE_FORWARD : POL_ROLE_NONE; /* a start, never a reply */
	else
		*role = ce->origin == *dir ? POL_ROLE_FORWARD : POL_ROLE_REPLY;
	return ce;
}

/*
 * The verdict for one parsed packet; res->outcome says pass or drop (pol_allows()). The policy is
 * judged on every packet, tracked or not; conntrack only says who opened a connection, so that
 * the other side's packets are judged as the opening was.
 *
 *  1. A packet of a tracked connection from the side that did not open it (REPLY), or an ICMP
 *     error quoting one of its packets and sent to that packet's sender (RELATED), passes while
 *     the rules allow the connection's opening (ALLOWED_REPLY, ALLOWED_RELATED). So removing a
 *     rule stops its open connections in both directions at once, and restoring it resumes them.
 *  2. Every other packet, and one of step 1 whose opening is no longer allowed, is judged as a
 *     packet of its own: a destination identity that is not enforced takes all
 *     (ALLOWED_NOT_ENFORCED); an enforced one needs a rule (ALLOWED_RULE, else DENIED_DEFAULT;
 *     CT_REVOKED too when the packet belongs to a tracked connection).
 *  3. An allowed opening packet (TCP SYN, ICMP request, first packet of a UDP or other flow)
 *     records its sender as the opening side. Nothing else creates or turns an entry: a TCP
 *     segment without SYN, an ICMP reply or error opens nothing, so a packet from the answering
 *     side of an evicted connection cannot make it the opening side.
 * A connection's entry is stamped with the generation of the tables that last allowed its opening;
 * its packets judged by the same tables pass on the stamp (the answer would be the same), and the
 * next Apply's generation makes every connection be judged again.
 *
 * Cost whatever the number of rules, at most: 1 conntrack lookup, 1 state + 2 outer-map lookups,
 * 1 generation lookup, 3 LPM lookups (an ICMP error about a tracked connection), 6 rule hash
 * lookups (a packet whose connection's opening is no longer allowed, judged twice), 1 conntrack
 * update. A packet of a connection stamped by the live tables: conntrack, state, rules slot and
 * generation only. No TCP state machine: entries leave by LRU eviction only.
 *
 * probe (PolicyObjects.Check): conntrack is neither read nor written and nothing is counted, so a
 * check judges the policy alone and leaves no trace in the live maps.
 */
static __always_inline void pol_judge(const struct pol_packet *p, int rc, int probe,
				      struct pol_result *res)
{
	struct pol_identity src, dst, other;
	struct pol_ct_entry *ce = 0, ne = {};
	const struct pol_identity *os, *od;
	__u32 zero = 0, slot, open_rule = 0, gen = 0, verdict;
	__u8 dir = 0, role = POL_ROLE_NONE;
	struct pol_ct_key ck = {};
	struct pol_state *st;
	void *trie, *rules;
	__u16 open_port;
	int from_opener;

	res->outcome = POL_CNT_MALFORMED;
	res->rule_id = 0;
	res->src_identity = 0;
	res->dst_identity = 0;

	if (rc == POL_PARSE_NOT_IP) {
		/* not ours to judge (ARP, neighbour discovery over other ethertypes): pass */
		res->outcome = POL_CNT_NOT_IP;
		goto out;
	}
	if (rc < 0)
		goto out; /* drop: a header is cut short, the policy cannot tell what it is */
	if (p->pkt.proto == IPPROTO_ICMPV6 && p->pkt.rule_port >= bpf_htons(POL_ICMPV6_ND_FIRST) &&
	    p->pkt.rule_port <= bpf_htons(POL_ICMPV6_ND_LAST)) {
		/* IPv6 cannot work without neighbour discovery, and its unicast solicitations go to
		 * enforced addresses: they are exempt from policy, as in Cilium. */
		res->outcome = POL_CNT_ALLOWED_ND;
		goto out;
	}

	if (!probe)
		ce = pol_ct_find(p, &ck, &dir, &role);

	/* Read the live slot once: both tables come from the same Apply. */
	st = bpf_map_lookup_elem(&pol_state, &zero);
	slot = st ? *(volatile __u32 *)&st->active & 1 : 0;
	rules = bpf_map_lookup_elem(&pol_rules, &slot);
	if (ce && role != POL_ROLE_NONE) {
		gen = pol_generation(rules);
		if (gen && ce->generation == gen) {
			/* judged by these very tables before: the same answer */
			res->rule_id = ce->rule_id;
			res->outcome = role == POL_ROLE_REPLY	  ? POL_CNT_ALLOWED_REPLY :
				       role == POL_ROLE_RELATED ? POL_CNT_ALLOWED_RELATED :
								  ce->open_outcome;
			goto out;
		}
	}
	trie = bpf_map_lookup_elem(&pol_identities, &slot);
	if (!probe && (!trie || !rules))
		pol_count(POL_CNT_NO_TABLES);

	pol_identity_of(trie, p->pkt.saddr, &src);
	pol_identity_of(trie, p->pkt.daddr, &dst);
	res->src_identity = src.identity;
	res->dst_identity = dst.identity;

	if (ce && (role == POL_ROLE_REPLY || role == POL_ROLE_RELATED)) {
		/* Judge the connection's opening. A reply goes to the opening side: the opening is
		 * dst -> src. A related error goes to the quoted packet's sender (dst here); the
		 * quoted packet's destination is the connection's other endpoint. */
		if (role == POL_ROLE_REPLY) {
			os = &dst;
			od = &src;
			open_port = pol_opening_port(&p->pkt, 0);
		} else {
			pol_identity_of(trie, p->quoted.daddr, &other);
			from_opener = dir == ce->origin;
			os = from_opener ? &dst : &other;
			od = from_opener ? &other : &dst;
			open_port = pol_opening_port(&p->quoted, from_opener);
		}
		verdict = pol_rule_verdict(rules, os, od, ck.proto, open_port, &open_rule);
		if (pol_allows(verdict)) {
			pol_stamp(ce, gen, verdict, open_rule);
			res->outcome = role == POL_ROLE_REPLY ? POL_CNT_ALLOWED_REPLY : POL_CNT_ALLOWED_RELATED;
			res->rule_id = open_rule;
			goto out;
		}
	}

	res->outcome = pol_rule_verdict(rules, &src, &dst, p->pkt.proto, p->pkt.rule_port, &res->rule_id);
	if (!pol_allows(res->outcome)) {
		/* drop: enforced destination and no rule allows this source/protocol/port (for a
		 * packet of a tracked connection: nor its opening any more) */
		if (!probe && ce && role != POL_ROLE_NONE)
			pol_count(POL_CNT_CT_REVOKED);
		goto out;
	}

	if (probe)
		goto out;
	if (ce && role == POL_ROLE_FORWARD) {
		/* the opening side's packet is judged as its opening would be */
		pol_stamp(ce, gen, res->outcome, res->rule_id);
	} else if ((p->pkt.kind == POL_PKT_TCP_SYN && (!ce || ce->origin != dir)) ||
		   ((p->pkt.kind == POL_PKT_FLOW || p->pkt.kind == POL_PKT_ICMP_REQUEST) && !ce)) {
		/* step 3: an allowed opening packet records who opened */
		ne.origin = dir;
		pol_stamp(&ne, pol_generation(rules), res->outcome, res->rule_id);
		if (bpf_map_update_elem(&pol_conntrack, &ck, &ne, BPF_ANY) == 0)
			pol_count(POL_CNT_CT_CREATED);
	}
out:
	if (probe)
		return;
	pol_count(res->outcome);
	if (res->outcome == POL_CNT_ALLOWED_RULE)
		pol_count_rule(res->rule_id);
}

#endif /* POLICY_LOGIC_H */
