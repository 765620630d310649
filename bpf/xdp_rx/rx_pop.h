/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains xdp_rx's last steps: taking the SFC headers off the packet and, in metadata
 * key mode, leaving the key in the XDP metadata for meta_mark. */
#ifndef XDP_RX_POP_H
#define XDP_RX_POP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "l2_copy.h"
#include "sfc_shared.h"
#include "sfc_consts.h"

/* Pops hdr_bytes of SFC headers (label stack or NSH) behind the L2 header. strip_l2 (NSH
 * carrying Ethernet): the L2 header goes too, so the packet starts at the inner frame.
 * Otherwise: saves the L2 header (with the innermost ethertype set to the inner packet's),
 * moves the packet start past the SFC headers and writes the L2 header back there.
 * Returns 0, or -1 when a helper or bounds check fails. */
static __always_inline int pop_headers(struct xdp_md *ctx, __u32 vlans, __u32 hdr_bytes,
				       __be16 inner_proto, int strip_l2)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u8 l2[L2_MAX_LEN];

	if (strip_l2)
		return bpf_xdp_adjust_head(ctx, ETH_HLEN + vlans * VLAN_HLEN + hdr_bytes) ? -1 : 0;

	if (l2_load(l2 + L2_MAX_LEN, data, data_end, vlans))
		return -1;

	if (bpf_xdp_adjust_head(ctx, hdr_bytes))
		return -1;

	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	return l2_store(data, data_end, l2 + L2_MAX_LEN, vlans, inner_proto);
}

/* Metadata key mode: puts the key, already shifted into the mark bits, and those bits in front
 * of the packet for meta_mark (tc ingress), which writes them into skb->mark. Host byte order:
 * it never leaves this kernel. Returns 0 or -1. */
static __always_inline int write_meta(struct xdp_md *ctx, __u32 key, __u32 mask)
{
	struct sfc_xdp_meta *meta;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return -1;

	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 1) > data)
		return -1;

	meta->magic = SFC_META_MAGIC;
	meta->reserved = 0;
	meta->key = key;
	meta->mask = mask;
	return 0;
}

#endif /* XDP_RX_POP_H */
