// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_rx: XDP program on the ingress interface. Takes the SR-MPLS label stack or the NSH header
 * off each packet, caches it under a key that tc_tx can derive again, and hands the plain IP
 * packet (or, for NSH carrying Ethernet, the inner Ethernet frame) to the VNF. */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"
#include "sfc_parsing.h"

/* An insert that raced with the release of the same header-hash key is retried this often. */
#define SFC_HASH_INSERT_TRIES 2

/* Per-CPU sequence of the SFC packets xdp_rx caches: the metadata key and the latency sample
 * are taken from it. xdp_rx alone reads and increments it (per-CPU, so no atomics). Pinned so
 * that a reload continues the sequence instead of reusing keys that still sit in
 * sfc_meta_cache. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sfc_meta_seq SEC(".maps");

/* Where popped packets go: slot 0 holds the ifindex of the VNF's interface (the host writes it,
 * xdp_rx redirects to it); left empty, the packet goes up the host stack to a local VNF. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* ifindex */
	/* Not pinned: the kernel adds BPF_F_RDONLY_PROG to every devmap, so libbpf would refuse to
	 * reuse the pin after a restart (and a definition cannot ask for that flag); the host fills
	 * each new object's map before its program is attached or swapped in. */
} sfc_vnf_port SEC(".maps");

/* Where xdp_rx builds a header-hash cache entry before inserting it: 352 bytes do not fit the
 * 512-byte BPF stack beside the flow key and the L2 copy. (Metadata mode writes straight into its
 * claimed slot.) Per-CPU, and XDP does not nest on a CPU, so one slot per CPU is enough. It holds
 * nothing from one packet to the next, so it is not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_cache_entry);
} sfc_rx_scratch SEC(".maps");

/* What parsing found: the SFC headers to cache and how to pop them. Kept on the stack until
 * the cache entry is known (the claimed slot, or the header-hash scratch). */
struct sfc_pop {
	__be32 *labels;      /* MPLS: the popped stack, top first, network byte order; the
			      * labels of the sfc_rx_scratch entry (map memory: parsing into the
			      * stack cost ~1 ns more per label) */
	__u32 l2_len;        /* bytes of L2 header in front of the SFC headers */
	__u32 hdr_len;       /* bytes of SFC headers: label stack or NSH */
	__u8 encap;          /* enum sfc_encap */
	__u8 label_count;    /* MPLS: entries in labels */
	__u8 nsh_next_proto; /* NSH: next protocol */
	__u8 strip_l2;       /* NSH carrying Ethernet: the L2 header goes too */
	__u8 oam;            /* NSH: O bit set */
};

/* Copies the label stack at nh into p->labels (network byte order, exactly as on the wire),
 * sets p->label_count and leaves nh on the inner packet. Returns 0, or -1 with *outcome set. */
static __always_inline int read_label_stack(struct hdr_cursor *nh, void *data_end,
					    struct sfc_pop *p, enum sfc_counter *outcome)
{
	__be32 *labels = p->labels; /* loaded once, not per label */
	__be32 lse;
	__u32 i;
	int bos;

	for (i = 0; i < SFC_MAX_LABELS; i++) {
		bos = parse_mplshdr(nh, data_end, &lse);
		if (bos < 0) {
			/* packet ends before the bottom of stack */
			*outcome = SFC_CNT_RX_TRUNCATED;
			return -1;
		}
		labels[i] = lse;
		if (bos) {
			p->label_count = i + 1;
			return 0;
		}
	}
	/* deeper than we can cache, and popping part of it would break the chain */
	*outcome = SFC_CNT_RX_TOO_MANY_LABELS;
	return -1;
}

/* Identifies the packet behind the SFC headers by its version nibble and checks its IP header
 * is complete. MPLS does not say what it carries (expect 0: either version); NSH and an inner
 * Ethernet header do (expect: that ethertype, network byte order), and a version nibble that
 * contradicts them is not IP either. nh is not moved. Returns 0 and the matching ethertype
 * (network byte order), or -1 with *outcome set. */
