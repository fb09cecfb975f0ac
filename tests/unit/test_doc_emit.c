/* Unit tests for doc/ emitters: YAML as Helm's toYaml writes it, JSON as
 * Go's encoding/json writes it, and round trips of every real fixture. */
#include "unit.h"
#include "doc/doc.h"
#include "doc/resolve.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path, size_t *len)
{
	kbuf b = KBUF_INIT;
	if (kbuf_read_file(&b, path, 0) != 0) {
		kbuf_release(&b);
		return NULL;
	}
	return kbuf_detach(&b, len);
}

TEST(doc_emit_yaml_matches_helm_toyaml)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	size_t vlen, elen;
	char *vals = read_all(unit_testdata("doc/toyaml/values.yaml"), &vlen);
	char *expected = read_all(unit_testdata("doc/toyaml/expected.yaml"), &elen);
	doc_node *n;
	CHECK(vals && expected);
	if (!vals || !expected)
		goto out;
	CHECK_INT_EQ(doc_load_yaml1(&n, &a, "values.yaml", vals, vlen, NULL, &e), 0);
	CHECK_INT_EQ(doc_emit_yaml(&out, n, DOC_EMIT_SORT_KEYS, &e), 0);
	if (strcmp(out.ptr, expected)) {
		/* show the first differing line */
		const char *p = out.ptr, *q = expected;
		unsigned line = 1;
		while (*p && *p == *q) {
			if (*p == '\n')
				line++;
			p++, q++;
		}
		unit_fail(__FILE__, __LINE__, "toYaml differs from helm at line %u:\n  got:      %.60s\n  expected: %.60s",
			  line, p, q);
	}
out:
	free(vals);
	free(expected);
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(doc_emit_yaml_shapes)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *m = doc_new_map(&a), *s = doc_new_seq(&a);
	doc_map_set(&a, m, "b", doc_new_int(&a, 9007199254740993LL));   /* exact, not 9.007199254740992e+15 */
	doc_map_set(&a, m, "a", s);
	doc_seq_push(&a, s, doc_new_float(&a, NAN));
	doc_seq_push(&a, s, doc_new_float(&a, -INFINITY));
	doc_seq_push(&a, s, doc_new_strn(&a, "\xff\xfe", 2));   /* not UTF-8: !!binary */
	CHECK_INT_EQ(doc_emit_yaml(&out, m, 0, &e), 0);
	CHECK_STR_EQ(out.ptr, "b: 9007199254740993\na:\n- .nan\n- -.inf\n- !!binary \"//4=\"\n");
	kbuf_reset(&out);
	CHECK_INT_EQ(doc_emit_yaml(&out, doc_new_str(&a, "top"), DOC_EMIT_NO_DOC_END, &e), 0);
	CHECK_STR_EQ(out.ptr, "top");
	kbuf_release(&out);
	karena_release(&a);
}

TEST(doc_emit_json_like_go)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *n;
	const char *y = "z: \"<a&b>\"\nf: 1.0e6\nt: 1e-7\nu: \"\\u2028\\b\\f\\x01\"\nl: []\nm: {}\nnul: ~\ni: 10\n";
	CHECK_INT_EQ(doc_load_yaml1(&n, &a, "j.yaml", y, strlen(y), NULL, &e), 0);
	CHECK_INT_EQ(doc_emit_json(&out, n, DOC_EMIT_SORT_KEYS | DOC_EMIT_HTML_ESCAPE, &e), 0);
	CHECK_STR_EQ(out.ptr, "{\"f\":1000000,\"i\":10,\"l\":[],\"m\":{},\"nul\":null,\"t\":1e-7,"
			      "\"u\":\"\\u2028\\b\\f\\u0001\",\"z\":\"\\u003ca\\u0026b\\u003e\"}");
	kbuf_reset(&out);
	CHECK_INT_EQ(doc_emit_json(&out, doc_get_path(n, "l"), DOC_EMIT_INDENT, &e), 0);
	CHECK_STR_EQ(out.ptr, "[]");
	kbuf_reset(&out);
	n = doc_new_map(&a);
	doc_map_set(&a, n, "b", doc_new_seq(&a));
	doc_seq_push(&a, doc_map_get(n, "b"), doc_new_bool(&a, true));
	doc_map_set(&a, n, "a", doc_new_strn(&a, "x\xffy", 3));
	CHECK_INT_EQ(doc_emit_json(&out, n, DOC_EMIT_INDENT, &e), 0);
	CHECK_STR_EQ(out.ptr, "{\n  \"b\": [\n    true\n  ],\n  \"a\": \"x\\ufffdy\"\n}");
	kbuf_reset(&out);
	CHECK_INT_EQ(doc_emit_json(&out, doc_new_float(&a, INFINITY), 0, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "unsupported value: +Inf");
	kerr_clear(&e);
	kbuf_release(&out);
	karena_release(&a);
}

