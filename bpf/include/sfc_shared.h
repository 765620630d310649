/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Structs, enums and limits shared by the BPF programs and the .NET host (mirrored in
 * SfcProxy/Datapath/SharedTypes.cs; a test compares both through the objects' BTF). */
#ifndef SFC_SHARED_H
#define SFC_SHARED_H

#include <linux/types.h>

/* Deepest SR-MPLS label stack the proxy caches; deeper stacks are dropped and counted. */
#ifndef SFC_MAX_LABELS
#define SFC_MAX_LABELS 16
#endif

/* Largest NSH header (RFC 8300): Length is 6 bits of 4-byte words, so 63 * 4 = 252 bytes;
 * the cache keeps 256 so the buffer stays a power of two. */
#ifndef SFC_NSH_MAX_LEN
#define SFC_NSH_MAX_LEN 256
#endif

/* Buckets of a VNF latency histogram: bucket i counts [2^i, 2^(i+1)) ns (bucket 0 also 0 ns),
 * the last one everything from 2^31 ns (~2.1 s) up. */
#ifndef SFC_LAT_BUCKETS
#define SFC_LAT_BUCKETS 32
#endif

/* Chains the latency map keeps (LRU: the least recently seen chain makes room for a new one). */
#ifndef SFC_LAT_DEFAULT_CHAINS
#define SFC_LAT_DEFAULT_CHAINS 1024
#endif

/* Bit 31 of skb->mark says "this mark is an SfcProxy cache key" (metadata key mode). */
#define SFC_MARK_FLAG 0x80000000u

/* Metadata key layout: SFC_MARK_FLAG | seq(23) << 8 | cpu(8). The flag makes the key never 0
 * (0 marks a free cache slot) and tells tc_tx the mark is ours; (seq, cpu) is unique until one
 * CPU wraps 8M packets (CPUs above 255 share a ring with cpu & 0xFF). */
#define SFC_META_SEQ_MASK 0x7FFFFFu
#define SFC_META_SEQ_SHIFT 8
#define SFC_META_CPU_MASK 0xFFu
/* Rings of the metadata cache: one per CPU, at most one per value of the key's CPU byte. */
#define SFC_META_MAX_RINGS 256
/* Magic in the XDP metadata so the tc-ingress companion never trusts another program's bytes. */
#define SFC_META_MAGIC 0x5fc0u

enum sfc_key_mode {
	SFC_KEY_METADATA = 0,    /* artificial key: XDP metadata -> skb->mark -> tc egress */
	SFC_KEY_HEADER_HASH = 1, /* key built from inner header fields the VNF does not change */
};

enum sfc_miss_policy {
	SFC_MISS_DROP = 0,   /* no cached headers: drop the packet */
	SFC_MISS_PASS = 1,   /* no cached headers: send it on as the VNF emitted it */
	SFC_MISS_STATIC = 2, /* no cached headers: push the configured fallback stack */
};

enum sfc_encap {
	SFC_ENCAP_NONE = 0,
	SFC_ENCAP_MPLS = 1,
	SFC_ENCAP_NSH = 2,
};

/* Bits of sfc_config.accepted_encaps: which encapsulations this instance takes off. */
#define SFC_ACCEPT_MPLS (1u << SFC_ENCAP_MPLS)
#define SFC_ACCEPT_NSH (1u << SFC_ENCAP_NSH)

/* Per-CPU counters (index into the sfc_counters map). Each program counts every packet it sees
 * in exactly one OUTCOME counter of its own group; the others add detail. Append only: the host
 * mirrors the numbering. */
enum sfc_counter {
	/* xdp_rx outcomes */
	SFC_CNT_RX_POPPED = 0,          /* stack cached under a new key and popped */
	SFC_CNT_RX_DUPLICATE_KEY,       /* key already cached: joined that entry, popped */
	SFC_CNT_RX_NOT_SFC,             /* no SFC encapsulation: passed untouched */
	SFC_CNT_RX_TRUNCATED,           /* headers end before the bottom of stack or inner IP: drop */
	SFC_CNT_RX_TOO_MANY_LABELS,     /* more than SFC_MAX_LABELS entries: drop */
	SFC_CNT_RX_NOT_IP,              /* neither IPv4 nor IPv6 after the stack: drop */
	SFC_CNT_RX_CACHE_FULL,          /* cache refused the entry: drop */
	SFC_CNT_RX_ERROR,               /* a helper failed (adjust head/meta): drop */
	/* tc_tx outcomes */
	SFC_CNT_TX_RESTORED,            /* stack found and pushed back */
	SFC_CNT_TX_RESTORED_LAST,       /* entry found, every label consumed: sent as plain IP */
	SFC_CNT_TX_NOT_IP,              /* not IPv4/IPv6 (ARP, ...): passed untouched */
	SFC_CNT_TX_MISS_DROP,           /* no entry, miss policy drop */
	SFC_CNT_TX_MISS_PASS,           /* no entry, miss policy pass */
	SFC_CNT_TX_MISS_STATIC,         /* no entry, fallback stack pushed */
	SFC_CNT_TX_TTL_EXPIRED,         /* new top label TTL would be 0: drop */
	SFC_CNT_TX_GSO,                 /* GSO skb that needs a stack (no MPLS GSO): drop */
	SFC_CNT_TX_MALFORMED,           /* truncated IP header from the VNF: drop */
	SFC_CNT_TX_ERROR,               /* a helper failed (change head/store): drop */
	/* meta_mark (tc ingress, metadata mode) outcomes */
	SFC_CNT_MARK_SET,               /* XDP metadata moved to skb->mark */
	SFC_CNT_MARK_NO_META,           /* no SfcProxy metadata on the skb: untouched */
	/* detail (not outcomes) */
	SFC_CNT_LABELS_POPPED,          /* label stack entries taken off at ingress */
	SFC_CNT_LABELS_PUSHED,          /* label stack entries put back at egress */
	/* NSH (RFC 8300) xdp_rx outcomes: all drop */
	SFC_CNT_RX_NSH_BAD_VERSION,     /* version not 0 */
	SFC_CNT_RX_NSH_BAD_MD_TYPE,     /* MD type other than 1 or 2 (0x0 reserved, 0xF experimental) */
	SFC_CNT_RX_NSH_BAD_LENGTH,      /* Length does not fit the MD type or runs past the packet */
	SFC_CNT_RX_NSH_BAD_NEXT_PROTO,  /* next protocol not IPv4, IPv6 or Ethernet */
	SFC_CNT_RX_NSH_BAD_TLV,         /* MD type 2 metadata TLV runs past the header Length */
	/* NSH tc_tx outcome */
	SFC_CNT_TX_SI_EXHAUSTED,        /* Service Index would reach 0: drop */
	/* NSH detail (not outcomes) */
	SFC_CNT_NSH_POPPED,             /* NSH headers taken off (also counted in RX_POPPED/DUPLICATE) */
	SFC_CNT_NSH_RESTORED,           /* NSH headers put back (also counted in TX_RESTORED) */
	SFC_CNT_NSH_OAM,                /* popped NSH headers with the O bit set */
	/* metadata-mode detail (not an outcome) */
	SFC_CNT_META_AGED_OUT,          /* a slot older than MaxAge (packet the VNF dropped) taken over */
	SFC_CNT__MAX,
};

/* The one entry of sfc_config: written by the host, read by xdp_rx and tc_tx on every packet. */
struct sfc_config {
	__u32 key_mode;           /* enum sfc_key_mode */
	__u32 miss_policy;        /* enum sfc_miss_policy */
	__u32 consumed_segments;  /* labels the VNF's own segment uses up (default 1) */
	__u32 static_label_count; /* entries in static_labels (miss policy static) */
	__u32 static_labels[SFC_MAX_LABELS]; /* network byte order, TTL and BoS as pushed */
	__u32 accepted_encaps;    /* SFC_ACCEPT_* bits; an encapsulation not accepted passes as not SFC */
	__u8 egress_mac[6];       /* source MAC of a restored outer Ethernet (NSH over Ethernet) */
	__u8 nsh_next_hop_mac[6]; /* destination MAC of that outer Ethernet; all zero: the popped
				   * frame's source (back to the SFF that sent it) */
	__u32 latency_sample_every; /* 1 packet in N per CPU goes into the latency histograms; 0
				     * counts as 1 (every packet), so a zeroed config samples all */
	__u32 meta_slots_per_cpu; /* metadata mode: slots of sfc_meta_cache per CPU ring (the host
				   * sets it from the map's size; 0: every insert is refused) */
	__u64 meta_max_age_ns;    /* metadata mode: a slot whose entry was popped this long ago may
				   * be taken over by a new packet (Cache:MaxAge); 0: never */
};

/* Header-hash key: fields of the inner packet that an SFC-unaware, non-NAT VNF leaves alone.
 * The hash map stores and compares the whole key, so a hash collision can never restore
 * another packet's stack. */
struct sfc_flow_key {
	__u32 saddr[4];  /* network byte order; IPv4 uses saddr[0], the rest stays 0 */
	__u32 daddr[4];  /* network byte order; IPv4 uses daddr[0] */
	__u32 ip_ident;  /* IPv4: id and frag_off as on the wire; IPv6: version/class/flow word
			  * with the traffic class masked out */
	__u16 ip_len;    /* IPv4 total length, IPv6 payload length; network byte order */
	__u8 family;     /* 4 or 6 */
	__u8 l4_proto;   /* IPv4 protocol / IPv6 next header */
	__u8 l4[12];     /* first 12 bytes after the fixed IP header (0 where the packet ends) */
};

/* One cached header set (the map value). MPLS uses labels, NSH uses nsh (and outer_src for an
 * inner Ethernet frame); one value type keeps one cache and one lookup per packet at egress. */
struct sfc_cache_entry {
	__u64 ingress_ns;   /* bpf_ktime_get_ns() at pop: aging and VNF latency */
	__u32 refs;         /* packets in flight under this key (duplicates add one each) */
	__u8 encap;         /* enum sfc_encap */
	__u8 label_count;   /* entries in labels */
	__u8 nsh_len;       /* bytes in nsh (4 * NSH Length, at most 252) */
	__u8 nsh_next_proto; /* NSH next protocol: 1 IPv4, 2 IPv6, 3 Ethernet */
	__u32 labels[SFC_MAX_LABELS]; /* the popped stack, top first, network byte order */
	__u8 outer_src[6];  /* NSH over Ethernet carrying Ethernet: source MAC of the popped frame */
	__u8 latency_sample; /* 1: tc_tx adds this packet's VNF time to its chain's histogram */
	__u8 reserved;
	__u8 nsh[SFC_NSH_MAX_LEN]; /* the popped NSH header, byte for byte as received */
	__u32 owner;        /* metadata mode: the key owning this array slot, 0 = free; claimed and
			     * released only with compare-and-swap. Header-hash mode: 0 */
	__u32 reserved2;
};

/* XDP metadata written by xdp_rx in metadata key mode, read by meta_mark at tc ingress. */
struct sfc_xdp_meta {
	__u16 magic;    /* SFC_META_MAGIC */
	__u16 reserved;
	__u32 key;      /* cache key; becomes skb->mark (SFC_MARK_FLAG set) */
};

/* Key of the sfc_latency map: one service chain of one encapsulation. */
struct sfc_chain_key {
	__u8 encap;       /* enum sfc_encap */
	__u8 reserved[3]; /* zero */
	__u32 chain;      /* MPLS: the popped top label's value (20 bits); NSH: the SPI (24 bits);
			   * host byte order */
};

/* Value of the sfc_latency map (one per CPU): sampled packets (sfc_cache_entry.latency_sample)
 * per log2 bucket of the time they spent in the VNF, from xdp_rx's pop
 * (sfc_cache_entry.ingress_ns) to tc_tx's cache hit. */
struct sfc_latency_hist {
	__u64 buckets[SFC_LAT_BUCKETS];
};

#endif /* SFC_SHARED_H */
