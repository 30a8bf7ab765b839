// SPDX-License-Identifier: GPL-2.0
/*
 * vmm/qemu.c - the QEMU microvm backend: spawns qemu-system-x86_64 -M
 * microvm with virtio-mmio devices, guest RAM in a shared memfd (so fcvm's
 * vhost-user-vsock device can map it), the serial console in a log file,
 * and QMP on a socket fcvm listens on before QEMU starts. KVM is used only
 * when a probe guest really runs; otherwise TCG, with a one-line notice.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcvm/vsock.h"
#include "util/io.h"
#include "util/log.h"
#include "vmm/qmp.h"
#include "vmm/vmm.h"
#include "vsock/device.h"

#define QEMU_BIN_DEFAULT	"qemu-system-x86_64"
#define QEMU_MAX_ARGS		64
#define QMP_TIMEOUT_MS		20000
#define KVM_PROBE_MS		2000
#define DEBUG_EXIT_PORT		"0xf4"

/* An argv whose strings we own (no string literals: execvp takes char *). */
struct argbuf {
	char *argv[QEMU_MAX_ARGS];
	unsigned int argc;
	char strs[QEMU_MAX_ARGS][PATH_MAX + 64];
};

struct qemu {
	struct qmp qmp;
	struct vsock_device *vsock;
	int pidfd;
	int qmp_listen_fd;
	bool kvm;
	bool qmp_up;		/* QMP connection open */
	bool qmp_ever;		/* QMP handshake completed once: QEMU started */
	char qmp_path[PATH_MAX];
	char vhu_path[PATH_MAX];
	char console[PATH_MAX];
	char log[PATH_MAX];
	struct argbuf args;
};

static int vm_path(char *buf, const struct vmm *vm, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", vm->cfg.vm_dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int qemu_create(struct vmm *vm)
{
	struct qemu *q = calloc(1, sizeof(*q));
	int err;

	if (!q)
		return -ENOMEM;
	q->pidfd = q->qmp_listen_fd = -1;
	q->qmp.fd = -1;
	vm->priv = q;
	err = vm_path(q->qmp_path, vm, "qmp.sock");
	if (!err)
		err = vm_path(q->vhu_path, vm, "vhost-user-vsock.sock");
	if (!err)
		err = vm_path(q->log, vm, "qemu.log");
	if (!err && !vm->cfg.console)
		err = vm_path(q->console, vm, "console.log");
	else if (!err)
		snprintf(q->console, sizeof(q->console), "%s", vm->cfg.console);
	if (err)
		return err;
	if (access(vm->cfg.kernel, R_OK))
		return -errno;
	if (vm->cfg.initrd && access(vm->cfg.initrd, R_OK))
		return -errno;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static int arg(struct argbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->argc + 1 >= QEMU_MAX_ARGS)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(b->strs[b->argc], sizeof(b->strs[0]), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->strs[0]))
		return -ENAMETOOLONG;
	b->argv[b->argc] = b->strs[b->argc];
	b->argc++;
	b->argv[b->argc] = NULL;
	return 0;
}

/* QEMU option values separate with ',': a path with one could inject. */
static bool has_comma(const char *s)
{
	return s && strchr(s, ',');
}

