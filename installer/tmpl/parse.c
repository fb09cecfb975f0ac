/* tmpl/parse.c - Go's text/template parser (text/template/parse/parse.go):
 * the same tree, the same checks (undefined functions and variables, empty
 * pipelines, break outside range) and the same error texts. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lex.h"
#include "tmpl_int.h"

#define MAX_PARSE_DEPTH 1000

typedef struct parser {
	tmpl_set *set;
	karena *a;
	tlex lx;
	tlex_tok peek[3];   /* tokens put back, the next on top */
	int npeek;
	ttree *tree;
	const char *file;
	const char **vars;
	size_t nvars, capvars;
	int range_depth;
	int depth;
	kerr *err;
	jmp_buf jb;
	ttree **defs;       /* names defined in this file, first definition order */
	size_t ndefs, capdefs;
	tmpl_set defined;   /* the current tree of each of those names (only its table) */
} parser;

static void perr(parser *p, uint32_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void perr(parser *p, uint32_t pos, const char *fmt, ...)
{
	kbuf b = KBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	tmpl_error_set(p->err, TMPL_REASON_PARSE, p->file, p->lx.src, p->lx.len, pos, NULL, b.ptr);
	kbuf_release(&b);
	longjmp(p->jb, 1);
}

/* a token from the lexer into the empty buffer */
static void fill(parser *p) __attribute__((noinline));
static void fill(parser *p)
{
	tlex_tok *t = &p->peek[0];
	tlex_next(&p->lx, t);
	if (t->t == TK_ERROR)
		perr(p, t->pos, "%.*s", (int)t->n, t->s);
	p->npeek = 1;
}

/* the next token, left in the buffer (valid until the next call) */
static inline tlex_tok *peek(parser *p)
{
	if (!p->npeek)
		fill(p);
	return &p->peek[p->npeek - 1];
}

static inline tlex_tok next(parser *p)
{
	tlex_tok t = *peek(p);
	p->npeek--;
	return t;
}

static inline void skip(parser *p)
{
	peek(p);
	p->npeek--;
}

static void backup(parser *p, const tlex_tok *t) { p->peek[p->npeek++] = *t; }

static void tok_desc(kbuf *b, tlex_tok t)
{
	switch (t.t) {
	case TK_EOF: kbuf_puts(b, "EOF"); return;
	case TK_IF: case TK_ELSE: case TK_END: case TK_RANGE: case TK_WITH: case TK_DEFINE:
	case TK_TEMPLATE: case TK_BLOCK: case TK_BREAK: case TK_CONTINUE:
	case TK_DOT: case TK_NIL: /* keywords to Go's lexer too */
		kbuf_printf(b, "<%.*s>", (int)t.n, t.s);
		return;
	default:
		break;
	}
	if (t.n > 10) {
		tv_quote(b, t.s, 10);
		kbuf_puts(b, "...");
	} else {
		tv_quote(b, t.s, t.n);
	}
}

static void unexpected(parser *p, tlex_tok t, const char *ctx) __attribute__((noreturn));
static void unexpected(parser *p, tlex_tok t, const char *ctx)
{
	kbuf b = KBUF_INIT;
	tok_desc(&b, t);
	{
		char *d = karena_strndup(p->a, b.ptr, b.len);
		kbuf_release(&b);
		if (t.t == TK_ERROR)
			perr(p, t.pos, "%.*s", (int)t.n, t.s);
		perr(p, t.pos, "unexpected %s in %s", d, ctx);
	}
}

static tnode *newnode(parser *p, tnkind k, uint32_t pos)
{
	tnode *n = karena_alloc(p->a, sizeof(*n));
	n->k = (uint8_t)k;
	n->pos = pos;
	n->tree = p->tree;
	return n;
}

/* capacity 2, 4, 8...: the arena keeps every outgrown array, so growing
 * by a constant step cost a template of n items O(n^2) bytes, and most
 * lists (a command's arguments, a pipeline's commands) hold one or two
 * (two pointers are the arena's smallest piece anyway) */
static void append(parser *p, tnode *list, tnode *item)
{
	size_t n = list->n;
	if (n == 0)
		list->v = karena_alloc_raw(p->a, 2 * sizeof(*list->v));
	else if (n >= 2 && !(n & (n - 1)))  /* a power of two: full */
		list->v = karena_realloc(p->a, list->v, n * sizeof(*list->v), 2 * n * sizeof(*list->v));
	list->v[list->n++] = item;
}

static void push_var(parser *p, const char *name)
{
	ALLOC_GROW(p->vars, p->nvars + 1, p->capvars);
	p->vars[p->nvars++] = name;
}

/* ---- literals ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* strconv.Unquote of a "..." or '...' body; returns -1 on a bad escape. */
static int unquote(kbuf *b, const char *s, size_t n, char q)
{
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		char c;
		while (run < n && s[run] != '\\' && s[run] != q)
			run++;
		if (run > i) {  /* the text up to the next escape, at once */
			kbuf_put(b, s + i, run - i);
			i = run;
			continue;
		}
		c = s[i++];
		if (c != '\\')
			return -1;  /* the quote */
		if (i >= n)
			return -1;
		c = s[i++];
		switch (c) {
		case 'a': kbuf_putc(b, '\a'); break;
		case 'b': kbuf_putc(b, '\b'); break;
		case 'f': kbuf_putc(b, '\f'); break;
		case 'n': kbuf_putc(b, '\n'); break;
		case 'r': kbuf_putc(b, '\r'); break;
		case 't': kbuf_putc(b, '\t'); break;
		case 'v': kbuf_putc(b, '\v'); break;
		case '\\': kbuf_putc(b, '\\'); break;
		case '\'': case '"':
			if (c != q)
				return -1;
			kbuf_putc(b, c);
			break;
		case 'x': case 'u': case 'U': {
			int nd = c == 'x' ? 2 : c == 'u' ? 4 : 8, k;
			uint32_t v = 0;
			if (i + (size_t)nd > n)
				return -1;
			for (k = 0; k < nd; k++) {
				int h = hexval(s[i + (size_t)k]);
				if (h < 0)
					return -1;
				v = v * 16 + (uint32_t)h;
			}
			i += (size_t)nd;
			if (c == 'x')
				kbuf_putc(b, (char)v);
			else {
				if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
					return -1;
				tv_utf8_encode(b, v);
			}
			break;
		}
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0', k;
				if (i + 2 > n)
					return -1;
				for (k = 0; k < 2; k++) {
					if (s[i] < '0' || s[i] > '7')
						return -1;
					v = v * 8 + (s[i++] - '0');
				}
				if (v > 255)
					return -1;
				kbuf_putc(b, (char)v);
				break;
			}
			return -1;
		}
	}
	return 0;
}

