/* Unit tests for doc/: YAML loading and scalar resolution as Kubernetes and
 * Helm see it (sigs.k8s.io/yaml over go-yaml v2). */
#include "unit.h"
#include "doc/doc.h"

#include <math.h>
#include <stdlib.h>

static doc_node *load1(karena *a, const char *text, kerr *e)
{
	doc_node *n = NULL;
	if (doc_load_yaml1(&n, a, "t.yaml", text, strlen(text), NULL, e))
		return NULL;
	return n;
}

/* value: YAML text, expected type and printed value */
static const struct {
	const char *yaml;
	doc_type type;
	const char *str;   /* for strings */
	long long i;       /* ints and bools */
	double f;
} scalars[] = {
	{ "yes", DOC_BOOL, NULL, 1, 0 }, { "Yes", DOC_BOOL, NULL, 1, 0 }, { "YES", DOC_BOOL, NULL, 1, 0 },
	{ "on", DOC_BOOL, NULL, 1, 0 }, { "Off", DOC_BOOL, NULL, 0, 0 }, { "no", DOC_BOOL, NULL, 0, 0 },
	{ "y", DOC_BOOL, NULL, 1, 0 }, { "N", DOC_BOOL, NULL, 0, 0 }, { "True", DOC_BOOL, NULL, 1, 0 },
	{ "FALSE", DOC_BOOL, NULL, 0, 0 }, { "tRue", DOC_STR, "tRue", 0, 0 },
	{ "~", DOC_NULL, NULL, 0, 0 }, { "null", DOC_NULL, NULL, 0, 0 }, { "", DOC_NULL, NULL, 0, 0 },
	{ "NULL", DOC_NULL, NULL, 0, 0 }, { "nULL", DOC_STR, "nULL", 0, 0 },
	{ "1000000", DOC_INT, NULL, 1000000, 0 }, { "-42", DOC_INT, NULL, -42, 0 },
	{ "+7", DOC_INT, NULL, 7, 0 }, { "0x1F", DOC_INT, NULL, 31, 0 }, { "0o17", DOC_INT, NULL, 15, 0 },
	{ "0755", DOC_INT, NULL, 493, 0 }, { "0b101", DOC_INT, NULL, 5, 0 }, { "1_000", DOC_INT, NULL, 1000, 0 },
	{ "9223372036854775807", DOC_INT, NULL, 9223372036854775807LL, 0 },
	{ "-9223372036854775808", DOC_INT, NULL, (-9223372036854775807LL - 1), 0 },
	{ "08", DOC_FLOAT, NULL, 0, 8.0 },   /* not octal, but go-yaml's float regexp takes it */
	{ "1.5", DOC_FLOAT, NULL, 0, 1.5 }, { "1e3", DOC_FLOAT, NULL, 0, 1000 }, { ".5", DOC_FLOAT, NULL, 0, 0.5 },
	{ "-2.5E-2", DOC_FLOAT, NULL, 0, -0.025 }, { "1.", DOC_FLOAT, NULL, 0, 1.0 },
	{ "2024-01-31", DOC_STR, "2024-01-31", 0, 0 },              /* timestamps stay strings */
	{ "2001-12-14t21:59:43.10-05:00", DOC_STR, "2001-12-14t21:59:43.10-05:00", 0, 0 },
	{ "1:20", DOC_STR, "1:20", 0, 0 },                          /* no base-60 */
	{ "\"123\"", DOC_STR, "123", 0, 0 }, { "'true'", DOC_STR, "true", 0, 0 },
	{ "!!str 123", DOC_STR, "123", 0, 0 }, { "!!int \"12\"", DOC_INT, NULL, 12, 0 },
	{ "!!float 3", DOC_FLOAT, NULL, 0, 3.0 }, { "!custom text", DOC_STR, "text", 0, 0 },
	{ "1.2.3", DOC_STR, "1.2.3", 0, 0 }, { "0x", DOC_STR, "0x", 0, 0 }, { "-x", DOC_STR, "-x", 0, 0 },
	{ "v1.36.0", DOC_STR, "v1.36.0", 0, 0 }, { "1e", DOC_STR, "1e", 0, 0 },
	{ "0.1.0", DOC_STR, "0.1.0", 0, 0 }, { "Ñandú", DOC_STR, "Ñandú", 0, 0 },
};

