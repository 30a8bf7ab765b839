// SPDX-License-Identifier: GPL-2.0
/*
 * util/config.c - load rootfs-config.toml and resolve fcvm's settings
 * (see config.h): the key table, the file search, validation of the file
 * against the table, and the flag > environment > file > default merge.
 */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srcdir.h"
#include "util/config.h"
#include "util/io.h"
#include "util/toml.h"

struct key_def {
	struct config_key_info info;
	/* built-in default; may use the settings resolved before this one */
	int (*fallback)(const struct config *cfg, char **out, struct config_error *err);
};

static int default_data_dir(const struct config *cfg, char **out,
			    struct config_error *err);
static int default_assets_dir(const struct config *cfg, char **out,
			      struct config_error *err);

/* Resolved in this order, so a default may depend on an earlier key. */
static const struct key_def keys[CONFIG_NKEYS] = {
	[CONFIG_DATA_DIR] = {
		{ "paths", "data_dir", "FCVM_DATA_DIR", "--data-dir",
		  "state, VMs, snapshots and assets" },
		default_data_dir,
	},
	[CONFIG_ASSETS_DIR] = {
		{ "paths", "assets_dir", "FCVM_ASSETS_DIR", "--assets-dir",
		  "content-addressed kernels, rootfs, initrd and images" },
		default_assets_dir,
	},
};