static uint32_t decode_rune(const char *s, size_t n, size_t *used)
{
	const unsigned char *u = (const unsigned char *)s;
	if (n == 0) { *used = 0; return 0xFFFD; }
	if (u[0] < 0x80) { *used = 1; return u[0]; }
	if ((u[0] & 0xE0) == 0xC0 && n >= 2) { *used = 2; return ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F); }
	if ((u[0] & 0xF0) == 0xE0 && n >= 3) { *used = 3; return ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F); }
	if ((u[0] & 0xF8) == 0xF0 && n >= 4) { *used = 4; return ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) | ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F); }
	*used = 1;
	return 0xFFFD;
}

static tnode *new_number(parser *p, tlex_tok t)
{
	tnode *n = newnode(p, TN_NUM, t.pos);
	char buf[128];
	size_t i, j = 0;
	n->s = karena_strndup(p->a, t.s, t.n);
	n->slen = t.n;
	if (t.t == TK_CHAR) {
		kbuf b = KBUF_INIT;
		size_t used;
		uint32_t r;
		if (t.n >= 3 && t.s[1] == '\\') {
			if (unquote(&b, t.s + 1, t.n - 2, '\'') < 0 || b.len == 0) {
				kbuf_release(&b);
				perr(p, t.pos, "malformed character constant: %.*s", (int)t.n, t.s);
			}
			r = decode_rune(b.ptr, b.len, &used);
			if (t.s[2] == 'x' || (t.s[2] >= '0' && t.s[2] <= '7'))
				r = (unsigned char)b.ptr[0];
		} else {
			r = decode_rune(t.s + 1, t.n - 2, &used);
			if (used != t.n - 2)
				perr(p, t.pos, "malformed character constant: %.*s", (int)t.n, t.s);
		}
		kbuf_release(&b);
		n->num_int = n->num_float = true;
		n->num_i = r;
		n->num_f = r;
		return n;
	}
	if (t.n >= sizeof(buf) || (t.n && t.s[t.n - 1] == 'i'))
		perr(p, t.pos, "illegal number syntax: \"%.*s\"", (int)t.n, t.s);
	for (i = 0; i < t.n; i++)
		if (t.s[i] != '_')
			buf[j++] = t.s[i];
	buf[j] = '\0';
	{
		const char *q = buf;
		int neg = 0, base = 10;
		char *end;
		if (*q == '+' || *q == '-')
			neg = *q++ == '-';
		if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) base = 16, q += 2;
		else if (q[0] == '0' && (q[1] == 'o' || q[1] == 'O')) base = 8, q += 2;
		else if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B')) base = 2, q += 2;
		else if (q[0] == '0' && q[1] >= '0' && q[1] <= '9') base = 8, q += 1;
		if (!strpbrk(q, base == 16 ? ".pP" : ".eEpP")) {
			unsigned long long v;
			errno = 0;
			v = strtoull(q, &end, base);
			if (*end || end == q)
				perr(p, t.pos, "illegal number syntax: \"%.*s\"", (int)t.n, t.s);
			if (errno == 0 && (v <= (unsigned long long)INT64_MAX || (neg && v == (unsigned long long)INT64_MAX + 1))) {
				n->num_int = true;
				n->num_i = neg ? (int64_t)(0 - v) : (int64_t)v;
			}
			n->num_float = true;
			n->num_f = neg ? -(double)v : (double)v;
			if (errno)
				n->num_f = strtod(buf, NULL);
		} else {
			double f;
			errno = 0;
			f = strtod(buf, &end);
			if (*end || !isfinite(f))
				perr(p, t.pos, "illegal number syntax: \"%.*s\"", (int)t.n, t.s);
			n->num_float = true;
			n->num_f = f;
			if (fabs(f) < 9.2e18 && f == (double)(int64_t)f) {
				n->num_int = true;
				n->num_i = (int64_t)f;
			}
		}
	}
	return n;
}

