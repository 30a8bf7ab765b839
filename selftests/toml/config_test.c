// SPDX-License-Identifier: GPL-2.0
/*
 * config_test.c - util/config: the file search order, validation of
 * rootfs-config.toml against the key table, the precedence
 * flag > FCVM_* environment > file > default, and the built-in defaults for
 * root and for other users. Every test runs with a private environment and
 * a temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "srcdir.h"
#include "util/config.h"

FIXTURE(cfg) {
	char dir[64];
	char file[128];
	struct config c;
	struct config_error err;
};

static void write_file(struct __test_metadata *_metadata, const char *path,
		       const char *text)
{
	FILE *f = fopen(path, "we");

	ASSERT_NE(NULL, f);
	fputs(text, f);
	ASSERT_EQ(0, fclose(f));
}

FIXTURE_SETUP(cfg)
{
	char p[256];

	strcpy(self->dir, "/tmp/fcvm-config-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->file, sizeof(self->file), "%s/test.toml", self->dir);
	unsetenv("FCVM_CONFIG");
	unsetenv("FCVM_DATA_DIR");
	unsetenv("FCVM_ASSETS_DIR");
	snprintf(p, sizeof(p), "%s/xdgconfig", self->dir);
	setenv("XDG_CONFIG_HOME", p, 1);
	snprintf(p, sizeof(p), "%s/xdgdata", self->dir);
	setenv("XDG_DATA_HOME", p, 1);
	snprintf(p, sizeof(p), "%s/home", self->dir);
	setenv("HOME", p, 1);
}

FIXTURE_TEARDOWN(cfg)
{
	char cmd[128];

	config_free(&self->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", self->dir);
	if (system(cmd) != 0)
		TH_LOG("could not remove %s", self->dir);
}

static int load(FIXTURE_DATA(cfg) *self, const struct config_flags *flags)
{
	config_free(&self->c);
	return config_load(flags, &self->c, &self->err);
}

TEST_F(cfg, file_then_env_then_flag)
{
	struct config_flags flags = { 0 };

	write_file(_metadata, self->file, "# comment\n[paths]\ndata_dir = \"/from/file/\"\n");
	setenv("FCVM_CONFIG", self->file, 1);
	ASSERT_EQ(0, load(self, NULL));
	EXPECT_STREQ(self->file, self->c.file);
	EXPECT_EQ(CONFIG_SRC_ENV, self->c.file_source);
	EXPECT_STREQ("/from/file", config_get(&self->c, CONFIG_DATA_DIR));
	EXPECT_EQ(CONFIG_SRC_FILE, self->c.set[CONFIG_DATA_DIR].source);
	EXPECT_EQ(3, self->c.set[CONFIG_DATA_DIR].line);
	/* the assets default follows data_dir wherever it came from */
	EXPECT_STREQ("/from/file/assets", config_get(&self->c, CONFIG_ASSETS_DIR));
	EXPECT_EQ(CONFIG_SRC_DEFAULT, self->c.set[CONFIG_ASSETS_DIR].source);

	setenv("FCVM_DATA_DIR", "/from/env", 1);
	ASSERT_EQ(0, load(self, NULL));
	EXPECT_STREQ("/from/env", config_get(&self->c, CONFIG_DATA_DIR));
	EXPECT_EQ(CONFIG_SRC_ENV, self->c.set[CONFIG_DATA_DIR].source);
	EXPECT_STREQ("/from/env/assets", config_get(&self->c, CONFIG_ASSETS_DIR));

	flags.value[CONFIG_DATA_DIR] = "/from/flag";
	ASSERT_EQ(0, load(self, &flags));
	EXPECT_STREQ("/from/flag", config_get(&self->c, CONFIG_DATA_DIR));
	EXPECT_EQ(CONFIG_SRC_FLAG, self->c.set[CONFIG_DATA_DIR].source);

	/* an empty environment value counts as unset */
	setenv("FCVM_DATA_DIR", "", 1);
	ASSERT_EQ(0, load(self, NULL));
	EXPECT_EQ(CONFIG_SRC_FILE, self->c.set[CONFIG_DATA_DIR].source);
}

TEST_F(cfg, each_key_has_its_own_precedence)
{
	struct config_flags flags = { 0 };

	write_file(_metadata, self->file,
		   "[paths]\nassets_dir = \"/file/assets\"\ndata_dir = \"/file/data\"\n");
	flags.config_file = self->file;
	setenv("FCVM_ASSETS_DIR", "/env/assets", 1);
	ASSERT_EQ(0, load(self, &flags));
	EXPECT_EQ(CONFIG_SRC_FLAG, self->c.file_source);
	EXPECT_STREQ("/file/data", config_get(&self->c, CONFIG_DATA_DIR));
	EXPECT_EQ(3, self->c.set[CONFIG_DATA_DIR].line);
	EXPECT_STREQ("/env/assets", config_get(&self->c, CONFIG_ASSETS_DIR));
	EXPECT_EQ(CONFIG_SRC_ENV, self->c.set[CONFIG_ASSETS_DIR].source);
	flags.value[CONFIG_ASSETS_DIR] = "/flag/assets";
	ASSERT_EQ(0, load(self, &flags));
	EXPECT_STREQ("/flag/assets", config_get(&self->c, CONFIG_ASSETS_DIR));
	EXPECT_EQ(CONFIG_SRC_FLAG, self->c.set[CONFIG_ASSETS_DIR].source);
}

