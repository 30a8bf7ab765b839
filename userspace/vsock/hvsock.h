/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock/hvsock.h - host-side client of a VM's hybrid-vsock socket
 * (Firecracker semantics, also served by fcvm's own vhost-user-vsock device):
 * connect(<vmdir>/vsock.sock), "CONNECT <port>\n", expect "OK <n>\n".
 */
#ifndef FCVM_VSOCK_HVSOCK_H
#define FCVM_VSOCK_HVSOCK_H

#include <stdint.h>

int hvsock_connect(const char *uds_path, uint32_t guest_port, int timeout_ms,
		   uint32_t *host_port);

/* Non-blocking form for event loops: start, then finish on POLLIN. */
int hvsock_start(const char *uds_path, uint32_t guest_port);
int hvsock_finish(int fd, uint32_t *host_port);

#endif /* FCVM_VSOCK_HVSOCK_H */
