// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* hash_age: ages the header-hash cache for the host. Never attached: the host's sweep runs it with
 * BPF_PROG_TEST_RUN, passing the cutoff in the frame and reading the counts back from it. It is a
 * program, not a user-space walk, because only a program can delete an entry on a condition
 * atomically with xdp_rx's joins and tc_tx's releases. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "sfc_shared.h"
#include "sfc_maps.h"

/* The frame the host hands the program, and gets back. */
struct sfc_age_args {
	__u64 cutoff_ns; /* in: entries popped before this (bpf_ktime_get_ns()) are aged out */
	__u32 scanned;   /* out: entries looked at */
	__u32 aged;      /* out: entries this run deleted */
};

/*
 * Aging rule for one entry. An entry popped before the cutoff belongs to packets the VNF dropped
 * (README "Cache aging"). It is taken out with the protocol of a release (cache_hash() in xdp_rx,
 * take_hash() in tc_tx): its reference count goes to 0 by compare-and-swap, and only then is the
 * key deleted. A copy joining at the same moment renews the pop time before its own
 * compare-and-swap on the count, so either it joins first (the count moved: this run leaves the
 * entry, which is young again) or this run does (its join fails on a count of 0, and it inserts a
 * new entry once the key is gone). So a sweep never deletes an entry a newer copy is under, and
 * never a newer entry inserted under the same key.
 */
static long age_one(void *map, const __u64 *tag, struct sfc_cache_entry *e,
		    struct sfc_age_args *a)
{
	__u32 refs;

	a->scanned++;
	if (*(volatile __u64 *)&e->ingress_ns >= a->cutoff_ns)
		return 0;
	refs = *(volatile __u32 *)&e->refs;
	if (!refs)
		return 0; /* on its way out: its releaser deletes it */
	if (__sync_val_compare_and_swap(&e->refs, refs, 0) != refs)
		return 0; /* a join or a release came first */
	if (!bpf_map_delete_elem(map, tag))
		a->aged++;
	return 0;
}

SEC("xdp")
int hash_age(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct sfc_age_args *in = (void *)(long)ctx->data;
	struct sfc_age_args a = {};

	if ((void *)(in + 1) > data_end)
		return XDP_ABORTED; /* the host always hands 16 bytes and more */
	a.cutoff_ns = in->cutoff_ns;
	bpf_for_each_map_elem(&sfc_hash_cache, age_one, &a, 0);
	in->scanned = a.scanned;
	in->aged = a.aged;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
