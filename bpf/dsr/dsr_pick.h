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

/* The IPv6 flow hash: the same mix over the addresses' four words each (mirrored by
 * DsrFlowHash.Compute for IPv6 addresses). */
static __always_inline __u32 dsr_flow_hash6(const struct dsr_conn6_key *k)
{
	__u32 h = dsr_mix(k->proto + 0x9e3779b9);
	int i;

	h = dsr_mix(h ^ ((__u32)bpf_ntohs(k->sport) << 16 | bpf_ntohs(k->dport)));
#pragma unroll
	for (i = 0; i < 4; i++)
		h = dsr_mix(h ^ bpf_ntohl(k->daddr[i]));
#pragma unroll
	for (i = 0; i < 4; i++)
		h = dsr_mix(h ^ bpf_ntohl(k->saddr[i]));
	return h;
}

/* Whether a dsr_backends slot holds a backend (an all-zero slot is none). */
static __always_inline int dsr_backend_present(const struct dsr_backend *be)
{
	return be->addr || (be->flags & DSR_BACKEND_F_IPV6);
}

/* Picks the backend: connection table (conns, keyed by key: dsr_conns or dsr_conns6) unless
 * SYN, else Maglev. Returns the backend's slot, or NULL. An ICMP error about the flow (icmp)
 * finds the backend the same way but records no connection: it is not the client's packet. */
static __always_inline const struct dsr_backend *dsr_pick(void *conns, void *key, __u32 service_id,
							   __u32 hash, int syn, int icmp,
							   __u32 *backend_out)
{
	struct dsr_backend *be;
	struct dsr_conn *conn, fresh = {};
	__u32 slot, *id;
	void *inner;

	if (!syn) {
		conn = bpf_map_lookup_elem(conns, key);
		if (conn && conn->service_id == service_id) {
			__u32 bid = conn->backend_id;

			be = bpf_map_lookup_elem(&dsr_backends, &bid);
			if (be && dsr_backend_present(be)) {
				dsr_count_in(&dsr_counters, DSR_CNT_CONN_HIT);
				*backend_out = bid;
				return be;
			}
		}
	}
	inner = bpf_map_lookup_elem(&dsr_maglev, &service_id);
	if (!inner)
		return NULL;
	slot = hash % DSR_MAGLEV_SIZE;
	id = bpf_map_lookup_elem(inner, &slot);
	if (!id || *id == 0)
		return NULL;
	fresh.backend_id = *id;
	fresh.service_id = service_id;
	be = bpf_map_lookup_elem(&dsr_backends, &fresh.backend_id);
	if (!be || !dsr_backend_present(be))
		return NULL;
	*backend_out = fresh.backend_id;
	if (icmp)
		return be;
	bpf_map_update_elem(conns, key, &fresh, BPF_ANY);
	dsr_count_in(&dsr_counters, DSR_CNT_CONN_NEW);
	return be;
}

#endif /* DSR_PICK_H */