/* Loads @text and expects -EINVAL with a message containing @want. */
static void expect_bad(struct __test_metadata *_metadata,
		       FIXTURE_DATA(cfg) *self, const char *text, const char *want)
{
	char full[512];
	struct config_flags flags = { .config_file = self->file };

	write_file(_metadata, self->file, text);
	snprintf(full, sizeof(full), "%s:%s", self->file, want);
	ASSERT_EQ(-EINVAL, load(self, &flags));
	EXPECT_EQ(CONFIG_SRC_FILE, self->err.source);
	if (!strstr(self->err.msg, full))
		TH_LOG("got: %s", self->err.msg);
	EXPECT_NE(NULL, strstr(self->err.msg, full));
}

TEST_F(cfg, bad_files_name_file_line_and_column)
{
	expect_bad(_metadata, self, "[paths]\ndata_dir = \"/x\"\nbogus = \"/y\"\n",
		   "3:1: unknown key 'bogus' in [paths]");
	expect_bad(_metadata, self, "[paths]\n[kernal]\nx = 1\n",
		   "2:2: unknown section [kernal]");
	expect_bad(_metadata, self, "data_dir = \"/x\"\n",
		   "1:1: key 'data_dir' must be in a section such as [paths]");
	expect_bad(_metadata, self, "[paths]\ndata_dir = 5\n",
		   "2:12: paths.data_dir must be a string, not integer");
	expect_bad(_metadata, self, "[paths]\nassets_dir = \"rel/dir\"\n",
		   "2:14: paths.assets_dir must be an absolute path");
	expect_bad(_metadata, self, "[paths]\ndata_dir = \"\"\n",
		   "2:12: paths.data_dir must be an absolute path");
	expect_bad(_metadata, self, "[paths]\ndata_dir = \"/x\"\ndata_dir = \"/y\"\n",
		   "3:1: duplicate key 'data_dir'");
	expect_bad(_metadata, self, "[paths]\ndata_dir = 1.5\n",
		   "2:12: unsupported value: floats");
	expect_bad(_metadata, self, "[paths.sub]\n", "1:8: unknown key 'sub' in [paths]");
}

TEST_F(cfg, bad_override_values)
{
	struct config_flags flags = { 0 };

	setenv("FCVM_DATA_DIR", "relative", 1);
	ASSERT_EQ(-EINVAL, load(self, NULL));
	EXPECT_EQ(CONFIG_SRC_ENV, self->err.source);
	EXPECT_NE(NULL, strstr(self->err.msg, "FCVM_DATA_DIR must be an absolute path"));
	unsetenv("FCVM_DATA_DIR");
	flags.value[CONFIG_ASSETS_DIR] = "./a";
	ASSERT_EQ(-EINVAL, load(self, &flags));
	EXPECT_EQ(CONFIG_SRC_FLAG, self->err.source);
	EXPECT_NE(NULL, strstr(self->err.msg, "--assets-dir must be an absolute path"));
}

TEST_F(cfg, named_file_must_exist)
{
	struct config_flags flags = { .config_file = "/nonexistent/fcvm.toml" };

	ASSERT_EQ(-ENOENT, load(self, &flags));
	EXPECT_NE(NULL, strstr(self->err.msg, "/nonexistent/fcvm.toml"));
	setenv("FCVM_CONFIG", "/nonexistent/env.toml", 1);
	ASSERT_EQ(-ENOENT, load(self, NULL));
	EXPECT_NE(NULL, strstr(self->err.msg, "/nonexistent/env.toml"));
	/* the flag wins over the environment */
	write_file(_metadata, self->file, "[paths]\n");
	flags.config_file = self->file;
	ASSERT_EQ(0, load(self, &flags));
	EXPECT_STREQ(self->file, self->c.file);
}

