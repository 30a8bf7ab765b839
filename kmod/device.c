// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the /dev/fcvm_accel misc device: open/release accounting and
 * the ioctl dispatch table.
 *
 * Adding an ioctl: define it in include/uapi/linux/fcvm_accel.h with the next
 * free number, write its handler in the file of its mechanism, and add one
 * line to fcvm_accel_ioctls[] below (indexed by _IOC_NR). A mechanism that
 * needs read/write/poll adds them to fcvm_accel_fops and keeps its per-file
 * state in struct fcvm_accel_file.
 */
#include <linux/atomic.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "chan.h"
#include "fcvm_accel.h"

static atomic_t fcvm_accel_opens = ATOMIC_INIT(0);

static const struct fcvm_accel_ioctl fcvm_accel_ioctls[] = {
	[_IOC_NR(FCVM_ACCEL_IOC_VERSION)] = {
		.cmd = FCVM_ACCEL_IOC_VERSION,
		.handler = fcvm_accel_ioc_version,
	},
	[_IOC_NR(FCVM_ACCEL_IOC_ATTACH)] = {
		.cmd = FCVM_ACCEL_IOC_ATTACH,
		.handler = fcvm_accel_ioc_attach,
	},
	[_IOC_NR(FCVM_ACCEL_IOC_BACKING_OPEN)] = {
		.cmd = FCVM_ACCEL_IOC_BACKING_OPEN,
		.handler = fcvm_accel_ioc_backing_open,
	},
	[_IOC_NR(FCVM_ACCEL_IOC_BACKING_CLOSE)] = {
		.cmd = FCVM_ACCEL_IOC_BACKING_CLOSE,
		.handler = fcvm_accel_ioc_backing_close,
	},
	[_IOC_NR(FCVM_ACCEL_IOC_GET_STATS)] = {
		.cmd = FCVM_ACCEL_IOC_GET_STATS,
		.handler = fcvm_accel_ioc_get_stats,
	},
	[_IOC_NR(FCVM_ACCEL_IOC_SHUTDOWN)] = {
		.cmd = FCVM_ACCEL_IOC_SHUTDOWN,
		.handler = fcvm_accel_ioc_shutdown,
	},
};

/**
 * fcvm_accel_open() - allocate the per-file state, within max_opens
 * @inode: the device inode
 * @file:  the new file
 *
 * Return: 0, -EBUSY when max_opens files are already open, or -ENOMEM.
 */
static int fcvm_accel_open(struct inode *inode, struct file *file)
{
	struct fcvm_accel_file *af;

	if (atomic_inc_return(&fcvm_accel_opens) > READ_ONCE(fcvm_accel_max_opens)) {
		atomic_dec(&fcvm_accel_opens);
		return -EBUSY;
	}
	af = kzalloc(sizeof(*af), GFP_KERNEL);
	if (!af) {
		atomic_dec(&fcvm_accel_opens);
		return -ENOMEM;
	}
	af->minor_abi = FCVM_ACCEL_ABI_MINOR;
	af->chan = fcvm_chan_create();
	if (!af->chan) {
		kfree(af);
		atomic_dec(&fcvm_accel_opens);
		return -ENOMEM;
	}
	file->private_data = af;
	return stream_open(inode, file);
}

static int fcvm_accel_release(struct inode *inode, struct file *file)
{
	struct fcvm_accel_file *af = file->private_data;

	fcvm_chan_destroy(af->chan);
	kfree(af);
	file->private_data = NULL;
	atomic_dec(&fcvm_accel_opens);
	return 0;
}

/**
 * fcvm_accel_ioctl() - dispatch one ioctl through fcvm_accel_ioctls[]
 * @file: the open device
 * @cmd:  the command; its type, number, direction and size must all match
 * @arg:  the userspace argument
 *
 * Return: the handler's result, or -ENOTTY for a command we do not know.
 */
static long fcvm_accel_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	const struct fcvm_accel_ioctl *ioc;
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != FCVM_ACCEL_IOC_MAGIC ||
	    nr >= ARRAY_SIZE(fcvm_accel_ioctls))
		return -ENOTTY;
	ioc = &fcvm_accel_ioctls[nr];
	if (!ioc->handler || ioc->cmd != cmd)
		return -ENOTTY;
	return ioc->handler(file->private_data, (void __user *)arg);
}

static const struct file_operations fcvm_accel_fops = {
	.owner = THIS_MODULE,
	.open = fcvm_accel_open,
	.release = fcvm_accel_release,
	.read = fcvm_chan_read,
	.write_iter = fcvm_chan_write_iter,
	.poll = fcvm_chan_poll,
	.unlocked_ioctl = fcvm_accel_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice fcvm_accel_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = FCVM_ACCEL_NAME,
	.fops = &fcvm_accel_fops,
	.mode = 0600,
};

/**
 * fcvm_accel_device_register() - create /dev/fcvm_accel
 *
 * Return: 0 or the negative errno of misc_register().
 */
int fcvm_accel_device_register(void)
{
	return misc_register(&fcvm_accel_misc);
}

/**
 * fcvm_accel_device_unregister() - remove /dev/fcvm_accel
 *
 * No file can be open here: each open file holds a module reference.
 */
void fcvm_accel_device_unregister(void)
{
	misc_deregister(&fcvm_accel_misc);
}
