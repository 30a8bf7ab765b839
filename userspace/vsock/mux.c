// SPDX-License-Identifier: GPL-2.0
/*
 * vsock/mux.c - virtio-vsock connection state machine and the host side of
 * Firecracker's hybrid vsock, for fcvm's vhost-user-vsock device.
 *
 * Guest->host data is written to the host socket at once; what the socket
 * cannot take is buffered up to the credit we granted (MUX_BUF_ALLOC), so the
 * tx queue never waits for a slow host peer. Host->guest data is read
 * straight into rx buffers, only as far as the guest's credit allows. Any
 * header or credit violation resets that one connection; a malformed
 * descriptor chain is dropped. Nothing here blocks.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_vsock.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fcvm/vsock.h"
#include "vsock/mux.h"

#define HDR_LEN		sizeof(struct virtio_vsock_hdr)

enum conn_state {
	C_HANDSHAKE,	/* host client connected, reading "CONNECT <port>\n" */
	C_CONNECTING,	/* REQUEST sent to the guest, waiting for RESPONSE */
	C_ESTABLISHED,
};

enum {
	CTRL_RST = 1 << 0,
	CTRL_RESPONSE = 1 << 1,
	CTRL_REQUEST = 1 << 2,
	CTRL_SHUTDOWN = 1 << 3,
	CTRL_CREDIT = 1 << 4,
};

struct mux_conn {
	struct ev_src src;
	struct mux_conn *hnext;		/* hash chain */
	struct mux_conn *anext, *aprev;	/* mux->all */
	struct mux_conn *cnext, *dnext;	/* ctrl and data lists */
	bool in_ctrl, in_data, hashed;
	int fd;
	uint32_t ev_mask;		/* registered epoll events */
	bool registered;
	enum conn_state state;
	uint32_t local_port, peer_port;
	uint32_t ctrl;			/* CTRL_* packets owed to the guest */
	uint32_t shut_flags;		/* flags of the owed SHUTDOWN */

	bool host_eof;			/* read side of the host socket ended */
	bool hup;			/* host socket fully closed */
	bool host_shut_wr;		/* we shut down its write side */
	bool peer_shut_send, peer_shut_rcv;
	bool closing;			/* RST once the buffer is flushed */
	bool credit_blocked;		/* guest credit ran out */

	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	uint32_t fwd_cnt, fwd_cnt_sent;
	uint8_t *buf;			/* guest->host bytes the host has not taken */
	uint32_t buf_head, buf_len;

	int64_t deadline;		/* ms, 0: none */
	char line[FCVM_HVSOCK_LINE_MAX];
	unsigned int line_len;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned int hash_key(uint32_t local, uint32_t peer)
{
	return (local * 2654435761u ^ peer * 40503u) % MUX_HASH_BUCKETS;
}

static struct mux_conn *conn_lookup(struct vsock_mux *mux, uint32_t local,
				    uint32_t peer)
{
	struct mux_conn *c = mux->hash[hash_key(local, peer)];

	for (; c; c = c->hnext)
		if (c->local_port == local && c->peer_port == peer)
			return c;
	return NULL;
}

static void conn_hash(struct vsock_mux *mux, struct mux_conn *c)
{
	unsigned int b = hash_key(c->local_port, c->peer_port);

	c->hnext = mux->hash[b];
	mux->hash[b] = c;
	c->hashed = true;
}

static void conn_unhash(struct vsock_mux *mux, struct mux_conn *c)
{
	struct mux_conn **pp = &mux->hash[hash_key(c->local_port, c->peer_port)];

	if (!c->hashed)
		return;
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			break;
		}
	c->hashed = false;
}

static void list_remove(struct mux_conn **head, struct mux_conn **tail,
			struct mux_conn *c, size_t link_off)
{
	struct mux_conn *prev = NULL, *it;

	for (it = *head; it; prev = it,
	     it = *(struct mux_conn **)((char *)it + link_off)) {
		if (it != c)
			continue;
		if (prev)
			*(struct mux_conn **)((char *)prev + link_off) =
				*(struct mux_conn **)((char *)c + link_off);
		else
			*head = *(struct mux_conn **)((char *)c + link_off);
		if (*tail == c)
			*tail = prev;
		*(struct mux_conn **)((char *)c + link_off) = NULL;
		return;
	}
}

