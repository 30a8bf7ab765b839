/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent/portfwd.h - fc-agent's side of a published port: accept on vsock
 * 65536+P (or a unix: address in host tests), connect to 127.0.0.1:P, relay.
 */
#ifndef FCVM_AGENT_PORTFWD_H
#define FCVM_AGENT_PORTFWD_H

int agent_portfwd_main(int argc, char **argv);

#endif /* FCVM_AGENT_PORTFWD_H */
