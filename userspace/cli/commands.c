// SPDX-License-Identifier: GPL-2.0
/*
 * cli/commands.c - the top-level command table. Each object's table lives
 * beside its handlers in cli/cmd_<object>.c.
 */
#include <stddef.h>

#include "cli/cli.h"
#include "cli/commands.h"

const struct cli_cmd fcvm_commands[] = {
	{ .name = "accel", .summary = "show which accelerated paths this host can use",
	  .sub = accel_commands },
	{ .name = "version", .args = "[--json]", .summary = "print version and build information",
	  .help = version_help, .run = cmd_version },
	{ NULL },
};
