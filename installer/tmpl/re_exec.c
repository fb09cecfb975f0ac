/* tmpl/re_exec.c - Go's regexp: the program compiler (regexp/syntax
 * compile.go), the Pike VM (regexp exec.go) and the FindAll, ReplaceAll,
 * Expand and Split loops of regexp.go; see re.h. The VM runs every thread
 * in lock step over the input, so a match costs O(len(input) * program
 * size) whatever the pattern; its memory is O(program size) plus the
 * capture slots of the live threads, kept in a pool as Go's machine does. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "re.h"
#include "tmpl_int.h"

#define MAX_RUNE 0x10FFFF
#define END_OF_TEXT (-1)

enum { I_FAIL, I_ALT, I_EMPTY, I_NOP, I_CAPTURE, I_MATCH, I_RUNE, I_RUNE1, I_ANY, I_ANYNOTNL };

/* Go's syntax.EmptyOp */
enum { E_BOL = 1, E_EOL = 2, E_BOT = 4, E_EOT = 8, E_WORDB = 16, E_NOWORDB = 32 };

typedef struct inst {
	int op;
	uint32_t out, arg;
	const int32_t *runes;
	size_t nrunes; /* literal: 1; class: 2 * pairs */
	bool fold;
} inst;

struct re_prog {
	inst *inst;
	size_t ninst, cinst;
	uint32_t start;
	size_t ngroups; /* slots in a capture array: 2 * ngroups */
	re_tree tree;   /* owns the rune lists the instructions point at */
	bool empty_pattern;
};

static const int32_t any_rune[] = { 0, MAX_RUNE };
static const int32_t any_rune_not_nl[] = { 0, '\n' - 1, '\n' + 1, MAX_RUNE };

/* ---- compile.go ---- */

typedef struct frag {
	uint32_t i;
	uint32_t head, tail; /* patch list: inst index << 1 | (0: out, 1: arg) */
	bool nullable;
} frag;

static frag new_inst(re_prog *p, int op)
{
	frag f = { (uint32_t)p->ninst, 0, 0, true };
	ALLOC_GROW(p->inst, p->ninst + 1, p->cinst);
	memset(&p->inst[p->ninst], 0, sizeof(inst));
	p->inst[p->ninst++].op = op;
	return f;
}

static void patch(re_prog *p, uint32_t head, uint32_t val)
{
	while (head) {
		inst *i = &p->inst[head >> 1];
		if (!(head & 1)) {
			head = i->out;
			i->out = val;
		} else {
			head = i->arg;
			i->arg = val;
		}
	}
}

static void list_append(re_prog *p, frag *f, uint32_t head2, uint32_t tail2)
{
	inst *i;
	if (!f->head) {
		f->head = head2;
		f->tail = tail2;
		return;
	}
	if (!head2)
		return;
	i = &p->inst[f->tail >> 1];
	if (!(f->tail & 1))
		i->out = head2;
	else
		i->arg = head2;
	f->tail = tail2;
}

static frag c_nop(re_prog *p, int op)
{
	frag f = new_inst(p, op);
	f.head = f.tail = f.i << 1;
	return f;
}

static frag c_cat(re_prog *p, frag f1, frag f2)
{
	frag f = { 0, 0, 0, false };
	if (!f1.i || !f2.i)
		return f;
	patch(p, f1.head, f2.i);
	f.i = f1.i;
	f.head = f2.head;
	f.tail = f2.tail;
	f.nullable = f1.nullable && f2.nullable;
	return f;
}

static frag c_alt(re_prog *p, frag f1, frag f2)
{
	frag f;
	if (!f1.i)
		return f2;
	if (!f2.i)
		return f1;
	f = new_inst(p, I_ALT);
	p->inst[f.i].out = f1.i;
	p->inst[f.i].arg = f2.i;
	f.head = f1.head;
	f.tail = f1.tail;
	list_append(p, &f, f2.head, f2.tail);
	f.nullable = f1.nullable || f2.nullable;
	return f;
}

/* an Alt whose preferred branch is f1 (greedy) or the way out (non-greedy);
 * the other branch is left on the patch list */
