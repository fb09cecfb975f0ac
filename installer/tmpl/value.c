/* tmpl/value.c - Go values over doc_node: type names, truth, fmt's %v and
 * Sprintf verbs, strconv.Quote, and the conversions Sprig relies on. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"
#include "doc/resolve.h"
#include "tmpl_int.h"

doc_node tv_nil_node = { DOC_NULL, 0, 0, 0, NULL, { 0 } };
static doc_node tv_true_node = { DOC_BOOL, 0, 0, 0, NULL, { .b = true } };
static doc_node tv_false_node = { DOC_BOOL, 0, 0, 0, NULL, { .b = false } };

doc_node *tv_int(karena *a, int64_t i)
{
	doc_node *n = doc_new_int(a, i);
	n->flags |= TV_INT;
	return n;
}
doc_node *tv_int64(karena *a, int64_t i) { return doc_new_int(a, i); }
doc_node *tv_float(karena *a, double f) { return doc_new_float(a, f); }
doc_node *tv_str(karena *a, const char *s, size_t n) { return doc_new_strn(a, s, n); }
doc_node *tv_strz(karena *a, const char *s) { return doc_new_str(a, s); }
doc_node *tv_bool(bool b) { return b ? &tv_true_node : &tv_false_node; }
doc_node *tv_seq(karena *a) { return doc_new_seq(a); }
doc_node *tv_strs(karena *a)
{
	doc_node *n = doc_new_seq(a);
	n->flags |= TV_STRS;
	return n;
}
doc_node *tv_map(karena *a) { return doc_new_map(a); }

bool tv_isnil(const doc_node *v) { return !v || v->type == DOC_NULL; }

const char *tv_sv(const doc_node *v, size_t *len)
{
	if (!v || v->type != DOC_STR)
		return NULL;
	if (len)
		*len = v->u.s.len;
	return v->u.s.ptr;
}

bool tv_truth(const doc_node *v)
{
	if (!v)
		return false;
	switch (v->type) {
	case DOC_NULL: return false;
	case DOC_BOOL: return v->u.b;
	case DOC_INT: return v->u.i != 0;
	case DOC_FLOAT: return v->u.f != 0;
	case DOC_STR: return v->u.s.len != 0;
	case DOC_SEQ: return v->u.seq.len != 0;
	case DOC_MAP:
		/* structs and pointers are true; a map type (.Values is
		 * common.Values, .Files engine.files) is true when not empty */
		if ((v->flags & TV_STRUCT) || ((v->flags & TV_OBJ) && strcmp(tv_kind_name(v), "map")))
			return true;
		return v->u.map.len != 0;
	}
	return false;
}

bool tv_empty(const doc_node *v) { return !tv_truth(v); }

const char *tv_type_name(const doc_node *v)
{
	if (!v || v->type == DOC_NULL)
		return "<nil>";
	if (v->flags & TV_OBJ)
		return ((const tobj *)v)->type_name;
	switch (v->type) {
	case DOC_BOOL: return "bool";
	case DOC_INT: return (v->flags & TV_U8) ? "uint8" : (v->flags & TV_INT) ? "int" : "int64";
	case DOC_FLOAT: return "float64";
	case DOC_STR: return (v->flags & TV_BYTES) ? "[]uint8" : "string";
	case DOC_SEQ: return (v->flags & TV_STRS) ? "[]string" : (v->flags & TV_INTS) ? "[]int" : "[]interface {}";
	case DOC_MAP: return (v->flags & TV_SMAP) ? "map[string]string" : "map[string]interface {}";
	default: return "<nil>";
	}
}

bool tv_stringer(kbuf *out, const doc_node *v)
{
	if (!v || !(v->flags & TV_OBJ))
		return false;
	if (v->type == DOC_INT && !strcmp(((const tobj *)v)->type_name, "time.Time")) {
		tv_time_string(out, v);
		return true;
	}
	if (((const tobj *)v)->kind == TOBJ_SEMVER) {
		tsemver_string(out, v);
		return true;
	}
	return false;
}

const char *tv_kind_name(const doc_node *v)
{
	if (!v || v->type == DOC_NULL)
		return "invalid";
	if (v->flags & TV_OBJ)
		return ((const tobj *)v)->kind == TOBJ_FILES ? "map" :
		       ((const tobj *)v)->kind == TOBJ_APIVERSIONS ? "slice" :
		       ((const tobj *)v)->kind == TOBJ_KUBEVERSION || tv_is_time(v) ? "struct" :
		       ((const tobj *)v)->type_name[0] != '*' && (v->flags & TV_STRUCT) ? "struct" :
		       v->type == DOC_MAP && !(v->flags & TV_STRUCT) ? "map" : "ptr";
	switch (v->type) {
	case DOC_BOOL: return "bool";
	case DOC_INT: return (v->flags & TV_U8) ? "uint8" : (v->flags & TV_INT) ? "int" : "int64";
	case DOC_FLOAT: return "float64";
	case DOC_STR: return (v->flags & TV_BYTES) ? "slice" : "string";
	case DOC_SEQ: return "slice";
	case DOC_MAP: return (v->flags & TV_STRUCT) ? "struct" : "map";
	default: return "invalid";
	}
}

/* ---- strconv.Quote ---- */

