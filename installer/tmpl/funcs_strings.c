/* tmpl/funcs_strings.c - Sprig's string functions (strings.go, functions.go)
 * plus defaults (default, empty, coalesce, ternary, all, any) and type
 * tests/conversions. Differences from Sprig are noted at the function. */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "re.h"
#include "tmpl_int.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)
#define IV(k) (a[k]->u.i)

/* the function's result from b (released); a write b refused (its cap)
 * fails the function rather than return a truncated string */
static int ret_str(tctx *x, doc_node **out, const char *s, size_t n)
{
	*out = tv_str(x->a, s, n);
	return 0;
}

static bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static int f_hello(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)a; (void)n; return ret_str(x, out, "Hello!", 6); }

/* Go's unicode.To(_case, r) over unicode.CaseRanges (0 upper, 1 lower) */
static uint32_t rune_to(int c, uint32_t r)
{
	size_t lo = 0, hi = re_ncase;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		const int32_t *cr = re_case[m];
		if ((uint32_t)cr[0] <= r && r <= (uint32_t)cr[1]) {
			int32_t d = cr[2 + c];
			if (d > 0x10FFFF) /* UpperLower: even offsets upper, odd lower */
				return (uint32_t)cr[0] + (((r - (uint32_t)cr[0]) & ~1u) | (uint32_t)(c & 1));
			return (uint32_t)((int32_t)r + d);
		}
		if (r < (uint32_t)cr[0])
			hi = m;
		else
			lo = m + 1;
	}
	return r;
}

static uint32_t rune_upper(uint32_t r)
{
	if (r < 0x80)
		return r >= 'a' && r <= 'z' ? r - 32 : r;
	return rune_to(0, r);
}

static uint32_t rune_lower(uint32_t r)
{
	if (r < 0x80)
		return r >= 'A' && r <= 'Z' ? r + 32 : r;
	return rune_to(1, r);
}

/* strings.ToUpper/ToLower: ASCII text byte by byte; otherwise strings.Map,
 * where a byte that is not UTF-8 becomes U+FFFD */
static void map_case(kbuf *b, const char *s, size_t n, uint32_t (*f)(uint32_t))
{
	size_t i = 0;
	while (i < n) {
		uint32_t r;
		size_t w = tv_utf8_decode((const unsigned char *)s + i, n - i, &r);
		tv_utf8_encode(b, f(r));
		i += w;
	}
}

static int f_upper(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	map_case(&b, S(0), SL(0), rune_upper);
	return tctx_ret_buf(x, out, &b);
}

static int f_lower(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	map_case(&b, S(0), SL(0), rune_lower);
	return tctx_ret_buf(x, out, &b);
}

/* unicode.IsSpace */
static bool rune_is_space(uint32_t r)
{
	if (r <= 0xFF)
		return r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xA0;
	return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F ||
	       r == 0x205F || r == 0x3000;
}

/* unicode.Is over a general category table ("Lu", "Ll", "Lt") */
static bool rune_in(const char *cat, uint32_t r)
{
	const re_utable *t = re_utable_find(cat);
	return t && re_in_class((int32_t)r, (const int32_t *)t->tab, t->ntab);
}

/* unicode.ToTitle: upper case but for digraphs (ǆ is ǅ) and a few more */
static uint32_t rune_title(uint32_t r) { return r < 0x80 ? rune_upper(r) : rune_to(2, r); }

/* strings.Title's isSeparator */
static bool rune_is_separator(uint32_t r)
{
	if (r < 0x80)
		return !((r >= '0' && r <= '9') || ((r | 0x20) >= 'a' && (r | 0x20) <= 'z') || r == '_');
	if (re_is_letter((int32_t)r) || re_is_digit((int32_t)r))
		return false;
	return rune_is_space(r);
}

/* strings.Title: title-case the letters that follow a separator. Runes as
 * strings.Map reads them (a byte that is not UTF-8 is U+FFFD). */
static int f_title(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	const char *s = S(0);
	size_t i = 0, l = SL(0);
	uint32_t prev = ' ';
	(void)n;
	while (i < l) {
		uint32_t r;
		i += tv_utf8_decode((const unsigned char *)s + i, l - i, &r);
		tv_utf8_encode(&b, rune_is_separator(prev) ? rune_title(r) : r);
		prev = r;
	}
	return tctx_ret_buf(x, out, &b);
}

/* goutils.Uncapitalize: lower-case the first rune of each word (words end
 * at unicode.IsSpace) */
static int f_untitle(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	const char *s = S(0);
	size_t i = 0, l = SL(0);
	bool next = true;
	(void)n;
	while (i < l) {
		uint32_t r;
		i += tv_utf8_decode((const unsigned char *)s + i, l - i, &r);
		if (rune_is_space(r)) {
			next = true;
		} else if (next) {
			r = rune_lower(r);
			next = false;
		}
		tv_utf8_encode(&b, r);
	}
	return tctx_ret_buf(x, out, &b);
}

/* goutils.SwapCase: upper and title case to lower; lower case to title
 * case at the start of a word (after unicode.IsSpace or at the start),
 * else to upper case (ǅǆǄ gives ǆǄǆ) */
static int f_swapcase(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	const char *s = S(0);
	size_t i = 0, l = SL(0);
	bool word_start = true;
	(void)n;
	while (i < l) {
		uint32_t r;
		bool upper, lower;
		i += tv_utf8_decode((const unsigned char *)s + i, l - i, &r);
		upper = r < 0x80 ? r >= 'A' && r <= 'Z' : rune_in("Lu", r) || rune_in("Lt", r);
		lower = r < 0x80 ? r >= 'a' && r <= 'z' : rune_in("Ll", r);
		if (upper) {
			r = rune_lower(r);
			word_start = false;
		} else if (lower) {
			r = word_start ? rune_title(r) : rune_upper(r);
			word_start = false;
		} else {
			word_start = rune_is_space(r);
		}
		tv_utf8_encode(&b, r);
	}
	return tctx_ret_buf(x, out, &b);
}

