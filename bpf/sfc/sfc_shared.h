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

/* Largest SRv6 header set the cache keeps for one packet: the outer IPv6 header (40 bytes) and
 * every extension header up to the inner packet (hop-by-hop, destination options, the SRH with its
 * segment list and TLVs). 16 segments take 40 + 8 + 256 = 304 bytes and leave 80 for TLVs (an
 * HMAC TLV is 40) and other extension headers; a longer set is dropped and counted
 * (RX_SRV6_TOO_LONG). A multiple of 128, so the copies move it in three constant sizes. */
#ifndef SFC_SRV6_MAX_LEN
#define SFC_SRV6_MAX_LEN 384
#endif
/* Proxy SIDs one instance serves (Srv6:Sids). */
#define SFC_SRV6_MAX_SIDS 8
/* The static miss policy's outer IPv6 header and SRH (Srv6:Static): 40 + 8 + 16 segments. */
#define SFC_SRV6_STATIC_MAX_LEN 304
/* Bits of sfc_config.srv6_sid_inner: the inner packets a SID hands to the VNF (the next header
 * after the outer IPv6 header's extension headers). */
#define SFC_SRV6_INNER_IPV4 0x1u     /* next header 4 */
#define SFC_SRV6_INNER_IPV6 0x2u     /* next header 41 */
#define SFC_SRV6_INNER_ETHERNET 0x4u /* next header 143 (RFC 8986 10.1) */

/* Buckets of a VNF latency histogram: bucket i counts [2^i, 2^(i+1)) ns (bucket 0 also 0 ns),
 * the last one everything from 2^31 ns (~2.1 s) up. */
#ifndef SFC_LAT_BUCKETS
#define SFC_LAT_BUCKETS 32
#endif

/* Chains the latency map keeps (LRU: the least recently seen chain makes room for a new one). */
#ifndef SFC_LAT_DEFAULT_CHAINS
#define SFC_LAT_DEFAULT_CHAINS 1024
#endif

/* Metadata key mode: the key is the cache slot's index + 1 (0: no key) in its low
 * meta_index_bits, and the slot's claim generation in the bits above, written into the bits of
 * skb->mark that sfc_config.meta_mark_mask names (contiguous, chosen by the operator so that no
 * other user of the mark reads or writes them). Default: bits 16-31, clear of kube-proxy's
 * 0x4000/0x8000, Cilium's 0x0F00 and the low bits Istio and the AWS CNI use. */
#define SFC_META_DEFAULT_MARK_MASK 0xFFFF0000u
/* Rings of the metadata cache: one per CPU (CPUs above 255 share a ring). */
#define SFC_META_CPU_MASK 0xFFu
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

/* What the metadata fingerprint covers (Metadata:Fingerprint). */
enum sfc_fingerprint {
	SFC_FP_STRICT = 0, /* every field the header-hash key holds: a changed mark is caught
			    * unless the two packets are the same packet; a NATed packet misses */
	SFC_FP_NAT = 1,    /* only what NAT leaves alone (no addresses, ports, ICMP id,
			    * checksums): a NATed packet is restored; a changed mark between two
			    * packets that differ only there is not caught */
};

enum sfc_encap {
	SFC_ENCAP_NONE = 0,
	SFC_ENCAP_MPLS = 1,
	SFC_ENCAP_NSH = 2,
	SFC_ENCAP_SRV6 = 3, /* SRv6 (RFC 8754 SRH), End.AD semantics per packet */
};

