/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains how xdp_rx puts a packet's headers into the cache: the metadata slot claim
 * (one slot per packet, one per fragmented datagram) and the header-hash insert or join, with
 * the rules that keep two packets from ever sharing headers they do not both have. */
#ifndef XDP_RX_CACHE_H
#define XDP_RX_CACHE_H

#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"
#include "sfc_key.h"
#include "rx_parse.h"

/* An insert that races with releases and joins of the same header-hash key is retried this often;
 * past that the key is too contended to settle and the packet is refused as cache full. Most
 * retries wait out an entry at refs 0 whose releaser (tc_tx on another CPU, between its
 * compare-and-swap and its delete) an interrupt or, in a test run, preemption holds up: 8 tries
 * (about a microsecond) refused one retransmission in 100,000 racing its twin's release in 2 of 3
 * test runs (JoinReleaseTests); with 64, 0 in 6 runs alone and 1 in a run on a loaded machine
 * (a preempted releaser outlasts any bound; softirq is not preempted). A refusal is counted as
 * cache full, never a wrong restore. Only a contended key pays for the tries. */
#define SFC_HASH_INSERT_TRIES 64

/* Slots of its ring a metadata packet tries, from the CPU's cursor on, before the cache counts as
 * full: a packet the VNF holds (NFQUEUE, a fragment awaiting reassembly) keeps its slot, and the
 * next packets step over it instead of being refused. */
#ifndef SFC_META_PROBES
#define SFC_META_PROBES 4
#endif

/* Per-CPU state of xdp_rx (sfc_meta_seq): the sequence numbers latency sampling and claim tokens
 * come from, and the next slot of this CPU's ring to try. */
struct sfc_meta_cursor {
	__u32 seq;  /* packets this CPU has cached */
	__u32 next; /* next slot of the ring (metadata mode), 0..meta_slots_per_cpu - 1 */
};

/* Per-CPU cursor of xdp_rx: read and advanced by xdp_rx alone (per-CPU, so no atomics). Pinned so
 * that a reload goes on where the last program left off. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_meta_cursor);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_meta_seq SEC(".maps");

/*
 * Writes what tc_tx reads of an entry into e: the common fields, then for NSH the header copied
 * from the packet (and outer_src for an inner Ethernet frame). e is a claimed slot (metadata NSH:
 * written in place, no 360-byte build-and-copy) or the sfc_rx_scratch entry, where
 * read_label_stack() already put an MPLS stack. Bytes tc_tx never reads (the header union past this packet's
 * headers, outer_src of one that keeps its L2 header) are left as they are
 * (an earlier packet's, in a metadata slot and in the header-hash scratch alike).
 * Returns 0, or -1 if the NSH copy fails.
 */
static __always_inline int fill_entry(struct xdp_md *ctx, struct sfc_cache_entry *e,
				      const struct sfc_pop *p, struct ethhdr *eth, __u64 now,
				      __u8 sample)
{
	__u32 hlen;

	e->ingress_ns = now;
	e->refs = 1;
	e->encap = p->encap;
	e->label_count = p->label_count;
	e->latency_sample = sample;
	e->frag = 0;
	e->frag_total = 0;
	e->frag_out = 0;
	if (p->encap == SFC_ENCAP_MPLS) {
		e->nsh_len = 0;
		e->nsh_next_proto = 0;
		return 0; /* the labels are in e already (the scratch) */
	}
	if (p->encap == SFC_ENCAP_SRV6) {
		e->nsh_len = 0;
		e->nsh_next_proto = 0;
		if (p->strip_l2)
			__builtin_memcpy(e->outer_src, eth->h_source, ETH_ALEN);
		return 0; /* rx_srv6() cached the headers in e already (the scratch) */
	}
	hlen = p->hdr_len;
	/* re-stated for the verifier (parse_nshhdr() checked 8 <= hlen <= 252): the copy's size
	 * must be bounded by the buffer */
	if (hlen < SFC_NSH_BASE_HLEN || hlen > SFC_NSH_MAX_HLEN)
		return -1;
	e->nsh_len = hlen;
	e->nsh_next_proto = p->nsh_next_proto;
	if (p->strip_l2)
		__builtin_memcpy(e->outer_src, eth->h_source, ETH_ALEN);
	return bpf_xdp_load_bytes(ctx, p->l2_len, e->hdr.nsh, hlen) ? -1 : 0;
}