static frag c_alt_to(re_prog *p, frag f1, bool nongreedy)
{
	frag f = new_inst(p, I_ALT);
	if (nongreedy) {
		p->inst[f.i].arg = f1.i;
		f.head = f.tail = f.i << 1;
	} else {
		p->inst[f.i].out = f1.i;
		f.head = f.tail = f.i << 1 | 1;
	}
	return f;
}

static frag c_quest(re_prog *p, frag f1, bool nongreedy)
{
	frag f = c_alt_to(p, f1, nongreedy);
	list_append(p, &f, f1.head, f1.tail);
	return f;
}

static frag c_loop(re_prog *p, frag f1, bool nongreedy)
{
	frag f = c_alt_to(p, f1, nongreedy);
	patch(p, f1.head, f.i);
	return f;
}

static frag c_plus(re_prog *p, frag f1, bool nongreedy)
{
	frag l = c_loop(p, f1, nongreedy);
	frag f = { f1.i, l.head, l.tail, f1.nullable };
	return f;
}

static frag c_star(re_prog *p, frag f1, bool nongreedy)
{
	/* a star of what can match empty is (f1+)?, for Go's priority order */
	if (f1.nullable)
		return c_quest(p, c_plus(p, f1, nongreedy), nongreedy);
	return c_loop(p, f1, nongreedy);
}

static frag c_empty(re_prog *p, uint32_t op)
{
	frag f = c_nop(p, I_EMPTY);
	p->inst[f.i].arg = op;
	return f;
}

static frag c_rune(re_prog *p, const int32_t *r, size_t n, unsigned flags)
{
	frag f = c_nop(p, I_RUNE);
	inst *i = &p->inst[f.i];
	bool fold = (flags & RE_FOLD) && n == 1 && re_simple_fold(r[0]) != r[0];
	f.nullable = false;
	i->runes = r;
	i->nrunes = n;
	i->fold = fold;
	if (!fold && (n == 1 || (n == 2 && r[0] == r[1])))
		i->op = I_RUNE1;
	else if (n == 2 && r[0] == 0 && r[1] == MAX_RUNE)
		i->op = I_ANY;
	else if (n == 4 && r[0] == 0 && r[1] == '\n' - 1 && r[2] == '\n' + 1 && r[3] == MAX_RUNE)
		i->op = I_ANYNOTNL;
	return f;
}

static frag c_compile(re_prog *p, re_node *re)
{
	frag f = { 0, 0, 0, false }, bra, ket;
	size_t j;
	bool ng = (re->flags & RE_NONGREEDY) != 0;
	switch (re->op) {
	case RE_NOMATCH:
		return f;
	case RE_EMPTY:
		return c_nop(p, I_NOP);
	case RE_LITERAL:
		if (!re->r.n)
			return c_nop(p, I_NOP);
		for (j = 0; j < re->r.n; j++) {
			frag f1 = c_rune(p, re->r.v + j, 1, re->flags);
			f = j ? c_cat(p, f, f1) : f1;
		}
		return f;
	case RE_CLASS:
		re_runes_clean(&re->r);
		return c_rune(p, re->r.v, re->r.n, re->flags);
	case RE_ANYNOTNL:
		return c_rune(p, any_rune_not_nl, 4, 0);
	case RE_ANY:
		return c_rune(p, any_rune, 2, 0);
	case RE_BOL:
		return c_empty(p, E_BOL);
	case RE_EOL:
		return c_empty(p, E_EOL);
	case RE_BOT:
		return c_empty(p, E_BOT);
	case RE_EOT:
		return c_empty(p, E_EOT);
	case RE_WORDB:
		return c_empty(p, E_WORDB);
	case RE_NOWORDB:
		return c_empty(p, E_NOWORDB);
	case RE_CAPTURE:
		bra = c_nop(p, I_CAPTURE);
		p->inst[bra.i].arg = (uint32_t)re->cap << 1;
		f = c_compile(p, re->sub[0]);
		ket = c_nop(p, I_CAPTURE);
		p->inst[ket.i].arg = (uint32_t)re->cap << 1 | 1;
		return c_cat(p, c_cat(p, bra, f), ket);
	case RE_STAR:
		return c_star(p, c_compile(p, re->sub[0]), ng);
	case RE_PLUS:
		return c_plus(p, c_compile(p, re->sub[0]), ng);
	case RE_QUEST:
		return c_quest(p, c_compile(p, re->sub[0]), ng);
	case RE_CONCAT:
		if (!re->nsub)
			return c_nop(p, I_NOP);
		for (j = 0; j < re->nsub; j++) {
			frag f1 = c_compile(p, re->sub[j]);
			f = j ? c_cat(p, f, f1) : f1;
		}
		return f;
	case RE_ALT:
		for (j = 0; j < re->nsub; j++)
			f = c_alt(p, f, c_compile(p, re->sub[j]));
		return f;
	}
	return f;
}

