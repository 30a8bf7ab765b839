// SPDX-License-Identifier: GPL-2.0
/*
 * util/toml.c - the strict TOML parser and the tree accessors (see toml.h).
 *
 * The parser is a recursive-descent reader over the raw bytes; it never
 * copies or normalizes the document, so every error points at the byte that
 * caused it. The redefinition rules follow TOML 1.0 as Python's tomllib
 * applies them, modelled as flags on the values themselves:
 *   F_INLINE    a table or array written as a literal ({...} / [...]): frozen,
 *               nothing may be added to it or below it afterwards;
 *   F_EXPLICIT  a table defined by a [header]: a second header or a dotted
 *               key may not define it again;
 *   F_AOT       an array created by [[header]]: headers may append to it and
 *               descend into its last element;
 *   dotted      the section (header number) in which dotted keys created or
 *               extended a table: later sections may not reopen it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/toml.h"

enum {
	F_INLINE = 1 << 0,
	F_EXPLICIT = 1 << 1,
	F_AOT = 1 << 2,
};

struct toml_entry {
	char *key;
	size_t keylen;
	struct toml_value *val;
	int line;	/* where the key is */
	int col;
};

struct toml_value {
	enum toml_type type;
	unsigned int flags;
	unsigned int dotted;
	int depth;
	int line;
	int col;
	union {
		struct {
			struct toml_entry *e;
			size_t n, cap;
			uint32_t *idx;	/* hash index: entry number + 1, 0 = free */
			size_t idx_cap;	/* power of two, 0 until TAB_INDEX_MIN keys */
		} tab;
		struct {
			struct toml_value **v;
			size_t n, cap;
		} arr;
		struct {
			char *s;
			size_t len;
		} str;
		int64_t i;
		bool b;
	} u;
};

struct sbuf {
	char *p;
	size_t len, cap;
};

struct key_part {
	char *s;
	size_t len;
	size_t off;
	int line;
	int col;
};

struct key {
	struct key_part *parts;
	size_t n, cap;
};

struct parser {
	const char *src;
	size_t len;
	size_t pos;
	unsigned int section;
	struct toml_error *err;
	bool failed;
	/* position cache: line and column of byte offset lc_off */
	size_t lc_off;
	int lc_line;
	int lc_col;
};

/* --- positions and errors ---------------------------------------------- */

static void pos_of(struct parser *p, size_t off, int *line, int *col)
{
	if (off > p->len)
		off = p->len;
	if (off < p->lc_off) {
		p->lc_off = 0;
		p->lc_line = 1;
		p->lc_col = 1;
	}
	for (size_t i = p->lc_off; i < off; i++) {
		unsigned char c = (unsigned char)p->src[i];

		if (c == '\n') {
			p->lc_line++;
			p->lc_col = 1;
		} else if ((c & 0xc0) != 0x80) {
			p->lc_col++;
		}
	}
	p->lc_off = off;
	*line = p->lc_line;
	*col = p->lc_col;
}

