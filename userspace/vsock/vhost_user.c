// SPDX-License-Identifier: GPL-2.0
/*
 * vsock/vhost_user.c - reading and writing vhost-user messages: a 12-byte
 * header carrying up to VHU_MAX_FDS descriptors, then the payload.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/io.h"
#include "vsock/vhost_user.h"

/**
 * vhu_recv() - receive one message with its file descriptors
 * @fd: the vhost-user socket
 * @m: filled in; m->fds holds m->nfds received descriptors (O_CLOEXEC)
 *
 * Return: 0, -ECONNRESET at end of stream, -EPROTO for a payload larger
 * than any message we know, or another -errno.
 */
int vhu_recv(int fd, struct vhu_msg *m)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;
	int err;

	m->nfds = 0;
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < cnt; i++) {
			int rfd;

			memcpy(&rfd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (m->nfds < VHU_MAX_FDS)
				m->fds[m->nfds++] = rfd;
			else
				close(rfd);
		}
	}
	if (n == 0)
		err = -ECONNRESET;
	else if ((size_t)n != sizeof(m->hdr) || (msg.msg_flags & MSG_CTRUNC))
		err = -EPROTO;
	else if (m->hdr.size > sizeof(m->u))
		err = -EPROTO;
	else if (!m->hdr.size)
		return 0;
	else if ((err = io_read_full(fd, &m->u, m->hdr.size)) == 0)
		return 0;
	vhu_close_fds(m);
	return err;
}

/* Send one message (header size taken from m->hdr.size) with @nfds fds. */
int vhu_send(int fd, const struct vhu_msg *m, const int *fds,
	     unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {
		.iov_base = (void *)(uintptr_t)m,
		.iov_len = sizeof(m->hdr) + m->hdr.size,
	};
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (m->hdr.size > sizeof(m->u) || nfds > VHU_MAX_FDS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *cm;

		memset(cbuf.buf, 0, sizeof(cbuf.buf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

void vhu_close_fds(struct vhu_msg *m)
{
	for (unsigned int i = 0; i < m->nfds; i++)
		close(m->fds[i]);
	m->nfds = 0;
}
