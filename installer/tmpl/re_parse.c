/* tmpl/re_parse.c - Go's regexp/syntax parser (parse.go) and Simplify
 * (simplify.go) in C, for the template regex functions; see re.h for why.
 * The structure follows Go's: the same operator stack, the same points
 * where literals concatenate, classes merge and limits are checked, so the
 * same patterns are accepted and the same error (code and text) comes
 * first. Go's parser always runs with syntax.Perl here (regexp.Compile), so
 * the POSIX-only branches are left out. Not ported: factor() (an
 * optimisation of alternations that keeps their meaning); it only changes
 * the tree sizes the "expression too large" limit counts, which no pattern
 * under a few megabytes reaches. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "re.h"
#include "tmpl_int.h"

#define MAX_RUNE 0x10FFFF
#define MIN_FOLD 0x0041
#define MAX_FOLD 0x1e943
#define MAX_SIZE ((int64_t)(128 << 20) / 40)
#define MAX_RUNES ((int64_t)(128 << 20) / 4)
#define MAX_HEIGHT 1000

static const char *const E_RANGE = "invalid character class range";
static const char *const E_ESCAPE = "invalid escape sequence";
static const char *const E_NAMED = "invalid named capture";
static const char *const E_PERLOP = "invalid or unsupported Perl syntax";
static const char *const E_REPEATOP = "invalid nested repetition operator";
static const char *const E_REPEATSIZE = "invalid repeat count";
static const char *const E_UTF8 = "invalid UTF-8";
static const char *const E_BRACKET = "missing closing ]";
static const char *const E_PAREN = "missing closing )";
static const char *const E_REPEATARG = "missing argument to repetition operator";
static const char *const E_BACKSLASH = "trailing backslash at end of expression";
static const char *const E_UNEXPAREN = "unexpected )";
static const char *const E_NESTING = "expression nests too deeply";
static const char *const E_LARGE = "expression too large";

typedef struct parser {
	unsigned flags;
	re_node **stack;
	size_t nstack, cstack;
	re_node *free, *all;
	int ncap;
	const char *s; /* the whole pattern */
	size_t len;
	re_runes tmp;
	int64_t nregexp, nrunes, repeats;
	bool track_size, track_height;
	const char *limit; /* E_LARGE or E_NESTING once a limit was passed (Go panics) */
	const char *code;  /* the error */
	size_t ebeg, eend; /* its expression: s[ebeg..eend) */
} parser;

/* ---- rune lists ---- */

static void rr_push(re_runes *r, int32_t x)
{
	ALLOC_GROW(r->v, r->n + 1, r->cap);
	r->v[r->n++] = x;
}

/* appendRange: extend one of the last two ranges if lo-hi touches it */
static void rr_range(re_runes *r, int32_t lo, int32_t hi)
{
	size_t i, n = r->n;
	for (i = 2; i <= 4; i += 2) {
		if (n >= i) {
			int32_t rlo = r->v[n - i], rhi = r->v[n - i + 1];
			if (lo <= rhi + 1 && rlo <= hi + 1) {
				if (lo < rlo)
					r->v[n - i] = lo;
				if (hi > rhi)
					r->v[n - i + 1] = hi;
				return;
			}
		}
	}
	rr_push(r, lo);
	rr_push(r, hi);
}

int32_t re_simple_fold(int32_t r)
{
	size_t lo = 0, hi = re_nfold;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (re_fold[m][0] == (uint32_t)r)
			return (int32_t)re_fold[m][1];
		if (re_fold[m][0] < (uint32_t)r)
			lo = m + 1;
		else
			hi = m;
	}
	return r;
}

static void rr_folded_range(re_runes *r, int32_t lo, int32_t hi)
{
	int32_t c;
	if ((lo <= MIN_FOLD && hi >= MAX_FOLD) || hi < MIN_FOLD || lo > MAX_FOLD) {
		rr_range(r, lo, hi);
		return;
	}
	if (lo < MIN_FOLD) {
		rr_range(r, lo, MIN_FOLD - 1);
		lo = MIN_FOLD;
	}
	if (hi > MAX_FOLD) {
		rr_range(r, MAX_FOLD + 1, hi);
		hi = MAX_FOLD;
	}
	for (c = lo; c <= hi; c++) {
		int32_t f;
		rr_range(r, c, c);
		for (f = re_simple_fold(c); f != c; f = re_simple_fold(f))
			rr_range(r, f, f);
	}
}

static void rr_literal(re_runes *r, int32_t x, unsigned flags)
{
	if (flags & RE_FOLD)
		rr_folded_range(r, x, x);
	else
		rr_range(r, x, x);
}

static void rr_class(re_runes *r, const int32_t *x, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		rr_range(r, x[i], x[i + 1]);
}

static void rr_folded_class(re_runes *r, const int32_t *x, size_t n)
{
	size_t i;
	for (i = 0; i + 1 < n; i += 2)
		rr_folded_range(r, x[i], x[i + 1]);
}

static void rr_negated_class(re_runes *r, const int32_t *x, size_t n)
{
	int32_t next = 0;
	size_t i;
	for (i = 0; i + 1 < n; i += 2) {
		if (next <= x[i] - 1)
			rr_range(r, next, x[i] - 1);
		next = x[i + 1] + 1;
	}
	if (next <= MAX_RUNE)
		rr_range(r, next, MAX_RUNE);
}

static void rr_table(re_runes *r, const uint32_t *t, size_t npairs)
{
	size_t i;
	for (i = 0; i < npairs; i++)
		rr_range(r, (int32_t)t[2 * i], (int32_t)t[2 * i + 1]);
}

static void rr_negated_table(re_runes *r, const uint32_t *t, size_t npairs)
{
	int32_t next = 0;
	size_t i;
	for (i = 0; i < npairs; i++) {
		if (next <= (int32_t)t[2 * i] - 1)
			rr_range(r, next, (int32_t)t[2 * i] - 1);
		next = (int32_t)t[2 * i + 1] + 1;
	}
	if (next <= MAX_RUNE)
		rr_range(r, next, MAX_RUNE);
}

