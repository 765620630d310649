/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains what identifies an inner packet to the cache, built the same way by xdp_rx
 * (before the pop) and tc_tx (on what the VNF emitted): the header-hash key and the metadata
 * fingerprints, from one parse of the inner packet summed up in struct sfc_inner_sum
 * (sfc_identify()). */
#ifndef SFC_KEY_H
#define SFC_KEY_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "ipv6_ext.h"
#include "digest.h"
#include "parse_ip.h"
#include "parse_l4.h"
#include "sfc_consts.h"
#include "sfc_shared.h"

/* The TCP data offset (4 bits, 4-byte words) is byte 12, the flags byte 13. */
#define SFC_TCP_DOFF_OFF 12
#define SFC_TCP_FLAGS_OFF 13
/* FIN SYN RST PSH ACK URG: the flags an endpoint sets. CWR and ECE are left out of the key: ECN
 * middleboxes are known to clear them. */
#define SFC_TCP_FLAGS_KEYED 0x3F
/* UDP, ICMP and ICMPv6 headers are 8 bytes; the digest starts after them. */
#define SFC_L4_SMALL_HLEN 8
/* The SCTP common header (RFC 9260 3.1): ports, verification tag, then the CRC32c at byte 8. */
#define SFC_SCTP_HLEN 12
#define SFC_SCTP_CRC_OFF 8
/* Bytes of the upper-layer header read for the key and the fingerprint: the fixed TCP header. */
#define SFC_L4_PEEK TCP_MIN_HLEN

/* What the cache steps need to know about an inner packet, as plain numbers (no packet pointer,
 * so a program can hold it across helpers that move the packet). */
struct sfc_inner_sum {
	__u64 fp_packet;   /* metadata mode: sfc_fingerprint() as a packet (as a datagram:
			    * sfc_fp_datagram(), asked for only where a fragment slot is involved) */
	__u32 saddr[4];    /* network byte order; IPv4 in saddr[0] */
	__u32 daddr[4];
	__u32 ip_len;      /* bytes of the IP packet by its length field */
	__u32 l4_avail;    /* bytes from the upper-layer header to the packet's end */
	__u32 frag_offset; /* fragments: where this one's bytes start in the datagram */
	__u32 frag_bytes;  /* fragments: fragmentable bytes this one carries */
	__u32 frag_end;    /* last fragment: the datagram's fragmentable length; 0 otherwise */
	__u32 frag_id;     /* fragments: the identification (IPv4: 16 bits), as on the wire */
	__u32 head;        /* sfc_nat_head() folded, never 0; 0 for a later fragment */
	__u32 dgram_len;   /* a whole packet: its length as a datagram's fragmentable part (IPv4:
			    * past the header; IPv6: past the unfragmentable extension headers) */
	__u8 family;       /* 4 or 6 */
	__u8 proto;        /* upper-layer protocol (IPv6: after the extension headers) */
	__u8 dgram_proto;  /* the datagram's protocol, the same in every fragment of it and in
			    * the datagram whole (IPv6: the first header of the fragmentable part) */
	__u8 reserved1[3];
	__u8 is_frag;      /* a fragment: IPv4 with an offset or more-fragments, IPv6 with a
			    * fragment header (atomic ones too) */
	__u8 later_frag;   /* a fragment with offset > 0: no upper-layer header */
	__u8 ttl;          /* IPv4 TTL / IPv6 hop limit */
	__u8 reserved[3];
};

/* The inner packet while it is being summed up: offsets from the packet's start and copies of the
 * header bytes the rules read. Offsets and copies rather than packet pointers: every bounds check
 * on a packet pointer refines what the verifier knows of the packet, and each layout the
 * extension header walk can find would then go through all that follows as a state of its own. */
