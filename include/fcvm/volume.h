/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcvm/volume.h - the volume wire format shared by the guest relay
 * (agent/fuse_relay.c) and the host channel (userspace/volume/).
 * Documented in Documentation/volumes.rst.
 *
 * A volume is served over one or more stream connections (one per queue)
 * to guest port FCVM_PORT_VOLUME_BASE + N. Each connection starts with one
 * struct fcvm_volume_hello from the guest; after it the stream carries raw
 * FUSE messages exactly as <linux/fuse.h> defines them: guest->host a
 * request (struct fuse_in_header, len = whole message), host->guest a reply
 * or a notification (struct fuse_out_header, len = whole message). There is
 * no other framing. A reply travels on the connection its request came on;
 * notifications (unique 0) on any connection.
 */
#ifndef FCVM_VOLUME_H
#define FCVM_VOLUME_H

#include <stdint.h>

#define FCVM_VOLUME_HELLO_MAGIC	0x51564346u	/* "FCVQ" little-endian */
#define FCVM_VOLUME_VERSION	1u

/* Queues per volume: the relay opens one connection per queue. */
#define FCVM_VOLUME_MAX_QUEUES	64u

/* FUSE max_pages negotiated by the server; max_write is this many pages. */
#define FCVM_VOLUME_MAX_PAGES	256u
#define FCVM_VOLUME_MAX_WRITE	(FCVM_VOLUME_MAX_PAGES * 4096u)

/*
 * Largest message in either direction: a WRITE request (headers + max_write
 * bytes) or a READ reply, with room for headers. Anything longer is a
 * protocol error and ends the connection.
 */
#define FCVM_VOLUME_MSG_MAX	(FCVM_VOLUME_MAX_WRITE + 4096u)

/* Smallest legal messages: a bare fuse_in_header / fuse_out_header. */
#define FCVM_VOLUME_IN_MIN	40u
#define FCVM_VOLUME_OUT_MIN	16u

/**
 * struct fcvm_volume_hello - first bytes on every volume connection (g->h)
 * @magic:    FCVM_VOLUME_HELLO_MAGIC
 * @version:  FCVM_VOLUME_VERSION
 * @queue:    this connection's queue index, 0 .. @nqueues-1; queue 0 carries
 *            FUSE_INIT and starts a new session (a new mount)
 * @nqueues:  queues of this mount, 1 .. FCVM_VOLUME_MAX_QUEUES
 * @flags:    0 (reserved)
 * @reserved: 0
 * @mount_id: random per mount; connections of one mount share it
 *
 * All fields little-endian (both ends run on the same machine).
 */
struct fcvm_volume_hello {
	uint32_t magic;
	uint16_t version;
	uint16_t queue;
	uint16_t nqueues;
	uint16_t flags;
	uint32_t reserved;
	uint64_t mount_id;
};

#endif /* FCVM_VOLUME_H */
