/* tmpl/glob.c - the patterns of .Files.Glob: gobwas/glob v0.2.3 with '/' as
 * the separator, as Helm compiles them. The lexer and parser follow the
 * library's, so a pattern it refuses is refused here too (Helm then globs
 * with "**", every file); the tree is matched by backtracking. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tmpl_int.h"

enum { GT_EOF, GT_ERR, GT_TEXT, GT_ANY, GT_SUPER, GT_SINGLE, GT_NOT, GT_SEP, GT_ROPEN, GT_RCLOSE,
       GT_RLO, GT_RHI, GT_RBETWEEN, GT_TOPEN, GT_TCLOSE };

typedef struct gtok {
	int t;
	uint32_t *r;   /* GT_TEXT: the runes, escapes resolved; GT_RLO/RHI: one */
	size_t n;
} gtok;

typedef struct glexer {
	karena *a;
	const char *s;
	size_t len, pos;
	bool err, has_rune;
	uint32_t last;
	size_t last_size;
	int terms;
	gtok *toks;
	size_t ntoks, cap;
} glexer;

#define G_EOF 0xFFFFFFFFu

static void gpush(glexer *l, int t, const uint32_t *r, size_t n)
{
	gtok *k;
	if (l->ntoks == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		l->toks = karena_realloc(l->a, l->toks, l->cap * sizeof(*l->toks), cap * sizeof(*l->toks));
		l->cap = cap;
	}
	k = &l->toks[l->ntoks++];
	k->t = t;
	k->n = n;
	k->r = n ? karena_memdup(l->a, r, n * sizeof(*r)) : NULL;
}

/* utf8.DecodeRuneInString; any RuneError (even a real U+FFFD) is an error */
static uint32_t gpeek(glexer *l, size_t *w)
{
	uint32_t r;
	if (l->pos >= l->len) {
		*w = 0;
		return G_EOF;
	}
	*w = tv_utf8_decode((const unsigned char *)l->s + l->pos, l->len - l->pos, &r);
	if (r == 0xFFFD) {
		l->err = true;
		*w = 0;
		return G_EOF;
	}
	return r;
}

static uint32_t gread(glexer *l)
{
	size_t w;
	uint32_t r;
	if (l->has_rune) {
		l->has_rune = false;
		l->pos += l->last_size;
		return l->last;
	}
	r = gpeek(l, &w);
	l->pos += w;
	l->last = r;
	l->last_size = w;
	return r;
}

static void gunread(glexer *l)
{
	if (l->has_rune) {
		l->err = true;
		return;
	}
	l->pos -= l->last_size;
	l->has_rune = true;
}

static bool gbreaker(uint32_t r, const char *breakers)
{
	return r < 0x80 && strchr(breakers, (int)r);
}

static void gtext(glexer *l, const char *breakers)
{
	uint32_t buf[64], *data = buf, r;
	size_t n = 0, cap = 64;
	bool escaped = false;
	for (;;) {
		r = gread(l);
		if (r == G_EOF)
			break;
		if (!escaped) {
			if (r == '\\') {
				escaped = true;
				continue;
			}
			if (gbreaker(r, breakers)) {
				gunread(l);
				break;
			}
		}
		escaped = false;
		if (n == cap) {
			uint32_t *d = karena_alloc(l->a, 2 * cap * sizeof(*d));
			memcpy(d, data, n * sizeof(*d));
			data = d;
			cap *= 2;
		}
		data[n++] = r;
	}
	if (n)
		gpush(l, GT_TEXT, data, n);
}

static void grange(glexer *l)
{
	bool want_hi = false, want_close = false, seen_not = false;
	for (;;) {
		uint32_t r = gread(l), nx;
		size_t w;
		if (r == G_EOF) {
			l->err = true;
			return;
		}
		if (want_close) {
			if (r != ']')
				l->err = true;
			else
				gpush(l, GT_RCLOSE, NULL, 0);
			return;
		}
		if (want_hi) {
			gpush(l, GT_RHI, &r, 1);
			want_close = true;
			continue;
		}
		if (!seen_not && r == '!') {
			gpush(l, GT_NOT, NULL, 0);
			seen_not = true;
			continue;
		}
		if ((nx = gpeek(l, &w)) == '-') {
			l->pos += w;
			gpush(l, GT_RLO, &r, 1);
			gpush(l, GT_RBETWEEN, NULL, 0);
			want_hi = true;
			continue;
		}
		gunread(l);
		gtext(l, "]");
		want_close = true;
	}
}

