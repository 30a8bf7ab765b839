// SPDX-License-Identifier: GPL-2.0
/*
 * version.c - FCVM_ACCEL_IOC_VERSION: tell userspace which ABI and which
 * features this module implements.
 */
#include <linux/string.h>
#include <linux/uaccess.h>

#include "fcvm_accel.h"

/**
 * fcvm_accel_ioc_version() - copy the module's ABI version to userspace
 * @af:  the file's state (unused: the answer is the same for every file)
 * @arg: userspace struct fcvm_accel_version to fill
 *
 * Return: 0, or -EFAULT when @arg is not writable.
 */
long fcvm_accel_ioc_version(struct fcvm_accel_file *af, void __user *arg)
{
	struct fcvm_accel_version v;

	memset(&v, 0, sizeof(v));
	v.major = FCVM_ACCEL_ABI_MAJOR;
	v.minor = FCVM_ACCEL_ABI_MINOR;
	v.features = FCVM_ACCEL_FEATURES;
	if (copy_to_user(arg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}