static int f_trim(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *s = S(0);
	size_t l = SL(0);
	(void)n;
	while (l && is_ws((unsigned char)*s))
		s++, l--;
	while (l && is_ws((unsigned char)s[l - 1]))
		l--;
	return ret_str(x, out, s, l);
}

static bool in_cutset(const char *set, size_t sl, char c) { return sl && memchr(set, c, sl) != NULL; }

/* trimAll cutset s: strings.Trim(s, cutset) (cutset bytes; ASCII) */
static int f_trimall(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *s = S(1);
	size_t l = SL(1);
	(void)n;
	while (l && in_cutset(S(0), SL(0), *s))
		s++, l--;
	while (l && in_cutset(S(0), SL(0), s[l - 1]))
		l--;
	return ret_str(x, out, s, l);
}

static int f_trimprefix(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (SL(1) >= SL(0) && !memcmp(S(1), S(0), SL(0)))
		return ret_str(x, out, S(1) + SL(0), SL(1) - SL(0));
	*out = a[1];
	return 0;
}

static int f_trimsuffix(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (SL(1) >= SL(0) && !memcmp(S(1) + SL(1) - SL(0), S(0), SL(0)))
		return ret_str(x, out, S(1), SL(1) - SL(0));
	*out = a[1];
	return 0;
}

static int f_trunc(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t c = IV(0);
	int64_t l = (int64_t)SL(1);
	(void)n;
	if (c < 0 && l + c > 0)
		return ret_str(x, out, S(1) + l + c, (size_t)(-c));
	if (c >= 0 && l > c)
		return ret_str(x, out, S(1), (size_t)c);
	*out = a[1];
	return 0;
}

static int f_abbrev(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t w = IV(0);
	(void)n;
	if (w < 4 || (int64_t)SL(1) <= w) {
		*out = a[1];
		return 0;
	}
	{
		kbuf b = tctx_buf(x);
		kbuf_put(&b, S(1), (size_t)(w - 3));
		kbuf_puts(&b, "...");
		return tctx_ret_buf(x, out, &b);
	}
}

static int f_abbrevboth(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t off = IV(0), w = IV(1), len = (int64_t)SL(2);
	kbuf b = tctx_buf(x);
	(void)n;
	/* Sprig returns s as it is before goutils sees it */
	if (w < 4 || (off > 0 && w < 7) || len <= w) {
		*out = a[2];
		return 0;
	}
	if (off > len)
		off = len;
	if (len - off < w - 3)
		off = len - (w - 3);
	if (off <= 4) {
		kbuf_put(&b, S(2), (size_t)(w - 3));
		kbuf_puts(&b, "...");
		return tctx_ret_buf(x, out, &b);
	}
	if (w < 7) {
		*out = a[2];
		return 0;
	}
	if (off + w - 3 < len) {
		kbuf_puts(&b, "...");
		kbuf_put(&b, S(2) + off, (size_t)(w - 6));
		kbuf_puts(&b, "...");
		return tctx_ret_buf(x, out, &b);
	}
	kbuf_puts(&b, "...");
	kbuf_put(&b, S(2) + len - (w - 3), (size_t)(w - 3));
	return tctx_ret_buf(x, out, &b);
}

static int f_substr(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	int64_t st = IV(0), en = IV(1), l = (int64_t)SL(2);
	(void)n;
	if (st < 0) {
		if (en < 0 || en > l)
			return tctx_fail(x, "runtime error: slice bounds out of range [:%lld] with length %lld", (long long)en, (long long)l);
		return ret_str(x, out, S(2), (size_t)en);
	}
	if (en < 0 || en > l) {
		if (st > l)
			return tctx_fail(x, "runtime error: slice bounds out of range [%lld:%lld]", (long long)st, (long long)l);
		return ret_str(x, out, S(2) + st, (size_t)(l - st));
	}
	if (st > en)
		return tctx_fail(x, "runtime error: slice bounds out of range [%lld:%lld]", (long long)st, (long long)en);
	return ret_str(x, out, S(2) + st, (size_t)(en - st));
}

static int f_repeat(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	int64_t i;
	(void)n;
	if (IV(0) < 0)
		return tctx_fail(x, "strings: negative Repeat count");
	if (SL(1) && (uint64_t)IV(0) > ((size_t)64 << 20) / SL(1))
		return tctx_fail(x, "strings: Repeat output length overflow");
	if (tctx_mem_reserve(x, (size_t)IV(0) * SL(1)))
		return KE_INPUT;
	for (i = 0; i < IV(0); i++)
		kbuf_put(&b, S(1), SL(1));
	return tctx_ret_buf(x, out, &b);
}

static int f_nospace(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	size_t i;
	(void)n;
	/* goutils.DeleteWhiteSpace works byte by byte, each byte taken as a
	 * rune: non-ASCII text comes out re-encoded as Latin-1, and 0x85 and
	 * 0xA0 count as spaces; we do the same */
	for (i = 0; i < SL(0); i++) {
		unsigned char c = (unsigned char)S(0)[i];
		if (!is_ws(c) && c != 0x85 && c != 0xA0)
			tv_utf8_encode(&b, c);
	}
	return tctx_ret_buf(x, out, &b);
}

static int f_initials(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	size_t i;
	bool prev = true;
	(void)n;
	/* goutils walks bytes, each taken as a rune (Latin-1): a high byte is
	 * written back as its two-byte UTF-8, and 0x85 and 0xA0 are spaces */
	for (i = 0; i < SL(0); i++) {
		unsigned char c = (unsigned char)S(0)[i];
		bool sp = is_ws(c) || c == 0x85 || c == 0xA0;
		if (prev && !sp) {
			if (c < 0x80) {
				kbuf_putc(&b, (char)c);
			} else {
				kbuf_putc(&b, (char)(0xC0 | (c >> 6)));
				kbuf_putc(&b, (char)(0x80 | (c & 0x3F)));
			}
		}
		prev = sp;
	}
	return tctx_ret_buf(x, out, &b);
}