static int cmp_pair(const void *a, const void *b)
{
	const int32_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	if (x[1] != y[1])
		return x[1] > y[1] ? -1 : 1;
	return 0;
}

/* cleanClass: sort by lo (hi decreasing on ties), merge */
void re_runes_clean(re_runes *r)
{
	size_t i, w = 2;
	if (r->n < 2)
		return;
	qsort(r->v, r->n / 2, 2 * sizeof(int32_t), cmp_pair);
	for (i = 2; i < r->n; i += 2) {
		int32_t lo = r->v[i], hi = r->v[i + 1];
		if (lo <= r->v[w - 1] + 1) {
			if (hi > r->v[w - 1])
				r->v[w - 1] = hi;
			continue;
		}
		r->v[w] = lo;
		r->v[w + 1] = hi;
		w += 2;
	}
	r->n = w;
}

static void rr_negate(re_runes *r)
{
	int32_t next = 0;
	size_t i, w = 0;
	for (i = 0; i + 1 < r->n; i += 2) {
		int32_t lo = r->v[i], hi = r->v[i + 1];
		if (next <= lo - 1) {
			r->v[w] = next;
			r->v[w + 1] = lo - 1;
			w += 2;
		}
		next = hi + 1;
	}
	r->n = w;
	if (next <= MAX_RUNE) {
		rr_push(r, next);
		rr_push(r, MAX_RUNE);
	}
}

bool re_in_class(int32_t r, const int32_t *v, size_t npairs)
{
	size_t lo = 0, hi = npairs;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (r > v[2 * m + 1])
			lo = m + 1;
		else if (r < v[2 * m])
			hi = m;
		else
			return true;
	}
	return false;
}

/* ---- nodes ---- */

static re_node *new_node(parser *p, int op)
{
	re_node *re = p->free;
	if (re) {
		/* Go zeroes a reused node but its size memo (a map by pointer) stays */
		int64_t size = re->size;
		bool sized = re->sized;
		re_node *all = re->all;
		re_runes r = re->r;
		re_node **sub = re->sub;
		p->free = re->next_free;
		free(re->name);
		memset(re, 0, sizeof(*re));
		re->size = size, re->sized = sized, re->all = all;
		re->r = r, re->r.n = 0, re->sub = sub;
	} else {
		re = xcalloc(1, sizeof(*re));
		re->all = p->all;
		p->all = re;
		p->nregexp++;
	}
	re->op = op;
	return re;
}

static void reuse(parser *p, re_node *re)
{
	re->height = 0;
	re->next_free = p->free;
	p->free = re;
}

static void add_sub(re_node *re, re_node *sub)
{
	size_t cap = re->nsub; /* sub arrays grow one at a time: sized to fit */
	re_node **v = xrealloc(re->sub, st_mult(cap + 1, sizeof(*v)));
	v[re->nsub++] = sub;
	re->sub = v;
}

static int64_t calc_size(parser *p, re_node *re, bool force)
{
	int64_t size = 0, sub;
	size_t i;
	if (!force && re->sized)
		return re->size;
	switch (re->op) {
	case RE_LITERAL:
		size = (int64_t)re->r.n;
		break;
	case RE_CAPTURE:
	case RE_STAR:
		size = 2 + calc_size(p, re->sub[0], false);
		break;
	case RE_PLUS:
	case RE_QUEST:
		size = 1 + calc_size(p, re->sub[0], false);
		break;
	case RE_CONCAT:
	case RE_ALT:
		for (i = 0; i < re->nsub; i++)
			size += calc_size(p, re->sub[i], false);
		if (re->op == RE_ALT && re->nsub > 1)
			size += (int64_t)re->nsub - 1;
		break;
	case RE_REPEAT:
		sub = calc_size(p, re->sub[0], false);
		if (re->max == -1)
			size = re->min == 0 ? 2 + sub : 1 + (int64_t)re->min * sub;
		else
			size = (int64_t)re->max * sub + (int64_t)(re->max - re->min);
		break;
	}
	if (size < 1)
		size = 1;
	re->size = size;
	re->sized = true;
	return size;
}

static void check_size(parser *p, re_node *re)
{
	size_t i;
	if (!p->track_size) {
		if (p->repeats == 0)
			p->repeats = 1;
		if (re->op == RE_REPEAT) {
			int64_t n = re->max == -1 ? re->min : re->max;
			if (n <= 0)
				n = 1;
			if (n > MAX_SIZE / p->repeats)
				p->repeats = MAX_SIZE;
			else
				p->repeats *= n;
		}
		if (p->nregexp < MAX_SIZE / p->repeats)
			return;
		p->track_size = true;
		for (i = 0; i < p->nstack; i++)
			check_size(p, p->stack[i]);
	}
	if (calc_size(p, re, true) > MAX_SIZE && !p->limit)
		p->limit = E_LARGE;
}

static int calc_height(re_node *re, bool force)
{
	int h = 1;
	size_t i;
	if (!force && re->height)
		return re->height;
	for (i = 0; i < re->nsub; i++) {
		int hs = calc_height(re->sub[i], false);
		if (h < 1 + hs)
			h = 1 + hs;
	}
	re->height = h;
	return h;
}

static void check_height(parser *p, re_node *re)
{
	size_t i;
	if (p->nregexp < MAX_HEIGHT)
		return;
	if (!p->track_height) {
		p->track_height = true;
		for (i = 0; i < p->nstack; i++)
			check_height(p, p->stack[i]);
	}
	if (calc_height(re, true) > MAX_HEIGHT && !p->limit)
		p->limit = E_NESTING;
}

static void check_limits(parser *p, re_node *re)
{
	if (p->limit)
		return;
	if (p->nrunes > MAX_RUNES) {
		p->limit = E_LARGE;
		return;
	}
	check_size(p, re);
	if (!p->limit)
		check_height(p, re);
}

/* maybeConcat: merge the top two literals of the stack; if r >= 0 reuse
 * the freed node for r and report true */