/* Bits of sfc_config.accepted_encaps: which encapsulations this instance takes off. */
#define SFC_ACCEPT_MPLS (1u << SFC_ENCAP_MPLS)
#define SFC_ACCEPT_NSH (1u << SFC_ENCAP_NSH)
#define SFC_ACCEPT_SRV6 (1u << SFC_ENCAP_SRV6)

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
	/* xdp_rx outcome: drop */
	SFC_CNT_RX_KEY_CONFLICT,        /* another packet with the same key but other headers is in
					 * the VNF (header-hash), or a fragment's datagram entry holds
					 * other headers (metadata): refused, never swapped */
	/* tc_tx outcome: drop */
	SFC_CNT_TX_TOO_BIG,             /* restored packet exceeds the egress MTU; an ICMP error
					 * leaves in its place when the packet asks for one */
	/* tc_tx details (not outcomes) */
	SFC_CNT_ICMP_TOO_BIG_SENT,      /* ICMP fragmentation needed / packet too big sent along the
					 * chain with the packet's own headers (RFC 3032 2.3.2, 3.3) */
	SFC_CNT_FOREIGN_ENTRY,          /* the key led to another packet's entry (a changed mark, a
					 * slot reused, a recycled hash element): handled as a miss */
	SFC_CNT_FRAG_JOINED,            /* metadata: a fragment joined its datagram's slot */
	/* SRv6 xdp_rx outcomes (rx_srv6.h); the first two pass, the rest drop */
	SFC_CNT_RX_SRV6_NOT_SID,        /* IPv6 with a routing header to an address that is no proxy
					 * SID: passed untouched (plain IPv6 counts RX_NOT_SFC) */
	SFC_CNT_RX_SRV6_NO_SRH,         /* to a proxy SID without a routing header (a ping to the
					 * SID, RFC 8986 4.1.1): passed to the host stack */
	SFC_CNT_RX_SRV6_NOT_SRH,        /* a routing header that is not an SRH (type 4), or two */
	SFC_CNT_RX_SRV6_SL_ZERO,        /* SRH with Segments Left 0: End.AD has nothing to do */
	SFC_CNT_RX_SRV6_BAD_SRH,        /* Last Entry or Segments Left do not fit the SRH's length
					 * (RFC 8754 4.3.1.1 S07) */
	SFC_CNT_RX_SRV6_BAD_LENGTH,     /* an extension header runs past the packet */
	SFC_CNT_RX_SRV6_TOO_LONG,       /* IPv6 + extension headers longer than SFC_SRV6_MAX_LEN */
	SFC_CNT_RX_SRV6_BAD_TLV,        /* an SRH TLV runs past the header (or too many TLVs) */
	SFC_CNT_RX_SRV6_BAD_INNER,      /* inner packet not one this SID serves (4, 41, 143), or a
					 * fragment/AH/ESP header before it */
	/* SRv6 detail (not outcomes) */
	SFC_CNT_SRV6_POPPED,            /* SRv6 headers taken off (also in RX_POPPED/DUPLICATE) */
	SFC_CNT_SRV6_RESTORED,          /* SRv6 headers put back (also in TX_RESTORED) */
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
	__u32 meta_mark_mask;     /* metadata mode: the skb->mark bits that carry the key
				   * (contiguous); 0: SFC_META_DEFAULT_MARK_MASK */
	__u32 meta_mark_shift;    /* metadata mode: lowest bit of meta_mark_mask */
	__u32 icmp_src4;          /* source of the ICMP errors tc_tx sends (network byte order);
				   * 0: the quoted packet's destination */
	__u32 icmp_src6[4];       /* the same for ICMPv6; all zero: the quoted packet's destination */
	__u32 meta_index_bits;    /* metadata mode: low bits of the key that hold slot index + 1;
				   * the mask's bits above them hold the slot's generation */
	enum sfc_fingerprint meta_fingerprint; /* metadata mode: what the fingerprint of each slot
						* covers (4 bytes; in the struct, so in BTF) */
	__u32 coarse_clock;       /* 1: a packet not sampled for latency is stamped with the coarse
				   * monotonic clock (the last tick's time, at most one tick behind;
				   * ~60 ns cheaper on kvm-clock VMs), so aging acts up to one tick
				   * early; the host sets it when Cache:MaxAge >= 1 s. 0: always the
				   * precise clock */
	__u32 srv6_sid_count;     /* entries in srv6_sid_addr (Srv6:Sids) */
	__u32 srv6_sid_addr[SFC_SRV6_MAX_SIDS][4]; /* the proxy SIDs, network byte order */
	__u32 srv6_sid_inner[SFC_SRV6_MAX_SIDS];   /* SFC_SRV6_INNER_* bits each SID serves */
	__u32 static_srv6_len;    /* bytes in static_srv6; 0: no static SRv6 header */
	__u8 static_srv6[SFC_SRV6_STATIC_MAX_LEN]; /* miss policy static: outer IPv6 header and
						    * SRH as pushed (next header and payload
						    * length set per packet) */
};

