// SPDX-License-Identifier: GPL-2.0
/*
 * agent/portfwd.c - `fc-agent portfwd --port P [--listen ADDR] [--target IP]`:
 * the guest half of a published port. Each stream accepted on vsock port
 * 65536+P (or ADDR) is connected to TARGET:P (default 127.0.0.1) and relayed
 * with the shared splice relay. If nothing listens on TARGET:P the stream is
 * closed at once without data, which the host passes on as a clean close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../userspace/portfwd/relay.h"
#include "agent.h"
#include "fcvm/vsock.h"
#include "portfwd.h"
#include "transport.h"

#define PORTFWD_CONNECT_MS	2000
#define PORTFWD_MAX_CONNS	4096

struct agent_pf {
	struct relay relay;
	struct relay_handler listen_h, stop_h;
	int lfd;
	struct sockaddr_in target;
	bool paused, stop;
	bool starved;	/* accept hit EMFILE/ENFILE: wait for a close */
};

/* Connects to the guest service; loopback answers at once, so wait briefly. */
static int connect_target(const struct sockaddr_in *sin)
{
	struct pollfd p;
	int fd, one = 1, err;
	socklen_t len = sizeof(err);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto err_close;
		}
		p = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&p, 1, PORTFWD_CONNECT_MS) != 1) {
			err = -ETIMEDOUT;
			goto err_close;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			err = -err;
			goto err_close;
		}
	}
	return fd;

err_close:
	close(fd);
	return err;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void update_accepting(struct agent_pf *a)
{
	bool full = a->starved || a->relay.stats.live >= PORTFWD_MAX_CONNS;

	if (full == a->paused)
		return;
	a->paused = full;
	relay_rewatch(&a->relay, a->lfd, &a->listen_h, full ? 0 : EPOLLIN);
}

static void listen_event(struct relay_handler *h, uint32_t events)
{
	struct agent_pf *a = (struct agent_pf *)((char *)h - offsetof(struct agent_pf, listen_h));

	while (a->relay.stats.live < PORTFWD_MAX_CONNS) {
		int vfd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		int tfd;

		if (vfd < 0) {
			/* out of fds: the listener would stay readable, so pause it */
			a->starved = (errno == EMFILE || errno == ENFILE) && a->relay.stats.live;
			break;
		}
		tfd = connect_target(&a->target);
		if (tfd < 0) {
			close(vfd);	/* refused: the host closes the client cleanly */
			continue;
		}
		relay_add(&a->relay, vfd, false, tfd, true);
	}
	update_accepting(a);
}

static void stop_event(struct relay_handler *h, uint32_t events)
{
	struct agent_pf *a = (struct agent_pf *)((char *)h - offsetof(struct agent_pf, stop_h));

	a->stop = true;
}

static void conn_closed(struct relay *r, struct relay_conn *c, void *arg)
{
	struct agent_pf *a = arg;

	a->starved = false;
	update_accepting(a);
}

static int usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: fc-agent portfwd --port P [--listen ADDR] [--target IPV4] [--hup-reset]\n"
		"  --port P       the published guest port (1..65535)\n"
		"  --listen ADDR  vsock:CID:PORT or unix:PATH (default vsock port 65536+P)\n"
		"  --target IPV4  where the service listens (default 127.0.0.1)\n"
		"  --hup-reset    the VMM passes half-close through: a full close from\n"
		"                 the host is a reset (RST to the service)\n");
	return status;
}

static int run(struct agent_pf *a, int sfd)
{
	int err;

	a->listen_h.fn = listen_event;
	a->stop_h.fn = stop_event;
	a->relay.on_close = conn_closed;
	a->relay.on_close_arg = a;
	err = relay_watch(&a->relay, a->lfd, &a->listen_h, EPOLLIN);
	if (!err)
		err = relay_watch(&a->relay, sfd, &a->stop_h, EPOLLIN);
	while (!err && !a->stop) {
		err = relay_dispatch(&a->relay, -1);
		err = err == -EINTR || err >= 0 ? 0 : err;
	}
	return err;
}

int agent_portfwd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "hup-reset", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_pf a = { .lfd = -1 };
	struct transport_addr la = { .kind = TRANSPORT_VSOCK };
	const char *listen_s = NULL, *target = "127.0.0.1";
	unsigned long port = 0;
	bool hup_reset = false;
	sigset_t set;
	int c, sfd, err;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			port = strtoul(optarg, &end, 10);
			if (*end || port == 0 || port > 65535)
				return usage(2);
			break;
		case 'l': listen_s = optarg; break;
		case 't': target = optarg; break;
		case 'r': hup_reset = true; break;
		case 'h': return usage(0);
		default: return usage(2);
		}
	}
	if (!port || optind != argc)
		return usage(2);
	a.target.sin_family = AF_INET;
	a.target.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, target, &a.target.sin_addr) != 1)
		return usage(2);
	if (listen_s && transport_parse(listen_s, &la)) {
		fprintf(stderr, "fc-agent: portfwd: bad address '%s'\n", listen_s);
		return 2;
	}
	if (!listen_s)
		la.port = fcvm_port_publish((unsigned int)port);

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || relay_init(&a.relay, 0)) {
		perror("fc-agent: portfwd: setup");
		return 1;
	}
	a.lfd = transport_listen(&la, 1024);
	if (a.lfd < 0) {
		fprintf(stderr, "fc-agent: portfwd: listen %s: %s\n", listen_s ? listen_s : "vsock",
			strerror(-a.lfd));
		relay_destroy(&a.relay);
		return 1;
	}
	/* accept until EAGAIN: the listener must not block */
	a.relay.hup_is_reset = hup_reset;
	err = set_nonblock(a.lfd);
	if (!err)
		err = run(&a, sfd);
	if (err)
		fprintf(stderr, "fc-agent: portfwd: %s\n", strerror(-err));
	a.relay.on_close = NULL;
	relay_destroy(&a.relay);
	close(a.lfd);
	close(sfd);
	if (la.kind == TRANSPORT_UNIX)
		unlink(la.path);
	return err ? 1 : 0;
}
