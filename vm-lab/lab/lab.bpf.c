// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only programs (built at run time by vm-lab/lab/trafgen, never part of the product):
 *  gen   XDP live-frames generator, in trafgen.bpf.h (shared with the DSR lab's dsr_lab.bpf.c).
 *  count tc ingress on the receiver: counts frames per CPU by the number of MPLS labels they carry
 *        (0 = plain IPv4, 1..16, 17 = anything else, 18 = NSH, next protocol IPv4, followed by
 *        the generator's IPv4/UDP header right at Length * 4: the whole header arrived, whatever
 *        its size), 19..50 = SRv6 as the proxy must emit srv6-N[-t] (srv6_slot), then drops them.
 *  redirect XDP, the sidecar floor: every frame XDP_REDIRECTed through a one-slot devmap to the
 *        VNF's veth, as xdp_rx does with a popped packet, without looking at it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "trafgen.bpf.h" /* gen, counts */

/* An SRv6 frame as End.AD must leave the proxy with the lab's srv6-N[-t] (srv6_lab.h): Segments
 * Left decremented to Last Entry = N - 1, destination the segment it names (2001:2:e::1), every
 * other SRH byte as sent (next header IPv4, flags, tag, the N segments, the TLVs byte for byte or
 * none), payload length = SRH + the inner IPv4 packet, the generator's IPv4/UDP header right behind
 * the SRH. LAB_SRV6_SLOT(N, with TLVs), else 17. Not judged: source, hop limit, flow label (the
 * kernel's static proxy writes its own outer header). */
static __always_inline __u32 srv6_slot(struct ipv6hdr *ip6, void *end)
{
	__u8 *r = (void *)(ip6 + 1);
	if ((void *)(r + 8) > end || ip6->nexthdr != 43)
		return 17;
	__u32 last = r[4], words = r[1], tlv;
	if (r[0] != 4 || r[2] != 4 || r[3] != last || last >= LAB_SRV6_MAX_SEGS || r[5] || r[6] || r[7])
		return 17;
	if (words == 2 * (last + 1))
		tlv = 0;
	else if (words == 2 * (last + 1) + LAB_SRV6_TLV_BYTES / 8)
		tlv = 1;
	else
		return 17;
	if (ip6->daddr.in6_u.u6_addr32[0] != bpf_htonl(LAB_SRV6_SEG_W0) ||
	    ip6->daddr.in6_u.u6_addr32[1] != bpf_htonl(LAB_SRV6_SEG_W1) ||
	    ip6->daddr.in6_u.u6_addr32[2] != bpf_htonl(LAB_SRV6_SEG_W2) || ip6->daddr.in6_u.u6_addr32[3] != bpf_htonl(1))
		return 17;
	for (__u32 j = 0; j < LAB_SRV6_MAX_SEGS && j <= last; j++) {
		__u32 *w = (void *)(r + 8 + 16 * j);
		if ((void *)(w + 4) > end)
			return 17;
		if (w[0] != bpf_htonl(LAB_SRV6_SEG_W0) || w[1] != bpf_htonl(LAB_SRV6_SEG_W1) ||
		    w[2] != bpf_htonl(LAB_SRV6_SEG_W2) || w[3] != bpf_htonl(last + 1 - j))
			return 17;
	}
	__u8 *t = r + 8 + 16 * (last + 1);
	for (__u32 k = 0; tlv && k < LAB_SRV6_TLV_BYTES; k++) {
		if ((void *)(t + k + 1) > end)
			return 17;
		if (t[k] != lab_srv6_tlv_byte(k))
			return 17;
	}
	struct iphdr *ip = (void *)(r + (words + 1) * 8);
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    bpf_ntohs(ip6->payload_len) != (words + 1) * 8 + bpf_ntohs(ip->tot_len))
		return 17;
	return LAB_SRV6_SLOT(last + 1, tlv);
}

SEC("tc")
int count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 k = 17;
	if ((void *)(eth + 1) <= end) {
		if (eth->h_proto == bpf_htons(ETH_P_IP)) {
			k = 0;
		} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
			k = srv6_slot((void *)(eth + 1), end);
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
