// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc_tx: tc egress program on the egress interface. Finds the headers xdp_rx cached for the
 * packet the VNF emitted and pushes them back: the label stack minus the segments this VNF
 * consumed, or the NSH header with TTL and Service Index decremented on the VNF's behalf.
 * A cache hit that xdp_rx picked as a latency sample also adds the packet's time in the VNF to
 * its chain's histogram. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"
#include "sfc_parsing.h"

/* Longest IPv4 header (IHL 15). */
#define SFC_IPV4_MAX_HLEN 60

/* Bytes that must be linear for parsing and the flow key: the longest L2 header, the longest IP
 * header and the key's L4 bytes. */
#define SFC_TX_PULL_LEN (SFC_L2_MAX_LEN + SFC_IPV4_MAX_HLEN + SFC_KEY_L4_LEN)

/* Room for the L2 header in push_buf: SFC_L2_MAX_LEN rounded up to 4 so the labels are aligned
 * (an NSH push over Ethernet uses the last ETH_HLEN bytes of it for the new outer header). */
#define SFC_PUSH_L2_ROOM ((SFC_L2_MAX_LEN + 3) & ~3)

/* new_ttl value that keeps the top entry's TTL as it is (static fallback stack). */
#define SFC_KEEP_TTL -1

/*
 * What is written in front of the packet with one bpf_skb_store_bytes() call. The L2 header
 * sits right-aligned before the labels or the NSH header, so the innermost ethertype is always
 * at SFC_PUSH_L2_ROOM - 2 and the SFC headers always start at SFC_PUSH_L2_ROOM; the store starts
 * at SFC_PUSH_L2_ROOM - l2_len. The verifier bounds start and length separately (start up to
 * SFC_PUSH_L2_ROOM - ETH_HLEN, length up to SFC_L2_MAX_LEN + the largest NSH header), so slack
 * pads the buffer to their worst-case sum (SFC_L2_MAX_LEN - ETH_HLEN more); it never reaches
 * the packet.
 */
struct push_buf {
	__u8 l2[SFC_PUSH_L2_ROOM];
	union {
		__be32 labels[SFC_MAX_LABELS]; /* network byte order */
		__u8 nsh[SFC_NSH_MAX_LEN];     /* as cached, then TTL and SI decremented */
	};
	__u8 slack[SFC_L2_MAX_LEN - ETH_HLEN];
};

/* Where tc_tx builds the headers it pushes: 288 bytes are too many for the 512-byte BPF stack
 * beside the flow key. Per-CPU, and nothing between the lookup and the store can run tc_tx
 * again on this CPU, so one slot per CPU is enough. Holds nothing from one packet to the next,
 * so it is not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct push_buf);
} sfc_tx_scratch SEC(".maps");

/* Where tc_tx copies a metadata-mode entry before releasing its slot (meta_take()): from then on
 * the slot may be reused by xdp_rx, the copy is this packet's. Per-CPU, not pinned, like
 * sfc_tx_scratch. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_cache_entry);
} sfc_tx_entry SEC(".maps");

/* Copies the first len bytes of an NSH buffer, in one of three constant sizes: an MD type 1
 * header (24 bytes) costs 4 moves instead of the buffer's 32, and no loop (a loop bounded by len
 * cost more than the whole buffer at 252 bytes). Both buffers are SFC_NSH_MAX_LEN bytes; bytes
 * past len are never stored to the packet. */
static __always_inline void copy_nsh(__u8 *dst, const __u8 *src, __u32 len)
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

/*
 * Takes the metadata-mode entry of key out of its slot: checks the slot's owner is key, copies
 * what the restore reads, then releases the slot with a compare-and-swap key -> 0. If that fails,
 * xdp_rx took the slot over (aged out) while we copied, and the copy may be torn: a miss, nothing
 * of it is pushed. The claim writes the owner before the fields, so a copy that saw any new field
 * always fails the release. The copy: the common fields, outer_src and latency_sample, then the
 * label array (MPLS) or the NSH header's nsh_len bytes (NSH; a torn nsh_len is bounded by the
 * buffer and fails the release anyway). Returns the copy (valid until this program returns), or
 * NULL for a miss.
 */
