// SPDX-License-Identifier: GPL-2.0
/*
 * cli/main.c - the fcvm entry point: logging setup, then the command table.
 */
#include "cli/cli.h"
#include "util/log.h"

int main(int argc, char **argv)
{
	log_init();
	return cli_dispatch(fcvm_commands, "fcvm", argc, argv);
}