struct sfc_inner {
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;              /* the fixed IP header */
	struct ipv6_ext_info ext; /* IPv6: what the extension header walk found */
	__u32 l4_off;      /* the upper-layer header (a later fragment: its data) */
	__u32 end_off;     /* the packet's end by its length field (may lie past the frame) */
	__u32 payload_off; /* where the digest starts: past the upper-layer header */
	__u32 l4_avail;    /* bytes from l4_off to end_off (0 when end_off is before l4_off) */
	__u32 l4_have;     /* bytes of l4 copied: min(l4_avail, SFC_L4_PEEK), 0 if the frame is cut */
	__u32 frag_offset; /* see struct sfc_inner_sum */
	__u32 frag_bytes;
	__u32 frag_end;
	__u32 frag_id;
	__u8 family;
	__u8 proto;
	__u8 is_frag;
	__u8 later_frag;
	__u8 atomic;       /* IPv6 atomic fragment: keyed without its fragment header */
	__u8 dgram_proto;  /* see struct sfc_inner_sum */
	__u8 reserved[2];
	__u32 dgram_len;
	__u8 l4[SFC_L4_PEEK]; /* the first bytes of the upper-layer header, zero past l4_have */
};

/* What a program learns of one packet's inner packet (sfc_identify()), with the parse it came
 * from: kept in a per-CPU map of each program, since the BPF stack has no room for it beside the
 * programs' other state. */
struct sfc_ident {
	struct sfc_inner_sum in;
	struct sfc_flow_key key; /* header-hash mode */
	__u64 tag;               /* sfc_key_tag(&key): the header-hash entry's tag, and what the strict
				  * fingerprint hashes; computed once per packet */
	struct sfc_inner parse;  /* sfc_identify()'s own working state */
	__u32 index;             /* xdp_rx, metadata: the slot the packet's headers went to */
	__u32 token;             /* xdp_rx, metadata: the slot's key, which the packet carries */
	__u32 joined;            /* xdp_rx: 1 = joined an entry (header-hash: an identical packet's;
				  * metadata: its datagram's), nothing of its own to undo */
	__u32 reserved;
};

/* The program type's way to the packet: bpf_xdp_load_bytes() or bpf_skb_load_bytes(), and the
 * global functions of digest.h and ipv6_ext.h. xdp is a constant at every call, so the other
 * program type's functions are compiled out. */
static __always_inline long sfc_load(void *ctx, int xdp, __u32 off, void *to, __u32 len)
{
	return xdp ? bpf_xdp_load_bytes(ctx, off, to, len) : bpf_skb_load_bytes(ctx, off, to, len);
}

/* Furthest offset sfc_copy() reads from in place (past it: the helper): the verifier learns nothing
 * from a bounds check on a packet pointer that could lie past 64 KiB. */
#define SFC_COPY_MAX_OFF 0x3FFF

/*
 * Copies n (a constant multiple of 4, at most 40) bytes at off into to (at least n bytes, zeroed
 * past len): len (<= n) of them are the packet's, the rest are cleared. Read in place when the
 * frame holds all n bytes (the common case: ~15 ns less than the load helper per call), else with
 * the program type's load helper (a frame that ends sooner). In place, the copy moves 8 bytes at a
 * time: packet and map memory may be read and written unaligned where this runs (the verifier
 * allows it unless a program asks for strict alignment), and byte moves cost 8 times the
 * instructions. Returns 0, or -1 when the packet has not len bytes at off.
 */
static __always_inline long sfc_copy(void *ctx, int xdp, __u32 off, __u8 *to, __u32 len,
				     const __u32 n)
{
	void *data = xdp ? (void *)(long)((struct xdp_md *)ctx)->data
			 : (void *)(long)((struct __sk_buff *)ctx)->data;
	void *data_end = xdp ? (void *)(long)((struct xdp_md *)ctx)->data_end
			     : (void *)(long)((struct __sk_buff *)ctx)->data_end;
	__u8 *p;
	__u32 i;

	if (len > n)
		return -1;
	if (off <= SFC_COPY_MAX_OFF) {
		p = data + off;
		if ((void *)(p + n) <= data_end) {
#pragma unroll
			for (i = 0; i + 8 <= n; i += 8)
				*(__u64 *)(to + i) = *(const __u64 *)(p + i);
			if (n & 4)
				*(__u32 *)(to + (n & ~7u)) = *(const __u32 *)(p + (n & ~7u));
			if (len < n) {
				for (i = 0; i < n; i++)
					if (i >= len)
						to[i] = 0;
			}
			return 0;
		}
	}
	if (!len)
		return 0;
	return sfc_load(ctx, xdp, off, to, len);
}

