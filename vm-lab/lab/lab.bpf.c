// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only programs (built at run time by vm-lab/lab/trafgen, never part of the product):
 *  gen   XDP, run by BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: stamps a per-packet counter
 *        into the template frame (IPv4 id, UDP source port, first 4 payload bytes), recomputes the
 *        IPv4 header checksum and returns XDP_TX (sent out of ctx->ingress_ifindex, the sender veth).
 *        Paced (interval_ns set): a token bucket on bpf_ktime_get_ns(); a frame that is not due yet
 *        is XDP_DROPped untouched (a test run costs ~40 ms of setup, so the pacing cannot be small
 *        runs with sleeps between them; dropping a recycled page costs tens of ns).
 *  count tc ingress on the receiver: counts frames per CPU by the number of MPLS labels they carry
 *        (0 = plain IPv4, 1..16, 17 = anything else, 18 = NSH, next protocol IPv4, followed by
 *        the generator's IPv4/UDP header right at Length * 4: the whole header arrived, whatever
 *        its size), then drops them.
 *  redirect XDP, the sidecar floor: every frame XDP_REDIRECTed through a one-slot devmap to the
 *        VNF's veth, as xdp_rx does with a popped packet, without looking at it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Set by user space before the run (the .bss map). In live-frames mode the kernel initialises each
 * page of its page pool once and then recycles it: whatever the stack wrote into a frame (the
 * forwarding path rewrites the Ethernet header and the TTL, SfcProxy moves the label stack) is
 * still there next time, so every run rewrites all headers from the template. */
struct gen_cfg {
	__u32 l3_off;        /* offset of the IPv4 header */
	__u32 hdr_words;     /* 16-bit words of template to copy (headers + 4 payload bytes) */
	__u64 seq;           /* per-packet counter (shared by all CPUs) */
	__u16 tmpl[160];     /* the frame's first bytes (NSH up to 252 bytes + IPv4 + UDP + 4) */
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
	for (__u32 i = 0; i < 160 && i < words; i++) {
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
	udp->source = bpf_htons(1024 + ((n >> 16) % 60000));
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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 19);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tc")
int count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 k = 17;
	if ((void *)(eth + 1) <= end) {
		if (eth->h_proto == bpf_htons(ETH_P_IP)) {
			k = 0;
		} else if (eth->h_proto == bpf_htons(0x894F)) {
			__u8 *n = (void *)(eth + 1);
			if ((void *)(n + 8) <= end && n[3] == 1) {
				struct iphdr *ip = (void *)n + (n[1] & 0x3f) * 4;
				if ((void *)(ip + 1) <= end && ip->version == 4 && ip->ihl == 5 &&
				    ip->protocol == IPPROTO_UDP)
					k = 18;
			}
		} else if (eth->h_proto == bpf_htons(ETH_P_MPLS_UC)) {
			__u32 *l = (void *)(eth + 1);
			for (int i = 0; i < 16; i++) {
				if ((void *)(l + 1) > end)
					break;
				if (bpf_ntohl(*l) & 0x100) {
					k = i + 1;
					break;
				}
				l++;
			}
		}
	}
	__u64 *c = bpf_map_lookup_elem(&counts, &k);
	if (c)
		*c += 1;
	return TC_ACT_SHOT;
}

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32); /* ifindex, set by `trafgen redirect` */
} redirect_port SEC(".maps");

SEC("xdp")
int redirect(struct xdp_md *ctx)
{
	return bpf_redirect_map(&redirect_port, 0, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
