/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the IPv6 extension header walk (RFC 8200 section 4): from the next header
 * of the fixed IPv6 header to the upper-layer header, as the kernel's ipv6_skip_exthdr() does.
 * It knows no product type; callers turn its result into their own verdicts. */
#ifndef LIB_IPV6_EXT_H
#define LIB_IPV6_EXT_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"

/* Extension headers walked at most. RFC 8200 4.1 allows each header once (destination options
 * twice), so a legitimate chain has at most 6 of the headers below; a longer chain is refused
 * rather than walked without end (the kernel bounds its walk by the packet only). */
#ifndef IPV6_EXT_MAX
#define IPV6_EXT_MAX 8
#endif

/* Furthest offset the global walks below start from. The verifier learns nothing from a bounds
 * check on a packet pointer that could lie past 64 KiB, so the start offset, plus the most a
 * chain can add (IPV6_EXT_MAX headers of 2 KiB), must stay below that. */
#define IPV6_EXT_MAX_START 0x3FFF

/* Fragment header (RFC 8200 4.5): 8 bytes. */
#define IPV6_FRAG_HLEN 8
#define IPV6_FRAG_OFFSET_MASK 0xFFF8 /* host byte order: offset in 8-byte units, shifted by 3 */
#define IPV6_FRAG_MORE 0x0001        /* host byte order: M flag */

/* The first 8 bytes of every extension header, laid out as the fragment header (RFC 8200 4.5).
 * The others keep their length in the second byte: (Hdr Ext Len + 1) * 8 bytes in all, AH
 * (Payload Len + 2) * 4 (RFC 4302). */
struct ipv6_ext_first8 {
	__u8 nexthdr;
	__u8 len;        /* Hdr Ext Len (AH: Payload Len); the fragment header's reserved byte */
	__be16 frag_off; /* fragment header: offset and flags, network byte order */
	__be32 frag_id;  /* fragment header: identification, network byte order */
};

/* Where the walk ended. */
enum ipv6_frag_kind {
	IPV6_NOT_FRAGMENT = 0, /* no fragment header */
	IPV6_FRAG_FIRST = 1,   /* fragment header with offset 0: the upper-layer header follows */
	IPV6_FRAG_LATER = 2,   /* offset > 0: what follows is the middle of the datagram */
};

/* What the walk found besides the upper-layer protocol. */
struct ipv6_ext_info {
	__u16 ext_len;   /* bytes of extension headers walked (the upper layer starts this far
			  * behind the fixed header) */
	__u16 frag_data; /* fragments: bytes from the fixed header's end to the end of the
			  * fragment header, where the fragmentable part starts; 0: none */
	__u16 unfrag_len; /* bytes of the unfragmentable extension headers (RFC 8200 4.5: up to
			   * the last hop-by-hop or routing header): where a datagram's fragmentable
			   * part starts once it is whole */
	__u8 frag;       /* enum ipv6_frag_kind */
	__u8 part_next;  /* the first header of the fragmentable part: a fragment header's next
			  * header, else the one after the unfragmentable headers; the same for every
			  * fragment of a datagram and for the datagram whole */
	__be16 frag_off; /* fragment header offset + flags word as on the wire (0: none) */
	__u16 reserved;
	__be32 frag_id;  /* fragment header identification as on the wire (0: none) */
};

/* Whether nexthdr is an extension header the walk steps over (the kernel's ipv6_ext_hdr(),
 * without "no next header", which ends the chain like an upper-layer protocol). ESP (50) is not
 * one: what follows it is encrypted, so it is the upper layer as far as anyone on path knows. */
static __always_inline int ipv6_is_ext(__u8 nexthdr)
{
	return nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING ||
	       nexthdr == IPPROTO_FRAGMENT || nexthdr == IPPROTO_DSTOPTS || nexthdr == IPPROTO_AH;
}

