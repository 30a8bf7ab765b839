// SPDX-License-Identifier: GPL-2.0
/*
 * vmm/vmm.c - backend-independent half of the VMM interface: backend
 * lookup, capability checks, and stop = graceful shutdown with a deadline,
 * then kill.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/vmm.h"

static const struct vmm_ops *const backends[] = {
	&vmm_qemu_ops,
};

/**
 * vmm_create() - pick a backend and check the configuration
 * @backend: backend name ("qemu"), NULL for the default
 * @cfg: configuration; its strings must outlive the VM
 * @out: the new VM (not started)
 *
 * Return: 0, -ENOENT for an unknown backend, -EOPNOTSUPP when the backend
 * lacks a capability the configuration needs, or another -errno.
 */
int vmm_create(const char *backend, const struct vmm_config *cfg,
	       struct vmm **out)
{
	const struct vmm_ops *ops = NULL;
	struct vmm *vm;
	int err;

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!backend || !strcmp(backend, backends[i]->name)) {
			ops = backends[i];
			break;
		}
	if (!ops)
		return -ENOENT;
	if (!cfg->vm_dir || !cfg->kernel || cfg->ndrives > VMM_MAX_DRIVES)
		return -EINVAL;
	if ((cfg->vsock && !(ops->caps & VMM_CAP_VSOCK)) ||
	    (cfg->tap && !(ops->caps & VMM_CAP_TAP)) ||
	    (cfg->ndrives && !(ops->caps & VMM_CAP_DRIVES)))
		return -EOPNOTSUPP;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->ops = ops;
	vm->cfg = *cfg;
	if (cfg->vsock && asprintf(&vm->vsock_path, "%s/vsock.sock", cfg->vm_dir) < 0) {
		vm->vsock_path = NULL;
		err = -ENOMEM;
		goto err_free;
	}
	err = ops->create(vm);
	if (err)
		goto err_destroy;
	*out = vm;
	return 0;

err_destroy:
	ops->destroy(vm);
	free(vm->vsock_path);
err_free:
	free(vm);
	return err;
}

int vmm_start(struct vmm *vm)
{
	if (vm->pid)
		return -EALREADY;
	return vm->ops->start(vm);
}

int vmm_pause(struct vmm *vm)
{
	if (!(vm->ops->caps & VMM_CAP_PAUSE))
		return -EOPNOTSUPP;
	return vm->ops->pause(vm);
}

int vmm_resume(struct vmm *vm)
{
	if (!(vm->ops->caps & VMM_CAP_PAUSE))
		return -EOPNOTSUPP;
	return vm->ops->resume(vm);
}

/**
 * vmm_wait() - wait for the VM to end
 * @vm: a started VM
 * @timeout_ms: -1 forever
 * @ex: how it ended
 *
 * Return: 0 when it has ended, -ETIMEDOUT, -EINTR on a signal.
 */
int vmm_wait(struct vmm *vm, int timeout_ms, struct vmm_exit *ex)
{
	int err;

	if (vm->exited) {
		*ex = vm->exit;
		return 0;
	}
	if (!vm->pid)
		return -ECHILD;
	err = vm->ops->wait(vm, timeout_ms, &vm->exit);
	if (!err) {
		vm->exited = true;
		*ex = vm->exit;
	}
	return err;
}

/**
 * vmm_stop() - ask the guest to power off, kill the VMM after @timeout_ms
 * @vm: a started VM
 * @timeout_ms: grace period (0: kill at once)
 * @ex: how it ended
 *
 * Return: 0 or -errno.
 */
int vmm_stop(struct vmm *vm, int timeout_ms, struct vmm_exit *ex)
{
	int err;

	if (vm->exited || !vm->pid)
		return vmm_wait(vm, 0, ex);
	vm->stopping = true;
	if (timeout_ms > 0 && vm->ops->shutdown(vm) == 0) {
		err = vmm_wait(vm, timeout_ms, ex);
		if (err != -ETIMEDOUT && err != -EINTR)
			return err;
	}
	vm->ops->kill(vm);
	do
		err = vmm_wait(vm, -1, ex);
	while (err == -EINTR);
	return err;
}

void vmm_destroy(struct vmm *vm)
{
	if (!vm)
		return;
	vm->ops->destroy(vm);
	free(vm->vsock_path);
	free(vm);
}

unsigned int vmm_caps(const struct vmm *vm)
{
	return vm->ops->caps;
}

const char *vmm_vsock_path(const struct vmm *vm)
{
	return vm->vsock_path;
}

const char *vmm_exit_str(const struct vmm_exit *ex)
{
	switch (ex->reason) {
	case VMM_EXIT_POWEROFF:
		return "guest powered off";
	case VMM_EXIT_REBOOT:
		return "guest rebooted";
	case VMM_EXIT_CODE:
		return "guest reported a status";
	case VMM_EXIT_STOPPED:
		return "stopped";
	default:
		return "VMM crashed";
	}
}
