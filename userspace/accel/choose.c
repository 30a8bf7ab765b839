// SPDX-License-Identifier: GPL-2.0
/*
 * accel/choose.c - from probe results (and FCVM_* overrides) to the path
 * each mechanism uses. Every accelerated path has a fallback with the same
 * observable behaviour; this is the one place that picks between them.
 *
 *   FCVM_VOLUME_CHANNEL=kmod|user   force the volume channel
 *   FCVM_PORTFWD_NAT=bpf|nft        force the bridged port-publishing NAT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/fcvm_accel.h>

#include "accel/accel.h"

static const char *env_choice(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

static void choose_volume(const struct accel_kmod_info *kmod,
			  struct accel_choice *c)
{
	const char *force = env_choice("FCVM_VOLUME_CHANNEL");

	c->mechanism = "volume";
	if (force && !strcmp(force, "user")) {
		c->path = "userspace channel";
		snprintf(c->why, sizeof(c->why), "forced by FCVM_VOLUME_CHANNEL=user");
	} else if (kmod->status == 0) {
		c->path = "fcvm_accel module channel";
		snprintf(c->why, sizeof(c->why), "%s ABI %u.%u", FCVM_ACCEL_DEVICE,
			 kmod->major, kmod->minor);
	} else {
		c->path = "userspace channel";
		if (kmod->status == -ENOENT)
			snprintf(c->why, sizeof(c->why), "%s absent (module not loaded)",
				 FCVM_ACCEL_DEVICE);
		else if (kmod->status == -EPROTO)
			snprintf(c->why, sizeof(c->why), "module ABI %u.%u, fcvm needs %u.x",
				 kmod->major, kmod->minor, FCVM_ACCEL_ABI_MAJOR);
		else
			snprintf(c->why, sizeof(c->why), "%s: %s", FCVM_ACCEL_DEVICE,
				 strerror(-kmod->status));
		if (force && !strcmp(force, "kmod"))
			strncat(c->why, "; FCVM_VOLUME_CHANNEL=kmod cannot be honoured",
				sizeof(c->why) - strlen(c->why) - 1);
	}
}

static void choose_bridged(const struct accel_bpf_probe probes[ACCEL_BPF_NPROBES],
			   struct accel_choice *c)
{
	const char *force = env_choice("FCVM_PORTFWD_NAT");
	const struct accel_bpf_probe *bad = NULL;

	c->mechanism = "portfwd-bridged";
	for (int i = 0; i < ACCEL_BPF_NPROBES && !bad; i++)
		if (probes[i].status)
			bad = &probes[i];
	if (force && !strcmp(force, "nft")) {
		c->path = "nftables DNAT";
		snprintf(c->why, sizeof(c->why), "forced by FCVM_PORTFWD_NAT=nft");
	} else if (!bad) {
		c->path = "eBPF NAT (cgroup sock_addr + tc)";
		snprintf(c->why, sizeof(c->why), "all %d BPF program types load",
			 ACCEL_BPF_NPROBES);
	} else {
		c->path = "nftables DNAT";
		snprintf(c->why, sizeof(c->why), "BPF %s does not load: %s", bad->name,
			 strerror(-bad->status));
	}
}

/**
 * accel_choose() - decide the path of every mechanism
 * @kmod:   result of accel_probe_kmod()
 * @probes: result of accel_probe_bpf()
 * @out:    one choice per enum accel_mech
 */
void accel_choose(const struct accel_kmod_info *kmod,
		  const struct accel_bpf_probe probes[ACCEL_BPF_NPROBES],
		  struct accel_choice out[ACCEL_NMECH])
{
	choose_volume(kmod, &out[ACCEL_VOLUME]);
	choose_bridged(probes, &out[ACCEL_PORTFWD_BRIDGED]);
	out[ACCEL_PORTFWD_ROOTLESS].mechanism = "portfwd-rootless";
	out[ACCEL_PORTFWD_ROOTLESS].path = "splice relay over hybrid vsock";
	snprintf(out[ACCEL_PORTFWD_ROOTLESS].why, sizeof(out[0].why),
		 "bytes stay in the kernel; BPF sockmap measured slower, no backpressure");
}