static __always_inline struct sfc_cache_entry *meta_take(const struct sfc_config *cfg, __u32 key)
{
	struct sfc_cache_entry *slot, *copy;
	__u32 zero = 0;

	slot = sfc_meta_slot(cfg, key);
	if (!slot || sfc_meta_owner(slot) != key)
		return NULL; /* freed, taken over, or never ours (a forged or stale mark) */
	copy = bpf_map_lookup_elem(&sfc_tx_entry, &zero);
	if (!copy)
		return NULL; /* cannot happen (array map) */
	if (slot->encap == SFC_ENCAP_NSH) {
		__builtin_memcpy(copy, slot, __builtin_offsetof(struct sfc_cache_entry, labels));
		__builtin_memcpy(copy->outer_src, slot->outer_src,
				 __builtin_offsetof(struct sfc_cache_entry, nsh) -
					 __builtin_offsetof(struct sfc_cache_entry, outer_src));
		copy_nsh(copy->nsh, slot->nsh, copy->nsh_len);
	} else {
		/* up to the NSH buffer (fill_entry() in xdp_rx leaves it alone for MPLS) */
		__builtin_memcpy(copy, slot, __builtin_offsetof(struct sfc_cache_entry, nsh));
	}
	if (__sync_val_compare_and_swap(&slot->owner, key, 0) != key)
		return NULL;
	return copy;
}

/* Makes the headers the key needs linear, so direct packet access sees them (a VNF's packet
 * can keep even its headers in page fragments). A failed pull is not fatal: parsing then sees
 * a short packet and counts it. */
static __always_inline void pull_headers(struct __sk_buff *skb)
{
	__u32 want = skb->len < SFC_TX_PULL_LEN ? skb->len : SFC_TX_PULL_LEN;

	if (skb->data_end - skb->data < want)
		bpf_skb_pull_data(skb, want);
}

/* Checks the IP header at nh is complete (metadata mode, which needs no key). */
static __always_inline int ip_header_ok(struct hdr_cursor *nh, void *data_end, __be16 l3_proto)
{
	struct hdr_cursor ip = *nh;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;

	if (l3_proto == bpf_htons(ETH_P_IP))
		return parse_iphdr(&ip, data_end, &iph) >= 0;
	return parse_ip6hdr(&ip, data_end, &ip6h) >= 0;
}

/* Copies the packet's L2 header right-aligned into b->l2 and sets its innermost ethertype to
 * proto (network byte order). The copies have a constant size per VLAN count so the verifier
 * can check them. Returns the L2 header's length, or -1. */
static __always_inline int copy_l2(struct push_buf *b, void *data, void *data_end, __u32 vlans,
				   __be16 proto)
{
	switch (vlans) {
	case 0:
		if (data + ETH_HLEN > data_end)
			return -1;
		__builtin_memcpy(b->l2 + SFC_PUSH_L2_ROOM - ETH_HLEN, data, ETH_HLEN);
		break;
	case 1:
		if (data + ETH_HLEN + VLAN_HLEN > data_end)
			return -1;
		__builtin_memcpy(b->l2 + SFC_PUSH_L2_ROOM - ETH_HLEN - VLAN_HLEN, data,
				 ETH_HLEN + VLAN_HLEN);
		break;
	default:
		if (data + ETH_HLEN + 2 * VLAN_HLEN > data_end)
			return -1;
		__builtin_memcpy(b->l2 + SFC_PUSH_L2_ROOM - ETH_HLEN - 2 * VLAN_HLEN, data,
				 ETH_HLEN + 2 * VLAN_HLEN);
		break;
	}
	*(__be16 *)(b->l2 + SFC_PUSH_L2_ROOM - 2) = proto;
	return ETH_HLEN + vlans * VLAN_HLEN;
}

/* Fills b with the packet's L2 header (innermost ethertype set to MPLS unicast) and
 * src[first..count) (network byte order); new_ttl, unless SFC_KEEP_TTL, replaces the TTL of the
 * new top entry. src is a map value: the caller may release it once this returns.
 * Returns the number of labels, or -1. */
