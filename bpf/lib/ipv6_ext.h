/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the IPv6 extension header walk (RFC 8200 section 4): from the next header
 * of the fixed IPv6 header to the upper-layer header, as the kernel's ipv6_skip_exthdr() does.
 * It knows no product type; callers turn its result into their own verdicts. */
#ifndef LIB_IPV6_EXT_H
#define LIB_IPV6_EXT_H

#include <linux/types.h>
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

/* Fragment header (RFC 8200 4.5): 8 bytes. */
#define IPV6_FRAG_HLEN 8
#define IPV6_FRAG_OFFSET_MASK 0xFFF8 /* host byte order: offset in 8-byte units, shifted by 3 */
#define IPV6_FRAG_MORE 0x0001        /* host byte order: M flag */

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
	__u8 frag;       /* enum ipv6_frag_kind */
	__u8 reserved;
	__be16 frag_off; /* fragment header offset + flags word as on the wire (0: none) */
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
	void *pos = nh->pos;
	__u8 *hdr;
	__u32 len;
	__u16 off;
	int i;

	info->ext_len = 0;
	info->frag = IPV6_NOT_FRAGMENT;
	info->reserved = 0;
	info->frag_off = 0;
	info->frag_id = 0;

	for (i = 0; i < IPV6_EXT_MAX; i++) {
		if (!ipv6_is_ext(nexthdr))
			goto done;
		hdr = pos;
		if ((void *)(hdr + IPV6_FRAG_HLEN) > data_end)
			return -1; /* every extension header is at least 8 bytes */
		if (nexthdr == IPPROTO_FRAGMENT) {
			len = IPV6_FRAG_HLEN;
			info->frag_off = *(__be16 *)(hdr + 2);
			info->frag_id = *(__be32 *)(hdr + 4);
			off = bpf_ntohs(info->frag_off) & IPV6_FRAG_OFFSET_MASK;
			info->frag = off ? IPV6_FRAG_LATER : IPV6_FRAG_FIRST;
		} else if (nexthdr == IPPROTO_AH) {
			len = ((__u32)hdr[1] + 2) * 4;
		} else {
			len = ((__u32)hdr[1] + 1) * 8;
		}
		if (pos + len > data_end)
			return -1;
		nexthdr = hdr[0];
		pos += len;
		info->ext_len += len;
		if (info->frag == IPV6_FRAG_LATER)
			goto done; /* no upper-layer header behind a later fragment */
	}
	if (ipv6_is_ext(nexthdr))
		return -1; /* more than IPV6_EXT_MAX headers */
done:
	nh->pos = pos;
	return nexthdr;
}

#endif /* LIB_IPV6_EXT_H */
