/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util/config.h - fcvm's settings: rootfs-config.toml plus overrides.
 *
 * Every setting has a key in a section of rootfs-config.toml, an FCVM_*
 * environment variable and a command-line flag. config_load() resolves each
 * with the precedence  flag > environment > file > built-in default  and
 * records where the value came from. The file is found by --config, then
 * FCVM_CONFIG, then the first that exists of
 * $XDG_CONFIG_HOME/fcvm/rootfs-config.toml (~/.config/... if unset),
 * /etc/fcvm/rootfs-config.toml and the source tree's rootfs-config.toml.
 * Unknown sections or keys, wrong types and bad values are errors.
 *
 * Adding a setting: one enum config_key value and one row in the key table
 * in config.c (section, name, environment variable, flag, kind, default).
 */
#ifndef FCVM_UTIL_CONFIG_H
#define FCVM_UTIL_CONFIG_H

#include <stddef.h>

#define CONFIG_FILE_NAME "rootfs-config.toml"
/* rootfs-config.toml is read whole; larger files are refused. */
#define CONFIG_MAX_SIZE (1 << 20)

enum config_key {
	CONFIG_DATA_DIR,
	CONFIG_ASSETS_DIR,
	CONFIG_NKEYS,
};

enum config_source {
	CONFIG_SRC_DEFAULT,	/* built in (for the file: found by searching) */
	CONFIG_SRC_FILE,
	CONFIG_SRC_ENV,
	CONFIG_SRC_FLAG,
};

struct config_key_info {
	const char *section;	/* table in rootfs-config.toml, e.g. "paths" */
	const char *name;	/* key in that table, e.g. "data_dir" */
	const char *env;	/* environment override, e.g. "FCVM_DATA_DIR" */
	const char *flag;	/* command-line flag, e.g. "--data-dir" */
	const char *help;	/* one line */
};

/**
 * struct config_setting - one resolved setting
 * @value:  the value (a path for the [paths] keys)
 * @source: where it came from
 * @line:   for CONFIG_SRC_FILE, the line in the file
 */
struct config_setting {
	char *value;
	enum config_source source;
	int line;
};

/**
 * struct config - the resolved settings
 * @file:        the configuration file that was read, NULL if none exists
 * @file_source: how it was chosen: CONFIG_SRC_FLAG (--config), _ENV
 *               (FCVM_CONFIG) or _DEFAULT (the search path)
 * @set:         the settings, indexed by enum config_key
 */
struct config {
	char *file;
	enum config_source file_source;
	struct config_setting set[CONFIG_NKEYS];
};

/* Command-line input: --config and one value per key (NULL: not given). */
struct config_flags {
	const char *config_file;
	const char *value[CONFIG_NKEYS];
};

/* Why config_load() failed: a complete message ("FILE:LINE:COL: ..." for a
 * problem in the file) and which input was at fault. */
struct config_error {
	enum config_source source;
	char msg[512];
};

int config_load(const struct config_flags *flags, struct config *cfg,
		struct config_error *err);
void config_free(struct config *cfg);
const char *config_get(const struct config *cfg, enum config_key key);

const struct config_key_info *config_key_info(enum config_key key);
const char *config_source_name(enum config_source src);
int config_find_file(const char *flag, char **path, enum config_source *src);

#endif /* FCVM_UTIL_CONFIG_H */