static __always_inline __u64 sfc_digest(void *ctx, int xdp, __u32 start, __u32 end)
{
	return xdp ? digest_xdp(ctx, start, end) : digest_skb(ctx, start, end);
}

static __always_inline int sfc_ext_walk(void *ctx, int xdp, __u32 off, __u8 nexthdr,
					struct ipv6_ext_info *info)
{
	return xdp ? ipv6_ext_xdp(ctx, off, nexthdr, info) : ipv6_ext_skb(ctx, off, nexthdr, info);
}

/*
 * Parses the inner IP packet at ip_off (l3_proto ETH_P_IP / ETH_P_IPV6, network byte order) into
 * in. The packet's extent is its IP length field, never the frame's end: at XDP a short frame
 * carries Ethernet padding that the VNF's packet at tc egress does not have, so bytes past the IP
 * length must never reach the key. IPv6 extension headers are walked (parse_ipv6_ext()); a chain
 * that cannot be walked (longer than IPV6_EXT_MAX, cut short, or running past the payload length)
 * is keyed opaquely: upper layer = the first next header, right after the fixed header, the same
 * on both sides because both see the same bytes up to the length field. Returns 0, or -1 when the
 * IP header is cut short or invalid.
 */
static __always_inline int sfc_inner_parse(void *ctx, int xdp, __u32 ip_off, __be16 l3_proto,
					   struct sfc_inner *in)
{
	__u32 hlen, len, off;
	__u16 fo;
	int proto;

	__builtin_memset(in, 0, sizeof(*in));
	if (l3_proto == bpf_htons(ETH_P_IP)) {
		if (sfc_copy(ctx, xdp, ip_off, (__u8 *)&in->ip.v4, IPV4_MIN_HLEN, IPV4_MIN_HLEN))
			return -1;
		hlen = in->ip.v4.ihl * 4;
		/* an IHL below 5, or options the frame does not hold, is no IPv4 header */
		if (hlen < IPV4_MIN_HLEN)
			return -1;
		if (hlen > IPV4_MIN_HLEN && sfc_load(ctx, xdp, ip_off + hlen - 1, &in->l4[0], 1))
			return -1;
		len = bpf_ntohs(in->ip.v4.tot_len);
		in->family = 4;
		in->proto = in->ip.v4.protocol;
		in->l4_off = ip_off + hlen;
		in->end_off = ip_off + len;
		in->l4_avail = len > hlen ? len - hlen : 0;
		in->dgram_proto = in->proto;
		in->dgram_len = in->l4_avail;
		fo = bpf_ntohs(in->ip.v4.frag_off);
		if (fo & (IPV4_MF | IPV4_OFFSET_MASK)) {
			in->is_frag = 1;
			in->later_frag = !!(fo & IPV4_OFFSET_MASK);
			in->frag_id = in->ip.v4.id;
			in->frag_bytes = in->l4_avail;
			off = (fo & IPV4_OFFSET_MASK) * 8;
			in->frag_offset = off;
			if (!(fo & IPV4_MF))
				in->frag_end = off + in->frag_bytes;
		}
	} else if (l3_proto == bpf_htons(ETH_P_IPV6)) {
		if (sfc_copy(ctx, xdp, ip_off, (__u8 *)&in->ip.v6, IPV6_HLEN, IPV6_HLEN))
			return -1;
		len = bpf_ntohs(in->ip.v6.payload_len);
		in->family = 6;
		in->end_off = ip_off + IPV6_HLEN + len;
		proto = sfc_ext_walk(ctx, xdp, ip_off + IPV6_HLEN, in->ip.v6.nexthdr, &in->ext);
		if (proto < 0 || in->ext.ext_len > len) {
			/* opaque: see above */
			__builtin_memset(&in->ext, 0, sizeof(in->ext));
			proto = in->ip.v6.nexthdr;
			in->ext.part_next = proto;
		}
		in->proto = proto;
		in->l4_off = ip_off + IPV6_HLEN + in->ext.ext_len;
		in->l4_avail = len - in->ext.ext_len;
		in->dgram_proto = in->ext.part_next;
		in->dgram_len = len > in->ext.unfrag_len ? len - in->ext.unfrag_len : 0;
		fo = bpf_ntohs(in->ext.frag_off);
		/* An atomic fragment (offset 0, no more fragments) is a whole packet, never grouped
		 * with others by its identification (RFC 6946 4); conntrack's reassembly strips its
		 * fragment header, so the VNF may emit it 8 bytes shorter: it is keyed as the packet
		 * without the fragment header (sfc_flow_key_fill(), sfc_fingerprint()). */
		if (in->ext.frag != IPV6_NOT_FRAGMENT && !(fo & (IPV6_FRAG_OFFSET_MASK | IPV6_FRAG_MORE))) {
			in->atomic = 1;
			/* as a datagram: its fragmentable part, behind the fragment header */
			in->dgram_len = len > in->ext.frag_data ? len - in->ext.frag_data : 0;
		}
		else if (in->ext.frag != IPV6_NOT_FRAGMENT) {
			in->is_frag = 1;
			in->later_frag = in->ext.frag == IPV6_FRAG_LATER;
			in->frag_id = in->ext.frag_id;
			in->frag_bytes = len > in->ext.frag_data ? len - in->ext.frag_data : 0;
			in->frag_offset = fo & IPV6_FRAG_OFFSET_MASK;
			if (!(fo & IPV6_FRAG_MORE))
				in->frag_end = (fo & IPV6_FRAG_OFFSET_MASK) + in->frag_bytes;
		}
	} else {
		return -1;
	}

