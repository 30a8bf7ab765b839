/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portfwd/owner.h - "who owns this": a process id and its start time, so a
 * record left by a killed fcvm is recognised as stale even if the pid was
 * reused; and the data directory the records live in.
 */
#ifndef FCVM_PORTFWD_OWNER_H
#define FCVM_PORTFWD_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct owner {
	pid_t pid;
	uint64_t start;		/* /proc/PID/stat field 22, clock ticks after boot */
};

int owner_of(pid_t pid, struct owner *out);
bool owner_alive(const struct owner *o);
int owner_format(const struct owner *o, char *buf, size_t len);
int owner_parse(const char *s, struct owner *out);
int portfwd_data_dir(const char *sub, char *buf, size_t len);

/* A VM id names files and nft tables: [A-Za-z0-9_.-], 1..63 chars, no leading '.'. */
#define PORTFWD_ID_MAX	64
int portfwd_valid_id(const char *id);

#endif /* FCVM_PORTFWD_OWNER_H */
