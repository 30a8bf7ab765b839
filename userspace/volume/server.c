// SPDX-License-Identifier: GPL-2.0
/*
 * volume/server.c - drives libfuse3's lowlevel session over a channel.
 *
 * One session per guest mount. libfuse gets a custom I/O whose read()
 * pulls one validated request from the calling thread's own queue and
 * whose writev() sends the reply back through the channel. One thread per
 * queue runs fuse_session_receive_buf()/fuse_session_process_buf() itself,
 * so every request is served inline on the thread (and connection) that
 * received it; libfuse's own loops and worker pools are not used.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/fuse.h>

#include "fcvm/volume.h"
#include "util/log.h"
#include "volume/server.h"
#include "volume/validate.h"

#define LONG_TIMEOUT	86400.0		/* seconds: entries and attrs in cached modes */

static __thread struct vol_queue *cur_q;	/* NULL on non-queue threads */

static void reply_error(struct vol_session *s, unsigned int queue, uint64_t unique, int err)
{
	struct fuse_out_header out = { .len = sizeof(out), .error = -err, .unique = unique };
	struct iovec iov = { .iov_base = &out, .iov_len = sizeof(out) };

	s->ch->ops->send(s->ch, queue, &iov, 1);
}

/* libfuse's read(): the next request of this thread's queue that passes checks. */
static ssize_t io_read(int fd, void *buf, size_t len, void *userdata)
{
	struct vol_session *s = userdata;
	unsigned int q = cur_q->idx;

	(void)fd;
	for (;;) {
		ssize_t n = s->ch->ops->recv(s->ch, q, buf, len);
		int err = 0;

		if (n <= 0) {
			errno = n ? (int)-n : ENODEV;	/* ENODEV: libfuse ends the loop */
			return -1;
		}
		switch (volume_validate(buf, (size_t)n, &err)) {
		case VOLUME_PASS:
			cur_q->unique = ((const struct fuse_in_header *)buf)->unique;
			return n;
		case VOLUME_REPLY_ERR:
			reply_error(s, q, ((const struct fuse_in_header *)buf)->unique, err);
			break;
		case VOLUME_DROP:
			break;
		}
	}
}

/* The queue this thread serves (NULL off queue threads). */
struct vol_queue *server_cur_queue(void)
{
	return cur_q;
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	struct vol_session *s = userdata;
	ssize_t n;

	(void)fd;
	n = s->ch->ops->send(s->ch, cur_q ? cur_q->idx : VOLUME_QUEUE_ANY, iov, count);
	if (n < 0) {
		/* A gone guest is not worth a line per reply: libfuse stays quiet
		 * on ENOENT (it is what /dev/fuse says for an aborted request). */
		errno = n == -EPIPE || n == -ECONNRESET ? ENOENT : (int)-n;
		return -1;
	}
	return n;
}

static void *queue_thread(void *arg)
{
	struct vol_queue *q = arg;
	struct vol_session *s = q->s;
	struct fuse_buf buf = { .mem = NULL };
	uint64_t one = 1;
	int err;

	cur_q = q;
	err = creds_thread_init();
	if (err)
		log_warn("volume: queue %u: dropping supplementary groups: %s", q->idx,
			 strerror(-err));
	while (!fuse_session_exited(s->se)) {
		int res = fuse_session_receive_buf(s->se, &buf);

		if (res == -EINTR || res == -EAGAIN)
			continue;
		if (res <= 0)
			break;
		fuse_session_process_buf(s->se, &buf);
	}
	free(buf.mem);
	ops_thread_exit();
	if (write(s->done_efd, &one, sizeof(one)) < 0)
		log_warn("volume: queue %u: %s", q->idx, strerror(errno));
	return NULL;
}

