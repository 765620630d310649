/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the definition of the maps used by dsr_lb (katran balancer_maps.h) and the
 * per-CPU counting over them. The host creates, fills and reads them through their pinned names
 * (SfcProxy/Dsr/DsrObjects.cs). */
#ifndef DSR_MAPS_H
#define DSR_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "dsr_shared.h"

/* The one dsr_config the host writes at start (MTU, MSS clamp, source, next hop, flags). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dsr_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_config SEC(".maps");

/* (VIP, port, protocol) -> service id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, struct dsr_vip_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_services SEC(".maps");

/* (IPv6 VIP, port, protocol) -> service id; ids shared with dsr_services. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, struct dsr_vip6_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_services6 SEC(".maps");

/* Backend id -> address (IPv4 or IPv6: the outer header's family). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DSR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct dsr_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_backends SEC(".maps");

/* Service id -> Maglev table (DSR_MAGLEV_SIZE backend ids), swapped whole by the host. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, DSR_MAGLEV_SIZE);
		__type(key, __u32);
		__type(value, __u32);
	});
} dsr_maglev SEC(".maps");

/* Client 5-tuple -> backend, so established flows survive table changes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CONN_DEFAULT_ENTRIES);
	__type(key, struct dsr_conn_key);
	__type(value, struct dsr_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_conns SEC(".maps");

/* The IPv6 clients' connection table (the IPv4 one keeps its smaller key and cost). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CONN_DEFAULT_ENTRIES);
	__type(key, struct dsr_conn6_key);
	__type(value, struct dsr_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_conns6 SEC(".maps");

/* The outer IPv4 ID counter of DF-clear packets, per CPU (no atomics; the CPU number in the low
 * bits keeps CPUs apart, see dsr_ip_id()). Kernel only: the host never reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} dsr_ip_ids SEC(".maps");

/* Packets dsr_lb handled, by outcome (enum dsr_counter, exactly one per packet) and by event
 * (FIB lookups, next-hop cache hits, MSS clamps, ...), per CPU; the host sums. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_counters SEC(".maps");

/* Packets and bytes sent per backend id and per service id (per-CPU; the host sums). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_backend_traffic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_service_traffic SEC(".maps");

/* A bpf_fib_lookup answer for a backend, kept for at most dsr_config.nexthop_max_age_ms. Only
 * successful lookups are stored; the entry names the backend address and ingress interface it
 * was looked up for, so an id reused for another backend (after a purge) or a packet arriving
 * elsewhere misses instead of using it. Kernel only: the host never reads it. */
struct dsr_nexthop {
	__u64 stamp;     /* bpf_ktime_get_coarse_ns() of the lookup */
	__be32 backend;  /* the IPv4 backend address looked up; 0 for an IPv6 backend */
	__u32 ingress;   /* ingress ifindex of the lookup */
	__u32 egress;    /* the FIB's egress ifindex */
	__u8 smac[6];
	__u8 dmac[6];
	__be32 backend6[4]; /* the IPv6 backend address looked up (backend 0) */
};

/* Backend id -> its cached next hop. Written and read by dsr_lb only, per CPU (no atomics, no
 * torn entries: a CPU only sees its own). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct dsr_nexthop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_nexthops SEC(".maps");

static __always_inline void dsr_count_in(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline void dsr_count_traffic(void *map, __u32 key, __u32 bytes)
{
	struct dsr_traffic *t = bpf_map_lookup_elem(map, &key);

	if (t) { /* per-CPU slot: no atomics needed */
		t->packets += 1;
		t->bytes += bytes;
	}
}

#endif /* DSR_MAPS_H */
