// SPDX-License-Identifier: GPL-2.0
/*
 * agent/main.c - fc-agent entry point: `fc-agent ROLE [ARGS]`.
 *
 * In the guest the agent runs its roles from the boot plan; each role can
 * also be run alone (host-side tests run them over unix:/hvsock: transports).
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "fuse_relay.h"
#include "portfwd.h"

static const struct agent_role roles[] = {
	{ "volume-relay", "mount a volume and relay FUSE to the host", fuse_relay_main },
	{ "portfwd", "relay a published port: vsock 65536+P to 127.0.0.1:P", agent_portfwd_main },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fc-agent ROLE [ARGS]   (fc-agent ROLE --help)\n"
		   "       fc-agent --version\nroles:\n");
	for (const struct agent_role *r = roles; r->name; r++)
		fprintf(f, "  %-14s %s\n", r->name, r->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fc-agent %s\n", AGENT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (const struct agent_role *r = roles; r->name; r++)
		if (!strcmp(argv[1], r->name))
			return r->run(argc - 1, argv + 1);
	fprintf(stderr, "fc-agent: unknown role '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
