// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - fcvm_accel.ko: module init/exit and parameters.
 *
 * The module accelerates fcvm's host side; today it offers the ABI version
 * ioctl on /dev/fcvm_accel (device.c). Documented in
 * Documentation/uapi/fcvm_accel.rst.
 */
#include <linux/bug.h>
#include <linux/moduleparam.h>
#include <linux/module.h>

#include "fcvm_accel.h"

unsigned int fcvm_accel_max_opens = 256;

static int fcvm_accel_set_max_opens(const char *val,
				    const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 65536);
}

static const struct kernel_param_ops fcvm_accel_max_opens_ops = {
	.set = fcvm_accel_set_max_opens,
	.get = param_get_uint,
};

module_param_cb(max_opens, &fcvm_accel_max_opens_ops, &fcvm_accel_max_opens,
		0644);
MODULE_PARM_DESC(max_opens,
		 "Files of /dev/fcvm_accel that may be open at once (1-65536, default 256)");

static int __init fcvm_accel_init(void)
{
	int err;

#ifdef FCVM_ACCEL_TEST_WARN
	WARN(1, "fcvm_accel: test-only build: WARN on load\n");
#endif
#ifdef FCVM_ACCEL_TEST_OOPS
	BUG();
#endif
	err = fcvm_accel_device_register();
	if (err) {
		pr_err("fcvm_accel: cannot register the misc device: %d\n", err);
		return err;
	}
	pr_info("fcvm_accel: ABI %d.%d, features 0x%llx\n", FCVM_ACCEL_ABI_MAJOR,
		FCVM_ACCEL_ABI_MINOR, (unsigned long long)FCVM_ACCEL_FEATURES);
	return 0;
}

static void __exit fcvm_accel_exit(void)
{
	fcvm_accel_device_unregister();
}

module_init(fcvm_accel_init);
module_exit(fcvm_accel_exit);

MODULE_DESCRIPTION("fcvm acceleration: /dev/fcvm_accel");
MODULE_AUTHOR("The fcvm authors");
MODULE_LICENSE("GPL");