TEST(doc_scalar_resolution_matches_go_yaml_v2)
{
	size_t i;
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		kbuf text = KBUF_INIT;
		doc_node *root, *v;
		kbuf_printf(&text, "v: %s\n", scalars[i].yaml);
		root = load1(&a, text.ptr, &e);
		CHECK_MSG(root != NULL, "load %s failed", scalars[i].yaml);
		v = doc_map_get(root, "v");
		CHECK_MSG(v && v->type == scalars[i].type, "%s: type %s, want %s", scalars[i].yaml,
			  v ? doc_type_name(v->type) : "missing", doc_type_name(scalars[i].type));
		if (v && v->type == scalars[i].type) {
			if (v->type == DOC_STR)
				CHECK_STR_EQ(v->u.s.ptr, scalars[i].str);
			else if (v->type == DOC_INT)
				CHECK_MSG(v->u.i == scalars[i].i, "%s: %lld", scalars[i].yaml, (long long)v->u.i);
			else if (v->type == DOC_BOOL)
				CHECK_MSG(v->u.b == (scalars[i].i != 0), "%s", scalars[i].yaml);
			else if (v->type == DOC_FLOAT)
				CHECK_MSG(v->u.f == scalars[i].f, "%s: %g", scalars[i].yaml, v->u.f);
		}
		if (e.code)
			unit_fail(__FILE__, __LINE__, "%s: %s", scalars[i].yaml, e.first.msg);
		kbuf_release(&text);
		kerr_clear(&e);
		karena_release(&a);
	}
}

TEST(doc_special_floats)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *r = load1(&a, "a: .inf\nb: -.Inf\nc: .NaN\n", &e);
	CHECK(r && isinf(doc_get_path(r, "a")->u.f) && doc_get_path(r, "a")->u.f > 0);
	CHECK(r && isinf(doc_get_path(r, "b")->u.f) && doc_get_path(r, "b")->u.f < 0);
	CHECK(r && isnan(doc_get_path(r, "c")->u.f));
	karena_release(&a);
}

TEST(doc_positions_and_paths)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	const char *y = "apiVersion: gateway.networking.k8s.io/v1\n"
			"kind: Gateway\n"
			"metadata:\n"
			"  name: kserve-ingress-gateway\n"
			"spec:\n"
			"  listeners:\n"
			"  - name: http\n"
			"    port: 80\n"
			"  - name: https\n"
			"    port: 443\n";
	doc_node *r = load1(&a, y, &e);
	doc_node *port;
	kbuf b = KBUF_INIT;
	CHECK(r != NULL);
	CHECK_STR_EQ(doc_get_str(r, "metadata.name", NULL), "kserve-ingress-gateway");
	CHECK_INT_EQ(doc_get_int(r, "spec.listeners[1].port", 0), 443);
	CHECK_STR_EQ(doc_get_str(r, ".spec.listeners[0].name", NULL), "http");
	CHECK(doc_get_path(r, "spec.listeners[2]") == NULL);
	CHECK(doc_get_path(r, "spec.listeners[x]") == NULL);
	port = doc_get_path(r, "spec.listeners[1].port");
	CHECK_INT_EQ(port->line, 10);
	CHECK_INT_EQ(port->col, 11);
	doc_pos_format(port, &b);
	CHECK_STR_EQ(b.ptr, "t.yaml:10:11");
	CHECK_INT_EQ(doc_set_path(&a, r, "metadata.labels.app\\.kubernetes\\.io/name", doc_new_str(&a, "x")), 0);
	CHECK_STR_EQ(doc_get_str(r, "metadata.labels.app\\.kubernetes\\.io/name", NULL), "x");
	CHECK_INT_EQ(doc_set_path(&a, r, "kind.x", doc_new_null(&a)), -1);
	kbuf_release(&b);
	karena_release(&a);
}

TEST(doc_multi_document_streams)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_stream s;
	const char *y = "a: 1\n---\n---\nb: 2\n...\n---\n- x\n";
	CHECK_INT_EQ(doc_load_yaml(&s, &a, "s.yaml", y, strlen(y), NULL, &e), 0);
	CHECK_INT_EQ(s.len, 4);
	CHECK(s.docs[1]->type == DOC_NULL);
	CHECK_INT_EQ(doc_get_int(s.docs[2], "b", 0), 2);
	CHECK(s.docs[3]->type == DOC_SEQ);
	CHECK_INT_EQ(s.docs[2]->line, 4);
	CHECK(doc_load_yaml1(&s.docs[0], &a, "s.yaml", y, strlen(y), NULL, &e) == KE_INPUT);
	kerr_clear(&e);
	CHECK_INT_EQ(doc_load_yaml(&s, &a, "empty.yaml", "", 0, NULL, &e), 0);
	CHECK_INT_EQ(s.len, 0);
	karena_release(&a);
}

