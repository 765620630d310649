// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vm-lab packet generator and receiver counter (lab only; built at run time by vm-lab/lab.sh).
 *
 *   trafgen send  OBJ IFNAME SRC_MAC DST_MAC SRC_IP DST_IP ENCAP SECONDS [BATCH [RATE [BURST]]]
 *       ENCAP: N (0..16 SR-MPLS label entries, 0 = plain), nsh1 (NSH MD type 1, 16 context bytes) or
 *       nsh2-V (NSH MD type 2 with V value bytes of metadata, 0..236, in TLVs of at most
 *       NSH_TLV_MAX value bytes each: one TLV up to 124, two beyond; nsh2-236 is the largest header
 *       NSH's 6-bit Length allows, 252 bytes; nsh2 = no TLV); NSH: TTL 63, SPI 42, SI 255, next
 *       protocol IPv4. srv6-N (N 1..16 segments) and srv6-N-t (the same SRH with 56 bytes of TLVs):
 *       Ethernet + outer IPv6 to the proxy SID + SRH, next header IPv4, as srv6_lab.h describes;
 *       srv6-N[-t]-sl0: as long, but the SID is the policy's last segment (SL 0, Segment List[0]),
 *       the only SRv6 frame the kernel's End.DX4 decapsulates (vm-lab/lab/kernel_srv6.sh).
 *       Ethernet + encapsulation + IPv4 + UDP (dport 5001) + 64-byte payload, sent
 *       out of IFNAME by the XDP program `gen` under BPF_PROG_TEST_RUN with
 *       BPF_F_TEST_XDP_LIVE_FRAMES (the xdp-trafficgen technique): every frame gets its own IPv4 id,
 *       UDP source port and payload counter, so every packet is a distinct cache entry.
 *       RATE (packets/s, 0 = as fast as the chain takes them): paced by `gen` itself (a token
 *       bucket on the kernel clock holding BURST frames, default 1 ms of traffic; frames not due
 *       are dropped before they leave), for a user-mode VNF whose queue the sender must not
 *       overrun (see vm-lab/lab/tun.sh). sent counts the frames that left.
 *       Prints: sent=N seconds=S pps=R frame_bytes=B cpu_s=C (this process's CPU time)
 *   trafgen count OBJ IFNAME WARMUP SECONDS [DRAIN]
 *       attaches `count` at tc ingress of IFNAME, prints READY, waits WARMUP s, then counts for
 *       SECONDS s and prints one JSON line {"pps":..,"packets":..,"by_labels":{"0":..,..}}; with
 *       DRAIN it waits DRAIN s more and adds "total": every frame since READY (for loss = sent -
 *       total, the sender being done by then).
 *   trafgen redirect OBJ IFNAME TO_IFNAME
 *       attaches `redirect` (native XDP) to IFNAME with TO_IFNAME in its devmap and exits: the
 *       sidecar floor (vm-lab/lab/sidecar.sh); detach with `ip link set dev IFNAME xdpdrv off`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "srv6_lab.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "trafgen: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void parse_mac(const char *s, unsigned char *m)
{
	if (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
		fprintf(stderr, "trafgen: bad MAC %s\n", s);
		exit(2);
	}
}

/* NSH MD type 2 (RFC 8300): a TLV's Length is 7 bits, a header at most 63 words (252 bytes). TLVs
 * carry at most 124 value bytes, so all but the last need no padding; 236 = 124 + 112 fills 252. */
#define NSH_TLV_MAX 124
#define NSH_MD2_MAX_VALUE 236

static struct bpf_object *open_load(const char *path)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	int err = libbpf_get_error(obj);
	if (err)
		die("open object", err);
	if ((err = bpf_object__load(obj)))
		die("load object", err);
	return obj;
}

static int do_send(int argc, char **argv)
{
	if (argc < 10)
		return 2;
	const char *ifname = argv[3];
	const char *encap = argv[8];
	int labels = 0, nsh_md = 0, tlv = -1, segs = 0, srh_tlv = 0, sl0 = 0, end = 0;
	if (!strcmp(encap, "nsh1"))
		nsh_md = 1;
	else if (!strcmp(encap, "nsh2"))
		nsh_md = 2;
	else if (sscanf(encap, "nsh2-%d", &tlv) == 1 && tlv >= 0 && tlv <= NSH_MD2_MAX_VALUE)
		nsh_md = 2;
	else if (sscanf(encap, "srv6-%d%n", &segs, &end) == 1 && segs >= 1 && segs <= LAB_SRV6_MAX_SEGS &&
		 (!encap[end] || !strcmp(encap + end, "-t") || !strcmp(encap + end, "-sl0") ||
		  !strcmp(encap + end, "-t-sl0"))) {
		srh_tlv = !strncmp(encap + end, "-t", 2);
		sl0 = strstr(encap + end, "-sl0") != NULL;
	}
	else if ((segs = 0), !strncmp(encap, "srv6", 4))
		return 2;
	else
		labels = atoi(encap);
	double seconds = atof(argv[9]);
	int batch = argc > 10 ? atoi(argv[10]) : 64;
	double rate = argc > 11 ? atof(argv[11]) : 0;
	int burst = argc > 12 ? atoi(argv[12]) : (int)(rate / 1000);
	if (batch < 1 || rate < 0 || burst < 0)
		return 2;
	unsigned char frame[640] = {0};
	struct ethhdr *eth = (void *)frame;
	int ifindex = if_nametoindex(ifname);
	if (!ifindex)
		die(ifname, errno);
	if (labels < 0 || labels > 16)
		return 2;
	parse_mac(argv[4], eth->h_source);
	parse_mac(argv[5], eth->h_dest);
	eth->h_proto = htons(nsh_md ? 0x894F : labels ? ETH_P_MPLS_UC : segs ? ETH_P_IPV6 : ETH_P_IP);
	unsigned off = sizeof(*eth);
	const int payload = 64;
	if (segs) {
		/* IPv6 (RFC 8200) + SRH (RFC 8754 2): reduced, SL = N, Last Entry = N - 1, Segment
		 * List[j] = 2001:2:e::(N - j), flags and tag 0, then the TLVs */
		unsigned srh = 8 + 16 * segs + (srh_tlv ? LAB_SRV6_TLV_BYTES : 0);
		unsigned char *h = frame + off, *r = h + 40;
		uint16_t plen = htons(srh + sizeof(struct iphdr) + sizeof(struct udphdr) + payload);
		h[0] = 0x60;
		memcpy(h + 4, &plen, 2);
		h[6] = 43;   /* next header: routing */
		h[7] = 64;   /* hop limit */
		if (inet_pton(AF_INET6, LAB_SRV6_SRC, h + 8) != 1 || inet_pton(AF_INET6, LAB_SRV6_SID, h + 24) != 1)
			return 2;
		r[0] = 4;                 /* next header: IPv4 */
		r[1] = srh / 8 - 1;       /* Hdr Ext Len */
		r[2] = 4;                 /* Routing Type: SRH */
		r[3] = sl0 ? 0 : segs;    /* Segments Left */
		r[4] = segs - 1;          /* Last Entry */
		for (int j = 0; j < segs; j++) {
			uint32_t w[4] = { htonl(LAB_SRV6_SEG_W0), htonl(LAB_SRV6_SEG_W1), htonl(LAB_SRV6_SEG_W2), htonl(segs - j) };
			memcpy(r + 8 + 16 * j, w, 16);
		}
		if (sl0) {   /* the SID last (Segment List[0]), the segments before it 2001:2:d::j */
			inet_pton(AF_INET6, LAB_SRV6_SID, r + 8);
			for (int j = 1; j < segs; j++)
				r[8 + 16 * j + 5] = 0x0d, r[8 + 16 * j + 15] = j;
		}
		for (unsigned k = 0; srh_tlv && k < LAB_SRV6_TLV_BYTES; k++)
			r[8 + 16 * segs + k] = lab_srv6_tlv_byte(k);
		off += 40 + srh;
	}
	if (nsh_md) {
		/* RFC 8300: ver 0, O 0, TTL 63, Length, MD type, next protocol 1 (IPv4); SPI 42, SI 255 */
		unsigned meta = 16;   /* MD type 1: fixed context */
		if (nsh_md == 2) {    /* TLVs of at most NSH_TLV_MAX value bytes, each padded to 4 */
			meta = 0;
			for (int v = tlv; v >= 0; v -= NSH_TLV_MAX) {
				int n = v > NSH_TLV_MAX ? NSH_TLV_MAX : v;
				meta += 4 + ((n + 3) & ~3);
				if (v <= NSH_TLV_MAX)
					break;
			}
		}
		unsigned length = (8 + meta) / 4, ttl = 63;
		unsigned char *h = frame + off;
		h[0] = ttl >> 2;
		h[1] = ((ttl & 3) << 6) | length;
		h[2] = nsh_md;
		h[3] = 1;
		h[4] = 0, h[5] = 0, h[6] = 42, h[7] = 255;
		for (unsigned i = 0; i < meta; i++)
			h[8 + i] = 0x5a ^ i;
		unsigned t = 8;
		for (int v = tlv; nsh_md == 2 && v >= 0; v -= NSH_TLV_MAX) {
			int n = v > NSH_TLV_MAX ? NSH_TLV_MAX : v;
			h[t] = 0x01, h[t + 1] = 0x02, h[t + 2] = 0x03, h[t + 3] = n;   /* class 0x0102, type 3, len */
			for (unsigned i = t + 4 + n; i < t + 4 + ((n + 3) & ~3); i++)
				h[i] = 0;                                               /* padding */
			t += 4 + ((n + 3) & ~3);
			if (v <= NSH_TLV_MAX)
				break;
		}
		off += 8 + meta;
	}
	for (int i = 0; i < labels; i++, off += 4) {
		/* label 16000+i, TC 0, BoS on the last, TTL 64 */
		uint32_t e = ((16000u + i) << 12) | (i == labels - 1 ? 0x100 : 0) | 64;
		e = htonl(e);
		memcpy(frame + off, &e, 4);
	}
	struct iphdr *ip = (void *)(frame + off);
	struct udphdr *udp = (void *)(ip + 1);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->tot_len = htons(sizeof(*ip) + sizeof(*udp) + payload);
	if (inet_pton(AF_INET, argv[6], &ip->saddr) != 1 || inet_pton(AF_INET, argv[7], &ip->daddr) != 1)
		return 2;
	udp->dest = htons(5001);
	udp->source = htons(1024);
	udp->len = htons(sizeof(*udp) + payload);
	memset((char *)(udp + 1), 0xab, payload);
	unsigned len = off + sizeof(*ip) + sizeof(*udp) + payload;

	struct bpf_object *obj = open_load(argv[2]);
	struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
	if (!bss)
		die("no .bss map", ENOENT);
	/* trafgen.bpf.h's struct gen_cfg (the generator of both lab.bpf.c and dsr_lab.bpf.c) */
	struct {
		uint32_t l3_off, hdr_words;
		uint64_t seq;
		uint16_t tmpl[208];   /* GEN_TMPL_WORDS */
		uint64_t interval_ns, burst_ns, next_ns, sent, end_ns;
	} init = { off, 0, 0, {0}, 0, 0, 0, 0, 0 };
	if (rate > 0) {
		init.interval_ns = (uint64_t)(1e9 / rate);
		/* the bucket (at least BATCH frames): time the sender loses to preemption and to the
		 * chain's softirq is made up for in a burst of at most BURST frames, which the VNF's
		 * queue must hold */
		init.burst_ns = init.interval_ns * (burst > batch ? burst : batch);
		if (!init.interval_ns)
			return 2;
		/* bpf_ktime_get_ns() is CLOCK_MONOTONIC: a run that outlasts the time (the process was
		 * preempted inside it) sends nothing after it, so the receiver's count is complete */
		init.end_ns = (uint64_t)((now() + seconds) * 1e9);
	}
	unsigned hdr = off + sizeof(*ip) + sizeof(*udp) + 4;
	if (hdr > sizeof(init.tmpl) || off > 0x1ff) {
		fprintf(stderr, "trafgen: headers too long for the template (%u bytes)\n", hdr);
		return 1;
	}
	init.hdr_words = (hdr + 1) / 2;
	memcpy(init.tmpl, frame, init.hdr_words * 2);
	uint32_t zero = 0;
	int err = bpf_map_update_elem(bpf_map__fd(bss), &zero, &init, 0);
	if (err)
		die("set l3_off", err);
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "gen"));

	struct xdp_md ctx = { .data = 0, .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = frame, .data_size_in = len,
		.ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		.flags = BPF_F_TEST_XDP_LIVE_FRAMES,
		.repeat = rate > 0 ? 1 << 18 : 1 << 16, .batch_size = batch);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	double t0 = now(), t = t0;
	unsigned long long sent = 0;
	do {
		if ((err = bpf_prog_test_run_opts(prog, &opts)))
			die("BPF_PROG_TEST_RUN (live frames)", err);
		sent += opts.repeat;
		double t1 = now();
		if (rate > 0) {
			/* Each test run costs ~40 ms of setup during which nothing is sent: paced, make the
			 * next run last the rest of the time, from the iterations per second of this one. */
			double left = seconds - (t1 - t0), ips = opts.repeat / (t1 - t);
			opts.repeat = left * ips > (1u << 30) ? 1u << 30 : left * ips < (1 << 14) ? 1 << 14 : (unsigned)(left * ips);
		}
		t = t1;
	} while (t - t0 < seconds);
	if (rate > 0) {
		if ((err = bpf_map_lookup_elem(bpf_map__fd(bss), &zero, &init)))
			die("read .bss", err);
		sent = init.sent;
		if (t - t0 > seconds)
			t = t0 + seconds;   /* the rate over the time frames could leave */
	}
	getrusage(RUSAGE_SELF, &r1);
	/* CPU time of this process: the generator and, because the whole chain runs in softirq on
	 * this CPU when the test run enables bottom halves again, the proxy path too (tick-based
	 * accounting charges softirq ticks to the interrupted task; ksoftirqd is counted apart). */
	double cpu = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
		     (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
	printf("sent=%llu seconds=%.3f pps=%.0f frame_bytes=%u cpu_s=%.3f\n", sent, t - t0, sent / (t - t0), len, cpu);
	return 0;
}

