// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/nat_bpf.c - load bpf/portfwd_nat.bpf.c (open -> load -> fill maps
 * -> attach) and tear it down along one path.
 *
 * cgroup hooks are attached as BPF links owned by this process's fds: the
 * kernel detaches them when fcvm dies, however it dies. tc filters (clsact
 * ingress/egress) outlive the process, so each one is written to the record
 * before it is attached; nat_reap_stale() detaches those of a dead owner.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"	/* generated skeleton */
#include "bpf/portfwd_nat.skel.h"
#pragma GCC diagnostic pop
#include "fcvm/nat.h"
#include "portfwd/nat.h"
#include "util/io.h"
#include "util/log.h"

#define NAT_TC_HANDLE	0xfcu
#define NAT_TC_PRIO_MIN	0xfc00
#define NAT_TC_PRIO_MAX	0xfcff
#define NAT_NCGROUP	6

struct nat_tc {
	int ifindex;
	enum bpf_tc_attach_point point;
	uint32_t prio;
};

struct nat_bpf {
	struct portfwd_nat_bpf *skel;
	struct bpf_link *links[NAT_NCGROUP];
	struct nat_tc tc[2 * NAT_MAX_IFS];
	size_t ntc;
};

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

static int fill_maps(struct nat_bpf *b, const struct nat_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct fcvm_nat_key fk = { .addr = rules[i].pub.s_addr,
					   .port = htons(rules[i].pub_port),
					   .proto = rules[i].proto };
		struct fcvm_nat_val fv = { .addr = rules[i].guest.s_addr,
					   .port = htons(rules[i].guest_port) };
		struct fcvm_nat_key rk = { .addr = fv.addr, .port = fv.port, .proto = fk.proto };
		struct fcvm_nat_val rv = { .addr = fk.addr, .port = fk.port };
		int err;

		err = bpf_map__update_elem(b->skel->maps.nat_fwd, &fk, sizeof(fk), &fv,
					   sizeof(fv), BPF_NOEXIST);
		if (!err)
			err = bpf_map__update_elem(b->skel->maps.nat_rev, &rk, sizeof(rk), &rv,
						   sizeof(rv), BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

static int attach_cgroup(struct nat_bpf *b, const char *cgroup)
{
	struct bpf_program *progs[NAT_NCGROUP] = {
		b->skel->progs.pfnat_connect4, b->skel->progs.pfnat_connect6,
		b->skel->progs.pfnat_sendmsg4, b->skel->progs.pfnat_peer4,
		b->skel->progs.pfnat_peer6, b->skel->progs.pfnat_recvmsg4,
	};
	int fd, err = 0;

	fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < NAT_NCGROUP; i++) {
		b->links[i] = bpf_program__attach_cgroup(progs[i], fd);
		if (!b->links[i]) {
			err = -errno;
			break;
		}
	}
	close(fd);
	return err;
}

/*
 * Writes "tc IFNAME ingress|egress HANDLE PRIO" before the filter exists,
 * or "untc ..." when the priority turned out to be someone else's.
 */
static int record_tc(int record_fd, const char *word, const char *ifname, bool ingress,
		     uint32_t prio)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s %s %s %u %u\n", word, ifname,
			 ingress ? "ingress" : "egress", NAT_TC_HANDLE, prio);

	return io_write_full(record_fd, line, (size_t)n) ?: (fsync(record_fd) ? -errno : 0);
}

static int attach_tc_one(struct nat_bpf *b, const char *ifname, bool ingress, int record_fd)
{
	struct bpf_program *prog = ingress ? b->skel->progs.pfnat_tc_in : b->skel->progs.pfnat_tc_out;
	int ifindex = (int)if_nametoindex(ifname);
	struct bpf_tc_hook hook = {
		.sz = sizeof(hook), .ifindex = ifindex,
		.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS,
	};
	int err;

	if (!ifindex)
		return -ENODEV;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	/* Several VMs may publish through one interface: take a free priority. */
	for (uint32_t prio = NAT_TC_PRIO_MIN; prio <= NAT_TC_PRIO_MAX; prio++) {
		struct bpf_tc_opts opts = {
			.sz = sizeof(opts), .handle = NAT_TC_HANDLE, .priority = prio,
			.prog_fd = bpf_program__fd(prog),
		};

		err = record_tc(record_fd, "tc", ifname, ingress, prio);
		if (err)
			return err;
		err = bpf_tc_attach(&hook, &opts);
		if (err == -EEXIST) {
			err = record_tc(record_fd, "untc", ifname, ingress, prio);
			if (err)
				return err;
			continue;
		}
		if (err)
			return err;
		b->tc[b->ntc++] = (struct nat_tc){ .ifindex = ifindex, .point = hook.attach_point,
						   .prio = prio };
		return 0;
	}
	return -ENOSPC;
}