TEST(doc_anchors_aliases_and_merge_keys)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	const char *y = "base: &b {p: 1, q: 2}\n"
			"other: &o {q: 20, z: 30}\n"
			"m1:\n  <<: *b\n  q: 9\n"            /* later keys override the merge */
			"m2:\n  q: 9\n  <<: *b\n"            /* go-yaml v2: the merge overrides earlier keys */
			"m3:\n  <<: [*b, *o]\n"              /* earlier maps in the list win */
			"list: &l [1, 2]\n"
			"copy: *l\n"
			"'<<': literal\n"
			"y: is-a-bool-key\n";                 /* YAML 1.1: the key y is true */
	doc_node *r = load1(&a, y, &e);
	CHECK(r != NULL);
	if (!r) {
		karena_release(&a);
		return;
	}
	CHECK_INT_EQ(doc_get_int(r, "m1.p", 0), 1);
	CHECK_INT_EQ(doc_get_int(r, "m1.q", 0), 9);
	CHECK_INT_EQ(doc_get_int(r, "m2.q", 0), 2);
	CHECK_INT_EQ(doc_get_int(r, "m3.q", 0), 2);
	CHECK_INT_EQ(doc_get_int(r, "m3.z", 0), 30);
	CHECK_STR_EQ(doc_get_str(r, "true", NULL), "is-a-bool-key");
	CHECK_INT_EQ(doc_len(doc_get_path(r, "copy")), 2);
	/* aliases are copies: changing one does not change the other */
	doc_get_path(r, "copy[0]")->u.i = 99;
	CHECK_INT_EQ(doc_get_int(r, "list[0]", 0), 1);
	CHECK_STR_EQ(doc_get_str(r, "<<", NULL), "literal");
	karena_release(&a);
}

TEST(doc_non_string_keys_become_strings)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *r = load1(&a, "1: a\ntrue: b\n0x10: c\n1.5: d\n", &e);
	CHECK(r != NULL);
	CHECK_STR_EQ(doc_get_str(r, "1", NULL), "a");
	CHECK_STR_EQ(doc_get_str(r, "true", NULL), "b");
	CHECK_STR_EQ(doc_get_str(r, "16", NULL), "c");
	CHECK_STR_EQ(doc_map_get(r, "1.5")->u.s.ptr, "d");   /* a dot in a path splits it */
	kerr_clear(&e);
	/* a null key has no JSON form: sigs.k8s.io/yaml refuses it */
	CHECK(load1(&a, "a: 1\nnull: e\n", &e) == NULL);
	CHECK_CONTAINS(e.first.msg, "a map key must not be null");
	CHECK_INT_EQ(e.first.line, 2);
	kerr_clear(&e);
	/* "on" is the boolean true too, so it collides with "true" */
	CHECK(load1(&a, "true: b\non: f\n", &e) == NULL);
	CHECK_CONTAINS(e.first.msg, "duplicate key \"true\"");
	kerr_clear(&e);
	karena_release(&a);
}

TEST(doc_duplicate_keys_error_or_last_wins)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	doc_node *n;
	doc_load_opts o = { 0 };
	const char *y = "a: 1\nb: 2\na: 3\n";
	CHECK_INT_EQ(doc_load_yaml1(&n, &a, "d.yaml", y, strlen(y), NULL, &e), KE_INPUT);
	kerr_format(&e, &b);
	CHECK_STR_EQ(b.ptr, "d.yaml:3:1: duplicate key \"a\" in a map (first at line 1, column 1)\n  a: 3\n  ^");
	kerr_clear(&e);
	o.dup = DOC_DUP_LAST;
	CHECK_INT_EQ(doc_load_yaml1(&n, &a, "d.yaml", y, strlen(y), &o, &e), 0);
	CHECK_INT_EQ(doc_get_int(n, "a", 0), 3);
	CHECK_INT_EQ(doc_len(n), 2);
	kbuf_release(&b);
	karena_release(&a);
}

