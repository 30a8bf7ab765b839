// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vmm_api_test.c - the VMM backend interface used
 * directly (in-process, as fcvm's own commands use it): configuration
 * errors and capability bits, then with a real guest: pause stops it,
 * resume continues it, stop ends it (graceful request, kill after the grace
 * period), counters of the vsock device, and nothing left behind.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_vm.h"
#include "pattern.h"
#include "util/log.h"
#include "vmm/vmm.h"
#include "vsock/hvsock.h"

TEST(config_errors_and_caps)
{
	struct vmm_config cfg = { .vm_dir = "/tmp", .kernel = "/nonexistent/vmlinuz" };
	struct vmm *vm;

	EXPECT_EQ(-ENOENT, vmm_create("no-such-backend", &cfg, &vm));
	EXPECT_EQ(-ENOENT, vmm_create("qemu", &cfg, &vm));
	cfg.kernel = NULL;
	EXPECT_EQ(-EINVAL, vmm_create(NULL, &cfg, &vm));
	EXPECT_TRUE(vmm_qemu_ops.caps & VMM_CAP_VSOCK);
	EXPECT_TRUE(vmm_qemu_ops.caps & VMM_CAP_PAUSE);
	EXPECT_FALSE(vmm_qemu_ops.caps & VMM_CAP_SNAPSHOT);
	EXPECT_FALSE(vmm_qemu_ops.caps & VMM_CAP_UFFD);
}

TEST(comma_in_paths_is_refused)
{
	char dir[] = "/tmp/fcvm-vmm,test.XXXXXX";
	struct vmm_config cfg = { .kernel = "/proc/self/exe", .vsock = true,
				  .accel = VMM_ACCEL_TCG };
	struct vmm *vm;

	ASSERT_NE(NULL, mkdtemp(dir));
	cfg.vm_dir = dir;
	ASSERT_EQ(0, vmm_create(NULL, &cfg, &vm));
	EXPECT_EQ(-EINVAL, vmm_start(vm));
	vmm_destroy(vm);
	EXPECT_EQ(0, rmdir(dir));	/* nothing left inside */
}

static int echo_once(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[8];

	if (write(fd, "ping", 4) != 4)
		return -EIO;
	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	return read(fd, b, sizeof(b)) > 0 ? 0 : -EIO;
}

/* Poll until the guest's peer answers (or the VM ends, or time runs out). */
static int wait_peer(struct vmm *vm)
{
	uint64_t deadline = tvm_now_ms() + TVM_BOOT_TIMEOUT_MS;
	struct vmm_exit ex;

	while (tvm_now_ms() < deadline) {
		int fd = hvsock_connect(vmm_vsock_path(vm), PEER_PORT, 5000, NULL);

		if (fd >= 0)
			return fd;
		if (vmm_wait(vm, 0, &ex) == 0)
			return -ECHILD;
		usleep(200 * 1000);	/* polling for the guest to boot */
	}
	return -ETIMEDOUT;
}

TEST(pause_resume_stop_with_a_guest)
{
	char dir[] = "/tmp/fcvm-vmm-test.XXXXXX", initrd[PATH_MAX], console[64];
	struct vmm_config cfg = { .vsock = true, .mem_mib = 256, .accel = VMM_ACCEL_TCG };
	const char *skip = tvm_skip_reason();
	struct pollfd p = { .events = POLLIN };
	struct vmm_exit ex;
	struct vmm *vm;
	char b[8];
	int fd;

	if (skip)
		SKIP(return, "%s", skip);
	signal(SIGPIPE, SIG_IGN);
	log_init();
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, tvm_initrd(initrd, sizeof(initrd)));
	snprintf(console, sizeof(console), "%s/console.log", dir);
	cfg.vm_dir = dir;
	cfg.kernel = tvm_kernel();
	cfg.initrd = initrd;
	ASSERT_EQ(0, vmm_create(NULL, &cfg, &vm));
	ASSERT_EQ(0, vmm_start(vm));
	EXPECT_STREQ("tcg", vm->accel);
	fd = wait_peer(vm);
	ASSERT_LE(0, fd);
	p.fd = fd;
	ASSERT_EQ(5, write(fd, "ECHO\n", 5));
	ASSERT_EQ(0, echo_once(fd, 30000));

	ASSERT_EQ(0, vmm_pause(vm));
	EXPECT_EQ(-ETIMEDOUT, echo_once(fd, 1500));	/* the guest is not running */
	ASSERT_EQ(0, vmm_resume(vm));
	/* the echo of the ping sent while paused arrives now */
	EXPECT_EQ(1, poll(&p, 1, 30000));
	EXPECT_LT(0, read(fd, b, sizeof(b)));
	EXPECT_EQ(-ETIMEDOUT, vmm_wait(vm, 0, &ex));
	close(fd);

	/* the test guest ignores the power button: killed after the grace */
	ASSERT_EQ(0, vmm_stop(vm, 1000, &ex));
	EXPECT_EQ(VMM_EXIT_STOPPED, ex.reason);
	EXPECT_LT(0, vm->stats.vsock_to_guest);
	EXPECT_LT(0, vm->stats.vsock_from_guest);
	vmm_destroy(vm);
	unlink(console);
	EXPECT_EQ(0, rmdir(dir));	/* no socket, no log left */
}

TEST_HARNESS_MAIN
