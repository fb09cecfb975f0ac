/*
 * values/mask.c - secrets masked wherever values are printed or recorded.
 *
 * A value is secret when its schema says "x-kstage-secret": true (followed
 * through properties, patternProperties, additionalProperties,
 * unevaluatedProperties, items, prefixItems, additionalItems, contains,
 * unevaluatedItems, every allOf/anyOf/oneOf branch, if/then/else and
 * dependentSchemas whether taken or not, and local $refs and $dynamicRefs,
 * by pointer (escaped or not) or anchor, whose siblings apply too), or
 * when it was set with --set-secret (its path is in secret_paths). A secret
 * is replaced by the string "<redacted>", whatever its type. The walk is
 * bounded: a schema too costly to walk masks everything.
 */
#include "values_int.h"

#include "core/regex.h"

#include <stdio.h>
#include <string.h>

#define MASK_MAX_DEPTH 200        /* schema hops plus value nesting */
#define MASK_MAX_STEPS 1000000    /* (value, schema) pairs visited */
static char redacted_text[] = "<redacted>";
#define REDACTED redacted_text

static void redact(doc_node *n)
{
	n->type = DOC_STR;
	n->u.s.ptr = REDACTED;
	n->u.s.len = strlen(REDACTED);
}

typedef struct mark_walk {
	const doc_node *root;     /* the schema document, for local $refs */
	values_secret_fn fn;
	void *ctx;
	size_t steps;
	bool over;                /* a limit was hit: the walk is incomplete */
} mark_walk;

/* The subschema of n declaring anchor name ("$anchor", "$dynamicAnchor",
 * or a draft-07 "$id": "#name"), or NULL. Each node looked at is a step. */
static const doc_node *find_anchor(mark_walk *w, const doc_node *n, const char *name, int depth)
{
	static const char *const keys[] = { "$anchor", "$dynamicAnchor", "$id", NULL };
	const doc_node *r = NULL;
	size_t i;
	if (!n || w->over)
		return NULL;
	if (depth > MASK_MAX_DEPTH || ++w->steps > MASK_MAX_STEPS) {
		w->over = true;
		return NULL;
	}
	if (n->type == DOC_MAP) {
		for (i = 0; keys[i]; i++) {
			const doc_node *x = doc_map_get(n, keys[i]);
			const char *a;
			if (!x || x->type != DOC_STR)
				continue;
			a = x->u.s.ptr;
			if (i == 2 && *a++ != '#')
				continue;
			if (!strcmp(a, name))
				return n;
		}
		for (i = 0; i < n->u.map.len && !r; i++)
			r = find_anchor(w, n->u.map.v[i].val, name, depth + 1);
	} else if (n->type == DOC_SEQ) {
		for (i = 0; i < n->u.seq.len && !r; i++)
			r = find_anchor(w, n->u.seq.v[i], name, depth + 1);
	}
	return r;
}

/* The schema a local reference ("#", "#/a/b~1c", "#/x%25y", "#anchor")
 * names. */
static const doc_node *local_ref(mark_walk *w, const char *ref)
{
	kbuf dec = KBUF_INIT, tok = KBUF_INIT;
	const doc_node *n = w->root;
	const char *p;
	if (ref[0] != '#')
		return NULL;
	values_pct_decode(&dec, ref + 1);
	p = dec.ptr;
	if (*p && *p != '/')
		n = find_anchor(w, w->root, p, 0);
	else
		while (n && *p == '/') {
			size_t len;
			p++;
			len = strcspn(p, "/");
			n = values_pointer_child(n, p, len, &tok);
			p += len;
		}
	kbuf_release(&dec);
	kbuf_release(&tok);
	return n;
}

static bool pattern_matches(const char *pat, const char *s, size_t len)
{
	kregex *re;
	kregex_result r;
	if (kregex_compile(&re, pat, strlen(pat), KREGEX_UTF, NULL))
		return false;
	r = kregex_match(re, s, len, 0, NULL);
	kregex_free(re);
	return r != KREGEX_NOMATCH;
}

