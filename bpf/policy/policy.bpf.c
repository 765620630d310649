// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* policy_tc: tc program on both directions of every policy interface. Allows or drops each
 * packet by the identity-based policy (policy_logic.h); its cost does not depend on the number of
 * rules. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "policy_shared.h"
#include "policy_maps.h"
#include "policy_logic.h"

/* Bytes pulled into the linear part of a non-linear skb when the headers the policy reads are not
 * all there: Ethernet, 2 tags, IPv6 with extension headers, and an ICMP error's quote. Only then:
 * a clone (every TCP segment a local socket sends) is copied by the pull. */
#define POL_PULL_LEN 512

/* An ICMP error's quoted packet (pol_parse_quote()). A global function: the verifier checks it
 * once, on its own, rather than once for every way through the outer headers. */
__noinline int pol_quote_skb(struct __sk_buff *skb, __u32 off, __u32 family, struct pol_flow *q)
{
	if (!q)
		return -1;
	return pol_parse_quote((void *)(long)skb->data, (void *)(long)skb->data_end, off, family, q);
}

/* The packet as the policy sees it (pol_parse(), then the quote of an ICMP error). A global
 * function for the same reason: pol_judge() is then checked once, not once per parse path. */
__noinline int pol_parse_skb(struct __sk_buff *skb, struct pol_packet *p)
{
	__u32 quote;
	int rc;

	if (!p)
		return POL_PARSE_MALFORMED;
	rc = pol_parse((void *)(long)skb->data, (void *)(long)skb->data_end, p, &quote);
	if (rc == POL_PARSE_OK && quote)
		p->quoted_ok = pol_quote_skb(skb, quote, p->pkt.family, &p->quoted) == 0;
	return rc;
}

/* Whether the parse may have stopped at the end of the linear part rather than of the packet. */
static __always_inline int pol_wants_more(int rc, const struct pol_packet *p)
{
	return rc == POL_PARSE_MALFORMED || (p->pkt.kind == POL_PKT_ICMP_ERROR && !p->quoted_ok);
}

SEC("tc")
int policy_tc(struct __sk_buff *skb)
{
	struct pol_packet p = {};
	struct pol_result res;
	__u32 linear, want;
	int probe, rc;

	rc = pol_parse_skb(skb, &p);
	linear = skb->data_end - skb->data;
	if (pol_wants_more(rc, &p) && skb->len > linear && linear < POL_PULL_LEN) {
		want = skb->len < POL_PULL_LEN ? skb->len : POL_PULL_LEN;
		/* on failure the parser sees the same short linear part again */
		bpf_skb_pull_data(skb, want);
		rc = pol_parse_skb(skb, &p);
	}

	probe = skb->mark == POL_PROBE_MARK;
	pol_judge(&p, rc, probe, &res);
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
