// SPDX-License-Identifier: GPL-2.0
/*
 * volume/watch.c - host-change coherence for cache=auto: every directory
 * the guest has looked up gets a fanotify mark (FAN_REPORT_DFID_NAME), and
 * each change made on the host by anyone but this server becomes a
 * FUSE_NOTIFY_INVAL_ENTRY (names created, deleted, renamed) or
 * FUSE_NOTIFY_INVAL_INODE (data or attributes changed) pushed to the guest.
 * The server's own changes (the guest's) carry this process's pid and are
 * skipped: the guest's caches already know them.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>

#include "util/log.h"
#include "volume/server.h"

#define WATCH_MASK	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | \
			 FAN_MODIFY | FAN_ATTRIB | FAN_EVENT_ON_CHILD | FAN_ONDIR)
#define ENTRY_EVENTS	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO)

struct vol_watch {
	struct vol_session *s;
	int fan;
	int stop_efd;
	int mount_fd;		/* open_by_handle_at() refuses O_PATH fds */
	pid_t self;
	pthread_t thread;
};

/* Mark a directory inode; failures only cost coherence, so they are quiet. */
int watch_dir(struct vol_watch *w, struct vol_inode *dir)
{
	if (fanotify_mark(w->fan, FAN_MARK_ADD, WATCH_MASK, dir->fd, ".") < 0)
		return -errno;
	dir->watched = true;
	return 0;
}

static struct vol_inode *dir_of(struct vol_watch *w, const struct file_handle *fh)
{
	struct {
		struct file_handle h;
		unsigned char bytes[MAX_HANDLE_SZ];
	} copy;
	struct vol_inode *in;
	struct stat st;
	int fd;

	if (fh->handle_bytes > MAX_HANDLE_SZ)
		return NULL;
	memcpy(&copy, fh, sizeof(*fh) + fh->handle_bytes);
	fd = open_by_handle_at(w->mount_fd, &copy.h, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	in = fstat(fd, &st) < 0 ? NULL : vt_find_key(&w->s->t, st.st_dev, st.st_ino);
	close(fd);
	return in;
}

static void inval_child(struct vol_watch *w, struct vol_inode *dir, const char *name)
{
	struct vol_inode *in;
	struct stat st;

	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	in = vt_find_key(&w->s->t, st.st_dev, st.st_ino);
	if (!in)
		return;
	fuse_lowlevel_notify_inval_inode(w->s->se, in->nodeid, 0, 0);
	vt_put(&w->s->t, in);
}

/* @ev: one event as read (4-byte aligned only); @m: its metadata, copied */
static void handle_event(struct vol_watch *w, const char *ev,
			 const struct fanotify_event_metadata *m)
{
	const char *p = ev + m->metadata_len, *end = ev + m->event_len;

	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_fid *fid = (const void *)p;
		const struct file_handle *fh = (const void *)fid->handle;
		struct vol_inode *dir;
		const char *name;

		if (fid->hdr.len < sizeof(*fid) + sizeof(*fh) || p + fid->hdr.len > end ||
		    sizeof(*fid) + sizeof(*fh) + fh->handle_bytes > fid->hdr.len)
			return;
		p += fid->hdr.len;
		if (fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME &&
		    fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID)
			continue;
		dir = dir_of(w, fh);
		if (!dir)
			continue;
		name = fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ?
		       (const char *)fh->f_handle + fh->handle_bytes : ".";
		if (strcmp(name, ".") && (m->mask & ENTRY_EVENTS))
			fuse_lowlevel_notify_inval_entry(w->s->se, dir->nodeid, name,
							 strlen(name));
		else if (strcmp(name, "."))
			inval_child(w, dir, name);
		/* The directory itself changed too (mtime, cached listing). */
		fuse_lowlevel_notify_inval_inode(w->s->se, dir->nodeid, 0, 0);
		vt_put(&w->s->t, dir);
	}
}

static void *watch_thread(void *arg)
{
	struct vol_watch *w = arg;
	char *buf = malloc(64 * 1024);

	while (buf) {
		struct pollfd p[2] = {
			{ .fd = w->fan, .events = POLLIN },
			{ .fd = w->stop_efd, .events = POLLIN },
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		n = read(w->fan, buf, 64 * 1024);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		for (ssize_t off = 0; n - off >= (ssize_t)FAN_EVENT_METADATA_LEN;) {
			struct fanotify_event_metadata m;	/* events are 4-byte aligned */

			memcpy(&m, buf + off, sizeof(m));
			if (m.event_len < FAN_EVENT_METADATA_LEN || m.event_len > n - off ||
			    m.metadata_len < FAN_EVENT_METADATA_LEN || m.metadata_len > m.event_len)
				break;
			if (m.vers == FANOTIFY_METADATA_VERSION) {
				if (m.mask & FAN_Q_OVERFLOW)
					log_warn("volume: host change events lost (queue overflow)");
				else if (m.pid != w->self)
					handle_event(w, buf + off, &m);
				if (m.fd >= 0)
					close(m.fd);
			}
			off += m.event_len;
		}
	}
	free(buf);
	return NULL;
}

/**
 * watch_start() - watch the shared tree for changes made on the host
 * @s:   session (its inode table and FUSE session)
 * @out: the watcher
 *
 * Return: 0 or -errno (no fanotify with name reporting here).
 */
int watch_start(struct vol_session *s, struct vol_watch **out)
{
	struct vol_watch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->s = s;
	w->self = getpid();
	w->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK |
			       FAN_REPORT_DFID_NAME, O_RDONLY | O_CLOEXEC);
	if (w->fan < 0) {
		err = -errno;
		goto err_free;
	}
	w->mount_fd = openat(s->t.root->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->mount_fd < 0) {
		err = -errno;
		goto err_close_fan;
	}
	w->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (w->stop_efd < 0) {
		err = -errno;
		goto err_close_mount;
	}
	err = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (err)
		goto err_close_efd;
	*out = w;
	return 0;

err_close_efd:
	close(w->stop_efd);
err_close_mount:
	close(w->mount_fd);
err_close_fan:
	close(w->fan);
err_free:
	free(w);
	return err;
}

void watch_stop(struct vol_watch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (write(w->stop_efd, &one, sizeof(one)) < 0)
		log_warn("volume: stopping the watcher: %s", strerror(errno));
	pthread_join(w->thread, NULL);
	close(w->stop_efd);
	close(w->mount_fd);
	close(w->fan);
	free(w);
}
