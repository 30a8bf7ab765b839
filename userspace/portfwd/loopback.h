/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portfwd/loopback.h - per-VM loopback addresses (127.10.x.y) for rootless
 * port publishing, so many VMs can publish the same host port. Allocated
 * under a lock in <data dir>/loopback/; one file per address names the VM
 * and the owning fcvm (pid + start time); a dead owner's address is reused.
 */
#ifndef FCVM_PORTFWD_LOOPBACK_H
#define FCVM_PORTFWD_LOOPBACK_H

#include <netinet/in.h>

#include "portfwd/owner.h"

#define LOOPBACK_ID_MAX	PORTFWD_ID_MAX	/* see portfwd_valid_id() */

int loopback_alloc(const char *vm_id, struct in_addr *out);
int loopback_release(const char *vm_id);

#endif /* FCVM_PORTFWD_LOOPBACK_H */
