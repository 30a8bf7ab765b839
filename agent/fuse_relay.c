// SPDX-License-Identifier: GPL-2.0
/*
 * agent/fuse_relay.c - `fc-agent volume-relay`: the guest half of a volume.
 *
 * Mounts /dev/fuse at the guest path, clones one /dev/fuse fd per queue
 * (FUSE_DEV_IOC_CLONE) and pairs each with its own stream connection to the
 * host server. Per queue, one thread copies requests /dev/fuse -> socket
 * (one read() of /dev/fuse is one whole request) and one copies replies and
 * notifications socket -> /dev/fuse (split on fuse_out_header.len, one
 * write() per message). Both directions validate every length. The relay
 * ends when the mount goes away, the host closes a connection, or on
 * SIGINT/SIGTERM (which lazily unmounts first).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <linux/fuse.h>

#include "fcvm/volume.h"
#include "fuse_relay.h"

#define RELAY_RX_SLACK	(64u * 1024u)	/* socket read-ahead beyond one message */

struct relay;

struct relay_queue {
	struct relay *r;
	unsigned int idx;
	int dev;
	int sock;
	pthread_t up;		/* /dev/fuse -> socket */
	pthread_t down;		/* socket -> /dev/fuse */
	int pipe[2];		/* big replies: socket -> pipe -> /dev/fuse */
	size_t pipe_cap;	/* replies up to half of its size go through it */
	bool no_splice;
	bool up_live, down_live;
	atomic_bool up_done;
};

/* A notification waiting for the notify thread. */
struct relay_note {
	struct relay_note *next;
	uint32_t len;
	char msg[];
};

struct relay {
	const struct fuse_relay_opts *o;
	/*
	 * Notifications (unique 0) are written to /dev/fuse by their own
	 * thread: an INVAL_INODE can wait on a page lock held by a READ whose
	 * reply sits behind it on the same connection.
	 */
	pthread_t notifier;
	bool notifier_live;
	pthread_mutex_t note_lock;
	pthread_cond_t note_cond;
	struct relay_note *note_head, **note_tail;
	unsigned int note_count;
	struct relay_queue q[FCVM_VOLUME_MAX_QUEUES];
	unsigned int nq;
	int done_efd;		/* a thread ended */
	atomic_bool stop;
	atomic_int host_lost;
};

