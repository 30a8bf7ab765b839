// SPDX-License-Identifier: GPL-2.0
/*
 * fcvm_accel_test.c - load/unload and ioctl ABI tests of fcvm_accel.ko.
 *
 * Runs as root on a kernel that may load modules (in fcvm's QEMU test guests,
 * or in any kernel CI as tools/testing/selftests/fcvm). The module file is
 * $FCVM_ACCEL_KO, else fcvm_accel.ko next to this program, else
 * /lib/modules/$(uname -r)/extra/fcvm_accel.ko; the tests load and unload it
 * themselves with finit_module(2)/delete_module(2).
 *
 * Leak check: Debian's kernels have no kmemleak, so load_unload_100 compares
 * VmallocUsed (module images live in vmalloc space) and SUnreclaim from
 * /proc/meminfo before and after 100 cycles.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include <linux/fcvm_accel.h>

#include "kselftest_harness.h"

#define MOD_NAME	"fcvm_accel"
#define PARAM_MAX_OPENS	"/sys/module/fcvm_accel/parameters/max_opens"
#define MISC_MAJOR_NR	10

/* Find the module file; NULL when there is none (the caller skips). */
static const char *module_path(void)
{
	static char path[PATH_MAX];
	struct utsname u;
	char *slash;
	ssize_t n;

	if (getenv("FCVM_ACCEL_KO"))
		return getenv("FCVM_ACCEL_KO");
	n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n > 0) {
		path[n] = '\0';
		slash = strrchr(path, '/');
		if (slash) {
			snprintf(slash + 1, sizeof(path) - (slash + 1 - path),
				 "%s.ko", MOD_NAME);
			if (access(path, R_OK) == 0)
				return path;
		}
	}
	if (uname(&u) == 0) {
		snprintf(path, sizeof(path), "/lib/modules/%s/extra/%s.ko",
			 u.release, MOD_NAME);
		if (access(path, R_OK) == 0)
			return path;
	}
	return NULL;
}

static int is_loaded(void)
{
	char line[256];
	FILE *f = fopen("/proc/modules", "re");
	int found = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, MOD_NAME " ", strlen(MOD_NAME) + 1))
			found = 1;
	fclose(f);
	return found;
}

/* 0 or -errno of finit_module(2). */
static int load(const char *path)
{
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* 0 or -errno of delete_module(2) (non-blocking, as rmmod). */
static int unload(void)
{
	return syscall(SYS_delete_module, MOD_NAME, O_NONBLOCK) ? -errno : 0;
}

static int write_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* A /proc/meminfo field in kB, or -1. */
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

/* Loads the module for every test and unloads it after. */
FIXTURE(loaded) {
	const char *ko;
};

FIXTURE_SETUP(loaded)
{
	self->ko = module_path();
	if (!self->ko)
		SKIP(return, "%s.ko not found (set FCVM_ACCEL_KO)", MOD_NAME);
	if (getuid() != 0)
		SKIP(return, "loading modules needs root");
	if (is_loaded() == 1)
		ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(self->ko));
}

FIXTURE_TEARDOWN(loaded)
{
	if (is_loaded() == 1)
		EXPECT_EQ(0, unload());
}

