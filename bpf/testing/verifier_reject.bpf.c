// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Loader test probe: a program the verifier must reject (packet read without a bounds check), so
 * the tests can check that a failed load reports the verifier's complaint. Never attached. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int unchecked_read(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;

	/* Deliberately no "if (data + 1 > data_end)" check. */
	return data[0] == 0x45 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
