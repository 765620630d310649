// Request/response latency probe for vm-lab/policy-bench.sh (a stand-in for netperf TCP_RR,
// which Debian ships only in non-free). One TCP connection, TCP_NODELAY, fixed-size request and
// response (default 100 B / 200 B as in the classic Cilium-vs-iptables study), every round trip
// timed with CLOCK_MONOTONIC. Built into the run's temp dir at run time; not part of the product.
//   rr server PORT REQ RESP             serve connections one after another, forever
//   rr client ADDR PORT REQ RESP COUNT WARMUP
//        prints: count=N median_us=.. p99_us=.. mean_us=.. min_us=.. max_us=..
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int full_io(int fd, char *buf, size_t len, int wr)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = wr ? write(fd, buf + done, len - done) : read(fd, buf + done, len - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int one = 1;
	if (argc == 5 && !strcmp(argv[1], "server")) {
		size_t req = atoi(argv[3]), resp = atoi(argv[4]);
		char *buf = calloc(1, req > resp ? req : resp);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
		int ls = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 8)) {
			perror("rr server");
			return 1;
		}
		for (;;) {
			int c = accept(ls, NULL, NULL);
			if (c < 0)
				continue;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			while (!full_io(c, buf, req, 0) && !full_io(c, buf, resp, 1))
				;
			close(c);
		}
	}
	if (argc == 8 && !strcmp(argv[1], "client")) {
		size_t req = atoi(argv[4]), resp = atoi(argv[5]);
		long count = atol(argv[6]), warm = atol(argv[7]);
		char *buf = calloc(1, req > resp ? req : resp);
		long long *t = calloc(count, sizeof *t);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
		inet_pton(AF_INET, argv[2], &a.sin_addr);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (connect(s, (struct sockaddr *)&a, sizeof a)) {
			perror("rr client connect");
			return 1;
		}
		for (long i = 0; i < warm + count; i++) {
			long long t0 = now_ns();
			if (full_io(s, buf, req, 1) || full_io(s, buf, resp, 0)) {
				fprintf(stderr, "rr client: connection failed after %ld round trips\n", i);
				return 1;
			}
			if (i >= warm)
				t[i - warm] = now_ns() - t0;
		}
		close(s);
		long double sum = 0;
		for (long i = 0; i < count; i++)
			sum += t[i];
		qsort(t, count, sizeof *t, cmp_ll);
		long p99 = (long)(0.99 * (count - 1) + 0.5);
		printf("count=%ld median_us=%.2f p99_us=%.2f mean_us=%.2f min_us=%.2f max_us=%.2f\n", count,
		       (count % 2 ? t[count / 2] : (t[count / 2 - 1] + t[count / 2]) / 2) / 1e3, t[p99] / 1e3,
		       (double)(sum / count) / 1e3, t[0] / 1e3, t[count - 1] / 1e3);
		return 0;
	}
	fprintf(stderr, "usage: rr server PORT REQ RESP | rr client ADDR PORT REQ RESP COUNT WARMUP\n");
	return 2;
}
