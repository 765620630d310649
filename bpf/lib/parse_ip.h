/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the cursor parsers of the fixed IP headers: IPv4 with its options, the
 * fixed IPv6 header (ipv6_ext.h walks the extension headers behind it). It knows no product
 * type. */
#ifndef LIB_PARSE_IP_H
#define LIB_PARSE_IP_H

#include <linux/types.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include "hdr_cursor.h"

#define IPV4_MIN_HLEN 20
#define IPV6_HLEN 40

/* IPv4 flags and fragment offset (frag_off, host byte order). */
#define IPV4_DF 0x4000
#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1FFF

/* IPv4 header including its options. Returns the protocol; -1 also for IHL < 5, so a caller
 * never reads a header shorter than the fixed 20 bytes. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	__u32 hdrsize;

	if ((void *)(iph + 1) > data_end)
		return -1;

	hdrsize = iph->ihl * 4;
	if (hdrsize < IPV4_MIN_HLEN)
		return -1;
	if (nh->pos + hdrsize > data_end)
		return -1;

	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* Fixed IPv6 header (extension headers are left to the caller). Returns the next header. */
static __always_inline int parse_ip6hdr(struct hdr_cursor *nh, void *data_end,
					struct ipv6hdr **ip6hdr)
{
	struct ipv6hdr *ip6h = nh->pos;

	if ((void *)(ip6h + 1) > data_end)
		return -1;

	nh->pos = ip6h + 1;
	*ip6hdr = ip6h;
	return ip6h->nexthdr;
}

#endif /* LIB_PARSE_IP_H */
