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
 * MTU: inner total length + 20 > mtu: DF set -> ICMP fragmentation needed (next-hop MTU =
 * mtu - 20) built in place back to the client, XDP_TX; DF clear -> encapsulated with DF clear
 * and passed to the stack (XDP cannot fragment; the kernel fragments the outer packet when it
 * forwards it, which needs net.ipv4.ip_forward). TCP SYNs get their MSS option lowered to
 * mss_clamp (default mtu - 60), the TCP checksum updated incrementally (RFC 1624).
 *
 * VLAN tags (up to 2) are kept as received, also on a redirect. Ethernet padding after the IPv4
 * total length is carried along after the inner packet (the outer total length excludes it).
 * Non-TCP/UDP IPv4 counts as PASS_NOT_VIP; fragments (MF or offset) pass untouched (no ports
 * to balance on).
 *
 * Malformed input (truncated Ethernet/VLAN/IPv4/TCP/UDP header, IHL < 5, total length shorter
 * than the header or longer than the frame, TCP data offset < 5 or past the frame) is dropped. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dsr_shared.h"

#ifndef AF_INET
#define AF_INET 2
#endif

#define DSR_MAX_VLANS 2
#define DSR_IP_DF 0x4000
#define DSR_IP_MF 0x2000
#define DSR_IP_OFFMASK 0x1fff
/* Options (NOPs included) the MSS clamp looks at before giving up; every common stack puts MSS
 * first, so this only bounds the verifier's work (40 makes its state count explode). */
#define DSR_MSS_WALK_OPTIONS 12

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dsr_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_config SEC(".maps");

/* (VIP, port, protocol) -> service id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, struct dsr_vip_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_services SEC(".maps");

/* Backend id -> address. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DSR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct dsr_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_backends SEC(".maps");

/* Service id -> Maglev table (DSR_MAGLEV_SIZE backend ids), swapped whole by the host. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_ARRAY);
		__uint(max_entries, DSR_MAGLEV_SIZE);
		__type(key, __u32);
		__type(value, __u32);
	});
} dsr_maglev SEC(".maps");

/* Client 5-tuple -> backend, so established flows survive table changes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CONN_DEFAULT_ENTRIES);
	__type(key, struct dsr_conn_key);
	__type(value, struct dsr_conn);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_counters SEC(".maps");

/* Packets and bytes sent per backend id and per service id (per-CPU; the host sums). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_backend_traffic SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_service_traffic SEC(".maps");

/* A bpf_fib_lookup answer for a backend, kept for at most dsr_config.nexthop_max_age_ms. Only
 * successful lookups are stored; the entry names the backend address and ingress interface it
 * was looked up for, so an id reused for another backend (after a purge) or a packet arriving
 * elsewhere misses instead of using it. Kernel only: the host never reads it. */
struct dsr_nexthop {
	__u64 stamp;     /* bpf_ktime_get_coarse_ns() of the lookup */
	__be32 backend;  /* the backend address looked up */
	__u32 ingress;   /* ingress ifindex of the lookup */
	__u32 egress;    /* the FIB's egress ifindex */
	__u8 smac[6];
	__u8 dmac[6];
};

/* Backend id -> its cached next hop. Written and read by dsr_lb only, per CPU (no atomics, no
 * torn entries: a CPU only sees its own). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct dsr_nexthop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} dsr_nexthops SEC(".maps");

/* Stage cuts for the benchmark (vm-lab/dsr-stages.sh): built with -DDSR_BENCH_STAGE=n, the
 * program stops at the first cut whose stage is >= n and sends the packet back (XDP_TX) as it
 * is, so each variant measures the work up to that cut; v keeps the last result alive. Never set
 * in the datapath build. */
#ifdef DSR_BENCH_STAGE
#define DSR_BENCH_CUT(n, v)                                                                   \
	do {                                                                                  \
		if ((n) >= DSR_BENCH_STAGE) {                                                 \
			barrier_var(v);                                                       \
			*outcome = DSR_CNT_TX;                                                \
			return XDP_TX;                                                        \
		}                                                                             \
	} while (0)
#else
#define DSR_BENCH_CUT(n, v) do { } while (0)
#endif

/* ICMP destination unreachable / fragmentation needed (linux/icmp.h drags in libc headers). */
struct dsr_icmp_frag {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;
};

#define DSR_ICMP_DEST_UNREACH 3
#define DSR_ICMP_FRAG_NEEDED 4

