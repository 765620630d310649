// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The benchmark's least per-packet cache: the static proxy (bench_pop.h, static_push) plus the one
 * thing a proxy that gives each packet its own headers back cannot leave out, a slot per packet.
 * slot_pop copies the popped headers into the next slot of its CPU's ring (as many slots and the
 * same stride as the datapath's metadata cache at its default size) and leaves the slot's number
 * in the XDP metadata; slot_push reads the slot the mark names and pushes its bytes. It pushes as
 * many bytes as the datapath does: an SR-MPLS stack without its top label (the VNF's own segment,
 * Proxy:ConsumedSegments 1), NSH and SRv6 whole (not updating SI, SL or the destination: a few
 * stores). No claim
 * (compare-and-swap), no generation, no fingerprint, no aging, no counters: it would hand a
 * packet another's headers the moment a VNF held one, so it is a measuring stick, never a proxy.
 * Set against static_pop + static_push in the same run, it tells what touching a slot in memory
 * costs on this machine, a cost no cache can avoid (sfcproxy bench, "slot" column). */
#include <linux/pkt_cls.h>
#include "bench_pop.h"
#include "../sfc/sfc_shared.h" /* the datapath's entry size, metadata layout and header limit */

#define SLOT_HDR_MAX SFC_SRV6_MAX_LEN /* an SRv6 header set, the largest the datapath caches */
#define SLOT_RING 2048    /* slots per CPU ring: the metadata default (4,096) over 2 CPUs */
#define SLOT_CPUS 2       /* the bench machine's; more CPUs share rings, fine for a stick */

struct slot {
	__u32 len;     /* header bytes to push back (0: none) */
	__be16 proto;  /* the Ethernet type in front of them */
	__u16 reserved;
	__u8 eth[ETH_HLEN];
	__u8 hdr[SLOT_HDR_MAX];
	/* as big as a datapath cache entry: the same memory per packet */
	__u8 pad[sizeof(struct sfc_cache_entry) - 8 - ETH_HLEN - SLOT_HDR_MAX];
};
_Static_assert(sizeof(struct slot) == sizeof(struct sfc_cache_entry), "a slot as big as a datapath cache entry");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOT_RING * SLOT_CPUS);
	__type(key, __u32);
	__type(value, struct slot);
} slot_ring SEC(".maps");

/* next slot of this CPU's ring */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} slot_cursor SEC(".maps");

SEC("xdp")
int slot_pop(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data, saved;
	__u32 zero = 0, idx, *cur;
	struct sfc_xdp_meta *meta;
	struct slot *s;
	int pop, skip, len;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	pop = bench_pop_len(eth, data_end);
	if (pop < 0)
		return -pop;
	if (pop < MPLS_HLEN || pop > SLOT_HDR_MAX)
		return XDP_DROP;
	cur = bpf_map_lookup_elem(&slot_cursor, &zero);
	if (!cur)
		return XDP_DROP;
	idx = (bpf_get_smp_processor_id() % SLOT_CPUS) * SLOT_RING + (*cur)++ % SLOT_RING;
	s = bpf_map_lookup_elem(&slot_ring, &idx);
	if (!s)
		return XDP_DROP;
	skip = eth->h_proto == bpf_htons(0x8847) ? MPLS_HLEN : 0; /* the consumed label */
	len = pop - skip;
	s->len = len;
	s->proto = eth->h_proto;
	if (len > 0 && bpf_xdp_load_bytes(ctx, ETH_HLEN + skip, s->hdr, len))
		return XDP_DROP;
	saved = *eth;
	if (bench_pop(ctx, saved, pop))
		return XDP_DROP;
	/* the slot's number + 1 in the metadata, as xdp_rx leaves its key */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return XDP_DROP;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return XDP_DROP;
	meta->magic = SFC_META_MAGIC;
	meta->reserved = 0;
	meta->key = idx + 1;
	meta->mask = 0xffffffff;
	return XDP_PASS;
}

SEC("tc")
int slot_push(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 idx = skb->mark - 1, len;
	struct slot *s;

	s = bpf_map_lookup_elem(&slot_ring, &idx);
	if (!s)
		return TC_ACT_OK;
	skb->mark = 0;
	len = s->len;
	if (!len)
		return TC_ACT_OK; /* nothing left to push (one label, consumed) */
	if (len > SLOT_HDR_MAX || data + ETH_HLEN > data_end)
		return TC_ACT_SHOT;
	__builtin_memcpy(s->eth, data, ETH_HLEN - 2);
	*(__be16 *)(s->eth + ETH_HLEN - 2) = s->proto;
	if (bpf_skb_change_head(skb, len, 0))
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, 0, s->eth, ETH_HLEN + len, 0))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
