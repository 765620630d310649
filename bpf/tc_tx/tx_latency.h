/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains tc_tx's VNF latency recording: the log2 histogram bucket and the update of
 * the chain's per-CPU histogram for a sampled cache hit. */
#ifndef TC_TX_LATENCY_H
#define TC_TX_LATENCY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"

/* Bucket of a VNF latency histogram for ns: floor(log2(ns)), capped at the last bucket; 0 ns
 * goes to bucket 0. A binary search over shifts (6 compares, no loop): BPF v1 has no count
 * leading zeros instruction. */
static __always_inline __u32 latency_bucket(__u64 ns)
{
	__u32 b = 0;

	if (ns >> 32) {
		b += 32;
		ns >>= 32;
	}
	if (ns >> 16) {
		b += 16;
		ns >>= 16;
	}
	if (ns >> 8) {
		b += 8;
		ns >>= 8;
	}
	if (ns >> 4) {
		b += 4;
		ns >>= 4;
	}
	if (ns >> 2) {
		b += 2;
		ns >>= 2;
	}
	if (ns >> 1)
		b += 1;
	return b < SFC_LAT_BUCKETS - 1 ? b : SFC_LAT_BUCKETS - 1;
}

/*
 * Adds the time the packet spent in the VNF (xdp_rx's pop to now) to its chain's histogram.
 * Called once per cache HIT of a sampled entry (latency_sample, see xdp_rx), before anything
 * decides the packet's fate, so every sampled hit counts: restored, restored-last, TTL expired,
 * SI exhausted, GSO and helper errors alike - the time in the VNF is known for all of them, and
 * the histogram then counts exactly the sampled packets that came back from the VNF with their
 * headers still cached. Misses have no pop time and do not count. The chain is the popped top
 * label's value (MPLS), the SPI (NSH) or the proxy SID's index (SRv6). An entry stamped later than now (another CPU's clock
 * read racing this one) counts as 0 ns.
 *
 * A chain seen for the first time is inserted zeroed (BPF_NOEXIST: when another CPU inserts it
 * first, the update fails and the lookup below finds that CPU's entry) and looked up again. If
 * the map refuses or the LRU evicts the chain in between, the sample is lost: a histogram is
 * a statistic, the packet is not affected. A global function: its 256-byte zeroed histogram stays
 * off tc_tx's own stack frame, which the calls to the key's global functions add to.
 */
__attribute__((noinline)) int record_latency(const struct sfc_cache_entry *e)
{
	struct sfc_chain_key key = {};
	struct sfc_latency_hist *hist;
	__u64 now = bpf_ktime_get_ns(), ingress;
	__u32 b;

	if (!e)
		return 0;
	key.encap = e->encap;
	ingress = e->ingress_ns;

	if (e->encap == SFC_ENCAP_NSH)
		/* SPI: the top 24 bits of the service path header (bytes 4-7) */
		key.chain = bpf_ntohl(*(const __be32 *)&e->hdr.nsh[4]) >> 8;
	else if (e->encap == SFC_ENCAP_SRV6)
		key.chain = e->srv6_sid; /* the proxy SID: SRv6's segment of this VNF */
	else
		key.chain = bpf_ntohl(e->hdr.labels[0]) >> SFC_MPLS_LABEL_SHIFT;

	hist = bpf_map_lookup_elem(&sfc_latency, &key);
	if (!hist) {
		struct sfc_latency_hist zero = {};

		bpf_map_update_elem(&sfc_latency, &key, &zero, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(&sfc_latency, &key);
		if (!hist)
			return 0;
	}
	b = latency_bucket(now > ingress ? now - ingress : 0);
	hist->buckets[b] += 1; /* this CPU's histogram: no atomics needed */
	return 0;
}

#endif /* TC_TX_LATENCY_H */