struct dsr_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

static __always_inline void dsr_count_in(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

static __always_inline void dsr_count_traffic(void *map, __u32 key, __u32 bytes)
{
	struct dsr_traffic *t = bpf_map_lookup_elem(map, &key);

	if (t) { /* per-CPU slot: no atomics needed */
		t->packets += 1;
		t->bytes += bytes;
	}
}

/* bpf_fib_lookup for the outer packet (tot_len: the route-MTU check's length). */
static __always_inline int dsr_fib(struct xdp_md *ctx, struct bpf_fib_lookup *fib, __be32 src,
				   __be32 backend, __u32 tot_len)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->l4_protocol = IPPROTO_IPIP;
	fib->tot_len = tot_len;
	fib->ipv4_src = src;
	fib->ipv4_dst = backend;
	fib->ifindex = ctx->ingress_ifindex;
	dsr_count_in(&dsr_counters, DSR_CNT_FIB_LOOKUP);
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* Folds a 32-bit one's complement sum to 16 bits (not complemented). */
static __always_inline __u16 dsr_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Checksum of a 20-byte IPv4 header (its check field must be 0). */
static __always_inline __u16 dsr_ip_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	return ~dsr_fold(sum);
}

/* murmur3 finalizer. */
static __always_inline __u32 dsr_mix(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* Flow hash over host-order values (mirrored by DsrFlowHash.Compute in C#). */
static __always_inline __u32 dsr_flow_hash(const struct dsr_conn_key *k)
{
	__u32 h = dsr_mix(k->proto + 0x9e3779b9);

	h = dsr_mix(h ^ ((__u32)bpf_ntohs(k->sport) << 16 | bpf_ntohs(k->dport)));
	h = dsr_mix(h ^ bpf_ntohl(k->daddr));
	h = dsr_mix(h ^ bpf_ntohl(k->saddr));
	return h;
}

/* Picks the backend: connection table unless SYN, else Maglev. Returns the address or 0. */
static __always_inline __be32 dsr_pick(struct dsr_conn_key *key, __u32 service_id, __u32 hash,
				      int syn, __u32 *backend_out)
{
	struct dsr_backend *be;
	struct dsr_conn *conn, fresh = {};
	__u32 slot, *id;
	void *inner;

	if (!syn) {
		conn = bpf_map_lookup_elem(&dsr_conns, key);
		if (conn && conn->service_id == service_id) {
			__u32 bid = conn->backend_id;

			be = bpf_map_lookup_elem(&dsr_backends, &bid);
			if (be && be->addr) {
				dsr_count_in(&dsr_counters, DSR_CNT_CONN_HIT);
				*backend_out = bid;
				return be->addr;
			}
		}
	}
	inner = bpf_map_lookup_elem(&dsr_maglev, &service_id);
	if (!inner)
		return 0;
	slot = hash % DSR_MAGLEV_SIZE;
	id = bpf_map_lookup_elem(inner, &slot);
	if (!id || *id == 0)
		return 0;
	fresh.backend_id = *id;
	fresh.service_id = service_id;
	be = bpf_map_lookup_elem(&dsr_backends, &fresh.backend_id);
	if (!be || !be->addr)
		return 0;
	bpf_map_update_elem(&dsr_conns, key, &fresh, BPF_ANY);
	dsr_count_in(&dsr_counters, DSR_CNT_CONN_NEW);
	*backend_out = fresh.backend_id;
	return be->addr;
}

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
			__u16 old, new, csum;
			__u32 sum;

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
			/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'); a value at an odd offset of the
			 * segment counts byte-swapped in the sum of big-endian words. */
			if ((off + 2) & 1) {
				old = (old << 8) | (old >> 8);
				new = (new << 8) | (new >> 8);
			}
			csum = bpf_ntohs(check);
			sum = (__u16)~csum + (__u32)(__u16)~old + new;
			check = bpf_htons(~dsr_fold(sum));
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
	__u16 old, csum;
	__u32 sum;

	if ((void *)(opt + 4) > data_end || opt[0] != 2 || opt[1] != 4)
		return -1;
	old = (__u16)opt[2] << 8 | opt[3];
	if (old <= clamp)
		return 0;
	opt[2] = clamp >> 8;
	opt[3] = clamp & 0xff;
	/* RFC 1624 eqn. 3, as in dsr_clamp_mss; the value sits at an even offset (22). */
	csum = bpf_ntohs(tcp->check);
	sum = (__u16)~csum + (__u32)(__u16)~old + (__u16)clamp;
	tcp->check = bpf_htons(~dsr_fold(sum));
	dsr_count_in(&dsr_counters, DSR_CNT_MSS_CLAMPED);
	return 1;
}

/* Copies the L2 header (l2 = 14, 18 or 22 bytes) from src to dst through the stack. */
static __always_inline int dsr_move_l2(void *dst, void *src, __u32 l2)
{
	__u8 buf[ETH_HLEN + DSR_MAX_VLANS * 4];

	if (l2 == ETH_HLEN) {
		__builtin_memcpy(buf, src, ETH_HLEN);
		__builtin_memcpy(dst, buf, ETH_HLEN);
	} else if (l2 == ETH_HLEN + 4) {
		__builtin_memcpy(buf, src, ETH_HLEN + 4);
		__builtin_memcpy(dst, buf, ETH_HLEN + 4);
	} else {
		__builtin_memcpy(buf, src, ETH_HLEN + 8);
		__builtin_memcpy(dst, buf, ETH_HLEN + 8);
	}
	return 0;
}

/* Turns the packet into ICMP fragmentation needed to the client, in place: L2 (MACs swapped) |
 * IPv4 (VIP -> client) | ICMP 3/4 with next-hop MTU | the original IP header + 8 bytes. */
static __always_inline int dsr_icmp_too_big(struct xdp_md *ctx, __u32 l2, __u32 ihl_bytes,
					    __u16 next_hop_mtu, enum dsr_counter *outcome)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *ip, *orig;
	struct dsr_icmp_frag *icmp;
	__u8 mac[ETH_ALEN];
	__u32 quote = ihl_bytes + 8, keep, len, sum = 0;
	__u16 *w;
	int i;

	if (bpf_xdp_adjust_head(ctx, -(int)(sizeof(struct iphdr) + sizeof(struct dsr_icmp_frag)))) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + l2 + 28 + ETH_HLEN + 8 > data_end || l2 > ETH_HLEN + DSR_MAX_VLANS * 4) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	dsr_move_l2(data, data + 28, l2);
	eth = data;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	keep = l2 + 28 + quote;
	len = (__u32)(data_end - data);
	if (len > keep && bpf_xdp_adjust_tail(ctx, -(int)(len - keep))) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > ETH_HLEN + DSR_MAX_VLANS * 4) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	ip = data + l2;
	icmp = (void *)(ip + 1);
	orig = (void *)(icmp + 1);
	if ((void *)(orig + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(28 + quote);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = orig->daddr;
	ip->daddr = orig->saddr;
	ip->check = dsr_ip_csum(ip);

	icmp->type = DSR_ICMP_DEST_UNREACH;
	icmp->code = DSR_ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(next_hop_mtu);
	/* ICMP checksum: header + quote, at most 8 + 60 + 8 bytes, all whole 16-bit words. */
	w = (__u16 *)icmp;
	for (i = 0; i < (8 + 60 + 8) / 2; i++) {
		if ((__u32)i * 2 >= 8 + quote)
			break;
		if ((void *)(w + i + 1) > data_end)
			break;
		sum += w[i];
	}
	icmp->checksum = ~dsr_fold(sum);
	*outcome = DSR_CNT_ICMP_TOO_BIG;
	return XDP_TX;
}

static __always_inline int dsr_handle(struct xdp_md *ctx, enum dsr_counter *outcome)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct dsr_vlan_hdr *vlh;
	struct iphdr *ip, *outer;
	struct dsr_config *cfg;
	struct dsr_vip_key vkey = {};
	struct dsr_conn_key ckey = {};
	struct bpf_fib_lookup fib;
	__u32 l2 = ETH_HLEN, ihl_bytes, tot_len, mtu, zero = 0, *sid, service_id, backend_id = 0;
	__u32 hash, pkt_len, egress;
	__be32 backend, src;
	__be16 proto;
	__u16 frag;
	struct tcphdr *tcp = NULL;
	int i, syn = 0, rc;

	if ((void *)(eth + 1) > data_end) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	proto = eth->h_proto;
#pragma unroll
	for (i = 0; i < DSR_MAX_VLANS; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		vlh = data + l2;
		if ((void *)(vlh + 1) > data_end) {
			*outcome = DSR_CNT_MALFORMED;
			return XDP_DROP;
		}
		proto = vlh->proto;
		l2 += 4;
	}
	if (proto != bpf_htons(ETH_P_IP)) {
		*outcome = DSR_CNT_PASS_NOT_IP;
		return XDP_PASS;
	}
	ip = data + l2;
	if ((void *)(ip + 1) > data_end || ip->ihl < 5 || ip->version != 4) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	ihl_bytes = ip->ihl * 4;
	tot_len = bpf_ntohs(ip->tot_len);
	pkt_len = (__u32)(data_end - data);
	if (tot_len < ihl_bytes || l2 + tot_len > pkt_len || (void *)ip + ihl_bytes > data_end) {
		*outcome = DSR_CNT_MALFORMED;
		return XDP_DROP;
	}
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) {
		*outcome = DSR_CNT_PASS_NOT_VIP;
		return XDP_PASS;
	}
	frag = bpf_ntohs(ip->frag_off);
	if (frag & (DSR_IP_MF | DSR_IP_OFFMASK)) {
		*outcome = DSR_CNT_PASS_FRAGMENT;
		return XDP_PASS;
	}
	ckey.saddr = ip->saddr;
	ckey.daddr = ip->daddr;
	ckey.proto = ip->protocol;
	if (ip->protocol == IPPROTO_TCP) {
		tcp = (void *)ip + ihl_bytes;

		if ((void *)(tcp + 1) > data_end || tcp->doff < 5 ||
		    (void *)tcp + tcp->doff * 4 > data_end) {
			*outcome = DSR_CNT_MALFORMED;
			return XDP_DROP;
		}
		ckey.sport = tcp->source;
		ckey.dport = tcp->dest;
		syn = tcp->syn && !tcp->ack;
	} else {
		struct udphdr *udp = (void *)ip + ihl_bytes;

		if ((void *)(udp + 1) > data_end) {
			*outcome = DSR_CNT_MALFORMED;
			return XDP_DROP;
		}
		ckey.sport = udp->source;
		ckey.dport = udp->dest;
	}
	DSR_BENCH_CUT(1, ckey.sport);
	vkey.vip = ip->daddr;
	vkey.port = ckey.dport;
	vkey.proto = ip->protocol;
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
	mtu = cfg->mtu ? cfg->mtu : DSR_DEFAULT_MTU;
	if (mtu < 68 + DSR_ENCAP_LEN)
		mtu = 68 + DSR_ENCAP_LEN;

	if (tot_len + DSR_ENCAP_LEN > mtu && (frag & DSR_IP_DF))
		return dsr_icmp_too_big(ctx, l2, ihl_bytes, (__u16)(mtu - DSR_ENCAP_LEN), outcome);

	DSR_BENCH_CUT(2, mtu);
	hash = dsr_flow_hash(&ckey);
	DSR_BENCH_CUT(3, hash);
	backend = dsr_pick(&ckey, service_id, hash, syn, &backend_id);
	if (!backend) {
		*outcome = DSR_CNT_NO_BACKEND;
		return XDP_DROP;
	}

	/* A SYN without options (doff 5) has no MSS to clamp. */
	if (syn && tcp && tcp->doff > 5 && !(cfg->flags & DSR_F_NO_MSS_CLAMP)) {
		__u32 clamp = cfg->mss_clamp ? cfg->mss_clamp : mtu - DSR_ENCAP_LEN - 40;

		if (clamp > 0xffff)
			clamp = 0xffff;
		if (dsr_clamp_mss_first(tcp, data_end, clamp) < 0)
			dsr_clamp_mss(ctx, l2 + ihl_bytes, clamp);
	}

	if (cfg->source_prefix_len) {
		__u32 plen = cfg->source_prefix_len > 32 ? 32 : cfg->source_prefix_len;
		__u32 hostmask = plen >= 32 ? 0 : 0xffffffffu >> plen;

		src = bpf_htonl(bpf_ntohl(cfg->source_prefix) & ~hostmask | (hash & hostmask));
	} else {
		src = cfg->source;
	}

	DSR_BENCH_CUT(4, src);
	if (bpf_xdp_adjust_head(ctx, -DSR_ENCAP_LEN)) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l2 > ETH_HLEN + DSR_MAX_VLANS * 4 || data + DSR_ENCAP_LEN + l2 + sizeof(struct iphdr) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	dsr_move_l2(data, data + DSR_ENCAP_LEN, l2);
	outer = data + l2;
	if ((void *)(outer + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = 0;
	outer->tot_len = bpf_htons(tot_len + DSR_ENCAP_LEN);
	outer->id = 0;
	outer->frag_off = bpf_htons(frag & DSR_IP_DF);
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = src;
	outer->daddr = backend;
	DSR_BENCH_CUT(5, outer);
	outer->check = dsr_ip_csum(outer);
	DSR_BENCH_CUT(6, outer);

	dsr_count_traffic(&dsr_backend_traffic, backend_id, tot_len);
	dsr_count_traffic(&dsr_service_traffic, service_id, tot_len);

	if (tot_len + DSR_ENCAP_LEN > mtu) {
		/* DF clear: the stack fragments the outer packet (MACs untouched: it is for us). */
		*outcome = DSR_CNT_PASS_TOO_BIG;
		return XDP_PASS;
	}

	eth = data;
	if ((void *)(eth + 1) > data_end) {
		*outcome = DSR_CNT_ABORTED;
		return XDP_DROP;
	}
	if (!(cfg->flags & DSR_F_STATIC_NEXTHOP)) {
		struct dsr_nexthop *nh = NULL;
		__u64 now = 0;

		if (!(cfg->flags & DSR_F_NO_NEXTHOP_CACHE)) {
			__u64 max_age = (cfg->nexthop_max_age_ms ? cfg->nexthop_max_age_ms :
					 DSR_NEXTHOP_DEFAULT_MAX_AGE_MS) * 1000000ull;

			nh = bpf_map_lookup_elem(&dsr_nexthops, &backend_id);
			now = bpf_ktime_get_coarse_ns();
			if (nh && nh->backend == backend && nh->ingress == ctx->ingress_ifindex &&
			    now - nh->stamp < max_age) {
				dsr_count_in(&dsr_counters, DSR_CNT_NEXTHOP_CACHED);
				__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
				__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
				egress = nh->egress;
				goto send;
			}
		}
		/* An entry serves every later packet up to mtu, so the lookup that fills it checks
		 * the route MTU for mtu; if the route's is smaller, this packet's own length decides
		 * as without the cache, and nothing is stored. */
		rc = dsr_fib(ctx, &fib, src, backend, nh ? mtu : tot_len + DSR_ENCAP_LEN);
		if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED && nh) {
			nh = NULL;
			rc = dsr_fib(ctx, &fib, src, backend, tot_len + DSR_ENCAP_LEN);
		}
		if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
			__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
			__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
			egress = fib.ifindex;
			if (nh) {
				nh->stamp = now;
				nh->backend = backend;
				nh->ingress = ctx->ingress_ifindex;
				nh->egress = egress;
				__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
				__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
			}
			goto send;
		}
		/* Failures (no route, no neighbour, ...) are never cached: the next packet asks again. */
		if (!(cfg->nexthop_mac[0] | cfg->nexthop_mac[1] | cfg->nexthop_mac[2] |
		      cfg->nexthop_mac[3] | cfg->nexthop_mac[4] | cfg->nexthop_mac[5])) {
			*outcome = DSR_CNT_PASS_ENCAP;
			return XDP_PASS;
		}
		dsr_count_in(&dsr_counters, DSR_CNT_FIB_FALLBACK);
	}
	/* Static next hop: our MAC (the frame's destination) becomes the source. */
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, cfg->nexthop_mac, ETH_ALEN);
	*outcome = DSR_CNT_TX;
	return XDP_TX;

send:
	if (egress == ctx->ingress_ifindex) {
		*outcome = DSR_CNT_TX;
		return XDP_TX;
	}
	*outcome = DSR_CNT_REDIRECT;
	return bpf_redirect(egress, 0);
}

SEC("xdp")
int dsr_lb(struct xdp_md *ctx)
{
	enum dsr_counter outcome = DSR_CNT_ABORTED;
	int verdict = dsr_handle(ctx, &outcome);

	dsr_count_in(&dsr_counters, outcome);
	return verdict;
}

/* BTF anchor for the shared types no map or signature names (see sfc_btf_anchor in sfc_maps.h):
 * the enums. Uncalled, so never loaded or verified; only its BTF is. */
__attribute__((noinline, used)) int dsr_btf_anchor(enum dsr_counter counter, enum dsr_config_flag flag)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
