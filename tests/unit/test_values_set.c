/* Unit tests for installer/values: the --set parser, merge, coalesce, user values. */
#include "unit.h"
#include "values/values.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char *to_json(const doc_node *n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	doc_emit_json(&b, n, DOC_EMIT_SORT_KEYS, &e);
	kerr_clear(&e);
	return kbuf_detach(&b, NULL);
}

/* Parse args (kind, arg) in order into one map; "" on error with the message in msg. */
static char *parse_all(values_flag_kind kind, const char *const *args, size_t n, kbuf *msg)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *m = doc_new_map(&a);
	char *out = NULL;
	size_t i;
	for (i = 0; i < n; i++)
		if (values_parse_set(m, &a, kind, args[i], VALUES_NUM_HELM, &e))
			break;
	if (e.code) {
		if (msg)
			kerr_format(&e, msg);
		out = calloc(1, 1);
	} else {
		out = to_json(m);
	}
	kerr_clear(&e);
	karena_release(&a);
	return out;
}

typedef struct set_case {
	values_flag_kind kind;
	const char *args[3];
	const char *want;   /* JSON, or NULL for an error */
	const char *err;    /* substring of the error */
} set_case;

static const set_case set_cases[] = {
	{ VALUES_SET, { "name=value" }, "{\"name\":\"value\"}", NULL },
	{ VALUES_SET, { "a.b=c,d=e" }, "{\"a\":{\"b\":\"c\"},\"d\":\"e\"}", NULL },
	{ VALUES_SET, { "long_int_string=1234567890" }, "{\"long_int_string\":1234567890}", NULL },
	{ VALUES_SET, { "boolean=true" }, "{\"boolean\":true}", NULL },
	{ VALUES_SET, { "b=TRUE,c=False,d=NULL" }, "{\"b\":true,\"c\":false,\"d\":null}", NULL },
	{ VALUES_SET, { "is_null=null" }, "{\"is_null\":null}", NULL },
	{ VALUES_SET, { "zero=0,leading=007,neg=-3,plus=+4" },
	  "{\"leading\":\"007\",\"neg\":-3,\"plus\":4,\"zero\":0}", NULL },
	{ VALUES_SET, { "f=1.5,big=99999999999999999999" }, "{\"big\":\"99999999999999999999\",\"f\":\"1.5\"}", NULL },
	{ VALUES_SET, { "name=" }, "{\"name\":\"\"}", NULL },
	{ VALUES_SET, { "name=,b=1" }, "{\"b\":1,\"name\":\"\"}", NULL },
	{ VALUES_SET, { "a=1," }, "{\"a\":1}", NULL },
	{ VALUES_SET, { "list={a,b,c}" }, "{\"list\":[\"a\",\"b\",\"c\"]}", NULL },
	{ VALUES_SET, { "list={1,true,x},b=2" }, "{\"b\":2,\"list\":[1,true,\"x\"]}", NULL },
	{ VALUES_SET, { "list={}" }, "{\"list\":[\"\"]}", NULL },
	{ VALUES_SET, { "a[0]=x,a[2]=z" }, "{\"a\":[\"x\",null,\"z\"]}", NULL },
	{ VALUES_SET, { "a[0].b=c,a[0].d=e" }, "{\"a\":[{\"b\":\"c\",\"d\":\"e\"}]}", NULL },
	{ VALUES_SET, { "a[1][0]=x" }, "{\"a\":[null,[\"x\"]]}", NULL },
	{ VALUES_SET, { "a.b[0].c[1]=x" }, "{\"a\":{\"b\":[{\"c\":[null,\"x\"]}]}}", NULL },
	{ VALUES_SET, { "a\\.b=c" }, "{\"a.b\":\"c\"}", NULL },
	{ VALUES_SET, { "a=b\\,c" }, "{\"a\":\"b,c\"}", NULL },
	{ VALUES_SET, { "a=b\\=c" }, "{\"a\":\"b=c\"}", NULL },
	{ VALUES_SET, { "a=b=c" }, "{\"a\":\"b=c\"}", NULL },
	{ VALUES_SET, { "a=x\\\\y" }, "{\"a\":\"x\\\\y\"}", NULL },
	{ VALUES_SET, { "a.b=1", "a.c=2" }, "{\"a\":{\"b\":1,\"c\":2}}", NULL },
	{ VALUES_SET, { "a=1", "a=2" }, "{\"a\":2}", NULL },
	{ VALUES_SET, { "", }, "{}", NULL },
	{ VALUES_SET_STRING, { "a=1,b=true,c=null,d=007" }, "{\"a\":\"1\",\"b\":\"true\",\"c\":\"null\",\"d\":\"007\"}", NULL },
	{ VALUES_SET_STRING, { "l={1,2}" }, "{\"l\":[\"1\",\"2\"]}", NULL },
	{ VALUES_SET_LITERAL, { "a.b=x,y={z}=w\\n" }, "{\"a\":{\"b\":\"x,y={z}=w\\\\n\"}}", NULL },
	{ VALUES_SET_LITERAL, { "a[1]=v,w" }, "{\"a\":[null,\"v,w\"]}", NULL },
	{ VALUES_SET_JSON, { "a={\"b\":[1,2]},c=\"x\"" }, "{\"a\":{\"b\":[1,2]},\"c\":\"x\"}", NULL },
	{ VALUES_SET_JSON, { "a=,b=1" }, "{\"a\":null,\"b\":1}", NULL },
	{ VALUES_SET_JSON, { "a[1]=[true]" }, "{\"a\":[null,[true]]}", NULL },
	{ VALUES_SET_JSON, { "a= 5 , b=null" }, "{\" b\":null,\"a\":5}", NULL },
	/* errors */
	{ VALUES_SET, { "name" }, NULL, "key \"name\" has no value" },
	{ VALUES_SET, { "name,b=1" }, NULL, "cannot end with ," },
	{ VALUES_SET, { "a.=1" }, NULL, "key map \"a\" has no value" },
	{ VALUES_SET, { "list={a,b" }, NULL, "list must terminate with '}'" },
	{ VALUES_SET, { "a[x]=1" }, NULL, "error parsing index" },
	{ VALUES_SET, { "a[1" }, NULL, "missing ']'" },
	{ VALUES_SET, { "a[-1]=1" }, NULL, "negative -1 index not allowed" },
	{ VALUES_SET, { "a[65537]=1" }, NULL, "greater than maximum supported index of 65536" },
	{ VALUES_SET, { "a[0]x=1" }, NULL, "unexpected data at end of array index" },
	{ VALUES_SET, { "a[0]" }, NULL, "has no value" },
	{ VALUES_SET, { "a=1", "a.b=2" }, NULL, "key \"a\" is a int, not a map" },
	{ VALUES_SET, { "a=1", "a[0]=2" }, NULL, "key \"a\" is a int, not a list" },
	{ VALUES_SET, { "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a=1" }, NULL,
	  "maximum supported nested level of 30" },
	{ VALUES_SET_JSON, { "a={bad}" }, NULL, "invalid JSON value" },
	{ VALUES_SET_JSON, { "a={\"x\":1,\"x\":2}" }, NULL, "--set-json:1:12: invalid JSON value: duplicate object key" },
	{ VALUES_SET_JSON, { "a=\"x\\u0000y\"" }, NULL, "invalid JSON value: \\u0000 is not allowed" },
};