#define SLOTS LAB_COUNT_SLOTS
static void read_counts(int fd, unsigned long long out[SLOTS])
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long v[ncpu];
	for (uint32_t k = 0; k < SLOTS; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v) == 0)
			for (int c = 0; c < ncpu; c++)
				out[k] += v[c];
	}
}

static int do_count(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	int ifindex = if_nametoindex(argv[3]);
	if (!ifindex)
		die(argv[3], errno);
	double warmup = atof(argv[4]), seconds = atof(argv[5]), drain = argc > 6 ? atof(argv[6]) : -1;
	struct bpf_object *obj = open_load(argv[2]);
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "count"));
	int map = bpf_map__fd(bpf_object__find_map_by_name(obj, "counts"));
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, topts, .prog_fd = prog);
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		die("tc hook", err);
	if ((err = bpf_tc_attach(&hook, &topts)))
		die("tc attach", err);
	printf("READY\n");
	fflush(stdout);
	unsigned long long a[SLOTS], b[SLOTS], z[SLOTS];
	read_counts(map, z);
	usleep(warmup * 1e6);
	read_counts(map, a);
	double t0 = now();
	usleep(seconds * 1e6);
	read_counts(map, b);
	double dt = now() - t0;
	unsigned long long total = 0, c[SLOTS];
	if (drain >= 0) {
		usleep(drain * 1e6);
		read_counts(map, c);
		for (int k = 0; k < SLOTS; k++)
			total += c[k] - z[k];
	}
	hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	bpf_tc_hook_destroy(&hook);
	unsigned long long tot = 0;
	for (int k = 0; k < SLOTS; k++)
		tot += b[k] - a[k];
	printf("{\"pps\": %.0f, \"packets\": %llu, \"seconds\": %.3f, ", tot / dt, tot, dt);
	if (drain >= 0)
		printf("\"total\": %llu, ", total);
	printf("\"by_labels\": {");
	const char *sep = "";
	for (int k = 0; k < SLOTS; k++)
		if (b[k] - a[k]) {
			printf("%s\"%d\": %llu", sep, k, b[k] - a[k]);
			sep = ", ";
		}
	printf("}}\n");
	return 0;
}

