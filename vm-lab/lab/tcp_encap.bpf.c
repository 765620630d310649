// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Lab-only (vm-lab/lab.sh bench-tcp, built at run time, one object per encapsulation):
 * tc egress on the sender veth. Pushes a fixed SR-MPLS label stack or NSH header between the
 * Ethernet header and every IPv4 packet, so iperf3's TCP reaches the proxy the way an SFC
 * classifier would send it. Chosen at compile time (-D), because tc loads the object as it is:
 *   ENCAP_LABELS N   N label entries 16000.., BoS on the last, TTL 64 (0 = push nothing: the floor)
 *   ENCAP_NSH 1|2    NSH instead (RFC 8300): MD type 1 (16 context bytes) or MD type 2 with one
 *                    TLV of NSH_TLV value bytes (-1: no TLV); TTL 63, SPI 42, SI 255, next
 *                    protocol IPv4.
 * Same headers as vm-lab/lab/trafgen.c sends, so the proxy sees the same stacks in both benches.
 * The sender veth must have gso_max_segs 1: each skb is then one TCP segment, so the proxy sees
 * (and caches) one packet per skb, and the MTU check sees the real frame size.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ENCAP_LABELS
#define ENCAP_LABELS 0
#endif
#ifndef ENCAP_NSH
#define ENCAP_NSH 0
#endif
#ifndef NSH_TLV
#define NSH_TLV 64
#endif

#if ENCAP_NSH == 1
#define NSH_META 16
#elif ENCAP_NSH == 2 && NSH_TLV < 0
#define NSH_META 0 /* MD type 2 without a TLV */
#elif ENCAP_NSH == 2
#define NSH_META (4 + ((NSH_TLV + 3) & ~3))
#endif

#if ENCAP_NSH
#define ENCAP_LEN (8 + NSH_META)
#define ENCAP_PROTO 0x894F
#else
#define ENCAP_LEN (4 * ENCAP_LABELS)
#define ENCAP_PROTO ETH_P_MPLS_UC
#endif

#if ENCAP_LEN > 0
/* What one bpf_skb_store_bytes() writes at the new front of the frame. */
struct front {
	__u8 macs[2 * ETH_ALEN];
	__be16 proto;
	__u8 encap[ENCAP_LEN];
} __attribute__((packed));

static __always_inline void fill_encap(__u8 *h)
{
#if ENCAP_NSH
	const __u32 ttl = 63;
	h[0] = ttl >> 2;
	h[1] = ((ttl & 3) << 6) | ((8 + NSH_META) / 4);
	h[2] = ENCAP_NSH;
	h[3] = 1; /* next protocol IPv4 */
	h[4] = 0, h[5] = 0, h[6] = 42, h[7] = 255; /* SPI 42, SI 255 */
#pragma unroll
	for (int i = 0; i < NSH_META; i++)
		h[8 + i] = 0x5a ^ i;
#if ENCAP_NSH == 2 && NSH_TLV >= 0
	h[8] = 0x01, h[9] = 0x02, h[10] = 0x03, h[11] = NSH_TLV; /* class 0x0102, type 3, length */
#pragma unroll
	for (int i = 12 + NSH_TLV; i < 8 + NSH_META; i++)
		h[i] = 0; /* padding */
#endif
#else
#pragma unroll
	for (int i = 0; i < ENCAP_LABELS; i++) {
		__be32 e = bpf_htonl(((16000u + i) << 12) | (i == ENCAP_LABELS - 1 ? 0x100 : 0) | 64);
		__builtin_memcpy(h + 4 * i, &e, 4);
	}
#endif
}
#endif

SEC("tc")
int encap(struct __sk_buff *skb)
{
#if ENCAP_LEN > 0
	struct front f;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, 0, f.macs, sizeof(f.macs)))
		return TC_ACT_OK;
	f.proto = bpf_htons(ENCAP_PROTO);
	fill_encap(f.encap);
	/* Room in front of the frame, then the Ethernet header moves to the new front. */
	if (bpf_skb_change_head(skb, ENCAP_LEN, 0))
		return TC_ACT_SHOT; /* no memory: a packet sent plain would bypass the chain */
	if (bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0))
		return TC_ACT_SHOT;
#endif
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
