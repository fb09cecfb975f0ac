/*
 * tests/unit/test_doc_yamlfast.c - the fast path of the YAML loader
 * (doc/load_yaml_fast.c) must build exactly the tree libyaml's events build:
 * the same nodes, values, flags, lines and columns, or the same error. Seeds
 * are values files of the shapes charts ship; each is mutated many times
 * (deterministically), and enough mutants must take the fast path.
 */
#include "unit.h"
#include "mutate.h"
#include "doc/doc.h"
#include "doc/head.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const seeds[] = {
	"# defaults\nreplicaCount: 1\nimage:\n  repository: nginx\n  tag: \"\"\n  pullPolicy: IfNotPresent\n"
	"imagePullSecrets: []\nnameOverride: ''\npodAnnotations: {}\nservice:\n  type: ClusterIP\n  port: 80\n"
	"resources: {}\n  # limits:\n  #   cpu: 100m\nnodeSelector: {}\ntolerations: []\n",
	"global:\n  labels:\n    team: platform\n  on: yes\n  n: ~\n  f: 1.5e3\n  h: 0x1F\n  neg: -1\n"
	"  empty:\n  after: x   # comment\nlist:\n- a\n- 'b ''c'''\n- \"d\\te\\u00e9\\\\\"\n-\n- k: v\n  k2:\n"
	"  - nested\n",
	"env:\n  - {name: A, value: \"v-{{ .Release.Name }}\"}\n  - {name: B, value: 'x y'}\nres:\n"
	"  requests: {cpu: 100m, memory: 128Mi}\nargs: [--flag, \"-x\", 'y', 1, true]\n\"quoted key\": 1\n"
	"'single': two\ndup: 1\n",
	"config: |\n  line one\n\n    deeper\n  last\nstrip: |-\n  a\n  b\n\n\nnext:\n  - |\n    in a list\n"
	"  - x\n1: int key\ntrue: bool key\n",
	"a:\n  b:\n    c:\n      d: deep\n    e: [1, 2]\n  f: g\nh:\n- i: j\n  k: l\n- m\n",
	/* anchored scalars and their aliases (KServe's image tags) */
	"version: &v v0.15.2\nagent:\n  tag: *v\n  q: &q-1 \"x\"\nlist:\n- *q-1\n- &n 3\n- *n  # again\n",
	/* UTF-8 in comments and values (columns count characters), plain
	 * scalars that start with "-", "?" or ":" (consul's "::1") */
	"# \xe2\x80\x94 the metric\xe2\x80\x99s labels\nhosts:\n  - ::1\n  - 127.0.0.1\n  - ?q\nargs:\n- --leader-elect\n"
	"- -v=2  # caf\xc3\xa9\nname: caf\xc3\xa9 # \xf0\x9f\x98\x80\nq: {k: '\xc3\xa9\xc3\xa9', k2: x}\n"
	"s: [\"\xe2\x82\xac\", b]\n",
	/* empty literal block scalars, as redis-ha's "affinity: |" */
	"affinity: |\n\n# -- a comment\ncustom: ~\nlist:\n- |-\n- |\nlast: |\n",
	/* an error after UTF-8 on its line: its column in characters */
	"a: b\nq: {k: '\xc3\xa9\xe2\x82\xac', k: x}\n",
};

static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

