/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* This file contains a 64-bit non-cryptographic digest of packet bytes: four independent
 * multiply-xor lanes over 32-byte blocks, then a murmur3 finaliser. It tells apart payloads that
 * a few header fields cannot (two datagrams with equal checksums, segments that differ after
 * their first bytes); it is no defence against someone who can already rewrite the packets. It
 * knows no product type. */
#ifndef LIB_DIGEST_H
#define LIB_DIGEST_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* Bytes digested at most: a jumbo frame. Longer payloads are digested up to here, and their
 * length (which the caller mixes in) still tells them apart by size. */
#ifndef DIGEST_MAX_BYTES
#define DIGEST_MAX_BYTES 9216
#endif
#define DIGEST_BLOCK 32
#define DIGEST_MAX_START 0x3FFF

/* Odd 64-bit constants (xxhash64 primes): multiplication by an odd number is a bijection mod
 * 2^64, so a single changed word always changes its lane. */
#define DIGEST_K1 0x9E3779B185EBCA87ULL
#define DIGEST_K2 0xC2B2AE3D27D4EB4FULL
#define DIGEST_K3 0x165667B19E3779F9ULL
#define DIGEST_K4 0x85EBCA77C2B2AE63ULL

static __always_inline __u64 digest_rotl(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* murmur3 fmix64: every input bit reaches every output bit. */
static __always_inline __u64 digest_fmix(__u64 h)
{
	h ^= h >> 33;
	h *= 0xFF51AFD7ED558CCDULL;
	h ^= h >> 33;
	h *= 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 33;
	return h;
}

/* One more word into a digest (fields the caller wants in it besides the bytes). */
static __always_inline __u64 digest_word(__u64 h, __u64 w)
{
	return digest_rotl((h ^ w) * DIGEST_K1, 29) * DIGEST_K2;
}

/* The four lanes of a digest in progress. */
struct digest_lanes {
	__u64 a, b, c, d;
};

static __always_inline void digest_init(struct digest_lanes *l)
{
	l->a = DIGEST_K1;
	l->b = DIGEST_K2;
	l->c = DIGEST_K3;
	l->d = DIGEST_K4;
}

/* One 32-byte block into the lanes. */
static __always_inline void digest_block(struct digest_lanes *l, const __u64 *w)
{
	l->a = (l->a ^ w[0]) * DIGEST_K1;
	l->b = (l->b ^ w[1]) * DIGEST_K2;
	l->c = (l->c ^ w[2]) * DIGEST_K3;
	l->d = (l->d ^ w[3]) * DIGEST_K4;
}

/* The digest of len bytes whose lanes are l: every byte and its position count, and the length
 * tells a payload from the same payload with zero bytes appended. */
static __always_inline __u64 digest_final(const struct digest_lanes *l, __u32 len)
{
	return digest_fmix(l->a ^ digest_rotl(l->b, 17) ^ digest_rotl(l->c, 31) ^
			   digest_rotl(l->d, 47) ^ ((__u64)len * DIGEST_K3));
}

/*
 * The digest of packet bytes [start, end) (offsets from the packet's start) of an XDP or a tc
 * context, load being bpf_xdp_load_bytes or bpf_skb_load_bytes. Whole 32-byte blocks are read in
 * place; the 0..31 bytes after the last one are copied into a zeroed block (the length, mixed in
 * at the end, tells them from real zeros). Bytes past the frame are not there to read: a frame cut
 * short of end digests what it has. A start past DIGEST_MAX_START digests only the length: the
 * verifier learns nothing from a bounds check on a packet pointer that could lie past 64 KiB.
 * As global functions (below), the verifier checks the block loop once, not on every path of the
 * program that calls it: each exit of a loop over the packet is a state of its own.
 */
#define DIGEST_CTX_BODY(ctx, load)                                                          \
	void *data = (void *)(long)(ctx)->data;                                              \
	void *data_end = (void *)(long)(ctx)->data_end;                                      \
	__u32 frame = (__u32)(data_end - data), off, rem;                                   \
	struct digest_lanes l;                                                               \
	__u64 tail[DIGEST_BLOCK / 8] = {};                                                   \
	__u8 *p;                                                                             \
	int i;                                                                               \
                                                                                             \
	if (start > DIGEST_MAX_START || end > 0xFFFF || end < start)                         \
		return digest_fmix(end);                                                     \
	if (end > frame)                                                                     \
		end = frame;                                                                 \
	if (end < start)                                                                     \
		end = start;                                                                 \
	digest_init(&l);                                                                     \
	p = data + start;                                                                    \
	for (i = 0; i < DIGEST_MAX_BYTES / DIGEST_BLOCK; i++) {                             \
		if ((void *)(p + DIGEST_BLOCK) > data_end ||                                 \
		    (__u32)(p + DIGEST_BLOCK - (__u8 *)data) > end)                           \
			break;                                                               \
		digest_block(&l, (const __u64 *)p);                                          \
		p += DIGEST_BLOCK;                                                           \
	}                                                                                    \
	off = (__u32)(p - (__u8 *)data);                                                     \
	rem = end > off ? end - off : 0;                                                     \
	if (rem >= DIGEST_BLOCK)                                                             \
		rem = 0; /* past DIGEST_MAX_BYTES: the length still counts */                \
	barrier_var(rem); /* keep the two bounds apart: the verifier needs both */           \
	if (rem > 0 && !load((ctx), off, tail, rem))                                         \
		digest_block(&l, tail);                                                      \
	return digest_final(&l, end - start)

__attribute__((noinline)) __u64 digest_xdp(struct xdp_md *ctx, __u32 start, __u32 end)
{
	DIGEST_CTX_BODY(ctx, bpf_xdp_load_bytes);
}

__attribute__((noinline)) __u64 digest_skb(struct __sk_buff *skb, __u32 start, __u32 end)
{
	DIGEST_CTX_BODY(skb, bpf_skb_load_bytes);
}

#endif /* LIB_DIGEST_H */
