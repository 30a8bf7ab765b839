/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chan.h - the FUSE channel of fcvm_accel.ko: one per open file of
 * /dev/fcvm_accel (chan.c), its queues (one attached stream socket each) and
 * the in-kernel READ/WRITE fast path (fastpath.c).
 *
 * Locking, from outer to inner:
 *   chan->attach_lock  (mutex) ATTACH and SHUTDOWN against each other
 *   queue->rx_lock     (mutex) one reader receives from a queue at a time;
 *                      taken with mutex_trylock only, never waited for
 *   queue->tx_lock     (mutex) one sender per queue, so replies never
 *                      interleave on the stream
 *   sk_callback_lock   (rwlock, bh) installs/removes our socket callbacks
 * The inflight and backing xarrays use their own internal lock. No spinlock
 * is held across a socket or file operation.
 */
#ifndef FCVM_ACCEL_CHAN_H
#define FCVM_ACCEL_CHAN_H

#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <fcvm/fuse_frame.h>

/* Hard cap on queues per channel; max_queues (a parameter) may be lower. */
#define FCVM_CHAN_QUEUES	64
/* Requests awaiting a reply per channel; more is a hostile guest. */
#define FCVM_CHAN_MAX_INFLIGHT	65536
/* Fast-path requests served in one read() before checking for signals. */
#define FCVM_CHAN_FAST_BUDGET	64
/* READs from this size up are sent from pages the socket references. */
#define FCVM_CHAN_SPLICE_MIN	(32U << 10)
/* Pages of the largest READ reply. */
#define FCVM_CHAN_READ_PAGES	(DIV_ROUND_UP(FCVM_ACCEL_MAX_FRAME, PAGE_SIZE))
/* Receive buffer of a queue until a larger frame arrives. */
#define FCVM_CHAN_RX_MIN	4096

struct fcvm_chan;

/**
 * struct fcvm_queue - one attached stream socket of a channel
 * @chan:       the channel
 * @idx:        index in @chan->q
 * @file:       the socket's file (our reference)
 * @sock:       the socket
 * @saved_data_ready:   the socket's callback before ours
 * @saved_state_change: the socket's callback before ours
 * @rx_lock:    held by the one reader receiving from this queue
 * @rx_buf:     the request being received (@rx_cap bytes)
 * @rx_cap:     capacity of @rx_buf
 * @rx_have:    bytes of the current request received
 * @rx_len:     its length once the header is in, else 0
 * @fbuf:       fast-path READ data buffer (under @rx_lock)
 * @fcap:       capacity of @fbuf
 * @bv:         page vector of a large fast-path READ (under @rx_lock)
 * @tx_lock:    serializes sends on the socket
 * @rx_ready:   set by the socket callbacks: there may be data or EOF
 * @dead:       torn down (EOF, error or garbage); never revived
 */
struct fcvm_queue {
	struct fcvm_chan *chan;
	unsigned int idx;
	struct file *file;
	struct socket *sock;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);
	struct mutex rx_lock;
	u8 *rx_buf;
	u32 rx_cap;
	u32 rx_have;
	u32 rx_len;
	u8 *fbuf;
	u32 fcap;
	struct bio_vec *bv;
	struct mutex tx_lock;
	bool rx_ready;
	bool dead;
};

/**
 * struct fcvm_chan_stats - counters behind FCVM_ACCEL_IOC_GET_STATS
 * @to_user:       requests handed to read()
 * @replies:       replies routed from write()
 * @fast_read:     READ served in-kernel
 * @fast_write:    WRITE served in-kernel
 * @fast_bytes:    bytes moved in-kernel
 * @fast_fallback: fast-path candidates handed to userspace
 * @bad_frames:    queues torn down for malformed input
 */
struct fcvm_chan_stats {
	atomic64_t to_user;
	atomic64_t replies;
	atomic64_t fast_read;
	atomic64_t fast_write;
	atomic64_t fast_bytes;
	atomic64_t fast_fallback;
	atomic64_t bad_frames;
};

/**
 * struct fcvm_chan - one FUSE channel (one open file of /dev/fcvm_accel)
 * @wq:          readers and pollers wait here; socket callbacks wake it
 * @attach_lock: serializes ATTACH and SHUTDOWN
 * @q:           the queues, @nq of them published (smp_store_release)
 * @nq:          number of queues attached (dead ones included)
 * @rr:          where the next read() starts looking
 * @shut:        SHUTDOWN was called: read() returns 0
 * @inflight:    unique -> queue index of requests handed to userspace
 * @ninflight:   entries in @inflight
 * @backings:    backing id -> struct file *
 * @nbackings:   entries in @backings
 * @next_backing: next module-chosen backing id (FCVM_ACCEL_BACKING_TAG set)
 * @stats:       counters
 */
struct fcvm_chan {
	wait_queue_head_t wq;
	struct mutex attach_lock;
	struct fcvm_queue *q[FCVM_CHAN_QUEUES];
	unsigned int nq;
	atomic_t rr;
	bool shut;
	struct xarray inflight;
	atomic_t ninflight;
	struct xarray backings;
	atomic_t nbackings;
	atomic64_t next_backing;
	struct fcvm_chan_stats stats;
};

/* Parameters (chan.c). */
extern unsigned int fcvm_accel_max_queues;
extern unsigned int fcvm_accel_max_backings;

/* chan.c */
struct fcvm_chan *fcvm_chan_create(void);
void fcvm_chan_destroy(struct fcvm_chan *ch);
void fcvm_queue_kill(struct fcvm_queue *q, bool bad);
int fcvm_queue_send_kvec(struct fcvm_queue *q, struct kvec *vec,
			 size_t nvec, size_t len);
int fcvm_queue_send_pages(struct fcvm_queue *q, void *hdr, size_t hlen,
			  struct bio_vec *bv, unsigned int nr, size_t len);

/* fastpath.c */
int fcvm_fast_serve(struct fcvm_queue *q, int kind,
		    const struct fcvm_frame_io *io);
struct file *fcvm_backing_get(struct fcvm_chan *ch, u64 id);
void fcvm_backings_release(struct fcvm_chan *ch);

#endif /* FCVM_ACCEL_CHAN_H */