	/* the first bytes of the upper-layer header, as many as the packet has */
	in->l4_have = in->l4_avail < SFC_L4_PEEK ? in->l4_avail : SFC_L4_PEEK;
	if (sfc_copy(ctx, xdp, in->l4_off, in->l4, in->l4_have, SFC_L4_PEEK)) {
		in->l4_have = 0; /* the frame is shorter than its length field */
		__builtin_memset(in->l4, 0, sizeof(in->l4));
	}

	/* where the digest starts: past what the key holds field by field */
	in->payload_off = in->l4_off;
	if (in->later_frag)
		return 0;
	if (in->proto == IPPROTO_TCP) {
		hlen = (in->l4[SFC_TCP_DOFF_OFF] >> 4) * 4;
		/* a data offset below 20 is no TCP header: the bytes after 12 are payload */
		in->payload_off = in->l4_off + (in->l4_have == SFC_L4_PEEK && hlen >= TCP_MIN_HLEN ?
						hlen : SFC_KEY_L4_LEN);
	} else if (in->proto == IPPROTO_UDP || in->proto == IPPROTO_ICMP ||
		   in->proto == IPPROTO_ICMPV6) {
		in->payload_off = in->l4_off + SFC_L4_SMALL_HLEN;
	} else if (in->proto == IPPROTO_SCTP) {
		/* the CRC is the common header's last word: the digest starts past it */
		in->payload_off = in->l4_off + SFC_SCTP_HLEN;
	}
	return 0;
}

/* An IPv6 packet's payload length as the key and the fingerprint hold it, network byte order: an
 * atomic fragment's without its 8-byte fragment header. */
static __always_inline __be16 sfc_ip6_len(const struct sfc_inner *in)
{
	__u16 len = bpf_ntohs(in->ip.v6.payload_len);

	return bpf_htons(in->atomic && len >= IPV6_FRAG_HLEN ? len - IPV6_FRAG_HLEN : len);
}