/* strconv's appendEscapedRune: r between quote characters q; ascii
 * escapes every rune past ASCII (QuoteToASCII) */
static void quote_rune_in(kbuf *out, uint32_t r, char q, bool ascii)
{
	static const char hx[] = "0123456789abcdef";
	if (r == (uint32_t)(unsigned char)q || r == '\\') {
		kbuf_putc(out, '\\');
		kbuf_putc(out, (char)r);
		return;
	}
	if (ascii ? r < 0x80 && tv_rune_printable(r) : tv_rune_printable(r)) {
		char u[4];
		size_t k = 0;
		if (r < 0x80) u[k++] = (char)r;
		else if (r < 0x800) { u[k++] = (char)(0xC0 | (r >> 6)); u[k++] = (char)(0x80 | (r & 0x3F)); }
		else if (r < 0x10000) { u[k++] = (char)(0xE0 | (r >> 12)); u[k++] = (char)(0x80 | ((r >> 6) & 0x3F)); u[k++] = (char)(0x80 | (r & 0x3F)); }
		else { u[k++] = (char)(0xF0 | (r >> 18)); u[k++] = (char)(0x80 | ((r >> 12) & 0x3F)); u[k++] = (char)(0x80 | ((r >> 6) & 0x3F)); u[k++] = (char)(0x80 | (r & 0x3F)); }
		kbuf_put(out, u, k);
		return;
	}
	switch (r) {
	case '\a': kbuf_puts(out, "\\a"); return;
	case '\b': kbuf_puts(out, "\\b"); return;
	case '\f': kbuf_puts(out, "\\f"); return;
	case '\n': kbuf_puts(out, "\\n"); return;
	case '\r': kbuf_puts(out, "\\r"); return;
	case '\t': kbuf_puts(out, "\\t"); return;
	case '\v': kbuf_puts(out, "\\v"); return;
	default:
		break;
	}
	if (r < ' ' || r == 0x7F) {
		kbuf_puts(out, "\\x");
		kbuf_putc(out, hx[r >> 4]);
		kbuf_putc(out, hx[r & 15]);
	} else {
		if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
			r = 0xFFFD;
		kbuf_printf(out, r > 0xFFFF ? "\\U%08x" : "\\u%04x", (unsigned)r);
	}
}

/* strconv.Quote, or QuoteToASCII with ascii */
static void quote_str(kbuf *out, const char *s, size_t n, bool ascii)
{
	static const char hx[] = "0123456789abcdef";
	size_t i = 0, w;
	uint32_t r;
	kbuf_putc(out, '"');
	while (i < n) {
		/* a run of printable ASCII other than '"' and '\\' goes out as is */
		for (w = i; w < n && s[w] >= ' ' && s[w] < 0x7F && s[w] != '"' && s[w] != '\\'; w++)
			;
		if (w > i) {
			kbuf_put(out, s + i, w - i);
			i = w;
			continue;
		}
		w = tv_utf8_decode((const unsigned char *)s + i, n - i, &r);
		if (r == 0xFFFD && w == 1) {
			/* a byte that is not UTF-8 */
			kbuf_puts(out, "\\x");
			kbuf_putc(out, hx[(unsigned char)s[i] >> 4]);
			kbuf_putc(out, hx[(unsigned char)s[i] & 15]);
		} else {
			quote_rune_in(out, r, '"', ascii);
		}
		i += w;
	}
	kbuf_putc(out, '"');
}

void tv_quote(kbuf *out, const char *s, size_t n)
{
	quote_str(out, s, n, false);
}

/* strconv.CanBackquote */
static bool can_backquote(const char *s, size_t n)
{
	size_t i = 0, w;
	uint32_t r;
	while (i < n) {
		w = tv_utf8_decode((const unsigned char *)s + i, n - i, &r);
		if (w > 1) {
			if (r == 0xFEFF)
				return false;
		} else if (r == 0xFFFD || (r < ' ' && r != '\t') || r == '`' || r == 0x7F) {
			return false;
		}
		i += w;
	}
	return true;
}

/* ---- %v ---- */

static int cmp_pair(const void *a, const void *b)
{
	const doc_pair *x = *(const doc_pair *const *)a, *y = *(const doc_pair *const *)b;
	size_t n = x->key->u.s.len < y->key->u.s.len ? x->key->u.s.len : y->key->u.s.len;
	int c = memcmp(x->key->u.s.ptr, y->key->u.s.ptr, n);
	if (c)
		return c;
	return x->key->u.s.len < y->key->u.s.len ? -1 : x->key->u.s.len > y->key->u.s.len;
}

/* Map pairs in Go's sorted key order (malloc'd array; caller frees). */
const doc_pair **tv_sorted_pairs(const doc_node *m)
{
	const doc_pair **v = malloc((m->u.map.len + 1) * sizeof(*v));
	size_t i;
	if (!v)
		return NULL;
	for (i = 0; i < m->u.map.len; i++)
		v[i] = &m->u.map.v[i];
	qsort(v, m->u.map.len, sizeof(*v), cmp_pair);
	return v;
}

static void print_v(kbuf *out, const doc_node *v, char verb, int plus, int depth);

/* A Go pointer to a struct (.Capabilities): fmt prints "&{...}" at the top
 * level (nested, Go prints an address, which no output can match) */
