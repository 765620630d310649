// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* meta_mark: tc ingress companion of xdp_rx on the ingress interface (metadata key mode). Moves
 * the cache key from the XDP metadata into its bits of skb->mark, the one place it survives the
 * stack up to tc_tx on the egress interface. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "sfc_shared.h"
#include "sfc_maps.h"

SEC("tc")
int meta_mark(struct __sk_buff *skb)
{
	void *data_meta = (void *)(long)skb->data_meta;
	void *data = (void *)(long)skb->data;
	struct sfc_xdp_meta *meta = data_meta;
	enum sfc_counter outcome = SFC_CNT_MARK_NO_META;

	/* The magic keeps us from trusting metadata some other XDP program left. Only the mark
	 * bits the operator gave the proxy change: other users of the mark keep theirs. */
	if ((void *)(meta + 1) <= data && meta->magic == SFC_META_MAGIC) {
		skb->mark = (skb->mark & ~meta->mask) | (meta->key & meta->mask);
		outcome = SFC_CNT_MARK_SET;
	}

	sfc_count(outcome);
	return TC_ACT_OK; /* never drops: it only annotates */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
