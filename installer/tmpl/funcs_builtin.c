/* tmpl/funcs_builtin.c - text/template's predefined functions (funcs.go):
 * and, or, not, len, index, slice, print*, eq/ne/lt/le/gt/ge, html, js,
 * urlquery, with Go's comparison rules and error texts. */
#include <string.h>

#include "tmpl_int.h"

static int f_andor(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)a; (void)n; (void)out;
	return 0; /* handled in exec.c (short-circuit) */
}

static int f_not(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	*out = tv_bool(!tv_truth(a[0]));
	return 0;
}

static int f_len(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *v = a[0];
	(void)n;
	if (!v)
		return tctx_fail(x, "reflect: call of reflect.Value.Type on zero Value");
	if (v->type == DOC_NULL)
		return tctx_fail(x, "len of nil pointer");
	if (v->type == DOC_STR || v->type == DOC_SEQ || (v->type == DOC_MAP && !(v->flags & TV_STRUCT))) {
		*out = tv_int(x->a, (int64_t)doc_len(v));
		return 0;
	}
	return tctx_fail(x, "len of type %s", tv_type_name(v));
}

static int index_arg(tctx *x, doc_node *idx, size_t cap, int64_t *out)
{
	if (!idx || idx->type == DOC_NULL)
		return tctx_fail(x, "cannot index slice/array with nil");
	if (idx->type != DOC_INT)
		return tctx_fail(x, "cannot index slice/array with type %s", tv_type_name(idx));
	if (idx->u.i < 0 || (uint64_t)idx->u.i > cap)
		return tctx_fail(x, "index out of range: %lld", (long long)idx->u.i);
	*out = idx->u.i;
	return 0;
}

static int f_index(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *item = a[0];
	size_t i;
	if (!item || item->type == DOC_NULL)
		return tctx_fail(x, "index of untyped nil");
	for (i = 1; i < n; i++) {
		doc_node *idx = a[i];
		int64_t k;
		if (!item || item->type == DOC_NULL)
			return tctx_fail(x, "index of nil pointer");
		if (item->type == DOC_SEQ || item->type == DOC_STR) {
			size_t len = doc_len(item);
			if (index_arg(x, idx, len, &k))
				return KE_INPUT;
			if ((size_t)k >= len)
				return tctx_fail(x, "reflect: %s index out of range", item->type == DOC_STR ? "string" : "slice");
			if (item->type == DOC_STR) {
				item = tv_int(x->a, (unsigned char)item->u.s.ptr[k]);
				item->flags = (uint16_t)((item->flags & ~TV_INT) | TV_U8);
			} else {
				item = item->u.seq.v[k];
			}
		} else if (item->type == DOC_MAP && !(item->flags & TV_STRUCT)) {
			doc_node *v;
			if (!idx || idx->type == DOC_NULL)
				return tctx_fail(x, "value is nil; should be of type string");
			if (idx->type != DOC_STR)
				return tctx_fail(x, "value has type %s; should be string", tv_type_name(idx));
			v = doc_map_getn(item, idx->u.s.ptr, idx->u.s.len);
			/* a missing key is the element type's zero value */
			item = v ? v : (item->flags & TV_SMAP) ? tv_strz(x->a, "") : TV_NIL;
		} else {
			return tctx_fail(x, "can't index item of type %s", tv_type_name(item));
		}
	}
	*out = item;
	return 0;
}

