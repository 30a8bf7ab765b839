// SPDX-License-Identifier: GPL-2.0
/*
 * fcvm_chan_test.c - the FUSE channel of fcvm_accel.ko: ATTACH edge cases,
 * framing, reply routing, the in-kernel READ/WRITE fast path against a real
 * file and its fairness between queues, malformed frames, SHUTDOWN/close/
 * unload under load and a leak check over 10 000 attach/detach cycles.
 *
 * Each "guest" is the far end of an AF_UNIX socketpair whose near end is
 * attached to the channel; the test plays both the guest (writes requests,
 * reads replies) and the server (read()/write() on /dev/fcvm_accel). Runs as
 * root in the QEMU vehicle (selftests/vm) or any kernel CI; the module is
 * loaded if it is not ($FCVM_ACCEL_KO or fcvm_accel.ko next to this program).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* pipe2; the kernel tree's lib.mk does not define it */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fcvm_accel.h>
#include <linux/fuse.h>

#include "kselftest_harness.h"

#define MOD_NAME	"fcvm_accel"
#define HDR_IN		((uint32_t)sizeof(struct fuse_in_header))
#define HDR_OUT		((uint32_t)sizeof(struct fuse_out_header))
#define BIGBUF		(FCVM_ACCEL_MAX_FRAME + 4096)
#define FILE_SIZE	(3 * 65536 + 1234)

static const char *module_path(void)
{
	static char path[PATH_MAX];
	char *slash;
	ssize_t n;

	if (getenv("FCVM_ACCEL_KO"))
		return getenv("FCVM_ACCEL_KO");
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	snprintf(slash + 1, sizeof(path) - (slash + 1 - path), MOD_NAME ".ko");
	return access(path, R_OK) ? NULL : path;
}

static int load_module(void)
{
	const char *ko;
	int fd, ret;

	if (access(FCVM_ACCEL_DEVICE, F_OK) == 0)
		return 0;
	ko = module_path();
	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret == -EEXIST ? 0 : ret;
}

static int unload_module(void)
{
	return syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK) ? -errno : 0;
}

static int chan_open(void)
{
	return open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
}

/* ATTACH @fd; the queue index or -errno. */
static int attach(int ch, int fd)
{
	struct fcvm_accel_attach a = { .size = sizeof(a), .fd = fd };

	if (ioctl(ch, FCVM_ACCEL_IOC_ATTACH, &a))
		return -errno;
	return a.queue;
}

/* A socketpair: [0] attached to @ch, [1] the guest's end. */
static int guest_pair(int ch, int sv[2])
{
	int q;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	q = attach(ch, sv[0]);
	if (q < 0) {
		close(sv[0]);
		close(sv[1]);
	}
	return q;
}

static int64_t backing_open(int ch, int fd, uint32_t flags, uint64_t id)
{
	struct fcvm_accel_backing b = {
		.size = sizeof(b), .flags = flags, .fd = fd, .id = id,
	};

	if (ioctl(ch, FCVM_ACCEL_IOC_BACKING_OPEN, &b))
		return -errno;
	return (int64_t)b.id;
}

static int backing_close(int ch, uint64_t id)
{
	struct fcvm_accel_backing b = { .size = sizeof(b), .id = id };

	return ioctl(ch, FCVM_ACCEL_IOC_BACKING_CLOSE, &b) ? -errno : 0;
}

