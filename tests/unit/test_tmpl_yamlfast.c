/*
 * tests/unit/test_tmpl_yamlfast.c - the fast YAML check of rendered
 * documents (tmpl/render.c) must never call valid what libyaml rejects,
 * and must find the same kind and hook. Seeds are documents of the shapes
 * charts render; each is mutated many times (deterministically).
 */
#include "unit.h"
#include "mutate.h"
#include "tmpl/tmpl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const seeds[] = {
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: pre-install\n"
	"data:\n  a: b\n  list:\n  - 1\n  - two\n",
	"kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          args:\n"
	"            - --flag\n            - '-x'\n          env:\n          - name: A\n            value: \"q\"\n",
	"kind: CustomResourceDefinition\nspec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n"
	"        properties:\n          spec:\n            type: object\n        required:\n        - spec\n"
	"    subresources:\n      status: {}\n",
	"metadata:\n  annotations:\n    helm.sh/hook: test\nkind: Pod\nspec:\n  script: |\n    echo hi\n    exit 0\n"
	"  after: x\n",
	"kind: Secret\ndata:\n  k: dmFsdWU=\n  empty: []\n  other: ''\n  n: -1\n  f: 1.5e3\n  t: yes\n",
	"kind: ClusterRole\nrules:\n- apiGroups: [\"a.io\", \"\"]\n  verbs: [get, list, 'watch']\n"
	"  resources: [pods/log, x-y.z]\n",
	"kind: Pod\nspec:\n  args:\n  - |\n    line one\n\n    line two\n  - >-\n      folded\n  env:\n"
	"  - name: S\n    value: |+\n      keep\n      \n        deeper\n  cmd: [/bin/sh, -c]\n",
	"metadata:\n  annotations:\n    helm.sh/hook: post-install\nkind: ConfigMap\ndata:\n  conf: |-\n"
	"    {\n      \"a\": [1, 2]\n    }\n      \n    # not a comment\n  other: x\n",
	/* double-quoted values with escapes (toJson | quote), in a map and a list */
	"kind: ConfigMap\ndata:\n  settings.json: \"{\\\"a\\\":\\\"b \\\\\\\"c\\\"}\"\n  esc: \"\\t\\u00e9\\x41\\U0001F600\\/\\ \"\n"
	"  list:\n  - \"\\n\\\\\"\n  - x\n",
	/* descriptions wrapped over lines, plain and single-quoted (kubectl's CRDs) */
	"kind: CustomResourceDefinition\nspec:\n  properties:\n    op:\n      description: Operation is the\n"
	"        operation to run - or [not]\n\n        at all\n      type: string\n    retry:\n"
	"      description: 'Retry, when it fails: the\n        ''first'' one (default: false)'\n      type: object\n",
	/* quoted keys of plain-key characters (annotations in hooks, selectors) */
	"apiVersion: v1\n\"kind\": Job\nmetadata:\n  name: j\n  annotations:\n    \"helm.sh/hook\": pre-install,pre-upgrade\n"
	"    'helm.sh/hook-weight': \"-5\"\nspec:\n  selector:\n    \"app.io/name\": x\n  \"list\":\n  - 'a'\n",
	/* double-quoted descriptions wrapped over lines, '' in list items (CRD validations) */
	"kind: CustomResourceDefinition\nspec:\n  properties:\n    expr:\n      description: \"expression is the\n"
	"        \\\"CEL\\\" text: a, b #c\n\n        \\u00e9 -- end\"\n      type: string\n"
	"  x-kubernetes-validations:\n  - message: '''.name'' cannot be empty'\n    rule: has(self.name)\n",
	/* UTF-8 text in values (descriptions, block scalars) */
	"kind: CustomResourceDefinition\nspec:\n  d: units are \"ns\", \"µs\" — or “ms”\n  q: \"naïve\n    café\"\n"
	"  b: |\n    日本語 🙂\n  list:\n  - ¼ élan\n",
	/* comments after values and keys, empty flow collections alone under
	 * their key or item (rook's "# namespace:cluster", argo-cd, redis-ha) */
	"apiVersion: v1 # c\nkind: Role  # k\nmetadata: # m\n  name: x # n\n  namespace: default # namespace:cluster\n"
	"  annotations:\n    helm.sh/hook: pre-install # h\nrules:\n- verbs: [get, list] # v\n  x: \"q\" # \"r\"\n"
	"  y: 'it''s' # it's\n- delete  # a live object\n- # an item\n  z: { }\naffinity:\n  {}\nsel:\n  - \n    [ ]\n"
	"n:\n  null\n",
	"kind: Pod\nmetadata:\n  name: p\n  annotations:\n    {}\nspec:\n  metadata: {} # none\n  wrapped:\n    plain text\n"
	"    goes on\n",
	"metadata: { }  # empty\nkind: ConfigMap\n",
};

