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
	{ .name = "config", .summary = "show fcvm's settings and where each comes from",
	  .sub = config_commands },
	{ .name = "portfwd", .summary = "publish a VM's ports (rootless relay, bridged NAT)",
	  .sub = portfwd_commands },
	{ .name = "vm", .summary = "boot and control microVMs through a VMM backend",
	  .sub = vm_commands },
	{ .name = "volume", .summary = "serve host directories to guests (raw FUSE over vsock)",
	  .sub = volume_commands },
	{ .name = "version", .args = "[--json]", .summary = "print version and build information",
	  .help = version_help, .run = cmd_version },
	{ NULL },
};
