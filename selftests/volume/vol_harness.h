/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftests/volume/vol_harness.h - what the volume tests share: starting the
 * host server and the guest relay as child processes of the test (both are
 * linked into the test binary, so it is self-contained and can run inside a
 * test guest), and a raw FUSE client that speaks to the server's socket
 * directly, the way a hostile guest could.
 *
 * FCVM_VOLUME_CHANNEL=user|kmod selects the server's channel (default user).
 */
#ifndef FCVM_SELFTESTS_VOL_HARNESS_H
#define FCVM_SELFTESTS_VOL_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <linux/fuse.h>

#include "fcvm/volume.h"
#include "fuse_relay.h"
#include "util/log.h"
#include "volume/volume.h"

struct vol_env {
	char base[64];		/* mkdtemp dir holding the rest */
	char host[96];		/* the shared host directory */
	char mnt[96];		/* the "guest" mount point */
	char sock[96];		/* the server's socket */
	pid_t server;
	pid_t relay;
};

static inline long vol_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int vol_env_dirs(struct vol_env *e)
{
	strcpy(e->base, "/tmp/fcvm-vol-XXXXXX");
	if (!mkdtemp(e->base) || chmod(e->base, 0755))
		return -errno;
	snprintf(e->host, sizeof(e->host), "%s/host", e->base);
	snprintf(e->mnt, sizeof(e->mnt), "%s/mnt", e->base);
	snprintf(e->sock, sizeof(e->sock), "%s/vol.sock", e->base);
	if (mkdir(e->host, 0755) || mkdir(e->mnt, 0755))
		return -errno;
	e->server = e->relay = -1;
	return 0;
}

/* Child: the host server until SIGTERM. */
static inline void vol_server_child(const char *dir, const char *sock, bool ro,
				    enum volume_cache cache)
{
	struct volume_opts o = { .dir = dir, .ro = ro, .cache = cache };
	struct volume_channel *ch;
	sigset_t set;
	int sfd, err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	log_set_level(getenv("VOL_DEBUG") ? LOG_DEBUG : LOG_WARN);
	err = volume_channel_new(sock, &ch);
	if (err) {
		fprintf(stderr, "# volume channel (%s): %s\n",
			getenv("FCVM_VOLUME_CHANNEL") ?: "user", strerror(-err));
		_exit(3);
	}
	err = volume_serve(ch, &o, sfd);
	ch->ops->destroy(ch);
	_exit(err ? 1 : 0);
}

static inline int vol_wait_path(const char *path, int timeout_ms)
{
	long end = vol_now_ms() + timeout_ms;
	struct stat st;

	while (stat(path, &st)) {
		if (vol_now_ms() > end)
			return -ETIMEDOUT;
		usleep(2000);
	}
	return 0;
}

static inline int vol_start_server(struct vol_env *e, bool ro, enum volume_cache cache)
{
	e->server = fork();
	if (e->server < 0)
		return -errno;
	if (e->server == 0)
		vol_server_child(e->host, e->sock, ro, cache);
	return vol_wait_path(e->sock, 5000);
}

/* Is @path a mount point (different device than its parent)? */
static inline bool vol_is_mounted(const char *path)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char mp[4096];

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && !strcmp(mp, path))
			found = true;
	}
	fclose(f);
	return found;
}

static inline int vol_start_relay(struct vol_env *e, unsigned int queues, bool ro)
{
	long end = vol_now_ms() + 5000;
	struct stat st;

	e->relay = fork();
	if (e->relay < 0)
		return -errno;
	if (e->relay == 0) {
		struct fuse_relay_opts o = {
			.mount = e->mnt, .queues = queues, .ro = ro,
			.max_read = FCVM_VOLUME_MAX_WRITE,
		};

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		o.addr.kind = TRANSPORT_UNIX;
		snprintf(o.addr.path, sizeof(o.addr.path), "%s", e->sock);
		_exit(fuse_relay_run(&o));
	}
	while (!vol_is_mounted(e->mnt)) {
		int ws;

		if (waitpid(e->relay, &ws, WNOHANG) == e->relay) {
			e->relay = -1;
			return -ECHILD;
		}
		if (vol_now_ms() > end)
			return -ETIMEDOUT;
		usleep(2000);
	}
	return stat(e->mnt, &st) ? -errno : 0;	/* the root's real attributes */
}

/* Stop a child with SIGTERM; Return: its exit status or -1. */
static inline int vol_stop(pid_t *pid)
{
	int st;

	if (*pid <= 0)
		return 0;
	kill(*pid, SIGTERM);
	if (waitpid(*pid, &st, 0) != *pid)
		return -1;
	*pid = -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static inline void vol_rm_tree(const char *path)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd))
		fprintf(stderr, "# could not remove %s\n", path);
}

static inline void vol_env_teardown(struct vol_env *e)
{
	vol_stop(&e->relay);
	if (vol_is_mounted(e->mnt))
		umount2(e->mnt, MNT_DETACH);
	vol_stop(&e->server);
	vol_rm_tree(e->base);
}

/* ---- raw client: a guest without a kernel ---------------------------- */