static __always_inline int inner_ip(struct hdr_cursor *nh, void *data_end, __be16 expect,
				    __be16 *l3_proto, enum sfc_counter *outcome)
{
	struct hdr_cursor ip = *nh;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	__u8 *first = nh->pos;

	if ((void *)(first + 1) > data_end) {
		*outcome = SFC_CNT_RX_TRUNCATED;
		return -1;
	}

	switch (*first >> 4) {
	case 4:
		*l3_proto = bpf_htons(ETH_P_IP);
		break;
	case 6:
		*l3_proto = bpf_htons(ETH_P_IPV6);
		break;
	default:
		/* e.g. an Ethernet pseudowire: the VNF could not use it without the stack */
		*outcome = SFC_CNT_RX_NOT_IP;
		return -1;
	}

	if (expect && *l3_proto != expect) {
		/* NSH or the inner Ethernet says one IP version, the packet is another: the VNF and
		 * tc_tx would read it as the wrong one */
		*outcome = SFC_CNT_RX_NOT_IP;
		return -1;
	}

	if (*l3_proto == bpf_htons(ETH_P_IP) ? parse_iphdr(&ip, data_end, &iph) < 0
					     : parse_ip6hdr(&ip, data_end, &ip6h) < 0) {
		/* shorter than its header (IPv4: its IHL), or IPv4 IHL < 5 */
		*outcome = SFC_CNT_RX_TRUNCATED;
		return -1;
	}
	return 0;
}

/*
 * Checks the NSH header at nh (p->l2_len bytes into the frame, by parse_nshhdr(): verdicts and
 * counters are listed there; fill_entry() copies it byte for byte) and finds the packet it
 * carries:
 *
 *  next protocol | the VNF gets                       | outer L2 header
 *  --------------+------------------------------------+-----------------------------------------
 *  IPv4, IPv6    | the IP packet (as for MPLS)        | kept, innermost ethertype set to the IP
 *                |                                    | version (pop_headers())
 *  Ethernet      | the inner Ethernet frame as is     | removed with the NSH header; its source
 *                | (up to SFC_MAX_VLANS tags, then    | MAC is saved in e->outer_src so tc_tx can
 *                | IPv4/IPv6)                         | send the restored frame back to that SFF
 *
 * An inner frame that ends inside its Ethernet header counts RX_TRUNCATED; one that is not IP
 * (ARP, a third VLAN tag, MPLS, ...) counts RX_NOT_IP: tc_tx can key and restore only IP frames.
 * Leaves nh on the inner IP header, sets *l3_proto (network byte order), p->hdr_len,
 * p->nsh_next_proto, p->oam and, for an inner Ethernet frame, p->strip_l2. Returns 0, or -1 with
 * *outcome set.
 */
static __always_inline int read_nsh(struct hdr_cursor *nh, void *data_end, struct sfc_pop *p,
				    __be16 *l3_proto, enum sfc_counter *outcome)
{
	struct sfc_nsh_hdr *nsh;
	struct ethhdr *ieth;
	__u32 hlen, ivlans;
	int np, proto;

	np = parse_nshhdr(nh, data_end, &nsh, &hlen, outcome);
	if (np < 0)
		return -1;

	p->hdr_len = hlen;
	p->nsh_next_proto = np;
	p->oam = !!(bpf_ntohs(nsh->ver_ttl_len) & SFC_NSH_OAM_MASK);

	switch (np) {
	case SFC_NSH_NP_IPV4:
		return inner_ip(nh, data_end, bpf_htons(ETH_P_IP), l3_proto, outcome);
	case SFC_NSH_NP_IPV6:
		return inner_ip(nh, data_end, bpf_htons(ETH_P_IPV6), l3_proto, outcome);
	default: /* SFC_NSH_NP_ETHERNET, the only other one parse_nshhdr() lets through */
		proto = parse_eth_vlans(nh, data_end, &ieth, &ivlans);
		if (proto < 0) {
			*outcome = SFC_CNT_RX_TRUNCATED;
			return -1;
		}
		if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6)) {
			*outcome = SFC_CNT_RX_NOT_IP;
			return -1;
		}
		p->strip_l2 = 1;
		return inner_ip(nh, data_end, proto, l3_proto, outcome);
	}
}

