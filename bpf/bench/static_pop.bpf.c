// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The benchmark's static proxy, ingress half: the least an XDP program can do to take SFC headers
 * off a packet (bench_pop.h): it finds their length, moves the packet start past them with
 * bpf_xdp_adjust_head() and writes the Ethernet header back in front of the inner packet. No
 * VLANs, no inner parse, no cache, no counters: what any proxy in this hook design pays, so the
 * datapath's cost reads as a ratio to its job's own limit (sfcproxy bench, "static" columns). */
#include "bench_pop.h"

SEC("xdp")
int static_pop(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	int pop;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	pop = bench_pop_len(eth, data_end);
	if (pop < 0)
		return -pop;
	return bench_pop(ctx, *eth, pop) ?: XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
