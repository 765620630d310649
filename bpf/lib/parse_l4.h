/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the transport header cursor parsers (TCP, UDP, ICMP/ICMPv6 first 8 bytes)
 * and the port reader shared by TCP and UDP. It knows no product type. */
#ifndef LIB_PARSE_L4_H
#define LIB_PARSE_L4_H

#include <linux/types.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "hdr_cursor.h"

#define TCP_MIN_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8 /* type, code, checksum, and 4 bytes of the type's own (ICMP and ICMPv6) */

/* Bytes of a TCP or UDP header that hold its ports: source, then destination. */
#define L4_PORTS_LEN 4

/* The ports (network byte order) of the TCP or UDP header at l4, whose first L4_PORTS_LEN bytes
 * the caller has checked lie inside the packet. */
static __always_inline void read_l4_ports(const void *l4, __be16 *source, __be16 *dest)
{
	*source = *(const __be16 *)l4;
	*dest = *(const __be16 *)(l4 + 2);
}

/* TCP header including its options. Returns the header's length; -1 also for a data offset
 * below 5, so a caller never reads a header shorter than the fixed 20 bytes. */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *tcp = nh->pos;
	__u32 len;

	if ((void *)(tcp + 1) > data_end)
		return -1;

	len = tcp->doff * 4;
	if (len < TCP_MIN_HLEN)
		return -1;
	if (nh->pos + len > data_end)
		return -1;

	nh->pos += len;
	*tcphdr = tcp;
	return len;
}

/* UDP header. Returns the UDP length field (host byte order), -1 when the header is cut short. */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *udp = nh->pos;

	if ((void *)(udp + 1) > data_end)
		return -1;

	nh->pos = udp + 1;
	*udphdr = udp;
	return bpf_ntohs(udp->len);
}

#endif /* LIB_PARSE_L4_H */
