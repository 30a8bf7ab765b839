/* SPDX-License-Identifier: GPL-2.0 */
/*
 * volume/validate.h - the per-opcode check every guest request passes
 * before libfuse sees it: fixed arguments present, strings terminated,
 * byte counts inside the message and within bounds.
 */
#ifndef FCVM_VOLUME_VALIDATE_H
#define FCVM_VOLUME_VALIDATE_H

#include <stddef.h>

enum volume_verdict {
	VOLUME_PASS,		/* hand it to the FUSE server */
	VOLUME_REPLY_ERR,	/* answer with -*err, do not process */
	VOLUME_DROP,		/* no reply is due (or possible) */
};

enum volume_verdict volume_validate(const void *msg, size_t len, int *err);

#endif /* FCVM_VOLUME_VALIDATE_H */