static int f_contains(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	*out = tv_bool(SL(0) == 0 || (SL(1) >= SL(0) && memmem(S(1), SL(1), S(0), SL(0))));
	return 0;
}

static int f_hasprefix(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	*out = tv_bool(SL(1) >= SL(0) && !memcmp(S(1), S(0), SL(0)));
	return 0;
}

static int f_hassuffix(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	*out = tv_bool(SL(1) >= SL(0) && !memcmp(S(1) + SL(1) - SL(0), S(0), SL(0)));
	return 0;
}

static int quote_common(tctx *x, doc_node **out, doc_node **a, size_t n, bool single)
{
	kbuf b = tctx_buf(x);
	size_t i, k = 0;
	for (i = 0; i < n; i++) {
		size_t l;
		const char *s;
		if (tv_isnil(a[i]))
			continue;
		s = tv_strval(x, a[i], &l);
		if (k++)
			kbuf_putc(&b, ' ');
		if (single) {
			kbuf_putc(&b, '\'');
			kbuf_put(&b, s, l);
			kbuf_putc(&b, '\'');
		} else {
			tv_quote(&b, s, l);
		}
	}
	return tctx_ret_buf(x, out, &b);
}

static int f_quote(tctx *x, doc_node **out, doc_node **a, size_t n) { return quote_common(x, out, a, n, false); }
static int f_squote(tctx *x, doc_node **out, doc_node **a, size_t n) { return quote_common(x, out, a, n, true); }

static int f_cat(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	size_t i, k = 0;
	for (i = 0; i < n; i++) {
		if (tv_isnil(a[i]))
			continue;
		if (k++)
			kbuf_putc(&b, ' ');
		tv_print(&b, a[i]);
	}
	return tctx_ret_buf(x, out, &b);
}

static void indent_into(kbuf *b, int64_t sp, const char *s, size_t l)
{
	const char *p = s, *e = s + l, *nl;
	size_t lines = 1, need;
	if (!b->max || b->max > (size_t)64 << 20)
		kbuf_set_cap(b, (size_t)64 << 20);
	/* one allocation for the whole result, then line by line */
	for (nl = memchr(p, '\n', l); nl; nl = memchr(nl + 1, '\n', (size_t)(e - nl - 1)))
		lines++;
	if (__builtin_mul_overflow(lines, (size_t)sp, &need) || __builtin_add_overflow(need, l, &need))
		need = SIZE_MAX;
	if (kbuf_grow(b, need))
		return; /* over the cap: b has failed */
	kbuf_putn(b, ' ', (size_t)sp);
	while ((nl = memchr(p, '\n', (size_t)(e - p)))) {
		kbuf_put(b, p, (size_t)(nl - p + 1));
		kbuf_putn(b, ' ', (size_t)sp);
		p = nl + 1;
	}
	kbuf_put(b, p, (size_t)(e - p));
}

static int f_indent(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	if (IV(0) > 100000)
		return tctx_fail(x, "indent too large");
	if (IV(0) < 0)
		return tctx_fail(x, "strings: negative Repeat count"); /* Go's panic, recovered */
	indent_into(&b, IV(0), S(1), SL(1));
	return tctx_ret_buf(x, out, &b);
}

static int f_nindent(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	if (IV(0) > 100000)
		return tctx_fail(x, "indent too large");
	if (IV(0) < 0)
		return tctx_fail(x, "strings: negative Repeat count"); /* Go's panic, recovered */
	kbuf_putc(&b, '\n');
	indent_into(&b, IV(0), S(1), SL(1));
	return tctx_ret_buf(x, out, &b);
}

static int f_replace(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	const char *s = S(2), *e = S(2) + SL(2);
	(void)n;
	if (SL(0) == 0) {
		/* Go inserts new before every rune and at the end */
		while (s < e) {
			size_t w = 1;
			kbuf_put(&b, S(1), SL(1));
			while (s + w < e && ((unsigned char)s[w] & 0xC0) == 0x80)
				w++;
			kbuf_put(&b, s, w);
			s += w;
		}
		kbuf_put(&b, S(1), SL(1));
		return tctx_ret_buf(x, out, &b);
	}
	while (s < e) {
		const char *p = memmem(s, (size_t)(e - s), S(0), SL(0));
		if (!p) {
			kbuf_put(&b, s, (size_t)(e - s));
			break;
		}
		kbuf_put(&b, s, (size_t)(p - s));
		kbuf_put(&b, S(1), SL(1));
		s = p + SL(0);
	}
	return tctx_ret_buf(x, out, &b);
}

static int f_plural(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x; (void)n;
	*out = IV(2) == 1 ? a[0] : a[1];
	return 0;
}

/* split helpers: strings.Split / SplitN */
static size_t split_parts(const char *s, size_t l, const char *sep, size_t sl, int64_t lim,
			  const char ***ps, size_t **lens, karena *ar)
{
	size_t cap = 8, np = 0;
	const char **p = karena_alloc(ar, cap * sizeof(*p));
	size_t *pl = karena_alloc(ar, cap * sizeof(*pl));
	const char *e = s + l;
	if (lim == 0) {
		*ps = p;
		*lens = pl;
		return 0;
	}
	for (;;) {
		const char *q;
		if (np == cap) {
			p = karena_realloc(ar, p, cap * sizeof(*p), cap * 2 * sizeof(*p));
			pl = karena_realloc(ar, pl, cap * sizeof(*pl), cap * 2 * sizeof(*pl));
			cap *= 2;
		}
		if (lim > 0 && (int64_t)np == lim - 1) {
			p[np] = s;
			pl[np++] = (size_t)(e - s);
			break;
		}
		if (sl == 0) {
			size_t w = 1;
			if (s >= e)
				break;
			while (s + w < e && ((unsigned char)s[w] & 0xC0) == 0x80)
				w++;
			p[np] = s;
			pl[np++] = w;
			s += w;
			continue;
		}
		q = s <= e ? memmem(s, (size_t)(e - s), sep, sl) : NULL;
		if (!q) {
			p[np] = s;
			pl[np++] = (size_t)(e - s);
			break;
		}
		p[np] = s;
		pl[np++] = (size_t)(q - s);
		s = q + sl;
	}
	*ps = p;
	*lens = pl;
	return np;
}