static int session_fuse(struct vol_session *s)
{
	static const struct fuse_custom_io io = { .read = io_read, .writev = io_writev };
	static char prog[] = "fcvm-volume";
	char *argv[] = { prog, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	int dummy;

	s->se = fuse_session_new(&args, &vol_ops, sizeof(vol_ops), s);
	fuse_opt_free_args(&args);
	if (!s->se)
		return -ENOMEM;
	/* libfuse wants an fd it will close; the channel does the real I/O. */
	dummy = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (dummy < 0)
		return -errno;
	if (fuse_session_custom_io(s->se, &io, dummy)) {
		close(dummy);
		return -EINVAL;
	}
	return 0;
}

static int session_init(struct vol_session *s)
{
	int root, err;

	root = open(s->o->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	err = vt_init(&s->t, root);
	if (err) {
		close(root);
		return err;
	}
	s->proc_fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->done_efd = eventfd(0, EFD_CLOEXEC);
	if (s->proc_fd < 0 || s->done_efd < 0)
		return -errno;
	return session_fuse(s);
}

static void session_free(struct vol_session *s)
{
	watch_stop(s->watch);
	if (s->se)
		fuse_session_destroy(s->se);
	if (s->t.by_id)
		vt_destroy(&s->t);
	if (s->proc_fd >= 0)
		close(s->proc_fd);
	if (s->done_efd >= 0)
		close(s->done_efd);
	free(s);
}

static void session_watch(struct vol_session *s)
{
	int err;

	if (s->o->cache != VOLUME_CACHE_AUTO)
		return;
	err = watch_start(s, &s->watch);
	if (!err)
		err = watch_dir(s->watch, s->t.root);
	if (err)
		log_warn("volume: host changes will not reach the guest until timeouts: %s",
			 strerror(-err));
}

/* Wait for a queue to end or for stop_fd; Return: true when stopped. */
static bool session_wait(struct vol_session *s, int stop_fd)
{
	struct pollfd p[2] = {
		{ .fd = s->done_efd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};

	while (poll(p, stop_fd >= 0 ? 2 : 1, -1) < 0 && errno == EINTR)
		;
	return stop_fd >= 0 && p[1].revents;
}

/**
 * session_run() - serve one guest mount until it goes away
 * @ch:      the channel, a session accepted
 * @o:       the volume
 * @nq:      its queues
 * @stop_fd: readable when the server must stop (-1: none)
 *
 * Return: 0 when the mount ended, -ECANCELED when stopped, -errno on setup
 * failure.
 */
static int session_run(struct volume_channel *ch, const struct volume_opts *o,
		       unsigned int nq, int stop_fd)
{
	struct vol_session *s = calloc(1, sizeof(*s));
	bool stopped = false;
	int err;

	if (!s)
		return -ENOMEM;
	*s = (struct vol_session){ .o = o, .ch = ch, .nq = nq, .proc_fd = -1, .done_efd = -1,
				   .timeout = o->cache == VOLUME_CACHE_NEVER ? 0 : LONG_TIMEOUT };
	err = session_init(s);
	if (!err)
		session_watch(s);
	for (unsigned int i = 0; !err && i < nq; i++) {
		s->q[i] = (struct vol_queue){ .s = s, .idx = i };
		err = -pthread_create(&s->q[i].thread, NULL, queue_thread, &s->q[i]);
		s->q[i].live = !err;
	}
	if (!err)
		stopped = session_wait(s, stop_fd);
	ch->ops->end_session(ch);
	if (s->se)
		fuse_session_exit(s->se);
	for (unsigned int i = 0; i < nq; i++)
		if (s->q[i].live)
			pthread_join(s->q[i].thread, NULL);
	session_free(s);
	return err ? err : stopped ? -ECANCELED : 0;
}

int volume_parse_cache(const char *s, enum volume_cache *out)
{
	if (!strcmp(s, "auto"))
		*out = VOLUME_CACHE_AUTO;
	else if (!strcmp(s, "always"))
		*out = VOLUME_CACHE_ALWAYS;
	else if (!strcmp(s, "never"))
		*out = VOLUME_CACHE_NEVER;
	else
		return -EINVAL;
	return 0;
}

const char *volume_cache_name(enum volume_cache c)
{
	return c == VOLUME_CACHE_ALWAYS ? "always" : c == VOLUME_CACHE_NEVER ? "never" : "auto";
}

/**
 * volume_serve() - serve a directory to every mount that arrives on a channel
 * @ch:      the channel (userspace or module)
 * @o:       the volume
 * @stop_fd: the server returns when this fd becomes readable (-1: never)
 *
 * Mounts are served one after another (a guest remount is a new session).
 * A session that fails is logged and the next mount is awaited.
 *
 * Return: 0 when stopped (or after one mount with @o->once), -errno when
 * the channel fails.
 */
int volume_serve(struct volume_channel *ch, const struct volume_opts *o, int stop_fd)
{
	for (;;) {
		int nq = ch->ops->accept_session(ch, stop_fd), err;

		if (nq == -ECANCELED)
			return 0;
		if (nq < 0)
			return nq;
		if ((o->max_queues && (unsigned int)nq > o->max_queues) ||
		    nq > (int)(sizeof(((struct vol_session *)0)->q) / sizeof(struct vol_queue))) {
			log_warn("volume: refusing a mount with %d queues", nq);
			ch->ops->end_session(ch);
			continue;
		}
		log_info("volume: %s: guest mounted (%d queue%s, cache=%s%s, %s channel)",
			 o->dir, nq, nq == 1 ? "" : "s", volume_cache_name(o->cache),
			 o->ro ? ", ro" : "", ch->ops->name);
		err = session_run(ch, o, (unsigned int)nq, stop_fd);
		if (err == -ECANCELED)
			return 0;
		if (err)
			log_warn("volume: %s: session failed: %s", o->dir, strerror(-err));
		else
			log_info("volume: %s: guest unmounted", o->dir);
		if (o->once)
			return 0;
	}
}
