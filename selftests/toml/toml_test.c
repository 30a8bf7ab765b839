// SPDX-License-Identifier: GPL-2.0
/*
 * toml_test.c - the util/toml API: typed getters, dotted-path lookup,
 * document-order iteration, error positions and messages, limits, and the
 * serializers. The corpus differential test (toml_diff.py) covers the
 * grammar against tomllib; this file covers what JSON cannot show.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "util/toml.h"

static struct toml_value *parse_ok(struct __test_metadata *_metadata,
				   const char *doc)
{
	struct toml_value *root = NULL;
	struct toml_error err;
	int ret = toml_parse(doc, strlen(doc), &root, &err);

	if (ret)
		TH_LOG("%d:%d: %s", err.line, err.col, err.msg);
	EXPECT_EQ(0, ret);
	return root;
}

TEST(typed_getters)
{
	struct toml_value *root = parse_ok(_metadata,
		"s = \"str\"\ni = -42\nb = true\na = [1, \"x\"]\n[t]\nk = 1\n");
	const char *s;
	size_t len;
	int64_t i;
	bool b;

	ASSERT_NE(NULL, root);
	ASSERT_EQ(TOML_TABLE, toml_type(root));
	ASSERT_EQ(0, toml_get_string(toml_table_get(root, "s"), &s, &len));
	EXPECT_STREQ("str", s);
	EXPECT_EQ(3, len);
	ASSERT_EQ(0, toml_get_int(toml_table_get(root, "i"), &i));
	EXPECT_EQ(-42, i);
	ASSERT_EQ(0, toml_get_bool(toml_table_get(root, "b"), &b));
	EXPECT_TRUE(b);
	EXPECT_EQ(TOML_ARRAY, toml_type(toml_table_get(root, "a")));
	EXPECT_EQ(2, toml_array_len(toml_table_get(root, "a")));
	EXPECT_EQ(TOML_STRING, toml_type(toml_array_at(toml_table_get(root, "a"), 1)));
	EXPECT_EQ(NULL, toml_array_at(toml_table_get(root, "a"), 2));
	EXPECT_EQ(TOML_TABLE, toml_type(toml_table_get(root, "t")));
	/* wrong type and missing value */
	EXPECT_EQ(-EINVAL, toml_get_int(toml_table_get(root, "s"), &i));
	EXPECT_EQ(-EINVAL, toml_get_string(toml_table_get(root, "i"), &s, &len));
	EXPECT_EQ(-EINVAL, toml_get_bool(toml_table_get(root, "a"), &b));
	EXPECT_EQ(-ENOENT, toml_get_int(toml_table_get(root, "nope"), &i));
	EXPECT_EQ(NULL, toml_table_get(toml_table_get(root, "s"), "x"));
	EXPECT_EQ(0, toml_table_len(toml_table_get(root, "s")));
	EXPECT_STREQ("integer", toml_type_name(TOML_INTEGER));
	toml_free(root);
}

TEST(lookup_by_dotted_path)
{
	struct toml_value *root = parse_ok(_metadata,
		"[paths]\ndata_dir = \"/d\"\n[a.\"b.c\"]\nd = 1\n[x]\ny.z = 2\n");
	const char *s;
	int64_t i;

	ASSERT_NE(NULL, root);
	ASSERT_EQ(0, toml_get_string(toml_lookup(root, "paths.data_dir"), &s, NULL));
	EXPECT_STREQ("/d", s);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "a.\"b.c\".d"), &i));
	EXPECT_EQ(1, i);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, " x . 'y' . z "), &i));
	EXPECT_EQ(2, i);
	EXPECT_EQ(NULL, toml_lookup(root, "a.b.c.d"));	/* not the quoted key */
	EXPECT_EQ(NULL, toml_lookup(root, "paths.data_dir.x"));
	EXPECT_EQ(NULL, toml_lookup(root, "paths."));	/* malformed */
	EXPECT_EQ(NULL, toml_lookup(root, ""));
	EXPECT_EQ(NULL, toml_lookup(root, "paths missing"));
	toml_free(root);
}

