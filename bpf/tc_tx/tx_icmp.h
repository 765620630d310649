/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains what tc_tx does with a packet that no longer fits the egress once its
 * headers are back: it turns it, in place, into the ICMP error that tells the sender the usable
 * size (RFC 3032 section 3, RFC 1191, RFC 8201), to be sent along the chain with the packet's own
 * headers. */
#ifndef TC_TX_ICMP_H
#define TC_TX_ICMP_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "icmp.h"
#include "icmp_rate.h"
#include "sfc_shared.h"
#include "sfc_key.h"
#include "sfc_maps.h"

#define SFC_ICMP4_HLEN (IPV4_MIN_HLEN + ICMP_HLEN) /* new IPv4 + ICMP header */
#define SFC_ICMP6_HLEN (IPV6_HLEN + ICMP_HLEN)     /* new IPv6 + ICMPv6 header */
/* RFC 1812 4.3.2.3: an ICMP error holds as much of the original as fits in 576 bytes. */
#define SFC_ICMP4_MAX_LEN 576
/* RFC 4443 2.4 (c): as much as fits in the minimum IPv6 MTU. */
#define SFC_ICMP6_MAX_LEN 1280
#define SFC_ICMP_TTL 64
#define SFC_TOS_INTERNETCONTROL 0xC0 /* IP precedence 6, as Linux sends its own ICMP errors */
/* ICMP errors each CPU sends at most per second (RFC 1812 4.3.2.8, RFC 4443 2.4 (f): a router MUST
 * limit them; Linux's icmp_msgs_per_sec is 1000 in all). Past that the packet is dropped, counted
 * tx_too_big without icmp_too_big_sent. */
#ifndef SFC_ICMP_PER_SEC
#define SFC_ICMP_PER_SEC 500
#endif

/* bpf_csum_diff() sums at most 512 bytes a call. */
#define SFC_CSUM_CHUNK 512

/* Where the ICMP error is built before it replaces the packet: up to 1280 bytes, plus 3 bytes of
 * zero padding so the checksum runs over whole 4-byte words. Per-CPU, not pinned, like the other
 * scratch maps of tc_tx. */
struct sfc_icmp_pseudo6 {
	__be32 saddr[4];
	__be32 daddr[4];
	__be32 len;
	__u8 zero[3];
	__u8 nexthdr;
};

struct sfc_icmp_buf {
	__u8 b[SFC_ICMP6_MAX_LEN + 4];
	struct sfc_icmp_pseudo6 pseudo; /* ICMPv6 checksum pseudo-header (RFC 8200 8.1) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_icmp_buf);
} sfc_icmp_scratch SEC(".maps");

/* This CPU's ICMP error bucket (bpf/lib icmp_rate.h): SFC_ICMP_PER_SEC at once, then that many a
 * second. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_rate_bucket);
} sfc_icmp_rate SEC(".maps");

/* Whether this CPU may send one more ICMP error now (SFC_ICMP_PER_SEC a second); counts it. */
static __always_inline int icmp_budget(void)
{
	struct icmp_rate_bucket *b;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&sfc_icmp_rate, &zero);
	if (!b)
		return 0;
	return icmp_rate_take(b, bpf_ktime_get_ns(), SFC_ICMP_PER_SEC, SFC_ICMP_PER_SEC);
}

/* Ones' complement sum of buf[off, off + len) in 512-byte calls, seeded; len a multiple of 4.
 * The three calls cover the largest message (8 + 1232 bytes). */
