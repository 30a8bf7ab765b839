// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/volume/volume_test.c - volumes end to end on the host: the guest
 * relay mounts a real FUSE filesystem and talks to the host server over a
 * Unix socket, exactly as the VMM would connect it. Operations through the
 * mount are compared with the host directory, in every cache mode.
 */
#include <grp.h>
#include <pthread.h>
#include <sys/sysmacros.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "kselftest_harness.h"
#include "vol_harness.h"

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static ssize_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	close(fd);
	return n;
}

static void path2(char *out, size_t size, const char *a, const char *b)
{
	if ((size_t)snprintf(out, size, "%s/%s", a, b) >= size)
		abort();
}

FIXTURE(mount)
{
	struct vol_env e;
};

FIXTURE_VARIANT(mount)
{
	enum volume_cache cache;
	unsigned int queues;
};

FIXTURE_VARIANT_ADD(mount, auto_q2)
{
	.cache = VOLUME_CACHE_AUTO, .queues = 2,
};

FIXTURE_VARIANT_ADD(mount, always_q1)
{
	.cache = VOLUME_CACHE_ALWAYS, .queues = 1,
};

FIXTURE_VARIANT_ADD(mount, never_q4)
{
	.cache = VOLUME_CACHE_NEVER, .queues = 4,
};

FIXTURE_SETUP(mount)
{
	ASSERT_EQ(0, vol_env_dirs(&self->e));
	ASSERT_EQ(0, vol_start_server(&self->e, false, variant->cache));
	ASSERT_EQ(0, vol_start_relay(&self->e, variant->queues, false));
}

FIXTURE_TEARDOWN(mount)
{
	vol_env_teardown(&self->e);
}