static int build_argv(struct vmm *vm, struct qemu *q)
{
	const struct vmm_config *c = &vm->cfg;
	unsigned int mem = c->mem_mib ? c->mem_mib : 256;
	const char *bin = getenv("FCVM_QEMU");
	struct argbuf *a = &q->args;
	int err = 0;

	if (has_comma(c->kernel) || has_comma(c->initrd) ||
	    has_comma(q->console) || has_comma(c->vm_dir) || has_comma(c->tap))
		return -EINVAL;
	for (unsigned int i = 0; i < c->ndrives; i++)
		if (has_comma(c->drives[i].path))
			return -EINVAL;
	err |= arg(a, "%s", bin && *bin ? bin : QEMU_BIN_DEFAULT);
	err |= arg(a, "-nodefaults");
	err |= arg(a, "-no-user-config");
	err |= arg(a, "-nographic");
	err |= arg(a, "-no-reboot");
	err |= arg(a, "-M");
	err |= arg(a, "microvm,memory-backend=mem,x-option-roms=off,pit=on,rtc=on,isa-serial=on,acpi=on");
	err |= arg(a, "-accel");
	err |= arg(a, "%s", q->kvm ? "kvm" : "tcg");
	/*
	 * QEMU 7.2's TCG corrupts EFLAGS after CMPXCHG16B, which crashes 6.12
	 * guests at random (seen by the kernel test vehicle): hide cx16.
	 */
	err |= arg(a, "-cpu");
	err |= arg(a, "%s", q->kvm ? "host" : "max,-cx16");
	err |= arg(a, "-smp");
	err |= arg(a, "%u", c->vcpus ? c->vcpus : 1);
	err |= arg(a, "-m");
	err |= arg(a, "%uM", mem);
	err |= arg(a, "-object");
	err |= arg(a, "memory-backend-memfd,id=mem,size=%uM,share=on", mem);
	err |= arg(a, "-serial");
	err |= arg(a, "file:%s", q->console);
	err |= arg(a, "-chardev");
	err |= arg(a, "socket,id=qmp,fd=%d,server=on,wait=off", q->qmp_listen_fd);
	err |= arg(a, "-mon");
	err |= arg(a, "chardev=qmp,mode=control");
	/* the guest reports a status by writing it to this port */
	err |= arg(a, "-device");
	err |= arg(a, "isa-debug-exit,iobase=" DEBUG_EXIT_PORT ",iosize=4");
	err |= arg(a, "-kernel");
	err |= arg(a, "%s", c->kernel);
	if (c->initrd) {
		err |= arg(a, "-initrd");
		err |= arg(a, "%s", c->initrd);
	}
	err |= arg(a, "-append");
	/*
	 * Under TCG on a loaded host the guest cannot calibrate its TSC
	 * against the emulated PIT and can stall for minutes: give it the
	 * numbers instead (only the guest's notion of delays depends on them).
	 */
	err |= arg(a, "console=ttyS0 reboot=t panic=-1 %s%s",
		   q->kvm ? "" : "tsc_early_khz=1000000 lpj=4000000 ",
		   c->cmdline ? c->cmdline : "");
	if (c->vsock) {
		err |= arg(a, "-chardev");
		err |= arg(a, "socket,id=vsock,path=%s", q->vhu_path);
		err |= arg(a, "-device");
		err |= arg(a, "vhost-user-vsock-device,chardev=vsock");
	}
	for (unsigned int i = 0; i < c->ndrives; i++) {
		err |= arg(a, "-drive");
		err |= arg(a, "id=d%u,if=none,format=raw,file=%s%s", i,
			   c->drives[i].path, c->drives[i].readonly ? ",readonly=on" : "");
		err |= arg(a, "-device");
		err |= arg(a, "virtio-blk-device,drive=d%u", i);
	}
	if (c->tap) {
		err |= arg(a, "-netdev");
		err |= arg(a, "tap,id=n0,ifname=%s,script=no,downscript=no", c->tap);
		err |= arg(a, "-device");
		err |= arg(a, "virtio-net-device,netdev=n0");
	}
	return err ? -E2BIG : 0;
}

static int listen_qmp(struct qemu *q)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(q->qmp_path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	strcpy(un.sun_path, q->qmp_path);
	/* CLOEXEC like every fd; only QEMU's child clears it (fd= on its command line) */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 1)) {
		err = -errno;
		close(fd);
		return err;
	}
	q->qmp_listen_fd = fd;
	return 0;
}

static int connect_qmp(struct qemu *q)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err;

	if (fd < 0)
		return -errno;
	strcpy(un.sun_path, q->qmp_path);
	/* QEMU listens already (the inherited socket); this queues at once */
	if (connect(fd, (struct sockaddr *)&un, sizeof(un))) {
		err = -errno;
		close(fd);
		return err;
	}
	err = qmp_open(&q->qmp, fd, QMP_TIMEOUT_MS);
	if (err) {
		qmp_close(&q->qmp);
		return err;
	}
	q->qmp_up = true;
	q->qmp_ever = true;
	return 0;
}

/*
 * A firmware image whose reset vector writes PROBE_CODE to the debug-exit
 * port: QEMU then exits with (PROBE_CODE << 1) | 1. Real mode at
 * 0xfffffff0: mov al, PROBE_CODE; out 0xf4, al; hlt; jmp $-1.
 */
#define PROBE_CODE	0x2a
#define PROBE_ROM_SIZE	65536
static const unsigned char probe_reset[] = {
	0xb0, PROBE_CODE, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd,
};

static int write_probe_rom(const char *path)
{
	static unsigned char rom[PROBE_ROM_SIZE];
	int fd, err;

	memset(rom, 0xf4, sizeof(rom));		/* hlt everywhere else */
	memcpy(rom + PROBE_ROM_SIZE - 16, probe_reset, sizeof(probe_reset));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = io_write_full(fd, rom, sizeof(rom));
	close(fd);
	return err;
}