int re_compile(re_prog **out, const char *pat, size_t len, kbuf *errmsg)
{
	re_prog *p;
	frag f, m;
	*out = NULL;
	p = xcalloc(1, sizeof(*p));
	if (re_parse(&p->tree, pat, len, errmsg)) {
		free(p);
		return -1;
	}
	p->ngroups = (size_t)p->tree.ncap + 1;
	p->empty_pattern = len == 0;
	new_inst(p, I_FAIL);
	f = c_compile(p, p->tree.root);
	m = new_inst(p, I_MATCH);
	patch(p, f.head, m.i);
	p->start = f.i;
	*out = p;
	return 0;
}

void re_free(re_prog *re)
{
	if (!re)
		return;
	re_tree_release(&re->tree);
	free(re->inst);
	free(re);
}

size_t re_groups(const re_prog *re)
{
	return re->ngroups;
}

/* ---- exec.go: the Pike VM ---- */

typedef struct queue {
	uint32_t *sparse, *pc;
	int64_t **cap; /* entry j's thread (a rune or match instruction): its
			* capture slots; NULL for the other instructions */
	size_t n;
} queue;

typedef struct frame {
	uint32_t pc;
	int32_t slot; /* >= 0: restore cap[slot] = old instead of visiting pc */
	int64_t old;
} frame;

typedef struct machine {
	const re_prog *re;
	size_t ncap;
	queue q[2];
	frame *stack;
	size_t nstack, cstack;
	int64_t *matchcap;
	bool matched;
	int64_t **pool; /* free capture arrays */
	size_t npool, cpool;
	int64_t **arrays; /* every capture array, for freeing */
	size_t narrays, carrays;
} machine;

static int64_t *cap_alloc(machine *m)
{
	int64_t *c;
	if (m->npool)
		return m->pool[--m->npool];
	c = xmalloc(st_mult(m->ncap, sizeof(int64_t)));
	ALLOC_GROW(m->arrays, m->narrays + 1, m->carrays);
	m->arrays[m->narrays++] = c;
	ALLOC_GROW(m->pool, m->narrays, m->cpool); /* room for all of them back */
	return c;
}

static void cap_free(machine *m, int64_t *c)
{
	if (c)
		m->pool[m->npool++] = c;
}

/* empties q, its threads back to the pool */
static void queue_clear(machine *m, queue *q)
{
	size_t j;
	for (j = 0; j < q->n; j++)
		cap_free(m, q->cap[j]);
	q->n = 0;
}

static void queue_init(queue *q, size_t ninst)
{
	q->sparse = xcalloc(ninst, sizeof(uint32_t));
	q->pc = xcalloc(ninst, sizeof(uint32_t));
	q->cap = xcalloc(ninst, sizeof(int64_t *));
	q->n = 0;
}

static void queue_release(queue *q)
{
	free(q->sparse);
	free(q->pc);
	free(q->cap);
}

static bool is_word(int32_t r)
{
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_';
}

/* EmptyOpContext */
static uint32_t context(int32_t r1, int32_t r2)
{
	uint32_t op = E_NOWORDB;
	int boundary = 0;
	if (is_word(r1))
		boundary = 1;
	else if (r1 == '\n')
		op |= E_BOL;
	else if (r1 < 0)
		op |= E_BOT | E_BOL;
	if (is_word(r2))
		boundary ^= 1;
	else if (r2 == '\n')
		op |= E_EOL;
	else if (r2 < 0)
		op |= E_EOT | E_EOL;
	if (boundary)
		op ^= E_WORDB | E_NOWORDB;
	return op;
}