/*
 * Walks the extension headers that start at nh (right after the fixed IPv6 header, whose next
 * header is nexthdr) and returns the upper-layer protocol, with nh moved to its header.
 *  - Hop-by-hop, routing and destination options: (Hdr Ext Len + 1) * 8 bytes; AH:
 *    (Payload Len + 2) * 4 bytes (RFC 4302).
 *  - Fragment: a first fragment (offset 0) continues the walk; a later one stops there and
 *    returns the fragment header's next header, nh on the fragment's data, which holds no
 *    upper-layer header (info->frag says which).
 * Returns -1 when a header runs past data_end or the chain has more than IPV6_EXT_MAX headers
 * (nh is then left where it was). Headers beyond the IPv6 payload length are the caller's to
 * judge: info->ext_len says how far the walk went.
 */
static __always_inline int parse_ipv6_ext(struct hdr_cursor *nh, void *data_end, __u8 nexthdr,
					  struct ipv6_ext_info *info)
{
	struct ipv6_ext_first8 *h;
	void *pos = nh->pos;
	__u32 len;
	__u16 off;
	int i, is_frag, unfrag;

	info->ext_len = 0;
	info->frag_data = 0;
	info->unfrag_len = 0;
	info->frag = IPV6_NOT_FRAGMENT;
	info->part_next = nexthdr;
	info->reserved = 0;
	info->frag_off = 0;
	info->frag_id = 0;

	for (i = 0; i < IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext(nexthdr))
			goto done;
		h = pos;
		if ((void *)(h + 1) > data_end)
			return -1; /* every extension header is at least 8 bytes */
		is_frag = nexthdr == IPPROTO_FRAGMENT;
		if (is_frag) {
			len = IPV6_FRAG_HLEN;
			info->frag_off = h->frag_off;
			info->frag_id = h->frag_id;
			off = bpf_ntohs(h->frag_off) & IPV6_FRAG_OFFSET_MASK;
			info->frag = off ? IPV6_FRAG_LATER : IPV6_FRAG_FIRST;
		} else if (nexthdr == IPPROTO_AH) {
			len = ((__u32)h->len + 2) * 4;
		} else {
			len = ((__u32)h->len + 1) * 8;
		}
		unfrag = !is_frag && info->frag == IPV6_NOT_FRAGMENT &&
			 (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING);
		nexthdr = h->nexthdr;
		if (pos + len > data_end)
			return -1;
		pos += len;
		info->ext_len += len;
		if (is_frag) {
			info->frag_data = info->ext_len;
			info->part_next = nexthdr;
		} else if (unfrag) {
			info->unfrag_len = info->ext_len;
			info->part_next = nexthdr;
		}
		if (info->frag == IPV6_FRAG_LATER)
			goto done; /* no upper-layer header behind a later fragment */
	}
	if (ipv6_is_ext(nexthdr))
		return -1; /* more than IPV6_EXT_MAX headers */
done:
	nh->pos = pos;
	return nexthdr;
}

/*
 * parse_ipv6_ext() on the packet of an XDP or a tc context, from offset off (right after the
 * fixed IPv6 header, whose next header is nexthdr): the upper-layer protocol, or -1; info as
 * above, the upper layer at off + info->ext_len. Global functions on purpose: each layout of the
 * chain refines what the verifier knows of the packet differently, so inline the walk multiplies
 * the states of everything after it; here it is checked once and the caller sees one result.
 */
__attribute__((noinline)) int ipv6_ext_xdp(struct xdp_md *ctx, __u32 off, __u32 nexthdr,
					   struct ipv6_ext_info *info)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh;

	if (!info || off > IPV6_EXT_MAX_START)
		return -1;
	nh.pos = data + off;
	return parse_ipv6_ext(&nh, data_end, nexthdr, info);
}

__attribute__((noinline)) int ipv6_ext_skb(struct __sk_buff *skb, __u32 off, __u32 nexthdr,
					   struct ipv6_ext_info *info)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct hdr_cursor nh;

	if (!info || off > IPV6_EXT_MAX_START)
		return -1;
	nh.pos = data + off;
	return parse_ipv6_ext(&nh, data_end, nexthdr, info);
}

#endif /* LIB_IPV6_EXT_H */