static unsigned long long rng = 88172645463325252ULL;
static unsigned next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)rng;
}

static int accepted;

static int check_one(const char *doc, size_t len)
{
	char *fk = NULL, *fh = NULL, *fe = NULL, *sk = NULL, *sh = NULL, *se = NULL;
	int bad = 0;
	int fast = doc_head_check(doc, len, true, &fk, &fh, &fe);
	if (fast) {
		accepted++;
		int slow = doc_head_check(doc, len, false, &sk, &sh, &se);
		if (!slow) {
			unit_fail(__FILE__, __LINE__, "fast path accepted YAML libyaml rejects (%s):\n%.*s", se, (int)len, doc);
			bad = 1;
		} else if ((fk == NULL) != (sk == NULL) || (fk && strcmp(fk, sk)) || (fh == NULL) != (sh == NULL) ||
			   (fh && strcmp(fh, sh))) {
			unit_fail(__FILE__, __LINE__, "fast path found kind %s hook %s, libyaml %s %s:\n%.*s", fk ? fk : "-",
				  fh ? fh : "-", sk ? sk : "-", sh ? sh : "-", (int)len, doc);
			bad = 1;
		}
	}
	free(fk); free(fh); free(fe); free(sk); free(sh); free(se);
	return bad;
}

TEST(tmpl_yaml_fast_path_is_sound)
{
	static const char alphabet[] = " :-#\n'\"|>{}[]\tabx1&*!?.,%@\\";
	size_t s, k;
	int fails = 0;
	for (s = 0; s < sizeof(seeds) / sizeof(seeds[0]) && fails < 5; s++) {
		size_t n = strlen(seeds[s]);
		char *buf = malloc(n + 8);
		int before = accepted;
		fails += check_one(seeds[s], n);
		CHECK_MSG(accepted == before + 1, "seed %zu should take the fast path", s);
		for (k = 0; k < 20000 && fails < 5; k++) {
			size_t m = unit_mutate(buf, seeds[s], n, alphabet, next_rand);
			fails += check_one(buf, m);
		}
		free(buf);
	}
	CHECK_INT_EQ(fails, 0);
	/* the mutations must exercise the fast path, not only the fallback */
	CHECK_MSG(accepted > 10000, "only %d mutated documents took the fast path", accepted);
}

/* Each document: with err, the libyaml scan fails with it and the fast path
 * refuses; without, both take it, kind "A". */
typedef struct head_case {
	const char *doc;
	const char *err;
} head_case;

static void check_head_cases(const head_case *cases, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		char *k = NULL, *h = NULL, *e = NULL, *fk = NULL, *fh = NULL, *fe = NULL;
		int ok = doc_head_check(cases[i].doc, strlen(cases[i].doc), false, &k, &h, &e);
		int fast = doc_head_check(cases[i].doc, strlen(cases[i].doc), true, &fk, &fh, &fe);
		if (cases[i].err) {
			CHECK_MSG(!ok && e && strstr(e, cases[i].err), "case %zu: %s", i, e ? e : "(accepted)");
			CHECK_MSG(!fast, "case %zu: the fast path accepted it", i);
		} else {
			CHECK_MSG(ok && k && !strcmp(k, "A"), "case %zu: %s", i, e ? e : "(no kind)");
			CHECK_MSG(fast && fk && !strcmp(fk, "A"), "case %zu: should take the fast path", i);
		}
		free(k); free(h); free(e); free(fk); free(fh); free(fe);
	}
}

/* JSON has no infinities or NaN: sigs.k8s.io/yaml fails a document with a
 * YAML 1.1 .inf/.nan value, so Helm does; quoted, they are strings */
