// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* dsr_lb: the IP-in-IP Direct Server Return load balancer (XDP). A TCP or UDP packet to a
 * service (VIP, port, protocol) is sent to a backend inside an outer IPv4 header (protocol 4);
 * the backend decapsulates and answers the client directly. Everything else passes untouched.
 *
 * Backend choice: the connection table (LRU, client 5-tuple -> backend) first, so established
 * flows keep their backend when the service's table changes; a new flow, or any TCP SYN, takes
 * slot flow_hash % DSR_MAGLEV_SIZE of the service's Maglev table, an inner ARRAY of dsr_maglev
 * (ARRAY_OF_MAPS keyed by service id) that the host replaces whole (SfcProxy/Dsr/DsrObjects.cs).
 *
 * Next hop: bpf_fib_lookup; SUCCESS -> MACs from the FIB, XDP_TX when the egress interface is
 * the ingress one, else bpf_redirect. Any other result: the configured next hop MAC with XDP_TX
 * if one is set (FIB_FALLBACK), else the encapsulated packet goes to the stack (PASS_ENCAP),
 * which routes it and resolves the neighbour. DSR_F_STATIC_NEXTHOP skips the lookup (test runs,
 * a single next-hop router). A successful lookup is kept per CPU and backend in dsr_nexthops and
 * reused while younger than nexthop_max_age_ms (default 1 s; bpf_ktime_get_coarse_ns, a jiffy's
 * resolution, is plenty for that and cheaper than bpf_ktime_get_ns); DSR_F_NO_NEXTHOP_CACHE looks
 * up every packet.
 *
 * MTU (checked once the backend, and so the outer header's length, is known): inner total
 * length + 20 > mtu: DF set -> ICMP fragmentation needed (next-hop MTU = mtu - 20; 40 towards
 * an IPv6 backend) built in place back to the client, XDP_TX; DF clear -> encapsulated with DF clear
 * and passed to the stack (XDP cannot fragment; the kernel fragments the outer packet when it
 * forwards it, which needs net.ipv4.ip_forward). No error about an ICMP error or a packet from no
 * single host (IPv4 also to a broadcast or multicast address), and at most DSR_ICMP_PER_SEC a
 * second per CPU: such packets are dropped, TOO_BIG_SUPPRESSED / TOO_BIG_LIMITED (dsr_icmp.h).
 * TCP SYNs get their MSS option lowered to mss_clamp (default mtu - the outer header - the SYN's
 * own IP header bytes - 20), the TCP checksum updated incrementally (RFC 1624).
 *
 * VLAN tags (up to 2) are kept as received, also on a redirect. Ethernet padding after the IPv4
 * total length is carried along after the inner packet (the outer total length excludes it).
 * ICMP fragmentation needed / ICMPv6 packet too big about a reply a backend sent from a VIP
 * goes to the backend of the quoted flow, encapsulated as the flow's packets are
 * (dsr_parse_icmp(), dsr_parse_icmp6()): the backend's TCP learns the path MTU towards the
 * client. Other non-TCP/UDP IPv4 counts as PASS_NOT_VIP; fragments (MF or offset) pass untouched (no ports
 * to balance on).
 *
 * Malformed input (truncated Ethernet/VLAN/IPv4/TCP/UDP header, IHL < 5, total length shorter
 * than the header or longer than the frame, TCP data offset < 5 or past the frame) is dropped.
 *
 * One role per header, as katran splits its balancer, and dsr_handle() below calls them in
 * order: dsr_maps.h (maps), dsr_parsing.h (the frame into a flow), dsr_pick.h (backend),
 * dsr_mss.h (MSS clamp), dsr_icmp.h (too big), dsr_encap.h (outer header), dsr_nexthop.h (next
 * hop and send); the cursor parsers, L2 copy and checksums are bpf/lib's. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "parse_ip.h"
#include "dsr_shared.h"
#include "dsr_maps.h"
#include "dsr_bench.h"
#include "dsr_parsing.h"
#include "dsr_pick.h"
#include "dsr_mss.h"
#include "dsr_icmp.h"
#include "dsr_encap.h"
#include "dsr_nexthop.h"
#include "dsr_parsing6.h"
#include "dsr_icmp6.h"
#include "dsr_encap6.h"

/* The outer packet's MTU: dsr_config.mtu (0: DSR_DEFAULT_MTU), at least what carries the
 * smallest IPv4 packet (68 bytes) inside the outer header. */
static __always_inline __u32 dsr_mtu(const struct dsr_config *cfg)
{
	__u32 mtu = cfg->mtu ? cfg->mtu : DSR_DEFAULT_MTU;

	return mtu < 68 + DSR_ENCAP_LEN ? 68 + DSR_ENCAP_LEN : mtu;
}

/* An IPv4 packet to an IPv6 backend (the migration case): the outer IPv6 header takes 40 bytes,
 * so the size check is made again (DF: ICMP fragmentation needed with MTU - 40; DF clear: to
 * the stack, counted PASS_TOO_BIG, where the IPv6 packet cannot be fragmented on the way and is
 * lost), then the SYN clamp for 40 bytes, the encapsulation and the send. */
static __always_inline int dsr_send_4in6(struct xdp_md *ctx, struct dsr_packet *p,
					 const struct dsr_config *cfg, const struct dsr_backend *be,
					 __u32 service_id, __u32 backend_id, __u32 hash, __u32 mtu,
					 enum dsr_counter *outcome)
{
	int verdict;

	if (p->tot_len + DSR_ENCAP6_LEN > mtu && (p->frag & IPV4_DF))
		return dsr_icmp_too_big(ctx, p, (__u16)(mtu - DSR_ENCAP6_LEN), outcome);
	dsr_clamp_syn(ctx, p, cfg, mtu, DSR_ENCAP6_LEN);
	verdict = dsr_encap6(ctx, p->vlans, p->l2, p->tot_len, p->tos, IPPROTO_IPIP, cfg, be, hash,
			     outcome);
	if (verdict != DSR_NEXT)
		return verdict;
	dsr_count_traffic(&dsr_backend_traffic, backend_id, p->tot_len);
	dsr_count_traffic(&dsr_service_traffic, service_id, p->tot_len);
	if (p->tot_len + DSR_ENCAP6_LEN > mtu) {
		*outcome = DSR_CNT_PASS_TOO_BIG;
		return XDP_PASS;
	}
	return dsr_send(ctx, cfg, 0, be, backend_id, p->tot_len + DSR_ENCAP6_LEN, mtu, 1,
			IPPROTO_IPIP, outcome);
}

/* An IPv6 packet (dsr_handle() said DSR_IPV6): the same steps as IPv4 over the IPv6 maps, to an
 * IPv6 backend inside an outer IPv6 header (next header 41). Too big for the tunnel: ICMPv6
 * packet too big with MTU - 40 (IPv6 packets are never fragmented on the way). */
static __attribute__((noinline)) int dsr_handle6(struct xdp_md *ctx, enum dsr_counter *outcome)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	struct ethhdr *eth;
	__u32 vlans;
	struct dsr_vip6_key vkey = {};
	struct dsr_packet6 pkt;
	struct dsr_config *cfg;
	const struct dsr_backend *be;
	__u32 zero = 0, *sid, service_id, backend_id = 0, mtu, hash;
	int verdict;

	if (parse_eth_vlans(&nh, data_end, &eth, &vlans) != bpf_htons(ETH_P_IPV6)) {
		*outcome = DSR_CNT_ABORTED; /* dsr_handle() saw IPv6 here */
		return XDP_DROP;
	}
	verdict = dsr_parse6(ctx, &pkt, vlans, outcome);
	if (verdict != DSR_NEXT)
		return verdict;

	__builtin_memcpy(vkey.vip, pkt.flow.daddr, 16);
	vkey.port = pkt.flow.dport;
	vkey.proto = pkt.flow.proto;
	sid = bpf_map_lookup_elem(&dsr_services6, &vkey);
	if (!sid) {
		*outcome = DSR_CNT_PASS_NOT_VIP;
		return XDP_PASS;
	}
	service_id = *sid;
	cfg = bpf_map_lookup_elem(&dsr_config, &zero);
	if (!cfg) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	mtu = dsr_mtu(cfg);
	if (mtu < DSR_IPV6_MIN_MTU + DSR_ENCAP6_LEN)
		mtu = DSR_IPV6_MIN_MTU + DSR_ENCAP6_LEN;
	if (pkt.tot_len + DSR_ENCAP6_LEN > mtu)
		return dsr_icmp6_too_big(ctx, &pkt, cfg, mtu - DSR_ENCAP6_LEN, outcome);

	hash = dsr_flow_hash6(&pkt.flow);
	be = dsr_pick(&dsr_conns6, &pkt.flow, service_id, hash, pkt.syn, pkt.icmp, &backend_id);
	if (!be || !(be->flags & DSR_BACKEND_F_IPV6)) {
		*outcome = DSR_CNT_NO_BACKEND;
		return XDP_DROP;
	}
	if (pkt.icmp)
		dsr_count_in(&dsr_counters, DSR_CNT_ICMP_FORWARDED);
	/* The SYN's own headers come off the MSS: the fixed IPv6 header, its extension headers
	 * (a client that sends them on its SYN sends them on its segments) and the fixed TCP
	 * header. */
	if (pkt.syn && pkt.tcp)
		dsr_clamp_tcp(ctx, pkt.tcp, pkt.data_end, pkt.l4_off, cfg, mtu,
			      DSR_ENCAP6_LEN + (__u32)(pkt.l4_off - pkt.l2) + 20);
	verdict = dsr_encap6(ctx, pkt.vlans, pkt.l2, pkt.tot_len, pkt.tclass, IPPROTO_IPV6, cfg, be,
			     hash, outcome);
	if (verdict != DSR_NEXT)
		return verdict;
	dsr_count_traffic(&dsr_backend_traffic, backend_id, pkt.tot_len);
	dsr_count_traffic(&dsr_service_traffic, service_id, pkt.tot_len);
	return dsr_send(ctx, cfg, 0, be, backend_id, pkt.tot_len + DSR_ENCAP6_LEN, mtu, 1,
			IPPROTO_IPV6, outcome);
}

