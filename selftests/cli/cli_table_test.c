// SPDX-License-Identifier: GPL-2.0
/*
 * cli_table_test.c - lookup, prefix matching, dispatch and exit codes of the
 * command table, on a table made for the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cli/cli.h"

static int ran;
static int last_argc;

static int run_start(int argc, char **argv)
{
	ran = 1;
	last_argc = argc;
	return strcmp(argv[0], "start") ? CLI_FAIL : CLI_OK;
}

static int run_stop(int argc, char **argv)
{
	ran = 2;
	return CLI_FAIL;
}

static const struct cli_cmd vm_table[] = {
	{ .name = "start", .summary = "start", .run = run_start },
	{ .name = "stop", .summary = "stop", .run = run_stop },
	{ .name = "status", .summary = "status", .run = run_stop },
	{ NULL },
};

static const struct cli_cmd top[] = {
	{ .name = "vm", .summary = "vms", .sub = vm_table },
	{ .name = "volume", .summary = "volumes", .sub = vm_table },
	{ .name = "version", .summary = "v", .run = run_stop },
	{ NULL },
};

/* Run cli_dispatch with stdout/stderr sent to /dev/null. */
static int dispatch(int argc, char **argv)
{
	int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
	int rc;

	fflush(stdout);
	dup2(null, 1);
	dup2(null, 2);
	rc = cli_dispatch(top, "t", argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(null);
	return rc;
}

TEST(exact_match_wins_over_prefix)
{
	int err;

	/* "vm" is also a prefix of nothing else, "v" is ambiguous */
	ASSERT_NE(NULL, cli_lookup(top, "vm", &err));
	ASSERT_EQ(0, err);
	ASSERT_EQ(NULL, cli_lookup(top, "v", &err));
	ASSERT_EQ(-EINVAL, err);
}

TEST(unique_prefix)
{
	int err;
	const struct cli_cmd *c = cli_lookup(top, "vo", &err);

	ASSERT_NE(NULL, c);
	ASSERT_STREQ("volume", c->name);
	c = cli_lookup(vm_table, "sto", &err);
	ASSERT_NE(NULL, c);
	ASSERT_STREQ("stop", c->name);
}

TEST(unknown_and_empty)
{
	int err;

	ASSERT_EQ(NULL, cli_lookup(top, "xyz", &err));
	ASSERT_EQ(-ENOENT, err);
	ASSERT_EQ(NULL, cli_lookup(top, "", &err));
	ASSERT_EQ(-ENOENT, err);
}

TEST(dispatch_runs_leaf_with_shifted_argv)
{
	char *argv[] = { "t", "vm", "sta", "x", NULL };

	ran = 0;
	/* "sta" is ambiguous between start and status */
	ASSERT_EQ(CLI_USAGE, dispatch(4, argv));
	ASSERT_EQ(0, ran);
	argv[2] = "start";
	ASSERT_EQ(CLI_OK, dispatch(4, argv));
	ASSERT_EQ(1, ran);
	ASSERT_EQ(2, last_argc);
}

TEST(usage_errors_exit_2)
{
	char *a1[] = { "t", NULL };
	char *a2[] = { "t", "nope", NULL };
	char *a3[] = { "t", "--bogus", NULL };
	char *a4[] = { "t", "vm", NULL };
	char *a5[] = { "t", "vm", "nope", NULL };

	EXPECT_EQ(CLI_USAGE, dispatch(1, a1));
	EXPECT_EQ(CLI_USAGE, dispatch(2, a2));
	EXPECT_EQ(CLI_USAGE, dispatch(2, a3));
	EXPECT_EQ(CLI_USAGE, dispatch(2, a4));
	EXPECT_EQ(CLI_USAGE, dispatch(3, a5));
}

TEST(help_at_every_level_exits_0_without_running)
{
	char *a1[] = { "t", "--help", NULL };
	char *a2[] = { "t", "vm", "-h", NULL };
	char *a3[] = { "t", "vm", "start", "x", "--help", NULL };
	char *a4[] = { "t", "vm", "start", "--", "--help", NULL };

	ran = 0;
	EXPECT_EQ(CLI_OK, dispatch(2, a1));
	EXPECT_EQ(CLI_OK, dispatch(3, a2));
	EXPECT_EQ(CLI_OK, dispatch(5, a3));
	EXPECT_EQ(0, ran);
	/* after "--", --help is an argument for the command */
	EXPECT_EQ(CLI_OK, dispatch(5, a4));
	EXPECT_EQ(1, ran);
}

TEST(leaf_status_is_returned)
{
	char *argv[] = { "t", "vm", "stop", NULL };

	ASSERT_EQ(CLI_FAIL, dispatch(3, argv));
	ASSERT_EQ(2, ran);
}

TEST_HARNESS_MAIN
