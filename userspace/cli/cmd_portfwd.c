// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cmd_portfwd.c - `fcvm portfwd ...`: run a VM's port publishing alone
 * (tests and benchmarks use it; `fcvm run --publish` uses the same code).
 *
 *   fcvm portfwd run  --vsock PATH [--id ID] -p [IP:]HOST:GUEST ...
 *   fcvm portfwd nat  --id ID --guest ADDR [--ifname IF] [--cgroup DIR] -p ...
 *   fcvm portfwd cleanup
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "accel/accel.h"
#include "cli/commands.h"
#include "portfwd/forward.h"
#include "portfwd/loopback.h"
#include "portfwd/nat.h"
#include "portfwd/spec.h"
#include "util/log.h"

#define MAX_SPECS 64

static int parse_uint(const char *path, const char *opt, const char *s, unsigned long max,
		      unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || end == s || *out > max)
		return cli_usage_error(path, "bad value for %s: '%s'", opt, s);
	return 0;
}

static int add_spec(const char *path, const char *s, struct portfwd_spec *specs, size_t *n)
{
	if (*n == MAX_SPECS)
		return cli_usage_error(path, "at most %d published ports", MAX_SPECS);
	if (portfwd_parse_spec(s, &specs[*n]))
		return cli_usage_error(path, "bad --publish '%s' (want [IP:]HOST:GUEST[/udp])", s);
	(*n)++;
	return 0;
}

/* Blocks SIGINT/SIGTERM and returns a signalfd that reports them. */
static int stop_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static const char run_help[] =
	"Options:\n"
	"  --vsock PATH        the VM's hybrid-vsock socket (<vmdir>/vsock.sock)\n"
	"  --id ID             VM id: ports without IP: go to its loopback address\n"
	"  -p, --publish SPEC  [IP:]HOST:GUEST (TCP), repeatable\n"
	"  --pipe-size N       bytes per direction and connection (default 1048576)\n"
	"  --max-conns N       connections incl. handshakes (default 4096)\n"
	"  --max-pending N     handshakes in flight (default 64)\n"
	"  --handshake-ms N    handshake deadline (default 5000)\n"
	"  --hup-reset         the VMM passes half-close through (fcvm's vsock device):\n"
	"                      a full close from the guest side is a reset (RST)\n"
	"Prints 'listening ADDR:PORT guest PORT' per port, then 'ready'; runs until\n"
	"SIGINT/SIGTERM.\n";