/* same_headers() for two SRv6 entries: the same header set byte for byte, the same inner type,
 * and (inner Ethernet) the same sender to return to. */
static __always_inline int same_srv6(const struct sfc_cache_entry *a,
				     const struct sfc_cache_entry *b)
{
	const __u64 *x = (const __u64 *)a->hdr.srv6, *y = (const __u64 *)b->hdr.srv6;
	__u32 i, n = a->srv6_len;

	if (n != b->srv6_len || a->srv6_next != b->srv6_next || a->srv6_sid != b->srv6_sid)
		return 0;
	if (a->srv6_next == SFC_NH_ETHERNET &&
	    (((const __u16 *)a->outer_src)[0] != ((const __u16 *)b->outer_src)[0] ||
	     ((const __u16 *)a->outer_src)[1] != ((const __u16 *)b->outer_src)[1] ||
	     ((const __u16 *)a->outer_src)[2] != ((const __u16 *)b->outer_src)[2]))
		return 0;
	for (i = 0; i < SFC_SRV6_MAX_LEN / 8; i++) {
		if (i * 8 >= n)
			break;
		if (x[i] != y[i])
			return 0;
	}
	return 1;
}

/*
 * Whether a and b carry the same headers, i.e. restoring either on the other's packet would be
 * right: the same encapsulation, the same label stack, or the same NSH header byte for byte with
 * the same next protocol and (NSH carrying Ethernet) the same SFF to return to. Only the
 * header-hash duplicate path and fragments joining a slot ask, so the loops stay off the fast
 * path. A global function: the verifier checks its loops once, not on every path to each call.
 */
__attribute__((noinline)) int same_headers(const struct sfc_cache_entry *a,
					   const struct sfc_cache_entry *b)
{
	const __u32 *x, *y;
	__u32 i, n;

	if (!a || !b)
		return 0;
	if (a->encap != b->encap)
		return 0;
	if (a->encap == SFC_ENCAP_SRV6)
		return same_srv6(a, b);
	if (a->encap == SFC_ENCAP_MPLS) {
		n = a->label_count;
		if (n != b->label_count)
			return 0;
		for (i = 0; i < SFC_MAX_LABELS; i++) {
			if (i >= n)
				break;
			if (a->hdr.labels[i] != b->hdr.labels[i])
				return 0;
		}
		return 1;
	}
	n = a->nsh_len;
	if (n != b->nsh_len || a->nsh_next_proto != b->nsh_next_proto)
		return 0;
	/* outer_src is 2-byte aligned in the entry: three 16-bit compares, no memcmp in BPF */
	if (a->nsh_next_proto == SFC_NSH_NP_ETHERNET &&
	    (((const __u16 *)a->outer_src)[0] != ((const __u16 *)b->outer_src)[0] ||
	     ((const __u16 *)a->outer_src)[1] != ((const __u16 *)b->outer_src)[1] ||
	     ((const __u16 *)a->outer_src)[2] != ((const __u16 *)b->outer_src)[2]))
		return 0;
	x = (const __u32 *)a->hdr.nsh;
	y = (const __u32 *)b->hdr.nsh;
	for (i = 0; i < SFC_NSH_MAX_LEN / 4; i++) {
		if (i * 4 >= n)
			break;
		if (x[i] != y[i])
			return 0;
	}
	return 1;
}

