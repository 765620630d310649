// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The BPF side of trafgen (vm-lab/lab/trafgen.c), shared by lab.bpf.c (SFC lab) and dsr_lab.bpf.c
 * (DSR lab) so both send the same frames from the same .bss layout that `trafgen send` fills in and
 * count into the map `trafgen count` reads (lab only).
 *  gen   XDP, run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: stamps a per-packet counter
 *        into the template frame (IPv4 id, UDP source port, first 4 payload bytes), recomputes the
 *        IPv4 header checksum and returns XDP_TX (sent out of ctx->ingress_ifindex, the sender veth).
 *        Paced (interval_ns set): a token bucket on bpf_ktime_get_ns(); a frame that is not due yet
 *        is XDP_DROPped untouched (a test run costs ~40 ms of setup, so the pacing cannot be small
 *        runs with sleeps between them; dropping a recycled page costs tens of ns).
 * GEN_SOURCE_PORT(n): UDP source port of packet n; define it before including this file to choose
 * how the flows vary (default, the SFC lab's: a new port every 65536 packets).
 */
#ifndef LAB_TRAFGEN_BPF_H
#define LAB_TRAFGEN_BPF_H

#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "srv6_lab.h" /* LAB_COUNT_SLOTS */

#ifndef GEN_SOURCE_PORT
#define GEN_SOURCE_PORT(n) (1024 + ((n) >> 16) % 60000)
#endif

/* Set by user space before the run (the .bss map; trafgen.c's copy of this layout must match). In
 * live-frames mode the kernel initialises each page of its page pool once and then recycles it:
 * whatever the stack wrote into a frame (the forwarding path rewrites the Ethernet header and the
 * TTL, SfcProxy moves the label stack) is still there next time, so every run rewrites all headers
 * from the template. */
#define GEN_TMPL_WORDS 208
struct gen_cfg {
	__u32 l3_off;        /* offset of the IPv4 header */
	__u32 hdr_words;     /* 16-bit words of template to copy (headers + 4 payload bytes) */
	__u64 seq;           /* per-packet counter (shared by all CPUs) */
	__u16 tmpl[GEN_TMPL_WORDS]; /* the frame's first bytes (SRv6 up to 360 bytes + IPv4 + UDP + 4) */
	__u64 interval_ns;   /* paced: ns between frames (0: every frame is sent) */
	__u64 burst_ns;      /* paced: at most this much sending time saved up (the bucket's depth) */
	__u64 next_ns;       /* paced: when the next frame is due */
	__u64 sent;          /* frames returned XDP_TX */
	__u64 end_ns;        /* paced: nothing leaves from then on (a test run can outlast it) */
} cfg;

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	if (cfg.interval_ns) {
		__u64 now = bpf_ktime_get_ns();
		if (now < cfg.next_ns || now >= cfg.end_ns)
			return XDP_DROP;
		if (now - cfg.next_ns > cfg.burst_ns)   /* long idle: no backlog at line rate */
			cfg.next_ns = now - cfg.burst_ns;
		cfg.next_ns += cfg.interval_ns;
	}
	__u32 off = cfg.l3_off & 0x1ff;
	__u32 words = cfg.hdr_words;
	__u16 *d = data;
	for (__u32 i = 0; i < GEN_TMPL_WORDS && i < words; i++) {
		if ((void *)(d + i + 1) > end)
			return XDP_ABORTED;
		d[i] = cfg.tmpl[i];
	}
	struct iphdr *iph = data + off;
	if ((void *)(iph + 1) + sizeof(struct udphdr) + 4 > end)
		return XDP_ABORTED;
	struct udphdr *udp = (void *)(iph + 1);
	__u32 n = (__u32)__sync_fetch_and_add(&cfg.seq, 1);

	iph->id = bpf_htons(n & 0xffff);
	udp->source = bpf_htons(GEN_SOURCE_PORT(n));
	*(__u32 *)(udp + 1) = n;
	iph->check = 0;
	__u32 sum = 0;
	__u16 *w = (__u16 *)iph;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	iph->check = ~sum & 0xffff;
	cfg.sent++;
	return XDP_TX;
}

/* Per-CPU frame counters by kind, filled by each lab's own tc program `count` (its slots are its
 * own: labels carried or the SRv6 check in the SFC lab, plain / IP-in-IP in the DSR lab); trafgen
 * count reads all LAB_COUNT_SLOTS. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAB_COUNT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

#endif
