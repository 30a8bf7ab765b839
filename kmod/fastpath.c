// SPDX-License-Identifier: GPL-2.0
/*
 * fastpath.c - the in-kernel READ/WRITE path of the FUSE channel and the
 * backing files it serves: BACKING_OPEN registers an open regular file of
 * the server under an id the server uses as the FUSE fh, BACKING_CLOSE
 * drops it. A READ or WRITE whose fh is such an id is executed here against
 * that file, in the reader's context, with the file's own open mode
 * (kernel_read/kernel_write as the server would pread/pwrite); the reply goes
 * straight back on the request's queue. Any request this code cannot serve
 * exactly as the server would is handed to userspace unchanged.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "chan.h"
#include "fcvm_accel.h"

/**
 * fcvm_backing_get() - the backing file registered under @id
 * @ch: the channel
 * @id: a FUSE fh from the guest (any value)
 *
 * Return: the file with a reference the caller drops with fput(), or NULL.
 */
struct file *fcvm_backing_get(struct fcvm_chan *ch, u64 id)
{
	struct file *f;

	if ((unsigned long)id != id)
		return NULL;
	xa_lock(&ch->backings);
	f = xa_load(&ch->backings, id);
	if (f)
		get_file(f);
	xa_unlock(&ch->backings);
	return f;
}

/* A reply's error field: FUSE takes errnos above -512 only. */
static int fcvm_fast_errno(long err)
{
	return err > FCVM_FRAME_MIN_ERROR ? (int)err : -EINTR;
}

static int fcvm_fast_reply_err(struct fcvm_queue *q, u64 unique, int err)
{
	struct fuse_out_header oh = {
		.len = sizeof(oh),
		.error = fcvm_fast_errno(err),
		.unique = unique,
	};
	struct kvec vec = { .iov_base = &oh, .iov_len = sizeof(oh) };

	return fcvm_queue_send_kvec(q, &vec, 1, sizeof(oh));
}

/* Make the queue's READ buffer hold @size bytes. */
static int fcvm_fast_buf(struct fcvm_queue *q, u32 size)
{
	u8 *buf;

	if (size <= q->fcap)
		return 0;
	buf = kvmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	kvfree(q->fbuf);
	q->fbuf = buf;
	q->fcap = size;
	return 0;
}

/*
 * A large READ: read into fresh pages and let the socket reference them, so
 * the data is copied once (page cache to these pages) instead of twice.
 */
static int fcvm_fast_read_pages(struct fcvm_queue *q, struct file *f,
				const struct fcvm_frame_io *io)
{
	struct fuse_out_header oh = { .unique = io->unique };
	unsigned int i, nr = DIV_ROUND_UP(io->size, PAGE_SIZE);
	struct iov_iter iter;
	loff_t pos = io->offset;
	ssize_t n;
	int ret = 0;

	if (!q->bv) {
		q->bv = kvcalloc(FCVM_CHAN_READ_PAGES, sizeof(*q->bv), GFP_KERNEL);
		if (!q->bv)
			return -ENOMEM;
	}
	for (i = 0; i < nr; i++) {
		q->bv[i].bv_page = alloc_page(GFP_KERNEL);
		if (!q->bv[i].bv_page) {
			ret = -ENOMEM;
			goto out_put;
		}
		q->bv[i].bv_offset = 0;
		q->bv[i].bv_len = min_t(u32, PAGE_SIZE, io->size - i * PAGE_SIZE);
	}
	iov_iter_bvec(&iter, ITER_DEST, q->bv, nr, io->size);
	n = vfs_iter_read(f, &iter, &pos, 0);
	if (n < 0) {
		fcvm_fast_reply_err(q, io->unique, n);
		goto out_put;
	}
	oh.len = sizeof(oh) + n;
	atomic64_inc(&q->chan->stats.fast_read);
	atomic64_add(n, &q->chan->stats.fast_bytes);
	fcvm_queue_send_pages(q, &oh, sizeof(oh), q->bv, nr, n);
out_put:
	while (i--)
		put_page(q->bv[i].bv_page);
	return ret;
}

