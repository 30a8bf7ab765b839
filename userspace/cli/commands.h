/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli/commands.h - the object tables and leaf handlers the top-level table
 * in commands.c refers to.
 */
#ifndef FCVM_CLI_COMMANDS_H
#define FCVM_CLI_COMMANDS_H

#include "cli/cli.h"

extern const struct cli_cmd accel_commands[];
extern const struct cli_cmd volume_commands[];
extern const struct cli_cmd config_commands[];
extern const struct cli_cmd portfwd_commands[];
extern const struct cli_cmd vm_commands[];

extern const char version_help[];
int cmd_version(int argc, char **argv);

#endif /* FCVM_CLI_COMMANDS_H */
