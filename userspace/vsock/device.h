/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock/device.h - fcvm's vhost-user-vsock device backend. QEMU connects
 * to the vhost-user socket (-device vhost-user-vsock-device); the host side
 * is Firecracker's hybrid vsock on <uds_path>. The device runs in its own
 * thread until vsock_device_destroy().
 */
#ifndef FCVM_VSOCK_DEVICE_H
#define FCVM_VSOCK_DEVICE_H

#include <stdint.h>

#include "vsock/mux.h"

struct vsock_device;

struct vsock_device_stats {
	struct mux_stats mux;
	uint64_t cpu_ns;	/* CPU time of the device thread */
	uint64_t frontends;	/* vhost-user connections accepted */
};

int vsock_device_create(const char *vhost_user_path, const char *uds_path,
			uint64_t guest_cid, struct vsock_device **out);
int vsock_device_start(struct vsock_device *dev);
void vsock_device_destroy(struct vsock_device *dev,
			  struct vsock_device_stats *stats);

#endif /* FCVM_VSOCK_DEVICE_H */
