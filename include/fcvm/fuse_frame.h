/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcvm/fuse_frame.h - the FUSE frame checks of the volume channel, header
 * only, compiled both into fcvm_accel.ko (kmod/chan.c) and into userspace
 * (the libFuzzer target selftests/kmod-fuzz/fuzz_kframe.c).
 *
 * A guest's request is cut from its stream by fuse_in_header.len; these
 * helpers decide whether the stream can still be cut (tear the connection
 * down if not), whether the module may serve a request in-kernel
 * (READ/WRITE with exact argument sizes), and whether a reply written by the
 * server is well formed. They never trust a field: every length is checked
 * against the header, the opcode's argument size and a maximum before it is
 * used. Documented in Documentation/fcvm_accel.rst.
 */
#ifndef FCVM_FUSE_FRAME_H
#define FCVM_FUSE_FRAME_H

#ifdef __KERNEL__
#include <linux/string.h>
#include <linux/types.h>
#else
#include <string.h>
#include <linux/types.h>
#endif
#include <linux/fuse.h>

#define FCVM_FRAME_IN_HDR	((__u32)sizeof(struct fuse_in_header))
#define FCVM_FRAME_OUT_HDR	((__u32)sizeof(struct fuse_out_header))
/* A reply to FUSE_INTERRUPT carries the interrupted unique with bit 0 set. */
#define FCVM_FRAME_INT_BIT	1ULL
/* fuse_out_header.error of a reply: 0 or a negative errno above this. */
#define FCVM_FRAME_MIN_ERROR	(-512)

/**
 * enum fcvm_frame_kind - what to do with one whole request
 * @FCVM_FRAME_SLOW:    hand to userspace; a reply is expected
 * @FCVM_FRAME_NOREPLY: hand to userspace; no reply will come (FORGET,
 *                      BATCH_FORGET, INTERRUPT, or unique 0)
 * @FCVM_FRAME_READ:    READ with fixed-size arguments: fast-path candidate
 * @FCVM_FRAME_WRITE:   WRITE whose payload matches its size: candidate
 */
enum fcvm_frame_kind {
	FCVM_FRAME_SLOW = 0,
	FCVM_FRAME_NOREPLY,
	FCVM_FRAME_READ,
	FCVM_FRAME_WRITE,
};

/**
 * struct fcvm_frame_io - the arguments of a READ or WRITE candidate
 * @unique: the request's unique
 * @fh:     the file handle (not yet checked against any table)
 * @offset: the file offset (not yet checked for range)
 * @size:   bytes to read, or the payload size of a WRITE
 * @data:   the WRITE payload inside the frame (NULL for READ)
 */
struct fcvm_frame_io {
	__u64 unique;
	__u64 fh;
	__u64 offset;
	__u32 size;
	const void *data;
};

/**
 * fcvm_frame_in_len() - check a request header's length
 * @hdr: the first FCVM_FRAME_IN_HDR bytes of a request
 * @max: the largest frame the channel accepts
 *
 * Return: the whole frame length, or 0 when it is below the header or above
 * @max: the stream cannot be cut any more and the connection must go.
 */
static inline __u32 fcvm_frame_in_len(const void *hdr, __u32 max)
{
	struct fuse_in_header h;

	memcpy(&h, hdr, sizeof(h));
	if (h.len < FCVM_FRAME_IN_HDR || h.len > max)
		return 0;
	return h.len;
}

/**
 * fcvm_frame_classify() - say how to handle a whole request
 * @buf: the request, @len bytes, @len already checked by fcvm_frame_in_len()
 * @len: its length
 * @io:  filled for FCVM_FRAME_READ and FCVM_FRAME_WRITE
 *
 * Only what the module itself acts on is decoded: READ and WRITE with their
 * exact argument sizes (a WRITE's size must match its payload) become
 * fast-path candidates; requests that get no reply are marked so. Anything
 * else, malformed or not, goes to the server unchanged, which validates it
 * and answers exactly as it does on the userspace channel.
 *
 * Return: an enum fcvm_frame_kind.
 */
static inline int fcvm_frame_classify(const void *buf, __u32 len,
				      struct fcvm_frame_io *io)
{
	const unsigned char *p = (const unsigned char *)buf;
	__u32 arg = len - FCVM_FRAME_IN_HDR;
	struct fuse_write_in w;
	struct fuse_read_in r;
	struct fuse_in_header h;

	memcpy(&h, p, sizeof(h));
	if (!h.unique)
		return FCVM_FRAME_NOREPLY;
	switch (h.opcode) {
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_INTERRUPT:
		return FCVM_FRAME_NOREPLY;
	case FUSE_READ:
		if (arg != sizeof(r))
			return FCVM_FRAME_SLOW;
		memcpy(&r, p + FCVM_FRAME_IN_HDR, sizeof(r));
		io->unique = h.unique;
		io->fh = r.fh;
		io->offset = r.offset;
		io->size = r.size;
		io->data = NULL;
		return FCVM_FRAME_READ;
	case FUSE_WRITE:
		if (arg < sizeof(w))
			return FCVM_FRAME_SLOW;
		memcpy(&w, p + FCVM_FRAME_IN_HDR, sizeof(w));
		if (w.size != arg - sizeof(w))
			return FCVM_FRAME_SLOW;
		/* the server clears setuid/setgid bits with the guest's creds */
		if (w.write_flags & FUSE_WRITE_KILL_SUIDGID)
			return FCVM_FRAME_SLOW;
		io->unique = h.unique;
		io->fh = w.fh;
		io->offset = w.offset;
		io->size = w.size;
		io->data = p + FCVM_FRAME_IN_HDR + sizeof(w);
		return FCVM_FRAME_WRITE;
	default:
		return FCVM_FRAME_SLOW;
	}
}

/**
 * fcvm_frame_reply_ok() - check a reply or notification from the server
 * @hdr:   the first FCVM_FRAME_OUT_HDR bytes of it
 * @count: bytes the server wrote
 * @max:   the largest frame the channel accepts
 *
 * A reply (unique != 0) carries 0 or a negative errno, and only a header when
 * it carries an error; a notification (unique 0) carries its code, one the
 * server sends (POLL .. DELETE; FUSE_NOTIFY_CODE_MAX is gone from newer
 * uapi headers, so the bound is named explicitly).
 *
 * Return: 1 when well formed, 0 otherwise.
 */
static inline int fcvm_frame_reply_ok(const void *hdr, __u64 count, __u32 max)
{
	struct fuse_out_header o;

	if (count < FCVM_FRAME_OUT_HDR || count > max)
		return 0;
	memcpy(&o, hdr, sizeof(o));
	if (o.len != count)
		return 0;
	if (!o.unique)
		return o.error > 0 && o.error <= FUSE_NOTIFY_DELETE;
	if (o.error > 0 || o.error <= FCVM_FRAME_MIN_ERROR)
		return 0;
	return !o.error || o.len == FCVM_FRAME_OUT_HDR;
}

#endif /* FCVM_FUSE_FRAME_H */
