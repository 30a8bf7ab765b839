/* SPDX-License-Identifier: GPL-2.0 */
/*
 * volume/frame.h - splitting a guest stream into whole FUSE requests.
 * Lengths come from the untrusted guest: every one is checked before use.
 */
#ifndef FCVM_VOLUME_FRAME_H
#define FCVM_VOLUME_FRAME_H

#include <stddef.h>
#include <sys/types.h>

#include <linux/fuse.h>

/* Read-ahead buffer of one connection. */
struct frame_reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start;
	size_t end;
};

int frame_reader_init(struct frame_reader *r, int fd, size_t cap);
void frame_reader_free(struct frame_reader *r);
ssize_t frame_read(struct frame_reader *r, void *dst, size_t size,
		   struct fuse_in_header *bad);

#endif /* FCVM_VOLUME_FRAME_H */
