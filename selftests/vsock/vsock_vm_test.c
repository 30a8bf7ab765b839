// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vsock_vm_test.c - VM lifecycle through `fcvm vm boot`
 * with a real guest: reboot and a reported exit status end the VM with the
 * right fcvm status, QEMU killed behind fcvm's back is noticed, SIGTERM
 * stops the VM gracefully and SIGKILL of fcvm takes QEMU with it; no socket
 * is left behind. One boot per test.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "guest_vm.h"

static int alive(pid_t pid)
{
	return pid > 0 && kill(pid, 0) == 0;
}

/* Wait (bounded) for a process that is not our child to disappear. */
static int gone_within(pid_t pid, int ms)
{
	uint64_t deadline = tvm_now_ms() + (uint64_t)ms;

	while (alive(pid)) {
		char path[64], state = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (f && fscanf(f, "%*d %*s %c", &state) == 1 && state == 'Z') {
			fclose(f);
			return 1;	/* dead, its parent reaps it */
		}
		if (f)
			fclose(f);
		if (tvm_now_ms() > deadline)
			return 0;
		usleep(50 * 1000);	/* polling another process's exit */
	}
	return 1;
}

FIXTURE(vm) {
	struct tvm vm;
};

FIXTURE_SETUP(vm)
{
	const char *skip = tvm_skip_reason();
	int err;

	if (skip)
		SKIP(return, "%s", skip);
	err = tvm_boot(&self->vm);
	ASSERT_EQ(0, err) TH_LOG("boot: %s", strerror(-err));
}

FIXTURE_TEARDOWN(vm)
{
	tvm_cleanup(&self->vm);
}

TEST_F_TIMEOUT(vm, guest_reboot_ends_vm, 300)
{
	int fd = tvm_cmd(&self->vm, "REBOOT");

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tvm_wait(&self->vm, 60000));
	close(fd);
	EXPECT_TRUE(WIFEXITED(self->vm.status));
	EXPECT_EQ(0, WEXITSTATUS(self->vm.status));
	EXPECT_TRUE(tvm_log_has(&self->vm, "guest rebooted"));
	EXPECT_EQ(0, tvm_dir_sockets(&self->vm));
}

TEST_F_TIMEOUT(vm, guest_exit_status_is_fcvm_status, 300)
{
	int fd = tvm_cmd(&self->vm, "EXIT 7");

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tvm_wait(&self->vm, 60000));
	close(fd);
	EXPECT_TRUE(WIFEXITED(self->vm.status));
	EXPECT_EQ(7, WEXITSTATUS(self->vm.status));
	EXPECT_EQ(0, tvm_dir_sockets(&self->vm));
}

TEST_F_TIMEOUT(vm, qemu_killed_is_noticed, 300)
{
	pid_t qemu = tvm_qemu_pid(&self->vm);

	ASSERT_LT(0, qemu);
	ASSERT_EQ(0, kill(qemu, SIGKILL));
	ASSERT_EQ(0, tvm_wait(&self->vm, 20000));
	EXPECT_TRUE(WIFEXITED(self->vm.status));
	EXPECT_EQ(1, WEXITSTATUS(self->vm.status));
	EXPECT_TRUE(tvm_log_has(&self->vm, "VMM crashed"));
	EXPECT_EQ(0, tvm_dir_sockets(&self->vm));
}

TEST_F_TIMEOUT(vm, sigterm_stops_vm_cleanly, 300)
{
	pid_t qemu = tvm_qemu_pid(&self->vm);

	ASSERT_LT(0, qemu);
	ASSERT_EQ(0, kill(self->vm.pid, SIGTERM));
	ASSERT_EQ(0, tvm_wait(&self->vm, 30000));
	EXPECT_TRUE(WIFEXITED(self->vm.status));
	EXPECT_EQ(128 + SIGTERM, WEXITSTATUS(self->vm.status));
	EXPECT_TRUE(gone_within(qemu, 5000));
	EXPECT_EQ(0, tvm_dir_sockets(&self->vm));
}

TEST_F_TIMEOUT(vm, sigkill_of_fcvm_takes_qemu_along, 300)
{
	pid_t qemu = tvm_qemu_pid(&self->vm);

	ASSERT_LT(0, qemu);
	ASSERT_EQ(0, kill(self->vm.pid, SIGKILL));
	ASSERT_EQ(0, tvm_wait(&self->vm, 10000));
	EXPECT_TRUE(gone_within(qemu, 5000));
}

TEST_HARNESS_MAIN