/* Run @argv with a hard deadline; its exit status, or -ETIMEDOUT. */
static int run_with_deadline(char *const argv[], int timeout_ms)
{
	struct pollfd p = { .events = POLLIN };
	pid_t parent = getpid(), pid;
	int status, r;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent || null < 0 || dup2(null, 0) < 0 ||
		    dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	do
		r = p.fd < 0 ? 0 : poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (p.fd >= 0)
		close(p.fd);
	if (r <= 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r <= 0)
		return -ETIMEDOUT;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -EIO;
}

/**
 * qemu_kvm_probe() - can QEMU run a KVM guest here?
 * @vm: the VM (its directory holds the probe firmware briefly)
 * @bin: the QEMU binary
 *
 * First a bare KVM_RUN probe, then QEMU itself with the same machine and
 * CPU model on a firmware that only reports a code through the debug-exit
 * port: catches both KVM_RUN hangs and QEMU refusing the host CPU.
 *
 * Return: 0 when usable, else -errno saying why not.
 */
static int qemu_kvm_probe(struct vmm *vm, const char *bin)
{
	static const char *const fixed[] = {
		"-nodefaults", "-no-user-config", "-display", "none",
		"-M", "microvm,x-option-roms=off,rtc=off,isa-serial=off",
		"-accel", "kvm", "-cpu", "host", "-m", "16M",
		"-device", "isa-debug-exit,iobase=" DEBUG_EXIT_PORT ",iosize=1",
		"-bios",
	};
	struct argbuf *a;
	char rom[PATH_MAX];
	int err;

	err = vmm_kvm_usable(KVM_PROBE_MS);
	if (err)
		return err;
	err = vm_path(rom, vm, "kvm-probe.rom");
	if (err)
		return err;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	err = arg(a, "%s", bin);
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		err |= arg(a, "%s", fixed[i]);
	err |= arg(a, "%s", rom);
	if (!err)
		err = write_probe_rom(rom);
	if (!err)
		err = run_with_deadline(a->argv, KVM_PROBE_MS);
	free(a);
	unlink(rom);
	if (err == -ETIMEDOUT)
		return err;
	return err == ((PROBE_CODE << 1) | 1) ? 0 : -EIO;
}

static void choose_accel(struct vmm *vm, struct qemu *q)
{
	const char *bin = getenv("FCVM_QEMU");
	int err;

	if (vm->cfg.accel == VMM_ACCEL_TCG) {
		q->kvm = false;
		return;
	}
	if (vm->cfg.accel == VMM_ACCEL_KVM) {
		q->kvm = true;
		return;
	}
	err = qemu_kvm_probe(vm, bin && *bin ? bin : QEMU_BIN_DEFAULT);
	q->kvm = !err;
	if (err)
		log_info("KVM cannot run a guest here (%s): using TCG emulation",
			 err == -ETIMEDOUT ? "probe guest hung" :
			 err == -ENODEV ? "no /dev/kvm" : "probe guest failed");
}

static void child_exec(struct qemu *q)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log = open(q->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 ||
	    dup2(log, 2) < 0 || fcntl(q->qmp_listen_fd, F_SETFD, 0) < 0)
		_exit(127);
	execvp(q->args.argv[0], q->args.argv);
	dprintf(2, "fcvm: exec %s: %s\n", q->args.argv[0], strerror(errno));
	_exit(127);
}

static int qemu_start(struct vmm *vm)
{
	struct qemu *q = vm->priv;
	pid_t parent = getpid(), pid;
	int err;

	choose_accel(vm, q);
	vm->accel = q->kvm ? "kvm" : "tcg";
	if (vm->cfg.vsock) {
		err = vsock_device_create(q->vhu_path, vm->vsock_path,
					  vm->cfg.guest_cid ? vm->cfg.guest_cid :
					  FCVM_GUEST_CID, &q->vsock);
		if (!err)
			err = vsock_device_start(q->vsock);
		if (err)
			return err;
	}
	err = listen_qmp(q);
	if (err)
		return err;
	err = build_argv(vm, q);
	if (err)
		return err;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (getppid() != parent)
			_exit(127);	/* fcvm died before PDEATHSIG was armed */
		child_exec(q);
	}
	vm->pid = pid;
	close(q->qmp_listen_fd);
	q->qmp_listen_fd = -1;
	q->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (q->pidfd < 0)
		return -errno;
	return connect_qmp(q);
}

static int qemu_simple(struct vmm *vm, const char *cmd)
{
	struct qemu *q = vm->priv;

	if (!q->qmp_up)
		return -ENOTCONN;
	return qmp_command(&q->qmp, cmd, QMP_TIMEOUT_MS);
}