/* One packet through the steps; each sets *outcome when it decides the verdict. An IPv6 packet
 * returns DSR_IPV6 for dsr_handle6(). Each is a function of its own (static, so verified in its
 * caller's context): one frame holding both paths' locals, with dsr_clamp_mss's on top, would
 * pass the verifier's 512-byte stack limit. */
static __attribute__((noinline)) int dsr_handle(struct xdp_md *ctx, enum dsr_counter *outcome)
{
	struct dsr_vip_key vkey = {};
	struct dsr_packet pkt;
	struct dsr_config *cfg;
	const struct dsr_backend *be;
	__u32 zero = 0, *sid, service_id, backend_id = 0, mtu, hash;
	__be32 src;
	int verdict;

	verdict = dsr_parse(ctx, &pkt, outcome);
	if (verdict != DSR_NEXT)
		return verdict;
	DSR_BENCH_CUT(1, pkt.flow.sport);

	vkey.vip = pkt.flow.daddr;
	vkey.port = pkt.flow.dport;
	vkey.proto = pkt.flow.proto;
	sid = bpf_map_lookup_elem(&dsr_services, &vkey);
	if (!sid) {
		*outcome = DSR_CNT_PASS_NOT_VIP;
		return XDP_PASS;
	}
	service_id = *sid;
	cfg = bpf_map_lookup_elem(&dsr_config, &zero);
	if (!cfg) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	mtu = dsr_mtu(cfg);
	DSR_BENCH_CUT(2, mtu);

	hash = dsr_flow_hash(&pkt.flow);
	DSR_BENCH_CUT(3, hash);
	be = dsr_pick(&dsr_conns, &pkt.flow, service_id, hash, pkt.syn, pkt.icmp, &backend_id);
	if (!be) {
		*outcome = DSR_CNT_NO_BACKEND;
		return XDP_DROP;
	}
	if (pkt.icmp)
		dsr_count_in(&dsr_counters, DSR_CNT_ICMP_FORWARDED);
	/* The size check comes once the backend is known: its family decides the outer header's
	 * length, so the MTU a DF client is told (20 bytes less than mtu, or 40 towards an IPv6
	 * backend) is the one its next packets fit. */
	if (be->flags & DSR_BACKEND_F_IPV6)
		return dsr_send_4in6(ctx, &pkt, cfg, be, service_id, backend_id, hash, mtu, outcome);
	if (pkt.tot_len + DSR_ENCAP_LEN > mtu && (pkt.frag & IPV4_DF))
		return dsr_icmp_too_big(ctx, &pkt, (__u16)(mtu - DSR_ENCAP_LEN), outcome);
	dsr_clamp_syn(ctx, &pkt, cfg, mtu, DSR_ENCAP_LEN);
	src = dsr_source(cfg, hash);
	DSR_BENCH_CUT(4, src);

	verdict = dsr_encap(ctx, &pkt, cfg, src, be->addr, outcome);
	if (verdict != DSR_NEXT)
		return verdict;
	dsr_count_traffic(&dsr_backend_traffic, backend_id, pkt.tot_len);
	dsr_count_traffic(&dsr_service_traffic, service_id, pkt.tot_len);
	if (pkt.tot_len + DSR_ENCAP_LEN > mtu) {
		/* DF clear: the stack fragments the outer packet (MACs untouched: it is for us). */
		*outcome = DSR_CNT_PASS_TOO_BIG;
		return XDP_PASS;
	}
	return dsr_send(ctx, cfg, src, be, backend_id, pkt.tot_len + DSR_ENCAP_LEN, mtu, 0,
			IPPROTO_IPIP, outcome);
}

SEC("xdp")
int dsr_lb(struct xdp_md *ctx)
{
	enum dsr_counter outcome = DSR_CNT_ABORTED;
	int verdict = dsr_handle(ctx, &outcome);

	if (verdict == DSR_IPV6)
		verdict = dsr_handle6(ctx, &outcome);
	dsr_count_in(&dsr_counters, outcome);
	return verdict;
}

/* BTF anchor for the shared types no map or signature names (see sfc_btf_anchor in sfc_maps.h):
 * the enums. Uncalled, so never loaded or verified; only its BTF is. */
__attribute__((noinline, used)) int dsr_btf_anchor(enum dsr_counter counter, enum dsr_config_flag flag,
						   enum dsr_backend_flag backend)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