/*
 * Caches e under a header-hash key (its tag goes into e->fingerprint). The key covers every
 * byte the VNF leaves alone (sfc_flow_key_fill()), so two packets share a key only when the VNF
 * cannot tell them apart either. Duplicate rule:
 *  - same key, same headers (a retransmission, a duplicated datagram): the packet joins the
 *    entry (refs + 1), is popped and counted RX_DUPLICATE_KEY; tc_tx restores those headers for
 *    every copy and deletes the entry when the last reference leaves. The join renews the entry's
 *    pop time, so aging (hash_age, which takes entries out with the same compare-and-swap) never
 *    takes it while the newest copy is in the VNF.
 *  - same key, other headers: whichever copy left the VNF first would get the first headers, so
 *    the second packet is refused, RX_KEY_CONFLICT, drop. Never swapped silently. So is a packet
 *    whose key differs but whose tag (the map's key) is the same, 1 pair in 2^64.
 * Join and release are atomic against each other: a release takes the count from 1 to 0 with a
 * compare-and-swap and only then deletes; a join increments only a count that is not 0 (kref's
 * get-unless-zero), so it never joins an entry on its way out, and inserts again instead. A hash
 * element is reused as soon as it is deleted, so after the join the tag is checked again; a
 * mismatch means the element became another key's between our lookup and our increment, and the
 * increment is given back (if that was the other key's last reference, its entry is left with 0
 * and the aging sweep removes it: one entry kept too long, never a wrong restore).
 * e is the entry built in the scratch, id->key the key, id->tag its tag. A global function: the verifier checks
 * the retries once, not on every path of xdp_rx. Returns the outcome: RX_POPPED (inserted),
 * RX_DUPLICATE_KEY (joined; id->joined = 1), RX_KEY_CONFLICT or RX_CACHE_FULL.
 */
__attribute__((noinline)) int cache_hash(struct sfc_ident *id, struct sfc_cache_entry *e,
					 __u64 now)
{
	struct sfc_cache_entry *old;
	__u64 *tag;
	__u32 refs;
	long err;
	int i;

	if (!id || !e)
		return SFC_CNT_RX_ERROR;
	tag = &id->tag;
	id->joined = 0;
	e->fingerprint = id->tag;
	e->key = id->key;
	for (i = 0; i < SFC_HASH_INSERT_TRIES; i++) {
		err = bpf_map_update_elem(&sfc_hash_cache, tag, e, BPF_NOEXIST);
		if (!err)
			return SFC_CNT_RX_POPPED;
		if (err != -EEXIST)
			return SFC_CNT_RX_CACHE_FULL; /* the map is full */
		old = bpf_map_lookup_elem(&sfc_hash_cache, tag);
		if (!old || old->fingerprint != e->fingerprint)
			continue; /* released (or its element reused) meanwhile: insert again */
		refs = *(volatile __u32 *)&old->refs;
		if (!refs)
			continue; /* on its way out: its releaser deletes it next */
		/* another key with the same tag (1 pair in 2^64), or the same key with other headers:
		 * either way the entry is not this packet's to share */
		if (!sfc_same_key(&old->key, &e->key) || !same_headers(old, e))
			return SFC_CNT_RX_KEY_CONFLICT;
		/* renewed before the count moves: the aging sweep (hash_age) takes an entry out
		 * only by a compare-and-swap of an unchanged count, so it either sees this renewal or
		 * makes this join fail */
		old->ingress_ns = now;
		if (__sync_val_compare_and_swap(&old->refs, refs, refs + 1) != refs)
			continue; /* a release, the sweep or another join came first: look again */
		if (old->fingerprint != e->fingerprint) {
			__sync_fetch_and_add(&old->refs, (__u32)-1);
			continue;
		}
		id->joined = 1;
		return SFC_CNT_RX_DUPLICATE_KEY;
	}
	return SFC_CNT_RX_CACHE_FULL;
}

/* Gives back the reference cache_hash() took or the entry it inserted, when the packet is dropped
 * after all (a later helper failed), the way tc_tx would release it. */
