/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcvm/vsock.h - the guest vsock port map and the hybrid-vsock handshake,
 * shared by the host manager and the guest agent.
 * Documented in Documentation/protocols.rst.
 */
#ifndef FCVM_VSOCK_H
#define FCVM_VSOCK_H

/* Guest context id of every fcvm VM, as Firecracker assigns it. */
#define FCVM_GUEST_CID		3u

#define FCVM_PORT_PLAN		4995u	/* g->h: host writes the plan JSON, closes */
#define FCVM_PORT_TTY		4996u	/* h->g: container TTY (exec frames) */
#define FCVM_PORT_OUTPUT	4997u	/* g->h: container stdout/stderr frames */
#define FCVM_PORT_EXEC		4998u	/* h->g: exec server */
#define FCVM_PORT_STATUS	4999u	/* g->h: ready, exit:<code>, restored:<epoch> */
#define FCVM_PORT_VOLUME_BASE	5000u	/* g->h: FUSE volume N at 5000+N */
#define FCVM_VOLUME_MAX		1000u	/* volumes 0..999 */
#define FCVM_PORT_PUBLISH_BASE	65536u	/* h->g: published TCP port P at 65536+P */

static inline unsigned int fcvm_port_volume(unsigned int n)
{
	return FCVM_PORT_VOLUME_BASE + n;
}

static inline unsigned int fcvm_port_publish(unsigned int guest_port)
{
	return FCVM_PORT_PUBLISH_BASE + guest_port;
}

/*
 * Hybrid vsock (Firecracker semantics) on <vmdir>/vsock.sock:
 * host->guest: connect(vsock.sock), send "CONNECT <port>\n", read "OK <n>\n"
 * (n: the host-side port the VMM assigned); then the stream is raw.
 * guest->host: the VMM connects to <vmdir>/vsock.sock_<port>.
 */
#define FCVM_HVSOCK_CONNECT	"CONNECT"
#define FCVM_HVSOCK_OK		"OK"
#define FCVM_HVSOCK_LINE_MAX	64	/* longest handshake line incl. '\n' */

/*
 * Parse "<word> <u32>" (the line without its '\n'): "CONNECT <port>" on the
 * VMM side, "OK <host port>" on the client side. Strict: one space, decimal
 * digits only, no leading zeros, nothing after. Returns 0 or -1.
 */
static inline int fcvm_hvsock_parse(const char *line, const char *word,
				    unsigned int *out)
{
	unsigned long long v = 0;
	const char *p = line;

	while (*word)
		if (*p++ != *word++)
			return -1;
	if (*p++ != ' ' || *p < '0' || *p > '9' || (p[0] == '0' && p[1]))
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > 0xffffffffULL)
			return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

#endif /* FCVM_VSOCK_H */
