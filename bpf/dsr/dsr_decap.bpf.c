// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dsr_decap: tc ingress program of a DSR backend. The load balancer sends it the client's packet
 * (client -> VIP) inside an outer IPv4 header (protocol 4, LB -> backend). When the inner
 * destination is one of the configured VIPs the outer header is removed, so the stack receives
 * the client's packet as sent; the VIP sits on the backend's loopback, so a local socket takes it
 * and the reply goes from the VIP straight to the client, bypassing the load balancer. No ipip
 * module (or tunnel device) is needed. Everything else passes untouched.
 *
 * Outer IPv4 options are allowed (the whole outer header is removed). Outer fragments are left to
 * the stack (the load balancer sets DF, so they should not occur). The outer destination is not
 * checked: the packet reached this host's ingress, and the inner VIP decides. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
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

SEC("tc")
int dsr_decap(struct __sk_buff *skb)
{
	struct iphdr outer, inner;
	__be16 proto;
	__u32 outer_len;

	/* bpf_skb_load_bytes rather than direct access: works whatever part of the skb is linear. */
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)) < 0 ||
	    proto != bpf_htons(ETH_P_IP))
		return count(DSR_DECAP_CNT_NOT_IPIP, TC_ACT_OK);
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &outer, sizeof(outer)) < 0 ||
	    outer.version != 4 || outer.ihl < 5)
		return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);
	if (outer.protocol != IPPROTO_IPIP)
		return count(DSR_DECAP_CNT_NOT_IPIP, TC_ACT_OK);
	if (outer.frag_off & bpf_htons(IPV4_MF | IPV4_OFFSET_MASK))
		return count(DSR_DECAP_CNT_FRAGMENT, TC_ACT_OK);

	outer_len = outer.ihl * 4;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + outer_len, &inner, sizeof(inner)) < 0 ||
	    inner.version != 4 || inner.ihl < 5 ||
	    bpf_ntohs(outer.tot_len) < outer_len + sizeof(inner))
		return count(DSR_DECAP_CNT_MALFORMED, TC_ACT_OK);

	if (!bpf_map_lookup_elem(&dsr_decap_vips, &inner.daddr))
		return count(DSR_DECAP_CNT_NOT_VIP, TC_ACT_OK);

	/* Removes outer_len bytes right after the MAC header; the ethertype stays IPv4. FIXED_GSO:
	 * the segments' payload size does not change when a GRO'd packet loses its outer header. */
	if (bpf_skb_adjust_room(skb, -(__s32)outer_len, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_FIXED_GSO) < 0)
		return count(DSR_DECAP_CNT_ADJUST_FAILED, TC_ACT_SHOT);
	return count(DSR_DECAP_CNT_DECAPSULATED, TC_ACT_OK);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
