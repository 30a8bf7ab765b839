/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent/agent.h - declarations shared by fc-agent's parts: the role table
 * entry and each role's entry point.
 */
#ifndef FCVM_AGENT_H
#define FCVM_AGENT_H

#define AGENT_VERSION "0.1"

/* A role: `fc-agent NAME ARGS`; run() gets argv[0] == NAME, returns exit status. */
struct agent_role {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

#endif /* FCVM_AGENT_H */
