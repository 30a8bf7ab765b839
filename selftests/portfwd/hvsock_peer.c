// SPDX-License-Identifier: GPL-2.0
/*
 * hvsock_peer.c - test-only stand-in for a VMM's hybrid-vsock socket.
 *
 *   hvsock_peer --listen PATH --guest-dir DIR [--mute]
 *
 * Accepts on PATH (the VM's vsock.sock); for "CONNECT <port>\n" connects to
 * DIR/guest_<port>.sock, where a test runs `fc-agent ... --listen unix:...`
 * in place of the guest's vsock listener; answers "OK <n>\n" and relays with
 * fcvm's splice relay, passing half-close as shutdown and close as close.
 * If nothing listens there it closes the connection, as Firecracker does.
 * --mute accepts and never answers (handshake timeout tests).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcvm/vsock.h"
#include "portfwd/relay.h"

static const char *guest_dir;
static int lfd, muted_fds[4096], nmuted;
static bool mute, stop;
static unsigned int next_host_port = 1073741824u;
static struct relay relay;

static int read_line(int fd, char *buf, size_t size)
{
	struct timeval tv = { .tv_sec = 2 };
	size_t n = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
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

static int connect_guest(unsigned int port)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	snprintf(un.sun_path, sizeof(un.sun_path), "%s/guest_%u.sock", guest_dir, port);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void handle(int cfd)
{
	char line[FCVM_HVSOCK_LINE_MAX + 8], reply[32];
	unsigned int port;
	int gfd, n;

	if (mute) {
		if (nmuted < (int)(sizeof(muted_fds) / sizeof(muted_fds[0])))
			muted_fds[nmuted++] = cfd;
		else
			close(cfd);
		return;
	}
	if (read_line(cfd, line, FCVM_HVSOCK_LINE_MAX) ||
	    fcvm_hvsock_parse(line, FCVM_HVSOCK_CONNECT, &port)) {
		close(cfd);
		return;
	}
	gfd = connect_guest(port);
	if (gfd < 0) {
		close(cfd);	/* nothing listens on that guest port */
		return;
	}
	n = snprintf(reply, sizeof(reply), FCVM_HVSOCK_OK " %u\n", next_host_port++);
	if (write(cfd, reply, (size_t)n) != n) {
		close(cfd);
		close(gfd);
		return;
	}
	relay_add(&relay, cfd, false, gfd, false);
}

static void listen_event(struct relay_handler *h, uint32_t events)
{
	int fd;

	/* accepted blocking: the handshake is read with a timeout */
	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		handle(fd);
}

static void stop_event(struct relay_handler *h, uint32_t events)
{
	stop = true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "guest-dir", required_argument, NULL, 'g' },
		{ "mute", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct relay_handler lh = { .fn = listen_event }, sh = { .fn = stop_event };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	const char *path = NULL;
	sigset_t set;
	int c, sfd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l')
			path = optarg;
		else if (c == 'g')
			guest_dir = optarg;
		else if (c == 'm')
			mute = true;
		else
			return 2;
	}
	if (!path || !guest_dir || strlen(path) >= sizeof(un.sun_path))
		return 2;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	strcpy(un.sun_path, path);
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (sfd < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof(un)) ||
	    listen(lfd, 1024) || relay_init(&relay, 0) ||
	    relay_watch(&relay, lfd, &lh, EPOLLIN) || relay_watch(&relay, sfd, &sh, EPOLLIN)) {
		perror("hvsock_peer");
		return 1;
	}
	/* Like fcvm's vsock device: half-close is kept, a full close is a reset. */
	relay.hup_is_reset = true;
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		if (relay_dispatch(&relay, -1) < 0 && errno != EINTR)
			break;
	relay_destroy(&relay);
	for (int i = 0; i < nmuted; i++)
		close(muted_fds[i]);
	unlink(path);
	return 0;
}
