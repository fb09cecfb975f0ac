/* tmpl/funcs_lists.c - Sprig's list functions (list.go): list, append,
 * prepend, first, rest, last, initial, reverse, uniq, without, has,
 * compact, concat, chunk, until/untilStep/seq, and the must* variants. The
 * non-must variants panic in Sprig on a non-list; the panic reaches the
 * template as an error, which is what we return. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tmpl_int.h"

static int need_list(tctx *x, doc_node *v, const char *what)
{
	if (!v || v->type != DOC_SEQ || (v->flags & TV_OBJ)) {
		/* Sprig asks reflect.TypeOf(nil).Kind(): a nil pointer panic */
		if (!v || v->type == DOC_NULL)
			return tctx_fail(x, "runtime error: invalid memory address or nil pointer dereference");
		/* Sprig names the reflect kind ("map", "int"), and words two apart */
		if (!strcmp(what, "chunk"))
			return tctx_fail(x, "Cannot chunk type %s", tv_kind_name(v));
		if (!strcmp(what, "concat"))
			return tctx_fail(x, "Cannot concat type %s as list", tv_kind_name(v));
		return tctx_fail(x, "Cannot %s on type %s", what, tv_kind_name(v));
	}
	return 0;
}

/* Before a list of n items is built: its array, grown by doubling in the
 * arena, takes at most twice n pointers */
static int reserve_items(tctx *x, size_t n)
{
	return tctx_mem_reserve(x, n > SIZE_MAX / (2 * sizeof(doc_node *)) ? SIZE_MAX : n * 2 * sizeof(doc_node *));
}

static doc_node *copy_list(tctx *x, doc_node *l)
{
	doc_node *r = tv_seq(x->a);
	size_t i;
	for (i = 0; l && i < l->u.seq.len; i++)
		doc_seq_push(x->a, r, l->u.seq.v[i]);
	return r;
}

static int f_list(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a);
	size_t i;
	for (i = 0; i < n; i++)
		doc_seq_push(x->a, r, a[i] ? a[i] : TV_NIL);
	*out = r;
	return 0;
}

static int f_append(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r;
	(void)n;
	if (need_list(x, a[0], "push"))
		return KE_INPUT;
	if (reserve_items(x, a[0]->u.seq.len + 1))
		return KE_INPUT;
	r = copy_list(x, a[0]);
	doc_seq_push(x->a, r, a[1] ? a[1] : TV_NIL);
	*out = r;
	return 0;
}

static int f_prepend(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a);
	size_t i;
	(void)n;
	if (need_list(x, a[0], "prepend"))
		return KE_INPUT;
	if (reserve_items(x, a[0]->u.seq.len + 1))
		return KE_INPUT;
	doc_seq_push(x->a, r, a[1] ? a[1] : TV_NIL);
	for (i = 0; i < a[0]->u.seq.len; i++)
		doc_seq_push(x->a, r, a[0]->u.seq.v[i]);
	*out = r;
	return 0;
}

static int f_first(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (need_list(x, a[0], "find first"))
		return KE_INPUT;
	*out = a[0]->u.seq.len ? a[0]->u.seq.v[0] : NULL;
	return 0;
}

static int f_last(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (need_list(x, a[0], "find last"))
		return KE_INPUT;
	*out = a[0]->u.seq.len ? a[0]->u.seq.v[a[0]->u.seq.len - 1] : NULL;
	return 0;
}

static int f_rest(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r;
	size_t i;
	(void)n;
	if (need_list(x, a[0], "find rest"))
		return KE_INPUT;
	r = tv_seq(x->a);
	if (!a[0]->u.seq.len)
		r->flags |= TV_NILSEQ; /* what Helm's Sprig gives: a nil slice */
	for (i = 1; i < a[0]->u.seq.len; i++)
		doc_seq_push(x->a, r, a[0]->u.seq.v[i]);
	*out = r;
	return 0;
}

static int f_initial(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r;
	size_t i;
	(void)n;
	if (need_list(x, a[0], "find initial"))
		return KE_INPUT;
	r = tv_seq(x->a);
	if (!a[0]->u.seq.len)
		r->flags |= TV_NILSEQ;
	for (i = 0; i + 1 < a[0]->u.seq.len; i++)
		doc_seq_push(x->a, r, a[0]->u.seq.v[i]);
	*out = r;
	return 0;
}

static int f_reverse(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a);
	size_t i;
	(void)n;
	if (need_list(x, a[0], "find reverse"))
		return KE_INPUT;
	for (i = a[0]->u.seq.len; i-- > 0;)
		doc_seq_push(x->a, r, a[0]->u.seq.v[i]);
	*out = r;
	return 0;
}

static bool in_list(doc_node *l, doc_node *v)
{
	size_t i;
	for (i = 0; i < l->u.seq.len; i++)
		if (tv_deep_equal(l->u.seq.v[i], v))
			return true;
	return false;
}

/* a hash that agrees with tv_deep_equal: equal values hash alike (nil
 * alike, 0 and -0 alike, maps whatever their key order) */