static int f_splitlist(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char **ps;
	size_t *ls, np, i;
	doc_node *r = tv_strs(x->a);
	(void)n;
	np = split_parts(S(1), SL(1), S(0), SL(0), -1, &ps, &ls, x->a);
	for (i = 0; i < np; i++)
		doc_seq_push(x->a, r, tv_str(x->a, ps[i], ls[i]));
	*out = r;
	return 0;
}

static int split_map(tctx *x, doc_node **out, const char *s, size_t l, const char *sep, size_t sl, int64_t lim)
{
	const char **ps;
	size_t *ls, np, i;
	doc_node *r = tv_map(x->a);
	np = split_parts(s, l, sep, sl, lim, &ps, &ls, x->a);
	for (i = 0; i < np; i++) {
		char key[32];
		snprintf(key, sizeof(key), "_%zu", i);
		doc_map_set(x->a, r, key, tv_str(x->a, ps[i], ls[i]));
	}
	r->flags |= TV_SMAP; /* Sprig's split gives a map[string]string */
	*out = r;
	return 0;
}

static int f_split(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return split_map(x, out, S(1), SL(1), S(0), SL(0), -1);
}

static int f_splitn(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return split_map(x, out, S(2), SL(2), S(0), SL(0), IV(1));
}

static int f_tostring(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t l;
	const char *s;
	(void)n;
	s = tv_strval(x, a[0], &l);
	return ret_str(x, out, s, l);
}

/* Sprig's strslice */
doc_node *tv_strslice(tctx *x, doc_node *v)
{
	doc_node *r = tv_strs(x->a);
	size_t i, l;
	const char *s;
	if (tv_isnil(v))
		return r;
	if (v->type == DOC_SEQ) {
		if (v->flags & TV_STRS)
			return v;
		for (i = 0; i < v->u.seq.len; i++) {
			doc_node *e = v->u.seq.v[i];
			if (tv_isnil(e))
				continue;
			if (e->type == DOC_STR && !(e->flags & (TV_BYTES | TV_OBJ))) {
				/* a string is shared, not copied (the arena keeps it) */
				doc_seq_push(x->a, r, e);
				continue;
			}
			s = tv_strval(x, e, &l);
			doc_seq_push(x->a, r, tv_str(x->a, s, l));
		}
		return r;
	}
	s = tv_strval(x, v, &l);
	doc_seq_push(x->a, r, tv_str(x->a, s, l));
	return r;
}

/* Sprig's toStrings is strslice: nil elements are left out */
static int f_tostrings(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	*out = tv_strslice(x, a[0]);
	return 0;
}

static int f_join(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *l = tv_strslice(x, a[1]);
	kbuf b;
	size_t i, total = 0, left = tctx_mem_left(x);
	(void)n;
	/* the result's size first: a join past the budget allocates nothing */
	for (i = 0; i < l->u.seq.len && total <= left; i++)
		total += l->u.seq.v[i]->u.s.len + (i ? SL(0) : 0);
	if (tctx_mem_reserve(x, total))
		return KE_INPUT;
	b = tctx_buf(x);
	for (i = 0; i < l->u.seq.len; i++) {
		if (i)
			kbuf_put(&b, S(0), SL(0));
		kbuf_put(&b, l->u.seq.v[i]->u.s.ptr, l->u.seq.v[i]->u.s.len);
	}
	return tctx_ret_buf(x, out, &b);
}

static int cmp_nodestr(const void *p, const void *q)
{
	const doc_node *a = *(doc_node *const *)p, *b = *(doc_node *const *)q;
	size_t m = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
	int c = memcmp(a->u.s.ptr, b->u.s.ptr, m);
	return c ? c : (a->u.s.len > b->u.s.len) - (a->u.s.len < b->u.s.len);
}

static int f_sortalpha(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *l, *r;
	size_t i, len;
	const char *s;
	(void)n;
	if (!a[0] || a[0]->type != DOC_SEQ) {
		r = tv_strs(x->a);
		s = tv_strval(x, a[0], &len);
		doc_seq_push(x->a, r, tv_str(x->a, s, len));
		*out = r;
		return 0;
	}
	l = tv_strslice(x, a[0]);
	r = tv_strs(x->a);
	for (i = 0; i < l->u.seq.len; i++)
		doc_seq_push(x->a, r, l->u.seq.v[i]);
	if (r->u.seq.len > 1)
		qsort(r->u.seq.v, r->u.seq.len, sizeof(doc_node *), cmp_nodestr);
	*out = r;
	return 0;
}

/* ---- case conversions: xstrings v1.5.0 (Sprig's snakecase, kebabcase,
 * camelcase), rune by rune as Go reads them ---- */

static bool rune_is_upper(uint32_t r) { return r < 0x80 ? r >= 'A' && r <= 'Z' : rune_in("Lu", r); }
static bool rune_is_connector(uint32_t r) { return r == '-' || r == '_' || rune_is_space(r); }
static bool rune_is_punct(uint32_t r) { return rune_in("P", r); }
static bool rune_is_number(uint32_t r) { return r < 0x80 ? r >= '0' && r <= '9' : rune_in("N", r); }