static __always_inline int build_push_buf(struct push_buf *b, void *data, void *data_end,
					  __u32 vlans, const __be32 *src, __u32 first,
					  __u32 count, int new_ttl)
{
	__u32 i, idx, lse;

	if (copy_l2(b, data, data_end, vlans, bpf_htons(ETH_P_MPLS_UC)) < 0)
		return -1;

	for (i = 0; i < SFC_MAX_LABELS; i++) {
		idx = first + i;
		if (idx >= count || idx >= SFC_MAX_LABELS)
			break;
		/* keep clang from indexing src through a pointer it advanced before the check,
		 * which the verifier cannot bound */
		barrier_var(idx);
		b->labels[i] = src[idx];
	}
	if (i == 0)
		return -1;

	if (new_ttl != SFC_KEEP_TTL) {
		lse = bpf_ntohl(b->labels[0]);
		lse = (lse & ~SFC_MPLS_TTL_MASK) | ((__u32)new_ttl & SFC_MPLS_TTL_MASK);
		b->labels[0] = bpf_htonl(lse);
	}
	return i;
}

/*
 * NSH restore rule (RFC 8300 sections 2.2-2.3), done on behalf of the SFC-unaware VNF: the
 * header goes back byte for byte as xdp_rx cached it (SPI, flags, MD type 1 context, MD type 2
 * TLVs), except
 *  - TTL (6 bits over bytes 0-1) - 1. TTL <= 1 would expire: TX_TTL_EXPIRED, drop.
 *  - SI (byte 7) - 1, for the service function the VNF is. SI <= 1 would reach 0, which names
 *    no service function: TX_SI_EXHAUSTED, drop.
 * TTL is checked first: it is the loop guard, checked before anything else is done with the
 * packet (RFC 8300 2.2), so a packet failing both counts as TX_TTL_EXPIRED.
 *
 * The L2 header in front of it depends on what the VNF got (see read_nsh() in xdp_rx):
 *  next protocol | VNF emitted       | pushed in front of the VNF's packet
 *  --------------+-------------------+---------------------------------------------------------
 *  IPv4, IPv6    | L2 + IP packet    | NSH between the VNF's own L2 header (it routed the
 *                |                   | packet: its MACs and VLANs) and the IP packet; innermost
 *                |                   | ethertype set to NSH. Grows by the NSH length.
 *  Ethernet      | the inner frame   | outer Ethernet rule: a new untagged header, destination
 *                |                   | sfc_config.nsh_next_hop_mac, or when that is all zero the
 *                |                   | source of the popped frame (back to the SFF that sent
 *                |                   | it, RFC 7665), source sfc_config.egress_mac, ethertype
 *                |                   | NSH; then the NSH header. Grows by 14 + the NSH length.
 *
 * Fills b; sets *l2_len (bytes of L2 header in b) and *grow (bytes the packet grows by).
 * e is a map value: the caller may release it once this returns. Returns the NSH length, or
 * -1 with *outcome set.
 */