static uint64_t deep_hash(const doc_node *v, int depth)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;
	if (tv_isnil(v))
		return 0;
	h = (h ^ (uint64_t)v->type) * 1099511628211ULL;
	switch (v->type) {
	case DOC_BOOL: return h ^ v->u.b;
	case DOC_INT: return (h ^ (uint64_t)v->u.i) * 1099511628211ULL;
	case DOC_FLOAT: {
		double f = v->u.f == 0 ? 0 : v->u.f;
		uint64_t b;
		memcpy(&b, &f, sizeof(b));
		return (h ^ b) * 1099511628211ULL;
	}
	case DOC_STR:
		for (i = 0; i < v->u.s.len; i++)
			h = (h ^ (unsigned char)v->u.s.ptr[i]) * 1099511628211ULL;
		return h;
	case DOC_SEQ:
		h ^= v->u.seq.len;
		for (i = 0; i < v->u.seq.len && depth < 8; i++)
			h = (h ^ deep_hash(v->u.seq.v[i], depth + 1)) * 1099511628211ULL;
		return h;
	case DOC_MAP:
		h ^= v->u.map.len;
		for (i = 0; i < v->u.map.len && depth < 8; i++) /* a sum: key order does not matter */
			h += deep_hash(v->u.map.v[i].key, depth + 1) * 31 + deep_hash(v->u.map.v[i].val, depth + 1);
		return h;
	default:
		return h;
	}
}

/* Sprig's uniq (first of each run of deep-equal values, in order), in
 * linear time through a hash table of the kept values' indexes */
static int f_uniq(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a), *l = a[0];
	size_t i, cap = 16, *slot;
	(void)n;
	if (need_list(x, l, "find uniq"))
		return KE_INPUT;
	while (cap < l->u.seq.len * 2)
		cap *= 2;
	slot = xcalloc(cap, sizeof(*slot)); /* index + 1 into r, 0: free */
	for (i = 0; i < l->u.seq.len; i++) {
		doc_node *v = l->u.seq.v[i];
		size_t k;
		for (k = deep_hash(v, 0) & (cap - 1); slot[k]; k = (k + 1) & (cap - 1))
			if (tv_deep_equal(r->u.seq.v[slot[k] - 1], v))
				break;
		if (slot[k])
			continue;
		doc_seq_push(x->a, r, v);
		slot[k] = r->u.seq.len;
	}
	free(slot);
	*out = r;
	return 0;
}

static int f_without(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a), *omit = tv_seq(x->a);
	size_t i;
	if (need_list(x, a[0], "find without"))
		return KE_INPUT;
	for (i = 1; i < n; i++)
		doc_seq_push(x->a, omit, a[i] ? a[i] : TV_NIL);
	for (i = 0; i < a[0]->u.seq.len; i++)
		if (!in_list(omit, a[0]->u.seq.v[i]))
			doc_seq_push(x->a, r, a[0]->u.seq.v[i]);
	*out = r;
	return 0;
}

static int f_has(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (tv_isnil(a[1])) {
		*out = tv_bool(false);
		return 0;
	}
	if (need_list(x, a[1], "find has"))
		return KE_INPUT;
	*out = tv_bool(in_list(a[1], a[0] ? a[0] : TV_NIL));
	return 0;
}

static int f_compact(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a);
	size_t i;
	(void)n;
	if (need_list(x, a[0], "compact"))
		return KE_INPUT;
	for (i = 0; i < a[0]->u.seq.len; i++)
		if (!tv_empty(a[0]->u.seq.v[i]))
			doc_seq_push(x->a, r, a[0]->u.seq.v[i]);
	*out = r;
	return 0;
}

static int f_concat(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r;
	size_t i, k, total = 0;
	for (i = 0; i < n; i++) {
		if (need_list(x, a[i], "concat"))
			return KE_INPUT;
		total = total > SIZE_MAX - a[i]->u.seq.len ? SIZE_MAX : total + a[i]->u.seq.len;
	}
	if (reserve_items(x, total))
		return KE_INPUT;
	r = tv_seq(x->a);
	for (i = 0; i < n; i++) {
		for (k = 0; k < a[i]->u.seq.len; k++)
			doc_seq_push(x->a, r, a[i]->u.seq.v[k]);
	}
	*out = r;
	return 0;
}

static int f_chunk(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *r = tv_seq(x->a), *c = NULL;
	size_t i;
	(void)n;
	if (need_list(x, a[1], "chunk"))
		return KE_INPUT;
	if (a[0]->u.i <= 0)
		return tctx_fail(x, "runtime error: integer divide by zero");
	for (i = 0; i < a[1]->u.seq.len; i++) {
		if (i % (size_t)a[0]->u.i == 0) {
			c = tv_seq(x->a);
			doc_seq_push(x->a, r, c);
		}
		doc_seq_push(x->a, c, a[1]->u.seq.v[i]);
	}
	*out = r;
	return 0;
}

/* Sprig's untilStep: i from start while i < stop (step > 0) or i > stop
 * (step < 0), stepping with Go's wrapping int arithmetic; fn names the
 * caller in the error for more than a million elements */