static void relay_note_end(struct relay *r)
{
	uint64_t one = 1;

	if (write(r->done_efd, &one, sizeof(one)) < 0)
		perror("fc-agent: volume-relay: eventfd");
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Requests: one read of /dev/fuse is one whole request; forward it as is. */
static void *relay_up(void *arg)
{
	struct relay_queue *q = arg;
	struct relay *r = q->r;
	char *buf = malloc(FCVM_VOLUME_MSG_MAX);

	while (buf && !atomic_load(&r->stop)) {
		const struct fuse_in_header *in = (const void *)buf;
		ssize_t n = read(q->dev, buf, FCVM_VOLUME_MSG_MAX);

		if (n < 0 && (errno == EINTR || errno == ENOENT || errno == EAGAIN))
			continue;
		if (n < 0) {
			if (errno != ENODEV)
				fprintf(stderr, "fc-agent: volume-relay: q%u: read /dev/fuse: %s\n",
					q->idx, strerror(errno));
			break;
		}
		if ((size_t)n < sizeof(*in) || in->len != (uint32_t)n) {
			fprintf(stderr, "fc-agent: volume-relay: q%u: bad request length %zd/%u\n",
				q->idx, n, (size_t)n >= sizeof(*in) ? in->len : 0);
			break;
		}
		if (write_all(q->sock, buf, (size_t)n)) {
			atomic_store(&r->host_lost, 1);
			break;
		}
	}
	free(buf);
	atomic_store(&q->up_done, true);
	relay_note_end(r);
	return NULL;
}

#define RELAY_NOTE_MAX	1024u	/* queued notifications; more are dropped */

static void *relay_notifier(void *arg)
{
	struct relay *r = arg;

	pthread_mutex_lock(&r->note_lock);
	for (;;) {
		struct relay_note *n;

		while (!r->note_head && !atomic_load(&r->stop))
			pthread_cond_wait(&r->note_cond, &r->note_lock);
		n = r->note_head;
		if (!n)
			break;
		r->note_head = n->next;
		if (!r->note_head)
			r->note_tail = &r->note_head;
		r->note_count--;
		pthread_mutex_unlock(&r->note_lock);
		if (write(r->q[0].dev, n->msg, n->len) < 0 && errno != ENOENT)
			fprintf(stderr, "fc-agent: volume-relay: notification: %s\n",
				strerror(errno));
		free(n);
		pthread_mutex_lock(&r->note_lock);
	}
	pthread_mutex_unlock(&r->note_lock);
	return NULL;
}

static void relay_queue_note(struct relay *r, const char *msg, uint32_t len)
{
	struct relay_note *n = malloc(sizeof(*n) + len);

	if (!n)
		return;
	n->next = NULL;
	n->len = len;
	memcpy(n->msg, msg, len);
	pthread_mutex_lock(&r->note_lock);
	if (r->note_count >= RELAY_NOTE_MAX) {
		pthread_mutex_unlock(&r->note_lock);
		free(n);
		return;
	}
	*r->note_tail = n;
	r->note_tail = &n->next;
	r->note_count++;
	pthread_cond_signal(&r->note_cond);
	pthread_mutex_unlock(&r->note_lock);
}

static void relay_free_notes(struct relay *r)
{
	while (r->note_head) {
		struct relay_note *n = r->note_head;

		r->note_head = n->next;
		free(n);
	}
}

/*
 * deliver() - write every whole message in buf[0..have) to /dev/fuse
 * Return: bytes consumed, or -EPROTO for a length the host must not send.
 */
static ssize_t deliver(struct relay_queue *q, const char *buf, size_t have)
{
	size_t off = 0;

	while (have - off >= sizeof(struct fuse_out_header)) {
		struct fuse_out_header out;	/* messages are not 8-byte aligned */

		memcpy(&out, buf + off, sizeof(out));
		if (out.len < sizeof(out) || out.len > FCVM_VOLUME_MSG_MAX)
			return -EPROTO;
		if (have - off < out.len)
			break;
		if (!out.unique) {
			relay_queue_note(q->r, buf + off, out.len);
		} else if (write(q->dev, buf + off, out.len) < 0 && errno != ENOENT) {
			/* ENOENT: the request was interrupted; EINVAL: kernel refused it. */
			if (errno == ENODEV)
				return -ENODEV;
			fprintf(stderr, "fc-agent: volume-relay: q%u: reply unique %llu: %s\n",
				q->idx, (unsigned long long)out.unique, strerror(errno));
		}
		off += out.len;
	}
	return (ssize_t)off;
}

#define RELAY_SPLICE_MIN	(64u * 1024u)	/* smaller replies are copied */

static void close_pipe(struct relay_queue *q)
{
	if (q->pipe[0] >= 0) {
		close(q->pipe[0]);
		close(q->pipe[1]);
	}
	q->pipe[0] = q->pipe[1] = -1;
}

/* A pipe for big replies, or false (then replies are copied). */
static bool pipe_ready(struct relay_queue *q)
{
	if (q->no_splice)
		return false;
	if (q->pipe[0] >= 0)
		return true;
	if (pipe2(q->pipe, O_CLOEXEC))
		goto no_splice;
	/*
	 * A whole max-size reply needs more than pipe-max-size (1 MiB), i.e.
	 * CAP_SYS_RESOURCE, which the agent has in a guest. With 1 MiB, a reply
	 * that does not fit falls back to copying (splice_reply()).
	 */
	if (fcntl(q->pipe[1], F_SETPIPE_SZ, 2 * FCVM_VOLUME_MSG_MAX) < 0 &&
	    fcntl(q->pipe[1], F_SETPIPE_SZ, FCVM_VOLUME_MAX_WRITE) < 0)
		goto no_splice;
	q->pipe_cap = (size_t)fcntl(q->pipe[1], F_GETPIPE_SZ);
	return true;

no_splice:
	close_pipe(q);
	q->no_splice = true;
	return false;
}

static int read_all(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The pipe filled up before the whole reply was in it: take back what it
 * holds, read the rest from the socket, write the reply from @buf.
 */
static int copy_rest(struct relay_queue *q, char *buf, size_t got, uint32_t len)
{
	if (read_all(q->pipe[0], buf, got) || read_all(q->sock, buf + got, len - got)) {
		close_pipe(q);
		return -EPIPE;
	}
	if (write(q->dev, buf, len) < 0 && errno != ENOENT)
		return errno == ENODEV ? -ENODEV : 0;
	return 0;
}

/* Wait for the socket; Return: 1 when the pipe is full instead, or -EPIPE. */
static int wait_splice(struct relay_queue *q)
{
	struct pollfd pw = { .fd = q->pipe[1], .events = POLLOUT };
	struct pollfd ps = { .fd = q->sock, .events = POLLIN };

	if (poll(&pw, 1, 0) == 0)
		return 1;
	while (poll(&ps, 1, -1) < 0)
		if (errno != EINTR)
			return -EPIPE;
	return 0;
}

/*
 * splice_reply() - move a big reply whose first @have bytes are in @buf
 * (room for FCVM_VOLUME_MSG_MAX) through the pipe into /dev/fuse, so its
 * data is not copied through the relay.
 * Return: 0, -EPIPE when the host went away, -ENODEV when the mount did.
 */
static int splice_reply(struct relay_queue *q, char *buf, size_t have, uint32_t len)
{
	size_t got = have;
	ssize_t n;

	if (write(q->pipe[1], buf, have) != (ssize_t)have) {
		close_pipe(q);
		return -EPIPE;
	}
	while (got < len) {
		int w;

		n = splice(q->sock, NULL, q->pipe[1], NULL, len - got,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN) {
			close_pipe(q);
			return -EPIPE;
		}
		w = wait_splice(q);
		if (w == 1)
			return copy_rest(q, buf, got, len);
		if (w < 0) {
			close_pipe(q);
			return w;
		}
	}
	do {
		n = splice(q->pipe[0], NULL, q->dev, NULL, len, SPLICE_F_MOVE);
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)len || (n < 0 && errno == ENOENT))
		return 0;
	if (n < 0 && errno == ENODEV)
		return -ENODEV;
	fprintf(stderr, "fc-agent: volume-relay: q%u: spliced reply: %s\n", q->idx,
		n < 0 ? strerror(errno) : "short");
	close_pipe(q);		/* it may hold the rest of the message */
	return 0;
}

/* Replies and notifications: split the stream on fuse_out_header.len. */
static void *relay_down(void *arg)
{
	struct relay_queue *q = arg;
	struct relay *r = q->r;
	size_t cap = FCVM_VOLUME_MSG_MAX + RELAY_RX_SLACK, have = 0;
	char *buf = malloc(cap);

	while (buf) {
		/*
		 * Read in bites of RELAY_SPLICE_MIN while splicing works: a big
		 * reply's header arrives with only a little of its data, the
		 * rest goes socket -> pipe -> /dev/fuse uncopied.
		 */
		size_t want = cap - have;
		ssize_t n, used;

		if (!q->no_splice && want > RELAY_SPLICE_MIN)
			want = RELAY_SPLICE_MIN;
		n = read(q->sock, buf + have, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!atomic_load(&r->stop))
				atomic_store(&r->host_lost, 1);
			break;
		}
		have += (size_t)n;
		used = deliver(q, buf, have);
		if (used < 0) {
			if (used == -EPROTO) {
				fprintf(stderr, "fc-agent: volume-relay: q%u: bad reply length\n",
					q->idx);
				atomic_store(&r->host_lost, 1);
			}
			break;
		}
		have -= (size_t)used;
		if (have && used)
			memmove(buf, buf + used, have);
		if (have >= sizeof(struct fuse_out_header)) {
			struct fuse_out_header h;
			int err;

			memcpy(&h, buf, sizeof(h));	/* deliver() checked h.len */
			if (!h.unique || h.len < RELAY_SPLICE_MIN || !pipe_ready(q) ||
			    h.len > q->pipe_cap / 2)
				continue;
			err = splice_reply(q, buf, have, h.len);
			if (err) {
				if (err == -EPIPE && !atomic_load(&r->stop))
					atomic_store(&r->host_lost, 1);
				break;
			}
			have = 0;
		}
	}
	close_pipe(q);
	free(buf);
	relay_note_end(r);
	return NULL;
}