TEST(iteration_in_document_order)
{
	static const char *const want[] = { "zeta", "alpha", "", "mid", "a.b", "t" };
	struct toml_value *root = parse_ok(_metadata,
		"zeta = 1\nalpha = 2\n\"\" = 3\nmid.x = 4\n\"a.b\" = 5\n[t]\n");
	const char *key;
	size_t len;

	ASSERT_NE(NULL, root);
	ASSERT_EQ(6, toml_table_len(root));
	for (size_t i = 0; i < 6; i++) {
		ASSERT_NE(NULL, toml_table_at(root, i, &key, &len));
		EXPECT_STREQ(want[i], key);
		EXPECT_EQ(strlen(want[i]), len);
	}
	EXPECT_EQ(NULL, toml_table_at(root, 6, &key, &len));
	toml_free(root);
}

TEST(strings_keep_embedded_nul_and_unicode)
{
	struct toml_value *root = parse_ok(_metadata,
		"\"k\\u0000ey\" = \"a\\u0000b\"\nu = \"\\u00e9\\U0001F600\"\n");
	const char *s;
	size_t len;

	ASSERT_NE(NULL, root);
	ASSERT_EQ(0, toml_get_string(toml_table_getn(root, "k\0ey", 4), &s, &len));
	ASSERT_EQ(3, len);
	EXPECT_EQ(0, memcmp(s, "a\0b", 3));
	EXPECT_EQ(NULL, toml_table_get(root, "k"));
	ASSERT_EQ(0, toml_get_string(toml_table_get(root, "u"), &s, &len));
	EXPECT_STREQ("\xc3\xa9\xf0\x9f\x98\x80", s);
	toml_free(root);
}

TEST(integer_limits)
{
	struct toml_value *root = parse_ok(_metadata,
		"max = 9223372036854775807\nmin = -9223372036854775808\n"
		"hex = 0x7fffffffffffffff\nbin = 0b101\noct = 0o17\nu = 1_000\n");
	int64_t i;

	ASSERT_NE(NULL, root);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "max"), &i));
	EXPECT_EQ(INT64_MAX, i);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "min"), &i));
	EXPECT_EQ(INT64_MIN, i);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "hex"), &i));
	EXPECT_EQ(INT64_MAX, i);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "bin"), &i));
	EXPECT_EQ(5, i);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "oct"), &i));
	EXPECT_EQ(15, i);
	ASSERT_EQ(0, toml_get_int(toml_lookup(root, "u"), &i));
	EXPECT_EQ(1000, i);
	toml_free(root);
}

TEST(large_tables)
{
	char *doc = malloc(20 * 2000 + 32), *p = doc, key[16];
	struct toml_value *root;
	struct toml_error err;
	int64_t v;

	ASSERT_NE(NULL, doc);
	for (int i = 0; i < 2000; i++)
		p += sprintf(p, "key%d = %d\n", i, i);
	ASSERT_EQ(0, toml_parse(doc, p - doc, &root, &err));
	ASSERT_EQ(2000, toml_table_len(root));
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		ASSERT_EQ(0, toml_get_int(toml_table_get(root, key), &v));
		ASSERT_EQ(i, v);
	}
	EXPECT_EQ(NULL, toml_table_get(root, "key2000"));
	toml_free(root);
	/* a duplicate is found through the index too */
	p += sprintf(p, "key1234 = 0\n");
	ASSERT_EQ(-EINVAL, toml_parse(doc, p - doc, &root, &err));
	EXPECT_EQ(2001, err.line);
	EXPECT_NE(NULL, strstr(err.msg, "duplicate key 'key1234'"));
	free(doc);
}

struct bad_doc {
	const char *doc;
	size_t len;	/* 0: strlen */
	int line, col;
	const char *msg;	/* substring of the message */
};