static int cmd_portfwd_run(int argc, char **argv)
{
	static const char path[] = "fcvm portfwd run";
	static const struct option opts[] = {
		{ "vsock", required_argument, NULL, 'v' },
		{ "id", required_argument, NULL, 'i' },
		{ "publish", required_argument, NULL, 'p' },
		{ "pipe-size", required_argument, NULL, 's' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "max-pending", required_argument, NULL, 'n' },
		{ "handshake-ms", required_argument, NULL, 't' },
		{ "hup-reset", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct portfwd_spec specs[MAX_SPECS];
	struct portfwd_map maps[MAX_SPECS];
	struct portfwd_opts po = { 0 };
	struct in_addr lo = { 0 };
	const char *id = NULL;
	struct portfwd *pf;
	size_t n = 0;
	bool need_lo = false;
	unsigned long v;
	int c, err, sfd, ret = CLI_FAIL;

	while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
		switch (c) {
		case 'v': po.vsock_path = optarg; break;
		case 'i': id = optarg; break;
		case 'r': po.hup_reset = true; break;
		case 'p':
			if (add_spec(path, optarg, specs, &n))
				return CLI_USAGE;
			break;
		case 's':
			if (parse_uint(path, "--pipe-size", optarg, 1u << 30, &v))
				return CLI_USAGE;
			po.pipe_size = v;
			break;
		case 'c':
			if (parse_uint(path, "--max-conns", optarg, 1u << 20, &v))
				return CLI_USAGE;
			po.max_conns = (unsigned int)v;
			break;
		case 'n':
			if (parse_uint(path, "--max-pending", optarg, 1u << 20, &v))
				return CLI_USAGE;
			po.max_pending = (unsigned int)v;
			break;
		case 't':
			if (parse_uint(path, "--handshake-ms", optarg, 3600000, &v))
				return CLI_USAGE;
			po.handshake_ms = (int)v;
			break;
		default:
			return cli_bad_option(path, argc, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error(path, "unexpected argument '%s'", argv[optind]);
	if (!po.vsock_path || !n)
		return cli_usage_error(path, "--vsock and at least one --publish are needed");
	for (size_t i = 0; i < n; i++) {
		if (specs[i].proto != IPPROTO_TCP)
			return cli_usage_error(path, "rootless publishing carries TCP only");
		if (!specs[i].has_ip && !id)
			return cli_usage_error(path, "--publish without IP: needs --id");
		need_lo |= !specs[i].has_ip;
	}
	if (need_lo) {
		err = loopback_alloc(id, &lo);
		if (err) {
			log_error("%s: loopback address for '%s': %s", path, id, strerror(-err));
			return CLI_FAIL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		maps[i] = (struct portfwd_map){ .guest_port = specs[i].guest_port };
		maps[i].host.sin_family = AF_INET;
		maps[i].host.sin_addr = specs[i].has_ip ? specs[i].ip : lo;
		maps[i].host.sin_port = htons(specs[i].host_port);
	}
	sfd = stop_signals();
	if (sfd < 0) {
		log_error("%s: signalfd: %s", path, strerror(errno));
		goto out_release;
	}
	err = portfwd_open(&pf, &po, maps, n);
	if (err) {
		log_error("%s: %s", path, strerror(-err));
		goto out_close_sfd;
	}
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in a;
		char ip[INET_ADDRSTRLEN];

		portfwd_bound(pf, i, &a);
		inet_ntop(AF_INET, &a.sin_addr, ip, sizeof(ip));
		printf("listening %s:%u guest %u\n", ip, ntohs(a.sin_port), maps[i].guest_port);
	}
	printf("ready\n");
	fflush(stdout);
	err = portfwd_run(pf, sfd);
	if (err)
		log_error("%s: %s", path, strerror(-err));
	else
		ret = CLI_OK;
	portfwd_close(pf);
out_close_sfd:
	close(sfd);
out_release:
	if (need_lo)
		loopback_release(id);
	return ret;
}

static const char nat_help[] =
	"Options:\n"
	"  --id ID             VM id (names the record and the nft table)\n"
	"  --guest ADDR        the guest's IPv4 address behind the bridge/veth\n"
	"  -p, --publish SPEC  IP:HOST:GUEST[/udp], repeatable (IP: the published address)\n"
	"  --ifname IF         interface forwarded clients arrive on, repeatable\n"
	"  --cgroup DIR        cgroup v2 whose sockets are local clients (eBPF NAT)\n"
	"  --nat bpf|nft       force the backend (default: what `fcvm accel status` says)\n"
	"Prints 'nat bpf|nft', 'ids N...' (BPF program and map ids), then 'ready'; runs\n"
	"until SIGINT/SIGTERM and removes everything it installed.\n";

/* The backend `fcvm accel status` reports for bridged publishing. */
static enum nat_backend default_backend(void)
{
	struct accel_bpf_probe probes[ACCEL_BPF_NPROBES];
	struct accel_choice choices[ACCEL_NMECH];
	struct accel_kmod_info kmod = { .status = -ENOENT };

	accel_probe_bpf(probes);
	accel_choose(&kmod, probes, choices);
	return strstr(choices[ACCEL_PORTFWD_BRIDGED].path, "eBPF") ? NAT_BPF : NAT_NFT;
}

static int print_ids(const struct nat *nat)
{
	uint32_t ids[32];
	int n = nat_bpf_ids(nat, ids, 32);

	printf("nat %s\nids", nat_backend_of(nat) == NAT_BPF ? "bpf" : "nft");
	for (int i = 0; i < n; i++)
		printf(" %u", ids[i]);
	printf("\nready\n");
	return fflush(stdout);
}

static int cmd_portfwd_nat(int argc, char **argv)
{
	static const char path[] = "fcvm portfwd nat";
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "guest", required_argument, NULL, 'g' },
		{ "publish", required_argument, NULL, 'p' },
		{ "ifname", required_argument, NULL, 'f' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "nat", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct portfwd_spec specs[MAX_SPECS];
	struct nat_rule rules[MAX_SPECS];
	struct nat_opts no = { 0 };
	struct in_addr guest = { 0 };
	enum nat_backend be = NAT_BPF;
	bool have_guest = false, forced = false;
	struct nat *nat;
	size_t n = 0;
	int c, err, sfd, ret = CLI_FAIL;

	while ((c = getopt_long(argc, argv, "p:", opts, NULL)) != -1) {
		switch (c) {
		case 'i': no.id = optarg; break;
		case 'g':
			if (inet_pton(AF_INET, optarg, &guest) != 1)
				return cli_usage_error(path, "bad --guest '%s'", optarg);
			have_guest = true;
			break;
		case 'p':
			if (add_spec(path, optarg, specs, &n))
				return CLI_USAGE;
			break;
		case 'f':
			if (no.nifs == NAT_MAX_IFS)
				return cli_usage_error(path, "at most %d --ifname", NAT_MAX_IFS);
			no.ifnames[no.nifs++] = optarg;
			break;
		case 'c': no.cgroup = optarg; break;
		case 'n':
			if (strcmp(optarg, "bpf") && strcmp(optarg, "nft"))
				return cli_usage_error(path, "--nat must be bpf or nft");
			be = strcmp(optarg, "bpf") ? NAT_NFT : NAT_BPF;
			forced = true;
			break;
		default:
			return cli_bad_option(path, argc, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error(path, "unexpected argument '%s'", argv[optind]);
	if (!no.id || !have_guest || !n)
		return cli_usage_error(path, "--id, --guest and at least one --publish are needed");
	for (size_t i = 0; i < n; i++) {
		if (!specs[i].has_ip || !specs[i].host_port)
			return cli_usage_error(path, "bridged --publish needs IP:HOST:GUEST");
		rules[i] = (struct nat_rule){ .pub = specs[i].ip, .pub_port = specs[i].host_port,
					      .guest = guest, .guest_port = specs[i].guest_port,
					      .proto = specs[i].proto };
	}
	if (!forced)
		be = default_backend();
	sfd = stop_signals();
	if (sfd < 0) {
		log_error("%s: signalfd: %s", path, strerror(errno));
		return CLI_FAIL;
	}
	err = nat_open(&nat, be, &no, rules, n);
	if (err && be == NAT_BPF && !forced) {
		log_warn("%s: eBPF NAT: %s; falling back to nftables", path, strerror(-err));
		be = NAT_NFT;
		err = nat_open(&nat, be, &no, rules, n);
	}
	if (err) {
		log_error("%s: %s NAT: %s", path, be == NAT_BPF ? "eBPF" : "nftables",
			  strerror(-err));
		goto out_close_sfd;
	}
	if (print_ids(nat) == 0) {
		struct signalfd_siginfo si;

		while (read(sfd, &si, sizeof(si)) < 0 && (errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = { .fd = sfd, .events = POLLIN };

			poll(&p, 1, -1);
		}
		ret = CLI_OK;
	}
	nat_close(nat);
out_close_sfd:
	close(sfd);
	return ret;
}

static int cmd_portfwd_cleanup(int argc, char **argv)
{
	unsigned int reaped = 0;
	int err;

	if (argc > 1)
		return cli_usage_error("fcvm portfwd cleanup", "unexpected argument '%s'", argv[1]);
	err = nat_reap_stale(&reaped);
	printf("reaped %u\n", reaped);
	if (err) {
		log_error("fcvm portfwd cleanup: %s", strerror(-err));
		return CLI_FAIL;
	}
	return CLI_OK;
}

const struct cli_cmd portfwd_commands[] = {
	{ .name = "nat",
	  .args = "--id ID --guest ADDR -p IP:HOST:GUEST[/udp] ... [--ifname IF] [--cgroup DIR]",
	  .summary = "publish a bridged VM's ports with the eBPF NAT or nftables DNAT",
	  .help = nat_help, .run = cmd_portfwd_nat },
	{ .name = "cleanup", .summary = "remove NAT programs and rules a killed fcvm left",
	  .run = cmd_portfwd_cleanup },
	{ .name = "run", .args = "--vsock PATH [--id ID] -p [IP:]HOST:GUEST ...",
	  .summary = "publish TCP ports of a VM through its hybrid-vsock socket (rootless)",
	  .help = run_help, .run = cmd_portfwd_run },
	{ NULL },
};
