/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the SFC encapsulations' cursor parsers (xdp-tools style) that xdp_rx and
 * tc_tx share: MPLS label stack entries and NSH, whose failures are SFC verdicts. Ethernet, VLAN
 * and IP are the product-neutral parsers of bpf/lib, included here for both programs. */
#ifndef SFC_PARSING_H
#define SFC_PARSING_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"
#include "parse_eth.h"
#include "parse_ip.h"
#include "ipv6_ext.h"
#include "sfc_consts.h"
#include "sfc_shared.h"

/* One MPLS label stack entry; *lse is the entry in network byte order, exactly as on the wire.
 * An MPLS entry does not name the next protocol, so this returns 1 for the bottom of stack,
 * 0 when another entry follows, -1 when the packet ends inside the entry. */
static __always_inline int parse_mplshdr(struct hdr_cursor *nh, void *data_end, __be32 *lse)
{
	__be32 *e = nh->pos;

	if ((void *)(e + 1) > data_end)
		return -1;

	nh->pos = e + 1;
	*lse = *e;
	return !!(bpf_ntohl(*e) & SFC_MPLS_BOS_MASK);
}

/* NSH base header + service path header (RFC 8300); MD type 1 context or MD type 2 TLVs
 * follow up to Length * 4 bytes. */
struct sfc_nsh_hdr {
	__be16 ver_ttl_len; /* Ver(2) O(1) U(1) TTL(6) Length(6); network byte order */
	__u8 md_type;       /* U(4) MD type(4) */
	__u8 next_proto;    /* SFC_NSH_NP_* */
	__be32 path;        /* SPI(24) SI(8); network byte order */
};

/* Walks the MD type 2 context TLVs between the service path header and hlen (the header's
 * Length * 4, already checked to lie inside the packet). Returns 0 when the TLVs end exactly
 * at hlen (zero TLVs included), -1 when one runs past it. */
static __always_inline int nsh_tlvs_ok(struct sfc_nsh_hdr *nsh, void *data_end, __u32 hlen)
{
	__u32 off = SFC_NSH_BASE_HLEN;
	__u8 *tlv;
	__u32 i;

	/* Every TLV takes at least SFC_NSH_TLV_HLEN bytes, so SFC_NSH_MAX_TLVS rounds always
	 * reach hlen; the bound is for the verifier. */
	for (i = 0; i < SFC_NSH_MAX_TLVS; i++) {
		/* off and hlen are both multiples of 4: off < hlen leaves room for a TLV header */
		if (off >= hlen)
			break;
		tlv = (__u8 *)nsh + off;
		/* cannot fail (tlv + 4 <= nsh + hlen <= data_end), but the verifier needs it */
		if ((void *)(tlv + SFC_NSH_TLV_HLEN) > data_end)
			return -1;
		off += SFC_NSH_TLV_HLEN +
		       (((tlv[SFC_NSH_TLV_LEN_OFF] & SFC_NSH_TLV_LEN_MASK) + 3) & ~3u);
	}
	return off == hlen ? 0 : -1;
}

/*
 * NSH header (RFC 8300) with its metadata. Checks, in this order, each failure with its own
 * outcome (the first failed check decides; all of them make xdp_rx drop the packet):
 *
 *  check                                              | outcome
 *  ---------------------------------------------------+------------------------------
 *  base + service path header (8 bytes) in the packet | SFC_CNT_RX_TRUNCATED
 *  version 0 (a later version may change the layout)  | SFC_CNT_RX_NSH_BAD_VERSION
 *  MD type 1 or 2                                     | SFC_CNT_RX_NSH_BAD_MD_TYPE
 *  Length 6 (MD type 1) or >= 2 (MD type 2), and      | SFC_CNT_RX_NSH_BAD_LENGTH
 *  Length * 4 bytes in the packet                     |
 *  MD type 2: TLVs end exactly at Length * 4          | SFC_CNT_RX_NSH_BAD_TLV
 *  next protocol IPv4, IPv6 or Ethernet               | SFC_CNT_RX_NSH_BAD_NEXT_PROTO
 *
 * The U bits, TTL, O bit, SPI, SI and the metadata contents are not judged: they are carried
 * byte for byte. On success pos moves past the whole header (Length * 4 bytes), *nshhdr points
 * at it, *hlen is its size, and the next protocol (SFC_NSH_NP_*) is returned; on failure -1
 * with *outcome set, pos unchanged.
 */
static __always_inline int parse_nshhdr(struct hdr_cursor *nh, void *data_end,
					struct sfc_nsh_hdr **nshhdr, __u32 *hlen,
					enum sfc_counter *outcome)
{
	struct sfc_nsh_hdr *nsh = nh->pos;
	__u32 word, md_type, len;

	if ((void *)(nsh + 1) > data_end) {
		*outcome = SFC_CNT_RX_TRUNCATED;
		return -1;
	}

	word = bpf_ntohs(nsh->ver_ttl_len);
	if ((word & SFC_NSH_VER_MASK) >> SFC_NSH_VER_SHIFT != 0) {
		*outcome = SFC_CNT_RX_NSH_BAD_VERSION;
		return -1;
	}

	len = (word & SFC_NSH_LEN_MASK) * SFC_NSH_WORD;
	md_type = nsh->md_type & SFC_NSH_MDTYPE_MASK;
	if (md_type == SFC_NSH_MDTYPE_1) {
		if (len != SFC_NSH_MD1_HLEN) {
			*outcome = SFC_CNT_RX_NSH_BAD_LENGTH;
			return -1;
		}
	} else if (md_type == SFC_NSH_MDTYPE_2) {
		if (len < SFC_NSH_MD2_MIN_HLEN) {
			*outcome = SFC_CNT_RX_NSH_BAD_LENGTH;
			return -1;
		}
	} else {
		*outcome = SFC_CNT_RX_NSH_BAD_MD_TYPE;
		return -1;
	}

	if (nh->pos + len > data_end) {
		*outcome = SFC_CNT_RX_NSH_BAD_LENGTH;
		return -1;
	}

	if (md_type == SFC_NSH_MDTYPE_2 && nsh_tlvs_ok(nsh, data_end, len) < 0) {
		*outcome = SFC_CNT_RX_NSH_BAD_TLV;
		return -1;
	}

	switch (nsh->next_proto) {
	case SFC_NSH_NP_IPV4:
	case SFC_NSH_NP_IPV6:
	case SFC_NSH_NP_ETHERNET:
		break;
	default:
		/* e.g. MPLS or NSH inside: not something an SFC-unaware VNF can handle */
		*outcome = SFC_CNT_RX_NSH_BAD_NEXT_PROTO;
		return -1;
	}

	nh->pos += len;
	*nshhdr = nsh;
	*hlen = len;
	return nsh->next_proto;
}

#endif /* SFC_PARSING_H */
