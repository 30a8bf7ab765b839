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
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/fcvm_accel.h>

#include "accel/accel.h"
#include "portfwd/relay.h"

static const char *env_choice(const char *name)
{
	const char *v = getenv(name);

	return (v && *v) ? v : NULL;
}

/**
 * accel_volume_wants_kmod() - the volume channel choice: the module channel
 * when /dev/fcvm_accel answers with our ABI and the FUSE channel feature,
 * unless FCVM_VOLUME_CHANNEL=user forces the userspace one. The volume
 * server (volume/channel.c) and `fcvm accel status` both decide with this.
 * @kmod: result of accel_probe_kmod()
 *
 * Return: true for the module channel.
 */
bool accel_volume_wants_kmod(const struct accel_kmod_info *kmod)
{
	const char *force = env_choice("FCVM_VOLUME_CHANNEL");

	if (force && !strcmp(force, "user"))
		return false;
	return kmod->status == 0 && (kmod->features & FCVM_ACCEL_FEAT_FUSE_CHANNEL);
}

static void choose_volume(const struct accel_kmod_info *kmod,
			  struct accel_choice *c)
{
	const char *force = env_choice("FCVM_VOLUME_CHANNEL");

	c->mechanism = "volume";
	if (force && !strcmp(force, "user")) {
		c->path = "userspace channel";
		snprintf(c->why, sizeof(c->why), "forced by FCVM_VOLUME_CHANNEL=user");
	} else if (accel_volume_wants_kmod(kmod)) {
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
		else if (kmod->status == 0)
			snprintf(c->why, sizeof(c->why), "module ABI %u.%u has no FUSE channel",
				 kmod->major, kmod->minor);
		else
			snprintf(c->why, sizeof(c->why), "%s: %s", FCVM_ACCEL_DEVICE,
				 strerror(-kmod->status));
		if (force && !strcmp(force, "kmod"))
			strncat(c->why, "; FCVM_VOLUME_CHANNEL=kmod cannot be honoured",
				sizeof(c->why) - strlen(c->why) - 1);
	}
}

/* Is the nft binary there for the fallback? */
static bool have_nft(void)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	char path[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/nft", dirs[i]);
		if (access(path, X_OK) == 0)
			return true;
	}
	return false;
}

static void choose_bridged(const struct accel_bpf_probe probes[ACCEL_BPF_NPROBES],
			   struct accel_choice *c)
{
	const char *force = env_choice("FCVM_PORTFWD_NAT");
	const struct accel_bpf_probe *bad = NULL;
	bool nft = have_nft();

	c->mechanism = "portfwd-bridged";
	for (int i = 0; i < ACCEL_BPF_NPROBES && !bad; i++)
		if (probes[i].status)
			bad = &probes[i];
	if (force && !strcmp(force, "nft")) {
		c->path = "nftables DNAT";
		snprintf(c->why, sizeof(c->why), "forced by FCVM_PORTFWD_NAT=nft%s",
			 nft ? "" : "; but no nft binary found");
	} else if (!bad) {
		c->path = "eBPF NAT (cgroup sock_addr + tc)";
		snprintf(c->why, sizeof(c->why),
			 "all %d BPF program types load; no conntrack entry per flow",
			 ACCEL_BPF_NPROBES);
	} else if (bad->status == -EPERM && geteuid() != 0) {
		c->path = "nftables DNAT";
		snprintf(c->why, sizeof(c->why),
			 "BPF needs CAP_BPF/CAP_NET_ADMIN (not root); bridged mode needs root anyway");
	} else {
		c->path = "nftables DNAT";
		snprintf(c->why, sizeof(c->why), "BPF %s does not load: %s%s", bad->name,
			 strerror(-bad->status), nft ? "" : "; and no nft binary found");
	}
}

/* The rootless relay needs splice between sockets and pipes: try it. */
static int probe_splice(unsigned int *pipe_max)
{
	int sv[2], p[2], err = 0;
	char io[2] = "x", buf[8];
	unsigned int v = 0;
	FILE *f;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	if (pipe2(p, O_CLOEXEC) < 0) {
		err = -errno;
		goto out_close_sv;
	}
	errno = 0;
	if (write(sv[0], io, 1) != 1 ||
	    splice(sv[1], NULL, p[1], NULL, 1, SPLICE_F_NONBLOCK) != 1 ||
	    splice(p[0], NULL, sv[1], NULL, 1, SPLICE_F_NONBLOCK) != 1 ||
	    read(sv[0], buf, 1) != 1)
		err = errno ? -errno : -EIO;
	close(p[0]);
	close(p[1]);
out_close_sv:
	close(sv[0]);
	close(sv[1]);
	f = fopen("/proc/sys/fs/pipe-max-size", "re");
	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	*pipe_max = v;
	return err;
}

static void choose_rootless(struct accel_choice *c)
{
	unsigned int pipe_max = 0;
	int err = probe_splice(&pipe_max);

	c->mechanism = "portfwd-rootless";
	if (err) {
		c->path = "none";
		snprintf(c->why, sizeof(c->why), "splice(2) socket<->pipe fails here: %s",
			 strerror(-err));
		return;
	}
	c->path = "splice relay over hybrid vsock";
	snprintf(c->why, sizeof(c->why),
		 "splice works; %u KiB pipes per direction (max %u KiB); "
		 "BPF sockmap not used: slower, no backpressure",
		 RELAY_PIPE_SIZE_DEFAULT / 1024 > pipe_max / 1024 ? pipe_max / 1024 :
		 RELAY_PIPE_SIZE_DEFAULT / 1024, pipe_max / 1024);
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
	choose_rootless(&out[ACCEL_PORTFWD_ROOTLESS]);
}