static __always_inline __s64 csum_region(__u8 *buf, __u32 off, __u32 len, __s64 sum)
{
	__u32 n;

	if (off > IPV6_HLEN)
		return -1;
	n = len < SFC_CSUM_CHUNK ? len : SFC_CSUM_CHUNK;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)(buf + off), n & ~3u, sum);
	if (sum < 0 || len <= SFC_CSUM_CHUNK)
		return sum;
	len -= SFC_CSUM_CHUNK;
	n = len < SFC_CSUM_CHUNK ? len : SFC_CSUM_CHUNK;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)(buf + off + SFC_CSUM_CHUNK), n & ~3u, sum);
	if (sum < 0 || len <= SFC_CSUM_CHUNK)
		return sum;
	len -= SFC_CSUM_CHUNK;
	n = len < SFC_CSUM_CHUNK ? len : SFC_CSUM_CHUNK;
	if (n > SFC_ICMP6_MAX_LEN + 4 - IPV6_HLEN - 2 * SFC_CSUM_CHUNK)
		return -1;
	return bpf_csum_diff(NULL, 0, (__be32 *)(buf + off + 2 * SFC_CSUM_CHUNK), n & ~3u, sum);
}

/*
 * Too-big rule. The VNF's packet (l2_len bytes of L2 header, then an IP packet of ip_len bytes)
 * would exceed the egress MTU once its SFC headers are pushed. The sender can only send less if
 * it learns the usable size: the MTU minus those headers (RFC 3032 3.2's "Maximum Initially
 * Labeled IP Datagram Size" for SR-MPLS; the same for NSH) and whatever else of the frame counts
 * (fits_egress() in tc_tx). So the packet is replaced, in place, by
 *  - IPv4 (with DF, sfc_icmp_allowed()): ICMP destination unreachable, fragmentation needed
 *    (type 3 code 4), next-hop MTU = usable, quoting the packet up to 576 bytes in all;
 *  - IPv6: ICMPv6 packet too big (type 2), MTU = usable, quoting up to 1280 bytes in all;
 * never longer than usable itself. It is addressed to the packet's source, from
 * sfc_config.icmp_src4/icmp_src6 (the host sets the egress interface's address), or from the
 * packet's own destination when none is set. The caller then pushes the packet's own SFC headers
 * on it: the proxy sits mid-chain with no route of its own back to the source, so the error
 * travels the rest of the chain, whose end routes it (RFC 3032 2.3.2, how an LSR inside an LSP
 * returns ICMP). A global function: the verifier checks it once, not on every path of tc_tx.
 * Returns 0 when the skb now holds the ICMP error, -1 when there was no room to say anything
 * useful or a helper failed (the packet is then dropped).
 */
