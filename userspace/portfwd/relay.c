// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/relay.c - splice(2) relay between two stream sockets through a pipe
 * per direction, driven by epoll (see relay.h for the semantics). libc only:
 * compiled into fcvm and, through agent/portfwd_relay.c, into fc-agent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"

#define RELAY_SPLICE_FLAGS	(SPLICE_F_MOVE | SPLICE_F_NONBLOCK)
#define RELAY_BUDGET		16	/* splice rounds per direction per event */
#define RELAY_BATCH		64	/* epoll events per dispatch */

/**
 * relay_init() - create the epoll set of a relay
 * @r:         the relay
 * @pipe_size: bytes per direction (0: RELAY_PIPE_SIZE_DEFAULT)
 *
 * Return: 0 or -errno.
 */
int relay_init(struct relay *r, size_t pipe_size)
{
	memset(r, 0, sizeof(*r));
	r->pipe_size = pipe_size ? pipe_size : RELAY_PIPE_SIZE_DEFAULT;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	return r->epfd < 0 ? -errno : 0;
}

int relay_watch(struct relay *r, int fd, struct relay_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int relay_rewatch(struct relay *r, int fd, struct relay_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(r->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

void relay_unwatch(struct relay *r, int fd)
{
	epoll_ctl(r->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void list_del(struct relay_conn **head, struct relay_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static void list_add(struct relay_conn **head, struct relay_conn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void close_pipe(struct relay_dir *d)
{
	if (d->pipe_r >= 0)
		close(d->pipe_r);
	if (d->pipe_w >= 0)
		close(d->pipe_w);
	d->pipe_r = d->pipe_w = -1;
}

/* An empty pipe goes back to the pool (saves two syscalls and an allocation). */
static void release_pipe(struct relay *r, struct relay_dir *d)
{
	if (d->pipe_r >= 0)
		r->pipe_bytes -= d->cap;
	if (d->pipe_r >= 0 && d->queued == 0 && d->cap == r->pipe_size &&
	    r->npool < RELAY_PIPE_POOL) {
		r->pool[r->npool][0] = d->pipe_r;
		r->pool[r->npool][1] = d->pipe_w;
		r->npool++;
		d->pipe_r = d->pipe_w = -1;
		return;
	}
	close_pipe(d);
}

/*
 * Closes both ends. @err != 0 is an abort: a TCP end is reset (SO_LINGER 0)
 * unless @graceful, so its peer sees a RST instead of a FIN.
 */
static void conn_close(struct relay_conn *c, int err, bool graceful)
{
	struct relay *r = c->relay;

	if (c->dead)
		return;
	c->dead = true;
	c->error = err;
	for (int i = 0; i < 2; i++) {
		struct relay_end *e = &c->end[i];

		if (err && e->tcp && !graceful) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(e->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		if (e->watched)
			relay_unwatch(r, e->fd);
		close(e->fd);
		e->fd = -1;
		release_pipe(r, &c->dir[i]);
	}
	list_del(&r->live, c);
	list_add(&r->dead, c);
	r->stats.live--;
	r->stats.closed++;
	if (err)
		r->stats.aborted++;
	if (r->on_close)
		r->on_close(r, c, r->on_close_arg);
}

/*
 * Moves what it can through direction @i; passes EOF on only if @pass_eof.
 * Return: 0 or -errno (abort).
 */
static int pump(struct relay_conn *c, int i, bool pass_eof)
{
	struct relay_dir *d = &c->dir[i];
	int src = c->end[i].fd, dst = c->end[!i].fd;

	for (int round = 0; round < RELAY_BUDGET; round++) {
		bool progress = false, drained = false;
		ssize_t n;

		if (!d->eof && d->queued < d->cap) {
			size_t want = d->cap - d->queued;

			n = splice(src, NULL, d->pipe_w, NULL, want, RELAY_SPLICE_FLAGS);
			if (n > 0) {
				d->queued += (size_t)n;
				progress = true;
				/* A short read emptied the socket: epoll says when more comes. */
				drained = (size_t)n < want;
			} else if (n == 0) {
				d->eof = true;
			} else if (errno != EAGAIN && errno != EINTR) {
				return -errno;
			}
		}
		if (d->queued) {
			size_t had = d->queued;

			n = splice(d->pipe_r, NULL, dst, NULL, had, RELAY_SPLICE_FLAGS);
			if (n > 0) {
				d->queued -= (size_t)n;
				d->bytes += (uint64_t)n;
				/* A short write filled the socket: wait for EPOLLOUT. */
				d->out_blocked = (size_t)n < had;
				progress = !d->out_blocked;
			} else if (n < 0 && errno == EAGAIN) {
				d->out_blocked = true;
				progress = false;
			} else if (n < 0 && errno != EINTR) {
				return -errno;
			}
		}
		if (!progress || (drained && !d->queued))
			break;
	}
	if (pass_eof && d->eof && !d->queued && !d->shut) {
		if (shutdown(dst, SHUT_WR) < 0 && errno != ENOTCONN)
			return -errno;
		d->shut = true;
	}
	return 0;
}

/* Sets each end's epoll interest from the state of both directions. */
static int conn_update(struct relay_conn *c)
{
	for (int i = 0; i < 2; i++) {
		struct relay_end *e = &c->end[i];
		const struct relay_dir *from = &c->dir[i], *to = &c->dir[!i];
		uint32_t ev = 0;
		int err;

		if (!from->eof && from->queued == 0)
			ev |= EPOLLIN;
		if (to->queued)
			ev |= EPOLLOUT;
		/*
		 * A hung-up end reports EPOLLHUP whatever the interest: keep it
		 * out of the set while there is nothing to do with it.
		 */
		if (!ev && (e->hup || (from->eof && to->shut))) {
			if (e->watched)
				relay_unwatch(c->relay, e->fd);
			e->watched = false;
			e->events = 0;
			continue;
		}
		if (e->watched && ev == e->events)
			continue;
		err = e->watched ? relay_rewatch(c->relay, e->fd, &e->h, ev)
				 : relay_watch(c->relay, e->fd, &e->h, ev);
		if (err)
			return err;
		e->watched = true;
		e->events = ev;
	}
	return 0;
}

static int sock_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -errno;
	return -err;
}

static void end_event(struct relay_handler *h, uint32_t events)
{
	struct relay_end *e = (struct relay_end *)h;
	struct relay_conn *c = e->conn;
	int side = (int)(e - c->end);
	bool graceful = false, hup_abort;
	int err;

	if (c->dead)
		return;
	if (events & EPOLLHUP)
		e->hup = true;
	/*
	 * With hup_is_reset, a VMM side that closed both directions while we
	 * may still send to it aborts. Its last bytes are passed on, its EOF
	 * is not (the other side must see a reset, not a FIN).
	 */
	hup_abort = c->relay->hup_is_reset && !e->tcp && e->hup && !c->dir[!side].shut;
	/* EPOLLIN: data from this end; EPOLLOUT: room for the other's data. */
	err = (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? pump(c, side, !hup_abort) : 0;
	if (!err && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		err = pump(c, !side, true);
	if (!err && (events & EPOLLERR))
		err = sock_error(e->fd) ?: -ECONNRESET;
	if (!err && hup_abort) {
		/* If it never sent a byte, it refused: close the other end cleanly. */
		err = -ECONNRESET;
		graceful = !e->tcp && c->dir[side].bytes == 0 && c->dir[side].queued == 0 &&
			   c->dir[!side].bytes == 0;
	}
	if (!err && c->dir[0].shut && c->dir[1].shut) {
		conn_close(c, 0, false);
		return;
	}
	if (!err)
		err = conn_update(c);
	if (err)
		conn_close(c, err, graceful);
}

static int open_pipe(struct relay *r, struct relay_dir *d, size_t size)
{
	int p[2], got;

	if (r->pipe_bytes + size > RELAY_PIPE_BUDGET)
		size = RELAY_PIPE_SIZE_MIN;	/* over budget: small pipes, not pooled */
	else if (r->npool) {
		r->npool--;
		d->pipe_r = r->pool[r->npool][0];
		d->pipe_w = r->pool[r->npool][1];
		d->cap = size;
		r->pipe_bytes += size;
		return 0;
	}
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	d->pipe_r = p[0];
	d->pipe_w = p[1];
	/* Over the per-user pipe limit the kernel refuses: keep its default. */
	fcntl(p[1], F_SETPIPE_SZ, (int)size);
	got = fcntl(p[1], F_GETPIPE_SZ);
	if (got <= 0) {
		close_pipe(d);
		return got < 0 ? -errno : -EINVAL;
	}
	d->cap = (size_t)got;
	r->pipe_bytes += d->cap;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/**
 * relay_add() - relay between two connected stream sockets
 * @r:     the relay
 * @fd_a:  one end (made non-blocking); @a_tcp: reset it on abort
 * @fd_b:  the other end; @b_tcp likewise
 *
 * The relay owns both fds from here on, also on failure (they are closed).
 *
 * Return: 0 or -errno.
 */
int relay_add(struct relay *r, int fd_a, bool a_tcp, int fd_b, bool b_tcp)
{
	struct relay_conn *c = calloc(1, sizeof(*c));
	int err;

	if (!c) {
		err = -ENOMEM;
		goto err_close_fds;
	}
	c->relay = r;
	c->end[0] = (struct relay_end){ .h.fn = end_event, .conn = c, .fd = fd_a, .tcp = a_tcp };
	c->end[1] = (struct relay_end){ .h.fn = end_event, .conn = c, .fd = fd_b, .tcp = b_tcp };
	c->dir[0].pipe_r = c->dir[0].pipe_w = c->dir[1].pipe_r = c->dir[1].pipe_w = -1;
	err = set_nonblock(fd_a) ?: set_nonblock(fd_b);
	if (err)
		goto err_free;
	err = open_pipe(r, &c->dir[0], r->pipe_size) ?: open_pipe(r, &c->dir[1], r->pipe_size);
	if (err)
		goto err_close_pipes;
	list_add(&r->live, c);
	r->stats.live++;
	r->stats.opened++;
	err = conn_update(c);
	if (err)
		conn_close(c, err, false);	/* now on the dead list */
	return err;

err_close_pipes:
	release_pipe(r, &c->dir[0]);
	release_pipe(r, &c->dir[1]);
err_free:
	free(c);
err_close_fds:
	close(fd_a);
	close(fd_b);
	return err;
}

/**
 * relay_dispatch() - wait for events and handle one batch
 * @r:          the relay
 * @timeout_ms: epoll timeout
 *
 * Closed connections stay allocated until relay_reap(), so a handler later in
 * the same batch never touches freed memory.
 *
 * Return: the number of events handled, or -errno (-EINTR included).
 */
int relay_dispatch(struct relay *r, int timeout_ms)
{
	struct epoll_event evs[RELAY_BATCH];
	int n = epoll_wait(r->epfd, evs, RELAY_BATCH, timeout_ms);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		struct relay_handler *h = evs[i].data.ptr;

		h->fn(h, evs[i].events);
	}
	relay_reap(r);
	return n;
}

void relay_reap(struct relay *r)
{
	while (r->dead) {
		struct relay_conn *c = r->dead;

		r->dead = c->next;
		free(c);
	}
}

/* Closes every connection (without reset) and the epoll set. */
void relay_destroy(struct relay *r)
{
	while (r->live)
		conn_close(r->live, 0, false);
	relay_reap(r);
	while (r->npool) {
		r->npool--;
		close(r->pool[r->npool][0]);
		close(r->pool[r->npool][1]);
	}
	if (r->epfd >= 0)
		close(r->epfd);
	r->epfd = -1;
}
