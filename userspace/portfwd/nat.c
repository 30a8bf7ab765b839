// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/nat.c - bridged port publishing: the record of what is installed,
 * backend selection, teardown, and reaping what a killed fcvm left.
 *
 * Record <data dir>/nat/<id>, one item per line, written before the item is
 * installed (so a kill at any point leaves a record that covers it):
 *   owner PID STARTTIME
 *   nft TABLE
 *   tc IFNAME ingress|egress HANDLE PRIO     (untc ... cancels a tc line)
 * The record is locked (flock) by its live owner; a record that is not
 * locked and whose owner is gone is stale.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdbool.h>
#include <unistd.h>

#include "portfwd/nat.h"
#include "portfwd/owner.h"
#include "util/io.h"

struct nat {
	enum nat_backend backend;
	struct nat_bpf *bpf;
	char table[96];
	char record[PATH_MAX];
	int record_fd;
};

static int record_open(struct nat *nat, const char *id)
{
	char dir[1024], own[64], line[96];
	struct owner o;
	int fd, err, n;

	err = portfwd_data_dir("nat", dir, sizeof(dir));
	if (err)
		return err;
	snprintf(nat->record, sizeof(nat->record), "%s/%s", dir, id);
	fd = open(nat->record, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;	/* the VM is published */
		goto err_close;
	}
	/* A stale record of the same id: undo it first, then take it over. */
	err = owner_of(getpid(), &o) ?: owner_format(&o, own, sizeof(own));
	if (err)
		goto err_close;
	n = snprintf(line, sizeof(line), "owner %s\n", own);
	err = io_write_full(fd, line, (size_t)n);
	if (err)
		goto err_close;
	nat->record_fd = fd;
	return 0;

err_close:
	close(fd);
	return err;
}

static int record_add(struct nat *nat, const char *word, const char *arg)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "%s %s\n", word, arg);

	if (n < 0 || (size_t)n >= sizeof(line))
		return -ENAMETOOLONG;
	return io_write_full(nat->record_fd, line, (size_t)n) ?:
	       (fsync(nat->record_fd) ? -errno : 0);
}

/* Undoes every item of a record file's text. Return: 0 or the first -errno. */
static int undo_record(char *text)
{
	char *save = NULL, *line;
	int first = 0;

	/* Lines are processed in order; "untc" cancels the "tc" before it. */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char ifname[32], dir[16], word[8], table[96];
		unsigned int handle, prio;
		int err = 0;

		if (sscanf(line, "%7s %15s %15s %u %u", word, ifname, dir, &handle, &prio) == 5 &&
		    !strcmp(word, "tc")) {
			bool cancelled = false;
			char *rest = save;
			char want[160];

			snprintf(want, sizeof(want), "untc %s %s %u %u", ifname, dir, handle, prio);
			for (char *p = rest; p && (p = strstr(p, want)); p++)
				cancelled = true;
			if (!cancelled)
				err = nat_bpf_detach_tc(ifname, !strcmp(dir, "ingress"), handle, prio);
		} else if (sscanf(line, "nft %95s", table) == 1) {
			err = nat_nft_delete(table);
		}
		if (err && !first)
			first = err;
	}
	return first;
}

static int reap_file(const char *path, bool *reaped)
{
	char text[8192], own[64];
	struct owner o;
	ssize_t n;
	int fd, err;

	*reaped = false;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0;	/* its owner is alive and holds it */
	}
	n = io_read_file(path, text, sizeof(text));
	if (n < 0) {
		err = (int)n;
		goto out_close;
	}
	if (sscanf(text, "owner %63[^\n]", own) == 1 && !owner_parse(own, &o) && owner_alive(&o)) {
		err = 0;	/* written by a live fcvm that has not locked it yet */
		goto out_close;
	}
	err = undo_record(text);
	if (!err) {
		unlink(path);
		*reaped = true;
	}
out_close:
	close(fd);
	return err;
}

/**
 * nat_reap_stale() - remove what killed fcvm processes left installed
 * @reaped: if not NULL, how many records were cleaned up
 *
 * Return: 0 or the first -errno (other records are still tried).
 */
int nat_reap_stale(unsigned int *reaped)
{
	char dir[1024], path[PATH_MAX];
	unsigned int count = 0;
	struct dirent *de;
	int first = 0, err;
	DIR *d;

	err = portfwd_data_dir("nat", dir, sizeof(dir));
	if (err)
		return err;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		bool done;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		err = reap_file(path, &done);
		if (err && !first)
			first = err;
		count += done;
	}
	closedir(d);
	if (reaped)
		*reaped = count;
	return first;
}

/**
 * nat_open() - install the bridged NAT of a VM
 * @out:     the installed NAT
 * @backend: NAT_BPF or NAT_NFT
 * @opts:    id, cgroup (BPF local clients), interfaces (forwarded clients)
 * @rules:   published ports
 * @n:       how many
 *
 * Stale records are reaped first. Return: 0 or -errno (-EBUSY: the id is
 * published by a live fcvm); on failure nothing stays installed.
 */
int nat_open(struct nat **out, enum nat_backend backend, const struct nat_opts *opts,
	     const struct nat_rule *rules, size_t n)
{
	struct nat *nat;
	int err;

	if (portfwd_valid_id(opts->id) || opts->nifs > NAT_MAX_IFS)
		return -EINVAL;
	nat_reap_stale(NULL);
	nat = calloc(1, sizeof(*nat));
	if (!nat)
		return -ENOMEM;
	nat->backend = backend;
	err = record_open(nat, opts->id);
	if (err)
		goto err_free;
	if (backend == NAT_BPF) {
		err = nat_bpf_open(&nat->bpf, opts, rules, n, nat->record_fd);
	} else {
		err = nat_nft_table(opts->id, nat->table, sizeof(nat->table)) ?:
		      record_add(nat, "nft", nat->table);
		if (!err)
			err = nat_nft_open(nat->table, rules, n);
		if (err)
			nat_nft_delete(nat->table);
	}
	if (err)
		goto err_unlink;
	*out = nat;
	return 0;

err_unlink:
	unlink(nat->record);
	close(nat->record_fd);
err_free:
	free(nat);
	return err;
}

enum nat_backend nat_backend_of(const struct nat *nat)
{
	return nat->backend;
}

int nat_bpf_ids(const struct nat *nat, uint32_t *ids, size_t max)
{
	return nat->bpf ? nat_bpf_ids_of(nat->bpf, ids, max) : 0;
}

/* Removes everything the NAT installed, then its record. */
void nat_close(struct nat *nat)
{
	if (!nat)
		return;
	if (nat->bpf)
		nat_bpf_close(nat->bpf);
	if (nat->table[0])
		nat_nft_delete(nat->table);
	unlink(nat->record);
	close(nat->record_fd);
	free(nat);
}