TEST(values_set_table)
{
	size_t i, n;
	for (i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		const set_case *c = &set_cases[i];
		kbuf msg = KBUF_INIT;
		char *got;
		for (n = 0; n < 3 && c->args[n]; n++)
			;
		got = parse_all(c->kind, c->args, n, &msg);
		if (c->want)
			CHECK_MSG(!strcmp(got, c->want), "case %zu (%s): got %s want %s (err %s)", i, c->args[0],
				  got, c->want, msg.ptr);
		else
			CHECK_MSG(!*got && strstr(msg.ptr, c->err), "case %zu (%s): got %s, err \"%s\", want err %s",
				  i, c->args[0], got, msg.ptr, c->err);
		free(got);
		kbuf_release(&msg);
	}
}

TEST(values_set_error_has_caret)
{
	kbuf msg = KBUF_INIT;
	const char *args[] = { "good=1,bad[x]=2" };
	char *got = parse_all(VALUES_SET, args, 1, &msg);
	CHECK_STR_EQ(msg.ptr, "--set:1:12: error parsing index: \"x\" is not an integer\n"
			      "  good=1,bad[x]=2\n"
			      "             ^");
	free(got);
	kbuf_release(&msg);
}

TEST(values_set_positions)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *m = doc_new_map(&a), *n;
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(values_parse_set(m, &a, VALUES_SET, "x=1,image.tag=v1", VALUES_NUM_HELM, &e), 0);
	n = doc_get_path(m, "image.tag");
	CHECK(n != NULL);
	doc_pos_format(n, &b);
	CHECK_STR_EQ(b.ptr, "--set x=1,image.tag=v1:1:15");
	kbuf_release(&b);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(values_set_json_numbers_by_mode)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *m = doc_new_map(&a);
	CHECK_INT_EQ(values_parse_set(m, &a, VALUES_SET_JSON, "a=3", VALUES_NUM_HELM, &e), 0);
	CHECK_INT_EQ(doc_get_path(m, "a")->type, DOC_FLOAT);
	CHECK_INT_EQ(values_parse_set(m, &a, VALUES_SET_JSON, "a=3", VALUES_NUM_EXACT, &e), 0);
	CHECK_INT_EQ(doc_get_path(m, "a")->type, DOC_INT);
	CHECK_INT_EQ(values_parse_set(m, &a, VALUES_SET, "a=3", VALUES_NUM_HELM, &e), 0);
	CHECK_INT_EQ(doc_get_path(m, "a")->type, DOC_INT);
	kerr_clear(&e);
	karena_release(&a);
}