/* Files: create, write, read back on both sides, stat agrees. */
TEST_F_TIMEOUT(mount, files, 120)
{
	char m[256], h[256], buf[8192];
	struct stat sm, sh;
	int fd;

	path2(m, sizeof(m), self->e.mnt, "a.txt");
	path2(h, sizeof(h), self->e.host, "a.txt");
	ASSERT_EQ(0, write_file(m, "hello volume\n", 13));
	ASSERT_EQ(13, read_file(h, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "hello volume\n", 13));
	ASSERT_EQ(0, write_file(h, "from the host\n", 14));
	ASSERT_EQ(0, stat(m, &sm));
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_EQ(sh.st_ino, sm.st_ino);
	EXPECT_EQ(sh.st_mode, sm.st_mode);
	EXPECT_EQ(sh.st_uid, sm.st_uid);

	/* A big file crosses many max_write-sized requests. */
	path2(m, sizeof(m), self->e.mnt, "big");
	path2(h, sizeof(h), self->e.host, "big");
	fd = open(m, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd);
	for (int i = 0; i < 3 * 1024; i += 8) {		/* 8 KiB writes, 1 KiB stripes */
		for (int k = 0; k < 8; k++)
			memset(buf + k * 1024, 'a' + (i + k) % 26, 1024);
		ASSERT_EQ(8192, write(fd, buf, 8192));
	}
	ASSERT_EQ(0, fsync(fd));
	/* ftruncate through the open file */
	ASSERT_EQ(0, ftruncate(fd, 2 * 1024 * 1024 + 5));
	close(fd);
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_EQ(2 * 1024 * 1024 + 5, sh.st_size);
	fd = open(h, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1024, pread(fd, buf, 1024, 1024 * 1000));
	EXPECT_EQ('a' + 1000 % 26, buf[0]);
	close(fd);
	fd = open(m, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1024, pread(fd, buf, 1024, 1024 * 1999));
	EXPECT_EQ('a' + 1999 % 26, buf[1023]);
	close(fd);

	/* 8 MiB of random bytes written on the host read back exactly (large
	 * READs take the spliced paths, small ones the copying paths) */
	{
		size_t big = 8u << 20;
		char *want = malloc(big), *got = malloc(big);
		ssize_t n, total = 0;

		ASSERT_NE(NULL, want);
		ASSERT_NE(NULL, got);
		ASSERT_EQ((ssize_t)big, getrandom(want, big, 0) < 0 ? -1 : (ssize_t)big);
		path2(h, sizeof(h), self->e.host, "random");
		fd = open(h, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		ASSERT_EQ((ssize_t)big, write(fd, want, big));
		close(fd);
		path2(m, sizeof(m), self->e.mnt, "random");
		fd = open(m, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, fd);
		while ((n = read(fd, got + total, big - (size_t)total)) > 0)
			total += n;
		ASSERT_EQ((ssize_t)big, total);
		EXPECT_EQ(0, memcmp(want, got, big));
		ASSERT_EQ(12345, pread(fd, got, 12345, 3 * 1000 * 1000 + 7));
		EXPECT_EQ(0, memcmp(want + 3 * 1000 * 1000 + 7, got, 12345));
		close(fd);
		/* a 300 KiB file: one mid-sized READ reply */
		path2(h, sizeof(h), self->e.host, "mid");
		fd = open(h, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ASSERT_LE(0, fd);
		ASSERT_EQ(300 * 1024, write(fd, want + 4096, 300 * 1024));
		close(fd);
		path2(m, sizeof(m), self->e.mnt, "mid");
		ASSERT_EQ(300 * 1024, read_file(m, got, big));
		EXPECT_EQ(0, memcmp(want + 4096, got, 300 * 1024));
		free(want);
		free(got);
	}

	/* truncate by path, O_TRUNC, O_APPEND */
	ASSERT_EQ(0, truncate(m, 10));
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_EQ(10, sh.st_size);
	fd = open(m, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_EQ(0, sh.st_size);
	fd = open(m, O_WRONLY | O_APPEND | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "abc", 3));
	ASSERT_EQ(3, write(fd, "def", 3));
	close(fd);
	ASSERT_EQ(6, read_file(h, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abcdef", 6));
}

/* Names: mkdir, rename (+flags), link, symlink, unlink, rmdir, mknod. */
TEST_F(mount, names)
{
	char m[256], m2[256], h[256], buf[256];
	struct stat sm, sh;

	path2(m, sizeof(m), self->e.mnt, "d");
	ASSERT_EQ(0, mkdir(m, 0750));
	path2(h, sizeof(h), self->e.host, "d");
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_TRUE(S_ISDIR(sh.st_mode));
	EXPECT_EQ(0750, sh.st_mode & 07777);

	path2(m, sizeof(m), self->e.mnt, "d/f");
	ASSERT_EQ(0, write_file(m, "x", 1));
	path2(m2, sizeof(m2), self->e.mnt, "d/g");
	ASSERT_EQ(0, rename(m, m2));
	path2(h, sizeof(h), self->e.host, "d/g");
	ASSERT_EQ(0, access(h, F_OK));
	path2(h, sizeof(h), self->e.host, "d/f");
	ASSERT_EQ(-1, access(h, F_OK));

	/* RENAME_NOREPLACE refuses, RENAME_EXCHANGE swaps */
	ASSERT_EQ(0, write_file(m, "y", 1));
	ASSERT_EQ(-1, renameat2(AT_FDCWD, m, AT_FDCWD, m2, RENAME_NOREPLACE));
	ASSERT_EQ(EEXIST, errno);
	ASSERT_EQ(0, renameat2(AT_FDCWD, m, AT_FDCWD, m2, RENAME_EXCHANGE));
	path2(h, sizeof(h), self->e.host, "d/g");
	ASSERT_EQ(1, read_file(h, buf, sizeof(buf)));
	EXPECT_EQ('y', buf[0]);

	/* hard link: same inode, nlink 2 on both sides */
	path2(m2, sizeof(m2), self->e.mnt, "d/hl");
	ASSERT_EQ(0, link(m, m2));
	ASSERT_EQ(0, stat(m2, &sm));
	path2(h, sizeof(h), self->e.host, "d/hl");
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_EQ(sh.st_ino, sm.st_ino);
	EXPECT_EQ(2, sh.st_nlink);

	/* symlink + readlink */
	path2(m2, sizeof(m2), self->e.mnt, "d/sl");
	ASSERT_EQ(0, symlink("g", m2));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(1, readlink(m2, buf, sizeof(buf)));
	EXPECT_STREQ("g", buf);
	path2(h, sizeof(h), self->e.host, "d/sl");
	ASSERT_EQ(0, lstat(h, &sh));
	EXPECT_TRUE(S_ISLNK(sh.st_mode));

	/* fifo via mknod; device nodes are refused */
	path2(m2, sizeof(m2), self->e.mnt, "d/fifo");
	ASSERT_EQ(0, mknod(m2, S_IFIFO | 0600, 0));
	path2(h, sizeof(h), self->e.host, "d/fifo");
	ASSERT_EQ(0, lstat(h, &sh));
	EXPECT_TRUE(S_ISFIFO(sh.st_mode));
	path2(m2, sizeof(m2), self->e.mnt, "d/null");
	EXPECT_EQ(-1, mknod(m2, S_IFCHR | 0600, makedev(1, 3)));

	/* unlink + rmdir */
	ASSERT_EQ(-1, rmdir(m));	/* a file */
	path2(m, sizeof(m), self->e.mnt, "d");
	ASSERT_EQ(-1, rmdir(m));
	EXPECT_EQ(ENOTEMPTY, errno);
	for (const char *n = "f\0g\0hl\0sl\0fifo\0"; *n; n += strlen(n) + 1) {
		path2(m2, sizeof(m2), m, n);
		ASSERT_EQ(0, unlink(m2));
	}
	ASSERT_EQ(0, rmdir(m));
	path2(h, sizeof(h), self->e.host, "d");
	ASSERT_EQ(-1, access(h, F_OK));
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect a directory's names, sorted; Return: count or -1. */
static int list_dir(const char *path, char **names, int max)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) && n < max)
		names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), name_cmp);
	return n;
}

