// SPDX-License-Identifier: GPL-2.0
/*
 * volume/ops.c - the passthrough FUSE operations, confined to the shared
 * directory.
 *
 * Every inode is an O_PATH|O_NOFOLLOW fd. A name is always one path
 * component, resolved with openat2(RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS)
 * from its parent's fd and never followed if it is a symlink, so neither
 * "..", nor a symlink, nor a rename racing the lookup reaches outside the
 * tree. Regular files and directories are reopened for I/O through
 * /proc/self/fd (never symlinks). Requests are served inline on the queue
 * thread that received them; each gets exactly one reply.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include <linux/fuse.h>
#include <linux/openat2.h>

#include "fcvm/volume.h"
#include "util/log.h"
#include "volume/server.h"

#define RESOLVE_CONFINED	(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
#define DIRENT_BUF		(32u * 1024u)

static __thread char *io_buf;	/* READ data, one per queue thread */

static struct vol_session *sess(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static int openat2_confined(int dirfd, const char *name, uint64_t flags, uint64_t mode)
{
	struct open_how how = {
		.flags = flags | O_CLOEXEC,
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_CONFINED,
	};
	long fd;

	do {
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	} while (fd < 0 && errno == EAGAIN);
	return fd < 0 ? -errno : (int)fd;
}

/* One component: not empty, no '/', not "." or "..". */
static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || strchr(name, '/'))
		return -EINVAL;
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

