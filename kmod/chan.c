// SPDX-License-Identifier: GPL-2.0
/*
 * chan.c - the FUSE channel of /dev/fcvm_accel: ATTACH of stream sockets as
 * queues, read() of one whole request, write() of one whole reply routed by
 * unique, poll(), SHUTDOWN, GET_STATS and teardown.
 *
 * Requests are received in the context of the thread blocked in read(): the
 * socket callbacks only mark a queue ready and wake the channel's wait
 * queue; the reader then receives without blocking (MSG_DONTWAIT), serves
 * READ/WRITE on registered backing files inline (fastpath.c) and returns the
 * first request userspace must handle. No kernel thread sits between the
 * socket and the server. Design and threat model: Documentation/fcvm_accel.rst.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/sock.h>

#include "chan.h"
#include "compat.h"
#include "fcvm_accel.h"

unsigned int fcvm_accel_max_queues = FCVM_CHAN_QUEUES;
unsigned int fcvm_accel_max_backings = 4096;

static int fcvm_set_max_queues(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, FCVM_CHAN_QUEUES);
}

static const struct kernel_param_ops fcvm_max_queues_ops = {
	.set = fcvm_set_max_queues,
	.get = param_get_uint,
};

module_param_cb(max_queues, &fcvm_max_queues_ops, &fcvm_accel_max_queues, 0644);
MODULE_PARM_DESC(max_queues, "Sockets one channel may attach (1-64, default 64)");

static int fcvm_set_max_backings(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 1U << 20);
}

static const struct kernel_param_ops fcvm_max_backings_ops = {
	.set = fcvm_set_max_backings,
	.get = param_get_uint,
};

module_param_cb(max_backings, &fcvm_max_backings_ops, &fcvm_accel_max_backings,
		0644);
MODULE_PARM_DESC(max_backings,
		 "Backing files one channel may register (1-1048576, default 4096)");

/**
 * fcvm_chan_create() - allocate an empty channel
 *
 * Return: the channel or NULL.
 */
struct fcvm_chan *fcvm_chan_create(void)
{
	struct fcvm_chan *ch = kzalloc(sizeof(*ch), GFP_KERNEL);

	if (!ch)
		return NULL;
	init_waitqueue_head(&ch->wq);
	mutex_init(&ch->attach_lock);
	xa_init(&ch->inflight);
	xa_init(&ch->backings);
	atomic64_set(&ch->next_backing, FCVM_ACCEL_BACKING_TAG | 1);
	return ch;
}

/* The queue behind a socket callback; caller holds sk_callback_lock. */
static struct fcvm_queue *fcvm_sk_queue(struct sock *sk)
{
	return (struct fcvm_queue *)sk->sk_user_data;
}

