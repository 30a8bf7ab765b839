// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/nat_nft.c - the nftables fallback of the bridged NAT: one table
 * per VM ("ip fcvm_<id>") with DNAT in prerouting (forwarded clients) and
 * output (local clients); conntrack reverses replies and getpeername()
 * naturally shows the published address. Applied with `nft -f -`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#include "portfwd/nat.h"
#include "util/io.h"

/* The table of a VM: "fcvm_" + the id with non-alphanumerics as '_'. */
int nat_nft_table(const char *id, char *buf, size_t len)
{
	size_t n = strlen(id);

	if (n + 6 > len)
		return -ENAMETOOLONG;
	memcpy(buf, "fcvm_", 5);
	for (size_t i = 0; i <= n; i++) {
		char c = id[i];

		buf[5 + i] = (c == '\0' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9')) ? c : '_';
	}
	return 0;
}

/* Runs `nft -f -` with @script on stdin; output to our stderr. */
static int run_nft(const char *script)
{
	int p[2], status, err;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(p[0], 0);
		execlp("nft", "nft", "-f", "-", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	err = io_write_full(p[1], script, strlen(script));
	close(p[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (err)
		return err;
	if (!WIFEXITED(status))
		return -EINTR;
	if (WEXITSTATUS(status) == 127)
		return -ENOENT;
	return WEXITSTATUS(status) ? -EIO : 0;
}

static int append(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *off)
		return -ENOSPC;
	*off += (size_t)n;
	return 0;
}

static int rules_text(char *buf, size_t len, size_t *off, const struct nat_rule *rules,
		      size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++) {
		char pub[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];
		const char *proto = rules[i].proto == IPPROTO_UDP ? "udp" : "tcp";

		inet_ntop(AF_INET, &rules[i].pub, pub, sizeof(pub));
		inet_ntop(AF_INET, &rules[i].guest, guest, sizeof(guest));
		err = append(buf, len, off, "\t\tip daddr %s %s dport %u dnat to %s:%u\n", pub,
			     proto, rules[i].pub_port, guest, rules[i].guest_port);
	}
	return err;
}

/**
 * nat_nft_open() - create the VM's DNAT table
 * @table: from nat_nft_table()
 * @rules: the published ports
 * @n:     how many
 *
 * Return: 0, -ENOENT (no nft binary), -EIO (nft refused), -errno.
 */
int nat_nft_open(const char *table, const struct nat_rule *rules, size_t n)
{
	size_t len = 512 + n * 256, off = 0;
	char *s = malloc(len);
	int err;

	if (!s)
		return -ENOMEM;
	err = append(s, len, &off, "table ip %s {\n"
		     "\tchain pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n",
		     table) ?:
	      rules_text(s, len, &off, rules, n) ?:
	      append(s, len, &off, "\t}\n\tchain out {\n"
		     "\t\ttype nat hook output priority -100; policy accept;\n") ?:
	      rules_text(s, len, &off, rules, n) ?:
	      append(s, len, &off, "\t}\n}\n");
	if (!err)
		err = run_nft(s);
	free(s);
	return err;
}

/* Deletes the table; 0 also if it was already gone. */
int nat_nft_delete(const char *table)
{
	char s[128];

	/* "destroy" needs nft >= 1.0.8; add-then-delete works everywhere. */
	snprintf(s, sizeof(s), "add table ip %s\ndelete table ip %s\n", table, table);
	return run_nft(s);
}