static void push_frame(machine *m, uint32_t pc, int32_t slot, int64_t old)
{
	ALLOC_GROW(m->stack, m->nstack + 1, m->cstack);
	m->stack[m->nstack].pc = pc;
	m->stack[m->nstack].slot = slot;
	m->stack[m->nstack].old = old;
	m->nstack++;
}

/* add: follow the empty-width instructions from pc, in priority order,
 * adding the threads found to q with a copy of cap (restored on return) */
static void add(machine *m, queue *q, uint32_t pc0, int64_t pos, int64_t *cap, uint32_t cond)
{
	const inst *prog = m->re->inst;
	size_t base = m->nstack;
	push_frame(m, pc0, -1, 0);
	while (m->nstack > base) {
		frame fr = m->stack[--m->nstack];
		uint32_t pc = fr.pc;
		if (fr.slot >= 0) {
			cap[fr.slot] = fr.old;
			continue;
		}
		for (;;) {
			uint32_t j;
			const inst *i;
			if (!pc)
				break;
			j = q->sparse[pc];
			if (j < q->n && q->pc[j] == pc)
				break;
			j = (uint32_t)q->n++;
			q->pc[j] = pc;
			q->cap[j] = NULL;
			q->sparse[pc] = j;
			i = &prog[pc];
			if (i->op == I_ALT) {
				push_frame(m, i->arg, -1, 0);
				pc = i->out;
				continue;
			}
			if (i->op == I_EMPTY) {
				if ((i->arg & ~cond) != 0)
					break;
				pc = i->out;
				continue;
			}
			if (i->op == I_NOP) {
				pc = i->out;
				continue;
			}
			if (i->op == I_CAPTURE) {
				if (i->arg < m->ncap) {
					push_frame(m, 0, (int32_t)i->arg, cap[i->arg]);
					cap[i->arg] = pos;
				}
				pc = i->out;
				continue;
			}
			if (i->op != I_FAIL) {
				q->cap[j] = cap_alloc(m);
				memcpy(q->cap[j], cap, m->ncap * sizeof(int64_t));
			}
			break;
		}
	}
}

static bool inst_match_rune(const inst *i, int32_t c)
{
	switch (i->op) {
	case I_RUNE1:
		return c == i->runes[0];
	case I_ANY:
		return true;
	case I_ANYNOTNL:
		return c != '\n';
	}
	if (i->nrunes == 1) {
		int32_t r0 = i->runes[0], r1;
		if (c == r0)
			return true;
		if (i->fold)
			for (r1 = re_simple_fold(r0); r1 != r0; r1 = re_simple_fold(r1))
				if (c == r1)
					return true;
		return false;
	}
	return re_in_class(c, i->runes, i->nrunes / 2);
}

static void step(machine *m, queue *runq, queue *nextq, int64_t pos, int64_t nextpos, int32_t c,
		 uint32_t nextcond)
{
	size_t j;
	for (j = 0; j < runq->n; j++) {
		const inst *i;
		int64_t *cap = runq->cap[j];
		if (!cap)
			continue;
		i = &m->re->inst[runq->pc[j]];
		if (i->op == I_MATCH) {
			cap[1] = pos;
			memcpy(m->matchcap, cap, m->ncap * sizeof(int64_t));
			m->matched = true;
			break; /* leftmost-first: lower-priority threads die */
		}
		if (c != END_OF_TEXT && inst_match_rune(i, c))
			add(m, nextq, i->out, nextpos, cap, nextcond);
	}
	queue_clear(m, runq);
}

/* the rune at s[pos] and its width; END_OF_TEXT and 0 at the end */
static int32_t rune_at(const char *s, size_t len, size_t pos, size_t *w)
{
	uint32_t r;
	if (pos >= len) {
		*w = 0;
		return END_OF_TEXT;
	}
	*w = tv_utf8_decode((const unsigned char *)s + pos, len - pos, &r);
	return (int32_t)r;
}

static void machine_init(machine *m, const re_prog *re)
{
	memset(m, 0, sizeof(*m));
	m->re = re;
	m->ncap = 2 * re->ngroups;
	queue_init(&m->q[0], re->ninst);
	queue_init(&m->q[1], re->ninst);
}

