// SPDX-License-Identifier: GPL-2.0
/*
 * agent/transport.c - address parsing, connect and listen for the agent's
 * vsock / unix / hybrid-vsock transports (see transport.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "fcvm/vsock.h"
#include "transport.h"

static int parse_u32(const char *s, const char *end, uint32_t *out)
{
	unsigned long long v = 0;

	if (s == end)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int copy_path(char *dst, size_t size, const char *s, size_t len)
{
	if (len == 0 || len >= size)
		return -ENAMETOOLONG;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

/**
 * transport_parse() - parse "vsock:CID:PORT", "unix:PATH" or "hvsock:PATH:PORT"
 * @s:   the address
 * @out: the parsed address
 *
 * Return: 0, -EINVAL for a malformed address, -ERANGE for a number too big,
 * -ENAMETOOLONG for a path that does not fit a sockaddr_un.
 */
int transport_parse(const char *s, struct transport_addr *out)
{
	const char *colon;
	int err;

	memset(out, 0, sizeof(*out));
	if (!strncmp(s, "vsock:", 6)) {
		s += 6;
		colon = strchr(s, ':');
		if (!colon)
			return -EINVAL;
		out->kind = TRANSPORT_VSOCK;
		err = parse_u32(s, colon, &out->cid);
		return err ? err : parse_u32(colon + 1, colon + 1 + strlen(colon + 1),
					     &out->port);
	}
	if (!strncmp(s, "unix:", 5)) {
		out->kind = TRANSPORT_UNIX;
		return copy_path(out->path, sizeof(out->path), s + 5, strlen(s + 5));
	}
	if (!strncmp(s, "hvsock:", 7)) {
		s += 7;
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		out->kind = TRANSPORT_HVSOCK;
		err = copy_path(out->path, sizeof(out->path), s, (size_t)(colon - s));
		return err ? err : parse_u32(colon + 1, colon + 1 + strlen(colon + 1),
					     &out->port);
	}
	return -EINVAL;
}

int transport_format(const struct transport_addr *a, char *buf, size_t len)
{
	int n;

	switch (a->kind) {
	case TRANSPORT_VSOCK:
		n = snprintf(buf, len, "vsock:%" PRIu32 ":%" PRIu32, a->cid, a->port);
		break;
	case TRANSPORT_UNIX:
		n = snprintf(buf, len, "unix:%s", a->path);
		break;
	case TRANSPORT_HVSOCK:
		n = snprintf(buf, len, "hvsock:%s:%" PRIu32, a->path, a->port);
		break;
	default:
		return -EINVAL;
	}
	return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

static int make_sockaddr(const struct transport_addr *a, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->kind == TRANSPORT_VSOCK) {
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;

		vm->svm_family = AF_VSOCK;
		vm->svm_cid = a->cid;
		vm->svm_port = a->port;
		*len = sizeof(*vm);
	} else {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, a->path, strlen(a->path) + 1);
		*len = sizeof(*un);
	}
	return a->kind == TRANSPORT_VSOCK ? AF_VSOCK : AF_UNIX;
}

/* Reads one '\n'-terminated line (byte by byte: no over-read past it). */
static int read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		int pr = poll(&p, 1, timeout_ms);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ECONNREFUSED;	/* the VMM closes when nothing listens */
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -EPROTO;
}

static int hvsock_handshake(int fd, uint32_t port, int timeout_ms)
{
	char line[FCVM_HVSOCK_LINE_MAX];
	unsigned int host_port;
	int n, err;

	n = snprintf(line, sizeof(line), FCVM_HVSOCK_CONNECT " %" PRIu32 "\n", port);
	if (write(fd, line, (size_t)n) != n)
		return -EIO;

	err = read_line(fd, line, sizeof(line), timeout_ms);
	if (err)
		return err;
	if (fcvm_hvsock_parse(line, FCVM_HVSOCK_OK, &host_port))
		return -EPROTO;
	return 0;
}

/**
 * transport_connect() - open a stream to an address
 * @a:          the address
 * @timeout_ms: bound for the hybrid-vsock handshake (-1: none)
 *
 * Return: a connected blocking fd, or -errno (-ECONNREFUSED when nothing
 * listens on the far side, -ETIMEDOUT, -EPROTO for a bad handshake reply).
 */
int transport_connect(const struct transport_addr *a, int timeout_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family = make_sockaddr(a, &ss, &len);
	int fd, err;

	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		err = -errno;
		goto err_close;
	}
	if (a->kind == TRANSPORT_HVSOCK) {
		err = hvsock_handshake(fd, a->port, timeout_ms);
		if (err)
			goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return err;
}

/**
 * transport_listen() - listen on a vsock port or a unix path
 * @a:       vsock (cid ignored: any) or unix address; hvsock is refused
 * @backlog: listen backlog
 *
 * A stale unix socket file at the path is replaced.
 *
 * Return: the listening fd or -errno.
 */
int transport_listen(const struct transport_addr *a, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family, fd, err;

	if (a->kind == TRANSPORT_HVSOCK)
		return -EOPNOTSUPP;
	family = make_sockaddr(a, &ss, &len);
	if (a->kind == TRANSPORT_VSOCK)
		((struct sockaddr_vm *)&ss)->svm_cid = VMADDR_CID_ANY;
	else
		unlink(a->path);
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int transport_accept(int lfd)
{
	int fd;

	do {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}