static bool maybe_concat(parser *p, int32_t r, unsigned flags)
{
	size_t n = p->nstack, i;
	re_node *re1, *re2;
	if (n < 2)
		return false;
	re1 = p->stack[n - 1];
	re2 = p->stack[n - 2];
	if (re1->op != RE_LITERAL || re2->op != RE_LITERAL || (re1->flags & RE_FOLD) != (re2->flags & RE_FOLD))
		return false;
	for (i = 0; i < re1->r.n; i++)
		rr_push(&re2->r, re1->r.v[i]);
	if (r >= 0) {
		re1->r.n = 0;
		rr_push(&re1->r, r);
		re1->flags = flags;
		return true;
	}
	p->nstack--;
	reuse(p, re1);
	return false;
}

static re_node *push(parser *p, re_node *re)
{
	int32_t *v = re->r.v;
	p->nrunes += (int64_t)re->r.n;
	if (re->op == RE_CLASS && re->r.n == 2 && v[0] == v[1]) {
		if (maybe_concat(p, v[0], p->flags & ~RE_FOLD))
			return NULL;
		re->op = RE_LITERAL;
		re->r.n = 1;
		re->flags = p->flags & ~RE_FOLD;
	} else if (re->op == RE_CLASS &&
		   ((re->r.n == 4 && v[0] == v[1] && v[2] == v[3] && re_simple_fold(v[0]) == v[2] &&
		     re_simple_fold(v[2]) == v[0]) ||
		    (re->r.n == 2 && v[0] + 1 == v[1] && re_simple_fold(v[0]) == v[1] &&
		     re_simple_fold(v[1]) == v[0]))) {
		if (maybe_concat(p, v[0], p->flags | RE_FOLD))
			return NULL;
		re->op = RE_LITERAL;
		re->r.n = 1;
		re->flags = p->flags | RE_FOLD;
	} else {
		maybe_concat(p, -1, 0);
	}
	ALLOC_GROW(p->stack, p->nstack + 1, p->cstack);
	p->stack[p->nstack++] = re;
	check_limits(p, re);
	return re;
}

static int32_t min_fold_rune(int32_t r)
{
	int32_t m = r, r0 = r;
	if (r < MIN_FOLD || r > MAX_FOLD)
		return r;
	for (r = re_simple_fold(r); r != r0; r = re_simple_fold(r))
		if (r < m)
			m = r;
	return m;
}

static void literal(parser *p, int32_t r)
{
	re_node *re = new_node(p, RE_LITERAL);
	re->flags = p->flags;
	if (p->flags & RE_FOLD)
		r = min_fold_rune(r);
	rr_push(&re->r, r);
	push(p, re);
}

static re_node *op(parser *p, int o)
{
	re_node *re = new_node(p, o);
	re->flags = p->flags;
	return push(p, re);
}

static int fail(parser *p, const char *code, size_t beg, size_t end)
{
	p->code = code;
	p->ebeg = beg;
	p->eend = end;
	return -1;
}

/* nextRune: the rune at s[*t] (end of input: U+FFFD and nothing eaten) */
static int next_rune(parser *p, size_t *t, int32_t *c)
{
	uint32_t r;
	size_t w = tv_utf8_decode((const unsigned char *)p->s + *t, p->len - *t, &r);
	if (r == 0xFFFD && w == 1)
		return fail(p, E_UTF8, *t, p->len);
	*c = (int32_t)r;
	*t += w;
	return 0;
}

static int check_utf8(parser *p, size_t beg, size_t end)
{
	while (beg < end) {
		uint32_t r;
		size_t w = tv_utf8_decode((const unsigned char *)p->s + beg, end - beg, &r);
		if (r == 0xFFFD && w == 1)
			return fail(p, E_UTF8, beg, end);
		beg += w;
	}
	return 0;
}

static bool repeat_is_valid(const re_node *re, int n)
{
	size_t i;
	if (re->op == RE_REPEAT) {
		int m = re->max;
		if (m == 0)
			return true;
		if (m < 0)
			m = re->min;
		if (m > n)
			return false;
		if (m > 0)
			n /= m;
	}
	for (i = 0; i < re->nsub; i++)
		if (!repeat_is_valid(re->sub[i], n))
			return false;
	return true;
}

/* repeat: the operator is s[before..*after); last is where the previous
 * token's repeat operator began, or SIZE_MAX */
static int repeat(parser *p, int o, int min, int max, size_t before, size_t *after, size_t last)
{
	unsigned flags = p->flags;
	re_node *sub, *re;
	if (*after < p->len && p->s[*after] == '?') {
		(*after)++;
		flags ^= RE_NONGREEDY;
	}
	if (last != SIZE_MAX)
		return fail(p, E_REPEATOP, last, *after);
	if (!p->nstack || p->stack[p->nstack - 1]->op >= RE_PSEUDO)
		return fail(p, E_REPEATARG, before, *after);
	sub = p->stack[p->nstack - 1];
	re = new_node(p, o);
	re->min = min;
	re->max = max;
	re->flags = flags;
	add_sub(re, sub);
	p->stack[p->nstack - 1] = re;
	check_limits(p, re);
	if (o == RE_REPEAT && (min >= 2 || max >= 2) && !repeat_is_valid(re, 1000))
		return fail(p, E_REPEATSIZE, before, *after);
	return 0;
}

static re_node *collapse(parser *p, re_node **subs, size_t n, int o)
{
	re_node *re;
	size_t i, j;
	if (n == 1)
		return subs[0];
	re = new_node(p, o);
	for (i = 0; i < n; i++) {
		if (subs[i]->op == o) {
			for (j = 0; j < subs[i]->nsub; j++)
				add_sub(re, subs[i]->sub[j]);
			reuse(p, subs[i]);
		} else {
			add_sub(re, subs[i]);
		}
	}
	return re;
}

static size_t pseudo_top(parser *p)
{
	size_t i = p->nstack;
	while (i > 0 && p->stack[i - 1]->op < RE_PSEUDO)
		i--;
	return i;
}

