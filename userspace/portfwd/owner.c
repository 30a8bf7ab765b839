// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/owner.c - process identity (pid + start time) for the records port
 * publishing leaves on disk, and the data directory they go to.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portfwd/owner.h"
#include "util/config.h"
#include "util/io.h"

/**
 * owner_of() - identify a running process
 * @pid: the process
 * @out: its pid and start time
 *
 * Return: 0, -ESRCH if it does not exist, -EPROTO for an unreadable stat.
 */
int owner_of(pid_t pid, struct owner *out)
{
	char path[64], buf[1024], *p;
	unsigned long long start;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	n = io_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT ? -ESRCH : (int)n;
	/* comm may hold spaces and ')': fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return -EPROTO;
	/* after ") " come fields 3..: state is 3, starttime is 22 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
		   "%*d %*d %*d %*d %*d %*d %llu", &start) != 1)
		return -EPROTO;
	out->pid = pid;
	out->start = start;
	return 0;
}

bool owner_alive(const struct owner *o)
{
	struct owner now;

	return owner_of(o->pid, &now) == 0 && now.start == o->start;
}

int owner_format(const struct owner *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%d %" PRIu64, (int)o->pid, o->start);

	return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

int owner_parse(const char *s, struct owner *out)
{
	int pid;
	unsigned long long start;
	char extra;

	if (sscanf(s, "%d %llu %c", &pid, &start, &extra) != 2 || pid <= 0)
		return -EINVAL;
	out->pid = pid;
	out->start = start;
	return 0;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/**
 * portfwd_data_dir() - path of a subdirectory of the data dir, created
 * @sub: e.g. "loopback"
 * @buf: receives "<data dir>/<sub>"
 * @len: size of @buf
 *
 * The data dir is resolved as everywhere else in fcvm (util/config.c:
 * FCVM_DATA_DIR, rootfs-config.toml's paths.data_dir, then the default).
 *
 * Return: 0 or -errno (-EINVAL for a configuration file that does not parse).
 */
int portfwd_data_dir(const char *sub, char *buf, size_t len)
{
	const struct config_flags flags = { 0 };
	struct config_error cerr;
	struct config cfg;
	int err, n;

	err = config_load(&flags, &cfg, &cerr);
	if (err)
		return err;
	n = snprintf(buf, len, "%s/%s", config_get(&cfg, CONFIG_DATA_DIR), sub);
	config_free(&cfg);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return mkdir_p(buf);
}

/**
 * portfwd_valid_id() - check a VM id before it names a file or an nft table
 * @id: the id
 *
 * Return: 0, or -EINVAL for an empty, too long (>= PORTFWD_ID_MAX), dotted or
 * otherwise unsafe id.
 */
int portfwd_valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= PORTFWD_ID_MAX || id[0] == '.')
		return -EINVAL;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return -EINVAL;
	return 0;
}