TEST(doc_json_loading)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *n;
	const char *j = "{\"z\":1,\"a\":[1.5,true,null,\"s\"],\"big\":9007199254740993}";
	CHECK_INT_EQ(doc_load_json(&n, &a, "r.json", j, strlen(j), &e), 0);
	CHECK_STR_EQ(n->u.map.v[0].key->u.s.ptr, "z");   /* order kept */
	CHECK(doc_get_path(n, "a[0]")->type == DOC_FLOAT);
	CHECK(doc_get_path(n, "a[2]")->type == DOC_NULL);
	CHECK_INT_EQ(doc_get_int(n, "big", 0), 9007199254740993LL);   /* exact */
	CHECK_INT_EQ(doc_load_json(&n, &a, "bad.json", "{\"a\":1,\"a\":2}", 13, &e), KE_INPUT);
	kerr_clear(&e);
	CHECK_INT_EQ(doc_load_json(&n, &a, "bad.json", "{\n  \"a\": tru\n}", 14, &e), KE_INPUT);
	CHECK(e.first.line == 2);
	kerr_clear(&e);
	/* a NUL in a key (Go writes "\u0000"; jansson refuses it in keys): read
	 * whole, order kept (a fuzzer finding: the JSON round trip of such YAML) */
	j = "{\"z\":1,\"a\\u0000b\":{\"n\":[2]}}";
	CHECK_INT_EQ(doc_load_json(&n, &a, "r.json", j, strlen(j), &e), 0);
	CHECK_INT_EQ(n->u.map.len, 2);
	CHECK_STR_EQ(n->u.map.v[0].key->u.s.ptr, "z");
	CHECK_INT_EQ(n->u.map.v[1].key->u.s.len, 3);
	CHECK(!memcmp(n->u.map.v[1].key->u.s.ptr, "a\0b", 3));
	CHECK_INT_EQ(doc_load_json(&n, &a, "bad.json", "{\"a\\u0000\":tru}", 15, &e), KE_INPUT);
	kerr_clear(&e);
	/* skip: the object's own metadata.managedFields left out, nothing else */
	j = "{\"metadata\":{\"name\":\"x\",\"managedFields\":[{\"manager\":\"m\"}]},"
	    "\"spec\":{\"metadata\":{\"managedFields\":1}},\"managedFields\":2}";
	CHECK_INT_EQ(doc_load_json_skip(&n, &a, "r.json", j, strlen(j), "metadata", "managedFields", &e), 0);
	CHECK(doc_get_path(n, "metadata.managedFields") == NULL);
	CHECK_STR_EQ(doc_get_str(n, "metadata.name", ""), "x");
	CHECK_INT_EQ(doc_get_int(n, "spec.metadata.managedFields", 0), 1);
	CHECK_INT_EQ(doc_get_int(n, "managedFields", 0), 2);
	j = "{\"metadata\":{\"k\\u0000\":1,\"managedFields\":[]}}";
	CHECK_INT_EQ(doc_load_json_skip(&n, &a, "r.json", j, strlen(j), "metadata", "managedFields", &e), 0);
	CHECK(doc_get_path(n, "metadata.managedFields") == NULL);
	CHECK_INT_EQ(doc_get_path(n, "metadata")->u.map.len, 1);
	/* a list at the top and maps inside lists are read whole */
	j = "[{\"metadata\":{\"managedFields\":1}}]";
	CHECK_INT_EQ(doc_load_json_skip(&n, &a, "r.json", j, strlen(j), "metadata", "managedFields", &e), 0);
	CHECK_INT_EQ(doc_get_int(n->u.seq.v[0], "metadata.managedFields", 0), 1);
	karena_release(&a);
}

TEST(doc_equal_semantics)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *x = load1(&a, "{a: 1, b: [1, 2.0], c: {d: x}}", &e);
	doc_node *y = load1(&a, "{c: {d: x}, b: [1.0, 2], a: 1.0}", &e);
	doc_node *z = load1(&a, "{c: {d: x}, b: [2, 1], a: 1}", &e);
	CHECK(doc_equal(x, y));
	CHECK(!doc_equal(x, z));
	CHECK(doc_equal(doc_copy(&a, x), x));
	CHECK(doc_map_del(x, "a"));
	CHECK(!doc_map_del(x, "a"));
	CHECK(!doc_equal(x, y));
	karena_release(&a);
}

