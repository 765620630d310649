/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains dsr_lb's TCP MSS clamp: a SYN's MSS option lowered so the client's
 * segments still fit the MTU once encapsulated, the TCP checksum updated incrementally. */
#ifndef DSR_MSS_H
#define DSR_MSS_H

#include <linux/bpf.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "csum.h"
#include "dsr_shared.h"
#include "dsr_maps.h"
#include "dsr_parsing.h"

/* Options (NOPs included) the MSS clamp looks at before giving up; every common stack puts MSS
 * first, so this only bounds the verifier's work (40 makes its state count explode). */
#define DSR_MSS_WALK_OPTIONS 12

/* Lowers the MSS option of a SYN to clamp. tcp (at tcp_off from the frame start) has its fixed
 * header inside the packet; the options are read with bpf_xdp_load_bytes, so the walk's offset
 * stays a plain scalar. A global function, so the verifier checks it once, not per caller path. */
__attribute__((noinline)) int dsr_clamp_mss(struct xdp_md *ctx, __u32 tcp_off, __u32 clamp)
{
	__u32 optlen, off = 0;
	__u8 opt[4];
	__u16 check;
	int i;

	if (!ctx || bpf_xdp_load_bytes(ctx, tcp_off + 12, opt, 1))
		return 0;
	optlen = (opt[0] >> 4) * 4;
	if (optlen <= 20)
		return 0;
	optlen -= 20;

	for (i = 0; i < DSR_MSS_WALK_OPTIONS; i++) {
		if (off >= optlen)
			break;
		if (bpf_xdp_load_bytes(ctx, tcp_off + 20 + off, opt, 1))
			break;
		if (opt[0] == 0) /* end of options */
			break;
		if (opt[0] == 1) { /* NOP */
			off++;
			continue;
		}
		if (off + 2 > optlen || bpf_xdp_load_bytes(ctx, tcp_off + 20 + off, opt, 2))
			break;
		if (opt[1] < 2)
			break;
		if (opt[0] == 2 && opt[1] == 4) {
			__u16 old, new;

			if (off + 4 > optlen || bpf_xdp_load_bytes(ctx, tcp_off + 20 + off, opt, 4))
				break;
			old = (__u16)opt[2] << 8 | opt[3];
			if (old <= clamp)
				break;
			new = clamp;
			opt[2] = new >> 8;
			opt[3] = new & 0xff;
			if (bpf_xdp_load_bytes(ctx, tcp_off + 16, &check, 2) ||
			    bpf_xdp_store_bytes(ctx, tcp_off + 20 + off + 2, &opt[2], 2))
				break;
			/* a value at an odd offset of the segment counts byte-swapped in the sum of
			 * big-endian words */
			if ((off + 2) & 1) {
				old = (old << 8) | (old >> 8);
				new = (new << 8) | (new >> 8);
			}
			check = bpf_htons(csum_replace16(bpf_ntohs(check), old, new));
			if (bpf_xdp_store_bytes(ctx, tcp_off + 16, &check, 2))
				break;
			dsr_count_in(&dsr_counters, DSR_CNT_MSS_CLAMPED);
			return 1;
		}
		off += opt[1];
	}
	return 0;
}

/* The fast path of the MSS clamp: the MSS option first in the options, where Linux, Windows and
 * the BSDs put it, read and written in place (dsr_clamp_mss does the same through seven helper
 * calls, ~250 ns). tcp has its fixed header inside the packet (checked by the caller). Returns
 * -1 if the first option is not an MSS (the caller walks the options), else 1 if lowered, 0 if
 * not. */
static __always_inline int dsr_clamp_mss_first(struct tcphdr *tcp, void *data_end, __u32 clamp)
{
	__u8 *opt = (void *)(tcp + 1);
	__u16 old;

	if ((void *)(opt + 4) > data_end || opt[0] != 2 || opt[1] != 4)
		return -1;
	old = (__u16)opt[2] << 8 | opt[3];
	if (old <= clamp)
		return 0;
	opt[2] = clamp >> 8;
	opt[3] = clamp & 0xff;
	/* the value sits at an even offset (22): no byte swap, unlike dsr_clamp_mss */
	tcp->check = bpf_htons(csum_replace16(bpf_ntohs(tcp->check), old, (__u16)clamp));
	dsr_count_in(&dsr_counters, DSR_CNT_MSS_CLAMPED);
	return 1;
}

/* Clamps the MSS of a SYN (tcp at tcp_off, its fixed header checked inside the packet) to
 * mss_clamp, default what the MTU leaves after the outer header and the inner IP and TCP headers
 * (headers: their bytes), unless DSR_F_NO_MSS_CLAMP. A SYN without options (doff 5) has no MSS
 * to clamp. */
static __always_inline void dsr_clamp_tcp(struct xdp_md *ctx, struct tcphdr *tcp, void *data_end,
					  __u32 tcp_off, const struct dsr_config *cfg, __u32 mtu,
					  __u32 headers)
{
	__u32 clamp;

	if (tcp->doff <= 5 || (cfg->flags & DSR_F_NO_MSS_CLAMP))
		return;
	if (headers >= mtu) /* not with the validated Mtu (576..) and at most 356 header bytes */
		return;
	clamp = cfg->mss_clamp ? cfg->mss_clamp : mtu - headers;
	if (clamp > 0xffff)
		clamp = 0xffff;
	if (dsr_clamp_mss_first(tcp, data_end, clamp) < 0)
		dsr_clamp_mss(ctx, tcp_off, clamp);
}

/* An IPv4 SYN going into an outer header of encap_len bytes: its own IPv4 header, options
 * included, and the fixed TCP header come off too. */
static __always_inline void dsr_clamp_syn(struct xdp_md *ctx, const struct dsr_packet *p,
					  const struct dsr_config *cfg, __u32 mtu, __u32 encap_len)
{
	if (p->syn && p->tcp)
		dsr_clamp_tcp(ctx, p->tcp, p->data_end, p->l2 + p->ihl_bytes, cfg, mtu,
			      encap_len + p->ihl_bytes + 20);
}

#endif /* DSR_MSS_H */