static int fcvm_fast_read(struct fcvm_queue *q, struct file *f,
			  const struct fcvm_frame_io *io)
{
	struct fuse_out_header oh = { .unique = io->unique };
	struct kvec vec[2];
	loff_t pos = io->offset;
	ssize_t n;

	if (!(f->f_mode & FMODE_READ))
		return fcvm_fast_reply_err(q, io->unique, -EBADF);
	if (io->size >= FCVM_CHAN_SPLICE_MIN)
		return fcvm_fast_read_pages(q, f, io);
	if (fcvm_fast_buf(q, io->size))
		return -ENOMEM;
	n = io->size ? kernel_read(f, q->fbuf, io->size, &pos) : 0;
	if (n < 0)
		return fcvm_fast_reply_err(q, io->unique, n);
	oh.len = sizeof(oh) + n;
	vec[0].iov_base = &oh;
	vec[0].iov_len = sizeof(oh);
	vec[1].iov_base = q->fbuf;
	vec[1].iov_len = n;
	atomic64_inc(&q->chan->stats.fast_read);
	atomic64_add(n, &q->chan->stats.fast_bytes);
	fcvm_queue_send_kvec(q, vec, 2, oh.len);
	return 0;
}

static int fcvm_fast_write(struct fcvm_queue *q, struct file *f,
			   const struct fcvm_frame_io *io)
{
	struct {
		struct fuse_out_header oh;
		struct fuse_write_out wo;
	} r = { .oh = { .len = sizeof(r), .unique = io->unique } };
	struct kvec vec = { .iov_base = &r, .iov_len = sizeof(r) };
	loff_t pos = io->offset;
	ssize_t n;

	if (!(f->f_mode & FMODE_WRITE))
		return fcvm_fast_reply_err(q, io->unique, -EBADF);
	n = io->size ? kernel_write(f, io->data, io->size, &pos) : 0;
	if (n < 0)
		return fcvm_fast_reply_err(q, io->unique, n);
	r.wo.size = n;
	atomic64_inc(&q->chan->stats.fast_write);
	atomic64_add(n, &q->chan->stats.fast_bytes);
	fcvm_queue_send_kvec(q, &vec, 1, sizeof(r));
	return 0;
}

/**
 * fcvm_fast_serve() - serve a READ/WRITE candidate in-kernel if it may be
 * @q:    the queue it came on (rx_lock held)
 * @kind: FCVM_FRAME_READ or FCVM_FRAME_WRITE
 * @io:   its arguments, straight from the guest
 *
 * Served only when @io->fh is a registered backing id, the range fits in
 * loff_t and a READ's size in a frame. A read-only backing answers WRITE
 * with -EBADF, as pwrite(2) on the server's own fd would.
 *
 * Return: 0 when served (the reply is sent or the queue died), -ENOENT when
 * the fh is not a backing id, another -errno when userspace must serve it.
 */
int fcvm_fast_serve(struct fcvm_queue *q, int kind,
		    const struct fcvm_frame_io *io)
{
	struct file *f = fcvm_backing_get(q->chan, io->fh);
	int ret;

	if (!f)
		return -ENOENT;
	if (io->offset > (u64)LLONG_MAX - io->size ||
	    (kind == FCVM_FRAME_READ &&
	     io->size > FCVM_ACCEL_MAX_FRAME - FCVM_FRAME_OUT_HDR))
		ret = -EINVAL;
	else if (kind == FCVM_FRAME_READ)
		ret = fcvm_fast_read(q, f, io);
	else
		ret = fcvm_fast_write(q, f, io);
	fput(f);
	if (ret)
		atomic64_inc(&q->chan->stats.fast_fallback);
	return ret;
}