/* Load every document of a fixture, emit it as YAML and as JSON, load those
 * again and compare node by node with the original. */
static void roundtrip_file(const char *path, size_t *ndocs)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_stream s;
	size_t i;
	doc_load_opts o = { 0 };
	o.dup = DOC_DUP_LAST;
	if (doc_load_yaml_file(&s, &a, path, &o, &e)) {
		kbuf b = KBUF_INIT;
		kerr_format(&e, &b);
		unit_fail(__FILE__, __LINE__, "%s: %s", path, b.ptr);
		kbuf_release(&b);
		goto out;
	}
	CHECK_MSG(s.len > 0, "%s: no documents", path);
	for (i = 0; i < s.len; i++) {
		kbuf y = KBUF_INIT, j = KBUF_INIT;
		doc_node *back = NULL;
		CHECK_INT_EQ(doc_emit_yaml(&y, s.docs[i], 0, &e), 0);
		if (doc_load_yaml1(&back, &a, "emitted.yaml", y.ptr, y.len, NULL, &e) || !doc_equal(back, s.docs[i]))
			unit_fail(__FILE__, __LINE__, "%s: document %zu differs after a YAML round trip", path, i);
		kerr_clear(&e);
		CHECK_INT_EQ(doc_emit_json(&j, s.docs[i], DOC_EMIT_INDENT, &e), 0);
		if (doc_load_json(&back, &a, "emitted.json", j.ptr, j.len, &e) || !doc_equal(back, s.docs[i]))
			unit_fail(__FILE__, __LINE__, "%s: document %zu differs after a JSON round trip", path, i);
		kerr_clear(&e);
		kbuf_release(&y);
		kbuf_release(&j);
	}
	*ndocs += s.len;
out:
	kerr_clear(&e);
	karena_release(&a);
}

TEST(doc_fixtures_roundtrip_yaml_and_json)
{
	static const char *const files[] = {
		"kserve/v0.15.2/crds.yaml",
		"kserve/v0.15.2/kserve.yaml",
		"gateway-api/v1.2.1/standard-install.yaml",
		"gateway-api/v1.2.1/experimental-install.yaml",
	};
	size_t i, ndocs = 0;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		roundtrip_file(unit_fixture(files[i]), &ndocs);
	CHECK_MSG(ndocs >= 48, "only %zu documents in the fixtures", ndocs);
}

/* JSON documents: load with jansson, then the same two round trips. */
static void roundtrip_json_dir(const char *dir, size_t *nfiles)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	CHECK_MSG(d != NULL, "cannot open %s", dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), len;
		kbuf path = KBUF_INIT, y = KBUF_INIT, j = KBUF_INIT;
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_node *orig, *back;
		char *text;
		if (n < 6 || strcmp(de->d_name + n - 5, ".json"))
			continue;
		kbuf_printf(&path, "%s/%s", dir, de->d_name);
		text = read_all(path.ptr, &len);
		CHECK(text != NULL);
		if (text && doc_load_json(&orig, &a, path.ptr, text, len, &e) == 0) {
			CHECK_INT_EQ(doc_emit_yaml(&y, orig, 0, &e), 0);
			if (doc_load_yaml1(&back, &a, "emitted.yaml", y.ptr, y.len, NULL, &e) || !doc_equal(back, orig))
				unit_fail(__FILE__, __LINE__, "%s differs after a YAML round trip", path.ptr);
			kerr_clear(&e);
			if (doc_emit_json(&j, orig, 0, &e) == 0 &&
			    (doc_load_json(&back, &a, "emitted.json", j.ptr, j.len, &e) || !doc_equal(back, orig)))
				unit_fail(__FILE__, __LINE__, "%s differs after a JSON round trip", path.ptr);
			(*nfiles)++;
		} else {
			unit_fail(__FILE__, __LINE__, "%s does not load: %s", path.ptr, e.first.msg);
		}
		free(text);
		kerr_clear(&e);
		kbuf_release(&path);
		kbuf_release(&y);
		kbuf_release(&j);
		karena_release(&a);
	}
	closedir(d);
}

TEST(doc_fixtures_json_roundtrip)
{
	size_t n = 0;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", unit_fixture("json-schema-test-suite/tests/draft7"));
	roundtrip_json_dir(dir, &n);
	snprintf(dir, sizeof(dir), "%s", unit_fixture("json-schema-test-suite/tests/draft2020-12"));
	roundtrip_json_dir(dir, &n);
	CHECK_MSG(n > 60, "only %zu JSON files", n);
}

