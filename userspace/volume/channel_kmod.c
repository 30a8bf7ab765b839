// SPDX-License-Identifier: GPL-2.0
/*
 * volume/channel_kmod.c - the module volume channel: a mount's connections
 * are accepted (and their hellos checked) exactly as by the userspace
 * channel, then attached to a fresh /dev/fcvm_accel channel, which frames
 * the guest's requests in-kernel, serves READ/WRITE on registered files
 * itself and hands everything else to recv() with /dev/fuse semantics.
 * Replies are routed by unique in the kernel. Documented in fcvm_accel.rst.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <linux/fcvm_accel.h>

#include "fcvm/volume.h"
#include "volume/channel.h"

struct kmod_channel {
	struct volume_channel ch;
	struct volume_channel *acceptor;	/* a userspace channel: accept + hello */
	int devfd;				/* this session's channel, or -1 */
};

static int kmod_attach_all(int devfd, const int *fds, int nq)
{
	for (int i = 0; i < nq; i++) {
		struct fcvm_accel_attach a = { .size = sizeof(a), .fd = fds[i] };

		if (ioctl(devfd, FCVM_ACCEL_IOC_ATTACH, &a) < 0)
			return -errno;
		if (a.queue != (unsigned int)i)
			return -EPROTO;
	}
	return 0;
}

static int kmod_accept_session(struct volume_channel *ch, int cancel_fd)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;
	int fds[FCVM_VOLUME_MAX_QUEUES];
	int nq, err;

	if (k->devfd >= 0) {
		close(k->devfd);
		k->devfd = -1;
	}
	nq = k->acceptor->ops->accept_session(k->acceptor, cancel_fd);
	if (nq < 0)
		return nq;
	nq = volume_channel_user_take_fds(k->acceptor, fds, FCVM_VOLUME_MAX_QUEUES);
	if (nq < 0)
		return nq;
	k->devfd = open(FCVM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	err = k->devfd < 0 ? -errno : kmod_attach_all(k->devfd, fds, nq);
	for (int i = 0; i < nq; i++)
		close(fds[i]);		/* the module holds its own references */
	if (err) {
		if (k->devfd >= 0)
			close(k->devfd);
		k->devfd = -1;
		return err;
	}
	return nq;
}

static ssize_t kmod_recv(struct volume_channel *ch, unsigned int queue, void *buf,
			 size_t size)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;

	(void)queue;	/* any server thread may serve any queue's request */
	for (;;) {
		ssize_t n = read(k->devfd, buf, size);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static ssize_t kmod_send(struct volume_channel *ch, unsigned int queue,
			 const struct iovec *iov, int count)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;

	(void)queue;	/* the module routes by unique */
	for (;;) {
		ssize_t n = writev(k->devfd, iov, count);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static void kmod_end_session(struct volume_channel *ch)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;

	if (k->devfd >= 0)
		ioctl(k->devfd, FCVM_ACCEL_IOC_SHUTDOWN);
}

static int kmod_backing_open(struct volume_channel *ch, int fd, uint64_t fh)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;
	struct fcvm_accel_backing b = {
		.size = sizeof(b), .flags = FCVM_ACCEL_BACKING_ID, .fd = fd, .id = fh,
	};

	if (k->devfd < 0)
		return -ENOTCONN;
	return ioctl(k->devfd, FCVM_ACCEL_IOC_BACKING_OPEN, &b) < 0 ? -errno : 0;
}

static void kmod_backing_close(struct volume_channel *ch, uint64_t fh)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;
	struct fcvm_accel_backing b = { .size = sizeof(b), .id = fh };

	if (k->devfd >= 0)
		ioctl(k->devfd, FCVM_ACCEL_IOC_BACKING_CLOSE, &b);	/* -ENOENT: never registered */
}

static void kmod_destroy(struct volume_channel *ch)
{
	struct kmod_channel *k = (struct kmod_channel *)ch;

	if (k->devfd >= 0)
		close(k->devfd);
	k->acceptor->ops->destroy(k->acceptor);
	free(k);
}

static const struct volume_channel_ops kmod_ops = {
	.name = "kmod",
	.accept_session = kmod_accept_session,
	.recv = kmod_recv,
	.send = kmod_send,
	.end_session = kmod_end_session,
	.destroy = kmod_destroy,
	.backing_open = kmod_backing_open,
	.backing_close = kmod_backing_close,
};

/**
 * volume_channel_kmod_new() - the module channel, listening on a path
 * @listen_path: Unix socket path the VMM connects guest connections to
 * @out:         the channel
 *
 * The caller has checked that /dev/fcvm_accel offers the FUSE channel
 * (accel_volume_wants_kmod()).
 *
 * Return: 0 or -errno.
 */
int volume_channel_kmod_new(const char *listen_path, struct volume_channel **out)
{
	struct kmod_channel *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	k->ch.ops = &kmod_ops;
	k->devfd = -1;
	err = volume_channel_user_new(listen_path, &k->acceptor);
	if (err) {
		free(k);
		return err;
	}
	*out = &k->ch;
	return 0;
}