/* ---- grammar ---- */

static tnode *pipeline(parser *p, const char *ctx, ttok end);
static tnode *item_list(parser *p, tnode **endnode);

static tnode *use_var(parser *p, tlex_tok t)
{
	tnode *n = newnode(p, TN_VAR, t.pos);
	size_t i;
	n->idents = karena_alloc(p->a, sizeof(char *));
	n->idents[0] = karena_strndup(p->a, t.s, t.n);
	n->nidents = 1;
	for (i = 0; i < p->nvars; i++)
		if (!strcmp(p->vars[i], n->idents[0]))
			return n;
	perr(p, t.pos, "undefined variable \"%s\"", n->idents[0]);
}

static tnode *term(parser *p)
{
	const tlex_tok *t = peek(p);
	tnode *n;
	switch (t->t) {
	case TK_IDENT: case TK_DOT: case TK_NIL: case TK_VAR: case TK_FIELD: case TK_BOOL: case TK_CHAR:
	case TK_NUMBER: case TK_LPAREN: case TK_STRING: case TK_RAWSTRING:
		p->npeek--;  /* taken: *t stays until the next token is read */
		break;
	default:
		return NULL;
	}
	switch (t->t) {
	case TK_IDENT:
		n = newnode(p, TN_IDENT, t->pos);
		n->fn = tmpl_func_find(p->set, t->s, t->n);
		if (!n->fn)
			perr(p, t->pos, "function \"%.*s\" not defined", (int)t->n, t->s);
		n->s = n->fn->name;  /* the same bytes */
		n->slen = t->n;
		return n;
	case TK_DOT:
		return newnode(p, TN_DOT, t->pos);
	case TK_NIL:
		return newnode(p, TN_NIL, t->pos);
	case TK_VAR:
		return use_var(p, *t);
	case TK_FIELD:
		n = newnode(p, TN_FIELD, t->pos);
		n->idents = karena_alloc(p->a, sizeof(char *));
		n->idents[0] = karena_strndup(p->a, t->s + 1, t->n - 1);
		n->nidents = 1;
		return n;
	case TK_BOOL:
		n = newnode(p, TN_BOOL, t->pos);
		n->cval = tv_bool(t->n == 4);
		return n;
	case TK_CHAR:
	case TK_NUMBER:
		return new_number(p, *t);
	case TK_LPAREN:
		if (++p->depth > MAX_PARSE_DEPTH)
			perr(p, t->pos, "max expression depth exceeded");
		n = pipeline(p, "parenthesized pipeline", TK_RPAREN);
		p->depth--;
		return n;
	case TK_STRING:
	case TK_RAWSTRING: {
		kbuf b = KBUF_INIT;
		n = newnode(p, TN_STR, t->pos);
		if (t->t == TK_RAWSTRING) {
			size_t i;
			for (i = 1; i + 1 < t->n; i++)
				if (t->s[i] != '\r')
					kbuf_putc(&b, t->s[i]);
		} else if (unquote(&b, t->s + 1, t->n - 2, '"') < 0) {
			kbuf_release(&b);
			perr(p, t->pos, "invalid syntax");
		}
		n->cval = tv_str(p->a, b.ptr, b.len);
		n->s = karena_strndup(p->a, t->s, t->n); /* quoted form, for String() */
		n->slen = t->n;
		kbuf_release(&b);
		return n;
	}
	default:
		return NULL;
	}
}