/* A BOM-led string is written through a stand-in that is swapped for
 * go-yaml's text; data that holds the stand-in's text (found by the YAML
 * fuzz target) must not be swapped instead, even when it holds every
 * stand-in kstage would try. */
TEST(doc_emit_yaml_bom_stand_ins_in_the_data)
{
	static const char *const docs[] = {
		"b\"\"kstage.bom.0.\"\"\": [\"\\uFEFFx\"]\n",
		"k\"\"kstage.bom.0.0.\"\": [\"\\uFEFFx\"]\n",
		"a: \"\\uFEFFone\"\nb: kstage.bom.0.0.\nc: \"\\uFEFFtwo\"\n",
		"? kstage.bom.0.0. kstage.bom.1.0. kstage.bom.2.0. kstage.bom.3.0. kstage.bom.4.0. kstage.bom.5.0. "
		"kstage.bom.6.0. kstage.bom.7.0.\n: \"\\uFEFFx\"\n",
	};
	size_t i;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_node *n = NULL, *back = NULL;
		kbuf y = KBUF_INIT;
		CHECK_INT_EQ(doc_load_yaml1(&n, &a, "t.yaml", docs[i], strlen(docs[i]), NULL, &e), 0);
		CHECK_INT_EQ(doc_emit_yaml(&y, n, 0, &e), 0);
		CHECK_INT_EQ(doc_load_yaml1(&back, &a, "back.yaml", y.ptr, y.len, NULL, &e), 0);
		CHECK_MSG(back && doc_equal(back, n), "doc %zu came back different:\n%s", i, y.ptr);
		kbuf_release(&y);
		kerr_clear(&e);
		karena_release(&a);
	}
}

/* ---- doc_emit_yaml's direct writer against libyaml's emitter ---- */

static unsigned long long emit_rng = 0x2545F4914F6CDD1DULL;
static unsigned emit_rand(void)
{
	emit_rng ^= emit_rng << 13;
	emit_rng ^= emit_rng >> 7;
	emit_rng ^= emit_rng << 17;
	return (unsigned)emit_rng;
}

/* A string of the pieces that decide libyaml's styles: indicators at the
 * start, in the middle and at the end, spaces and breaks around each other,
 * control characters, words that resolve to other types, long texts that
 * fold at 80 columns, now and then a non-ASCII one. */
static void gen_text(kbuf *b, bool key)
{
	static const char *const bits[] = {
		"a", "name", "x y", " ", "  ", "\n", "\n\n", ":", ": ", "#", " #", "-", "- ", "--- ", "...", "?",
		"? ", "'", "\"", "\\", "\t", "\r", "[", "]", "{", "}", ",", "&", "*", "!", "|", ">", "%", "@", "`",
		"~", "0", "12", "1.5", "0x1F", "1e3", "true", "yes", "No", "null", "on", "2001-12-14", "1:20",
		".inf", "-.nan", "+1", "_", "=", "/", "\x01", "\x7f", "\x1b", "\x0b", "lorem ipsum dolor sit amet",
		"consectetur adipiscing elit sed do eiusmod tempor",
	};
	size_t n = emit_rand() % 6, i, nbits = sizeof(bits) / sizeof(bits[0]);
	if (emit_rand() % 200 == 0)   /* libyaml's then */
		kbuf_puts(b, emit_rand() & 1 ? "\xc3\xa9" : "\xef\xbb\xbf" "a");
	if (emit_rand() % 9 == 0) {   /* a whole word alone */
		kbuf_puts(b, bits[emit_rand() % nbits]);
		return;
	}
	if (!key && emit_rand() % 7 == 0)
		n += 12;   /* long enough to fold */
	for (i = 0; i < n; i++)
		kbuf_puts(b, bits[emit_rand() % nbits]);
}

