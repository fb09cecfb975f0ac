/* tmpl/exec.c - executing a parsed template with Go's text/template
 * semantics (text/template/exec.go): pipelines, variables, field chains on
 * maps, if/range/with/template, argument type checks, and Go's errors as
 * data (tmpl.h: the node's location, "executing \"name\" at <node>: ..."). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "tmpl_int.h"

#define MAX_EXEC_DEPTH 1000
#define MAX_NEST_DEPTH 2100
#define DEFAULT_MAX_OUTPUT ((size_t)100 << 20)
enum { WALK_BREAK = 1, WALK_CONTINUE = 2 };

/* ---- template table ---- */

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

ttree *tmpl_tree_get(const tmpl_set *s, const char *name)
{
	for (; s; s = s->parent) {
		size_t i;
		if (!s->cap)
			continue;
		for (i = hash_str(name) & (s->cap - 1); s->trees[i]; i = (i + 1) & (s->cap - 1))
			if (!strcmp(s->trees[i]->name, name))
				return s->trees[i];
	}
	return NULL;
}

void tmpl_tree_put(tmpl_set *s, ttree *t)
{
	size_t i;
	if ((s->ntrees + 1) * 2 > s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 4, k;
		ttree **nt = karena_alloc(s->a, nc * sizeof(*nt));
		for (k = 0; k < s->cap; k++) {
			if (!s->trees[k])
				continue;
			for (i = hash_str(s->trees[k]->name) & (nc - 1); nt[i]; i = (i + 1) & (nc - 1))
				;
			nt[i] = s->trees[k];
		}
		s->trees = nt;
		s->cap = nc;
	}
	for (i = hash_str(t->name) & (s->cap - 1); s->trees[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->trees[i]->name, t->name)) {
			s->trees[i] = t;
			return;
		}
	s->trees[i] = t;
	s->ntrees++;
}

/* entries in the order they were added: a later table overrides an
 * earlier one (Helm's funcMap over Sprig's over text/template's) */
typedef struct func_ent {
	const tfunc *f;
	size_t order;
} func_ent;

