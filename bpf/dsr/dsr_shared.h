/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Structs, enums and limits shared by the IP-in-IP DSR load balancer (dsr_lb) and the .NET host
 * (mirrored in SfcProxy/Dsr/DsrSharedTypes.cs; SharedLayoutTests compares both through the BTF). */
#ifndef DSR_SHARED_H
#define DSR_SHARED_H

#include <linux/types.h>

/* Maglev lookup table size M (prime); every inner table of dsr_maglev has M slots. */
#define DSR_MAGLEV_SIZE 65537

/* Service ids are 0 .. DSR_MAX_SERVICES - 1 (slots of dsr_maglev). */
#define DSR_MAX_SERVICES 1024

/* Backend ids are 1 .. DSR_MAX_BACKENDS - 1; 0 is "no backend". */
#define DSR_MAX_BACKENDS 4096

/* Default size of the connection table (LRU); the host may set another before load. */
#define DSR_CONN_DEFAULT_ENTRIES 65536

/* Egress MTU when dsr_config.mtu is 0. */
#define DSR_DEFAULT_MTU 1500

/* Bytes the outer IPv4 header adds. */
#define DSR_ENCAP_LEN 20

/* Bytes the outer IPv6 header adds (RFC 2473, no extension headers). */
#define DSR_ENCAP6_LEN 40

/* The smallest MTU an IPv6 link may have (RFC 8200 5): an IPv6 VIP's tunnel leaves at least this
 * much to the client's packet, so the outer MTU is at least DSR_IPV6_MIN_MTU + DSR_ENCAP6_LEN. */
#define DSR_IPV6_MIN_MTU 1280

/* ICMP fragmentation needed / ICMPv6 packet too big each CPU sends at once after a quiet spell,
 * and then per second (a token bucket, bpf/lib icmp_rate.h); the rest are dropped, counted
 * DSR_CNT_TOO_BIG_LIMITED. As the SFC module's tc_tx; Linux's icmp_msgs_per_sec is 1000 a host. */
#define DSR_ICMP_PER_SEC 500

/* Outer TTL / hop limit when dsr_config.hop_limit is 0. */
#define DSR_DEFAULT_HOP_LIMIT 64

/* Per-CPU counters (index into dsr_counters). Every packet counts in exactly one OUTCOME
 * counter; the detail counters add to it. Append only: the host mirrors the numbering. */
enum dsr_counter {
	/* outcomes */
	DSR_CNT_PASS_NOT_IP = 0,  /* neither IPv4 nor IPv6 (ARP, 3+ VLAN tags): XDP_PASS untouched */
	DSR_CNT_PASS_NOT_VIP,     /* IP not to a service (VIP, port, protocol): XDP_PASS untouched */
	DSR_CNT_PASS_FRAGMENT,    /* IPv4 fragment (MF or offset), IPv6 fragment header: XDP_PASS untouched */
	DSR_CNT_MALFORMED,        /* truncated or invalid L2/L3/L4 header: XDP_DROP */
	DSR_CNT_NO_BACKEND,       /* service without table, empty slot, unknown backend, or an IPv4
				   * backend for an IPv6 VIP (the host refuses those): XDP_DROP */
	DSR_CNT_TX,               /* encapsulated, sent back out of the ingress interface: XDP_TX */
	DSR_CNT_REDIRECT,         /* encapsulated, redirected to the FIB's egress interface */
	DSR_CNT_PASS_ENCAP,       /* encapsulated, no next hop known: XDP_PASS (the kernel routes it) */
	DSR_CNT_ICMP_TOO_BIG,     /* too big: IPv4 with DF gets ICMP fragmentation needed, IPv6
				   * ICMPv6 packet too big, back to the client, XDP_TX */
	DSR_CNT_PASS_TOO_BIG,     /* IPv4 too big, DF clear: encapsulated (outer DF clear), XDP_PASS
				   * so the kernel fragments an outer IPv4 packet when it forwards it */
	DSR_CNT_ABORTED,          /* a helper failed (adjust head/tail): XDP_DROP */
	/* detail (not outcomes) */
	DSR_CNT_CONN_HIT,         /* backend taken from the connection table */
	DSR_CNT_CONN_NEW,         /* backend chosen by Maglev, connection table entry written */
	DSR_CNT_MSS_CLAMPED,      /* a SYN's MSS option lowered */
	DSR_CNT_FIB_FALLBACK,     /* bpf_fib_lookup failed, the configured next hop MAC was used */
	DSR_CNT_FIB_LOOKUP,       /* bpf_fib_lookup called (next-hop cache empty, stale or off) */
	DSR_CNT_NEXTHOP_CACHED,   /* next hop taken from the next-hop cache, no FIB lookup */
	DSR_CNT_ICMP_FORWARDED,   /* an ICMP error about a service flow's reply sent to its backend */
	/* outcomes again (appended: the numbering above stays) */
	DSR_CNT_TOO_BIG_LIMITED,  /* too big, but this CPU's ICMP error budget (DSR_ICMP_PER_SEC) is
				   * spent: XDP_DROP, no error (RFC 1812 4.3.2.8, RFC 4443 2.4 (f)) */
	DSR_CNT_TOO_BIG_SUPPRESSED, /* too big, but an error about it is forbidden (RFC 1122 3.2.2,
				   * RFC 4443 2.4 (e)): an ICMP error, a source that is no single host,
				   * an IPv4 broadcast or multicast destination: XDP_DROP, no error */
	DSR_CNT__MAX,
};

