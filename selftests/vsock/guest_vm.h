/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftests/vsock/guest_vm.h - boot the test guest (Debian kernel from
 * selftests/vm/kernel-path + the vsock_peer initramfs) with `fcvm vm boot`
 * and talk to its peer over the hybrid-vsock socket.
 */
#ifndef FCVM_SELFTESTS_VSOCK_GUEST_VM_H
#define FCVM_SELFTESTS_VSOCK_GUEST_VM_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#define TVM_BOOT_TIMEOUT_MS	180000

struct tvm {
	pid_t pid;		/* the fcvm process */
	int status;		/* its wait status once reaped */
	int reaped;
	char dir[48];		/* --vsock-dir */
	char sock[64];
	char fcvm_log[64];
	char console[64];
};

const char *tvm_skip_reason(void);
const char *tvm_kernel(void);
int tvm_initrd(char *buf, size_t size);
int tvm_boot(struct tvm *vm);
int tvm_connect(struct tvm *vm, uint32_t port, int timeout_ms);
int tvm_cmd(struct tvm *vm, const char *line);
int tvm_read_line(int fd, char *buf, size_t size, int timeout_ms);
int tvm_wait(struct tvm *vm, int timeout_ms);
pid_t tvm_qemu_pid(const struct tvm *vm);
int tvm_log_has(const struct tvm *vm, const char *needle);
int tvm_dir_sockets(const struct tvm *vm);
void tvm_cleanup(struct tvm *vm);
uint64_t tvm_now_ms(void);

#endif /* FCVM_SELFTESTS_VSOCK_GUEST_VM_H */
