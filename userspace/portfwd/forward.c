// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/forward.c - rootless port forwarder: listeners, the non-blocking
 * hybrid-vsock handshake of each accepted client, then the splice relay.
 *
 * Limits: at most max_pending handshakes and max_conns connections (pending
 * included); when either is reached the listeners stop accepting and clients
 * wait in the kernel's backlog. A handshake not answered in handshake_ms is
 * dropped. A refused handshake (nothing listens in the guest) closes the
 * client without data.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fcvm/vsock.h"
#include "portfwd/forward.h"
#include "vsock/hvsock.h"

#define PORTFWD_TICK_MS	100

struct portfwd;

struct listener {
	struct relay_handler h;
	struct portfwd *pf;
	int fd;
	uint16_t guest_port;
	struct sockaddr_in addr;
};

struct pending {
	struct relay_handler h;
	struct portfwd *pf;
	struct pending *next, *prev;
	int client, ufd;
	int64_t deadline;
	bool dead;
};

struct portfwd {
	struct relay relay;
	struct portfwd_opts opts;
	struct listener *ls;
	size_t nls;
	struct pending *pending;
	struct pending *retired;	/* freed after the batch */
	unsigned int npending;
	bool paused;
	bool starved;		/* accept hit EMFILE/ENFILE: wait for a close */
	struct relay_handler tick_h;
	int tick_fd;
	struct relay_handler stop_h;
	bool stop;
	uint64_t accepted, refused, timeouts;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool at_capacity(const struct portfwd *pf)
{
	return pf->starved || pf->npending >= pf->opts.max_pending ||
	       pf->relay.stats.live + pf->npending >= pf->opts.max_conns;
}

/* Stops or resumes accepting on every listener as capacity requires. */
static void update_accepting(struct portfwd *pf)
{
	bool full = at_capacity(pf);

	if (full == pf->paused)
		return;
	pf->paused = full;
	for (size_t i = 0; i < pf->nls; i++)
		relay_rewatch(&pf->relay, pf->ls[i].fd, &pf->ls[i].h, full ? 0 : EPOLLIN);
}

static void pending_free(struct pending *p, bool connected)
{
	struct portfwd *pf = p->pf;

	relay_unwatch(&pf->relay, p->ufd);
	if (p->prev)
		p->prev->next = p->next;
	else
		pf->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pf->npending--;
	pf->starved = false;
	if (!connected) {
		close(p->ufd);
		close(p->client);
	}
	p->dead = true;
	p->next = pf->retired;
	pf->retired = p;
}

static void reap_pending(struct portfwd *pf)
{
	while (pf->retired) {
		struct pending *p = pf->retired;

		pf->retired = p->next;
		free(p);
	}
}

static void pending_event(struct relay_handler *h, uint32_t events)
{
	struct pending *p = (struct pending *)h;
	struct portfwd *pf = p->pf;
	int err;

	if (p->dead)
		return;
	err = hvsock_finish(p->ufd, NULL);
	if (err == -EAGAIN && !(events & (EPOLLHUP | EPOLLERR)))
		return;
	if (err) {
		pf->refused++;
		pending_free(p, false);
	} else {
		int client = p->client, ufd = p->ufd;

		pending_free(p, true);
		relay_add(&pf->relay, client, true, ufd, false);
	}
	update_accepting(pf);
}

static void start_handshake(struct portfwd *pf, int client, uint16_t guest_port)
{
	struct pending *p;
	int ufd, one = 1;

	setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ufd = hvsock_start(pf->opts.vsock_path, fcvm_port_publish(guest_port));
	if (ufd < 0)
		goto err_refuse;
	p = calloc(1, sizeof(*p));
	if (!p)
		goto err_close_ufd;
	*p = (struct pending){ .h.fn = pending_event, .pf = pf, .client = client, .ufd = ufd,
			       .deadline = now_ms() + pf->opts.handshake_ms };
	if (relay_watch(&pf->relay, ufd, &p->h, EPOLLIN))
		goto err_free;
	p->next = pf->pending;
	if (pf->pending)
		pf->pending->prev = p;
	pf->pending = p;
	pf->npending++;
	return;

err_free:
	free(p);
err_close_ufd:
	close(ufd);
err_refuse:
	pf->refused++;
	close(client);
}

static void listener_event(struct relay_handler *h, uint32_t events)
{
	struct listener *l = (struct listener *)h;
	struct portfwd *pf = l->pf;

	while (!at_capacity(pf)) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			/* Out of fds: the listener would stay readable, so pause it. */
			if (errno == EMFILE || errno == ENFILE)
				pf->starved = true;
			break;	/* EAGAIN, or a client gone before accept */
		}
		pf->accepted++;
		start_handshake(pf, fd, l->guest_port);
	}
	update_accepting(pf);
}

static void tick_event(struct relay_handler *h, uint32_t events)
{
	struct portfwd *pf = (struct portfwd *)((char *)h - offsetof(struct portfwd, tick_h));
	int64_t now = now_ms();
	uint64_t ticks;

	if (read(pf->tick_fd, &ticks, sizeof(ticks)) < 0)
		return;
	pf->starved = false;	/* retry accepting once per tick */
	for (struct pending *p = pf->pending, *next; p; p = next) {
		next = p->next;
		if (p->deadline <= now) {
			pf->timeouts++;
			pending_free(p, false);
		}
	}
	update_accepting(pf);
}

