/* tmpl/lex.c - Go's text/template lexer: text, {{ }} actions with "{{- "
 * and " -}}" trimming, comments, and the tokens inside actions. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lex.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* '_', letters, digits and every byte of a multi-byte character (a table:
 * identifiers are most of the bytes inside actions) */
#define A8(c) [c] = 1, [c + 1] = 1, [c + 2] = 1, [c + 3] = 1, [c + 4] = 1, [c + 5] = 1, [c + 6] = 1, [c + 7] = 1
#define A32(c) A8(c), A8(c + 8), A8(c + 16), A8(c + 24)
static const unsigned char alnum[256] = {
	A8('0'), ['8'] = 1, ['9'] = 1, ['_'] = 1,
	A8('A'), A8('I'), A8('Q'), ['Y'] = 1, ['Z'] = 1,
	A8('a'), A8('i'), A8('q'), ['y'] = 1, ['z'] = 1,
	A32(0x80), A32(0xA0), A32(0xC0), A32(0xE0),
};
#undef A32
#undef A8
static bool is_alnum(unsigned char c) { return alnum[c]; }

void tlex_init(tlex *l, const char *src, size_t len)
{
	memset(l, 0, sizeof(*l));
	l->src = src;
	l->len = len;
}

/* the two bytes s[0], s[1] at p */
static bool at(const tlex *l, size_t p, const char *s)
{
	return p + 2 <= l->len && l->src[p] == s[0] && l->src[p + 1] == s[1];
}

/* " -}}" at p */
static inline bool right_trim_at(const tlex *l, size_t p)
{
	return p + 4 <= l->len && is_space(l->src[p]) && l->src[p + 1] == '-' && l->src[p + 2] == '}' &&
	       l->src[p + 3] == '}';
}

static void emit(tlex_tok *t, ttok k, const tlex *l, size_t start, size_t end)
{
	t->t = k;
	t->pos = (uint32_t)start;
	t->s = l->src + start;
	t->n = end - start;
}

/* the rare paths out of line: the token loop keeps its registers */
static void fail(tlex *l, tlex_tok *t, const char *msg) __attribute__((noinline, cold));
static void fail(tlex *l, tlex_tok *t, const char *msg)
{
	t->t = TK_ERROR;
	t->pos = (uint32_t)l->pos;
	t->s = msg;
	t->n = strlen(msg);
	l->pos = l->len;
	l->state = 2;
}

static const struct { const char *w; size_t n; ttok t; } keywords[] = {
	{ "if", 2, TK_IF }, { "else", 4, TK_ELSE }, { "end", 3, TK_END }, { "range", 5, TK_RANGE },
	{ "with", 4, TK_WITH }, { "define", 6, TK_DEFINE }, { "template", 8, TK_TEMPLATE },
	{ "block", 5, TK_BLOCK }, { "break", 5, TK_BREAK }, { "continue", 8, TK_CONTINUE },
	{ "true", 4, TK_BOOL }, { "false", 5, TK_BOOL }, { "nil", 3, TK_NIL },
};