static tnode *operand(parser *p)
{
	tnode *n = term(p), *chain;
	const tlex_tok *t;
	size_t cap = 0;
	if (!n)
		return NULL;
	t = peek(p);
	if (t->t != TK_FIELD || t->sp)  /* a field after a space is the next operand */
		return n;
	chain = newnode(p, TN_CHAIN, t->pos);
	chain->pipe = n;
	while ((t = peek(p))->t == TK_FIELD && !t->sp) {
		if (chain->nidents == cap) {
			chain->idents = karena_realloc(p->a, chain->idents, cap * sizeof(char *),
						       (cap ? 2 * cap : 2) * sizeof(char *));
			cap = cap ? 2 * cap : 2;
		}
		chain->idents[chain->nidents++] = karena_strndup(p->a, t->s + 1, t->n - 1);
		skip(p);
	}
	switch (n->k) {
	case TN_FIELD:
	case TN_VAR: {
		/* more fields on the original node */
		const char **ids = karena_alloc(p->a, (n->nidents + chain->nidents) * sizeof(char *));
		memcpy(ids, n->idents, n->nidents * sizeof(char *));
		memcpy(ids + n->nidents, chain->idents, chain->nidents * sizeof(char *));
		n->idents = ids;
		n->nidents += chain->nidents;
		n->pos = chain->pos;
		return n;
	}
	case TN_BOOL: case TN_STR: case TN_NUM: case TN_NIL: case TN_DOT: {
		kbuf b = KBUF_INIT;
		char *s;
		tmpl_node_string(&b, n);
		s = karena_strndup(p->a, b.ptr, b.len);
		kbuf_release(&b);
		{
			kbuf q = KBUF_INIT;
			char *qs;
			tv_quote(&q, s, strlen(s));
			qs = karena_strndup(p->a, q.ptr, q.len);
			kbuf_release(&q);
			/* Go names the spaces after the chain, or the token */
			perr(p, t->sp ? t->sppos : t->pos, "unexpected . after term %s", qs);
		}
	}
	default:
		return chain;
	}
}

static tnode *command(parser *p)
{
	tnode *cmd = newnode(p, TN_CMD, peek(p)->pos);
	for (;;) {
		tnode *op;
		tlex_tok *t;
		op = operand(p);
		if (op)
			append(p, cmd, op);
		t = peek(p);
		if (t->sp) {  /* the space is taken: the next operand */
			t->sp = false;
			continue;
		}
		if (t->t == TK_PIPE)
			skip(p);
		else if (t->t != TK_RDELIM && t->t != TK_RPAREN)
			unexpected(p, *t, "operand");
		break;
	}
	if (cmd->n == 0)
		perr(p, cmd->pos, "empty command");
	return cmd;
}

