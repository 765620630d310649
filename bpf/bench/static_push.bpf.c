// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The benchmark's static proxy, egress half: the least a tc program can do to put SFC headers
 * back. It pushes one constant header (the bench writes it into static_push_hdr: a label stack,
 * an NSH header or an outer IPv6 header with its SRH, the size the datapath pushes in the same
 * row) behind the Ethernet header, the way
 * tc_tx pushes (bpf_skb_change_head() and one bpf_skb_store_bytes() of Ethernet header + SFC
 * headers). No parse of the inner packet, no cache, no counters. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

/* the largest the datapath pushes: an SRv6 header set (SFC_SRV6_MAX_LEN) */
#define STATIC_MAX_HDR 384

struct static_hdr {
	__u32 len;      /* bytes of hdr to push, 0..STATIC_MAX_HDR; 0 pushes nothing */
	__be16 proto;   /* the Ethernet type in front of them */
	__u16 reserved;
	__u8 eth[ETH_HLEN];
	__u8 hdr[STATIC_MAX_HDR];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct static_hdr);
} static_push_hdr SEC(".maps");

SEC("tc")
int static_push(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct static_hdr *h;
	__u32 zero = 0, len;

	h = bpf_map_lookup_elem(&static_push_hdr, &zero);
	if (!h || !h->len)
		return TC_ACT_OK;
	len = h->len;
	if (len > STATIC_MAX_HDR || data + ETH_HLEN > data_end)
		return TC_ACT_SHOT;
	/* the packet's own MACs in front of the pushed headers (the map's copy is the buffer the
	 * one store writes from; per CPU is not needed in a single-threaded bench) */
	__builtin_memcpy(h->eth, data, ETH_HLEN - 2);
	*(__be16 *)(h->eth + ETH_HLEN - 2) = h->proto;
	if (bpf_skb_change_head(skb, len, 0))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, 0, h->eth, ETH_HLEN + len, 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