__attribute__((noinline)) int tx_too_big(struct __sk_buff *skb, __u32 l2_len, __u32 family,
					 __u32 ip_len, __u32 usable)
{
	struct sfc_icmp_pseudo6 *pseudo;
	struct sfc_config *cfg;
	struct sfc_icmp_buf *sb;
	struct ipv6hdr *n6, *o6;
	struct iphdr *n4, *o4;
	__u32 zero = 0, hlen, max, q, len, i;
	__u8 *b;
	__s64 sum;

	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	sb = bpf_map_lookup_elem(&sfc_icmp_scratch, &zero);
	if (!cfg || !sb || l2_len > L2_MAX_LEN)
		return -1;
	b = sb->b;

	hlen = family == 4 ? SFC_ICMP4_HLEN : SFC_ICMP6_HLEN;
	max = family == 4 ? SFC_ICMP4_MAX_LEN : SFC_ICMP6_MAX_LEN;
	if (usable < hlen + IPV6_HLEN)
		return -1; /* no room to quote even the IP header */
	len = usable < max ? usable : max;
	q = ip_len < len - hlen ? ip_len : len - hlen;
	if (q < IPV6_HLEN || q > SFC_ICMP6_MAX_LEN - SFC_ICMP4_HLEN || hlen + q > SFC_ICMP6_MAX_LEN)
		return -1;
	/* the quote: the packet from its IP header on (whose fields the new headers take) */
	if (family == 4) {
		if (bpf_skb_load_bytes(skb, l2_len, b + SFC_ICMP4_HLEN, q))
			return -1;
	} else if (bpf_skb_load_bytes(skb, l2_len, b + SFC_ICMP6_HLEN, q)) {
		return -1;
	}
	len = hlen + q;
	/* zero padding up to a 4-byte word for the checksum (never sent) */
	for (i = 0; i < 3; i++) {
		if (len + i >= sizeof(sb->b))
			break;
		b[len + i] = 0;
	}

	if (family == 4) {
		n4 = (struct iphdr *)b;
		o4 = (struct iphdr *)(b + SFC_ICMP4_HLEN);
		n4->version = 4;
		n4->ihl = 5;
		n4->tos = SFC_TOS_INTERNETCONTROL;
		n4->tot_len = bpf_htons(len);
		n4->id = 0;
		n4->frag_off = bpf_htons(IPV4_DF); /* atomic datagram: id 0 is fine (RFC 6864) */
		n4->ttl = SFC_ICMP_TTL;
		n4->protocol = IPPROTO_ICMP;
		n4->check = 0;
		n4->daddr = o4->saddr;
		n4->saddr = cfg->icmp_src4 ? cfg->icmp_src4 : o4->daddr;
		b[20] = ICMP_DEST_UNREACH;
		b[21] = ICMP_FRAG_NEEDED;
		*(__u16 *)(b + 22) = 0;
		*(__u16 *)(b + 24) = 0;                      /* unused */
		*(__be16 *)(b + 26) = bpf_htons(usable);     /* next-hop MTU */
		sum = csum_region(b, IPV4_MIN_HLEN, (ICMP_HLEN + q + 3) & ~3u, 0);
		if (sum < 0)
			return -1;
		*(__u16 *)(b + 22) = csum_fold(sum);
		sum = bpf_csum_diff(NULL, 0, (__be32 *)b, IPV4_MIN_HLEN, 0);
		if (sum < 0)
			return -1;
		n4->check = csum_fold(sum);
	} else {
		n6 = (struct ipv6hdr *)b;
		o6 = (struct ipv6hdr *)(b + SFC_ICMP6_HLEN);
		*(__be32 *)b = bpf_htonl(0x60000000); /* version 6, class 0, flow 0 */
		n6->payload_len = bpf_htons(ICMP_HLEN + q);
		n6->nexthdr = IPPROTO_ICMPV6;
		n6->hop_limit = SFC_ICMP_TTL;
		__builtin_memcpy(&n6->daddr, &o6->saddr, sizeof(n6->daddr));
		if (cfg->icmp_src6[0] | cfg->icmp_src6[1] | cfg->icmp_src6[2] | cfg->icmp_src6[3])
			__builtin_memcpy(&n6->saddr, cfg->icmp_src6, sizeof(n6->saddr));
		else
			__builtin_memcpy(&n6->saddr, &o6->daddr, sizeof(n6->saddr));
		b[40] = ICMPV6_PKT_TOO_BIG;
		b[41] = 0;
		*(__u16 *)(b + 42) = 0;
		*(__be32 *)(b + 44) = bpf_htonl(usable);      /* MTU */
		pseudo = &sb->pseudo;
		__builtin_memcpy(pseudo->saddr, &n6->saddr, sizeof(pseudo->saddr));
		__builtin_memcpy(pseudo->daddr, &n6->daddr, sizeof(pseudo->daddr));
		pseudo->len = bpf_htonl(ICMP_HLEN + q);
		pseudo->zero[0] = pseudo->zero[1] = pseudo->zero[2] = 0;
		pseudo->nexthdr = IPPROTO_ICMPV6;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)pseudo, sizeof(*pseudo), 0);
		if (sum < 0)
			return -1;
		sum = csum_region(b, IPV6_HLEN, (ICMP_HLEN + q + 3) & ~3u, sum);
		if (sum < 0)
			return -1;
		*(__u16 *)(b + 42) = csum_fold(sum);
	}

	if (bpf_skb_change_tail(skb, l2_len + len, 0))
		return -1;
	if (len > SFC_ICMP6_MAX_LEN)
		return -1;
	if (bpf_skb_store_bytes(skb, l2_len, b, len, 0))
		return -1;
	return 0;
}

#endif /* TC_TX_ICMP_H */