__attribute__((format(printf, 3, 4)))
static int fail(struct parser *p, size_t off, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return -EINVAL;
	p->failed = true;
	pos_of(p, off, &p->err->line, &p->err->col);
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int fail_nomem(struct parser *p)
{
	if (!p->failed) {
		p->failed = true;
		p->err->line = 0;
		p->err->col = 0;
		snprintf(p->err->msg, sizeof(p->err->msg), "out of memory");
	}
	return -ENOMEM;
}

static int peek(const struct parser *p, size_t k)
{
	return p->pos + k < p->len ? (unsigned char)p->src[p->pos + k] : -1;
}

/* Names the character at @off for an error message. */
static const char *char_desc(const struct parser *p, size_t off, char *buf,
			     size_t size)
{
	unsigned char c;
	size_t n = 1;

	if (off >= p->len)
		return "end of document";
	c = (unsigned char)p->src[off];
	if (c == '\n' || (c == '\r' && off + 1 < p->len && p->src[off + 1] == '\n'))
		return "end of line";
	if (c < 0x20 || c == 0x7f) {
		snprintf(buf, size, "control character U+%04X", c);
		return buf;
	}
	if (c >= 0x80) {
		/* the document is valid UTF-8 by now */
		uint32_t cp = c >= 0xf0 ? c & 0x07 : c >= 0xe0 ? c & 0x0f : c & 0x1f;

		n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (off + n > p->len)
			n = p->len - off;
		for (size_t i = 1; i < n; i++)
			cp = cp << 6 | ((unsigned char)p->src[off + i] & 0x3f);
		snprintf(buf, size, "U+%04X", cp);
		return buf;
	}
	snprintf(buf, size, "'%c'", c);
	return buf;
}

static int fail_unexpected(struct parser *p, const char *expected)
{
	char buf[32];

	return fail(p, p->pos, "expected %s, found %s", expected,
		    char_desc(p, p->pos, buf, sizeof(buf)));
}

/* --- character classes and whitespace ------------------------------------ */

static bool is_ctrl(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Length of the newline at the current position: 1 (LF), 2 (CRLF) or 0. */
static size_t newline_len(const struct parser *p)
{
	if (peek(p, 0) == '\n')
		return 1;
	if (peek(p, 0) == '\r' && peek(p, 1) == '\n')
		return 2;
	return 0;
}

static void skip_ws(struct parser *p)
{
	while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
		p->pos++;
}

/* At '#': consumes the comment up to (not including) its newline. */
static int skip_comment(struct parser *p)
{
	p->pos++;
	while (p->pos < p->len && !newline_len(p)) {
		int c = peek(p, 0);

		if (is_ctrl(c))
			return fail(p, p->pos, "control character U+%04X in a comment", c);
		p->pos++;
	}
	return 0;
}

/* After a statement: optional whitespace and comment, then newline or EOF. */
static int expect_eol(struct parser *p)
{
	size_t n;
	int err;

	skip_ws(p);
	if (peek(p, 0) == '#') {
		err = skip_comment(p);
		if (err)
			return err;
	}
	n = newline_len(p);
	if (n) {
		p->pos += n;
		return 0;
	}
	if (p->pos >= p->len)
		return 0;
	return fail_unexpected(p, "end of line");
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static int skip_array_space(struct parser *p)
{
	for (;;) {
		size_t n;

		skip_ws(p);
		n = newline_len(p);
		if (n) {
			p->pos += n;
			continue;
		}
		if (peek(p, 0) != '#')
			return 0;
		if (skip_comment(p))
			return -EINVAL;
	}
}

/* --- buffers ------------------------------------------------------------- */

static int sbuf_put(struct parser *p, struct sbuf *sb, const char *s, size_t n)
{
	if (sb->len + n + 1 > sb->cap) {
		size_t cap = sb->cap ? sb->cap : 32;
		char *np;

		while (cap < sb->len + n + 1)
			cap *= 2;
		np = realloc(sb->p, cap);
		if (!np)
			return fail_nomem(p);
		sb->p = np;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
	return 0;
}

static int sbuf_putc(struct parser *p, struct sbuf *sb, char c)
{
	return sbuf_put(p, sb, &c, 1);
}

static int sbuf_put_utf8(struct parser *p, struct sbuf *sb, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sbuf_put(p, sb, b, n);
}

/* --- values -------------------------------------------------------------- */

static void value_free(struct toml_value *v)
{
	if (!v)
		return;
	switch (v->type) {
	case TOML_TABLE:
		for (size_t i = 0; i < v->u.tab.n; i++) {
			free(v->u.tab.e[i].key);
			value_free(v->u.tab.e[i].val);
		}
		free(v->u.tab.e);
		free(v->u.tab.idx);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->u.arr.n; i++)
			value_free(v->u.arr.v[i]);
		free(v->u.arr.v);
		break;
	case TOML_STRING:
		free(v->u.str.s);
		break;
	default:
		break;
	}
	free(v);
}

/* A value defined at line:col; @off is only for the depth error. */
static int value_make(struct parser *p, enum toml_type type, size_t off,
		      int line, int col, int depth, struct toml_value **out)
{
	struct toml_value *v;

	*out = NULL;
	if (depth > TOML_MAX_DEPTH && (type == TOML_TABLE || type == TOML_ARRAY))
		return fail(p, off, "tables and arrays nest deeper than %d levels",
			    TOML_MAX_DEPTH);
	v = calloc(1, sizeof(*v));
	if (!v)
		return fail_nomem(p);
	v->type = type;
	v->depth = depth;
	v->line = line;
	v->col = col;
	*out = v;
	return 0;
}

/* A value starting at byte @off (which must not precede earlier ones, so
 * that computing positions stays linear). */
static int value_new(struct parser *p, enum toml_type type, size_t off,
		     int depth, struct toml_value **out)
{
	int line, col;

	pos_of(p, off, &line, &col);
	return value_make(p, type, off, line, col, depth, out);
}

/* Tables with this many keys get a hash index; smaller ones are searched. */
#define TAB_INDEX_MIN 8

static uint32_t key_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h;
}

static struct toml_entry *table_find(const struct toml_value *t, const char *key,
				     size_t len)
{
	size_t mask = t->u.tab.idx_cap - 1;

	if (!t->u.tab.idx) {
		for (size_t i = 0; i < t->u.tab.n; i++) {
			struct toml_entry *e = &t->u.tab.e[i];

			if (e->keylen == len && !memcmp(e->key, key, len))
				return e;
		}
		return NULL;
	}
	for (size_t h = key_hash(key, len) & mask;; h = (h + 1) & mask) {
		struct toml_entry *e;

		if (!t->u.tab.idx[h])
			return NULL;
		e = &t->u.tab.e[t->u.tab.idx[h] - 1];
		if (e->keylen == len && !memcmp(e->key, key, len))
			return e;
	}
}

/* (Re)builds the hash index of table @t for its n entries, load <= 1/2. */
static int table_index(struct parser *p, struct toml_value *t)
{
	size_t cap = 16, mask;
	uint32_t *idx;

	while (cap < 2 * (t->u.tab.n + 1))
		cap *= 2;
	if (cap <= t->u.tab.idx_cap)
		return 0;
	idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return fail_nomem(p);
	mask = cap - 1;
	for (size_t i = 0; i < t->u.tab.n; i++) {
		const struct toml_entry *e = &t->u.tab.e[i];
		size_t h = key_hash(e->key, e->keylen) & mask;

		while (idx[h])
			h = (h + 1) & mask;
		idx[h] = (uint32_t)(i + 1);
	}
	free(t->u.tab.idx);
	t->u.tab.idx = idx;
	t->u.tab.idx_cap = cap;
	return 0;
}

/* Appends key -> val (key at line:col); takes ownership of both, also on
 * failure. The key must not be in the table yet. */
static int table_add(struct parser *p, struct toml_value *t, char *key,
		     size_t len, int line, int col, struct toml_value *val)
{
	struct toml_entry *e;
	size_t n = t->u.tab.n;

	if (t->u.tab.n == t->u.tab.cap) {
		size_t cap = t->u.tab.cap ? 2 * t->u.tab.cap : 4;
		struct toml_entry *ne = realloc(t->u.tab.e, cap * sizeof(*ne));

		if (!ne) {
			free(key);
			value_free(val);
			return fail_nomem(p);
		}
		t->u.tab.e = ne;
		t->u.tab.cap = cap;
	}
	if (n + 1 >= TAB_INDEX_MIN && table_index(p, t)) {
		free(key);
		value_free(val);
		return -ENOMEM;
	}
	e = &t->u.tab.e[t->u.tab.n++];
	*e = (struct toml_entry){ .key = key, .keylen = len, .val = val,
				  .line = line, .col = col };
	if (t->u.tab.idx) {
		size_t mask = t->u.tab.idx_cap - 1, h = key_hash(key, len) & mask;

		while (t->u.tab.idx[h])
			h = (h + 1) & mask;
		t->u.tab.idx[h] = (uint32_t)(n + 1);
	}
	return 0;
}

/* Appends v to array a; takes ownership of v, also on failure. */
static int array_push(struct parser *p, struct toml_value *a, struct toml_value *v)
{
	if (a->u.arr.n == a->u.arr.cap) {
		size_t cap = a->u.arr.cap ? 2 * a->u.arr.cap : 4;
		struct toml_value **nv = realloc(a->u.arr.v, cap * sizeof(*nv));

		if (!nv) {
			value_free(v);
			return fail_nomem(p);
		}
		a->u.arr.v = nv;
		a->u.arr.cap = cap;
	}
	a->u.arr.v[a->u.arr.n++] = v;
	return 0;
}

/* Creates an empty table under key part @kp of table @t. */
static int table_add_child(struct parser *p, struct toml_value *t,
			   const struct key_part *kp, enum toml_type type,
			   struct toml_value **out)
{
	struct toml_value *child;
	char *key;
	int err;

	err = value_make(p, type, kp->off, kp->line, kp->col, t->depth + 1, &child);
	if (err)
		return err;
	key = malloc(kp->len + 1);
	if (!key) {
		value_free(child);
		return fail_nomem(p);
	}
	memcpy(key, kp->s, kp->len + 1);
	err = table_add(p, t, key, kp->len, kp->line, kp->col, child);
	if (err)
		return err;
	*out = child;
	return 0;
}

/* --- keys ---------------------------------------------------------------- */

static void key_free(struct key *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->parts[i].s);
	free(k->parts);
	k->parts = NULL;
	k->n = k->cap = 0;
}

/* Writes parts [0, n] of a key as TOML would spell them, for messages. */
static const char *key_name(const struct key *k, size_t n, char *buf, size_t size)
{
	FILE *f = fmemopen(buf, size, "w");

	if (!f)
		return "?";
	for (size_t i = 0; i <= n && i < k->n; i++) {
		const struct key_part *kp = &k->parts[i];
		bool bare = kp->len > 0;

		for (size_t j = 0; j < kp->len; j++)
			bare = bare && is_bare((unsigned char)kp->s[j]);
		fputs(i ? "." : "", f);
		if (bare) {
			fwrite(kp->s, 1, kp->len, f);
			continue;
		}
		fputc('"', f);
		for (size_t j = 0; j < kp->len; j++) {
			unsigned char c = (unsigned char)kp->s[j];

			if (c == '"' || c == '\\')
				fprintf(f, "\\%c", c);
			else if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04X", c);
			else
				fputc(c, f);
		}
		fputc('"', f);
	}
	fclose(f);
	buf[size - 1] = '\0';
	return buf;
}

static int parse_escape(struct parser *p, struct sbuf *sb, bool multiline);
static int parse_basic(struct parser *p, struct sbuf *sb, bool multiline);
static int parse_literal(struct parser *p, struct sbuf *sb, bool multiline);

static int key_push(struct parser *p, struct key *k, struct sbuf *sb, size_t off)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 4;
		struct key_part *np = realloc(k->parts, cap * sizeof(*np));

		if (!np) {
			free(sb->p);
			return fail_nomem(p);
		}
		k->parts = np;
		k->cap = cap;
	}
	if (!sb->p) {
		sb->p = calloc(1, 1);
		if (!sb->p)
			return fail_nomem(p);
	}
	k->parts[k->n] = (struct key_part){ .s = sb->p, .len = sb->len, .off = off };
	pos_of(p, off, &k->parts[k->n].line, &k->parts[k->n].col);
	k->n++;
	return 0;
}

