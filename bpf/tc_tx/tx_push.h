/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains how tc_tx puts headers back: the push buffer, the label stack and NSH
 * header built into it (with the TTL and Service Index rules), and the one store that writes them
 * in front of the packet. */
#ifndef TC_TX_PUSH_H
#define TC_TX_PUSH_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "l2_copy.h"
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "tx_take.h"

/* An NSH TTL of 0 decremented (RFC 8300 2.2): the 6-bit field wraps to its maximum. */
#define SFC_NSH_TTL_WRAP 64

/* Room for the L2 header in push_buf: L2_MAX_LEN rounded up to 8 so the headers behind it are
 * 8-byte aligned, as in the cache entry (the SRv6 header set is copied into it 8 bytes a move,
 * sfc_copy_srv6_hdr()); an NSH push over Ethernet uses the last ETH_HLEN bytes of it for the new
 * outer header. */
#define SFC_PUSH_L2_ROOM ((L2_MAX_LEN + 7) & ~7)

/* new_ttl value that keeps the top entry's TTL as it is (static fallback stack). */
#define SFC_KEEP_TTL -1

/*
 * What is written in front of the packet with one bpf_skb_store_bytes() call. The L2 header
 * sits right-aligned before the labels or the NSH header, so the innermost ethertype is always
 * at SFC_PUSH_L2_ROOM - 2 and the SFC headers always start at SFC_PUSH_L2_ROOM; the store starts
 * at SFC_PUSH_L2_ROOM - l2_len. The verifier bounds start and length separately (start up to
 * SFC_PUSH_L2_ROOM - ETH_HLEN, length up to L2_MAX_LEN + the largest SRv6 header set), so slack
 * pads the buffer to their worst-case sum (L2_MAX_LEN - ETH_HLEN more); it never reaches
 * the packet.
 */
struct push_buf {
	__u8 l2[SFC_PUSH_L2_ROOM];
	/* the cache entry's header union: labels as cached (the top one's TTL decremented), NSH
	 * with TTL and SI decremented, SRv6 with hop limit and payload length set */
	union sfc_cache_hdr hdr;
	__u8 slack[L2_MAX_LEN - ETH_HLEN];
};
_Static_assert(__builtin_offsetof(struct push_buf, hdr) % 8 == 0,
	       "push_buf.hdr must stay 8-byte aligned (the take copies into it 8 bytes a move)");

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

/* Copies the packet's L2 header right-aligned into b->l2 and sets its innermost ethertype to
 * proto (network byte order). Returns the L2 header's length, or -1. */
static __always_inline int copy_l2(struct push_buf *b, void *data, void *data_end, __u32 vlans,
				   __be16 proto)
{
	if (l2_load(b->l2 + SFC_PUSH_L2_ROOM, data, data_end, vlans))
		return -1;
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
		b->hdr.labels[i] = src[idx];
	}
	if (i == 0)
		return -1;

	if (new_ttl != SFC_KEEP_TTL) {
		lse = bpf_ntohl(b->hdr.labels[0]);
		lse = (lse & ~SFC_MPLS_TTL_MASK) | ((__u32)new_ttl & SFC_MPLS_TTL_MASK);
		b->hdr.labels[0] = bpf_htonl(lse);
	}
	return i;
}

/*
 * The L2 header in front of headers of hlen bytes that carry either the VNF's IP packet or an
 * inner Ethernet frame (NSH next protocol Ethernet, SRv6 next header 143). new_outer (an inner
 * frame): a new untagged outer header, destination sfc_config.nsh_next_hop_mac, or when that is
 * all zero the source of the popped frame (back to the node that sent it, RFC 7665), source
 * sfc_config.egress_mac, ethertype proto; otherwise the VNF's own L2 header with its innermost
 * ethertype set to proto. Sets *l2_len and *grow (bytes the packet grows by). Returns hlen, or -1.
 */
static __always_inline int put_l2(struct push_buf *b, void *data, void *data_end, __u32 vlans,
				  const struct sfc_config *cfg, const struct sfc_cache_entry *e,
				  int new_outer, __be16 proto, __u32 hlen, __u32 *l2_len, __u32 *grow)
{
	const __u16 *hop = (const __u16 *)cfg->nsh_next_hop_mac; /* 2-byte aligned in the value */
	struct ethhdr *outer;
	int len;

	if (new_outer) {
		outer = (struct ethhdr *)(b->l2 + SFC_PUSH_L2_ROOM - ETH_HLEN);
		if (hop[0] | hop[1] | hop[2])
			__builtin_memcpy(outer->h_dest, cfg->nsh_next_hop_mac, ETH_ALEN);
		else
			__builtin_memcpy(outer->h_dest, e->outer_src, ETH_ALEN);
		__builtin_memcpy(outer->h_source, cfg->egress_mac, ETH_ALEN);
		outer->h_proto = proto;
		*l2_len = ETH_HLEN;
		*grow = ETH_HLEN + hlen;
		return hlen;
	}
	len = copy_l2(b, data, data_end, vlans, proto);
	if (len < 0)
		return -1;
	*l2_len = len;
	*grow = hlen;
	return hlen;
}

/*
 * NSH restore rule (RFC 8300 sections 2.2-2.3), done on behalf of the SFC-unaware VNF: the
 * header goes back byte for byte as xdp_rx cached it (SPI, flags, MD type 1 context, MD type 2
 * TLVs), except
 *  - TTL (6 bits over bytes 0-1) - 1, where 0 - 1 gives 63 (RFC 8300 2.2: "Decrementing by 1
 *    from an incoming value of 0 shall result in a TTL value of 63"). A TTL of 1 would reach 0:
 *    TX_TTL_EXPIRED, drop.
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
	__u32 hlen, word, ttl;

	*outcome = SFC_CNT_TX_ERROR;
	hlen = e->nsh_len;
	/* xdp_rx cached 8..252 bytes; re-stated for the verifier */
	if (hlen < SFC_NSH_BASE_HLEN || hlen > SFC_NSH_MAX_HLEN)
		return -1;
	sfc_copy_nsh(b->hdr.nsh, e->hdr.nsh, hlen);

	word = bpf_ntohs(*(__be16 *)b->hdr.nsh);
	ttl = (word & SFC_NSH_TTL_MASK) >> SFC_NSH_TTL_SHIFT;
	if (ttl == 1) {
		*outcome = SFC_CNT_TX_TTL_EXPIRED;
		return -1;
	}
	ttl = ttl ? ttl : SFC_NSH_TTL_WRAP; /* 0 - 1 = 63 */
	if (b->hdr.nsh[SFC_NSH_SI_OFF] <= 1) {
		*outcome = SFC_CNT_TX_SI_EXHAUSTED;
		return -1;
	}
	word = (word & ~SFC_NSH_TTL_MASK) | ((ttl - 1) << SFC_NSH_TTL_SHIFT);
	*(__be16 *)b->hdr.nsh = bpf_htons(word);
	b->hdr.nsh[SFC_NSH_SI_OFF] -= 1;

	return put_l2(b, data, data_end, vlans, cfg, e, e->nsh_next_proto == SFC_NSH_NP_ETHERNET,
		      bpf_htons(ETH_P_NSH), hlen, l2_len, grow);
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
	if (l2_len < ETH_HLEN || l2_len > L2_MAX_LEN || hdr_len > SFC_SRV6_MAX_LEN)
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

#endif /* TC_TX_PUSH_H */