static void concat(parser *p)
{
	size_t i;
	maybe_concat(p, -1, 0);
	i = pseudo_top(p);
	if (i == p->nstack) {
		push(p, new_node(p, RE_EMPTY));
		return;
	}
	{
		size_t n = p->nstack - i;
		re_node **subs = xmemdup(p->stack + i, n * sizeof(*subs));
		p->nstack = i;
		push(p, collapse(p, subs, n, RE_CONCAT));
		free(subs);
	}
}

static void clean_alt(re_node *re)
{
	if (re->op != RE_CLASS)
		return;
	re_runes_clean(&re->r);
	if (re->r.n == 2 && re->r.v[0] == 0 && re->r.v[1] == MAX_RUNE) {
		re->r.n = 0;
		re->op = RE_ANY;
	} else if (re->r.n == 4 && re->r.v[0] == 0 && re->r.v[1] == '\n' - 1 && re->r.v[2] == '\n' + 1 &&
		   re->r.v[3] == MAX_RUNE) {
		re->r.n = 0;
		re->op = RE_ANYNOTNL;
	}
}

static void alternate(parser *p)
{
	size_t i = pseudo_top(p), n = p->nstack - i;
	re_node **subs;
	if (n > 0)
		clean_alt(p->stack[p->nstack - 1]);
	if (n == 0) {
		push(p, new_node(p, RE_NOMATCH));
		return;
	}
	subs = xmemdup(p->stack + i, n * sizeof(*subs));
	p->nstack = i;
	push(p, collapse(p, subs, n, RE_ALT));
	free(subs);
}

static bool is_char_class(const re_node *re)
{
	return (re->op == RE_LITERAL && re->r.n == 1) || re->op == RE_CLASS || re->op == RE_ANYNOTNL ||
	       re->op == RE_ANY;
}

static bool match_rune(const re_node *re, int32_t r)
{
	size_t i;
	switch (re->op) {
	case RE_LITERAL:
		return re->r.n == 1 && re->r.v[0] == r;
	case RE_CLASS:
		for (i = 0; i + 1 < re->r.n; i += 2)
			if (re->r.v[i] <= r && r <= re->r.v[i + 1])
				return true;
		return false;
	case RE_ANYNOTNL:
		return r != '\n';
	case RE_ANY:
		return true;
	}
	return false;
}

static void merge_char_class(re_node *dst, re_node *src)
{
	switch (dst->op) {
	case RE_ANY:
		break;
	case RE_ANYNOTNL:
		if (match_rune(src, '\n'))
			dst->op = RE_ANY;
		break;
	case RE_CLASS:
		if (src->op == RE_LITERAL)
			rr_literal(&dst->r, src->r.v[0], src->flags);
		else
			rr_class(&dst->r, src->r.v, src->r.n);
		break;
	case RE_LITERAL: {
		int32_t d = dst->r.v[0];
		if (src->r.v[0] == d && src->flags == dst->flags)
			break;
		dst->op = RE_CLASS;
		dst->r.n = 0;
		rr_literal(&dst->r, d, dst->flags);
		rr_literal(&dst->r, src->r.v[0], src->flags);
		break;
	}
	}
}

static bool swap_vertical_bar(parser *p)
{
	size_t n = p->nstack;
	if (n >= 3 && p->stack[n - 2]->op == RE_VBAR && is_char_class(p->stack[n - 1]) &&
	    is_char_class(p->stack[n - 3])) {
		re_node *re1 = p->stack[n - 1], *re3 = p->stack[n - 3];
		if (re1->op > re3->op) {
			re_node *t = re1;
			re1 = re3;
			re3 = t;
			p->stack[n - 3] = re3;
		}
		merge_char_class(re3, re1);
		reuse(p, re1);
		p->nstack--;
		return true;
	}
	if (n >= 2) {
		re_node *re1 = p->stack[n - 1], *re2 = p->stack[n - 2];
		if (re2->op == RE_VBAR) {
			if (n >= 3)
				clean_alt(p->stack[n - 3]);
			p->stack[n - 2] = re1;
			p->stack[n - 1] = re2;
			return true;
		}
	}
	return false;
}

static void parse_vertical_bar(parser *p)
{
	concat(p);
	if (!swap_vertical_bar(p))
		op(p, RE_VBAR);
}

static int parse_right_paren(parser *p)
{
	re_node *re1, *re2;
	concat(p);
	if (swap_vertical_bar(p))
		p->nstack--;
	alternate(p);
	if (p->nstack < 2)
		return fail(p, E_UNEXPAREN, 0, p->len);
	re1 = p->stack[p->nstack - 1];
	re2 = p->stack[p->nstack - 2];
	p->nstack -= 2;
	if (re2->op != RE_LPAREN)
		return fail(p, E_UNEXPAREN, 0, p->len);
	p->flags = re2->flags;
	if (re2->cap == 0) {
		push(p, re1);
	} else {
		re2->op = RE_CAPTURE;
		add_sub(re2, re1);
		push(p, re2);
	}
	return 0;
}