static bool ptr_struct(const doc_node *v)
{
	return (v->flags & TV_OBJ) && ((const tobj *)v)->type_name[0] == '*';
}

/* Go fmt's layout of a slice, a struct or a map: "[a b]", "{a b}" ("&{a b}"
 * for a pointer at the top, "{k:a}" with plus), "map[k:a]" in key order.
 * elem prints each element, and each map key (key true). */
typedef void (*elem_fn)(const void *ctx, kbuf *out, const doc_node *v, bool key, int depth);

static void print_container(kbuf *out, const doc_node *v, bool plus, int depth, elem_fn elem, const void *ctx)
{
	const doc_pair **ps;
	size_t i;
	if (v->type == DOC_SEQ) {
		kbuf_putc(out, '[');
		for (i = 0; i < v->u.seq.len; i++) {
			if (i)
				kbuf_putc(out, ' ');
			elem(ctx, out, v->u.seq.v[i], false, depth + 1);
		}
		kbuf_putc(out, ']');
		return;
	}
	if (v->flags & TV_STRUCT) {
		if (depth == 0 && ptr_struct(v))
			kbuf_putc(out, '&');
		kbuf_putc(out, '{');
		for (i = 0; i < v->u.map.len; i++) {
			if (i)
				kbuf_putc(out, ' ');
			if (plus) {
				kbuf_puts(out, v->u.map.v[i].key->u.s.ptr);
				kbuf_putc(out, ':');
			}
			elem(ctx, out, v->u.map.v[i].val, false, depth + 1);
		}
		kbuf_putc(out, '}');
		return;
	}
	ps = tv_sorted_pairs(v);
	kbuf_puts(out, "map[");
	for (i = 0; ps && i < v->u.map.len; i++) {
		if (i)
			kbuf_putc(out, ' ');
		elem(ctx, out, ps[i]->key, true, depth + 1);
		kbuf_putc(out, ':');
		elem(ctx, out, ps[i]->val, false, depth + 1);
	}
	free(ps);
	kbuf_putc(out, ']');
}

typedef struct print_ctx {
	char verb;
	int plus;
} print_ctx;

/* print_v's element: a key as it is, a nil as fmt prints one inside */
static void print_elem(const void *ctx, kbuf *out, const doc_node *v, bool key, int depth)
{
	const print_ctx *c = ctx;
	if (key) {
		kbuf_put(out, v->u.s.ptr, v->u.s.len);
		return;
	}
	if (!v || v->type == DOC_NULL) {
		kbuf_puts(out, c->verb == 'v' ? "<nil>" : "%!");
		if (c->verb != 'v') {
			kbuf_putc(out, c->verb);
			kbuf_puts(out, "(<nil>)");
		}
		return;
	}
	print_v(out, v, c->verb, c->plus, depth);
}

/* Go's fmt recurses forever into a value that holds itself (and dies of a
 * stack overflow); two references to itself make the work grow as 2^depth.
 * kstage's printers stop at a depth and after a number of values visited
 * by one top-level print, and say "..." there. */
#ifdef KSTAGE_FUZZ
#define PRINT_MAX_VISITS 20000    /* the fuzz target's runs stay fast */
#else
#define PRINT_MAX_VISITS 1000000
#endif
static _Thread_local unsigned long print_visits;

static bool print_stop(int depth)
{
	if (depth == 0)
		print_visits = 0;
	return depth > 200 || ++print_visits > PRINT_MAX_VISITS;
}

/* a bool or number as %v prints it; false for other values */
static bool print_plain_scalar(kbuf *out, const doc_node *v)
{
	switch (v->type) {
	case DOC_BOOL: kbuf_puts(out, v->u.b ? "true" : "false"); return true;
	case DOC_INT: numfmt_int(out, v->u.i); return true;
	case DOC_FLOAT: numfmt_float_v(out, v->u.f); return true;
	default: return false;
	}
}

static void print_v(kbuf *out, const doc_node *v, char verb, int plus, int depth)
{
	size_t i;
	if (print_stop(depth)) {
		kbuf_puts(out, "...");
		return;
	}
	if (!v || v->type == DOC_NULL) {
		kbuf_puts(out, "<nil>");
		return;
	}
	if (tv_stringer(out, v))
		return;
	if (print_plain_scalar(out, v))
		return;
	switch (v->type) {
	case DOC_STR:
		if (v->flags & TV_BYTES) {
			if (verb == 's') {
				kbuf_put(out, v->u.s.ptr, v->u.s.len);
				return;
			}
			kbuf_putc(out, '[');
			for (i = 0; i < v->u.s.len; i++)
				kbuf_printf(out, i ? " %u" : "%u", (unsigned char)v->u.s.ptr[i]);
			kbuf_putc(out, ']');
			return;
		}
		kbuf_put(out, v->u.s.ptr, v->u.s.len);
		return;
	case DOC_SEQ:
	case DOC_MAP: {
		print_ctx c = { verb, plus };
		print_container(out, v, plus, depth, print_elem, &c);
		return;
	}
	default:
		return;
	}
}

void tv_print(kbuf *out, const doc_node *v) { print_v(out, v, 'v', 0, 0); }