/* Header-hash key: every byte of the inner packet that an SFC-unaware, non-NAT VNF leaves
 * alone, the payload as a 64-bit digest (rule: sfc_flow_key_fill() in sfc_key.h). The hash map is
 * keyed by the key's 64-bit tag (one short hash per lookup instead of three of 72 bytes); the
 * entry holds the whole key and every lookup compares it, so a tag collision can never restore
 * another packet's headers. */
struct sfc_flow_key {
	__u32 saddr[4];  /* network byte order; IPv4 uses saddr[0], the rest stays 0 */
	__u32 daddr[4];  /* network byte order; IPv4 uses daddr[0] */
	__u32 ip_ident;  /* IPv4: id and frag_off as on the wire; IPv6: version/class/flow word
			  * with the traffic class masked out */
	__u32 frag_id;   /* IPv6 fragment header: identification as on the wire; 0 without one */
	__u16 frag_off;  /* IPv6 fragment header: offset and M flag as on the wire; 0 without one */
	__u16 ip_len;    /* IPv4 total length, IPv6 payload length; network byte order */
	__u8 family;     /* 4 or 6 */
	__u8 l4_proto;   /* upper-layer protocol (IPv6: after the extension headers) */
	__u8 l4_len;     /* bytes of l4 the packet has (0..12) */
	__u8 tcp_flags;  /* TCP: FIN SYN RST PSH ACK URG (not CWR/ECE); 0 for anything else */
	__u8 l4[12];     /* first bytes of the upper-layer header, zero past l4_len */
	__u64 digest;    /* the upper-layer bytes after the keyed ones (sfc_digest.h) */
};

/* The popped headers of one packet. A packet has exactly one encapsulation (sfc_cache_entry.encap),
 * so the three share one buffer sized by the largest (SRv6): the entry is 528 bytes instead of
 * the 848 three side-by-side buffers took, which the header-hash insert copies whole
 * (bpf_map_update_elem copies value_size) and the metadata slot rings spread over fewer lines.
 * Which member is valid is encap's to say; bytes past the encapsulation's length are never read. */
union sfc_cache_hdr {
	__u32 labels[SFC_MAX_LABELS]; /* MPLS: the popped stack, top first, network byte order */
	__u8 nsh[SFC_NSH_MAX_LEN];    /* NSH: the popped header, byte for byte as received */
	__u8 srv6[SFC_SRV6_MAX_LEN];  /* SRv6: the outer IPv6 header and its extension headers as
				       * they leave: Segments Left - 1 and the destination set to
				       * the next segment at pop; hop limit and payload length set
				       * at restore */
};

/* One cached header set (the map value). MPLS uses hdr.labels, NSH hdr.nsh (and outer_src for an
 * inner Ethernet frame), SRv6 hdr.srv6 and the srv6_* fields; one value type keeps one cache and
 * one lookup per packet at egress. */