static doc_node *gen_node(karena *a, int depth)
{
	unsigned k = depth ? emit_rand() % (depth > 4 ? 6 : 10) : 6 + emit_rand() % 4;
	kbuf t = KBUF_INIT;
	doc_node *n;
	size_t i, len;
	switch (k) {
	case 0: return doc_new_null(a);
	case 1: return doc_new_bool(a, emit_rand() & 1);
	case 2: return doc_new_int(a, (int64_t)emit_rand() - (1LL << 31));
	case 3: {
		/* whole floats past int64 and uint64 are written as floats */
		static const double big[] = {1e20, 9.9e20, -9.223372036854776e18, 9.223372036854776e18,
					     1.8446744073709552e19, -0.0, 1e21, 123456789.0};
		if (emit_rand() % 3 == 0)
			return doc_new_float(a, big[emit_rand() % (sizeof(big) / sizeof(big[0]))]);
		return doc_new_float(a, (double)(int)emit_rand() / 64.0);
	}
	case 4: case 5:
		gen_text(&t, false);
		n = doc_new_strn(a, t.ptr, t.len);
		kbuf_release(&t);
		return n;
	case 6: case 7:
		n = doc_new_seq(a);
		len = emit_rand() % 4;
		for (i = 0; i < len; i++)
			doc_seq_push(a, n, gen_node(a, depth + 1));
		return n;
	default:
		n = doc_new_map(a);
		len = emit_rand() % 5;
		for (i = 0; i < len; i++) {
			kbuf_reset(&t);
			gen_text(&t, true);
			if (emit_rand() % 40 == 0)
				kbuf_putn(&t, 'k', 126);   /* around libyaml's 128 for a simple key */
			doc_map_setn(a, n, t.ptr, t.len, gen_node(a, depth + 1));
		}
		kbuf_release(&t);
		return n;
	}
}

TEST(doc_emit_yaml_direct_writer_matches_libyaml)
{
	static const unsigned flag_sets[] = {0, DOC_EMIT_SORT_KEYS, DOC_EMIT_NO_WRAP, DOC_EMIT_SORT_KEYS | DOC_EMIT_NO_WRAP};
	size_t round, direct = 0, folded = 0, literal = 0;
	for (round = 0; round < 40000; round++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		kbuf fast = KBUF_INIT, slow = KBUF_INIT;
		unsigned flags = flag_sets[round % 4];
		doc_node *n = gen_node(&a, 0);
		CHECK_INT_EQ(doc_emit_yaml(&slow, n, flags | DOC_EMIT_LIBYAML, &e), 0);
		if (!doc_emit_yaml_direct(&fast, n, flags)) {
			direct++;
			CHECK_MSG(fast.len == slow.len && !memcmp(fast.ptr, slow.ptr, fast.len),
				  "round %zu, flags %u: the direct writer wrote\n%s\nlibyaml wrote\n%s", round, flags,
				  fast.ptr, slow.ptr);
			folded += !(flags & DOC_EMIT_NO_WRAP) && strstr(slow.ptr, "\n  ") && strstr(slow.ptr, "lorem");
			literal += strstr(slow.ptr, ": |") != NULL;
		} else {
			CHECK_INT_EQ(fast.len, 0);
		}
		kbuf_release(&fast);
		kbuf_release(&slow);
		kerr_clear(&e);
		karena_release(&a);
	}
	/* the writer takes most of them, folding and literal blocks included */
	CHECK_MSG(direct > 25000 && folded > 500 && literal > 300, "direct %zu, folded %zu, literal %zu", direct, folded,
		  literal);
}

/* go-yaml's key order: the quick answer, where it gives one, is the full
 * comparison's, on keys built from letters, digits, punctuation, non-ASCII
 * and invalid UTF-8 */
TEST(doc_key_cmp_go_quick_agrees)
{
	static const char *const bits[] = {"a", "b", "Z", "_", "-", ".", "0", "1", "9", "10", "\xc3\xa9", "\xc3", "\xff", "/"};
	size_t round, decided = 0, nbits = sizeof(bits) / sizeof(bits[0]);
	for (round = 0; round < 200000; round++) {
		char ka[64], kb[64];
		size_t la = 0, lb = 0, n, i;
		int q;
		n = emit_rand() % 5;
		for (i = 0; i < n; i++)
			la += (size_t)snprintf(ka + la, sizeof(ka) - la, "%s", bits[emit_rand() % nbits]);
		memcpy(kb, ka, la);   /* a shared prefix, then each its own tail */
		lb = la;
		n = emit_rand() % 4;
		for (i = 0; i < n; i++)
			la += (size_t)snprintf(ka + la, sizeof(ka) - la, "%s", bits[emit_rand() % nbits]);
		n = emit_rand() % 4;
		for (i = 0; i < n; i++)
			lb += (size_t)snprintf(kb + lb, sizeof(kb) - lb, "%s", bits[emit_rand() % nbits]);
		if (doc_key_cmp_go_quick(ka, la, kb, lb, &q)) {
			int full = doc_key_cmp_go(ka, la, kb, lb, false);
			decided++;
			CHECK_MSG((q > 0) - (q < 0) == (full > 0) - (full < 0), "keys \"%.*s\" and \"%.*s\": quick %d, full %d",
				  (int)la, ka, (int)lb, kb, q, full);
		}
	}
	CHECK_MSG(decided > 80000, "decided %zu", decided);
}
