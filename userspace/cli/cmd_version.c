// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cmd_version.c - `fcvm version`: version (git describe) and build info.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/utsname.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "version.h"

const char version_help[] =
	"Options:\n"
	"  --json   print a JSON object\n";

int cmd_version(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	struct utsname u;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else
			return cli_bad_option("fcvm version", argc, argv);
	}
	if (optind != argc)
		return cli_usage_error("fcvm version", "unexpected argument '%s'",
				       argv[optind]);
	if (uname(&u))
		u.release[0] = '\0';
	if (json) {
		cJSON *o = cJSON_CreateObject();
		char *s;

		cJSON_AddStringToObject(o, "version", FCVM_VERSION);
		cJSON_AddStringToObject(o, "compiler", FCVM_BUILD_CC);
		cJSON_AddStringToObject(o, "build", FCVM_BUILD_FLAGS);
		cJSON_AddStringToObject(o, "kernel", u.release);
		s = cJSON_Print(o);
		if (s)
			puts(s);
		cJSON_free(s);
		cJSON_Delete(o);
		return s ? CLI_OK : CLI_FAIL;
	}
	printf("fcvm %s\n", FCVM_VERSION);
	printf("compiler: %s\n", FCVM_BUILD_CC);
	printf("build:    %s\n", FCVM_BUILD_FLAGS);
	printf("kernel:   %s\n", u.release);
	return CLI_OK;
}
