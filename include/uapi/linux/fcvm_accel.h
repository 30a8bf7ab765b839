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
#define FCVM_ACCEL_ABI_MINOR	0

/**
 * struct fcvm_accel_version - answer of FCVM_ACCEL_IOC_VERSION
 * @major:    FCVM_ACCEL_ABI_MAJOR of the running module
 * @minor:    FCVM_ACCEL_ABI_MINOR of the running module
 * @flags:    reserved, zero
 * @features: FCVM_ACCEL_FEAT_* bits the module implements
 */
struct fcvm_accel_version {
	__u16 major;
	__u16 minor;
	__u32 flags;
	__u64 features;
};

#define FCVM_ACCEL_IOC_MAGIC	0xFC

#define FCVM_ACCEL_IOC_VERSION	_IOR(FCVM_ACCEL_IOC_MAGIC, 0x00, struct fcvm_accel_version)

#endif /* _UAPI_LINUX_FCVM_ACCEL_H */
