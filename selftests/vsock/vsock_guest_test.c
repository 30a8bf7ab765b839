// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vsock_guest_test.c - fcvm's vhost-user-vsock device with
 * a real guest: `fcvm vm boot` on a Debian kernel under QEMU (TCG here),
 * then over the hybrid socket: host->guest and guest->host connections,
 * 64 KiB..64 MiB transfers with checksums both ways, 64 concurrent
 * connections, half-close, RST when nothing listens, a stalled reader that
 * must not stall others, and the guest's poweroff ending fcvm cleanly.
 * One boot for all checks (TAP via kselftest.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "guest_vm.h"
#include "pattern.h"

#define NCONC		64
#define CONC_BYTES	(256u * 1024)

static struct tvm vm;
static uint8_t buf[1 << 16];

static int send_pattern(int fd, uint64_t n, uint64_t seed, uint64_t *sum)
{
	struct pattern p;

	pattern_init(&p, seed);
	*sum = SUM_INIT;
	while (n) {
		size_t chunk = n < sizeof(buf) ? n : sizeof(buf);
		size_t off = 0;

		pattern_fill(&p, buf, chunk);
		*sum = sum_update(*sum, buf, chunk);
		while (off < chunk) {
			ssize_t r = write(fd, buf + off, chunk - off);

			if (r <= 0)
				return -1;
			off += (size_t)r;
		}
		n -= chunk;
	}
	return 0;
}

static uint64_t pattern_sum(uint64_t n, uint64_t seed)
{
	struct pattern p;
	uint64_t sum = SUM_INIT;

	pattern_init(&p, seed);
	while (n) {
		size_t chunk = n < sizeof(buf) ? n : sizeof(buf);

		pattern_fill(&p, buf, chunk);
		sum = sum_update(sum, buf, chunk);
		n -= chunk;
	}
	return sum;
}

static uint64_t drain(int fd, uint64_t *sum)
{
	uint64_t got = 0;
	ssize_t r;

	*sum = SUM_INIT;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		*sum = sum_update(*sum, buf, (size_t)r);
		got += (uint64_t)r;
	}
	return got;
}

/* host -> guest: the guest checksums what it got */
static int test_h2g(uint64_t n)
{
	char line[128], cmd[64];
	unsigned long long got = 0;
	uint64_t sum, gsum = 0;
	uint64_t t0 = tvm_now_ms();
	int fd, ok;

	snprintf(cmd, sizeof(cmd), "SINK %" PRIu64, n);
	fd = tvm_cmd(&vm, cmd);
	if (fd < 0)
		return 0;
	ok = !send_pattern(fd, n, n, &sum) &&
	     !tvm_read_line(fd, line, sizeof(line), 120000) &&
	     sscanf(line, "SUM %" SCNx64 " %llu", &gsum, &got) == 2 &&
	     gsum == sum && got == n;
	close(fd);
	ksft_print_msg("host->guest %" PRIu64 " bytes: %s, %.1f MB/s\n", n,
		       ok ? "checksum ok" : "MISMATCH",
		       n / 1000.0 / (double)(tvm_now_ms() - t0 + 1));
	return ok;
}

/* guest -> host: we checksum what the guest's pattern should be */
static int test_g2h(uint64_t n)
{
	char cmd[64];
	uint64_t sum, got, t0 = tvm_now_ms();
	int fd, ok;

	snprintf(cmd, sizeof(cmd), "SOURCE %" PRIu64 " %" PRIu64, n, n + 1);
	fd = tvm_cmd(&vm, cmd);
	if (fd < 0)
		return 0;
	got = drain(fd, &sum);
	close(fd);
	ok = got == n && sum == pattern_sum(n, n + 1);
	ksft_print_msg("guest->host %" PRIu64 " bytes: got %" PRIu64 ", %s, %.1f MB/s\n",
		       n, got, ok ? "checksum ok" : "MISMATCH",
		       n / 1000.0 / (double)(tvm_now_ms() - t0 + 1));
	return ok;
}