/* the first difference of two trees, in why; 0 when equal */
static int tree_diff(const doc_node *x, const doc_node *y, char *why, size_t n)
{
	size_t i;
	if (!x || !y) {
		snprintf(why, n, "a missing node");
		return x != y;
	}
	if (x->type != y->type || x->flags != y->flags || x->line != y->line || x->col != y->col) {
		snprintf(why, n, "node type %d/%d flags %d/%d at %u:%u / %u:%u", x->type, y->type, x->flags, y->flags,
			 x->line, x->col, y->line, y->col);
		return 1;
	}
	switch (x->type) {
	case DOC_BOOL:
		if (x->u.b != y->u.b)
			return snprintf(why, n, "bool at %u:%u", x->line, x->col), 1;
		return 0;
	case DOC_INT:
		if (x->u.i != y->u.i)
			return snprintf(why, n, "int at %u:%u", x->line, x->col), 1;
		return 0;
	case DOC_FLOAT:
		if (memcmp(&x->u.f, &y->u.f, sizeof(x->u.f)))
			return snprintf(why, n, "float at %u:%u", x->line, x->col), 1;
		return 0;
	case DOC_STR:
		if (x->u.s.len != y->u.s.len || memcmp(x->u.s.ptr, y->u.s.ptr, x->u.s.len))
			return snprintf(why, n, "string at %u:%u: \"%s\" / \"%s\"", x->line, x->col, x->u.s.ptr,
					y->u.s.ptr), 1;
		return 0;
	case DOC_SEQ:
		if (x->u.seq.len != y->u.seq.len)
			return snprintf(why, n, "sequence length at %u:%u", x->line, x->col), 1;
		for (i = 0; i < x->u.seq.len; i++)
			if (tree_diff(x->u.seq.v[i], y->u.seq.v[i], why, n))
				return 1;
		return 0;
	case DOC_MAP:
		if (x->u.map.len != y->u.map.len)
			return snprintf(why, n, "map length at %u:%u", x->line, x->col), 1;
		for (i = 0; i < x->u.map.len; i++)
			if (tree_diff(x->u.map.v[i].key, y->u.map.v[i].key, why, n) ||
			    tree_diff(x->u.map.v[i].val, y->u.map.v[i].val, why, n))
				return 1;
		return 0;
	default:
		return 0;
	}
}

static int accepted;

static int check_one(const char *text, size_t len, doc_dup_mode dup)
{
	karena a = KARENA_INIT;
	kerr ef = KERR_INIT, es = KERR_INIT;
	doc_stream f, s;
	doc_load_opts of, os;
	doc_fast_events ev;
	char why[512];
	int rf, rs, bad = 0;
	memset(&of, 0, sizeof(of));
	of.dup = dup;
	os = of;
	os.no_fast = 1;
	if (doc_fast_events_scan(&ev, text, len))
		accepted++;
	doc_fast_events_release(&ev);
	rf = doc_load_yaml(&f, &a, "v.yaml", text, len, &of, &ef);
	rs = doc_load_yaml(&s, &a, "v.yaml", text, len, &os, &es);
	if (rf != rs || (rf && (strcmp(ef.first.msg, es.first.msg) || ef.first.line != es.first.line ||
				ef.first.col != es.first.col))) {
		unit_fail(__FILE__, __LINE__, "fast %d (%s at %u:%u), libyaml %d (%s at %u:%u):\n%.*s", rf,
			  rf ? ef.first.msg : "", ef.first.line, ef.first.col, rs, rs ? es.first.msg : "", es.first.line,
			  es.first.col, (int)len, text);
		bad = 1;
	} else if (!rf && (f.len != s.len || (f.len && tree_diff(f.docs[0], s.docs[0], why, sizeof(why))))) {
		if (f.len != s.len)
			snprintf(why, sizeof(why), "%zu / %zu documents", f.len, s.len);
		unit_fail(__FILE__, __LINE__, "fast and libyaml trees differ (%s):\n%.*s", why, (int)len, text);
		bad = 1;
	}
	kerr_clear(&ef);
	kerr_clear(&es);
	karena_release(&a);
	return bad;
}

TEST(doc_yaml_fast_path_builds_libyamls_tree)
{
	static const char alphabet[] = " :-#\n'\"|>{}[],\tabx1&*!?.%@\\~\xc3\xa9\xe2\x80\xa8";
	size_t i, k;
	int fails = 0;
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]) && fails < 5; i++) {
		size_t n = strlen(seeds[i]);
		char *buf = malloc(n + 8);
		int before = accepted;
		fails += check_one(seeds[i], n, DOC_DUP_ERROR);
		fails += check_one(seeds[i], n, DOC_DUP_LAST);
		CHECK_MSG(accepted == before + 2, "seed %zu should take the fast path", i);
		for (k = 0; k < 6000 && fails < 5; k++) {
			size_t m = unit_mutate(buf, seeds[i], n, alphabet, next_rand);
			fails += check_one(buf, m, k % 2 ? DOC_DUP_LAST : DOC_DUP_ERROR);
		}
		free(buf);
	}
	CHECK_INT_EQ(fails, 0);
	/* the mutations must exercise the fast path, not only the fallback */
	CHECK_MSG(accepted > 6000, "only %d mutated texts took the fast path", accepted);
}
