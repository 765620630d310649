/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the protocol constants of the SFC datapath: the SFC ethertypes, header
 * sizes, MPLS label stack entry fields (RFC 3032), NSH fields (RFC 8300) and the parser's loop
 * limits. The generic ones (Ethernet, VLAN) are bpf/lib's. */
#ifndef SFC_CONSTS_H
#define SFC_CONSTS_H

#include "parse_eth.h" /* ETH_P_*, ETH_HLEN, VLAN_HLEN, L2_MAX_LEN */
#include "sfc_shared.h" /* SFC_SRV6_MAX_LEN */

/* The ethertypes of the SFC encapsulations, host byte order (compare against bpf_ntohs(), or use
 * bpf_htons() on constants). Guarded: newer <linux/if_ether.h> have them too. */
#ifndef ETH_P_MPLS_UC
#define ETH_P_MPLS_UC 0x8847 /* MPLS unicast: SR-MPLS label stack follows */
#endif
#ifndef ETH_P_NSH
#define ETH_P_NSH 0x894F     /* NSH (RFC 8300) follows */
#endif

/* One MPLS label stack entry (RFC 3032): label(20) | TC(3) | S(1) | TTL(8).
 * The masks and shifts apply to the entry in HOST byte order (after bpf_ntohl()). */
#define SFC_MPLS_HLEN 4
#define SFC_MPLS_LABEL_MASK 0xFFFFF000u
#define SFC_MPLS_LABEL_SHIFT 12
#define SFC_MPLS_TC_MASK 0x00000E00u
#define SFC_MPLS_TC_SHIFT 9
#define SFC_MPLS_BOS_MASK 0x00000100u
#define SFC_MPLS_BOS_SHIFT 8
#define SFC_MPLS_TTL_MASK 0x000000FFu
#define SFC_MPLS_TTL_SHIFT 0

/* NSH base header + service path header (RFC 8300 section 2.2-2.3), 8 bytes:
 *   Ver(2) O(1) U(1) TTL(6) Length(6) | U(4) MD type(4) | next protocol(8) | SPI(24) SI(8)
 * The masks and shifts of the first 16 bits apply in HOST byte order (after bpf_ntohs()).
 * Length counts 4-byte words of the whole NSH header, base and service path header included. */
#define SFC_NSH_BASE_HLEN 8
#define SFC_NSH_VER_MASK 0xC000u
#define SFC_NSH_VER_SHIFT 14
#define SFC_NSH_OAM_MASK 0x2000u  /* O bit */
#define SFC_NSH_TTL_MASK 0x0FC0u  /* 6 bits spanning bytes 0 and 1 */
#define SFC_NSH_TTL_SHIFT 6
#define SFC_NSH_LEN_MASK 0x003Fu
#define SFC_NSH_WORD 4            /* Length unit */
#define SFC_NSH_MAX_HLEN (SFC_NSH_LEN_MASK * SFC_NSH_WORD) /* 252 */
#define SFC_NSH_MDTYPE_MASK 0x0Fu /* low nibble of byte 2; the high nibble is unassigned */
#define SFC_NSH_SI_OFF 7          /* Service Index: last byte of the service path header */

/* MD types: 1 = fixed 16-byte context header, 2 = variable TLVs. 0x0 is reserved, 0xF
 * experimental, the rest unassigned: none of them has a layout we could carry. */
#define SFC_NSH_MDTYPE_1 0x1
#define SFC_NSH_MDTYPE_2 0x2
/* MD type 1 is always 6 words: 8 bytes base + service path, 16 bytes fixed context. */
#define SFC_NSH_MD1_HLEN 24
/* MD type 2 is at least the 8-byte base + service path header (Length 2: no TLVs). */
#define SFC_NSH_MD2_MIN_HLEN SFC_NSH_BASE_HLEN

/* MD type 2 context TLV: Metadata Class(16) | Type(8) | U(1) Length(7); Length is the value's
 * size in bytes, the value is padded to a 4-byte multiple. */
#define SFC_NSH_TLV_HLEN 4
#define SFC_NSH_TLV_LEN_OFF 3
#define SFC_NSH_TLV_LEN_MASK 0x7Fu
/* Most TLVs an NSH header can hold: all-empty TLVs (4 bytes each) filling a Length 63
 * header, (252 - 8) / 4 = 61. The TLV walk's loop bound. */
#ifndef SFC_NSH_MAX_TLVS
#define SFC_NSH_MAX_TLVS ((SFC_NSH_MAX_HLEN - SFC_NSH_BASE_HLEN) / SFC_NSH_TLV_HLEN)
#endif

/* NSH next protocol values (IANA "NSH Next Protocol" registry) this proxy can hand to a VNF. */
#define SFC_NSH_NP_IPV4 0x1
#define SFC_NSH_NP_IPV6 0x2
#define SFC_NSH_NP_ETHERNET 0x3

/* IPv6 first word: version(4) | traffic class(8) | flow label(20). The key keeps version and
 * flow label and masks out the traffic class (host byte order, apply after bpf_ntohl()). */
#define SFC_IPV6_VER_FLOW_MASK 0xF00FFFFFu

/* Furthest an inner IP header can start in a frame: the L2 header, the largest SRv6 header set
 * (longer than the largest NSH header), and the inner Ethernet header NSH or SRv6 may carry (a
 * label stack is shorter). */
#define SFC_MAX_SFC_HLEN (L2_MAX_LEN + SFC_SRV6_MAX_LEN + L2_MAX_LEN)

/* SRv6 Segment Routing Header (RFC 8754 2): next header | Hdr Ext Len | Routing Type (4) |
 * Segments Left | Last Entry | Flags | Tag(16) | Segment List[0..Last Entry] (16 bytes each) |
 * TLVs. Offsets from the SRH's first byte. */
#define SFC_SRH_ROUTING_TYPE 4
#define SFC_SRH_HLEN 8
#define SFC_SRH_TYPE_OFF 2
#define SFC_SRH_SL_OFF 3
#define SFC_SRH_LAST_OFF 4
#define SFC_SRH_SEG_LEN 16
/* SRH TLVs (RFC 8754 2.1): Pad1 is one byte (type 0), every other TLV type(8) | length(8) | value. */
#define SFC_SRH_TLV_PAD1 0
/* TLVs walked at most; more in one SRH count RX_SRV6_BAD_TLV (RFC 8754 2.1.1: Pad1 is for one
 * byte of padding, PadN for more, so a real SRH holds a few). */
#define SFC_SRH_MAX_TLVS 32
/* Extension headers before and after the SRH walked at most (hop-by-hop, destination options,
 * the SRH): RFC 8200 4.1 allows each once, destination options twice. */
#define SFC_SRV6_MAX_EXT 4
/* The IPv6 next header values of the inner packets End.AD hands to the VNF. */
#define SFC_NH_IPV4 4
#define SFC_NH_IPV6 41
#define SFC_NH_ETHERNET 143
#define SFC_NH_HOPOPTS 0
#define SFC_NH_ROUTING 43
#define SFC_NH_DSTOPTS 60
/* Offsets in the fixed IPv6 header. */
#define SFC_IP6_PLEN_OFF 4
#define SFC_IP6_NH_OFF 6
#define SFC_IP6_HLIM_OFF 7
#define SFC_IP6_DADDR_OFF 24
#define SFC_IP6_HLEN 40

/* Bytes after the fixed IP header copied into the flow key (sfc_flow_key.l4). */
#define SFC_KEY_L4_LEN 12

#endif /* SFC_CONSTS_H */
