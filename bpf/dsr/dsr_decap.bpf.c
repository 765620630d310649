// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dsr_decap: tc ingress program of a DSR backend. The load balancer sends it the client's packet
 * (client -> VIP) inside an outer header (LB -> backend): IPv4 protocol 4 (RFC 2003), or IPv6
 * next header 4 or 41 (RFC 2473: an IPv4 or IPv6 client packet). When the inner destination is
 * one of the configured VIPs of its family the outer header is removed, so the stack receives the
 * client's packet as sent; the VIP sits on the backend's loopback, so a local socket takes it and
 * the reply goes from the VIP straight to the client, bypassing the load balancer. No ipip or
 * ip6_tunnel module (or tunnel device) is needed. Everything else passes untouched.
 *
 * ECN (RFC 6040 4.2): the inner ECN field leaves as the table there says, from the inner and the
 * outer field (the outer may have been marked on the way); inner Not-ECT with outer CE is dropped
 * and counted (ECN_DROPPED). The inner DSCP is kept.
 *
 * Outer IPv4 options are allowed (the whole outer header is removed). Outer fragments (IPv4 MF or
 * offset, an IPv6 fragment header) are left to the stack; an outer IPv6 header with other
 * extension headers is not the load balancer's (it sends none) and passes as NOT_IPIP. The outer
 * destination is not checked: the packet reached this host's ingress, and the inner VIP decides.
 * An IPv4 packet out of an IPv6 header needs bpf_skb_adjust_room's BPF_F_ADJ_ROOM_DECAP_L3_IPV4
 * (kernel 6.3): older kernels refuse it (ADJUST_FAILED). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse_ip.h"
#include "dsr_decap_shared.h"

/* VIPs (network byte order) whose IP-in-IP packets are decapsulated; the value is unused (1). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_DECAP_MAX_VIPS);
	__type(key, __be32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_decap_vips SEC(".maps");

/* IPv6 VIPs (16 bytes, network byte order) whose IP-in-IPv6 packets are decapsulated; value 1. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_DECAP_MAX_VIPS);
	__type(key, struct in6_addr);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_decap_vips6 SEC(".maps");

/* Packets by outcome (enum dsr_decap_counter, one per packet), per CPU; the host sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_DECAP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_decap_counters SEC(".maps");

static __always_inline int count(enum dsr_decap_counter c, int verdict)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&dsr_decap_counters, &key);

	if (v)
		*v += 1; /* per-CPU: no atomic needed */
	return verdict;
}

/* bpf_skb_adjust_room flags of kernel 6.3 (not in the 6.1 uapi headers Debian 12 ships): the
 * family of the header left behind the MAC header once the outer one is gone, so the kernel sets
 * skb->protocol to it. */
#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#endif

#ifndef IPPROTO_FRAGMENT
#define IPPROTO_FRAGMENT 44
#endif

/* ECN field codepoints (RFC 3168). */
#define ECN_NOT_ECT 0
#define ECN_ECT1 1
#define ECN_ECT0 2
#define ECN_CE 3

/* RFC 6040 4.2, Figure 4: the ECN field the decapsulated packet leaves with, from the arriving
 * inner and outer fields, or -1 to drop. Rows: inner Not-ECT keeps Not-ECT (drop under an outer
 * CE); ECT(0) takes an outer ECT(1) or CE; ECT(1) takes an outer CE; CE stays CE. */
static __always_inline int dsr_ecn_decap(__u8 inner, __u8 outer)
{
	if (inner == ECN_NOT_ECT)
		return outer == ECN_CE ? -1 : ECN_NOT_ECT;
	if (outer == ECN_CE)
		return ECN_CE;
	if (outer == ECN_ECT1 && inner == ECN_ECT0)
		return ECN_ECT1;
	return inner;
}

