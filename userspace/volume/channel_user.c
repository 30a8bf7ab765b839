// SPDX-License-Identifier: GPL-2.0
/*
 * volume/channel_user.c - the userspace volume channel: the server listens
 * on a Unix socket (the VMM connects it for each guest connection to port
 * 5000+N); each mount brings one connection per queue, each opened by a
 * struct fcvm_volume_hello. Requests are cut from each stream by length;
 * replies go back on the connection whose in-flight request has their
 * unique, notifications on any live connection.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fcvm/volume.h"
#include "util/log.h"
#include "volume/channel.h"
#include "volume/frame.h"

#define HELLO_TIMEOUT_MS	5000	/* a connection must say hello by then */
#define QUEUES_TIMEOUT_MS	10000	/* all queues of a mount must connect by then */
#define READAHEAD		(128u * 1024u)

struct user_conn {
	int fd;
	struct frame_reader rd;
	pthread_mutex_t send_lock;
	_Atomic uint64_t inflight;	/* unique of the request being served */
};

struct user_channel {
	struct volume_channel ch;
	int lfd;
	unsigned int nq;
	uint64_t mount_id;
	struct user_conn q[FCVM_VOLUME_MAX_QUEUES];
	int next_fd;			/* a queue-0 connection of the next mount */
	struct fcvm_volume_hello next_hello;
	atomic_uint rr;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int read_hello(int fd, struct fcvm_volume_hello *h)
{
	size_t got = 0;

	while (got < sizeof(*h)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, HELLO_TIMEOUT_MS);
		ssize_t n;

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return pr ? -errno : -ETIMEDOUT;
		n = read(fd, (char *)h + got, sizeof(*h) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	if (h->magic != FCVM_VOLUME_HELLO_MAGIC || h->version != FCVM_VOLUME_VERSION ||
	    !h->nqueues || h->nqueues > FCVM_VOLUME_MAX_QUEUES || h->queue >= h->nqueues)
		return -EPROTO;
	return 0;
}

/* Accept one connection and its hello; -ETIMEDOUT / -ECANCELED on the fds. */
static int accept_one(struct user_channel *u, int cancel_fd, int timeout_ms,
		      struct fcvm_volume_hello *h)
{
	struct pollfd p[2] = {
		{ .fd = u->lfd, .events = POLLIN },
		{ .fd = cancel_fd, .events = POLLIN },
	};
	int pr, fd, err;

	pr = poll(p, cancel_fd >= 0 ? 2 : 1, timeout_ms);
	if (pr < 0)
		return -errno;
	if (pr == 0)
		return -ETIMEDOUT;
	if (p[1].revents)
		return -ECANCELED;
	fd = accept4(u->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EINTR || errno == ECONNABORTED ? -EAGAIN : -errno;
	err = read_hello(fd, h);
	if (err) {
		log_warn("volume: dropping a connection: bad hello (%s)", strerror(-err));
		close(fd);
		return -EAGAIN;
	}
	return fd;
}

static void close_conns(struct user_channel *u)
{
	for (unsigned int i = 0; i < FCVM_VOLUME_MAX_QUEUES; i++) {
		struct user_conn *c = &u->q[i];

		if (c->fd >= 0) {
			close(c->fd);
			c->fd = -1;
		}
		frame_reader_free(&c->rd);
		atomic_store(&c->inflight, 0);
	}
	u->nq = 0;
}

/*
 * A READ reply is up to 1 MiB: a send buffer that holds it whole saves a
 * wakeup ping-pong with the reader per socket-buffer's worth. Best effort
 * (SO_SNDBUFFORCE needs CAP_NET_ADMIN; SO_SNDBUF is capped by wmem_max).
 */
static void grow_sndbuf(int fd)
{
	int size = 4 * 1024 * 1024;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int attach(struct user_channel *u, int fd, const struct fcvm_volume_hello *h)
{
	struct user_conn *c = &u->q[h->queue];
	int err;

	if (c->fd >= 0)
		return -EEXIST;
	err = frame_reader_init(&c->rd, fd, READAHEAD);
	if (err)
		return err;
	grow_sndbuf(fd);
	c->fd = fd;
	return 0;
}

/* Wait for queues 1..nq-1 of the current mount. */
static int gather_queues(struct user_channel *u, int cancel_fd)
{
	unsigned int have = 1;

	while (have < u->nq) {
		struct fcvm_volume_hello h;
		int fd = accept_one(u, cancel_fd, QUEUES_TIMEOUT_MS, &h);

		if (fd == -EAGAIN)
			continue;
		if (fd < 0)
			return fd;
		if (h.queue == 0) {		/* a newer mount: it wins */
			u->next_fd = fd;
			u->next_hello = h;
			return -ESTALE;
		}
		if (h.mount_id != u->mount_id || h.nqueues != u->nq || attach(u, fd, &h)) {
			log_warn("volume: dropping a connection: queue %u of another mount",
				 h.queue);
			close(fd);
			continue;
		}
		have++;
	}
	return 0;
}

static int user_accept_session(struct volume_channel *ch, int cancel_fd)
{
	struct user_channel *u = (struct user_channel *)ch;

	for (;;) {
		struct fcvm_volume_hello h;
		int fd, err;

		close_conns(u);
		if (u->next_fd >= 0) {
			fd = u->next_fd;
			h = u->next_hello;
			u->next_fd = -1;
		} else {
			fd = accept_one(u, cancel_fd, -1, &h);
			if (fd == -EAGAIN)
				continue;
			if (fd < 0)
				return fd;
			if (h.queue != 0) {
				log_warn("volume: dropping queue %u: no mount in progress", h.queue);
				close(fd);
				continue;
			}
		}
		u->nq = h.nqueues;
		u->mount_id = h.mount_id;
		err = attach(u, fd, &h);
		if (err) {
			close(fd);
			return err;
		}
		err = gather_queues(u, cancel_fd);
		if (err == -ESTALE || err == -ETIMEDOUT) {
			log_warn("volume: mount abandoned (%s)", strerror(-err));
			continue;
		}
		if (err)
			return err;
		return (int)u->nq;
	}
}

static ssize_t user_recv(struct volume_channel *ch, unsigned int queue, void *buf,
			 size_t size)
{
	struct user_channel *u = (struct user_channel *)ch;
	struct user_conn *c;
	struct fuse_in_header bad;
	ssize_t n;

	if (queue >= u->nq)
		return -EINVAL;
	c = &u->q[queue];
	n = frame_read(&c->rd, buf, size, &bad);
	if (n > 0) {
		atomic_store(&c->inflight, ((const struct fuse_in_header *)buf)->unique);
		return n;
	}
	if (n == -EPROTO) {
		struct fuse_out_header out = { .len = sizeof(out), .error = -EIO,
					       .unique = bad.unique };

		log_warn("volume: queue %u: request length %u out of range, closing",
			 queue, bad.len);
		/* The stream cannot be resynchronised: answer, then end. */
		if (bad.unique) {
			pthread_mutex_lock(&c->send_lock);
			if (write(c->fd, &out, sizeof(out)) < 0)
				log_debug("volume: queue %u: %s", queue, strerror(errno));
			pthread_mutex_unlock(&c->send_lock);
		}
		return 0;
	}
	if (n == -EPIPE)
		log_warn("volume: queue %u: connection closed inside a request", queue);
	return n == -EPIPE || n == -ECONNRESET ? 0 : n;
}

static int writev_all(int fd, const struct iovec *iov, int count)
{
	struct iovec v[16];
	int n = count;

	if (count > 16)
		return -E2BIG;
	memcpy(v, iov, sizeof(*iov) * (size_t)count);
	for (int i = 0; n > 0;) {
		ssize_t w = writev(fd, v + i, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		while (n > 0 && (size_t)w >= v[i].iov_len) {
			w -= (ssize_t)v[i].iov_len;
			i++;
			n--;
		}
		if (n > 0) {
			v[i].iov_base = (char *)v[i].iov_base + w;
			v[i].iov_len -= (size_t)w;
		}
	}
	return 0;
}

static struct user_conn *route(struct user_channel *u, unsigned int queue,
			       uint64_t unique)
{
	if (!unique) {
		for (unsigned int k = 0; k < u->nq; k++) {
			unsigned int i = atomic_fetch_add(&u->rr, 1) % u->nq;

			if (u->q[i].fd >= 0)
				return &u->q[i];
		}
		return NULL;
	}
	if (queue < u->nq && atomic_load(&u->q[queue].inflight) == unique)
		return &u->q[queue];
	for (unsigned int i = 0; i < u->nq; i++)
		if (atomic_load(&u->q[i].inflight) == unique)
			return &u->q[i];
	return NULL;
}

static ssize_t user_send(struct volume_channel *ch, unsigned int queue,
			 const struct iovec *iov, int count)
{
	struct user_channel *u = (struct user_channel *)ch;
	struct fuse_out_header out;
	struct user_conn *c;
	size_t total = 0;
	int err;

	if (count < 1 || iov[0].iov_len < sizeof(out))
		return -EINVAL;
	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	memcpy(&out, iov[0].iov_base, sizeof(out));
	if (total > FCVM_VOLUME_MSG_MAX || out.len != total)
		return -EINVAL;
	c = route(u, queue, out.unique);
	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->send_lock);
	err = writev_all(c->fd, iov, count);
	pthread_mutex_unlock(&c->send_lock);
	return err ? err : (ssize_t)total;
}

static ssize_t user_send_pipe(struct volume_channel *ch, unsigned int queue,
			      const void *hdr, size_t hlen, int pipefd, size_t len)
{
	struct user_channel *u = (struct user_channel *)ch;
	struct fuse_out_header out;
	struct user_conn *c;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)hdr, .iov_len = hlen };
	size_t done = 0;
	int err;

	if (hlen < sizeof(out))
		return -EINVAL;
	memcpy(&out, hdr, sizeof(out));
	if (out.len != hlen + len || out.len > FCVM_VOLUME_MSG_MAX)
		return -EINVAL;
	c = route(u, queue, out.unique);
	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->send_lock);
	err = writev_all(c->fd, &iov, 1);
	while (!err && done < len) {
		ssize_t n = splice(pipefd, NULL, c->fd, NULL, len - done, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? -errno : -EPIPE;
		else
			done += (size_t)n;
	}
	pthread_mutex_unlock(&c->send_lock);
	return err ? err : (ssize_t)(hlen + len);
}

static void user_end_session(struct volume_channel *ch)
{
	struct user_channel *u = (struct user_channel *)ch;

	for (unsigned int i = 0; i < u->nq; i++)
		if (u->q[i].fd >= 0)
			shutdown(u->q[i].fd, SHUT_RDWR);
}

static void user_destroy(struct volume_channel *ch)
{
	struct user_channel *u = (struct user_channel *)ch;

	close_conns(u);
	for (unsigned int i = 0; i < FCVM_VOLUME_MAX_QUEUES; i++)
		pthread_mutex_destroy(&u->q[i].send_lock);
	if (u->next_fd >= 0)
		close(u->next_fd);
	close(u->lfd);
	unlink(u->path);
	free(u);
}

static const struct volume_channel_ops user_ops = {
	.name = "user",
	.accept_session = user_accept_session,
	.recv = user_recv,
	.send = user_send,
	.send_pipe = user_send_pipe,
	.end_session = user_end_session,
	.destroy = user_destroy,
};

/**
 * volume_channel_user_new() - the userspace channel, listening on a path
 * @listen_path: Unix socket path (a stale socket there is replaced)
 * @out:         the channel
 *
 * Return: 0 or -errno.
 */
int volume_channel_user_new(const char *listen_path, struct volume_channel **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct user_channel *u;
	int err;

	if (strlen(listen_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, listen_path);
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->ch.ops = &user_ops;
	strcpy(u->path, listen_path);
	u->next_fd = -1;
	for (unsigned int i = 0; i < FCVM_VOLUME_MAX_QUEUES; i++) {
		u->q[i].fd = -1;
		pthread_mutex_init(&u->q[i].send_lock, NULL);
	}
	u->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u->lfd < 0) {
		err = -errno;
		goto err_free;
	}
	/* Bind and listen under a temporary name, then rename: the path only
	 * appears once connecting to it works. */
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.tmp", listen_path) >=
	    (int)sizeof(sa.sun_path)) {
		err = -ENAMETOOLONG;
		goto err_close;
	}
	unlink(sa.sun_path);
	if (bind(u->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(u->lfd, FCVM_VOLUME_MAX_QUEUES) < 0 ||
	    rename(sa.sun_path, listen_path) < 0) {
		err = -errno;
		unlink(sa.sun_path);
		goto err_close;
	}
	*out = &u->ch;
	return 0;

err_close:
	close(u->lfd);
err_free:
	for (unsigned int i = 0; i < FCVM_VOLUME_MAX_QUEUES; i++)
		pthread_mutex_destroy(&u->q[i].send_lock);
	free(u);
	return err;
}

/**
 * volume_channel_user_take_fds() - hand the accepted session's connections
 * over (to the module channel, which attaches them to /dev/fcvm_accel)
 * @ch:  a userspace channel right after accept_session()
 * @fds: receives one fd per queue, in queue order; the caller owns them
 * @max: room in @fds
 *
 * Return: the number of fds, -EINVAL for another kind of channel, -E2BIG.
 */
int volume_channel_user_take_fds(struct volume_channel *ch, int *fds, unsigned int max)
{
	struct user_channel *u = (struct user_channel *)ch;
	unsigned int nq;

	if (ch->ops != &user_ops)
		return -EINVAL;
	nq = u->nq;
	if (nq > max)
		return -E2BIG;
	for (unsigned int i = 0; i < nq; i++) {
		fds[i] = u->q[i].fd;
		u->q[i].fd = -1;
		frame_reader_free(&u->q[i].rd);
	}
	u->nq = 0;
	return (int)nq;
}
