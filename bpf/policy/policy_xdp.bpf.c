// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* policy_xdp: the same policy as policy_tc (policy_logic.h) at XDP, for interfaces where drops
 * should happen before an skb exists. It shares every map with policy_tc through the pins.
 * Checks (probes) go through policy_tc only: XDP has no mark or cb to carry them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "policy_shared.h"
#include "policy_maps.h"
#include "policy_logic.h"

SEC("xdp")
int policy_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct pol_result res;

	pol_evaluate(data, data_end, 0, &res);
	return pol_allows(res.outcome) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
