/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains how tc_tx takes a packet's headers out of the cache: a private copy, checked
 * to be this packet's and consistent, and the cache's reference given back, in either key mode.
 * What it returns belongs to the packet alone; the cache may be reused at once. */
#ifndef TC_TX_TAKE_H
#define TC_TX_TAKE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sfc_shared.h"
#include "sfc_maps.h"
#include "sfc_key.h"

/* A release that races with joins and other releases of the same key is retried this often;
 * past that the packet misses rather than risk a wrong restore. */
#define SFC_TAKE_TRIES 8

/* Where tc_tx copies a cache entry before giving back its reference: from then on the slot or
 * hash element may be reused, the copy is this packet's. Per-CPU, not pinned: nothing in it
 * outlives one run of tc_tx. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_cache_entry);
} sfc_tx_entry SEC(".maps");

/* Copies what the restore reads of src into the per-CPU copy: the fields up to the header union,
 * then the labels (MPLS), the NSH header's nsh_len bytes, or for SRv6 srv6_len and its neighbours
 * into the copy and the header set itself straight into hdr_out, the push buffer's header union,
 * as it is pushed but for the hop limit and the payload length (build_srv6_buf()): one copy of
 * up to 384 bytes instead of two. A torn length is bounded by the buffer, and a torn copy
 * is never used: the callers check after copying. NULL: cannot happen. */
static __always_inline struct sfc_cache_entry *copy_entry(const struct sfc_cache_entry *src,
							  union sfc_cache_hdr *hdr_out)
{
	struct sfc_cache_entry *copy;
	__u32 zero = 0;

	copy = bpf_map_lookup_elem(&sfc_tx_entry, &zero);
	if (!copy)
		return NULL;
	__builtin_memcpy(copy, src, __builtin_offsetof(struct sfc_cache_entry, hdr));
	if (copy->encap == SFC_ENCAP_NSH)
		sfc_copy_nsh(copy->hdr.nsh, src->hdr.nsh, copy->nsh_len);
	else if (copy->encap == SFC_ENCAP_SRV6) {
		__builtin_memcpy(&copy->srv6_len, &src->srv6_len, 8);
		sfc_copy_srv6_hdr(hdr_out->srv6, src->hdr.srv6, copy->srv6_len);
	}
	else
		__builtin_memcpy(copy->hdr.labels, src->hdr.labels, sizeof(copy->hdr.labels));
	return copy;
}

/* Whether a packet can be (part of) the fragmented datagram of a slot: whatever carries the
 * upper-layer header must carry the datagram's (frag_head, from its first fragment); a whole
 * packet (the reassembled datagram) must be complete and exactly as long as its fragmentable part
 * (frag_total); a fragment must lie within it and carry its identification, as it arrived or as
 * the VNF refragmented it. The datagram's fingerprint holds little (NAT and refragmentation change
 * the rest), so these add what they can. */
static __always_inline int datagram_fits(const struct sfc_inner_sum *in,
					 struct sfc_cache_entry *slot)
{
	__u32 total = *(volatile __u32 *)&slot->frag_total, head = *(volatile __u32 *)&slot->frag_head;
	__u32 out_id;

	/* a piece with the upper-layer header must carry the datagram's, once its first fragment
	 * has told it */
	if (in->head && head && in->head != head)
		return 0;
	if (!in->is_frag)
		return total && in->dgram_len == total;
	if (total && in->frag_offset + in->frag_bytes > total)
		return 0;
	/* a piece of this datagram carries its identification, or the one a reassembling VNF gave
	 * it when it refragmented it, which the piece with the head (checked above) teaches */
	if (in->frag_id == slot->frag_id)
		return 1;
	out_id = *(volatile __u32 *)&slot->frag_id_out;
	if (out_id)
		return in->frag_id == out_id;
	if (!in->head || !head)
		return 0;
	__sync_val_compare_and_swap(&slot->frag_id_out, 0, in->frag_id);
	return *(volatile __u32 *)&slot->frag_id_out == in->frag_id;
}