static int get_stats(int ch, struct fcvm_accel_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	return ioctl(ch, FCVM_ACCEL_IOC_GET_STATS, s) ? -errno : 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Build a request: header + @arg (@alen bytes) + @data (@dlen bytes). */
static size_t mkreq(void *buf, uint32_t opcode, uint64_t unique,
		    const void *arg, size_t alen, const void *data, size_t dlen)
{
	struct fuse_in_header h = {
		.len = HDR_IN + alen + dlen, .opcode = opcode, .unique = unique,
		.nodeid = 1,
	};

	memcpy(buf, &h, sizeof(h));
	if (alen)
		memcpy((char *)buf + HDR_IN, arg, alen);
	if (dlen)
		memcpy((char *)buf + HDR_IN + alen, data, dlen);
	return h.len;
}

static int send_getattr(int guest, uint64_t unique)
{
	struct fuse_getattr_in ga = { 0 };
	char buf[128];
	size_t len = mkreq(buf, FUSE_GETATTR, unique, &ga, sizeof(ga), NULL, 0);

	return write_all(guest, buf, len);
}

static int send_read(int guest, uint64_t unique, uint64_t fh, uint64_t off,
		     uint32_t size)
{
	struct fuse_read_in r = { .fh = fh, .offset = off, .size = size };
	char buf[128];
	size_t len = mkreq(buf, FUSE_READ, unique, &r, sizeof(r), NULL, 0);

	return write_all(guest, buf, len);
}

/* Reply to @unique with @err and @plen payload bytes of @payload. */
static ssize_t reply(int ch, uint64_t unique, int err, void *payload,
		     size_t plen)
{
	struct fuse_out_header oh = {
		.len = HDR_OUT + plen, .error = err, .unique = unique,
	};
	struct iovec iov[2] = {
		{ .iov_base = &oh, .iov_len = sizeof(oh) },
		{ .iov_base = payload, .iov_len = plen },
	};

	return writev(ch, iov, plen ? 2 : 1);
}

/* Read one reply from the guest's end: header into @oh, payload into @buf. */
static int guest_reply(int guest, struct fuse_out_header *oh, void *buf,
		       size_t size)
{
	if (read_all(guest, oh, sizeof(*oh)))
		return -1;
	if (oh->len < HDR_OUT || oh->len - HDR_OUT > size)
		return -1;
	return read_all(guest, buf, oh->len - HDR_OUT);
}

/* The guest end saw its connection closed (EOF, nothing else). */
static int guest_sees_eof(int guest)
{
	struct pollfd p = { .fd = guest, .events = POLLIN };
	char c;

	if (poll(&p, 1, 5000) != 1)
		return 0;
	return read(guest, &c, 1) == 0;
}

FIXTURE(chan) {
	int ch;
	char *buf;
};

FIXTURE_SETUP(chan)
{
	struct fcvm_accel_version v;
	int err;

	self->ch = -1;
	self->buf = NULL;
	if (getuid() != 0)
		SKIP(return, "loading modules needs root");
	err = load_module();
	if (err == -ENOENT)
		SKIP(return, "%s.ko not found (set FCVM_ACCEL_KO)", MOD_NAME);
	ASSERT_EQ(0, err);
	self->ch = chan_open();
	ASSERT_LE(0, self->ch);
	ASSERT_EQ(0, ioctl(self->ch, FCVM_ACCEL_IOC_VERSION, &v));
	ASSERT_TRUE(v.features & FCVM_ACCEL_FEAT_FUSE_CHANNEL);
	ASSERT_LE(1, v.minor);
	self->buf = malloc(BIGBUF);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(chan)
{
	if (self->ch >= 0)
		close(self->ch);
	free(self->buf);
}

TEST_F(chan, attach_rejects_what_is_not_a_connected_stream)
{
	int p[2], sv[2], lfd, sfd, filefd;

	EXPECT_EQ(-EBADF, attach(self->ch, -1));
	EXPECT_EQ(-EBADF, attach(self->ch, 9999));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-ENOTSOCK, attach(self->ch, p[0]));
	filefd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, filefd);
	EXPECT_EQ(-ENOTSOCK, attach(self->ch, filefd));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
	EXPECT_EQ(-EPROTOTYPE, attach(self->ch, sv[0]));
	close(sv[0]);
	close(sv[1]);
	sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, sfd);
	EXPECT_EQ(-ENOTCONN, attach(self->ch, sfd));
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, lfd);
	EXPECT_EQ(-ENOTCONN, attach(self->ch, lfd));
	ASSERT_EQ(0, listen(lfd, 1));
	EXPECT_EQ(-ENOTCONN, attach(self->ch, lfd));
	close(lfd);
	close(sfd);
	close(filefd);
	close(p[0]);
	close(p[1]);
}

