// SPDX-License-Identifier: GPL-2.0
/*
 * vsock/hvsock.c - hybrid-vsock client: connect to a guest port through the
 * VM's Unix socket, with one deadline for connect + handshake.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fcvm/vsock.h"
#include "util/io.h"
#include "vsock/hvsock.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline < 0 ? -1 : deadline - now_ms();
		int r;

		if (deadline >= 0 && left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* The reply is read a byte at a time so no stream data is consumed. */
static int read_reply(int fd, char *line, size_t size, int64_t deadline)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r;
		int err = wait_fd(fd, POLLIN, deadline);

		if (err)
			return err;
		r = read(fd, line + n, 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNREFUSED;	/* nothing listens on that port */
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		n++;
	}
	return -EPROTO;
}

static int connect_uds(int fd, const char *path, int64_t deadline)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	socklen_t len = sizeof(int);
	int err;

	if (strlen(path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	strcpy(un.sun_path, path);
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -errno;
	err = wait_fd(fd, POLLOUT, deadline);
	if (err)
		return err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

/**
 * hvsock_connect() - open a stream to a guest vsock port
 * @uds_path:   the VM's hybrid-vsock socket (<vmdir>/vsock.sock)
 * @guest_port: the guest port
 * @timeout_ms: deadline for connect + handshake; -1 waits forever
 * @host_port:  if not NULL, the port the VMM reported in "OK <n>"
 *
 * Return: a connected, blocking, O_CLOEXEC fd; or -ECONNREFUSED (VM socket
 * absent or nothing listening on the guest port), -ETIMEDOUT, -EPROTO (bad
 * reply), or another -errno.
 */
int hvsock_connect(const char *uds_path, uint32_t guest_port, int timeout_ms,
		   uint32_t *host_port)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char line[FCVM_HVSOCK_LINE_MAX];
	unsigned int hp;
	int fd, n, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	err = connect_uds(fd, uds_path, deadline);
	if (err)
		goto err_close;
	n = snprintf(line, sizeof(line), FCVM_HVSOCK_CONNECT " %" PRIu32 "\n", guest_port);
	err = wait_fd(fd, POLLOUT, deadline);
	if (err)
		goto err_close;
	if (write(fd, line, (size_t)n) != n) {
		err = errno ? -errno : -EIO;
		goto err_close;
	}
	err = read_reply(fd, line, sizeof(line), deadline);
	if (err)
		goto err_close;
	if (fcvm_hvsock_parse(line, FCVM_HVSOCK_OK, &hp)) {
		err = -EPROTO;
		goto err_close;
	}
	err = io_set_nonblock(fd, 0);
	if (err)
		goto err_close;
	if (host_port)
		*host_port = hp;
	return fd;

err_close:
	close(fd);
	return err;
}

/**
 * hvsock_start() - begin a non-blocking hybrid-vsock connection
 * @uds_path:   the VM's hybrid-vsock socket
 * @guest_port: the guest port
 *
 * Connects (a Unix socket connect completes at once or fails) and sends
 * "CONNECT <port>\n". Wait for POLLIN on the fd, then call hvsock_finish().
 *
 * Return: a non-blocking O_CLOEXEC fd, or -ECONNREFUSED (no VM socket or
 * nobody accepting), -EAGAIN (the VMM's backlog is full), -errno.
 */
int hvsock_start(const char *uds_path, uint32_t guest_port)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char line[FCVM_HVSOCK_LINE_MAX];
	int fd, n, err;

	if (strlen(uds_path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	strcpy(un.sun_path, uds_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		err = errno == ENOENT ? -ECONNREFUSED : -errno;
		goto err_close;
	}
	n = snprintf(line, sizeof(line), FCVM_HVSOCK_CONNECT " %" PRIu32 "\n", guest_port);
	/* A fresh socket's buffer always takes a line this short. */
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		err = errno ? -errno : -EIO;
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return err;
}

/**
 * hvsock_finish() - read the VMM's reply without consuming stream data
 * @fd:        from hvsock_start()
 * @host_port: if not NULL, the port in "OK <n>"
 *
 * The reply is peeked and only the line itself is read, so bytes the guest
 * sends first stay queued for the relay.
 *
 * Return: 0 connected, -EAGAIN reply incomplete (wait for POLLIN again),
 * -ECONNREFUSED the VMM closed (nothing listens on the guest port), -EPROTO
 * a malformed reply, -errno.
 */
int hvsock_finish(int fd, uint32_t *host_port)
{
	char line[FCVM_HVSOCK_LINE_MAX];
	unsigned int hp;
	ssize_t n;
	char *nl;

	n = recv(fd, line, sizeof(line) - 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return errno == EINTR ? -EAGAIN : (errno == ECONNRESET ? -ECONNREFUSED : -errno);
	if (n == 0)
		return -ECONNREFUSED;
	line[n] = '\0';
	nl = memchr(line, '\n', (size_t)n);
	if (!nl)
		return n == (ssize_t)sizeof(line) - 1 ? -EPROTO : -EAGAIN;
	n = nl - line + 1;
	if (recv(fd, line, (size_t)n, MSG_DONTWAIT) != n)
		return -EIO;
	*nl = '\0';
	if (strlen(line) != (size_t)n - 1 || fcvm_hvsock_parse(line, FCVM_HVSOCK_OK, &hp))
		return -EPROTO;
	if (host_port)
		*host_port = hp;
	return 0;
}