static int unhex(int32_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool isalnum_ascii(int32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* parseEscape: s[*t] is '\\' */
static int parse_escape(parser *p, size_t *t, int32_t *out)
{
	size_t s = *t, u = *t + 1;
	int32_t c, r;
	int i;
	if (u >= p->len)
		return fail(p, E_BACKSLASH, 0, 0);
	if (next_rune(p, &u, &c))
		return -1;
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		if (u >= p->len || p->s[u] < '0' || p->s[u] > '7')
			break; /* a backreference: not supported */
		/* fall through */
	case '0':
		r = c - '0';
		for (i = 1; i < 3; i++) {
			if (u >= p->len || p->s[u] < '0' || p->s[u] > '7')
				break;
			r = r * 8 + p->s[u] - '0';
			u++;
		}
		*out = r;
		*t = u;
		return 0;
	case 'x': {
		int x, y;
		if (u >= p->len)
			break;
		if (next_rune(p, &u, &c))
			return -1;
		if (c == '{') {
			int nhex = 0;
			r = 0;
			for (;;) {
				int v;
				if (u >= p->len)
					goto bad;
				if (next_rune(p, &u, &c))
					return -1;
				if (c == '}')
					break;
				v = unhex(c);
				if (v < 0)
					goto bad;
				r = r * 16 + v;
				if (r > MAX_RUNE)
					goto bad;
				nhex++;
			}
			if (nhex == 0)
				goto bad;
			*out = r;
			*t = u;
			return 0;
		}
		x = unhex(c);
		if (next_rune(p, &u, &c))
			return -1;
		y = unhex(c);
		if (x < 0 || y < 0)
			break;
		*out = x * 16 + y;
		*t = u;
		return 0;
	}
	case 'a': *out = '\a'; *t = u; return 0;
	case 'f': *out = '\f'; *t = u; return 0;
	case 'n': *out = '\n'; *t = u; return 0;
	case 'r': *out = '\r'; *t = u; return 0;
	case 't': *out = '\t'; *t = u; return 0;
	case 'v': *out = '\v'; *t = u; return 0;
	default:
		if (c < 0x80 && !isalnum_ascii(c)) {
			*out = c;
			*t = u;
			return 0;
		}
	}
bad:
	return fail(p, E_ESCAPE, s, u);
}

typedef struct group {
	const char *name;
	int sign;
	const int32_t *class;
	size_t n;
} group;

static const int32_t g_d[] = { 0x30, 0x39 };
static const int32_t g_s[] = { 0x9, 0xa, 0xc, 0xd, 0x20, 0x20 };
static const int32_t g_w[] = { 0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a };
static const int32_t g_alnum[] = { 0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a };
static const int32_t g_alpha[] = { 0x41, 0x5a, 0x61, 0x7a };
static const int32_t g_ascii[] = { 0x0, 0x7f };
static const int32_t g_blank[] = { 0x9, 0x9, 0x20, 0x20 };
static const int32_t g_cntrl[] = { 0x0, 0x1f, 0x7f, 0x7f };
static const int32_t g_graph[] = { 0x21, 0x7e };
static const int32_t g_lower[] = { 0x61, 0x7a };
static const int32_t g_print[] = { 0x20, 0x7e };
static const int32_t g_punct[] = { 0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e };
static const int32_t g_space[] = { 0x9, 0xd, 0x20, 0x20 };
static const int32_t g_upper[] = { 0x41, 0x5a };
static const int32_t g_xdigit[] = { 0x30, 0x39, 0x41, 0x46, 0x61, 0x66 };

#define G(name, sign, arr) { name, sign, arr, sizeof(arr) / sizeof(arr[0]) }
static const group perl_groups[] = {
	G("\\d", 1, g_d), G("\\D", -1, g_d), G("\\s", 1, g_s),
	G("\\S", -1, g_s), G("\\w", 1, g_w), G("\\W", -1, g_w),
};
static const group posix_groups[] = {
	G("[:alnum:]", 1, g_alnum), G("[:^alnum:]", -1, g_alnum), G("[:alpha:]", 1, g_alpha),
	G("[:^alpha:]", -1, g_alpha), G("[:ascii:]", 1, g_ascii), G("[:^ascii:]", -1, g_ascii),
	G("[:blank:]", 1, g_blank), G("[:^blank:]", -1, g_blank), G("[:cntrl:]", 1, g_cntrl),
	G("[:^cntrl:]", -1, g_cntrl), G("[:digit:]", 1, g_d), G("[:^digit:]", -1, g_d),
	G("[:graph:]", 1, g_graph), G("[:^graph:]", -1, g_graph), G("[:lower:]", 1, g_lower),
	G("[:^lower:]", -1, g_lower), G("[:print:]", 1, g_print), G("[:^print:]", -1, g_print),
	G("[:punct:]", 1, g_punct), G("[:^punct:]", -1, g_punct), G("[:space:]", 1, g_space),
	G("[:^space:]", -1, g_space), G("[:upper:]", 1, g_upper), G("[:^upper:]", -1, g_upper),
	G("[:word:]", 1, g_w), G("[:^word:]", -1, g_w), G("[:xdigit:]", 1, g_xdigit),
	G("[:^xdigit:]", -1, g_xdigit),
};
#undef G

static void append_group(parser *p, re_runes *r, const group *g)
{
	if (!(p->flags & RE_FOLD)) {
		if (g->sign < 0)
			rr_negated_class(r, g->class, g->n);
		else
			rr_class(r, g->class, g->n);
		return;
	}
	p->tmp.n = 0;
	rr_folded_class(&p->tmp, g->class, g->n);
	re_runes_clean(&p->tmp);
	if (g->sign < 0)
		rr_negated_class(r, p->tmp.v, p->tmp.n);
	else
		rr_class(r, p->tmp.v, p->tmp.n);
}

static const group *find_group(const group *gs, size_t n, const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (strlen(gs[i].name) == len && !memcmp(gs[i].name, s, len))
			return &gs[i];
	return NULL;
}

/* parsePerlClassEscape: true if s[*t] starts \d, \s, \w or a negation */
static bool parse_perl_class_escape(parser *p, size_t *t, re_runes *r)
{
	const group *g;
	if (p->len - *t < 2 || p->s[*t] != '\\')
		return false;
	g = find_group(perl_groups, sizeof(perl_groups) / sizeof(perl_groups[0]), p->s + *t, 2);
	if (!g)
		return false;
	append_group(p, r, g);
	*t += 2;
	return true;
}

/* parseNamedClass: 1 if a [:name:] was read, 0 if none, -1 on error */
static int parse_named_class(parser *p, size_t *t, re_runes *r)
{
	const char *s = p->s + *t, *e;
	size_t n = p->len - *t, i;
	const group *g;
	if (n < 2 || s[0] != '[' || s[1] != ':')
		return 0;
	e = NULL;
	for (i = 2; i + 1 < n; i++)
		if (s[i] == ':' && s[i + 1] == ']') {
			e = s + i;
			break;
		}
	if (!e)
		return 0;
	i = (size_t)(e - s) + 2;
	g = find_group(posix_groups, sizeof(posix_groups) / sizeof(posix_groups[0]), s, i);
	if (!g)
		return fail(p, E_RANGE, *t, *t + i);
	append_group(p, r, g);
	*t += i;
	return 1;
}

/* canonicalName: upper first letter, the rest lower, no '_', '-', ' ' */
static void canonical_name(kbuf *b, const char *s, size_t n)
{
	bool first = true;
	size_t i;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '_' || c == '-' || c == ' ')
			continue;
		if (first) {
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			first = false;
		} else if (c >= 'A' && c <= 'Z') {
			c = (char)(c - 'A' + 'a');
		}
		kbuf_putc(b, c);
	}
}