static tnode *pipeline(parser *p, const char *ctx, ttok end)
{
	tlex_tok v;
	tnode *pipe = newnode(p, TN_PIPE, peek(p)->pos);
	size_t i;
decls:
	v = *peek(p);
	if (v.t == TK_VAR) {
		tlex_tok nx;
		skip(p);
		nx = *peek(p);
		if (nx.t == TK_ASSIGN || nx.t == TK_DECLARE) {
			pipe->assign = nx.t == TK_ASSIGN;
			skip(p);
			pipe->decl = karena_realloc(p->a, pipe->decl, pipe->ndecl * sizeof(char *), (pipe->ndecl + 1) * sizeof(char *));
			pipe->decl[pipe->ndecl++] = karena_strndup(p->a, v.s, v.n);
			push_var(p, pipe->decl[pipe->ndecl - 1]);
		} else if (nx.t == TK_COMMA) {
			skip(p);
			pipe->decl = karena_realloc(p->a, pipe->decl, pipe->ndecl * sizeof(char *), (pipe->ndecl + 1) * sizeof(char *));
			pipe->decl[pipe->ndecl++] = karena_strndup(p->a, v.s, v.n);
			push_var(p, pipe->decl[pipe->ndecl - 1]);
			if (!strcmp(ctx, "range") && pipe->ndecl < 2) {
				const tlex_tok *q = peek(p);
				if (q->t == TK_VAR || q->t == TK_RDELIM || q->t == TK_RPAREN)
					goto decls;
				perr(p, q->pos, "range can only initialize variables");
			}
			perr(p, nx.pos, "too many declarations in %s", ctx);
		} else {
			backup(p, &v);  /* over nx, still in the buffer */
		}
	}
	for (;;) {
		const tlex_tok *t = peek(p);
		if (t->t == end) {
			uint32_t pos = t->pos;
			skip(p);
			if (pipe->n == 0)
				perr(p, pos, "missing value for %s", ctx);
			for (i = 1; i < pipe->n; i++) {
				int k = pipe->v[i]->v[0]->k;
				if (k == TN_BOOL || k == TN_DOT || k == TN_NIL || k == TN_NUM || k == TN_STR)
					perr(p, pos, "non executable command in pipeline stage %zu", i + 1);
			}
			return pipe;
		}
		switch (t->t) {
		case TK_BOOL: case TK_CHAR: case TK_DOT: case TK_FIELD: case TK_IDENT: case TK_NUMBER:
		case TK_NIL: case TK_RAWSTRING: case TK_STRING: case TK_VAR: case TK_LPAREN:
			append(p, pipe, command(p));
			break;
		default:
			unexpected(p, *t, ctx);
		}
	}
}

static tnode *text_or_action(parser *p, tnode **endnode);

static void parse_control(parser *p, const char *ctx, tnode *n)
{
	size_t mark = p->nvars;
	tnode *endn = NULL;
	n->pipe = pipeline(p, ctx, TK_RDELIM);
	if (n->k == TN_RANGE)
		p->range_depth++;
	n->list = item_list(p, &endn);
	if (n->k == TN_RANGE)
		p->range_depth--;
	if (endn->k == TN_ELSE_MARK) {
		tlex_tok t = *peek(p);
		if ((n->k == TN_IF && t.t == TK_IF) || (n->k == TN_WITH && t.t == TK_WITH)) {
			tnode *inner;
			skip(p);
			n->elist = newnode(p, TN_LIST, endn->pos);
			inner = newnode(p, n->k, t.pos);
			parse_control(p, n->k == TN_IF ? "if" : "with", inner);
			append(p, n->elist, inner);
		} else {
			tnode *e2 = NULL;
			n->elist = item_list(p, &e2);
			if (e2->k != TN_END_MARK)
				perr(p, e2->pos, "expected end; found {{else}}");
		}
	}
	p->nvars = mark;
}