static int relay_mount(const struct fuse_relay_opts *o, int *devp)
{
	char opts[256];
	unsigned long flags = MS_NOSUID | MS_NODEV | (o->ro ? MS_RDONLY : 0);
	int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (dev < 0)
		return -errno;
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=%u,group_id=%u,allow_other,"
		 "default_permissions,max_read=%u", dev, o->uid, o->gid, o->max_read);
	if (mount("fcvm", o->mount, "fuse.fcvm", flags, opts) < 0) {
		int err = -errno;

		close(dev);
		return err;
	}
	*devp = dev;
	return 0;
}

/*
 * Let readahead keep four max_read-sized READs in flight (spread over the
 * queues): FUSE's bdi starts at the VM default (128 KiB), and sequential
 * reads cost one round trip per request.
 */
static void relay_set_readahead(const struct fuse_relay_opts *o)
{
	char path[96], val[32];
	struct stat st;
	int fd, n;

	if (stat(o->mount, &st) < 0)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major(st.st_dev),
		 minor(st.st_dev));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;		/* no sysfs: keep the default */
	n = snprintf(val, sizeof(val), "%u", 4 * (o->max_read / 1024));	/* 4 in flight */
	if (write(fd, val, (size_t)n) != n)
		fprintf(stderr, "fc-agent: volume-relay: %s: %s\n", path, strerror(errno));
	close(fd);
}