/* Next packet sequence number of this CPU. Returns 0, or -1 if the sequence map is missing. */
static __always_inline int packet_seq_next(__u32 *s)
{
	__u32 zero = 0;
	__u32 *seq;

	seq = bpf_map_lookup_elem(&sfc_meta_seq, &zero);
	if (!seq)
		return -1;
	*s = *seq;
	*seq = *s + 1; /* per-CPU slot: no atomics needed */
	return 0;
}

/* Metadata key of the packet with sequence number s on this CPU. */
static __always_inline __u32 meta_key(__u32 s)
{
	return SFC_MARK_FLAG | ((s & SFC_META_SEQ_MASK) << SFC_META_SEQ_SHIFT) |
	       (bpf_get_smp_processor_id() & SFC_META_CPU_MASK);
}

/* Latency sampling rule: the packet with sequence number s goes into the VNF latency histograms
 * when s is a multiple of sfc_config.latency_sample_every (0 and 1: every packet). Sampling
 * keeps tc_tx's clock read and histogram update (~90 ns) off the other packets; the histograms
 * then hold 1 packet in N per CPU, a sample whose distribution stands for all of them. */
static __always_inline __u8 latency_sample(const struct sfc_config *cfg, __u32 s)
{
	__u32 every = cfg->latency_sample_every;

	return every <= 1 || s % every == 0;
}

/*
 * Claims the metadata-mode slot of key for a packet popped at now (sfc_meta_slot(): this CPU's
 * ring, a slot that comes round again after meta_slots_per_cpu packets of this CPU). Slot rules:
 *  - free (owner 0): claimed with a compare-and-swap 0 -> key.
 *  - owned by an entry popped at least meta_max_age_ns ago: a packet the VNF dropped (the aging
 *    rule, README "Cache aging"); taken over with a compare-and-swap old -> key and counted
 *    META_AGED_OUT. This is the metadata mode's aging: the host never writes a slot.
 *  - owned by a younger entry: its packet is still in the VNF. The cache is full for this packet
 *    (RX_CACHE_FULL, drop): a live entry is never evicted.
 * The caller writes the fields (fill_entry()) only after the claim, so a tc_tx that validated the
 * old owner and copies a half-written entry always fails its release compare-and-swap (see
 * meta_take() in tc_tx). A compare-and-swap that loses (tc_tx released the old owner meanwhile,
 * or a CPU above 255 shares the ring) is one retry on a now free slot, else the cache is full.
 * Returns the claimed slot, or NULL with *outcome = RX_CACHE_FULL.
 */
static __always_inline struct sfc_cache_entry *claim_meta(const struct sfc_config *cfg, __u32 key,
							  __u64 now, enum sfc_counter *outcome)
{
	struct sfc_cache_entry *slot;
	__u64 popped, max_age;
	__u32 old, found;

	*outcome = SFC_CNT_RX_CACHE_FULL;
	slot = sfc_meta_slot(cfg, key);
	if (!slot)
		return NULL;

	old = sfc_meta_owner(slot);
	if (old) {
		max_age = cfg->meta_max_age_ns;
		popped = slot->ingress_ns;
		/* live (or stamped later than our clock read): refuse, never evict */
		if (!max_age || popped > now || now - popped < max_age)
			return NULL;
		found = __sync_val_compare_and_swap(&slot->owner, old, key);
		if (found == old) {
			sfc_count(SFC_CNT_META_AGED_OUT);
			goto claimed;
		}
		if (found)
			return NULL; /* another owner won the slot */
		/* tc_tx released the old owner meanwhile: claim the slot as free */
	}
	if (__sync_val_compare_and_swap(&slot->owner, 0, key) != 0)
		return NULL;
claimed:
	*outcome = SFC_CNT_RX_POPPED;
	return slot;
}