static doc_node *y(karena *a, const char *text)
{
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	doc_load_yaml1(&n, a, "t.yaml", text, strlen(text), NULL, &e);
	kerr_clear(&e);
	return n;
}

TEST(values_merge_and_coalesce)
{
	karena a = KARENA_INIT;
	doc_node *d, *u;
	char *s;
	d = y(&a, "a: {b: 1, c: [1, 2]}\nd: x\n");
	u = y(&a, "a: {c: [3], e: 4}\nd: {z: 1}\n");
	s = to_json(values_merge(&a, d, u));
	CHECK_STR_EQ(s, "{\"a\":{\"b\":1,\"c\":[3],\"e\":4},\"d\":{\"z\":1}}");
	free(s);
	/* coalesce: user wins, maps merge, null deletes a default */
	d = y(&a, "a: {b: 1, c: 2, m: {x: 1}}\nd: x\nkeep: 1\n");
	u = y(&a, "a: {b: null, m: 5}\nd: null\nnew: null\n");
	s = to_json(values_coalesce(&a, u, d));
	CHECK_STR_EQ(s, "{\"a\":{\"c\":2,\"m\":5},\"keep\":1,\"new\":null}");
	free(s);
	karena_release(&a);
}

TEST(values_read_user_precedence)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	char p1[] = "/tmp/kstage-vt-XXXXXX", p2[] = "/tmp/kstage-vt-XXXXXX";
	int f1 = mkstemp(p1), f2 = mkstemp(p2);
	const char *files[2];
	values_flag flags[] = {
		{ VALUES_SET_STRING, "s=1" },
		{ VALUES_SET, "s=2,n=3" },
		{ VALUES_SET_JSON, "s=4,j={\"k\":1}" },
		{ VALUES_SET_SECRET, "pw=hunter2" },
		{ VALUES_SET_LITERAL, "lit=a,b" },
	};
	values_opts o;
	doc_node *out = NULL, *sp = NULL;
	char *s;
	CHECK(f1 >= 0 && f2 >= 0);
	CHECK(write(f1, "a: {x: 1, w: 2}\nf: 1\n", 21) == 21);
	CHECK(write(f2, "a: {w: 3}\nf: 2.5\n", 17) == 17);
	close(f1);
	close(f2);
	files[0] = p1;
	files[1] = p2;
	memset(&o, 0, sizeof(o));
	o.files = files;
	o.nfiles = 2;
	o.flags = flags;
	o.nflags = 5;
	o.num = VALUES_NUM_HELM;
	CHECK_INT_EQ(values_read_user(&out, &sp, &a, &o, &e), 0);
	s = to_json(out);
	/* json first, then --set, then --set-string: s ends as the string "1" */
	CHECK_STR_EQ(s, "{\"a\":{\"w\":3,\"x\":1},\"f\":2.5,\"j\":{\"k\":1},\"lit\":\"a,b\",\"n\":3,\"pw\":\"hunter2\",\"s\":\"1\"}");
	free(s);
	CHECK_INT_EQ(doc_get_path(out, "a.x")->type, DOC_FLOAT);
	CHECK_INT_EQ(doc_len(sp), 1);
	CHECK_STR_EQ(doc_seq_get(sp, 0)->u.s.ptr, "pw");
	unlink(p1);
	unlink(p2);
	kerr_clear(&e);
	karena_release(&a);
}