/*
 * Header-hash key rule. The key holds every field of the inner packet that an SFC-unaware,
 * non-NAT VNF (router, firewall, IDS, shaper, MSS clamper) leaves alone, and the rest of the
 * payload as a 64-bit digest, so two packets share a key only when they are the same packet as
 * far as the VNF can tell (then the cache joins them if their headers are equal and refuses the
 * second if not, see cache_hash() in xdp_rx).
 *
 *  part           | keyed                                     | never keyed (the VNF may change it)
 *  ---------------+-------------------------------------------+----------------------------------
 *  IPv4           | saddr, daddr, protocol, total length,     | TTL, header checksum, DSCP/ECN,
 *                 | id + flags/fragment offset word           | options
 *  IPv6           | saddr, daddr, payload length, version +   | hop limit, traffic class, the
 *                 | flow label, upper-layer protocol after    | extension headers' contents
 *                 | the extension headers, fragment header id |
 *                 | and offset/M word                         |
 *  l4[12]         | first 12 bytes of the upper-layer header, | checksums (UDP, ICMP, SCTP's CRC:
 *                 | only those that exist (l4_len): TCP ports | zero in l4; TCP's lies past it),
 *                 | seq ack; UDP ports length + 4 bytes;      | TCP window, urgent pointer,
 *                 | ICMP type code id/seq + 4 bytes; SCTP     | options (MSS clamping rewrites
 *                 | ports and verification tag; other         | them)
 *                 | protocols and later fragments: their      |
 *                 | first 12 bytes                            |
 *  tcp_flags      | FIN SYN RST PSH ACK URG                   | CWR, ECE
 *  digest         | every byte after the upper-layer header   |
 *                 | (TCP: from its data offset; UDP/ICMP:     |
 *                 | from byte 8; SCTP: from byte 12; other/   |
 *                 | later fragments: all) up to the IP length |
 *
 * The key is zeroed first because the hash map compares it bytewise. in is the packet's parse,
 * digest its payload's.
 */
static __always_inline void sfc_flow_key_fill(const struct sfc_inner *in, __u64 digest,
					      struct sfc_flow_key *key)
{
	__u32 n = in->l4_have < SFC_KEY_L4_LEN ? in->l4_have : SFC_KEY_L4_LEN;

	__builtin_memset(key, 0, sizeof(*key));
	key->family = in->family;
	key->l4_proto = in->proto;
	if (in->family == 4) {
		key->saddr[0] = in->ip.v4.saddr;
		key->daddr[0] = in->ip.v4.daddr;
		/* id (16) + flags/fragment offset (16), as on the wire */
		key->ip_ident = *(__u32 *)&in->ip.v4.id;
		key->ip_len = in->ip.v4.tot_len; /* network byte order */
	} else {
		__builtin_memcpy(key->saddr, &in->ip.v6.saddr, sizeof(key->saddr));
		__builtin_memcpy(key->daddr, &in->ip.v6.daddr, sizeof(key->daddr));
		key->ip_ident = *(__u32 *)&in->ip.v6 & bpf_htonl(SFC_IPV6_VER_FLOW_MASK);
		key->ip_len = sfc_ip6_len(in); /* network byte order */
		if (!in->atomic) {
			key->frag_id = in->ext.frag_id;
			key->frag_off = in->ext.frag_off;
		}
	}
	/* every byte of the first 12 that exists, however short the packet (a NAT-T keepalive is
	 * one byte of UDP payload, an ICMPv6 echo may have none); in->l4 is zero past them */
	__builtin_memcpy(key->l4, in->l4, SFC_KEY_L4_LEN);
	key->l4_len = n;
	/* No checksum is keyed. Each is a sum of bytes the key holds anyway (the pseudo-header, the
	 * header, the payload in l4 and the digest), and the host itself rewrites the UDP one between
	 * pop and restore: a datagram from a socket on this host crosses a veth with a partial
	 * checksum (CHECKSUM_PARTIAL: the pseudo-header sum), xdp_rx sees that, and the kernel
	 * completes it when it hands the datagram to a TUN reader or a socket. SCTP alike: a veth
	 * offers CRC32c offload, a TUN device does not, so the kernel computes the CRC in between
	 * (the digest starts past it: sfc_inner_parse()). */
	if (!in->later_frag) {
		if (in->proto == IPPROTO_UDP) {
			*(__u16 *)&key->l4[6] = 0;
		} else if (in->proto == IPPROTO_ICMP || in->proto == IPPROTO_ICMPV6) {
			*(__u16 *)&key->l4[2] = 0;
		} else if (in->proto == IPPROTO_SCTP) {
			*(__u32 *)&key->l4[SFC_SCTP_CRC_OFF] = 0;
		}
	}
	if (in->proto == IPPROTO_TCP && !in->later_frag && in->l4_have > SFC_TCP_FLAGS_OFF)
		key->tcp_flags = in->l4[SFC_TCP_FLAGS_OFF] & SFC_TCP_FLAGS_KEYED;
	key->digest = digest;
}

