// SPDX-License-Identifier: GPL-2.0
/*
 * vmm/kvm_probe.c - can a KVM guest actually run here? /dev/kvm existing is
 * not enough (nested setups exist where KVM_RUN never returns), so a child
 * process runs a tiny real-mode guest (out to a port, then hlt) and the
 * parent waits with a hard deadline, killing the child if it hangs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/vmm.h"

#define PROBE_PORT	0x3f8

/* mov al,'K'; mov dx,0x3f8; out dx,al; hlt */
static const uint8_t probe_code[] = { 0xb0, 'K', 0xba, 0xf8, 0x03, 0xee, 0xf4 };

/* Runs in the child: exit 0 when the guest did exactly what it should. */
static int probe_child(void)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = 0, .rflags = 2 };
	struct kvm_run *run;
	int kvm, vm, vcpu, run_size;
	bool saw_io = false;
	uint8_t *mem;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0 || ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return 2;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return 3;
	mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 4;
	memcpy(mem, probe_code, sizeof(probe_code));
	region.memory_size = 0x1000;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return 5;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		return 6;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return 7;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return 8;
	for (int i = 0; i < 4; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return 9;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.port == PROBE_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    ((uint8_t *)run)[run->io.data_offset] == 'K') {
			saw_io = true;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT)
			return saw_io ? 0 : 10;
		return 11;
	}
	return 12;
}

/**
 * vmm_kvm_usable() - run the KVM probe with a hard deadline
 * @timeout_ms: how long the probe guest may take
 *
 * Return: 0 when KVM ran the probe guest, -ENODEV without /dev/kvm,
 * -ETIMEDOUT when KVM_RUN hung, -EIO when the guest misbehaved.
 */
int vmm_kvm_usable(int timeout_ms)
{
	struct pollfd p = { .events = POLLIN };
	int status = 0, pidfd, r;
	pid_t pid;

	if (access("/dev/kvm", R_OK | W_OK))
		return -ENODEV;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(probe_child());
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -errno;
	}
	p.fd = pidfd;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	close(pidfd);
	if (r == 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == 0)
		return -ETIMEDOUT;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