/* Directory listings (long enough for several READDIR(PLUS) rounds) agree. */
TEST_F(mount, readdir)
{
	static char *a[600], *b[600];
	char h[256];
	int na, nb;

	for (int i = 0; i < 500; i++) {
		char name[64];

		snprintf(name, sizeof(name), "entry-with-a-longish-name-%04d", i);
		path2(h, sizeof(h), self->e.host, name);
		ASSERT_EQ(0, write_file(h, "", 0));
	}
	na = list_dir(self->e.host, a, 600);
	nb = list_dir(self->e.mnt, b, 600);
	ASSERT_EQ(502, na);
	ASSERT_EQ(na, nb);
	for (int i = 0; i < na; i++) {
		EXPECT_STREQ(a[i], b[i]);
		free(a[i]);
		free(b[i]);
	}
}

/* Attributes, xattrs, statfs, access, fallocate, lseek, copy_file_range. */
TEST_F(mount, attrs_and_misc)
{
	char m[256], m2[256], h[256], buf[64];
	struct timespec ts[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1200000000 } };
	struct statvfs vm, vh;
	struct stat sh;
	off_t off_in = 0, off_out = 0;
	int fd, fd2;

	path2(m, sizeof(m), self->e.mnt, "attr");
	path2(h, sizeof(h), self->e.host, "attr");
	ASSERT_EQ(0, write_file(m, "0123456789", 10));
	ASSERT_EQ(0, chmod(m, 0604));
	ASSERT_EQ(0, utimensat(AT_FDCWD, m, ts, 0));
	ASSERT_EQ(0, chown(m, 1234, 5678));
	ASSERT_EQ(0, stat(h, &sh));
	EXPECT_EQ(0604, sh.st_mode & 07777);
	EXPECT_EQ(1200000000, sh.st_mtime);
	EXPECT_EQ(1000000000, sh.st_atime);
	EXPECT_EQ(1234, sh.st_uid);
	EXPECT_EQ(5678, sh.st_gid);

	/*
	 * The mount must behave as the host directory does: where the host
	 * filesystem has no user.* xattrs (tmpfs before 6.6, as in the test
	 * guests), the mount must refuse them with the same error.
	 */
	if (setxattr(h, "user.fcvm", "v0", 2, 0)) {
		int host_errno = errno;

		EXPECT_EQ(-1, setxattr(m, "user.fcvm", "v1", 2, 0));
		EXPECT_EQ(host_errno, errno);
	} else {
		ASSERT_EQ(0, removexattr(h, "user.fcvm"));
		ASSERT_EQ(0, setxattr(m, "user.fcvm", "v1", 2, 0));
		ASSERT_EQ(2, getxattr(h, "user.fcvm", buf, sizeof(buf)));
		ASSERT_EQ(2, getxattr(m, "user.fcvm", buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, "v1", 2));
		EXPECT_EQ(2, getxattr(m, "user.fcvm", NULL, 0));
		ASSERT_LT(0, listxattr(m, buf, sizeof(buf)));
		EXPECT_STREQ("user.fcvm", buf);
		ASSERT_EQ(0, removexattr(m, "user.fcvm"));
		EXPECT_EQ(-1, getxattr(h, "user.fcvm", buf, sizeof(buf)));
	}
	EXPECT_EQ(-1, setxattr(m, "trusted.fcvm", "v", 1, 0));

	ASSERT_EQ(0, statvfs(self->e.mnt, &vm));
	ASSERT_EQ(0, statvfs(self->e.host, &vh));
	EXPECT_EQ(vh.f_blocks, vm.f_blocks);
	EXPECT_EQ(vh.f_bsize, vm.f_bsize);
	EXPECT_EQ(0, access(m, R_OK | W_OK));

	fd = open(m, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, 0, 0, 1 << 20));
	ASSERT_EQ(0, fstat(fd, &sh));
	EXPECT_EQ(1 << 20, sh.st_size);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 65536, 65536));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_DATA));
	path2(m2, sizeof(m2), self->e.mnt, "copy");
	fd2 = open(m2, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(10, copy_file_range(fd, &off_in, fd2, &off_out, 10, 0));
	ASSERT_EQ(0, fsync(fd2));
	close(fd2);
	close(fd);
	path2(h, sizeof(h), self->e.host, "copy");
	ASSERT_EQ(10, read_file(h, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
}

/* New files and dirs get the caller's uid/gid, not the server's. */
TEST_F(mount, ownership)
{
	char h[256], m[256];
	struct stat st;
	pid_t pid;
	int status;

	path2(h, sizeof(h), self->e.host, "shared");
	ASSERT_EQ(0, mkdir(h, 0777));
	ASSERT_EQ(0, chmod(h, 01777));
	path2(m, sizeof(m), self->e.host, "rootonly");
	ASSERT_EQ(0, write_file(m, "secret", 6));
	ASSERT_EQ(0, chmod(m, 0600));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char p[256];

		if (setgroups(0, NULL) || setresgid(4321, 4321, 4321) ||
		    setresuid(4321, 4321, 4321))
			_exit(10);
		path2(p, sizeof(p), self->e.mnt, "shared/mine");
		if (write_file(p, "x", 1)) {
			struct stat dbg;
			int e = errno;

			path2(p, sizeof(p), self->e.mnt, "shared");
			stat(p, &dbg);
			fprintf(stderr, "# create as 4321: %s (shared: mode %o uid %d)\n",
				strerror(e), dbg.st_mode, dbg.st_uid);
			_exit(11);
		}
		{
			char p2[256];

			path2(p2, sizeof(p2), self->e.mnt, "shared/mine2");
			if (link(p, p2))
				_exit(15);
		}
		path2(p, sizeof(p), self->e.mnt, "shared/mydir");
		if (mkdir(p, 0700))
			_exit(12);
		path2(p, sizeof(p), self->e.mnt, "shared/mydir/link");
		if (symlink("target", p))
			_exit(13);
		/* default_permissions: someone else's file stays closed */
		path2(p, sizeof(p), self->e.mnt, "rootonly");
		if (open(p, O_RDONLY) >= 0 || errno != EACCES)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	path2(h, sizeof(h), self->e.host, "shared/mine");
	ASSERT_EQ(0, stat(h, &st));
	EXPECT_EQ(4321, st.st_uid);
	EXPECT_EQ(4321, st.st_gid);
	path2(h, sizeof(h), self->e.host, "shared/mydir");
	ASSERT_EQ(0, stat(h, &st));
	EXPECT_EQ(4321, st.st_uid);
	path2(h, sizeof(h), self->e.host, "shared/mydir/link");
	ASSERT_EQ(0, lstat(h, &st));
	EXPECT_EQ(4321, st.st_uid);
}

struct reader_arg {
	const char *dir;
	int id;
	int bad;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	char path[256], buf[256], want[64];

	for (int round = 0; round < 20; round++)
		for (int i = 0; i < 32; i++) {
			int n;

			snprintf(path, sizeof(path), "%s/f%d", a->dir, i);
			n = snprintf(want, sizeof(want), "file %d\n", i);
			if (read_file(path, buf, sizeof(buf)) != n || memcmp(buf, want, (size_t)n))
				a->bad++;
		}
	return NULL;
}

/*
 * Many readers at once over every queue see the right bytes. The budget is
 * that of "files": under TCG in a loaded test guest 30 s is not enough.
 */
TEST_F_TIMEOUT(mount, parallel, 120)
{
	struct reader_arg args[8];
	pthread_t t[8];
	char h[256], data[64];

	for (int i = 0; i < 32; i++) {
		snprintf(h, sizeof(h), "%s/f%d", self->e.host, i);
		ASSERT_EQ(0, write_file(h, data, (size_t)snprintf(data, sizeof(data),
								   "file %d\n", i)));
	}
	for (int i = 0; i < 8; i++) {
		args[i] = (struct reader_arg){ .dir = self->e.mnt, .id = i };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, reader, &args[i]));
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, args[i].bad);
	}
}