/* Apply schema s to value v: true when v is marked secret as a whole (fn
 * was called on it); otherwise the marks below v were reported. */
static bool walk_marks(mark_walk *w, const doc_node *v, const doc_node *s, int depth)
{
	/* keywords whose schemas apply to v itself: a mark in any of them
	 * counts, whether or not the branch would be taken */
	static const char *const comb[] = { "allOf", "anyOf", "oneOf", NULL };
	static const char *const same[] = { "if", "then", "else", NULL };
	const doc_node *x;
	size_t i;
	if (!v || !s || s->type != DOC_MAP || w->over)
		return false;
	if (depth > MASK_MAX_DEPTH || ++w->steps > MASK_MAX_STEPS) {
		w->over = true;
		return false;
	}
	x = doc_map_get(s, "x-kstage-secret");
	if (x && x->type == DOC_BOOL && x->u.b) {
		w->fn(w->ctx, v);
		return true;
	}
	/* a $ref applies with its siblings (2020-12), every combinator branch
	 * may carry a mark: all of them are followed */
	for (i = 0; i < 2; i++) {
		x = doc_map_get(s, i ? "$dynamicRef" : "$ref");
		if (x && x->type == DOC_STR) {
			const doc_node *t = local_ref(w, x->u.s.ptr);
			if (t && t != s && walk_marks(w, v, t, depth + 1))
				return true;
		}
	}
	for (i = 0; comb[i]; i++) {
		const doc_node *l = doc_map_get(s, comb[i]);
		size_t j;
		if (l && l->type == DOC_SEQ)
			for (j = 0; j < l->u.seq.len; j++)
				if (walk_marks(w, v, l->u.seq.v[j], depth + 1))
					return true;
	}
	for (i = 0; same[i]; i++)
		if (walk_marks(w, v, doc_map_get(s, same[i]), depth + 1))
			return true;
	x = doc_map_get(s, "dependentSchemas");
	for (i = 0; x && x->type == DOC_MAP && i < x->u.map.len; i++)
		if (walk_marks(w, v, x->u.map.v[i].val, depth + 1))
			return true;
	if (v->type == DOC_MAP) {
		const doc_node *props = doc_map_get(s, "properties"), *pp = doc_map_get(s, "patternProperties");
		const doc_node *addl = doc_map_get(s, "additionalProperties");
		for (i = 0; i < v->u.map.len; i++) {
			const doc_pair *pr = &v->u.map.v[i];
			const doc_node *ps = props ? doc_map_getn(props, pr->key->u.s.ptr, pr->key->u.s.len) : NULL;
			bool any = ps != NULL;
			if (ps)
				walk_marks(w, pr->val, ps, depth + 1);
			if (pp && pp->type == DOC_MAP) {
				size_t j;
				for (j = 0; j < pp->u.map.len; j++)
					if (pattern_matches(pp->u.map.v[j].key->u.s.ptr, pr->key->u.s.ptr, pr->key->u.s.len)) {
						any = true;
						walk_marks(w, pr->val, pp->u.map.v[j].val, depth + 1);
					}
			}
			if (!any && addl)
				walk_marks(w, pr->val, addl, depth + 1);
			else if (!any)   /* unevaluated here (other branches may evaluate it: masked anyway) */
				walk_marks(w, pr->val, doc_map_get(s, "unevaluatedProperties"), depth + 1);
		}
	} else if (v->type == DOC_SEQ) {
		const doc_node *items = doc_map_get(s, "items"), *prefix = doc_map_get(s, "prefixItems");
		size_t start = 0;
		if (prefix && prefix->type == DOC_SEQ) {
			for (i = 0; i < v->u.seq.len && i < prefix->u.seq.len; i++)
				walk_marks(w, v->u.seq.v[i], prefix->u.seq.v[i], depth + 1);
			start = prefix->u.seq.len;
		}
		if (items && items->type == DOC_SEQ) {
			const doc_node *more = doc_map_get(s, "additionalItems");
			for (i = 0; i < v->u.seq.len; i++)
				walk_marks(w, v->u.seq.v[i], i < items->u.seq.len ? items->u.seq.v[i] : more, depth + 1);
		} else if (items) {
			for (i = start; i < v->u.seq.len; i++)
				walk_marks(w, v->u.seq.v[i], items, depth + 1);
		}
		/* contains may match any item; unevaluatedItems takes those no
		 * items keyword here took */
		for (i = 0; i < v->u.seq.len; i++) {
			walk_marks(w, v->u.seq.v[i], doc_map_get(s, "contains"), depth + 1);
			if (!items && i >= start)
				walk_marks(w, v->u.seq.v[i], doc_map_get(s, "unevaluatedItems"), depth + 1);
		}
	}
	return false;
}