/* the whole pattern as tokens, ending with GT_EOF or GT_ERR */
static void glex(glexer *l)
{
	for (;;) {
		uint32_t r;
		if (l->err) {
			gpush(l, GT_ERR, NULL, 0);
			return;
		}
		r = gread(l);
		if (l->err) {
			gpush(l, GT_ERR, NULL, 0);
			return;
		}
		if (r == G_EOF) {
			gpush(l, GT_EOF, NULL, 0);
			return;
		}
		if (r == '{') {
			l->terms++;
			gpush(l, GT_TOPEN, NULL, 0);
		} else if (r == ',' && l->terms > 0) {
			gpush(l, GT_SEP, NULL, 0);
		} else if (r == '}' && l->terms > 0) {
			gpush(l, GT_TCLOSE, NULL, 0);
			l->terms--;
		} else if (r == '[') {
			gpush(l, GT_ROPEN, NULL, 0);
			grange(l);
		} else if (r == '?') {
			gpush(l, GT_SINGLE, NULL, 0);
		} else if (r == '*') {
			if (gread(l) == '*') {
				gpush(l, GT_SUPER, NULL, 0);
			} else {
				gunread(l);
				gpush(l, GT_ANY, NULL, 0);
			}
		} else {
			gunread(l);
			gtext(l, l->terms > 0 ? "?*[{},": "?*[{");
		}
	}
}

/* ---- the tree ---- */

enum { GN_TEXT, GN_ANY, GN_SUPER, GN_SINGLE, GN_LIST, GN_RANGE, GN_ANYOF };

typedef struct gpat gpat;
typedef struct gnode {
	int k;
	bool not;
	uint32_t lo, hi;
	const uint32_t *r;    /* TEXT, LIST */
	size_t n;
	gpat **alts;          /* ANYOF */
	size_t nalts;
	bool nothing;         /* ANYOF of empty alternatives only: gobwas's Nothing */
} gnode;

struct gpat {
	gpat *parent;         /* the pattern holding the ANYOF this one is in */
	gnode *v;
	size_t n, cap;
};

struct tglob {
	gpat *root;
};

static gnode *gadd(karena *a, gpat *p, int k)
{
	gnode *g;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 4;
		p->v = karena_realloc(a, p->v, p->cap * sizeof(*p->v), cap * sizeof(*p->v));
		p->cap = cap;
	}
	g = &p->v[p->n++];
	memset(g, 0, sizeof(*g));
	g->k = k;
	return g;
}

static void galt(karena *a, gnode *any, gpat *p)
{
	any->alts = karena_realloc(a, any->alts, any->nalts * sizeof(*any->alts), (any->nalts + 1) * sizeof(*any->alts));
	any->alts[any->nalts++] = p;
}

static void gmark(gpat *p)
{
	size_t i, j;
	for (i = 0; i < p->n; i++) {
		gnode *g = &p->v[i];
		if (g->k != GN_ANYOF)
			continue;
		g->nothing = true;
		for (j = 0; j < g->nalts; j++) {
			gmark(g->alts[j]);
			if (g->alts[j]->n)
				g->nothing = false;
		}
	}
}

