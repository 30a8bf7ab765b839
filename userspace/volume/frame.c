// SPDX-License-Identifier: GPL-2.0
/*
 * volume/frame.c - the userspace channel's framing: one read() fills a
 * read-ahead buffer, whole requests are cut from it by fuse_in_header.len.
 * A request too big for the buffer is read straight into the caller's
 * buffer. Wire format: include/fcvm/volume.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcvm/volume.h"
#include "volume/frame.h"

int frame_reader_init(struct frame_reader *r, int fd, size_t cap)
{
	r->buf = malloc(cap);
	if (!r->buf)
		return -ENOMEM;
	r->fd = fd;
	r->cap = cap;
	r->start = r->end = 0;
	return 0;
}

void frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

static ssize_t fill(struct frame_reader *r)
{
	ssize_t n;

	if (r->start == r->end) {
		r->start = r->end = 0;
	} else if (r->end == r->cap) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	do {
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	r->end += (size_t)n;
	return n;
}

/* The rest of a request too big for the read-ahead buffer. */
static ssize_t read_direct(struct frame_reader *r, char *dst, size_t len)
{
	size_t have = r->end - r->start;

	memcpy(dst, r->buf + r->start, have);
	r->start = r->end = 0;
	while (have < len) {
		ssize_t n = read(r->fd, dst + have, len - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		have += (size_t)n;
	}
	return (ssize_t)len;
}

/**
 * frame_read() - the next whole request of a connection
 * @r:    the connection's reader
 * @dst:  where the request goes
 * @size: room at @dst
 * @bad:  on -EPROTO, the offending header (so the caller can answer it)
 *
 * Return: the request's length (>= FCVM_VOLUME_IN_MIN); 0 at end of stream
 * on a message boundary; -EPIPE when the stream ends inside a message;
 * -EPROTO for a length below a header, above FCVM_VOLUME_MSG_MAX or above
 * @size (the stream cannot be resynchronised after it); or -errno.
 */
ssize_t frame_read(struct frame_reader *r, void *dst, size_t size,
		   struct fuse_in_header *bad)
{
	for (;;) {
		size_t have = r->end - r->start;
		ssize_t n;

		if (have >= sizeof(struct fuse_in_header)) {
			struct fuse_in_header h;

			memcpy(&h, r->buf + r->start, sizeof(h));
			if (h.len < FCVM_VOLUME_IN_MIN || h.len > FCVM_VOLUME_MSG_MAX ||
			    h.len > size) {
				*bad = h;
				return -EPROTO;
			}
			if (have >= h.len) {
				memcpy(dst, r->buf + r->start, h.len);
				r->start += h.len;
				return h.len;
			}
			if (h.len > r->cap)
				return read_direct(r, dst, h.len);
			if (r->start + h.len > r->cap) {
				memmove(r->buf, r->buf + r->start, have);
				r->start = 0;
				r->end = have;
			}
		}
		n = fill(r);
		if (n < 0)
			return n;
		if (n == 0)
			return r->end == r->start ? 0 : -EPIPE;
	}
}
