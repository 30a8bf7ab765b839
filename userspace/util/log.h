/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util/log.h - leveled logging to stderr for the fcvm manager.
 *
 * The level comes from FCVM_LOG (error|warn|info|debug, default info). Lines
 * look like "fcvm: warn: message"; the level word is coloured only when the
 * stream is a terminal. Convention: a function either logs an error or
 * returns it (-errno), never both; the caller that decides logs.
 */
#ifndef FCVM_UTIL_LOG_H
#define FCVM_UTIL_LOG_H

#include <stdio.h>

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

int log_parse_level(const char *s, enum log_level *out);
void log_init(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_stream(FILE *stream);

__attribute__((format(printf, 2, 3)))
void log_msg(enum log_level level, const char *fmt, ...);

#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* FCVM_UTIL_LOG_H */
