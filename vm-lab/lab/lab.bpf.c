// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only programs (built at run time by vm-lab/lab/trafgen, never part of the product):
 *  gen   XDP live-frames generator, in trafgen.bpf.h (shared with the DSR lab's dsr_lab.bpf.c).
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

#include "trafgen.bpf.h" /* gen, counts */

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
