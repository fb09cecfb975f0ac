/* Unit tests for values_compute (subcharts, globals, conditions, tags,
 * aliases, import-values), schema errors with positions, secret masking. */
#include "unit.h"
#include "values/values.h"

#include <stdlib.h>

static doc_node *yl(karena *a, const char *name, const char *text)
{
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	doc_load_yaml1(&n, a, name, text, strlen(text), NULL, &e);
	kerr_clear(&e);
	return n;
}

static char *js(const doc_node *n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	doc_emit_json(&b, n, DOC_EMIT_SORT_KEYS, &e);
	kerr_clear(&e);
	return kbuf_detach(&b, NULL);
}

static values_chart *mk(karena *a, const char *name, const char *defaults)
{
	values_chart *c = karena_alloc(a, sizeof(*c));
	c->name = name;
	c->file = karena_printf(a, "%s/values.yaml", name);
	c->defaults = yl(a, c->file, defaults);
	c->subcharts = karena_alloc(a, 8 * sizeof(values_chart *));
	c->deps = karena_alloc(a, 8 * sizeof(values_dep));
	return c;
}

static values_dep *dep(karena *a, values_chart *p, values_chart *sub, const char *raw)
{
	values_dep *d = &p->deps[p->ndeps++];
	p->subcharts[p->nsubcharts++] = sub;
	d->name = sub->name;
	if (raw) {
		d->raw = yl(a, "Chart.yaml", raw);
		d->alias = doc_get_str(d->raw, "alias", NULL);
		d->condition = doc_get_str(d->raw, "condition", NULL);
		if (doc_get_path(d->raw, "tags")) {
			const doc_node *t = doc_get_path(d->raw, "tags");
			const char **v = karena_alloc(a, 8 * sizeof(char *));
			size_t i;
			for (i = 0; i < doc_len(t) && i < 8; i++)
				v[i] = doc_seq_get(t, i)->u.s.ptr;
			d->tags = v;
			d->ntags = doc_len(t);
		}
	}
	return d;
}

static char *compute(const char *user, values_chart *root, karena *a, kbuf *errs)
{
	kerr e = KERR_INIT;
	char *s;
	if (values_compute(root, yl(a, "user.yaml", user), a, VALUES_NUM_EXACT, &e)) {
		kerr_format(&e, errs);
		kerr_clear(&e);
		return calloc(1, 1);
	}
	s = js(root->values);
	kerr_clear(&e);
	return s;
}

TEST(values_compute_subcharts_and_globals)
{
	karena a = KARENA_INIT;
	kbuf errs = KBUF_INIT;
	values_chart *root = mk(&a, "app", "global: {region: eu, db: {host: h1}}\nsub: {x: parent}\nown: 1\n");
	values_chart *sub = mk(&a, "sub", "x: subdef\nw: 2\nglobal: {region: us, db: {port: 5}, z: 9}\nnested: {a: 1, b: 2}\n");
	values_chart *deep = mk(&a, "deep", "k: v\nkill: me\n");
	char *s;
	dep(&a, root, sub, NULL);
	dep(&a, sub, deep, NULL);
	s = compute("sub: {nested: {a: null}, deep: {kill: null}}\n", root, &a, &errs);
	CHECK_STR_EQ(s, "{\"global\":{\"db\":{\"host\":\"h1\"},\"region\":\"eu\"},\"own\":1,"
			"\"sub\":{\"deep\":{\"global\":{\"db\":{\"host\":\"h1\",\"port\":5},\"region\":\"eu\",\"z\":9},\"k\":\"v\"},"
			"\"global\":{\"db\":{\"host\":\"h1\",\"port\":5},\"region\":\"eu\",\"z\":9},"
			"\"nested\":{\"b\":2},\"w\":2,\"x\":\"parent\"}}");
	CHECK_MSG(errs.len == 0, "%s", errs.ptr);
	free(s);
	kbuf_release(&errs);
	karena_release(&a);
}

