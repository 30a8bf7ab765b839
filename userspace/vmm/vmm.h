/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm/vmm.h - the backend interface every VMM (QEMU microvm, Firecracker)
 * implements. Callers configure a VM, start it, pause/resume/stop it and
 * wait for its exit; capability bits say what a backend cannot do so
 * callers can refuse clearly. A VM's runtime files (control sockets, the
 * hybrid-vsock socket vsock.sock, the console log) live in its vm_dir.
 * Documented in Documentation/vmm.rst.
 */
#ifndef FCVM_VMM_VMM_H
#define FCVM_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VMM_MAX_DRIVES	8

/* Capability bits (struct vmm_ops.caps). */
#define VMM_CAP_PAUSE		(1u << 0)	/* pause/resume */
#define VMM_CAP_SNAPSHOT	(1u << 1)	/* snapshot create/restore */
#define VMM_CAP_UFFD		(1u << 2)	/* restore memory through userfaultfd */
#define VMM_CAP_VSOCK		(1u << 3)	/* hybrid vsock on <vm_dir>/vsock.sock */
#define VMM_CAP_TAP		(1u << 4)	/* TAP networking */
#define VMM_CAP_DRIVES		(1u << 5)	/* block devices */

enum vmm_accel {
	VMM_ACCEL_AUTO,		/* KVM if a probe guest runs, else TCG */
	VMM_ACCEL_KVM,
	VMM_ACCEL_TCG,
};

struct vmm_drive {
	const char *path;
	bool readonly;
};

struct vmm_config {
	const char *vm_dir;		/* exists; runtime files go here */
	const char *kernel;
	const char *initrd;		/* may be NULL */
	const char *cmdline;		/* may be NULL */
	unsigned int vcpus;		/* 0: 1 */
	unsigned int mem_mib;		/* 0: 256 */
	struct vmm_drive drives[VMM_MAX_DRIVES];
	unsigned int ndrives;
	const char *tap;		/* TAP interface name, NULL: no network */
	bool vsock;			/* hybrid vsock at <vm_dir>/vsock.sock */
	uint32_t guest_cid;		/* 0: FCVM_GUEST_CID */
	const char *console;		/* serial log, NULL: <vm_dir>/console.log */
	enum vmm_accel accel;
};

enum vmm_exit_reason {
	VMM_EXIT_POWEROFF,	/* guest powered off */
	VMM_EXIT_REBOOT,	/* guest asked for a reset (ends the VM) */
	VMM_EXIT_CODE,		/* guest reported a status (code) */
	VMM_EXIT_STOPPED,	/* we stopped it (vmm_stop) */
	VMM_EXIT_CRASHED,	/* the VMM died: code = signal or exit status */
};

struct vmm_exit {
	enum vmm_exit_reason reason;
	int code;
};

/* Counters of the backend's own devices, final once the VM has exited. */
struct vmm_stats {
	uint64_t vsock_cpu_ns;		/* CPU time of the vsock device */
	uint64_t vsock_to_guest;	/* payload bytes */
	uint64_t vsock_from_guest;
};

struct vmm;

struct vmm_ops {
	const char *name;
	unsigned int caps;
	int (*create)(struct vmm *vm);
	int (*start)(struct vmm *vm);
	int (*pause)(struct vmm *vm);
	int (*resume)(struct vmm *vm);
	int (*shutdown)(struct vmm *vm);	/* ask the guest to power off */
	int (*wait)(struct vmm *vm, int timeout_ms, struct vmm_exit *ex);
	void (*kill)(struct vmm *vm);
	void (*destroy)(struct vmm *vm);
};

struct vmm {
	const struct vmm_ops *ops;
	struct vmm_config cfg;
	char *vsock_path;		/* <vm_dir>/vsock.sock when cfg.vsock */
	pid_t pid;			/* the VMM process, 0 before start */
	const char *accel;		/* "kvm" or "tcg" once started */
	bool exited;
	bool stopping;
	struct vmm_exit exit;
	struct vmm_stats stats;
	void *priv;
};

int vmm_create(const char *backend, const struct vmm_config *cfg,
	       struct vmm **out);
int vmm_start(struct vmm *vm);
int vmm_pause(struct vmm *vm);
int vmm_resume(struct vmm *vm);
int vmm_stop(struct vmm *vm, int timeout_ms, struct vmm_exit *ex);
int vmm_wait(struct vmm *vm, int timeout_ms, struct vmm_exit *ex);
void vmm_destroy(struct vmm *vm);
unsigned int vmm_caps(const struct vmm *vm);
const char *vmm_vsock_path(const struct vmm *vm);
const char *vmm_exit_str(const struct vmm_exit *ex);

int vmm_kvm_usable(int timeout_ms);

extern const struct vmm_ops vmm_qemu_ops;

#endif /* FCVM_VMM_VMM_H */
