/* tmpl/funcs_regex.c - Sprig's regex functions through PCRE2 (UTF mode),
 * with Go's regexp semantics for the parts charts see: leftmost-first
 * matching (which PCRE2 shares), "All" variants skipping empty matches
 * that abut a previous match, Go's $1/${name} expansion in replacements,
 * Split as regexp.Split, RE2's $, (?m)^ and \s (compile options and a
 * rewrite of \s/\S). Decision: other RE2-only syntax that PCRE2 reads
 * differently (none common in charts) is not translated; PCRE2-only
 * syntax (lookarounds, backreferences) is accepted where Go would reject. */
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tmpl_int.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)

typedef struct rx {
	pcre2_code *code;
	pcre2_match_data *md;
} rx;

/* Sprig compiles with regexp.MustCompile (a panic, reported as the call's
 * error) except in the must* variants, which return Compile's error. */
static bool must_variant(tctx *x)
{
	const tnode *n = x->node;
	const char *name = n && n->k == TN_CMD && n->n && n->v[0]->k == TN_IDENT ? n->v[0]->s : "";
	return !strncmp(name, "must", 4);
}

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

static int rx_compile(tctx *x, rx *r, const char *pat, size_t len)
{
	int ec;
	PCRE2_SIZE eo;
	kbuf t = KBUF_INIT;
	re2_spaces(&t, pat, len);
	/* DOLLAR_ENDONLY: $ is the end of the text, not also before a final
	 * newline, as RE2's (under (?m) PCRE2 drops it, as RE2's $ does);
	 * ALT_CIRCUMFLEX: (?m)^ also matches after a final newline, as RE2 */
	r->code = pcre2_compile((PCRE2_SPTR)t.ptr, t.len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_CIRCUMFLEX,
				&ec, &eo, NULL);
	kbuf_release(&t);
	if (!r->code) {
		PCRE2_UCHAR buf[256];
		pcre2_get_error_message(ec, buf, sizeof(buf));
		if (must_variant(x))
			return tctx_fail(x, "error parsing regexp: %s: `%.*s`", (const char *)buf, (int)len, pat);
		return tctx_fail(x, "regexp: Compile(`%.*s`): error parsing regexp: %s: `%.*s`", (int)len, pat,
				 (const char *)buf, (int)len, pat);
	}
	r->md = pcre2_match_data_create_from_pattern(r->code, NULL);
	return 0;
}

static void rx_free(rx *r)
{
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->code);
}

/* Next match at or after off; returns 1 with ov set, 0 none. */
static int rx_next(rx *r, const char *s, size_t len, size_t off, PCRE2_SIZE **ov)
{
	int rc = pcre2_match(r->code, (PCRE2_SPTR)s, len, off, 0, r->md, NULL);
	if (rc < 0)
		return 0;
	*ov = pcre2_get_ovector_pointer(r->md);
	return 1;
}

static size_t rune_len(const char *s, size_t len, size_t off)
{
	size_t w = 1;
	while (off + w < len && ((unsigned char)s[off + w] & 0xC0) == 0x80)
		w++;
	return w;
}

/* Iterate Go-style "All" matches: calls fn for each; limit n (<0 all). */
typedef void (*match_fn)(void *ctx, const char *s, PCRE2_SIZE *ov, int ngroups);

static void each_match(rx *r, const char *s, size_t len, int64_t n, match_fn fn, void *ctx)
{
	size_t off = 0;
	int64_t count = 0;
	long prev_end = -1;
	uint32_t ng = 0;
	pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &ng);
	while (off <= len && (n < 0 || count < n)) {
		PCRE2_SIZE *ov;
		if (!rx_next(r, s, len, off, &ov))
			break;
		if (ov[1] == ov[0] && (long)ov[0] == prev_end) {
			/* empty match abutting the previous one: skip a rune */
			if (ov[0] >= len)
				break;
			off = ov[0] + rune_len(s, len, ov[0]);
			continue;
		}
		fn(ctx, s, ov, (int)ng + 1);
		count++;
		prev_end = (long)ov[1];
		if (ov[1] == ov[0])
			off = ov[1] < len ? ov[1] + rune_len(s, len, ov[1]) : len + 1;
		else
			off = ov[1];
	}
}

static int f_regexmatch(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	rx r;
	PCRE2_SIZE *ov;
	(void)n;
	if (rx_compile(x, &r, S(0), SL(0))) {
		if (must_variant(x))
			return KE_INPUT;
		/* regexMatch ignores a bad pattern: no match */
		x->fail_msg = NULL;
		*out = tv_bool(false);
		return 0;
	}
	*out = tv_bool(rx_next(&r, S(1), SL(1), 0, &ov));
	rx_free(&r);
	return 0;
}

static int f_regexfind(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	rx r;
	PCRE2_SIZE *ov;
	(void)n;
	if (rx_compile(x, &r, S(0), SL(0)))
		return KE_INPUT;
	if (rx_next(&r, S(1), SL(1), 0, &ov))
		*out = tv_str(x->a, S(1) + ov[0], ov[1] - ov[0]);
	else
		*out = tv_strz(x->a, "");
	rx_free(&r);
	return 0;
}

typedef struct collect {
	tctx *x;
	doc_node *list;
} collect;

static void add_match(void *ctx, const char *s, PCRE2_SIZE *ov, int ng)
{
	collect *c = ctx;
	(void)ng;
	doc_seq_push(c->x->a, c->list, tv_str(c->x->a, s + ov[0], ov[1] - ov[0]));
}

static int f_regexfindall(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	rx r;
	collect c;
	(void)n;
	if (rx_compile(x, &r, S(0), SL(0)))
		return KE_INPUT;
	c.x = x;
	c.list = tv_strs(x->a);
	if (a[2]->u.i != 0)
		each_match(&r, S(1), SL(1), a[2]->u.i, add_match, &c);
	rx_free(&r);
	*out = c.list;
	return 0;
}

