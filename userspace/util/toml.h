/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util/toml.h - a small, strict TOML 1.0 parser for fcvm's configuration.
 *
 * Supported: tables, arrays of tables, dotted and quoted keys, basic and
 * literal strings (single- and multi-line, every TOML escape), integers
 * (decimal with sign and '_', hexadecimal, octal, binary; 64-bit signed,
 * overflow is an error), booleans, arrays (nested, mixed types), inline
 * tables and comments, with every redefinition rule of the specification.
 * Floats and date-times are rejected with an "unsupported" error rather
 * than misparsed. The document must be valid UTF-8 without NUL bytes.
 *
 * A parsed document is a tree of struct toml_value owned by its root; free
 * it with toml_free(). Table keys keep document order. Pointers returned by
 * the getters stay valid until the root is freed.
 */
#ifndef FCVM_UTIL_TOML_H
#define FCVM_UTIL_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Tables and arrays nest at most this deep (the root table is depth 0). */
#define TOML_MAX_DEPTH 128

enum toml_type {
	TOML_TABLE = 1,
	TOML_ARRAY,
	TOML_STRING,
	TOML_INTEGER,
	TOML_BOOLEAN,
};

/**
 * struct toml_error - where and why a parse failed
 * @line: 1-based line of the offending character (0: no position, e.g. ENOMEM)
 * @col:  1-based column, counted in characters (code points)
 * @msg:  what is wrong, without the position
 */
struct toml_error {
	int line;
	int col;
	char msg[192];
};

struct toml_value;

int toml_parse(const char *buf, size_t len, struct toml_value **root,
	       struct toml_error *err);
void toml_free(struct toml_value *root);

enum toml_type toml_type(const struct toml_value *v);
const char *toml_type_name(enum toml_type type);
void toml_position(const struct toml_value *v, int *line, int *col);
void toml_key_position(const struct toml_value *table, size_t i, int *line,
		       int *col);

size_t toml_table_len(const struct toml_value *table);
const struct toml_value *toml_table_at(const struct toml_value *table, size_t i,
				       const char **key, size_t *keylen);
const struct toml_value *toml_table_getn(const struct toml_value *table,
					 const char *key, size_t keylen);
const struct toml_value *toml_table_get(const struct toml_value *table,
					const char *key);
const struct toml_value *toml_lookup(const struct toml_value *root,
				     const char *path);

size_t toml_array_len(const struct toml_value *array);
const struct toml_value *toml_array_at(const struct toml_value *array, size_t i);

int toml_get_string(const struct toml_value *v, const char **s, size_t *len);
int toml_get_int(const struct toml_value *v, int64_t *out);
int toml_get_bool(const struct toml_value *v, bool *out);

bool toml_equal(const struct toml_value *a, const struct toml_value *b);

/* toml_emit.c: serializers (malloc'd, NUL-terminated; *len excludes the NUL) */
char *toml_to_json(const struct toml_value *v, size_t *len);
char *toml_to_toml(const struct toml_value *root, size_t *len);

#endif /* FCVM_UTIL_TOML_H */
