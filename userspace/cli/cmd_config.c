// SPDX-License-Identifier: GPL-2.0
/*
 * cli/cmd_config.c - `fcvm config show`: every resolved setting and where
 * it came from (flag, env, file or default).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "util/config.h"
#include "util/log.h"

static const char show_help[] =
	"Options:\n"
	"  --json               print a JSON object\n"
	"  --config FILE        read FILE instead of searching for rootfs-config.toml\n"
	"  --data-dir DIR       override paths.data_dir (env FCVM_DATA_DIR)\n"
	"  --assets-dir DIR     override paths.assets_dir (env FCVM_ASSETS_DIR)\n"
	"\nPrecedence: flag > FCVM_* environment > rootfs-config.toml > default.\n"
	"The file is --config, else $FCVM_CONFIG, else the first that exists of\n"
	"$XDG_CONFIG_HOME/fcvm/rootfs-config.toml, /etc/fcvm/rootfs-config.toml and\n"
	"the source tree's rootfs-config.toml.\n";

enum { OPT_JSON = 1, OPT_CONFIG, OPT_KEY };

/* "file /etc/fcvm/rootfs-config.toml:3", "env FCVM_DATA_DIR", ... */
static void origin(const struct config *cfg, enum config_key k, char *buf,
		   size_t size)
{
	const struct config_setting *s = &cfg->set[k];
	const struct config_key_info *ki = config_key_info(k);

	switch (s->source) {
	case CONFIG_SRC_FILE:
		snprintf(buf, size, "%s:%d", cfg->file, s->line);
		break;
	case CONFIG_SRC_ENV:
		snprintf(buf, size, "%s", ki->env);
		break;
	case CONFIG_SRC_FLAG:
		snprintf(buf, size, "%s", ki->flag);
		break;
	case CONFIG_SRC_DEFAULT:
		snprintf(buf, size, "built-in");
		break;
	}
}

static const char *file_source_name(enum config_source src)
{
	return src == CONFIG_SRC_DEFAULT ? "search" : config_source_name(src);
}

static int show_json(const struct config *cfg)
{
	cJSON *o = cJSON_CreateObject(), *file, *settings;
	char buf[4200], *s;

	file = cJSON_AddObjectToObject(o, "config_file");
	if (cfg->file)
		cJSON_AddStringToObject(file, "path", cfg->file);
	else
		cJSON_AddNullToObject(file, "path");
	cJSON_AddStringToObject(file, "source", file_source_name(cfg->file_source));
	settings = cJSON_AddObjectToObject(o, "settings");
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_key_info *ki = config_key_info(k);
		cJSON *sec = cJSON_GetObjectItemCaseSensitive(settings, ki->section), *e;

		if (!sec)
			sec = cJSON_AddObjectToObject(settings, ki->section);
		e = cJSON_AddObjectToObject(sec, ki->name);
		cJSON_AddStringToObject(e, "value", cfg->set[k].value);
		cJSON_AddStringToObject(e, "source", config_source_name(cfg->set[k].source));
		origin(cfg, k, buf, sizeof(buf));
		cJSON_AddStringToObject(e, "origin", buf);
	}
	s = cJSON_Print(o);
	cJSON_Delete(o);
	if (!s)
		return CLI_FAIL;
	puts(s);
	cJSON_free(s);
	return CLI_OK;
}

static void show_text(const struct config *cfg)
{
	char key[64], buf[4200];

	printf("%-18s %s (%s)\n", "config file", cfg->file ? cfg->file : "(none found)",
	       file_source_name(cfg->file_source));
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_key_info *ki = config_key_info(k);

		snprintf(key, sizeof(key), "%s.%s", ki->section, ki->name);
		origin(cfg, k, buf, sizeof(buf));
		printf("%-18s %s (%s: %s)\n", key, cfg->set[k].value,
		       config_source_name(cfg->set[k].source), buf);
	}
}

static int cmd_config_show(int argc, char **argv)
{
	static const char path[] = "fcvm config show";
	struct option opts[CONFIG_NKEYS + 3];
	struct config_flags flags = { 0 };
	struct config_error err;
	struct config cfg;
	bool json = false;
	int c, ret;

	opts[0] = (struct option){ "json", no_argument, NULL, OPT_JSON };
	opts[1] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	for (int k = 0; k < CONFIG_NKEYS; k++)
		opts[2 + k] = (struct option){ config_key_info(k)->flag + 2,
					       required_argument, NULL, OPT_KEY + k };
	opts[CONFIG_NKEYS + 2] = (struct option){ NULL, 0, NULL, 0 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == OPT_JSON)
			json = true;
		else if (c == OPT_CONFIG)
			flags.config_file = optarg;
		else if (c >= OPT_KEY && c < OPT_KEY + CONFIG_NKEYS)
			flags.value[c - OPT_KEY] = optarg;
		else
			return cli_bad_option(path, argc, argv);
	}
	if (optind != argc)
		return cli_usage_error(path, "unexpected argument '%s'", argv[optind]);
	ret = config_load(&flags, &cfg, &err);
	if (ret) {
		config_free(&cfg);
		if (err.msg[0] && err.source == CONFIG_SRC_FLAG)
			return cli_usage_error(path, "%s", err.msg);
		log_error("%s", err.msg[0] ? err.msg : strerror(-ret));
		return CLI_FAIL;
	}
	if (json)
		ret = show_json(&cfg);
	else
		show_text(&cfg);
	config_free(&cfg);
	return ret ? CLI_FAIL : CLI_OK;
}

const struct cli_cmd config_commands[] = {
	{ .name = "show", .args = "[--json] [--config FILE] [--data-dir DIR] [--assets-dir DIR]",
	  .summary = "print each setting, its value and where it came from",
	  .help = show_help, .run = cmd_config_show },
	{ NULL },
};