TEST(values_compute_conditions_tags_aliases)
{
	karena a = KARENA_INIT;
	kbuf errs = KBUF_INIT;
	values_chart *root = mk(&a, "app", "db: {enabled: false}\ntags: {front: true}\n");
	values_chart *db = mk(&a, "db", "port: 1\n");
	values_chart *web = mk(&a, "web", "name: w\n");
	values_chart *cache = mk(&a, "cache", "size: 1\n");
	char *s;
	dep(&a, root, db, "{name: db, condition: db.enabled}");
	dep(&a, root, web, "{name: web, alias: front, tags: [front]}");
	dep(&a, root, cache, "{name: cache, tags: [back]}");
	s = compute("tags: {back: false}\n", root, &a, &errs);
	CHECK_STR_EQ(s, "{\"db\":{\"enabled\":false},\"front\":{\"global\":{},\"name\":\"w\"},"
			"\"tags\":{\"back\":false,\"front\":true}}");
	CHECK(!root->effective[0]->enabled);
	CHECK(root->effective[1]->enabled);
	CHECK_STR_EQ(root->effective[1]->effective_name, "front");
	CHECK(root->effective[1]->origin == web);
	CHECK(!root->effective[2]->enabled);
	free(s);
	/* the user turns db on */
	s = compute("db: {enabled: true}\n", root, &a, &errs);
	CHECK_CONTAINS(s, "\"db\":{\"enabled\":true,\"global\":{},\"port\":1}");
	CHECK_CONTAINS(s, "\"cache\":{");
	free(s);
	kbuf_release(&errs);
	karena_release(&a);
}

TEST(values_compute_import_values)
{
	karena a = KARENA_INIT;
	kbuf errs = KBUF_INIT;
	values_chart *root = mk(&a, "app", "mine: {keep: parent}\n");
	values_chart *sub = mk(&a, "sub", "exports: {data: {fromexp: 1}}\nconf: {a: 1, keep: child}\n");
	char *s;
	dep(&a, root, sub, "{name: sub, import-values: [data, {child: conf, parent: mine}]}");
	s = compute("{}", root, &a, &errs);
	CHECK_CONTAINS(s, "\"fromexp\":1");
	CHECK_CONTAINS(s, "\"mine\":{\"a\":1,\"keep\":\"parent\"}");
	free(s);
	kbuf_release(&errs);
	karena_release(&a);
}

TEST(values_compute_schema_errors_name_sources)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	values_chart *root = mk(&a, "app", "image: {tag: v1}\nreplicas: 1\n");
	doc_node *user = doc_new_map(&a);
	const char *schema = "{\"type\":\"object\",\"properties\":{\"image\":{\"properties\":{\"tag\":{\"type\":\"string\"}}},"
			     "\"replicas\":{\"type\":\"integer\",\"minimum\":1}},\"required\":[\"name\"]}";
	doc_load_json(&root->schema, &a, "app/values.schema.json", schema, strlen(schema), &e);
	CHECK_INT_EQ(values_parse_set(user, &a, VALUES_SET, "image.tag=5", VALUES_NUM_EXACT, &e), 0);
	user = values_merge(&a, user, yl(&a, "ci.yaml", "replicas: 0\n"));
	CHECK_INT_EQ(values_compute(root, user, &a, VALUES_NUM_EXACT, &e), KE_INPUT);
	kerr_format(&e, &out);
	CHECK_CONTAINS(out.ptr, "--set image.tag=5:1:11: app: image.tag: got integer, want string");
	CHECK_CONTAINS(out.ptr, "ci.yaml:1:11: app: replicas: value must be >= 1");
	CHECK_CONTAINS(out.ptr, "app: (root): missing required property \"name\"");
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(values_mask_secrets_schema_and_paths)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *schema = NULL, *vals = yl(&a, "v.yaml", "db: {password: p, user: u}\ntoken: t\nlist: [{k: s}]\n");
	doc_node *paths = doc_new_seq(&a), *m;
	const char *sj = "{\"properties\":{\"db\":{\"$ref\":\"#/$defs/db\"},\"list\":{\"items\":{\"properties\":"
			 "{\"k\":{\"x-kstage-secret\":true}}}}},\"$defs\":{\"db\":{\"properties\":{\"password\":"
			 "{\"type\":\"string\",\"x-kstage-secret\":true}}}}}";
	char *s;
	doc_load_json(&schema, &a, "s.json", sj, strlen(sj), &e);
	doc_seq_push(&a, paths, doc_new_str(&a, "token"));
	m = values_mask_secrets(&a, vals, schema, paths);
	s = js(m);
	CHECK_STR_EQ(s, "{\"db\":{\"password\":\"<redacted>\",\"user\":\"u\"},\"list\":[{\"k\":\"<redacted>\"}],"
			"\"token\":\"<redacted>\"}");
	free(s);
	s = js(vals);   /* the original is untouched */
	CHECK_CONTAINS(s, "\"password\":\"p\"");
	free(s);
	kerr_clear(&e);
	karena_release(&a);
}
