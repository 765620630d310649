/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the maps of the policy programs (policy_tc, policy_xdp). All are pinned by
 * name under the policy instance's pin root, so both programs and a restarted daemon share them.
 *
 * Atomic swap: the model's tables live in inner maps (an LPM trie of identities and a hash of
 * rules) reached through two 2-slot outer maps. pol_state.active names the live slot; a packet
 * reads it ONCE and takes both inner maps from that slot, so it always sees a matching pair.
 * The host fills the other slot with new inner maps, flips pol_state.active, and then waits for
 * an RCU grace period (BPF programs run inside RCU read-side sections) before it touches the old
 * slot again. See SfcProxy/Policy/PolicyObjects.cs. */
#ifndef POLICY_MAPS_H
#define POLICY_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "policy_shared.h"

/* Which table slot is live: written by the host on every Apply, read once per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pol_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pol_state SEC(".maps");

/* Identity tables, one per slot: CIDR -> identity + flags. The host creates and fills a new
 * trie per Apply; the programs only read. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	/* __array must be the last member (a flexible array) */
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);
		__uint(max_entries, POL_TEMPLATE_PREFIXES);
		__uint(map_flags, BPF_F_NO_PREALLOC);
		__type(key, struct pol_lpm_key);
		__type(value, struct pol_identity);
	});
} pol_identities SEC(".maps");

/* Rule tables, one per slot: (src, dst, proto, port) -> rule id. Same writer and readers. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, POL_TEMPLATE_RULES);
		__type(key, struct pol_rule_key);
		__type(value, struct pol_rule);
	});
} pol_rules SEC(".maps");

/* Connection tracking: connection (policy_conntrack.h) -> who opened it. The programs write it on
 * an allowed opening packet (TCP SYN, ICMP request, first packet of a flow) and never delete; the
 * host only inspects. LRU: entries age out as new connections need room (no TCP state machine).
 * Kept across Apply: every packet of a connection is judged by its opening under the rules in
 * force, so a connection pauses while its rule is gone and resumes when it is back. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, POL_CT_DEFAULT_ENTRIES);
	__type(key, struct pol_ct_key);
	__type(value, struct pol_ct_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pol_conntrack SEC(".maps");

/* Outcome counters, one slot per enum pol_counter. Per-CPU, so the programs add without
 * atomics; the host sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, POL_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pol_counters SEC(".maps");

/* Packets allowed per rule id (new flows allowed by that rule; replies count as ALLOWED_REPLY
 * only). Per-CPU, no atomics; the host sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, POL_MAX_RULES);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pol_rule_hits SEC(".maps");

static __always_inline void pol_count(enum pol_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&pol_counters, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline void pol_count_rule(__u32 rule_id)
{
	__u64 *v;

	if (rule_id == 0 || rule_id >= POL_MAX_RULES)
		return; /* no rule, or an id above the counted range */
	v = bpf_map_lookup_elem(&pol_rule_hits, &rule_id);
	if (v)
		*v += 1;
}

/*
 * BTF anchor for the shared types no map or program signature names in full (see
 * sfc_btf_anchor in sfc_maps.h for why): the enums, and the inner maps' key and value structs,
 * which clang otherwise emits only as forward declarations (libbpf then cannot size the inner
 * map templates). Uncalled, so never loaded or verified; only its BTF is.
 */
struct pol_btf_inner_types {
	struct pol_lpm_key lpm_key;
	struct pol_identity identity;
	struct pol_rule_key rule_key;
	struct pol_rule rule;
};

__attribute__((noinline, used)) int pol_btf_anchor(enum pol_counter counter,
						   enum pol_identity_flag flag,
						   enum pol_probe_word word,
						   struct pol_btf_inner_types *inner)
{
	return 0;
}

#endif /* POLICY_MAPS_H */
