// SPDX-License-Identifier: GPL-2.0
/*
 * volume/validate.c - checks a guest FUSE request before libfuse parses it.
 * libfuse trusts the kernel: it reads fixed argument structs without
 * checking the message length and runs strlen() on names. The guest is
 * untrusted, so every opcode the server handles is described here (fixed
 * argument size, trailing NUL-terminated strings, byte counts); anything
 * else is answered ENOSYS without reaching libfuse.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/fuse.h>

#include "fcvm/volume.h"
#include "volume/validate.h"

#define XATTR_MAX	65536u
#define NAME_MAX_LEN	4096u	/* names and symlink targets, incl. NUL */

/* Argument layout: fixed struct, then `strings` NUL-terminated strings. */
struct op_shape {
	uint16_t fixed;
	uint8_t strings;
	uint8_t known;
};

#define OP(code, size, nstr) [code] = { .fixed = (size), .strings = (nstr), .known = 1 }

static const struct op_shape shapes[] = {
	OP(FUSE_LOOKUP, 0, 1),
	OP(FUSE_FORGET, sizeof(struct fuse_forget_in), 0),
	OP(FUSE_GETATTR, sizeof(struct fuse_getattr_in), 0),
	OP(FUSE_SETATTR, sizeof(struct fuse_setattr_in), 0),
	OP(FUSE_READLINK, 0, 0),
	OP(FUSE_SYMLINK, 0, 2),
	OP(FUSE_MKNOD, sizeof(struct fuse_mknod_in), 1),
	OP(FUSE_MKDIR, sizeof(struct fuse_mkdir_in), 1),
	OP(FUSE_UNLINK, 0, 1),
	OP(FUSE_RMDIR, 0, 1),
	OP(FUSE_RENAME, sizeof(struct fuse_rename_in), 2),
	OP(FUSE_LINK, sizeof(struct fuse_link_in), 1),
	OP(FUSE_OPEN, sizeof(struct fuse_open_in), 0),
	OP(FUSE_READ, sizeof(struct fuse_read_in), 0),
	OP(FUSE_WRITE, sizeof(struct fuse_write_in), 0),
	OP(FUSE_STATFS, 0, 0),
	OP(FUSE_RELEASE, sizeof(struct fuse_release_in), 0),
	OP(FUSE_FSYNC, sizeof(struct fuse_fsync_in), 0),
	OP(FUSE_SETXATTR, sizeof(struct fuse_setxattr_in) - 8, 1),	/* no SETXATTR_EXT */
	OP(FUSE_GETXATTR, sizeof(struct fuse_getxattr_in), 1),
	OP(FUSE_LISTXATTR, sizeof(struct fuse_getxattr_in), 0),
	OP(FUSE_REMOVEXATTR, 0, 1),
	OP(FUSE_FLUSH, sizeof(struct fuse_flush_in), 0),
	OP(FUSE_INIT, 16, 0),
	OP(FUSE_OPENDIR, sizeof(struct fuse_open_in), 0),
	OP(FUSE_READDIR, sizeof(struct fuse_read_in), 0),
	OP(FUSE_RELEASEDIR, sizeof(struct fuse_release_in), 0),
	OP(FUSE_FSYNCDIR, sizeof(struct fuse_fsync_in), 0),
	OP(FUSE_ACCESS, sizeof(struct fuse_access_in), 0),
	OP(FUSE_CREATE, sizeof(struct fuse_create_in), 1),
	OP(FUSE_INTERRUPT, sizeof(struct fuse_interrupt_in), 0),
	OP(FUSE_DESTROY, 0, 0),
	OP(FUSE_BATCH_FORGET, sizeof(struct fuse_batch_forget_in), 0),
	OP(FUSE_FALLOCATE, sizeof(struct fuse_fallocate_in), 0),
	OP(FUSE_READDIRPLUS, sizeof(struct fuse_read_in), 0),
	OP(FUSE_RENAME2, sizeof(struct fuse_rename2_in), 2),
	OP(FUSE_LSEEK, sizeof(struct fuse_lseek_in), 0),
	OP(FUSE_COPY_FILE_RANGE, sizeof(struct fuse_copy_file_range_in), 0),
};