__attribute__((format(printf, 3, 4)))
static int set_error(struct config_error *err, enum config_source src,
		     const char *fmt, ...)
{
	va_list ap;

	err->source = src;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const struct config_key_info *config_key_info(enum config_key key)
{
	return key < CONFIG_NKEYS ? &keys[key].info : NULL;
}

const char *config_source_name(enum config_source src)
{
	switch (src) {
	case CONFIG_SRC_DEFAULT:
		return "default";
	case CONFIG_SRC_FILE:
		return "file";
	case CONFIG_SRC_ENV:
		return "env";
	case CONFIG_SRC_FLAG:
		return "flag";
	}
	return "?";
}

const char *config_get(const struct config *cfg, enum config_key key)
{
	return key < CONFIG_NKEYS ? cfg->set[key].value : NULL;
}

/* An environment variable, with empty meaning unset. */
static const char *env_get(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A path setting: absolute, stored without trailing slashes. */
static char *path_dup(const char *s)
{
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		len--;
	return strndup(s, len);
}

static int join(char **out, const char *dir, const char *rest)
{
	if (asprintf(out, "%s/%s", dir, rest) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static const char *home_dir(void)
{
	const char *home = env_get("HOME");
	struct passwd *pw;

	if (home && home[0] == '/')
		return home;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

/* /var/lib/fcvm for root, else $XDG_DATA_HOME/fcvm or ~/.local/share/fcvm. */
static int default_data_dir(const struct config *cfg, char **out,
			    struct config_error *err)
{
	const char *xdg = env_get("XDG_DATA_HOME"), *home;

	if (geteuid() == 0) {
		*out = strdup("/var/lib/fcvm");
		return *out ? 0 : -ENOMEM;
	}
	if (xdg && xdg[0] == '/')
		return join(out, xdg, "fcvm");
	home = home_dir();
	if (!home)
		return set_error(err, CONFIG_SRC_DEFAULT,
				 "no home directory to put the data dir in: set FCVM_DATA_DIR");
	return join(out, home, ".local/share/fcvm");
}

static int default_assets_dir(const struct config *cfg, char **out,
			      struct config_error *err)
{
	return join(out, cfg->set[CONFIG_DATA_DIR].value, "assets");
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/**
 * config_find_file() - choose the configuration file
 * @flag: the --config argument, or NULL
 * @path: set to a malloc'd path, or NULL when no file exists
 * @src:  set to CONFIG_SRC_FLAG, CONFIG_SRC_ENV or CONFIG_SRC_DEFAULT
 *
 * --config and FCVM_CONFIG name a file that must exist (it is opened later);
 * otherwise the search path is tried in order.
 *
 * Return: 0 (also when none is found) or -ENOMEM.
 */
int config_find_file(const char *flag, char **path, enum config_source *src)
{
	const char *env = env_get("FCVM_CONFIG"), *xdg, *home;
	char *cand[3] = { NULL, NULL, NULL };
	int ret = 0;

	*path = NULL;
	if (flag || env) {
		*src = flag ? CONFIG_SRC_FLAG : CONFIG_SRC_ENV;
		*path = strdup(flag ? flag : env);
		return *path ? 0 : -ENOMEM;
	}
	*src = CONFIG_SRC_DEFAULT;
	xdg = env_get("XDG_CONFIG_HOME");
	home = home_dir();
	if (xdg && xdg[0] == '/')
		ret = join(&cand[0], xdg, "fcvm/" CONFIG_FILE_NAME);
	else if (home)
		ret = join(&cand[0], home, ".config/fcvm/" CONFIG_FILE_NAME);
	cand[1] = strdup("/etc/fcvm/" CONFIG_FILE_NAME);
	cand[2] = strdup(FCVM_SRCDIR "/" CONFIG_FILE_NAME);
	if (ret || !cand[1] || !cand[2])
		ret = -ENOMEM;
	for (int i = 0; !ret && i < 3; i++) {
		if (cand[i] && is_file(cand[i])) {
			*path = cand[i];
			cand[i] = NULL;
			break;
		}
	}
	for (int i = 0; i < 3; i++)
		free(cand[i]);
	return ret;
}

static int read_file(const char *path, char **buf, size_t *len,
		     struct config_error *err)
{
	ssize_t n;

	*buf = malloc(CONFIG_MAX_SIZE + 1);
	if (!*buf)
		return -ENOMEM;
	n = io_read_file(path, *buf, CONFIG_MAX_SIZE + 1);
	if (n < 0) {
		free(*buf);
		*buf = NULL;
		if (n == -ENOMEM)
			return -ENOMEM;
		set_error(err, CONFIG_SRC_FILE, "%s: %s", path,
			  n == -EFBIG ? "larger than 1 MiB" : strerror((int)-n));
		return (int)n;
	}
	*len = (size_t)n;
	return 0;
}

static int find_key(const char *section, const char *name, size_t len)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (!strcmp(keys[k].info.section, section) &&
		    strlen(keys[k].info.name) == len && !memcmp(keys[k].info.name, name, len))
			return k;
	return -1;
}

static bool known_section(const char *name, size_t len)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (strlen(keys[k].info.section) == len && !memcmp(keys[k].info.section, name, len))
			return true;
	return false;
}

/* Checks one [section] against the key table and takes the values it sets. */
static int apply_section(struct config *cfg, const char *section,
			 const struct toml_value *tab, struct config_error *err)
{
	for (size_t i = 0; i < toml_table_len(tab); i++) {
		const char *name, *s;
		size_t len;
		const struct toml_value *v = toml_table_at(tab, i, &name, &len);
		int line, col, k = find_key(section, name, len);

		toml_key_position(tab, i, &line, &col);
		if (k < 0)
			return set_error(err, CONFIG_SRC_FILE, "%s:%d:%d: unknown key '%.*s' in [%s]",
					 cfg->file, line, col, (int)len, name, section);
		toml_position(v, &line, &col);
		if (toml_get_string(v, &s, &len))
			return set_error(err, CONFIG_SRC_FILE, "%s:%d:%d: %s.%s must be a string, not %s",
					 cfg->file, line, col, section, keys[k].info.name,
					 toml_type_name(toml_type(v)));
		if (strlen(s) != len)
			return set_error(err, CONFIG_SRC_FILE, "%s:%d:%d: %s.%s must not contain NUL",
					 cfg->file, line, col, section, keys[k].info.name);
		if (s[0] != '/')
			return set_error(err, CONFIG_SRC_FILE, "%s:%d:%d: %s.%s must be an absolute path",
					 cfg->file, line, col, section, keys[k].info.name);
		cfg->set[k].value = path_dup(s);
		if (!cfg->set[k].value)
			return -ENOMEM;
		cfg->set[k].source = CONFIG_SRC_FILE;
		cfg->set[k].line = line;
	}
	return 0;
}

/* Parses the file and takes every setting it has. */
static int apply_file(struct config *cfg, struct config_error *err)
{
	struct toml_value *root;
	struct toml_error terr;
	size_t len = 0;
	char *buf;
	int ret;

	ret = read_file(cfg->file, &buf, &len, err);
	if (ret)
		return ret;
	ret = toml_parse(buf, len, &root, &terr);
	free(buf);
	if (ret == -EINVAL)
		return set_error(err, CONFIG_SRC_FILE, "%s:%d:%d: %s", cfg->file,
				 terr.line, terr.col, terr.msg);
	if (ret)
		return ret;
	for (size_t i = 0; !ret && i < toml_table_len(root); i++) {
		const char *name;
		size_t nlen;
		const struct toml_value *v = toml_table_at(root, i, &name, &nlen);
		int line, col;

		toml_key_position(root, i, &line, &col);
		if (toml_type(v) != TOML_TABLE || !known_section(name, nlen))
			ret = set_error(err, CONFIG_SRC_FILE, toml_type(v) == TOML_TABLE ?
					"%s:%d:%d: unknown section [%.*s]" :
					"%s:%d:%d: key '%.*s' must be in a section such as [paths]",
					cfg->file, line, col, (int)nlen, name);
		else
			ret = apply_section(cfg, name, v, err);
	}
	toml_free(root);
	return ret;
}

/* Environment and flags override the file; then defaults fill the rest. */
static int apply_overrides(struct config *cfg, const struct config_flags *flags,
			   struct config_error *err)
{
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_key_info *ki = &keys[k].info;
		const char *env = env_get(ki->env), *flag = flags ? flags->value[k] : NULL;
		const char *v = flag ? flag : env;
		enum config_source src = flag ? CONFIG_SRC_FLAG : CONFIG_SRC_ENV;
		int ret;

		if (v) {
			if (v[0] != '/')
				return set_error(err, src, "%s must be an absolute path, not '%s'",
						 flag ? ki->flag : ki->env, v);
			free(cfg->set[k].value);
			cfg->set[k].value = path_dup(v);
			if (!cfg->set[k].value)
				return -ENOMEM;
			cfg->set[k].source = src;
			cfg->set[k].line = 0;
		} else if (!cfg->set[k].value) {
			ret = keys[k].fallback(cfg, &cfg->set[k].value, err);
			if (ret)
				return ret;
			cfg->set[k].source = CONFIG_SRC_DEFAULT;
		}
	}
	return 0;
}

/**
 * config_load() - find and read rootfs-config.toml and resolve every setting
 * @flags: --config and per-key flag values; NULL for none
 * @cfg:   filled in; release with config_free() (also after a failure)
 * @err:   on -EINVAL or a file that cannot be read, a complete message
 *
 * Return: 0; -EINVAL for a bad file or value; -errno when the chosen file
 * cannot be read (-ENOENT: --config or FCVM_CONFIG names a missing file);
 * -ENOMEM.
 */
int config_load(const struct config_flags *flags, struct config *cfg,
		struct config_error *err)
{
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	memset(err, 0, sizeof(*err));
	ret = config_find_file(flags ? flags->config_file : NULL, &cfg->file,
			       &cfg->file_source);
	if (ret)
		return ret;
	if (cfg->file) {
		ret = apply_file(cfg, err);
		if (ret)
			return ret;
	}
	return apply_overrides(cfg, flags, err);
}

void config_free(struct config *cfg)
{
	free(cfg->file);
	cfg->file = NULL;
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		free(cfg->set[k].value);
		cfg->set[k].value = NULL;
	}
}
