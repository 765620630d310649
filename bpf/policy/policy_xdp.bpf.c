// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* policy_xdp: the same policy as policy_tc (policy_logic.h) at XDP, for interfaces where drops
 * should happen before an skb exists. It shares every map with policy_tc through the pins.
 * Checks (probes) go through policy_tc only: XDP has no mark or cb to carry them. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "policy_shared.h"
#include "policy_maps.h"
#include "policy_logic.h"

/* An ICMP error's quoted packet; a global function, checked once by the verifier (see
 * pol_quote_skb() in policy.bpf.c). */
__noinline int pol_quote_xdp(struct xdp_md *ctx, __u32 off, __u32 family, struct pol_flow *q)
{
	if (!q)
		return -1;
	return pol_parse_quote((void *)(long)ctx->data, (void *)(long)ctx->data_end, off, family, q);
}

/* The packet as the policy sees it; a global function, checked once (see pol_parse_skb()). */
__noinline int pol_parse_xdp(struct xdp_md *ctx, struct pol_packet *p)
{
	__u32 quote;
	int rc;

	if (!p)
		return POL_PARSE_MALFORMED;
	rc = pol_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, p, &quote);
	if (rc == POL_PARSE_OK && quote)
		p->quoted_ok = pol_quote_xdp(ctx, quote, p->pkt.family, &p->quoted) == 0;
	return rc;
}

SEC("xdp")
int policy_xdp(struct xdp_md *ctx)
{
	struct pol_packet p = {};
	struct pol_result res;
	int rc;

	rc = pol_parse_xdp(ctx, &p);
	pol_judge(&p, rc, 0, &res);
	return pol_allows(res.outcome) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