static void ctrl_add(struct vsock_mux *mux, struct mux_conn *c, uint32_t bits)
{
	c->ctrl |= bits;
	if (c->in_ctrl)
		return;
	c->in_ctrl = true;
	c->cnext = NULL;
	if (mux->ctrl_tail)
		mux->ctrl_tail->cnext = c;
	else
		mux->ctrl_head = c;
	mux->ctrl_tail = c;
}

static void data_add(struct vsock_mux *mux, struct mux_conn *c)
{
	if (c->in_data)
		return;
	c->in_data = true;
	c->dnext = NULL;
	if (mux->data_tail)
		mux->data_tail->dnext = c;
	else
		mux->data_head = c;
	mux->data_tail = c;
}

static void data_del(struct vsock_mux *mux, struct mux_conn *c)
{
	if (!c->in_data)
		return;
	list_remove(&mux->data_head, &mux->data_tail, c,
		    offsetof(struct mux_conn, dnext));
	c->in_data = false;
}

static uint32_t peer_credit(const struct mux_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

/* Bring the epoll registration in line with what the connection can do. */
static void conn_update_events(struct vsock_mux *mux, struct mux_conn *c)
{
	struct epoll_event ev = { .data.ptr = &c->src };
	uint32_t want = 0;

	if (c->hup)
		want = 0;
	else if (c->state == C_HANDSHAKE)
		want = EPOLLIN;
	else if (c->state == C_ESTABLISHED) {
		if (!c->host_eof && !c->peer_shut_rcv && !c->in_data &&
		    !c->closing && !mux->rx_starved && peer_credit(c))
			want |= EPOLLIN;
		if (c->buf_len)
			want |= EPOLLOUT;
	}
	if (c->hup) {
		if (c->registered)
			epoll_ctl(mux->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->registered = false;
		return;
	}
	if (c->registered && want == c->ev_mask)
		return;
	ev.events = want;
	if (epoll_ctl(mux->epfd, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		      c->fd, &ev) == 0) {
		c->registered = true;
		c->ev_mask = want;
	}
}

static void conn_destroy(struct vsock_mux *mux, struct mux_conn *c)
{
	conn_unhash(mux, c);
	if (c->in_ctrl)
		list_remove(&mux->ctrl_head, &mux->ctrl_tail, c,
			    offsetof(struct mux_conn, cnext));
	data_del(mux, c);
	if (c->aprev)
		c->aprev->anext = c->anext;
	else
		mux->all = c->anext;
	if (c->anext)
		c->anext->aprev = c->aprev;
	if (c->fd >= 0) {
		if (c->registered)
			epoll_ctl(mux->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	free(c->buf);
	c->buf = NULL;
	/* events for it may still be in the caller's epoll batch */
	c->src.kind = EV_DEAD;
	c->anext = mux->dead;
	mux->dead = c;
	mux->nconns--;
}

/* Free the connections destroyed since the last call. */
void mux_reap(struct vsock_mux *mux)
{
	while (mux->dead) {
		struct mux_conn *c = mux->dead;

		mux->dead = c->anext;
		free(c);
	}
}

static struct mux_conn *conn_new(struct vsock_mux *mux, int fd)
{
	struct mux_conn *c;

	if (mux->nconns >= MUX_MAX_CONNS)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->src.kind = EV_CONN;
	c->fd = fd;
	c->anext = mux->all;
	if (mux->all)
		mux->all->aprev = c;
	mux->all = c;
	mux->nconns++;
	mux->stats.conns_opened++;
	return c;
}

/* Reset the connection towards the guest; it is freed once the RST is out. */
static void conn_reset(struct vsock_mux *mux, struct mux_conn *c)
{
	data_del(mux, c);
	c->closing = true;
	/* the host side ends now, even if the guest takes long to get the RST */
	if (c->fd >= 0) {
		if (c->registered)
			epoll_ctl(mux->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	c->registered = false;
	c->hup = true;
	c->buf_len = 0;
	ctrl_add(mux, c, CTRL_RST);
}

static void orphan_rst(struct vsock_mux *mux, uint32_t local, uint32_t peer)
{
	struct mux_orphan *o;

	if (mux->orphan_len >= MUX_ORPHAN_RST_MAX) {
		mux->stats.bad_pkts++;	/* the guest floods us; it times out */
		return;
	}
	o = &mux->orphan[(mux->orphan_head + mux->orphan_len) % MUX_ORPHAN_RST_MAX];
	o->local_port = local;
	o->peer_port = peer;
	mux->orphan_len++;
}

static void fill_hdr(const struct vsock_mux *mux, struct virtio_vsock_hdr *h,
		     uint32_t local, uint32_t peer, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = htole64(MUX_HOST_CID);
	h->dst_cid = htole64(mux->guest_cid);
	h->src_port = htole32(local);
	h->dst_port = htole32(peer);
	h->type = htole16(VIRTIO_VSOCK_TYPE_STREAM);
	h->op = htole16(op);
	h->buf_alloc = htole32(MUX_BUF_ALLOC);
}

static void conn_hdr(const struct vsock_mux *mux, struct mux_conn *c,
		     struct virtio_vsock_hdr *h, uint16_t op)
{
	fill_hdr(mux, h, c->local_port, c->peer_port, op);
	h->fwd_cnt = htole32(c->fwd_cnt);
	c->fwd_cnt_sent = c->fwd_cnt;
}

/* Owe the guest a credit update once it has a quarter buffer of news. */
static void credit_check(struct vsock_mux *mux, struct mux_conn *c)
{
	if (c->fwd_cnt - c->fwd_cnt_sent >= MUX_BUF_ALLOC / 4)
		ctrl_add(mux, c, CTRL_CREDIT);
}

/* Write buffered guest->host bytes to the host socket. 0 or -errno. */
static int conn_flush(struct vsock_mux *mux, struct mux_conn *c)
{
	while (c->buf_len) {
		uint32_t first = MUX_BUF_ALLOC - c->buf_head;
		struct iovec iov[2];
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1 };
		ssize_t n;

		if (first > c->buf_len)
			first = c->buf_len;
		iov[0].iov_base = c->buf + c->buf_head;
		iov[0].iov_len = first;
		if (first < c->buf_len) {
			iov[1].iov_base = c->buf;
			iov[1].iov_len = c->buf_len - first;
			msg.msg_iovlen = 2;
		}
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -errno;
		c->buf_head = (c->buf_head + (uint32_t)n) % MUX_BUF_ALLOC;
		c->buf_len -= (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	credit_check(mux, c);
	return 0;
}

/* After progress on the guest->host side: half-close or finish a close. */
static void conn_after_flush(struct vsock_mux *mux, struct mux_conn *c)
{
	if (c->buf_len)
		return;
	if (c->peer_shut_send && !c->host_shut_wr && !c->hup) {
		shutdown(c->fd, SHUT_WR);
		c->host_shut_wr = true;
	}
	if (c->closing && !(c->ctrl & CTRL_RST))
		conn_reset(mux, c);
}

static void buf_append(struct mux_conn *c, struct iovec *iov, unsigned int n,
		       size_t skip)
{
	for (unsigned int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		while (len) {
			uint32_t tail = (c->buf_head + c->buf_len) % MUX_BUF_ALLOC;
			uint32_t room = MUX_BUF_ALLOC - tail;
			uint32_t take = len < room ? (uint32_t)len : room;

			memcpy(c->buf + tail, p, take);
			c->buf_len += take;
			p += take;
			len -= take;
		}
	}
}

/* Guest RW payload: straight to the host socket, the rest into the buffer. */
static void conn_rx_from_guest(struct vsock_mux *mux, struct mux_conn *c,
			       const struct vq_chain *ch, uint32_t len)
{
	struct iovec iov[VQ_MAX_CHAIN];
	unsigned int n = chain_slice(ch, HDR_LEN, len, iov, VQ_MAX_CHAIN);
	size_t sent = 0;

	if (c->state != C_ESTABLISHED || c->peer_shut_send || c->closing ||
	    len > MUX_BUF_ALLOC - c->buf_len) {
		mux->stats.bad_pkts++;
		conn_reset(mux, c);
		return;
	}
	mux->stats.bytes_from_guest += len;
	if (!c->buf_len && !c->hup) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t r;

		do
			r = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (r < 0 && errno == EINTR);
		if (r < 0 && errno != EAGAIN) {
			conn_reset(mux, c);
			return;
		}
		if (r > 0) {
			sent = (size_t)r;
			c->fwd_cnt += (uint32_t)r;
		}
	}
	if (sent < len) {
		if (!c->buf && !(c->buf = malloc(MUX_BUF_ALLOC))) {
			conn_reset(mux, c);
			return;
		}
		buf_append(c, iov, n, sent);
	}
	credit_check(mux, c);
	conn_update_events(mux, c);
}

/* REQUEST from the guest: connect to <uds>_<port> on its behalf. */
static void guest_connect(struct vsock_mux *mux, uint32_t host_port,
			  uint32_t guest_port, const struct virtio_vsock_hdr *h)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct mux_conn *c;
	int fd;

	/* mux_init() checked that the longest port number fits */
	if (snprintf(un.sun_path, sizeof(un.sun_path), "%.*s_%u",
		     (int)(sizeof(un.sun_path) - 12), mux->uds_path,
		     host_port) >= (int)sizeof(un.sun_path))
		goto err_rst;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto err_rst;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0)
		goto err_close;	/* nobody listens, or its backlog is full */
	c = conn_new(mux, fd);
	if (!c)
		goto err_close;
	c->state = C_ESTABLISHED;
	c->local_port = host_port;
	c->peer_port = guest_port;
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	conn_hash(mux, c);
	ctrl_add(mux, c, CTRL_RESPONSE);
	conn_update_events(mux, c);
	return;

err_close:
	close(fd);
err_rst:
	orphan_rst(mux, host_port, guest_port);
}

/* RESPONSE from the guest to a host-initiated connection: tell the client. */
static void conn_established(struct vsock_mux *mux, struct mux_conn *c)
{
	char line[FCVM_HVSOCK_LINE_MAX];
	int n = snprintf(line, sizeof(line), FCVM_HVSOCK_OK " %u\n", c->local_port);

	c->deadline = 0;
	if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		conn_reset(mux, c);
		return;
	}
	c->state = C_ESTABLISHED;
	conn_update_events(mux, c);
}

static void conn_shutdown_from_guest(struct vsock_mux *mux, struct mux_conn *c,
				     uint32_t flags)
{
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV) {
		c->peer_shut_rcv = true;
		data_del(mux, c);
	}
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->peer_shut_send = true;
	if (c->peer_shut_rcv && c->peer_shut_send) {
		c->closing = true;
		c->deadline = now_ms() + MUX_CLOSE_TIMEOUT_MS;
	}
	conn_after_flush(mux, c);
	if (!(c->ctrl & CTRL_RST))
		conn_update_events(mux, c);
}

/* One packet from the guest, header already copied out and checked. */
static void handle_guest_pkt(struct vsock_mux *mux, const struct vq_chain *ch,
			     const struct virtio_vsock_hdr *h)
{
	uint32_t local = le32toh(h->dst_port), peer = le32toh(h->src_port);
	uint16_t op = le16toh(h->op);
	struct mux_conn *c = conn_lookup(mux, local, peer);

	if (c && c->state == C_HANDSHAKE)
		c = NULL;	/* not visible to the guest yet */
	if (!c) {
		if (op == VIRTIO_VSOCK_OP_REQUEST)
			guest_connect(mux, local, peer, h);
		else if (op != VIRTIO_VSOCK_OP_RST)
			orphan_rst(mux, local, peer);
		return;
	}
	if (c->ctrl & CTRL_RST)
		return;		/* already being reset */
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	switch (op) {
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != C_CONNECTING)
			goto bad;
		conn_established(mux, c);
		return;
	case VIRTIO_VSOCK_OP_RST:
		conn_destroy(mux, c);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state != C_ESTABLISHED)
			goto bad;
		conn_shutdown_from_guest(mux, c, le32toh(h->flags));
		return;
	case VIRTIO_VSOCK_OP_RW:
		conn_rx_from_guest(mux, c, ch, le32toh(h->len));
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		ctrl_add(mux, c, CTRL_CREDIT);
		break;
	default:
		goto bad;
	}
	if (c->ctrl & CTRL_RST)
		return;
	if (c->credit_blocked && peer_credit(c)) {
		c->credit_blocked = false;
		if (!c->host_eof && !c->peer_shut_rcv)
			data_add(mux, c);
	}
	conn_update_events(mux, c);
	return;
bad:
	mux->stats.bad_pkts++;
	conn_reset(mux, c);
}

