/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The lab's SRv6 frames (lab only), one definition for the generator (trafgen.c, user space), the
 * receiver's check (lab.bpf.c `count`) and, by value, vm-lab/lab.sh (its SID and segment list).
 *
 * srv6-N[-t]: outer IPv6 2001:2:1::1 -> the proxy SID 2001:2:1::100, hop limit 64, and an SRH
 * (RFC 8754) in the reduced form (4.1.1: the active segment, the SID, left out of the list) with
 * Segments Left = N, Last Entry = N - 1 and Segment List[j] = 2001:2:e::(N - j): after the proxy
 * come 2001:2:e::1, then ::2, ... ::N. End.AD leaves SL = Last Entry = N - 1 and destination
 * 2001:2:e::1: byte for byte the SRH the kernel's `encap seg6 mode encap segs 2001:2:e::1,..,::N`
 * builds, so the SfcProxy rows and the kernel static proxy are judged by one check. With -t the SRH
 * carries LAB_SRV6_TLV_BYTES of TLVs behind the segments (lab_srv6_tlv_byte).
 */
#ifndef LAB_SRV6_LAB_H
#define LAB_SRV6_LAB_H

#define LAB_SRV6_SRC "2001:2:1::1"
#define LAB_SRV6_SID "2001:2:1::100"
#define LAB_SRV6_SEG_W0 0x20010002u /* 2001:2:e::i = these three 32-bit words, then i */
#define LAB_SRV6_SEG_W1 0x000e0000u
#define LAB_SRV6_SEG_W2 0u
#define LAB_SRV6_MAX_SEGS 16

/* counts slots (trafgen.bpf.h): 0..18 the MPLS/NSH ones, then an SRv6 frame that arrived as the
 * proxy must emit srv6-N (19..34) or srv6-N-t (35..50) */
#define LAB_SRV6_SLOT(n, tlv) (18 + (n) + ((tlv) ? LAB_SRV6_MAX_SEGS : 0))
#define LAB_COUNT_SLOTS (LAB_SRV6_SLOT(LAB_SRV6_MAX_SEGS, 1) + 1)

/* The TLVs of srv6-N-t, 56 bytes (a multiple of 8, as the SRH's length needs): an HMAC TLV
 * (RFC 8754 2.1.2, type 5, 40 bytes: 2 reserved, key id 1, a 32-byte HMAC; 8-byte aligned right
 * behind the segments), an opaque TLV (type 124, 8 value bytes) and a PadN (type 4, 4 zero bytes). */
#define LAB_SRV6_TLV_BYTES 56
static inline unsigned char lab_srv6_tlv_byte(unsigned k)
{
	if (k < 8)
		return k == 0 ? 5 : k == 1 ? 38 : k == 7 ? 1 : 0;
	if (k < 40)
		return 0xc0 + (k - 8);
	if (k < 50)
		return k == 40 ? 124 : k == 41 ? 8 : 0x7c;
	return k == 50 ? 4 : k == 51 ? 4 : 0;
}

#endif