/* the first letters of keywords: other identifiers skip the table */
static const unsigned char kw_first[256] = {
	['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['i'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1, ['w'] = 1,
};

static ttok keyword(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (keywords[i].n == n && keywords[i].w[0] == s[0] && !memcmp(keywords[i].w, s, n))
			return keywords[i].t;
	return TK_IDENT;
}

/* the next "{{": memchr is vectorised where a two-byte memmem is not, and
 * template text (whole CRDs) is mostly long runs without '{' */
static const char *find_open(const char *s, size_t n)
{
	const char *e = s + n, *p;
	while (e - s >= 2 && (p = memchr(s, '{', (size_t)(e - s - 1)))) {
		if (p[1] == '{')
			return p;
		s = p + 1;
	}
	return NULL;
}

static void lex_text(tlex *l, tlex_tok *t)
{
	size_t start = l->pos, end;
	const char *p;
	if (l->trim_next) {
		while (start < l->len && is_space(l->src[start]))
			start++;
		l->trim_next = false;
		l->pos = start;
	}
	if (start >= l->len) {
		emit(t, TK_EOF, l, l->len, l->len);
		return;
	}
	p = find_open(l->src + start, l->len - start);
	end = p ? (size_t)(p - l->src) : l->len;
	if (end > start) {
		size_t tend = end;
		/* "{{- " trims the text before it */
		if (p && end + 3 < l->len + 1 && end + 2 < l->len && l->src[end + 2] == '-' &&
		    end + 3 < l->len && is_space(l->src[end + 3]))
			while (tend > start && is_space(l->src[tend - 1]))
				tend--;
		l->pos = end;
		if (tend > start) {
			emit(t, TK_TEXT, l, start, tend);
			return;
		}
	}
	if (!p) {
		emit(t, TK_EOF, l, l->len, l->len);
		return;
	}
	/* the left delimiter */
	{
		size_t after = end + 2;
		bool trim = after + 1 < l->len && l->src[after] == '-' && is_space(l->src[after + 1]);
		if (trim)
			after += 2;
		if (at(l, after, "/*")) {
			/* comment */
			const char *c = memmem(l->src + after + 2, l->len - after - 2, "*/", 2);
			size_t ce;
			if (!c) {
				l->pos = after;
				fail(l, t, "unclosed comment");
				return;
			}
			ce = (size_t)(c - l->src) + 2;
			if (right_trim_at(l, ce)) {
				l->pos = ce + 4;
				l->trim_next = true;
			} else if (at(l, ce, "}}")) {
				l->pos = ce + 2;
			} else {
				l->pos = ce;
				fail(l, t, "comment ends before closing delimiter");
				return;
			}
			emit(t, TK_COMMENT, l, end, l->pos);
			return;
		}
		emit(t, TK_LDELIM, l, end, after);
		l->pos = after;
		l->state = 1;
		l->paren = 0;
	}
}

static void lex_quote(tlex *l, tlex_tok *t, char q) __attribute__((noinline));
static void lex_quote(tlex *l, tlex_tok *t, char q)
{
	size_t start = l->pos, p = l->pos + 1;
	for (;;) {
		char c;
		if (p >= l->len) {
			fail(l, t, q == '`' ? "unterminated raw quoted string" :
				   q == '"' ? "unterminated quoted string" : "unterminated character constant");
			return;
		}
		c = l->src[p++];
		if (q != '`' && c == '\\') {
			if (p < l->len && l->src[p] != '\n') {
				p++;
				continue;
			}
			fail(l, t, q == '"' ? "unterminated quoted string" : "unterminated character constant");
			return;
		}
		if (q != '`' && c == '\n') {
			fail(l, t, q == '"' ? "unterminated quoted string" : "unterminated character constant");
			return;
		}
		if (c == q)
			break;
	}
	l->pos = p;
	emit(t, q == '`' ? TK_RAWSTRING : q == '"' ? TK_STRING : TK_CHAR, l, start, p);
}

static void lex_number(tlex *l, tlex_tok *t) __attribute__((noinline));
static void lex_number(tlex *l, tlex_tok *t)
{
	size_t start = l->pos, p = l->pos;
	const char *digits = "0123456789_";
	if (p < l->len && (l->src[p] == '+' || l->src[p] == '-'))
		p++;
	if (p + 1 < l->len && l->src[p] == '0' && strchr("xXoObB", l->src[p + 1]) && l->src[p + 1]) {
		char c = l->src[p + 1];
		p += 2;
		digits = (c == 'x' || c == 'X') ? "0123456789abcdefABCDEF_" :
			 (c == 'o' || c == 'O') ? "01234567_" : "01_";
	}
	while (p < l->len && l->src[p] && strchr(digits, l->src[p]))
		p++;
	if (p < l->len && l->src[p] == '.') {
		p++;
		while (p < l->len && l->src[p] && strchr(digits, l->src[p]))
			p++;
	}
	if (strlen(digits) == 11 && p < l->len &&
	    (l->src[p] == 'e' || l->src[p] == 'E')) {
		p++;
		if (p < l->len && (l->src[p] == '+' || l->src[p] == '-'))
			p++;
		while (p < l->len && l->src[p] >= '0' && l->src[p] <= '9')
			p++;
	}
	if (strlen(digits) > 20 && p < l->len && (l->src[p] == 'p' || l->src[p] == 'P')) {
		p++;
		if (p < l->len && (l->src[p] == '+' || l->src[p] == '-'))
			p++;
		while (p < l->len && l->src[p] >= '0' && l->src[p] <= '9')
			p++;
	}
	if (p < l->len && l->src[p] == 'i')
		p++;
	if (p < l->len && is_alnum((unsigned char)l->src[p])) {
		/* Go's words: the text up to and with the first bad character, %q */
		size_t i, o = 0, n = p + 1 - start;
		o = (size_t)snprintf(l->errbuf, sizeof(l->errbuf), "bad number syntax: \"");
		for (i = 0; i < n && o + 4 < sizeof(l->errbuf); i++) {
			char c = l->src[start + i];
			if (c == '"' || c == '\\')
				l->errbuf[o++] = '\\';
			l->errbuf[o++] = c;
		}
		l->errbuf[o++] = '"';
		l->errbuf[o] = '\0';
		l->pos = p;
		fail(l, t, l->errbuf);
		return;
	}
	l->pos = p;
	emit(t, TK_NUMBER, l, start, p);
}

/* the right delimiter at p, n bytes long ("}}" or " -}}") */
static void lex_right(tlex *l, tlex_tok *t, size_t p, size_t n)
{
	if (l->paren > 0) {
		l->pos = p;
		fail(l, t, "unclosed left paren");
		return;
	}
	emit(t, TK_RDELIM, l, p, p + n);
	l->pos = p + n;
	l->trim_next = n == 4;
	l->state = 0;
}

static void lex_action(tlex *l, tlex_tok *t)
{
	size_t p = l->pos;
	char c;
	t->sp = false;
	if (p < l->len && is_space(l->src[p])) {
		size_t q = p + 1;
		while (q < l->len && is_space(l->src[q]))
			q++;
		t->sppos = (uint32_t)p;
		/* the last space before "-}}" belongs to the delimiter */
		if (right_trim_at(l, q - 1)) {
			t->sp = q - 1 > p;
			lex_right(l, t, q - 1, 4);
			return;
		}
		t->sp = true;
		p = l->pos = q;
	}
	if (p >= l->len) {
		fail(l, t, "unclosed action");
		return;
	}
	c = l->src[p];
	if (c == '}' && at(l, p, "}}")) {
		lex_right(l, t, p, 2);
		return;
	}
	switch (c) {
	case '=':
		emit(t, TK_ASSIGN, l, p, p + 1);
		l->pos = p + 1;
		return;
	case ':':
		if (p + 1 < l->len && l->src[p + 1] == '=') {
			emit(t, TK_DECLARE, l, p, p + 2);
			l->pos = p + 2;
			return;
		}
		fail(l, t, "expected :=");
		return;
	case '|':
		emit(t, TK_PIPE, l, p, p + 1);
		l->pos = p + 1;
		return;
	case ',':
		emit(t, TK_COMMA, l, p, p + 1);
		l->pos = p + 1;
		return;
	case '"':
	case '`':
	case '\'':
		lex_quote(l, t, c);
		return;
	case '(':
		l->paren++;
		emit(t, TK_LPAREN, l, p, p + 1);
		l->pos = p + 1;
		return;
	case ')':
		if (l->paren <= 0) {
			fail(l, t, "unexpected right paren");
			return;
		}
		l->paren--;
		emit(t, TK_RPAREN, l, p, p + 1);
		l->pos = p + 1;
		return;
	case '$': {
		size_t q = p + 1;
		while (q < l->len && is_alnum((unsigned char)l->src[q]))
			q++;
		emit(t, TK_VAR, l, p, q);
		l->pos = q;
		return;
	}
	case '.':
		if (p + 1 < l->len && is_alnum((unsigned char)l->src[p + 1]) &&
		    !(l->src[p + 1] >= '0' && l->src[p + 1] <= '9')) {
			size_t q = p + 1;
			while (q < l->len && is_alnum((unsigned char)l->src[q]))
				q++;
			emit(t, TK_FIELD, l, p, q);
			l->pos = q;
			return;
		}
		if (!(p + 1 < l->len && l->src[p + 1] >= '0' && l->src[p + 1] <= '9')) {
			emit(t, TK_DOT, l, p, p + 1);
			l->pos = p + 1;
			return;
		}
		lex_number(l, t);
		return;
	default:
		break;
	}
	if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
		lex_number(l, t);
		return;
	}
	if (is_alnum((unsigned char)c)) {
		size_t q = p + 1;
		while (q < l->len && is_alnum((unsigned char)l->src[q]))
			q++;
		l->pos = q;
		emit(t, q - p <= 8 && kw_first[(unsigned char)c] ? keyword(l->src + p, q - p) : TK_IDENT, l, p, q);
		return;
	}
	l->pos = p;
	fail(l, t, "bad character in action");
}

void tlex_next(tlex *l, tlex_tok *t)
{
	if (l->state == 1) {
		lex_action(l, t);
		return;
	}
	t->sp = false;
	if (l->state == 2) {
		emit(t, TK_EOF, l, l->len, l->len);
		return;
	}
	lex_text(l, t);
}
