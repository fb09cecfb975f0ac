/* tmpl/funcs_helm.c - Helm's own template functions (pkg/engine/funcs.go,
 * engine.go): include, tpl, required, lookup (the set's tmpl_lookup, or
 * an empty map: kstage template never talks to a cluster), and the
 * methods of Helm's objects: .Files (Get, GetBytes, Glob, Lines, AsConfig,
 * AsSecrets), .Capabilities.APIVersions.Has and common.Values (AsMap,
 * YAML, Table, PathValue). */
#include <string.h>

#include "tmpl_int.h"
#include "core/alloc.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)
#define HELM_RECURSION_MAX 1000

/* Helm counts the includes of each name under way: past 1000 nested ones
 * of a name, include fails. */
static struct tincl *include_count(tctx *x, const char *name)
{
	size_t i;
	for (i = 0; i < x->nincl; i++)
		if (!strcmp(x->incl[i].name, name))
			return &x->incl[i];
	ALLOC_GROW(x->incl, x->nincl + 1, x->capincl);
	x->incl[x->nincl].name = name;
	x->incl[x->nincl].n = 0;
	return &x->incl[x->nincl++];
}

static int f_include(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	struct tincl *c;
	int r;
	(void)n;
	c = include_count(x, S(0));
	if (c->n > HELM_RECURSION_MAX)
		return tctx_fail(x, "rendering template has a nested reference name: %s: unable to execute template", S(0));
	c->n++;
	/* ExecuteTemplate takes data as interface{}: nil is the invalid
	 * value there, not a nil interface (hasKey . "k" is false) */
	r = tctx_exec_named(x, S(0), a[1] && a[1]->type == DOC_NULL ? NULL : a[1], &b);
	include_count(x, S(0))->n--;
	if (r) {
		kbuf m = KBUF_INIT;
		tmpl_error_format_go(x->err, &m);
		kbuf_release(&b);
		r = tctx_fail(x, "%s", m.ptr);
		kbuf_release(&m);
		return r;
	}
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_tpl(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	int r;
	(void)n;
	r = tctx_exec_text(x, S(0), SL(0), a[1], &b);
	if (r) {
		kbuf m = KBUF_INIT, q = KBUF_INIT;
		tmpl_error_format_go(x->err, &m);
		tv_quote(&q, S(0), SL(0));
		kbuf_release(&b);
		if (kerr_reason_is(x->err, TMPL_REASON_EXEC))
			r = tctx_fail(x, "error during tpl function execution for %s: %s", q.ptr, m.ptr);
		else
			r = tctx_fail(x, "cannot parse template %s: %s", q.ptr, m.ptr);
		kbuf_release(&m);
		kbuf_release(&q);
		return r;
	}
	tmpl_strip_no_value(&b, 0);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_required(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	if (tv_isnil(a[1]) || (a[1]->type == DOC_STR && a[1]->u.s.len == 0)) {
		if (x->set->helm)
			x->helm_fail = karena_strdup(x->a, S(0));
		return tctx_fail(x, "%s", S(0));
	}
	*out = a[1];
	return 0;
}

static int f_lookup(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	const tmpl_lookup *l = x->set->lookup;
	kerr e = KERR_INIT;
	int r;
	(void)n;
	if (!l) {
		*out = tv_map(x->a);
		return 0;
	}
	if ((r = l->fn(l->u, out, x->a, S(0), S(1), S(2), S(3), &e))) {
		x->fail_code = r;
		r = tctx_fail(x, "%s", e.first.msg ? e.first.msg : "lookup failed");
		kerr_clear(&e);
		return r;
	}
	kerr_clear(&e);
	if (!*out)
		*out = tv_map(x->a);
	return 0;
}


static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');
	return b ? b + 1 : s;
}

static doc_node *files_new(karena *a)
{
	tobj *o = tobj_new(a, TOBJ_FILES, "engine.files", DOC_MAP);
	return &o->n;
}

static int files_method(tctx *x, doc_node **out, doc_node *recv, const char *name, doc_node **a, size_t n)
{
	size_t i;
	(void)n; /* arity and types are checked by the caller (method_sigs) */
	if (!strcmp(name, "Get") || !strcmp(name, "GetBytes")) {
		doc_node *v = doc_map_getn(recv, S(0), SL(0));
		*out = tv_str(x->a, v ? v->u.s.ptr : "", v ? v->u.s.len : 0);
		if (name[3])
			(*out)->flags |= TV_BYTES;
		return 0;
	}
	if (!strcmp(name, "Lines")) {
		doc_node *v = doc_map_getn(recv, S(0), SL(0)), *r = tv_strs(x->a);
		const char *s, *e;
		/* Helm's Lines looks at the last byte of any file it has */
		if (v && !v->u.s.len)
			return tctx_fail(x, "runtime error: index out of range [-1]");
		if (v) {
			s = v->u.s.ptr;
			e = s + v->u.s.len;
			if (e[-1] == '\n')
				e--;
			for (;;) {
				const char *nl = memchr(s, '\n', (size_t)(e - s));
				doc_seq_push(x->a, r, tv_str(x->a, s, nl ? (size_t)(nl - s) : (size_t)(e - s)));
				if (!nl)
					break;
				s = nl + 1;
			}
		}
		*out = r;
		return 0;
	}
	if (!strcmp(name, "Glob")) {
		doc_node *r = files_new(x->a);
		tglob *g = tglob_compile(x->a, S(0), SL(0));
		for (i = 0; i < recv->u.map.len; i++) {
			doc_pair *p = &recv->u.map.v[i];
			if (tglob_match(g, p->key->u.s.ptr, p->key->u.s.len))
				doc_map_setn(x->a, r, p->key->u.s.ptr, p->key->u.s.len, p->val);
		}
		*out = r;
		return 0;
	}
	if (!strcmp(name, "AsConfig") || !strcmp(name, "AsSecrets")) {
		doc_node *m = tv_map(x->a);
		kbuf b = KBUF_INIT;
		bool secrets = name[2] == 'S';
		for (i = 0; i < recv->u.map.len; i++) {
			doc_pair *p = &recv->u.map.v[i];
			doc_node *v = p->val;
			if (secrets) {
				kbuf e = KBUF_INIT;
				tv_b64enc(&e, (const unsigned char *)v->u.s.ptr, v->u.s.len);
				v = tv_str(x->a, e.ptr, e.len);
				kbuf_release(&e);
			} else {
				v = tv_str(x->a, v->u.s.ptr, v->u.s.len);
			}
			doc_map_set(x->a, m, base_name(p->key->u.s.ptr), v);
		}
		if (tv_to_yaml(x, &b, m)) {
			kbuf_release(&b);
			*out = tv_strz(x->a, "");
			return 0;
		}
		if (b.len && b.ptr[b.len - 1] == '\n')
			b.len--;
		*out = tv_str(x->a, b.ptr, b.len);
		kbuf_release(&b);
		return 0;
	}
	return 1; /* not a method */
}

const char tobj_in_parent = 0;

static bool is_values(const doc_node *v)
{
	return v && (v->flags & TV_OBJ) && v->type == DOC_MAP && ((const tobj *)v)->kind == TOBJ_NAMED &&
	       !strcmp(((const tobj *)v)->type_name, "common.Values");
}

bool tv_is_plain_map(const doc_node *v)
{
	if (!v || v->type != DOC_MAP || (v->flags & (TV_SMAP | TV_STRUCT)))
		return false;
	return !(v->flags & TV_OBJ) || (is_values(v) && ((const tobj *)v)->ptr == TOBJ_IN_PARENT);
}

/* a map sharing m's entries; its capacity is its length, so that what is
 * added to it does not land in m's spare room */
static doc_node *map_view(karena *a, const doc_node *m, doc_node *r)
{
	r->u.map.v = m->u.map.v;
	r->u.map.len = r->u.map.cap = m->u.map.len;
	return r;
}

/* common.Values's tableLookup: a map[string]interface {} (or Values) at
 * key k[0..kl) of t, else NULL */
static doc_node *values_table(const doc_node *t, const char *k, size_t kl)
{
	doc_node *v = doc_map_getn(t, k, kl);
	return v && (tv_is_plain_map(v) || is_values(v)) ? v : NULL;
}

/* Helm's common.Values methods (pkg/chart/common/values.go): AsMap, YAML,
 * Table, PathValue. Paths are keys split at every '.'. */
static int values_method(tctx *x, doc_node **out, doc_node *recv, const char *name, doc_node **a, size_t n)
{
	(void)n;
	if (!strcmp(name, "AsMap")) {
		*out = map_view(x->a, recv, tv_map(x->a));
		return 0;
	}
	if (!strcmp(name, "YAML")) {
		kbuf b = KBUF_INIT;
		int r = tv_to_yaml(x, &b, recv);
		*out = r ? NULL : tv_str(x->a, b.ptr ? b.ptr : "", b.len);
		kbuf_release(&b);
		return r;
	}
	{
		/* Table(path) walks every segment; PathValue(path) the tables of
		 * all but the last, whose value must not be a table */
		bool pv = name[0] == 'P';
		const char *p = S(0), *e = p + SL(0), *dot;
		doc_node *t = recv, *v;
		if (pv && p == e)
			return tctx_fail(x, "YAML path cannot be empty");
		for (;;) {
			dot = memchr(p, '.', (size_t)(e - p));
			if (pv && !dot)
				break;
			if (!(t = values_table(t, p, (size_t)((dot ? dot : e) - p)))) {
				if (!pv)
					return tctx_fail(x, "\"%.*s\" is not a table", (int)((dot ? dot : e) - p), p);
				/* PathValue names the last key */
				for (p = e; p > S(0) && p[-1] != '.'; p--)
					;
				return tctx_fail(x, "\"%.*s\" is not a value", (int)(e - p), p);
			}
			if (!dot)
				break;
			p = dot + 1;
		}
		if (!pv) {
			*out = is_values(t) ? t : map_view(x->a, t, &tobj_new(x->a, TOBJ_NAMED, "common.Values", DOC_MAP)->n);
			return 0;
		}
		v = doc_map_getn(t, p, (size_t)(e - p));
		if (!v || tv_is_plain_map(v))
			return tctx_fail(x, "\"%.*s\" is not a value", (int)(e - p), p);
		*out = v;
		return 0;
	}
}

/* the parameter types (tfunc signature letters) of the methods whose
 * arguments Go checks before the call */
static const struct msig {
	tobj_kind kind;
	const char *name, *sig;
} method_sigs[] = {
	{ TOBJ_FILES, "Get", "s" }, { TOBJ_FILES, "GetBytes", "s" }, { TOBJ_FILES, "Lines", "s" },
	{ TOBJ_FILES, "Glob", "s" }, { TOBJ_FILES, "AsConfig", "" }, { TOBJ_FILES, "AsSecrets", "" },
	{ TOBJ_APIVERSIONS, "Has", "s" },
	{ TOBJ_NAMED, "AsMap", "" }, { TOBJ_NAMED, "YAML", "" }, { TOBJ_NAMED, "Table", "s" },
	{ TOBJ_NAMED, "PathValue", "s" },
};

const char *tmpl_obj_method_sig(const doc_node *recv, const char *name)
{
	const tobj *o = (const tobj *)recv;
	size_t i;
	if (name[0] < 'A' || name[0] > 'Z')   /* no method: most names are values keys */
		return NULL;
	if (o->kind == TOBJ_NAMED && !is_values(recv))
		return NULL;
	for (i = 0; i < sizeof(method_sigs) / sizeof(method_sigs[0]); i++)
		if (method_sigs[i].kind == o->kind && method_sigs[i].name[0] == name[0] &&
		    !strcmp(method_sigs[i].name, name))
			return method_sigs[i].sig;
	return NULL;
}

int tmpl_obj_method(tctx *x, doc_node **out, doc_node *recv, const char *name, doc_node **args, size_t n,
		    bool *found)
{
	tobj *o = (tobj *)recv;
	int r;
	*found = false;
	switch (o->kind) {
	case TOBJ_FILES:
		r = files_method(x, out, recv, name, args, n);
		if (r == 1)
			return 0;
		*found = true;
		return r;
	case TOBJ_APIVERSIONS:
		if (strcmp(name, "Has"))
			return 0;
		*found = true;
		{
			size_t i;
			for (i = 0; i < recv->u.seq.len; i++) {
				doc_node *v = recv->u.seq.v[i];
				if (v->u.s.len == args[0]->u.s.len && !memcmp(v->u.s.ptr, args[0]->u.s.ptr, v->u.s.len)) {
					*out = tv_bool(true);
					return 0;
				}
			}
		}
		*out = tv_bool(false);
		return 0;
	case TOBJ_SEMVER:
		return tsemver_method(x, out, recv, name, args, n, found);
	case TOBJ_NAMED:
		if (!tmpl_obj_method_sig(recv, name))
			return 0;
		*found = true;
		return values_method(x, out, recv, name, args, n);
	case TOBJ_KUBEVERSION:
		if (strcmp(name, "String") && strcmp(name, "GitVersion"))
			return 0;
		*found = true;
		if (n)
			return tctx_fail(x, "wrong number of args for %s: want 0 got %zu", name, n);
		*out = doc_map_get(recv, name[0] == 'S' ? "normalizedVersion" : "Version");
		return 0;
	default:
		return 0;
	}
}

tobj *tobj_new(karena *a, tobj_kind kind, const char *type_name, doc_type t)
{
	tobj *o = karena_alloc(a, sizeof(*o));
	o->n.type = t;
	o->n.flags = TV_OBJ;
	o->kind = kind;
	o->type_name = type_name;
	return o;
}

values_num_mode tmpl_helm_num_mode(const struct tmpl_helm *h) { return h ? h->num : VALUES_NUM_HELM; }

const tfunc tmpl_funcs_helm[] = {
	{ "include", f_include, "sa" },
	{ "tpl", f_tpl, "sa" },
	{ "required", f_required, "sa" },
	{ "lookup", f_lookup, "ssss" },
	{ NULL, NULL, NULL },
};
