// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vsock_peer.c - the guest side of the vsock tests: PID 1 of
 * the test initramfs. Mounts the basics, loads the virtio-mmio and vsock
 * modules listed in /lib/modules/<release>/fcvm-load-order (written by
 * selftests/vm/mkinitramfs), then serves commands on vsock port
 * PEER_PORT, one child process per connection:
 *   ECHO                    echo until EOF
 *   SINK <n>                read n bytes, answer "SUM <hex>"
 *   SOURCE <n> <seed>       send n pattern bytes, close
 *   HALF                    read until EOF, then answer "GOT <n>" (half-close)
 *   DIAL <port> <n> <seed>  connect to the host's <port>, send n pattern bytes,
 *                           half-close, read the reply to EOF, answer
 *                           "DIALED <errno> <bytes> <hex sum>"
 *   POWEROFF | REBOOT | EXIT <code>
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/reboot.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pattern.h"

#define DEBUG_EXIT_PORT 0xf4

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("fcvm-peer: ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
	va_end(ap);
}

static void load_modules(void)
{
	char name[256], path[600], dir[300];
	struct utsname u;
	FILE *f;

	uname(&u);
	snprintf(dir, sizeof(dir), "/lib/modules/%s", u.release);
	snprintf(path, sizeof(path), "%s/fcvm-load-order", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(name, sizeof(name), f)) {
		int fd;

		name[strcspn(name, "\n")] = '\0';
		if (!name[0])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || syscall(SYS_finit_module, fd, "", 0))
			if (errno != EEXIST)
				say("module %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

static int write_all(int fd, const void *buf, size_t len)
{
	while (len) {
		ssize_t r = write(fd, buf, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		buf = (const char *)buf + r;
		len -= (size_t)r;
	}
	return 0;
}

static uint8_t buf[1 << 16];

static void cmd_source(int fd, uint64_t n, uint64_t seed)
{
	struct pattern p;

	pattern_init(&p, seed);
	while (n) {
		size_t chunk = n < sizeof(buf) ? n : sizeof(buf);

		pattern_fill(&p, buf, chunk);
		if (write_all(fd, buf, chunk))
			return;
		n -= chunk;
	}
}

/* Read to EOF (or @limit bytes); return count, sum through @sum. */
static uint64_t drain(int fd, uint64_t limit, uint64_t *sum)
{
	uint64_t got = 0;

	*sum = SUM_INIT;
	while (got < limit) {
		size_t want = limit - got < sizeof(buf) ? limit - got : sizeof(buf);
		ssize_t r = read(fd, buf, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		*sum = sum_update(*sum, buf, (size_t)r);
		got += (uint64_t)r;
	}
	return got;
}

static void cmd_dial(int ctl, unsigned int port, uint64_t n, uint64_t seed)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
				 .svm_port = port };
	uint64_t sum = SUM_INIT, got = 0;
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0), err = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = errno;
	} else {
		cmd_source(fd, n, seed);
		shutdown(fd, SHUT_WR);
		got = drain(fd, UINT64_MAX, &sum);
	}
	if (fd >= 0)
		close(fd);
	dprintf(ctl, "DIALED %d %" PRIu64 " %016" PRIx64 "\n", err, got, sum);
}

static void serve(int fd)
{
	char line[128];
	unsigned long long n, seed;
	unsigned int port;
	uint64_t sum;
	int code;

	if (read_line(fd, line, sizeof(line)))
		return;
	if (!strcmp(line, "ECHO")) {
		ssize_t r;

		while ((r = read(fd, buf, sizeof(buf))) > 0)
			if (write_all(fd, buf, (size_t)r))
				break;
	} else if (sscanf(line, "SINK %llu", &n) == 1) {
		uint64_t got = drain(fd, n, &sum);

		dprintf(fd, "SUM %016" PRIx64 " %" PRIu64 "\n", sum, got);
	} else if (sscanf(line, "SOURCE %llu %llu", &n, &seed) == 2) {
		cmd_source(fd, n, seed);
	} else if (!strcmp(line, "HALF")) {
		uint64_t got = drain(fd, UINT64_MAX, &sum);

		dprintf(fd, "GOT %" PRIu64 " %016" PRIx64 "\n", got, sum);
	} else if (sscanf(line, "DIAL %u %llu %llu", &port, &n, &seed) == 3) {
		cmd_dial(fd, port, n, seed);
	} else if (!strcmp(line, "POWEROFF")) {
		sync();
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			LINUX_REBOOT_CMD_POWER_OFF, NULL);
	} else if (!strcmp(line, "REBOOT")) {
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			LINUX_REBOOT_CMD_RESTART, NULL);
	} else if (sscanf(line, "EXIT %d", &code) == 1) {
		if (ioperm(DEBUG_EXIT_PORT, 4, 1) == 0)
			outl((unsigned int)code, DEBUG_EXIT_PORT);
		say("EXIT: %s", strerror(errno));
	} else {
		dprintf(fd, "ERR unknown command\n");
	}
}

int main(void)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = PEER_PORT };
	int lfd;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	load_modules();
	signal(SIGCHLD, SIG_IGN);	/* children reap themselves */
	lfd = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(lfd, 128)) {
		say("vsock listen: %s", strerror(errno));
		syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
			LINUX_REBOOT_CMD_POWER_OFF, NULL);
		return 1;
	}
	say("ready on port %u", PEER_PORT);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (fork() == 0) {
			close(lfd);
			serve(fd);
			close(fd);
			_exit(0);
		}
		close(fd);
	}
}