/*
 * Writes what tc_tx reads of an entry into e: the common fields, then for NSH the header copied
 * from the packet (and outer_src for an inner Ethernet frame). e is a claimed slot (metadata NSH:
 * written in place, no 344-byte build-and-copy, 40-70 ns less) or the sfc_rx_scratch entry, where
 * read_label_stack() already put an MPLS stack. Bytes tc_tx never reads (labels past label_count,
 * the NSH buffer of an MPLS entry, outer_src of one that keeps its L2 header) are left as they are
 * (in a metadata slot: an earlier packet's; the header-hash scratch is zeroed first).
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
	if (p->encap == SFC_ENCAP_MPLS) {
		e->nsh_len = 0;
		e->nsh_next_proto = 0;
		return 0; /* the labels are in e already (the scratch) */
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
	return bpf_xdp_load_bytes(ctx, p->l2_len, e->nsh, hlen) ? -1 : 0;
}

/*
 * Caches e under a header-hash key. Duplicate rule: identical keys mean packets the VNF cannot
 * tell apart either (a retransmission, a duplicated datagram), so they get the same headers
 * back. The FIRST cached headers (label stack or NSH) stay; a later packet with the same key
 * takes a reference on that entry (refs + 1), is popped anyway and counted RX_DUPLICATE_KEY.
 * tc_tx restores the first headers for every copy and deletes the entry when the last
 * reference leaves.
 * Returns 0 with *joined = the entry we took a reference on (NULL if we inserted a new one),
 * or -1 when the cache refuses the entry (full).
 */
static __always_inline int cache_hash(struct sfc_flow_key *key, struct sfc_cache_entry *e,
				      struct sfc_cache_entry **joined,
				      enum sfc_counter *outcome)
{
	struct sfc_cache_entry *old;
	long err;
	int i;

	*joined = NULL;
	for (i = 0; i < SFC_HASH_INSERT_TRIES; i++) {
		err = bpf_map_update_elem(&sfc_hash_cache, key, e, BPF_NOEXIST);
		if (!err) {
			*outcome = SFC_CNT_RX_POPPED;
			return 0;
		}
		if (err != -EEXIST)
			break;
		old = bpf_map_lookup_elem(&sfc_hash_cache, key);
		if (old) {
			__sync_fetch_and_add(&old->refs, 1);
			*joined = old;
			*outcome = SFC_CNT_RX_DUPLICATE_KEY;
			return 0;
		}
		/* tc_tx released the key between our insert and lookup: insert again */
	}
	*outcome = SFC_CNT_RX_CACHE_FULL;
	return -1;
}

/* Undoes the cache step when the packet is dropped after all: delete what we inserted, or give
 * back the reference we took (deleting the entry if that was the last one, as tc_tx would). */
static __always_inline void cache_undo(const struct sfc_config *cfg, int hash_mode, __u32 mkey,
				       struct sfc_flow_key *fkey, struct sfc_cache_entry *joined)
{
	struct sfc_cache_entry *slot;

	if (!hash_mode) {
		/* release our claim (a no-op if the slot was taken over meanwhile) */
		slot = sfc_meta_slot(cfg, mkey);
		if (slot)
			__sync_val_compare_and_swap(&slot->owner, mkey, 0);
	} else if (joined)
		sfc_cache_release(&sfc_hash_cache, fkey, joined);
	else
		bpf_map_delete_elem(&sfc_hash_cache, fkey);
}

/* Pops hdr_bytes of SFC headers (label stack or NSH) behind the L2 header. strip_l2 (NSH
 * carrying Ethernet): the L2 header goes too, so the packet starts at the inner frame.
 * Otherwise: saves the L2 header (with the innermost ethertype set to the inner packet's),
 * moves the packet start past the SFC headers and writes the L2 header back there; the copies
 * have a constant size per VLAN count so the verifier can check them.
 * Returns 0, or -1 when a helper or bounds check fails. */
