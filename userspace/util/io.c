// SPDX-License-Identifier: GPL-2.0
/*
 * util/io.c - whole-buffer reads and writes and fd flag helpers (see io.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "util/io.h"

/* Reads exactly @len bytes; -EPIPE if the peer closed first. */
int io_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int io_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reads a whole small file into @buf and NUL-terminates it. Returns the
 * length, -EFBIG if it does not fit, or -errno.
 */
ssize_t io_read_file(const char *path, char *buf, size_t size)
{
	size_t off = 0;
	int fd, err = 0;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + off, size - 1 - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == size - 1) {
			char c;

			if (read(fd, &c, 1) > 0)
				err = -EFBIG;
			break;
		}
	}
	close(fd);
	if (err)
		return err;
	buf[off] = '\0';
	return (ssize_t)off;
}

int io_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) < 0)
		return -errno;
	return 0;
}