static void fcvm_sk_data_ready(struct sock *sk)
{
	void (*orig)(struct sock *sk) = NULL;
	struct fcvm_queue *q;

	read_lock_bh(&sk->sk_callback_lock);
	q = fcvm_sk_queue(sk);
	if (q) {
		orig = q->saved_data_ready;
		WRITE_ONCE(q->rx_ready, true);
		wake_up_interruptible_poll(&q->chan->wq, EPOLLIN | EPOLLRDNORM);
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (orig)
		orig(sk);
}

static void fcvm_sk_state_change(struct sock *sk)
{
	void (*orig)(struct sock *sk) = NULL;
	struct fcvm_queue *q;

	read_lock_bh(&sk->sk_callback_lock);
	q = fcvm_sk_queue(sk);
	if (q) {
		orig = q->saved_state_change;
		WRITE_ONCE(q->rx_ready, true);
		wake_up_interruptible_poll(&q->chan->wq, EPOLLIN | EPOLLRDNORM);
	}
	read_unlock_bh(&sk->sk_callback_lock);
	if (orig)
		orig(sk);
}

/**
 * fcvm_queue_kill() - tear a queue's connection down
 * @q:   the queue
 * @bad: the guest sent garbage (counted in the stats)
 *
 * Shuts the socket down, which wakes any sender blocked on it; the socket
 * itself is released with the channel. Safe from any context that may sleep
 * and without any of the queue's locks held or with them held.
 */
void fcvm_queue_kill(struct fcvm_queue *q, bool bad)
{
	if (xchg(&q->dead, true))
		return;
	if (bad)
		atomic64_inc(&q->chan->stats.bad_frames);
	kernel_sock_shutdown(q->sock, SHUT_RDWR);
	wake_up_interruptible_all(&q->chan->wq);
}

/* Is @q worth a receive attempt by a reader? */
static bool fcvm_queue_ready(struct fcvm_queue *q, bool for_poll)
{
	if (READ_ONCE(q->dead))
		return false;
	if (!READ_ONCE(q->rx_ready))
		return false;
	return for_poll || !mutex_is_locked(&q->rx_lock);
}

/* Number of queues published, with acquire ordering for q[]. */
static unsigned int fcvm_chan_nq(struct fcvm_chan *ch)
{
	/* pairs with the release in attach: q[0..nq) are initialized */
	return smp_load_acquire(&ch->nq);
}

/* True when every attached queue is dead (and there is one) or SHUTDOWN. */
static bool fcvm_chan_ended(struct fcvm_chan *ch)
{
	unsigned int i, nq = fcvm_chan_nq(ch);

	if (READ_ONCE(ch->shut))
		return true;
	if (!nq)
		return false;
	for (i = 0; i < nq; i++)
		if (!READ_ONCE(ch->q[i]->dead))
			return false;
	return true;
}

static bool fcvm_chan_has_work(struct fcvm_chan *ch, bool for_poll)
{
	unsigned int i, nq = fcvm_chan_nq(ch);

	for (i = 0; i < nq; i++)
		if (fcvm_queue_ready(ch->q[i], for_poll))
			return true;
	return fcvm_chan_ended(ch);
}

/**
 * fcvm_queue_send_kvec() - send a whole reply built in kernel memory
 * @q:    the queue
 * @vec:  the pieces
 * @nvec: their number
 * @len:  their total length
 *
 * A partial send would corrupt the stream, so any failure kills the queue.
 *
 * Return: 0, or -ENOTCONN when the queue is (or became) dead.
 */
int fcvm_queue_send_kvec(struct fcvm_queue *q, struct kvec *vec, size_t nvec,
			 size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int ret = 0;

	mutex_lock(&q->tx_lock);
	if (READ_ONCE(q->dead)) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, vec, nvec, len);
	while (msg_data_left(&msg)) {
		int n = sock_sendmsg(q->sock, &msg);

		if (n <= 0) {
			fcvm_queue_kill(q, false);
			ret = -ENOTCONN;
			break;
		}
	}
out_unlock:
	mutex_unlock(&q->tx_lock);
	return ret;
}

/**
 * fcvm_queue_send_pages() - send a reply header and page-backed data whole
 * @q:    the queue
 * @hdr:  the reply header (and any fixed part), @hlen bytes
 * @hlen: its length
 * @bv:   the data pages (the socket takes its own references)
 * @nr:   entries of @bv
 * @len:  data bytes
 *
 * Return: 0, or -ENOTCONN when the queue is (or became) dead.
 */
int fcvm_queue_send_pages(struct fcvm_queue *q, void *hdr, size_t hlen,
			  struct bio_vec *bv, unsigned int nr, size_t len)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL | (len ? MSG_MORE : 0) };
	struct kvec vec = { .iov_base = hdr, .iov_len = hlen };
	int ret = 0, n;

	mutex_lock(&q->tx_lock);
	if (READ_ONCE(q->dead)) {
		ret = -ENOTCONN;
		goto out_unlock;
	}
	iov_iter_kvec(&msg.msg_iter, ITER_SOURCE, &vec, 1, hlen);
	while (msg_data_left(&msg)) {
		n = sock_sendmsg(q->sock, &msg);
		if (n <= 0)
			goto err_kill;
	}
	if (len && fcvm_send_pages(q->sock, bv, nr, len) != len)
		goto err_kill;
	goto out_unlock;

err_kill:
	fcvm_queue_kill(q, false);
	ret = -ENOTCONN;
out_unlock:
	mutex_unlock(&q->tx_lock);
	return ret;
}

/* Make room for a frame of @len bytes, keeping what was received. */
static int fcvm_queue_rx_grow(struct fcvm_queue *q, u32 len)
{
	u8 *buf;

	if (len <= q->rx_cap)
		return 0;
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, q->rx_buf, q->rx_have);
	kvfree(q->rx_buf);
	q->rx_buf = buf;
	q->rx_cap = len;
	return 0;
}

/*
 * The stream cannot be cut any more: answer the request whose header we hold
 * with -EIO (as the userspace channel does), then close the connection.
 */
