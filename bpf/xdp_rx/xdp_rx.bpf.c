// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xdp_rx: XDP program on the ingress interface. Takes the SR-MPLS label stack or the NSH header
 * off each packet, caches it under a key that tc_tx can derive again, and hands the plain IP
 * packet (or, for NSH carrying Ethernet, the inner Ethernet frame) to the VNF. */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"
#include "sfc_parsing.h"
#include "sfc_key.h"
#include "rx_parse.h"
#include "rx_cache.h"
#include "rx_pop.h"
#include "rx_srv6.h"

/* Where popped packets go: slot 0 holds the ifindex of the VNF's interface (the host writes it,
 * xdp_rx redirects to it); left empty, the packet goes up the host stack to a local VNF. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* ifindex */
	/* Not pinned: the kernel adds BPF_F_RDONLY_PROG to every devmap, so libbpf would refuse to
	 * reuse the pin after a restart (and a definition cannot ask for that flag); the host fills
	 * each new object's map before its program is attached or swapped id->in. */
} sfc_vnf_port SEC(".maps");

/* Where xdp_rx builds a cache entry before inserting it (header-hash) or copying it into its slot
 * (metadata MPLS, and fragments, whose headers are compared with their datagram's): 368 bytes do
 * not fit the 512-byte BPF stack beside the flow key and the L2 copy. Per-CPU, and XDP does not nest on a CPU, so one slot per CPU is enough. It holds
 * nothing from one packet to the next, so it is not pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_cache_entry);
} sfc_rx_scratch SEC(".maps");

/* What xdp_rx learns of the inner packet at hand (sfc_identify()): 150 bytes the BPF stack has no
 * room for beside the rest. Per-CPU, not pinned: nothing in it outlives one run. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_ident);
} sfc_rx_ident SEC(".maps");

/* Next packet sequence number of this CPU. */
static __always_inline __u32 packet_seq_next(struct sfc_meta_cursor *cur)
{
	return cur->seq++; /* per-CPU slot: no atomics needed */
}

/* Latency sampling rule: the packet with sequence number s goes into the VNF latency histograms
 * when s is a multiple of sfc_config.latency_sample_every (0 and 1: every packet). Sampling
 * keeps tc_tx's clock read and histogram update (~90 ns) off the other packets; the histograms
 * then hold 1 packet in N per CPU, a sample whose distribution stands for all of them. */
static __always_inline __u8 latency_sample(const struct sfc_config *cfg, __u32 s)
{
	__u32 every = cfg->latency_sample_every;

	return every <= 1 || s % every == 0;
}

/* The inner packet at ip_off (l3_proto ETH_P_IP / ETH_P_IPV6, network byte order) summed up, with
 * what flags (SFC_ID_*) ask for (sfc_identify()). A global function, so the verifier
 * checks the extension header walk and the payload digest once rather than on every path of
 * xdp_rx (each VLAN, label and NSH layout). Returns 0, or -1 when the IP header is cut short. */
__attribute__((noinline)) int rx_identify(struct xdp_md *ctx, __u32 ip_off, __u32 l3_proto,
					  struct sfc_ident *id, __u32 flags)
{
	if (!id || ip_off > SFC_MAX_SFC_HLEN)
		return -1;
	return sfc_identify(ctx, 1, ip_off, (__be16)l3_proto, id, flags);
}