static void stop_event(struct relay_handler *h, uint32_t events)
{
	struct portfwd *pf = (struct portfwd *)((char *)h - offsetof(struct portfwd, stop_h));

	pf->stop = true;
}

static void relay_closed(struct relay *r, struct relay_conn *c, void *arg)
{
	struct portfwd *pf = arg;

	pf->starved = false;
	update_accepting(pf);
}

static int open_listener(struct portfwd *pf, struct listener *l)
{
	socklen_t len = sizeof(l->addr);
	int one = 1, err;

	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->fd < 0)
		return -errno;
	setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->fd, (struct sockaddr *)&l->addr, sizeof(l->addr)) < 0 ||
	    listen(l->fd, 1024) < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&l->addr, &len) < 0) {
		err = -errno;
		goto err_close;
	}
	err = relay_watch(&pf->relay, l->fd, &l->h, EPOLLIN);
	if (err)
		goto err_close;
	return 0;

err_close:
	close(l->fd);
	l->fd = -1;
	return err;
}

static int open_tick(struct portfwd *pf)
{
	struct itimerspec it = {
		.it_interval = { .tv_nsec = PORTFWD_TICK_MS * 1000000L },
		.it_value = { .tv_nsec = PORTFWD_TICK_MS * 1000000L },
	};

	pf->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (pf->tick_fd < 0)
		return -errno;
	if (timerfd_settime(pf->tick_fd, 0, &it, NULL) < 0)
		return -errno;
	pf->tick_h.fn = tick_event;
	return relay_watch(&pf->relay, pf->tick_fd, &pf->tick_h, EPOLLIN);
}

/**
 * portfwd_open() - bind the listeners of a VM's published ports
 * @out:  the forwarder
 * @opts: the VM's hybrid-vsock socket and limits
 * @maps: the published ports
 * @n:    how many
 *
 * Return: 0 or -errno (-EADDRINUSE, ...); on failure nothing is left open.
 */
int portfwd_open(struct portfwd **out, const struct portfwd_opts *opts,
		 const struct portfwd_map *maps, size_t n)
{
	struct portfwd *pf = calloc(1, sizeof(*pf));
	int err;

	if (!pf)
		return -ENOMEM;
	pf->opts = *opts;
	if (!pf->opts.max_conns)
		pf->opts.max_conns = 4096;
	if (!pf->opts.max_pending)
		pf->opts.max_pending = 64;
	if (!pf->opts.handshake_ms)
		pf->opts.handshake_ms = 5000;
	pf->tick_fd = -1;
	err = relay_init(&pf->relay, opts->pipe_size);
	if (err)
		goto err_free;
	pf->relay.hup_is_reset = opts->hup_reset;
	pf->relay.on_close = relay_closed;
	pf->relay.on_close_arg = pf;
	pf->ls = calloc(n ? n : 1, sizeof(*pf->ls));
	if (!pf->ls) {
		err = -ENOMEM;
		goto err_close;
	}
	for (size_t i = 0; i < n; i++, pf->nls++) {
		struct listener *l = &pf->ls[i];

		*l = (struct listener){ .h.fn = listener_event, .pf = pf, .addr = maps[i].host,
					.guest_port = maps[i].guest_port };
		l->addr.sin_family = AF_INET;
		err = open_listener(pf, l);
		if (err)
			goto err_close;
	}
	err = open_tick(pf);
	if (err)
		goto err_close;
	*out = pf;
	return 0;

err_close:
	portfwd_close(pf);
	return err;
err_free:
	free(pf);
	return err;
}

int portfwd_bound(const struct portfwd *pf, size_t i, struct sockaddr_in *out)
{
	if (i >= pf->nls)
		return -ERANGE;
	*out = pf->ls[i].addr;
	return 0;
}

/**
 * portfwd_run() - relay until @stop_fd becomes readable
 * @pf:      the forwarder
 * @stop_fd: e.g. a signalfd for SIGINT/SIGTERM (-1: run forever)
 *
 * Return: 0 when stopped, or -errno from epoll.
 */
int portfwd_run(struct portfwd *pf, int stop_fd)
{
	int err;

	if (stop_fd >= 0) {
		pf->stop_h.fn = stop_event;
		err = relay_watch(&pf->relay, stop_fd, &pf->stop_h, EPOLLIN);
		if (err)
			return err;
	}
	while (!pf->stop) {
		err = relay_dispatch(&pf->relay, -1);
		reap_pending(pf);
		if (err < 0 && err != -EINTR)
			break;
	}
	if (stop_fd >= 0)
		relay_unwatch(&pf->relay, stop_fd);
	return pf->stop ? 0 : err;
}

void portfwd_get_stats(const struct portfwd *pf, struct portfwd_stats *out)
{
	out->accepted = pf->accepted;
	out->refused = pf->refused;
	out->timeouts = pf->timeouts;
	out->pending = pf->npending;
	out->relay = pf->relay.stats;
}

/* Closes every listener, handshake and connection. */
void portfwd_close(struct portfwd *pf)
{
	if (!pf)
		return;
	while (pf->pending)
		pending_free(pf->pending, false);
	reap_pending(pf);
	for (size_t i = 0; i < pf->nls; i++)
		if (pf->ls[i].fd >= 0)
			close(pf->ls[i].fd);
	pf->relay.on_close = NULL;
	relay_destroy(&pf->relay);
	if (pf->tick_fd >= 0)
		close(pf->tick_fd);
	free(pf->ls);
	free(pf);
}
