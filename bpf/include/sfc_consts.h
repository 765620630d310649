/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the protocol constants of the datapath: ethertypes, header sizes, MPLS
 * label stack entry fields (RFC 3032) and the parser's loop limits. */
#ifndef SFC_CONSTS_H
#define SFC_CONSTS_H

/* Ethertypes, host byte order (compare against bpf_ntohs(), or use bpf_htons() on constants).
 * Guarded so that including <linux/if_ether.h> as well does not clash. */
#ifndef ETH_P_IP
#define ETH_P_IP 0x0800
#endif
#ifndef ETH_P_IPV6
#define ETH_P_IPV6 0x86DD
#endif
#ifndef ETH_P_8021Q
#define ETH_P_8021Q 0x8100   /* C-tag */
#endif
#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8  /* S-tag (QinQ outer) */
#endif
#ifndef ETH_P_MPLS_UC
#define ETH_P_MPLS_UC 0x8847 /* MPLS unicast: SR-MPLS label stack follows */
#endif

#ifndef ETH_HLEN
#define ETH_HLEN 14
#endif
#ifndef ETH_ALEN
#define ETH_ALEN 6
#endif
#ifndef VLAN_HLEN
#define VLAN_HLEN 4
#endif

/* In-band VLAN tags parsed in front of the payload (QinQ = 2). A packet with more tags is not
 * recognised as SFC/IP traffic and passes untouched. */
#ifndef SFC_MAX_VLANS
#define SFC_MAX_VLANS 2
#endif

/* Longest L2 header the datapath handles: Ethernet + SFC_MAX_VLANS tags. */
#define SFC_L2_MAX_LEN (ETH_HLEN + SFC_MAX_VLANS * VLAN_HLEN)

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

/* IP header sizes. */
#define SFC_IPV4_MIN_HLEN 20
#define SFC_IPV6_HLEN 40

/* IPv6 first word: version(4) | traffic class(8) | flow label(20). The key keeps version and
 * flow label and masks out the traffic class (host byte order, apply after bpf_ntohl()). */
#define SFC_IPV6_VER_FLOW_MASK 0xF00FFFFFu

/* Bytes after the fixed IP header copied into the flow key (sfc_flow_key.l4). */
#define SFC_KEY_L4_LEN 12

#endif /* SFC_CONSTS_H */
