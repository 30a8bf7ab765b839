/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock/mux.h - the virtio-vsock connection multiplexer behind fcvm's
 * vhost-user-vsock device: packets from the guest's tx queue, packets into
 * its rx queue, and the host side of Firecracker's hybrid vsock
 * (<uds> with "CONNECT <port>\n" / "OK <n>\n", and <uds>_<port> for
 * guest-initiated connections). Single-threaded; driven by an epoll loop.
 */
#ifndef FCVM_VSOCK_MUX_H
#define FCVM_VSOCK_MUX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>

#include "vsock/vring.h"

#define MUX_HOST_CID		2u
#define MUX_BUF_ALLOC		(256u * 1024)	/* per-connection credit we grant */
#define MUX_MAX_CONNS		256u
#define MUX_MAX_PKT		(64u * 1024)	/* payload per packet to the guest */
#define MUX_HASH_BUCKETS	256u
#define MUX_ORPHAN_RST_MAX	64u
#define MUX_CONNECT_TIMEOUT_MS	2000	/* guest must answer a REQUEST */
#define MUX_HANDSHAKE_TIMEOUT_MS 5000	/* host client must send CONNECT */
#define MUX_CLOSE_TIMEOUT_MS	5000	/* orderly close before forced RST */
#define MUX_LOCAL_PORT_BASE	(1u << 30)	/* host ports we assign */

/* What an epoll event's data.ptr points at. */
enum ev_kind {
	EV_STOP,
	EV_VHU_LISTEN,
	EV_VHU_CONN,
	EV_KICK_RX,
	EV_KICK_TX,
	EV_UDS_LISTEN,
	EV_CONN,
	EV_DEAD,	/* a destroyed connection awaiting mux_reap() */
};

struct ev_src {
	enum ev_kind kind;
};

struct mux_conn;

struct mux_stats {
	uint64_t bytes_to_guest;
	uint64_t bytes_from_guest;
	uint64_t pkts_to_guest;
	uint64_t pkts_from_guest;
	uint64_t bad_chains;
	uint64_t bad_pkts;
	uint64_t conns_opened;
};

struct mux_orphan {
	uint32_t local_port, peer_port;
};

struct vsock_mux {
	int epfd;
	uint64_t guest_cid;
	char uds_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int listen_fd;
	struct ev_src listen_src;
	struct gmem *mem;
	struct vq *rxq, *txq;

	struct mux_conn *hash[MUX_HASH_BUCKETS];
	struct mux_conn *all;		/* every connection */
	struct mux_conn *dead;		/* destroyed, freed by mux_reap() */
	struct mux_conn *ctrl_head, *ctrl_tail;	/* owe the guest a control packet */
	struct mux_conn *data_head, *data_tail;	/* may have host data to send */
	unsigned int nconns;
	uint32_t next_local_port;
	bool rx_starved;		/* guest gave us no rx buffers */
	bool tx_more;			/* tx work left over for the next round */

	struct mux_orphan orphan[MUX_ORPHAN_RST_MAX];
	unsigned int orphan_head, orphan_len;
	struct mux_stats stats;
};

int mux_init(struct vsock_mux *mux, int epfd, const char *uds_path,
	     uint64_t guest_cid, struct gmem *mem, struct vq *rxq,
	     struct vq *txq);
void mux_fini(struct vsock_mux *mux);
void mux_reset(struct vsock_mux *mux);
void mux_reap(struct vsock_mux *mux);
void mux_process_tx(struct vsock_mux *mux);
void mux_process_rx(struct vsock_mux *mux);
void mux_rx_kicked(struct vsock_mux *mux);
void mux_event(struct vsock_mux *mux, struct ev_src *src, uint32_t events);
int mux_tick(struct vsock_mux *mux);

#endif /* FCVM_VSOCK_MUX_H */