static int cmp_func_ent(const void *a, const void *b)
{
	const func_ent *x = a, *y = b;
	int c = strcmp(x->f->name, y->f->name);
	return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

/* Add every table at once: one sort, then the last entry of each name
 * wins (a linear scan per added function cost ~30,000 strcmp a render). */
static void funcs_add(tmpl_set *s, const tfunc *const *tabs, size_t ntabs)
{
	size_t n = s->funcs.n, i, k, out;
	func_ent *e;
	for (i = 0; i < ntabs; i++)
		for (k = 0; tabs[i][k].name; k++)
			n++;
	e = xcalloc(n ? n : 1, sizeof(*e));
	for (n = 0; n < s->funcs.n; n++) {
		e[n].f = s->funcs.v[n];
		e[n].order = n;
	}
	for (i = 0; i < ntabs; i++)
		for (k = 0; tabs[i][k].name; k++, n++) {
			e[n].f = &tabs[i][k];
			e[n].order = n;
		}
	qsort(e, n, sizeof(*e), cmp_func_ent);
	if (n > s->funcs.cap) {
		s->funcs.v = karena_realloc(s->a, s->funcs.v, s->funcs.n * sizeof(*s->funcs.v), n * sizeof(*s->funcs.v));
		s->funcs.cap = n;
	}
	for (i = 0, out = 0; i < n; i++)
		if (i + 1 == n || strcmp(e[i].f->name, e[i + 1].f->name))
			s->funcs.v[out++] = e[i].f;
	s->funcs.n = out;
	free(e);
}

void tmpl_funcs_add(tmpl_set *s, const tfunc *tab)
{
	funcs_add(s, &tab, 1);
}

const tfunc *tmpl_func_find(const tmpl_set *s, const char *name, size_t len)
{
	size_t lo = 0, hi = s->funcs.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *m = s->funcs.v[mid]->name;
		/* the first byte decides most steps without a call */
		int c = (unsigned char)m[0] - (unsigned char)name[0];
		if (c == 0)
			c = strncmp(m, name, len);
		if (c == 0 && m[len])
			c = 1;
		if (c == 0)
			return s->funcs.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void tmpl_set_lookup(tmpl_set *s, const tmpl_lookup *l)
{
	s->lookup = l;
}

tmpl_set *tmpl_set_new(karena *a)
{
	static const tfunc *const tabs[] = {
		tmpl_funcs_builtin, tmpl_funcs_strings, tmpl_funcs_lists, tmpl_funcs_dicts,
		tmpl_funcs_math, tmpl_funcs_encoding, tmpl_funcs_regex, tmpl_funcs_semver,
		tmpl_funcs_dates, tmpl_funcs_crypto, tmpl_funcs_helm,
	};
	tmpl_set *s = karena_alloc(a, sizeof(*s));
	s->a = a;
	funcs_add(s, tabs, sizeof(tabs) / sizeof(tabs[0]));
	return s;
}

int tmpl_parse(tmpl_set *s, const char *name, const char *text, size_t len, kerr *err)
{
	if (len > ((size_t)64 << 20))
		return kerr_set(err, KE_LIMIT, "template: %s: template too large", name);
	return tmpl_parse_file(s, name, text, len, true, err);
}

/* ---- errors ---- */

static int xerr(tctx *x, const tnode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int xerr(tctx *x, const tnode *n, const char *fmt, ...)
{
	kbuf b = KBUF_INIT;
	va_list ap;
	if (!n)
		n = x->node;
	if (n) {
		kbuf_puts(&b, "executing ");
		tv_quote(&b, x->tree->name, strlen(x->tree->name));
		kbuf_puts(&b, " at <");
		tmpl_node_string(&b, n);
		kbuf_puts(&b, ">: ");
	}
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (n)
		tmpl_error_set(x->err, TMPL_REASON_EXEC, n->tree->parse_name, n->tree->src, n->tree->srclen, n->pos,
			       x->helm_fail, b.ptr);
	else
		tmpl_error_set_name(x->err, x->tree ? x->tree->name : "?", x->helm_fail, b.ptr);
	kbuf_release(&b);
	return KE_INPUT;
}

/* Go's "expected integer; found 1.5" for a constant argument of the wrong kind. */
static int expected_arg(tctx *x, const tnode *n, const char *what)
{
	kbuf b = KBUF_INIT;
	int r;
	tmpl_node_string(&b, n);
	r = xerr(x, n, "expected %s; found %s", what, b.ptr);
	kbuf_release(&b);
	return r;
}

int tctx_fail(tctx *x, const char *fmt, ...)
{
	kbuf b = KBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	x->fail_msg = karena_strndup(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return KE_INPUT;
}

size_t tctx_mem_left(const tctx *x)
{
	size_t used = x->a->used_total - x->mem_start;
	return used < x->max_memory ? x->max_memory - used : 0;
}

static int mem_msg(tctx *x)
{
	return tctx_fail(x, "template uses more than %zu bytes of memory", x->max_memory);
}

int tctx_mem_reserve(tctx *x, size_t n)
{
	return n > tctx_mem_left(x) ? mem_msg(x) : 0;
}

kbuf tctx_buf(const tctx *x)
{
	kbuf b = KBUF_INIT;
	size_t left = tctx_mem_left(x);
	/* the arena copy needs the terminating NUL and 16-byte rounding */
	left = left > 32 ? left - 32 : 1;
	kbuf_set_cap(&b, left < KBUF_MAX ? left : KBUF_MAX);
	return b;
}

int tctx_ret_buf(tctx *x, doc_node **out, kbuf *b)
{
	if (kbuf_failed(b)) {
		size_t max = b->max ? b->max : KBUF_MAX;
		kbuf_release(b);
		if (max + 32 >= tctx_mem_left(x))
			return mem_msg(x);
		return tctx_fail(x, "result longer than %zu bytes", max);
	}
	*out = tv_str(x->a, b->ptr, b->len);
	kbuf_release(b);
	return 0;
}

/* ---- variables ---- */

static void push_var(tctx *x, const char *name, doc_node *v)
{
	ALLOC_GROW(x->vars, x->nvars + 1, x->capvars);
	x->vars[x->nvars].name = name;
	x->vars[x->nvars].val = v;
	x->nvars++;
}

static int set_var(tctx *x, const tnode *n, const char *name, doc_node *v)
{
	size_t i = x->nvars;
	while (i-- > x->var_base)
		if (!strcmp(x->vars[i].name, name)) {
			x->vars[i].val = v;
			return 0;
		}
	return xerr(x, n, "undefined variable: %s", name);
}

static int var_value(tctx *x, const tnode *n, const char *name, doc_node **out)
{
	size_t i = x->nvars;
	while (i-- > x->var_base)
		if (!strcmp(x->vars[i].name, name)) {
			*out = x->vars[i].val;
			return 0;
		}
	return xerr(x, n, "undefined variable: %s", name);
}

/* ---- evaluation ---- */

static int eval_pipeline(tctx *x, doc_node *dot, tnode *pipe, doc_node **out, bool decl);
static int eval_command(tctx *x, doc_node *dot, tnode *cmd, doc_node *final, bool has_final, doc_node **out);

static const char *sig_type(char c)
{
	switch (c) {
	case 's': return "string";
	case 'i': return "int";
	case 'I': return "int64";
	case 'f': return "float64";
	case 'b': return "bool";
	case 'l': return "[]interface {}";
	case 'S': return "[]string";
	case 'm': return "map[string]interface {}";
	case 't': return "time.Time";
	default: return "interface {}";
	}
}

static bool sig_ok(char c, const doc_node *v)
{
	switch (c) {
	case 's': return v->type == DOC_STR && !(v->flags & TV_BYTES);
	case 'i': return v->type == DOC_INT && (v->flags & TV_INT);
	case 'I': return v->type == DOC_INT && !(v->flags & (TV_INT | TV_U8));
	case 'f': return v->type == DOC_FLOAT;
	case 'b': return v->type == DOC_BOOL;
	case 'l': return v->type == DOC_SEQ && !(v->flags & (TV_STRS | TV_INTS | TV_OBJ));
	case 'S': return v->type == DOC_SEQ && (v->flags & TV_STRS);
	case 'm': return v->type == DOC_MAP && !(v->flags & (TV_STRUCT | TV_SMAP)) &&
			 (!(v->flags & TV_OBJ) || ((const tobj *)v)->kind == TOBJ_NAMED);
	case 't': return tv_is_time(v);
	default: return true;
	}
}

/* The node Go's exec last passed to s.at() once n is evaluated as an
 * argument, where it reports what is wrong with n's value (validateType):
 * a pipeline's last command's, a call's last argument's, recursively. */
static const tnode *go_last_node(const tnode *n)
{
	int depth = 0;
	while (n && depth++ < 1000) {
		const tnode *cmd, *first;
		if (n->k == TN_CHAIN) {
			n = n->pipe;
			continue;
		}
		if (n->k != TN_PIPE || !n->n)
			return n;
		cmd = n->v[n->n - 1];
		first = cmd->v[0];
		if (cmd->n > 1 && first->k != TN_PIPE)
			n = cmd->v[cmd->n - 1];
		else
			n = first;
	}
	return n;
}

/* Go's validateType for a value against a parameter type. */
static int validate(tctx *x, const tnode *n, char c, doc_node *v, doc_node **out)
{
	if (c == 'a' || c == 'r') {
		*out = v;
		return 0;
	}
	if (!v) {
		if (c == 'l' || c == 'S' || c == 'm') {
			*out = c == 'm' ? tv_map(x->a) : c == 'S' ? tv_strs(x->a) : tv_seq(x->a);
			return 0;
		}
		return xerr(x, n, "invalid value; expected %s", sig_type(c));
	}
	if (v->type == DOC_NULL)
		return xerr(x, n, "wrong type for value; expected %s; got interface {}", sig_type(c));
	if (!sig_ok(c, v))
		return xerr(x, n, "wrong type for value; expected %s; got %s", sig_type(c), tv_type_name(v));
	*out = v;
	return 0;
}

static int ideal_constant(tctx *x, tnode *n, doc_node **out)
{
	bool hexint = n->slen > 2 && (n->s[0] == '0' || n->s[1] == '0') &&
		      (strchr(n->s, 'x') || strchr(n->s, 'X')) && !strpbrk(n->s, "pP");
	if (n->num_float && !hexint && n->s[0] != '\'' && strpbrk(n->s, ".eEpP")) {
		*out = tv_float(x->a, n->num_f);
		return 0;
	}
	if (n->num_int) {
		*out = tv_int(x->a, n->num_i);
		return 0;
	}
	if (n->num_float)
		return xerr(x, n, "%s overflows int", n->s);
	*out = NULL;
	return 0;
}

/* evalArg: n evaluated for a parameter of type c. */
static int eval_arg(tctx *x, doc_node *dot, char c, tnode *n, doc_node **out)
{
	doc_node *v = NULL;
	int r;
	x->node = n;
	switch (n->k) {
	case TN_DOT:
		return validate(x, n, c, dot, out);
	case TN_NIL:
		if (c == 'a' || c == 'r') {
			*out = TV_NIL;
			return 0;
		}
		if (c == 'l' || c == 'S' || c == 'm')
			return validate(x, n, c, NULL, out);
		return xerr(x, n, "cannot assign nil to %s", sig_type(c));
	case TN_FIELD:
	case TN_VAR:
	case TN_PIPE:
	case TN_IDENT:
	case TN_CHAIN: {
		tnode cmd;
		tnode *args[1];
		if (n->k == TN_PIPE) {
			r = eval_pipeline(x, dot, n, &v, false);
		} else {
			memset(&cmd, 0, sizeof(cmd));
			cmd.k = TN_CMD;
			cmd.pos = n->pos;
			cmd.tree = n->tree;
			args[0] = n;
			cmd.v = args;
			cmd.n = 1;
			r = eval_command(x, dot, &cmd, NULL, false, &v);
		}
		if (r)
			return r;
		x->node = n;
		return validate(x, go_last_node(n), c, v, out);
	}
	default:
		break;
	}
	switch (c) {
	case 'b':
		if (n->k == TN_BOOL) { *out = n->cval; return 0; }
		x->node = n;
		return expected_arg(x, n, "bool");
	case 's':
		if (n->k == TN_STR) { *out = n->cval; return 0; }
		return expected_arg(x, n, "string");
	case 'i':
	case 'I':
		if (n->k == TN_NUM && n->num_int) {
			*out = c == 'i' ? tv_int(x->a, n->num_i) : tv_int64(x->a, n->num_i);
			return 0;
		}
		return expected_arg(x, n, "integer");
	case 'f':
		if (n->k == TN_NUM && n->num_float) {
			*out = tv_float(x->a, n->num_f);
			return 0;
		}
		return expected_arg(x, n, "float");
	case 'a':
	case 'r':
		switch (n->k) {
		case TN_BOOL:
		case TN_STR:
			*out = n->cval;
			return 0;
		case TN_NUM:
			return ideal_constant(x, n, out);
		default:
			break;
		}
		/* fall through */
	default: {
		kbuf b = KBUF_INIT;
		tmpl_node_string(&b, n);
		r = xerr(x, n, "can't handle %s for arg of type %s", b.ptr, sig_type(c));
		kbuf_release(&b);
		return r;
	}
	}
}

#define MAX_ARGS 64

/* eval_call with room for numin arguments in argv */
static int eval_call_in(tctx *x, doc_node *dot, const tfunc *f, tnode *node, tnode **args, size_t nargs,
			doc_node *final, bool has_final, doc_node **argv, doc_node **out)
{
	const char *sig = f->sig;
	size_t nsig = strlen(sig), nfixed, numin = nargs + (has_final ? 1 : 0), i;
	bool variadic = strchr(sig, '*') != NULL;
	char vtype = variadic ? sig[nsig - 1] : 0;
	int r;
	nfixed = variadic ? nsig - 2 : nsig;
	/* Go's evalFunction is at the function's identifier here */
	if (variadic) {
		if (numin < nfixed)
			return xerr(x, node->k == TN_CMD ? node->v[0] : node,
				    "wrong number of args for %s: want at least %zu got %zu", f->name, nfixed, nargs);
	} else if (numin != nfixed) {
		return xerr(x, node->k == TN_CMD ? node->v[0] : node, "wrong number of args for %s: want %zu got %zu",
			    f->name, nfixed, numin);
	}
	if (!strcmp(f->name, "and") || !strcmp(f->name, "or")) {
		bool is_or = f->name[0] == 'o';
		doc_node *v = NULL;
		for (i = 0; i < nargs; i++) {
			if ((r = eval_arg(x, dot, 'r', args[i], &v)))
				return r;
			if (tv_truth(v) == is_or) {
				*out = v;
				return 0;
			}
		}
		if (has_final)
			v = final;
		*out = v;
		return 0;
	}
	for (i = 0; i < nargs; i++) {
		char c = i < nfixed ? sig[i] : vtype;
		if ((r = eval_arg(x, dot, c, args[i], &argv[i])))
			return r;
	}
	if (has_final) {
		char c = nargs < nfixed ? sig[nargs] : vtype;
		/* Go reports this where it last was: the last argument, or the
		 * function's identifier */
		if ((r = validate(x, nargs ? go_last_node(args[nargs - 1]) : node->k == TN_CMD ? node->v[0] : node, c,
				  final, &argv[nargs])))
			return r;
	}
	x->fail_msg = NULL;
	x->node = node;
	if (++x->steps > x->max_steps)
		return xerr(x, node, "too many steps (more than %llu)", (unsigned long long)x->max_steps);
	if (!tctx_mem_left(x))
		return xerr(x, node, "template uses more than %zu bytes of memory", x->max_memory);
	r = f->fn(x, out, argv, numin);
	if (r) {
		if (x->fail_msg)
			return xerr(x, node, "error calling %s: %s", f->name, x->fail_msg);
		return r;
	}
	return 0;
}

/* Go's templates take any number of arguments (`list` with hundreds) */
static int eval_call(tctx *x, doc_node *dot, const tfunc *f, tnode *node, tnode **args, size_t nargs,
		     doc_node *final, bool has_final, doc_node **out)
{
	size_t numin = nargs + (has_final ? 1 : 0);
	doc_node *stackv[MAX_ARGS], **argv = numin <= MAX_ARGS ? stackv : xmalloc(numin * sizeof(*argv));
	int r = eval_call_in(x, dot, f, node, args, nargs, final, has_final, argv, out);
	if (argv != stackv)
		free(argv);
	return r;
}

/* at: where Go's s.node is when the field is evaluated, which its errors
 * name (after a chain's (pipeline), the last node evaluated in it); node:
 * where a method call's errors are */
static int eval_field(tctx *x, doc_node *dot, const char *name, tnode *node, const tnode *at, tnode **args,
		      size_t nargs, doc_node *final, bool has_final, doc_node *recv, bool iface, doc_node **out)
{
	bool has_args = nargs > 1 || has_final;
	doc_node *v;
	(void)dot;
	if (!recv) {
		if (x->strict)
			return xerr(x, at, "nil data; no entry for key \"%s\"", name);
		*out = NULL;
		return 0;
	}
	if (recv->type == DOC_NULL)
		return xerr(x, at, "nil pointer evaluating interface {}.%s", name);
	if (recv->flags & TV_OBJ) {
		bool found = false;
		doc_node *argv[MAX_ARGS];
		size_t i, na = 0, given = (nargs > 1 ? nargs - 1 : 0) + has_final;
		const char *sig = tmpl_obj_method_sig(recv, name);
		int r;
		/* Go checks a method's arity, then each argument's type */
		if (sig && given != strlen(sig))
			return xerr(x, at, "wrong number of args for %s: want %zu got %zu", name, strlen(sig), given);
		for (i = 1; i < nargs && na < MAX_ARGS - 1; i++)
			if ((r = eval_arg(x, dot, sig ? sig[i - 1] : 'a', args[i], &argv[na++])))
				return r;
		if (has_final) {
			if (!sig)
				argv[na] = final;
			else if ((r = validate(x, nargs > 1 ? go_last_node(args[nargs - 1]) : at, sig[na], final, &argv[na])))
				return r;
			na++;
		}
		x->fail_msg = NULL;
		r = tmpl_obj_method(x, out, recv, name, argv, na, &found);
		if (found) {
			/* a method's arity is checked before the call: no "error calling" */
			if (r && x->fail_msg && !strncmp(x->fail_msg, "wrong number of args for ", 25))
				return xerr(x, at, "%s", x->fail_msg);
			if (r)
				return x->fail_msg ? xerr(x, node, "error calling %s: %s", name, x->fail_msg) : r;
			return 0;
		}
	}
	if (recv->type == DOC_MAP) {
		v = doc_map_get(recv, name);
		if (recv->flags & TV_STRUCT) {
			/* Go names the type it found the struct as: interface {}
			 * when it came out of a map (.Capabilities.Nope); fields
			 * in lower case are unexported */
			if (v && name[0] >= 'a' && name[0] <= 'z')
				return xerr(x, at, "%s is an unexported field of struct type %s", name,
					    iface ? "interface {}" : tv_type_name(recv));
			if (!v)
				return xerr(x, at, "can't evaluate field %s in type %s", name,
					    iface ? "interface {}" : tv_type_name(recv));
			if (has_args)
				return xerr(x, at, "%s has arguments but cannot be invoked as function", name);
			*out = v;
			return 0;
		}
		if (has_args)
			return xerr(x, at, "%s is not a method but has arguments", name);
		if (!v) {
			if (x->strict)
				return xerr(x, at, "map has no entry for key \"%s\"", name);
			v = TV_NIL;
		}
		*out = v;
		return 0;
	}
	return xerr(x, at, "can't evaluate field %s in type %s", name, iface ? "interface {}" : tv_type_name(recv));
}

static int eval_field_chain(tctx *x, doc_node *dot, doc_node *recv, tnode *node, const tnode *at,
			    const char **idents, size_t n, tnode **args, size_t nargs, doc_node *final,
			    bool has_final, doc_node **out)
{
	size_t i;
	int r;
	bool iface = false;
	for (i = 0; i + 1 < n; i++) {
		bool was_map = recv && recv->type == DOC_MAP && !(recv->flags & TV_STRUCT);
		if ((r = eval_field(x, dot, idents[i], node, at, NULL, 0, NULL, false, recv, iface, &recv)))
			return r;
		iface = was_map;
	}
	return eval_field(x, dot, idents[n - 1], node, at, args, nargs, final, has_final, recv, iface, out);
}

static int not_a_function(tctx *x, tnode *cmd, size_t nargs, bool has_final)
{
	if (nargs > 1 || has_final) {
		kbuf b = KBUF_INIT;
		int r;
		tmpl_node_string(&b, cmd->v[0]);
		r = xerr(x, cmd->v[0], "can't give argument to non-function %s", b.ptr);
		kbuf_release(&b);
		return r;
	}
	return 0;
}

static int eval_command(tctx *x, doc_node *dot, tnode *cmd, doc_node *final, bool has_final, doc_node **out)
{
	tnode *first = cmd->v[0];
	int r;
	x->node = first;
	switch (first->k) {
	case TN_FIELD:
		return eval_field_chain(x, dot, dot, first, first, first->idents, first->nidents, cmd->v, cmd->n,
					final, has_final, out);
	case TN_CHAIN: {
		doc_node *p = NULL;
		if (first->pipe->k == TN_NIL)
			return xerr(x, first, "indirection through explicit nil in %s", "chain");
		if ((r = eval_arg(x, dot, 'a', first->pipe, &p)))
			return r;
		return eval_field_chain(x, dot, p, first, go_last_node(first->pipe), first->idents, first->nidents,
					cmd->v, cmd->n, final, has_final, out);
	}
	case TN_IDENT:
		return eval_call(x, dot, first->fn, cmd, cmd->v + 1, cmd->n - 1, final, has_final, out);
	case TN_PIPE:
		if ((r = not_a_function(x, cmd, cmd->n, has_final)))
			return r;
		return eval_pipeline(x, dot, first, out, false);
	case TN_VAR: {
		doc_node *v = NULL;
		if ((r = var_value(x, first, first->idents[0], &v)))
			return r;
		if (first->nidents == 1) {
			if ((r = not_a_function(x, cmd, cmd->n, has_final)))
				return r;
			*out = v;
			return 0;
		}
		return eval_field_chain(x, dot, v, first, first, first->idents + 1, first->nidents - 1, cmd->v, cmd->n,
					final, has_final, out);
	}
	default:
		break;
	}
	if ((r = not_a_function(x, cmd, cmd->n, has_final)))
		return r;
	switch (first->k) {
	case TN_BOOL:
	case TN_STR:
		*out = first->cval;
		return 0;
	case TN_DOT:
		*out = dot;
		return 0;
	case TN_NIL:
		return xerr(x, first, "nil is not a command");
	case TN_NUM:
		return ideal_constant(x, first, out);
	default:
		return xerr(x, first, "can't evaluate command");
	}
}

static int eval_pipeline(tctx *x, doc_node *dot, tnode *pipe, doc_node **out, bool decl)
{
	doc_node *v = NULL;
	size_t i;
	int r;
	x->node = pipe;
	for (i = 0; i < pipe->n; i++) {
		if ((r = eval_command(x, dot, pipe->v[i], v, i > 0, &v)))
			return r;
		/* an interface{} is dug into after every command: nil becomes
		 * the invalid value (Go's evalPipeline) */
		if (v && v->type == DOC_NULL)
			v = NULL;
	}
	if (decl) {
		for (i = 0; i < pipe->ndecl; i++) {
			if (pipe->assign) {
				if ((r = set_var(x, pipe, pipe->decl[i], v)))
					return r;
			} else {
				push_var(x, pipe->decl[i], v);
			}
		}
	}
	*out = v;
	return 0;
}

/* ---- walking ---- */

static int walk(tctx *x, doc_node *dot, tnode *n);

static int check_out(tctx *x, const tnode *n)
{
	if (x->out->len > x->out_cap)
		return xerr(x, n, "output exceeds %zu bytes", x->out_cap);
	return 0;
}

static int walk_list(tctx *x, doc_node *dot, tnode *list)
{
	size_t i;
	int r;
	if (!list)
		return 0;
	for (i = 0; i < list->n; i++)
		if ((r = walk(x, dot, list->v[i])))
			return r;
	return 0;
}

static int print_value(tctx *x, tnode *n, doc_node *v)
{
	if (!v) {
		kbuf_puts(x->out, "<no value>");
		return check_out(x, n);
	}
	if ((v->flags & TV_OBJ) && ((tobj *)v)->kind == TOBJ_KUBEVERSION)
		v = doc_map_get(v, "normalizedVersion"); /* (*KubeVersion).String() */
	if ((v->flags & TV_OBJ) && ((tobj *)v)->kind == TOBJ_SEMVER) {
		tsemver_string(x->out, v);
		return check_out(x, n);
	}
	if (v && v->type == DOC_STR && !(v->flags & TV_BYTES)) {
		kbuf_put(x->out, v->u.s.ptr, v->u.s.len);
	} else {
		size_t start = x->out->len;
		tv_print(x->out, v);
		/* printableValue prints what a pointer points to: no '&' */
		if ((v->flags & TV_STRUCT) && x->out->len > start && x->out->ptr[start] == '&') {
			memmove(x->out->ptr + start, x->out->ptr + start + 1, x->out->len - start - 1);
			kbuf_truncate(x->out, x->out->len - 1);
		}
	}
	return check_out(x, n);
}

static int range_iter(tctx *x, tnode *n, doc_node *key, doc_node *elem)
{
	int r;
	if (++x->steps > x->max_steps)
		return xerr(x, n, "too many steps (more than %llu)", (unsigned long long)x->max_steps);
	if (!tctx_mem_left(x))
		return xerr(x, n, "template uses more than %zu bytes of memory", x->max_memory);
	if (n->pipe->ndecl > 0) {
		if (n->pipe->assign) {
			if (n->pipe->ndecl > 1) {
				if ((r = set_var(x, n, n->pipe->decl[0], key)) ||
				    (r = set_var(x, n, n->pipe->decl[1], elem)))
					return r;
			} else if ((r = set_var(x, n, n->pipe->decl[0], elem))) {
				return r;
			}
		} else {
			x->vars[x->nvars - 1].val = elem;
			if (n->pipe->ndecl > 1)
				x->vars[x->nvars - 2].val = key;
		}
	}
	{
		size_t mark = x->nvars;
		r = walk_list(x, elem, n->list);
		x->nvars = mark;
	}
	return r;
}

/* One iteration of a range; true when the loop must stop (break, or an
 * error left in *r). continue just goes on. */
static bool range_step(tctx *x, tnode *n, doc_node *k, doc_node *v, int *r)
{
	*r = range_iter(x, n, k, v);
	if (*r == WALK_BREAK) {
		*r = 0;
		return true;
	}
	if (*r == WALK_CONTINUE)
		*r = 0;
	return *r != 0;
}

static int walk_range(tctx *x, doc_node *dot, tnode *n)
{
	size_t mark = x->nvars, i;
	doc_node *val;
	int r;
	bool any = false;
	(void)dot;
	if ((r = eval_pipeline(x, dot, n->pipe, &val, true)))
		return r;
	if (val && !(val->type == DOC_MAP && (val->flags & TV_STRUCT))) {
		switch (val->type) {
		case DOC_SEQ:
			if (val->flags & TV_STRS) {
				/* elements are plain strings */
			}
			for (i = 0; i < val->u.seq.len; i++) {
				doc_node *e = val->u.seq.v[i];
				any = true;
				if (range_step(x, n, tv_int(x->a, (int64_t)i), e, &r))
					break;
			}
			break;
		case DOC_MAP: {
			const doc_pair **ps;
			if (!val->u.map.len)
				break;
			ps = tv_sorted_pairs(val);
			for (i = 0; i < val->u.map.len; i++) {
				any = true;
				if (range_step(x, n, ps[i]->key, ps[i]->val, &r))
					break;
			}
			free(ps);
			break;
		}
		case DOC_INT: {
			int64_t k;
			if (n->pipe->ndecl > 1) {
				/* Go reports these where evaluating the pipeline left s.node */
				r = xerr(x, go_last_node(n->pipe), "can't use %lld to iterate over more than one variable",
					 (long long)val->u.i);
				break;
			}
			for (k = 0; k < val->u.i; k++) {
				any = true;
				if (range_step(x, n, NULL, (val->flags & TV_INT) ? tv_int(x->a, k) : tv_int64(x->a, k), &r))
					break;
			}
			break;
		}
		case DOC_NULL:
			break;
		default: {
			kbuf b = KBUF_INIT;
			tv_print(&b, val);
			r = xerr(x, go_last_node(n->pipe), "range can't iterate over %s", b.ptr);
			kbuf_release(&b);
			break;
		}
		}
	} else if (val) {
		kbuf b = KBUF_INIT;
		tv_print(&b, val);
		r = xerr(x, go_last_node(n->pipe), "range can't iterate over %s", b.ptr);
		kbuf_release(&b);
	}
	if (!r && !any && n->elist)
		r = walk_list(x, dot, n->elist);
	x->nvars = mark;
	return r;
}

static int walk_template(tctx *x, doc_node *dot, tnode *n)
{
	ttree *t = tmpl_tree_get(x->set, n->s), *saved_tree;
	doc_node *nd = NULL;
	size_t saved_base, saved_n;
	int r;
	if (!t)
		return xerr(x, n, "template \"%s\" not defined", n->s);
	if (n->pipe && (r = eval_pipeline(x, dot, n->pipe, &nd, false)))
		return r;
	if (x->depth >= MAX_EXEC_DEPTH)
		return xerr(x, n, "exceeded maximum template depth (%d)", MAX_EXEC_DEPTH);
	x->depth++;
	saved_tree = x->tree;
	saved_base = x->var_base;
	saved_n = x->nvars;
	x->var_base = x->nvars;
	push_var(x, "$", nd);
	x->tree = t;
	r = walk_list(x, nd, t->root);
	x->tree = saved_tree;
	x->var_base = saved_base;
	x->nvars = saved_n;
	x->depth--;
	return r;
}

static int walk(tctx *x, doc_node *dot, tnode *n)
{
	doc_node *v;
	size_t mark;
	int r;
	switch (n->k) {
	case TN_TEXT:
		kbuf_put(x->out, n->s, n->slen);
		return check_out(x, n);
	case TN_ACTION:
		if ((r = eval_pipeline(x, dot, n->pipe, &v, true)))
			return r;
		if (n->pipe->ndecl == 0)
			return print_value(x, n, v);
		return 0;
	case TN_IF:
	case TN_WITH:
		mark = x->nvars;
		if ((r = eval_pipeline(x, dot, n->pipe, &v, true)))
			return r;
		if (tv_truth(v))
			r = walk_list(x, n->k == TN_WITH ? v : dot, n->list);
		else if (n->elist)
			r = walk_list(x, dot, n->elist);
		x->nvars = mark;
		return r;
	case TN_RANGE:
		return walk_range(x, dot, n);
	case TN_TEMPLATE:
		return walk_template(x, dot, n);
	case TN_BREAK:
		return WALK_BREAK;
	case TN_CONTINUE:
		return WALK_CONTINUE;
	case TN_LIST:
		return walk_list(x, dot, n);
	default:
		return xerr(x, n, "unknown node");
	}
}

static int exec_tree(tctx *x, ttree *t, doc_node *dot)
{
	ttree *saved_tree = x->tree;
	size_t saved_base = x->var_base, saved_n = x->nvars;
	int r;
	/* include and tpl nest up to Helm's per-name limit (1000 includes of
	 * one name), an include and a tpl a level each; this bounds the C
	 * stack whatever the names */
	if (x->depth >= MAX_NEST_DEPTH)
		return kerr_set(x->err, KE_LIMIT, "template: %s: exceeded maximum template depth (%d)",
				t->name, MAX_NEST_DEPTH);
	x->depth++;
	x->tree = t;
	x->var_base = x->nvars;
	push_var(x, "$", dot);
	r = walk_list(x, dot, t->root);
	if (r > 0)
		r = 0;
	x->tree = saved_tree;
	x->var_base = saved_base;
	x->nvars = saved_n;
	x->depth--;
	return r;
}

/* The template include and tpl run in: Helm's engine parses every file
 * into one set rooted at "gotpl", and tpl parses its text under that name */
static const char *tpl_root_name(const tctx *x)
{
	return x->set->helm || !x->root_name ? "gotpl" : x->root_name;
}

int tctx_exec_named(tctx *x, const char *name, doc_node *dot, kbuf *out)
{
	ttree *t = tmpl_tree_get(x->set, name);
	kbuf *saved = x->out;
	tnode *saved_node = x->node;
	int r;
	if (!t)
		return kerr_set(x->err, KE_INPUT, "template: no template \"%s\" associated with template \"%s\"",
				name, tpl_root_name(x));
	x->out = out;
	r = exec_tree(x, t, dot);
	x->out = saved;
	x->node = saved_node;
	return r;
}

/* A text tpl parsed under a set: Helm parses it at every call, but the
 * same text under the same set and name parses to the same trees, which
 * execution never changes, and charts pass tpl the same few strings over
 * and over (a value per item of a range). */
typedef struct tpl_parsed {
	const char *name;
	const char *text;    /* the child's copy */
	size_t len, hash;
	tmpl_set *child;
} tpl_parsed;

static size_t hash_text(const char *s, size_t n)
{
	size_t h = 1469598103934665603ULL, i;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static tmpl_set *tpl_cached(const tmpl_set *s, const char *name, const char *text, size_t len, size_t h)
{
	size_t i;
	if (!s->captpl)
		return NULL;
	for (i = h & (s->captpl - 1); s->tpl[i]; i = (i + 1) & (s->captpl - 1)) {
		const tpl_parsed *e = s->tpl[i];
		if (e->hash == h && e->len == len && !memcmp(e->text, text, len) && !strcmp(e->name, name))
			return e->child;
	}
	return NULL;
}

static void tpl_cache_put(tmpl_set *s, tpl_parsed *e)
{
	size_t i, k;
	if ((s->ntpl + 1) * 2 > s->captpl) {
		size_t nc = s->captpl ? s->captpl * 2 : 8;
		tpl_parsed **nt = karena_alloc(s->a, nc * sizeof(*nt));
		for (k = 0; k < s->captpl; k++) {
			if (!s->tpl[k])
				continue;
			for (i = s->tpl[k]->hash & (nc - 1); nt[i]; i = (i + 1) & (nc - 1))
				;
			nt[i] = s->tpl[k];
		}
		s->tpl = nt;
		s->captpl = nc;
	}
	for (i = e->hash & (s->captpl - 1); s->tpl[i]; i = (i + 1) & (s->captpl - 1))
		;
	s->tpl[i] = e;
	s->ntpl++;
}

int tctx_exec_text(tctx *x, const char *text, size_t len, doc_node *dot, kbuf *out)
{
	tmpl_set *saved = x->set, *child;
	kbuf *saved_out = x->out;
	tnode *saved_node = x->node;
	const char *name = tpl_root_name(x);
	size_t h = hash_text(text, len);
	ttree *t;
	int r;
	child = tpl_cached(saved, name, text, len, h);
	if (!child) {
		tpl_parsed *e;
		child = karena_alloc(x->a, sizeof(*child));
		child->a = x->a;
		child->funcs = x->set->funcs;
		child->parent = x->set;
		child->helm = x->set->helm;
		child->lookup = x->set->lookup;
		if ((r = tmpl_parse_file(child, name, text, len, true, x->err)))
			return r;
		t = tmpl_tree_get(child, name);
		e = karena_alloc(x->a, sizeof(*e));
		e->name = t->name;
		e->text = t->src;
		e->len = len;
		e->hash = h;
		e->child = child;
		tpl_cache_put(saved, e);
	}
	t = tmpl_tree_get(child, name);
	x->set = child;
	x->out = out;
	r = exec_tree(x, t, dot);
	x->set = saved;
	x->out = saved_out;
	x->node = saved_node;
	return r;
}

void tmpl_ctx_init(tctx *x, tmpl_set *s, kbuf *out, const tmpl_exec_opts *opts, kerr *err)
{
	memset(x, 0, sizeof(*x));
	x->set = s;
	x->a = s->a;
	x->err = err;
	x->out = out;
	x->opts = opts;
	x->out_cap = opts && opts->max_output ? opts->max_output : DEFAULT_MAX_OUTPUT;
	x->max_steps = opts && opts->max_steps ? opts->max_steps : 100000000ULL;
	x->max_memory = opts && opts->max_memory ? opts->max_memory : ((size_t)2 << 30);
	x->mem_start = s->a->used_total;
	x->strict = opts && opts->strict;
}

void tmpl_ctx_release(tctx *x)
{
	free(x->vars);
	x->vars = NULL;
	free(x->incl);
	x->incl = NULL;
}

/* Remove every "<no value>" from out[start..] (Helm does so after rendering). */
void tmpl_strip_no_value(kbuf *out, size_t start)
{
	char *p = out->ptr + start, *w, *end = out->ptr + out->len;
	const char *q;
	if (!memmem(p, (size_t)(end - p), "<no value>", 10))
		return;
	w = p;
	while (p < end) {
		q = memmem(p, (size_t)(end - p), "<no value>", 10);
		if (!q) {
			memmove(w, p, (size_t)(end - p));
			w += end - p;
			break;
		}
		memmove(w, p, (size_t)(q - p));
		w += q - p;
		p = (char *)q + 10;
	}
	kbuf_truncate(out, (size_t)(w - out->ptr));
}

int tmpl_exec(tmpl_set *s, const char *name, doc_node *dot, kbuf *out, const tmpl_exec_opts *opts, kerr *err)
{
	tctx x;
	ttree *t = tmpl_tree_get(s, name);
	size_t start = out->len;
	int r;
	if (!t)
		return kerr_set(err, KE_INPUT, "template: no template \"%s\" associated with template \"%s\"",
				name, name);
	tmpl_ctx_init(&x, s, out, opts, err);
	x.root_name = name;
	r = exec_tree(&x, t, dot);
	if (r && x.fail_code)
		r = err->code = x.fail_code;
	tmpl_ctx_release(&x);
	if (!r && !(opts && opts->keep_no_value))
		tmpl_strip_no_value(out, start);
	return r;
}