static int f_slice(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *item = a[0];
	int64_t idx[3] = { 0, 0, 0 };
	size_t len, cap, i;
	if (!item || item->type == DOC_NULL)
		return tctx_fail(x, "slice of untyped nil");
	if (n - 1 > 3)
		return tctx_fail(x, "too many slice indexes: %zu", n - 1);
	if (item->type == DOC_STR) {
		if (n - 1 == 3)
			return tctx_fail(x, "cannot 3-index slice a string");
	} else if (item->type != DOC_SEQ) {
		return tctx_fail(x, "can't slice item of type %s", tv_type_name(item));
	}
	len = doc_len(item);
	cap = len;
	idx[1] = (int64_t)len;
	for (i = 1; i < n; i++)
		if (index_arg(x, a[i], cap, &idx[i - 1]))
			return KE_INPUT;
	if (n - 1 < 2)
		idx[1] = (int64_t)len;
	if (idx[0] > idx[1])
		return tctx_fail(x, "invalid slice index: %lld > %lld", (long long)idx[0], (long long)idx[1]);
	if (n - 1 == 3 && idx[1] > idx[2])
		return tctx_fail(x, "invalid slice index: %lld > %lld", (long long)idx[1], (long long)idx[2]);
	if ((size_t)idx[1] > len)
		return tctx_fail(x, "reflect: slice index out of range");
	if (item->type == DOC_STR) {
		*out = tv_str(x->a, item->u.s.ptr + idx[0], (size_t)(idx[1] - idx[0]));
		(*out)->flags |= item->flags & TV_BYTES;
		return 0;
	}
	{
		doc_node *s = tv_seq(x->a);
		int64_t k;
		s->flags |= item->flags & TV_STRS;
		for (k = idx[0]; k < idx[1]; k++)
			doc_seq_push(x->a, s, item->u.seq.v[k]);
		*out = s;
	}
	return 0;
}

static int f_print(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	tv_sprint(&b, a, n);
	return tctx_ret_buf(x, out, &b);
}

static int f_println(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	tv_sprintln(&b, a, n);
	return tctx_ret_buf(x, out, &b);
}

static int f_printf(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	tv_sprintf(&b, a[0]->u.s.ptr, a[0]->u.s.len, a + 1, n - 1);
	return tctx_ret_buf(x, out, &b);
}

/* ---- comparisons ---- */

enum { K_INVALID, K_BOOL, K_INT, K_UINT, K_FLOAT, K_STRING, K_OTHER };

static int basic_kind(const doc_node *v)
{
	if (!v || v->type == DOC_NULL)
		return K_INVALID;
	if (v->flags & TV_OBJ)
		return K_OTHER;
	switch (v->type) {
	case DOC_BOOL: return K_BOOL;
	case DOC_INT: return (v->flags & TV_U8) ? K_UINT : K_INT;
	case DOC_FLOAT: return K_FLOAT;
	case DOC_STR: return (v->flags & TV_BYTES) ? K_OTHER : K_STRING;
	default: return K_OTHER;
	}
}

static bool str_eq(const doc_node *a, const doc_node *b)
{
	return a->u.s.len == b->u.s.len && !memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len);
}

/* returns 1 true, 0 false, -1 error (message set) */
static int eq2(tctx *x, doc_node *a1, doc_node *a2)
{
	int k1 = basic_kind(a1), k2 = basic_kind(a2);
	if (k1 != k2) {
		if ((k1 == K_INT && k2 == K_UINT) || (k1 == K_UINT && k2 == K_INT))
			return a1->u.i == a2->u.i;
		if (k1 != K_INVALID && k2 != K_INVALID) {
			tctx_fail(x, "incompatible types for comparison: %s and %s", tv_type_name(a1), tv_type_name(a2));
			return -1;
		}
		return 0;
	}
	switch (k1) {
	case K_BOOL: return a1->u.b == a2->u.b;
	case K_INT: case K_UINT: return a1->u.i == a2->u.i;
	case K_FLOAT: return a1->u.f == a2->u.f;
	case K_STRING: return str_eq(a1, a2);
	case K_INVALID: return 1;
	default:
		if (tv_is_time(a1) && tv_is_time(a2))
			return tv_time_equal(a1, a2);
		/* Go's canCompare looks at reflect kinds only (a []int and a
		 * []interface {} pass); the messages print the values with %s */
		if (strcmp(tv_kind_name(a1), tv_kind_name(a2))) {
			kbuf b = KBUF_INIT;
			doc_node *arg[4];
			arg[0] = arg[1] = a1;
			arg[2] = arg[3] = a2;
			tv_sprintf(&b, "%s: %T, %T: %v", 14, arg, 4);
			tctx_fail(x, "non-comparable types %s", b.ptr);
			kbuf_release(&b);
			return -1;
		}
		{
			kbuf b = KBUF_INIT;
			doc_node *arg[1];
			arg[0] = a2;
			tv_sprintf(&b, "%s", 2, arg, 1);
			tctx_fail(x, "non-comparable type %s: %s", b.ptr, tv_type_name(a2));
			kbuf_release(&b);
		}
		return -1;
	}
}

