// SPDX-License-Identifier: GPL-2.0
/*
 * volume/creds.c - per-request credentials for operations that create
 * inodes, so new files get the guest caller's uid/gid. setfsuid/setfsgid,
 * setgroups and capset are issued as raw syscalls: they change only the
 * calling thread (glibc's setgroups would change every thread).
 *
 * Permission checks are the guest kernel's (default_permissions); the
 * server keeps CAP_DAC_OVERRIDE while acting as the caller so a directory
 * the caller may write through a supplementary group (which FUSE does not
 * transmit) is still writable.
 */
#include <errno.h>
#include <stdbool.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include "volume/server.h"

/* Drop the server's supplementary groups on this thread. */
int creds_thread_init(void)
{
	if (syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
		return -errno;
	return 0;
}

static int raise_dac(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	data[0].effective |= data[0].permitted &
			     ((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	return 0;
}

/**
 * creds_enter() - act as the guest caller on this thread
 * @uid:      fsuid
 * @gid:      fsgid
 * @keep_dac: keep CAP_DAC_OVERRIDE (creation) or not (access checks)
 *
 * Return: 0 or -errno (credentials unchanged then).
 */
int creds_enter(uid_t uid, gid_t gid, bool keep_dac)
{
	if (geteuid() != 0 || (uid == 0 && gid == 0))
		return 0;	/* unprivileged server: files are the server's */
	syscall(SYS_setfsgid, gid);
	syscall(SYS_setfsuid, uid);
	if ((gid_t)syscall(SYS_setfsgid, -1) != gid ||
	    (uid_t)syscall(SYS_setfsuid, -1) != uid) {
		creds_leave();
		return -EPERM;
	}
	if (keep_dac && uid != 0)
		return raise_dac();
	return 0;
}

void creds_leave(void)
{
	/* Back to fsuid 0: the kernel restores the fs capabilities itself. */
	syscall(SYS_setfsuid, 0);
	syscall(SYS_setfsgid, 0);
}