/* Copy out and check the header of one tx chain, then dispatch it. */
static void handle_tx_chain(struct vsock_mux *mux, const struct vq_chain *ch)
{
	struct virtio_vsock_hdr h;
	uint32_t len;

	if (chain_copy_from(ch, 0, &h, HDR_LEN) != HDR_LEN)
		goto bad;
	len = le32toh(h.len);
	mux->stats.pkts_from_guest++;
	if (le64toh(h.src_cid) != mux->guest_cid)
		goto bad;	/* spoofed source: drop, nobody to answer */
	if (len > ch->len - HDR_LEN || len > MUX_MAX_PKT)
		goto bad_rst;
	if (le64toh(h.dst_cid) != MUX_HOST_CID ||
	    le16toh(h.type) != VIRTIO_VSOCK_TYPE_STREAM)
		goto bad_rst;
	if (le16toh(h.op) != VIRTIO_VSOCK_OP_RW && len)
		goto bad_rst;
	handle_guest_pkt(mux, ch, &h);
	return;
bad_rst:
	mux->stats.bad_pkts++;
	if (le16toh(h.op) != VIRTIO_VSOCK_OP_RST) {
		struct mux_conn *c = conn_lookup(mux, le32toh(h.dst_port),
						 le32toh(h.src_port));

		if (c && c->state != C_HANDSHAKE)
			conn_reset(mux, c);
		else
			orphan_rst(mux, le32toh(h.dst_port), le32toh(h.src_port));
	}
	return;
bad:
	mux->stats.bad_pkts++;
}

