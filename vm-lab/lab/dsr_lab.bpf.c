// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only programs of the DSR packet-rate run (vm-lab/lab/dsr.sh builds them at run time with
 * clang -D; never part of the product). trafgen (vm-lab/lab/trafgen.c) drives them as it drives
 * lab.bpf.c: same program names, same .bss layout, same counts map.
 *  gen   trafgen.bpf.h's generator (lab.bpf.c's, unpaced here), but packet n gets UDP source port
 *        1024 + n % DSR_LAB_FLOWS, so the load balancer sees DSR_LAB_FLOWS distinct flows in turn
 *        (lab.bpf.c changes the port every 65536 packets).
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

/* gen runs unpaced here (dsr.sh gives trafgen no RATE): only the source port differs */
#define GEN_SOURCE_PORT(n) (1024 + (n) % DSR_LAB_FLOWS)
#include "trafgen.bpf.h" /* gen, counts */

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
