// SPDX-License-Identifier: GPL-2.0
/*
 * accel/bpf_probe.c - can the BPF program types fcvm's bridged port
 * publishing uses be loaded here? Each probe loads a two-instruction program
 * of that type and attach point, then closes it; nothing is attached.
 */
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "accel/accel.h"

static const struct {
	const char *name;
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
} bpf_probes[ACCEL_BPF_NPROBES] = {
	{ "cgroup/connect4",     BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT },
	{ "cgroup/connect6",     BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT },
	{ "cgroup/getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME },
	{ "cgroup/getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME },
	{ "cgroup/sendmsg4",     BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG },
	{ "cgroup/recvmsg4",     BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG },
	{ "tc",                  BPF_PROG_TYPE_SCHED_CLS,        0 },
};

static int try_load(enum bpf_prog_type type, enum bpf_attach_type attach)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct bpf_prog_load_opts opts = {
		.sz = sizeof(opts),
		.expected_attach_type = attach,
	};
	int fd;

	fd = bpf_prog_load(type, NULL, "GPL", insns, 2, &opts);
	if (fd < 0)
		return fd;	/* libbpf returns -errno */
	close(fd);
	return 0;
}

/**
 * accel_probe_bpf() - load one program of each type fcvm needs
 * @probes: filled with a name and a status per probe
 *
 * Return: 0 when every probe loaded, else the first failure's -errno.
 */
int accel_probe_bpf(struct accel_bpf_probe probes[ACCEL_BPF_NPROBES])
{
	int first = 0;

	for (int i = 0; i < ACCEL_BPF_NPROBES; i++) {
		probes[i].name = bpf_probes[i].name;
		probes[i].status = try_load(bpf_probes[i].type, bpf_probes[i].attach);
		if (probes[i].status && !first)
			first = probes[i].status;
	}
	return first;
}
