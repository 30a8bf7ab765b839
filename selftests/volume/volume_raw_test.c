// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/volume/volume_raw_test.c - the host server driven directly over
 * its socket, as a hostile guest could: escapes from the shared directory
 * (symlinks, "..", a directory swapped for a symlink during lookups, forged
 * node ids and handles) and malformed frames (bad and huge lengths, unknown
 * opcodes, truncated arguments, a connection closed mid-message). The
 * server must answer where a reply is due and keep serving new mounts.
 */
#include <pthread.h>

#include "kselftest_harness.h"
#include "vol_harness.h"

FIXTURE(raw)
{
	struct vol_env e;
	struct raw r;
};

FIXTURE_SETUP(raw)
{
	ASSERT_EQ(0, vol_env_dirs(&self->e));
	ASSERT_EQ(0, vol_start_server(&self->e, false, VOLUME_CACHE_AUTO));
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
}

FIXTURE_TEARDOWN(raw)
{
	close(self->r.fd);
	/* the server must still be alive (exit 0 on SIGTERM), not crashed */
	EXPECT_EQ(0, vol_stop(&self->e.server));
	vol_env_teardown(&self->e);
}

static int getattr(struct raw *r, uint64_t nodeid, struct fuse_attr_out *out)
{
	struct fuse_getattr_in in = { 0 };
	size_t len = sizeof(*out);

	return raw_call(r, FUSE_GETATTR, nodeid, &in, sizeof(in), out, &len);
}

/* A new mount works: the server survived whatever came before. */
static int server_alive(const char *sock)
{
	struct fuse_attr_out a;
	struct raw r;
	int err = raw_session(&r, sock);

	if (err)
		return err;
	err = getattr(&r, FUSE_ROOT_ID, &a);
	close(r.fd);
	return err ? err : S_ISDIR(a.attr.mode) ? 0 : -EINVAL;
}

static void host_path(const struct vol_env *e, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", e->host, name);
}

TEST_F(raw, basic)
{
	struct fuse_attr_out a;
	struct fuse_entry_out ent;

	ASSERT_EQ(0, getattr(&self->r, FUSE_ROOT_ID, &a));
	EXPECT_TRUE(S_ISDIR(a.attr.mode));
	EXPECT_EQ(-ENOENT, raw_lookup(&self->r, FUSE_ROOT_ID, "missing", &ent));
}

TEST_F(raw, escape_dotdot_and_slash)
{
	struct fuse_entry_out ent;

	EXPECT_EQ(-EINVAL, raw_lookup(&self->r, FUSE_ROOT_ID, "..", &ent));
	EXPECT_EQ(-EINVAL, raw_lookup(&self->r, FUSE_ROOT_ID, "../..", &ent));
	EXPECT_EQ(-EINVAL, raw_lookup(&self->r, FUSE_ROOT_ID, "x/../../etc", &ent));
	EXPECT_EQ(-EINVAL, raw_lookup(&self->r, FUSE_ROOT_ID, "/etc", &ent));
	EXPECT_EQ(-EINVAL, raw_lookup(&self->r, FUSE_ROOT_ID, "", &ent));
}

TEST_F(raw, escape_symlink_to_root)
{
	struct fuse_entry_out ent, ent2;
	struct fuse_read_in rd = { .size = 4096 };
	char p[256], buf[4096];
	size_t len = sizeof(buf);

	host_path(&self->e, "toroot", p, sizeof(p));
	ASSERT_EQ(0, symlink("/", p));
	host_path(&self->e, "topasswd", p, sizeof(p));
	ASSERT_EQ(0, symlink("/etc/passwd", p));
	ASSERT_EQ(0, raw_lookup(&self->r, FUSE_ROOT_ID, "toroot", &ent));
	EXPECT_TRUE(S_ISLNK(ent.attr.mode));
	/* a symlink is never a directory to look names up in */
	EXPECT_EQ(-ENOTDIR, raw_lookup(&self->r, ent.nodeid, "etc", &ent2));
	/* nor a file to read through */
	ASSERT_EQ(0, raw_lookup(&self->r, FUSE_ROOT_ID, "topasswd", &ent));
	EXPECT_GT(0, raw_call(&self->r, FUSE_READ, ent.nodeid, &rd, sizeof(rd), buf, &len));
	/* READLINK just returns the text */
	len = sizeof(buf);
	ASSERT_EQ(0, raw_call(&self->r, FUSE_READLINK, ent.nodeid, NULL, 0, buf, &len));
	EXPECT_EQ(0, memcmp(buf, "/etc/passwd", 11));
}

