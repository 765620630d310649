// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Loader test probe: counts packets and exposes a hash map, both pinned by name, so the loader's
 * tests can check map access, per-CPU reads and sharing maps through a pin root. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Packets seen, per CPU (index 0). Written by probe_count, read by the tests; no atomics needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} probe_packets SEC(".maps");

/* Free-form key/value store written and read by the tests; probe_count bumps key 1 if present. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} probe_table SEC(".maps");

SEC("xdp")
int probe_count(struct xdp_md *ctx)
{
	__u32 zero = 0, one = 1;
	__u64 *packets, *seen;

	packets = bpf_map_lookup_elem(&probe_packets, &zero);
	if (packets)
		*packets += 1;
	seen = bpf_map_lookup_elem(&probe_table, &one);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