static void fcvm_queue_bad_len(struct fcvm_queue *q, bool bad)
{
	struct fuse_in_header *ih = (struct fuse_in_header *)q->rx_buf;
	struct fuse_out_header oh = {
		.len = sizeof(oh), .error = -EIO, .unique = ih->unique,
	};
	struct kvec vec = { .iov_base = &oh, .iov_len = sizeof(oh) };

	if (oh.unique)
		fcvm_queue_send_kvec(q, &vec, 1, sizeof(oh));
	fcvm_queue_kill(q, bad);
}

/**
 * fcvm_queue_rx_more() - receive more of the current frame, without blocking
 * @q: the queue, rx_lock held
 *
 * Return: 0 when bytes came, -EAGAIN when none are there, -ENOTCONN when
 * the queue died (EOF, error or a malformed header).
 */
static int fcvm_queue_rx_more(struct fcvm_queue *q)
{
	struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
	struct kvec vec;
	u32 want;
	int n;

	want = q->rx_len ? q->rx_len - q->rx_have : FCVM_FRAME_IN_HDR - q->rx_have;
	vec.iov_base = q->rx_buf + q->rx_have;
	vec.iov_len = want;
	WRITE_ONCE(q->rx_ready, false);
	smp_mb(); /* clear before receiving; the callbacks set after queueing */
	n = kernel_recvmsg(q->sock, &msg, &vec, 1, want, MSG_DONTWAIT);
	if (n == -EAGAIN)
		return -EAGAIN;
	if (n <= 0) {
		fcvm_queue_kill(q, false);
		return -ENOTCONN;
	}
	WRITE_ONCE(q->rx_ready, true);	/* there may be more */
	q->rx_have += n;
	if (!q->rx_len && q->rx_have == FCVM_FRAME_IN_HDR) {
		u32 len = fcvm_frame_in_len(q->rx_buf, FCVM_ACCEL_MAX_FRAME);

		if (!len || fcvm_queue_rx_grow(q, len)) {
			fcvm_queue_bad_len(q, !len);
			return -ENOTCONN;
		}
		q->rx_len = len;
	}
	return 0;
}

/* Remember which queue a request handed to userspace came from. */
static int fcvm_inflight_add(struct fcvm_queue *q, u64 unique)
{
	struct fcvm_chan *ch = q->chan;
	int err;

	if ((unsigned long)unique != unique)
		return -EINVAL;
	if (atomic_inc_return(&ch->ninflight) > FCVM_CHAN_MAX_INFLIGHT) {
		atomic_dec(&ch->ninflight);
		return -ENOSPC;
	}
	err = xa_insert(&ch->inflight, unique, xa_mk_value(q->idx), GFP_KERNEL);
	if (err)
		atomic_dec(&ch->ninflight);
	return err;
}

static void fcvm_inflight_del(struct fcvm_chan *ch, u64 unique)
{
	if (xa_erase(&ch->inflight, unique))
		atomic_dec(&ch->ninflight);
}

/**
 * fcvm_queue_deliver() - hand the complete frame of @q to userspace
 * @q:     the queue, rx_lock held, a whole frame in rx_buf
 * @kind:  its enum fcvm_frame_kind (SLOW or NOREPLY)
 * @buf:   the reader's buffer
 * @count: its size
 *
 * Return: the frame length, -EINVAL when @count is too small (the frame
 * stays), -EFAULT, or -ENOTCONN when the frame was garbage.
 */
static ssize_t fcvm_queue_deliver(struct fcvm_queue *q, int kind,
				  char __user *buf, size_t count)
{
	u64 unique = ((struct fuse_in_header *)q->rx_buf)->unique;
	u32 len = q->rx_len;
	int err;

	if (count < len)
		return -EINVAL;
	if (kind == FCVM_FRAME_SLOW) {
		err = fcvm_inflight_add(q, unique);
		if (err) {
			fcvm_queue_kill(q, true);
			return -ENOTCONN;
		}
	}
	if (copy_to_user(buf, q->rx_buf, len)) {
		if (kind == FCVM_FRAME_SLOW)
			fcvm_inflight_del(q->chan, unique);
		return -EFAULT;
	}
	atomic64_inc(&q->chan->stats.to_user);
	return len;
}