/* Is @f a file the fast path may do I/O on? */
static int fcvm_backing_usable(struct file *f)
{
	if (!S_ISREG(file_inode(f)->i_mode))
		return -EINVAL;
	if (!(f->f_mode & (FMODE_READ | FMODE_WRITE)) ||
	    !f->f_op->read_iter || !f->f_op->write_iter)
		return -EINVAL;
	return 0;
}

/**
 * fcvm_accel_ioc_backing_open() - FCVM_ACCEL_IOC_BACKING_OPEN
 * @af:  the file's state
 * @arg: userspace struct fcvm_accel_backing
 *
 * Return: 0 (the id written back), -EBADF, -EINVAL (not a regular file
 * open for I/O, a chosen id with FCVM_ACCEL_BACKING_TAG, bad flags),
 * -EEXIST (chosen id in use), -ENOSPC (max_backings), -EFAULT, -ENOMEM.
 */
long fcvm_accel_ioc_backing_open(struct fcvm_accel_file *af, void __user *arg)
{
	struct fcvm_chan *ch = af->chan;
	struct fcvm_accel_backing b;
	struct file *f;
	long ret;

	ret = fcvm_accel_copy_arg(&b, sizeof(b), arg);
	if (ret)
		return ret;
	if ((b.flags & ~FCVM_ACCEL_BACKING_ID) || b.pad)
		return -EINVAL;
	if (b.flags & FCVM_ACCEL_BACKING_ID) {
		if (!b.id || (b.id & FCVM_ACCEL_BACKING_TAG) ||
		    (unsigned long)b.id != b.id)
			return -EINVAL;
	} else {
		b.id = atomic64_inc_return(&ch->next_backing);
		if ((unsigned long)b.id != b.id)
			return -ENOSPC;
	}
	f = fget(b.fd);
	if (!f)
		return -EBADF;
	ret = fcvm_backing_usable(f);
	if (ret)
		goto err_fput;
	ret = -ENOSPC;
	if (atomic_inc_return(&ch->nbackings) > READ_ONCE(fcvm_accel_max_backings))
		goto err_dec;
	ret = xa_insert(&ch->backings, b.id, f, GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -EEXIST : ret;
		goto err_dec;
	}
	if (copy_to_user(arg, &b, sizeof(b))) {
		xa_erase(&ch->backings, b.id);
		ret = -EFAULT;
		goto err_dec;
	}
	return 0;

err_dec:
	atomic_dec(&ch->nbackings);
err_fput:
	fput(f);
	return ret;
}

/**
 * fcvm_accel_ioc_backing_close() - FCVM_ACCEL_IOC_BACKING_CLOSE
 * @af:  the file's state
 * @arg: userspace struct fcvm_accel_backing (id in)
 *
 * A fast-path request already running on the file finishes with its own
 * reference; later requests with this fh go to userspace.
 *
 * Return: 0, -ENOENT for an id not registered, -EINVAL, -EFAULT.
 */
long fcvm_accel_ioc_backing_close(struct fcvm_accel_file *af, void __user *arg)
{
	struct fcvm_chan *ch = af->chan;
	struct fcvm_accel_backing b;
	struct file *f;
	long ret;

	ret = fcvm_accel_copy_arg(&b, sizeof(b), arg);
	if (ret)
		return ret;
	if (b.flags || b.pad)
		return -EINVAL;
	if ((unsigned long)b.id != b.id)
		return -ENOENT;
	f = xa_erase(&ch->backings, b.id);
	if (!f)
		return -ENOENT;
	atomic_dec(&ch->nbackings);
	fput(f);
	return 0;
}

/**
 * fcvm_backings_release() - drop every backing file of a dying channel
 * @ch: the channel
 */
void fcvm_backings_release(struct fcvm_chan *ch)
{
	unsigned long id;
	struct file *f;

	xa_for_each(&ch->backings, id, f)
		fput(f);
	xa_destroy(&ch->backings);
}