static const struct bad_doc bad_docs[] = {
	{ "a = 1\nb = @\n", 0, 2, 5, "expected a value, found '@'" },
	{ "a = 1\na = 2\n", 0, 2, 1, "duplicate key 'a'" },
	{ "x = \"\xc3\xa9\" @\n", 0, 1, 9, "expected end of line" },	/* columns count characters */
	{ "a = 1\r\nb = ?\r\n", 0, 2, 5, "expected a value" },
	{ "[a]\n[a]\n", 0, 2, 2, "table [a] is defined twice" },
	{ "a = \"\xff\"\n", 0, 1, 6, "invalid UTF-8" },
	{ "a = 1\0b = 2\n", 12, 1, 6, "NUL byte" },
	{ "\n\n  k = 3.5\n", 0, 3, 7, "unsupported value: floats" },
	{ "d = 2024-01-01\n", 0, 1, 5, "unsupported value: dates" },
	{ "t = 07:00:00\n", 0, 1, 5, "unsupported value: dates and times" },
	{ "n = nan\n", 0, 1, 5, "unsupported" },
	{ "i = 9223372036854775808\n", 0, 1, 5, "out of 64-bit range" },
	{ "s = \"\\uD800\"\n", 0, 1, 6, "not a Unicode scalar value" },
	{ "s = \"abc\n", 0, 1, 9, "newline in a single-line string" },
	{ "s = \"\"\"abc\n", 0, 1, 5, "unterminated string" },
	{ "[fruit]\napple.color = 1\n[fruit.apple]\n", 0, 3, 8, "already defined by dotted keys" },
	{ "a = {b = 1}\na.c = 2\n", 0, 2, 1, "inline table 'a'" },
	{ "a = [1]\n[[a]]\n", 0, 2, 3, "static array 'a'" },
	{ "a = {b = 1,\nc = 2}\n", 0, 1, 12, "one line" },
	{ "# \x01\n", 0, 1, 3, "control character U+0001 in a comment" },
	{ "k = 01\n", 0, 1, 5, "leading zeros" },
	{ "\"a\\q\" = 1\n", 0, 1, 3, "invalid escape sequence" },
};

TEST(error_positions_and_messages)
{
	for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
		const struct bad_doc *b = &bad_docs[i];
		struct toml_value *root = (struct toml_value *)&root;
		struct toml_error err;
		int ret = toml_parse(b->doc, b->len ? b->len : strlen(b->doc), &root, &err);

		if (err.line != b->line || err.col != b->col || !strstr(err.msg, b->msg))
			TH_LOG("doc %zu: %d:%d: %s", i, err.line, err.col, err.msg);
		EXPECT_EQ(-EINVAL, ret);
		EXPECT_EQ(NULL, root);
		EXPECT_EQ(b->line, err.line);
		EXPECT_EQ(b->col, err.col);
		EXPECT_NE(NULL, strstr(err.msg, b->msg));
	}
}

TEST(length_bounds_the_document)
{
	static const char buf[] = "a = 1\nb = @@@";	/* only "a = 1\n" is passed */
	struct toml_value *root;
	struct toml_error err;

	ASSERT_EQ(0, toml_parse(buf, 6, &root, &err));
	EXPECT_EQ(1, toml_table_len(root));
	toml_free(root);
	/* a string running into the end of the length is unterminated */
	ASSERT_EQ(-EINVAL, toml_parse("a = \"xy\"", 7, &root, &err));
	EXPECT_NE(NULL, strstr(err.msg, "unterminated"));
	ASSERT_EQ(0, toml_parse("", 0, &root, &err));
	EXPECT_EQ(0, toml_table_len(root));
	toml_free(root);
}

/* "a = " + depth x open + inner + depth x close, into buf */
static const char *nested(char *buf, size_t size, int depth, const char *open,
			  const char *inner, const char *close)
{
	FILE *f = fmemopen(buf, size, "w");

	if (!f)
		abort();
	fputs("a = ", f);
	for (int i = 0; i < depth; i++)
		fputs(open, f);
	fputs(inner, f);
	for (int i = 0; i < depth; i++)
		fputs(close, f);
	fputs("\n", f);
	fclose(f);
	return buf;
}