/**
 * fcvm_queue_pull() - receive from one queue until a request for userspace
 * @q:     the queue, rx_lock held
 * @buf:   the reader's buffer
 * @count: its size
 *
 * Serves fast-path requests inline, at most FCVM_CHAN_FAST_BUDGET in a row
 * so that one busy queue cannot starve the others. Never blocks on the
 * socket.
 *
 * Return: a frame length, -EAGAIN when the queue has nothing for userspace
 * now (or died, or used up its turn), or -EINVAL/-EFAULT.
 */
static ssize_t fcvm_queue_pull(struct fcvm_queue *q, char __user *buf,
			       size_t count)
{
	unsigned int budget = FCVM_CHAN_FAST_BUDGET;
	struct fcvm_frame_io io;
	ssize_t ret;
	int kind;

	for (;;) {
		if (READ_ONCE(q->dead))
			return -EAGAIN;
		if (!q->rx_len || q->rx_have < q->rx_len) {
			ret = fcvm_queue_rx_more(q);
			if (ret)
				return -EAGAIN;
			continue;
		}
		kind = fcvm_frame_classify(q->rx_buf, q->rx_len, &io);
		if ((kind == FCVM_FRAME_READ || kind == FCVM_FRAME_WRITE) &&
		    !fcvm_fast_serve(q, kind, &io)) {
			q->rx_have = 0;
			q->rx_len = 0;
			/*
			 * Turn over: the other queues get theirs before this
			 * one is looked at again (rx_ready stays set).
			 */
			if (!--budget)
				return -EAGAIN;
			continue;
		}
		if (kind != FCVM_FRAME_NOREPLY)
			kind = FCVM_FRAME_SLOW;
		ret = fcvm_queue_deliver(q, kind, buf, count);
		if (ret == -ENOTCONN)
			return -EAGAIN;
		if (ret > 0) {
			q->rx_have = 0;
			q->rx_len = 0;
		}
		return ret;
	}
}

/* One pass over the queues; -EAGAIN when nothing is there for userspace. */
static ssize_t fcvm_chan_try_read(struct fcvm_chan *ch, char __user *buf,
				  size_t count)
{
	unsigned int i, nq = fcvm_chan_nq(ch);
	unsigned int start = nq ? (unsigned int)atomic_inc_return(&ch->rr) % nq : 0;
	ssize_t ret;

	for (i = 0; i < nq; i++) {
		struct fcvm_queue *q = ch->q[(start + i) % nq];

		if (!fcvm_queue_ready(q, false) || !mutex_trylock(&q->rx_lock))
			continue;
		ret = fcvm_queue_pull(q, buf, count);
		mutex_unlock(&q->rx_lock);
		if (READ_ONCE(q->rx_ready))	/* others skipped it while locked */
			wake_up_interruptible_poll(&ch->wq, EPOLLIN | EPOLLRDNORM);
		if (ret != -EAGAIN)
			return ret;
	}
	return fcvm_chan_ended(ch) ? 0 : -EAGAIN;
}

/**
 * fcvm_chan_read() - read() of the device: one whole FUSE request
 * @file:  the channel's file
 * @buf:   where to put the request
 * @count: size of @buf; must hold the request (else -EINVAL, and the
 *         request stays for a larger read)
 * @ppos:  unused (stream)
 *
 * Return: the request's length, 0 once the session ended (every queue dead
 * or SHUTDOWN), -EAGAIN (O_NONBLOCK), -ERESTARTSYS or another -errno.
 */
ssize_t fcvm_chan_read(struct file *file, char __user *buf, size_t count,
		       loff_t *ppos)
{
	struct fcvm_accel_file *af = file->private_data;
	struct fcvm_chan *ch = af->chan;
	ssize_t ret;

	for (;;) {
		ret = fcvm_chan_try_read(ch, buf, count);
		if (ret != -EAGAIN)
			return ret;
		if (fcvm_chan_has_work(ch, false)) {
			/* a queue used up its turn, or more came: go again */
			if (signal_pending(current))
				return -ERESTARTSYS;
			cond_resched();
			continue;
		}
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(ch->wq, fcvm_chan_has_work(ch, false));
		if (ret)
			return ret;
	}
}

/* The queue a reply goes to; -ENOENT when no request has its unique. */
static int fcvm_chan_route(struct fcvm_chan *ch, u64 unique,
			   struct fcvm_queue **qp, bool *erased)
{
	unsigned int i, nq = fcvm_chan_nq(ch);
	void *entry;

