// SPDX-License-Identifier: GPL-2.0
/*
 * log_test.c - level parsing, filtering, FCVM_LOG handling and the plain
 * (non-terminal) line format.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "util/log.h"

static char *capture(enum log_level lvl, void (*fn)(void))
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	memset(buf, 0, sizeof(buf));
	log_set_stream(f);
	log_set_level(lvl);
	fn();
	fclose(f);
	log_set_stream(stderr);
	return buf;
}

static void emit_all(void)
{
	log_error("e%d", 1);
	log_warn("w%d", 2);
	log_info("i%d", 3);
	log_debug("d%d", 4);
}

TEST(parse_levels)
{
	enum log_level l;

	ASSERT_EQ(0, log_parse_level("error", &l));
	ASSERT_EQ(LOG_ERROR, l);
	ASSERT_EQ(0, log_parse_level("WARN", &l));
	ASSERT_EQ(LOG_WARN, l);
	ASSERT_EQ(0, log_parse_level("debug", &l));
	ASSERT_EQ(LOG_DEBUG, l);
	ASSERT_EQ(-EINVAL, log_parse_level("verbose", &l));
	ASSERT_EQ(-EINVAL, log_parse_level("", &l));
}

TEST(filter_by_level)
{
	ASSERT_STREQ("fcvm: error: e1\n", capture(LOG_ERROR, emit_all));
	ASSERT_STREQ("fcvm: error: e1\nfcvm: warn: w2\nfcvm: info: i3\n",
		     capture(LOG_INFO, emit_all));
	ASSERT_STREQ("fcvm: error: e1\nfcvm: warn: w2\nfcvm: info: i3\nfcvm: debug: d4\n",
		     capture(LOG_DEBUG, emit_all));
}

TEST(no_colour_when_not_a_tty)
{
	ASSERT_EQ(NULL, strchr(capture(LOG_DEBUG, emit_all), '\033'));
}

static int errno_after_log;

static void keep_errno(void)
{
	errno = EAGAIN;
	log_error("x");
	errno_after_log = errno;
}

TEST(errno_preserved)
{
	capture(LOG_ERROR, keep_errno);
	ASSERT_EQ(EAGAIN, errno_after_log);
}

TEST(env_sets_level)
{
	setenv("FCVM_LOG", "warn", 1);
	log_init();
	ASSERT_EQ(LOG_WARN, log_get_level());
	setenv("FCVM_LOG", "debug", 1);
	log_init();
	ASSERT_EQ(LOG_DEBUG, log_get_level());
	setenv("FCVM_LOG", "nonsense", 1);
	log_set_level(LOG_INFO);
	log_init();
	ASSERT_EQ(LOG_INFO, log_get_level());
	unsetenv("FCVM_LOG");
}

TEST_HARNESS_MAIN
