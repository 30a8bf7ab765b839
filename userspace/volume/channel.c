// SPDX-License-Identifier: GPL-2.0
/*
 * volume/channel.c - picks the channel implementation for a volume:
 * FCVM_VOLUME_CHANNEL=user|kmod forces one; otherwise the fcvm_accel module
 * channel when /dev/fcvm_accel offers it, else the userspace channel. The
 * decision is accel_volume_wants_kmod() (accel/choose.c), the same that
 * `fcvm accel status` reports.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fcvm_accel.h>

#include "accel/accel.h"
#include "volume/channel.h"

/**
 * volume_channel_new() - the channel a volume server listens on
 * @listen_path: Unix socket path the VMM connects guest connections to
 * @out:         the channel
 *
 * Return: 0, -EOPNOTSUPP when FCVM_VOLUME_CHANNEL names a channel this build
 * cannot provide, -EINVAL for an unknown name, or -errno.
 */
int volume_channel_new(const char *listen_path, struct volume_channel **out)
{
	const char *want = getenv("FCVM_VOLUME_CHANNEL");
	struct accel_kmod_info kmod;

	if (want && *want && strcmp(want, "user") && strcmp(want, "kmod"))
		return -EINVAL;
	if (want && !strcmp(want, "user"))
		return volume_channel_user_new(listen_path, out);
	accel_probe_kmod(FCVM_ACCEL_DEVICE, &kmod);
	if (accel_volume_wants_kmod(&kmod))
		return volume_channel_kmod_new(listen_path, out);
	if (want && !strcmp(want, "kmod"))
		return -EOPNOTSUPP;
	return volume_channel_user_new(listen_path, out);
}