/**
 * mux_process_tx() - consume the guest's tx queue
 * @mux: the multiplexer
 *
 * Handles at most one queue's worth of chains per call and sets tx_more
 * when work is left, so a busy guest cannot starve the host side.
 */
void mux_process_tx(struct vsock_mux *mux)
{
	struct vq_chain ch;
	unsigned int budget = mux->txq->num ? mux->txq->num : 1;

	mux->tx_more = false;
	while (budget--) {
		int r = vq_pop(mux->txq, mux->mem, false, &ch);

		if (r == 0 || r == -EIO)
			break;
		if (r < 0) {
			mux->stats.bad_chains++;
			continue;
		}
		handle_tx_chain(mux, &ch);
		vq_push(mux->txq, ch.head, 0);
		if (!budget)
			mux->tx_more = true;
	}
	vq_signal(mux->txq);
	mux_process_rx(mux);
}

/* One control packet for @c into @ch. Returns the bytes written. */
static uint32_t send_ctrl(struct vsock_mux *mux, struct mux_conn *c,
			  const struct vq_chain *ch)
{
	struct virtio_vsock_hdr h;
	uint16_t op;

	if (c->ctrl & CTRL_RST) {
		op = VIRTIO_VSOCK_OP_RST;
		c->ctrl = 0;
	} else if (c->ctrl & CTRL_RESPONSE) {
		op = VIRTIO_VSOCK_OP_RESPONSE;
		c->ctrl &= ~(uint32_t)CTRL_RESPONSE;
	} else if (c->ctrl & CTRL_REQUEST) {
		op = VIRTIO_VSOCK_OP_REQUEST;
		c->ctrl &= ~(uint32_t)CTRL_REQUEST;
	} else if (c->ctrl & CTRL_SHUTDOWN) {
		op = VIRTIO_VSOCK_OP_SHUTDOWN;
		c->ctrl &= ~(uint32_t)CTRL_SHUTDOWN;
	} else {
		op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
		c->ctrl &= ~(uint32_t)CTRL_CREDIT;
	}
	conn_hdr(mux, c, &h, op);
	if (op == VIRTIO_VSOCK_OP_SHUTDOWN)
		h.flags = htole32(c->shut_flags);
	chain_copy_to(ch, 0, &h, HDR_LEN);
	if (!c->ctrl) {
		list_remove(&mux->ctrl_head, &mux->ctrl_tail, c,
			    offsetof(struct mux_conn, cnext));
		c->in_ctrl = false;
	}
	if (op == VIRTIO_VSOCK_OP_RST)
		conn_destroy(mux, c);
	return HDR_LEN;
}