/* Every string in [p, end) of the shape is terminated; returns bytes used. */
static int check_strings(const char *p, size_t avail, unsigned int n, size_t *used)
{
	size_t off = 0;

	for (unsigned int i = 0; i < n; i++) {
		const char *nul = memchr(p + off, '\0', avail - off);

		if (!nul || (size_t)(nul - (p + off)) + 1 > NAME_MAX_LEN)
			return -EINVAL;
		off = (size_t)(nul - p) + 1;
	}
	*used = off;
	return 0;
}

/* Byte counts the fixed arguments announce. */
static int check_counts(uint32_t op, const char *arg, size_t avail, size_t tail)
{
	switch (op) {
	case FUSE_READ:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS: {
		const struct fuse_read_in *r = (const void *)arg;

		return r->size > FCVM_VOLUME_MAX_WRITE ? -EINVAL : 0;
	}
	case FUSE_WRITE: {
		const struct fuse_write_in *w = (const void *)arg;

		return w->size != avail - sizeof(*w) || w->size > FCVM_VOLUME_MAX_WRITE ?
		       -EINVAL : 0;
	}
	case FUSE_SETXATTR: {
		const struct fuse_setxattr_in *s = (const void *)arg;

		return s->size > XATTR_MAX || s->size != tail ? -EINVAL : 0;
	}
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR: {
		const struct fuse_getxattr_in *g = (const void *)arg;

		return g->size > XATTR_MAX ? -EINVAL : 0;
	}
	case FUSE_BATCH_FORGET: {
		const struct fuse_batch_forget_in *b = (const void *)arg;

		return (size_t)b->count > (avail - sizeof(*b)) / sizeof(struct fuse_forget_one) ?
		       -EINVAL : 0;
	}
	case FUSE_INIT: {
		const struct fuse_init_in *in = (const void *)arg;

		/* libfuse reads the whole 7.36+ struct when the kernel is new. */
		if (in->major != FUSE_KERNEL_VERSION || in->minor < 31)
			return -EPROTO;
		return in->minor >= 36 && avail < sizeof(*in) ? -EINVAL : 0;
	}
	default:
		return 0;
	}
}

/* Opcodes that never get a reply. */
static int no_reply(uint32_t op)
{
	return op == FUSE_FORGET || op == FUSE_BATCH_FORGET || op == FUSE_INTERRUPT ||
	       op == FUSE_NOTIFY_REPLY;
}

/**
 * volume_validate() - may this guest request reach the FUSE server?
 * @msg: one whole request (the channel checked len == @len >= a header)
 * @len: its length
 * @err: set to the (positive) errno to answer with for VOLUME_REPLY_ERR
 *
 * INTERRUPT is dropped: requests are served inline, there is nothing to
 * interrupt, and libfuse would queue unmatched interrupts without bound.
 *
 * Return: the verdict.
 */
enum volume_verdict volume_validate(const void *msg, size_t len, int *err)
{
	const struct fuse_in_header *h = msg;
	const char *arg = (const char *)msg + sizeof(*h);
	size_t avail, used = 0;
	const struct op_shape *s;
	int e;

	if (len < sizeof(*h) || h->len != len)
		return VOLUME_DROP;
	avail = len - sizeof(*h);
	if (h->opcode == FUSE_INTERRUPT || h->opcode == FUSE_NOTIFY_REPLY)
		return VOLUME_DROP;
	if (h->opcode >= sizeof(shapes) / sizeof(shapes[0]) || !shapes[h->opcode].known) {
		*err = ENOSYS;
		return h->unique ? VOLUME_REPLY_ERR : VOLUME_DROP;
	}
	s = &shapes[h->opcode];
	e = avail < s->fixed ? -EINVAL : 0;
	if (!e)
		e = check_strings(arg + s->fixed, avail - s->fixed, s->strings, &used);
	if (!e)
		e = check_counts(h->opcode, arg, avail, avail - s->fixed - used);
	if (!e && h->opcode != FUSE_WRITE && h->opcode != FUSE_SETXATTR &&
	    h->opcode != FUSE_BATCH_FORGET && h->opcode != FUSE_INIT &&
	    s->fixed + used != avail && s->strings)
		e = -EINVAL;	/* trailing bytes after the names */
	if (!e)
		return VOLUME_PASS;
	if (no_reply(h->opcode) || !h->unique)
		return VOLUME_DROP;
	*err = -e;
	return VOLUME_REPLY_ERR;
}
