/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util/io.h - small fd helpers: whole reads/writes that retry on EINTR and
 * short transfers, and fd flag setters. All return 0 or -errno.
 */
#ifndef FCVM_UTIL_IO_H
#define FCVM_UTIL_IO_H

#include <stddef.h>
#include <sys/types.h>

int io_read_full(int fd, void *buf, size_t len);
int io_write_full(int fd, const void *buf, size_t len);
ssize_t io_read_file(const char *path, char *buf, size_t size);
int io_set_nonblock(int fd, int on);

#endif /* FCVM_UTIL_IO_H */