static int st_of(int fd, struct stat *st)
{
	return fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Reopen an O_PATH fd of a regular file or directory with real flags. */
static int reopen(struct vol_session *s, const struct vol_inode *in, int flags)
{
	char name[16];
	int fd;

	if (in->type != S_IFREG && in->type != S_IFDIR)
		return -EINVAL;
	snprintf(name, sizeof(name), "%d", in->fd);
	fd = openat(s->proc_fd, name, (flags & ~(O_CREAT | O_EXCL | O_NOFOLLOW)) | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void fill_entry(struct vol_session *s, struct fuse_entry_param *e,
		       const struct vol_inode *in, const struct stat *st)
{
	memset(e, 0, sizeof(*e));
	e->ino = in->nodeid;
	e->attr = *st;
	e->attr_timeout = s->timeout;
	e->entry_timeout = s->timeout;
}

/**
 * lookup_entry() - resolve one name under a directory inode
 * @s:      session
 * @parent: directory
 * @name:   one component (checked by the caller)
 * @e:      filled; the kernel now holds one lookup on e->ino
 *
 * Return: 0 or -errno.
 */
static int lookup_entry(struct vol_session *s, struct vol_inode *parent,
			const char *name, struct fuse_entry_param *e)
{
	struct vol_inode *in;
	struct stat st;
	bool created;
	int fd, err;

	fd = openat2_confined(parent->fd, name, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	err = st_of(fd, &st);
	if (err) {
		close(fd);
		return err;
	}
	err = vt_lookup_fd(&s->t, fd, &st, &in, &created);
	if (err)
		return err;
	if (created && in->type == S_IFDIR && s->watch)
		watch_dir(s->watch, in);
	fill_entry(s, e, in, &st);
	vt_put(&s->t, in);
	return 0;
}

/* Take a reference on a node id or answer ESTALE. */
static struct vol_inode *get_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	struct vol_inode *in = vt_get(&sess(req)->t, ino);

	if (!in)
		fuse_reply_err(req, ESTALE);
	return in;
}

/* For write operations: EROFS on a read-only volume, else as get_or_reply(). */
static struct vol_inode *get_writable_or_reply(fuse_req_t req, fuse_ino_t ino)
{
	if (sess(req)->o->ro) {
		fuse_reply_err(req, EROFS);
		return NULL;
	}
	return get_or_reply(req, ino);
}

static void reply_entry_or_err(fuse_req_t req, int err, const struct fuse_entry_param *e)
{
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_entry(req, e);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct vol_session *s = sess(req);
	struct fuse_entry_param e;
	struct vol_inode *p;
	int err = check_name(name);

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	p = get_or_reply(req, parent);
	if (!p)
		return;
	err = lookup_entry(s, p, name, &e);
	vt_put(&s->t, p);
	if (err == -ENOENT && s->o->cache != VOLUME_CACHE_NEVER) {
		memset(&e, 0, sizeof(e));	/* cache the negative entry */
		e.entry_timeout = s->timeout;
		err = 0;
	}
	reply_entry_or_err(req, err, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	vt_forget(&sess(req)->t, ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *f)
{
	for (size_t i = 0; i < count; i++)
		vt_forget(&sess(req)->t, f[i].ino, f[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct stat st;
	int err;

	if (!in)
		return;
	err = st_of(in->fd, &st);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, s->timeout);
	vt_put(&s->t, in);
}

/* An fd to do I/O on: the open handle (fh), or the inode's own reopened fd. */
struct io_ref {
	int fd;
	struct vol_handle *h;
};

static int inode_io_fd(struct vol_session *s, struct vol_inode *in, bool write)
{
	int fd, err = 0;

	if (in->type != S_IFREG)
		return in->type == S_IFDIR ? -EISDIR : -EINVAL;
	if (write && s->o->ro)
		return -EROFS;
	pthread_mutex_lock(&in->lock);
	if (in->rw_fd < 0 && !s->o->ro && (write || in->ro_fd < 0)) {
		fd = reopen(s, in, O_RDWR);
		if (fd >= 0)
			in->rw_fd = fd;
		else if (write)
			err = fd;
	}
	if (!err && in->rw_fd < 0 && in->ro_fd < 0) {
		fd = reopen(s, in, O_RDONLY);
		if (fd >= 0)
			in->ro_fd = fd;
		else
			err = fd;
	}
	fd = in->rw_fd >= 0 ? in->rw_fd : in->ro_fd;
	pthread_mutex_unlock(&in->lock);
	return err ? err : fd;
}

static int io_get(struct vol_session *s, struct vol_inode *in, struct fuse_file_info *fi,
		  bool write, struct io_ref *io)
{
	io->h = NULL;
	if (fi && fi->fh) {
		io->h = vt_handle_get(&s->t, fi->fh);
		if (!io->h)
			return -EBADF;
		io->fd = io->h->fd;
		return 0;
	}
	io->fd = inode_io_fd(s, in, write);
	return io->fd < 0 ? io->fd : 0;
}

static void io_put(struct vol_session *s, struct io_ref *io)
{
	if (io->h)
		vt_handle_put(&s->t, io->h);
}

static int set_times(struct vol_session *s, struct vol_inode *in, const struct stat *attr,
		     int to_set)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_nsec = UTIME_OMIT } };
	char name[16];

	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
	if (in->type == S_IFLNK)
		return utimensat(in->fd, "", ts, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ?
		       -errno : 0;
	snprintf(name, sizeof(name), "%d", in->fd);
	return utimensat(s->proc_fd, name, ts, 0) < 0 ? -errno : 0;
}

static int do_setattr(struct vol_session *s, struct vol_inode *in, const struct stat *attr,
		      int to_set, struct fuse_file_info *fi)
{
	char name[16];
	int err = 0;

	snprintf(name, sizeof(name), "%d", in->fd);
	if (to_set & FUSE_SET_ATTR_MODE) {
		if (in->type == S_IFLNK)
			return -EOPNOTSUPP;
		if (fchmodat(s->proc_fd, name, attr->st_mode & 07777, 0) < 0)
			return -errno;
	}
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;

		if (fchownat(in->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		struct io_ref io;

		err = io_get(s, in, fi, true, &io);
		if (err)
			return err;
		if (ftruncate(io.fd, attr->st_size) < 0)
			err = -errno;
		io_put(s, &io);
		if (err)
			return err;
	}
	if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		      FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW))
		err = set_times(s, in, attr, to_set);
	return err;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	struct stat st;
	int err;

	in = get_writable_or_reply(req, ino);
	if (!in)
		return;
	err = do_setattr(s, in, attr, to_set, fi);
	if (!err)
		err = st_of(in->fd, &st);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_attr(req, &st, s->timeout);
	vt_put(&s->t, in);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	char buf[PATH_MAX + 1];
	ssize_t n;

	if (!in)
		return;
	n = readlinkat(in->fd, "", buf, sizeof(buf) - 1);
	if (n < 0) {
		fuse_reply_err(req, errno);
	} else {
		buf[n] = '\0';
		fuse_reply_readlink(req, buf);
	}
	vt_put(&s->t, in);
}

/* Common frame of the creating operations: checks, caller creds, lookup. */
enum mk_kind { MK_NOD, MK_DIR, MK_SYMLINK, MK_LINK };

struct mk_args {
	enum mk_kind kind;
	mode_t mode;
	dev_t rdev;
	const char *target;		/* symlink */
	struct vol_inode *src;		/* link */
};

static int do_make(struct vol_session *s, const struct fuse_ctx *ctx, struct vol_inode *p,
		   const char *name, const struct mk_args *a)
{
	/* A link makes no inode: nothing to own, and the host's
	 * protected_hardlinks would want CAP_FOWNER for the caller. */
	bool as_caller = a->kind != MK_LINK;
	int err = as_caller ? creds_enter(ctx->uid, ctx->gid, true) : 0, r = 0;

	if (err)
		return err;
	switch (a->kind) {
	case MK_NOD:
		r = mknodat(p->fd, name, a->mode, a->rdev);
		break;
	case MK_DIR:
		r = mkdirat(p->fd, name, a->mode);
		break;
	case MK_SYMLINK:
		r = symlinkat(a->target, p->fd, name);
		break;
	case MK_LINK:
		r = linkat(a->src->fd, "", p->fd, name, AT_EMPTY_PATH);
		break;
	}
	err = r < 0 ? -errno : 0;
	if (as_caller)
		creds_leave();
	(void)s;
	return err;
}

static void make_node(fuse_req_t req, fuse_ino_t parent, const char *name,
		      const struct mk_args *a)
{
	struct vol_session *s = sess(req);
	struct fuse_entry_param e;
	struct vol_inode *p;
	int err = s->o->ro ? -EROFS : check_name(name);

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	p = get_or_reply(req, parent);
	if (!p)
		return;
	err = p->type == S_IFDIR ? 0 : -ENOTDIR;
	if (!err)
		err = do_make(s, fuse_req_ctx(req), p, name, a);
	if (!err)
		err = lookup_entry(s, p, name, &e);
	vt_put(&s->t, p);
	reply_entry_or_err(req, err, &e);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	struct mk_args a = { .kind = MK_NOD, .mode = mode, .rdev = rdev };

	/* Device nodes would open host devices to whoever can reach the share. */
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	make_node(req, parent, name, &a);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct mk_args a = { .kind = MK_DIR, .mode = mode };

	make_node(req, parent, name, &a);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
		       const char *name)
{
	struct mk_args a = { .kind = MK_SYMLINK, .target = target };

	make_node(req, parent, name, &a);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct vol_session *s = sess(req);	/* req is gone after the reply */
	struct mk_args a = { .kind = MK_LINK };

	a.src = get_or_reply(req, ino);
	if (!a.src)
		return;
	make_node(req, newparent, newname, &a);
	vt_put(&s->t, a.src);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name, int flags)
{
	struct vol_session *s = sess(req);
	struct vol_inode *p;
	int err = s->o->ro ? -EROFS : check_name(name);

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	p = get_or_reply(req, parent);
	if (!p)
		return;
	fuse_reply_err(req, unlinkat(p->fd, name, flags) < 0 ? errno : 0);
	vt_put(&s->t, p);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, AT_REMOVEDIR);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct vol_session *s = sess(req);
	struct vol_inode *p, *np;
	int err = s->o->ro ? -EROFS : check_name(name);

	if (!err)
		err = check_name(newname);
	if (!err && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)))
		err = -EINVAL;
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	p = get_or_reply(req, parent);
	if (!p)
		return;
	np = get_or_reply(req, newparent);
	if (np) {
		fuse_reply_err(req, renameat2(p->fd, name, np->fd, newname, flags) < 0 ?
				    errno : 0);
		vt_put(&s->t, np);
	}
	vt_put(&s->t, p);
}