/* A directory swapped for a symlink after it was looked up. */
TEST_F(raw, escape_swapped_dir)
{
	struct fuse_entry_out d, ent;
	char p[256], p2[256];

	host_path(&self->e, "d", p, sizeof(p));
	ASSERT_EQ(0, mkdir(p, 0755));
	ASSERT_EQ(0, raw_lookup(&self->r, FUSE_ROOT_ID, "d", &d));
	host_path(&self->e, "d.old", p2, sizeof(p2));
	ASSERT_EQ(0, rename(p, p2));
	ASSERT_EQ(0, symlink("/etc", p));
	/* the node is the old directory, wherever it went */
	EXPECT_EQ(-ENOENT, raw_lookup(&self->r, d.nodeid, "passwd", &ent));
	ASSERT_EQ(0, raw_lookup(&self->r, FUSE_ROOT_ID, "d", &d));
	EXPECT_TRUE(S_ISLNK(d.attr.mode));
	EXPECT_EQ(-ENOTDIR, raw_lookup(&self->r, d.nodeid, "passwd", &ent));
}

struct swapper {
	char dir[256];
	char tmp[256];
	volatile bool stop;
	long swaps;
};

static void remove_any(const char *path)
{
	if (rmdir(path))
		unlink(path);
}

static void *swap_loop(void *arg)
{
	struct swapper *s = arg;

	while (!s->stop) {
		/* "r" alternates between an empty directory and a symlink to /etc */
		if (mkdir(s->tmp, 0755) == 0 && renameat2(AT_FDCWD, s->tmp, AT_FDCWD, s->dir,
							   RENAME_EXCHANGE) == 0)
			remove_any(s->tmp);
		if (symlink("/etc", s->tmp) == 0 && renameat2(AT_FDCWD, s->tmp, AT_FDCWD, s->dir,
							     RENAME_EXCHANGE) == 0)
			remove_any(s->tmp);
		s->swaps++;
	}
	return NULL;
}

/* Lookups racing a directory <-> symlink swap never reach /etc. */
TEST_F(raw, escape_swap_race)
{
	struct swapper s = { 0 };
	struct fuse_entry_out d, ent;
	struct stat passwd;
	pthread_t t;
	long hits = 0, deadline = vol_now_ms() + 3000;

	ASSERT_EQ(0, stat("/etc/passwd", &passwd));
	host_path(&self->e, "r", s.dir, sizeof(s.dir));
	host_path(&self->e, "r.tmp", s.tmp, sizeof(s.tmp));
	ASSERT_EQ(0, mkdir(s.dir, 0755));
	ASSERT_EQ(0, pthread_create(&t, NULL, swap_loop, &s));
	for (int i = 0; i < 3000 && vol_now_ms() < deadline; i++) {
		struct fuse_forget_in f = { .nlookup = 1 };

		if (raw_lookup(&self->r, FUSE_ROOT_ID, "r", &d))
			continue;
		if (!raw_lookup(&self->r, d.nodeid, "passwd", &ent)) {
			hits++;
			EXPECT_NE(passwd.st_ino, ent.attr.ino);
		}
		raw_send(&self->r, FUSE_FORGET, d.nodeid, &f, sizeof(f), NULL);
	}
	s.stop = true;
	pthread_join(t, NULL);
	EXPECT_EQ(0, hits);
	EXPECT_LT(10, s.swaps);
}

