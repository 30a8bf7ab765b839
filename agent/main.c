// SPDX-License-Identifier: GPL-2.0
/*
 * agent/main.c - fc-agent, the guest agent: entry point and role dispatch.
 */
#include <stdio.h>
#include <string.h>

#include "agent.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fc-agent [--version]\n");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("fc-agent %s\n", AGENT_VERSION);
		return 0;
	}
	usage(argc == 1 ? stdout : stderr);
	return argc == 1 ? 0 : 2;
}
