/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmm/qmp.h - a small QMP (QEMU Machine Protocol) client: greeting and
 * capability negotiation, synchronous commands, and the SHUTDOWN event
 * that tells a guest poweroff from a guest reset.
 */
#ifndef FCVM_VMM_QMP_H
#define FCVM_VMM_QMP_H

#include <stdbool.h>
#include <stddef.h>

#define QMP_BUF_MAX	(64 * 1024)

struct qmp {
	int fd;
	size_t len;
	bool shutdown_seen;
	char shutdown_reason[32];
	char buf[QMP_BUF_MAX];
};

int qmp_open(struct qmp *q, int fd, int timeout_ms);
int qmp_command(struct qmp *q, const char *execute, int timeout_ms);
int qmp_read_events(struct qmp *q);
void qmp_close(struct qmp *q);

#endif /* FCVM_VMM_QMP_H */