static int until_step(tctx *x, doc_node **out, const char *fn, int64_t start, int64_t stop, int64_t step)
{
	doc_node *r = tv_seq(x->a);
	r->flags |= TV_INTS;
	int64_t i;
	size_t count = 0;
	if (step == 0 || (step > 0 && start >= stop) || (step < 0 && start <= stop)) {
		*out = r;
		return 0;
	}
	for (i = start; step > 0 ? i < stop : i > stop; i = (int64_t)((uint64_t)i + (uint64_t)step)) {
		if (++count > 1000000)
			return tctx_fail(x, "%s: more than 1000000 elements", fn);
		doc_seq_push(x->a, r, tv_int(x->a, i));
	}
	*out = r;
	return 0;
}

static int f_until(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return until_step(x, out, "until", 0, a[0]->u.i, a[0]->u.i >= 0 ? 1 : -1);
}

static int f_untilstep(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return until_step(x, out, "untilStep", a[0]->u.i, a[1]->u.i, a[2]->u.i);
}

/* Sprig's seq: untilStep(start, end+inc, step) joined with spaces, where
 * inc is -1 when end < start (and a positive step then gives nothing) */
static int f_seq(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t start = 1, end, step = 1, inc = 1;
	doc_node *l;
	kbuf b = KBUF_INIT;
	size_t i;
	int r;
	switch (n) {
	case 1: end = a[0]->u.i; break;
	case 2: start = a[0]->u.i; end = a[1]->u.i; break;
	case 3: start = a[0]->u.i; step = a[1]->u.i; end = a[2]->u.i; break;
	default:
		*out = tv_strz(x->a, "");
		return 0;
	}
	if (end < start) {
		inc = -1;
		if (n == 3 && step > 0) {
			*out = tv_strz(x->a, "");
			return 0;
		}
		if (n < 3)
			step = -1;
	}
	r = until_step(x, &l, "seq", start, (int64_t)((uint64_t)end + (uint64_t)inc), step);
	if (r)
		return r;
	for (i = 0; i < l->u.seq.len; i++) {
		if (i)
			kbuf_putc(&b, ' ');
		kbuf_printf(&b, "%lld", (long long)l->u.seq.v[i]->u.i);
	}
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

/* Sprig's slice (it replaces text/template's): lists only, toInt indexes */
static int f_sprig_slice(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *l = a[0], *r;
	int64_t start = 0, end, i;
	if (!l || l->type == DOC_NULL)
		return tctx_fail(x, "runtime error: invalid memory address or nil pointer dereference");
	if (l->type != DOC_SEQ || (l->flags & TV_OBJ))
		return tctx_fail(x, "list should be type of slice or array but %s", tv_kind_name(l));
	if (!l->u.seq.len) {
		*out = NULL;
		return 0;
	}
	end = (int64_t)l->u.seq.len;
	if (n > 1)
		start = tv_to_int64(a[1]);
	if (n > 2)
		end = tv_to_int64(a[2]);
	if (start < 0 || end < start || end > (int64_t)l->u.seq.len)
		return tctx_fail(x, "reflect.Value.Slice: slice index out of bounds");
	r = tv_seq(x->a);
	r->flags |= l->flags & TV_STRS;
	for (i = start; i < end; i++)
		doc_seq_push(x->a, r, l->u.seq.v[i]);
	*out = r;
	return 0;
}

const tfunc tmpl_funcs_lists[] = {
	{ "slice", f_sprig_slice, "a*a" },
	{ "mustSlice", f_sprig_slice, "a*a" },
	{ "list", f_list, "*a" },
	{ "tuple", f_list, "*a" },
	{ "append", f_append, "aa" },
	{ "push", f_append, "aa" },
	{ "mustAppend", f_append, "aa" },
	{ "mustPush", f_append, "aa" },
	{ "prepend", f_prepend, "aa" },
	{ "mustPrepend", f_prepend, "aa" },
	{ "first", f_first, "a" },
	{ "mustFirst", f_first, "a" },
	{ "last", f_last, "a" },
	{ "mustLast", f_last, "a" },
	{ "rest", f_rest, "a" },
	{ "mustRest", f_rest, "a" },
	{ "initial", f_initial, "a" },
	{ "mustInitial", f_initial, "a" },
	{ "reverse", f_reverse, "a" },
	{ "mustReverse", f_reverse, "a" },
	{ "uniq", f_uniq, "a" },
	{ "mustUniq", f_uniq, "a" },
	{ "without", f_without, "a*a" },
	{ "mustWithout", f_without, "a*a" },
	{ "has", f_has, "aa" },
	{ "mustHas", f_has, "aa" },
	{ "compact", f_compact, "a" },
	{ "mustCompact", f_compact, "a" },
	{ "concat", f_concat, "*a" },
	{ "chunk", f_chunk, "ia" },
	{ "mustChunk", f_chunk, "ia" },
	{ "until", f_until, "i" },
	{ "untilStep", f_untilstep, "iii" },
	{ "seq", f_seq, "*i" },
	{ NULL, NULL, NULL },
};
