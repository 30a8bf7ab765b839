// SPDX-License-Identifier: GPL-2.0
/*
 * util/toml_emit.c - serializers for a parsed TOML tree (see toml.h).
 *
 * toml_to_json() writes canonical compact JSON: tables are objects in
 * document order, arrays are arrays, integers are numbers, booleans are
 * true/false, and strings are escaped exactly like Python's
 * json.dumps(..., ensure_ascii=True, separators=(",", ":")), so the output
 * can be compared byte for byte with what tomllib + json produce.
 * toml_to_toml() writes the tree back as TOML (every table inline), which
 * parses to an equal tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>

#include "util/toml.h"

/* Decodes one code point of (valid) UTF-8 at s; returns its byte length. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n = s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;

	if (n > len)
		n = len;
	*cp = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++)
		*cp = *cp << 6 | (s[i] & 0x3f);
	return n;
}

static void json_string(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		uint32_t cp;

		switch (s[i]) {
		case '"':  fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\b': fputs("\\b", f); i++; continue;
		case '\f': fputs("\\f", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		default:
			break;
		}
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			fputc(s[i++], f);
			continue;
		}
		i += utf8_decode(s + i, len - i, &cp);
		if (cp >= 0x10000) {
			cp -= 0x10000;
			fprintf(f, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
		} else {
			fprintf(f, "\\u%04x", cp);
		}
	}
	fputc('"', f);
}

static void json_value(FILE *f, const struct toml_value *v)
{
	const char *s;
	size_t len;
	int64_t i;
	bool b;

	switch (toml_type(v)) {
	case TOML_TABLE:
		fputc('{', f);
		for (size_t k = 0; k < toml_table_len(v); k++) {
			const struct toml_value *e = toml_table_at(v, k, &s, &len);

			if (k)
				fputc(',', f);
			json_string(f, s, len);
			fputc(':', f);
			json_value(f, e);
		}
		fputc('}', f);
		break;
	case TOML_ARRAY:
		fputc('[', f);
		for (size_t k = 0; k < toml_array_len(v); k++) {
			if (k)
				fputc(',', f);
			json_value(f, toml_array_at(v, k));
		}
		fputc(']', f);
		break;
	case TOML_STRING:
		toml_get_string(v, &s, &len);
		json_string(f, s, len);
		break;
	case TOML_INTEGER:
		toml_get_int(v, &i);
		fprintf(f, "%" PRId64, i);
		break;
	case TOML_BOOLEAN:
		toml_get_bool(v, &b);
		fputs(b ? "true" : "false", f);
		break;
	}
}

/* A TOML basic string: control characters, '"' and '\' escaped. */
static void toml_string(FILE *f, const char *str, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)str[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04X", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void toml_value_out(FILE *f, const struct toml_value *v)
{
	const char *s;
	size_t len;
	int64_t i;
	bool b;

	switch (toml_type(v)) {
	case TOML_TABLE:
		fputc('{', f);
		for (size_t k = 0; k < toml_table_len(v); k++) {
			const struct toml_value *e = toml_table_at(v, k, &s, &len);

			fputs(k ? ", " : " ", f);
			toml_string(f, s, len);
			fputs(" = ", f);
			toml_value_out(f, e);
		}
		fputs(toml_table_len(v) ? " }" : "}", f);
		break;
	case TOML_ARRAY:
		fputc('[', f);
		for (size_t k = 0; k < toml_array_len(v); k++) {
			if (k)
				fputs(", ", f);
			toml_value_out(f, toml_array_at(v, k));
		}
		fputc(']', f);
		break;
	case TOML_STRING:
		toml_get_string(v, &s, &len);
		toml_string(f, s, len);
		break;
	case TOML_INTEGER:
		toml_get_int(v, &i);
		fprintf(f, "%" PRId64, i);
		break;
	case TOML_BOOLEAN:
		toml_get_bool(v, &b);
		fputs(b ? "true" : "false", f);
		break;
	}
}

/* Closes an open_memstream() stream; fclose() finalizes *buf and *len. */
static char *finish(FILE *f, char **buf, size_t *len, size_t *outlen)
{
	bool bad = ferror(f);

	if (fclose(f) || bad) {
		free(*buf);
		return NULL;
	}
	if (outlen)
		*outlen = *len;
	return *buf;
}

/**
 * toml_to_json() - canonical JSON for a value (see the file comment)
 * @v:   any value, usually the root table
 * @len: set to the length without the terminating NUL, may be NULL
 *
 * Return: a malloc'd NUL-terminated string, or NULL when out of memory.
 */
char *toml_to_json(const struct toml_value *v, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	json_value(f, v);
	return finish(f, &buf, &n, len);
}

/**
 * toml_to_toml() - a TOML document that parses to a tree equal to @root
 * @root: a table
 * @len:  set to the length without the terminating NUL, may be NULL
 *
 * Return: a malloc'd NUL-terminated string, or NULL when out of memory.
 */
char *toml_to_toml(const struct toml_value *root, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	for (size_t k = 0; k < toml_table_len(root); k++) {
		const char *key;
		size_t keylen;
		const struct toml_value *e = toml_table_at(root, k, &key, &keylen);

		toml_string(f, key, keylen);
		fputs(" = ", f);
		toml_value_out(f, e);
		fputc('\n', f);
	}
	return finish(f, &buf, &n, len);
}