typedef struct repl {
	tctx *x;
	rx *r;
	kbuf *b;
	size_t last;
	const char *tmpl;
	size_t tlen;
	bool literal;
} repl;

static void expand(repl *p, const char *s, PCRE2_SIZE *ov, int ng)
{
	const char *t = p->tmpl, *e = p->tmpl + p->tlen;
	while (t < e) {
		const char *name;
		size_t nl;
		int g = -1;
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
		{
			size_t i;
			bool digits = nl > 0;
			for (i = 0; i < nl; i++)
				if (name[i] < '0' || name[i] > '9')
					digits = false;
			if (digits) {
				g = 0;
				for (i = 0; i < nl && g < 100000; i++)
					g = g * 10 + (name[i] - '0');
			} else if (nl) {
				char buf[128];
				if (nl < sizeof(buf)) {
					memcpy(buf, name, nl);
					buf[nl] = 0;
					g = pcre2_substring_number_from_name(p->r->code, (PCRE2_SPTR)buf);
				}
			}
		}
		if (g >= 0 && g < ng && ov[2 * g] != PCRE2_UNSET)
			kbuf_put(p->b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
	}
}

static void do_repl(void *ctx, const char *s, PCRE2_SIZE *ov, int ng)
{
	repl *p = ctx;
	kbuf_put(p->b, s + p->last, ov[0] - p->last);
	if (p->literal)
		kbuf_put(p->b, p->tmpl, p->tlen);
	else
		expand(p, s, ov, ng);
	p->last = ov[1];
}

static int replace_common(tctx *x, doc_node **out, doc_node **a, bool literal)
{
	rx r;
	repl p;
	kbuf b = KBUF_INIT;
	if (rx_compile(x, &r, S(0), SL(0)))
		return KE_INPUT;
	memset(&p, 0, sizeof(p));
	p.x = x;
	p.r = &r;
	p.b = &b;
	p.tmpl = S(2);
	p.tlen = SL(2);
	p.literal = literal;
	each_match(&r, S(1), SL(1), -1, do_repl, &p);
	kbuf_put(&b, S(1) + p.last, SL(1) - p.last);
	rx_free(&r);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_regexreplaceall(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return replace_common(x, out, a, false); }
static int f_regexreplaceallliteral(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return replace_common(x, out, a, true); }

typedef struct splitc {
	tctx *x;
	doc_node *list;
	size_t beg, end;    /* Go's beg and end: after and at the last match */
	int64_t lim;
	const char *s;
	size_t len;
} splitc;

/* one match of Go's regexp.Split loop (lim matches are found; it stops
 * once it holds lim-1 strings) */
static void do_split(void *ctx, const char *s, PCRE2_SIZE *ov, int ng)
{
	splitc *c = ctx;
	(void)ng;
	if (c->lim > 0 && (int64_t)doc_len(c->list) == c->lim - 1)
		return;
	c->end = ov[0];
	if (ov[1] != 0)
		doc_seq_push(c->x->a, c->list, tv_str(c->x->a, s + c->beg, ov[0] - c->beg));
	c->beg = ov[1];
}

static int f_regexsplit(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	rx r;
	splitc c;
	int64_t lim = a[2]->u.i;
	(void)n;
	if (rx_compile(x, &r, S(0), SL(0)))
		return KE_INPUT;
	memset(&c, 0, sizeof(c));
	c.x = x;
	c.list = tv_strs(x->a);
	c.s = S(1);
	c.len = SL(1);
	c.lim = lim;
	if (lim == 0) {
		/* Go's nil []string: toJson says null */
		c.list->flags |= TV_NILSEQ;
		rx_free(&r);
		*out = c.list;
		return 0;
	}
	if (SL(0) > 0 && SL(1) == 0) {
		doc_seq_push(x->a, c.list, tv_strz(x->a, ""));
	} else {
		each_match(&r, S(1), SL(1), lim, do_split, &c);
		/* Go keeps the rest unless the last match it took starts at the end */
		if (c.end != SL(1))
			doc_seq_push(x->a, c.list, tv_str(x->a, S(1) + c.beg, SL(1) - c.beg));
	}
	rx_free(&r);
	*out = c.list;
	return 0;
}

static int f_regexquotemeta(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	size_t i;
	(void)n;
	for (i = 0; i < SL(0); i++) {
		if (strchr("\\.+*?()|[]{}^$", S(0)[i]) && S(0)[i])
			kbuf_putc(&b, '\\');
		kbuf_putc(&b, S(0)[i]);
	}
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

const tfunc tmpl_funcs_regex[] = {
	{ "regexMatch", f_regexmatch, "ss" },
	{ "mustRegexMatch", f_regexmatch, "ss" },
	{ "regexFind", f_regexfind, "ss" },
	{ "mustRegexFind", f_regexfind, "ss" },
	{ "regexFindAll", f_regexfindall, "ssi" },
	{ "mustRegexFindAll", f_regexfindall, "ssi" },
	{ "regexReplaceAll", f_regexreplaceall, "sss" },
	{ "mustRegexReplaceAll", f_regexreplaceall, "sss" },
	{ "regexReplaceAllLiteral", f_regexreplaceallliteral, "sss" },
	{ "mustRegexReplaceAllLiteral", f_regexreplaceallliteral, "sss" },
	{ "regexSplit", f_regexsplit, "ssi" },
	{ "mustRegexSplit", f_regexsplit, "ssi" },
	{ "regexQuoteMeta", f_regexquotemeta, "s" },
	{ NULL, NULL, NULL },
};
