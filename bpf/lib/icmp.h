/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains what building a "packet too big" error needs: the ICMP (RFC 792, RFC 1191)
 * and ICMPv6 (RFC 4443) types and codes, and the ICMP fragmentation-needed header
 * (<linux/icmp.h> drags in libc headers). It knows no product type. */
#ifndef LIB_ICMP_H
#define LIB_ICMP_H

#include <linux/types.h>

#ifndef ICMP_DEST_UNREACH
#define ICMP_DEST_UNREACH 3 /* ICMP type */
#endif
#ifndef ICMP_FRAG_NEEDED
#define ICMP_FRAG_NEEDED 4 /* its code: fragmentation needed and DF set */
#endif
#ifndef ICMPV6_PKT_TOO_BIG
#define ICMPV6_PKT_TOO_BIG 2 /* ICMPv6 type */
#endif

/* ICMP destination unreachable, fragmentation needed (RFC 1191 4). */
struct icmp_frag_hdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu; /* next-hop MTU, network byte order */
};

#endif /* LIB_ICMP_H */