void tv_sprint(kbuf *out, doc_node **args, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		bool is_str = args[i] && args[i]->type == DOC_STR && !(args[i]->flags & TV_BYTES);
		bool prev_str = i > 0 && args[i - 1] && args[i - 1]->type == DOC_STR && !(args[i - 1]->flags & TV_BYTES);
		if (i > 0 && !is_str && !prev_str)
			kbuf_putc(out, ' ');
		tv_print(out, args[i]);
	}
}

void tv_sprintln(kbuf *out, doc_node **args, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (i)
			kbuf_putc(out, ' ');
		tv_print(out, args[i]);
	}
	kbuf_putc(out, '\n');
}

/* ---- Sprintf ---- */

typedef struct fspec {
	bool minus, plus, sharp, zero, space;
	bool plusv, sharpv;   /* %+v and %#v: Go moves the flags here for 'v' */
	int width, prec;   /* -1 if absent */
} fspec;

static void pad(kbuf *out, const fspec *f, const char *s, size_t n, bool numeric)
{
	size_t runes = 0, i;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			runes++;
	if (f->width < 0 || runes >= (size_t)f->width) {
		kbuf_put(out, s, n);
		return;
	}
	if (f->minus) {
		kbuf_put(out, s, n);
		kbuf_putn(out, ' ', (size_t)f->width - runes);
		return;
	}
	if (f->zero && numeric) {
		size_t k = 0;
		if (n && (s[0] == '-' || s[0] == '+' || s[0] == ' '))
			kbuf_putc(out, s[k++]);
		kbuf_putn(out, '0', (size_t)f->width - runes);
		kbuf_put(out, s + k, n - k);
		return;
	}
	kbuf_putn(out, f->zero ? '0' : ' ', (size_t)f->width - runes);
	kbuf_put(out, s, n);
}

static void bad_verb(kbuf *out, char verb, const doc_node *v)
{
	kbuf_puts(out, "%!");
	kbuf_putc(out, verb);
	kbuf_putc(out, '(');
	if (!v || v->type == DOC_NULL) {
		kbuf_puts(out, "<nil>");
	} else {
		kbuf_puts(out, tv_type_name(v));
		kbuf_putc(out, '=');
		tv_print(out, v);
	}
	kbuf_putc(out, ')');
}

static void fmt_uint(kbuf *t, uint64_t u, int base, bool upper)
{
	char buf[80];
	int i = 80;
	const char *dg = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	if (u == 0)
		buf[--i] = '0';
	while (u) {
		buf[--i] = dg[u % (uint64_t)base];
		u /= (uint64_t)base;
	}
	kbuf_put(t, buf + i, (size_t)(80 - i));
}

static void fmt_integer(kbuf *out, const fspec *f, char verb, const doc_node *v)
{
	kbuf t = KBUF_INIT;
	int64_t i = v->u.i;
	bool neg = i < 0 && !(v->flags & TV_U8);
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
	size_t start;
	switch (verb) {
	case 'c': {
		char tmp[8];
		size_t k = 0;
		uint32_t r = (uint32_t)u;
		if (neg || u > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
			r = 0xFFFD;
		if (r < 0x80) tmp[k++] = (char)r;
		else if (r < 0x800) { tmp[k++] = (char)(0xC0 | (r >> 6)); tmp[k++] = (char)(0x80 | (r & 0x3F)); }
		else if (r < 0x10000) { tmp[k++] = (char)(0xE0 | (r >> 12)); tmp[k++] = (char)(0x80 | ((r >> 6) & 0x3F)); tmp[k++] = (char)(0x80 | (r & 0x3F)); }
		else { tmp[k++] = (char)(0xF0 | (r >> 18)); tmp[k++] = (char)(0x80 | ((r >> 12) & 0x3F)); tmp[k++] = (char)(0x80 | ((r >> 6) & 0x3F)); tmp[k++] = (char)(0x80 | (r & 0x3F)); }
		pad(out, f, tmp, k, false);
		return;
	}
	case 'q': {
		/* fmtQc: strconv.QuoteRune, QuoteRuneToASCII with '+' */
		uint32_t r = neg || u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF) ? 0xFFFD : (uint32_t)u;
		kbuf_putc(&t, '\'');
		quote_rune_in(&t, r, '\'', f->plus);
		kbuf_putc(&t, '\'');
		pad(out, f, t.ptr, t.len, false);
		kbuf_release(&t);
		return;
	}
	case 'U':
		kbuf_puts(&t, "U+");
		start = t.len;
		fmt_uint(&t, u, 16, true);
		while (t.len - start < 4) {
			kbuf_putc(&t, '0');
			memmove(t.ptr + start + 1, t.ptr + start, t.len - start - 1);
			t.ptr[start] = '0';
		}
		pad(out, f, t.ptr, t.len, false);
		kbuf_release(&t);
		return;
	default:
		break;
	}
	if (neg)
		kbuf_putc(&t, '-');
	else if (f->plus)
		kbuf_putc(&t, '+');
	else if (f->space)
		kbuf_putc(&t, ' ');
	if (f->sharp) {
		if (verb == 'x') kbuf_puts(&t, "0x");
		else if (verb == 'X') kbuf_puts(&t, "0X");
		else if (verb == 'o') kbuf_putc(&t, '0');
		else if (verb == 'b') kbuf_puts(&t, "0b");
	}
	if (verb == 'O')
		kbuf_puts(&t, "0o");
	start = t.len;
	fmt_uint(&t, u, verb == 'x' || verb == 'X' ? 16 : verb == 'o' || verb == 'O' ? 8 : verb == 'b' ? 2 : 10,
		 verb == 'X');
	if (f->prec >= 0 && t.len - start < (size_t)f->prec) {
		size_t add = (size_t)f->prec - (t.len - start);
		kbuf_putn(&t, '0', add);
		memmove(t.ptr + start + add, t.ptr + start, t.len - start - add);
		memset(t.ptr + start, '0', add);
	}
	if (f->prec == 0 && u == 0)
		kbuf_truncate(&t, start);
	pad(out, f, t.ptr, t.len, f->prec < 0);
	kbuf_release(&t);
}

