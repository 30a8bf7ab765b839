/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent/transport.h - the agent's stream transports, named by an address:
 *
 *   vsock:CID:PORT     AF_VSOCK (what runs in a real guest)
 *   unix:PATH          AF_UNIX stream socket at PATH
 *   hvsock:PATH:PORT   AF_UNIX to a hybrid-vsock socket, then the
 *                      "CONNECT <port>\n" -> "OK <n>\n" handshake
 *
 * Host-side tests run the agent's code over unix:/hvsock: addresses; the code
 * above this file does not know which transport it has. All functions return
 * an fd (>= 0, O_CLOEXEC) or -errno.
 */
#ifndef FCVM_AGENT_TRANSPORT_H
#define FCVM_AGENT_TRANSPORT_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

enum transport_kind {
	TRANSPORT_VSOCK,
	TRANSPORT_UNIX,
	TRANSPORT_HVSOCK,
};

struct transport_addr {
	enum transport_kind kind;
	uint32_t cid;		/* vsock */
	uint32_t port;		/* vsock, hvsock */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* unix, hvsock */
};

int transport_parse(const char *s, struct transport_addr *out);
int transport_format(const struct transport_addr *a, char *buf, size_t len);
int transport_connect(const struct transport_addr *a, int timeout_ms);
int transport_listen(const struct transport_addr *a, int backlog);
int transport_accept(int lfd);

#endif /* FCVM_AGENT_TRANSPORT_H */