static __always_inline void hash_undo(struct sfc_ident *id)
{
	struct sfc_cache_entry *joined;
	__u32 refs;
	int i;

	if (!id->joined) {
		bpf_map_delete_elem(&sfc_hash_cache, &id->tag);
		return;
	}
	joined = bpf_map_lookup_elem(&sfc_hash_cache, &id->tag);
	if (!joined)
		return;
	for (i = 0; i < SFC_HASH_INSERT_TRIES; i++) {
		refs = *(volatile __u32 *)&joined->refs;
		if (!refs)
			return;
		if (__sync_val_compare_and_swap(&joined->refs, refs, refs - 1) == refs) {
			if (refs == 1)
				bpf_map_delete_elem(&sfc_hash_cache, &id->tag);
			return;
		}
	}
}

/* The key a claim of slot idx gives its packet: idx + 1 in the low index_bits, the slot's next
 * generation in the bits of mask above them (none when the mask has no spare bits), never 0, and
 * never with SFC_OWNER_BUSY set. *gen: that generation. */
static __always_inline __u32 claim_key(const struct sfc_config *cfg,
				       const struct sfc_cache_entry *slot, __u32 idx, __u32 *gen)
{
	__u32 mask, shift, bits = cfg->meta_index_bits, room, key;

	sfc_mark_bits(cfg, &mask, &shift);
	room = mask >> shift; /* every value the key may take */
	*gen = slot->generation + 1;
	if (bits >= 31)
		bits = 31;
	key = ((*gen << bits) | (idx + 1)) & room & ~SFC_OWNER_BUSY;
	/* the generation wraps within the spare bits; index + 1 always fits (the host sizes it) */
	return key ? key : idx + 1;
}

/*
 * Claims a metadata-mode slot on this CPU's ring for a packet popped at now. The ring is the
 * CPU's meta_slots_per_cpu slots; its cursor (cur->next) walks them in turn. Slot rules:
 *  - free (owner 0): claimed with a compare-and-swap 0 -> key | BUSY.
 *  - owned by an entry popped at least meta_max_age_ns ago: a packet the VNF dropped (the aging
 *    rule, README "Cache aging"); taken over with a compare-and-swap old -> key | BUSY and
 *    counted META_AGED_OUT. This is the metadata mode's aging: the host never writes a slot.
 *  - owned by a younger entry (its packet is still in the VNF) or being written: stepped over.
 * After SFC_META_PROBES slots without a claim the cache is full for this packet (RX_CACHE_FULL,
 * drop): a live entry is never evicted. The key (claim_key()) is the slot's index + 1 and a
 * generation that each claim of the slot advances, so a late packet whose slot was taken over
 * carries a key that is no longer the slot's owner: it misses at tc_tx, whatever its contents.
 * The caller writes the fields and then publishes the slot (publish_slot()); while BUSY is set
 * tc_tx leaves the slot alone, so it never copies a half-written entry. Returns the claimed slot
 * with *index and *token (the key), or NULL with *outcome = RX_CACHE_FULL.
 */
static __always_inline struct sfc_cache_entry *
claim_meta(const struct sfc_config *cfg, struct sfc_meta_cursor *cur, __u64 now, __u32 *index,
	   __u32 *token, enum sfc_counter *outcome)
{
	__u32 per_ring = cfg->meta_slots_per_cpu, ring, pos, idx, old, t, gen;
	__u64 max_age = cfg->meta_max_age_ns, popped;
	struct sfc_cache_entry *slot;
	int i;

	*outcome = SFC_CNT_RX_CACHE_FULL;
	if (!per_ring)
		return NULL;
	ring = bpf_get_smp_processor_id() & SFC_META_CPU_MASK;
	pos = cur->next < per_ring ? cur->next : 0;
	for (i = 0; i < SFC_META_PROBES; i++) {
		idx = ring * per_ring + pos;
		pos = pos + 1 < per_ring ? pos + 1 : 0;
		slot = sfc_meta_slot(idx);
		if (!slot)
			break; /* beyond the map: a config that does not match it */
		t = claim_key(cfg, slot, idx, &gen);
		old = sfc_meta_owner(slot);
		if (!old) {
			if (__sync_val_compare_and_swap(&slot->owner, 0, t | SFC_OWNER_BUSY) == 0)
				goto claimed;
			continue;
		}
		if (old & SFC_OWNER_BUSY)
			continue; /* a CPU sharing this ring is writing it */
		popped = slot->ingress_ns;
		/* live (or stamped later than our clock read): step over it, never evict */
		if (!max_age || popped > now || now - popped < max_age)
			continue;
		if (__sync_val_compare_and_swap(&slot->owner, old, t | SFC_OWNER_BUSY) == old) {
			sfc_count(SFC_CNT_META_AGED_OUT);
			goto claimed;
		}
	}
	cur->next = pos;
	return NULL;
claimed:
	slot->generation = gen;
	cur->next = pos;
	*index = idx;
	*token = t;
	*outcome = SFC_CNT_RX_POPPED;
	return slot;
}

