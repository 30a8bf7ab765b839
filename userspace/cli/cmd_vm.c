// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cmd_vm.c - `fcvm vm boot`: boot a kernel + initramfs through a VMM
 * backend with the hybrid-vsock device, wait for the guest and exit with
 * its status. The low-level entry point tests and the VM lifecycle build on.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "util/log.h"
#include "vmm/vmm.h"

#define VM_PATH "fcvm vm boot"
#define STOP_GRACE_MS 5000

static const char boot_help[] =
	"Options:\n"
	"  --kernel FILE      guest kernel (bzImage)\n"
	"  --initrd FILE      initramfs\n"
	"  --cmdline STR      extra kernel command line\n"
	"  --vsock-dir DIR    runtime directory: DIR/vsock.sock is the hybrid-vsock\n"
	"                     socket, guest connections to port P go to DIR/vsock.sock_P\n"
	"                     (default: a private temporary directory)\n"
	"  --mem MIB          guest memory in MiB (default 256)\n"
	"  --cpus N           vCPUs (default 1)\n"
	"  --console FILE     serial console log (default DIR/console.log, removed\n"
	"                     with the private directory when there is no --vsock-dir)\n"
	"  --accel auto|kvm|tcg   default auto: KVM only if a probe guest runs\n"
	"  --backend NAME     VMM backend (default qemu)\n"
	"\nExit status: 0 when the guest powers off or reboots, N when it reports N\n"
	"through the debug-exit port, 1 when the VMM fails, 128+S when fcvm is stopped\n"
	"by signal S. Environment: FCVM_QEMU overrides the QEMU binary.\n";

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct boot_args {
	struct vmm_config cfg;
	const char *backend;
	char tmpdir[PATH_MAX];
};

static int parse_uint(const char *s, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int parse_boot(int argc, char **argv, struct boot_args *a)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "vsock-dir", required_argument, NULL, 'd' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'n' },
		{ "console", required_argument, NULL, 'o' },
		{ "accel", required_argument, NULL, 'a' },
		{ "backend", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': a->cfg.kernel = optarg; break;
		case 'i': a->cfg.initrd = optarg; break;
		case 'c': a->cfg.cmdline = optarg; break;
		case 'd': a->cfg.vm_dir = optarg; break;
		case 'o': a->cfg.console = optarg; break;
		case 'b': a->backend = optarg; break;
		case 'm':
			if (parse_uint(optarg, 1u << 20, &a->cfg.mem_mib))
				return cli_usage_error(VM_PATH, "bad --mem '%s'", optarg);
			break;
		case 'n':
			if (parse_uint(optarg, 64, &a->cfg.vcpus))
				return cli_usage_error(VM_PATH, "bad --cpus '%s'", optarg);
			break;
		case 'a':
			if (!strcmp(optarg, "auto"))
				a->cfg.accel = VMM_ACCEL_AUTO;
			else if (!strcmp(optarg, "kvm"))
				a->cfg.accel = VMM_ACCEL_KVM;
			else if (!strcmp(optarg, "tcg"))
				a->cfg.accel = VMM_ACCEL_TCG;
			else
				return cli_usage_error(VM_PATH, "bad --accel '%s'", optarg);
			break;
		default:
			return cli_bad_option(VM_PATH, argc, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error(VM_PATH, "unexpected argument '%s'", argv[optind]);
	if (!a->cfg.kernel)
		return cli_usage_error(VM_PATH, "--kernel is required");
	return CLI_OK;
}

static int make_tmpdir(struct boot_args *a)
{
	const char *base = getenv("XDG_RUNTIME_DIR");

	if (!base || access(base, W_OK))
		base = "/tmp";
	if (snprintf(a->tmpdir, sizeof(a->tmpdir), "%s/fcvm-vm.XXXXXX", base) >=
	    (int)sizeof(a->tmpdir) || !mkdtemp(a->tmpdir))
		return -errno ? -errno : -ENAMETOOLONG;
	a->cfg.vm_dir = a->tmpdir;
	return 0;
}

static void remove_tmpdir(struct boot_args *a)
{
	static const char *const files[] = { "console.log", "qemu.log" };
	char p[PATH_MAX + 32];

	if (!a->tmpdir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", a->tmpdir, files[i]);
		unlink(p);
	}
	rmdir(a->tmpdir);
}

/* Show why the VMM failed: the tail of its own log. */
static void show_vmm_log(const struct boot_args *a)
{
	char p[PATH_MAX + 32], line[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/qemu.log", a->cfg.vm_dir);
	f = fopen(p, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		log_error("vmm: %s", strtok(line, "\n") ? line : "");
	fclose(f);
}

static int exit_status(const struct vmm_exit *ex)
{
	switch (ex->reason) {
	case VMM_EXIT_POWEROFF:
	case VMM_EXIT_REBOOT:
		return 0;
	case VMM_EXIT_CODE:
		return ex->code;
	case VMM_EXIT_STOPPED:
		return stop_signal ? 128 + stop_signal : CLI_FAIL;
	default:
		return CLI_FAIL;
	}
}

static int run_vm(struct boot_args *a)
{
	struct vmm_exit ex;
	struct vmm *vm;
	int err;

	err = vmm_create(a->backend, &a->cfg, &vm);
	if (err) {
		log_error("cannot create the VM (kernel %s%s%s): %s", a->cfg.kernel,
			  a->cfg.initrd ? ", initrd " : "",
			  a->cfg.initrd ? a->cfg.initrd : "", strerror(-err));
		return CLI_FAIL;
	}
	err = vmm_start(vm);
	if (err) {
		log_error("cannot start the VM: %s", strerror(-err));
		show_vmm_log(a);
		vmm_destroy(vm);
		return CLI_FAIL;
	}
	log_debug("VM running, hybrid vsock at %s", vmm_vsock_path(vm));
	do {
		err = vmm_wait(vm, -1, &ex);
		if (err == -EINTR && stop_signal)
			err = vmm_stop(vm, STOP_GRACE_MS, &ex);
	} while (err == -EINTR);
	if (err) {
		log_error("waiting for the VM: %s", strerror(-err));
		vmm_destroy(vm);
		return CLI_FAIL;
	}
	if (ex.reason == VMM_EXIT_CRASHED) {
		log_error("%s (status %d)", vmm_exit_str(&ex), ex.code);
		show_vmm_log(a);
	} else if (ex.reason == VMM_EXIT_CODE) {
		log_info("%s: %d", vmm_exit_str(&ex), ex.code);
	} else {
		log_info("%s", vmm_exit_str(&ex));
	}
	vmm_destroy(vm);
	return exit_status(&ex);
}

static int cmd_vm_boot(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct boot_args a = { .cfg = { .vsock = true } };
	int rc, err;

	rc = parse_boot(argc, argv, &a);
	if (rc != CLI_OK)
		return rc;
	if (!a.cfg.vm_dir) {
		err = make_tmpdir(&a);
		if (err) {
			log_error("cannot create a runtime directory: %s", strerror(-err));
			return CLI_FAIL;
		}
	}
	/* no SA_RESTART: the wait must see EINTR to stop the VM */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	rc = run_vm(&a);
	remove_tmpdir(&a);
	return rc;
}

const struct cli_cmd vm_commands[] = {
	{ .name = "boot",
	  .args = "--kernel FILE [--initrd FILE] [--cmdline STR] [--vsock-dir DIR] "
		  "[--mem MIB] [--cpus N] [--console FILE] [--accel auto|kvm|tcg]",
	  .summary = "boot a kernel and initramfs with the vsock device; exit with the guest's status",
	  .help = boot_help, .run = cmd_vm_boot },
	{ NULL },
};
