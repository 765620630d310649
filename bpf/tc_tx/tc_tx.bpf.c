// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* tc_tx: tc egress program on the egress interface. Finds the headers xdp_rx cached for the
 * packet the VNF emitted and pushes them back: the label stack minus the segments this VNF
 * consumed, or the NSH header with TTL and Service Index decremented on the VNF's behalf. A
 * packet that would no longer fit the egress becomes the ICMP error that tells its sender so.
 * A cache hit that xdp_rx picked as a latency sample also adds the packet's time in the VNF to
 * its chain's histogram. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "sfc_shared.h"
#include "sfc_consts.h"
#include "sfc_maps.h"
#include "sfc_parsing.h"
#include "sfc_key.h"
#include "tx_take.h"
#include "tx_push.h"
#include "tx_icmp.h"
#include "tx_latency.h"
#include "tx_srv6.h"

/* What tc_tx learns of the packet the VNF emitted (sfc_identify()): 150 bytes the BPF stack has
 * no room for beside the rest. Per-CPU, not pinned: nothing in it outlives one run. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sfc_ident);
} sfc_tx_ident SEC(".maps");

/* Makes the whole packet linear, so direct packet access sees its headers and the payload the
 * key's digest covers (a VNF's packet can keep data in page fragments). A failed pull is not
 * fatal: parsing then sees a short packet, whose key misses and is counted. */
static __always_inline void pull_all(struct __sk_buff *skb)
{
	if (skb->data_end - skb->data < skb->len)
		bpf_skb_pull_data(skb, skb->len);
}

/*
 * Last-segment rule (RFC 3032 2.4.3, RFC 3443 uniform model): when the VNF consumed the last
 * label the packet leaves as plain IP, and the popped top label's TTL, decremented for this hop,
 * becomes the IP TTL (IPv6: hop limit) if it is lower than what the VNF emitted; a higher one is
 * never copied in, so a TTL never grows on the way out. IPv4's header checksum is updated.
 * Returns 0, or -1 when a helper failed.
 */
static __always_inline int set_last_ttl(struct __sk_buff *skb, const struct sfc_inner_sum *in,
					__u32 l2_len, __u8 ttl)
{
	__be16 old, new;

	if (in->ttl <= ttl)
		return 0;
	if (in->family == 4) {
		/* TTL and protocol: the header checksum's 16-bit word */
		old = bpf_htons((__u16)in->ttl << 8 | in->proto);
		new = bpf_htons((__u16)ttl << 8 | in->proto);
		if (bpf_l3_csum_replace(skb, l2_len + __builtin_offsetof(struct iphdr, check), old,
					new, sizeof(new)))
			return -1;
		return bpf_skb_store_bytes(skb, l2_len + __builtin_offsetof(struct iphdr, ttl), &ttl,
					   1, 0) ? -1 : 0;
	}
	return bpf_skb_store_bytes(skb, l2_len + __builtin_offsetof(struct ipv6hdr, hop_limit),
				   &ttl, 1, 0) ? -1 : 0;
}

/* The packet the VNF emitted, summed up, with what flags (SFC_ID_*) ask for (sfc_identify()). A
 * global function, so the verifier checks the extension header walk and the payload
 * digest once rather than on every path of tc_tx. Returns 0, or -1 when the IP header is cut
 * short. */
__attribute__((noinline)) int tx_identify(struct __sk_buff *skb, __u32 ip_off, __u32 l3_proto,
					  struct sfc_ident *id, __u32 flags)
{
	if (!id || ip_off > L2_MAX_LEN)
		return -1;
	return sfc_identify(skb, 0, ip_off, (__be16)l3_proto, id, flags);
}

/*
 * Egress MTU rule. The frame leaving is the VNF's L2 header (vlans in-band tags) or, for NSH
 * carrying Ethernet, a new untagged outer header, then grow bytes of SFC headers, then the rest.
 * Linux lets one in-band VLAN tag ride beyond the MTU (is_skb_forwardable(), and NICs carry MTU +
 * 4 for a tagged frame), so the first tag of a kept L2 header is free; further tags count. For NSH
 * carrying Ethernet the whole inner frame is payload of the outer one, its L2 header included.
 * Returns whether the frame fits, with *usable: the largest IP packet that would (what an ICMP
 * error tells the sender).
 */
static __always_inline int fits_egress(struct __sk_buff *skb, __u32 grow, __u32 vlans,
				       int nsh_eth, __u32 *usable)
{
	__u32 free_tag = !nsh_eth && vlans ? VLAN_HLEN : 0, l2 = ETH_HLEN + vlans * VLAN_HLEN;
	__u32 mtu = 0, taken; /* mtu 0: check skb->len + the difference rather than an L3 length */
	long ok = bpf_check_mtu(skb, 0, &mtu, (__s32)grow - (__s32)free_tag, 0);

	/* bytes besides the IP packet that count against the MTU */
	taken = nsh_eth ? grow - ETH_HLEN + l2 : grow + l2 - ETH_HLEN - free_tag;
	*usable = mtu > taken ? mtu - taken : 0;
	return ok == BPF_MTU_CHK_RET_SUCCESS;
}

