/* tmpl/funcs_dicts.c - Sprig's dict functions (dict.go): dict, get, set,
 * unset, hasKey, pluck, dig, keys, values, pick, omit, merge (mergo
 * rules: empty destination values are filled), mergeOverwrite, deepCopy.
 * Decision: keys and values return sorted key order (Go's is random). */
#include <stdlib.h>
#include <string.h>

#include "tmpl_int.h"
#include "core/alloc.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)

static int f_dict(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *m = tv_map(x->a);
	size_t i;
	for (i = 0; i < n; i += 2) {
		size_t l;
		const char *k = tv_strval(x, a[i], &l);
		doc_map_setn(x->a, m, k, l, i + 1 < n ? (a[i + 1] ? a[i + 1] : TV_NIL) : tv_strz(x->a, ""));
	}
	*out = m;
	return 0;
}

static int f_get(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *v = doc_map_getn(a[0], S(1), SL(1));
	(void)n;
	*out = v ? v : tv_strz(x->a, "");
	return 0;
}

static int f_set(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (a[0]->flags & TV_NILSEQ)
		return tctx_fail(x, "assignment to entry in nil map"); /* Go's panic, recovered */
	doc_map_setn(x->a, a[0], S(1), SL(1), a[2] ? a[2] : TV_NIL);
	*out = a[0];
	return 0;
}

static int f_unset(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	doc_map_del(a[0], S(1));
	*out = a[0];
	return 0;
}

static int f_haskey(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	*out = tv_bool(doc_map_getn(a[0], S(1), SL(1)) != NULL);
	return 0;
}

static int f_pluck(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a);
	size_t i;
	for (i = 1; i < n; i++) {
		doc_node *v = doc_map_getn(a[i], S(0), SL(0));
		if (v)
			doc_seq_push(x->a, r, v);
	}
	*out = r;
	return 0;
}

static int f_keys(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_strs(x->a);
	size_t i, k;
	for (i = 0; i < n; i++) {
		const doc_pair **ps = tv_sorted_pairs(a[i]);
		for (k = 0; ps && k < a[i]->u.map.len; k++)
			doc_seq_push(x->a, r, ps[k]->key);
		free(ps);
	}
	*out = r;
	return 0;
}

static int f_values(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a);
	const doc_pair **ps = tv_sorted_pairs(a[0]);
	size_t k;
	(void)n;
	for (k = 0; ps && k < a[0]->u.map.len; k++)
		doc_seq_push(x->a, r, ps[k]->val);
	free(ps);
	*out = r;
	return 0;
}

static int f_pick(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_map(x->a);
	size_t i;
	for (i = 1; i < n; i++) {
		doc_node *v = doc_map_getn(a[0], S(i), SL(i));
		if (v)
			doc_map_setn(x->a, r, S(i), SL(i), v);
	}
	*out = r;
	return 0;
}

static int f_omit(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_map(x->a);
	size_t i, k;
	for (k = 0; k < a[0]->u.map.len; k++) {
		doc_pair *p = &a[0]->u.map.v[k];
		bool drop = false;
		for (i = 1; i < n && !drop; i++)
			drop = SL(i) == p->key->u.s.len && !memcmp(S(i), p->key->u.s.ptr, SL(i));
		if (!drop)
			doc_map_setn(x->a, r, p->key->u.s.ptr, p->key->u.s.len, p->val);
	}
	*out = r;
	return 0;
}

