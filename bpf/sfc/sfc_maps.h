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

/* Metadata-mode cache: one ring of slots per CPU, indexed by the key carried in skb->mark minus
 * one (sfc_meta_slot()), holding popped headers. xdp_rx claims slots on its own CPU's ring, tc_tx (any CPU) takes entries
 * out; both only through compare-and-swap on the slot's owner. The host inspects and flushes.
 * An array, not a hash: no hashing, no bucket lock, no element allocation per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SFC_CACHE_DEFAULT_ENTRIES);
	__type(key, __u32);
	__type(value, struct sfc_cache_entry);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_meta_cache SEC(".maps");

/* Header-hash-mode cache: the flow key's tag (sfc_key_tag()) -> popped headers and the whole flow
 * key (sfc_cache_entry.key, compared on every lookup: sfc_same_key()). Keyed by the 8-byte tag,
 * the kernel hashes 8 bytes per insert, lookup and delete rather than 72. Same writers and
 * readers. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SFC_CACHE_DEFAULT_ENTRIES);
	__type(key, __u64);
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

/* Copies the first len bytes of an NSH buffer, in one of three constant sizes: an MD type 1
 * header (24 bytes) costs 4 moves instead of the buffer's 32, and no loop (a loop bounded by len
 * cost more than the whole buffer at 252 bytes). Both buffers are SFC_NSH_MAX_LEN bytes; bytes
 * past len are never read (stored to the packet, compared, listed). */
static __always_inline void sfc_copy_nsh(__u8 *dst, const __u8 *src, __u32 len)
{
	/* both start 8-byte aligned in their map values; said so, clang copies 8 bytes a move
	 * instead of 1 */
	dst = __builtin_assume_aligned(dst, 8);
	src = __builtin_assume_aligned(src, 8);
	if (len <= 32)
		__builtin_memcpy(dst, src, 32);
	else if (len <= 96)
		__builtin_memcpy(dst, src, 96);
	else
		__builtin_memcpy(dst, src, SFC_NSH_MAX_LEN);
}

/* Copies the first len bytes of an SRv6 header set (both buffers SFC_SRV6_MAX_LEN bytes, 8-byte
 * aligned) rounded up to 64: each 64-byte piece the header set reaches is one constant copy of 8
 * moves, the pieces past it are skipped. One segment (64 bytes) moves 64, 16 segments (304) 320,
 * where three sizes (128, 256, 384) moved 128 and 384. */
static __always_inline void sfc_copy_srv6_hdr(__u8 *dst, const __u8 *src, __u32 len)
{
	dst = __builtin_assume_aligned(dst, 8);
	src = __builtin_assume_aligned(src, 8);
	if (len > 320)
		__builtin_memcpy(dst + 320, src + 320, 64);
	if (len > 256)
		__builtin_memcpy(dst + 256, src + 256, 64);
	if (len > 192)
		__builtin_memcpy(dst + 192, src + 192, 64);
	if (len > 128)
		__builtin_memcpy(dst + 128, src + 128, 64);
	if (len > 64)
		__builtin_memcpy(dst + 64, src + 64, 64);
	__builtin_memcpy(dst, src, 64);
}
_Static_assert(SFC_SRV6_MAX_LEN == 384, "sfc_copy_srv6_hdr() copies at most 6 pieces of 64 bytes");

/* Copies an entry's SRv6 header set: srv6_len, srv6_next, srv6_sid (8 bytes) and the first
 * srv6_len bytes of srv6 (sfc_copy_srv6_hdr()). */
static __always_inline void sfc_copy_srv6(struct sfc_cache_entry *dst,
					  const struct sfc_cache_entry *src)
{
	__builtin_memcpy(&dst->srv6_len, &src->srv6_len, 8);
	sfc_copy_srv6_hdr(dst->hdr.srv6, src->hdr.srv6, src->srv6_len);
}

/* Fragmented datagrams in flight (metadata mode): which slot their fragments share. Key: the
 * datagram's identity as it arrives (before any NAT). xdp_rx alone reads and writes it (an LRU, so
 * datagrams whose last fragment never came make room by themselves); an entry whose slot has
 * since been released or taken over is stale and simply replaced. */
struct sfc_frag_key {
	__u32 saddr[4];  /* network byte order; IPv4 uses saddr[0] */
	__u32 daddr[4];
	__u32 id;        /* IPv4 identification (16 bits) or IPv6 fragment identification */
	__u8 family;
	__u8 proto;
	__u16 reserved;
};

struct sfc_frag_slot {
	__u32 index;     /* slot in sfc_meta_cache */
	__u32 owner;     /* the claim token the slot had when the first fragment claimed it */
};

#ifndef SFC_FRAG_DEFAULT_ENTRIES
#define SFC_FRAG_DEFAULT_ENTRIES 4096
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SFC_FRAG_DEFAULT_ENTRIES);
	__type(key, struct sfc_frag_key);
	__type(value, struct sfc_frag_slot);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_frag_groups SEC(".maps");

/* Bit of sfc_cache_entry.owner set while xdp_rx writes a slot it has just claimed: tc_tx never
 * reads a slot in that state (its packet cannot be in the VNF yet). Claim tokens never have it. */
#define SFC_OWNER_BUSY 0x80000000u

/* The metadata-mode slot at index (the key minus one). NULL beyond the map (a key from a bigger
 * cache, a mark some other program set). */
static __always_inline struct sfc_cache_entry *sfc_meta_slot(__u32 index)
{
	return bpf_map_lookup_elem(&sfc_meta_cache, &index);
}

/* The slot's owner as it is in memory now (another CPU may change it at any time). */
static __always_inline __u32 sfc_meta_owner(const struct sfc_cache_entry *slot)
{
	return *(volatile const __u32 *)&slot->owner;
}

/* Mark bits that carry the metadata key (a zeroed config: the default). */
static __always_inline void sfc_mark_bits(const struct sfc_config *cfg, __u32 *mask, __u32 *shift)
{
	*mask = cfg->meta_mark_mask;
	*shift = cfg->meta_mark_shift;
	if (!*mask) {
		*mask = SFC_META_DEFAULT_MARK_MASK;
		*shift = 16;
	}
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
