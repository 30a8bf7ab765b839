/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portfwd/relay.h - the zero-copy stream relay shared by fcvm's rootless port
 * forwarder (client TCP <-> hybrid-vsock UDS) and fc-agent's portfwd role
 * (vsock <-> 127.0.0.1:P): a pair of pipes per connection moved with
 * splice(2), driven by a level-triggered epoll loop.
 *
 * This file and relay.c use libc only: the static guest agent compiles the
 * same source (agent/portfwd_relay.c includes relay.c), so the two ends of a
 * published port share one implementation of half-close and abort.
 *
 * Semantics, per connection of two ends A and B:
 *  - bytes A->B travel through pipe AB, bytes B->A through pipe BA; at most
 *    one pipe (pipe_size bytes) is queued per direction: the relay stops
 *    reading a side whose pipe holds data the other side cannot take.
 *  - EOF from A is passed on as shutdown(B, SHUT_WR) once pipe AB is empty.
 *  - an error (ECONNRESET, EPIPE, ...) on either end aborts: both ends are
 *    closed, a TCP end with SO_LINGER 0 so its peer gets a RST.
 *  - A fully closed (EPOLLHUP) while B->A is still open: with hup_is_reset
 *    (A is a VMM socket that passes half-close through, so a full close is
 *    a reset) an abort; otherwise A's bytes and EOF are passed on and only
 *    data later sent towards A aborts (EPIPE), as TCP does after close().
 *  - the connection is freed once both directions finished.
 */
#ifndef FCVM_PORTFWD_RELAY_H
#define FCVM_PORTFWD_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Something registered in the loop's epoll set; data.ptr points at it. */
struct relay_handler {
	void (*fn)(struct relay_handler *h, uint32_t events);
};

struct relay_conn;

struct relay_end {
	struct relay_handler h;
	struct relay_conn *conn;
	int fd;
	uint32_t events;	/* current epoll interest */
	bool tcp;		/* abort with a RST (SO_LINGER 0) */
	bool hup;		/* EPOLLHUP seen */
	bool watched;		/* in the epoll set */
};

struct relay_dir {
	int pipe_r, pipe_w;
	size_t cap;		/* the pipe's size */
	size_t queued;		/* bytes in the pipe */
	uint64_t bytes;		/* total moved */
	bool eof;		/* source returned EOF */
	bool shut;		/* EOF passed on (shutdown(dst, SHUT_WR)) */
	bool out_blocked;	/* last write to dst got EAGAIN */
};

struct relay;

struct relay_conn {
	struct relay *relay;
	struct relay_end end[2];
	struct relay_dir dir[2];	/* dir[i]: end[i] -> end[1 - i] */
	struct relay_conn *next, *prev;
	bool dead;
	int error;		/* why it was aborted (-errno), 0 if not */
};

struct relay_stats {
	uint64_t opened, closed, aborted;
	unsigned int live;
};

#define RELAY_PIPE_POOL	64	/* empty pipes kept for new connections */

struct relay {
	int epfd;
	int pool[RELAY_PIPE_POOL][2];	/* empty pipes (read, write) of pipe_size */
	unsigned int npool;
	size_t pipe_size;
	uint64_t pipe_bytes;		/* capacity of the pipes of live connections */
	struct relay_conn *live;	/* open connections */
	struct relay_conn *dead;	/* closed, freed by relay_reap() */
	struct relay_stats stats;
	bool hup_is_reset;	/* a non-TCP end's full close means reset */
	void (*on_close)(struct relay *r, struct relay_conn *c, void *arg);
	void *on_close_arg;
};

/*
 * Pipe size per direction: 1 MiB (fewer splice calls and wake-ups: a third
 * less relay CPU per GB than 256 KiB here) while all pipes of a relay stay
 * under RELAY_PIPE_BUDGET; connections beyond get RELAY_PIPE_SIZE_MIN, so a
 * flood of stalled connections pins at most budget + 128 KiB each. Where the
 * kernel refuses a size (per-user pipe limits) its default is kept.
 */
#define RELAY_PIPE_SIZE_DEFAULT	(1024u * 1024)
#define RELAY_PIPE_SIZE_MIN	(64u * 1024)
#define RELAY_PIPE_BUDGET	(256ull << 20)

int relay_init(struct relay *r, size_t pipe_size);
void relay_destroy(struct relay *r);
int relay_watch(struct relay *r, int fd, struct relay_handler *h, uint32_t events);
int relay_rewatch(struct relay *r, int fd, struct relay_handler *h, uint32_t events);
void relay_unwatch(struct relay *r, int fd);
int relay_add(struct relay *r, int fd_a, bool a_tcp, int fd_b, bool b_tcp);
int relay_dispatch(struct relay *r, int timeout_ms);
void relay_reap(struct relay *r);

#endif /* FCVM_PORTFWD_RELAY_H */