/* Host EOF (or error): tell the guest, and how much is over. */
static void conn_host_eof(struct vsock_mux *mux, struct mux_conn *c)
{
	c->host_eof = true;
	data_del(mux, c);
	if (c->hup) {
		/* the host is gone both ways: nothing more to deliver */
		c->closing = true;
		c->deadline = now_ms() + MUX_CLOSE_TIMEOUT_MS;
		c->shut_flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	} else {
		c->shut_flags = VIRTIO_VSOCK_SHUTDOWN_SEND;
	}
	ctrl_add(mux, c, CTRL_SHUTDOWN);
	conn_update_events(mux, c);
}

/*
 * Host data for @c into @ch. Returns bytes written to the chain, or 0 when
 * nothing could be sent (the chain is then unused).
 */
static uint32_t send_data(struct vsock_mux *mux, struct mux_conn *c,
			  const struct vq_chain *ch)
{
	struct iovec iov[VQ_MAX_CHAIN];
	struct msghdr msg = { .msg_iov = iov };
	struct virtio_vsock_hdr h;
	uint32_t max = peer_credit(c);
	ssize_t n;

	if (max > ch->len - HDR_LEN)
		max = (uint32_t)(ch->len - HDR_LEN);
	if (max > MUX_MAX_PKT)
		max = MUX_MAX_PKT;
	if (!peer_credit(c)) {
		c->credit_blocked = true;
		data_del(mux, c);
		conn_update_events(mux, c);
		return 0;
	}
	if (!max)
		return 0;
	msg.msg_iovlen = chain_slice(ch, HDR_LEN, max, iov, VQ_MAX_CHAIN);
	do
		n = recvmsg(c->fd, &msg, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN) {
		data_del(mux, c);
		conn_update_events(mux, c);
		return 0;
	}
	if (n <= 0) {
		if (n < 0)
			c->hup = true;
		conn_host_eof(mux, c);
		return 0;
	}
	conn_hdr(mux, c, &h, VIRTIO_VSOCK_OP_RW);
	h.len = htole32((uint32_t)n);
	chain_copy_to(ch, 0, &h, HDR_LEN);
	c->tx_cnt += (uint32_t)n;
	mux->stats.bytes_to_guest += (uint64_t)n;
	/* round robin: go to the back of the line */
	data_del(mux, c);
	data_add(mux, c);
	return HDR_LEN + (uint32_t)n;
}

