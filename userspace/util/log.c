// SPDX-License-Identifier: GPL-2.0
/*
 * util/log.c - leveled logging to stderr (see log.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

static enum log_level cur_level = LOG_INFO;
static FILE *log_stream;
static bool log_colour;

static const struct {
	const char *name;
	const char *colour;
} levels[] = {
	[LOG_ERROR] = { "error", "\033[1;31m" },
	[LOG_WARN]  = { "warn",  "\033[1;33m" },
	[LOG_INFO]  = { "info",  "\033[1;34m" },
	[LOG_DEBUG] = { "debug", "\033[2m" },
};

/**
 * log_parse_level() - map a level name to its value
 * @s:   "error", "warn", "info" or "debug" (case-insensitive)
 * @out: the level, set only on success
 *
 * Return: 0, or -EINVAL for an unknown name.
 */
int log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (!strcasecmp(s, levels[i].name)) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_stream(FILE *stream)
{
	log_stream = stream;
	log_colour = stream && isatty(fileno(stream));
}

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

/* Reads FCVM_LOG; a bad value is reported once and the default kept. */
void log_init(void)
{
	const char *env = getenv("FCVM_LOG");
	enum log_level level;

	log_set_stream(stderr);
	if (!env || !*env)
		return;
	if (log_parse_level(env, &level))
		log_warn("FCVM_LOG=%s is not one of error, warn, info, debug; using info",
			 env);
	else
		cur_level = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	FILE *f = log_stream ? log_stream : stderr;
	int saved = errno;
	va_list ap;

	if (level > cur_level)
		return;
	if (log_colour)
		fprintf(f, "fcvm: %s%s\033[0m: ", levels[level].colour,
			levels[level].name);
	else
		fprintf(f, "fcvm: %s: ", levels[level].name);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
	errno = saved;
}