static int clone_dev(int dev0)
{
	uint32_t src = (uint32_t)dev0;
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, FUSE_DEV_IOC_CLONE, &src) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int relay_connect(struct relay *r, unsigned int i, uint64_t mount_id)
{
	struct fcvm_volume_hello h = {
		.magic = FCVM_VOLUME_HELLO_MAGIC,
		.version = FCVM_VOLUME_VERSION,
		.queue = (uint16_t)i,
		.nqueues = (uint16_t)r->nq,
		.mount_id = mount_id,
	};
	int fd = transport_connect(&r->o->addr, 5000), err;

	if (fd < 0)
		return fd;
	err = write_all(fd, &h, sizeof(h));
	if (err) {
		close(fd);
		return err;
	}
	r->q[i].sock = fd;
	return 0;
}

/* Mount, connect every queue (queue 0 first: it carries INIT), clone fds. */
static int relay_setup(struct relay *r)
{
	uint64_t mount_id;
	int err;

	if (getrandom(&mount_id, sizeof(mount_id), 0) != sizeof(mount_id))
		return -EIO;
	for (unsigned int i = 0; i < r->nq; i++) {
		r->q[i] = (struct relay_queue){ .r = r, .idx = i, .dev = -1, .sock = -1,
						.pipe = { -1, -1 } };
		err = relay_connect(r, i, mount_id);
		if (err) {
			fprintf(stderr, "fc-agent: volume-relay: connect queue %u: %s\n",
				i, strerror(-err));
			return err;
		}
	}
	err = relay_mount(r->o, &r->q[0].dev);
	if (err) {
		fprintf(stderr, "fc-agent: volume-relay: mount %s: %s\n", r->o->mount,
			strerror(-err));
		return err;
	}
	for (unsigned int i = 1; i < r->nq; i++) {
		r->q[i].dev = clone_dev(r->q[0].dev);
		if (r->q[i].dev < 0) {
			fprintf(stderr, "fc-agent: volume-relay: FUSE_DEV_IOC_CLONE: %s\n",
				strerror(-r->q[i].dev));
			return r->q[i].dev;
		}
	}
	return 0;
}

