/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - what differs between the kernels fcvm_accel.ko builds for
 * (6.1 .. latest), in one place. Decided by feature macros, not versions.
 */
#ifndef FCVM_ACCEL_COMPAT_H
#define FCVM_ACCEL_COMPAT_H

#include <linux/bvec.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/sock.h>
#include <net/tcp_states.h>

/**
 * fcvm_sock_connected() - is a stream socket connected to a peer?
 * @sock: the socket (with its sk)
 *
 * AF_UNIX used to set sock->state = SS_CONNECTED on connect(), accept() and
 * socketpair() like the other families (6.12 still does); newer kernels (7.3
 * does not) leave it SS_UNCONNECTED and track the connection in
 * sk->sk_state only. That has been TCP_ESTABLISHED for a connected AF_UNIX
 * socket on every kernel we build for, so it is the test for AF_UNIX
 * everywhere, with no version check; TCP and vsock still keep sock->state.
 *
 * Return: true when connected.
 */
static inline bool fcvm_sock_connected(const struct socket *sock)
{
	if (sock->sk->sk_family == AF_UNIX)
		return READ_ONCE(sock->sk->sk_state) == TCP_ESTABLISHED;
	return sock->state == SS_CONNECTED;
}

/**
 * fcvm_send_pages() - send page-backed data on a stream socket, letting the
 * socket take references to the pages instead of copying them
 * @sock: the socket
 * @bv:   the pages; the caller keeps its own references and may drop them
 *        once this returns (the socket holds what it still needs)
 * @nr:   entries of @bv
 * @len:  bytes to send, at most the sum of @bv's lengths
 *
 * Since 6.5 this is sendmsg(MSG_SPLICE_PAGES); before, ->sendpage(). Where a
 * protocol cannot splice, both fall back to copying.
 *
 * Return: bytes sent (short only on an error after some bytes went out), or
 * a negative errno when nothing was sent.
 */
#ifdef MSG_SPLICE_PAGES
static inline int fcvm_send_pages(struct socket *sock, struct bio_vec *bv,
				  unsigned int nr, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_SPLICE_PAGES | MSG_NOSIGNAL };
	size_t sent = 0;

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	while (msg_data_left(&msg)) {
		int n = sock_sendmsg(sock, &msg);

		if (n <= 0)
			return sent ? (int)sent : (n ? n : -EPIPE);
		sent += n;
	}
	return sent;
}
#else
static inline int fcvm_send_pages(struct socket *sock, struct bio_vec *bv,
				  unsigned int nr, size_t len)
{
	size_t sent = 0;
	unsigned int i;

	for (i = 0; i < nr && sent < len; i++) {
		size_t off = bv[i].bv_offset;
		size_t left = min_t(size_t, bv[i].bv_len, len - sent);

		while (left) {
			int flags = MSG_NOSIGNAL;
			int n;

			if (sent + left < len)
				flags |= MSG_MORE;
			n = kernel_sendpage(sock, bv[i].bv_page, off, left, flags);
			if (n <= 0)
				return sent ? (int)sent : (n ? n : -EPIPE);
			off += n;
			left -= n;
			sent += n;
		}
	}
	return sent;
}
#endif

#endif /* FCVM_ACCEL_COMPAT_H */
