/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the maps shared by xdp_rx, tc_tx and meta_mark. All are pinned by name
 * under the instance's pin root (/sys/fs/bpf/sfcproxy/<instance>/), which is how separately
 * loaded programs share them and how cached headers survive a daemon restart. */
#ifndef SFC_MAPS_H
#define SFC_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sfc_shared.h"

/* Default cache size; the host sets the real one (cache.size) before load. */
#ifndef SFC_CACHE_DEFAULT_ENTRIES
#define SFC_CACHE_DEFAULT_ENTRIES 65536
#endif

/* Proxy settings: written by the host, read by xdp_rx and tc_tx per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_config SEC(".maps");

/* Metadata-mode cache: one ring of slots per CPU, indexed by the artificial key (sfc_meta_slot()),
 * holding popped headers. xdp_rx claims slots on its own CPU's ring, tc_tx (any CPU) takes entries
 * out; both only through compare-and-swap on the slot's owner. The host inspects and flushes.
 * An array, not a hash: no hashing, no bucket lock, no element allocation per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SFC_CACHE_DEFAULT_ENTRIES);
	__type(key, __u32);
	__type(value, struct sfc_cache_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_meta_cache SEC(".maps");

/* Header-hash-mode cache: full flow key -> popped headers. Same writers and readers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SFC_CACHE_DEFAULT_ENTRIES);
	__type(key, struct sfc_flow_key);
	__type(value, struct sfc_cache_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_hash_cache SEC(".maps");

/* Outcome counters, one slot per enum sfc_counter. Per-CPU, so the programs add without
 * atomics; the host sums the CPUs. (An array key must be a plain int in BTF; the enum reaches
 * BTF through sfc_btf_anchor below.) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SFC_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_counters SEC(".maps");

/* VNF latency histograms, one per chain (sfc_chain_key): tc_tx adds every cache hit, the host
 * reads and sums the CPUs. Per-CPU, so tc_tx adds without atomics. LRU: at most max_entries
 * chains (the host may set it before load), a new chain evicts the least recently seen one. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, SFC_LAT_DEFAULT_CHAINS);
	__type(key, struct sfc_chain_key);
	__type(value, struct sfc_latency_hist);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_latency SEC(".maps");

static __always_inline void sfc_count(enum sfc_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&sfc_counters, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline void sfc_count_n(enum sfc_counter c, __u64 n)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&sfc_counters, &key);

	if (v)
		*v += n;
}

/*
 * Gives back one reference on a cached stack; the last reference deletes the entry. Used by
 * tc_tx after a restore and by xdp_rx to undo a join. With one reference (the common case) the
 * entry is deleted without an atomic. Otherwise the count is decremented atomically and read
 * again. The decrement is an atomic add of -1 whose result is unused, which the default BPF
 * CPU (v1) has (BPF_XADD; meta_mark, built for v1, includes this header too). The re-read is still
 * race-free among releasers: whoever sees 0 deletes (a second delete of the same key just fails
 * with -ENOENT).
 */
static __always_inline void sfc_cache_release(void *cache, const void *key,
					      struct sfc_cache_entry *e)
{
	if (e->refs > 1) {
		__sync_fetch_and_add(&e->refs, (__u32)-1);
		if (*(volatile __u32 *)&e->refs != 0)
			return;
	}
	bpf_map_delete_elem(cache, key);
}

/*
 * The slot of metadata key `key`: ring (the key's CPU byte) x slots per ring + sequence mod slots
 * per ring. Consecutive packets of one CPU walk its ring, so a slot comes round again after
 * meta_slots_per_cpu packets of that CPU. Returns NULL when the config has no slots or the index
 * is beyond the map (a key from a bigger cache, a forged mark).
 */
static __always_inline struct sfc_cache_entry *sfc_meta_slot(const struct sfc_config *cfg, __u32 key)
{
	__u32 per_ring = cfg->meta_slots_per_cpu, ring, seq, idx;

	if (!per_ring)
		return NULL;
	ring = key & SFC_META_CPU_MASK;
	seq = (key >> SFC_META_SEQ_SHIFT) & SFC_META_SEQ_MASK;
	idx = ring * per_ring + seq % per_ring;
	return bpf_map_lookup_elem(&sfc_meta_cache, &idx);
}

/* The slot's owner as it is in memory now (another CPU may change it at any time). */
static __always_inline __u32 sfc_meta_owner(const struct sfc_cache_entry *slot)
{
	return *(volatile const __u32 *)&slot->owner;
}

/*
 * BTF anchor for the shared types no map or program signature names. Clang emits BTF only for
 * types reachable from global variables and functions that survive as functions, so the enums
 * (used only by locals and __always_inline helpers) and struct sfc_xdp_meta (only used through
 * a pointer inside write_meta()) were missing from the objects' BTF, where SharedLayoutTests
 * compares them with the C# mirror. This global subprogram names them all in its signature.
 * No program calls it, so libbpf never loads its two instructions (an uncalled .text function
 * is not appended to any program) and the verifier never sees it; only its BTF is loaded. A
 * global variable would do the same but costs a .bss map, or, in a section of its own, an info
 * line from libbpf on every load ("skipping unrecognized data section").
 */
__attribute__((noinline, used)) int sfc_btf_anchor(enum sfc_key_mode key_mode,
						   enum sfc_miss_policy miss_policy,
						   enum sfc_encap encap, enum sfc_counter counter,
						   struct sfc_xdp_meta *xdp_meta)
{
	return 0;
}

#endif /* SFC_MAPS_H */
