// SPDX-License-Identifier: GPL-2.0
/*
 * toml2json.c - test helper: parse a TOML file with util/toml and print the
 * document as canonical JSON (toml_to_json) on stdout.
 *
 * usage: toml2json FILE      ("-" reads stdin)
 * Exit 0 with the JSON; 1 with "FILE:line:col: message" on stderr when the
 * parser rejects the document; 2 for usage or I/O errors; 3 when the
 * document does not survive a round trip through toml_to_toml() (a bug).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/toml.h"

static char *slurp(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				free(buf);
			buf = nb;
			cap *= 2;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static int roundtrip_ok(const struct toml_value *root)
{
	struct toml_value *again;
	struct toml_error err;
	size_t len;
	char *doc = toml_to_toml(root, &len);
	int ok;

	if (!doc)
		return 0;
	ok = toml_parse(doc, len, &again, &err) == 0;
	if (!ok)
		fprintf(stderr, "round trip: %d:%d: %s\n%s", err.line, err.col, err.msg, doc);
	ok = ok && toml_equal(root, again);
	toml_free(again);
	free(doc);
	return ok;
}

int main(int argc, char **argv)
{
	struct toml_value *root;
	struct toml_error err;
	size_t len, jlen;
	char *buf, *json;
	FILE *f;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: toml2json FILE\n");
		return 2;
	}
	f = strcmp(argv[1], "-") ? fopen(argv[1], "rbe") : stdin;
	if (!f) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	buf = slurp(f, &len);
	if (f != stdin)
		fclose(f);
	if (!buf) {
		fprintf(stderr, "%s: read failed\n", argv[1]);
		return 2;
	}
	ret = toml_parse(buf, len, &root, &err);
	free(buf);
	if (ret) {
		fprintf(stderr, "%s:%d:%d: %s\n", argv[1], err.line, err.col, err.msg);
		return 1;
	}
	json = toml_to_json(root, &jlen);
	ret = json ? 0 : 2;
	if (json)
		printf("%s\n", json);
	if (!ret && !roundtrip_ok(root))
		ret = 3;
	free(json);
	toml_free(root);
	return ret;
}