static bool rx_work(const struct vsock_mux *mux)
{
	return mux->orphan_len || mux->ctrl_head || mux->data_head;
}

/**
 * mux_process_rx() - fill the guest's rx queue
 * @mux: the multiplexer
 *
 * Order: RSTs for unknown connections, then owed control packets, then
 * host data round robin over the connections that may have some.
 */
void mux_process_rx(struct vsock_mux *mux)
{
	struct vq_chain ch;
	bool was_starved = mux->rx_starved;

	while (rx_work(mux)) {
		uint32_t used = 0;
		int r = vq_pop(mux->rxq, mux->mem, true, &ch);

		if (r == 0 || r == -EIO) {
			mux->rx_starved = true;
			break;
		}
		mux->rx_starved = false;
		if (r < 0) {
			mux->stats.bad_chains++;
			continue;
		}
		if (ch.len < HDR_LEN) {
			mux->stats.bad_chains++;
			vq_push(mux->rxq, ch.head, 0);
			continue;
		}
		if (mux->orphan_len) {
			struct mux_orphan *o = &mux->orphan[mux->orphan_head];
			struct virtio_vsock_hdr h;

			fill_hdr(mux, &h, o->local_port, o->peer_port,
				 VIRTIO_VSOCK_OP_RST);
			chain_copy_to(&ch, 0, &h, HDR_LEN);
			mux->orphan_head = (mux->orphan_head + 1) % MUX_ORPHAN_RST_MAX;
			mux->orphan_len--;
			used = HDR_LEN;
		} else if (mux->ctrl_head) {
			used = send_ctrl(mux, mux->ctrl_head, &ch);
		} else if (ch.len == HDR_LEN) {
			mux->stats.bad_chains++;	/* no room for data */
			vq_push(mux->rxq, ch.head, 0);
			continue;
		} else {
			used = send_data(mux, mux->data_head, &ch);
		}
		if (!used) {
			vq_unpop(mux->rxq);
			continue;
		}
		mux->stats.pkts_to_guest++;
		vq_push(mux->rxq, ch.head, used);
	}
	if (!rx_work(mux))
		mux->rx_starved = false;
	vq_signal(mux->rxq);
	if (was_starved != mux->rx_starved)
		for (struct mux_conn *c = mux->all; c; c = c->anext)
			conn_update_events(mux, c);
}