/* cache=auto (the default): a change made on the host shows within 1 s. */
TEST(host_change_visible)
{
	struct vol_env env, *e = &env;
	char h[256], m[256], buf[64], *names[8];
	long deadline;
	bool seen = false;
	int n;

	ASSERT_EQ(0, vol_env_dirs(e));
	ASSERT_EQ(0, vol_start_server(e, false, VOLUME_CACHE_AUTO));
	ASSERT_EQ(0, vol_start_relay(e, 2, false));
	path2(h, sizeof(h), e->host, "watched");
	path2(m, sizeof(m), e->mnt, "watched");
	ASSERT_EQ(-1, access(m, F_OK));		/* a cached negative entry */
	ASSERT_EQ(0, write_file(h, "one", 3));
	for (deadline = vol_now_ms() + 1000; !seen && vol_now_ms() < deadline; usleep(5000))
		seen = read_file(m, buf, sizeof(buf)) == 3 && !memcmp(buf, "one", 3);
	ASSERT_TRUE(seen);
	ASSERT_EQ(0, write_file(h, "two!", 4));	/* data and size change */
	seen = false;
	for (deadline = vol_now_ms() + 1000; !seen && vol_now_ms() < deadline; usleep(5000))
		seen = read_file(m, buf, sizeof(buf)) == 4 && !memcmp(buf, "two!", 4);
	ASSERT_TRUE(seen);
	ASSERT_EQ(0, unlink(h));
	seen = false;
	for (deadline = vol_now_ms() + 1000; !seen && vol_now_ms() < deadline; usleep(5000))
		seen = access(m, F_OK) == -1 && errno == ENOENT;
	ASSERT_TRUE(seen);

	/* a cached directory listing learns about a name it never looked up */
	ASSERT_EQ(2, list_dir(e->mnt, names, 8));
	for (int i = 0; i < 2; i++)
		free(names[i]);
	path2(h, sizeof(h), e->host, "later");
	ASSERT_EQ(0, write_file(h, "", 0));
	seen = false;
	for (deadline = vol_now_ms() + 1000; !seen && vol_now_ms() < deadline; usleep(5000)) {
		n = list_dir(e->mnt, names, 8);
		seen = n == 3;
		for (int i = 0; i < n; i++)
			free(names[i]);
	}
	ASSERT_TRUE(seen);
	vol_env_teardown(e);
}