static __always_inline int pop_headers(struct xdp_md *ctx, __u32 vlans, __u32 hdr_bytes,
				       __be16 inner_proto, int strip_l2)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u8 l2[SFC_L2_MAX_LEN];

	if (strip_l2)
		return bpf_xdp_adjust_head(ctx, ETH_HLEN + vlans * VLAN_HLEN + hdr_bytes) ? -1 : 0;

	switch (vlans) {
	case 0:
		if (data + ETH_HLEN > data_end)
			return -1;
		__builtin_memcpy(l2, data, ETH_HLEN);
		break;
	case 1:
		if (data + ETH_HLEN + VLAN_HLEN > data_end)
			return -1;
		__builtin_memcpy(l2, data, ETH_HLEN + VLAN_HLEN);
		break;
	default:
		if (data + ETH_HLEN + 2 * VLAN_HLEN > data_end)
			return -1;
		__builtin_memcpy(l2, data, ETH_HLEN + 2 * VLAN_HLEN);
		break;
	}

	if (bpf_xdp_adjust_head(ctx, hdr_bytes))
		return -1;

	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;

	switch (vlans) {
	case 0:
		if (data + ETH_HLEN > data_end)
			return -1;
		__builtin_memcpy(data, l2, ETH_HLEN - 2);
		*(__be16 *)(data + ETH_HLEN - 2) = inner_proto;
		break;
	case 1:
		if (data + ETH_HLEN + VLAN_HLEN > data_end)
			return -1;
		__builtin_memcpy(data, l2, ETH_HLEN + VLAN_HLEN - 2);
		*(__be16 *)(data + ETH_HLEN + VLAN_HLEN - 2) = inner_proto;
		break;
	default:
		if (data + ETH_HLEN + 2 * VLAN_HLEN > data_end)
			return -1;
		__builtin_memcpy(data, l2, ETH_HLEN + 2 * VLAN_HLEN - 2);
		*(__be16 *)(data + ETH_HLEN + 2 * VLAN_HLEN - 2) = inner_proto;
		break;
	}
	return 0;
}

/* Metadata key mode: puts the key in front of the packet for meta_mark (tc ingress), which
 * moves it to skb->mark. Host byte order: it never leaves this kernel. Returns 0 or -1. */
static __always_inline int write_meta(struct xdp_md *ctx, __u32 key)
{
	struct sfc_xdp_meta *meta;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return -1;

	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > data)
		return -1;

	meta->magic = SFC_META_MAGIC;
	meta->reserved = 0;
	meta->key = key;
	return 0;
}