const re_utable *re_utable_find(const char *name)
{
	size_t lo = 0, hi = re_nutables;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		int c = strcmp(re_utables[m].name, name);
		if (!c)
			return &re_utables[m];
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return NULL;
}

static const uint32_t any_tab[] = { 0, MAX_RUNE };
static const uint32_t ascii_tab[] = { 0, 0x7F };
static const uint32_t ascii_fold[] = { 0, 0x7F, 0x17F, 0x17F, 0x212A, 0x212A };

/* unicodeTable: the table and fold table for name; sign -1: invert */
static bool unicode_table(const char *s, size_t n, re_utable *out, int *sign)
{
	kbuf b = KBUF_INIT;
	const re_utable *u;
	canonical_name(&b, s, n);
	*sign = 1;
	if (!strcmp(b.ptr, "Any")) {
		*out = (re_utable){ "Any", any_tab, 1, any_tab, 1 };
	} else if (!strcmp(b.ptr, "Ascii")) {
		*out = (re_utable){ "Ascii", ascii_tab, 1, ascii_fold, 3 };
	} else if (!strcmp(b.ptr, "Assigned") && (u = re_utable_find("Cn"))) {
		*out = (re_utable){ "Assigned", u->tab, u->ntab, u->tab, u->ntab };
		*sign = -1;
	} else if (!strcmp(b.ptr, "Lc") && (u = re_utable_find("LC"))) {
		*out = *u;
	} else if (strlen(b.ptr) == b.len && (u = re_utable_find(b.ptr)) && strcmp(b.ptr, "LC")) {
		*out = *u;
	} else {
		kbuf_release(&b);
		return false;
	}
	kbuf_release(&b);
	return true;
}

/* parseUnicodeClass: 1 if \p or \P was read, 0 if s[*t] is neither, -1 on error */
static int parse_unicode_class(parser *p, size_t *t, re_runes *r)
{
	size_t s = *t, u, seq_end, nbeg, nend;
	int sign, tsign;
	int32_t c;
	re_utable tab;
	if (p->len - s < 2 || p->s[s] != '\\' || (p->s[s + 1] != 'p' && p->s[s + 1] != 'P'))
		return 0;
	sign = p->s[s + 1] == 'P' ? -1 : 1;
	u = s + 2;
	if (next_rune(p, &u, &c))
		return -1;
	if (c != '{') {
		seq_end = u;
		nbeg = s + 2;
		nend = u;
	} else {
		const char *e = memchr(p->s + s, '}', p->len - s);
		if (!e) {
			if (check_utf8(p, s, p->len))
				return -1;
			return fail(p, E_RANGE, s, p->len);
		}
		seq_end = (size_t)(e - p->s) + 1;
		u = seq_end;
		nbeg = s + 3;
		nend = seq_end - 1;
		if (check_utf8(p, nbeg, nend))
			return -1;
	}
	if (nend > nbeg && p->s[nbeg] == '^') {
		sign = -sign;
		nbeg++;
	}
	if (!unicode_table(p->s + nbeg, nend - nbeg, &tab, &tsign))
		return fail(p, E_RANGE, s, seq_end);
	if (tsign < 0)
		sign = -sign;
	if (!(p->flags & RE_FOLD) || !tab.fold) {
		if (sign > 0)
			rr_table(r, tab.tab, tab.ntab);
		else
			rr_negated_table(r, tab.tab, tab.ntab);
	} else {
		p->tmp.n = 0;
		rr_table(&p->tmp, tab.tab, tab.ntab);
		rr_table(&p->tmp, tab.fold, tab.nfold);
		re_runes_clean(&p->tmp);
		if (sign > 0)
			rr_class(r, p->tmp.v, p->tmp.n);
		else
			rr_negated_class(r, p->tmp.v, p->tmp.n);
	}
	*t = u;
	return 1;
}

static int parse_class_char(parser *p, size_t *t, size_t whole, int32_t *c)
{
	if (*t >= p->len)
		return fail(p, E_BRACKET, whole, p->len);
	if (p->s[*t] == '\\')
		return parse_escape(p, t, c);
	return next_rune(p, t, c);
}

static int parse_class(parser *p, size_t *t)
{
	size_t s = *t, u = *t + 1;
	re_node *re = new_node(p, RE_CLASS);
	int sign = 1, rc;
	bool first = true;
	re->flags = p->flags;
	if (u < p->len && p->s[u] == '^') {
		sign = -1;
		u++;
	}
	while (u >= p->len || p->s[u] != ']' || first) {
		size_t rng = u;
		int32_t lo, hi;
		first = false;
		if (p->len - u > 2 && p->s[u] == '[' && p->s[u + 1] == ':') {
			rc = parse_named_class(p, &u, &re->r);
			if (rc < 0)
				return -1;
			if (rc)
				continue;
		}
		rc = parse_unicode_class(p, &u, &re->r);
		if (rc < 0)
			return -1;
		if (rc)
			continue;
		if (parse_perl_class_escape(p, &u, &re->r))
			continue;
		if (parse_class_char(p, &u, s, &lo))
			return -1;
		hi = lo;
		if (p->len - u >= 2 && p->s[u] == '-' && p->s[u + 1] != ']') {
			u++;
			if (parse_class_char(p, &u, s, &hi))
				return -1;
			if (hi < lo)
				return fail(p, E_RANGE, rng, u);
		}
		if (p->flags & RE_FOLD)
			rr_folded_range(&re->r, lo, hi);
		else
			rr_range(&re->r, lo, hi);
	}
	u++;
	re_runes_clean(&re->r);
	if (sign < 0)
		rr_negate(&re->r);
	push(p, re);
	*t = u;
	return 0;
}