/* Makes a claimed slot's entry visible to tc_tx: the fields are written, BUSY goes. A
 * compare-and-swap, so the fields are in memory before the owner changes on every CPU. */
static __always_inline void publish_slot(struct sfc_cache_entry *slot, __u32 token)
{
	__sync_val_compare_and_swap(&slot->owner, token | SFC_OWNER_BUSY, token);
}

/* Frees a slot this packet claimed (a later step failed), busy or published; a no-op if it was
 * taken over meanwhile. */
static __always_inline void meta_undo(__u32 index, __u32 token)
{
	struct sfc_cache_entry *slot = sfc_meta_slot(index);

	if (!slot)
		return;
	if (__sync_val_compare_and_swap(&slot->owner, token | SFC_OWNER_BUSY, 0) != (token | SFC_OWNER_BUSY))
		__sync_val_compare_and_swap(&slot->owner, token, 0);
}

/* The sfc_frag_groups key of the datagram a fragment belongs to. */
static __always_inline void frag_key(const struct sfc_inner_sum *in, struct sfc_frag_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->saddr, in->saddr, sizeof(k->saddr));
	__builtin_memcpy(k->daddr, in->daddr, sizeof(k->daddr));
	k->id = in->frag_id;
	k->family = in->family;
	k->proto = in->dgram_proto;
}

/*
 * Fragment rule (metadata mode). A stateful kernel VNF (conntrack) reassembles the fragments of a
 * datagram and refragments it on output, every piece carrying the mark of the fragment it
 * reassembled into; a stateless one forwards each fragment with its own mark. Both are served by
 * giving every fragment of one datagram the SAME slot and key:
 *  - the first fragment to arrive (any offset) claims a slot as a packet would, marks it frag,
 *    and records it in sfc_frag_groups under the datagram's identity (addresses, protocol, id);
 *  - later fragments find that record; if the slot is still the one recorded (same owner, not
 *    busy) and holds the same headers, they join it (FRAG_JOINED) and renew its pop time; if it
 *    holds other headers the fragment is refused, RX_KEY_CONFLICT; a stale record is replaced by
 *    a new claim.
 *  - the last fragment (more-fragments clear) sets frag_total, the datagram's length; tc_tx adds
 *    up the bytes it restores from the slot and frees the slot when they reach frag_total, or at
 *    once when the reassembled datagram leaves whole.
 * e is this fragment's entry, built in the scratch (its fingerprint is the datagram's). Returns
 * the slot to use with *index and *token (its key) and *claimed (1: claimed here, to be filled
 * and published), or NULL with *outcome set.
 */