static void machine_release(machine *m)
{
	size_t i;
	queue_release(&m->q[0]);
	queue_release(&m->q[1]);
	free(m->stack);
	for (i = 0; i < m->narrays; i++)
		free(m->arrays[i]);
	free(m->arrays);
	free(m->pool);
}

/* exec.go's machine.match */
static bool run(machine *m, const char *s, size_t len, size_t pos, int64_t *cap)
{
	queue *runq = &m->q[0], *nextq = &m->q[1], *tq;
	int32_t r, r1 = END_OF_TEXT;
	size_t w, w1 = 0, i;
	uint32_t flag;
	m->matchcap = cap;
	m->matched = false;
	for (i = 0; i < m->ncap; i++)
		cap[i] = -1;
	r = rune_at(s, len, pos, &w);
	if (r != END_OF_TEXT)
		r1 = rune_at(s, len, pos + w, &w1);
	if (pos == 0) {
		flag = context(END_OF_TEXT, r);
	} else {
		/* only ASCII decides the context: a byte >= 0x80 ends a rune
		 * that is neither a word character nor a newline */
		unsigned char b = (unsigned char)s[pos - 1];
		flag = context(b < 0x80 ? b : 0xFFFD, r);
	}
	for (;;) {
		if (!runq->n && m->matched)
			break;
		if (!m->matched) {
			cap[0] = (int64_t)pos;
			add(m, runq, m->re->start, (int64_t)pos, cap, flag);
		}
		flag = context(r, r1);
		step(m, runq, nextq, (int64_t)pos, (int64_t)(pos + w), r, flag);
		if (!w)
			break;
		pos += w;
		r = r1;
		w = w1;
		if (r != END_OF_TEXT)
			r1 = rune_at(s, len, pos + w, &w1);
		tq = runq;
		runq = nextq;
		nextq = tq;
	}
	queue_clear(m, runq);
	queue_clear(m, nextq);
	if (!m->matched)
		for (i = 0; i < m->ncap; i++)
			cap[i] = -1;
	return m->matched;
}

bool re_exec(const re_prog *re, const char *s, size_t len, size_t pos, int64_t *cap)
{
	machine m;
	bool ok;
	machine_init(&m, re);
	ok = run(&m, s, len, pos, cap);
	machine_release(&m);
	return ok;
}

/* ---- regexp.go ---- */

size_t re_each(const re_prog *re, const char *s, size_t len, int64_t n, re_each_fn fn, void *ctx)
{
	int64_t *cap = xcalloc(2 * re->ngroups, sizeof(int64_t));
	int64_t prev_end = -1;
	size_t pos = 0, count = 0;
	machine m;
	machine_init(&m, re);
	while ((n < 0 || (int64_t)count < n) && pos <= len) {
		bool accept = true;
		if (!run(&m, s, len, pos, cap))
			break;
		if (cap[1] == (int64_t)pos) {
			size_t w;
			if (cap[0] == prev_end)
				accept = false;
			rune_at(s, len, pos, &w);
			pos = w ? pos + w : len + 1;
		} else {
			pos = (size_t)cap[1];
		}
		prev_end = cap[1];
		if (accept) {
			fn(ctx, s, cap);
			count++;
		}
	}
	machine_release(&m);
	free(cap);
	return count;
}

static size_t decode(const char *s, size_t n, int32_t *r)
{
	uint32_t u;
	size_t w = tv_utf8_decode((const unsigned char *)s, n, &u);
	*r = (int32_t)u;
	return w;
}

