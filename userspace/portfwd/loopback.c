// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/loopback.c - allocate and release a VM's loopback address.
 *
 * <data dir>/loopback/.lock is held (flock) for every read-modify-write;
 * <data dir>/loopback/127.10.X.Y holds "<vm id> <pid> <start time>\n".
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "portfwd/loopback.h"
#include "portfwd/owner.h"
#include "util/io.h"

#define LOOPBACK_NET	0x7f0a0000u	/* 127.10.0.0/16 */

static int lock_dir(char *dir, size_t len)
{
	char path[PATH_MAX];
	int fd, err;

	err = portfwd_data_dir("loopback", dir, len);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

/* Reads one record; -ENOENT if absent, -EINVAL if malformed. */
static int read_record(const char *dir, const char *name, char *id, struct owner *o)
{
	char path[PATH_MAX], buf[256], *sp;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = io_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	sp = strchr(buf, ' ');
	if (!sp || (size_t)(sp - buf) >= LOOPBACK_ID_MAX)
		return -EINVAL;
	memcpy(id, buf, (size_t)(sp - buf));
	id[sp - buf] = '\0';
	return owner_parse(sp + 1, o);
}

static int write_record(const char *dir, const char *name, const char *id)
{
	char path[PATH_MAX], tmp[PATH_MAX], own[64], line[160];
	struct owner o;
	int fd, err, n;

	err = owner_of(getpid(), &o) ?: owner_format(&o, own, sizeof(own));
	if (err)
		return err;
	n = snprintf(line, sizeof(line), "%s %s\n", id, own);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	err = io_write_full(fd, line, (size_t)n);
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void addr_name(uint32_t host_order, char *buf, size_t len)
{
	struct in_addr a = { .s_addr = htonl(host_order) };

	inet_ntop(AF_INET, &a, buf, (socklen_t)len);
}

/* The address already recorded for @vm_id: 0, or -ENOENT. */
static int find_id(const char *dir, const char *vm_id, struct in_addr *out)
{
	char id[LOOPBACK_ID_MAX];
	struct dirent *de;
	struct owner o;
	int err = -ENOENT;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || read_record(dir, de->d_name, id, &o))
			continue;
		if (!strcmp(id, vm_id) && inet_pton(AF_INET, de->d_name, out) == 1) {
			err = 0;
			break;
		}
	}
	closedir(d);
	return err;
}

/**
 * loopback_alloc() - the loopback address of a VM, allocating it if needed
 * @vm_id: the VM's id
 * @out:   its address (127.10.x.y)
 *
 * A VM that already has an address gets the same one back (and this process
 * becomes its owner). Addresses whose owner died are reused.
 *
 * Return: 0, -EINVAL (bad id), -ENOSPC (all taken), or -errno.
 */
int loopback_alloc(const char *vm_id, struct in_addr *out)
{
	char dir[1024], name[INET_ADDRSTRLEN], id[LOOPBACK_ID_MAX];
	struct in_addr found = { 0 };
	struct owner o;
	int lock, err = -ENOSPC;

	if (portfwd_valid_id(vm_id))
		return -EINVAL;
	lock = lock_dir(dir, sizeof(dir));
	if (lock < 0)
		return lock;
	err = find_id(dir, vm_id, &found);
	if (err == -ENOENT) {
		err = -ENOSPC;
		for (uint32_t a = LOOPBACK_NET + 1; a < LOOPBACK_NET + 0xffff; a++) {
			int r;

			if ((a & 0xff) == 0 || (a & 0xff) == 0xff)
				continue;
			addr_name(a, name, sizeof(name));
			r = read_record(dir, name, id, &o);
			if (r == -ENOENT || r == -EINVAL || (r == 0 && !owner_alive(&o))) {
				found.s_addr = htonl(a);
				err = 0;
				break;
			}
		}
	}
	if (!err) {
		inet_ntop(AF_INET, &found, name, sizeof(name));
		err = write_record(dir, name, vm_id);
		if (!err)
			*out = found;
	}
	close(lock);
	return err;
}

/**
 * loopback_release() - give a VM's address back
 * @vm_id: the VM's id
 *
 * Return: 0, -ENOENT if it had none, or -errno.
 */
int loopback_release(const char *vm_id)
{
	char dir[1024], path[PATH_MAX + 300], id[LOOPBACK_ID_MAX];
	struct dirent *de;
	struct owner o;
	int lock, err = -ENOENT;
	DIR *d;

	if (portfwd_valid_id(vm_id))
		return -EINVAL;
	lock = lock_dir(dir, sizeof(dir));
	if (lock < 0)
		return lock;
	d = opendir(dir);
	if (!d) {
		err = -errno;
		goto out_unlock;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || read_record(dir, de->d_name, id, &o))
			continue;
		if (strcmp(id, vm_id))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		err = unlink(path) < 0 ? -errno : 0;
	}
	closedir(d);
out_unlock:
	close(lock);
	return err;
}