SEC("xdp")
int xdp_rx(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	enum sfc_counter outcome = SFC_CNT_RX_NOT_SFC;
	struct hdr_cursor nh = { .pos = data };
	struct sfc_cache_entry *scratch;
	struct sfc_meta_cursor *cur;
	struct sfc_ident *id;
	struct sfc_config *cfg;
	struct sfc_pop pop;
	struct ethhdr *eth;
	__u32 zero = 0, seq, vlans, mask, shift;
	__be16 inner_proto = 0;
	int action = XDP_PASS; /* anything that is not SFC traffic is none of our business */
	int hash_mode, proto;
	__u64 now;
	__u8 sample;

	proto = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (proto == bpf_htons(ETH_P_MPLS_UC))
		pop.encap = SFC_ENCAP_MPLS;
	else if (proto == bpf_htons(ETH_P_NSH))
		pop.encap = SFC_ENCAP_NSH;
	else if (proto == bpf_htons(ETH_P_IPV6))
		pop.encap = SFC_ENCAP_SRV6; /* SRv6 if it is to a proxy SID: read_srv6() decides */
	else
		goto out;

	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	if (!cfg) {
		/* cannot happen (array map), but without the config we cannot pick a key */
		outcome = SFC_CNT_RX_ERROR;
		action = XDP_DROP;
		goto out;
	}
	/* Accepted encapsulations rule: an encapsulation this instance does not take off is not
	 * SFC traffic for it (another proxy or the host stack may own it): passed untouched,
	 * counted RX_NOT_SFC. */
	if (!(cfg->accepted_encaps & (1u << pop.encap)))
		goto out;
	hash_mode = cfg->key_mode == SFC_KEY_HEADER_HASH;

	/* From here on the packet is SFC traffic: an early exit drops it, because the VNF cannot
	 * handle the encapsulated packet and forwarding it without the proxy would skip the VNF. */
	action = XDP_DROP;

	scratch = bpf_map_lookup_elem(&sfc_rx_scratch, &zero);
	cur = bpf_map_lookup_elem(&sfc_meta_seq, &zero);
	id = bpf_map_lookup_elem(&sfc_rx_ident, &zero);
	if (!scratch || !cur || !id) {
		outcome = SFC_CNT_RX_ERROR; /* cannot happen (array maps) */
		goto out;
	}
	/* The scratch is not cleared between packets (528 bytes): fill_entry() writes every field
	 * either mode reads, and the bytes it leaves (the header union past this packet's labels, NSH
	 * or SRv6 header set) are read by nobody: not tc_tx, not same_headers(), not the
	 * host's cache listing. */
	pop.labels = scratch->hdr.labels;
	pop.l2_len = ETH_HLEN + vlans * VLAN_HLEN;
	pop.hdr_len = 0;
	pop.label_count = 0;
	pop.nsh_next_proto = 0;
	pop.strip_l2 = 0;
	pop.oam = 0;
	if (pop.encap == SFC_ENCAP_MPLS) {
		if (read_label_stack(&nh, data_end, &pop, &outcome) < 0)
			goto out;
		if (inner_ip(&nh, data_end, 0, &inner_proto, &outcome) < 0)
			goto out;
		pop.hdr_len = pop.label_count * SFC_MPLS_HLEN;
	} else if (pop.encap == SFC_ENCAP_NSH) {
		if (read_nsh(&nh, data_end, &pop, &inner_proto, &outcome) < 0)
			goto out;
	} else {
		if (read_srv6(ctx, &nh, data_end, &pop, scratch, &inner_proto, &outcome) < 0) {
			if (srv6_passes(outcome))
				action = XDP_PASS; /* not to a proxy SID, or to it without an SRH */
			goto out;
		}
	}

	seq = packet_seq_next(cur);
	sample = latency_sample(cfg, seq);
	/* stamped for every packet: aging needs the pop time of each entry; a latency sample needs
	 * the precise clock, aging a tick's precision (sfc_config.coarse_clock) */
	now = sample || !cfg->coarse_clock ? bpf_ktime_get_ns() : bpf_ktime_get_coarse_ns();

	/* A cache that refuses the entry (full, or a conflicting packet in the VNF) makes us drop
	 * the packet: we never evict cached headers whose packet is still inside the VNF to make
	 * room for this one. Entries of packets the VNF dropped are freed by the host's aging
	 * (header-hash) or taken over once older than MaxAge (metadata, claim_meta()). */
	/* the inner packet as the key or the fingerprints see it, taken before the pop */
	if (rx_identify(ctx, (__u32)(nh.pos - data), inner_proto, id, sfc_ident_flags(cfg)) < 0) {
		outcome = SFC_CNT_RX_TRUNCATED; /* cannot happen: inner_ip() checked the header */
		goto out;
	}

	/* the scratch entry: in header-hash mode inserted whole, in metadata mode
	 * copied into the slot up to what tc_tx reads */
	if (fill_entry(ctx, scratch, &pop, eth, now, sample) < 0) {
		outcome = SFC_CNT_RX_ERROR;
		goto out;
	}
	outcome = hash_mode ? cache_hash(id, scratch, now) : cache_meta(id, scratch, now);
	if (outcome != SFC_CNT_RX_POPPED && outcome != SFC_CNT_RX_DUPLICATE_KEY)
		goto out;

	if (pop_headers(ctx, vlans, pop.hdr_len, inner_proto, pop.strip_l2) < 0)
		goto undo;
	if (!hash_mode) {
		sfc_mark_bits(cfg, &mask, &shift);
		if (write_meta(ctx, (id->token << shift) & mask, mask) < 0)
			goto undo;
	}

	if (pop.encap == SFC_ENCAP_MPLS) {
		sfc_count_n(SFC_CNT_LABELS_POPPED, pop.label_count);
	} else if (pop.encap == SFC_ENCAP_SRV6) {
		sfc_count(SFC_CNT_SRV6_POPPED);
	} else {
		sfc_count(SFC_CNT_NSH_POPPED);
		/* OAM packets are carried like any other (RFC 8300 leaves them to the SFC-aware
		 * nodes; the VNF sees only the inner packet), but counted */
		if (pop.oam)
			sfc_count(SFC_CNT_NSH_OAM);
	}
	/* Empty slot: XDP_PASS up the host stack (VNF on this host); set: XDP_REDIRECT. */
	action = bpf_redirect_map(&sfc_vnf_port, 0, XDP_PASS);
	goto out;

undo:
	/* the helper failure leaves a packet we cannot hand on: drop it and give back its cache
	 * entry (a fragment that joined its datagram's slot has nothing of its own to give back) */
	if (hash_mode)
		hash_undo(id);
	else if (!id->joined)
		meta_undo(id->index, id->token);
	outcome = SFC_CNT_RX_ERROR;
	action = XDP_DROP;
out:
	sfc_count(outcome);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
