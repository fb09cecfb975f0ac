/* core/regex.c - regular expressions over PCRE2 (8-bit code units). The
 * only file that includes pcre2.h; see regex.h for the rules. The Go-style
 * walks (each, replace, split) are written over kregex_match alone, so
 * they stay when the engine under them changes. */
#include "regex.h"
#include "alloc.h"

#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

struct kregex {
	pcre2_code *code;
	pcre2_match_data *md;
	size_t ngroups;       /* captures + 1 */
	size_t pat_len;       /* length of the pattern as the caller wrote it */
	kregex_span *sub;     /* ngroups spans of the last match */
};

/* RE2's \s is [\t\n\f\r ]; PCRE2's also takes \v, and PCRE2's \v is
 * any vertical space. The pattern with \s, \S and \v spelled out (in a
 * class too), \Q...\E left alone. */
static void re2_spaces(kbuf *out, const char *p, size_t n)
{
	size_t i = 0;
	bool in_class = false;
	while (i < n) {
		char c = p[i];
		if (c == '\\' && i + 1 < n) {
			char e = p[i + 1];
			if (e == 'Q') {
				const char *end = NULL;
				size_t k;
				for (k = i + 2; k + 1 < n; k++)
					if (p[k] == '\\' && p[k + 1] == 'E') {
						end = p + k + 2;
						break;
					}
				k = end ? (size_t)(end - p) : n;
				kbuf_put(out, p + i, k - i);
				i = k;
				continue;
			}
			if (e == 's')
				kbuf_puts(out, in_class ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]");
			else if (e == 'S')
				kbuf_puts(out, in_class ? "\\x{0}-\\x{8}\\x{b}\\x{e}-\\x{1f}\\x{21}-\\x{10ffff}"
							: "[^\\t\\n\\f\\r ]");
			else if (e == 'v')
				kbuf_puts(out, "\\x{b}"); /* RE2: the character; PCRE2: all vertical space */
			else
				kbuf_put(out, p + i, 2);
			i += 2;
			continue;
		}
		if (!in_class && c == '[') {
			/* a ']' first in the class is a literal */
			in_class = true;
			kbuf_putc(out, c);
			i++;
			if (i < n && p[i] == '^')
				kbuf_putc(out, p[i++]);
			if (i < n && p[i] == ']')
				kbuf_putc(out, p[i++]);
			continue;
		}
		if (in_class && c == '[' && i + 1 < n && p[i + 1] == ':') {
			/* [:alpha:] inside a class */
			const char *end = memchr(p + i + 2, ']', n - i - 2);
			if (end && end[-1] == ':') {
				kbuf_put(out, p + i, (size_t)(end + 1 - (p + i)));
				i = (size_t)(end + 1 - p);
				continue;
			}
		}
		if (in_class && c == ']')
			in_class = false;
		kbuf_putc(out, c);
		i++;
	}
}

int kregex_compile(kregex **out, const char *pat, size_t len, unsigned flags, kbuf *errmsg)
{
	int ec;
	PCRE2_SIZE eo;
	uint32_t opts = 0, ncap = 0;
	pcre2_compile_context *cc = NULL;
	pcre2_code *code;
	kbuf t = KBUF_INIT;
	kregex *re;
	size_t pat_len = len;

	*out = NULL;
	if (flags & KREGEX_RE2_SPACE) {
		re2_spaces(&t, pat, len);
		pat = t.ptr;
		len = t.len;
	}
	if (flags & KREGEX_UTF)
		opts |= PCRE2_UTF;
	if (flags & KREGEX_INVALID_UTF)
		opts |= PCRE2_MATCH_INVALID_UTF;
	if (flags & KREGEX_DOLLAR_ENDONLY)
		opts |= PCRE2_DOLLAR_ENDONLY;
	if (flags & KREGEX_ALT_CIRCUMFLEX)
		opts |= PCRE2_ALT_CIRCUMFLEX;
	if (flags & KREGEX_ALT_BSUX) {
		opts |= PCRE2_ALT_BSUX;
		cc = pcre2_compile_context_create(NULL);
		pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
	}
	code = pcre2_compile((PCRE2_SPTR)pat, len, opts, &ec, &eo, cc);
	pcre2_compile_context_free(cc);
	kbuf_release(&t);
	if (!code) {
		PCRE2_UCHAR buf[256];
		if (errmsg) {
			pcre2_get_error_message(ec, buf, sizeof(buf));
			kbuf_puts(errmsg, (const char *)buf);
		}
		return -1;
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &ncap);
	re = xcalloc(1, sizeof(*re));
	re->code = code;
	re->md = pcre2_match_data_create_from_pattern(code, NULL);
	re->ngroups = (size_t)ncap + 1;
	re->pat_len = pat_len;
	re->sub = xcalloc(re->ngroups, sizeof(*re->sub));
	*out = re;
	return 0;
}

void kregex_free(kregex *re)
{
	if (!re)
		return;
	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re->sub);
	free(re);
}

size_t kregex_groups(const kregex *re)
{
	return re->ngroups;
}

int kregex_group_index(const kregex *re, const char *name, size_t len)
{
	char buf[128];
	int g;
	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = 0;
	g = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)buf);
	return g < 0 ? -1 : g;
}

kregex_result kregex_match(kregex *re, const char *s, size_t len, size_t start, const kregex_span **sub)
{
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, start, 0, re->md, NULL);
	PCRE2_SIZE *ov;
	size_t i;
	if (rc == PCRE2_ERROR_NOMATCH)
		return KREGEX_NOMATCH;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return KREGEX_LIMIT;
	if (rc < 0)
		return KREGEX_ERROR;
	ov = pcre2_get_ovector_pointer(re->md);
	for (i = 0; i < re->ngroups; i++) {
		re->sub[i].beg = ov[2 * i] == PCRE2_UNSET ? KREGEX_UNSET : ov[2 * i];
		re->sub[i].end = ov[2 * i] == PCRE2_UNSET ? KREGEX_UNSET : ov[2 * i + 1];
	}
	if (sub)
		*sub = re->sub;
	return KREGEX_MATCH;
}

