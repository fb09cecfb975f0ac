/* tmpl/funcs_regex.c - Sprig's regex functions over core/regex.h with Go's
 * regexp semantics for the parts charts see: leftmost-first matching,
 * "All" variants skipping empty matches that abut a previous match, Go's
 * $1/${name} expansion in replacements, Split as regexp.Split, RE2's $,
 * (?m)^ and \s (KREGEX_GO). Decision: other RE2-only syntax that the
 * engine (PCRE2) reads differently (none common in charts) is not
 * translated; PCRE2-only syntax (lookarounds, backreferences) is accepted
 * where Go would reject. A match that runs out of the engine's budget
 * counts as no match here, as it always has (Go's engine has no such
 * outcome). */
#include <string.h>

#include "core/regex.h"
#include "tmpl_int.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)

/* Sprig compiles with regexp.MustCompile (a panic, reported as the call's
 * error) except in the must* variants, which return Compile's error. */
static bool must_variant(tctx *x)
{
	const tnode *n = x->node;
	const char *name = n && n->k == TN_CMD && n->n && n->v[0]->k == TN_IDENT ? n->v[0]->s : "";
	return !strncmp(name, "must", 4);
}

static int rx_compile(tctx *x, kregex **re, const char *pat, size_t len)
{
	kbuf msg = KBUF_INIT;
	int rc = 0;
	if (kregex_compile(re, pat, len, KREGEX_GO, &msg)) {
		if (must_variant(x))
			rc = tctx_fail(x, "error parsing regexp: %s: `%.*s`", msg.ptr, (int)len, pat);
		else
			rc = tctx_fail(x, "regexp: Compile(`%.*s`): error parsing regexp: %s: `%.*s`", (int)len, pat,
				       msg.ptr, (int)len, pat);
	}
	kbuf_release(&msg);
	return rc;
}

static int f_regexmatch(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kregex *re;
	(void)n;
	if (rx_compile(x, &re, S(0), SL(0))) {
		if (must_variant(x))
			return KE_INPUT;
		/* regexMatch ignores a bad pattern: no match */
		x->fail_msg = NULL;
		*out = tv_bool(false);
		return 0;
	}
	*out = tv_bool(kregex_match(re, S(1), SL(1), 0, NULL) == KREGEX_MATCH);
	kregex_free(re);
	return 0;
}

static int f_regexfind(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kregex *re;
	const kregex_span *m;
	(void)n;
	if (rx_compile(x, &re, S(0), SL(0)))
		return KE_INPUT;
	if (kregex_match(re, S(1), SL(1), 0, &m) == KREGEX_MATCH)
		*out = tv_str(x->a, S(1) + m[0].beg, m[0].end - m[0].beg);
	else
		*out = tv_strz(x->a, "");
	kregex_free(re);
	return 0;
}

typedef struct collect {
	tctx *x;
	doc_node *list;
} collect;

static void add_match(void *ctx, const char *s, const kregex_span *m, size_t ng)
{
	collect *c = ctx;
	(void)ng;
	doc_seq_push(c->x->a, c->list, tv_str(c->x->a, s + m[0].beg, m[0].end - m[0].beg));
}

static void add_piece(void *ctx, const char *s, size_t len)
{
	collect *c = ctx;
	doc_seq_push(c->x->a, c->list, tv_str(c->x->a, s, len));
}

/* regexFindAll (split false) and regexSplit: a []string of the matches or
 * of the pieces between them, at most a[2] of them (n == 0: Go's nil) */
static int collect_strings(tctx *x, doc_node **out, doc_node **a, bool split)
{
	kregex *re;
	collect c;
	if (rx_compile(x, &re, S(0), SL(0)))
		return KE_INPUT;
	c.x = x;
	c.list = tv_strs(x->a);
	if (split && a[2]->u.i == 0)
		c.list->flags |= TV_NILSEQ; /* Go's nil []string: toJson says null */
	else if (split)
		kregex_split(re, S(1), SL(1), a[2]->u.i, add_piece, &c);
	else
		kregex_each(re, S(1), SL(1), a[2]->u.i, add_match, &c);
	kregex_free(re);
	*out = c.list;
	return 0;
}

static int f_regexfindall(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return collect_strings(x, out, a, false); }
static int f_regexsplit(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return collect_strings(x, out, a, true); }

static int replace_common(tctx *x, doc_node **out, doc_node **a, bool literal)
{
	kregex *re;
	kbuf b = KBUF_INIT;
	if (rx_compile(x, &re, S(0), SL(0)))
		return KE_INPUT;
	kregex_replace(re, S(1), SL(1), S(2), SL(2), literal, &b);
	kregex_free(re);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_regexreplaceall(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return replace_common(x, out, a, false); }
static int f_regexreplaceallliteral(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return replace_common(x, out, a, true); }

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
