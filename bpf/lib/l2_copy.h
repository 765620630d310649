/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the copies of a frame's L2 header (Ethernet + 0..VLAN_MAX_DEPTH tags) out
 * of and back into the packet, around a bpf_xdp_adjust_head() that moves the packet's start. It
 * knows no product type. Each copy has a constant size per tag count: the verifier checks a
 * packet access by its constant bounds, not by a length computed from the tag count. l2_load()
 * and l2_store() check the packet bytes they touch for exactly that size; l2_move() leaves the
 * check to its caller. */
#ifndef LIB_L2_COPY_H
#define LIB_L2_COPY_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include "parse_eth.h"

/* Copies the L2 header of vlans tags at pkt (packet data ending at pkt_end) into the bytes right
 * before buf_end (at least L2_MAX_LEN of them): right-aligned, so what goes behind the header in
 * the buffer (headers to push) can start at buf_end whatever the tag count. Returns 0, or -1
 * when the packet ends inside the header. */
static __always_inline int l2_load(void *buf_end, void *pkt, void *pkt_end, __u32 vlans)
{
	switch (vlans) {
	case 0:
		if (pkt + ETH_HLEN > pkt_end)
			return -1;
		__builtin_memcpy(buf_end - ETH_HLEN, pkt, ETH_HLEN);
		break;
	case 1:
		if (pkt + ETH_HLEN + VLAN_HLEN > pkt_end)
			return -1;
		__builtin_memcpy(buf_end - ETH_HLEN - VLAN_HLEN, pkt, ETH_HLEN + VLAN_HLEN);
		break;
	default:
		if (pkt + ETH_HLEN + 2 * VLAN_HLEN > pkt_end)
			return -1;
		__builtin_memcpy(buf_end - ETH_HLEN - 2 * VLAN_HLEN, pkt, ETH_HLEN + 2 * VLAN_HLEN);
		break;
	}
	return 0;
}

/* Writes the L2 header of vlans tags that l2_load() put before buf_end back at pkt, with its
 * innermost ethertype set to proto (network byte order): the protocol of what now follows it.
 * Returns 0, or -1 when the packet ends inside it. */
static __always_inline int l2_store(void *pkt, void *pkt_end, const void *buf_end, __u32 vlans,
				    __be16 proto)
{
	switch (vlans) {
	case 0:
		if (pkt + ETH_HLEN > pkt_end)
			return -1;
		__builtin_memcpy(pkt, buf_end - ETH_HLEN, ETH_HLEN - 2);
		*(__be16 *)(pkt + ETH_HLEN - 2) = proto;
		break;
	case 1:
		if (pkt + ETH_HLEN + VLAN_HLEN > pkt_end)
			return -1;
		__builtin_memcpy(pkt, buf_end - ETH_HLEN - VLAN_HLEN, ETH_HLEN + VLAN_HLEN - 2);
		*(__be16 *)(pkt + ETH_HLEN + VLAN_HLEN - 2) = proto;
		break;
	default:
		if (pkt + ETH_HLEN + 2 * VLAN_HLEN > pkt_end)
			return -1;
		__builtin_memcpy(pkt, buf_end - ETH_HLEN - 2 * VLAN_HLEN, ETH_HLEN + 2 * VLAN_HLEN - 2);
		*(__be16 *)(pkt + ETH_HLEN + 2 * VLAN_HLEN - 2) = proto;
		break;
	}
	return 0;
}

/* Moves the L2 header of vlans tags from src to dst inside one packet (the two may overlap: the
 * header moves by a few bytes around new room in front of the payload), through buf (at least
 * L2_MAX_LEN bytes). The caller has checked that both lie inside the packet. */
static __always_inline void l2_move(void *dst, const void *src, __u32 vlans, __u8 *buf)
{
	switch (vlans) {
	case 0:
		__builtin_memcpy(buf, src, ETH_HLEN);
		__builtin_memcpy(dst, buf, ETH_HLEN);
		break;
	case 1:
		__builtin_memcpy(buf, src, ETH_HLEN + VLAN_HLEN);
		__builtin_memcpy(dst, buf, ETH_HLEN + VLAN_HLEN);
		break;
	default:
		__builtin_memcpy(buf, src, ETH_HLEN + 2 * VLAN_HLEN);
		__builtin_memcpy(dst, buf, ETH_HLEN + 2 * VLAN_HLEN);
		break;
	}
}

#endif /* LIB_L2_COPY_H */
