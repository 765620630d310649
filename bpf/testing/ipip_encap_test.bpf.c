// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Test helper, not a datapath: a tc egress program that wraps IPv4 packets to one VIP in an outer
 * IPv4 header (protocol 4) to one backend, as the DSR load balancer would. It lets the backend
 * tests (DsrDecapNamespaceTests) run real TCP connections through dsr_decap without the load
 * balancer and without an ipip module. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct ipip_test_cfg {
	__be32 vip;   /* inner destination that is encapsulated */
	__be32 saddr; /* outer source */
	__be32 daddr; /* outer destination (the backend) */
	__u32 packets; /* packets encapsulated (not per-CPU: a test counter) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipip_test_cfg);
} ipip_test_cfg SEC(".maps");

SEC("tc")
int ipip_encap_test(struct __sk_buff *skb)
{
	struct iphdr inner, outer = {};
	struct ipip_test_cfg *cfg;
	__u32 zero = 0;
	__be16 proto;
	__s64 sum;

	cfg = bpf_map_lookup_elem(&ipip_test_cfg, &zero);
	if (!cfg || !cfg->vip)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)) < 0 ||
	    proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &inner, sizeof(inner)) < 0 || inner.daddr != cfg->vip)
		return TC_ACT_OK;

	if (bpf_skb_adjust_room(skb, sizeof(outer), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4) < 0)
		return TC_ACT_SHOT;
	outer.version = 4;
	outer.ihl = 5;
	outer.tot_len = bpf_htons(bpf_ntohs(inner.tot_len) + sizeof(outer));
	outer.frag_off = bpf_htons(0x4000); /* DF */
	outer.ttl = 64;
	outer.protocol = IPPROTO_IPIP;
	outer.saddr = cfg->saddr;
	outer.daddr = cfg->daddr;
	sum = bpf_csum_diff(0, 0, (__be32 *)&outer, sizeof(outer), 0);
	if (sum < 0)
		return TC_ACT_SHOT;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	outer.check = ~(__u16)sum;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &outer, sizeof(outer), 0) < 0)
		return TC_ACT_SHOT;
	__sync_fetch_and_add(&cfg->packets, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
