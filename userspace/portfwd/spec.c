// SPDX-License-Identifier: GPL-2.0
/*
 * portfwd/spec.c - parse `[IP:]HOST:GUEST[/tcp|/udp]` (IPv4 addresses).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "portfwd/spec.h"

static int parse_port(const char *s, size_t len, bool zero_ok, uint16_t *out)
{
	unsigned int v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(s[i] - '0');
	}
	if (v > 65535 || (!zero_ok && v == 0))
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/**
 * portfwd_parse_spec() - parse one published port
 * @s:   e.g. "8080:80", "127.0.0.1:8080:80", "5353:53/udp"
 * @out: the result
 *
 * Return: 0 or -EINVAL.
 */
int portfwd_parse_spec(const char *s, struct portfwd_spec *out)
{
	char buf[64], *slash, *last, *mid;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	out->proto = IPPROTO_TCP;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcmp(slash, "udp"))
			out->proto = IPPROTO_UDP;
		else if (strcmp(slash, "tcp"))
			return -EINVAL;
	}
	last = strrchr(buf, ':');
	if (!last)
		return -EINVAL;
	*last++ = '\0';
	if (parse_port(last, strlen(last), false, &out->guest_port))
		return -EINVAL;
	mid = strrchr(buf, ':');
	if (mid) {
		*mid++ = '\0';
		if (inet_pton(AF_INET, buf, &out->ip) != 1)
			return -EINVAL;
		out->has_ip = true;
	} else {
		mid = buf;
	}
	return parse_port(mid, strlen(mid), true, &out->host_port);
}