struct raw {
	int fd;
	uint64_t unique;
};

static inline int raw_connect(struct raw *r, const char *sock, uint16_t queue,
			      uint16_t nq, uint64_t mount_id)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fcvm_volume_hello h = {
		.magic = FCVM_VOLUME_HELLO_MAGIC, .version = FCVM_VOLUME_VERSION,
		.queue = queue, .nqueues = nq, .mount_id = mount_id,
	};

	r->unique = 1;
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(r->fd, &h, sizeof(h)) != sizeof(h)) {
		close(r->fd);
		return -errno;
	}
	return 0;
}

static inline int raw_send(struct raw *r, uint32_t opcode, uint64_t nodeid,
			   const void *arg, size_t len, uint64_t *unique)
{
	struct fuse_in_header h = {
		.len = (uint32_t)(sizeof(h) + len), .opcode = opcode,
		.unique = r->unique++, .nodeid = nodeid,
	};
	char *buf = malloc(sizeof(h) + len);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), arg, len);
	n = write(r->fd, buf, sizeof(h) + len);
	free(buf);
	if (unique)
		*unique = h.unique;
	return n == (ssize_t)(sizeof(h) + len) ? 0 : -EIO;
}

/*
 * raw_recv() - one reply, within timeout_ms
 * Return: its error field (0 or -errno), -ETIMEDOUT, or -EPIPE when the
 * server closed the connection. The payload goes to out (up to *len).
 */
static inline int raw_recv_one(struct raw *r, struct fuse_out_header *hp, void *out,
			       size_t *len, int timeout_ms);

/* Replies only: notifications (unique 0, pushed on host changes) are skipped. */
static inline int raw_recv(struct raw *r, uint64_t *unique, void *out, size_t *len,
			   int timeout_ms)
{
	struct fuse_out_header h;
	size_t cap = len ? *len : 0;
	int err;

	do {
		if (len)
			*len = cap;
		err = raw_recv_one(r, &h, out, len, timeout_ms);
	} while (err != -ETIMEDOUT && err != -EPIPE && err != -EPROTO && !h.unique);
	if (unique)
		*unique = h.unique;
	return err;
}

static inline int raw_recv_one(struct raw *r, struct fuse_out_header *hp, void *out,
			       size_t *len, int timeout_ms)
{
	struct fuse_out_header h;
	size_t got = 0, want = sizeof(h), body;
	char *p = (char *)&h;

	while (got < want) {
		struct pollfd pf = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		n = read(r->fd, p + got, want - got);
		if (n <= 0)
			return -EPIPE;
		got += (size_t)n;
	}
	if (h.len < sizeof(h) || h.len > FCVM_VOLUME_MSG_MAX)
		return -EPROTO;
	body = h.len - sizeof(h);
	if (body) {
		char *b = malloc(body);

		got = 0;
		while (b && got < body) {
			ssize_t n = read(r->fd, b + got, body - got);

			if (n <= 0) {
				free(b);
				return -EPIPE;
			}
			got += (size_t)n;
		}
		if (!b)
			return -ENOMEM;
		if (out && len) {
			memcpy(out, b, body < *len ? body : *len);
			*len = body;
		}
		free(b);
	} else if (len) {
		*len = 0;
	}
	*hp = h;
	return h.error;
}

/* Request + its reply; Return: the reply's error or a transport error. */
static inline int raw_call(struct raw *r, uint32_t opcode, uint64_t nodeid,
			   const void *arg, size_t len, void *out, size_t *outlen)
{
	uint64_t u, got;
	int err = raw_send(r, opcode, nodeid, arg, len, &u);

	if (err)
		return err;
	err = raw_recv(r, &got, out, outlen, 5000);
	if (err == -ETIMEDOUT || err == -EPIPE || err == -EPROTO)
		return err;
	return got == u ? err : -EBADMSG;
}

static inline int raw_init(struct raw *r)
{
	struct fuse_init_in in = {
		.major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
		.max_readahead = 128 * 1024,
		.flags = FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_INIT_EXT,
	};
	struct fuse_init_out out;
	size_t len = sizeof(out);

	return raw_call(r, FUSE_INIT, 0, &in, sizeof(in), &out, &len);
}

/* LOOKUP; Return: 0 and the entry, or the error. */
static inline int raw_lookup(struct raw *r, uint64_t parent, const char *name,
			     struct fuse_entry_out *e)
{
	size_t len = sizeof(*e);
	int err = raw_call(r, FUSE_LOOKUP, parent, name, strlen(name) + 1, e, &len);

	if (!err && !e->nodeid)
		return -ENOENT;	/* negative entry */
	return err;
}

/* A fresh session (mount): connect queue 0 and INIT. */
static inline int raw_session(struct raw *r, const char *sock)
{
	int err = raw_connect(r, sock, 0, 1, (uint64_t)vol_now_ms() ^ (uint64_t)getpid());

	if (err)
		return err;
	err = raw_init(r);
	if (err)
		close(r->fd);
	return err;
}

#endif /* FCVM_SELFTESTS_VOL_HARNESS_H */
