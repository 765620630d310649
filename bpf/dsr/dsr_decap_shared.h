/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared by dsr_decap (the DSR backend's tc ingress program) and the .NET host (mirrored in
 * SfcProxy/Dsr/DsrDecapObjects.cs: DsrDecapCounter). */
#ifndef DSR_DECAP_SHARED_H
#define DSR_DECAP_SHARED_H

#include <linux/types.h>

/* Default number of VIPs dsr_decap_vips holds. */
#define DSR_DECAP_MAX_VIPS 1024

/* Per-CPU counters (index into dsr_decap_counters). Every packet counts in exactly one.
 * Append only: the host mirrors the numbering. */
enum dsr_decap_counter {
	DSR_DECAP_CNT_DECAPSULATED = 0, /* IPv4-in-IPv4 to a VIP: outer header removed, pass */
	DSR_DECAP_CNT_NOT_IPIP,         /* not IPv4 protocol 4 (plain IPv4, IPv6, ARP, ...): untouched, pass */
	DSR_DECAP_CNT_NOT_VIP,          /* IPv4-in-IPv4 whose inner destination is no VIP: untouched, pass */
	DSR_DECAP_CNT_FRAGMENT,         /* IPv4-in-IPv4 outer fragment (cannot be decapsulated alone): untouched, pass */
	DSR_DECAP_CNT_MALFORMED,        /* truncated or invalid outer or inner IPv4 header: untouched, pass */
	DSR_DECAP_CNT_ADJUST_FAILED,    /* bpf_skb_adjust_room refused the decapsulation: drop */
	DSR_DECAP_CNT_MAX,
};

#endif