static void set_open_flags(struct vol_session *s, struct fuse_file_info *fi)
{
	if (s->o->cache == VOLUME_CACHE_NEVER) {
		fi->direct_io = 1;
		return;
	}
	fi->keep_cache = 1;
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		fi->noflush = 1;
}

/*
 * The module channel serves READ/WRITE of a registered handle in-kernel
 * (volume/channel_kmod.c); other channels have no backing_open. A failure
 * only means the server keeps serving that handle itself.
 */
static void backing_register(struct vol_session *s, uint64_t fh)
{
	struct vol_handle *h;
	int err;

	if (!s->ch->ops->backing_open || !fh)
		return;
	h = vt_handle_get(&s->t, fh);
	if (!h)
		return;
	err = s->ch->ops->backing_open(s->ch, h->fd, fh);
	if (err)
		log_debug("volume: fh %llu stays on the server: %s",
			  (unsigned long long)fh, strerror(-err));
	vt_handle_put(&s->t, h);
}

static void backing_unregister(struct vol_session *s, uint64_t fh)
{
	if (s->ch->ops->backing_close && fh)
		s->ch->ops->backing_close(s->ch, fh);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	int flags = fi->flags, fd, err;

	if (s->no_open) {
		fuse_reply_err(req, ENOSYS);	/* the kernel stops sending OPEN */
		return;
	}
	if (s->o->ro && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC))) {
		fuse_reply_err(req, EROFS);
		return;
	}
	in = get_or_reply(req, ino);
	if (!in)
		return;
	if (s->writeback) {	/* the kernel may read to fill pages of a write-only file */
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	fd = reopen(s, in, flags & ~O_DIRECTORY);
	err = fd < 0 ? fd : vt_handle_add(&s->t, fd, &fi->fh);
	if (err) {
		fuse_reply_err(req, -err);
	} else {
		set_open_flags(s, fi);
		backing_register(s, fi->fh);
		if (fuse_reply_open(req, fi)) {
			backing_unregister(s, fi->fh);
			vt_handle_del(&s->t, fi->fh);
		}
	}
	vt_put(&s->t, in);
}