/* ---- read-only volume ------------------------------------------------- */

FIXTURE(ro)
{
	struct vol_env e;
};

FIXTURE_SETUP(ro)
{
	char h[256];

	ASSERT_EQ(0, vol_env_dirs(&self->e));
	path2(h, sizeof(h), self->e.host, "file");
	ASSERT_EQ(0, write_file(h, "data", 4));
	ASSERT_EQ(0, vol_start_server(&self->e, true, VOLUME_CACHE_AUTO));
	/* The relay mounts rw on purpose: the server itself must refuse. */
	ASSERT_EQ(0, vol_start_relay(&self->e, 1, false));
}

FIXTURE_TEARDOWN(ro)
{
	vol_env_teardown(&self->e);
}

TEST_F(ro, refuses_writes)
{
	char m[256], m2[256], buf[16];
	int fd;

	path2(m, sizeof(m), self->e.mnt, "file");
	ASSERT_EQ(4, read_file(m, buf, sizeof(buf)));
	path2(m2, sizeof(m2), self->e.mnt, "new");
	EXPECT_EQ(-EROFS, write_file(m2, "x", 1));
	EXPECT_EQ(-1, mkdir(m2, 0755));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, symlink("x", m2));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, unlink(m));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, rename(m, m2));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, chmod(m, 0600));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, truncate(m, 0));
	EXPECT_EQ(EROFS, errno);
	EXPECT_EQ(-1, setxattr(m, "user.x", "y", 1, 0));
	EXPECT_EQ(EROFS, errno);
	fd = open(m, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		int r = write(fd, "zz", 2) >= 0 && fsync(fd) == 0 ? 0 : -1;

		/* with the kernel skipping OPEN, the write itself is refused */
		EXPECT_EQ(-1, r);
		close(fd);
	}
	ASSERT_EQ(4, read_file(m, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "data", 4));
	path2(m, sizeof(m), self->e.host, "file");
	ASSERT_EQ(4, read_file(m, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "data", 4));
}

