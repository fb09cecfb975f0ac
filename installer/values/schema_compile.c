/*
 * values/schema_compile.c - a schema document compiled for evaluation:
 * every subschema's base URI and draft, the resources ($id) and anchors
 * ($anchor, $dynamicAnchor, draft-07 "#name" ids) it declares.
 */
#include "schema_int.h"
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t ptr_hash(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0xed5ad4bbU;
	x ^= x >> 11;
	return (size_t)x;
}

vs_info *vs_info_get(vs *v, const doc_node *n)
{
	size_t i;
	if (!v->capinfo)
		return NULL;
	for (i = ptr_hash(n) & (v->capinfo - 1);; i = (i + 1) & (v->capinfo - 1)) {
		if (!v->info[i].node)
			return NULL;
		if (v->info[i].node == n)
			return &v->info[i];
	}
}

static void info_put(vs *v, const doc_node *n, const char *base, int draft)
{
	size_t i;
	vs_info *e = vs_info_get(v, n);
	if (e) {
		e->base = base;
		e->draft = draft;
		return;
	}
	if ((v->ninfo + 1) * 2 > v->capinfo) {
		vs_info *old = v->info;
		size_t oc = v->capinfo, j;
		v->capinfo = oc ? oc * 2 : 256;
		v->info = xcalloc(v->capinfo, sizeof(vs_info));
		v->ninfo = 0;
		for (j = 0; j < oc; j++)
			if (old[j].node)
				info_put(v, old[j].node, old[j].base, old[j].draft);
		free(old);
	}
	for (i = ptr_hash(n) & (v->capinfo - 1); v->info[i].node; i = (i + 1) & (v->capinfo - 1))
		;
	v->info[i].node = n;
	v->info[i].base = base;
	v->info[i].draft = draft;
	v->ninfo++;
}

static void res_add(vs *v, const char *uri, const doc_node *root)
{
	size_t i;
	for (i = 0; i < v->nres; i++)
		if (!strcmp(v->res[i].uri, uri))
			return;
	ALLOC_GROW(v->res, v->nres + 1, v->capres);
	v->res[v->nres].uri = uri;
	v->res[v->nres].root = root;
	v->nres++;
}

const doc_node *vs_res_find(vs *v, const char *uri)
{
	size_t i;
	for (i = 0; i < v->nres; i++)
		if (!strcmp(v->res[i].uri, uri))
			return v->res[i].root;
	return NULL;
}

static void anc_add(vs *v, const char *base, const char *name, const doc_node *n, bool dynamic)
{
	ALLOC_GROW(v->anc, v->nanc + 1, v->capanc);
	v->anc[v->nanc].key = karena_printf(v->a, "%s#%s", base, name);
	v->anc[v->nanc].node = n;
	v->anc[v->nanc].dynamic = dynamic;
	v->nanc++;
}

const doc_node *vs_anc_find(vs *v, const char *key, bool dynamic_only)
{
	size_t i;
	for (i = 0; i < v->nanc; i++)
		if ((!dynamic_only || v->anc[i].dynamic) && !strcmp(v->anc[i].key, key))
			return v->anc[i].node;
	return NULL;
}

int vs_draft_of(const char *schema_uri, int def)
{
	if (!schema_uri)
		return def;
	if (strstr(schema_uri, "draft-07") || strstr(schema_uri, "draft-06") || strstr(schema_uri, "draft-04") ||
	    strstr(schema_uri, "draft-03"))
		return 7;
	if (strstr(schema_uri, "2020-12") || strstr(schema_uri, "2019-09"))
		return 2020;
	return def;
}

static void walk_map_of(vs *v, const doc_node *m, const char *base, int draft, int depth)
{
	size_t i;
	if (m && m->type == DOC_MAP)
		for (i = 0; i < m->u.map.len; i++)
			vs_walk(v, m->u.map.v[i].val, base, draft, depth + 1);
}

static void walk_arr(vs *v, const doc_node *m, const char *base, int draft, int depth)
{
	size_t i;
	if (m && m->type == DOC_SEQ)
		for (i = 0; i < m->u.seq.len; i++)
			vs_walk(v, m->u.seq.v[i], base, draft, depth + 1);
}

void vs_walk(vs *v, const doc_node *s, const char *base, int draft, int depth)
{
	static const char *const single[] = { "additionalProperties", "additionalItems", "unevaluatedItems",
					      "unevaluatedProperties", "contains", "not", "if", "then",
					      "else", "propertyNames", "contentSchema", "items", NULL };
	static const char *const maps[] = { "properties", "patternProperties", "$defs", "definitions",
					    "dependentSchemas", "dependencies", NULL };
	static const char *const arrs[] = { "items", "prefixItems", "allOf", "anyOf", "oneOf", NULL };
	const doc_node *id, *x;
	size_t i;
	if (!s || depth > 500)
		return;
	if (s->type != DOC_MAP) {
		if (s->type == DOC_BOOL)
			info_put(v, s, base, draft);
		return;
	}
	if (vs_info_get(v, s))
		return;
	x = doc_map_get(s, "$schema");
	if (x && x->type == DOC_STR)
		draft = vs_draft_of(x->u.s.ptr, draft);
	id = doc_map_get(s, "$id");
	if (draft == 7 && doc_map_get(s, "$ref"))
		id = NULL;   /* draft-07: $ref ignores its siblings, $id included */
	if (id && id->type == DOC_STR) {
		const char *frag;
		if (draft == 7 && id->u.s.ptr[0] == '#') {
			anc_add(v, base, id->u.s.ptr + 1, s, false);
		} else {
			const char *full = vs_uri_resolve(v->a, base, id->u.s.ptr);
			const char *doc = vs_strip_fragment(v->a, full, &frag);
			base = doc;
			res_add(v, doc, s);
			if (*frag && draft == 7)
				anc_add(v, doc, frag, s, false);
		}
	}
	info_put(v, s, base, draft);
	x = doc_map_get(s, "$anchor");
	if (x && x->type == DOC_STR && draft != 7)
		anc_add(v, base, x->u.s.ptr, s, false);
	x = doc_map_get(s, "$dynamicAnchor");
	if (x && x->type == DOC_STR && draft != 7) {
		anc_add(v, base, x->u.s.ptr, s, true);
		anc_add(v, base, x->u.s.ptr, s, false);
	}
	for (i = 0; single[i]; i++) {
		x = doc_map_get(s, single[i]);
		if (x && (x->type == DOC_MAP || x->type == DOC_BOOL))
			vs_walk(v, x, base, draft, depth + 1);
	}
	for (i = 0; maps[i]; i++)
		walk_map_of(v, doc_map_get(s, maps[i]), base, draft, depth);
	for (i = 0; arrs[i]; i++)
		walk_arr(v, doc_map_get(s, arrs[i]), base, draft, depth);
}

/* Add a document (the root or a loaded remote) under uri. */
void vs_add_document(vs *v, const char *uri, const doc_node *root, int draft)
{
	if (root->type == DOC_MAP) {
		const doc_node *x = doc_map_get(root, "$schema");
		if (x && x->type == DOC_STR)
			draft = vs_draft_of(x->u.s.ptr, draft);
	}
	res_add(v, uri, root);
	vs_walk(v, root, uri, draft, 0);
}
