/* Malformed YAML: every case gives one clear error with file:line:col and
 * the right code, and never crashes (this runs under ASan/UBSan). */
#include "unit.h"
#include "doc/doc.h"

#include <stdlib.h>

static const struct bad {
	const char *name;
	const char *yaml;
	int code;
	unsigned line, col;
	const char *msg;   /* a part of the message */
} bad[] = {
	{ "bad indentation", "a:\n  b: 1\n c: 2\n", KE_INPUT, 3, 2, "did not find expected key" },
	{ "tab indentation", "a:\n\tb: 1\n", KE_INPUT, 2, 1, "cannot start any token" },
	{ "unclosed double quote", "a: \"abc\nb: 2\n", KE_INPUT, 3, 1, "while scanning a quoted scalar (line 1, column 4)" },
	{ "unclosed single quote", "a: 'abc\n", KE_INPUT, 2, 1, "unexpected end of stream" },
	{ "duplicate key", "a: 1\na: 2\n", KE_INPUT, 2, 1, "duplicate key \"a\" in a map (first at line 1, column 1)" },
	{ "duplicate nested key", "a:\n  b: 1\n  b: 2\n", KE_INPUT, 3, 3, "duplicate key \"b\"" },
	{ "duplicate key through YAML 1.1 booleans", "true: 1\nyes: 2\n", KE_INPUT, 2, 1, "duplicate key \"true\"" },
	{ "unclosed flow sequence", "a: [1, 2\n", KE_INPUT, 2, 1, "did not find expected ',' or ']'" },
	{ "unclosed flow map", "a: {x: 1\n", KE_INPUT, 2, 1, "did not find expected ',' or '}'" },
	{ "empty entry in flow map", "a: {x: 1,, y}\n", KE_INPUT, 1, 10, "did not find expected node content" },
	{ "block sequence after a key", "a: - b\n", KE_INPUT, 1, 4, "block sequence entries are not allowed" },
	{ "mapping value in a plain scalar", "a: b: c\n", KE_INPUT, 1, 5, "mapping values are not allowed" },
	{ "unknown anchor", "a: *nope\n", KE_INPUT, 1, 4, "unknown anchor \"nope\"" },
	{ "recursive alias", "a: &x [*x]\n", KE_INPUT, 1, 8, "unknown anchor \"x\"" },
	{ "bad escape", "a: \"\\q\"\n", KE_INPUT, 1, 5, "unknown escape character" },
	{ "invalid UTF-8 in quotes", "a: \"\xff\xfe\"\n", KE_INPUT, 1, 5, "invalid leading UTF-8 octet" },
	{ "invalid UTF-8 continuation", "a: b\xc3\x28\n", KE_INPUT, 1, 6, "invalid trailing UTF-8 octet" },
	{ "truncated UTF-8 at the end", "a: b\xe2\x82", KE_INPUT, 1, 5, "incomplete UTF-8 octet sequence" },
	{ "control character", "a: \x01\n", KE_INPUT, 1, 4, "control characters are not allowed" },
	{ "bad !!int", "a: !!int abc\n", KE_INPUT, 1, 4, "cannot decode \"abc\" as !!int" },
	{ "bad !!bool", "a: !!bool maybe\n", KE_INPUT, 1, 4, "as !!bool" },
	{ "bad !!float", "a: !!float x1\n", KE_INPUT, 1, 4, "as !!float" },
	{ "bad !!timestamp", "a: !!timestamp nope\n", KE_INPUT, 1, 4, "cannot decode \"nope\" as !!timestamp" },
	{ "map tag on a scalar", "a: !!map x\n", KE_INPUT, 1, 4, "a scalar cannot carry the tag" },
	{ "str tag on a sequence", "a: !!str [1]\n", KE_INPUT, 1, 4, "a sequence cannot carry the tag" },
	{ "merge of a scalar", "a:\n  <<: 1\n", KE_INPUT, 2, 7, "map merge requires a map" },
	{ "merge of a list of scalars", "a:\n  <<: [1]\n", KE_INPUT, 2, 7, "map merge requires a map" },
	{ "map as a key", "? {a: 1}\n: x\n", KE_INPUT, 1, 8, "a map key must be a scalar" },
	{ "list as a key", "[a]: x\n", KE_INPUT, 1, 3, "a map key must be a scalar" },
	{ "garbage after a document", "a: 1\n--- x\n: y\n", KE_INPUT, 3, 1, "did not find expected <document start>" },
	{ "duplicate directive", "%YAML 1.1\n%YAML 1.1\n---\na: 1\n", KE_INPUT, 2, 1, "duplicate %YAML directive" },
	{ "incompatible version", "%YAML 2.0\n---\na: 1\n", KE_INPUT, 1, 1, "incompatible YAML document" },
	{ "bad block scalar header", "a: |x\n  b\n", KE_INPUT, 1, 5, "while scanning a block scalar" },
	{ "dedented block scalar", "a:\n  b: |\n    x\n   y\n  c: 1\n", KE_INPUT, 4, 4, "did not find expected key" },
	{ "sequence then map", "a:\n  - 1\n  b: 2\n", KE_INPUT, 3, 3, "did not find expected '-' indicator" },
	{ "anchor without node in flow", "a: [&x]\n", 0, 0, 0, NULL },   /* valid: an anchored null */
	{ "alias bomb",
	  "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	  "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	  "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
	  KE_LIMIT, 6, 29, "refusing a possible alias bomb" },
};