static void on_wake(int sig)
{
	(void)sig;
}

/* Wake every up thread out of read(/dev/fuse) until it has ended. */
static void relay_join(struct relay *r)
{
	for (unsigned int i = 0; i < r->nq; i++) {
		struct relay_queue *q = &r->q[i];

		if (q->sock >= 0)
			shutdown(q->sock, SHUT_RDWR);
		while (q->up_live && !atomic_load(&q->up_done)) {
			struct timespec ts;

			pthread_kill(q->up, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (!pthread_timedjoin_np(q->up, NULL, &ts))
				q->up_live = false;
		}
		if (q->up_live)
			pthread_join(q->up, NULL);
		if (q->down_live)
			pthread_join(q->down, NULL);
		q->up_live = q->down_live = false;
	}
	if (r->notifier_live) {
		pthread_mutex_lock(&r->note_lock);
		pthread_cond_signal(&r->note_cond);
		pthread_mutex_unlock(&r->note_lock);
		pthread_join(r->notifier, NULL);
		r->notifier_live = false;
	}
	relay_free_notes(r);
}

static void relay_close(struct relay *r)
{
	for (unsigned int i = 0; i < r->nq; i++) {
		if (r->q[i].dev >= 0)
			close(r->q[i].dev);
		if (r->q[i].sock >= 0)
			close(r->q[i].sock);
	}
}

static int relay_start(struct relay *r)
{
	int perr = pthread_create(&r->notifier, NULL, relay_notifier, r);

	if (perr)
		return -perr;
	r->notifier_live = true;
	for (unsigned int i = 0; i < r->nq; i++) {
		struct relay_queue *q = &r->q[i];
		int err = pthread_create(&q->up, NULL, relay_up, q);

		if (err)
			return -err;
		q->up_live = true;
		err = pthread_create(&q->down, NULL, relay_down, q);
		if (err)
			return -err;
		q->down_live = true;
	}
	return 0;
}

/* Wait for a signal or for any thread to end. */
static void relay_wait(struct relay *r, int sfd)
{
	struct pollfd p[2] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = r->done_efd, .events = POLLIN },
	};

	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
}

/**
 * fuse_relay_run() - mount a volume and relay it until it goes away
 * @o: the volume
 *
 * Blocks SIGINT/SIGTERM in the calling thread and handles them: a signal
 * lazily unmounts the volume and ends the relay.
 *
 * Return: 0 after an unmount or signal, 1 if the host side went away, 2 on
 * setup failure (reported on stderr).
 */