/* The guest added rx buffers. */
void mux_rx_kicked(struct vsock_mux *mux)
{
	mux->rx_starved = false;
	mux_process_rx(mux);
	for (struct mux_conn *c = mux->all; c; c = c->anext)
		conn_update_events(mux, c);
}

static void accept_clients(struct vsock_mux *mux)
{
	for (;;) {
		int fd = accept4(mux->listen_fd, NULL, NULL,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct mux_conn *c;

		if (fd < 0)
			return;
		c = conn_new(mux, fd);
		if (!c) {
			close(fd);
			continue;
		}
		c->state = C_HANDSHAKE;
		c->deadline = now_ms() + MUX_HANDSHAKE_TIMEOUT_MS;
		conn_update_events(mux, c);
	}
}

static uint32_t alloc_local_port(struct vsock_mux *mux, uint32_t peer)
{
	for (;;) {
		uint32_t p = mux->next_local_port++;

		if (mux->next_local_port < MUX_LOCAL_PORT_BASE)
			mux->next_local_port = MUX_LOCAL_PORT_BASE;
		if (!conn_lookup(mux, p, peer))
			return p;
	}
}

/* Read the "CONNECT <port>\n" line a byte at a time (no stream data eaten). */
static void handshake_read(struct vsock_mux *mux, struct mux_conn *c)
{
	unsigned int port;

	for (;;) {
		ssize_t n = recv(c->fd, c->line + c->line_len, 1, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			goto err;
		if (c->line[c->line_len] == '\n')
			break;
		if (++c->line_len >= sizeof(c->line) - 1)
			goto err;
	}
	c->line[c->line_len] = '\0';
	if (fcvm_hvsock_parse(c->line, FCVM_HVSOCK_CONNECT, &port))
		goto err;
	c->peer_port = port;
	c->local_port = alloc_local_port(mux, port);
	c->state = C_CONNECTING;
	c->deadline = now_ms() + MUX_CONNECT_TIMEOUT_MS;
	conn_hash(mux, c);
	ctrl_add(mux, c, CTRL_REQUEST);
	conn_update_events(mux, c);
	mux_process_rx(mux);
	return;
err:
	conn_destroy(mux, c);
}

static void conn_event(struct vsock_mux *mux, struct mux_conn *c,
		       uint32_t events)
{
	if (c->ctrl & CTRL_RST)
		return;		/* reset while this event was queued */
	if (c->state == C_HANDSHAKE) {
		handshake_read(mux, c);
		return;
	}
	if (c->state == C_CONNECTING) {
		if (events & (EPOLLHUP | EPOLLERR))
			conn_reset(mux, c);	/* client gave up */
		mux_process_rx(mux);
		return;
	}
	if (events & EPOLLOUT) {
		if (conn_flush(mux, c))
			conn_reset(mux, c);
		else
			conn_after_flush(mux, c);
	}
	if ((events & (EPOLLHUP | EPOLLERR)) && !(c->ctrl & CTRL_RST)) {
		c->hup = true;
		conn_update_events(mux, c);	/* drops the registration */
		if (c->host_eof)
			conn_host_eof(mux, c);	/* now closed both ways */
		else
			data_add(mux, c);	/* read what is left */
	} else if ((events & EPOLLIN) && !(c->ctrl & CTRL_RST)) {
		data_add(mux, c);
		conn_update_events(mux, c);
	} else if (!(c->ctrl & CTRL_RST)) {
		conn_update_events(mux, c);
	}
	mux_process_rx(mux);
}

/* Dispatch one epoll event that belongs to the multiplexer. */
void mux_event(struct vsock_mux *mux, struct ev_src *src, uint32_t events)
{
	if (src->kind == EV_UDS_LISTEN)
		accept_clients(mux);
	else if (src->kind == EV_CONN)
		conn_event(mux, (struct mux_conn *)((char *)src -
					offsetof(struct mux_conn, src)), events);
}

/**
 * mux_tick() - expire handshakes, unanswered REQUESTs and stuck closes
 * @mux: the multiplexer
 *
 * Return: milliseconds until the next deadline, or -1 when there is none.
 */
int mux_tick(struct vsock_mux *mux)
{
	int64_t now = now_ms(), next = -1;
	struct mux_conn *c, *n;

	for (c = mux->all; c; c = n) {
		n = c->anext;
		if (!c->deadline || (c->ctrl & CTRL_RST))
			continue;
		if (c->deadline <= now) {
			c->deadline = 0;
			if (c->state == C_HANDSHAKE)
				conn_destroy(mux, c);
			else
				conn_reset(mux, c);
			continue;
		}
		if (next < 0 || c->deadline - now < next)
			next = c->deadline - now;
	}
	mux_process_rx(mux);
	return (int)next;
}

/* Drop every connection (the guest driver went away). */
void mux_reset(struct vsock_mux *mux)
{
	while (mux->all)
		conn_destroy(mux, mux->all);
	mux->ctrl_head = mux->ctrl_tail = NULL;
	mux->data_head = mux->data_tail = NULL;
	mux->orphan_len = 0;
	mux->orphan_head = 0;
	mux->rx_starved = false;
	mux->tx_more = false;
}

/**
 * mux_init() - set up the multiplexer and listen on the hybrid socket
 * @mux: zeroed by the caller or not; fully initialized here
 * @epfd: epoll instance the connections register with
 * @uds_path: the hybrid-vsock socket path (created; must not exist)
 * @guest_cid: the guest's context id
 * @mem: guest memory table (owned by the vhost-user side)
 * @rxq: the device's rx queue (host->guest)
 * @txq: the device's tx queue (guest->host)
 *
 * Return: 0 or -errno (-ENAMETOOLONG when "<uds_path>_<port>" cannot fit).
 */
int mux_init(struct vsock_mux *mux, int epfd, const char *uds_path,
	     uint64_t guest_cid, struct gmem *mem, struct vq *rxq,
	     struct vq *txq)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	memset(mux, 0, sizeof(*mux));
	mux->listen_fd = -1;
	if (strlen(uds_path) + 12 > sizeof(un.sun_path))
		return -ENAMETOOLONG;
	strcpy(mux->uds_path, uds_path);
	strcpy(un.sun_path, uds_path);
	mux->epfd = epfd;
	mux->guest_cid = guest_cid;
	mux->mem = mem;
	mux->rxq = rxq;
	mux->txq = txq;
	mux->next_local_port = MUX_LOCAL_PORT_BASE;
	mux->listen_src.kind = EV_UDS_LISTEN;
	mux->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (mux->listen_fd < 0)
		return -errno;
	if (bind(mux->listen_fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
	    listen(mux->listen_fd, 128) < 0) {
		err = -errno;
		goto err_close;
	}
	ev.data.ptr = &mux->listen_src;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, mux->listen_fd, &ev) < 0) {
		err = -errno;
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(uds_path);
err_close:
	close(mux->listen_fd);
	mux->listen_fd = -1;
	return err;
}

void mux_fini(struct vsock_mux *mux)
{
	mux_reset(mux);
	mux_reap(mux);
	if (mux->listen_fd >= 0) {
		close(mux->listen_fd);
		unlink(mux->uds_path);
		mux->listen_fd = -1;
	}
}