/**
 * nat_bpf_detach_tc() - remove one of fcvm's tc filters
 * @ifname:  the interface
 * @ingress: 1 ingress, 0 egress
 * @handle:  filter handle
 * @prio:    filter priority
 *
 * Return: 0, also if the filter or the interface is gone; -errno otherwise.
 */
int nat_bpf_detach_tc(const char *ifname, int ingress, uint32_t handle, uint32_t prio)
{
	int ifindex = (int)if_nametoindex(ifname);
	struct bpf_tc_hook hook = {
		.sz = sizeof(hook), .ifindex = ifindex,
		.attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS,
	};
	struct bpf_tc_opts opts = { .sz = sizeof(opts), .handle = handle, .priority = prio };
	int err;

	if (!ifindex)
		return 0;
	err = bpf_tc_detach(&hook, &opts);
	return (err == -ENOENT || err == -EINVAL) ? 0 : err;
}

/**
 * nat_bpf_open() - load, fill and attach the eBPF NAT
 * @out:       the loaded NAT
 * @opts:      cgroup and interfaces
 * @rules:     published ports
 * @n:         how many
 * @record_fd: the record; each tc filter is listed there before it exists
 *
 * Return: 0 or -errno; on failure everything attached is removed again.
 */
int nat_bpf_open(struct nat_bpf **out, const struct nat_opts *opts,
		 const struct nat_rule *rules, size_t n, int record_fd)
{
	struct nat_bpf *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return -ENOMEM;
	libbpf_set_print(libbpf_log);
	b->skel = portfwd_nat_bpf__open_and_load();
	if (!b->skel) {
		err = -errno;
		goto err_free;
	}
	err = fill_maps(b, rules, n);
	if (!err && opts->cgroup)
		err = attach_cgroup(b, opts->cgroup);
	for (size_t i = 0; !err && i < opts->nifs; i++)
		err = attach_tc_one(b, opts->ifnames[i], true, record_fd) ?:
		      attach_tc_one(b, opts->ifnames[i], false, record_fd);
	if (err)
		goto err_close;
	*out = b;
	return 0;

err_close:
	nat_bpf_close(b);
	return err;
err_free:
	free(b);
	return err;
}

/* Program and map ids (tests check they are gone after exit). */
int nat_bpf_ids_of(const struct nat_bpf *b, uint32_t *ids, size_t max)
{
	struct bpf_program *p;
	struct bpf_map *m;
	size_t n = 0;

	bpf_object__for_each_program(p, b->skel->obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (n < max && !bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			ids[n++] = info.id;
	}
	bpf_object__for_each_map(m, b->skel->obj) {
		struct bpf_map_info info = { 0 };
		__u32 len = sizeof(info);

		if (n < max && !bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len))
			ids[n++] = info.id;
	}
	return (int)n;
}

void nat_bpf_close(struct nat_bpf *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->ntc; i++) {
		struct bpf_tc_hook hook = {
			.sz = sizeof(hook), .ifindex = b->tc[i].ifindex,
			.attach_point = b->tc[i].point,
		};
		struct bpf_tc_opts opts = {
			.sz = sizeof(opts), .handle = NAT_TC_HANDLE, .priority = b->tc[i].prio,
		};

		bpf_tc_detach(&hook, &opts);
	}
	for (int i = 0; i < NAT_NCGROUP; i++)
		bpf_link__destroy(b->links[i]);
	portfwd_nat_bpf__destroy(b->skel);
	free(b);
}