	*erased = false;
	if (!unique) {	/* a notification: any live queue */
		unsigned int start = nq ? (unsigned int)atomic_read(&ch->rr) % nq : 0;

		for (i = 0; i < nq; i++) {
			struct fcvm_queue *q = ch->q[(start + i) % nq];

			if (!READ_ONCE(q->dead)) {
				*qp = q;
				return 0;
			}
		}
		return -ENOTCONN;
	}
	if ((unsigned long)unique != unique)
		return -ENOENT;
	entry = xa_erase(&ch->inflight, unique);
	if (entry) {
		atomic_dec(&ch->ninflight);
		*erased = true;
	} else if (unique & FCVM_FRAME_INT_BIT) {
		/* the answer to an INTERRUPT goes where the request came from */
		entry = xa_load(&ch->inflight, unique & ~FCVM_FRAME_INT_BIT);
	}
	if (!entry)
		return -ENOENT;
	*qp = ch->q[xa_to_value(entry)];
	return 0;
}

/* Send the user's reply iterator whole on @q. */
static int fcvm_queue_send_iter(struct fcvm_queue *q, struct iov_iter *from)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int ret;

	ret = mutex_lock_interruptible(&q->tx_lock);
	if (ret)
		return ret;
	if (READ_ONCE(q->dead)) {
		ret = -ENOENT;
		goto out_unlock;
	}
	msg.msg_iter = *from;
	while (msg_data_left(&msg)) {
		int n = sock_sendmsg(q->sock, &msg);

		if (n <= 0) {
			/* nothing sent yet and a signal: the caller may retry */
			if (n == -ERESTARTSYS && msg_data_left(&msg) == iov_iter_count(from)) {
				ret = n;
				goto out_unlock;
			}
			fcvm_queue_kill(q, false);
			ret = -ENOENT;
			goto out_unlock;
		}
	}
	iov_iter_advance(from, iov_iter_count(from));
out_unlock:
	mutex_unlock(&q->tx_lock);
	return ret;
}

/**
 * fcvm_chan_write_iter() - write()/writev() of the device: one whole reply
 * @iocb: the write
 * @from: the reply, struct fuse_out_header first
 *
 * Return: bytes consumed, -EINVAL for a malformed reply, -ENOENT when no
 * request waits for this unique (or its queue is gone), -EFAULT.
 */
ssize_t fcvm_chan_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct fcvm_accel_file *af = iocb->ki_filp->private_data;
	struct fcvm_chan *ch = af->chan;
	size_t count = iov_iter_count(from);
	struct fuse_out_header oh;
	struct fcvm_queue *q;
	struct iov_iter peek;
	bool erased;
	int ret;

	if (count < sizeof(oh) || count > FCVM_ACCEL_MAX_FRAME)
		return -EINVAL;
	peek = *from;
	if (copy_from_iter(&oh, sizeof(oh), &peek) != sizeof(oh))
		return -EFAULT;
	if (!fcvm_frame_reply_ok(&oh, count, FCVM_ACCEL_MAX_FRAME))
		return -EINVAL;
	ret = fcvm_chan_route(ch, oh.unique, &q, &erased);
	if (ret)
		return ret;
	ret = fcvm_queue_send_iter(q, from);
	if (ret == -ERESTARTSYS && erased) {
		/* not sent: let a retried write() find the request again */
		if (!xa_insert(&ch->inflight, oh.unique, xa_mk_value(q->idx),
			       GFP_KERNEL))
			atomic_inc(&ch->ninflight);
	}
	if (ret)
		return ret;
	atomic64_inc(&ch->stats.replies);
	return count;
}

/**
 * fcvm_chan_poll() - poll() of the device
 * @file: the channel's file
 * @wait: the poll table
 *
 * Return: EPOLLIN when a queue may have a request (or the session ended),
 * always EPOLLOUT: replies never wait for room in the channel itself.
 */
__poll_t fcvm_chan_poll(struct file *file, poll_table *wait)
{
	struct fcvm_accel_file *af = file->private_data;
	struct fcvm_chan *ch = af->chan;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &ch->wq, wait);
	if (fcvm_chan_has_work(ch, true))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