static const char *template_name(parser *p, tlex_tok t, const char *ctx)
{
	kbuf b = KBUF_INIT;
	const char *s;
	if (t.t == TK_STRING) {
		if (unquote(&b, t.s + 1, t.n - 2, '"') < 0) {
			kbuf_release(&b);
			perr(p, t.pos, "invalid syntax");
		}
	} else if (t.t == TK_RAWSTRING) {
		kbuf_put(&b, t.s + 1, t.n - 2);
	} else {
		unexpected(p, t, ctx);
	}
	s = karena_strndup(p->a, b.ptr, b.len);
	kbuf_release(&b);
	return s;
}

/* true if the tree holds only blank text (Go's IsEmptyTree) */
static bool tree_blank(const ttree *t)
{
	size_t k;
	for (k = 0; k < t->root->n; k++)
		if (t->root->v[k]->k != TN_TEXT || strspn(t->root->v[k]->s, " \t\r\n") != t->root->v[k]->slen)
			return false;
	return true;
}

/* a definition of this file: a blank earlier one is replaced, a second
 * non-blank one is an error (a hash table, so 200k defines stay linear) */
static void add_tree(parser *p, ttree *t, uint32_t pos)
{
	ttree *old = tmpl_tree_get(&p->defined, t->name);
	if (old) {
		if (tree_blank(old))
			tmpl_tree_put(&p->defined, t);
		else if (!tree_blank(t))
			perr(p, pos, "template: multiple definition of template \"%s\"", t->name);
		return;
	}
	tmpl_tree_put(&p->defined, t);
	ALLOC_GROW(p->defs, p->ndefs + 1, p->capdefs);
	p->defs[p->ndefs++] = t;
}

/* {{define "name"}} ... {{end}} or {{block "name" pipe}} ... {{end}} */
static ttree *sub_tree(parser *p, const char *name, uint32_t pos, const char *what)
{
	ttree *saved = p->tree, *t = karena_alloc(p->a, sizeof(*t));
	size_t saved_nvars = p->nvars;
	int saved_range = p->range_depth;
	tnode *endn = NULL;
	t->name = name;
	t->parse_name = p->file;
	t->src = p->lx.src;
	t->srclen = p->lx.len;
	p->tree = t;
	push_var(p, "$");
	{
		/* a define sees only $ */
		const char **save = karena_memdup(p->a, p->vars, saved_nvars * sizeof(char *));
		p->vars[0] = "$";
		p->nvars = 1;
		p->range_depth = 0;
		t->root = item_list(p, &endn);
		if (endn->k != TN_END_MARK)
			perr(p, endn->pos, "unexpected {{else}} in %s", what);
		memcpy(p->vars, save, saved_nvars * sizeof(char *));
	}
	p->nvars = saved_nvars;
	p->range_depth = saved_range;
	p->tree = saved;
	add_tree(p, t, pos);
	return t;
}