/* ---- teardown --------------------------------------------------------- */

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

/* Unmounting leaves the server with no session thread or fd, and no mount. */
TEST(teardown_leaves_nothing)
{
	struct vol_env e;
	char task[64], fds[64], m[256];
	int threads0, fds0, threads1, fds1;
	long deadline;

	ASSERT_EQ(0, vol_env_dirs(&e));
	ASSERT_EQ(0, vol_start_server(&e, false, VOLUME_CACHE_AUTO));
	snprintf(task, sizeof(task), "/proc/%d/task", e.server);
	snprintf(fds, sizeof(fds), "/proc/%d/fd", e.server);
	threads0 = count_dir(task);
	fds0 = count_dir(fds);
	ASSERT_EQ(1, threads0);
	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(0, vol_start_relay(&e, 3, false));
		path2(m, sizeof(m), e.mnt, "f");
		ASSERT_EQ(0, write_file(m, "x", 1));
		ASSERT_LT(threads0, count_dir(task));
		ASSERT_EQ(0, vol_stop(&e.relay));
		ASSERT_FALSE(vol_is_mounted(e.mnt));
		/* the server notices the closed connections and ends the session */
		deadline = vol_now_ms() + 3000;
		do {
			threads1 = count_dir(task);
			fds1 = count_dir(fds);
		} while ((threads1 != threads0 || fds1 != fds0) && vol_now_ms() < deadline &&
			 !usleep(5000));
		EXPECT_EQ(threads0, threads1);
		EXPECT_EQ(fds0, fds1);
	}
	EXPECT_EQ(0, vol_stop(&e.server));
	EXPECT_EQ(-1, access(e.sock, F_OK) == 0 ? 0 : -1);
	vol_env_teardown(&e);
}

TEST_HARNESS_MAIN
