// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc_tx: tc egress program on the egress interface. Finds the label stack xdp_rx cached for the
 * packet the VNF emitted and pushes it back, minus the segments this VNF consumed. */
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

/* Room for the L2 header in push_buf: SFC_L2_MAX_LEN rounded up to 4 so the labels are aligned. */
#define SFC_PUSH_L2_ROOM ((SFC_L2_MAX_LEN + 3) & ~3)

/* new_ttl value that keeps the top entry's TTL as it is (static fallback stack). */
#define SFC_KEEP_TTL -1

/*
 * What is written in front of the IP packet with one bpf_skb_store_bytes() call. The L2 header
 * sits right-aligned before the labels, so the innermost ethertype is always at
 * SFC_PUSH_L2_ROOM - 2 and the labels always start at SFC_PUSH_L2_ROOM; the store starts at
 * SFC_PUSH_L2_ROOM - l2_len. The verifier bounds start and length separately (start up to
 * SFC_PUSH_L2_ROOM - ETH_HLEN, length up to SFC_L2_MAX_LEN + all labels), so slack pads the
 * buffer to their worst-case sum (SFC_L2_MAX_LEN - ETH_HLEN more); it never reaches the packet.
 */
struct push_buf {
	__u8 l2[SFC_PUSH_L2_ROOM];
	__be32 labels[SFC_MAX_LABELS]; /* network byte order */
	__u8 slack[SFC_L2_MAX_LEN - ETH_HLEN];
};

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

/* Fills b with the packet's L2 header (innermost ethertype set to MPLS unicast) and
 * src[first..count) (network byte order); new_ttl, unless SFC_KEEP_TTL, replaces the TTL of the
 * new top entry. src is a map value: the caller may release it once this returns.
 * Returns the number of labels, or -1. */
static __always_inline int build_push_buf(struct push_buf *b, void *data, void *data_end,
					  __u32 vlans, const __be32 *src, __u32 first,
					  __u32 count, int new_ttl)
{
	__u32 i, idx, lse;

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
	*(__be16 *)(b->l2 + SFC_PUSH_L2_ROOM - 2) = bpf_htons(ETH_P_MPLS_UC);

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

/* Grows the packet at the front by n labels and writes L2 header + labels with ONE store.
 * bpf_skb_change_head() works whatever skb->protocol says and leaves in-band VLAN tags to the
 * store, which rewrites the whole L2 header anyway. Returns 0 or -1. */
static __always_inline int push_stack(struct __sk_buff *skb, struct push_buf *b, __u32 vlans,
				      __u32 n)
{
	__u32 l2_len, len, start;

	/* re-stated bounds for the verifier (both hold already) */
	if (vlans > SFC_MAX_VLANS || n > SFC_MAX_LABELS)
		return -1;
	l2_len = ETH_HLEN + vlans * VLAN_HLEN;
	len = l2_len + n * SFC_MPLS_HLEN;
	/* start as a positive offset added to the buffer: the verifier refuses "stack pointer
	 * minus register", which clang emits for b->l2 + ROOM - l2_len */
	start = SFC_PUSH_L2_ROOM - l2_len;
	barrier_var(start);

	if (bpf_skb_change_head(skb, n * SFC_MPLS_HLEN, 0))
		return -1;
	if (bpf_skb_store_bytes(skb, 0, (__u8 *)b + start, len, 0))
		return -1;
	return 0;
}

/* Gives back the reference this packet holds on its cache entry. */
static __always_inline void release(int hash_mode, struct sfc_flow_key *fkey, __u32 *mark,
				    struct sfc_cache_entry *e)
{
	if (hash_mode)
		sfc_cache_release(&sfc_hash_cache, fkey, e);
	else
		sfc_cache_release(&sfc_meta_cache, mark, e);
}

SEC("tc")
int tc_tx(struct __sk_buff *skb)
{
	enum sfc_counter outcome = SFC_CNT_TX_NOT_IP;
	struct sfc_cache_entry *e = NULL;
	struct sfc_flow_key fkey;
	struct sfc_config *cfg;
	struct hdr_cursor nh;
	struct push_buf buf;
	struct ethhdr *eth;
	void *data, *data_end;
	__u32 zero = 0, mark = 0, vlans, count, first, top_ttl;
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

	if (hash_mode) {
		if (sfc_flow_key_build(&nh, data_end, proto, &fkey) < 0)
			goto malformed;
		e = bpf_map_lookup_elem(&sfc_hash_cache, &fkey);
	} else {
		if (!ip_header_ok(&nh, data_end, proto))
			goto malformed;
		mark = skb->mark;
		if (mark & SFC_MARK_FLAG) {
			e = bpf_map_lookup_elem(&sfc_meta_cache, &mark);
			skb->mark = 0; /* the key is spent: do not hand it to the next hop */
		}
	}
	if (!e)
		goto miss;

	if (skb->gso_size) {
		/* The kernel has no MPLS GSO: a GSO skb with labels would be dropped at segmentation
		 * anyway. The host turns GRO off on the ingress so this does not happen. */
		outcome = SFC_CNT_TX_GSO;
		action = TC_ACT_SHOT;
		release(hash_mode, &fkey, &mark, e);
		goto out;
	}

	count = e->label_count;
	first = cfg->consumed_segments;
	if (first >= count) {
		/* the VNF consumed the last segment: the packet leaves as plain IP */
		outcome = SFC_CNT_TX_RESTORED_LAST;
		release(hash_mode, &fkey, &mark, e);
		goto out;
	}

	top_ttl = bpf_ntohl(e->labels[0]) & SFC_MPLS_TTL_MASK;
	if (top_ttl <= 1) {
		/* the popped top entry arrived with TTL 1: forwarding it would loop forever */
		outcome = SFC_CNT_TX_TTL_EXPIRED;
		action = TC_ACT_SHOT;
		release(hash_mode, &fkey, &mark, e);
		goto out;
	}

	n = build_push_buf(&buf, data, data_end, vlans, e->labels, first, count, top_ttl - 1);
	release(hash_mode, &fkey, &mark, e);
	if (n < 0 || push_stack(skb, &buf, vlans, n) < 0)
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
		n = build_push_buf(&buf, data, data_end, vlans, cfg->static_labels, 0, count,
				   SFC_KEEP_TTL);
		if (n < 0 || push_stack(skb, &buf, vlans, n) < 0)
			goto error;
		sfc_count_n(SFC_CNT_LABELS_PUSHED, n);
		goto out;
	default:
		/* nowhere to send it: without its stack the packet would leave the chain */
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
