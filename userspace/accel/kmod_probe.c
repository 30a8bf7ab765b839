// SPDX-License-Identifier: GPL-2.0
/*
 * accel/kmod_probe.c - is /dev/fcvm_accel there, and does its ABI match?
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fcvm_accel.h>

#include "accel/accel.h"

/**
 * accel_probe_kmod() - open the device and ask its ABI version
 * @dev: device path (FCVM_ACCEL_DEVICE normally; tests pass others)
 * @out: filled in every case; out->status equals the return value
 *
 * Return: 0 when the module is present with our ABI major, -ENOENT when the
 * device does not exist, -EPROTO on a different ABI major, or -errno.
 */
int accel_probe_kmod(const char *dev, struct accel_kmod_info *out)
{
	struct fcvm_accel_version v;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		out->status = -errno;
		return out->status;
	}
	memset(&v, 0, sizeof(v));
	if (ioctl(fd, FCVM_ACCEL_IOC_VERSION, &v) < 0) {
		err = -errno;
	} else {
		out->major = v.major;
		out->minor = v.minor;
		out->features = v.features;
		if (v.major != FCVM_ACCEL_ABI_MAJOR)
			err = -EPROTO;
	}
	close(fd);
	out->status = err;
	return err;
}