/* xstrings' isAlphabet: a letter, CJK ideographs aside */
static bool rune_is_alphabet(uint32_t r)
{
	if (r < 0x80)
		return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
	if (!re_is_letter((int32_t)r))
		return false;
	return !((r >= 0x4E00 && r <= 0x9FCC) || (r >= 0x3400 && r <= 0x4D85) || (r >= 0x20000 && r <= 0x2B81D));
}

/* nextValidRune: the first rune from s[i] on that is not utf8.RuneError,
 * with *size the bytes up to its end; prev and the bytes to l when none */
static uint32_t next_valid_rune(const char *s, size_t l, size_t i, uint32_t prev, size_t *size)
{
	size_t st = i;
	while (i < l) {
		uint32_t r;
		i += tv_utf8_decode((const unsigned char *)s + i, l - i, &r);
		if (r != 0xFFFD) {
			*size = i - st;
			return r;
		}
	}
	*size = i - st;
	return prev;
}

typedef enum { W_INVALID, W_NUMBER, W_UPPER, W_ALPHA, W_CONNECTOR, W_PUNCT, W_OTHER } word_type;

static bool rune_is_lower_alphabet(uint32_t r) { return rune_is_alphabet(r) && !rune_is_upper(r); }
static bool rune_is_other(uint32_t r)
{
	return !(rune_is_connector(r) || rune_is_alphabet(r) || rune_is_number(r) || rune_is_punct(r));
}

/* off moved past the runes from s[off] on that keep accepts, as
 * nextWord's loops read them (r: the rune before) */
static size_t take_while(const char *s, size_t l, size_t off, uint32_t r, bool (*keep)(uint32_t))
{
	size_t size;
	while (off < l) {
		r = next_valid_rune(s, l, off, r, &size);
		if (!keep(r))
			break;
		off += size;
	}
	return off;
}

/* xstrings' nextWord: the type and length of the word s starts with (the
 * rest of s follows it) */
static word_type next_word(const char *s, size_t l, size_t *len)
{
	size_t off, size, prev_size;
	uint32_t r;
	word_type wt;
	*len = 0;
	if (!l)
		return W_INVALID;
	r = next_valid_rune(s, l, 0, 0xFFFD, &size);
	off = size;
	if (r == 0xFFFD) {
		wt = W_INVALID;
	} else if (rune_is_connector(r)) {
		wt = W_CONNECTOR;
		off = take_while(s, l, off, r, rune_is_connector);
	} else if (rune_is_punct(r)) {
		wt = W_PUNCT;
		off = take_while(s, l, off, r, rune_is_punct);
	} else if (rune_is_upper(r)) {
		wt = W_UPPER;
		if (off < l) {
			r = next_valid_rune(s, l, off, r, &size);
			if (rune_is_upper(r)) {
				prev_size = size;
				off += size;
				while (off < l) {
					r = next_valid_rune(s, l, off, r, &size);
					if (!rune_is_upper(r))
						break;
					prev_size = size;
					off += size;
				}
				/* "HTTPStatus" is "HTTP" and "Status" */
				if (off < l && rune_is_alphabet(r))
					off -= prev_size;
			} else if (rune_is_alphabet(r)) {
				off = take_while(s, l, off + size, r, rune_is_lower_alphabet);
			}
		}
	} else if (rune_is_alphabet(r)) {
		wt = W_ALPHA;
		off = take_while(s, l, off, r, rune_is_lower_alphabet);
	} else if (rune_is_number(r)) {
		wt = W_NUMBER;
		off = take_while(s, l, off, r, rune_is_number);
	} else {
		wt = W_OTHER;
		off = take_while(s, l, off, r, rune_is_other);
	}
	*len = off;
	return wt;
}

/* xstrings' toLower: upper-case and connector words rune by rune */
static void word_lower(kbuf *b, word_type wt, const char *w, size_t l, char connector)
{
	size_t i = 0;
	if (wt != W_UPPER && wt != W_CONNECTOR) {
		kbuf_put(b, w, l);
		return;
	}
	while (i < l) {
		uint32_t r;
		i += tv_utf8_decode((const unsigned char *)w + i, l - i, &r);
		if (rune_is_connector(r))
			kbuf_putc(b, connector);
		else
			tv_utf8_encode(b, rune_is_upper(r) ? rune_lower(r) : r);
	}
}

typedef struct words {
	const char *s;   /* the rest */
	size_t l;
	word_type wt;    /* the current word */
	const char *w;
	size_t wl;
} words;

static void words_next(words *it)
{
	it->w = it->s;
	it->wt = next_word(it->s, it->l, &it->wl);
	it->s += it->wl;
	it->l -= it->wl;
}

/* xstrings' camelCaseToLowerCase (ToSnakeCase, ToKebabCase) */
static void camel_to_lower(kbuf *b, const char *s, size_t l, char connector)
{
	words it = { s, l, W_INVALID, NULL, 0 };
	if (!l)
		return;
	words_next(&it);
	while (it.l) {
		word_type prev;
		const char *last;
		size_t lastl;
		if (it.wt != W_CONNECTOR)
			word_lower(b, it.wt, it.w, it.wl, connector);
		prev = it.wt;
		last = it.w;
		lastl = it.wl;
		words_next(&it);
		switch (prev) {
		case W_NUMBER:
			while (it.wt == W_ALPHA || it.wt == W_NUMBER) {
				word_lower(b, it.wt, it.w, it.wl, connector);
				words_next(&it);
			}
			if (it.wt != W_INVALID && it.wt != W_PUNCT && it.wt != W_CONNECTOR)
				kbuf_putc(b, connector);
			break;
		case W_CONNECTOR:
			word_lower(b, prev, last, lastl, connector);
			break;
		case W_PUNCT:
			break;
		default:
			if (it.wt != W_NUMBER) {
				if (it.wt != W_CONNECTOR && it.wt != W_PUNCT)
					kbuf_putc(b, connector);
				break;
			}
			if (!it.l)
				break;
			last = it.w;
			lastl = it.wl;
			words_next(&it);
			/* a number is part of the word before it ("Bld4Floor" is
			 * "bld4_floor") unless letters follow it ("HTTP2xx" is
			 * "http_2xx") */
			if (it.wt != W_ALPHA) {
				word_lower(b, W_NUMBER, last, lastl, connector);
				if (it.wt != W_CONNECTOR && it.wt != W_PUNCT)
					kbuf_putc(b, connector);
				break;
			}
			kbuf_putc(b, connector);
			word_lower(b, W_NUMBER, last, lastl, connector);
			while (it.wt == W_ALPHA || it.wt == W_NUMBER) {
				word_lower(b, it.wt, it.w, it.wl, connector);
				words_next(&it);
			}
			if (it.wt != W_INVALID && it.wt != W_CONNECTOR && it.wt != W_PUNCT)
				kbuf_putc(b, connector);
		}
	}
	word_lower(b, it.wt, it.w, it.wl, connector);
}

