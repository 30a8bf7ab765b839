/* SPDX-License-Identifier: GPL-2.0 */
/*
 * volume/channel.h - the host channel interface: a volume's guest
 * connections presented with /dev/fuse semantics.
 *
 * One session is one guest mount. accept_session() waits for the next mount
 * and says how many queues it has; then one server thread per queue calls
 * recv() (one whole, length-checked FUSE request per call) and answers with
 * send() (one whole reply, routed to the connection whose request carried
 * that unique; unique 0 - a notification - goes to any live connection).
 * end_session() wakes every recv() of the session with 0.
 *
 * Implementations: the userspace channel (channel_user.c: Unix-socket
 * connections, as the VMM's hybrid vsock delivers them) and, later, the
 * fcvm_accel module (/dev/fcvm_accel). Documented in volumes.rst.
 */
#ifndef FCVM_VOLUME_CHANNEL_H
#define FCVM_VOLUME_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define VOLUME_QUEUE_ANY	(~0u)

struct volume_channel;

/**
 * struct volume_channel_ops - what a channel implementation provides
 * @name:           "user" or "kmod"
 * @accept_session: wait for the next mount (or until @cancel_fd is readable:
 *                  -ECANCELED); Return: its queue count or -errno
 * @recv:           one whole request for @queue into @buf (@size >= the
 *                  largest legal request); Return: its length, 0 when the
 *                  session ended, -errno
 * @send:           one whole reply or notification; @queue is the queue
 *                  the request came on, or VOLUME_QUEUE_ANY;
 *                  Return: bytes sent or -errno
 * @send_pipe:      optional: a reply made of the header @h and @len bytes
 *                  waiting in the pipe @pipefd (READ data spliced from the
 *                  file, never copied through user memory); the pipe is
 *                  drained on success; Return: bytes sent or -errno
 * @end_session:    make every recv() of this session return 0 (any thread)
 * @destroy:        free the channel (no session running)
 * @backing_open:   optional (kmod): serve READ/WRITE with FUSE fh @fh from
 *                  the open file @fd in-kernel; Return: 0 or -errno (the
 *                  server then serves them itself, nothing else changes)
 * @backing_close:  optional (kmod): forget @fh before the server reuses it
 */
struct volume_channel_ops {
	const char *name;
	int (*accept_session)(struct volume_channel *ch, int cancel_fd);
	ssize_t (*recv)(struct volume_channel *ch, unsigned int queue, void *buf,
			size_t size);
	ssize_t (*send)(struct volume_channel *ch, unsigned int queue,
			const struct iovec *iov, int count);
	ssize_t (*send_pipe)(struct volume_channel *ch, unsigned int queue,
			     const void *h, size_t hlen, int pipefd, size_t len);
	void (*end_session)(struct volume_channel *ch);
	void (*destroy)(struct volume_channel *ch);
	int (*backing_open)(struct volume_channel *ch, int fd, uint64_t fh);
	void (*backing_close)(struct volume_channel *ch, uint64_t fh);
};

struct volume_channel {
	const struct volume_channel_ops *ops;
};

int volume_channel_new(const char *listen_path, struct volume_channel **out);
int volume_channel_user_new(const char *listen_path, struct volume_channel **out);
int volume_channel_user_take_fds(struct volume_channel *ch, int *fds, unsigned int max);
int volume_channel_kmod_new(const char *listen_path, struct volume_channel **out);

#endif /* FCVM_VOLUME_CHANNEL_H */