TEST_F(chan, attach_struct_is_checked)
{
	struct { struct fcvm_accel_attach a; uint32_t extra; } big;
	struct fcvm_accel_attach a;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	a = (struct fcvm_accel_attach){ .size = 8, .fd = sv[0] };
	EXPECT_EQ(-1, ioctl(self->ch, FCVM_ACCEL_IOC_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	a = (struct fcvm_accel_attach){ .size = sizeof(a), .flags = 1, .fd = sv[0] };
	EXPECT_EQ(-1, ioctl(self->ch, FCVM_ACCEL_IOC_ATTACH, &a));
	EXPECT_EQ(EINVAL, errno);
	memset(&big, 0, sizeof(big));
	big.a.size = sizeof(big);
	big.a.fd = sv[0];
	big.extra = 1;	/* an extension this module does not know */
	EXPECT_EQ(-1, ioctl(self->ch, FCVM_ACCEL_IOC_ATTACH, &big));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->ch, FCVM_ACCEL_IOC_ATTACH, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	big.extra = 0;	/* a zero extension is fine */
	EXPECT_EQ(0, ioctl(self->ch, FCVM_ACCEL_IOC_ATTACH, &big));
	EXPECT_EQ(0, big.a.queue);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(chan, double_attach_is_ebusy)
{
	int sv[2], other;

	ASSERT_EQ(0, guest_pair(self->ch, sv));
	EXPECT_EQ(-EBUSY, attach(self->ch, sv[0]));
	other = chan_open();
	ASSERT_LE(0, other);
	EXPECT_EQ(-EBUSY, attach(other, sv[0]));
	close(other);
	/* the socket still works on its channel */
	ASSERT_EQ(0, send_getattr(sv[1], 2));
	EXPECT_EQ(HDR_IN + sizeof(struct fuse_getattr_in),
		  read(self->ch, self->buf, BIGBUF));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(chan, max_queues_is_enforced)
{
	int sv[65][2], n, i;

	for (n = 0; n < 65; n++) {
		int q = guest_pair(self->ch, sv[n]);

		if (q < 0) {
			EXPECT_EQ(-ENOSPC, q);
			break;
		}
		EXPECT_EQ(n, q);
	}
	EXPECT_EQ(64, n);	/* the max_queues default */
	for (i = 0; i < n; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
}

TEST_F(chan, backing_edge_cases)
{
	int dfd, ffd, p[2];
	int64_t id;

	EXPECT_EQ(-ENOENT, backing_close(self->ch, 12345));
	EXPECT_EQ(-EBADF, backing_open(self->ch, -1, 0, 0));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	EXPECT_EQ(-EINVAL, backing_open(self->ch, p[0], 0, 0));
	dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, dfd);
	EXPECT_EQ(-EINVAL, backing_open(self->ch, dfd, 0, 0));
	ffd = open("/fcvm-chan-backing", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, ffd);
	EXPECT_EQ(-EINVAL, backing_open(self->ch, ffd, 0x80, 0));
	EXPECT_EQ(-EINVAL, backing_open(self->ch, ffd, FCVM_ACCEL_BACKING_ID, 0));
	EXPECT_EQ(-EINVAL, backing_open(self->ch, ffd, FCVM_ACCEL_BACKING_ID,
					FCVM_ACCEL_BACKING_TAG | 5));
	id = backing_open(self->ch, ffd, 0, 0);
	ASSERT_LT(0, id & ~FCVM_ACCEL_BACKING_TAG);
	EXPECT_TRUE((uint64_t)id & FCVM_ACCEL_BACKING_TAG);
	EXPECT_EQ(7, backing_open(self->ch, ffd, FCVM_ACCEL_BACKING_ID, 7));
	EXPECT_EQ(-EEXIST, backing_open(self->ch, ffd, FCVM_ACCEL_BACKING_ID, 7));
	EXPECT_EQ(0, backing_close(self->ch, 7));
	EXPECT_EQ(-ENOENT, backing_close(self->ch, 7));
	EXPECT_EQ(0, backing_close(self->ch, id));
	EXPECT_EQ(-ENOENT, backing_close(self->ch, id));
	close(ffd);
	close(dfd);
	close(p[0]);
	close(p[1]);
	unlink("/fcvm-chan-backing");
}

TEST_F(chan, slow_request_round_trip_and_reply_checks)
{
	struct fuse_out_header oh;
	struct fuse_attr_out ao = { .attr_valid = 1 };
	struct fcvm_accel_stats s;
	char small[16], got[256];
	int sv[2];

	ASSERT_EQ(0, guest_pair(self->ch, sv));
	ASSERT_EQ(0, send_getattr(sv[1], 42));
	/* too small a buffer: -EINVAL and the request stays */
	EXPECT_EQ(-1, read(self->ch, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(HDR_IN + sizeof(struct fuse_getattr_in),
		  read(self->ch, self->buf, BIGBUF));
	EXPECT_EQ(42, ((struct fuse_in_header *)self->buf)->unique);
	EXPECT_EQ(FUSE_GETATTR, ((struct fuse_in_header *)self->buf)->opcode);
	/* malformed replies */
	EXPECT_EQ(-1, write(self->ch, small, 8));
	EXPECT_EQ(EINVAL, errno);
	oh = (struct fuse_out_header){ .len = 99, .unique = 42 };
	EXPECT_EQ(-1, write(self->ch, &oh, sizeof(oh)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, reply(self->ch, 42, 5, NULL, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, reply(self->ch, 42, -EIO, &ao, sizeof(ao)));
	EXPECT_EQ(EINVAL, errno);
	/* unknown unique */
	EXPECT_EQ(-1, reply(self->ch, 44, 0, &ao, sizeof(ao)));
	EXPECT_EQ(ENOENT, errno);
	/* the real reply, written in two pieces (writev) */
	EXPECT_EQ(HDR_OUT + sizeof(ao), reply(self->ch, 42, 0, &ao, sizeof(ao)));
	ASSERT_EQ(0, guest_reply(sv[1], &oh, got, sizeof(got)));
	EXPECT_EQ(42, oh.unique);
	EXPECT_EQ(0, oh.error);
	EXPECT_EQ(0, memcmp(got, &ao, sizeof(ao)));
	/* a second reply to the same unique has nowhere to go */
	EXPECT_EQ(-1, reply(self->ch, 42, 0, &ao, sizeof(ao)));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, get_stats(self->ch, &s));
	EXPECT_EQ(sizeof(s), s.size);
	EXPECT_EQ(1, s.queues);
	EXPECT_EQ(1, s.to_user);
	EXPECT_EQ(1, s.replies);
	close(sv[0]);
	close(sv[1]);
}

TEST_F(chan, partial_frames_are_reassembled)
{
	struct fuse_write_in w = { .fh = 1, .size = 3000 };
	char req[4096], data[3000];
	size_t len, i;
	int sv[2], fl;

	memset(data, 'x', sizeof(data));
	ASSERT_EQ(0, guest_pair(self->ch, sv));
	len = mkreq(req, FUSE_WRITE, 8, &w, sizeof(w), data, sizeof(data));
	fl = fcntl(self->ch, F_GETFL);
	ASSERT_EQ(0, fcntl(self->ch, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-1, read(self->ch, self->buf, BIGBUF));
	EXPECT_EQ(EAGAIN, errno);
	/* dribble the frame in uneven pieces; nothing comes out until whole */
	for (i = 0; i < len; ) {
		size_t n = (i * 7 + 1) % 97 + 1;

		if (n > len - i)
			n = len - i;
		ASSERT_EQ(0, write_all(sv[1], req + i, n));
		i += n;
		if (i < len) {
			ASSERT_EQ(-1, read(self->ch, self->buf, BIGBUF));
			ASSERT_EQ(EAGAIN, errno);
		}
	}
	ASSERT_EQ(len, read(self->ch, self->buf, BIGBUF));
	EXPECT_EQ(0, memcmp(self->buf, req, len));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(chan, many_queues_out_of_order_replies)
{
	enum { NQ = 16, PER = 8 };
	int sv[NQ][2], i, j, k;
	uint64_t order[NQ * PER];
	struct fuse_out_header oh;
	int seen[NQ * PER] = { 0 };
	char got[64];

	for (i = 0; i < NQ; i++)
		ASSERT_EQ(i, guest_pair(self->ch, sv[i]));
	/* unique = 2 * (q * PER + j + 1): queue q owns its range */
	for (j = 0; j < PER; j++)
		for (i = 0; i < NQ; i++)
			ASSERT_EQ(0, send_getattr(sv[i][1], 2 * (i * PER + j + 1)));
	for (k = 0; k < NQ * PER; k++) {
		ASSERT_EQ(HDR_IN + sizeof(struct fuse_getattr_in),
			  read(self->ch, self->buf, BIGBUF));
		order[k] = ((struct fuse_in_header *)self->buf)->unique;
	}
	/* answer in a scrambled order */
	for (k = 0; k < NQ * PER; k++) {
		uint64_t u = order[(k * 37) % (NQ * PER)];

		ASSERT_EQ(HDR_OUT + 8, reply(self->ch, u, 0, &u, 8));
	}
	for (i = 0; i < NQ; i++) {
		for (j = 0; j < PER; j++) {
			uint64_t u;

			ASSERT_EQ(0, guest_reply(sv[i][1], &oh, got, sizeof(got)));
			u = oh.unique / 2 - 1;
			ASSERT_EQ(i, (int)(u / PER)) TH_LOG("queue %d got unique %llu",
						      i, (unsigned long long)oh.unique);
			memcpy(&u, got, 8);
			EXPECT_EQ(oh.unique, u);
			seen[oh.unique / 2 - 1]++;
		}
	}
	for (k = 0; k < NQ * PER; k++)
		EXPECT_EQ(1, seen[k]);
	for (i = 0; i < NQ; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
}

/* A sparse test file: data chunks with holes between, FILE_SIZE long. */
static int make_file(const char *path, int flags, unsigned int seed)
{
	char chunk[5000];
	int fd, i;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	srand(seed);
	for (i = 0; i < (int)sizeof(chunk); i++)
		chunk[i] = (char)rand();
	if (ftruncate(fd, FILE_SIZE) ||
	    pwrite(fd, chunk, sizeof(chunk), 100) != sizeof(chunk) ||
	    pwrite(fd, chunk, sizeof(chunk), 70000) != sizeof(chunk) ||
	    pwrite(fd, chunk, 1234, FILE_SIZE - 1234) != 1234) {
		close(fd);
		return -1;
	}
	close(fd);
	return open(path, flags | O_CLOEXEC);
}

TEST_F(chan, fast_read_matches_the_file)
{
	static char want[300000], payload[300000];
	struct fuse_out_header oh;
	struct fcvm_accel_stats s;
	int sv[2], fd, i, fl;
	int64_t id;

	fd = make_file("/fcvm-chan-read", O_RDONLY, 1);
	ASSERT_LE(0, fd);
	id = backing_open(self->ch, fd, 0, 0);
	ASSERT_LT(0, id & 0xffff);
	close(fd);	/* the module keeps its own reference */
	fd = open("/fcvm-chan-read", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, guest_pair(self->ch, sv));
	fl = fcntl(self->ch, F_GETFL);
	ASSERT_EQ(0, fcntl(self->ch, F_SETFL, fl | O_NONBLOCK));
	srand(7);
	for (i = 0; i < 200; i++) {
		uint64_t off = (uint64_t)rand() % (FILE_SIZE + 20000);
		uint32_t size = i % 10 == 0 ? 0 : (uint32_t)rand() % 140000;
		ssize_t exp;

		if (i == 1) {
			off = FILE_SIZE - 10;
			size = 4096;
		}
		exp = pread(fd, want, size, off);
		ASSERT_LE(0, exp);
		ASSERT_EQ(0, send_read(sv[1], 2 * i + 2, id, off, size));
		/* the reader serves it inline: nothing reaches userspace */
		ASSERT_EQ(-1, read(self->ch, self->buf, BIGBUF));
		ASSERT_EQ(EAGAIN, errno);
		ASSERT_EQ(0, guest_reply(sv[1], &oh, payload, sizeof(payload)));
		ASSERT_EQ(2 * i + 2, oh.unique);
		ASSERT_EQ(0, oh.error);
		ASSERT_EQ(exp, oh.len - HDR_OUT) TH_LOG("off %llu size %u",
							(unsigned long long)off, size);
		ASSERT_EQ(0, memcmp(want, payload, exp));
	}
	/* an fh that is not a backing id goes to userspace unchanged */
	ASSERT_EQ(0, send_read(sv[1], 1000, 12345, 0, 10));
	ASSERT_EQ(HDR_IN + sizeof(struct fuse_read_in), read(self->ch, self->buf, BIGBUF));
	/* so does a READ larger than a frame */
	ASSERT_EQ(0, send_read(sv[1], 1002, id, 0, FCVM_ACCEL_MAX_FRAME));
	ASSERT_EQ(HDR_IN + sizeof(struct fuse_read_in), read(self->ch, self->buf, BIGBUF));
	/* and one on a closed backing */
	ASSERT_EQ(0, backing_close(self->ch, id));
	ASSERT_EQ(0, send_read(sv[1], 1004, id, 0, 10));
	ASSERT_EQ(HDR_IN + sizeof(struct fuse_read_in), read(self->ch, self->buf, BIGBUF));
	EXPECT_EQ(1004, ((struct fuse_in_header *)self->buf)->unique);
	ASSERT_EQ(0, get_stats(self->ch, &s));
	EXPECT_EQ(200, s.fast_read);
	EXPECT_EQ(3, s.to_user);
	EXPECT_EQ(1, s.fast_fallback);
	EXPECT_EQ(0, s.backings);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	unlink("/fcvm-chan-read");
}

static int send_write(int guest, uint64_t unique, uint64_t fh, uint64_t off,
		      const void *data, uint32_t size, char *buf)
{
	struct fuse_write_in w = { .fh = fh, .offset = off, .size = size };
	size_t len = mkreq(buf, FUSE_WRITE, unique, &w, sizeof(w), data, size);

	return write_all(guest, buf, len);
}

TEST_F(chan, fast_write_matches_the_file)
{
	static char mirror[FILE_SIZE + 70000], data[65536], got[FILE_SIZE + 70000];
	struct fuse_write_out wo;
	struct fuse_out_header oh;
	struct fcvm_accel_stats s;
	int sv[2], fd, i, fl;
	off_t end = FILE_SIZE;
	int64_t id;

	fd = make_file("/fcvm-chan-write", O_RDWR, 2);
	ASSERT_LE(0, fd);
	ASSERT_EQ(FILE_SIZE, pread(fd, mirror, sizeof(mirror), 0));
	id = backing_open(self->ch, fd, FCVM_ACCEL_BACKING_ID, 99);
	ASSERT_EQ(99, id);
	ASSERT_EQ(0, guest_pair(self->ch, sv));
	fl = fcntl(self->ch, F_GETFL);
	ASSERT_EQ(0, fcntl(self->ch, F_SETFL, fl | O_NONBLOCK));
	srand(11);
	for (i = 0; i < 150; i++) {
		uint64_t off = (uint64_t)rand() % (FILE_SIZE + 4000);
		uint32_t size = (uint32_t)rand() % sizeof(data);
		int k;

		for (k = 0; k < (int)size; k++)
			data[k] = (char)rand();
		ASSERT_EQ(0, send_write(sv[1], 2 * i + 2, id, off, data, size, self->buf));
		ASSERT_EQ(-1, read(self->ch, self->buf, BIGBUF));
		ASSERT_EQ(EAGAIN, errno);
		ASSERT_EQ(0, guest_reply(sv[1], &oh, &wo, sizeof(wo)));
		ASSERT_EQ(0, oh.error);
		ASSERT_EQ(size, wo.size);
		memcpy(mirror + off, data, size);
		if ((off_t)(off + size) > end && size)
			end = off + size;
	}
	ASSERT_EQ(end, pread(fd, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(mirror, got, end));
	ASSERT_EQ(0, get_stats(self->ch, &s));
	EXPECT_EQ(150, s.fast_write);
	EXPECT_EQ(0, s.to_user);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	unlink("/fcvm-chan-write");
}

TEST_F(chan, read_only_backing_refuses_writes)
{
	char before[FILE_SIZE], after[FILE_SIZE], data[100];
	struct fuse_out_header oh;
	int sv[2], fd, rw, fl;
	int64_t id;

	rw = make_file("/fcvm-chan-ro", O_RDWR, 3);
	ASSERT_LE(0, rw);
	fd = open("/fcvm-chan-ro", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(FILE_SIZE, pread(rw, before, sizeof(before), 0));
	id = backing_open(self->ch, fd, 0, 0);
	ASSERT_LT(0, id & 0xffff);
	ASSERT_EQ(0, guest_pair(self->ch, sv));
	memset(data, 'w', sizeof(data));
	ASSERT_EQ(0, send_write(sv[1], 2, id, 200, data, sizeof(data), self->buf));
	/* the server's read() serves it in-kernel and finds nothing for itself */
	fl = fcntl(self->ch, F_GETFL);
	ASSERT_EQ(0, fcntl(self->ch, F_SETFL, fl | O_NONBLOCK));
	ASSERT_EQ(-1, read(self->ch, self->buf, BIGBUF));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, guest_reply(sv[1], &oh, data, sizeof(data)));
	EXPECT_EQ(-EBADF, oh.error);
	EXPECT_EQ(HDR_OUT, oh.len);
	ASSERT_EQ(FILE_SIZE, pread(rw, after, sizeof(after), 0));
	EXPECT_EQ(0, memcmp(before, after, sizeof(before)));
	close(fd);
	close(rw);
	close(sv[0]);
	close(sv[1]);
	unlink("/fcvm-chan-ro");
}

#define FAIR_READS	640	/* ten turns of the busy queue */
#define FAIR_TURN	64	/* requests a queue gets inline in a row */
#define FAIR_READ_SIZE	512
#define FAIR_UNIQUE	4000000	/* the GETATTR's; READs use 2..2 * FAIR_READS */

struct drain {
	int guest;
	int want;	/* replies to collect */
	int got;	/* replies collected */
	int bad;	/* out of order, failed or of the wrong length */
};

/* Guest side of the busy queue: collect the READ replies, uniques 2, 4, ... */
static void *drain_replies(void *arg)
{
	static char payload[FAIR_READ_SIZE];
	struct drain *d = arg;
	struct fuse_out_header oh;

	while (d->got < d->want) {
		if (guest_reply(d->guest, &oh, payload, sizeof(payload)))
			break;
		if (oh.unique != 2 * (uint64_t)d->got + 2 || oh.error ||
		    oh.len != HDR_OUT + FAIR_READ_SIZE)
			d->bad++;
		d->got++;
	}
	return NULL;
}

/*
 * One queue's guest has FAIR_READS fast-path READs queued, another's one
 * GETATTR: the first read() must return the GETATTR after at most one turn
 * (FAIR_TURN) of the busy queue, not after serving its whole stream inline.
 */
TEST_F(chan, busy_fast_queue_does_not_starve_others)
{
	static char frames[FAIR_READS * 128];
	struct fuse_read_in r = { .offset = 100, .size = FAIR_READ_SIZE };
	struct fuse_attr_out ao = { .attr_valid = 1 };
	struct fuse_out_header oh;
	struct fcvm_accel_stats s;
	int trial, fd, ch, busy, fl, i, sv[2][2];
	unsigned long long before[2];
	struct drain d;
	char got[256];
	pthread_t t;
	size_t len;

	fd = make_file("/fcvm-chan-fair", O_RDONLY, 6);
	ASSERT_LE(0, fd);
	/*
	 * Which queue read() looks at first is the module's business: flood
	 * queue 0 in one trial and queue 1 in the other, each on a fresh
	 * channel, so that one of the two starts on the busy queue.
	 */
	for (trial = 0; trial < 2; trial++) {
		busy = trial;
		ch = trial ? chan_open() : self->ch;
		ASSERT_LE(0, ch);
		ASSERT_EQ(0, guest_pair(ch, sv[0]));
		ASSERT_EQ(1, guest_pair(ch, sv[1]));
		r.fh = backing_open(ch, fd, 0, 0);
		ASSERT_LT(0, r.fh & 0xffff);
		for (len = 0, i = 0; i < FAIR_READS; i++)
			len += mkreq(frames + len, FUSE_READ, 2 * i + 2, &r, sizeof(r), NULL, 0);
		/* replies are drained as they come: the module never blocks */
		d = (struct drain){ .guest = sv[busy][1], .want = FAIR_READS };
		ASSERT_EQ(0, pthread_create(&t, NULL, drain_replies, &d));
		/* the whole stream and the GETATTR are queued before read() */
		ASSERT_EQ(0, write_all(sv[busy][1], frames, len));
		ASSERT_EQ(0, send_getattr(sv[!busy][1], FAIR_UNIQUE));
		fl = fcntl(ch, F_GETFL);
		ASSERT_EQ(0, fcntl(ch, F_SETFL, fl | O_NONBLOCK));
		ASSERT_EQ(HDR_IN + sizeof(struct fuse_getattr_in),
			  read(ch, self->buf, BIGBUF));
		EXPECT_EQ(FAIR_UNIQUE, ((struct fuse_in_header *)self->buf)->unique);
		ASSERT_EQ(0, get_stats(ch, &s));
		ASSERT_GE(FAIR_TURN, s.fast_read)
			TH_LOG("trial %d: %llu of %d READs served inline before the GETATTR",
			       trial, (unsigned long long)s.fast_read, FAIR_READS);
		before[trial] = s.fast_read;
		/* answer it; the busy queue's stream is still there, unharmed */
		ASSERT_EQ(HDR_OUT + sizeof(ao), reply(ch, FAIR_UNIQUE, 0, &ao, sizeof(ao)));
		ASSERT_EQ(0, guest_reply(sv[!busy][1], &oh, got, sizeof(got)));
		EXPECT_EQ(FAIR_UNIQUE, oh.unique);
		EXPECT_EQ(0, oh.error);
		/* one more read() serves the rest inline and finds nothing else */
		ASSERT_EQ(-1, read(ch, self->buf, BIGBUF));
		ASSERT_EQ(EAGAIN, errno);
		ASSERT_EQ(0, pthread_join(t, NULL));
		EXPECT_EQ(FAIR_READS, d.got);
		EXPECT_EQ(0, d.bad);
		ASSERT_EQ(0, get_stats(ch, &s));
		EXPECT_EQ(FAIR_READS, s.fast_read);
		EXPECT_EQ(1, s.to_user);
		EXPECT_EQ(1, s.replies);
		EXPECT_EQ(0, backing_close(ch, r.fh));
		for (i = 0; i < 2; i++) {
			close(sv[i][0]);
			close(sv[i][1]);
		}
		if (trial)
			close(ch);
	}
	TH_LOG("READs served inline before the GETATTR: %llu (queue 0 busy), %llu (queue 1 busy)",
	       before[0], before[1]);
	close(fd);
	unlink("/fcvm-chan-fair");
}

/*
 * Send @len bytes of @frame on a fresh queue: 1 when the queue answered
 * -EIO to @unique and was closed, 2 when the frame reached read() unchanged
 * (the server validates it there), 0 otherwise.
 */
static int frame_fate(int ch, const void *frame, size_t len, uint64_t unique,
		      char *buf)
{
	struct fuse_out_header oh;
	int sv[2], fl, ret = 0;
	ssize_t n;

	if (guest_pair(ch, sv) < 0)
		return -1;
	if (write_all(sv[1], frame, len))
		return -1;
	fl = fcntl(ch, F_GETFL);
	fcntl(ch, F_SETFL, fl | O_NONBLOCK);
	n = read(ch, buf, BIGBUF);
	fcntl(ch, F_SETFL, fl);
	if (n == (ssize_t)len && !memcmp(buf, frame, len))
		ret = 2;
	else if (n <= 0 && !read_all(sv[1], &oh, sizeof(oh)) && oh.error == -EIO &&
		 oh.unique == unique && oh.len == HDR_OUT && guest_sees_eof(sv[1]))
		ret = 1;
	close(sv[0]);
	close(sv[1]);
	return ret;
}

TEST(malformed_frames)
{
	struct fuse_batch_forget_in bf = { .count = 0x10000001 };
	struct fuse_write_in w = { .fh = 1, .size = 100 };
	struct fuse_getattr_in ga = { 0 };
	struct fcvm_accel_stats s;
	char *buf = malloc(BIGBUF), f[512];
	struct fuse_in_header h;
	int ch, i, bad = 0;

	ASSERT_NE(NULL, buf);
	if (getuid() != 0)
		SKIP(return, "loading modules needs root");
	ASSERT_EQ(0, load_module());
	ch = chan_open();
	ASSERT_LE(0, ch);
	/* a length below the header or above the maximum: -EIO, then closed */
	h = (struct fuse_in_header){ .len = 20, .opcode = FUSE_GETATTR, .unique = 2 };
	EXPECT_EQ(1, frame_fate(ch, &h, sizeof(h), 2, buf));
	h.len = FCVM_ACCEL_MAX_FRAME + 1;
	EXPECT_EQ(1, frame_fate(ch, &h, sizeof(h), 2, buf));
	h.len = 0xffffffff;
	EXPECT_EQ(1, frame_fate(ch, &h, sizeof(h), 2, buf));
	ASSERT_EQ(0, get_stats(ch, &s));
	EXPECT_EQ(3, s.bad_frames);
	/* cut-able but malformed: the server gets it and answers as usual */
	EXPECT_EQ(2, frame_fate(ch, f, mkreq(f, FUSE_GETATTR, 0, &ga, sizeof(ga), NULL, 0), 0, buf));
	EXPECT_EQ(2, frame_fate(ch, f, mkreq(f, FUSE_GETATTR, 4, &ga, 4, NULL, 0), 0, buf));
	EXPECT_EQ(2, frame_fate(ch, f, mkreq(f, FUSE_READ, 6, &w, 8, NULL, 0), 0, buf));
	EXPECT_EQ(2, frame_fate(ch, f, mkreq(f, FUSE_WRITE, 8, &w, sizeof(w), f, 50), 0, buf));
	EXPECT_EQ(2, frame_fate(ch, f, mkreq(f, FUSE_BATCH_FORGET, 10, &bf, sizeof(bf), f, 16), 0, buf));
	/* a unique already in flight cannot be routed: the connection goes */
	EXPECT_EQ(0, frame_fate(ch, f, mkreq(f, FUSE_GETATTR, 4, &ga, sizeof(ga), NULL, 0), 0, buf));
	ASSERT_EQ(0, get_stats(ch, &s));
	EXPECT_EQ(4, s.bad_frames);
	close(ch);
	/* every header field fuzzed: the kernel log must stay clean */
	srand(5);
	ch = -1;
	for (i = 0; i < 300; i++) {
		size_t len = 40 + rand() % 200, k;
		int sv[2], fl;

		for (k = 0; k < len; k++)
			f[k] = (char)rand();
		h = (struct fuse_in_header){
			.len = i % 3 ? (uint32_t)len : (uint32_t)rand(),
			.opcode = i % 2 ? (uint32_t)(rand() % 60) : (uint32_t)rand(),
			.unique = (uint64_t)rand() << 20 | (uint64_t)rand(),
		};
		memcpy(f, &h, sizeof(h));
		if (i % 16 == 0) {
			if (ch >= 0) {
				ASSERT_EQ(0, get_stats(ch, &s));
				bad += s.bad_frames;
				close(ch);
			}
			ch = chan_open();
			ASSERT_LE(0, ch);
			fl = fcntl(ch, F_GETFL);
			ASSERT_EQ(0, fcntl(ch, F_SETFL, fl | O_NONBLOCK));
		}
		ASSERT_LE(0, guest_pair(ch, sv));
		ASSERT_EQ(0, write_all(sv[1], f, len));
		/* whole, partial or garbage: read() never blocks nor oopses */
		while (read(ch, buf, BIGBUF) > 0)
			;
		close(sv[0]);
		close(sv[1]);
	}
	ASSERT_EQ(0, get_stats(ch, &s));
	bad += s.bad_frames;
	close(ch);
	TH_LOG("%d of 300 random frames had an impossible length", bad);
	free(buf);
}

TEST_F(chan, eof_shutdown_and_close)
{
	struct fcvm_accel_stats s;
	int sv[2], sv2[2], other;

	/* all queues gone: read() returns 0 */
	ASSERT_EQ(0, guest_pair(self->ch, sv));
	close(sv[1]);
	EXPECT_EQ(0, read(self->ch, self->buf, BIGBUF));
	ASSERT_EQ(0, get_stats(self->ch, &s));
	EXPECT_EQ(0, s.queues);
	close(sv[0]);
	/* close with a request in flight: the guest's connection closes */
	other = chan_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, guest_pair(other, sv2));
	ASSERT_EQ(0, send_getattr(sv2[1], 2));
	ASSERT_LT(0, read(other, self->buf, BIGBUF));
	close(other);
	EXPECT_EQ(1, guest_sees_eof(sv2[1]));
	close(sv2[0]);
	close(sv2[1]);
}

static void *blocked_reader(void *arg)
{
	int ch = *(int *)arg;
	static char buf[8192];

	return (void *)(intptr_t)read(ch, buf, sizeof(buf));
}

TEST_F(chan, shutdown_wakes_a_blocked_reader)
{
	struct fcvm_accel_stats s;
	pthread_t t;
	void *ret;
	int sv[2];

	ASSERT_EQ(0, guest_pair(self->ch, sv));
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_reader, &self->ch));
	/* whether or not the reader is asleep yet, it must return 0 */
	ASSERT_EQ(0, ioctl(self->ch, FCVM_ACCEL_IOC_SHUTDOWN));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0, (intptr_t)ret);
	EXPECT_EQ(1, guest_sees_eof(sv[1]));
	EXPECT_EQ(-ESHUTDOWN, attach(self->ch, sv[1]));
	ASSERT_EQ(0, get_stats(self->ch, &s));
	EXPECT_EQ(0, s.queues);
	close(sv[0]);
	close(sv[1]);
}

struct hammer {
	int guest;
	uint64_t fh;
	int replies;
};

/* Guest side: READ requests as fast as replies come, until EOF. */
static void *hammer_reads(void *arg)
{
	struct hammer *h = arg;
	static char payload[8192];
	struct fuse_out_header oh;
	uint64_t u = 2;

	for (;;) {
		if (send_read(h->guest, u, h->fh, 0, 4096))
			break;
		if (guest_reply(h->guest, &oh, payload, sizeof(payload)))
			break;
		h->replies++;
		u += 2;
	}
	return NULL;
}

static void *serve_until_eof(void *arg)
{
	int ch = *(int *)arg;
	static char buf[BIGBUF];

	while (read(ch, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

TEST(close_and_unload_under_load)
{
	struct hammer h[4];
	pthread_t gt[4], st;
	int ch, fd, sv[4][2], i;
	struct fcvm_accel_stats s;

	if (getuid() != 0)
		SKIP(return, "loading modules needs root");
	ASSERT_EQ(0, load_module());
	fd = make_file("/fcvm-chan-load", O_RDONLY, 4);
	ASSERT_LE(0, fd);
	ch = chan_open();
	ASSERT_LE(0, ch);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(i, guest_pair(ch, sv[i]));
		h[i] = (struct hammer){ .guest = sv[i][1] };
		h[i].fh = backing_open(ch, fd, 0, 0);
		ASSERT_EQ(0, pthread_create(&gt[i], NULL, hammer_reads, &h[i]));
	}
	ASSERT_EQ(0, pthread_create(&st, NULL, serve_until_eof, &ch));
	/* wait until real load flows, then pull the plug */
	do {
		ASSERT_EQ(0, get_stats(ch, &s));
	} while (s.fast_read < 200);
	ASSERT_EQ(0, ioctl(ch, FCVM_ACCEL_IOC_SHUTDOWN));
	ASSERT_EQ(0, pthread_join(st, NULL));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(gt[i], NULL));
		EXPECT_LT(0, h[i].replies);
	}
	close(ch);
	for (i = 0; i < 4; i++) {
		close(sv[i][0]);
		close(sv[i][1]);
	}
	close(fd);
	unlink("/fcvm-chan-load");
	EXPECT_EQ(0, unload_module());
	EXPECT_EQ(0, load_module());
}

static long meminfo_kb(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

static int attach_cycle(void)
{
	int ch = chan_open(), sv[2], ret;

	if (ch < 0)
		return -errno;
	ret = guest_pair(ch, sv);
	if (ret >= 0) {
		ret = send_getattr(sv[1], 2) ? -EIO : 0;
		close(sv[0]);
		close(sv[1]);
	}
	close(ch);
	return ret;
}

TEST(no_leak_over_10000_attach_detach)
{
	long slab0, slab1;
	int i;

	if (getuid() != 0)
		SKIP(return, "loading modules needs root");
	ASSERT_EQ(0, load_module());
	for (i = 0; i < 500; i++)
		ASSERT_EQ(0, attach_cycle());
	slab0 = meminfo_kb("SUnreclaim");
	ASSERT_LE(0, slab0);
	for (i = 0; i < 10000; i++)
		ASSERT_EQ(0, attach_cycle()) TH_LOG("cycle %d", i);
	slab1 = meminfo_kb("SUnreclaim");
	TH_LOG("SUnreclaim %+ld kB after 10000 cycles", slab1 - slab0);
	/* a leaked queue is > 4 KiB (its receive buffer): 10000 would be 40 MB */
	EXPECT_GT(2048, slab1 - slab0);
}

TEST_F(chan, poll_reports_requests)
{
	struct pollfd p = { .fd = self->ch, .events = POLLIN | POLLOUT };
	int sv[2];

	ASSERT_EQ(0, guest_pair(self->ch, sv));
	ASSERT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLOUT, p.revents);
	ASSERT_EQ(0, send_getattr(sv[1], 2));
	p.events = POLLIN;
	ASSERT_EQ(1, poll(&p, 1, 5000));
	EXPECT_EQ(POLLIN, p.revents);
	ASSERT_LT(0, read(self->ch, self->buf, BIGBUF));
	close(sv[0]);
	close(sv[1]);
}

TEST_HARNESS_MAIN
