// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only floor of the DSR packet-rate run (vm-lab/lab/dsr.sh builds it at run time with clang -D;
 * never part of the product): what any XDP forwarder does at the least, and dsr_lb does too —
 * rewrite both MACs and bpf_redirect to the egress interface. No parsing, no lookup, no
 * encapsulation, so dsr_lb's rate against this one is the price of the load balancing itself.
 * FWD_IFINDEX: egress ifindex; FWD_SMAC / FWD_DMAC: the MACs as {0x.., ...} initialisers. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

static const unsigned char smac[ETH_ALEN] = FWD_SMAC;
static const unsigned char dmac[ETH_ALEN] = FWD_DMAC;

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	return bpf_redirect(FWD_IFINDEX, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
