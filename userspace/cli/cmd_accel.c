// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cmd_accel.c - `fcvm accel status [--json]`: the module, the BPF program
 * types, and the path each mechanism will use.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <linux/fcvm_accel.h>

#include "accel/accel.h"
#include "cli/commands.h"

static const char status_help[] =
	"Options:\n"
	"  --json   print a JSON object\n"
	"\nEnvironment: FCVM_VOLUME_CHANNEL=kmod|user, FCVM_PORTFWD_NAT=bpf|nft force a path.\n";

static cJSON *status_json(const struct accel_kmod_info *k,
			  const struct accel_bpf_probe *p,
			  const struct accel_choice *ch)
{
	cJSON *o = cJSON_CreateObject(), *km, *bpf, *paths;

	km = cJSON_AddObjectToObject(o, "kmod");
	cJSON_AddStringToObject(km, "device", FCVM_ACCEL_DEVICE);
	cJSON_AddBoolToObject(km, "present", k->status != -ENOENT);
	cJSON_AddBoolToObject(km, "usable", k->status == 0);
	if (k->status == 0 || k->status == -EPROTO) {
		char feat[32];

		cJSON_AddNumberToObject(km, "abi_major", k->major);
		cJSON_AddNumberToObject(km, "abi_minor", k->minor);
		snprintf(feat, sizeof(feat), "0x%" PRIx64, k->features);
		cJSON_AddStringToObject(km, "features", feat);
	}
	if (k->status)
		cJSON_AddStringToObject(km, "error", strerror(-k->status));
	bpf = cJSON_AddObjectToObject(o, "bpf");
	for (int i = 0; i < ACCEL_BPF_NPROBES; i++) {
		cJSON *e = cJSON_AddObjectToObject(bpf, p[i].name);

		cJSON_AddBoolToObject(e, "loads", p[i].status == 0);
		if (p[i].status)
			cJSON_AddStringToObject(e, "error", strerror(-p[i].status));
	}
	paths = cJSON_AddObjectToObject(o, "paths");
	for (int i = 0; i < ACCEL_NMECH; i++) {
		cJSON *e = cJSON_AddObjectToObject(paths, ch[i].mechanism);

		cJSON_AddStringToObject(e, "path", ch[i].path);
		cJSON_AddStringToObject(e, "why", ch[i].why);
	}
	return o;
}

static void status_text(const struct accel_kmod_info *k,
			const struct accel_bpf_probe *p,
			const struct accel_choice *ch)
{
	printf("module %s: ", FCVM_ACCEL_DEVICE);
	if (k->status == 0)
		printf("ABI %u.%u, features 0x%" PRIx64 "\n", k->major, k->minor,
		       k->features);
	else if (k->status == -EPROTO)
		printf("ABI %u.%u does not match %u.x\n", k->major, k->minor,
		       FCVM_ACCEL_ABI_MAJOR);
	else
		printf("%s\n", k->status == -ENOENT ? "not loaded" : strerror(-k->status));
	printf("BPF program types:\n");
	for (int i = 0; i < ACCEL_BPF_NPROBES; i++)
		printf("  %-20s %s\n", p[i].name,
		       p[i].status ? strerror(-p[i].status) : "loads");
	printf("paths:\n");
	for (int i = 0; i < ACCEL_NMECH; i++)
		printf("  %-17s %s (%s)\n", ch[i].mechanism, ch[i].path, ch[i].why);
}

static int cmd_accel_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct accel_bpf_probe probes[ACCEL_BPF_NPROBES];
	struct accel_choice choices[ACCEL_NMECH];
	struct accel_kmod_info kmod;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return cli_bad_option("fcvm accel status", argc, argv);
	}
	if (optind != argc)
		return cli_usage_error("fcvm accel status", "unexpected argument '%s'",
				       argv[optind]);
	/* Probe failures are results to report, not errors of this command. */
	accel_probe_kmod(FCVM_ACCEL_DEVICE, &kmod);
	accel_probe_bpf(probes);
	accel_choose(&kmod, probes, choices);
	if (json) {
		cJSON *o = status_json(&kmod, probes, choices);
		char *s = cJSON_Print(o);

		cJSON_Delete(o);
		if (!s)
			return CLI_FAIL;
		puts(s);
		cJSON_free(s);
	} else {
		status_text(&kmod, probes, choices);
	}
	return CLI_OK;
}

const struct cli_cmd accel_commands[] = {
	{ .name = "status", .args = "[--json]",
	  .summary = "report the module, loadable BPF types and the path each mechanism uses",
	  .help = status_help, .run = cmd_accel_status },
	{ NULL },
};
