/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli/cli.h - the command table: `fcvm OBJECT COMMAND [ARGS]`.
 *
 * A table is an array of struct cli_cmd ended by an entry with a NULL name.
 * An entry is either an object (sub != NULL) or a command (run != NULL).
 * Words may be abbreviated to any unique prefix. `--help`/`-h` works at every
 * level. Command handlers are the top of the stack: they log and return an
 * exit status (CLI_OK, CLI_FAIL or CLI_USAGE), not -errno.
 */
#ifndef FCVM_CLI_CLI_H
#define FCVM_CLI_CLI_H

#include <stdio.h>

enum {
	CLI_OK = 0,
	CLI_FAIL = 1,
	CLI_USAGE = 2,
};

struct cli_cmd {
	const char *name;
	const char *args;	/* synopsis after the words, e.g. "[--json]" */
	const char *summary;	/* one line */
	const char *help;	/* option list / details, may be NULL */
	int (*run)(int argc, char **argv);	/* argv[0] is the command word */
	const struct cli_cmd *sub;
};

extern const struct cli_cmd fcvm_commands[];

const struct cli_cmd *cli_lookup(const struct cli_cmd *table, const char *word,
				 int *err);
int cli_dispatch(const struct cli_cmd *table, const char *path, int argc,
		 char **argv);
void cli_print_help(FILE *f, const struct cli_cmd *table, const char *path,
		    const struct cli_cmd *self);

__attribute__((format(printf, 2, 3)))
int cli_usage_error(const char *path, const char *fmt, ...);
int cli_bad_option(const char *path, int argc, char **argv);

#endif /* FCVM_CLI_CLI_H */