static void fmt_floatv(kbuf *out, const fspec *f, char verb, double d)
{
	kbuf t = KBUF_INIT;
	int prec = f->prec;
	if (isinf(d) || isnan(d)) {
		if (isnan(d))
			kbuf_puts(&t, f->plus ? "+NaN" : f->space ? " NaN" : "NaN");
		else if (d > 0)
			kbuf_puts(&t, f->plus ? "+Inf" : f->space ? " Inf" : "Inf");
		else
			kbuf_puts(&t, "-Inf");
		{
			fspec g = *f;
			g.zero = false;
			pad(out, &g, t.ptr, t.len, false);
		}
		kbuf_release(&t);
		return;
	}
	if ((f->plus || f->space) && !signbit(d))
		kbuf_putc(&t, f->plus ? '+' : ' ');
	switch (verb) {
	case 'v': numfmt_float(&t, d, 'g', prec); break;
	case 'e': case 'E': numfmt_float(&t, d, verb, prec < 0 ? 6 : prec); break;
	case 'f': case 'F': numfmt_float(&t, d, 'f', prec < 0 ? 6 : prec); break;
	case 'g': case 'G': numfmt_float(&t, d, verb, prec); break;
	default: numfmt_float(&t, d, 'g', -1); break;
	}
	if (verb == 'v' && prec < 0) {
		/* %v: shortest, exponent when < -4 or >= 21 (Go's %v uses 'g' with
		 * the shortest precision and eprec 21) */
		kbuf_truncate(&t, (t.len && (t.ptr[0] == '+' || t.ptr[0] == ' ')) ? 1 : 0);
		numfmt_float_v(&t, d);
	}
	pad(out, f, t.ptr, t.len, true);
	kbuf_release(&t);
}

static void fmt_string(kbuf *out, const fspec *f, char verb, const char *s, size_t n)
{
	kbuf t = KBUF_INIT;
	size_t i;
	if (f->prec >= 0 && (verb == 's' || verb == 'v' || verb == 'q')) {
		size_t r = 0;
		for (i = 0; i < n; i++) {
			if (((unsigned char)s[i] & 0xC0) != 0x80) {
				if (r == (size_t)f->prec)
					break;
				r++;
			}
		}
		n = i;
	}
	switch (verb) {
	case 'q':
		if (f->sharp && can_backquote(s, n)) {
			kbuf_putc(&t, '`');
			kbuf_put(&t, s, n);
			kbuf_putc(&t, '`');
		} else {
			quote_str(&t, s, n, f->plus);
		}
		break;
	case 'x': case 'X':
		for (i = 0; i < n; i++) {
			if (f->space && i)
				kbuf_putc(&t, ' ');
			/* '#': 0x before each byte with ' ', else once */
			if (f->sharp && (f->space || !i))
				kbuf_puts(&t, verb == 'x' ? "0x" : "0X");
			kbuf_printf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
		}
		break;
	default:
		kbuf_put(&t, s, n);
	}
	pad(out, f, t.ptr, t.len, false);
	kbuf_release(&t);
}

static void fmt_value_d(kbuf *out, const fspec *f, char verb, const doc_node *v, int depth);

/* fmt's badVerb: the value printed as %v with the verb's own width,
 * precision and flags ("%!f(int=01)" for %.2f of 1) */
static void bad_verb_f(kbuf *out, const fspec *f, char verb, const doc_node *v, int depth)
{
	kbuf_puts(out, "%!");
	kbuf_putc(out, verb);
	kbuf_putc(out, '(');
	kbuf_puts(out, tv_type_name(v));
	kbuf_putc(out, '=');
	fmt_value_d(out, f, 'v', v, depth + 1);
	kbuf_putc(out, ')');
}

typedef struct fmt_ctx {
	const fspec *f;
	char verb;
} fmt_ctx;

/* a container's element (or map key) under the verb */
static void fmt_elem(const void *ctx, kbuf *out, const doc_node *v, bool key, int depth)
{
	const fmt_ctx *c = ctx;
	(void)key;
	fmt_value_d(out, c->f, c->verb, v, depth);
}

static void fmt_container(kbuf *out, const fspec *f, char verb, const doc_node *v, int depth)
{
	fmt_ctx c = { f, verb };
	print_container(out, v, f->plusv, depth, fmt_elem, &c);
}

/* %#v: Go syntax for what values, dict, list... hold (top: nil is
 * "<nil>" there, "interface {}(nil)" inside a container) */
