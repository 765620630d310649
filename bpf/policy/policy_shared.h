/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Structs, enums and limits shared by the policy programs and the .NET host (mirrored in
 * SfcProxy/Policy/PolicySharedTypes.cs; SharedLayoutTests compares both through the BTF). */
#ifndef POLICY_SHARED_H
#define POLICY_SHARED_H

#include <linux/types.h>

/* Slots of pol_hit_counters: rule ids 1 .. POL_MAX_RULES - 1 are counted; a rule with a larger
 * id still allows its traffic, its hits are just not counted. Rule id 0 is "no rule". */
#ifndef POL_MAX_RULES
#define POL_MAX_RULES 65536
#endif

/* Default size of the connection tracking table (LRU); the host may set another before load. */
#ifndef POL_CT_DEFAULT_ENTRIES
#define POL_CT_DEFAULT_ENTRIES 65536
#endif

/* Template sizes of the inner maps; the host sizes each new inner map to its tables (only the
 * type, key and value sizes and flags must match the template). */
#define POL_TEMPLATE_PREFIXES 1024
#define POL_TEMPLATE_RULES 1024

/* Identity of an address no prefix covers. */
#define POL_IDENTITY_WORLD 2

/* skb->mark of a policy check probe (PolicyObjects.Check): the program evaluates the policy
 * only (no conntrack lookup or insert, no counters) and writes what it decided into skb->cb,
 * which BPF_PROG_TEST_RUN returns in ctx_out. */
#define POL_PROBE_MARK 0x706f6c3fu /* "pol?" */

/* skb->cb[] words of a probe's answer. */
enum pol_probe_word {
	POL_CB_OUTCOME = 0,      /* enum pol_counter */
	POL_CB_RULE_ID = 1,      /* rule that allowed it, 0 for none */
	POL_CB_SRC_IDENTITY = 2,
	POL_CB_DST_IDENTITY = 3,
	POL_CB_MAGIC = 4,        /* POL_PROBE_MARK: the program answered */
};

/* pol_identity.flags bits. */
enum pol_identity_flag {
	POL_F_ENFORCED = 1, /* the identity is selected by a rule: its ingress is default-deny */
};

/* Per-CPU counters (index into pol_counters). Every packet counts in exactly one OUTCOME
 * counter; the detail counters add to it. Append only: the host mirrors the numbering. */
enum pol_counter {
	/* outcomes */
	POL_CNT_ALLOWED_RULE = 0,     /* enforced destination, a rule allows: pass */
	POL_CNT_ALLOWED_NOT_ENFORCED, /* destination identity not enforced: pass */
	POL_CNT_ALLOWED_REPLY,        /* reply of a tracked connection the policy still allows: pass */
	POL_CNT_DENIED_DEFAULT,       /* enforced destination, no rule allows: drop */
	POL_CNT_NOT_IP,               /* neither IPv4 nor IPv6 (ARP, 3+ VLAN tags, ...): pass */
	POL_CNT_MALFORMED,            /* truncated or invalid L2/L3/L4 header: drop */
	/* detail (not outcomes) */
	POL_CNT_CT_CREATED,           /* an opening packet created (or re-opened) a conntrack entry */
	POL_CNT_CT_REVOKED,           /* a denied packet belonged to a tracked connection (its rule is gone) */
	POL_CNT_NO_TABLES,            /* no tables applied yet: treated as empty (allow all) */
	/* outcomes, appended */
	POL_CNT_ALLOWED_ND,           /* IPv6 neighbour/router discovery (ICMPv6 133-137): pass */
	POL_CNT_ALLOWED_RELATED,      /* ICMP error quoting a tracked connection the policy still allows: pass */
	POL_CNT__MAX,
};

/* The one entry of pol_state: which slot of pol_identities and pol_rules is live. Written by
 * the host (PolicyObjects.Apply), read by the programs once per packet. */
struct pol_state {
	__u32 active;   /* 0 or 1 */
	__u32 applies;  /* tables applied since the maps were created (informational) */
};

/* Key of the identity LPM trie: every address as IPv6, IPv4 as ::ffff:a.b.c.d (prefixlen
 * 96 + the IPv4 prefix length). */
struct pol_lpm_key {
	__u32 prefixlen;
	__u32 addr[4]; /* network byte order */
};

/* Value of the identity LPM trie: one lookup gives the identity and whether it is enforced. */
struct pol_identity {
	__u32 identity;
	__u32 flags; /* enum pol_identity_flag bits */
};

/* Key of the rules hash. Looked up as is, then with dport 0, then with proto and dport 0. The
 * all-zero key (source identity 0 is no identity) is not a rule: its value is the tables'
 * generation, a number the host gives each Apply (never 0), so a connection stamped with it was
 * judged by exactly these tables. */
struct pol_rule_key {
	__u32 src_identity;
	__u32 dst_identity;
	__u8 proto;    /* IP protocol; 0 = any */
	__u8 reserved; /* zero */
	__u16 dport;   /* network byte order; 0 = any. ICMP: the ICMP type */
};

/* Value of the rules hash. */
struct pol_rule {
	__u32 rule_id; /* index into pol_hit_counters */
};

/* Conntrack key. TCP, UDP and other protocols: the connection's 5-tuple in a canonical order (the
 * endpoint that compares lower first), so both directions find the same entry with one lookup.
 * ICMP queries (echo, timestamp, ...): the requester first, so a request and its reply find one
 * entry and a request from the other side with the same identifier is another connection. */
struct pol_ct_key {
	__u32 addr_a[4]; /* network byte order; IPv4 as ::ffff:a.b.c.d */
	__u32 addr_b[4];
	__u16 port_a;    /* network byte order; ICMP query: the identifier */
	__u16 port_b;    /* network byte order; ICMP query: the code */
	__u8 proto;
	__u8 family;     /* 4 or 6 */
	__u8 icmp_query; /* ICMP query: the request's type (a reply maps to it); 0 otherwise */
	__u8 reserved;
};

/* Conntrack value. The programs write it without atomics: two CPUs stamping one connection at
 * once write the same answer, or one of two table generations, either of which is then checked
 * again (the stamp only saves work when it names the live tables). */
struct pol_ct_entry {
	__u32 rule_id;      /* rule that allowed the opening under `generation`, 0 if the destination was open */
	__u32 generation;   /* the tables (POL_GENERATION_KEY) under which the opening was last allowed;
			     * 0: not under any */
	__u8 origin;        /* 0: endpoint a opened the connection, 1: endpoint b (ICMP queries: 0) */
	__u8 open_outcome;  /* how the opening was allowed then: POL_CNT_ALLOWED_RULE or _NOT_ENFORCED */
	__u8 reserved[2];
};

#endif /* POLICY_SHARED_H */
