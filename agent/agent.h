/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent/agent.h - declarations shared by fc-agent's parts.
 */
#ifndef FCVM_AGENT_H
#define FCVM_AGENT_H

#define AGENT_VERSION "0.1"

#endif /* FCVM_AGENT_H */