SEC("tc")
int dsr_decap(struct __sk_buff *skb)
{
	struct iphdr outer, inner;
	struct ipv6hdr outer6, inner6;
	__u64 adjust = BPF_F_ADJ_ROOM_FIXED_GSO;
	__u32 outer_len, inner_off;
	__u8 outer_ecn, inner_ecn, byte1;
	__be16 proto, inner_proto;
	int ecn;

	/* bpf_skb_load_bytes rather than direct access: works whatever part of the skb is linear. */
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)) < 0)
		return count(DSR_DECAP_CNT_NOT_IPIP, TC_ACT_OK);
	if (proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &outer, sizeof(outer)) < 0 ||
		    outer.version != 4 || outer.ihl < 5)
			return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
		if (outer.protocol != IPPROTO_IPIP)
			return count(DSR_DECAP_CNT_NOT_IPIP, TC_ACT_OK);
		if (outer.frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET_MASK))
			return count(DSR_DECAP_CNT_FRAGMENT, TC_ACT_OK);
		outer_len = outer.ihl * 4;
		if (bpf_ntohs(outer.tot_len) < outer_len + sizeof(inner))
			return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
		outer_ecn = outer.tos & 3;
		inner_proto = bpf_htons(ETH_P_IP);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &outer6, sizeof(outer6)) < 0 ||
		    outer6.version != 6)
			return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
		if (outer6.nexthdr == IPPROTO_FRAGMENT)
			return count(DSR_DECAP_CNT_FRAGMENT, TC_ACT_OK);
		if (outer6.nexthdr == IPPROTO_IPIP)
			inner_proto = bpf_htons(ETH_P_IP);
		else if (outer6.nexthdr == IPPROTO_IPV6)
			inner_proto = bpf_htons(ETH_P_IPV6);
		else
			return count(DSR_DECAP_CNT_NOT_IPIP, TC_ACT_OK);
		outer_len = sizeof(outer6);
		if (bpf_ntohs(outer6.payload_len) <
		    (inner_proto == bpf_htons(ETH_P_IP) ? sizeof(inner) : sizeof(inner6)))
			return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
		outer_ecn = (outer6.flow_lbl[0] >> 4) & 3;
		if (inner_proto == bpf_htons(ETH_P_IP))
			adjust |= BPF_F_ADJ_ROOM_DECAP_L3_IPV4;
	} else {
		return count(DSR_DECAP_CNT_NOT_IPIP, TC_ACT_OK);
	}

	inner_off = ETH_HLEN + outer_len;
	if (inner_proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) < 0 ||
		    inner.version != 4 || inner.ihl < 5)
			return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
		if (!bpf_map_lookup_elem(&dsr_decap_vips, &inner.daddr))
			return count(DSR_DECAP_CNT_NOT_VIP, TC_ACT_OK);
		inner_ecn = inner.tos & 3;
	} else {
		if (bpf_skb_load_bytes(skb, inner_off, &inner6, sizeof(inner6)) < 0 ||
		    inner6.version != 6)
			return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
		if (!bpf_map_lookup_elem(&dsr_decap_vips6, &inner6.daddr))
			return count(DSR_DECAP_CNT_NOT_VIP, TC_ACT_OK);
		inner_ecn = (inner6.flow_lbl[0] >> 4) & 3;
	}

	ecn = dsr_ecn_decap(inner_ecn, outer_ecn);
	if (ecn < 0)
		return count(DSR_DECAP_CNT_ECN_DROPPED, TC_ACT_SHOT);
	if (ecn != inner_ecn) {
		if (inner_proto == bpf_htons(ETH_P_IP)) {
			/* The TOS byte and the header checksum change together: the packet's sum (a
			 * CHECKSUM_COMPLETE skb's csum) stays as it was, so no recompute flag. */
			__u16 old_word = *(__u16 *)&inner, new_word;
			__u8 tos = (inner.tos & ~3) | ecn;

			((__u8 *)&inner)[1] = tos;
			new_word = *(__u16 *)&inner;
			if (bpf_skb_store_bytes(skb, inner_off + 1, &tos, 1, 0) < 0 ||
			    bpf_l3_csum_replace(skb, inner_off + offsetof(struct iphdr, check),
						old_word, new_word, 2) < 0)
				return count(DSR_DECAP_CNT_ADJUST_FAILED, TC_ACT_SHOT);
		} else {
			/* The ECN bits are bits 4-5 of the header's second byte. */
			byte1 = (inner6.flow_lbl[0] & ~0x30) | ecn << 4;
			if (bpf_skb_store_bytes(skb, inner_off + 1, &byte1, 1,
						BPF_F_RECOMPUTE_CSUM) < 0)
				return count(DSR_DECAP_CNT_ADJUST_FAILED, TC_ACT_SHOT);
		}
	}

	/* Removes outer_len bytes right after the MAC header. FIXED_GSO: the segments' payload size
	 * does not change when a GRO'd packet loses its outer header. An IPv4 packet out of IPv6
	 * also changes family: DECAP_L3_IPV4 sets skb->protocol, the ethertype is written here. */
	if (bpf_skb_adjust_room(skb, -(__s32)outer_len, BPF_ADJ_ROOM_MAC, adjust) < 0)
		return count(DSR_DECAP_CNT_ADJUST_FAILED, TC_ACT_SHOT);
	if (inner_proto != proto &&
	    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_proto), &inner_proto,
				sizeof(inner_proto), 0) < 0)
		return count(DSR_DECAP_CNT_ADJUST_FAILED, TC_ACT_SHOT);
	return count(DSR_DECAP_CNT_DECAPSULATED, TC_ACT_OK);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
