// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only programs of the DSR packet-rate run (vm-lab/lab/dsr.sh builds them at run time with
 * clang -D; never part of the product). trafgen (vm-lab/lab/trafgen.c) drives them as it drives
 * lab.bpf.c: same program names, same .bss layout, same counts map.
 *  gen   XDP under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: lab.bpf.c's generator, but
 *        packet n gets UDP source port 1024 + n % DSR_LAB_FLOWS, so the load balancer sees
 *        DSR_LAB_FLOWS distinct flows in turn (lab.bpf.c changes the port every 65536 packets).
 *  count tc ingress on the backend: counts frames per CPU by what arrived, then drops them:
 *        0 plain IPv4 to the VIP (the floors), 1 IP-in-IP whose inner packet goes to the VIP (what
 *        dsr_lb sends), 17 anything else.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef DSR_LAB_FLOWS
#define DSR_LAB_FLOWS 50000
#endif
#ifndef DSR_LAB_VIP /* host byte order */
#define DSR_LAB_VIP 0xc6123c0a /* 198.18.60.10 */
#endif

/* Written by trafgen before the run (see lab.bpf.c: frames of the page pool keep what the path
 * wrote into them, so every run rewrites the headers from the template). */
struct gen_cfg {
	__u32 l3_off;
	__u32 hdr_words;
	__u64 seq;
	__u16 tmpl[128];
} cfg;

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 off = cfg.l3_off & 0xff;
	__u32 words = cfg.hdr_words;
	__u16 *d = data;

	for (__u32 i = 0; i < 128 && i < words; i++) {
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
	udp->source = bpf_htons(1024 + n % DSR_LAB_FLOWS);
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
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 19); /* trafgen count reads 19 slots */
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tc")
int count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1), *inner = ip + 1;
	__u32 k = 17;

	if ((void *)(ip + 1) <= end && eth->h_proto == bpf_htons(ETH_P_IP) && ip->ihl == 5) {
		if (ip->daddr == bpf_htonl(DSR_LAB_VIP))
			k = 0;
		else if (ip->protocol == IPPROTO_IPIP && (void *)(inner + 1) <= end &&
			 inner->daddr == bpf_htonl(DSR_LAB_VIP))
			k = 1;
	}
	__u64 *c = bpf_map_lookup_elem(&counts, &k);
	if (c)
		*c += 1; /* per-CPU slot: no atomics needed */
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