static int f_snakecase(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	camel_to_lower(&b, S(0), SL(0), '_');
	return tctx_ret_buf(x, out, &b);
}

static int f_kebabcase(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	camel_to_lower(&b, S(0), SL(0), '-');
	return tctx_ret_buf(x, out, &b);
}

/* xstrings' ToCamelCase: connectors dropped (leading ones and runs kept
 * but one), the first rune of each word upper case, and the rest of a word
 * that starts with upper-case runes lowered while they are upper case
 * ("HTTP_server" is "HttpServer", "aBC" stays) */
static int f_camelcase(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	const char *s = S(0);
	size_t i = 0, l = SL(0);
	uint32_t r0 = 0, r1;
	size_t size = 0;
	bool first_upper = false;
	(void)n;
	if (!l)
		return tctx_ret_buf(x, out, &b);
	while (i < l) {
		size = tv_utf8_decode((const unsigned char *)s + i, l - i, &r0);
		i += size;
		if (!rune_is_connector(r0)) {
			first_upper = rune_is_upper(r0);
			r0 = rune_upper(r0);
			break;
		}
		tv_utf8_encode(&b, r0);
	}
	if (i == l) {
		if (size)
			tv_utf8_encode(&b, r0);
		return tctx_ret_buf(x, out, &b);
	}
	while (i < l) {
		r1 = r0;
		i += tv_utf8_decode((const unsigned char *)s + i, l - i, &r0);
		if (rune_is_connector(r0) && rune_is_connector(r1)) {
			tv_utf8_encode(&b, r1);
			continue;
		}
		if (rune_is_connector(r1)) {
			first_upper = rune_is_upper(r0);
			r0 = rune_upper(r0);
		} else {
			if (first_upper) {
				if (rune_is_upper(r0))
					r0 = rune_lower(r0);
				else
					first_upper = false;
			}
			tv_utf8_encode(&b, r1);
		}
	}
	tv_utf8_encode(&b, r0);
	return tctx_ret_buf(x, out, &b);
}

/* goutils.WrapCustom(str, width, sep, longWords), which Sprig's wrap (long
 * words kept whole) and wrapWith (long words cut) call: words end at ' '
 * only, a newline in the text is a letter like any other. */
static int wrap_common(tctx *x, doc_node **out, int64_t w, const char *sep, size_t sepl, const char *s, size_t l,
		       bool longw)
{
	kbuf b = tctx_buf(x);
	size_t off = 0, wl;
	if (!sepl) {
		sep = "\n";
		sepl = 1;
	}
	wl = w < 1 ? 1 : (uint64_t)w > SIZE_MAX ? SIZE_MAX : (size_t)w;
	while (l - off > wl) {
		size_t sp;
		if (s[off] == ' ') {
			off++;
			continue;
		}
		/* the last space in s[off, off + wl] (off + wl < l here) */
		for (sp = off + wl + 1; sp > off && s[sp - 1] != ' '; sp--)
			;
		if (sp > off) {
			kbuf_put(&b, s + off, sp - 1 - off);
			kbuf_put(&b, sep, sepl);
			off = sp;
		} else if (longw) {
			kbuf_put(&b, s + off, wl);
			kbuf_put(&b, sep, sepl);
			off += wl;
		} else {
			const char *q = memchr(s + off + wl, ' ', l - off - wl);
			size_t at = q ? (size_t)(q - s) : l;
			kbuf_put(&b, s + off, at - off);
			if (q)
				kbuf_put(&b, sep, sepl);
			off = q ? at + 1 : l;
		}
	}
	kbuf_put(&b, s + off, l - off);
	return tctx_ret_buf(x, out, &b);
}

static int f_wrap(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return wrap_common(x, out, IV(0), "", 0, S(1), SL(1), false); }
static int f_wrapwith(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return wrap_common(x, out, IV(0), S(1), SL(1), S(2), SL(2), true); }

/* ---- defaults ---- */

static int f_default(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)x;
	if (n < 2 || tv_empty(a[1]))
		*out = a[0];
	else
		*out = a[1];
	return 0;
}

static int f_empty(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)x; (void)n; *out = tv_bool(tv_empty(a[0])); return 0; }

static int f_coalesce(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t i;
	(void)x;
	*out = TV_NIL;
	for (i = 0; i < n; i++)
		if (!tv_empty(a[i])) {
			*out = a[i];
			break;
		}
	return 0;
}

static int f_all(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t i;
	(void)x;
	for (i = 0; i < n; i++)
		if (tv_empty(a[i])) {
			*out = tv_bool(false);
			return 0;
		}
	*out = tv_bool(true);
	return 0;
}

static int f_any(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t i;
	(void)x;
	for (i = 0; i < n; i++)
		if (!tv_empty(a[i])) {
			*out = tv_bool(true);
			return 0;
		}
	*out = tv_bool(false);
	return 0;
}