/* parseInt: digits without a leading zero; -1 if too big */
static bool parse_int(parser *p, size_t *t, int *n)
{
	size_t s = *t, i;
	if (s >= p->len || p->s[s] < '0' || p->s[s] > '9')
		return false;
	if (p->len - s >= 2 && p->s[s] == '0' && p->s[s + 1] >= '0' && p->s[s + 1] <= '9')
		return false;
	while (*t < p->len && p->s[*t] >= '0' && p->s[*t] <= '9')
		(*t)++;
	*n = 0;
	for (i = s; i < *t; i++) {
		if (*n >= 100000000) {
			*n = -1;
			break;
		}
		*n = *n * 10 + p->s[i] - '0';
	}
	return true;
}

static bool parse_repeat(parser *p, size_t *t, int *min, int *max)
{
	size_t u = *t + 1;
	if (!parse_int(p, &u, min) || u >= p->len)
		return false;
	if (p->s[u] != ',') {
		*max = *min;
	} else {
		u++;
		if (u >= p->len)
			return false;
		if (p->s[u] == '}')
			*max = -1;
		else if (!parse_int(p, &u, max))
			return false;
		else if (*max < 0)
			*min = -1;
	}
	if (u >= p->len || p->s[u] != '}')
		return false;
	*t = u + 1;
	return true;
}

static int parse_perl_flags(parser *p, size_t *t)
{
	size_t s = *t, n = p->len - s, u;
	bool with_p = n > 4 && p->s[s + 2] == 'P' && p->s[s + 3] == '<';
	bool with_name = n > 3 && p->s[s + 2] == '<';
	unsigned flags = p->flags;
	int sign = 1;
	bool saw = false;
	int32_t c;
	if (with_p || with_name) {
		size_t nbeg = s + (with_p ? 4 : 3), end, i;
		const char *e = memchr(p->s + s, '>', n);
		re_node *re;
		if (!e) {
			if (check_utf8(p, s, p->len))
				return -1;
			return fail(p, E_NAMED, s, p->len);
		}
		end = (size_t)(e - p->s);
		if (check_utf8(p, nbeg, end))
			return -1;
		if (nbeg == end)
			return fail(p, E_NAMED, s, end + 1);
		for (i = nbeg; i < end; i++)
			if (p->s[i] != '_' && !isalnum_ascii((unsigned char)p->s[i]))
				return fail(p, E_NAMED, s, end + 1);
		p->ncap++;
		re = op(p, RE_LPAREN);
		re->cap = p->ncap;
		re->name = xstrndup(p->s + nbeg, end - nbeg);
		*t = end + 1;
		return 0;
	}
	u = s + 2;
	while (u < p->len) {
		if (next_rune(p, &u, &c))
			return -1;
		switch (c) {
		case 'i': flags |= RE_FOLD; saw = true; continue;
		case 'm': flags &= ~(unsigned)RE_ONELINE; saw = true; continue;
		case 's': flags |= RE_DOTNL; saw = true; continue;
		case 'U': flags |= RE_NONGREEDY; saw = true; continue;
		case '-':
			if (sign < 0)
				break;
			sign = -1;
			flags = ~flags;
			saw = false;
			continue;
		case ':':
		case ')':
			if (sign < 0) {
				if (!saw)
					break;
				flags = ~flags;
			}
			if (c == ':')
				op(p, RE_LPAREN);
			p->flags = flags;
			*t = u;
			return 0;
		}
		break;
	}
	return fail(p, E_PERLOP, s, u);
}

static int parse_loop(parser *p)
{
	size_t t = 0, last = SIZE_MAX;
	int32_t c;
	while (t < p->len && !p->limit) {
		size_t rep = SIZE_MAX;
		switch (p->s[t]) {
		default:
			if (next_rune(p, &t, &c))
				return -1;
			literal(p, c);
			break;
		case '(':
			if (p->len - t >= 2 && p->s[t + 1] == '?') {
				if (parse_perl_flags(p, &t))
					return -1;
				break;
			}
			p->ncap++;
			op(p, RE_LPAREN)->cap = p->ncap;
			t++;
			break;
		case '|':
			parse_vertical_bar(p);
			t++;
			break;
		case ')':
			if (parse_right_paren(p))
				return -1;
			t++;
			break;
		case '^':
			op(p, (p->flags & RE_ONELINE) ? RE_BOT : RE_BOL);
			t++;
			break;
		case '$':
			if (p->flags & RE_ONELINE)
				op(p, RE_EOT);
			else
				op(p, RE_EOL);
			t++;
			break;
		case '.':
			op(p, (p->flags & RE_DOTNL) ? RE_ANY : RE_ANYNOTNL);
			t++;
			break;
		case '[':
			if (parse_class(p, &t))
				return -1;
			break;
		case '*':
		case '+':
		case '?': {
			size_t before = t, after = t + 1;
			int o = p->s[t] == '*' ? RE_STAR : p->s[t] == '+' ? RE_PLUS : RE_QUEST;
			if (repeat(p, o, 0, 0, before, &after, last))
				return -1;
			rep = before;
			t = after;
			break;
		}
		case '{': {
			size_t before = t, after = t;
			int min, max;
			if (!parse_repeat(p, &after, &min, &max)) {
				literal(p, '{');
				t++;
				break;
			}
			if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
				return fail(p, E_REPEATSIZE, before, after);
			if (repeat(p, RE_REPEAT, min, max, before, &after, last))
				return -1;
			rep = before;
			t = after;
			break;
		}
		case '\\': {
			re_node *re;
			int rc;
			if (p->len - t >= 2) {
				switch (p->s[t + 1]) {
				case 'A': op(p, RE_BOT); t += 2; goto next;
				case 'b': op(p, RE_WORDB); t += 2; goto next;
				case 'B': op(p, RE_NOWORDB); t += 2; goto next;
				case 'C': return fail(p, E_ESCAPE, t, t + 2);
				case 'z': op(p, RE_EOT); t += 2; goto next;
				case 'Q': {
					size_t lit = t + 2, end = p->len, u;
					for (u = lit; u + 1 < p->len; u++)
						if (p->s[u] == '\\' && p->s[u + 1] == 'E')
							break;
					if (u + 1 < p->len) {
						end = u;
						t = u + 2;
					} else {
						t = p->len;
					}
					while (lit < end) {
						uint32_t r;
						size_t w = tv_utf8_decode((const unsigned char *)p->s + lit, end - lit, &r);
						if (r == 0xFFFD && w == 1)
							return fail(p, E_UTF8, lit, end);
						literal(p, (int32_t)r);
						lit += w;
					}
					goto next;
				}
				}
			}
			re = new_node(p, RE_CLASS);
			re->flags = p->flags;
			if (p->len - t >= 2 && (p->s[t + 1] == 'p' || p->s[t + 1] == 'P')) {
				rc = parse_unicode_class(p, &t, &re->r);
				if (rc < 0)
					return -1;
				if (rc) {
					push(p, re);
					goto next;
				}
			}
			if (parse_perl_class_escape(p, &t, &re->r)) {
				push(p, re);
				goto next;
			}
			reuse(p, re);
			if (parse_escape(p, &t, &c))
				return -1;
			literal(p, c);
			break;
		}
		}
	next:
		last = rep;
	}
	if (p->limit)
		return -1;
	concat(p);
	if (swap_vertical_bar(p))
		p->nstack--;
	alternate(p);
	if (p->nstack != 1)
		return fail(p, E_PAREN, 0, p->len);
	return p->limit ? -1 : 0;
}