TEST(tmpl_yaml_nonfinite_values_fail)
{
	static const head_case cases[] = {
		{ "kind: A\nv: .inf\n", "unsupported value: +Inf" },
		{ "kind: A\nv: [1, -.Inf]\n", "unsupported value: -Inf" },
		{ "kind: A\nv:\n- .NaN\n", "unsupported value: NaN" },
		{ "kind: A\nv: !!float +.INF\n", "unsupported value: +Inf" },
		{ "kind: A\nv: \".inf\"\nw: inf\nx: .infinity\n", NULL },
	};
	check_head_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Go's JSON decoding matches struct fields in any case: a scalar or a list
 * under "Metadata:" or "annotatIons:" fails as under "metadata:" (a fuzzer
 * finding: the fast path took a scalar there) */
TEST(tmpl_yaml_head_fields_any_case)
{
	static const head_case cases[] = {
		{ "kind: A\nmetadata:\n  annotatIons:\n      helm\n", "cannot unmarshal string" },
		{ "kind: A\nMetadata:\n  x\n", "cannot unmarshal string" },
		{ "kind: A\nMETADATA:\n- x\n", "cannot unmarshal array" },
		{ "kind: A\nmetadata:\n  Annotations:\n  - x\n", "cannot unmarshal array" },
		{ "kind: A\nmetadata:\n  Annotations:\n    a: b\n", NULL },
		{ "kind: A\nMetadata:\n  name: x\n", NULL },
		{ "kind: A\nmetadata:\n  annotatIons: {}\n", NULL },
	};
	check_head_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

/* go-yaml's Unmarshal (so Helm) reads a document's first YAML document
 * only: what follows the end of a flow root or a "..." is never parsed */
TEST(tmpl_yaml_first_document_only)
{
	static const struct { const char *doc; const char *err; } cases[] = {
		{ "{kind: A, metadata: {name: x}}}\n", NULL },
		{ "{kind: A}\n...\n]\n", NULL },
		{ "{kind: A} trailing words\n", NULL },
		{ "kind: A\n]\n", "did not find expected key" },
		{ "{kind: A}} @\n", NULL },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *k = NULL, *h = NULL, *e = NULL;
		int ok = doc_head_check(cases[i].doc, strlen(cases[i].doc), false, &k, &h, &e);
		if (cases[i].err)
			CHECK_MSG(!ok && e && strstr(e, cases[i].err), "case %zu: %s", i, e ? e : "(accepted)");
		else
			CHECK_MSG(ok && k && !strcmp(k, "A"), "case %zu: %s (kind %s)", i, e ? e : "", k ? k : "-");
		free(k); free(h); free(e);
	}
}

#include "tmpl/chart.h"
#include "tmpl/tmpl.h"

/* render `chart` with or without the fast path; the documents joined */
static int render_joined(const char *chart, bool no_fast, kbuf *joined, kbuf *errtext)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	tmpl_chart *c = NULL;
	tmpl_output out;
	tmpl_render_opts ro;
	size_t i;
	int r;
	memset(&out, 0, sizeof(out));
	memset(&ro, 0, sizeof(ro));
	ro.num = VALUES_NUM_HELM;
	ro.no_fast_yaml = no_fast;
	r = tmpl_chart_load(&c, &a, unit_testdata(chart), VALUES_NUM_HELM, &e);
	if (!r)
		r = values_compute(&c->vc, NULL, &a, VALUES_NUM_HELM, &e);
	if (!r)
		r = tmpl_render_chart(&out, &a, c, &ro, &e);
	for (i = 0; !r && i < out.ndocs; i++)
		kbuf_printf(joined, "# %s %s\n%.*s\n", out.docs[i].source, out.docs[i].kind, (int)out.docs[i].len,
			    out.docs[i].content);
	if (r)
		tmpl_error_format(&e, errtext);
	tmpl_output_release(&out);
	kerr_clear(&e);
	karena_release(&a);
	return r;
}

/* the render option that turns the fast path off gives the same manifests */
TEST(tmpl_render_no_fast_yaml_option)
{
	static const char *const charts[] = { "tmpl/charts/app", "tmpl/charts/kinds", "tmpl/charts/bitnamish" };
	size_t i;
	for (i = 0; i < sizeof(charts) / sizeof(charts[0]); i++) {
		kbuf fast = KBUF_INIT, slow = KBUF_INIT, ef = KBUF_INIT, es = KBUF_INIT;
		CHECK_INT_EQ(render_joined(charts[i], false, &fast, &ef), 0);
		CHECK_INT_EQ(render_joined(charts[i], true, &slow, &es), 0);
		CHECK_MSG(fast.len > 0, "%s renders nothing: %s", charts[i], ef.ptr);
		CHECK_STR_EQ(fast.ptr, slow.ptr);
		kbuf_release(&fast);
		kbuf_release(&slow);
		kbuf_release(&ef);
		kbuf_release(&es);
	}
}