static int test_rtt(void)
{
	uint64_t t0;
	int fd = tvm_cmd(&vm, "ECHO"), i;

	if (fd < 0)
		return 0;
	t0 = tvm_now_ms();
	for (i = 0; i < 200; i++) {
		char msg[64], back[64];
		size_t got = 0;

		memset(msg, 'a' + i % 26, sizeof(msg));
		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			break;
		while (got < sizeof(back)) {
			ssize_t r = read(fd, back + got, sizeof(back) - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (got != sizeof(back) || memcmp(msg, back, sizeof(msg)))
			break;
	}
	close(fd);
	ksft_print_msg("64-byte round trip: %.0f us average over %d\n",
		       (double)(tvm_now_ms() - t0) * 1000.0 / (i ? i : 1), i);
	return i == 200;
}

/* We half-close; the guest sees EOF and still answers on the same stream. */
static int test_half_close(void)
{
	char line[128];
	unsigned long long got = 0;
	uint64_t sum, gsum = 0;
	int fd = tvm_cmd(&vm, "HALF"), ok;

	if (fd < 0)
		return 0;
	ok = !send_pattern(fd, 100000, 7, &sum) && !shutdown(fd, SHUT_WR) &&
	     !tvm_read_line(fd, line, sizeof(line), 30000) &&
	     sscanf(line, "GOT %llu %" SCNx64, &got, &gsum) == 2 &&
	     got == 100000 && gsum == sum;
	/* and then EOF from the guest's close */
	ok = ok && read(fd, buf, 1) == 0;
	close(fd);
	return ok;
}

static int test_rst(void)
{
	uint64_t t0 = tvm_now_ms();
	int fd = tvm_connect(&vm, 1234, 10000);

	if (fd >= 0)
		close(fd);
	ksft_print_msg("connect to a port nobody listens on: %s after %" PRIu64 " ms\n",
		       fd >= 0 ? "connected?!" : strerror(-fd), tvm_now_ms() - t0);
	return fd == -ECONNREFUSED && tvm_now_ms() - t0 < 5000;
}

static int listen_port(uint32_t port)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s_%u", vm.sock, port);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 64)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void unlisten_port(int fd, uint32_t port)
{
	char p[PATH_MAX + 32];

	close(fd);
	snprintf(p, sizeof(p), "%s_%u", vm.sock, port);
	unlink(p);
}

/* The guest connects to the host's port 5000: both directions checked. */
static int test_g2h_connect(void)
{
	const uint64_t up = 1 << 20, down = 256 * 1024;
	char line[128];
	uint64_t sum, got, rsum, gsum = 0, ggot = 0;
	int l = listen_port(5000), ctl, c, err = -1, ok = 0;

	if (l < 0)
		return 0;
	ctl = tvm_cmd(&vm, "DIAL 5000 1048576 11");
	if (ctl < 0)
		goto out;
	c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		goto out_ctl;
	got = drain(c, &sum);	/* the guest half-closes after sending */
	ok = got == up && sum == pattern_sum(up, 11) &&
	     !send_pattern(c, down, 12, &rsum);
	close(c);
	ok = ok && !tvm_read_line(ctl, line, sizeof(line), 60000) &&
	     sscanf(line, "DIALED %d %" SCNu64 " %" SCNx64, &err, &ggot, &gsum) == 3 &&
	     err == 0 && ggot == down && gsum == rsum;
out_ctl:
	close(ctl);
out:
	unlisten_port(l, 5000);
	return ok;
}

static int test_g2h_refused(void)
{
	char line[128];
	int fd = tvm_cmd(&vm, "DIAL 5001 10 1"), err = 0, ok;

	if (fd < 0)
		return 0;
	ok = !tvm_read_line(fd, line, sizeof(line), 30000) &&
	     sscanf(line, "DIALED %d", &err) == 1 && err == ECONNRESET;
	close(fd);
	return ok;
}

struct conc {
	int fd;
	uint64_t sent, got, sum_tx, sum_rx;
	struct pattern p;
	int eof;
};

/* 64 echo connections at once, interleaved. */
static int test_concurrent(void)
{
	static struct conc c[NCONC];
	uint64_t deadline = tvm_now_ms() + 300000;
	int done = 0, ok = 1;

	for (int i = 0; i < NCONC; i++) {
		c[i] = (struct conc){ .fd = tvm_cmd(&vm, "ECHO"), .sum_tx = SUM_INIT,
				      .sum_rx = SUM_INIT };
		if (c[i].fd < 0) {
			ksft_print_msg("connection %d: %s\n", i, strerror(-c[i].fd));
			while (i--)
				close(c[i].fd);
			return 0;
		}
		pattern_init(&c[i].p, 100 + i);
		fcntl(c[i].fd, F_SETFL, O_NONBLOCK);
	}
	while (done < NCONC && tvm_now_ms() < deadline) {
		struct pollfd p[NCONC];

		for (int i = 0; i < NCONC; i++) {
			p[i].fd = c[i].eof ? -1 : c[i].fd;
			p[i].events = POLLIN | (c[i].sent < CONC_BYTES ? POLLOUT : 0);
		}
		if (poll(p, NCONC, 1000) < 0)
			break;
		for (int i = 0; i < NCONC; i++) {
			uint8_t b[8192];
			ssize_t r;

			if ((p[i].revents & POLLOUT) && c[i].sent < CONC_BYTES) {
				size_t n = CONC_BYTES - c[i].sent < sizeof(b) ?
					   CONC_BYTES - c[i].sent : sizeof(b);
				struct pattern save = c[i].p;

				pattern_fill(&c[i].p, b, n);
				r = write(c[i].fd, b, n);
				if (r < 0) {
					c[i].p = save;
				} else {
					/* regenerate exactly what went out */
					c[i].p = save;
					pattern_fill(&c[i].p, b, (size_t)r);
					c[i].sum_tx = sum_update(c[i].sum_tx, b, (size_t)r);
					c[i].sent += (uint64_t)r;
					if (c[i].sent == CONC_BYTES)
						shutdown(c[i].fd, SHUT_WR);
				}
			}
			if (p[i].revents & (POLLIN | POLLHUP)) {
				r = read(c[i].fd, b, sizeof(b));
				if (r > 0) {
					c[i].sum_rx = sum_update(c[i].sum_rx, b, (size_t)r);
					c[i].got += (uint64_t)r;
				} else if (r == 0 || errno != EAGAIN) {
					c[i].eof = 1;
					done++;
				}
			}
		}
	}
	for (int i = 0; i < NCONC; i++) {
		if (c[i].got != CONC_BYTES || c[i].sum_rx != c[i].sum_tx) {
			if (ok)
				ksft_print_msg("connection %d: sent %" PRIu64 " got %" PRIu64 "\n",
					       i, c[i].sent, c[i].got);
			ok = 0;
		}
		close(c[i].fd);
	}
	return ok && done == NCONC;
}

/* A host reader that stops reading must not stall other connections. */
static int test_stalled_reader(void)
{
	struct pollfd p = { .events = POLLIN };
	int ok;

	p.fd = tvm_cmd(&vm, "SOURCE 67108864 5");
	if (p.fd < 0)
		return 0;
	/* data flows, then we stop reading: credit and buffers fill up */
	ok = poll(&p, 1, 30000) == 1;
	ok = test_rtt() && ok;
	close(p.fd);
	return ok;
}

/* The guest powers off: fcvm exits 0 and leaves no socket behind. */
static int test_poweroff(void)
{
	int fd = tvm_cmd(&vm, "POWEROFF");

	if (fd < 0)
		return 0;
	if (tvm_wait(&vm, 120000)) {
		close(fd);
		return 0;
	}
	close(fd);
	ksft_print_msg("fcvm exit status %d, %d sockets left\n",
		       WIFEXITED(vm.status) ? WEXITSTATUS(vm.status) : -1,
		       tvm_dir_sockets(&vm));
	return WIFEXITED(vm.status) && WEXITSTATUS(vm.status) == 0 &&
	       tvm_log_has(&vm, "guest powered off") && tvm_dir_sockets(&vm) == 0;
}

#define CHECK(name, expr) ksft_test_result((expr), "%s\n", name)

int main(void)
{
	const char *skip = tvm_skip_reason();
	int err;

	signal(SIGPIPE, SIG_IGN);
	ksft_print_header();
	ksft_set_plan(17);
	if (skip)
		ksft_exit_skip("%s\n", skip);
	err = tvm_boot(&vm);
	if (err) {
		ksft_print_msg("boot: %s\n", strerror(-err));
		tvm_cleanup(&vm);
		ksft_exit_fail_msg("the guest did not come up\n");
	}
	ksft_test_result_pass("boot through the QEMU backend, peer reachable\n");
	CHECK("host->guest 64 KiB", test_h2g(64 * 1024));
	CHECK("host->guest 1 MiB", test_h2g(1 << 20));
	CHECK("host->guest 64 MiB", test_h2g(64u << 20));
	CHECK("guest->host 64 KiB", test_g2h(64 * 1024));
	CHECK("guest->host 1 MiB", test_g2h(1 << 20));
	CHECK("guest->host 64 MiB", test_g2h(64u << 20));
	CHECK("64-byte round trips", test_rtt());
	CHECK("half-close: guest answers after host EOF", test_half_close());
	CHECK("RST when nothing listens (host->guest)", test_rst());
	CHECK("guest->host connection, 1 MiB up, 256 KiB down", test_g2h_connect());
	CHECK("guest->host connection refused when nothing listens", test_g2h_refused());
	CHECK("64 concurrent connections", test_concurrent());
	CHECK("stalled reader does not stall other connections", test_stalled_reader());
	CHECK("device survives all of the above", test_h2g(4096));
	CHECK("guest poweroff ends fcvm with status 0", test_poweroff());
	CHECK("no socket left in the VM directory", tvm_dir_sockets(&vm) == 0);
	tvm_cleanup(&vm);
	ksft_finished();
}
