/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the Ethernet and VLAN (802.1Q, 802.1ad QinQ) cursor parsers (xdp-tools
 * parsing_helpers.h style). It knows no product type; callers turn a -1 or an ethertype into
 * their own verdicts. */
#ifndef LIB_PARSE_ETH_H
#define LIB_PARSE_ETH_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"

/* 802.1Q / 802.1ad tag: 4 bytes after the MAC addresses (not in the uapi headers). */
#ifndef VLAN_HLEN
#define VLAN_HLEN 4
#endif

/* In-band VLAN tags parsed in front of the payload (QinQ = 2). A frame with more tags ends the
 * parse on a VLAN TPID, which no module takes for IP. The L2 copies of l2_copy.h handle 0, 1
 * and 2 tags. */
#ifndef VLAN_MAX_DEPTH
#define VLAN_MAX_DEPTH 2
#endif

/* Longest L2 header the modules handle: Ethernet + VLAN_MAX_DEPTH tags. */
#define L2_MAX_LEN (ETH_HLEN + VLAN_MAX_DEPTH * VLAN_HLEN)

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

static __always_inline int proto_is_vlan(__be16 h_proto)
{
	return h_proto == bpf_htons(ETH_P_8021Q) || h_proto == bpf_htons(ETH_P_8021AD);
}

/* Ethernet header. Returns the ethertype, network byte order. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;

	if ((void *)(eth + 1) > data_end)
		return -1;

	nh->pos = eth + 1;
	*ethhdr = eth;
	return eth->h_proto; /* network byte order */
}

/* One VLAN tag. Returns the encapsulated ethertype, network byte order. */
static __always_inline int parse_vlanhdr(struct hdr_cursor *nh, void *data_end,
					 struct vlan_hdr **vlanhdr)
{
	struct vlan_hdr *vlh = nh->pos;

	if ((void *)(vlh + 1) > data_end)
		return -1;

	nh->pos = vlh + 1;
	*vlanhdr = vlh;
	return vlh->h_vlan_encapsulated_proto; /* network byte order */
}

/* Ethernet plus up to VLAN_MAX_DEPTH in-band tags. Returns the innermost ethertype (network byte
 * order; still a VLAN TPID if the packet has more tags than we parse) and the number of tags,
 * so the L2 header is ETH_HLEN + *vlans * VLAN_HLEN bytes and its last 2 bytes are the
 * innermost ethertype; -1 when the frame ends inside the header or a tag. */
static __always_inline int parse_eth_vlans(struct hdr_cursor *nh, void *data_end,
					   struct ethhdr **ethhdr, __u32 *vlans)
{
	struct vlan_hdr *vlh;
	int proto;
	__u32 i;

	*vlans = 0;
	proto = parse_ethhdr(nh, data_end, ethhdr);
	if (proto < 0)
		return -1;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (!proto_is_vlan(proto))
			break;
		proto = parse_vlanhdr(nh, data_end, &vlh);
		if (proto < 0)
			return -1;
		*vlans = i + 1;
	}
	return proto;
}

#endif /* LIB_PARSE_ETH_H */
