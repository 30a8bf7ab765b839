// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_toml.c - libFuzzer target for util/toml: parse arbitrary bytes; on
 * failure the error must carry a position; on success walk the whole tree
 * through the public getters, check that its JSON parses (cJSON) and that
 * its TOML serialization parses back to an equal tree, then free it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/toml.h"

static void walk(const struct toml_value *v, int depth)
{
	const char *s, *key;
	size_t len;
	int64_t i;
	bool b;
	int line, col;

	if (depth > TOML_MAX_DEPTH + 1)
		abort();
	toml_position(v, &line, &col);
	if (line < 1 || col < 1)
		abort();
	switch (toml_type(v)) {
	case TOML_TABLE:
		for (size_t k = 0; k < toml_table_len(v); k++) {
			const struct toml_value *e = toml_table_at(v, k, &key, &len);

			if (!e || toml_table_getn(v, key, len) != e)
				abort();	/* keys are unique */
			toml_key_position(v, k, &line, &col);
			if (line < 1 || col < 1)
				abort();
			walk(e, depth + 1);
		}
		break;
	case TOML_ARRAY:
		for (size_t k = 0; k < toml_array_len(v); k++)
			walk(toml_array_at(v, k), depth + 1);
		break;
	case TOML_STRING:
		if (toml_get_string(v, &s, &len) || s[len] != '\0')
			abort();
		break;
	case TOML_INTEGER:
		if (toml_get_int(v, &i))
			abort();
		break;
	case TOML_BOOLEAN:
		if (toml_get_bool(v, &b))
			abort();
		break;
	default:
		abort();
	}
}

static void check_json(const struct toml_value *root)
{
	size_t len;
	char *json = toml_to_json(root, &len);
	cJSON *j;

	if (!json)
		return;	/* out of memory */
	j = cJSON_ParseWithLength(json, len);
	if (!j || !cJSON_IsObject(j))
		abort();
	cJSON_Delete(j);
	free(json);
}

static void check_roundtrip(const struct toml_value *root)
{
	struct toml_value *again;
	struct toml_error err;
	size_t len;
	char *doc = toml_to_toml(root, &len);

	if (!doc)
		return;
	if (toml_parse(doc, len, &again, &err) || !toml_equal(root, again))
		abort();
	toml_free(again);
	free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root;
	struct toml_error err;
	int ret = toml_parse((const char *)data, size, &root, &err);

	if (ret) {
		if (root || (ret == -EINVAL && (err.line < 1 || err.col < 1 || !err.msg[0])))
			abort();
		return 0;
	}
	walk(root, 0);
	check_json(root);
	check_roundtrip(root);
	/* lookups by path over whatever the input defined */
	toml_lookup(root, "paths.data_dir");
	toml_lookup(root, "a.\"b.c\".d");
	toml_free(root);
	return 0;
}
