/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains the benchmark's stage cuts through dsr_lb's steps (vm-lab/dsr-stages.sh). */
#ifndef DSR_BENCH_H
#define DSR_BENCH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "dsr_shared.h"

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

#endif /* DSR_BENCH_H */