TEST(nesting_limit)
{
	struct toml_value *root;
	struct toml_error err;
	char b1[1024], b2[1024], b3[1024];
	const char *ok = nested(b1, sizeof(b1), TOML_MAX_DEPTH, "[", "1", "]");
	const char *deep = nested(b2, sizeof(b2), TOML_MAX_DEPTH + 1, "[", "1", "]");
	const char *deep_tab = nested(b3, sizeof(b3), TOML_MAX_DEPTH + 1, "{b=", "1", "}");
	char dotted[2 * TOML_MAX_DEPTH + 16], *p = dotted;

	/* a = [[...[1]...]]: the innermost array is at depth TOML_MAX_DEPTH */
	ASSERT_EQ(0, toml_parse(ok, strlen(ok), &root, &err));
	toml_free(root);
	ASSERT_EQ(-EINVAL, toml_parse(deep, strlen(deep), &root, &err));
	EXPECT_NE(NULL, strstr(err.msg, "nest deeper"));
	ASSERT_EQ(-EINVAL, toml_parse(deep_tab, strlen(deep_tab), &root, &err));
	EXPECT_NE(NULL, strstr(err.msg, "nest deeper"));
	for (int i = 0; i < TOML_MAX_DEPTH + 1; i++)
		p += sprintf(p, "k.");
	strcpy(p, "v = 1\n");
	ASSERT_EQ(-EINVAL, toml_parse(dotted, strlen(dotted), &root, &err));
	EXPECT_NE(NULL, strstr(err.msg, "nest deeper"));
}

TEST(value_positions)
{
	struct toml_value *root = parse_ok(_metadata,
		"a = 1\n[t]\n  b = \"x\"\n[u.v]\nw.x = [\n  true]\n");
	int line, col;

	ASSERT_NE(NULL, root);
	toml_position(toml_lookup(root, "a"), &line, &col);
	EXPECT_EQ(1, line);
	EXPECT_EQ(5, col);
	toml_position(toml_lookup(root, "t.b"), &line, &col);
	EXPECT_EQ(3, line);
	EXPECT_EQ(7, col);
	toml_position(toml_lookup(root, "u.v"), &line, &col);	/* the header key */
	EXPECT_EQ(4, line);
	EXPECT_EQ(4, col);
	toml_position(toml_lookup(root, "u.v.w"), &line, &col);	/* the dotted key */
	EXPECT_EQ(5, line);
	EXPECT_EQ(1, col);
	toml_position(toml_array_at(toml_lookup(root, "u.v.w.x"), 0), &line, &col);
	EXPECT_EQ(6, line);
	EXPECT_EQ(3, col);
	toml_key_position(toml_lookup(root, "t"), 0, &line, &col);	/* "b" */
	EXPECT_EQ(3, line);
	EXPECT_EQ(3, col);
	toml_key_position(toml_lookup(root, "u.v.w"), 0, &line, &col);	/* "x" */
	EXPECT_EQ(5, line);
	EXPECT_EQ(3, col);
	toml_key_position(root, 5, &line, &col);
	EXPECT_EQ(0, line);
	toml_free(root);
}

TEST(json_and_toml_serializers)
{
	static const char doc[] =
		"a = \"q\\\"\\\\\\n\\u0001\\u007f\\u00e9\\U0001F600\"\n"
		"[[t]]\nx = [1, true, {y = -2}]\n[[t]]\n\"k.k\" = {}\n";
	struct toml_value *root = parse_ok(_metadata, doc), *again;
	struct toml_error err;
	char *json, *toml;
	size_t len;

	ASSERT_NE(NULL, root);
	json = toml_to_json(root, &len);
	ASSERT_NE(NULL, json);
	EXPECT_STREQ("{\"a\":\"q\\\"\\\\\\n\\u0001\\u007f\\u00e9\\ud83d\\ude00\","
		     "\"t\":[{\"x\":[1,true,{\"y\":-2}]},{\"k.k\":{}}]}", json);
	EXPECT_EQ(strlen(json), len);
	toml = toml_to_toml(root, &len);
	ASSERT_NE(NULL, toml);
	ASSERT_EQ(0, toml_parse(toml, len, &again, &err));
	EXPECT_TRUE(toml_equal(root, again));
	EXPECT_FALSE(toml_equal(root, toml_lookup(again, "t")));
	toml_free(again);
	free(json);
	free(toml);
	toml_free(root);
}

TEST_HARNESS_MAIN
