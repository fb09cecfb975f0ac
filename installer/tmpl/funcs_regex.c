/* tmpl/funcs_regex.c - Sprig's regex functions over tmpl/re.h, a port of
 * Go's regexp: Go's syntax (accepted and rejected alike, with Go's error
 * text), leftmost-first matches and submatches, FindAll, ReplaceAll with
 * $1/${name} expansion and Split as Go's, in time linear in the input. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "re.h"
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

/* strconv.CanBackquote */
static bool can_backquote(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint32_t r;
		size_t w = tv_utf8_decode((const unsigned char *)s + i, n - i, &r);
		i += w;
		if (w > 1) {
			if (r == 0xFEFF)
				return false;
			continue;
		}
		if (r == 0xFFFD || (r < ' ' && r != '\t') || r == '`' || r == 0x7F)
			return false;
	}
	return true;
}

static int rx_compile(tctx *x, re_prog **re, const char *pat, size_t len)
{
	kbuf msg = KBUF_INIT, q = KBUF_INIT;
	int rc = 0;
	if (re_compile(re, pat, len, &msg)) {
		if (must_variant(x)) {
			rc = tctx_fail(x, "%s", msg.ptr);
		} else {
			/* MustCompile's panic: regexp: Compile(quote(pat)): err */
			if (can_backquote(pat, len))
				kbuf_printf(&q, "`%.*s`", (int)len, pat);
			else
				tv_quote(&q, pat, len);
			rc = tctx_fail(x, "regexp: Compile(%s): %s", q.ptr, msg.ptr);
		}
	}
	kbuf_release(&msg);
	kbuf_release(&q);
	return rc;
}

static int f_regexmatch(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	re_prog *re;
	int64_t *cap;
	(void)n;
	if (rx_compile(x, &re, S(0), SL(0))) {
		if (must_variant(x))
			return KE_INPUT;
		/* regexMatch ignores a bad pattern: no match */
		x->fail_msg = NULL;
		*out = tv_bool(false);
		return 0;
	}
	cap = xcalloc(2 * re_groups(re), sizeof(int64_t));
	*out = tv_bool(re_exec(re, S(1), SL(1), 0, cap));
	free(cap);
	re_free(re);
	return 0;
}

static int f_regexfind(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	re_prog *re;
	int64_t *cap;
	(void)n;
	if (rx_compile(x, &re, S(0), SL(0)))
		return KE_INPUT;
	cap = xcalloc(2 * re_groups(re), sizeof(int64_t));
	if (re_exec(re, S(1), SL(1), 0, cap))
		*out = tv_str(x->a, S(1) + cap[0], (size_t)(cap[1] - cap[0]));
	else
		*out = tv_strz(x->a, "");
	free(cap);
	re_free(re);
	return 0;
}

typedef struct collect {
	tctx *x;
	doc_node *list;
} collect;

static void add_match(void *ctx, const char *s, const int64_t *cap)
{
	collect *c = ctx;
	doc_seq_push(c->x->a, c->list, tv_str(c->x->a, s + cap[0], (size_t)(cap[1] - cap[0])));
}

static void add_piece(void *ctx, const char *s, size_t len)
{
	collect *c = ctx;
	doc_seq_push(c->x->a, c->list, tv_str(c->x->a, s, len));
}

/* regexFindAll (split false) and regexSplit: a []string of the matches or
 * of the pieces between them, at most a[2] of them. Go's nil []string
 * (toJson says null): FindAll with no match, Split with n == 0. */
static int collect_strings(tctx *x, doc_node **out, doc_node **a, bool split)
{
	re_prog *re;
	collect c;
	if (rx_compile(x, &re, S(0), SL(0)))
		return KE_INPUT;
	c.x = x;
	c.list = tv_strs(x->a);
	if (split && a[2]->u.i == 0)
		c.list->flags |= TV_NILSEQ;
	else if (split)
		re_split(re, S(1), SL(1), a[2]->u.i, add_piece, &c);
	else if (!re_each(re, S(1), SL(1), a[2]->u.i, add_match, &c))
		c.list->flags |= TV_NILSEQ;
	re_free(re);
	*out = c.list;
	return 0;
}

static int f_regexfindall(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return collect_strings(x, out, a, false); }
static int f_regexsplit(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return collect_strings(x, out, a, true); }

static int replace_common(tctx *x, doc_node **out, doc_node **a, bool literal)
{
	re_prog *re;
	kbuf b = KBUF_INIT;
	if (rx_compile(x, &re, S(0), SL(0)))
		return KE_INPUT;
	re_replace(re, S(1), SL(1), S(2), SL(2), literal, &b);
	re_free(re);
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