static int create_open(struct vol_session *s, const struct fuse_ctx *ctx, struct vol_inode *p,
		       const char *name, mode_t mode, int flags)
{
	int err = creds_enter(ctx->uid, ctx->gid, true), fd;

	if (err)
		return err;
	fd = openat2_confined(p->fd, name, (uint64_t)(flags | O_CREAT | O_NOFOLLOW),
			      mode & 07777);
	creds_leave();
	return fd;
}

static int create_finish(struct vol_session *s, int fd, struct fuse_entry_param *e,
			 struct fuse_file_info *fi)
{
	struct vol_inode *in;
	struct stat st;
	char name[16];
	int pfd, err;

	snprintf(name, sizeof(name), "%d", fd);
	pfd = openat(s->proc_fd, name, O_PATH | O_CLOEXEC);	/* the created inode itself */
	if (pfd < 0)
		return -errno;
	err = st_of(pfd, &st);
	if (!err)
		err = vt_lookup_fd(&s->t, pfd, &st, &in, NULL);
	else
		close(pfd);
	if (err)
		return err;
	fill_entry(s, e, in, &st);
	fi->fh = 0;
	if (s->no_open) {
		pthread_mutex_lock(&in->lock);
		if (in->rw_fd < 0 && (fi->flags & O_ACCMODE) != O_RDONLY) {
			in->rw_fd = fd;
			fd = -1;
		}
		pthread_mutex_unlock(&in->lock);
		if (fd >= 0)
			close(fd);
	} else {
		err = vt_handle_add(&s->t, fd, &fi->fh);
	}
	vt_put(&s->t, in);
	return err;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct fuse_entry_param e;
	struct vol_inode *p;
	int flags = fi->flags, err = s->o->ro ? -EROFS : check_name(name), fd;

	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	p = get_or_reply(req, parent);
	if (!p)
		return;
	if (s->writeback || s->no_open) {
		flags = (flags & ~(O_ACCMODE | O_APPEND)) | O_RDWR;
		if (s->no_open)
			fi->flags = (fi->flags & ~O_ACCMODE) | O_RDWR;
	}
	fd = create_open(s, fuse_req_ctx(req), p, name, mode, flags);
	if (fd < 0)
		log_debug("volume: create %s as %u:%u: %s", name, fuse_req_ctx(req)->uid,
			  fuse_req_ctx(req)->gid, strerror(-fd));
	err = fd < 0 ? fd : create_finish(s, fd, &e, fi);
	vt_put(&s->t, p);
	if (err) {
		fuse_reply_err(req, -err);
		return;
	}
	set_open_flags(s, fi);
	backing_register(s, fi->fh);
	fuse_reply_create(req, &e, fi);
}