/* ---- streaming (doc_load_opts.each) ---- */

typedef struct each_seen {
	kbuf json;              /* each document as JSON, then " @line:col\n" */
	size_t n, stop_at;      /* stop_at: the callback fails on that document (1-based; 0: never) */
} each_seen;

static void note_doc(kbuf *out, const doc_node *d)
{
	kerr e = KERR_INIT;
	doc_emit_json(out, d, 0, &e);
	kerr_clear(&e);
	kbuf_printf(out, " @%s:%u:%u\n", d->file ? d->file : "-", d->line, d->col);
}

static int each_doc(void *u, doc_node *d, kerr *err)
{
	each_seen *s = u;
	if (++s->n == s->stop_at)
		return kerr_set(err, KE_INPUT, "stopped at document %zu", s->n);
	note_doc(&s->json, d);
	return 0;
}

static const char stream_text[] =
	"a: &x {k: [1, 2.5, 1e3, true, null, '08', 9223372036854775807]}\n"
	"b: *x\n"
	"c: {<<: *x, more: !!binary aGVsbG8=}\n"
	"---\n"
	"# a comment only: an empty document\n"
	"---\n"
	"- &y one\n"
	"- *y\n"
	"- |\n"
	"  block\n"
	"  text\n"
	"--- plain\n"
	"...\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: ConfigMap\n"
	"metadata: {name: cm, namespace: ns}\n"
	"data:\n"
	"  k: \"\\u00e9\\t\"\n"
	"  x y: >-\n"
	"    folded\n"
	"    line\n";

TEST(doc_stream_each_matches_the_whole_load)
{
	karena a = KARENA_INIT, b = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_stream st;
	doc_load_opts o;
	each_seen s;
	kbuf whole = KBUF_INIT;
	size_t i;
	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	CHECK(doc_load_yaml(&st, &a, "s.yaml", stream_text, strlen(stream_text), NULL, &e) == 0);
	for (i = 0; i < st.len; i++)
		note_doc(&whole, st.docs[i]);
	o.each = each_doc;
	o.each_u = &s;
	CHECK(doc_load_yaml(&st, &b, "s.yaml", stream_text, strlen(stream_text), &o, &e) == 0);
	CHECK_INT_EQ(st.len, 0);
	CHECK_INT_EQ(s.n, 5);
	CHECK_STR_EQ(s.json.ptr, whole.ptr);
	CHECK_CONTAINS(s.json.ptr, "\"more\":\"hello\"");
	kbuf_release(&whole);
	kbuf_release(&s.json);
	kerr_clear(&e);
	karena_release(&a);
	karena_release(&b);
}

TEST(doc_stream_each_errors)
{
	static const char cross[] = "a: &x 1\n---\nb: *x\n";
	static const char bad[] = "a: 1\n---\nb: [\n";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_stream st;
	doc_load_opts o;
	each_seen s;
	memset(&o, 0, sizeof(o));
	o.each = each_doc;
	o.each_u = &s;
	/* an alias cannot reach the anchor of an earlier document (go-yaml v2) */
	memset(&s, 0, sizeof(s));
	CHECK(doc_load_yaml(&st, &a, "c.yaml", cross, strlen(cross), &o, &e) == KE_INPUT);
	CHECK_INT_EQ(s.n, 1);
	CHECK_CONTAINS(e.first.msg, "x");
	CHECK_INT_EQ(e.first.line, 3);
	kerr_clear(&e);
	kbuf_release(&s.json);
	/* a syntax error after a good document: the good one was handed over */
	memset(&s, 0, sizeof(s));
	CHECK(doc_load_yaml(&st, &a, "b.yaml", bad, strlen(bad), &o, &e) == KE_INPUT);
	CHECK_INT_EQ(s.n, 1);
	CHECK_STR_EQ(e.first.file, "b.yaml");
	kerr_clear(&e);
	kbuf_release(&s.json);
	/* the callback's error stops the load, as it is */
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	CHECK(doc_load_yaml(&st, &a, "s.yaml", stream_text, strlen(stream_text), &o, &e) == KE_INPUT);
	CHECK_INT_EQ(s.n, 2);
	CHECK_STR_EQ(e.first.msg, "stopped at document 2");
	kerr_clear(&e);
	kbuf_release(&s.json);
	karena_release(&a);
}