static void go_syntax(kbuf *out, const doc_node *v, bool top, int depth)
{
	size_t i;
	if (print_stop(depth)) {
		kbuf_puts(out, "...");
		return;
	}
	if (!v || v->type == DOC_NULL) {
		kbuf_puts(out, top ? "<nil>" : "interface {}(nil)");
		return;
	}
	if (v->type == DOC_MAP && (v->flags & TV_STRUCT) && (v->flags & TV_OBJ)) {
		/* type{Field:value, ...}, a pointer's with '&' */
		const char *tn = ((const tobj *)v)->type_name;
		if (tn[0] == '*')
			kbuf_putc(out, '&');
		kbuf_puts(out, tn + (tn[0] == '*'));
		kbuf_putc(out, '{');
		for (i = 0; i < v->u.map.len; i++) {
			if (i)
				kbuf_puts(out, ", ");
			kbuf_put(out, v->u.map.v[i].key->u.s.ptr, v->u.map.v[i].key->u.s.len);
			kbuf_putc(out, ':');
			go_syntax(out, v->u.map.v[i].val, false, depth + 1);
		}
		kbuf_putc(out, '}');
		return;
	}
	/* a named slice type prints as a slice: common.VersionSet{"v1", ...} */
	if (((v->flags & (TV_OBJ | TV_STRUCT)) && v->type != DOC_SEQ) || (v->type == DOC_INT && (v->flags & TV_U8))) {
		print_v(out, v, 'v', 1, depth);
		return;
	}
	if (print_plain_scalar(out, v))
		return;
	switch (v->type) {
	case DOC_STR:
		if (v->flags & TV_BYTES) {
			kbuf_puts(out, "[]byte{");
			for (i = 0; i < v->u.s.len; i++)
				kbuf_printf(out, i ? ", 0x%x" : "0x%x", (unsigned char)v->u.s.ptr[i]);
			kbuf_putc(out, '}');
			return;
		}
		tv_quote(out, v->u.s.ptr, v->u.s.len);
		return;
	case DOC_SEQ:
		kbuf_puts(out, tv_type_name(v));
		if (v->flags & TV_NILSEQ) {
			kbuf_puts(out, "(nil)");
			return;
		}
		kbuf_putc(out, '{');
		for (i = 0; i < v->u.seq.len; i++) {
			if (i)
				kbuf_puts(out, ", ");
			go_syntax(out, v->u.seq.v[i], false, depth + 1);
		}
		kbuf_putc(out, '}');
		return;
	case DOC_MAP: {
		const doc_pair **ps;
		kbuf_puts(out, tv_type_name(v));
		if (v->flags & TV_NILSEQ) {
			kbuf_puts(out, "(nil)");
			return;
		}
		ps = tv_sorted_pairs(v);
		kbuf_putc(out, '{');
		for (i = 0; ps && i < v->u.map.len; i++) {
			if (i)
				kbuf_puts(out, ", ");
			tv_quote(out, ps[i]->key->u.s.ptr, ps[i]->key->u.s.len);
			kbuf_putc(out, ':');
			go_syntax(out, ps[i]->val, false, depth + 1);
		}
		free(ps);
		kbuf_putc(out, '}');
		return;
	}
	default:
		return;
	}
}