static int f_eq(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t i;
	if (n < 2)
		return tctx_fail(x, "missing argument for comparison");
	for (i = 1; i < n; i++) {
		int r = eq2(x, a[0], a[i]);
		if (r < 0)
			return KE_INPUT;
		if (r) {
			*out = tv_bool(true);
			return 0;
		}
	}
	*out = tv_bool(false);
	return 0;
}

static int f_ne(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int r = eq2(x, a[0], a[1]);
	(void)n;
	if (r < 0)
		return KE_INPUT;
	*out = tv_bool(!r);
	return 0;
}

static int lt2(tctx *x, doc_node *a1, doc_node *a2)
{
	int k1 = basic_kind(a1), k2 = basic_kind(a2);
	if (k1 == K_INVALID || k1 == K_OTHER || k2 == K_INVALID || k2 == K_OTHER) {
		tctx_fail(x, "invalid type for comparison");
		return -1;
	}
	if (k1 != k2) {
		if (k1 == K_INT && k2 == K_UINT)
			return a1->u.i < 0 || a1->u.i < a2->u.i;
		if (k1 == K_UINT && k2 == K_INT)
			return a2->u.i >= 0 && a1->u.i < a2->u.i;
		tctx_fail(x, "incompatible types for comparison: %s and %s", tv_type_name(a1), tv_type_name(a2));
		return -1;
	}
	switch (k1) {
	case K_BOOL:
		tctx_fail(x, "invalid type for comparison");
		return -1;
	case K_INT: case K_UINT: return a1->u.i < a2->u.i;
	case K_FLOAT: return a1->u.f < a2->u.f;
	case K_STRING: {
		size_t m = a1->u.s.len < a2->u.s.len ? a1->u.s.len : a2->u.s.len;
		int c = memcmp(a1->u.s.ptr, a2->u.s.ptr, m);
		return c < 0 || (c == 0 && a1->u.s.len < a2->u.s.len);
	}
	default:
		return 0;
	}
}

static int f_lt(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int r = lt2(x, a[0], a[1]);
	(void)n;
	if (r < 0)
		return KE_INPUT;
	*out = tv_bool(r);
	return 0;
}

static int f_le(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int r = lt2(x, a[0], a[1]);
	(void)n;
	if (r < 0)
		return KE_INPUT;
	if (!r && (r = eq2(x, a[0], a[1])) < 0)
		return KE_INPUT;
	*out = tv_bool(r);
	return 0;
}

static int f_gt(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int r = f_le(x, out, a, n);
	if (r)
		return r;
	*out = tv_bool(!(*out)->u.b);
	return 0;
}

static int f_ge(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int r = f_lt(x, out, a, n);
	if (r)
		return r;
	*out = tv_bool(!(*out)->u.b);
	return 0;
}

/* ---- escapers ---- */

static void eval_args(kbuf *b, doc_node **a, size_t n)
{
	size_t i;
	if (n == 1 && a[0] && a[0]->type == DOC_STR && !(a[0]->flags & TV_BYTES)) {
		kbuf_put(b, a[0]->u.s.ptr, a[0]->u.s.len);
		return;
	}
	for (i = 0; i < n; i++) {
		bool is_str = a[i] && a[i]->type == DOC_STR;
		bool prev_str = i > 0 && a[i - 1] && a[i - 1]->type == DOC_STR;
		if (i > 0 && !is_str && !prev_str)
			kbuf_putc(b, ' ');
		if (!a[i] || a[i]->type == DOC_NULL)
			kbuf_puts(b, "<no value>");
		else
			tv_print(b, a[i]);
	}
}