/*
 * Takes the metadata-mode entry of key (the value in the mark's key bits) for the packet id
 * identified:
 *  1. the slot (key's low index_bits - 1) must be owned by exactly this key: else a miss (freed,
 *     taken over by a later generation while this packet was held past MaxAge, being written, or
 *     never ours);
 *  2. the entry is copied and its fingerprint compared with this packet's (sfc_fingerprint();
 *     for a fragment slot the datagram's, and the lengths must fit, datagram_fits()): another
 *     packet's entry (a VNF or a rule that changed the mark into a live slot's key) is a miss,
 *     counted FOREIGN_ENTRY;
 *  3. a packet slot is released with a compare-and-swap key -> 0: if that fails, xdp_rx took the
 *     slot over while we copied and the copy may be torn: a miss, nothing of it is pushed.
 *     A fragment slot stays until every byte of its datagram has left (fragment rule, claim_frag()
 *     in xdp_rx): the owner is read again after the copy (a takeover would have changed it
 *     first), the bytes restored are added up atomically, and whoever completes frag_total (or
 *     sends the reassembled datagram whole) frees it.
 * Returns the copy (valid until this program returns; an SRv6 header set in hdr_out), or NULL
 * for a miss.
 */
static __always_inline struct sfc_cache_entry *take_meta(const struct sfc_config *cfg, __u32 key,
							 const struct sfc_ident *id, int *foreign,
							 union sfc_cache_hdr *hdr_out)
{
	const struct sfc_inner_sum *in = &id->in;
	struct sfc_cache_entry *slot, *copy;
	__u32 bits = cfg->meta_index_bits, total, out;

	if (bits > 31)
		return NULL;
	slot = sfc_meta_slot((key & ((1u << bits) - 1)) - 1);
	if (!slot || sfc_meta_owner(slot) != key)
		return NULL;
	copy = copy_entry(slot, hdr_out);
	if (!copy)
		return NULL;
	if (copy->fingerprint != (copy->frag ? sfc_fp_datagram(id, sfc_ident_flags(cfg)) : in->fp_packet) ||
	    (copy->frag && !datagram_fits(in, slot))) {
		*foreign = 1;
		return NULL;
	}
	if (!copy->frag)
		return __sync_val_compare_and_swap(&slot->owner, key, 0) == key ? copy : NULL;

	if (sfc_meta_owner(slot) != key)
		return NULL; /* taken over while we copied */
	if (in->is_frag) {
		/* a piece right behind the same piece (a duplicate) restores but counts once */
		if (__sync_lock_test_and_set(&slot->frag_last, in->frag_offset + 1) == in->frag_offset + 1)
			return copy;
		out = __sync_add_and_fetch(&slot->frag_out, in->frag_bytes);
		total = *(volatile __u32 *)&slot->frag_total;
		if (!total || out < total)
			return copy; /* more of the datagram to come */
	}
	/* the datagram is complete (or left whole): free the slot; if it fails, a duplicate or the
	 * aging got there first, and this packet's copy is still good */
	__sync_val_compare_and_swap(&slot->owner, key, 0);
	return copy;
}

/*
 * Takes the header-hash entry of key (tag: its sfc_key_tag(), the map's key) for this packet. The
 * entry's refs count the packets in the VNF under the key (cache_hash() in xdp_rx); its tag
 * (fingerprint) tells a reused hash element from ours, its whole key another key of the same tag. The copy is made first, then one reference is given back with a compare-and-swap
 * (never from 0: an entry at 0 is on its way out and this packet is one too many, a miss), then
 * the tag is checked again: the element was ours all along, so the copy is. Whoever takes the
 * count to 0 deletes the key; a joining packet never revives an entry at 0, so the delete cannot
 * hit a newer entry. Returns the copy (valid until this program returns; an SRv6 header set in
 * hdr_out), or NULL for a miss.
 */
static __always_inline struct sfc_cache_entry *take_hash(const struct sfc_flow_key *key,
							 __u64 tag, int *foreign,
							 union sfc_cache_hdr *hdr_out)
{
	struct sfc_cache_entry *e, *copy;
	__u32 refs;
	int i;

	e = bpf_map_lookup_elem(&sfc_hash_cache, &tag);
	if (!e)
		return NULL;
	/* a reused element, or another key of the same tag: not this packet's */
	if (e->fingerprint != tag || !sfc_same_key(&e->key, key)) {
		*foreign = 1;
		return NULL;
	}
	copy = copy_entry(e, hdr_out);
	if (!copy)
		return NULL;
	for (i = 0; i < SFC_TAKE_TRIES; i++) {
		refs = *(volatile __u32 *)&e->refs;
		if (!refs)
			return NULL;
		if (__sync_val_compare_and_swap(&e->refs, refs, refs - 1) != refs)
			continue;
		if (e->fingerprint != tag) {
			/* reused for another key between the lookup and here: give its reference
			 * back, our copy is not to be trusted */
			__sync_fetch_and_add(&e->refs, 1);
			*foreign = 1;
			return NULL;
		}
		if (refs == 1)
			bpf_map_delete_elem(&sfc_hash_cache, &tag);
		return copy;
	}
	return NULL;
}

#endif /* TC_TX_TAKE_H */