static int do_redirect(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	int from = if_nametoindex(argv[3]), to = if_nametoindex(argv[4]);
	if (!from || !to)
		die(from ? argv[4] : argv[3], errno);
	struct bpf_object *obj = open_load(argv[2]);
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "redirect"));
	int map = bpf_map__fd(bpf_object__find_map_by_name(obj, "redirect_port"));
	uint32_t zero = 0, ifindex = to;
	int err = bpf_map_update_elem(map, &zero, &ifindex, 0);
	if (err)
		die("devmap", err);
	if ((err = bpf_xdp_attach(from, prog, XDP_FLAGS_DRV_MODE, NULL)))
		die("XDP attach (native)", err);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;
	libbpf_set_print(NULL);
	if (argc > 1 && !strcmp(argv[1], "send"))
		rc = do_send(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "count"))
		rc = do_count(argc, argv);
	else if (argc > 1 && !strcmp(argv[1], "redirect"))
		rc = do_redirect(argc, argv);
	if (rc == 2)
		fprintf(stderr, "usage: trafgen send OBJ IFNAME SRC_MAC DST_MAC SRC_IP DST_IP N|nsh1|nsh2[-V]|srv6-N[-t] SECONDS [BATCH [RATE [BURST]]]\n"
				"       trafgen count OBJ IFNAME WARMUP SECONDS [DRAIN]\n"
				"       trafgen redirect OBJ IFNAME TO_IFNAME\n");
	return rc;
}