TEST_F(loaded, device_appears)
{
	char buf[64], want[64];
	struct stat st;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, stat(FCVM_ACCEL_DEVICE, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(MISC_MAJOR_NR, major(st.st_rdev));

	fd = open("/sys/class/misc/" FCVM_ACCEL_NAME "/dev", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	EXPECT_STREQ(want, buf);
}

TEST_F(loaded, version)
{
	struct fcvm_accel_version v;
	int fd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, ioctl(fd, FCVM_ACCEL_IOC_VERSION, &v));
	EXPECT_EQ(FCVM_ACCEL_ABI_MAJOR, v.major);
	EXPECT_EQ(FCVM_ACCEL_ABI_MINOR, v.minor);
	EXPECT_EQ(0, v.flags);
	EXPECT_EQ(FCVM_ACCEL_FEAT_VERSION, v.features & FCVM_ACCEL_FEAT_VERSION);
	/* The device is a stream: no seeking. */
	EXPECT_EQ(-1, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	close(fd);
}

TEST_F(loaded, unknown_ioctl_is_enotty)
{
	/* Numbers far past the used ones, and VERSION with a wrong shape. */
	const unsigned long bad[] = {
		_IOR(FCVM_ACCEL_IOC_MAGIC, 0x7f, struct fcvm_accel_version),
		_IOR(FCVM_ACCEL_IOC_MAGIC, 0xff, struct fcvm_accel_version),
		_IOW(FCVM_ACCEL_IOC_MAGIC, 0x00, struct fcvm_accel_version),
		_IOWR(FCVM_ACCEL_IOC_MAGIC, 0x00, struct fcvm_accel_version),
		_IOR(FCVM_ACCEL_IOC_MAGIC, 0x00, __u32),
		_IO(FCVM_ACCEL_IOC_MAGIC, 0x00),
		_IOR(FCVM_ACCEL_IOC_MAGIC + 1, 0x00, struct fcvm_accel_version),
		TCGETS,
		0,
	};
	struct fcvm_accel_version v;
	int fd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	size_t i;

	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, 0, sizeof(v));
		EXPECT_EQ(-1, ioctl(fd, bad[i], &v)) TH_LOG("cmd 0x%lx", bad[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd 0x%lx", bad[i]);
		EXPECT_EQ(0, v.major);
	}
	close(fd);
}

TEST_F(loaded, bad_pointer_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	char *ro, *gone, *edge;
	int fd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, munmap(gone, page));
	edge = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, edge);
	ASSERT_EQ(0, munmap(edge + page, page));

	EXPECT_EQ(-1, ioctl(fd, FCVM_ACCEL_IOC_VERSION, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, FCVM_ACCEL_IOC_VERSION, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, FCVM_ACCEL_IOC_VERSION, gone));
	EXPECT_EQ(EFAULT, errno);
	/* A kernel address (the direct map) must not be written either. */
	EXPECT_EQ(-1, ioctl(fd, FCVM_ACCEL_IOC_VERSION, (void *)0xffff888000000000UL));
	EXPECT_EQ(EFAULT, errno);
	/* A struct that starts writable and runs into unmapped memory. */
	EXPECT_EQ(-1, ioctl(fd, FCVM_ACCEL_IOC_VERSION, edge + page - 4));
	EXPECT_EQ(EFAULT, errno);
	munmap(edge, page);
	munmap(ro, page);
	close(fd);
}

TEST_F(loaded, max_opens_is_enforced)
{
	char buf[32];
	int fds[3], extra, fd, i;
	ssize_t n;

	fd = open(PARAM_MAX_OPENS, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_STREQ("256\n", buf);

	EXPECT_EQ(-EINVAL, write_param(PARAM_MAX_OPENS, "0"));
	EXPECT_EQ(-EINVAL, write_param(PARAM_MAX_OPENS, "65537"));
	EXPECT_EQ(-EINVAL, write_param(PARAM_MAX_OPENS, "many"));
	ASSERT_EQ(0, write_param(PARAM_MAX_OPENS, "3"));
	for (i = 0; i < 3; i++) {
		fds[i] = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	extra = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, extra);
	EXPECT_EQ(EBUSY, errno);
	close(fds[0]);
	fds[0] = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, fds[0]);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	EXPECT_EQ(0, write_param(PARAM_MAX_OPENS, "256"));
}

#define THREADS		8
#define ITERATIONS	300

static void *open_close_loop(void *arg)
{
	struct fcvm_accel_version v;
	long failures = 0;
	int i, fd;

	for (i = 0; i < ITERATIONS; i++) {
		fd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			failures++;
			continue;
		}
		memset(&v, 0, sizeof(v));
		if (ioctl(fd, FCVM_ACCEL_IOC_VERSION, &v) || v.major != FCVM_ACCEL_ABI_MAJOR)
			failures++;
		close(fd);
	}
	return (void *)failures;
}