static __always_inline int build_nsh_buf(struct push_buf *b, void *data, void *data_end,
					 __u32 vlans, const struct sfc_config *cfg,
					 const struct sfc_cache_entry *e, __u32 *l2_len,
					 __u32 *grow, enum sfc_counter *outcome)
{
	const __u16 *hop = (const __u16 *)cfg->nsh_next_hop_mac; /* 2-byte aligned in the value */
	struct ethhdr *outer;
	__u32 hlen, word, ttl;
	int len;

	*outcome = SFC_CNT_TX_ERROR;
	hlen = e->nsh_len;
	/* xdp_rx cached 8..252 bytes; re-stated for the verifier */
	if (hlen < SFC_NSH_BASE_HLEN || hlen > SFC_NSH_MAX_HLEN)
		return -1;
	copy_nsh(b->nsh, e->nsh, hlen);

	word = bpf_ntohs(*(__be16 *)b->nsh);
	ttl = (word & SFC_NSH_TTL_MASK) >> SFC_NSH_TTL_SHIFT;
	if (ttl <= 1) {
		*outcome = SFC_CNT_TX_TTL_EXPIRED;
		return -1;
	}
	if (b->nsh[SFC_NSH_SI_OFF] <= 1) {
		*outcome = SFC_CNT_TX_SI_EXHAUSTED;
		return -1;
	}
	word = (word & ~SFC_NSH_TTL_MASK) | ((ttl - 1) << SFC_NSH_TTL_SHIFT);
	*(__be16 *)b->nsh = bpf_htons(word);
	b->nsh[SFC_NSH_SI_OFF] -= 1;

	if (e->nsh_next_proto == SFC_NSH_NP_ETHERNET) {
		outer = (struct ethhdr *)(b->l2 + SFC_PUSH_L2_ROOM - ETH_HLEN);
		if (hop[0] | hop[1] | hop[2])
			__builtin_memcpy(outer->h_dest, cfg->nsh_next_hop_mac, ETH_ALEN);
		else
			__builtin_memcpy(outer->h_dest, e->outer_src, ETH_ALEN);
		__builtin_memcpy(outer->h_source, cfg->egress_mac, ETH_ALEN);
		outer->h_proto = bpf_htons(ETH_P_NSH);
		*l2_len = ETH_HLEN;
		*grow = ETH_HLEN + hlen;
	} else {
		len = copy_l2(b, data, data_end, vlans, bpf_htons(ETH_P_NSH));
		if (len < 0)
			return -1;
		*l2_len = len;
		*grow = hlen;
	}
	return hlen;
}

/* Grows the packet at the front by grow bytes and writes the l2_len bytes of L2 header and the
 * hdr_len bytes of SFC headers in b there with ONE store. bpf_skb_change_head() works whatever
 * skb->protocol says and leaves in-band VLAN tags to the store, which rewrites the whole L2
 * header anyway. Returns 0 or -1. */
static __always_inline int push_headers(struct __sk_buff *skb, struct push_buf *b,
					__u32 l2_len, __u32 hdr_len, __u32 grow)
{
	__u32 start;

	/* re-stated bounds for the verifier (all hold already) */
	if (l2_len < ETH_HLEN || l2_len > SFC_L2_MAX_LEN || hdr_len > SFC_NSH_MAX_HLEN)
		return -1;
	/* start as a positive offset added to the buffer: the verifier refuses "pointer minus
	 * register", which clang emits for b->l2 + ROOM - l2_len */
	start = SFC_PUSH_L2_ROOM - l2_len;
	barrier_var(start);

	if (bpf_skb_change_head(skb, grow, 0))
		return -1;
	if (bpf_skb_store_bytes(skb, 0, (__u8 *)b + start, l2_len + hdr_len, 0))
		return -1;
	return 0;
}

/* Pushes the n labels build_push_buf() put in b behind the packet's L2 header. */
static __always_inline int push_stack(struct __sk_buff *skb, struct push_buf *b, __u32 vlans,
				      __u32 n)
{
	return push_headers(skb, b, ETH_HLEN + vlans * VLAN_HLEN, n * SFC_MPLS_HLEN,
			    n * SFC_MPLS_HLEN);
}

/* Bucket of a VNF latency histogram for ns: floor(log2(ns)), capped at the last bucket; 0 ns
 * goes to bucket 0. A binary search over shifts (6 compares, no loop): BPF v1 has no count
 * leading zeros instruction. */
static __always_inline __u32 latency_bucket(__u64 ns)
{
	__u32 b = 0;

	if (ns >> 32) {
		b += 32;
		ns >>= 32;
	}
	if (ns >> 16) {
		b += 16;
		ns >>= 16;
	}
	if (ns >> 8) {
		b += 8;
		ns >>= 8;
	}
	if (ns >> 4) {
		b += 4;
		ns >>= 4;
	}
	if (ns >> 2) {
		b += 2;
		ns >>= 2;
	}
	if (ns >> 1)
		b += 1;
	return b < SFC_LAT_BUCKETS - 1 ? b : SFC_LAT_BUCKETS - 1;
}

