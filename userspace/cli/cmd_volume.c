// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cmd_volume.c - `fcvm volume serve`: run a volume's host server on its
 * own (tests, benchmarks, debugging). `fcvm run --map` starts the same
 * server for each volume of a VM.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "fcvm/volume.h"
#include "util/log.h"
#include "volume/volume.h"

static const char serve_help[] =
	"Options:\n"
	"  --dir DIR            the host directory to share\n"
	"  --listen unix:PATH   where the VMM (or a test relay) connects\n"
	"  --ro                 refuse every write (EROFS)\n"
	"  --cache MODE         auto (default: long timeouts + host-change invalidation),\n"
	"                       always (long timeouts), never (no caching)\n"
	"  --queues N           refuse mounts with more than N queues\n"
	"  --once               exit when the first mount ends\n"
	"\nEnvironment: FCVM_VOLUME_CHANNEL=user|kmod selects the channel.\n"
	"SIGINT/SIGTERM stop the server.\n";

struct serve_args {
	struct volume_opts o;
	const char *listen;
};

static int parse_serve(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "ro", no_argument, NULL, 'r' },
		{ "cache", required_argument, NULL, 'c' },
		{ "queues", required_argument, NULL, 'q' },
		{ "once", no_argument, NULL, '1' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = "fcvm volume serve";
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->o.dir = optarg;
			break;
		case 'l':
			if (strncmp(optarg, "unix:", 5) || !optarg[5])
				return cli_usage_error(path, "--listen takes unix:PATH");
			a->listen = optarg + 5;
			break;
		case 'r':
			a->o.ro = true;
			break;
		case 'c':
			if (volume_parse_cache(optarg, &a->o.cache))
				return cli_usage_error(path, "--cache: auto, always or never");
			break;
		case 'q':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > (long)FCVM_VOLUME_MAX_QUEUES)
				return cli_usage_error(path, "--queues: 1..%u",
						       FCVM_VOLUME_MAX_QUEUES);
			a->o.max_queues = (unsigned int)v;
			break;
		case '1':
			a->o.once = true;
			break;
		default:
			return cli_bad_option(path, argc, argv);
		}
	}
	if (optind != argc)
		return cli_usage_error(path, "unexpected argument '%s'", argv[optind]);
	if (!a->o.dir || !a->listen)
		return cli_usage_error(path, "--dir and --listen are required");
	return CLI_OK;
}

static int cmd_volume_serve(int argc, char **argv)
{
	struct serve_args a = { .o.cache = VOLUME_CACHE_AUTO };
	struct volume_channel *ch;
	struct stat st;
	sigset_t set;
	int rc = parse_serve(argc, argv, &a), sfd, err;

	if (rc != CLI_OK)
		return rc;
	if (stat(a.o.dir, &st) || !S_ISDIR(st.st_mode)) {
		log_error("volume: %s: not a directory", a.o.dir);
		return CLI_FAIL;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);	/* before any thread exists */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		log_error("volume: signalfd: %s", strerror(errno));
		return CLI_FAIL;
	}
	err = volume_channel_new(a.listen, &ch);
	if (err) {
		log_error("volume: channel on %s: %s", a.listen, strerror(-err));
		close(sfd);
		return CLI_FAIL;
	}
	log_info("volume: serving %s on unix:%s", a.o.dir, a.listen);
	err = volume_serve(ch, &a.o, sfd);
	ch->ops->destroy(ch);
	close(sfd);
	if (err) {
		log_error("volume: %s", strerror(-err));
		return CLI_FAIL;
	}
	return CLI_OK;
}

const struct cli_cmd volume_commands[] = {
	{ .name = "serve",
	  .args = "--dir DIR --listen unix:PATH [--ro] [--cache auto|always|never] [--queues N]",
	  .summary = "serve a host directory to a guest volume relay (raw FUSE)",
	  .help = serve_help, .run = cmd_volume_serve },
	{ NULL },
};
