/*
 * values/mask.c - secrets masked wherever values are printed or recorded.
 *
 * A value is secret when its schema says "x-kstage-secret": true (followed
 * through properties, patternProperties, additionalProperties, items,
 * prefixItems, allOf/anyOf/oneOf and local $refs), or when it was set with
 * --set-secret (its path is in secret_paths). A secret is replaced by the
 * string "<redacted>", whatever its type.
 */
#include "values_int.h"

#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define MASK_MAX_DEPTH 64
static char redacted_text[] = "<redacted>";
#define REDACTED redacted_text

static void redact(doc_node *n)
{
	n->type = DOC_STR;
	n->u.s.ptr = REDACTED;
	n->u.s.len = strlen(REDACTED);
}

static const doc_node *deref(const doc_node *root, const doc_node *s, int depth)
{
	const doc_node *r;
	while (depth++ < MASK_MAX_DEPTH && s && s->type == DOC_MAP && (r = doc_map_get(s, "$ref")) &&
	       r->type == DOC_STR && r->u.s.ptr[0] == '#') {
		const char *p = r->u.s.ptr + 1;
		const doc_node *n = root;
		kbuf tok = KBUF_INIT;
		while (n && *p == '/') {
			size_t len;
			p++;
			len = strcspn(p, "/");
			kbuf_reset(&tok);
			kbuf_put(&tok, p, len);
			n = n->type == DOC_MAP ? doc_map_get(n, tok.ptr) : NULL;
			p += len;
		}
		kbuf_release(&tok);
		if (!n || n == s)
			break;
		s = n;
	}
	return s;
}

static bool pattern_matches(const char *pat, const char *s, size_t len)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
	pcre2_match_data *md;
	int r;
	if (!c)
		return false;
	md = pcre2_match_data_create_from_pattern(c, NULL);
	r = pcre2_match(c, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(c);
	return r >= 0;
}

static void mask_schema(doc_node *v, const doc_node *root, const doc_node *s, int depth)
{
	const doc_node *x;
	size_t i;
	if (!v || !s || depth > MASK_MAX_DEPTH)
		return;
	s = deref(root, s, 0);
	if (!s || s->type != DOC_MAP)
		return;
	x = doc_map_get(s, "x-kstage-secret");
	if (x && x->type == DOC_BOOL && x->u.b) {
		redact(v);
		return;
	}
	static const char *const comb[] = { "allOf", "anyOf", "oneOf", NULL };
	for (i = 0; comb[i]; i++) {
		const doc_node *l = doc_map_get(s, comb[i]);
		size_t j;
		if (l && l->type == DOC_SEQ)
			for (j = 0; j < l->u.seq.len && v->type != DOC_STR; j++)
				mask_schema(v, root, l->u.seq.v[j], depth + 1);
	}
	if (v->type == DOC_STR && v->u.s.ptr == REDACTED)
		return;
	if (v->type == DOC_MAP) {
		const doc_node *props = doc_map_get(s, "properties"), *pp = doc_map_get(s, "patternProperties");
		const doc_node *addl = doc_map_get(s, "additionalProperties");
		for (i = 0; i < v->u.map.len; i++) {
			doc_pair *pr = &v->u.map.v[i];
			const doc_node *ps = props ? doc_map_getn(props, pr->key->u.s.ptr, pr->key->u.s.len) : NULL;
			bool any = ps != NULL;
			if (ps)
				mask_schema(pr->val, root, ps, depth + 1);
			if (pp && pp->type == DOC_MAP) {
				size_t j;
				for (j = 0; j < pp->u.map.len; j++)
					if (pattern_matches(pp->u.map.v[j].key->u.s.ptr, pr->key->u.s.ptr, pr->key->u.s.len)) {
						any = true;
						mask_schema(pr->val, root, pp->u.map.v[j].val, depth + 1);
					}
			}
			if (!any && addl)
				mask_schema(pr->val, root, addl, depth + 1);
		}
	} else if (v->type == DOC_SEQ) {
		const doc_node *items = doc_map_get(s, "items"), *prefix = doc_map_get(s, "prefixItems");
		size_t start = 0;
		if (prefix && prefix->type == DOC_SEQ) {
			for (i = 0; i < v->u.seq.len && i < prefix->u.seq.len; i++)
				mask_schema(v->u.seq.v[i], root, prefix->u.seq.v[i], depth + 1);
			start = prefix->u.seq.len;
		}
		if (items && items->type == DOC_SEQ) {
			for (i = 0; i < v->u.seq.len && i < items->u.seq.len; i++)
				mask_schema(v->u.seq.v[i], root, items->u.seq.v[i], depth + 1);
		} else if (items) {
			for (i = start; i < v->u.seq.len; i++)
				mask_schema(v->u.seq.v[i], root, items, depth + 1);
		}
	}
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
		mask_schema(c, schema, schema, 0);
	mask_paths(c, secret_paths);
	return c;
}

static void mask_chart(doc_node *v, const values_chart *c, int depth)
{
	size_t i;
	if (!v || depth > MASK_MAX_DEPTH)
		return;
	if (c->schema)
		mask_schema(v, c->schema, c->schema, 0);
	if (v->type != DOC_MAP)
		return;
	for (i = 0; i < c->neffective; i++) {
		const values_chart *s = c->effective[i];
		if (s->enabled && s->effective_name)
			mask_chart(doc_map_get(v, s->effective_name), s, depth + 1);
	}
}

doc_node *values_chart_mask(karena *a, const values_chart *root, const doc_node *secret_paths)
{
	doc_node *c;
	if (!root->values)
		return NULL;
	c = doc_copy(a, root->values);
	mask_chart(c, root, 0);
	mask_paths(c, secret_paths);
	return c;
}