static __always_inline struct sfc_cache_entry *
claim_frag(const struct sfc_config *cfg, struct sfc_meta_cursor *cur,
	   const struct sfc_inner_sum *in, struct sfc_cache_entry *e, __u64 now, __u32 *index,
	   __u32 *token, int *claimed, enum sfc_counter *outcome)
{
	struct sfc_cache_entry *slot;
	struct sfc_frag_slot *g, rec;
	struct sfc_frag_key k;

	*token = 0;
	*claimed = 0;
	frag_key(in, &k);
	g = bpf_map_lookup_elem(&sfc_frag_groups, &k);
	if (g) {
		rec = *g;
		slot = sfc_meta_slot(rec.index);
		if (slot && sfc_meta_owner(slot) == rec.owner && slot->frag &&
		    slot->fingerprint == e->fingerprint) {
			if (!same_headers(slot, e)) {
				*outcome = SFC_CNT_RX_KEY_CONFLICT;
				return NULL;
			}
			slot->ingress_ns = now;
			if (in->frag_end)
				slot->frag_total = in->frag_end;
			if (in->head && !slot->frag_head)
				slot->frag_head = in->head;
			sfc_count(SFC_CNT_FRAG_JOINED);
			*index = rec.index;
			*token = rec.owner; /* the datagram's key; nothing to publish */
			*outcome = SFC_CNT_RX_POPPED;
			return slot;
		}
	}
	slot = claim_meta(cfg, cur, now, index, token, outcome);
	if (!slot)
		return NULL;
	*claimed = 1;
	rec.index = *index;
	rec.owner = *token;
	bpf_map_update_elem(&sfc_frag_groups, &k, &rec, BPF_ANY);
	return slot;
}

/*
 * Caches the entry built in e (the scratch) in metadata mode: a fragment joins or starts its
 * datagram's slot (claim_frag()), any other packet claims a slot of its own (claim_meta()); a slot
 * claimed here gets e's fields (and NSH header) and is published. id->in describes the packet;
 * id->index and id->token say where the headers went. A global function: the verifier checks the
 * probing once, not on every path of xdp_rx. Returns the outcome: RX_POPPED, RX_KEY_CONFLICT or
 * RX_CACHE_FULL.
 */
__attribute__((noinline)) int cache_meta(struct sfc_ident *id, struct sfc_cache_entry *e, __u64 now)
{
	struct sfc_cache_entry *slot;
	struct sfc_meta_cursor *cur;
	enum sfc_counter outcome;
	struct sfc_config *cfg;
	__u32 zero = 0, index = 0, token = 0;
	int claimed = 1;

	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	cur = bpf_map_lookup_elem(&sfc_meta_seq, &zero);
	if (!id || !e || !cfg || !cur)
		return SFC_CNT_RX_ERROR;
	e->refs = 0;
	e->frag = id->in.is_frag;
	e->frag_total = id->in.frag_end;
	e->frag_out = 0;
	e->frag_head = id->in.is_frag ? id->in.head : 0;
	e->frag_id = id->in.is_frag ? id->in.frag_id : 0;
	e->frag_id_out = 0;
	e->fingerprint = id->in.is_frag ? sfc_fp_datagram(id, sfc_ident_flags(cfg)) : id->in.fp_packet;
	if (id->in.is_frag)
		slot = claim_frag(cfg, cur, &id->in, e, now, &index, &token, &claimed, &outcome);
	else
		slot = claim_meta(cfg, cur, now, &index, &token, &outcome);
	id->index = index;
	id->token = token;
	id->joined = !claimed;
	if (!slot)
		return outcome;
	if (claimed) {
		/* the fields up to the owner (which the claim holds) in one copy, then the labels or
		 * the NSH header */
		__builtin_memcpy(slot, e, __builtin_offsetof(struct sfc_cache_entry, owner));
		if (e->encap == SFC_ENCAP_NSH)
			sfc_copy_nsh(slot->hdr.nsh, e->hdr.nsh, e->nsh_len);
		else if (e->encap == SFC_ENCAP_SRV6)
			sfc_copy_srv6(slot, e);
		else
			__builtin_memcpy(slot->hdr.labels, e->hdr.labels, sizeof(slot->hdr.labels));
		slot->frag_head = e->frag_head;
		slot->frag_id = e->frag_id;
		slot->frag_id_out = 0;
		slot->frag_last = 0;
		publish_slot(slot, token);
	}
	return outcome;
}

#endif /* XDP_RX_CACHE_H */
