// SPDX-License-Identifier: GPL-2.0
/*
 * bench_helper.c - load generator and endpoints for `make bench-portfwd`
 * (not a test).
 *
 *   bench_helper server ADDR [--hvsock]    ADDR: tcp:IP:PORT or unix:PATH
 *   bench_helper rwrelay LISTEN TARGET     read/write relay (a thread per direction)
 *   bench_helper client ADDR MODE N [--hvsock PORT]
 *       MODE up|down: N bytes to/from the server; prints Gbit/s
 *            rtt: N 64-byte round trips; prints p50/p99 in us
 *            conn: N connect + 1-byte echo + close; prints connections/s
 *
 * Server protocol, first byte of a connection: 'U' sink until EOF then reply
 * 8 bytes; 'D' + u64 N: send N bytes; 'E' echo until EOF. --hvsock: answer
 * "CONNECT <n>\n" with "OK <n>\n" first, like a VMM's hybrid vsock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (128 << 10)	/* a typical application write */

static bool hvsock;
static const char *target;

static int parse(const char *a, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (!strncmp(a, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "%s", a + 5);
		*len = sizeof(*un);
		return AF_UNIX;
	}
	if (!strncmp(a, "tcp:", 4)) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		char ip[64];
		const char *c = strrchr(a + 4, ':');

		if (!c || (size_t)(c - a - 4) >= sizeof(ip))
			return -1;
		memcpy(ip, a + 4, (size_t)(c - a - 4));
		ip[c - a - 4] = '\0';
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)atoi(c + 1));
		if (inet_pton(AF_INET, ip, &in->sin_addr) != 1)
			return -1;
		*len = sizeof(*in);
		return AF_INET;
	}
	return -1;
}

static int dial(const char *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse(a, &ss, &len), fd, one = 1;

	if (fam < 0)
		return -1;
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (fam == AF_INET)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t r = write(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int hvsock_hello(int fd, int port)
{
	char line[64];
	size_t n = 0;
	int len = snprintf(line, sizeof(line), "CONNECT %d\n", port);

	if (write_full(fd, line, (size_t)len))
		return -1;
	while (n < sizeof(line) - 1) {
		if (read(fd, line + n, 1) != 1)
			return -1;
		if (line[n++] == '\n')
			return strncmp(line, "OK ", 3) ? -1 : 0;
	}
	return -1;
}

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg, one = 1;
	char *buf = malloc(CHUNK), cmd;
	uint64_t n = 0;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (hvsock) {
		/* peek the "CONNECT <n>\n" line, then read exactly it */
		ssize_t k = recv(fd, buf, 63, MSG_PEEK);
		char *nl = k > 0 ? memchr(buf, '\n', (size_t)k) : NULL;

		if (!nl || read_full(fd, buf, (size_t)(nl - buf + 1)) ||
		    write_full(fd, "OK 1073741824\n", 14))
			goto out;
	}
	if (read(fd, &cmd, 1) != 1)
		goto out;
	if (cmd == 'U') {
		ssize_t r;

		while ((r = read(fd, buf, CHUNK)) > 0)
			n += (uint64_t)r;
		write_full(fd, &n, sizeof(n));
	} else if (cmd == 'D') {
		if (read_full(fd, &n, sizeof(n)))
			goto out;
		memset(buf, 'd', CHUNK);
		while (n) {
			size_t k = n < CHUNK ? n : CHUNK;

			if (write_full(fd, buf, k))
				break;
			n -= k;
		}
	} else if (cmd == 'E') {
		ssize_t r;

		while ((r = read(fd, buf, CHUNK)) > 0)
			if (write_full(fd, buf, (size_t)r))
				break;
	}
	/* Like fc-agent: end with a half-close, then wait for the client's EOF. */
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, CHUNK) > 0)
		;
out:
	free(buf);
	close(fd);
	return NULL;
}

static int listen_on(const char *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse(a, &ss, &len), fd, one = 1;

	if (fam < 0)
		return -1;
	if (fam == AF_UNIX)
		unlink(((struct sockaddr_un *)&ss)->sun_path);
	fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4096))
		return -1;
	return fd;
}

static void spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_attr_t at;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	pthread_create(&t, &at, fn, arg);
	pthread_attr_destroy(&at);
}

struct pair {
	int from, to;
};

