/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portfwd/spec.h - the `--publish [IP:]HOST:GUEST[/tcp|/udp]` syntax.
 */
#ifndef FCVM_PORTFWD_SPEC_H
#define FCVM_PORTFWD_SPEC_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct portfwd_spec {
	bool has_ip;
	struct in_addr ip;	/* valid if has_ip */
	uint16_t host_port;	/* 0 allowed: any free port */
	uint16_t guest_port;	/* 1..65535 */
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
};

int portfwd_parse_spec(const char *s, struct portfwd_spec *out);

#endif /* FCVM_PORTFWD_SPEC_H */