/* Regexp.Expand of template t against the match cap of s */
static void expand(const re_prog *re, kbuf *out, const char *t, size_t tn, const char *s, const int64_t *cap)
{
	while (tn) {
		const char *d = memchr(t, '$', tn);
		size_t i = 0, nlen, k;
		bool brace = false;
		const char *name;
		int64_t num;
		if (!d)
			break;
		kbuf_put(out, t, (size_t)(d - t));
		tn -= (size_t)(d - t) + 1;
		t = d + 1;
		if (tn && t[0] == '$') {
			kbuf_putc(out, '$');
			t++, tn--;
			continue;
		}
		/* extract */
		if (tn && t[0] == '{')
			brace = true;
		name = t + brace;
		while (brace + i < tn) {
			int32_t r;
			size_t w = decode(name + i, tn - brace - i, &r);
			if (!re_is_letter(r) && !re_is_digit(r) && r != '_')
				break;
			i += w;
		}
		nlen = i;
		if (!nlen || (brace && (brace + i >= tn || name[i] != '}'))) {
			kbuf_putc(out, '$');
			continue;
		}
		num = 0;
		for (k = 0; k < nlen; k++) {
			if (name[k] < '0' || name[k] > '9' || num >= 100000000) {
				num = -1;
				break;
			}
			num = num * 10 + name[k] - '0';
		}
		if (name[0] == '0' && nlen > 1)
			num = -1;
		k = brace + nlen + brace;
		t += k;
		tn -= k;
		if (num >= 0) {
			if ((size_t)num < re->ngroups && cap[2 * num] >= 0)
				kbuf_put(out, s + cap[2 * num], (size_t)(cap[2 * num + 1] - cap[2 * num]));
		} else {
			for (k = 1; k < re->ngroups; k++) {
				const char *gn = re->tree.names[k];
				if (gn && strlen(gn) == nlen && !memcmp(gn, name, nlen) && cap[2 * k] >= 0) {
					kbuf_put(out, s + cap[2 * k], (size_t)(cap[2 * k + 1] - cap[2 * k]));
					break;
				}
			}
		}
	}
	kbuf_put(out, t, tn);
}

void re_replace(const re_prog *re, const char *s, size_t len, const char *repl, size_t rlen, bool literal,
		kbuf *out)
{
	int64_t *cap = xcalloc(2 * re->ngroups, sizeof(int64_t));
	size_t last_end = 0, pos = 0;
	machine m;
	machine_init(&m, re);
	while (pos <= len) {
		size_t w;
		if (!run(&m, s, len, pos, cap))
			break;
		kbuf_put(out, s + last_end, (size_t)cap[0] - last_end);
		/* no replacement for an empty match right after another match */
		if ((size_t)cap[1] > last_end || cap[0] == 0) {
			if (literal)
				kbuf_put(out, repl, rlen);
			else
				expand(re, out, repl, rlen, s, cap);
		}
		last_end = (size_t)cap[1];
		rune_at(s, len, pos, &w);
		if (pos + w > (size_t)cap[1])
			pos += w;
		else if (pos + 1 > (size_t)cap[1])
			pos++;
		else
			pos = (size_t)cap[1];
	}
	kbuf_put(out, s + last_end, len - last_end);
	machine_release(&m);
	free(cap);
}

typedef struct split_ctx {
	int64_t *idx; /* pairs of match bounds */
	size_t n, cap;
} split_ctx;

static void split_collect(void *ctx, const char *s, const int64_t *cap)
{
	split_ctx *c = ctx;
	(void)s;
	ALLOC_GROW(c->idx, c->n + 2, c->cap);
	c->idx[c->n++] = cap[0];
	c->idx[c->n++] = cap[1];
}

void re_split(const re_prog *re, const char *s, size_t len, int64_t n, re_piece_fn fn, void *ctx)
{
	split_ctx c = { NULL, 0, 0 };
	size_t i, beg = 0, end = 0;
	int64_t pieces = 0;
	if (len == 0 && !re->empty_pattern) {
		fn(ctx, s, 0); /* Go: a non-empty pattern splits "" into [""] */
		return;
	}
	re_each(re, s, len, n, split_collect, &c);
	for (i = 0; i < c.n; i += 2) {
		if (n > 0 && pieces == n - 1)
			break;
		end = (size_t)c.idx[i];
		if (c.idx[i + 1] != 0) {
			fn(ctx, s + beg, end - beg);
			pieces++;
		}
		beg = (size_t)c.idx[i + 1];
	}
	if (end != len)
		fn(ctx, s + beg, len - beg);
	free(c.idx);
}

bool re_is_letter(int32_t r)
{
	const re_utable *l = re_utable_find("L");
	return r >= 0 && re_in_class(r, (const int32_t *)l->tab, l->ntab);
}

bool re_is_digit(int32_t r)
{
	const re_utable *nd = re_utable_find("Nd");
	return r >= 0 && re_in_class(r, (const int32_t *)nd->tab, nd->ntab);
}