static void *copy(void *arg)
{
	struct pair *p = arg;
	char *buf = malloc(CHUNK);
	ssize_t r;

	while ((r = read(p->from, buf, CHUNK)) > 0)
		if (write_full(p->to, buf, (size_t)r))
			break;
	shutdown(p->to, SHUT_WR);
	free(buf);
	return NULL;
}

static void *relay_conn(void *arg)
{
	int c = (int)(intptr_t)arg, u = dial(target), one = 1;
	struct pair a = { c, u }, b = { u, c };
	pthread_t t;

	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (u >= 0) {
		pthread_create(&t, NULL, copy, &a);
		copy(&b);
		pthread_join(t, NULL);
		close(u);
	}
	close(c);
	return NULL;
}

static int accept_loop(int lfd, void *(*fn)(void *))
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			spawn(fn, (void *)(intptr_t)fd);
		else if (errno != EINTR && errno != ECONNABORTED)
			return 1;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int open_client(const char *a, int hv_port)
{
	int fd = dial(a);

	if (fd >= 0 && hv_port >= 0 && hvsock_hello(fd, hv_port)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int client(const char *a, const char *mode, uint64_t n, int hv_port)
{
	char *buf = malloc(CHUNK);
	double t0 = now(), t;
	int fd;

	memset(buf, 'u', CHUNK);
	if (!strcmp(mode, "conn")) {
		for (uint64_t i = 0; i < n; i++) {
			char b = 'x';

			fd = open_client(a, hv_port);
			if (fd < 0 || write_full(fd, "E", 1) || write_full(fd, &b, 1) ||
			    read_full(fd, &b, 1))
				return 1;
			close(fd);
		}
		printf("{\"conn_s\": %.1f}\n", (double)n / (now() - t0));
		return 0;
	}
	fd = open_client(a, hv_port);
	if (fd < 0)
		return 1;
	if (!strcmp(mode, "up")) {
		uint64_t left = n, got;

		if (write_full(fd, "U", 1))
			return 1;
		while (left) {
			size_t k = left < CHUNK ? left : CHUNK;

			if (write_full(fd, buf, k))
				return 1;
			left -= k;
		}
		shutdown(fd, SHUT_WR);
		if (read_full(fd, &got, sizeof(got)) || got != n)
			return 1;
	} else if (!strcmp(mode, "down")) {
		uint64_t got = 0;
		ssize_t r;

		if (write_full(fd, "D", 1) || write_full(fd, &n, sizeof(n)))
			return 1;
		while ((r = read(fd, buf, CHUNK)) > 0)
			got += (uint64_t)r;
		if (got != n)
			return 1;
	} else if (!strcmp(mode, "rtt")) {
		double *lat = calloc(n, sizeof(double));

		if (write_full(fd, "E", 1))
			return 1;
		for (uint64_t i = 0; i < n; i++) {
			t = now();
			if (write_full(fd, buf, 64) || read_full(fd, buf, 64))
				return 1;
			lat[i] = (now() - t) * 1e6;
		}
		qsort(lat, n, sizeof(double), cmp_double);
		printf("{\"p50_us\": %.1f, \"p99_us\": %.1f}\n", lat[n / 2], lat[n * 99 / 100]);
		return 0;
	} else {
		return 2;
	}
	t = now() - t0;
	printf("{\"gbit\": %.2f, \"seconds\": %.3f}\n", (double)n * 8 / t / 1e9, t);
	close(fd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "server")) {
		int lfd = listen_on(argv[2]);

		hvsock = argc > 3 && !strcmp(argv[3], "--hvsock");
		if (lfd < 0)
			return 1;
		printf("ready\n");
		fflush(stdout);
		return accept_loop(lfd, serve);
	}
	if (argc == 4 && !strcmp(argv[1], "rwrelay")) {
		int lfd = listen_on(argv[2]);

		target = argv[3];
		if (lfd < 0)
			return 1;
		printf("ready\n");
		fflush(stdout);
		return accept_loop(lfd, relay_conn);
	}
	if (argc >= 5 && !strcmp(argv[1], "client"))
		return client(argv[2], argv[3], strtoull(argv[4], NULL, 10),
			      argc == 7 && !strcmp(argv[5], "--hvsock") ? atoi(argv[6]) : -1);
	fprintf(stderr, "usage: see the header of bench_helper.c\n");
	return 2;
}