/* dsr_config.flags bits. */
enum dsr_config_flag {
	DSR_F_STATIC_NEXTHOP = 1, /* skip bpf_fib_lookup: next hop MAC from the config, XDP_TX */
	DSR_F_NO_MSS_CLAMP = 2,   /* leave SYNs' MSS options alone */
	DSR_F_NO_NEXTHOP_CACHE = 4, /* bpf_fib_lookup for every packet (no dsr_nexthops) */
};

/* The one entry of dsr_config, written by the host (DsrObjects.WriteConfig). */
struct dsr_config {
	__be32 source;            /* outer source address when source_prefix_len is 0 */
	__be32 source_prefix;     /* outer source = prefix | (flow hash & host mask) */
	__u32 source_prefix_len;  /* 0: use source; 1 .. 32 */
	__u32 mtu;                /* egress MTU (outer packet), 0: DSR_DEFAULT_MTU */
	__u32 mss_clamp;          /* largest MSS a SYN may carry, 0: mtu - outer - its IP header - 20 */
	__u32 flags;              /* enum dsr_config_flag */
	__u8 nexthop_mac[6];      /* used with DSR_F_STATIC_NEXTHOP or when the FIB lookup fails;
				   * all zero: no fallback (PASS_ENCAP) */
	__u8 pad[2];
	__u32 nexthop_max_age_ms; /* a next-hop cache entry older than this is looked up again;
				   * 0: DSR_NEXTHOP_DEFAULT_MAX_AGE_MS */
	__u32 pad2;
	__be32 source6[4];        /* outer IPv6 source address (IPv6 backends) */
	__u8 hop_limit;           /* outer IPv4 TTL and IPv6 hop limit, 0: DSR_DEFAULT_HOP_LIMIT */
	__u8 ip_id_shift;         /* outer IPv4 ID of a DF-clear packet: (per-CPU count << shift) |
				   * CPU, so CPUs never share an ID; the host writes log2 of the
				   * possible CPUs rounded up */
	__u8 pad3[2];
	__u32 pad4;
};

/* Next-hop cache entries are used for at most this long by default (see dsr_lb.bpf.c). */
#define DSR_NEXTHOP_DEFAULT_MAX_AGE_MS 1000

/* Value of dsr_backend_traffic and dsr_service_traffic (per-CPU; the host sums). */
struct dsr_traffic {
	__u64 packets;
	__u64 bytes;  /* the client's IPv4 packets (total length: no L2, no outer header) */
};

/* Key of dsr_services. */
struct dsr_vip_key {
	__be32 vip;
	__be16 port;  /* network byte order */
	__u8 proto;   /* 6 TCP, 17 UDP */
	__u8 pad;
};

/* Key of dsr_services6: an IPv6 VIP's service. */
struct dsr_vip6_key {
	__be32 vip[4];
	__be16 port;  /* network byte order */
	__u8 proto;   /* 6 TCP, 17 UDP */
	__u8 pad;
};

/* dsr_backend.flags bits. */
enum dsr_backend_flag {
	DSR_BACKEND_F_IPV6 = 1, /* the backend is addr6, reached inside an outer IPv6 header */
};

/* Value of dsr_backends (index: backend id). An IPv4 backend has addr, an IPv6 backend the flag
 * DSR_BACKEND_F_IPV6 and addr6; neither (all zero): no such backend. The backend's family is the
 * outer header's: IPv4 (protocol 4, RFC 2003) or IPv6 (next header 4 or 41, RFC 2473). */
struct dsr_backend {
	__be32 addr;
	__u32 flags;  /* enum dsr_backend_flag */
	__be32 addr6[4];
};

/* Key of the connection table: the client's 5-tuple as received (dst is the VIP). */
struct dsr_conn_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Key of the IPv6 connection table (dsr_conns6): the client's 5-tuple as received. */
struct dsr_conn6_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Value of both connection tables. */
struct dsr_conn {
	__u32 backend_id;
	__u32 service_id;
};

#endif /* DSR_SHARED_H */