static size_t rune_len(const char *s, size_t len, size_t off)
{
	size_t w = 1;
	while (off + w < len && ((unsigned char)s[off + w] & 0xC0) == 0x80)
		w++;
	return w;
}

kregex_result kregex_each(kregex *re, const char *s, size_t len, int64_t n, kregex_each_fn fn, void *ctx)
{
	size_t off = 0, prev_end = KREGEX_UNSET;
	int64_t count = 0;
	while (off <= len && (n < 0 || count < n)) {
		const kregex_span *m;
		kregex_result r = kregex_match(re, s, len, off, &m);
		if (r != KREGEX_MATCH)
			return r == KREGEX_NOMATCH ? (count ? KREGEX_MATCH : KREGEX_NOMATCH) : r;
		if (m[0].end == m[0].beg && m[0].beg == prev_end) {
			/* empty match abutting the previous one: skip a rune */
			if (m[0].beg >= len)
				break;
			off = m[0].beg + rune_len(s, len, m[0].beg);
			continue;
		}
		fn(ctx, s, m, re->ngroups);
		count++;
		prev_end = m[0].end;
		if (m[0].end == m[0].beg)
			off = m[0].end < len ? m[0].end + rune_len(s, len, m[0].end) : len + 1;
		else
			off = m[0].end;
	}
	return count ? KREGEX_MATCH : KREGEX_NOMATCH;
}

typedef struct repl {
	const kregex *re;
	kbuf *b;
	size_t last;
	const char *tmpl;
	size_t tlen;
	bool literal;
} repl;

/* Regexp.Expand of the template for one match */
static void expand(repl *p, const char *s, const kregex_span *m, size_t ng)
{
	const char *t = p->tmpl, *e = p->tmpl + p->tlen;
	while (t < e) {
		const char *name;
		size_t nl, i;
		long g = -1;
		bool digits;
		if (*t != '$' || t + 1 >= e) {
			kbuf_putc(p->b, *t++);
			continue;
		}
		t++;
		if (*t == '$') {
			kbuf_putc(p->b, '$');
			t++;
			continue;
		}
		if (*t == '{') {
			const char *c = memchr(t, '}', (size_t)(e - t));
			if (!c) {
				kbuf_putc(p->b, '$');
				continue;
			}
			name = t + 1;
			nl = (size_t)(c - name);
			t = c + 1;
		} else {
			name = t;
			while (t < e && (*t == '_' || (*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z')))
				t++;
			nl = (size_t)(t - name);
			if (!nl) {
				kbuf_putc(p->b, '$');
				continue;
			}
		}
		digits = nl > 0;
		for (i = 0; i < nl; i++)
			if (name[i] < '0' || name[i] > '9')
				digits = false;
		if (digits) {
			g = 0;
			for (i = 0; i < nl && g < 100000; i++)
				g = g * 10 + (name[i] - '0');
		} else if (nl) {
			g = kregex_group_index(p->re, name, nl);
		}
		if (g >= 0 && (size_t)g < ng && m[g].beg != KREGEX_UNSET)
			kbuf_put(p->b, s + m[g].beg, m[g].end - m[g].beg);
	}
}

static void do_repl(void *ctx, const char *s, const kregex_span *m, size_t ng)
{
	repl *p = ctx;
	kbuf_put(p->b, s + p->last, m[0].beg - p->last);
	if (p->literal)
		kbuf_put(p->b, p->tmpl, p->tlen);
	else
		expand(p, s, m, ng);
	p->last = m[0].end;
}

kregex_result kregex_replace(kregex *re, const char *s, size_t len, const char *tmpl, size_t tlen,
			     bool literal, kbuf *out)
{
	repl p;
	kregex_result r;
	memset(&p, 0, sizeof(p));
	p.re = re;
	p.b = out;
	p.tmpl = tmpl;
	p.tlen = tlen;
	p.literal = literal;
	r = kregex_each(re, s, len, -1, do_repl, &p);
	kbuf_put(out, s + p.last, len - p.last);
	return r;
}

typedef struct splitc {
	kregex_piece_fn fn;
	void *ctx;
	size_t beg, end;    /* Go's beg and end: after and at the last match */
	int64_t lim, pieces;
} splitc;

/* one match of Go's regexp.Split loop (lim matches are found; it stops
 * once it holds lim-1 strings) */
static void do_split(void *ctx, const char *s, const kregex_span *m, size_t ng)
{
	splitc *c = ctx;
	(void)ng;
	if (c->lim > 0 && c->pieces == c->lim - 1)
		return;
	c->end = m[0].beg;
	if (m[0].end != 0) {
		c->fn(c->ctx, s + c->beg, m[0].beg - c->beg);
		c->pieces++;
	}
	c->beg = m[0].end;
}

kregex_result kregex_split(kregex *re, const char *s, size_t len, int64_t n, kregex_piece_fn fn, void *ctx)
{
	splitc c;
	kregex_result r;
	if (n == 0)
		return KREGEX_NOMATCH;
	if (re->pat_len > 0 && len == 0) {
		fn(ctx, "", 0);
		return KREGEX_NOMATCH;
	}
	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.ctx = ctx;
	c.lim = n;
	r = kregex_each(re, s, len, n, do_split, &c);
	/* Go keeps the rest unless the last match it took starts at the end */
	if (c.end != len)
		fn(ctx, s + c.beg, len - c.beg);
	return r;
}