TEST_F(raw, forged_ids)
{
	struct fuse_attr_out a;
	struct fuse_read_in rd = { .fh = 12345, .size = 16 };
	struct fuse_entry_out ent;
	char p[256], buf[16];
	size_t len = sizeof(buf);

	EXPECT_EQ(-ESTALE, getattr(&self->r, 0xdeadbeefull, &a));
	EXPECT_EQ(-ESTALE, getattr(&self->r, 0, &a));
	host_path(&self->e, "f", p, sizeof(p));
	ASSERT_EQ(0, close(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
	ASSERT_EQ(0, raw_lookup(&self->r, FUSE_ROOT_ID, "f", &ent));
	EXPECT_EQ(-EBADF, raw_call(&self->r, FUSE_READ, ent.nodeid, &rd, sizeof(rd), buf, &len));
}

TEST_F(raw, unknown_and_unsupported_opcodes)
{
	char arg[64] = { 0 };

	EXPECT_EQ(-ENOSYS, raw_call(&self->r, 999, FUSE_ROOT_ID, arg, 16, NULL, NULL));
	EXPECT_EQ(-ENOSYS, raw_call(&self->r, FUSE_IOCTL, FUSE_ROOT_ID, arg, 8, NULL, NULL));
	EXPECT_EQ(-ENOSYS, raw_call(&self->r, FUSE_SETLK, FUSE_ROOT_ID, arg, 8, NULL, NULL));
	EXPECT_EQ(-ENOSYS, raw_call(&self->r, 0xffffffffu, 1, NULL, 0, NULL, NULL));
	close(self->r.fd);	/* one mount at a time: end this one */
	EXPECT_EQ(0, server_alive(self->e.sock));
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
}

TEST_F(raw, truncated_arguments)
{
	struct fuse_write_in w = { .size = 4096 };
	struct fuse_batch_forget_in bf = { .count = 1000000 };
	struct fuse_interrupt_in intr = { .unique = 424242 };
	char name[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };	/* no NUL */
	char buf[64];
	struct fuse_attr_out a;

	EXPECT_EQ(-EINVAL, raw_call(&self->r, FUSE_LOOKUP, FUSE_ROOT_ID, name, sizeof(name),
				    NULL, NULL));
	EXPECT_EQ(-EINVAL, raw_call(&self->r, FUSE_SETATTR, FUSE_ROOT_ID, NULL, 0, NULL, NULL));
	EXPECT_EQ(-EINVAL, raw_call(&self->r, FUSE_WRITE, FUSE_ROOT_ID, &w, sizeof(w), NULL,
				    NULL));
	EXPECT_EQ(-EINVAL, raw_call(&self->r, FUSE_READ, FUSE_ROOT_ID, buf, 8, NULL, NULL));
	memcpy(buf, "a\0b", 3);	/* RENAME: fixed part missing */
	EXPECT_EQ(-EINVAL, raw_call(&self->r, FUSE_RENAME, FUSE_ROOT_ID, buf, 3, NULL, NULL));
	/* no reply is due for these: the next request must still be answered */
	ASSERT_EQ(0, raw_send(&self->r, FUSE_BATCH_FORGET, 0, &bf, sizeof(bf), NULL));
	ASSERT_EQ(0, raw_send(&self->r, FUSE_INTERRUPT, 0, &intr, sizeof(intr), NULL));
	ASSERT_EQ(0, raw_send(&self->r, FUSE_FORGET, 0, NULL, 0, NULL));
	EXPECT_EQ(0, getattr(&self->r, FUSE_ROOT_ID, &a));
}

TEST_F(raw, init_twice_and_bad_version)
{
	struct fuse_init_in in = { .major = 6, .minor = 0 };
	struct raw r2;

	EXPECT_GT(0, raw_init(&self->r));	/* a second INIT is refused */
	close(self->r.fd);
	ASSERT_EQ(0, raw_connect(&r2, self->e.sock, 0, 1, 77));
	EXPECT_EQ(-EPROTO, raw_call(&r2, FUSE_INIT, 0, &in, sizeof(in), NULL, NULL));
	close(r2.fd);
	ASSERT_EQ(0, raw_connect(&self->r, self->e.sock, 0, 1, 78));
	/* requests before INIT are refused too */
	EXPECT_GT(0, raw_call(&self->r, FUSE_STATFS, FUSE_ROOT_ID, NULL, 0, NULL, NULL));
	close(self->r.fd);
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
}

/* Send a bare header with any len; Return: what came back for it. */
static int send_bad_len(struct raw *r, uint32_t len)
{
	struct fuse_in_header h = { .len = len, .opcode = FUSE_GETATTR, .unique = 99,
				    .nodeid = 1 };
	uint64_t u = 0;
	int err;

	if (write(r->fd, &h, sizeof(h)) != sizeof(h))
		return -EIO;
	err = raw_recv(r, &u, NULL, NULL, 5000);
	if (err < 0 && err != -EPIPE && err != -ETIMEDOUT && u != 99)
		return -EBADMSG;
	return err;
}

TEST_F(raw, bad_lengths)
{
	/* too short: answered EIO, then the unframeable stream is closed */
	EXPECT_EQ(-EIO, send_bad_len(&self->r, 8));
	EXPECT_EQ(-EPIPE, raw_recv(&self->r, NULL, NULL, NULL, 5000));
	close(self->r.fd);
	EXPECT_EQ(0, server_alive(self->e.sock));

	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
	EXPECT_EQ(-EIO, send_bad_len(&self->r, 100u * 1024 * 1024));
	EXPECT_EQ(-EPIPE, raw_recv(&self->r, NULL, NULL, NULL, 5000));
	close(self->r.fd);
	EXPECT_EQ(0, server_alive(self->e.sock));

	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
	EXPECT_EQ(-EIO, send_bad_len(&self->r, 0xffffffffu));
	close(self->r.fd);
	EXPECT_EQ(0, server_alive(self->e.sock));
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
}

TEST_F(raw, closed_mid_message)
{
	struct fuse_in_header h = { .len = 4000, .opcode = FUSE_WRITE, .unique = 7, .nodeid = 1 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char junk[100] = { 0 };
	int fd;

	ASSERT_EQ(sizeof(h), write(self->r.fd, &h, sizeof(h)));
	ASSERT_EQ(sizeof(junk), write(self->r.fd, junk, sizeof(junk)));
	close(self->r.fd);
	EXPECT_EQ(0, server_alive(self->e.sock));

	/* a connection that closes inside its hello */
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
	close(self->r.fd);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", self->e.sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(3, write(fd, "FCV", 3));
	close(fd);
	/* and garbage instead of a hello: the server hangs up */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	memset(junk, 0x5a, sizeof(junk));
	ASSERT_EQ(sizeof(junk), write(fd, junk, sizeof(junk)));
	EXPECT_GE(0, read(fd, junk, 1));	/* EOF or ECONNRESET */
	close(fd);
	EXPECT_EQ(0, server_alive(self->e.sock));
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
}

/* Two queues: each reply comes back on the connection of its request. */
TEST_F(raw, queues_route_replies)
{
	struct fuse_attr_out a;
	struct raw q0, q1, stray;
	char c;

	close(self->r.fd);
	ASSERT_EQ(0, raw_connect(&q0, self->e.sock, 0, 2, 555));
	ASSERT_EQ(0, raw_connect(&stray, self->e.sock, 1, 2, 556));	/* another mount's */
	ASSERT_EQ(0, raw_connect(&q1, self->e.sock, 1, 2, 555));
	ASSERT_EQ(0, raw_init(&q0));
	ASSERT_EQ(0, getattr(&q1, FUSE_ROOT_ID, &a));
	ASSERT_EQ(0, getattr(&q0, FUSE_ROOT_ID, &a));
	ASSERT_EQ(0, getattr(&q1, FUSE_ROOT_ID, &a));
	EXPECT_EQ(0, read(stray.fd, &c, 1));	/* the stray was closed */
	close(stray.fd);
	close(q1.fd);
	close(q0.fd);
	ASSERT_EQ(0, raw_session(&self->r, self->e.sock));
}

TEST_HARNESS_MAIN