/* Is @sock a connected stream socket of a family the channel speaks? */
static int fcvm_sock_usable(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk || sock->type != SOCK_STREAM)
		return -EPROTOTYPE;
	switch (sk->sk_family) {
	case AF_UNIX:
	case AF_VSOCK:
		break;
	case AF_INET:
	case AF_INET6:
		if (sk->sk_protocol != IPPROTO_TCP)
			return -EPROTOTYPE;
		break;
	default:
		return -EAFNOSUPPORT;
	}
	return fcvm_sock_connected(sock) ? 0 : -ENOTCONN;
}

/* Install our callbacks; -EBUSY when the socket already has a user. */
static int fcvm_queue_hook(struct fcvm_queue *q)
{
	struct sock *sk = q->sock->sk;
	int ret = 0;

	write_lock_bh(&sk->sk_callback_lock);
	if (sk->sk_user_data) {
		ret = -EBUSY;
	} else {
		q->saved_data_ready = sk->sk_data_ready;
		q->saved_state_change = sk->sk_state_change;
		rcu_assign_sk_user_data(sk, q);
		sk->sk_data_ready = fcvm_sk_data_ready;
		sk->sk_state_change = fcvm_sk_state_change;
	}
	write_unlock_bh(&sk->sk_callback_lock);
	return ret;
}

static void fcvm_queue_unhook(struct fcvm_queue *q)
{
	struct sock *sk = q->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = q->saved_data_ready;
	sk->sk_state_change = q->saved_state_change;
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
}

static void fcvm_queue_free(struct fcvm_queue *q)
{
	kvfree(q->rx_buf);
	kvfree(q->fbuf);
	kvfree(q->bv);
	fput(q->file);
	kfree(q);
}

/* Allocate a queue for the socket file @f (reference taken over). */
static struct fcvm_queue *fcvm_queue_new(struct fcvm_chan *ch, struct file *f,
					 struct socket *sock, unsigned int idx)
{
	struct fcvm_queue *q = kzalloc(sizeof(*q), GFP_KERNEL);

	if (!q)
		return NULL;
	q->rx_buf = kvmalloc(FCVM_CHAN_RX_MIN, GFP_KERNEL);
	if (!q->rx_buf) {
		kfree(q);
		return NULL;
	}
	q->rx_cap = FCVM_CHAN_RX_MIN;
	q->chan = ch;
	q->idx = idx;
	q->file = f;
	q->sock = sock;
	mutex_init(&q->rx_lock);
	mutex_init(&q->tx_lock);
	return q;
}

/**
 * fcvm_accel_ioc_attach() - FCVM_ACCEL_IOC_ATTACH: add a socket as a queue
 * @af:  the file's state
 * @arg: userspace struct fcvm_accel_attach
 *
 * Return: 0 (the queue index written back), -EBADF, -ENOTSOCK, -EPROTOTYPE,
 * -EAFNOSUPPORT, -ENOTCONN, -EBUSY (socket already attached somewhere),
 * -ENOSPC (max_queues), -ESHUTDOWN, -EINVAL, -E2BIG, -EFAULT, -ENOMEM.
 */
