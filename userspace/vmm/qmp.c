// SPDX-License-Identifier: GPL-2.0
/*
 * vmm/qmp.c - QMP client over a connected Unix socket. QEMU sends one JSON
 * object per line; replies ("return"/"error") and asynchronous events may
 * interleave, so every read goes through one line parser that records the
 * events we care about (SHUTDOWN and its reason).
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/io.h"
#include "vmm/qmp.h"

enum qmp_kind { QMP_NONE, QMP_GREETING, QMP_RETURN, QMP_ERROR, QMP_EVENT };

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum qmp_kind handle_line(struct qmp *q, const char *line)
{
	cJSON *j = cJSON_Parse(line), *ev, *data, *reason;
	enum qmp_kind kind = QMP_NONE;

	if (!j)
		return QMP_NONE;
	if (cJSON_GetObjectItemCaseSensitive(j, "QMP")) {
		kind = QMP_GREETING;
	} else if (cJSON_GetObjectItemCaseSensitive(j, "return")) {
		kind = QMP_RETURN;
	} else if (cJSON_GetObjectItemCaseSensitive(j, "error")) {
		kind = QMP_ERROR;
	} else if ((ev = cJSON_GetObjectItemCaseSensitive(j, "event")) &&
		   cJSON_IsString(ev)) {
		kind = QMP_EVENT;
		if (!strcmp(ev->valuestring, "SHUTDOWN")) {
			q->shutdown_seen = true;
			data = cJSON_GetObjectItemCaseSensitive(j, "data");
			reason = cJSON_GetObjectItemCaseSensitive(data, "reason");
			if (cJSON_IsString(reason))
				snprintf(q->shutdown_reason,
					 sizeof(q->shutdown_reason), "%s",
					 reason->valuestring);
		}
	}
	cJSON_Delete(j);
	return kind;
}

/*
 * Read what is available (waiting up to @timeout_ms for something) and
 * handle complete lines; stop at the first line of a kind in @want_mask.
 */
static int pump(struct qmp *q, int timeout_ms, unsigned int want_mask,
		enum qmp_kind *got)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd p = { .fd = q->fd, .events = POLLIN };
		ssize_t n;
		int r;

		while (nl) {
			enum qmp_kind k;
			size_t used = (size_t)(nl - q->buf) + 1;

			*nl = '\0';
			k = handle_line(q, q->buf);
			memmove(q->buf, q->buf + used, q->len - used);
			q->len -= used;
			if (want_mask & (1u << k)) {
				*got = k;
				return 0;
			}
			nl = memchr(q->buf, '\n', q->len);
		}
		if (q->len >= sizeof(q->buf) - 1)
			return -EPROTO;	/* a line longer than we accept */
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = read(q->fd, q->buf + q->len, sizeof(q->buf) - 1 - q->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		q->len += (size_t)n;
		if (!want_mask)
			timeout_ms = 0;	/* only drain what is there */
	}
}

/**
 * qmp_open() - take over a connected QMP socket and leave negotiation mode
 * @q: client state
 * @fd: connected socket (owned by @q from now on)
 * @timeout_ms: deadline for greeting plus qmp_capabilities
 *
 * Return: 0 or -errno.
 */
int qmp_open(struct qmp *q, int fd, int timeout_ms)
{
	enum qmp_kind k;
	int err;

	memset(q, 0, offsetof(struct qmp, buf));
	q->fd = fd;
	err = pump(q, timeout_ms, 1u << QMP_GREETING, &k);
	if (err)
		return err;
	return qmp_command(q, "qmp_capabilities", timeout_ms);
}

/**
 * qmp_command() - run a command without arguments and wait for its answer
 * @q: client
 * @execute: command name (a fixed string, never guest data)
 * @timeout_ms: deadline
 *
 * Return: 0 on "return", -EREMOTEIO on "error", other -errno.
 */
int qmp_command(struct qmp *q, const char *execute, int timeout_ms)
{
	char line[128];
	enum qmp_kind k;
	long long deadline = now_ms() + timeout_ms;
	int n, err;

	n = snprintf(line, sizeof(line), "{\"execute\":\"%s\"}\n", execute);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	err = io_write_full(q->fd, line, (size_t)n);
	if (err)
		return err;
	err = pump(q, (int)(deadline - now_ms() > 0 ? deadline - now_ms() : 0),
		   (1u << QMP_RETURN) | (1u << QMP_ERROR), &k);
	if (err)
		return err;
	return k == QMP_RETURN ? 0 : -EREMOTEIO;
}

/* Handle whatever events are waiting, without blocking. */
int qmp_read_events(struct qmp *q)
{
	enum qmp_kind k;
	int err = pump(q, 0, 0, &k);

	return err == -ETIMEDOUT ? 0 : err;
}

void qmp_close(struct qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}