static int f_html(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf s = KBUF_INIT, b = tctx_buf(x);
	size_t i;
	eval_args(&s, a, n);
	for (i = 0; i < s.len; i++) {
		switch (s.ptr[i]) {
		case '"': kbuf_puts(&b, "&#34;"); break;
		case '\'': kbuf_puts(&b, "&#39;"); break;
		case '&': kbuf_puts(&b, "&amp;"); break;
		case '<': kbuf_puts(&b, "&lt;"); break;
		case '>': kbuf_puts(&b, "&gt;"); break;
		case '\0': kbuf_puts(&b, "\xEF\xBF\xBD"); break;
		default: kbuf_putc(&b, s.ptr[i]);
		}
	}
	kbuf_release(&s);
	return tctx_ret_buf(x, out, &b);
}

static int f_js(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf s = KBUF_INIT, b = tctx_buf(x);
	size_t i;
	eval_args(&s, a, n);
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		switch (c) {
		case '\\': kbuf_puts(&b, "\\\\"); break;
		case '\'': kbuf_puts(&b, "\\'"); break;
		case '"': kbuf_puts(&b, "\\\""); break;
		case '<': kbuf_puts(&b, "\\u003C"); break;
		case '>': kbuf_puts(&b, "\\u003E"); break;
		case '&': kbuf_puts(&b, "\\u0026"); break;
		case '=': kbuf_puts(&b, "\\u003D"); break;
		default:
			if (c < ' ') {
				kbuf_printf(&b, "\\u%04X", c);
			} else if (c >= 0x80) {
				/* a rune unicode.IsPrint refuses as \uXXXX; a bad byte as is */
				uint32_t r;
				size_t w = tv_utf8_decode((const unsigned char *)s.ptr + i, s.len - i, &r);
				if (tv_rune_printable(r))
					kbuf_put(&b, s.ptr + i, w);
				else
					kbuf_printf(&b, "\\u%04X", (unsigned)r);
				i += w - 1;
			} else {
				kbuf_putc(&b, (char)c);
			}
		}
	}
	kbuf_release(&s);
	return tctx_ret_buf(x, out, &b);
}

static int f_urlquery(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf s = KBUF_INIT, b = tctx_buf(x);
	size_t i;
	eval_args(&s, a, n);
	for (i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~')
			kbuf_putc(&b, (char)c);
		else if (c == ' ')
			kbuf_putc(&b, '+');
		else
			kbuf_printf(&b, "%%%02X", c);
	}
	kbuf_release(&s);
	return tctx_ret_buf(x, out, &b);
}

static int f_call(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)out; (void)n;
	if (!a[0] || a[0]->type == DOC_NULL)
		return tctx_fail(x, "call of nil");
	return tctx_fail(x, "non-function of type %s", tv_type_name(a[0]));
}

const tfunc tmpl_funcs_builtin[] = {
	{ "and", f_andor, "r*r" },
	{ "or", f_andor, "r*r" },
	{ "not", f_not, "r" },
	{ "len", f_len, "r" },
	{ "index", f_index, "r*r" },
	{ "slice", f_slice, "r*r" },
	{ "print", f_print, "*a" },
	{ "printf", f_printf, "s*a" },
	{ "println", f_println, "*a" },
	{ "eq", f_eq, "r*r" },
	{ "ne", f_ne, "rr" },
	{ "lt", f_lt, "rr" },
	{ "le", f_le, "rr" },
	{ "gt", f_gt, "rr" },
	{ "ge", f_ge, "rr" },
	{ "html", f_html, "*a" },
	{ "js", f_js, "*a" },
	{ "urlquery", f_urlquery, "*a" },
	{ "call", f_call, "r*a" },
	{ NULL, NULL, NULL },
};