TEST_F(loaded, open_close_many_threads)
{
	pthread_t th[THREADS];
	void *failures;
	int i, a, b;

	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, open_close_loop, NULL));
	for (i = 0; i < THREADS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &failures));
		EXPECT_EQ(0, (long)failures) TH_LOG("thread %d", i);
	}
	/* Every release was counted: with max_opens=1 exactly one open fits. */
	ASSERT_EQ(0, write_param(PARAM_MAX_OPENS, "1"));
	a = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	EXPECT_LE(0, a);
	b = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, b);
	EXPECT_EQ(EBUSY, errno);
	close(a);
	EXPECT_EQ(0, write_param(PARAM_MAX_OPENS, "256"));
	/* The module is not held by anything any more. */
	EXPECT_EQ(0, unload());
}

TEST_F(loaded, unload_while_open_is_refused)
{
	struct fcvm_accel_version v;
	int fd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, unload());
	EXPECT_EQ(1, is_loaded());
	memset(&v, 0, sizeof(v));
	EXPECT_EQ(0, ioctl(fd, FCVM_ACCEL_IOC_VERSION, &v));
	EXPECT_EQ(FCVM_ACCEL_ABI_MAJOR, v.major);
	close(fd);
	EXPECT_EQ(0, unload());
	EXPECT_EQ(0, is_loaded());
	EXPECT_EQ(-1, access(FCVM_ACCEL_DEVICE, F_OK));
	EXPECT_EQ(ENOENT, errno);
}

TEST(load_twice_is_eexist)
{
	const char *ko = module_path();

	if (!ko)
		SKIP(return, "%s.ko not found (set FCVM_ACCEL_KO)", MOD_NAME);
	if (is_loaded() == 1)
		ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(ko));
	EXPECT_EQ(-EEXIST, load(ko));
	EXPECT_EQ(0, unload());
	EXPECT_EQ(-ENOENT, unload());
}

#define CYCLES		100
#define WARMUP		5
/* A leaked module image per cycle would be >= CYCLES * 16 kB of vmalloc. */
#define VMALLOC_SLACK_KB	256
#define SLAB_SLACK_KB		256

/* One load, use and unload; 0 or a negative errno / -EPROTO on a mismatch. */
static int cycle(const char *ko)
{
	struct fcvm_accel_version v;
	int fd, err;

	err = load(ko);
	if (err)
		return err;
	fd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = ioctl(fd, FCVM_ACCEL_IOC_VERSION, &v) ? -errno : 0;
	close(fd);
	if (err)
		return err;
	err = unload();
	if (err)
		return err;
	if (access(FCVM_ACCEL_DEVICE, F_OK) == 0)
		return -EPROTO;
	return 0;
}

TEST(load_unload_100)
{
	const char *ko = module_path();
	long vm0, vm1, slab0, slab1;
	int i;

	if (!ko)
		SKIP(return, "%s.ko not found (set FCVM_ACCEL_KO)", MOD_NAME);
	if (is_loaded() == 1)
		ASSERT_EQ(0, unload());
	for (i = 0; i < WARMUP; i++)
		ASSERT_EQ(0, cycle(ko));
	vm0 = meminfo_kb("VmallocUsed");
	slab0 = meminfo_kb("SUnreclaim");
	ASSERT_LE(0, vm0);
	ASSERT_LE(0, slab0);
	for (i = 0; i < CYCLES; i++)
		ASSERT_EQ(0, cycle(ko)) TH_LOG("cycle %d", i);
	vm1 = meminfo_kb("VmallocUsed");
	slab1 = meminfo_kb("SUnreclaim");
	TH_LOG("after %d cycles: VmallocUsed %+ld kB, SUnreclaim %+ld kB",
	       CYCLES, vm1 - vm0, slab1 - slab0);
	EXPECT_GT(VMALLOC_SLACK_KB, vm1 - vm0);
	EXPECT_GT(SLAB_SLACK_KB, slab1 - slab0);
	EXPECT_EQ(0, is_loaded());
}

TEST_HARNESS_MAIN