long fcvm_accel_ioc_attach(struct fcvm_accel_file *af, void __user *arg)
{
	struct fcvm_chan *ch = af->chan;
	struct fcvm_accel_attach a;
	struct fcvm_queue *q;
	struct socket *sock;
	struct file *f;
	long ret;

	ret = fcvm_accel_copy_arg(&a, sizeof(a), arg);
	if (ret)
		return ret;
	if (a.flags)
		return -EINVAL;
	f = fget(a.fd);
	if (!f)
		return -EBADF;
	sock = sock_from_file(f);
	ret = sock ? fcvm_sock_usable(sock) : -ENOTSOCK;
	if (ret)
		goto err_fput;
	mutex_lock(&ch->attach_lock);
	ret = -ESHUTDOWN;
	if (ch->shut)
		goto err_unlock;
	ret = -ENOSPC;
	if (ch->nq >= READ_ONCE(fcvm_accel_max_queues))
		goto err_unlock;
	ret = -ENOMEM;
	q = fcvm_queue_new(ch, f, sock, ch->nq);
	if (!q)
		goto err_unlock;
	ret = fcvm_queue_hook(q);
	if (ret)
		goto err_free_queue;
	/* data that came before our callbacks: they only see what follows */
	if (vfs_poll(f, NULL) & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		WRITE_ONCE(q->rx_ready, true);
	a.queue = q->idx;
	if (copy_to_user(arg, &a, sizeof(a))) {
		fcvm_queue_unhook(q);
		ret = -EFAULT;
		goto err_free_queue;
	}
	ch->q[q->idx] = q;
	/* publish q[] before nq; pairs with fcvm_chan_nq() */
	smp_store_release(&ch->nq, ch->nq + 1);
	mutex_unlock(&ch->attach_lock);
	wake_up_interruptible_all(&ch->wq);
	return 0;

err_free_queue:
	q->file = NULL;
	kvfree(q->rx_buf);
	kfree(q);
err_unlock:
	mutex_unlock(&ch->attach_lock);
err_fput:
	fput(f);
	return ret;
}

/**
 * fcvm_accel_ioc_shutdown() - FCVM_ACCEL_IOC_SHUTDOWN: end the session
 * @af:  the file's state
 * @arg: unused
 *
 * Every queue is shut down (the guest sees its connections close), blocked
 * readers wake up and read() returns 0 from now on.
 *
 * Return: 0.
 */
long fcvm_accel_ioc_shutdown(struct fcvm_accel_file *af, void __user *arg)
{
	struct fcvm_chan *ch = af->chan;
	unsigned int i;

	mutex_lock(&ch->attach_lock);
	WRITE_ONCE(ch->shut, true);
	for (i = 0; i < ch->nq; i++)
		fcvm_queue_kill(ch->q[i], false);
	mutex_unlock(&ch->attach_lock);
	wake_up_interruptible_all(&ch->wq);
	return 0;
}

/**
 * fcvm_accel_ioc_get_stats() - FCVM_ACCEL_IOC_GET_STATS
 * @af:  the file's state
 * @arg: userspace struct fcvm_accel_stats; its size field says how much of
 *       it the caller knows
 *
 * Return: 0, -EINVAL for a size below the size field, -EFAULT.
 */
long fcvm_accel_ioc_get_stats(struct fcvm_accel_file *af, void __user *arg)
{
	struct fcvm_chan *ch = af->chan;
	struct fcvm_accel_stats s;
	unsigned int i, nq = fcvm_chan_nq(ch);
	u32 usize;

	if (get_user(usize, (u32 __user *)arg))
		return -EFAULT;
	if (usize < sizeof(s.size) + sizeof(s.queues))
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.size = min_t(u32, usize, sizeof(s));
	for (i = 0; i < nq; i++)
		s.queues += !READ_ONCE(ch->q[i]->dead);
	s.to_user = atomic64_read(&ch->stats.to_user);
	s.replies = atomic64_read(&ch->stats.replies);
	s.fast_read = atomic64_read(&ch->stats.fast_read);
	s.fast_write = atomic64_read(&ch->stats.fast_write);
	s.fast_bytes = atomic64_read(&ch->stats.fast_bytes);
	s.fast_fallback = atomic64_read(&ch->stats.fast_fallback);
	s.bad_frames = atomic64_read(&ch->stats.bad_frames);
	s.backings = atomic_read(&ch->nbackings);
	if (copy_to_user(arg, &s, s.size))
		return -EFAULT;
	return 0;
}

/**
 * fcvm_chan_destroy() - release of the device: detach and free everything
 * @ch: the channel; no read, write or ioctl can run any more
 *
 * Every queue is shut down first, so the guest's in-flight requests fail
 * (its connection closes) instead of waiting forever.
 */
void fcvm_chan_destroy(struct fcvm_chan *ch)
{
	unsigned int i;

	pr_debug("fcvm_accel: channel closed: %u queues, %lld to userspace, %lld replies, %lld+%lld fast READ+WRITE (%lld bytes), %lld fallbacks, %lld bad\n",
		 ch->nq, atomic64_read(&ch->stats.to_user),
		 atomic64_read(&ch->stats.replies),
		 atomic64_read(&ch->stats.fast_read),
		 atomic64_read(&ch->stats.fast_write),
		 atomic64_read(&ch->stats.fast_bytes),
		 atomic64_read(&ch->stats.fast_fallback),
		 atomic64_read(&ch->stats.bad_frames));

	for (i = 0; i < ch->nq; i++) {
		fcvm_queue_kill(ch->q[i], false);
		fcvm_queue_unhook(ch->q[i]);
		fcvm_queue_free(ch->q[i]);
	}
	xa_destroy(&ch->inflight);
	fcvm_backings_release(ch);
	kfree(ch);
}