static int f_ternary(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)x; (void)n; *out = a[2]->u.b ? a[0] : a[1]; return 0; }

/* ---- types ---- */

static int f_typeof(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_strz(x->a, tv_type_name(a[0])); return 0; }
static int f_typeis(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)x; (void)n; *out = tv_bool(!strcmp(S(0), tv_type_name(a[1]))); return 0; }
static int f_typeislike(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *t = tv_type_name(a[1]);
	(void)x; (void)n;
	*out = tv_bool(!strcmp(S(0), t) || (S(0)[0] == '*' && !strcmp(S(0) + 1, t)));
	return 0;
}
static int f_kindof(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_strz(x->a, tv_kind_name(a[0])); return 0; }
static int f_kindis(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)x; (void)n; *out = tv_bool(!strcmp(S(0), tv_kind_name(a[1]))); return 0; }

static bool deep_equal(const doc_node *p, const doc_node *q, int depth);

bool tv_deep_equal(const doc_node *p, const doc_node *q) { return deep_equal(p, q, 0); }

static bool deep_equal(const doc_node *p, const doc_node *q, int depth)
{
	size_t i;
	if (depth > 1000)
		return false;
	if (tv_isnil(p) || tv_isnil(q))
		return tv_isnil(p) && tv_isnil(q);
	if (p->type != q->type || strcmp(tv_type_name(p), tv_type_name(q)))
		return false;
	switch (p->type) {
	case DOC_BOOL: return p->u.b == q->u.b;
	case DOC_INT: return p->u.i == q->u.i && (!tv_is_time(p) || tv_time_equal(p, q));
	case DOC_FLOAT: return p->u.f == q->u.f;
	case DOC_STR: return p->u.s.len == q->u.s.len && !memcmp(p->u.s.ptr, q->u.s.ptr, p->u.s.len);
	case DOC_SEQ:
		if (p->u.seq.len != q->u.seq.len)
			return false;
		for (i = 0; i < p->u.seq.len; i++)
			if (!deep_equal(p->u.seq.v[i], q->u.seq.v[i], depth + 1))
				return false;
		return true;
	case DOC_MAP:
		if (p->u.map.len != q->u.map.len)
			return false;
		for (i = 0; i < p->u.map.len; i++) {
			doc_node *o = doc_map_getn(q, p->u.map.v[i].key->u.s.ptr, p->u.map.v[i].key->u.s.len);
			if (!o || !deep_equal(p->u.map.v[i].val, o, depth + 1))
				return false;
		}
		return true;
	default:
		return true;
	}
}

static int f_deepequal(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)x; (void)n; *out = tv_bool(tv_deep_equal(a[0], a[1])); return 0; }

/* ---- conversions ---- */

static int f_atoi(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *s = S(0);
	size_t l = SL(0), i = 0;
	int64_t v = 0;
	bool neg = false, ok = l > 0;
	(void)n;
	if (l && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
		ok = l > 1;
	}
	for (; i < l && ok; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (INT64_MAX - 9) / 10)
			ok = false;
		else
			v = v * 10 + (s[i] - '0');
	}
	*out = tv_int(x->a, ok ? (neg ? -v : v) : 0);
	return 0;
}

static int f_int(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_int(x->a, tv_to_int64(a[0])); return 0; }
static int f_int64(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_int64(x->a, tv_to_int64(a[0])); return 0; }
static int f_float64(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; *out = tv_float(x->a, tv_to_float64(a[0])); return 0; }

static int f_todecimal(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	size_t l;
	const char *s = tv_strval(x, a[0], &l);
	char *end;
	char *tmp = karena_strndup(x->a, s, l);
	long long v = strtoll(tmp, &end, 8);
	(void)n;
	*out = tv_int64(x->a, (*end || end == tmp) ? 0 : v);
	return 0;
}

static int f_fail(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)out; (void)n;
	if (x->set->helm)
		x->helm_fail = karena_strdup(x->a, S(0));
	return tctx_fail(x, "%s", S(0));
}

/* urlParse: the parts of net/url.Parse Sprig returns */
static int f_urlparse(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const char *p = S(0), *e = S(0) + SL(0), *q, *hash, *rest;
	doc_node *m = tv_map(x->a);
	const char *scheme = "", *user = "", *host = "", *path = "", *query = "", *frag = "", *opaque = "";
	size_t sl = 0, ul = 0, hl = 0, pl = 0, ql = 0, fl = 0, ol = 0;
	(void)n;
	hash = memchr(p, '#', (size_t)(e - p));
	if (hash) {
		frag = hash + 1;
		fl = (size_t)(e - hash - 1);
		e = hash;
	}
	for (q = p; q < e && (isalnum((unsigned char)*q) || *q == '+' || *q == '-' || *q == '.'); q++)
		;
	if (q < e && *q == ':' && q > p && isalpha((unsigned char)*p)) {
		scheme = p;
		sl = (size_t)(q - p);
		p = q + 1;
	}
	q = memchr(p, '?', (size_t)(e - p));
	if (q) {
		query = q + 1;
		ql = (size_t)(e - q - 1);
		e = q;
	}
	rest = p;
	if (e - rest >= 2 && rest[0] == '/' && rest[1] == '/') {
		const char *auth = rest + 2, *ae = memchr(auth, '/', (size_t)(e - auth)), *at;
		if (!ae)
			ae = e;
		at = NULL;
		for (q = auth; q < ae; q++)
			if (*q == '@')
				at = q;
		if (at) {
			user = auth;
			ul = (size_t)(at - auth);
			auth = at + 1;
		}
		host = auth;
		hl = (size_t)(ae - auth);
		path = ae;
		pl = (size_t)(e - ae);
	} else if (sl && rest < e && rest[0] != '/') {
		opaque = rest;
		ol = (size_t)(e - rest);
	} else {
		path = rest;
		pl = (size_t)(e - rest);
	}
	{
		char *sch = karena_strndup(x->a, scheme, sl);
		size_t i;
		const char *hn = host, *colon = NULL;
		for (i = 0; i < sl; i++)
			sch[i] = (char)tolower((unsigned char)sch[i]);
		doc_map_set(x->a, m, "scheme", tv_strz(x->a, sch));
		doc_map_set(x->a, m, "host", tv_str(x->a, host, hl));
		if (hl && host[0] == '[') {
			const char *rb = memchr(host, ']', hl);
			hn = host + 1;
			doc_map_set(x->a, m, "hostname", tv_str(x->a, hn, rb ? (size_t)(rb - hn) : hl - 1));
		} else {
			for (i = 0; i < hl; i++)
				if (host[i] == ':')
					colon = host + i;
			doc_map_set(x->a, m, "hostname", tv_str(x->a, host, colon ? (size_t)(colon - host) : hl));
		}
		doc_map_set(x->a, m, "path", tv_str(x->a, path, pl));
		doc_map_set(x->a, m, "query", tv_str(x->a, query, ql));
		doc_map_set(x->a, m, "opaque", tv_str(x->a, opaque, ol));
		doc_map_set(x->a, m, "fragment", tv_str(x->a, frag, fl));
		doc_map_set(x->a, m, "userinfo", tv_str(x->a, user, ul));
	}
	*out = m;
	return 0;
}

