/* SPDX-License-Identifier: GPL-2.0 */
/*
 * accel/accel.h - what this host can accelerate, and which path each
 * mechanism uses. Probes really try (open the device, load BPF programs);
 * they never guess from version numbers.
 */
#ifndef FCVM_ACCEL_ACCEL_H
#define FCVM_ACCEL_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

/* Result of opening /dev/fcvm_accel and asking its ABI version. */
struct accel_kmod_info {
	int status;		/* 0 usable, -ENOENT absent, -EPROTO ABI mismatch, -errno */
	unsigned int major;
	unsigned int minor;
	uint64_t features;
};

int accel_probe_kmod(const char *dev, struct accel_kmod_info *out);

/* One BPF program type/attach point fcvm uses, and whether it loads here. */
struct accel_bpf_probe {
	const char *name;	/* e.g. "cgroup/connect4" */
	int status;		/* 0 loaded, else -errno from the kernel */
};

#define ACCEL_BPF_NPROBES 7
int accel_probe_bpf(struct accel_bpf_probe probes[ACCEL_BPF_NPROBES]);

/* A mechanism with an accelerated path and a userspace/other fallback. */
struct accel_choice {
	const char *mechanism;	/* "volume", "portfwd-bridged", "portfwd-rootless" */
	const char *path;	/* what will be used */
	char why[160];
};

enum accel_mech {
	ACCEL_VOLUME,
	ACCEL_PORTFWD_BRIDGED,
	ACCEL_PORTFWD_ROOTLESS,
	ACCEL_NMECH,
};

bool accel_volume_wants_kmod(const struct accel_kmod_info *kmod);
void accel_choose(const struct accel_kmod_info *kmod,
		  const struct accel_bpf_probe probes[ACCEL_BPF_NPROBES],
		  struct accel_choice out[ACCEL_NMECH]);

#endif /* FCVM_ACCEL_ACCEL_H */