/*
 * Adds the time the packet spent in the VNF (xdp_rx's pop to now) to its chain's histogram.
 * Called once per cache HIT of a sampled entry (latency_sample, see xdp_rx), before anything
 * decides the packet's fate, so every sampled hit counts: restored, restored-last, TTL expired,
 * SI exhausted, GSO and helper errors alike - the time in the VNF is known for all of them, and
 * the histogram then counts exactly the sampled packets that came back from the VNF with their
 * headers still cached. Misses have no pop time and do not count. The chain is the popped top
 * label's value (MPLS) or the SPI (NSH). An entry stamped later than now (another CPU's clock
 * read racing this one) counts as 0 ns.
 *
 * A chain seen for the first time is inserted zeroed (BPF_NOEXIST: when another CPU inserts it
 * first, the update fails and the lookup below finds that CPU's entry) and looked up again. If
 * the map refuses or the LRU evicts the chain in between, the sample is lost: a histogram is
 * a statistic, the packet is not affected.
 */
static __always_inline void record_latency(const struct sfc_cache_entry *e)
{
	struct sfc_chain_key key = { .encap = e->encap };
	struct sfc_latency_hist *hist;
	__u64 now = bpf_ktime_get_ns(), ingress = e->ingress_ns;
	__u32 b;

	if (e->encap == SFC_ENCAP_NSH)
		/* SPI: the top 24 bits of the service path header (bytes 4-7) */
		key.chain = bpf_ntohl(*(const __be32 *)&e->nsh[4]) >> 8;
	else
		key.chain = bpf_ntohl(e->labels[0]) >> SFC_MPLS_LABEL_SHIFT;

	hist = bpf_map_lookup_elem(&sfc_latency, &key);
	if (!hist) {
		struct sfc_latency_hist zero = {};

		bpf_map_update_elem(&sfc_latency, &key, &zero, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(&sfc_latency, &key);
		if (!hist)
			return;
	}
	b = latency_bucket(now > ingress ? now - ingress : 0);
	hist->buckets[b] += 1; /* this CPU's histogram: no atomics needed */
}

/* Gives back the reference this packet holds on its cache entry. Metadata mode: nothing left to
 * give back, meta_take() released the slot already. */
static __always_inline void release(int hash_mode, struct sfc_flow_key *fkey,
				    struct sfc_cache_entry *e)
{
	if (hash_mode)
		sfc_cache_release(&sfc_hash_cache, fkey, e);
}

SEC("tc")
int tc_tx(struct __sk_buff *skb)
{
	enum sfc_counter outcome = SFC_CNT_TX_NOT_IP;
	struct sfc_cache_entry *e = NULL;
	struct sfc_flow_key fkey;
	struct sfc_config *cfg;
	struct hdr_cursor nh;
	struct push_buf *buf;
	struct ethhdr *eth;
	void *data, *data_end;
	__u32 zero = 0, mark = 0, vlans, count, first, top_ttl, l2_len, grow;
	int action = TC_ACT_OK; /* what is not ours to restore leaves as the VNF sent it */
	int hash_mode, proto, n;

	pull_headers(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	nh.pos = data;

	proto = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		goto out; /* ARP, ND over non-IP, LLDP, ...: untouched */

	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	if (!cfg) {
		/* cannot happen (array map); without a config we cannot restore: pass */
		outcome = SFC_CNT_TX_MISS_PASS;
		goto out;
	}
	hash_mode = cfg->key_mode == SFC_KEY_HEADER_HASH;

	buf = bpf_map_lookup_elem(&sfc_tx_scratch, &zero);
	if (!buf)
		goto error; /* cannot happen (array map) */

	if (hash_mode) {
		if (sfc_flow_key_build(&nh, data_end, proto, &fkey) < 0)
			goto malformed;
		e = bpf_map_lookup_elem(&sfc_hash_cache, &fkey);
	} else {
		if (!ip_header_ok(&nh, data_end, proto))
			goto malformed;
		mark = skb->mark;
		if (mark & SFC_MARK_FLAG) {
			e = meta_take(cfg, mark);
			skb->mark = 0; /* the key is spent: do not hand it to the next hop */
		}
	}
	if (!e)
		goto miss;
	if (e->latency_sample)
		record_latency(e);

	if (skb->gso_size) {
		/* The kernel has no MPLS GSO, and the skb's GSO state describes the VNF's IP packet,
		 * not headers pushed in front of it: a GSO skb would lose the labels or NSH header at
		 * segmentation. The host turns GRO off on the ingress so this does not happen. */
		outcome = SFC_CNT_TX_GSO;
		action = TC_ACT_SHOT;
		release(hash_mode, &fkey, e);
		goto out;
	}

	/* xdp_rx caches either encapsulation in the one cache; the entry says which it was */
	if (e->encap == SFC_ENCAP_NSH) {
		n = build_nsh_buf(buf, data, data_end, vlans, cfg, e, &l2_len, &grow, &outcome);
		/* released whatever the verdict: a TTL/SI drop ends the packet's use of the entry */
		release(hash_mode, &fkey, e);
		if (n < 0) {
			/* outcome says why: TTL expired, SI exhausted, or a malformed entry */
			action = TC_ACT_SHOT;
			goto out;
		}
		if (push_headers(skb, buf, l2_len, n, grow) < 0)
			goto error;
		outcome = SFC_CNT_TX_RESTORED;
		sfc_count(SFC_CNT_NSH_RESTORED);
		goto out;
	}

	count = e->label_count;
	first = cfg->consumed_segments;
	if (first >= count) {
		/* the VNF consumed the last segment: the packet leaves as plain IP */
		outcome = SFC_CNT_TX_RESTORED_LAST;
		release(hash_mode, &fkey, e);
		goto out;
	}

	top_ttl = bpf_ntohl(e->labels[0]) & SFC_MPLS_TTL_MASK;
	if (top_ttl <= 1) {
		/* the popped top entry arrived with TTL 1: forwarding it would loop forever */
		outcome = SFC_CNT_TX_TTL_EXPIRED;
		action = TC_ACT_SHOT;
		release(hash_mode, &fkey, e);
		goto out;
	}

	n = build_push_buf(buf, data, data_end, vlans, e->labels, first, count, top_ttl - 1);
	release(hash_mode, &fkey, e);
	if (n < 0 || push_stack(skb, buf, vlans, n) < 0)
		goto error;
	outcome = SFC_CNT_TX_RESTORED;
	sfc_count_n(SFC_CNT_LABELS_PUSHED, n);
	goto out;

miss:
	switch (cfg->miss_policy) {
	case SFC_MISS_PASS:
		outcome = SFC_CNT_TX_MISS_PASS;
		goto out;
	case SFC_MISS_STATIC:
		outcome = SFC_CNT_TX_MISS_STATIC;
		count = cfg->static_label_count;
		if (!count)
			goto out; /* no fallback stack configured: sent as emitted */
		if (skb->gso_size) {
			/* no MPLS GSO, as above */
			outcome = SFC_CNT_TX_GSO;
			action = TC_ACT_SHOT;
			goto out;
		}
		n = build_push_buf(buf, data, data_end, vlans, cfg->static_labels, 0, count,
				   SFC_KEEP_TTL);
		if (n < 0 || push_stack(skb, buf, vlans, n) < 0)
			goto error;
		sfc_count_n(SFC_CNT_LABELS_PUSHED, n);
		goto out;
	default:
		/* nowhere to send it: without its headers the packet would leave the chain */
		outcome = SFC_CNT_TX_MISS_DROP;
		action = TC_ACT_SHOT;
		goto out;
	}

malformed:
	/* the VNF emitted a truncated IP header: nothing sane to key or forward */
	outcome = SFC_CNT_TX_MALFORMED;
	action = TC_ACT_SHOT;
	goto out;
error:
	/* a helper failed half-way: the packet may be half-built, so it must not leave */
	outcome = SFC_CNT_TX_ERROR;
	action = TC_ACT_SHOT;
out:
	sfc_count(outcome);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