/* urlJoin: url.URL{...}.String() from such a dict */
static int f_urljoin(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	const char *scheme = doc_get_str(a[0], "scheme", ""), *host = doc_get_str(a[0], "host", "");
	const char *user = doc_get_str(a[0], "userinfo", ""), *path = doc_get_str(a[0], "path", "");
	const char *query = doc_get_str(a[0], "query", ""), *frag = doc_get_str(a[0], "fragment", "");
	const char *opaque = doc_get_str(a[0], "opaque", "");
	(void)n;
	if (*scheme) {
		kbuf_puts(&b, scheme);
		kbuf_putc(&b, ':');
	}
	if (*opaque) {
		kbuf_puts(&b, opaque);
	} else {
		if (*scheme || *host || *user) {
			kbuf_puts(&b, "//");
			if (*user) {
				kbuf_puts(&b, user);
				kbuf_putc(&b, '@');
			}
			kbuf_puts(&b, host);
		}
		if (*path && path[0] != '/' && *host)
			kbuf_putc(&b, '/');
		kbuf_puts(&b, path);
	}
	if (*query) {
		kbuf_putc(&b, '?');
		kbuf_puts(&b, query);
	}
	if (*frag) {
		kbuf_putc(&b, '#');
		kbuf_puts(&b, frag);
	}
	return tctx_ret_buf(x, out, &b);
}

const tfunc tmpl_funcs_strings[] = {
	{ "urlParse", f_urlparse, "s" },
	{ "urlJoin", f_urljoin, "m" },
	{ "hello", f_hello, "" },
	{ "upper", f_upper, "s" },
	{ "lower", f_lower, "s" },
	{ "title", f_title, "s" },
	{ "untitle", f_untitle, "s" },
	{ "swapcase", f_swapcase, "s" },
	{ "trim", f_trim, "s" },
	{ "trimall", f_trimall, "ss" },
	{ "trimAll", f_trimall, "ss" },
	{ "trimPrefix", f_trimprefix, "ss" },
	{ "trimSuffix", f_trimsuffix, "ss" },
	{ "trunc", f_trunc, "is" },
	{ "abbrev", f_abbrev, "is" },
	{ "abbrevboth", f_abbrevboth, "iis" },
	{ "substr", f_substr, "iis" },
	{ "repeat", f_repeat, "is" },
	{ "nospace", f_nospace, "s" },
	{ "initials", f_initials, "s" },
	{ "contains", f_contains, "ss" },
	{ "hasPrefix", f_hasprefix, "ss" },
	{ "hasSuffix", f_hassuffix, "ss" },
	{ "quote", f_quote, "*a" },
	{ "squote", f_squote, "*a" },
	{ "cat", f_cat, "*a" },
	{ "indent", f_indent, "is" },
	{ "nindent", f_nindent, "is" },
	{ "replace", f_replace, "sss" },
	{ "plural", f_plural, "ssi" },
	{ "split", f_split, "ss" },
	{ "splitList", f_splitlist, "ss" },
	{ "splitn", f_splitn, "sis" },
	{ "toString", f_tostring, "a" },
	{ "toStrings", f_tostrings, "a" },
	{ "join", f_join, "sa" },
	{ "sortAlpha", f_sortalpha, "a" },
	{ "snakecase", f_snakecase, "s" },
	{ "kebabcase", f_kebabcase, "s" },
	{ "camelcase", f_camelcase, "s" },
	{ "wrap", f_wrap, "is" },
	{ "wrapWith", f_wrapwith, "iss" },
	{ "default", f_default, "a*a" },
	{ "empty", f_empty, "a" },
	{ "coalesce", f_coalesce, "*a" },
	{ "all", f_all, "*a" },
	{ "any", f_any, "*a" },
	{ "ternary", f_ternary, "aab" },
	{ "typeOf", f_typeof, "a" },
	{ "typeIs", f_typeis, "sa" },
	{ "typeIsLike", f_typeislike, "sa" },
	{ "kindOf", f_kindof, "a" },
	{ "kindIs", f_kindis, "sa" },
	{ "deepEqual", f_deepequal, "aa" },
	{ "atoi", f_atoi, "s" },
	{ "int", f_int, "a" },
	{ "int64", f_int64, "a" },
	{ "float64", f_float64, "a" },
	{ "toDecimal", f_todecimal, "a" },
	{ "fail", f_fail, "s" },
	{ NULL, NULL, NULL },
};