static tnode *action(parser *p, tnode **endnode)
{
	tlex_tok t = next(p), e;
	tnode *n;
	switch (t.t) {
	case TK_BLOCK: {
		tlex_tok nt = next(p);
		const char *name = template_name(p, nt, "block clause");
		/* Go places the node at the name */
		n = newnode(p, TN_TEMPLATE, nt.pos);
		n->s = name;
		n->slen = strlen(name);
		n->pipe = pipeline(p, "block clause", TK_RDELIM);
		sub_tree(p, name, t.pos, "block clause");
		return n;
	}
	case TK_BREAK:
	case TK_CONTINUE:
		e = next(p);
		if (e.t != TK_RDELIM)
			unexpected(p, e, t.t == TK_BREAK ? "{{break}}" : "{{continue}}");
		if (p->range_depth == 0)
			perr(p, t.pos, "{{%s}} outside {{range}}", t.t == TK_BREAK ? "break" : "continue");
		return newnode(p, t.t == TK_BREAK ? TN_BREAK : TN_CONTINUE, t.pos);
	case TK_ELSE: {
		ttok pk = peek(p)->t;
		if (pk == TK_IF || pk == TK_WITH) {
			n = newnode(p, TN_ELSE_MARK, t.pos);
			*endnode = n;
			return n;
		}
		e = next(p);
		if (e.t != TK_RDELIM)
			unexpected(p, e, "else");
		n = newnode(p, TN_ELSE_MARK, t.pos);
		*endnode = n;
		return n;
	}
	case TK_END:
		e = next(p);
		if (e.t != TK_RDELIM)
			unexpected(p, e, "end");
		n = newnode(p, TN_END_MARK, t.pos);
		*endnode = n;
		return n;
	case TK_IF:
	case TK_RANGE:
	case TK_WITH:
		n = newnode(p, t.t == TK_IF ? TN_IF : t.t == TK_RANGE ? TN_RANGE : TN_WITH, t.pos);
		parse_control(p, t.t == TK_IF ? "if" : t.t == TK_RANGE ? "range" : "with", n);
		return n;
	case TK_TEMPLATE: {
		tlex_tok nt = next(p), r;
		n = newnode(p, TN_TEMPLATE, nt.pos);
		n->s = template_name(p, nt, "template clause");
		n->slen = strlen(n->s);
		r = next(p);
		if (r.t != TK_RDELIM) {
			backup(p, &r);
			n->pipe = pipeline(p, "template clause", TK_RDELIM);
		}
		return n;
	}
	default:
		backup(p, &t);
		n = newnode(p, TN_ACTION, peek(p)->pos);
		n->pipe = pipeline(p, "command", TK_RDELIM);
		return n;
	}
}

static tnode *text_or_action(parser *p, tnode **endnode)
{
	tlex_tok t = next(p);
	tnode *n;
	*endnode = NULL;
	switch (t.t) {
	case TK_TEXT:
		n = newnode(p, TN_TEXT, t.pos);
		n->s = t.s;   /* points into the source, which outlives the tree */
		n->slen = t.n;
		return n;
	case TK_LDELIM:
		if (++p->depth > MAX_PARSE_DEPTH)
			perr(p, t.pos, "max nesting depth exceeded");
		n = action(p, endnode);
		p->depth--;
		return n;
	case TK_COMMENT:
		return NULL;
	default:
		unexpected(p, t, "input");
	}
}

static tnode *item_list(parser *p, tnode **endnode)
{
	tnode *list = newnode(p, TN_LIST, peek(p)->pos);
	while (peek(p)->t != TK_EOF) {
		tnode *e = NULL, *n = text_or_action(p, &e);
		if (e) {
			*endnode = e;
			return list;
		}
		if (n)
			append(p, list, n);
	}
	perr(p, p->lx.len, "unexpected EOF");
}

static void parse_root(parser *p, ttree *t)
{
	tnode *list = newnode(p, TN_LIST, 0);
	t->root = list;
	while (peek(p)->t != TK_EOF) {
		if (peek(p)->t == TK_LDELIM) {
			tlex_tok d = next(p), k = next(p);
			if (k.t == TK_DEFINE) {
				tlex_tok nt = next(p), r;
				const char *name = template_name(p, nt, "define clause");
				r = next(p);
				if (r.t != TK_RDELIM)
					unexpected(p, r, "define clause");
				sub_tree(p, name, d.pos, "define clause");
				continue;
			}
			backup(p, &k);
			backup(p, &d);
		}
		{
			tnode *e = NULL, *n = text_or_action(p, &e);
			if (e)
				perr(p, e->pos, "unexpected {{%s}}", e->k == TN_END_MARK ? "end" : "else");
			if (n)
				append(p, list, n);
		}
	}
}

