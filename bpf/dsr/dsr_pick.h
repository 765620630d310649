/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's backend choice: the flow hash, then the connection table or the
 * service's Maglev table. */
#ifndef DSR_PICK_H
#define DSR_PICK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dsr_shared.h"
#include "dsr_maps.h"

/* murmur3 finalizer. */
static __always_inline __u32 dsr_mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Flow hash over host-order values (mirrored by DsrFlowHash.Compute in C#). */
static __always_inline __u32 dsr_flow_hash(const struct dsr_conn_key *k)
{
	__u32 h = dsr_mix(k->proto + 0x9e3779b9);

	h = dsr_mix(h ^ ((__u32)bpf_ntohs(k->sport) << 16 | bpf_ntohs(k->dport)));
	h = dsr_mix(h ^ bpf_ntohl(k->daddr));
	h = dsr_mix(h ^ bpf_ntohl(k->saddr));
	return h;
}

/* Picks the backend: connection table unless SYN, else Maglev. Returns the address or 0. */
static __always_inline __be32 dsr_pick(struct dsr_conn_key *key, __u32 service_id, __u32 hash,
				      int syn, __u32 *backend_out)
{
	struct dsr_backend *be;
	struct dsr_conn *conn, fresh = {};
	__u32 slot, *id;
	void *inner;

	if (!syn) {
		conn = bpf_map_lookup_elem(&dsr_conns, key);
		if (conn && conn->service_id == service_id) {
			__u32 bid = conn->backend_id;

			be = bpf_map_lookup_elem(&dsr_backends, &bid);
			if (be && be->addr) {
				dsr_count_in(&dsr_counters, DSR_CNT_CONN_HIT);
				*backend_out = bid;
				return be->addr;
			}
		}
	}
	inner = bpf_map_lookup_elem(&dsr_maglev, &service_id);
	if (!inner)
		return 0;
	slot = hash % DSR_MAGLEV_SIZE;
	id = bpf_map_lookup_elem(inner, &slot);
	if (!id || *id == 0)
		return 0;
	fresh.backend_id = *id;
	fresh.service_id = service_id;
	be = bpf_map_lookup_elem(&dsr_backends, &fresh.backend_id);
	if (!be || !be->addr)
		return 0;
	bpf_map_update_elem(&dsr_conns, key, &fresh, BPF_ANY);
	dsr_count_in(&dsr_counters, DSR_CNT_CONN_NEW);
	*backend_out = fresh.backend_id;
	return be->addr;
}

#endif /* DSR_PICK_H */