static void check_case(const struct bad *c, const char *text, size_t len)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_stream s;
	kbuf f = KBUF_INIT;
	int r = doc_load_yaml(&s, &a, "bad.yaml", text, len, NULL, &e);
	CHECK_MSG(r == c->code, "%s: code %d, want %d (%s)", c->name, r, c->code, e.first.msg ? e.first.msg : "");
	if (c->code) {
		CHECK_MSG(e.count == 1, "%s: %zu errors, want one", c->name, e.count);
		CHECK_MSG(e.first.line == c->line && e.first.col == c->col, "%s: at %u:%u, want %u:%u (%s)",
			  c->name, e.first.line, e.first.col, c->line, c->col, e.first.msg);
		kerr_format(&e, &f);
		CHECK_MSG(strstr(f.ptr, c->msg) != NULL, "%s: message \"%s\" lacks \"%s\"", c->name, f.ptr, c->msg);
		CHECK_MSG(!strncmp(f.ptr, "bad.yaml:", 9), "%s: message does not start with the file: %s", c->name, f.ptr);
		if (c->code == KE_INPUT)
			CHECK_MSG(strchr(f.ptr, '^') != NULL, "%s: no caret in %s", c->name, f.ptr);
	}
	kbuf_release(&f);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(doc_malformed_yaml_table)
{
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_case(&bad[i], bad[i].yaml, strlen(bad[i].yaml));
}

TEST(doc_nul_byte_is_an_error)
{
	static const struct bad c = { "NUL byte", NULL, KE_INPUT, 1, 5, "control characters are not allowed" };
	check_case(&c, "a: b\0c\n", 7);
}

TEST(doc_deep_flow_nesting_is_refused)
{
	size_t n = 10000, i;
	char *t = malloc(2 * n + 1);
	static const struct bad c = { "10,000-deep flow nesting", NULL, KE_LIMIT, 1, 1001, "nesting deeper than 1000 levels" };
	for (i = 0; i < n; i++) {
		t[i] = '[';
		t[2 * n - 1 - i] = ']';
	}
	t[2 * n] = '\0';
	check_case(&c, t, 2 * n);
	free(t);
}

TEST(doc_deep_block_nesting_is_refused)
{
	kbuf b = KBUF_INIT;
	size_t i;
	static const struct bad c = { "1,500-deep block nesting", NULL, KE_LIMIT, 1001, 2001, "nesting deeper than 1000 levels" };
	for (i = 0; i < 1500; i++) {
		kbuf_putn(&b, ' ', 2 * i);
		kbuf_puts(&b, "k:\n");
	}
	kbuf_puts(&b, "v\n");
	check_case(&c, b.ptr, b.len);
	kbuf_release(&b);
}

TEST(doc_100mb_input_is_refused)
{
	size_t len = (size_t)100 << 20, i;
	char *t = malloc(len);
	static const struct bad c = { "100 MB input", NULL, KE_LIMIT, 13421773, 5, "larger than the 67108864-byte limit" };
	for (i = 0; i + 5 <= len; i += 5)
		memcpy(t + i, "a: b\n", 5);
	check_case(&c, t, len);
	free(t);
}

TEST(doc_many_errors_never_crash_truncated_inputs)
{
	/* every prefix of a real manifest either loads or fails cleanly */
	const char *y = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"x\"\n  labels: {a: b, c: [1, 2]}\n"
			"data:\n  key: |\n    line\n  other: &a 'q'\n  again: *a\n";
	size_t n = strlen(y), i;
	for (i = 0; i <= n; i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_stream s;
		int r = doc_load_yaml(&s, &a, "p.yaml", y, i, NULL, &e);
		CHECK(r == 0 || (r == KE_INPUT && e.first.line >= 1));
		kerr_clear(&e);
		karena_release(&a);
	}
}