struct sfc_cache_entry {
	__u64 ingress_ns;   /* bpf_ktime_get_ns() at pop (a joining packet's pop renews it): aging
			     * and VNF latency */
	__u32 refs;         /* header-hash: packets in flight under this key (identical packets
			     * with identical headers join); 0 = being released. Metadata: 0 */
	__u8 encap;         /* enum sfc_encap */
	__u8 label_count;   /* entries in hdr.labels */
	__u8 nsh_len;       /* bytes in hdr.nsh (4 * NSH Length, at most 252) */
	__u8 nsh_next_proto; /* NSH next protocol: 1 IPv4, 2 IPv6, 3 Ethernet */
	__u64 fingerprint;  /* metadata: the packet's (or fragmented datagram's) fingerprint, which
			     * tc_tx compares before it restores; header-hash: the key's tag, which
			     * tells a recycled element from ours */
	__u32 frag_total;   /* metadata, fragments: payload bytes of the datagram (0 until its last
			     * fragment arrived) */
	__u32 frag_out;     /* metadata, fragments: payload bytes restored so far */
	__u8 outer_src[6];  /* NSH or SRv6 carrying Ethernet: source MAC of the popped frame */
	__u8 latency_sample; /* 1: tc_tx adds this packet's VNF time to its chain's histogram */
	__u8 frag;          /* metadata: 1 = the slot is shared by the fragments of one datagram */
	__u32 owner;        /* metadata mode: the key of the packet owning this array slot (index
			     * + 1 and generation), 0 = free; claimed and released only with
			     * compare-and-swap. Header-hash mode: 0.
			     * In the first cache line with the fields above and the first
			     * labels: a claim and a take touch one line for up to 4 labels */
	__u32 generation;   /* metadata mode: generation of the slot's last claim (kept when free) */
	union sfc_cache_hdr hdr; /* at offset 48, 8-byte aligned: the copies move 8 bytes a time */
	/* SRv6 (sfc_copy_srv6() copies these 8 bytes and the header set together) */
	__u16 srv6_len;     /* bytes in hdr.srv6 (a multiple of 8: 40 + extension headers) */
	__u8 srv6_next;     /* the inner packet's next header: 4, 41 or 143 */
	__u8 srv6_sid;      /* index of the proxy SID it was addressed to (its latency chain) */
	__u32 srv6_reserved;
	__u32 frag_head;    /* metadata, fragments: sfc_inner_sum.head of the datagram's first
			     * fragment (its upper-layer header), 0 until it arrived */
	__u32 frag_id;      /* metadata, fragments: the datagram's identification as it arrived */
	__u32 frag_id_out;  /* metadata, fragments: the identification its pieces leave with when a
			     * reassembling VNF refragmented it (IPv6 picks a new one), learned from
			     * the piece that carries the datagram's head; 0 until then */
	__u32 frag_last;    /* metadata, fragments: offset + 1 of the last piece tc_tx counted, so a
			     * duplicate right behind it does not count twice; 0: none */
	struct sfc_flow_key key; /* header-hash mode: the whole key of the entry's packets; the map is
				  * keyed by its tag alone (fingerprint), and every lookup compares
				  * this before it trusts the entry. Metadata mode: unused */
};
/* The copies (sfc_copy_nsh(), sfc_copy_srv6()) tell clang the header set is 8-byte aligned, and a
 * claim and a take of up to 4 labels touch one cache line (the comment at owner). */
_Static_assert(__builtin_offsetof(struct sfc_cache_entry, hdr) % 8 == 0,
	       "sfc_cache_entry.hdr must stay 8-byte aligned");
_Static_assert(__builtin_offsetof(struct sfc_cache_entry, hdr) + 4 * sizeof(__u32) <= 64,
	       "the first 4 labels must stay in the entry's first cache line");
_Static_assert(sizeof(union sfc_cache_hdr) == SFC_SRV6_MAX_LEN,
	       "the header union is sized by its largest member, the SRv6 header set");

/* XDP metadata written by xdp_rx in metadata key mode, read by meta_mark at tc ingress. */
struct sfc_xdp_meta {
	__u16 magic;    /* SFC_META_MAGIC */
	__u16 reserved;
	__u32 key;      /* the key already shifted into the mark bits: skb->mark = (skb->mark &
			 * ~mask) | key, other users' bits untouched */
	__u32 mask;     /* sfc_config.meta_mark_mask at pop */
};

/* Key of the sfc_latency map: one service chain of one encapsulation. */
struct sfc_chain_key {
	__u8 encap;       /* enum sfc_encap */
	__u8 reserved[3]; /* zero */
	__u32 chain;      /* MPLS: the popped top label's value (20 bits); NSH: the SPI (24 bits);
			   * SRv6: the proxy SID's index in Srv6:Sids; host byte order */
};

/* Value of the sfc_latency map (one per CPU): sampled packets (sfc_cache_entry.latency_sample)
 * per log2 bucket of the time they spent in the VNF, from xdp_rx's pop
 * (sfc_cache_entry.ingress_ns) to tc_tx's cache hit. */
struct sfc_latency_hist {
	__u64 buckets[SFC_LAT_BUCKETS];
};

#endif /* SFC_SHARED_H */