static void fmt_value_d(kbuf *out, const fspec *f, char verb, const doc_node *v, int depth)
{
	if (print_stop(depth)) {
		kbuf_puts(out, "...");
		return;
	}
	if (verb == 'v' && f->sharpv && depth == 0) {
		kbuf t = KBUF_INIT;
		go_syntax(&t, v, true, 0);
		pad(out, f, t.ptr, t.len, false);
		kbuf_release(&t);
		return;
	}
	if (verb == 'T') {
		const char *tn = tv_type_name(v);
		pad(out, f, tn, strlen(tn), false);
		return;
	}
	if (!v || v->type == DOC_NULL) {
		/* inside a list or map Go prints a nil as <nil> whatever the verb */
		if (verb == 'v' || depth > 0) {
			pad(out, f, "<nil>", 5, false);
			return;
		}
		bad_verb(out, verb, v);
		return;
	}
	if ((v->flags & TV_OBJ) && v->type == DOC_INT && !strcmp(((const tobj *)v)->type_name, "time.Time") &&
	    (verb == 'v' || verb == 's')) {
		kbuf t = KBUF_INIT;
		tv_time_string(&t, v);
		pad(out, f, t.ptr, t.len, false);
		kbuf_release(&t);
		return;
	}
	if ((v->flags & TV_OBJ) && ((const tobj *)v)->kind == TOBJ_SEMVER && strchr("vsxXq", verb)) {
		/* fmt's handleMethods: the String() text, formatted as a string */
		kbuf t = KBUF_INIT;
		doc_node str;
		tsemver_string(&t, v);
		memset(&str, 0, sizeof(str));
		str.type = DOC_STR;
		str.u.s.ptr = t.ptr;
		str.u.s.len = t.len;
		fmt_value_d(out, f, verb, &str, depth + 1);
		kbuf_release(&t);
		return;
	}
	switch (v->type) {
	case DOC_BOOL:
		if (verb == 'v' || verb == 't')
			pad(out, f, v->u.b ? "true" : "false", v->u.b ? 4 : 5, false);
		else
			bad_verb_f(out, f, verb, v, depth);
		return;
	case DOC_INT:
		if (strchr("bcdoOqxXUv", verb))
			fmt_integer(out, f, verb == 'v' ? 'd' : verb, v);
		else
			bad_verb_f(out, f, verb, v, depth);
		return;
	case DOC_FLOAT:
		if (strchr("eEfFgGv", verb))
			fmt_floatv(out, f, verb, v->u.f);
		else if (verb == 'x' || verb == 'X') {
			/* Go's hexadecimal float: -0x1.cp+01 (exponent at least two digits) */
			char tmp[64], *e;
			kbuf t = KBUF_INIT;
			if (f->prec >= 0)
				snprintf(tmp, sizeof(tmp), verb == 'x' ? "%.*a" : "%.*A", f->prec, v->u.f);
			else
				snprintf(tmp, sizeof(tmp), verb == 'x' ? "%a" : "%A", v->u.f);
			e = strpbrk(tmp, "pP");
			if (e && (e[1] == '+' || e[1] == '-') && e[2] && !e[3]) {
				kbuf_put(&t, tmp, (size_t)(e - tmp) + 2);
				kbuf_putc(&t, '0');
				kbuf_puts(&t, e + 2);
			} else {
				kbuf_puts(&t, tmp);
			}
			if (f->plus && v->u.f >= 0) {
				kbuf_putc(out, '+');
			}
			pad(out, f, t.ptr, t.len, true);
			kbuf_release(&t);
		} else if (verb == 'b')
			fmt_floatv(out, f, 'g', v->u.f);
		else
			bad_verb_f(out, f, verb, v, depth);
		return;
	case DOC_STR:
		if (v->flags & TV_BYTES) {
			if (verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') {
				fmt_string(out, f, verb, v->u.s.ptr, v->u.s.len);
				return;
			}
			{
				kbuf t = KBUF_INIT;
				tv_print(&t, v);
				pad(out, f, t.ptr, t.len, false);
				kbuf_release(&t);
			}
			return;
		}
		if (strchr("vsqxX", verb))
			fmt_string(out, f, verb, v->u.s.ptr, v->u.s.len);
		else
			bad_verb_f(out, f, verb, v, depth);
		return;
	case DOC_SEQ:
	case DOC_MAP:
		fmt_container(out, f, verb, v, depth);
		return;
	default:
		return;
	}
}

/* fmt's tooLarge: widths and precisions beyond a million are refused */
#define FMT_NUM_MAX 1000000

/* fmt's intFromArg for a '*': the next argument if it is an integer
 * within FMT_NUM_MAX either way (the argument is used up either way) */
static bool star_arg(doc_node **args, size_t n, size_t *argi, int *out)
{
	const doc_node *a;
	if (*argi >= n)
		return false;
	a = args[(*argi)++];
	if (!a || a->type != DOC_INT || a->u.i > FMT_NUM_MAX || a->u.i < -FMT_NUM_MAX)
		return false;
	*out = (int)a->u.i;
	return true;
}

/* fmt's parsenum: digits at *i into *num (left alone when there are
 * none); a number that grows past FMT_NUM_MAX before its last digit
 * consumes the rest of the format and returns false */
static bool parse_num(const char *fmt, size_t flen, size_t *i, int *num)
{
	int v = 0;
	bool any = false;
	while (*i < flen && fmt[*i] >= '0' && fmt[*i] <= '9') {
		if (v > FMT_NUM_MAX) {
			*i = flen;
			return false;
		}
		v = v * 10 + (fmt[*i] - '0');
		any = true;
		(*i)++;
	}
	if (any)
		*num = v;
	return true;
}

void tv_sprintf(kbuf *out, const char *fmt, size_t flen, doc_node **args, size_t n)
{
	size_t i = 0, argi = 0;
	while (i < flen) {
		fspec f = { false, false, false, false, false, false, false, -1, -1 };
		size_t lit = i;
		char verb;
		while (i < flen && fmt[i] != '%')
			i++;
		if (i > lit)
			kbuf_put(out, fmt + lit, i - lit);
		if (i >= flen)
			break;
		i++;
		for (; i < flen; i++) {
			char c = fmt[i];
			if (c == '-') { f.minus = true; f.zero = false; }
			else if (c == '+') f.plus = true;
			else if (c == '#') f.sharp = true;
			else if (c == '0') f.zero = !f.minus;
			else if (c == ' ') f.space = true;
			else break;
		}
		if (i < flen && fmt[i] == '*') {
			int w;
			i++;
			if (!star_arg(args, n, &argi, &w)) {
				kbuf_puts(out, "%!(BADWIDTH)");
			} else if (w < 0) {
				f.minus = true;
				f.zero = false;
				f.width = -w;
			} else {
				f.width = w;
			}
		} else if (!parse_num(fmt, flen, &i, &f.width)) {
			kbuf_puts(out, "%!(NOVERB)");
			break;
		}
		if (i < flen && fmt[i] == '.') {
			i++;
			if (i < flen && fmt[i] == '*') {
				int p;
				i++;
				if (!star_arg(args, n, &argi, &p) || p < 0)
					kbuf_puts(out, "%!(BADPREC)");
				else
					f.prec = p;
			} else {
				f.prec = 0;
				if (!parse_num(fmt, flen, &i, &f.prec)) {
					kbuf_puts(out, "%!(NOVERB)");
					break;
				}
			}
		}
		if (i >= flen) {
			kbuf_puts(out, "%!(NOVERB)");
			break;
		}
		verb = fmt[i++];
		if (verb == '%') {
			kbuf_putc(out, '%');
			continue;
		}
		if (argi >= n) {
			kbuf_puts(out, "%!");
			kbuf_putc(out, verb);
			kbuf_puts(out, "(MISSING)");
			continue;
		}
		if (verb == 'w')
			verb = 'v';
		if (verb == 'v') {
			/* Go: '#' asks for Go syntax and '+' for field names here,
			 * neither for a sign nor an alternate form */
			f.sharpv = f.sharp;
			f.plusv = f.plus;
			f.sharp = f.plus = false;
		}
		fmt_value_d(out, &f, verb, args[argi++], 0);
	}
	if (argi < n) {
		kbuf_puts(out, "%!(EXTRA ");
		for (; argi < n; argi++) {
			kbuf_puts(out, tv_type_name(args[argi]));
			kbuf_putc(out, '=');
			tv_print(out, args[argi]);
			if (argi + 1 < n)
				kbuf_puts(out, ", ");
		}
		kbuf_putc(out, ')');
	}
}

