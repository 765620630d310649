// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* policy_tc: tc ingress program on the protected interface. Allows or drops each packet by the
 * identity-based policy (policy_logic.h); its cost does not depend on the number of rules. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "policy_shared.h"
#include "policy_maps.h"
#include "policy_logic.h"

/* Bytes the headers need at most (Ethernet, 2 tags, IPv4 with options / IPv6, TCP); pulled into
 * the linear part of a non-linear skb before parsing. */
#define POL_PULL_LEN 128

SEC("tc")
int policy_tc(struct __sk_buff *skb)
{
	struct pol_result res;
	void *data, *data_end;
	__u32 linear, want;
	int probe;

	linear = skb->data_end - skb->data;
	if (linear < POL_PULL_LEN && skb->len > linear) {
		want = skb->len < POL_PULL_LEN ? skb->len : POL_PULL_LEN;
		bpf_skb_pull_data(skb, want); /* on failure the parser sees the short linear part */
	}
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	probe = skb->mark == POL_PROBE_MARK;
	pol_evaluate(data, data_end, probe, &res);
	if (probe) {
		skb->cb[POL_CB_OUTCOME] = res.outcome;
		skb->cb[POL_CB_RULE_ID] = res.rule_id;
		skb->cb[POL_CB_SRC_IDENTITY] = res.src_identity;
		skb->cb[POL_CB_DST_IDENTITY] = res.dst_identity;
		skb->cb[POL_CB_MAGIC] = POL_PROBE_MARK;
	}
	return pol_allows(res.outcome) ? TC_ACT_OK : TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