int tmpl_parse_file(tmpl_set *s, const char *name, const char *text, size_t len, bool copy, kerr *err)
{
	parser *p = xcalloc(1, sizeof(*p));
	ttree *t;
	int r = 0;
	size_t i;
	p->set = s;
	p->a = s->a;
	p->defined.a = s->a;
	p->err = err;
	p->file = karena_strdup(s->a, name);
	if (copy)
		text = karena_strndup(s->a, text, len);
	tlex_init(&p->lx, text, len);
	t = karena_alloc(s->a, sizeof(*t));
	t->name = p->file;
	t->parse_name = p->file;
	t->src = text;
	t->srclen = len;
	p->tree = t;
	push_var(p, "$");
	if (setjmp(p->jb) == 0) {
		parse_root(p, t);
		add_tree(p, t, 0);
		for (i = 0; i < p->ndefs; i++) {
			/* Go: a later definition replaces an earlier one unless empty */
			ttree *d = tmpl_tree_get(&p->defined, p->defs[i]->name);
			if (d != t && tree_blank(d) && tmpl_tree_get(s, d->name))
				continue;
			tmpl_tree_put(s, d);
		}
	} else {
		r = KE_INPUT;
	}
	free(p->vars);
	free(p->defs);
	free(p);
	return r;
}

/* ---- node strings, for error contexts (parse/node.go String()) ---- */

static void pipe_string(kbuf *out, const tnode *n)
{
	size_t i;
	for (i = 0; i < n->ndecl; i++) {
		if (i)
			kbuf_puts(out, ", ");
		kbuf_puts(out, n->decl[i]);
	}
	if (n->ndecl)
		kbuf_puts(out, n->assign ? " = " : " := ");
	for (i = 0; i < n->n; i++) {
		if (i)
			kbuf_puts(out, " | ");
		tmpl_node_string(out, n->v[i]);
	}
}

void tmpl_node_string(kbuf *out, const tnode *n)
{
	size_t i;
	switch (n->k) {
	case TN_TEXT: tv_quote(out, n->s, n->slen); break;
	case TN_ACTION: kbuf_puts(out, "{{"); pipe_string(out, n->pipe); kbuf_puts(out, "}}"); break;
	case TN_PIPE: pipe_string(out, n); break;
	case TN_CMD:
		for (i = 0; i < n->n; i++) {
			if (i)
				kbuf_putc(out, ' ');
			if (n->v[i]->k == TN_PIPE) {
				kbuf_putc(out, '(');
				pipe_string(out, n->v[i]);
				kbuf_putc(out, ')');
			} else {
				tmpl_node_string(out, n->v[i]);
			}
		}
		break;
	case TN_FIELD:
		for (i = 0; i < n->nidents; i++) {
			kbuf_putc(out, '.');
			kbuf_puts(out, n->idents[i]);
		}
		break;
	case TN_VAR:
		for (i = 0; i < n->nidents; i++) {
			if (i)
				kbuf_putc(out, '.');
			kbuf_puts(out, n->idents[i]);
		}
		break;
	case TN_CHAIN:
		if (n->pipe->k == TN_PIPE) {
			kbuf_putc(out, '(');
			pipe_string(out, n->pipe);
			kbuf_putc(out, ')');
		} else {
			tmpl_node_string(out, n->pipe);
		}
		for (i = 0; i < n->nidents; i++) {
			kbuf_putc(out, '.');
			kbuf_puts(out, n->idents[i]);
		}
		break;
	case TN_IDENT: kbuf_puts(out, n->s); break;
	case TN_DOT: kbuf_putc(out, '.'); break;
	case TN_NIL: kbuf_puts(out, "nil"); break;
	case TN_BOOL: kbuf_puts(out, n->cval->u.b ? "true" : "false"); break;
	case TN_NUM: case TN_STR: kbuf_put(out, n->s, n->slen); break;
	case TN_IF: case TN_RANGE: case TN_WITH:
		kbuf_printf(out, "{{%s ", n->k == TN_IF ? "if" : n->k == TN_RANGE ? "range" : "with");
		pipe_string(out, n->pipe);
		kbuf_puts(out, "}}");
		break;
	case TN_TEMPLATE:
		kbuf_puts(out, "{{template ");
		tv_quote(out, n->s, n->slen);
		if (n->pipe) {
			kbuf_putc(out, ' ');
			pipe_string(out, n->pipe);
		}
		kbuf_puts(out, "}}");
		break;
	case TN_BREAK: kbuf_puts(out, "{{break}}"); break;
	case TN_CONTINUE: kbuf_puts(out, "{{continue}}"); break;
	default: break;
	}
}