static int f_dig(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *d = a[n - 1], *def = a[n - 2];
	size_t i;
	if (n < 3)
		return tctx_fail(x, "dig needs at least three arguments");
	if (!tv_is_plain_map(d))  /* Go's failed type assertion; nil is "nil" there */
		return tctx_fail(x, "interface conversion: interface {} is %s, not map[string]interface {}",
				 tv_isnil(d) ? "nil" : tv_type_name(d));
	for (i = 0; i < n - 2; i++) {
		doc_node *v;
		if (!a[i] || a[i]->type != DOC_STR)
			return tctx_fail(x, "interface conversion: interface {} is %s, not string", tv_type_name(a[i]));
		v = doc_map_getn(d, S(i), SL(i));
		if (!v) {
			*out = def;
			return 0;
		}
		if (i == n - 3) {
			*out = v;
			return 0;
		}
		if (!tv_is_plain_map(v))
			return tctx_fail(x, "interface conversion: interface {} is %s, not map[string]interface {}",
					 tv_isnil(v) ? "nil" : tv_type_name(v));
		d = v;
	}
	*out = def;
	return 0;
}

/* mergo.Merge(dst, src[, WithOverride]) for map[string]interface{}, its
 * quirks included: a nil in src is written only with overwrite; a map in
 * src merges into a map in dst and replaces any other value with
 * overwrite (or an empty one); a list in src replaces dst's with
 * overwrite, even when empty (mergo asks whether the whole src map is
 * empty); other values replace dst's with overwrite or when it is empty. */
static void merge_into(karena *ar, doc_node *dst, doc_node *src, bool overwrite, int depth)
{
	size_t i;
	if (depth > 100)
		return;
	for (i = 0; i < src->u.map.len; i++) {
		doc_pair *p = &src->u.map.v[i];
		const char *k = p->key->u.s.ptr;
		size_t kl = p->key->u.s.len;
		doc_node *s = p->val, *d = doc_map_getn(dst, k, kl);
		if (tv_isnil(s)) {
			if (overwrite)
				doc_map_setn(ar, dst, k, kl, TV_NIL);
			continue;
		}
		if (s->type == DOC_MAP && d && d->type == DOC_MAP)
			merge_into(ar, d, s, overwrite, depth + 1);
		if (s->type == DOC_SEQ) {
			if (overwrite || !dst->u.map.len)
				doc_map_setn(ar, dst, k, kl, s);
			else if (!d || tv_isnil(d))
				doc_map_setn(ar, dst, k, kl, tv_seq(ar));
		}
		if (d && !tv_empty(d) && (s->type == DOC_SEQ || (s->type == DOC_MAP && d->type == DOC_MAP)))
			continue;
		if (overwrite || !d || tv_empty(d))
			doc_map_setn(ar, dst, k, kl, s);
	}
}

static int f_merge(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t i;
	for (i = 1; i < n; i++)
		merge_into(x->a, a[0], a[i], false, 0);
	*out = a[0];
	return 0;
}

static int f_mergeoverwrite(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t i;
	for (i = 1; i < n; i++)
		merge_into(x->a, a[0], a[i], true, 0);
	*out = a[0];
	return 0;
}

/* What deep_copy returns as it is: scalars, a typed list with methods
 * (.Capabilities.APIVersions: nothing in a template changes one in place)
 * and Helm's objects (.Files...); named maps and structs (.Values,
 * .Capabilities) are copied keeping their Go type, as copystructure does. */
static bool copy_shares(const doc_node *v)
{
	if (v->type != DOC_SEQ && v->type != DOC_MAP)
		return true;
	return (v->flags & TV_OBJ) && (v->type == DOC_SEQ || ((const tobj *)v)->kind != TOBJ_NAMED);
}

/* What deep_copy will take from the arena for v, added to *need, stopping
 * once it passes max; -1 when v holds itself. Maps that share a value copy
 * into a tree that grows exponentially with the nesting, so the size is
 * known, and checked against the memory budget, before anything is made. */
