/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by dsr_decap (the DSR backend's tc ingress program) and the .NET host (mirrored in
 * SfcProxy/Dsr/DsrDecapObjects.cs: DsrDecapCounter). */
#ifndef DSR_DECAP_SHARED_H
#define DSR_DECAP_SHARED_H

#include <linux/types.h>

/* Default number of VIPs dsr_decap_vips (IPv4) and dsr_decap_vips6 (IPv6) each hold. */
#define DSR_DECAP_MAX_VIPS 1024

/* Per-CPU counters (index into dsr_decap_counters). Every packet counts in exactly one.
 * Append only: the host mirrors the numbering. */
enum dsr_decap_counter {
	DSR_DECAP_CNT_DECAPSULATED = 0, /* IP-in-IP to a VIP: outer header removed, pass */
	DSR_DECAP_CNT_NOT_IPIP,         /* not IPv4 protocol 4 nor IPv6 next header 4 or 41 (plain IP,
					 * ARP, ...): untouched, pass */
	DSR_DECAP_CNT_NOT_VIP,          /* IP-in-IP whose inner destination is no VIP: untouched, pass */
	DSR_DECAP_CNT_FRAGMENT,         /* outer IPv4 fragment or outer IPv6 fragment header (cannot be
					 * decapsulated alone): untouched, pass */
	DSR_DECAP_CNT_MALFORMED,        /* truncated or invalid outer or inner header, or an inner
					 * family other than the outer header names: untouched, pass */
	DSR_DECAP_CNT_ADJUST_FAILED,    /* bpf_skb_adjust_room (or the ECN rewrite) failed: drop */
	DSR_DECAP_CNT_ECN_DROPPED,      /* RFC 6040 4.2: inner Not-ECT, outer CE (congestion the
					 * client's transport cannot be told of): drop */
	DSR_DECAP_CNT_MAX,
};

#endif