/* ---- Sprig conversions ---- */

const char *tv_strval(tctx *x, const doc_node *v, size_t *len)
{
	kbuf b = KBUF_INIT;
	char *s;
	if (v && v->type == DOC_STR) {
		*len = v->u.s.len;
		return v->u.s.ptr;
	}
	tv_print(&b, v);
	s = karena_strndup(x->a, b.ptr, b.len);
	*len = b.len;
	kbuf_release(&b);
	return s;
}

int64_t tv_to_int64(const doc_node *v)
{
	if (!v)
		return 0;
	switch (v->type) {
	case DOC_INT: return v->u.i;
	case DOC_FLOAT:
		if (isnan(v->u.f)) return INT64_MIN;
		if (v->u.f >= 9.2233720368547758e18 || v->u.f < -9.2233720368547758e18) return INT64_MIN;
		return (int64_t)v->u.f;
	case DOC_BOOL: return v->u.b;
	case DOC_STR: {
		/* cast.ToInt64E: strconv.ParseInt(s, 0, 0) after trimming zero decimals */
		int64_t i;
		bool ov = false;
		const char *s = v->u.s.ptr;
		size_t n = v->u.s.len;
		const char *dot = memchr(s, '.', n);
		if (dot) {
			size_t k;
			for (k = (size_t)(dot - s) + 1; k < n; k++)
				if (s[k] != '0')
					return 0;
			n = (size_t)(dot - s);
		}
		/* by length: a NUL in the string is not a digit (ParseInt fails) */
		if (!doc_parse_int(s, n, &i, &ov) || ov)
			i = 0;
		return i;
	}
	default:
		return 0;
	}
}

/* Go's underscoreOK: underscores only between digits, or between a base
 * prefix and a digit. */
static bool go_underscores_ok(const char *s, size_t n)
{
	char saw = '^';
	size_t i = 0;
	bool hex = false;
	if (n && (*s == '+' || *s == '-'))
		s++, n--;
	if (n >= 2 && s[0] == '0' && strchr("bBoOxX", s[1])) {
		i = 2;
		saw = '0';
		hex = s[1] == 'x' || s[1] == 'X';
	}
	for (; i < n; i++) {
		if (isdigit((unsigned char)s[i]) || (hex && isxdigit((unsigned char)s[i]))) {
			saw = '0';
			continue;
		}
		if (s[i] == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* cast.ToFloat64 of a string: Go's strconv.ParseFloat, else 0. strtod
 * takes more than Go does (leading blanks, hex without a 'p' exponent,
 * "nan(...)", a signed nan) and Go refuses an overflow (±Inf, ErrRange);
 * Go takes underscores between digits. */
static double go_parse_float(const char *s, size_t n)
{
	char *tmp, *end, *w;
	const char *p = s;
	size_t i;
	bool hex;
	double d;
	if (n && (*p == '+' || *p == '-'))
		p++;
	hex = (size_t)(p - s) + 1 < n && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	if (!n || isspace((unsigned char)s[0]) || memchr(s, '(', n) || memchr(s, '\0', n) ||
	    (hex && !memchr(s, 'p', n) && !memchr(s, 'P', n)) ||
	    (p != s && (size_t)(p - s) < n && (*p == 'n' || *p == 'N')) ||
	    (memchr(s, '_', n) && !go_underscores_ok(s, n)))
		return 0;
	tmp = malloc(n + 1);
	if (!tmp)
		return 0;
	for (i = 0, w = tmp; i < n; i++)
		if (s[i] != '_')
			*w++ = s[i];
	*w = 0;
	errno = 0;
	d = strtod(tmp, &end);
	if (*end || end == tmp || (errno == ERANGE && isinf(d)))
		d = 0;
	free(tmp);
	return d;
}

double tv_to_float64(const doc_node *v)
{
	if (!v)
		return 0;
	switch (v->type) {
	case DOC_INT: return (double)v->u.i;
	case DOC_FLOAT: return v->u.f;
	case DOC_BOOL: return v->u.b;
	case DOC_STR:
		return go_parse_float(v->u.s.ptr, v->u.s.len);
	default:
		return 0;
	}
}