static int copy_size(const doc_node *v, const doc_node **path, int depth, size_t *need, size_t max)
{
	size_t i;
	int d;
	if (!v || depth >= 1000 || *need > max || copy_shares(v))
		return 0;
	for (d = 0; d < depth; d++)
		if (path[d] == v)
			return -1;
	path[depth] = v;
	*need = st_add(*need, sizeof(tobj) + 32);
	if (v->type == DOC_SEQ) {
		*need = st_add(*need, st_mult(v->u.seq.len + 1, sizeof(doc_node *)));
		for (i = 0; i < v->u.seq.len && *need <= max; i++)
			if (copy_size(v->u.seq.v[i], path, depth + 1, need, max))
				return -1;
		return 0;
	}
	*need = st_add(*need, st_mult(v->u.map.len + 1, sizeof(doc_pair)));
	for (i = 0; i < v->u.map.len && *need <= max; i++) {
		*need = st_add(*need, sizeof(doc_node) + 32 + v->u.map.v[i].key->u.s.len);
		if (copy_size(v->u.map.v[i].val, path, depth + 1, need, max))
			return -1;
	}
	return 0;
}

static doc_node *deep_copy(karena *ar, doc_node *v, int depth)
{
	doc_node *r;
	size_t i;
	if (!v || depth >= 1000 || copy_shares(v))
		return v;
	if (v->type == DOC_SEQ) {
		r = tv_seq(ar);
		r->flags = v->flags & (TV_STRS);
		r->u.seq.cap = v->u.seq.len;
		r->u.seq.v = karena_alloc_raw(ar, st_mult(v->u.seq.len + 1, sizeof(doc_node *)));
		for (i = 0; i < v->u.seq.len; i++)
			doc_seq_push(ar, r, deep_copy(ar, v->u.seq.v[i], depth + 1));
		return r;
	}
	if (v->flags & TV_OBJ) {
		r = &tobj_new(ar, TOBJ_NAMED, ((tobj *)v)->type_name, DOC_MAP)->n;
		r->flags |= v->flags & (TV_STRUCT | TV_SMAP);
	} else {
		r = tv_map(ar);
		r->flags = v->flags & (TV_STRUCT | TV_SMAP);
	}
	r->u.map.cap = v->u.map.len;
	r->u.map.v = karena_alloc_raw(ar, st_mult(v->u.map.len + 1, sizeof(doc_pair)));
	/* the keys are v's, unique: appended without a lookup */
	for (i = 0; i < v->u.map.len; i++) {
		const doc_node *k = v->u.map.v[i].key;
		doc_node *c = deep_copy(ar, v->u.map.v[i].val, depth + 1);
		doc_map_append(ar, r, doc_new_strn(ar, k->u.s.ptr, k->u.s.len), c);
	}
	return r;
}

static int f_deepcopy(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const doc_node *path[1000];
	size_t need = 0;
	(void)n;
	/* copystructure reflects on the nil interface and panics */
	if (tv_isnil(a[0]))
		return tctx_fail(x, "reflect: call of reflect.Value.Type on zero Value");
	/* copystructure recurses on a cycle until Go's stack runs out */
	if (copy_size(a[0], path, 0, &need, tctx_mem_left(x)))
		return tctx_fail(x, "the value holds itself (a cycle made with set), it cannot be copied");
	if (tctx_mem_reserve(x, need))
		return KE_INPUT;
	*out = deep_copy(x->a, a[0], 0);
	return 0;
}

const tfunc tmpl_funcs_dicts[] = {
	{ "dict", f_dict, "*a" },
	{ "get", f_get, "ms" },
	{ "set", f_set, "msa" },
	{ "unset", f_unset, "ms" },
	{ "hasKey", f_haskey, "ms" },
	{ "pluck", f_pluck, "s*m" },
	{ "keys", f_keys, "*m" },
	{ "values", f_values, "m" },
	{ "pick", f_pick, "m*s" },
	{ "omit", f_omit, "m*s" },
	{ "dig", f_dig, "*a" },
	{ "merge", f_merge, "m*m" },
	{ "mustMerge", f_merge, "m*m" },
	{ "mergeOverwrite", f_mergeoverwrite, "m*m" },
	{ "mustMergeOverwrite", f_mergeoverwrite, "m*m" },
	{ "deepCopy", f_deepcopy, "a" },
	{ "mustDeepCopy", f_deepcopy, "a" },
	{ NULL, NULL, NULL },
};