static int qemu_pause(struct vmm *vm)
{
	return qemu_simple(vm, "stop");
}

static int qemu_resume(struct vmm *vm)
{
	return qemu_simple(vm, "cont");
}

static int qemu_shutdown(struct vmm *vm)
{
	return qemu_simple(vm, "system_powerdown");
}

static void classify(struct vmm *vm, struct qemu *q, int status,
		     struct vmm_exit *ex)
{
	if (q->qmp_up)
		qmp_read_events(&q->qmp);
	if (WIFSIGNALED(status)) {
		ex->reason = vm->stopping ? VMM_EXIT_STOPPED : VMM_EXIT_CRASHED;
		ex->code = WTERMSIG(status);
	} else if (q->qmp.shutdown_seen) {
		ex->reason = !strcmp(q->qmp.shutdown_reason, "guest-reset") ?
			     VMM_EXIT_REBOOT : vm->stopping ? VMM_EXIT_STOPPED :
			     VMM_EXIT_POWEROFF;
		ex->code = WEXITSTATUS(status);
	} else if (q->qmp_ever && (WEXITSTATUS(status) & 1)) {
		/* isa-debug-exit: QEMU exits with (code << 1) | 1 */
		ex->reason = VMM_EXIT_CODE;
		ex->code = WEXITSTATUS(status) >> 1;
	} else {
		ex->reason = VMM_EXIT_CRASHED;
		ex->code = WEXITSTATUS(status);
	}
}

/* The guest is gone: stop the vsock device and keep its counters. */
static void vsock_stop(struct vmm *vm, struct qemu *q)
{
	struct vsock_device_stats st;

	if (!q->vsock)
		return;
	vsock_device_destroy(q->vsock, &st);
	q->vsock = NULL;
	vm->stats.vsock_cpu_ns = st.cpu_ns;
	vm->stats.vsock_to_guest = st.mux.bytes_to_guest;
	vm->stats.vsock_from_guest = st.mux.bytes_from_guest;
}

static int qemu_wait(struct vmm *vm, int timeout_ms, struct vmm_exit *ex)
{
	struct qemu *q = vm->priv;
	struct timespec t0;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = q->pidfd, .events = POLLIN },
			{ .fd = q->qmp_up ? q->qmp.fd : -1, .events = POLLIN },
		};
		struct timespec t;
		int left = timeout_ms, r;

		if (timeout_ms >= 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
						  (t.tv_nsec - t0.tv_nsec) / 1000000);
			if (left < 0)
				left = 0;
		}
		r = poll(p, 2, left);
		if (r < 0)
			return -errno;	/* EINTR included: the caller decides */
		if (r == 0)
			return -ETIMEDOUT;
		if (p[1].revents) {
			if (qmp_read_events(&q->qmp)) {
				qmp_close(&q->qmp);
				q->qmp_up = false;
			}
		}
		if (p[0].revents)
			break;
	}
	if (waitpid(vm->pid, &status, 0) < 0)
		return -errno;
	vm->exited = true;
	classify(vm, q, status, ex);
	vsock_stop(vm, q);
	return 0;
}

static void qemu_kill(struct vmm *vm)
{
	if (vm->pid > 0 && !vm->exited)
		kill(vm->pid, SIGKILL);
}

static void qemu_destroy(struct vmm *vm)
{
	struct qemu *q = vm->priv;

	if (!q)
		return;
	if (vm->pid > 0 && !vm->exited) {
		kill(vm->pid, SIGKILL);
		while (waitpid(vm->pid, NULL, 0) < 0 && errno == EINTR)
			;
		vm->exited = true;
	}
	qmp_close(&q->qmp);
	if (q->qmp_listen_fd >= 0)
		close(q->qmp_listen_fd);
	if (q->pidfd >= 0)
		close(q->pidfd);
	unlink(q->qmp_path);
	unlink(q->log);
	vsock_stop(vm, q);
	free(q);
	vm->priv = NULL;
}

const struct vmm_ops vmm_qemu_ops = {
	.name = "qemu",
	.caps = VMM_CAP_PAUSE | VMM_CAP_VSOCK | VMM_CAP_TAP | VMM_CAP_DRIVES,
	.create = qemu_create,
	.start = qemu_start,
	.pause = qemu_pause,
	.resume = qemu_resume,
	.shutdown = qemu_shutdown,
	.wait = qemu_wait,
	.kill = qemu_kill,
	.destroy = qemu_destroy,
};