tglob *tglob_compile(karena *a, const char *pat, size_t len)
{
	glexer l = { 0 };
	tglob *g = karena_alloc(a, sizeof(*g));
	gpat *cur;
	size_t i = 0;
	l.a = a;
	l.s = pat;
	l.len = len;
	glex(&l);
	g->root = cur = karena_alloc(a, sizeof(*cur));
	memset(cur, 0, sizeof(*cur));
	while (i < l.ntoks) {
		gtok *t = &l.toks[i++];
		gnode *n;
		switch (t->t) {
		case GT_EOF:
			gmark(g->root);
			return g;
		case GT_TEXT:
			n = gadd(a, cur, GN_TEXT);
			n->r = t->r;
			n->n = t->n;
			break;
		case GT_ANY:
			gadd(a, cur, GN_ANY);
			break;
		case GT_SUPER:
			gadd(a, cur, GN_SUPER);
			break;
		case GT_SINGLE:
			gadd(a, cur, GN_SINGLE);
			break;
		case GT_TOPEN: {
			gpat *p = karena_alloc(a, sizeof(*p));
			memset(p, 0, sizeof(*p));
			n = gadd(a, cur, GN_ANYOF);
			galt(a, n, p);
			p->parent = cur;
			cur = p;
			break;
		}
		case GT_SEP: {
			/* a new alternative of the group cur is in */
			gpat *up = cur->parent, *p = karena_alloc(a, sizeof(*p));
			memset(p, 0, sizeof(*p));
			p->parent = up;
			galt(a, &up->v[up->n - 1], p);
			cur = p;
			break;
		}
		case GT_TCLOSE:
			cur = cur->parent;
			break;
		case GT_ROPEN: {
			bool not = false;
			uint32_t lo = 0, hi = 0;
			const uint32_t *chars = NULL;
			size_t nchars = 0;
			for (;;) {
				gtok *r = &l.toks[i++];
				if (r->t == GT_EOF || r->t == GT_ERR)
					return NULL;
				if (r->t == GT_NOT) {
					not = true;
				} else if (r->t == GT_RLO) {
					lo = r->r[0];
				} else if (r->t == GT_RHI) {
					hi = r->r[0];
					if (hi < lo)
						return NULL;
				} else if (r->t == GT_TEXT) {
					chars = r->r;
					nchars = r->n;
				} else if (r->t == GT_RCLOSE) {
					bool is_range = lo && hi, is_chars = nchars > 0;
					if (is_range == is_chars)
						return NULL;
					n = gadd(a, cur, is_range ? GN_RANGE : GN_LIST);
					n->not = not;
					n->lo = lo;
					n->hi = hi;
					n->r = chars;
					n->n = nchars;
					break;
				}
			}
			break;
		}
		default:   /* GT_ERR, or a token out of place */
			return NULL;
		}
	}
	gmark(g->root);
	return g;
}

/* Match node k.. of p against s[..n), then what follows p (the patterns
 * of the groups p is inside, kept on a stack). */
typedef struct gcont {
	const gpat *p;
	size_t at;
	const struct gcont *up;
} gcont;

static bool gm(const gcont *c, const char *s, size_t n, long *budget)
{
	const gpat *p;
	size_t at, i, w;
	uint32_t r;
	if (--*budget < 0)
		return false;
	if (!c)
		return n == 0;
	p = c->p;
	at = c->at;
	if (at == p->n)
		return gm(c->up, s, n, budget);
	{
		const gnode *g = &p->v[at];
		gcont next = { p, at + 1, c->up };
		switch (g->k) {
		case GN_TEXT: {
			size_t off = 0;
			for (i = 0; i < g->n; i++) {
				if (off >= n)
					return false;
				w = tv_utf8_decode((const unsigned char *)s + off, n - off, &r);
				if (r != g->r[i])
					return false;
				off += w;
			}
			return gm(&next, s + off, n - off, budget);
		}
		case GN_ANY:
		case GN_SUPER:
			for (i = 0;; ) {
				if (gm(&next, s + i, n - i, budget))
					return true;
				if (i >= n || (g->k == GN_ANY && s[i] == '/'))
					return false;
				i += tv_utf8_decode((const unsigned char *)s + i, n - i, &r);
			}
		case GN_SINGLE:
		case GN_LIST:
		case GN_RANGE: {
			bool hit;
			if (!n)
				return false;
			w = tv_utf8_decode((const unsigned char *)s, n, &r);
			if (g->k == GN_SINGLE) {
				hit = r != '/';
			} else if (g->k == GN_RANGE) {
				hit = (r >= g->lo && r <= g->hi) != g->not;
			} else {
				bool in = false;
				for (i = 0; i < g->n; i++)
					if (g->r[i] == r)
						in = true;
				hit = in != g->not;
			}
			return hit && gm(&next, s + w, n - w, budget);
		}
		case GN_ANYOF:
			/* gobwas matches its Nothing alone (the empty string) but
			 * never next to another matcher */
			if (g->nothing)
				return p->n == 1 && gm(&next, s, n, budget);
			for (i = 0; i < g->nalts; i++) {
				gcont alt = { g->alts[i], 0, &next };
				if (gm(&alt, s, n, budget))
					return true;
			}
			return false;
		}
	}
	return false;
}

bool tglob_match(const tglob *g, const char *s, size_t n)
{
	gcont c;
	long budget = 1000000;
	if (!g)
		return true;  /* Helm globs with "**" when the pattern does not compile */
	c.p = g->root;
	c.at = 0;
	c.up = NULL;
	return gm(&c, s, n, &budget);
}