/* ---- Simplify ---- */

static re_node *mk(re_tree *t, int o, unsigned flags)
{
	re_node *re = xcalloc(1, sizeof(*re));
	re->op = o;
	re->flags = flags;
	re->all = t->all;
	t->all = re;
	return re;
}

static re_node *simplify1(re_tree *t, int o, unsigned flags, re_node *sub, re_node *re)
{
	if (sub->op == RE_EMPTY)
		return sub;
	if (o == sub->op && (flags & RE_NONGREEDY) == (sub->flags & RE_NONGREEDY))
		return sub;
	if (re && re->op == o && (re->flags & RE_NONGREEDY) == (flags & RE_NONGREEDY) && sub == re->sub[0])
		return re;
	re = mk(t, o, flags);
	add_sub(re, sub);
	return re;
}

static re_node *simplify(re_tree *t, re_node *re)
{
	re_node *sub, *nre, *prefix = NULL;
	size_t i;
	int k;
	switch (re->op) {
	case RE_CAPTURE:
	case RE_CONCAT:
	case RE_ALT:
		/* Go copies the node when a child changes; rewriting in place gives
		 * the same tree, as nothing else points into it */
		for (i = 0; i < re->nsub; i++)
			re->sub[i] = simplify(t, re->sub[i]);
		return re;
	case RE_STAR:
	case RE_PLUS:
	case RE_QUEST:
		sub = simplify(t, re->sub[0]);
		return simplify1(t, re->op, re->flags, sub, re);
	case RE_REPEAT:
		if (re->min == 0 && re->max == 0)
			return mk(t, RE_EMPTY, 0);
		sub = simplify(t, re->sub[0]);
		if (re->max == -1) {
			if (re->min == 0)
				return simplify1(t, RE_STAR, re->flags, sub, NULL);
			if (re->min == 1)
				return simplify1(t, RE_PLUS, re->flags, sub, NULL);
			nre = mk(t, RE_CONCAT, 0);
			for (k = 0; k < re->min - 1; k++)
				add_sub(nre, sub);
			add_sub(nre, simplify1(t, RE_PLUS, re->flags, sub, NULL));
			return nre;
		}
		if (re->min == 1 && re->max == 1)
			return sub;
		if (re->min > 0) {
			prefix = mk(t, RE_CONCAT, 0);
			for (k = 0; k < re->min; k++)
				add_sub(prefix, sub);
		}
		if (re->max > re->min) {
			re_node *suffix = simplify1(t, RE_QUEST, re->flags, sub, NULL);
			for (k = re->min + 1; k < re->max; k++) {
				re_node *nre2 = mk(t, RE_CONCAT, 0);
				add_sub(nre2, sub);
				add_sub(nre2, suffix);
				suffix = simplify1(t, RE_QUEST, re->flags, nre2, NULL);
			}
			if (!prefix)
				return suffix;
			add_sub(prefix, suffix);
		}
		if (prefix)
			return prefix;
		return mk(t, RE_NOMATCH, 0);
	}
	return re;
}

static void cap_names(re_tree *t, const re_node *re)
{
	size_t i;
	if (re->op == RE_CAPTURE && re->name && !t->names[re->cap])
		t->names[re->cap] = xstrdup(re->name);
	for (i = 0; i < re->nsub; i++)
		cap_names(t, re->sub[i]);
}

static void free_nodes(re_node *n)
{
	while (n) {
		re_node *next = n->all;
		free(n->r.v);
		free(n->sub);
		free(n->name);
		free(n);
		n = next;
	}
}

void re_tree_release(re_tree *t)
{
	int i;
	free_nodes(t->all);
	if (t->names)
		for (i = 0; i <= t->ncap; i++)
			free(t->names[i]);
	free(t->names);
	memset(t, 0, sizeof(*t));
}

int re_parse(re_tree *out, const char *pat, size_t len, kbuf *errmsg)
{
	parser p;
	int rc;
	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	p.flags = RE_PERL;
	p.s = pat;
	p.len = len;
	rc = parse_loop(&p);
	if (rc) {
		if (p.limit) {
			p.code = p.limit;
			p.ebeg = 0;
			p.eend = len;
		}
		kbuf_printf(errmsg, "error parsing regexp: %s: `%.*s`", p.code, (int)(p.eend - p.ebeg),
			    pat + p.ebeg);
		free_nodes(p.all);
	} else {
		out->all = p.all;
		out->ncap = p.ncap;
		out->names = xcalloc((size_t)p.ncap + 1, sizeof(char *));
		cap_names(out, p.stack[0]);
		out->root = simplify(out, p.stack[0]);
	}
	free(p.stack);
	free(p.tmp.v);
	return rc;
}
