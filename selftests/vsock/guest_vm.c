// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/guest_vm.c - start `fcvm vm boot` on the test guest,
 * wait for its vsock peer, reap it with deadlines, clean up its directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_vm.h"
#include "pattern.h"
#include "vsock/hvsock.h"

uint64_t tvm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static char *self_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	*strrchr(buf, '/') = '\0';
	return buf;
}

static char vmlinuz[PATH_MAX];

/* The kernel image from the vehicle (selftests/vm/kernel-path --vmlinuz 6.1). */
const char *tvm_kernel(void)
{
	FILE *p;

	if (vmlinuz[0])
		return vmlinuz;
	p = popen("../vm/kernel-path --vmlinuz 6.1 2>/dev/null", "r");
	if (!p)
		return NULL;
	if (!fgets(vmlinuz, sizeof(vmlinuz), p))
		vmlinuz[0] = '\0';
	pclose(p);
	vmlinuz[strcspn(vmlinuz, "\n")] = '\0';
	return vmlinuz[0] ? vmlinuz : NULL;
}

/* NULL when a guest can be booted here, else why not. */
const char *tvm_skip_reason(void)
{
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1"))
		return "qemu-system-x86_64 is not installed";
	if (!tvm_kernel())
		return "selftests/vm/kernel-path 6.1 found no kernel";
	return NULL;
}

static int reap(struct tvm *vm, int timeout_ms)
{
	struct pollfd p = { .events = POLLIN };
	int r;

	if (vm->reaped)
		return 0;
	p.fd = (int)syscall(SYS_pidfd_open, vm->pid, 0);
	if (p.fd < 0)
		return -errno;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	close(p.fd);
	if (r == 0)
		return -ETIMEDOUT;
	if (waitpid(vm->pid, &vm->status, 0) < 0)
		return -errno;
	vm->reaped = 1;
	return 0;
}

/* The test initramfs, next to the test binaries. */
int tvm_initrd(char *buf, size_t size)
{
	char here[PATH_MAX];

	if (!self_dir(here, sizeof(here)))
		return -errno;
	if (snprintf(buf, size, "%s/peer.cpio", here) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/**
 * tvm_boot() - start fcvm on the test guest and wait for the peer
 * @vm: filled in
 *
 * Return: 0 once the peer answers on PEER_PORT, else -errno.
 */
int tvm_boot(struct tvm *vm)
{
	char here[PATH_MAX], initrd[PATH_MAX + 16], fcvm[PATH_MAX + 16];
	const char *build = getenv("BUILD"), *kernel = tvm_kernel();
	uint64_t deadline = tvm_now_ms() + TVM_BOOT_TIMEOUT_MS;
	int fd;

	memset(vm, 0, sizeof(*vm));
	if (!build || !kernel || !self_dir(here, sizeof(here)))
		return -ENOENT;
	snprintf(initrd, sizeof(initrd), "%s/peer.cpio", here);
	snprintf(fcvm, sizeof(fcvm), "%s/fcvm", build);
	snprintf(vm->dir, sizeof(vm->dir), "/tmp/fcvm-vsock-test.XXXXXX");
	if (!mkdtemp(vm->dir))
		return -errno;
	snprintf(vm->sock, sizeof(vm->sock), "%s/vsock.sock", vm->dir);
	snprintf(vm->fcvm_log, sizeof(vm->fcvm_log), "%s/fcvm.log", vm->dir);
	snprintf(vm->console, sizeof(vm->console), "%s/console.log", vm->dir);
	vm->pid = fork();
	if (vm->pid < 0)
		return -errno;
	if (vm->pid == 0) {
		int log = open(vm->fcvm_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* dies with the test */
		if (log < 0 || dup2(log, 2) < 0)
			_exit(126);
		execl(fcvm, fcvm, "vm", "boot", "--kernel", kernel, "--initrd",
		      initrd, "--vsock-dir", vm->dir, "--console", vm->console,
		      "--mem", "256", "--cpus", "1", (char *)NULL);
		_exit(127);
	}
	for (;;) {
		fd = hvsock_connect(vm->sock, PEER_PORT, 5000, NULL);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (reap(vm, 0) == 0)
			return -ECHILD;		/* fcvm ended */
		if (tvm_now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(200 * 1000);	/* polling for the guest to come up */
	}
}

int tvm_connect(struct tvm *vm, uint32_t port, int timeout_ms)
{
	return hvsock_connect(vm->sock, port, timeout_ms, NULL);
}

/* Connect to the peer and send one command line ("\n" added). */
int tvm_cmd(struct tvm *vm, const char *line)
{
	int fd = tvm_connect(vm, PEER_PORT, 10000);
	size_t len = strlen(line);

	if (fd < 0)
		return fd;
	if (write(fd, line, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		close(fd);
		return -EIO;
	}
	return fd;
}

int tvm_read_line(int fd, char *buf, size_t size, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, timeout_ms) <= 0)
			return -ETIMEDOUT;
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return r ? -errno : -ECONNRESET;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -EPROTO;
}

/* Wait for fcvm to exit; its wait status is in vm->status. */
int tvm_wait(struct tvm *vm, int timeout_ms)
{
	return reap(vm, timeout_ms);
}

/* The QEMU child of fcvm (0 when there is none). */
pid_t tvm_qemu_pid(const struct tvm *vm)
{
	char path[64];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", vm->pid, vm->pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* Does fcvm's stderr contain @needle? */
int tvm_log_has(const struct tvm *vm, const char *needle)
{
	char buf[8192];
	int fd = open(vm->fcvm_log, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

/* How many sockets fcvm left in the VM directory. */
int tvm_dir_sockets(const struct tvm *vm)
{
	DIR *d = opendir(vm->dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char p[PATH_MAX + 300];
		struct stat st;

		snprintf(p, sizeof(p), "%s/%s", vm->dir, e->d_name);
		if (!lstat(p, &st) && S_ISSOCK(st.st_mode))
			n++;
	}
	closedir(d);
	return n;
}

/* Kill fcvm if still running, remove the directory. */
void tvm_cleanup(struct tvm *vm)
{
	DIR *d;
	struct dirent *e;

	if (vm->pid > 0 && !vm->reaped) {
		kill(vm->pid, SIGKILL);
		reap(vm, 10000);
	}
	if (getenv("FCVM_TEST_KEEP"))
		return;
	d = opendir(vm->dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[PATH_MAX + 300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", vm->dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(vm->dir);
}