SEC("tc")
int tc_tx(struct __sk_buff *skb)
{
	enum sfc_counter outcome = SFC_CNT_TX_NOT_IP;
	struct sfc_cache_entry *e = NULL;
	struct sfc_ident *id;
	struct sfc_config *cfg;
	struct hdr_cursor nh;
	struct push_buf *buf;
	struct ethhdr *eth;
	void *data, *data_end;
	__u32 zero = 0, mark, mask, shift, key, vlans, count, first, top_ttl, l2_len, grow, hdr_len;
	__u32 labels = 0; /* label entries the push puts back (MPLS), for labels_pushed */
	__u32 mtu; /* fits_egress(): the usable size, what an ICMP error would say */
	int action = TC_ACT_OK; /* what is not ours to restore leaves as the VNF sent it */
	int hash_mode, proto, n, foreign = 0, icmp;
	int srv6 = 0; /* the push puts an SRv6 header set back (its payload length is set last) */

	pull_all(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	nh.pos = data;

	proto = parse_eth_vlans(&nh, data_end, &eth, &vlans);
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		goto out; /* ARP, ND over non-IP, LLDP, ...: untouched */
	l2_len = ETH_HLEN + vlans * VLAN_HLEN;

	cfg = bpf_map_lookup_elem(&sfc_config, &zero);
	if (!cfg) {
		/* cannot happen (array map); without a config we cannot restore: pass */
		outcome = SFC_CNT_TX_MISS_PASS;
		goto out;
	}
	hash_mode = cfg->key_mode == SFC_KEY_HEADER_HASH;

	buf = bpf_map_lookup_elem(&sfc_tx_scratch, &zero);
	if (!buf)
		goto error; /* cannot happen (array map) */

	id = bpf_map_lookup_elem(&sfc_tx_ident, &zero);
	if (!id)
		goto error; /* cannot happen (array map) */
	if (tx_identify(skb, l2_len, proto, id, sfc_ident_flags(cfg)) < 0)
		goto malformed;
	if (hash_mode) {
		e = take_hash(&id->key, id->tag, &foreign, &buf->hdr);
	} else {
		mark = skb->mark;
		sfc_mark_bits(cfg, &mask, &shift);
		key = (mark & mask) >> shift;
		if (key) {
			/* the key is spent: the next hop gets the mark without our bits */
			skb->mark = mark & ~mask;
			e = take_meta(cfg, key, id, &foreign, &buf->hdr);
		}
	}
	if (foreign)
		sfc_count(SFC_CNT_FOREIGN_ENTRY);
	if (!e)
		goto miss;
	/* e is this packet's private copy: the cache's reference is given back already */
	if (e->latency_sample)
		record_latency(e);

	if (skb->gso_size) {
		/* The kernel has no MPLS GSO, and the skb's GSO state describes the VNF's IP packet,
		 * not headers pushed in front of it: a GSO skb would lose the labels or NSH header at
		 * segmentation. The host turns GRO off on the ingress so this does not happen. */
		outcome = SFC_CNT_TX_GSO;
		action = TC_ACT_SHOT;
		goto out;
	}

	/* xdp_rx caches every encapsulation in the one cache; the entry says which it was */
	if (e->encap == SFC_ENCAP_SRV6) {
		n = build_srv6_buf(buf, data, data_end, vlans, cfg, e, &l2_len, &grow, &outcome);
		if (n < 0) {
			/* outcome says why: hop limit expired, or a malformed entry */
			action = TC_ACT_SHOT;
			goto out;
		}
		hdr_len = n;
		srv6 = e->srv6_next == SFC_NH_ETHERNET ? 2 : 1;
		outcome = SFC_CNT_TX_RESTORED;
		goto push;
	}
	if (e->encap == SFC_ENCAP_NSH) {
		n = build_nsh_buf(buf, data, data_end, vlans, cfg, e, &l2_len, &grow, &outcome);
		if (n < 0) {
			/* outcome says why: TTL expired, SI exhausted, or a malformed entry */
			action = TC_ACT_SHOT;
			goto out;
		}
		hdr_len = n;
		outcome = SFC_CNT_TX_RESTORED;
		goto push;
	}

	/* TTL rule (RFC 3032 2.4.2): the popped top entry's TTL decides before anything else. A
	 * packet that arrived with TTL 0 or 1 must not be forwarded, neither with labels nor
	 * stripped of them (last segment). */
	top_ttl = bpf_ntohl(e->hdr.labels[0]) & SFC_MPLS_TTL_MASK;
	if (top_ttl <= 1) {
		outcome = SFC_CNT_TX_TTL_EXPIRED;
		action = TC_ACT_SHOT;
		goto out;
	}
	count = e->label_count;
	first = cfg->consumed_segments;
	if (first >= count) {
		/* the VNF consumed the last segment: the packet leaves as plain IP */
		if (!fits_egress(skb, 0, vlans, 0, &mtu))
			goto too_big_nothing_pushed;
		if (set_last_ttl(skb, &id->in, l2_len, top_ttl - 1) < 0)
			goto error;
		outcome = SFC_CNT_TX_RESTORED_LAST;
		goto out;
	}
	n = build_push_buf(buf, data, data_end, vlans, e->hdr.labels, first, count, top_ttl - 1);
	if (n < 0)
		goto error;
	hdr_len = n * SFC_MPLS_HLEN;
	grow = hdr_len;
	labels = n;
	outcome = SFC_CNT_TX_RESTORED;

push:
	/* buf holds l2_len bytes of L2 header and hdr_len of SFC headers, grow bytes more than the
	 * packet has now */
	icmp = 0;
	if (!fits_egress(skb, grow, vlans, srv6 == 2 || (e && e->encap == SFC_ENCAP_NSH &&
			 e->nsh_next_proto == SFC_NSH_NP_ETHERNET), &mtu)) {
		/* no ICMP for this packet (sfc_icmp_allowed()), or it could not be made: dropped,
		 * counted */
		outcome = SFC_CNT_TX_TOO_BIG;
		action = TC_ACT_SHOT;
		if (!sfc_icmp_allowed(&id->parse) || !icmp_budget() ||
		    tx_too_big(skb, ETH_HLEN + vlans * VLAN_HLEN, id->in.family, id->in.ip_len, mtu) < 0)
			goto out;
		action = TC_ACT_OK;
		icmp = 1;
	}
	if (srv6) {
		__u32 l2_in_skb = srv6 == 2 ? 0 : ETH_HLEN + vlans * VLAN_HLEN;
		__u32 len = skb->len;

		/* inner IP: the VNF's packet by its length field, not Ethernet padding behind it (a
		 * short frame bridged padded); an ICMP error made above is exactly as long as the skb */
		if (srv6 == 1 && !icmp && id->in.ip_len < len - l2_in_skb)
			len = l2_in_skb + id->in.ip_len;
		srv6_set_plen(buf, len, l2_in_skb, hdr_len);
	}
	if (push_headers(skb, buf, l2_len, hdr_len, grow) < 0)
		goto error;
	if (labels)
		sfc_count_n(SFC_CNT_LABELS_PUSHED, labels);
	if (icmp) {
		outcome = SFC_CNT_TX_TOO_BIG;
		sfc_count(SFC_CNT_ICMP_TOO_BIG_SENT);
	} else if (e && e->encap == SFC_ENCAP_NSH) {
		sfc_count(SFC_CNT_NSH_RESTORED);
	} else if (e && e->encap == SFC_ENCAP_SRV6) {
		sfc_count(SFC_CNT_SRV6_RESTORED);
	}
	goto out;

too_big_nothing_pushed:
	/* the VNF's own packet exceeds the egress: a plain IP packet's sender is told by the IP
	 * layer before us; here it is dropped and counted */
	outcome = SFC_CNT_TX_TOO_BIG;
	action = TC_ACT_SHOT;
	goto out;

miss:
	switch (cfg->miss_policy) {
	case SFC_MISS_PASS:
		outcome = SFC_CNT_TX_MISS_PASS;
		goto out;
	case SFC_MISS_STATIC:
		outcome = SFC_CNT_TX_MISS_STATIC;
		count = cfg->static_label_count;
		if (!count && !cfg->static_srv6_len)
			goto out; /* no fallback stack configured: sent as emitted */
		if (skb->gso_size) {
			/* no MPLS GSO, as above */
			outcome = SFC_CNT_TX_GSO;
			action = TC_ACT_SHOT;
			goto out;
		}
		if (!count) {
			/* Srv6:Static: a fixed IPv6 header and SRH */
			n = build_static_srv6(buf, data, data_end, vlans, cfg, id->in.family, &l2_len,
					      &grow);
			if (n < 0)
				goto error;
			hdr_len = n;
			srv6 = 1;
			goto push;
		}
		n = build_push_buf(buf, data, data_end, vlans, cfg->static_labels, 0, count,
				   SFC_KEEP_TTL);
		if (n < 0)
			goto error;
		hdr_len = n * SFC_MPLS_HLEN;
		grow = hdr_len;
		labels = n;
		goto push;
	default:
		/* nowhere to send it: without its headers the packet would leave the chain */
		outcome = SFC_CNT_TX_MISS_DROP;
		action = TC_ACT_SHOT;
		goto out;
	}

malformed:
	/* the VNF emitted a truncated IP header: nothing sane to key or forward */
	outcome = SFC_CNT_TX_MALFORMED;
	action = TC_ACT_SHOT;
	goto out;
error:
	/* a helper failed half-way: the packet may be half-built, so it must not leave */
	outcome = SFC_CNT_TX_ERROR;
	action = TC_ACT_SHOT;
out:
	sfc_count(outcome);
	return action;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
