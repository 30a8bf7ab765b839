/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fcvm_accel.h - ioctl ABI of /dev/fcvm_accel, the fcvm acceleration module.
 *
 * This is the one definition shared by the module, the fcvm manager and the
 * selftests. Documented in Documentation/uapi/fcvm_accel.rst.
 */
#ifndef _UAPI_LINUX_FCVM_ACCEL_H
#define _UAPI_LINUX_FCVM_ACCEL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define FCVM_ACCEL_DEVICE	"/dev/fcvm_accel"
#define FCVM_ACCEL_NAME		"fcvm_accel"

/* A major bump breaks userspace; a minor bump only adds. */
#define FCVM_ACCEL_ABI_MAJOR	1
#define FCVM_ACCEL_ABI_MINOR	1

/*
 * Feature bits of struct fcvm_accel_version.features: one per mechanism the
 * module implements. Userspace uses a mechanism only when its bit is set;
 * a bit is never reused for something else.
 */
#define FCVM_ACCEL_FEAT_VERSION	(1ULL << 0)	/* FCVM_ACCEL_IOC_VERSION */
#define FCVM_ACCEL_FEAT_FUSE_CHANNEL (1ULL << 1)	/* ATTACH, BACKING_*, STATS, SHUTDOWN, read/write/poll */

/**
 * struct fcvm_accel_version - answer of FCVM_ACCEL_IOC_VERSION
 * @major:    FCVM_ACCEL_ABI_MAJOR of the running module
 * @minor:    FCVM_ACCEL_ABI_MINOR of the running module
 * @flags:    reserved, the module writes zero
 * @features: FCVM_ACCEL_FEAT_* bits the module implements
 */
struct fcvm_accel_version {
	__u16 major;
	__u16 minor;
	__u32 flags;
	__u64 features;
};

/* 0xFC is unused in Documentation/userspace-api/ioctl/ioctl-number.rst. */
#define FCVM_ACCEL_IOC_MAGIC	0xFC

#define FCVM_ACCEL_IOC_VERSION	_IOR(FCVM_ACCEL_IOC_MAGIC, 0x00, struct fcvm_accel_version)

/*
 * The FUSE channel (ABI 1.1, FCVM_ACCEL_FEAT_FUSE_CHANNEL). Each open file of
 * /dev/fcvm_accel is one channel: it merges the stream sockets attached to it
 * (one per guest FUSE queue) into /dev/fuse semantics. read() returns one
 * whole FUSE request (struct fuse_in_header first) that the module did not
 * serve itself; write()/writev() takes one whole reply (struct
 * fuse_out_header first) and sends it on the queue its request came from
 * (unique 0, a notification, goes to any live queue). READ and WRITE whose
 * fh is a registered backing id are served in-kernel against that file.
 * Documented in Documentation/fcvm_accel.rst and
 * Documentation/uapi/fcvm_accel.rst.
 */

/*
 * Largest request or reply the channel moves, header included: a 1 MiB
 * WRITE (FUSE max_pages 256) and its headers fit.
 */
#define FCVM_ACCEL_MAX_FRAME	((1U << 20) + 4096)

/**
 * struct fcvm_accel_attach - argument of FCVM_ACCEL_IOC_ATTACH
 * @size:  sizeof(struct fcvm_accel_attach), for extension
 * @flags: none defined, must be zero
 * @fd:    a connected stream socket (AF_UNIX, AF_VSOCK, TCP); the module
 *         takes its own reference, the caller may close @fd afterwards
 * @queue: out: the queue index of this socket within the channel
 */
struct fcvm_accel_attach {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 queue;
};

/*
 * FCVM_ACCEL_BACKING_ID: the caller chooses the id (struct
 * fcvm_accel_backing.id is input); otherwise the module picks one with
 * FCVM_ACCEL_BACKING_TAG set, which a server's own fh values must not use.
 */
#define FCVM_ACCEL_BACKING_ID	(1U << 0)
#define FCVM_ACCEL_BACKING_TAG	(1ULL << 63)

/**
 * struct fcvm_accel_backing - argument of FCVM_ACCEL_IOC_BACKING_OPEN/CLOSE
 * @size:  sizeof(struct fcvm_accel_backing), for extension
 * @flags: FCVM_ACCEL_BACKING_* (OPEN only; zero for CLOSE)
 * @fd:    OPEN: an open regular file; the module keeps its own reference and
 *         uses its open mode (a read-only file refuses fast-path writes)
 * @pad:   zero
 * @id:    OPEN: out (or in with FCVM_ACCEL_BACKING_ID): the FUSE fh that
 *         selects this file; CLOSE: in
 */
struct fcvm_accel_backing {
	__u32 size;
	__u32 flags;
	__s32 fd;
	__u32 pad;
	__u64 id;
};

/**
 * struct fcvm_accel_stats - answer of FCVM_ACCEL_IOC_GET_STATS
 * @size:          in: sizeof(struct fcvm_accel_stats); the module fills
 *                 at most that many bytes and writes back what it filled
 * @queues:        queues attached and alive
 * @to_user:       requests handed to read()
 * @replies:       replies routed from write()
 * @fast_read:     READ served in-kernel
 * @fast_write:    WRITE served in-kernel
 * @fast_bytes:    bytes read or written in-kernel
 * @fast_fallback: fast-path candidates handed to userspace instead
 * @bad_frames:    queues torn down for a malformed frame
 * @backings:      backing files registered
 * @pad:           zero
 */
struct fcvm_accel_stats {
	__u32 size;
	__u32 queues;
	__u64 to_user;
	__u64 replies;
	__u64 fast_read;
	__u64 fast_write;
	__u64 fast_bytes;
	__u64 fast_fallback;
	__u64 bad_frames;
	__u32 backings;
	__u32 pad;
};

#define FCVM_ACCEL_IOC_ATTACH		_IOWR(FCVM_ACCEL_IOC_MAGIC, 0x01, struct fcvm_accel_attach)
#define FCVM_ACCEL_IOC_BACKING_OPEN	_IOWR(FCVM_ACCEL_IOC_MAGIC, 0x02, struct fcvm_accel_backing)
#define FCVM_ACCEL_IOC_BACKING_CLOSE	_IOW(FCVM_ACCEL_IOC_MAGIC, 0x03, struct fcvm_accel_backing)
#define FCVM_ACCEL_IOC_GET_STATS	_IOWR(FCVM_ACCEL_IOC_MAGIC, 0x04, struct fcvm_accel_stats)
/* End the session: every queue is shut down, read() returns 0 from now on. */
#define FCVM_ACCEL_IOC_SHUTDOWN		_IO(FCVM_ACCEL_IOC_MAGIC, 0x05)

#endif /* _UAPI_LINUX_FCVM_ACCEL_H */