int values_secret_walk(const doc_node *vals, const doc_node *schema, values_secret_fn fn, void *ctx)
{
	mark_walk w;
	memset(&w, 0, sizeof(w));
	w.root = schema;
	w.fn = fn;
	w.ctx = ctx;
	walk_marks(&w, vals, schema, 0);
	return w.over ? KE_LIMIT : 0;
}

static void redact_fn(void *ctx, const doc_node *n)
{
	(void)ctx;
	redact((doc_node *)n);   /* a node of our own copy */
}

/* Mask what schema marks in v (a copy we own); when the schema is too
 * costly to walk, all of v is masked. */
static void mask_schema(doc_node *v, const doc_node *schema)
{
	if (values_secret_walk(v, schema, redact_fn, NULL))
		redact(v);
}

static void mask_paths(doc_node *v, const doc_node *secret_paths)
{
	size_t i;
	for (i = 0; secret_paths && secret_paths->type == DOC_SEQ && i < secret_paths->u.seq.len; i++) {
		const doc_node *p = secret_paths->u.seq.v[i];
		doc_node *n = p->type == DOC_STR ? doc_get_path(v, p->u.s.ptr) : NULL;
		if (n)
			redact(n);
	}
}

doc_node *values_mask_secrets(karena *a, const doc_node *vals, const doc_node *schema,
			      const doc_node *secret_paths)
{
	doc_node *c;
	if (!vals)
		return NULL;
	c = doc_copy(a, vals);
	if (schema)
		mask_schema(c, schema);
	mask_paths(c, secret_paths);
	return c;
}

static void mask_chart(doc_node *v, const values_chart *c, int depth)
{
	size_t i;
	if (!v || depth > MASK_MAX_DEPTH)
		return;
	if (c->schema)
		mask_schema(v, c->schema);
	if (v->type != DOC_MAP)
		return;
	for (i = 0; i < c->neffective; i++) {
		const values_chart *s = c->effective[i];
		if (s->enabled && s->effective_name)
			mask_chart(doc_map_get(v, s->effective_name), s, depth + 1);
	}
}

static doc_node *chart_mask(karena *a, const doc_node *vals, const values_chart *root,
			    const doc_node *secret_paths)
{
	doc_node *c;
	if (!vals)
		return NULL;
	c = doc_copy(a, vals);
	if (root)
		mask_chart(c, root, 0);
	mask_paths(c, secret_paths);
	return c;
}

doc_node *values_chart_mask(karena *a, const values_chart *root, const doc_node *secret_paths)
{
	return chart_mask(a, root->values, root, secret_paths);
}