static int parse_key_part(struct parser *p, struct key *k)
{
	struct sbuf sb = { 0 };
	size_t off = p->pos;
	int c = peek(p, 0), err;

	if (is_bare(c)) {
		while (is_bare(peek(p, 0)))
			p->pos++;
		err = sbuf_put(p, &sb, p->src + off, p->pos - off);
	} else if (c == '"') {
		err = parse_basic(p, &sb, false);
	} else if (c == '\'') {
		err = parse_literal(p, &sb, false);
	} else {
		return fail_unexpected(p, "a key");
	}
	if (err) {
		free(sb.p);
		return err;
	}
	return key_push(p, k, &sb, off);
}

/* key = part *( ws '.' ws part ), then trailing whitespace. */
static int parse_key(struct parser *p, struct key *k)
{
	for (;;) {
		int err = parse_key_part(p, k);

		if (err)
			return err;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return 0;
		p->pos++;
		skip_ws(p);
	}
}

/* --- strings ------------------------------------------------------------- */

static int parse_hex_escape(struct parser *p, struct sbuf *sb, size_t ndigits)
{
	size_t off = p->pos;
	uint32_t cp = 0;

	p->pos += 2;
	for (size_t i = 0; i < ndigits; i++) {
		int c = peek(p, 0), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return fail(p, off, "\\%c escape needs %zu hexadecimal digits",
				    ndigits == 4 ? 'u' : 'U', ndigits);
		cp = cp << 4 | (uint32_t)d;
		p->pos++;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return fail(p, off, "escape %.*s is not a Unicode scalar value",
			    (int)(ndigits + 2), p->src + off);
	return sbuf_put_utf8(p, sb, cp);
}

/* Multi-line basic strings: '\' + optional blanks + newline trims all
 * whitespace and newlines that follow. */
static int parse_line_ending_backslash(struct parser *p, size_t off)
{
	p->pos++;
	skip_ws(p);
	if (!newline_len(p))
		return fail(p, off, "'\\' followed by whitespace must end the line");
	for (;;) {
		size_t n = newline_len(p);

		if (n)
			p->pos += n;
		else if (peek(p, 0) == ' ' || peek(p, 0) == '\t')
			p->pos++;
		else
			return 0;
	}
}

static int parse_escape(struct parser *p, struct sbuf *sb, bool multiline)
{
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	size_t off = p->pos;
	int c = peek(p, 1);
	const char *e;
	char buf[32];

	if (c == 'u')
		return parse_hex_escape(p, sb, 4);
	if (c == 'U')
		return parse_hex_escape(p, sb, 8);
	if (multiline && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
		return parse_line_ending_backslash(p, off);
	e = c > 0 ? strchr(from, c) : NULL;
	if (!e)
		return fail(p, off, "invalid escape sequence: '\\' followed by %s",
			    char_desc(p, off + 1, buf, sizeof(buf)));
	p->pos += 2;
	return sbuf_putc(p, sb, to[e - from]);
}

/* Up to two quote characters right before a multi-line closing delimiter
 * belong to the content: """a""""" is 'a""'. */
static int take_extra_quotes(struct parser *p, struct sbuf *sb, char delim)
{
	for (int i = 0; i < 2 && peek(p, 0) == delim; i++) {
		int err = sbuf_putc(p, sb, delim);

		if (err)
			return err;
		p->pos++;
	}
	return 0;
}

/* One content character of a string (not a delimiter or escape). */
static int string_char(struct parser *p, struct sbuf *sb, bool multiline,
		       size_t start)
{
	size_t n = newline_len(p);
	int c = peek(p, 0);

	if (n && multiline) {
		p->pos += n;
		return sbuf_putc(p, sb, '\n');
	}
	if (c < 0)
		return fail(p, start, "unterminated string");
	if (n || c == '\n')
		return fail(p, p->pos, "newline in a single-line string (unterminated string?)");
	if (is_ctrl(c))
		return fail(p, p->pos, "control character U+%04X must be escaped in a string", c);
	p->pos++;
	return sbuf_putc(p, sb, (char)c);
}

static int parse_basic(struct parser *p, struct sbuf *sb, bool multiline)
{
	size_t start = p->pos;
	int err;

	p->pos += multiline ? 3 : 1;
	if (multiline)
		p->pos += newline_len(p);
	for (;;) {
		int c = peek(p, 0);

		if (c == '"') {
			if (!multiline) {
				p->pos++;
				return 0;
			}
			if (peek(p, 1) == '"' && peek(p, 2) == '"') {
				p->pos += 3;
				return take_extra_quotes(p, sb, '"');
			}
			p->pos++;
			err = sbuf_putc(p, sb, '"');
		} else if (c == '\\') {
			err = parse_escape(p, sb, multiline);
		} else {
			err = string_char(p, sb, multiline, start);
		}
		if (err)
			return err;
	}
}

static int parse_literal(struct parser *p, struct sbuf *sb, bool multiline)
{
	size_t start = p->pos;
	int err;

	p->pos += multiline ? 3 : 1;
	if (multiline)
		p->pos += newline_len(p);
	for (;;) {
		if (peek(p, 0) == '\'') {
			if (!multiline) {
				p->pos++;
				return 0;
			}
			if (peek(p, 1) == '\'' && peek(p, 2) == '\'') {
				p->pos += 3;
				return take_extra_quotes(p, sb, '\'');
			}
			p->pos++;
			err = sbuf_putc(p, sb, '\'');
		} else {
			err = string_char(p, sb, multiline, start);
		}
		if (err)
			return err;
	}
}

static int parse_string(struct parser *p, int depth, struct toml_value **out)
{
	bool literal = peek(p, 0) == '\'';
	bool multiline = peek(p, 1) == peek(p, 0) && peek(p, 2) == peek(p, 0);
	struct sbuf sb = { 0 };
	size_t off = p->pos;
	int err;

	err = literal ? parse_literal(p, &sb, multiline) : parse_basic(p, &sb, multiline);
	if (!err && !sb.p) {
		sb.p = calloc(1, 1);
		if (!sb.p)
			err = fail_nomem(p);
	}
	if (!err)
		err = value_new(p, TOML_STRING, off, depth, out);
	if (err) {
		free(sb.p);
		return err;
	}
	(*out)->u.str.s = sb.p;
	(*out)->u.str.len = sb.len;
	return 0;
}

/* --- numbers ------------------------------------------------------------- */

static int digit_value(int c, int radix)
{
	int d;

	if (c >= '0' && c <= '9')
		d = c - '0';
	else if (c >= 'a' && c <= 'f')
		d = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		d = c - 'A' + 10;
	else
		return -1;
	return d < radix ? d : -1;
}

/*
 * digits = digit *( ['_'] digit ). Accumulates the magnitude, noting
 * overflow of 64 bits; @first_zero is set when the first digit is '0'.
 */
static int scan_digits(struct parser *p, int radix, uint64_t *mag,
		       bool *overflow, bool *first_zero)
{
	bool first = true;

	if (digit_value(peek(p, 0), radix) < 0)
		return fail_unexpected(p, "a digit");
	*first_zero = peek(p, 0) == '0';
	for (;;) {
		int c = peek(p, 0);
		int d = digit_value(c, radix);

		if (c == '_' && !first) {
			if (digit_value(peek(p, 1), radix) < 0)
				return fail(p, p->pos, "'_' in a number must be between digits");
			p->pos++;
			continue;
		}
		if (d < 0)
			return 0;
		if (*mag > (UINT64_MAX - (uint64_t)d) / (uint64_t)radix)
			*overflow = true;
		else
			*mag = *mag * (uint64_t)radix + (uint64_t)d;
		p->pos++;
		first = false;
	}
}

static bool digits_at(const struct parser *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (peek(p, i) < '0' || peek(p, i) > '9')
			return false;
	return true;
}

/* Quietly skips digit *( ['_'] digit ); false if there is no such run. */
static bool skip_dec_digits(struct parser *p)
{
	if (digit_value(peek(p, 0), 10) < 0)
		return false;
	while (digit_value(peek(p, 0), 10) >= 0 ||
	       (peek(p, 0) == '_' && digit_value(peek(p, 1), 10) >= 0))
		p->pos++;
	return true;
}

/* After an integer part followed by '.', 'e' or 'E': floats are not
 * implemented; say so for a well-formed one, else call it invalid. */
static int reject_float(struct parser *p, size_t start)
{
	bool ok = true;

	if (peek(p, 0) == '.') {
		p->pos++;
		ok = skip_dec_digits(p);
	}
	if (ok && (peek(p, 0) == 'e' || peek(p, 0) == 'E')) {
		p->pos++;
		if (peek(p, 0) == '+' || peek(p, 0) == '-')
			p->pos++;
		ok = skip_dec_digits(p);
	}
	if (!ok)
		return fail(p, start, "invalid float");
	return fail(p, start, "unsupported value: floats are not implemented (use a string or an integer)");
}

static bool is_inf_nan(const struct parser *p)
{
	size_t i = p->pos;

	if (i < p->len && (p->src[i] == '+' || p->src[i] == '-'))
		i++;
	return p->len - i >= 3 && (!memcmp(p->src + i, "inf", 3) ||
				   !memcmp(p->src + i, "nan", 3));
}

static int parse_number(struct parser *p, int depth, struct toml_value **out)
{
	size_t start = p->pos, digits;
	uint64_t mag = 0;
	bool neg = false, overflow = false, zero = false;
	int radix = 10, err;

	if ((digits_at(p, 4) && peek(p, 4) == '-') || (digits_at(p, 2) && peek(p, 2) == ':'))
		return fail(p, start, "unsupported value: dates and times are not implemented (use a string)");
	if (is_inf_nan(p))
		return fail(p, start, "unsupported value: floats (inf, nan) are not implemented");
	if (peek(p, 0) == '0' && (peek(p, 1) == 'x' || peek(p, 1) == 'o' || peek(p, 1) == 'b')) {
		radix = peek(p, 1) == 'x' ? 16 : peek(p, 1) == 'o' ? 8 : 2;
		p->pos += 2;
	} else if (peek(p, 0) == '+' || peek(p, 0) == '-') {
		neg = peek(p, 0) == '-';
		p->pos++;
	}
	digits = p->pos;
	err = scan_digits(p, radix, &mag, &overflow, &zero);
	if (err)
		return err;
	if (radix == 10 && zero && p->pos - digits > 1)
		return fail(p, start, "leading zeros are not allowed in an integer");
	if (radix == 10 && (peek(p, 0) == '.' || peek(p, 0) == 'e' || peek(p, 0) == 'E'))
		return reject_float(p, start);
	if (overflow || mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return fail(p, start, "integer %.*s is out of 64-bit range",
			    (int)(p->pos - start), p->src + start);
	err = value_new(p, TOML_INTEGER, start, depth, out);
	if (err)
		return err;
	if (neg)
		(*out)->u.i = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	else
		(*out)->u.i = (int64_t)mag;
	return 0;
}

/* --- arrays, inline tables, values ---------------------------------------- */

static int parse_value(struct parser *p, int depth, struct toml_value **out);
static int parse_kv(struct parser *p, struct toml_value *base);

static int parse_array(struct parser *p, int depth, struct toml_value **out)
{
	struct toml_value *a, *v;
	int err;

	err = value_new(p, TOML_ARRAY, p->pos, depth, &a);
	if (err)
		return err;
	a->flags = F_INLINE;
	p->pos++;
	err = skip_array_space(p);
	while (!err && peek(p, 0) != ']') {
		err = parse_value(p, depth + 1, &v);
		if (!err)
			err = array_push(p, a, v);
		if (!err)
			err = skip_array_space(p);
		if (err || peek(p, 0) == ']')
			break;
		if (peek(p, 0) != ',') {
			err = fail_unexpected(p, "',' or ']' in an array");
			break;
		}
		p->pos++;
		err = skip_array_space(p);
	}
	if (err) {
		value_free(a);
		return err;
	}
	p->pos++;
	*out = a;
	return 0;
}

static int parse_inline_table(struct parser *p, int depth, struct toml_value **out)
{
	struct toml_value *t;
	int err;

	err = value_new(p, TOML_TABLE, p->pos, depth, &t);
	if (err)
		return err;
	t->flags = F_INLINE;
	p->pos++;
	skip_ws(p);
	if (newline_len(p) || peek(p, 0) == '#') {
		value_free(t);
		return fail(p, p->pos, "an inline table must be on one line");
	}
	if (peek(p, 0) == '}') {
		p->pos++;
		*out = t;
		return 0;
	}
	for (;;) {
		err = parse_kv(p, t);
		if (err)
			break;
		skip_ws(p);
		if (peek(p, 0) == '}') {
			p->pos++;
			*out = t;
			return 0;
		}
		if (newline_len(p) || peek(p, 0) == '#') {
			err = fail(p, p->pos, "an inline table must be on one line");
			break;
		}
		if (peek(p, 0) != ',') {
			err = fail_unexpected(p, "',' or '}' in an inline table");
			break;
		}
		p->pos++;
		skip_ws(p);
		if (newline_len(p) || peek(p, 0) == '#') {
			err = fail(p, p->pos, "an inline table must be on one line");
			break;
		}
		if (peek(p, 0) == '}') {
			err = fail(p, p->pos, "trailing comma in an inline table");
			break;
		}
	}
	value_free(t);
	return err;
}

static int parse_bool(struct parser *p, int depth, struct toml_value **out)
{
	size_t off = p->pos;
	bool b = peek(p, 0) == 't';
	const char *word = b ? "true" : "false";
	size_t n = strlen(word);
	int err;

	if (p->len - p->pos < n || memcmp(p->src + p->pos, word, n))
		return fail_unexpected(p, "a value");
	p->pos += n;
	err = value_new(p, TOML_BOOLEAN, off, depth, out);
	if (!err)
		(*out)->u.b = b;
	return err;
}

static int parse_value(struct parser *p, int depth, struct toml_value **out)
{
	int c = peek(p, 0);

	switch (c) {
	case '"':
	case '\'':
		return parse_string(p, depth, out);
	case 't':
	case 'f':
		return parse_bool(p, depth, out);
	case '[':
		return parse_array(p, depth, out);
	case '{':
		return parse_inline_table(p, depth, out);
	default:
		if ((c >= '0' && c <= '9') || c == '+' || c == '-' || is_inf_nan(p))
			return parse_number(p, depth, out);
		return fail_unexpected(p, "a value");
	}
}

/* "an integer", "a static array", ... for messages about an existing value. */
static const char *describe_value(const struct toml_value *v)
{
	switch (v->type) {
	case TOML_TABLE:
		return v->flags & F_INLINE ? "an inline table" : "a table";
	case TOML_ARRAY:
		return v->flags & F_AOT ? "an array of tables" : "a static array";
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_BOOLEAN:
		return "a boolean";
	}
	return "a value";
}

/* --- key/value pairs and headers ------------------------------------------ */

/*
 * Walks the dotted prefix of a key/value pair's key from @base, creating
 * missing tables. Tables defined by headers, inline tables, arrays and
 * tables that dotted keys defined in an earlier section cannot be entered.
 */
static int kv_descend(struct parser *p, struct toml_value *base,
		      const struct key *k, struct toml_value **parent)
{
	struct toml_value *t = base;
	char name[128];
	int err;

	for (size_t i = 0; i + 1 < k->n; i++) {
		const struct key_part *kp = &k->parts[i];
		struct toml_entry *e = table_find(t, kp->s, kp->len);
		struct toml_value *v;

		if (!e) {
			err = table_add_child(p, t, kp, TOML_TABLE, &v);
			if (err)
				return err;
		} else {
			v = e->val;
			if (v->type != TOML_TABLE)
				return fail(p, kp->off, "cannot add keys to '%s' with dotted keys: it is %s",
					    key_name(k, i, name, sizeof(name)), describe_value(v));
			if (v->flags & F_INLINE)
				return fail(p, kp->off, "cannot add keys to inline table '%s'",
					    key_name(k, i, name, sizeof(name)));
			if (v->flags & F_EXPLICIT)
				return fail(p, kp->off, "dotted key '%s' cannot extend a table that a [header] defines",
					    key_name(k, i, name, sizeof(name)));
			if (v->dotted && v->dotted != p->section)
				return fail(p, kp->off, "dotted key '%s' cannot extend a table that dotted keys defined in an earlier section",
					    key_name(k, i, name, sizeof(name)));
		}
		v->dotted = p->section;
		t = v;
	}
	*parent = t;
	return 0;
}

/* key = value, into table @base (a header's table or an inline table). */
static int parse_kv(struct parser *p, struct toml_value *base)
{
	struct toml_value *parent = NULL, *val = NULL;
	struct key k = { 0 };
	struct key_part *last;
	char name[128];
	int err;

	err = parse_key(p, &k);
	if (err)
		goto out_free_key;
	if (peek(p, 0) != '=') {
		err = fail_unexpected(p, "'=' after a key");
		goto out_free_key;
	}
	p->pos++;
	skip_ws(p);
	err = kv_descend(p, base, &k, &parent);
	if (err)
		goto out_free_key;
	last = &k.parts[k.n - 1];
	if (table_find(parent, last->s, last->len)) {
		err = fail(p, last->off, "duplicate key '%s'",
			   key_name(&k, k.n - 1, name, sizeof(name)));
		goto out_free_key;
	}
	err = parse_value(p, parent->depth + 1, &val);
	if (err)
		goto out_free_key;
	err = table_add(p, parent, last->s, last->len, last->line, last->col, val);
	last->s = NULL;
out_free_key:
	key_free(&k);
	return err;
}

/* Walks a header's key prefix from the root, creating implicit tables and
 * entering the last element of arrays of tables. */
static int header_descend(struct parser *p, struct toml_value *root,
			  const struct key *k, struct toml_value **parent)
{
	struct toml_value *t = root;
	char name[128];
	int err;

	for (size_t i = 0; i + 1 < k->n; i++) {
		const struct key_part *kp = &k->parts[i];
		struct toml_entry *e = table_find(t, kp->s, kp->len);
		struct toml_value *v;

		if (!e) {
			err = table_add_child(p, t, kp, TOML_TABLE, &v);
			if (err)
				return err;
			t = v;
			continue;
		}
		v = e->val;
		if (v->type == TOML_ARRAY && (v->flags & F_AOT))
			v = v->u.arr.v[v->u.arr.n - 1];
		else if (v->type != TOML_TABLE)
			return fail(p, kp->off, "cannot define a table below '%s': it is %s",
				    key_name(k, i, name, sizeof(name)), describe_value(v));
		if (v->flags & F_INLINE)
			return fail(p, kp->off, "cannot extend inline table '%s'",
				    key_name(k, i, name, sizeof(name)));
		t = v;
	}
	*parent = t;
	return 0;
}

/* [a.b] : defines a table (once) and makes it the current section. */
static int define_table(struct parser *p, struct toml_value *t,
			const struct key *k, struct toml_value **cur)
{
	const struct key_part *kp = &k->parts[k->n - 1];
	struct toml_entry *e = table_find(t, kp->s, kp->len);
	char name[128];
	struct toml_value *v;
	int err;

	key_name(k, k->n - 1, name, sizeof(name));
	if (!e) {
		err = table_add_child(p, t, kp, TOML_TABLE, &v);
		if (err)
			return err;
		v->flags |= F_EXPLICIT;
		*cur = v;
		return 0;
	}
	v = e->val;
	if (v->type == TOML_ARRAY)
		return fail(p, kp->off, "cannot define table [%s]: it is %s", name,
			    v->flags & F_AOT ? "an array of tables" : "a static array");
	if (v->type != TOML_TABLE)
		return fail(p, kp->off, "cannot define table [%s]: the key is already %s",
			    name, describe_value(v));
	if (v->flags & F_INLINE)
		return fail(p, kp->off, "cannot define table [%s]: it is an inline table", name);
	if (v->flags & F_EXPLICIT)
		return fail(p, kp->off, "table [%s] is defined twice", name);
	if (v->dotted)
		return fail(p, kp->off, "table [%s] was already defined by dotted keys", name);
	v->flags |= F_EXPLICIT;
	*cur = v;
	return 0;
}

/* [[a.b]] : appends a table to an array of tables; it becomes the section. */
static int append_table(struct parser *p, struct toml_value *t,
			const struct key *k, struct toml_value **cur)
{
	const struct key_part *kp = &k->parts[k->n - 1];
	struct toml_entry *e = table_find(t, kp->s, kp->len);
	struct toml_value *a, *v;
	char name[128];
	int err;

	if (!e) {
		err = table_add_child(p, t, kp, TOML_ARRAY, &a);
		if (err)
			return err;
		a->flags = F_AOT;
	} else {
		a = e->val;
		key_name(k, k->n - 1, name, sizeof(name));
		if (a->type != TOML_ARRAY)
			return fail(p, kp->off, "cannot define array of tables [[%s]]: the key is already %s",
				    name, describe_value(a));
		if (!(a->flags & F_AOT))
			return fail(p, kp->off, "cannot append to static array '%s'", name);
	}
	err = value_make(p, TOML_TABLE, kp->off, kp->line, kp->col, a->depth + 1, &v);
	if (err)
		return err;
	err = array_push(p, a, v);
	if (err)
		return err;
	*cur = v;
	return 0;
}

/* A [table] or [[array of tables]] header line (without its line end). */
static int parse_header(struct parser *p, struct toml_value *root,
			struct toml_value **cur)
{
	bool aot = peek(p, 1) == '[';
	struct toml_value *parent = NULL;
	struct key k = { 0 };
	int err;

	p->section++;
	p->pos += aot ? 2 : 1;
	skip_ws(p);
	err = parse_key(p, &k);
	if (err)
		goto out_free_key;
	if (peek(p, 0) != ']' || (aot && peek(p, 1) != ']')) {
		err = fail_unexpected(p, aot ? "']]' to end the header" : "']' to end the header");
		goto out_free_key;
	}
	p->pos += aot ? 2 : 1;
	err = header_descend(p, root, &k, &parent);
	if (err)
		goto out_free_key;
	err = aot ? append_table(p, parent, &k, cur) : define_table(p, parent, &k, cur);
out_free_key:
	key_free(&k);
	return err;
}

/* --- document ------------------------------------------------------------- */

/* Offset of the first byte that is not valid UTF-8 (or is NUL), else len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c == 0)
			return i;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			return i;
		}
		if (i + n >= len)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t j = 2; j <= n; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

static int parse_document(struct parser *p, struct toml_value *root)
{
	struct toml_value *cur = root;
	int err;

	while (p->pos < p->len) {
		int c;
		size_t n;

		skip_ws(p);
		c = peek(p, 0);
		n = newline_len(p);
		if (n) {
			p->pos += n;
			continue;
		}
		if (c < 0)
			break;
		if (c == '[')
			err = parse_header(p, root, &cur);
		else if (is_bare(c) || c == '"' || c == '\'')
			err = parse_kv(p, cur);
		else if (c == '#')
			err = 0;
		else
			return fail_unexpected(p, "a key, a [table] header or a comment");
		if (!err)
			err = expect_eol(p);
		if (err)
			return err;
	}
	return 0;
}

/**
 * toml_parse() - parse a TOML document
 * @buf:  the document; need not be NUL-terminated
 * @len:  its length in bytes; a NUL byte inside is an error
 * @root: set to the root table on success (free with toml_free())
 * @err:  on failure, where (line:col) and why
 *
 * Return: 0, -EINVAL for a document that is not valid TOML or uses an
 * unsupported feature, -ENOMEM.
 */
int toml_parse(const char *buf, size_t len, struct toml_value **root,
	       struct toml_error *err)
{
	struct parser p = {
		.src = buf, .len = len, .section = 1, .err = err,
		.lc_line = 1, .lc_col = 1,
	};
	struct toml_value *r;
	size_t bad;
	int ret;

	memset(err, 0, sizeof(*err));
	*root = NULL;
	bad = utf8_check((const unsigned char *)buf, len);
	if (bad < len)
		return fail(&p, bad, buf[bad] ? "invalid UTF-8" : "NUL byte in the document");
	ret = value_new(&p, TOML_TABLE, 0, 0, &r);
	if (ret)
		return ret;
	r->flags = F_EXPLICIT;
	ret = parse_document(&p, r);
	if (ret) {
		value_free(r);
		return ret;
	}
	*root = r;
	return 0;
}

void toml_free(struct toml_value *root)
{
	value_free(root);
}

/* --- accessors ------------------------------------------------------------ */

enum toml_type toml_type(const struct toml_value *v)
{
	return v->type;
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_TABLE:
		return "table";
	case TOML_ARRAY:
		return "array";
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_BOOLEAN:
		return "boolean";
	}
	return "?";
}

/* Where a value was defined: its first character, or for a table made by
 * a header or a dotted key, the key that made it. */
void toml_position(const struct toml_value *v, int *line, int *col)
{
	*line = v->line;
	*col = v->col;
}

/**
 * toml_key_position() - where the i-th key of a table is written
 * @table: a table
 * @i:     index below toml_table_len()
 * @line:  set to the 1-based line (0 if @i is out of range)
 * @col:   set to the 1-based column
 *
 * For a key made by a dotted key or header, this is that key part.
 */
void toml_key_position(const struct toml_value *table, size_t i, int *line,
		       int *col)
{
	*line = *col = 0;
	if (table && table->type == TOML_TABLE && i < table->u.tab.n) {
		*line = table->u.tab.e[i].line;
		*col = table->u.tab.e[i].col;
	}
}

size_t toml_table_len(const struct toml_value *table)
{
	return table && table->type == TOML_TABLE ? table->u.tab.n : 0;
}

/**
 * toml_table_at() - the i-th key of a table, in document order
 * @table:  a table
 * @i:      index below toml_table_len()
 * @key:    set to the key (NUL-terminated; may also contain NUL)
 * @keylen: set to its length, may be NULL
 *
 * Return: the value, or NULL if @table is not a table or @i is out of range.
 */
const struct toml_value *toml_table_at(const struct toml_value *table, size_t i,
				       const char **key, size_t *keylen)
{
	const struct toml_entry *e;

	if (!table || table->type != TOML_TABLE || i >= table->u.tab.n)
		return NULL;
	e = &table->u.tab.e[i];
	if (key)
		*key = e->key;
	if (keylen)
		*keylen = e->keylen;
	return e->val;
}

const struct toml_value *toml_table_getn(const struct toml_value *table,
					 const char *key, size_t keylen)
{
	const struct toml_entry *e;

	if (!table || table->type != TOML_TABLE)
		return NULL;
	e = table_find(table, key, keylen);
	return e ? e->val : NULL;
}

const struct toml_value *toml_table_get(const struct toml_value *table,
					const char *key)
{
	return toml_table_getn(table, key, strlen(key));
}

/**
 * toml_lookup() - find a value by its dotted path
 * @root: the table to start from
 * @path: a TOML key, e.g. "paths.data_dir" or 'a."b.c"'
 *
 * Return: the value, or NULL if the path is malformed, a part is missing, or
 * an intermediate value is not a table.
 */
const struct toml_value *toml_lookup(const struct toml_value *root,
				     const char *path)
{
	struct toml_error err;
	struct parser p = {
		.src = path, .len = strlen(path), .err = &err, .lc_line = 1, .lc_col = 1,
	};
	const struct toml_value *v = root;
	struct key k = { 0 };

	skip_ws(&p);
	if (parse_key(&p, &k) || p.pos != p.len) {
		key_free(&k);
		return NULL;
	}
	for (size_t i = 0; v && i < k.n; i++)
		v = toml_table_getn(v, k.parts[i].s, k.parts[i].len);
	key_free(&k);
	return v;
}

size_t toml_array_len(const struct toml_value *array)
{
	return array && array->type == TOML_ARRAY ? array->u.arr.n : 0;
}

const struct toml_value *toml_array_at(const struct toml_value *array, size_t i)
{
	if (!array || array->type != TOML_ARRAY || i >= array->u.arr.n)
		return NULL;
	return array->u.arr.v[i];
}

/* The typed getters return 0, -ENOENT for a NULL value (a failed lookup)
 * or -EINVAL for a value of another type. */
int toml_get_string(const struct toml_value *v, const char **s, size_t *len)
{
	if (!v)
		return -ENOENT;
	if (v->type != TOML_STRING)
		return -EINVAL;
	*s = v->u.str.s;
	if (len)
		*len = v->u.str.len;
	return 0;
}

int toml_get_int(const struct toml_value *v, int64_t *out)
{
	if (!v)
		return -ENOENT;
	if (v->type != TOML_INTEGER)
		return -EINVAL;
	*out = v->u.i;
	return 0;
}

int toml_get_bool(const struct toml_value *v, bool *out)
{
	if (!v)
		return -ENOENT;
	if (v->type != TOML_BOOLEAN)
		return -EINVAL;
	*out = v->u.b;
	return 0;
}

/* Same types and contents, table keys in the same order. */
bool toml_equal(const struct toml_value *a, const struct toml_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case TOML_TABLE:
		if (a->u.tab.n != b->u.tab.n)
			return false;
		for (size_t i = 0; i < a->u.tab.n; i++) {
			const struct toml_entry *x = &a->u.tab.e[i], *y = &b->u.tab.e[i];

			if (x->keylen != y->keylen || memcmp(x->key, y->key, x->keylen) ||
			    !toml_equal(x->val, y->val))
				return false;
		}
		return true;
	case TOML_ARRAY:
		if (a->u.arr.n != b->u.arr.n)
			return false;
		for (size_t i = 0; i < a->u.arr.n; i++)
			if (!toml_equal(a->u.arr.v[i], b->u.arr.v[i]))
				return false;
		return true;
	case TOML_STRING:
		return a->u.str.len == b->u.str.len &&
		       !memcmp(a->u.str.s, b->u.str.s, a->u.str.len);
	case TOML_INTEGER:
		return a->u.i == b->u.i;
	case TOML_BOOLEAN:
		return a->u.b == b->u.b;
	}
	return false;
}