#define SPLICE_MIN	(32u * 1024u)	/* below this, copying is cheaper */

static __thread int splice_pipe[2] = { -1, -1 };

static void close_pipe(void)
{
	if (splice_pipe[0] >= 0) {
		close(splice_pipe[0]);
		close(splice_pipe[1]);
	}
	splice_pipe[0] = splice_pipe[1] = -1;
}

/*
 * read_spliced() - answer a large READ without copying the data through
 * this process: file -> pipe -> connection.
 * Return: 0 when answered (req freed), -errno when the caller must answer.
 */
static int read_spliced(fuse_req_t req, struct vol_session *s, int fd, size_t size,
			off_t off)
{
	struct vol_queue *q = server_cur_queue();
	struct fuse_out_header h = { .error = 0 };
	loff_t pos = off;
	size_t got = 0;
	ssize_t n;

	if (!q || !s->ch->ops->send_pipe || size < SPLICE_MIN)
		return -EOPNOTSUPP;
	if (splice_pipe[0] < 0) {
		if (pipe2(splice_pipe, O_CLOEXEC))
			return -EOPNOTSUPP;
		/*
		 * Room for max_write at any offset (one more page than it
		 * spans) needs more than pipe-max-size, i.e. CAP_SYS_RESOURCE;
		 * without it a page-aligned max_write (readahead) still fits,
		 * and an unaligned one falls back to copying (EAGAIN below).
		 */
		if (fcntl(splice_pipe[1], F_SETPIPE_SZ, 2 * FCVM_VOLUME_MAX_WRITE) < 0 &&
		    fcntl(splice_pipe[1], F_SETPIPE_SZ, FCVM_VOLUME_MAX_WRITE) < 0) {
			close_pipe();
			return -EOPNOTSUPP;
		}
	}
	/* Fill the pipe first: until the reply is sent, falling back is free. */
	while (got < size) {
		n = splice(fd, &pos, splice_pipe[1], NULL, size - got,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close_pipe();	/* drop what it holds */
			/* EAGAIN (full), EINVAL (no splice here): copy instead */
			return err == EAGAIN || err == EINVAL || !got ? -EOPNOTSUPP : -err;
		}
		if (n == 0)
			break;	/* end of file */
		got += (size_t)n;
	}
	h.len = (uint32_t)(sizeof(h) + got);
	h.unique = q->unique;
	if (s->ch->ops->send_pipe(s->ch, q->idx, &h, sizeof(h), splice_pipe[0], got) < 0)
		close_pipe();	/* may hold leftovers; the guest is gone anyway */
	fuse_reply_none(req);	/* answered above: just free the request */
	return 0;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct io_ref io;
	ssize_t n;
	int err;

	if (!in)
		return;
	if (!io_buf)
		io_buf = malloc(FCVM_VOLUME_MAX_WRITE);
	err = io_buf ? io_get(s, in, fi, false, &io) : -ENOMEM;
	if (err) {
		fuse_reply_err(req, -err);
		goto out_put;
	}
	err = read_spliced(req, s, io.fd, size, off);
	if (err != -EOPNOTSUPP) {
		if (err)
			fuse_reply_err(req, -err);
		io_put(s, &io);
		goto out_put;
	}
	n = pread(io.fd, io_buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, io_buf, (size_t)n);
	io_put(s, &io);
out_put:
	vt_put(&s->t, in);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
		     off_t off, struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	struct io_ref io;
	ssize_t n;
	int err;

	in = get_writable_or_reply(req, ino);
	if (!in)
		return;
	err = io_get(s, in, fi, true, &io);
	if (err) {
		fuse_reply_err(req, -err);
		goto out_put;
	}
	n = pwrite(io.fd, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
	io_put(s, &io);
out_put:
	vt_put(&s->t, in);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_handle *h;
	int fd;

	if (!fi->fh) {
		/* No open handle (no_open): nothing to flush; stop FLUSH requests. */
		fuse_reply_err(req, s->no_open ? ENOSYS : EBADF);
		return;
	}
	h = vt_handle_get(&s->t, fi->fh);
	if (!h) {
		fuse_reply_err(req, EBADF);
		return;
	}
	/* close() of a duplicate: releases POSIX locks, reports write-back errors */
	fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 0);
	fuse_reply_err(req, fd < 0 ? errno : close(fd) < 0 ? errno : 0);
	vt_handle_put(&s->t, h);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	backing_unregister(sess(req), fi->fh);
	vt_handle_del(&sess(req)->t, fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct io_ref io;
	int err;

	if (!in)
		return;
	err = io_get(s, in, fi, false, &io);
	if (!err) {
		err = (datasync ? fdatasync(io.fd) : fsync(io.fd)) < 0 ? -errno : 0;
		io_put(s, &io);
	}
	fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	int fd, err;

	if (s->no_open) {
		fuse_reply_err(req, ENOSYS);	/* the kernel stops sending OPENDIR */
		return;
	}
	in = get_or_reply(req, ino);
	if (!in)
		return;
	fd = in->type == S_IFDIR ? reopen(s, in, O_RDONLY | O_DIRECTORY) : -ENOTDIR;
	err = fd < 0 ? fd : vt_handle_add(&s->t, fd, &fi->fh);
	if (err) {
		fuse_reply_err(req, -err);
	} else {
		if (s->o->cache != VOLUME_CACHE_NEVER)
			fi->cache_readdir = fi->keep_cache = 1;
		if (fuse_reply_open(req, fi))
			vt_handle_del(&s->t, fi->fh);
	}
	vt_put(&s->t, in);
}

/* A directory stream: its fd, the lock serialising it, its position. */
struct dir_ref {
	int fd;
	pthread_mutex_t *lock;
	off_t *pos;
	struct vol_handle *h;
};

static int dir_get(struct vol_session *s, struct vol_inode *in, struct fuse_file_info *fi,
		   struct dir_ref *d)
{
	int fd = 0;

	d->h = NULL;
	if (in->type != S_IFDIR)
		return -ENOTDIR;
	if (fi && fi->fh) {
		d->h = vt_handle_get(&s->t, fi->fh);
		if (!d->h)
			return -EBADF;
		d->fd = d->h->fd;
		d->lock = &d->h->lock;
		d->pos = &d->h->dir_pos;
		return 0;
	}
	pthread_mutex_lock(&in->lock);
	if (in->dir_fd < 0) {
		fd = reopen(s, in, O_RDONLY | O_DIRECTORY);
		if (fd >= 0)
			in->dir_fd = fd;
	}
	pthread_mutex_unlock(&in->lock);
	if (fd < 0)
		return fd;
	d->fd = in->dir_fd;
	d->lock = &in->lock;
	d->pos = &in->dir_pos;
	return 0;
}

static bool is_dot(const char *n)
{
	return !strcmp(n, ".") || !strcmp(n, "..");
}

/* Add one entry; 0 when it does not fit (nothing added). */
static size_t add_entry(fuse_req_t req, struct vol_session *s, struct vol_inode *dir,
			char *out, size_t room, const struct dirent64 *d, bool plus)
{
	struct fuse_entry_param e = { 0 };
	size_t need;

	e.attr.st_ino = d->d_ino;
	e.attr.st_mode = (mode_t)d->d_type << 12;
	if (!plus) {
		need = fuse_add_direntry(req, NULL, 0, d->d_name, NULL, 0);
		if (need > room)
			return 0;
		return fuse_add_direntry(req, out, room, d->d_name, &e.attr, d->d_off);
	}
	need = fuse_add_direntry_plus(req, NULL, 0, d->d_name, NULL, 0);
	if (need > room)
		return 0;
	if (!is_dot(d->d_name) && lookup_entry(s, dir, d->d_name, &e)) {
		memset(&e, 0, sizeof(e));	/* vanished: a plain entry */
		e.attr.st_ino = d->d_ino;
		e.attr.st_mode = (mode_t)d->d_type << 12;
	}
	return fuse_add_direntry_plus(req, out, room, d->d_name, &e, d->d_off);
}

static ssize_t fill_dir(fuse_req_t req, struct vol_session *s, struct vol_inode *in,
			struct dir_ref *d, char *out, size_t size, off_t off, bool plus)
{
	char *dbuf = malloc(DIRENT_BUF);
	size_t used = 0;
	ssize_t n;

	if (!dbuf)
		return -ENOMEM;
	if (*d->pos != off) {
		if (lseek(d->fd, off, SEEK_SET) < 0) {
			free(dbuf);
			return -errno;
		}
		*d->pos = off;
	}
	n = getdents64(d->fd, dbuf, size < DIRENT_BUF ? size : DIRENT_BUF);
	if (n < 0) {
		free(dbuf);
		*d->pos = -1;
		return -errno;
	}
	for (ssize_t p = 0; p < n;) {
		const struct dirent64 *de = (const void *)(dbuf + p);
		size_t add = add_entry(req, s, in, out + used, size - used, de, plus);

		if (!add) {
			*d->pos = -1;	/* the fd is past what we returned */
			break;
		}
		used += add;
		*d->pos = de->d_off;
		p += de->d_reclen;
	}
	free(dbuf);
	return (ssize_t)used;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, bool plus)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct dir_ref d;
	char *out = NULL;
	ssize_t used;
	int err;

	if (!in)
		return;
	err = dir_get(s, in, fi, &d);
	if (err)
		goto out_reply;
	out = malloc(size ? size : 1);
	if (!out) {
		err = -ENOMEM;
		goto out_dir;
	}
	pthread_mutex_lock(d.lock);
	used = fill_dir(req, s, in, &d, out, size, off, plus);
	pthread_mutex_unlock(d.lock);
	if (used < 0)
		err = (int)used;
	else
		fuse_reply_buf(req, out, (size_t)used);
	free(out);
out_dir:
	if (d.h)
		vt_handle_put(&s->t, d.h);
out_reply:
	if (err)
		fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	vt_handle_del(&sess(req)->t, fi->fh);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct dir_ref d;
	int err;

	if (!in)
		return;
	err = dir_get(s, in, fi, &d);
	if (!err) {
		err = (datasync ? fdatasync(d.fd) : fsync(d.fd)) < 0 ? -errno : 0;
		if (d.h)
			vt_handle_put(&s->t, d.h);
	}
	fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct statvfs sv;

	if (!in)
		return;
	if (fstatvfs(in->fd, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
	vt_put(&s->t, in);
}

/* xattrs go through /proc/self/fd/N: O_PATH fds do not take f*xattr(). */
static int xattr_path(const struct vol_inode *in, char *buf, size_t len)
{
	if (in->type == S_IFLNK)
		return -EPERM;
	snprintf(buf, len, "/proc/self/fd/%d", in->fd);
	return 0;
}

/* Names a guest must not set on host files. */
static bool xattr_forbidden(const char *name)
{
	return !strncmp(name, "trusted.", 8) || !strcmp(name, "security.capability");
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	char path[64];
	int err;

	if (s->o->ro || xattr_forbidden(name)) {
		fuse_reply_err(req, s->o->ro ? EROFS : EPERM);
		return;
	}
	in = get_or_reply(req, ino);
	if (!in)
		return;
	err = xattr_path(in, path, sizeof(path));
	if (!err && setxattr(path, name, value, size, flags) < 0)
		err = -errno;
	fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void reply_xattr_result(fuse_req_t req, ssize_t n, const char *buf, size_t size)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (!size)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	char path[64], *buf = NULL;
	ssize_t n;

	if (!in)
		return;
	n = xattr_path(in, path, sizeof(path));
	if (!n && size && !(buf = malloc(size)))
		n = -ENOMEM;
	if (!n) {
		n = getxattr(path, name, buf, size);
		if (n < 0)
			n = -errno;
	}
	reply_xattr_result(req, n, buf, size);
	free(buf);
	vt_put(&s->t, in);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	char path[64], *buf = NULL;
	ssize_t n;

	if (!in)
		return;
	n = xattr_path(in, path, sizeof(path));
	if (n == -EPERM) {
		n = 0;		/* symlinks: an empty list */
	} else {
		if (size && !(buf = malloc(size)))
			n = -ENOMEM;
		if (!n) {
			n = listxattr(path, buf, size);
			if (n < 0)
				n = -errno;
		}
	}
	reply_xattr_result(req, n, buf, size);
	free(buf);
	vt_put(&s->t, in);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	char path[64];
	int err;

	in = get_writable_or_reply(req, ino);
	if (!in)
		return;
	err = xattr_path(in, path, sizeof(path));
	if (!err && removexattr(path, name) < 0)
		err = -errno;
	fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct vol_session *s = sess(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct vol_inode *in = get_or_reply(req, ino);
	char name[16];
	int err;

	if (!in)
		return;
	if (s->o->ro && (mask & W_OK)) {
		err = -EROFS;
	} else if (in->type == S_IFLNK) {
		err = 0;
	} else {
		snprintf(name, sizeof(name), "%d", in->fd);
		err = creds_enter(ctx->uid, ctx->gid, false);
		if (!err) {
			err = faccessat(s->proc_fd, name, mask, AT_EACCESS) < 0 ? -errno : 0;
			creds_leave();
		}
	}
	fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len,
			 struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in;
	struct io_ref io;
	int err;

	in = get_writable_or_reply(req, ino);
	if (!in)
		return;
	err = io_get(s, in, fi, true, &io);
	if (!err) {
		err = fallocate(io.fd, mode, off, len) < 0 ? -errno : 0;
		io_put(s, &io);
	}
	fuse_reply_err(req, -err);
	vt_put(&s->t, in);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct vol_session *s = sess(req);
	struct vol_inode *in = get_or_reply(req, ino);
	struct io_ref io;
	off_t r;
	int err;

	if (!in)
		return;
	err = io_get(s, in, fi, false, &io);
	if (err) {
		fuse_reply_err(req, -err);
	} else {
		/* Only SEEK_DATA/SEEK_HOLE reach the server; the result is absolute. */
		r = lseek(io.fd, off, whence);
		if (r < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_lseek(req, r);
		io_put(s, &io);
	}
	vt_put(&s->t, in);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out,
			       off_t off_out, struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	struct vol_session *s = sess(req);
	struct vol_inode *a, *b = NULL;
	struct io_ref in = { .h = NULL }, out = { .h = NULL };
	ssize_t n = -EROFS;

	if (s->o->ro) {
		fuse_reply_err(req, EROFS);
		return;
	}
	a = get_or_reply(req, ino_in);
	if (!a)
		return;
	b = get_or_reply(req, ino_out);
	if (!b)
		goto out_put_a;
	n = io_get(s, a, fi_in, false, &in);
	if (!n)
		n = io_get(s, b, fi_out, true, &out);
	if (!n) {
		n = copy_file_range(in.fd, &off_in, out.fd, &off_out,
				    len > (1u << 30) ? (1u << 30) : len, (unsigned int)flags);
		if (n < 0)
			n = -errno;
	}
	io_put(s, &in);
	io_put(s, &out);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
	vt_put(&s->t, b);
out_put_a:
	vt_put(&s->t, a);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct vol_session *s = userdata;
	bool caching = s->o->cache != VOLUME_CACHE_NEVER;

	conn->max_write = FCVM_VOLUME_MAX_WRITE;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	conn->time_gran = 1;
	/* No splice: the channel is not a /dev/fuse fd. No atomic O_TRUNC: with
	 * no_open the kernel would skip the truncating SETATTR. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
			FUSE_CAP_ATOMIC_O_TRUNC);
	if (!caching)
		conn->want &= ~(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	/*
	 * Writeback cache makes the guest trust its own file sizes and mtimes
	 * for good, so host-side changes could never show: only where the host
	 * promises not to change the tree (cache=always).
	 */
	if (s->o->cache == VOLUME_CACHE_ALWAYS && !s->o->ro &&
	    (conn->capable & FUSE_CAP_WRITEBACK_CACHE)) {
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
		s->writeback = true;
	}
	if (caching && (conn->capable & FUSE_CAP_CACHE_SYMLINKS))
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (s->o->cache == VOLUME_CACHE_ALWAYS)
		conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/*
	 * no_open saves the OPEN round trip, but a channel that serves READ and
	 * WRITE in the kernel (fcvm_accel) needs the handle OPEN registers as a
	 * backing file: there one OPEN buys every later READ/WRITE without a
	 * wake-up of this server.
	 */
	s->no_open = caching && !s->ch->ops->backing_open &&
		     (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) &&
		     (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT);
}

/* Called by each queue thread as it ends. */
void ops_thread_exit(void)
{
	close_pipe();
	free(io_buf);
	io_buf = NULL;
}

const struct fuse_lowlevel_ops vol_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.create = op_create,
	.fallocate = op_fallocate,
	.lseek = op_lseek,
	.copy_file_range = op_copy_file_range,
};