TEST_F(cfg, search_order)
{
	char xdg_file[512], p[256];
	enum config_source src;
	char *path;

	/* nothing in XDG_CONFIG_HOME: /etc/fcvm, else the source tree */
	ASSERT_EQ(0, config_find_file(NULL, &path, &src));
	EXPECT_EQ(CONFIG_SRC_DEFAULT, src);
	if (access("/etc/fcvm/rootfs-config.toml", F_OK) == 0) {
		EXPECT_STREQ("/etc/fcvm/rootfs-config.toml", path);
	} else {
		EXPECT_STREQ(FCVM_SRCDIR "/rootfs-config.toml", path);
	}
	free(path);

	snprintf(p, sizeof(p), "%s/xdgconfig", self->dir);
	ASSERT_EQ(0, mkdir(p, 0700));
	snprintf(p, sizeof(p), "%s/xdgconfig/fcvm", self->dir);
	ASSERT_EQ(0, mkdir(p, 0700));
	snprintf(xdg_file, sizeof(xdg_file), "%s/rootfs-config.toml", p);
	write_file(_metadata, xdg_file, "[paths]\ndata_dir = \"/xdg\"\n");
	ASSERT_EQ(0, load(self, NULL));
	EXPECT_STREQ(xdg_file, self->c.file);
	EXPECT_EQ(CONFIG_SRC_DEFAULT, self->c.file_source);
	EXPECT_STREQ("/xdg", config_get(&self->c, CONFIG_DATA_DIR));

	/* without XDG_CONFIG_HOME: ~/.config/fcvm/ */
	unsetenv("XDG_CONFIG_HOME");
	snprintf(p, sizeof(p), "%s/home", self->dir);
	ASSERT_EQ(0, mkdir(p, 0700));
	snprintf(p, sizeof(p), "%s/home/.config", self->dir);
	ASSERT_EQ(0, mkdir(p, 0700));
	snprintf(p, sizeof(p), "%s/home/.config/fcvm", self->dir);
	ASSERT_EQ(0, mkdir(p, 0700));
	snprintf(xdg_file, sizeof(xdg_file), "%s/rootfs-config.toml", p);
	write_file(_metadata, xdg_file, "[paths]\n");
	ASSERT_EQ(0, config_find_file(NULL, &path, &src));
	EXPECT_STREQ(xdg_file, path);
	free(path);

	/* FCVM_CONFIG and --config bypass the search */
	setenv("FCVM_CONFIG", self->file, 1);
	ASSERT_EQ(0, config_find_file(NULL, &path, &src));
	EXPECT_STREQ(self->file, path);
	EXPECT_EQ(CONFIG_SRC_ENV, src);
	free(path);
	ASSERT_EQ(0, config_find_file("/f.toml", &path, &src));
	EXPECT_STREQ("/f.toml", path);
	EXPECT_EQ(CONFIG_SRC_FLAG, src);
	free(path);
}

/*
 * The data-dir default depends on the effective uid. Resolve it in a child
 * that is root (a user namespace if we are not) or not root (nobody if we
 * are), and read the result through a pipe.
 */
static int default_data_dir_as(bool root, char *out, size_t size)
{
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct config c;
		struct config_error err;
		char map[64];
		int fd;

		if (root && geteuid() != 0) {
			snprintf(map, sizeof(map), "0 %d 1", (int)geteuid());
			fd = -1;
			if (unshare(CLONE_NEWUSER) == 0)
				fd = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, map, strlen(map)) < 0)
				_exit(4);
			close(fd);
		} else if (!root && geteuid() == 0) {
			if (setresuid(65534, 65534, 65534))
				_exit(3);
		}
		if (config_load(NULL, &c, &err))
			_exit(2);
		if (write(fds[1], c.set[CONFIG_DATA_DIR].value,
			  strlen(c.set[CONFIG_DATA_DIR].value)) < 0)
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], out, size - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -ECHILD;
	return WEXITSTATUS(status);
}

TEST_F(cfg, default_data_dir_for_root)
{
	char got[256];
	int ret = default_data_dir_as(true, got, sizeof(got));

	if (ret == 4)
		SKIP(return, "not root and user namespaces are disabled: cannot become uid 0");
	ASSERT_EQ(0, ret);
	EXPECT_STREQ("/var/lib/fcvm", got);
}

TEST_F(cfg, default_data_dir_for_users)
{
	char got[256], want[256];

	ASSERT_EQ(0, default_data_dir_as(false, got, sizeof(got)));
	snprintf(want, sizeof(want), "%s/xdgdata/fcvm", self->dir);
	EXPECT_STREQ(want, got);
	/* XDG_DATA_HOME unset or relative: ~/.local/share/fcvm */
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	ASSERT_EQ(0, default_data_dir_as(false, got, sizeof(got)));
	snprintf(want, sizeof(want), "%s/home/.local/share/fcvm", self->dir);
	EXPECT_STREQ(want, got);
	unsetenv("XDG_DATA_HOME");
	ASSERT_EQ(0, default_data_dir_as(false, got, sizeof(got)));
	EXPECT_STREQ(want, got);
}

TEST_HARNESS_MAIN
