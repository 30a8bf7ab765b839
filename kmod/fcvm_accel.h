/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcvm_accel.h - definitions shared by the files of fcvm_accel.ko.
 *
 * The userspace ABI is include/uapi/linux/fcvm_accel.h; this header is the
 * module's internal glue: the per-open state, the ioctl handler table entry
 * and the parameters.
 */
#ifndef FCVM_ACCEL_INTERNAL_H
#define FCVM_ACCEL_INTERNAL_H

#include <linux/compiler.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/fcvm_accel.h>

struct fcvm_chan;

/* Feature bits this build implements (FCVM_ACCEL_FEAT_*). */
#define FCVM_ACCEL_FEATURES	(FCVM_ACCEL_FEAT_VERSION | FCVM_ACCEL_FEAT_FUSE_CHANNEL)

/**
 * struct fcvm_accel_file - state of one open file of /dev/fcvm_accel
 * @minor_abi: ABI minor the module answered with (kept for handlers that
 *             change behaviour with it)
 * @chan:      the FUSE channel of this file (chan.c)
 *
 * Allocated in open, freed in release; file->private_data points to it.
 * Later mechanisms (the FUSE channel) hang their per-file state here.
 */
struct fcvm_accel_file {
	u16 minor_abi;
	struct fcvm_chan *chan;
};

/**
 * typedef fcvm_accel_ioctl_fn - handler of one ioctl command
 * @af:  the file's state
 * @arg: the userspace argument, already checked to be the command's
 *
 * Return: 0 or a positive value for userspace, or a negative errno.
 */
typedef long (*fcvm_accel_ioctl_fn)(struct fcvm_accel_file *af,
				    void __user *arg);

/**
 * struct fcvm_accel_ioctl - one entry of the ioctl dispatch table
 * @cmd:     the full command (type, number, direction and size must match)
 * @handler: called with the file's state and the argument
 */
struct fcvm_accel_ioctl {
	unsigned int cmd;
	fcvm_accel_ioctl_fn handler;
};

/* Module parameters (main.c). */
extern unsigned int fcvm_accel_max_opens;

/* device.c */
int fcvm_accel_device_register(void);
void fcvm_accel_device_unregister(void);

/* version.c */
long fcvm_accel_ioc_version(struct fcvm_accel_file *af, void __user *arg);

/* chan.c and fastpath.c: the FUSE channel */
long fcvm_accel_ioc_attach(struct fcvm_accel_file *af, void __user *arg);
long fcvm_accel_ioc_backing_open(struct fcvm_accel_file *af, void __user *arg);
long fcvm_accel_ioc_backing_close(struct fcvm_accel_file *af, void __user *arg);
long fcvm_accel_ioc_get_stats(struct fcvm_accel_file *af, void __user *arg);
long fcvm_accel_ioc_shutdown(struct fcvm_accel_file *af, void __user *arg);
ssize_t fcvm_chan_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos);
ssize_t fcvm_chan_write_iter(struct kiocb *iocb, struct iov_iter *from);
__poll_t fcvm_chan_poll(struct file *file, poll_table *wait);

/**
 * fcvm_accel_copy_arg() - copy a size-prefixed ioctl argument from userspace
 * @dst:   the kernel's struct
 * @ksize: sizeof(*@dst)
 * @arg:   userspace struct whose first __u32 is its size
 *
 * A larger struct from newer userspace is accepted when its tail is zero.
 *
 * Return: 0, -EFAULT, -E2BIG (non-zero tail), or -EINVAL (shorter than ours).
 */
static inline int fcvm_accel_copy_arg(void *dst, size_t ksize, void __user *arg)
{
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)arg))
		return -EFAULT;
	ret = copy_struct_from_user(dst, ksize, arg, usize);
	if (ret)
		return ret;
	return usize < ksize ? -EINVAL : 0;
}

#endif /* FCVM_ACCEL_INTERNAL_H */