/* Tag of a header-hash key: the cache map's key, kept in the entry too (fingerprint). A hash
 * element is reused as soon as it is deleted, so a pointer from a lookup may see another key's
 * entry a moment later; the tag in the entry tells. */
static __always_inline __u64 sfc_key_tag(const struct sfc_flow_key *key)
{
	const __u64 *w = (const __u64 *)key;
	__u64 h = 0;
	int i;

#pragma unroll
	for (i = 0; i < sizeof(*key) / 8; i++)
		h = digest_word(h, w[i]);
	return digest_fmix(h) | 1; /* never 0 */
}

/* Whether two header-hash keys are the same key: what makes a tag's entry this packet's. */
static __always_inline int sfc_same_key(const struct sfc_flow_key *a, const struct sfc_flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	__u64 diff = 0;
	int i;

#pragma unroll
	for (i = 0; i < sizeof(*a) / 8; i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/* The keyed upper-layer bytes (sfc_flow_key_fill()'s l4) less what NAT rewrites: TCP/UDP/SCTP ports,
 * the UDP and ICMP checksums, SCTP's CRC, the ICMP identifier. TCP seq/ack, the UDP length and the first
 * payload bytes, ICMP type, code and sequence stay, and how many bytes there are (in->l4 is zero
 * past them). Of a first fragment it tells its datagram's upper-layer header (struct
 * sfc_cache_entry.frag_head). */
static __always_inline __u64 sfc_nat_head(const struct sfc_inner *in)
{
	__u64 lo = *(const __u64 *)&in->l4[0];
	__u32 hi = *(const __u32 *)&in->l4[8];

	if (in->later_frag)
		return 0; /* no upper-layer header: the bytes are the datagram's middle */
	if (in->proto == IPPROTO_TCP)
		lo &= bpf_cpu_to_be64(0x00000000FFFFFFFFULL);
	else if (in->proto == IPPROTO_UDP)
		lo &= bpf_cpu_to_be64(0x00000000FFFF0000ULL);
	else if (in->proto == IPPROTO_ICMP || in->proto == IPPROTO_ICMPV6)
		lo &= bpf_cpu_to_be64(0xFFFF00000000FFFFULL);
	else if (in->proto == IPPROTO_SCTP) {
		lo &= bpf_cpu_to_be64(0x00000000FFFFFFFFULL); /* ports; the verification tag stays */
		hi = 0; /* the CRC32c, which NAT rewrites and offload leaves unfinished */
	}
	return digest_fmix(digest_word(digest_word(0, lo),
				       (__u64)hi << 8 | (in->l4_have < SFC_KEY_L4_LEN ? in->l4_have
										 : SFC_KEY_L4_LEN)));
}

/*
 * Metadata fingerprint rule. The mark leads tc_tx to a slot; the fingerprint tells whether the
 * slot's entry belongs to this packet (a VNF or an iptables rule that changes mark bits, a slot
 * taken over while its packet was held past MaxAge). What it covers is the operator's choice
 * (sfc_config.meta_fingerprint, Metadata:Fingerprint):
 *  - SFC_FP_STRICT (default): a packet: the whole header-hash key (sfc_flow_key_fill(), addresses
 *    and ports included) hashed; a fragmented datagram: family, protocol, addresses and IPv4 id.
 *    Two packets share it only when they are the same packet as far as a router can tell. A VNF
 *    that NATs makes every packet miss.
 *  - SFC_FP_NAT: only what NAT leaves alone: a packet: family, upper-layer protocol, IP length,
 *    IPv4 id, the key's upper-layer bytes but for ports, UDP/ICMP checksums, SCTP's CRC and the ICMP
 *    identifier (so TCP seq/ack and flags, the UDP length, ICMP type, code and sequence), and the
 *    payload digest; a datagram: family, protocol and IPv4 id (and tc_tx checks its lengths).
 *    Never addresses, ports, checksums, the ICMP id (NAT rewrites them). A NATed ICMP error still misses
 *    (NAT rewrites the packet it quotes), and a changed mark between two packets that differ only
 *    in what NAT may rewrite is not caught.
 * Both leave out TTL, DSCP/ECN and TCP options. A datagram's fingerprint (datagram = 1: a fragment
 * at xdp_rx, and whatever leaves a fragment slot at tc_tx) holds nothing that conntrack's
 * reassembly and refragmentation on other boundaries change (IPv6 refragmentation even picks a
 * new identification), so every piece of the datagram, or the datagram sent whole, matches its
 * slot (fragment rule: claim_frag() in xdp_rx). in is the parse of the packet, digest its
 * payload's, key its header-hash key and tag its sfc_key_tag() (strict).
 */
static __always_inline __u64 sfc_fingerprint(const struct sfc_inner *in, int datagram,
					     __u64 digest, int nat, const struct sfc_flow_key *key,
					     __u64 tag)
{
	__u64 h = ((__u64)in->family << 8 | (datagram ? in->dgram_proto : in->proto)) |
		  (__u64)!!datagram << 16;
	int i;

	if (in->family == 4)
		h = digest_word(h, in->ip.v4.id);
	if (!nat && datagram) {
#pragma unroll
		for (i = 0; i < 4; i++)
			h = digest_word(h, (__u64)key->saddr[i] << 32 | key->daddr[i]);
	}
	if (!nat && !datagram)
		return digest_fmix(h ^ tag);
	if (datagram)
		return digest_fmix(h);
	h = digest_word(h, in->family == 4 ? in->ip.v4.tot_len : sfc_ip6_len(in));
	h = digest_word(h, sfc_nat_head(in));
	if (in->proto == IPPROTO_TCP && !in->later_frag && in->l4_have > SFC_TCP_FLAGS_OFF)
		h = digest_word(h, in->l4[SFC_TCP_FLAGS_OFF] & SFC_TCP_FLAGS_KEYED);
	return digest_fmix(h ^ digest);
}

static __always_inline int ipv4_is_group(__be32 a)
{
	__u32 h = bpf_ntohl(a);

	return (h & 0xF0000000u) == 0xE0000000u || h == 0xFFFFFFFFu;
}

/* ICMP errors that must not answer this packet (the too-big path asks, tx_icmp.h): RFC 1122
 * 3.2.2 / RFC 4443 2.4 (e): never about an ICMP error, a fragment other than the first, or a
 * packet whose source cannot be answered; IPv4 only when DF asked for path MTU discovery (RFC
 * 1191; without DF RFC 3032 3.3 would fragment, which a tc program cannot, so the packet is
 * dropped and counted). */
static __always_inline int sfc_icmp_allowed(const struct sfc_inner *in)
{
	const __u32 *s6 = in->ip.v6.saddr.in6_u.u6_addr32;
	__u8 type = in->l4[0];

	if (in->later_frag)
		return 0;
	if (in->family == 4) {
		if (!(bpf_ntohs(in->ip.v4.frag_off) & IPV4_DF) || !in->ip.v4.saddr ||
		    ipv4_is_group(in->ip.v4.saddr) || ipv4_is_group(in->ip.v4.daddr))
			return 0;
		/* 0 echo reply, 8 echo, 13/14 timestamp, ...: queries may be answered */
		return in->proto != IPPROTO_ICMP ||
		       !(type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
	}
	if (in->ip.v6.saddr.in6_u.u6_addr8[0] == 0xFF || !(s6[0] | s6[1] | s6[2] | s6[3]))
		return 0;
	return in->proto != IPPROTO_ICMPV6 || type >= 128; /* 0..127 are ICMPv6 errors */
}

/* What sfc_identify() works out besides the summary: each program asks for what its key mode
 * reads, so no packet pays for a fingerprint nobody compares. */
#define SFC_ID_NAT 1u  /* the fingerprints cover only what NAT leaves alone (SFC_FP_NAT) */
#define SFC_ID_META 2u /* metadata mode: the packet's fingerprint (id->in.fp_packet); without it
			* the header-hash key and its tag (id->key, id->tag) */

/* The SFC_ID_* flags a program's key mode asks sfc_identify() for. */
static __always_inline __u32 sfc_ident_flags(const struct sfc_config *cfg)
{
	if (cfg->key_mode == SFC_KEY_HEADER_HASH)
		return 0;
	return SFC_ID_META | (cfg->meta_fingerprint == SFC_FP_NAT ? SFC_ID_NAT : 0);
}

/*
 * The inner IP packet at ip_off (l3_proto ETH_P_IP / ETH_P_IPV6, network byte order) summed up
 * into id->in, and what flags (SFC_ID_*) ask for: in metadata mode the packet's fingerprint, in
 * header-hash mode the key and its tag (the strict fingerprint hashes the key too, so metadata
 * strict mode fills both). id->parse keeps the parse for what is asked later (sfc_fp_datagram(),
 * sfc_icmp_allowed()). ctx is the program's context (xdp: 1 for XDP, 0 for tc). Each program calls
 * this from a global function of its own (rx_identify(), tx_identify()), which the verifier checks
 * once rather than on every path that reaches it (every VLAN, label and NSH layout). Returns 0, or
 * -1 when the IP header is cut short or invalid.
 */
static __always_inline int sfc_identify(void *ctx, int xdp, __u32 ip_off, __be16 l3_proto,
					struct sfc_ident *id, __u32 flags)
{
	struct sfc_inner_sum *sum = &id->in;
	struct sfc_inner *in = &id->parse;
	int nat = flags & SFC_ID_NAT;
	__u64 digest;

	__builtin_memset(sum, 0, sizeof(*sum));
	if (sfc_inner_parse(ctx, xdp, ip_off, l3_proto, in) < 0)
		return -1;
	digest = sfc_digest(ctx, xdp, in->payload_off,
			    in->end_off > in->payload_off ? in->end_off : in->payload_off);

	sum->family = in->family;
	sum->proto = in->proto;
	sum->is_frag = in->is_frag;
	sum->later_frag = in->later_frag;
	sum->frag_bytes = in->frag_bytes;
	sum->frag_offset = in->frag_offset;
	sum->dgram_len = in->dgram_len;
	sum->dgram_proto = in->dgram_proto;
	if (!in->later_frag)
		sum->head = (__u32)(sfc_nat_head(in) >> 32) | 1;
	sum->l4_avail = in->l4_avail;
	sum->frag_end = in->frag_end;
	sum->frag_id = in->frag_id;
	sum->ip_len = in->end_off - ip_off;
	/* the header-hash key and its tag, which the strict fingerprint hashes too */
	if (!(flags & SFC_ID_META) || !nat) {
		sfc_flow_key_fill(in, digest, &id->key);
		id->tag = sfc_key_tag(&id->key);
	}
	if (flags & SFC_ID_META)
		sum->fp_packet = sfc_fingerprint(in, 0, digest, nat, &id->key, id->tag);
	if (in->family == 4) {
		sum->saddr[0] = in->ip.v4.saddr;
		sum->daddr[0] = in->ip.v4.daddr;
		sum->ttl = in->ip.v4.ttl;
	} else {
		__builtin_memcpy(sum->saddr, &in->ip.v6.saddr, sizeof(sum->saddr));
		__builtin_memcpy(sum->daddr, &in->ip.v6.daddr, sizeof(sum->daddr));
		sum->ttl = in->ip.v6.hop_limit;
	}
	return 0;
}

/* The fingerprint of the packet sfc_identify() summed up into id as a fragmented datagram's
 * (sfc_fingerprint(), datagram = 1): what a fragment slot holds and compares. flags: the ones
 * sfc_identify() was given. */
static __always_inline __u64 sfc_fp_datagram(const struct sfc_ident *id, __u32 flags)
{
	return sfc_fingerprint(&id->parse, 1, 0, flags & SFC_ID_NAT, &id->key, id->tag);
}

#endif /* SFC_KEY_H */