static void add_scalars(kredact *r, const doc_node *v, int depth)
{
	char num[64];
	size_t i;
	if (!v || depth > MASK_MAX_DEPTH)
		return;
	switch (v->type) {
	case DOC_STR:
		kredact_add(r, v->u.s.ptr, v->u.s.len, KREDACT_FRAGMENTS);
		break;
	case DOC_INT:
		snprintf(num, sizeof(num), "%lld", (long long)v->u.i);
		kredact_add(r, num, strlen(num), KREDACT_FRAGMENTS);
		break;
	case DOC_FLOAT:
		snprintf(num, sizeof(num), "%.17g", v->u.f);
		kredact_add(r, num, strlen(num), KREDACT_FRAGMENTS);
		break;
	case DOC_SEQ:
		for (i = 0; i < v->u.seq.len; i++)
			add_scalars(r, v->u.seq.v[i], depth + 1);
		break;
	case DOC_MAP:
		for (i = 0; i < v->u.map.len; i++)
			add_scalars(r, v->u.map.v[i].val, depth + 1);
		break;
	default:
		break;
	}
}

/* Walk the values and their masked copy together (the copy keeps every
 * key and item in place): where the copy says "<redacted>", v was hidden. */
static void add_hidden(kredact *r, const doc_node *v, const doc_node *m, int depth)
{
	size_t i;
	if (!v || !m || depth > MASK_MAX_DEPTH)
		return;
	if (m->type == DOC_STR && m->u.s.ptr == REDACTED) {
		add_scalars(r, v, depth);
		return;
	}
	if (v->type == DOC_MAP && m->type == DOC_MAP && v->u.map.len == m->u.map.len)
		for (i = 0; i < v->u.map.len; i++)
			add_hidden(r, v->u.map.v[i].val, m->u.map.v[i].val, depth + 1);
	else if (v->type == DOC_SEQ && m->type == DOC_SEQ && v->u.seq.len == m->u.seq.len)
		for (i = 0; i < v->u.seq.len; i++)
			add_hidden(r, v->u.seq.v[i], m->u.seq.v[i], depth + 1);
}

/* Before values_compute no subchart is in effect yet: each one's marks
 * apply to the user's values under its name and under every alias. */
static void add_unresolved(kredact *r, karena *a, const values_chart *c, const doc_node *vals, int depth)
{
	size_t i, j;
	if (!vals || vals->type != DOC_MAP || depth > MASK_MAX_DEPTH)
		return;
	for (i = 0; i < c->nsubcharts; i++) {
		const values_chart *sub = c->subcharts[i];
		const doc_node *v = doc_map_get(vals, sub->name);
		if (v)
			add_hidden(r, v, chart_mask(a, v, sub, NULL), 0);
		add_unresolved(r, a, sub, v, depth + 1);
		for (j = 0; j < c->ndeps; j++)
			if (c->deps[j].alias && !strcmp(c->deps[j].name, sub->name) &&
			    (v = doc_map_get(vals, c->deps[j].alias))) {
				add_hidden(r, v, chart_mask(a, v, sub, NULL), 0);
				add_unresolved(r, a, sub, v, depth + 1);
			}
	}
}

/* Whether c or a chart under it (loaded or in effect) has a schema: with
 * none and no secret paths, nothing can be secret. */
static bool any_schema(const values_chart *c, int depth)
{
	size_t i;
	if (!c || c->schema || depth > MASK_MAX_DEPTH)
		return c != NULL;
	for (i = 0; i < c->nsubcharts; i++)
		if (any_schema(c->subcharts[i], depth + 1))
			return true;
	for (i = 0; i < c->neffective; i++)
		if (any_schema(c->effective[i], depth + 1))
			return true;
	return false;
}

void values_secrets(kredact *r, const values_chart *root, const doc_node *vals, const doc_node *secret_paths)
{
	karena a = KARENA_INIT;
	bool paths = secret_paths && secret_paths->type == DOC_SEQ && secret_paths->u.seq.len;
	if (r && vals && (paths || any_schema(root, 0))) {
		add_hidden(r, vals, chart_mask(&a, vals, root, secret_paths), 0);
		if (root && !root->neffective)
			add_unresolved(r, &a, root, vals, 0);
	}
	karena_release(&a);
}