SEC("xdp")
int xdp_rx(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	enum sfc_counter outcome = SFC_CNT_RX_NOT_SFC;
	struct sfc_cache_entry *joined = NULL;
	struct hdr_cursor nh = { .pos = data };
	struct sfc_pop pop;
	struct sfc_cache_entry *scratch, *e;
	struct sfc_flow_key fkey;
	struct sfc_config *cfg;
	struct ethhdr *eth;
	__u32 zero = 0, mkey = 0, seq, vlans;
	__be16 inner_proto = 0;
	int action = XDP_PASS; /* anything that is not SFC traffic is none of our business */
	int hash_mode, proto;
	__u64 now;
	__u8 sample;

	proto = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (proto == bpf_htons(ETH_P_MPLS_UC))
		pop.encap = SFC_ENCAP_MPLS;
	else if (proto == bpf_htons(ETH_P_NSH))
		pop.encap = SFC_ENCAP_NSH;
	else
		goto out;

	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	if (!cfg) {
		/* cannot happen (array map), but without the config we cannot pick a key */
		outcome = SFC_CNT_RX_ERROR;
		action = XDP_DROP;
		goto out;
	}
	/* Accepted encapsulations rule: an encapsulation this instance does not take off is not
	 * SFC traffic for it (another proxy or the host stack may own it): passed untouched,
	 * counted RX_NOT_SFC. */
	if (!(cfg->accepted_encaps & (1u << pop.encap)))
		goto out;
	hash_mode = cfg->key_mode == SFC_KEY_HEADER_HASH;

	/* From here on the packet is SFC traffic: an early exit drops it, because the VNF cannot
	 * handle the encapsulated packet and forwarding it without the proxy would skip the VNF. */
	action = XDP_DROP;

	scratch = bpf_map_lookup_elem(&sfc_rx_scratch, &zero);
	if (!scratch) {
		outcome = SFC_CNT_RX_ERROR; /* cannot happen (array map) */
		goto out;
	}
	/* Header-hash mode inserts the whole scratch entry: zeroed, no stale bytes of an earlier
	 * packet go into the map. Metadata mode takes only the labels from it (fill_entry()). */
	if (hash_mode)
		__builtin_memset(scratch, 0, sizeof(*scratch));
	pop.labels = scratch->labels;
	pop.l2_len = ETH_HLEN + vlans * VLAN_HLEN;
	pop.hdr_len = 0;
	pop.label_count = 0;
	pop.nsh_next_proto = 0;
	pop.strip_l2 = 0;
	pop.oam = 0;
	if (pop.encap == SFC_ENCAP_MPLS) {
		if (read_label_stack(&nh, data_end, &pop, &outcome) < 0)
			goto out;
		if (inner_ip(&nh, data_end, 0, &inner_proto, &outcome) < 0)
			goto out;
		pop.hdr_len = pop.label_count * SFC_MPLS_HLEN;
	} else {
		if (read_nsh(&nh, data_end, &pop, &inner_proto, &outcome) < 0)
			goto out;
	}

	if (packet_seq_next(&seq) < 0) {
		outcome = SFC_CNT_RX_ERROR; /* cannot happen (array map) */
		goto out;
	}
	/* stamped for every packet: aging needs the pop time of each entry */
	now = bpf_ktime_get_ns();
	sample = latency_sample(cfg, seq);

	/* A cache that refuses the entry (full) makes us drop the packet: we never evict cached
	 * headers whose packet is still inside the VNF to make room for this one. Entries of
	 * packets the VNF dropped are freed by the host's aging (header-hash) or taken over once
	 * older than MaxAge (metadata, claim_meta()). */
	if (hash_mode) {
		e = scratch;
		if (fill_entry(ctx, e, &pop, eth, now, sample) < 0) {
			outcome = SFC_CNT_RX_ERROR;
			goto out;
		}
		if (sfc_flow_key_build(&nh, data_end, inner_proto, &fkey) < 0) {
			/* cannot happen: inner_ip() checked the header */
			outcome = SFC_CNT_RX_TRUNCATED;
			goto out;
		}
		if (cache_hash(&fkey, e, &joined, &outcome) < 0)
			goto out;
	} else {
		mkey = meta_key(seq);
		e = claim_meta(cfg, mkey, now, &outcome);
		if (!e)
			goto out;
		if (pop.encap == SFC_ENCAP_MPLS) {
			/* MPLS: the fields go next to the labels in the scratch, then one copy of
			 * everything before the NSH buffer (measured ~10 ns cheaper than writing the
			 * slot field by field) */
			fill_entry(ctx, scratch, &pop, eth, now, sample);
			__builtin_memcpy(e, scratch, __builtin_offsetof(struct sfc_cache_entry, nsh));
		} else if (fill_entry(ctx, e, &pop, eth, now, sample) < 0) {
			/* NSH: written in place, no 344-byte build-and-copy */
			goto undo;
		}
	}

	if (pop_headers(ctx, vlans, pop.hdr_len, inner_proto, pop.strip_l2) < 0)
		goto undo;
	if (!hash_mode && write_meta(ctx, mkey) < 0)
		goto undo;

	if (pop.encap == SFC_ENCAP_MPLS) {
		sfc_count_n(SFC_CNT_LABELS_POPPED, pop.label_count);
	} else {
		sfc_count(SFC_CNT_NSH_POPPED);
		/* OAM packets are carried like any other (RFC 8300 leaves them to the SFC-aware
		 * nodes; the VNF sees only the inner packet), but counted */
		if (pop.oam)
			sfc_count(SFC_CNT_NSH_OAM);
	}
	/* Empty slot: XDP_PASS up the host stack (VNF on this host); set: XDP_REDIRECT. */
	action = bpf_redirect_map(&sfc_vnf_port, 0, XDP_PASS);
	goto out;

undo:
	/* the helper failure leaves a packet we cannot hand on: drop it and its cache entry */
	cache_undo(cfg, hash_mode, mkey, &fkey, joined);
	outcome = SFC_CNT_RX_ERROR;
	action = XDP_DROP;
out:
	sfc_count(outcome);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