int fuse_relay_run(const struct fuse_relay_opts *o)
{
	struct sigaction sa = { .sa_handler = on_wake };
	struct relay *r = calloc(1, sizeof(*r));
	sigset_t set;
	int sfd = -1, rc = 2;

	if (!r)
		return 2;
	r->o = o;
	r->nq = o->queues;
	pthread_mutex_init(&r->note_lock, NULL);
	pthread_cond_init(&r->note_cond, NULL);
	r->note_tail = &r->note_head;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: interrupts read() */
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	r->done_efd = eventfd(0, EFD_CLOEXEC);
	if (sfd < 0 || r->done_efd < 0)
		goto out_close_fds;
	for (unsigned int i = 0; i < FCVM_VOLUME_MAX_QUEUES; i++)
		r->q[i].dev = r->q[i].sock = -1;
	if (relay_setup(r) == 0 && relay_start(r) == 0) {
		struct stat st;

		/*
		 * Fetch the root's real attributes now: until then the kernel
		 * holds rootmode (no permission bits), and a later GETATTR whose
		 * reply is discarded by a racing invalidation would leave them.
		 */
		if (stat(o->mount, &st) < 0)
			fprintf(stderr, "fc-agent: volume-relay: stat %s: %s\n", o->mount,
				strerror(errno));
		relay_set_readahead(o);
		relay_wait(r, sfd);
		rc = 0;
	}
	atomic_store(&r->stop, true);
	if (r->q[0].dev >= 0)
		umount2(o->mount, MNT_DETACH);	/* EINVAL when already gone */
	relay_join(r);
	if (rc == 0 && atomic_load(&r->host_lost))
		rc = 1;
	relay_close(r);
out_close_fds:
	if (sfd >= 0)
		close(sfd);
	if (r->done_efd > 0)
		close(r->done_efd);
	free(r);
	return rc;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void relay_usage(FILE *f)
{
	fprintf(f, "usage: fc-agent volume-relay --mount DIR --addr ADDR [--queues N] [--ro]\n"
		   "                               [--max-read BYTES] [--uid N] [--gid N]\n"
		   "  ADDR: vsock:CID:PORT (guest: vsock:2:5000+N), unix:PATH, hvsock:PATH:PORT\n"
		   "  --queues defaults to the number of online CPUs (max %u)\n",
		FCVM_VOLUME_MAX_QUEUES);
}

static int relay_parse(int argc, char **argv, struct fuse_relay_opts *o)
{
	static const struct option lopts[] = {
		{ "mount", required_argument, NULL, 'm' },
		{ "addr", required_argument, NULL, 'a' },
		{ "queues", required_argument, NULL, 'q' },
		{ "ro", no_argument, NULL, 'r' },
		{ "max-read", required_argument, NULL, 'x' },
		{ "uid", required_argument, NULL, 'u' },
		{ "gid", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long v;
	bool have_addr = false;
	int c;

	*o = (struct fuse_relay_opts){ .max_read = FCVM_VOLUME_MAX_WRITE };
	o->queues = ncpu < 1 ? 1 : ncpu > (long)FCVM_VOLUME_MAX_QUEUES ?
		    FCVM_VOLUME_MAX_QUEUES : (unsigned int)ncpu;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->mount = optarg;
			break;
		case 'a':
			if (transport_parse(optarg, &o->addr))
				return -EINVAL;
			have_addr = true;
			break;
		case 'q':
			if (parse_uint(optarg, FCVM_VOLUME_MAX_QUEUES, &v) || !v)
				return -EINVAL;
			o->queues = (unsigned int)v;
			break;
		case 'r':
			o->ro = true;
			break;
		case 'x':
			if (parse_uint(optarg, FCVM_VOLUME_MAX_WRITE, &v) || v < 4096)
				return -EINVAL;
			o->max_read = (uint32_t)v;
			break;
		case 'u':
		case 'g':
			if (parse_uint(optarg, UINT32_MAX - 1, &v))
				return -EINVAL;
			*(c == 'u' ? &o->uid : &o->gid) = (uint32_t)v;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || !o->mount || !have_addr)
		return -EINVAL;
	return 0;
}

/* `fc-agent volume-relay ...` */
int fuse_relay_main(int argc, char **argv)
{
	struct fuse_relay_opts o;
	int err = relay_parse(argc, argv, &o);

	if (err == 1) {
		relay_usage(stdout);
		return 0;
	}
	if (err) {
		relay_usage(stderr);
		return 2;
	}
	return fuse_relay_run(&o);
}
