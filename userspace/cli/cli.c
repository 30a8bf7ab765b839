// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cli.c - command-table lookup, dispatch and help (see cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/log.h"

/**
 * cli_lookup() - find a word in a command table
 * @table: NULL-name-terminated table
 * @word:  the word as typed; an exact match wins, else a unique prefix
 * @err:   set to -ENOENT (no match) or -EINVAL (ambiguous) on failure
 *
 * Return: the entry, or NULL with *@err set.
 */
const struct cli_cmd *cli_lookup(const struct cli_cmd *table, const char *word,
				 int *err)
{
	const struct cli_cmd *found = NULL;
	size_t len = strlen(word);
	int matches = 0;

	*err = -ENOENT;
	if (len == 0)
		return NULL;
	for (const struct cli_cmd *c = table; c->name; c++) {
		if (!strcmp(c->name, word)) {
			*err = 0;
			return c;
		}
		if (!strncmp(c->name, word, len)) {
			found = c;
			matches++;
		}
	}
	if (matches == 1) {
		*err = 0;
		return found;
	}
	if (matches > 1)
		*err = -EINVAL;
	return NULL;
}

static void print_candidates(FILE *f, const struct cli_cmd *table,
			     const char *word)
{
	const char *sep = "";

	for (const struct cli_cmd *c = table; c->name; c++) {
		if (!strncmp(c->name, word, strlen(word))) {
			fprintf(f, "%s%s", sep, c->name);
			sep = ", ";
		}
	}
}

void cli_print_help(FILE *f, const struct cli_cmd *table, const char *path,
		    const struct cli_cmd *self)
{
	if (self && self->run) {
		fprintf(f, "Usage: %s%s%s\n\n%s\n", path, self->args ? " " : "",
			self->args ? self->args : "", self->summary);
		if (self->help)
			fprintf(f, "\n%s", self->help);
		return;
	}
	fprintf(f, "Usage: %s COMMAND [ARGS]\n", path);
	if (self)
		fprintf(f, "\n%s\n", self->summary);
	fprintf(f, "\nCommands:\n");
	for (const struct cli_cmd *c = table; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", path);
}

int cli_usage_error(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", path);
	return CLI_USAGE;
}

/* For getopt_long's '?' (with opterr = 0): name the offending argument. */
int cli_bad_option(const char *path, int argc, char **argv)
{
	const char *arg = (optind > 0 && optind <= argc) ? argv[optind - 1] : "";

	return cli_usage_error(path, "unknown option or missing value: '%s'", arg);
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}

static int run_leaf(const struct cli_cmd *c, const char *path, int argc,
		    char **argv)
{
	if (wants_help(argc, argv)) {
		cli_print_help(stdout, NULL, path, c);
		return CLI_OK;
	}
	optind = 0;	/* GNU getopt: reinitialise for this argv */
	opterr = 0;
	return c->run(argc, argv);
}

/**
 * cli_dispatch() - run the command named by argv in a table
 * @table: the table for this level
 * @path:  the words so far ("fcvm", "fcvm accel"), for messages
 * @argc:  argument count; argv[0] is the word that selected this table
 * @argv:  arguments
 *
 * Return: the command's exit status; CLI_USAGE for an unknown, ambiguous or
 * missing command.
 */
int cli_dispatch(const struct cli_cmd *table, const char *path, int argc,
		 char **argv)
{
	const struct cli_cmd *c;
	char sub[256];
	int err;

	if (argc < 2) {
		cli_print_help(stderr, table, path, NULL);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		cli_print_help(stdout, table, path, NULL);
		return CLI_OK;
	}
	if (argv[1][0] == '-')
		return cli_usage_error(path, "unknown option '%s'", argv[1]);
	c = cli_lookup(table, argv[1], &err);
	if (!c) {
		if (err == -EINVAL) {
			fprintf(stderr, "%s: '%s' is ambiguous: ", path, argv[1]);
			print_candidates(stderr, table, argv[1]);
			fprintf(stderr, "\n");
			return CLI_USAGE;
		}
		return cli_usage_error(path, "unknown command '%s'", argv[1]);
	}
	snprintf(sub, sizeof(sub), "%s %s", path, c->name);
	if (c->sub) {
		if (argc == 2) {
			cli_print_help(stderr, c->sub, sub, c);
			return CLI_USAGE;
		}
		if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h") ||
		    !strcmp(argv[2], "help")) {
			cli_print_help(stdout, c->sub, sub, c);
			return CLI_OK;
		}
		return cli_dispatch(c->sub, sub, argc - 1, argv + 1);
	}
	return run_leaf(c, sub, argc - 1, argv + 1);
}
