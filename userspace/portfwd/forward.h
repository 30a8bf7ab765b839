/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portfwd/forward.h - the rootless port forwarder: a TCP listener per
 * published port; each accepted client is connected to guest vsock port
 * 65536+GUEST through the VM's hybrid-vsock socket and relayed with splice.
 */
#ifndef FCVM_PORTFWD_FORWARD_H
#define FCVM_PORTFWD_FORWARD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portfwd/relay.h"

/* One published port: listen on @host, relay to the guest's @guest_port. */
struct portfwd_map {
	struct sockaddr_in host;	/* port 0: any free port (tests) */
	uint16_t guest_port;
};

struct portfwd_opts {
	const char *vsock_path;		/* <vmdir>/vsock.sock */
	size_t pipe_size;		/* per direction; 0: default */
	unsigned int max_conns;		/* relayed + pending; 0: 4096 */
	unsigned int max_pending;	/* handshakes in flight; 0: 64 */
	int handshake_ms;		/* 0: 5000 */
	bool hup_reset;			/* the VMM keeps half-close: its full close is a reset */
};

struct portfwd_stats {
	uint64_t accepted, refused, timeouts;
	unsigned int pending;
	struct relay_stats relay;
};

struct portfwd;

int portfwd_open(struct portfwd **out, const struct portfwd_opts *opts,
		 const struct portfwd_map *maps, size_t n);
int portfwd_bound(const struct portfwd *pf, size_t i, struct sockaddr_in *out);
int portfwd_run(struct portfwd *pf, int stop_fd);
void portfwd_get_stats(const struct portfwd *pf, struct portfwd_stats *out);
void portfwd_close(struct portfwd *pf);

#endif /* FCVM_PORTFWD_FORWARD_H */
