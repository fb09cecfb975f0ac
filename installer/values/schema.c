/*
 * values/schema.c - JSON Schema validation, draft-07 and 2020-12.
 *
 * Keywords: type, enum, const, multipleOf, (exclusive)minimum/maximum,
 * min/maxLength, pattern (PCRE2), format, items/additionalItems/prefixItems,
 * contains/minContains/maxContains, min/maxItems, uniqueItems, properties,
 * patternProperties, additionalProperties, propertyNames, required,
 * min/maxProperties, dependencies/dependentRequired/dependentSchemas,
 * allOf/anyOf/oneOf/not, if/then/else, unevaluatedItems/Properties,
 * $ref, $dynamicRef, $id, $anchor, $dynamicAnchor, $defs/definitions,
 * $schema with $vocabulary (a meta-schema without the validation
 * vocabulary turns the validation keywords off).
 *
 * References resolve inside the document, to the embedded meta-schemas, or
 * through an optional loader (tests serve the test suite's remotes/). There
 * is never network access. Recursion is capped (VS_MAX_DEPTH), so a
 * self-referencing schema is an error, not a crash.
 *
 * Every violation is reported with the instance's JSON path and position;
 * inside anyOf/oneOf/not/if/contains the branches are probed quietly and one
 * summary error is reported.
 */
#include "values_int.h"
#include "core/alloc.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define VS_MAX_DEPTH 200
#define VS_MAX_STEPS 1000000   /* subschema evaluations per validation */

typedef struct vs_info {
	const doc_node *node;
	const char *base;
	int draft;
} vs_info;

typedef struct vs_res {
	const char *uri;
	const doc_node *root;
} vs_res;

typedef struct vs_anchor {
	const char *key;   /* "base#name" */
	const doc_node *node;
	bool dynamic;
} vs_anchor;

typedef struct vs_re {
	const doc_node *node;
	pcre2_code *code;  /* NULL: does not compile */
} vs_re;

typedef struct vs {
	karena *a;
	vs_info *info;     /* open addressing on node pointer */
	size_t ninfo, capinfo;
	vs_res *res;
	size_t nres, capres;
	vs_anchor *anc;
	size_t nanc, capanc;
	vs_re *re;
	size_t nre, capre;
	const values_schema_opts *o;
	const char *what;
	kerr *err;
	int depth;
	size_t steps;
	int fatal;            /* a schema error (KE_*): evaluation stops, probes included */
	bool no_validation;   /* $vocabulary without the validation vocabulary */
	const char **secret_files;   /* files (or --set arguments) of secret values */
	size_t nsecret, capsecret;
	bool all_secret;      /* the marks could not be walked: every node is */
	const char *scope[VS_MAX_DEPTH + 2];   /* dynamic scope: resource bases */
	int nscope;
	pcre2_match_data *md;
} vs;

/* Which instance items/properties a schema evaluated (for unevaluated*). */
typedef struct vs_ann {
	bool *seen;
	size_t n;
} vs_ann;

static bool eval(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report);

/* ---- URIs ------------------------------------------------------------- */

static size_t scheme_len(const char *s)
{
	size_t i = 0;
	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

static void remove_dots(kbuf *out, const char *path)
{
	/* RFC 3986 5.2.4 on a path (no query/fragment handling needed here) */
	kbuf in = KBUF_INIT;
	kbuf_puts(&in, path);
	kbuf_reset(out);
	{
		const char *p = in.ptr;
		while (*p) {
			if (!strncmp(p, "../", 3))
				p += 3;
			else if (!strncmp(p, "./", 2))
				p += 2;
			else if (!strncmp(p, "/./", 3))
				p += 2;
			else if (!strcmp(p, "/."))
				p += 1, kbuf_putc(out, '/'), p++;
			else if (!strncmp(p, "/../", 4) || !strcmp(p, "/..")) {
				char *sl;
				p += 3;
				sl = strrchr(out->ptr, '/');
				kbuf_truncate(out, sl ? (size_t)(sl - out->ptr) : 0);
				if (!*p)
					kbuf_putc(out, '/');
			} else if (!strcmp(p, ".") || !strcmp(p, ".."))
				break;
			else {
				const char *q = strchr(p + 1, '/');
				size_t n = q ? (size_t)(q - p) : strlen(p);
				kbuf_put(out, p, n);
				p += n;
			}
		}
	}
	kbuf_release(&in);
}

/* Resolve ref against base (RFC 3986, enough for JSON Schema ids). */
static const char *uri_resolve(karena *a, const char *base, const char *ref)
{
	kbuf b = KBUF_INIT, t = KBUF_INIT;
	const char *res;
	size_t sl, bl;
	if (!base)
		base = "";
	if (scheme_len(ref) || !*base) {
		sl = scheme_len(ref);
		if (sl && !strncmp(ref + sl, "://", 3)) {
			const char *auth = ref + sl + 3;
			const char *p = auth + strcspn(auth, "/?#");
			size_t pl = strcspn(p, "?#");
			kbuf tmp = KBUF_INIT;
			kbuf_put(&tmp, p, pl);
			remove_dots(&t, tmp.ptr);
			kbuf_release(&tmp);
			kbuf_put(&b, ref, (size_t)(p - ref));
			kbuf_puts(&b, t.ptr);
			kbuf_puts(&b, p + pl);
		} else {
			kbuf_puts(&b, ref);
		}
		goto done;
	}
	bl = strcspn(base, "#");
	if (ref[0] == '#' || !ref[0]) {
		kbuf_put(&b, base, bl);
		kbuf_puts(&b, ref);
		goto done;
	}
	sl = scheme_len(base);
	if (!strncmp(ref, "//", 2)) {
		kbuf_put(&b, base, sl + 1);
		kbuf_puts(&b, ref);
		goto done;
	}
	{
		const char *auth_end = base + sl + 1;
		const char *pathp, *pend;
		if (!strncmp(auth_end, "//", 2))
			auth_end += 2 + strcspn(auth_end + 2, "/?#");
		pathp = auth_end;
		pend = pathp + strcspn(pathp, "?#");
		kbuf_put(&b, base, (size_t)(auth_end - base));
		if (ref[0] == '/') {
			size_t rl = strcspn(ref, "?#");
			kbuf tmp = KBUF_INIT;
			kbuf_put(&tmp, ref, rl);
			remove_dots(&t, tmp.ptr);
			kbuf_release(&tmp);
			kbuf_puts(&b, t.ptr);
			kbuf_puts(&b, ref + rl);
		} else if (ref[0] == '?') {
			kbuf_put(&b, pathp, (size_t)(pend - pathp));
			kbuf_puts(&b, ref);
		} else {
			kbuf tmp = KBUF_INIT;
			const char *last = NULL, *q;
			size_t rl = strcspn(ref, "?#");
			for (q = pathp; q < pend; q++)
				if (*q == '/')
					last = q;
			if (last)
				kbuf_put(&tmp, pathp, (size_t)(last - pathp + 1));
			else if (auth_end != base + sl + 1)
				kbuf_putc(&tmp, '/');
			kbuf_put(&tmp, ref, rl);
			if (tmp.ptr[0] == '/')
				remove_dots(&t, tmp.ptr);
			else
				kbuf_puts(&t, tmp.ptr);
			kbuf_release(&tmp);
			kbuf_puts(&b, t.ptr);
			kbuf_puts(&b, ref + rl);
		}
	}
done:
	/* an empty fragment is no fragment */
	if (b.len && b.ptr[b.len - 1] == '#')
		kbuf_truncate(&b, b.len - 1);
	res = karena_strndup(a, b.ptr, b.len);
	kbuf_release(&b);
	kbuf_release(&t);
	return res;
}

static const char *strip_fragment(karena *a, const char *uri, const char **frag)
{
	const char *h = strchr(uri, '#');
	if (!h) {
		*frag = "";
		return uri;
	}
	*frag = h + 1;
	return karena_strndup(a, uri, (size_t)(h - uri));
}

/* ---- registry ---------------------------------------------------------- */

static size_t ptr_hash(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0xed5ad4bbU;
	x ^= x >> 11;
	return (size_t)x;
}

static vs_info *info_get(vs *v, const doc_node *n)
{
	size_t i;
	if (!v->capinfo)
		return NULL;
	for (i = ptr_hash(n) & (v->capinfo - 1);; i = (i + 1) & (v->capinfo - 1)) {
		if (!v->info[i].node)
			return NULL;
		if (v->info[i].node == n)
			return &v->info[i];
	}
}

static void info_put(vs *v, const doc_node *n, const char *base, int draft)
{
	size_t i;
	vs_info *e = info_get(v, n);
	if (e) {
		e->base = base;
		e->draft = draft;
		return;
	}
	if ((v->ninfo + 1) * 2 > v->capinfo) {
		vs_info *old = v->info;
		size_t oc = v->capinfo, j;
		v->capinfo = oc ? oc * 2 : 256;
		v->info = xcalloc(v->capinfo, sizeof(vs_info));
		v->ninfo = 0;
		for (j = 0; j < oc; j++)
			if (old[j].node)
				info_put(v, old[j].node, old[j].base, old[j].draft);
		free(old);
	}
	for (i = ptr_hash(n) & (v->capinfo - 1); v->info[i].node; i = (i + 1) & (v->capinfo - 1))
		;
	v->info[i].node = n;
	v->info[i].base = base;
	v->info[i].draft = draft;
	v->ninfo++;
}

static void res_add(vs *v, const char *uri, const doc_node *root)
{
	size_t i;
	for (i = 0; i < v->nres; i++)
		if (!strcmp(v->res[i].uri, uri))
			return;
	ALLOC_GROW(v->res, v->nres + 1, v->capres);
	v->res[v->nres].uri = uri;
	v->res[v->nres].root = root;
	v->nres++;
}

static const doc_node *res_find(vs *v, const char *uri)
{
	size_t i;
	for (i = 0; i < v->nres; i++)
		if (!strcmp(v->res[i].uri, uri))
			return v->res[i].root;
	return NULL;
}

static void anc_add(vs *v, const char *base, const char *name, const doc_node *n, bool dynamic)
{
	ALLOC_GROW(v->anc, v->nanc + 1, v->capanc);
	v->anc[v->nanc].key = karena_printf(v->a, "%s#%s", base, name);
	v->anc[v->nanc].node = n;
	v->anc[v->nanc].dynamic = dynamic;
	v->nanc++;
}

static const doc_node *anc_find(vs *v, const char *key, bool dynamic_only)
{
	size_t i;
	for (i = 0; i < v->nanc; i++)
		if ((!dynamic_only || v->anc[i].dynamic) && !strcmp(v->anc[i].key, key))
			return v->anc[i].node;
	return NULL;
}

static int draft_of(const char *schema_uri, int def)
{
	if (!schema_uri)
		return def;
	if (strstr(schema_uri, "draft-07") || strstr(schema_uri, "draft-06") || strstr(schema_uri, "draft-04") ||
	    strstr(schema_uri, "draft-03"))
		return 7;
	if (strstr(schema_uri, "2020-12") || strstr(schema_uri, "2019-09"))
		return 2020;
	return def;
}

static void walk(vs *v, const doc_node *s, const char *base, int draft, int depth);

static void walk_map_of(vs *v, const doc_node *m, const char *base, int draft, int depth)
{
	size_t i;
	if (m && m->type == DOC_MAP)
		for (i = 0; i < m->u.map.len; i++)
			walk(v, m->u.map.v[i].val, base, draft, depth + 1);
}

static void walk_arr(vs *v, const doc_node *m, const char *base, int draft, int depth)
{
	size_t i;
	if (m && m->type == DOC_SEQ)
		for (i = 0; i < m->u.seq.len; i++)
			walk(v, m->u.seq.v[i], base, draft, depth + 1);
}

static void walk(vs *v, const doc_node *s, const char *base, int draft, int depth)
{
	static const char *const single[] = { "additionalProperties", "additionalItems", "unevaluatedItems",
					      "unevaluatedProperties", "contains", "not", "if", "then",
					      "else", "propertyNames", "contentSchema", "items", NULL };
	static const char *const maps[] = { "properties", "patternProperties", "$defs", "definitions",
					    "dependentSchemas", "dependencies", NULL };
	static const char *const arrs[] = { "items", "prefixItems", "allOf", "anyOf", "oneOf", NULL };
	const doc_node *id, *x;
	size_t i;
	if (!s || depth > 500)
		return;
	if (s->type != DOC_MAP) {
		if (s->type == DOC_BOOL)
			info_put(v, s, base, draft);
		return;
	}
	if (info_get(v, s))
		return;
	x = doc_map_get(s, "$schema");
	if (x && x->type == DOC_STR)
		draft = draft_of(x->u.s.ptr, draft);
	id = doc_map_get(s, "$id");
	if (draft == 7 && doc_map_get(s, "$ref"))
		id = NULL;   /* draft-07: $ref ignores its siblings, $id included */
	if (id && id->type == DOC_STR) {
		const char *frag;
		if (draft == 7 && id->u.s.ptr[0] == '#') {
			anc_add(v, base, id->u.s.ptr + 1, s, false);
		} else {
			const char *full = uri_resolve(v->a, base, id->u.s.ptr);
			const char *doc = strip_fragment(v->a, full, &frag);
			base = doc;
			res_add(v, doc, s);
			if (*frag && draft == 7)
				anc_add(v, doc, frag, s, false);
		}
	}
	info_put(v, s, base, draft);
	x = doc_map_get(s, "$anchor");
	if (x && x->type == DOC_STR && draft != 7)
		anc_add(v, base, x->u.s.ptr, s, false);
	x = doc_map_get(s, "$dynamicAnchor");
	if (x && x->type == DOC_STR && draft != 7) {
		anc_add(v, base, x->u.s.ptr, s, true);
		anc_add(v, base, x->u.s.ptr, s, false);
	}
	for (i = 0; single[i]; i++) {
		x = doc_map_get(s, single[i]);
		if (x && (x->type == DOC_MAP || x->type == DOC_BOOL))
			walk(v, x, base, draft, depth + 1);
	}
	for (i = 0; maps[i]; i++)
		walk_map_of(v, doc_map_get(s, maps[i]), base, draft, depth);
	for (i = 0; arrs[i]; i++)
		walk_arr(v, doc_map_get(s, arrs[i]), base, draft, depth);
}

/* Add a document (the root or a loaded remote) under uri. */
static void add_document(vs *v, const char *uri, const doc_node *root, int draft)
{
	if (root->type == DOC_MAP) {
		const doc_node *x = doc_map_get(root, "$schema");
		if (x && x->type == DOC_STR)
			draft = draft_of(x->u.s.ptr, draft);
	}
	res_add(v, uri, root);
	walk(v, root, uri, draft, 0);
}

static const doc_node *load_remote(vs *v, const char *uri)
{
	const char *text = values_metaschema(uri);
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	if (text) {
		if (doc_load_json(&n, v->a, uri, text, strlen(text), &e))
			n = NULL;
		kerr_clear(&e);
	} else if (v->o && v->o->load) {
		if (v->o->load(v->o->load_ctx, uri, v->a, &n))
			n = NULL;
	}
	if (!n)
		return NULL;
	add_document(v, uri, n, v->o && v->o->draft ? v->o->draft : 2020);
	return res_find(v, uri) ? res_find(v, uri) : n;
}

/* Resolve a reference from a schema whose base is base. */
static const doc_node *resolve_ref(vs *v, const char *base, const char *ref, int draft)
{
	const char *full = uri_resolve(v->a, base, ref), *frag, *doc;
	const doc_node *root, *n;
	doc = strip_fragment(v->a, full, &frag);
	root = res_find(v, doc);
	if (!root)
		root = load_remote(v, doc);
	if (!root)
		return NULL;
	if (!*frag)
		return root;
	if (frag[0] != '/') {
		kbuf key = KBUF_INIT;
		kbuf_printf(&key, "%s#", doc);
		values_pct_decode(&key, frag);
		n = anc_find(v, key.ptr, false);
		kbuf_release(&key);
		return n;
	}
	{
		kbuf dec = KBUF_INIT, tok = KBUF_INIT;
		const char *p;
		const char *cur_base = doc;
		vs_info *inf;
		values_pct_decode(&dec, frag);
		n = root;
		p = dec.ptr + 1;
		for (;;) {
			const char *e = strchr(p, '/');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			n = values_pointer_child(n, p, len, &tok);
			if (!n)
				break;
			if ((inf = info_get(v, n)) != NULL) {
				cur_base = inf->base;
				draft = inf->draft;
			}
			if (!e)
				break;
			p = e + 1;
		}
		kbuf_release(&dec);
		kbuf_release(&tok);
		if (n && !info_get(v, n))
			walk(v, n, cur_base, draft, 0);
		return n;
	}
}

/* ---- errors -------------------------------------------------------------- */

static void path_key(kbuf *p, const char *k, size_t len)
{
	size_t i;
	bool plain = len > 0;
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_' || k[i] == '-'))
			plain = false;
	if (plain) {
		if (p->len)
			kbuf_putc(p, '.');
		kbuf_put(p, k, len);
	} else {
		kbuf_puts(p, "[");
		doc_json_quote(p, k, len, 0);
		kbuf_puts(p, "]");
	}
}

static void fail(vs *v, const doc_node *inst, const kbuf *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void fail_v(vs *v, int code, const doc_node *inst, const kbuf *path, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void secret_add(vs *v, const doc_node *n, int depth)
{
	size_t i;
	for (i = 0; i < v->nsecret && n->file && v->secret_files[i] != n->file; i++)
		;
	if (n->file && i == v->nsecret) {
		ALLOC_GROW(v->secret_files, v->nsecret + 1, v->capsecret);
		v->secret_files[v->nsecret++] = n->file;
	}
	if (depth > VS_MAX_DEPTH) {
		v->all_secret = true;
		return;
	}
	if (n->type == DOC_SEQ)
		for (i = 0; i < n->u.seq.len; i++)
			secret_add(v, n->u.seq.v[i], depth + 1);
	else if (n->type == DOC_MAP)
		for (i = 0; i < n->u.map.len; i++)
			secret_add(v, n->u.map.v[i].val, depth + 1);
}

static void secret_found(void *ctx, const doc_node *n)
{
	secret_add(ctx, n, 0);
}

/* Note where the values the schema marks secret (and all below them) come
 * from: an error never shows a secret value, not even in a location. */
static void secrets_find(vs *v, const doc_node *schema, const doc_node *instance)
{
	if (values_secret_walk(instance, schema, secret_found, v))
		v->all_secret = true;
}

/* The location file for an error at n: an argument that sets a secret
 * anywhere ("--set a=s,b=x") is shown without its values. */
static const char *error_file(vs *v, const doc_node *n)
{
	size_t i;
	bool hide = v->all_secret;
	for (i = 0; i < v->nsecret && !hide; i++)
		hide = !strcmp(v->secret_files[i], n->file);
	return hide ? values_label_redact(v->a, n->file) : n->file;
}

static bool same_item(const kerr_item *it, const char *file, unsigned line, unsigned col, const char *msg)
{
	return it->msg && !strcmp(it->msg, msg) && line == it->line && col == it->col &&
	       (file && it->file ? !strcmp(file, it->file) : file == it->file);
}

static void fail_v(vs *v, int code, const doc_node *inst, const kbuf *path, const char *fmt, va_list ap)
{
	kbuf msg = KBUF_INIT;
	const char *file;
	unsigned line = 0, col = 0;
	size_t i;
	bool dup;
	if (inst && inst->file) {
		file = error_file(v, inst);
		line = inst->line;
		col = inst->col;
		if (v->what)
			kbuf_printf(&msg, "%s: ", v->what);
	} else {
		file = v->what ? v->what : "values";
	}
	kbuf_printf(&msg, "%s: ", path->len ? path->ptr : "(root)");
	kbuf_vprintf(&msg, fmt, ap);
	/* the same error reached twice (allOf branches sharing a check) is
	 * reported once */
	dup = v->err->code && same_item(&v->err->first, file, line, col, msg.ptr);
	for (i = 0; i < v->err->nmore && !dup; i++)
		dup = same_item(&v->err->more[i], file, line, col, msg.ptr);
	if (!dup)
		kerr_add_at(v->err, code, file, line, col, "%s", msg.ptr);
	kbuf_release(&msg);
}

/* An instance error; nothing once a schema error has stopped evaluation. */
static void fail(vs *v, const doc_node *inst, const kbuf *path, const char *fmt, ...)
{
	va_list ap;
	if (v->fatal)
		return;
	va_start(ap, fmt);
	fail_v(v, KE_INPUT, inst, path, fmt, ap);
	va_end(ap);
}

static void schema_error(vs *v, int code, const doc_node *inst, const kbuf *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A schema error (a reference that does not resolve, a limit): reported
 * once, even from a quiet probe, and it stops the whole evaluation, so no
 * anyOf/oneOf/not can turn it into a success. */
static void schema_error(vs *v, int code, const doc_node *inst, const kbuf *path, const char *fmt, ...)
{
	va_list ap;
	if (v->fatal)
		return;
	va_start(ap, fmt);
	fail_v(v, code, inst, path, fmt, ap);
	va_end(ap);
	v->fatal = code;
}

/* ---- helpers --------------------------------------------------------------- */

static bool is_num(const doc_node *n) { return n && (n->type == DOC_INT || n->type == DOC_FLOAT); }
static double num(const doc_node *n) { return n->type == DOC_INT ? (double)n->u.i : n->u.f; }

static const char *json_type(const doc_node *n)
{
	switch (n->type) {
	case DOC_NULL: return "null";
	case DOC_BOOL: return "boolean";
	case DOC_INT: return "integer";
	case DOC_FLOAT: return n->u.f == floor(n->u.f) && isfinite(n->u.f) ? "integer" : "number";
	case DOC_STR: return "string";
	case DOC_SEQ: return "array";
	case DOC_MAP: return "object";
	}
	return "unknown";
}

static bool type_is(const doc_node *n, const char *t)
{
	if (!strcmp(t, "number"))
		return is_num(n);
	if (!strcmp(t, "integer"))
		return n->type == DOC_INT || (n->type == DOC_FLOAT && isfinite(n->u.f) && n->u.f == floor(n->u.f));
	return !strcmp(t, json_type(n));
}

static size_t utf8_count(const char *s, size_t len)
{
	size_t i, c = 0;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

/* ECMA-262 long general category names that PCRE2 spells short. */
static void ecma_to_pcre(kbuf *out, const char *s, size_t len)
{
	static const char *const names[][2] = {
		{ "Letter", "L" }, { "Cased_Letter", "L&" }, { "Uppercase_Letter", "Lu" },
		{ "Lowercase_Letter", "Ll" }, { "Titlecase_Letter", "Lt" }, { "Modifier_Letter", "Lm" },
		{ "Other_Letter", "Lo" }, { "Mark", "M" }, { "Number", "N" }, { "Decimal_Number", "Nd" },
		{ "digit", "Nd" }, { "Letter_Number", "Nl" }, { "Other_Number", "No" }, { "Punctuation", "P" },
		{ "punct", "P" }, { "Symbol", "S" }, { "Math_Symbol", "Sm" }, { "Currency_Symbol", "Sc" },
		{ "Separator", "Z" }, { "Space_Separator", "Zs" }, { "Other", "C" }, { "Control", "Cc" },
		{ "Format", "Cf" }, { "Unassigned", "Cn" }, { "Private_Use", "Co" },
	};
	size_t i, j;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 2 < len && (s[i + 1] == 'p' || s[i + 1] == 'P') && s[i + 2] == '{') {
			const char *e = memchr(s + i + 3, '}', len - i - 3);
			bool done = false;
			if (e) {
				size_t nl = (size_t)(e - (s + i + 3));
				for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
					if (strlen(names[j][0]) == nl && !memcmp(names[j][0], s + i + 3, nl)) {
						kbuf_printf(out, "\\%c{%s}", s[i + 1], names[j][1]);
						i = (size_t)(e - s);
						done = true;
						break;
					}
			}
			if (done)
				continue;
		}
		if (s[i] == '\\' && i + 1 < len) {
			kbuf_put(out, s + i, 2);
			i++;
			continue;
		}
		kbuf_putc(out, s[i]);
	}
}

static pcre2_code *regex_for(vs *v, const doc_node *pat)
{
	kbuf tr = KBUF_INIT;
	size_t i;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c;
	pcre2_compile_context *cc;
	for (i = 0; i < v->nre; i++)
		if (v->re[i].node == pat)
			return v->re[i].code;
	cc = pcre2_compile_context_create(NULL);
	pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
	ecma_to_pcre(&tr, pat->u.s.ptr, pat->u.s.len);
	c = pcre2_compile((PCRE2_SPTR)tr.ptr, tr.len, PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY,
			  &ec, &eo, cc);
	kbuf_release(&tr);
	pcre2_compile_context_free(cc);
	ALLOC_GROW(v->re, v->nre + 1, v->capre);
	v->re[v->nre].node = pat;
	v->re[v->nre].code = c;
	v->nre++;
	return c;
}

/* 1 match, 0 no match, -1 bad pattern */
static int re_match(vs *v, const doc_node *pat, const char *s, size_t len)
{
	pcre2_code *c = regex_for(v, pat);
	int r;
	if (!c)
		return -1;
	if (!v->md)
		v->md = pcre2_match_data_create(16, NULL);
	r = pcre2_match(c, (PCRE2_SPTR)s, len, 0, 0, v->md, NULL);
	return r >= 0 ? 1 : 0;
}

/* ---- formats ---------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool fmt_date(const char *s, size_t n)
{
	int y, m, d, dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (n != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
	    !all_digits(s + 8, 2))
		return false;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1)
		return false;
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return d <= 29;
	return d <= dim[m - 1];
}

static bool fmt_time(const char *s, size_t n)
{
	int h, mi, se, oh = 0, om = 0, sign = 0;
	size_t i = 8;
	if (n < 9 || s[2] != ':' || s[5] != ':' || !all_digits(s, 2) || !all_digits(s + 3, 2) ||
	    !all_digits(s + 6, 2))
		return false;
	h = (s[0] - '0') * 10 + s[1] - '0';
	mi = (s[3] - '0') * 10 + s[4] - '0';
	se = (s[6] - '0') * 10 + s[7] - '0';
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return false;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i >= n)
		return false;
	if (s[i] == 'Z' || s[i] == 'z') {
		if (i + 1 != n)
			return false;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		if (n - i != 6 || s[i + 3] != ':' || !all_digits(s + i + 1, 2) || !all_digits(s + i + 4, 2))
			return false;
		oh = (s[i + 1] - '0') * 10 + s[i + 2] - '0';
		om = (s[i + 4] - '0') * 10 + s[i + 5] - '0';
		if (oh > 23 || om > 59)
			return false;
	} else {
		return false;
	}
	if (h > 23 || mi > 59 || se > 60)
		return false;
	if (se == 60) {   /* leap second: 23:59:60 UTC only */
		int utc = h * 60 + mi - sign * (oh * 60 + om);
		utc = ((utc % 1440) + 1440) % 1440;
		if (utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

static bool fmt_hostname(const char *s, size_t n)
{
	size_t i, lab = 0;
	if (!n || n > 253)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (!lab || s[i - 1] == '-')
				return false;
			lab = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-'))
			return false;
		if (c == '-' && lab == 0)
			return false;
		if (++lab > 63)
			return false;
	}
	return lab > 0 && s[n - 1] != '-';
}

static bool fmt_ipv4(const char *s, size_t n)
{
	size_t i = 0;
	int parts = 0;
	while (i < n) {
		size_t st = i;
		int val = 0;
		while (i < n && isdigit((unsigned char)s[i])) {
			val = val * 10 + (s[i] - '0');
			i++;
			if (i - st > 3)
				return false;
		}
		if (i == st || val > 255 || (i - st > 1 && s[st] == '0'))
			return false;
		parts++;
		if (i < n) {
			if (s[i] != '.' || parts == 4)
				return false;
			i++;
			if (i == n)
				return false;
		}
	}
	return parts == 4;
}

static bool fmt_ipv6(const char *s, size_t n)
{
	size_t i = 0;
	int groups = 0;
	bool dbl = false;
	if (n < 2)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		dbl = true;
		i = 2;
		if (i == n)
			return true;
	}
	while (i < n) {
		size_t st = i;
		while (i < n && isxdigit((unsigned char)s[i]))
			i++;
		if (i < n && s[i] == '.') {   /* trailing IPv4 */
			if (!fmt_ipv4(s + st, n - st))
				return false;
			groups += 2;
			i = n;
			break;
		}
		if (i == st || i - st > 4)
			return false;
		groups++;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		i++;
		if (i < n && s[i] == ':') {
			if (dbl)
				return false;
			dbl = true;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return false;
		}
	}
	return dbl ? groups < 8 : groups == 8;
}

static bool fmt_email(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t l;
	if (!at)
		return false;
	l = (size_t)(at - s);
	if (!l || s[0] == '.' || s[l - 1] == '.' || memchr(at + 1, '@', n - l - 1))
		return false;
	{
		size_t i;
		for (i = 1; i < l; i++)
			if (s[i] == '.' && s[i - 1] == '.')
				return false;
	}
	if (n - l - 1 > 2 && at[1] == '[' && s[n - 1] == ']')
		return fmt_ipv4(at + 2, n - l - 3) ||
		       (n - l - 3 > 5 && !strncmp(at + 2, "IPv6:", 5) && fmt_ipv6(at + 7, n - l - 8));
	return fmt_hostname(at + 1, n - l - 1);
}

static bool fmt_uri(const char *s, size_t n, bool need_scheme)
{
	size_t i;
	size_t sl = scheme_len(s);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
		    c == '{' || c == '|' || c == '}' || c >= 0x80)
			return false;
		if (c == '%' && (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2])))
			return false;
	}
	if (need_scheme && !sl)
		return false;
	if (sl && !strncmp(s + sl, "://", 3)) {
		const char *auth = s + sl + 3, *end = auth + strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', (size_t)(end - auth));
		const char *h = at ? at + 1 : auth;
		if (*h == '[')
			return memchr(h, ']', (size_t)(end - h)) != NULL;
		{
			const char *colon = memchr(h, ':', (size_t)(end - h));
			if (colon && !all_digits(colon + 1, (size_t)(end - colon - 1)))
				return false;
		}
	}
	return true;
}

static bool fmt_uuid(const char *s, size_t n)
{
	size_t i;
	if (n != 36)
		return false;
	for (i = 0; i < n; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static bool fmt_json_pointer(const char *s, size_t n)
{
	size_t i;
	if (n && s[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '~' && (i + 1 >= n || (s[i + 1] != '0' && s[i + 1] != '1')))
			return false;
	return true;
}

static bool fmt_rel_json_pointer(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	if (!i || (i > 1 && s[0] == '0'))
		return false;
	if (i == n)
		return true;
	if (s[i] == '#')
		return i + 1 == n;
	return fmt_json_pointer(s + i, n - i);
}

static bool fmt_duration(const char *s, size_t n)
{
	size_t i = 1;
	bool t = false, any = false, weeks = false, other = false;
	const char *order_d = "YMWD", *order_t = "HMS";
	const char *pos_d = order_d, *pos_t = order_t;
	if (n < 2 || s[0] != 'P')
		return false;
	while (i < n) {
		size_t st = i;
		const char *f;
		if (s[i] == 'T') {
			if (t)
				return false;
			t = true;
			i++;
			if (i == n)
				return false;
			continue;
		}
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		if (i == st || i == n)
			return false;
		if (!t) {
			f = strchr(pos_d, s[i]);
			if (!f)
				return false;
			pos_d = f + 1;
			if (s[i] == 'W')
				weeks = true;
			else
				other = true;
		} else {
			f = strchr(pos_t, s[i]);
			if (!f)
				return false;
			pos_t = f + 1;
			other = true;
		}
		any = true;
		i++;
	}
	return any && !(weeks && other);
}

/* Returns false when s is not valid for a known format. */
static bool format_ok(vs *v, const char *fmt, const char *s, size_t n)
{
	if (!strcmp(fmt, "date-time")) {
		size_t tpos = 10;
		return n > 11 && (s[tpos] == 'T' || s[tpos] == 't' || s[tpos] == ' ') && fmt_date(s, 10) &&
		       fmt_time(s + 11, n - 11);
	}
	if (!strcmp(fmt, "date"))
		return fmt_date(s, n);
	if (!strcmp(fmt, "time"))
		return fmt_time(s, n);
	if (!strcmp(fmt, "email"))
		return fmt_email(s, n);
	if (!strcmp(fmt, "hostname"))
		return fmt_hostname(s, n);
	if (!strcmp(fmt, "ipv4"))
		return fmt_ipv4(s, n);
	if (!strcmp(fmt, "ipv6"))
		return fmt_ipv6(s, n);
	if (!strcmp(fmt, "uri"))
		return fmt_uri(s, n, true);
	if (!strcmp(fmt, "uri-reference"))
		return fmt_uri(s, n, false);
	if (!strcmp(fmt, "uuid"))
		return fmt_uuid(s, n);
	if (!strcmp(fmt, "json-pointer"))
		return fmt_json_pointer(s, n);
	if (!strcmp(fmt, "relative-json-pointer"))
		return fmt_rel_json_pointer(s, n);
	if (!strcmp(fmt, "duration"))
		return fmt_duration(s, n);
	if (!strcmp(fmt, "regex")) {
		doc_node tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.type = DOC_STR;
		tmp.u.s.ptr = karena_strndup(v->a, s, n);
		tmp.u.s.len = n;
		{
			int ec;
			PCRE2_SIZE eo;
			pcre2_code *c = pcre2_compile((PCRE2_SPTR)s, n, PCRE2_UTF, &ec, &eo, NULL);
			if (!c)
				return false;
			pcre2_code_free(c);
		}
		return true;
	}
	return true;
}

/* ---- evaluation ------------------------------------------------------------ */

static void ann_init(vs *v, vs_ann *an, const doc_node *inst)
{
	size_t n = inst->type == DOC_MAP ? inst->u.map.len : inst->type == DOC_SEQ ? inst->u.seq.len : 0;
	an->n = n;
	an->seen = n ? karena_alloc(v->a, n * sizeof(bool)) : NULL;
}

static void ann_merge(vs_ann *dst, const vs_ann *src)
{
	size_t i;
	if (!dst || !src)
		return;
	for (i = 0; i < dst->n && i < src->n; i++)
		if (src->seen[i])
			dst->seen[i] = true;
}

/* Evaluate a subschema on the same instance, merging its annotations on
 * success. */
static bool sub_same(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report)
{
	vs_ann sa;
	bool ok;
	ann_init(v, &sa, inst);
	ok = eval(v, s, inst, path, &sa, report);
	if (ok)
		ann_merge(ann, &sa);
	return ok;
}

static bool sub_child(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, bool report)
{
	return eval(v, s, inst, path, NULL, report);
}

static bool kw_validation(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, bool report)
{
	const doc_node *x;
	bool ok = true;
#define FAIL(...) do { ok = false; if (!report) return false; fail(v, inst, path, __VA_ARGS__); } while (0)
	if ((x = doc_map_get(s, "type"))) {
		bool m = false;
		size_t i;
		if (x->type == DOC_STR)
			m = type_is(inst, x->u.s.ptr);
		else if (x->type == DOC_SEQ)
			for (i = 0; i < x->u.seq.len && !m; i++)
				m = x->u.seq.v[i]->type == DOC_STR && type_is(inst, x->u.seq.v[i]->u.s.ptr);
		else
			m = true;
		if (!m) {
			kbuf want = KBUF_INIT;
			if (x->type == DOC_STR)
				kbuf_puts(&want, x->u.s.ptr);
			else
				for (i = 0; i < x->u.seq.len; i++)
					if (x->u.seq.v[i]->type == DOC_STR)
						kbuf_printf(&want, "%s%s", i ? " or " : "", x->u.seq.v[i]->u.s.ptr);
			ok = false;
			if (!report) {
				kbuf_release(&want);
				return false;
			}
			fail(v, inst, path, "got %s, want %s", json_type(inst), want.ptr);
			kbuf_release(&want);
		}
	}
	if ((x = doc_map_get(s, "enum")) && x->type == DOC_SEQ) {
		size_t i;
		bool m = false;
		for (i = 0; i < x->u.seq.len && !m; i++)
			m = doc_equal(inst, x->u.seq.v[i]);
		if (!m) {
			kbuf list = KBUF_INIT;
			kerr e = KERR_INIT;
			if (!report)
				return false;
			doc_emit_json(&list, x, 0, &e);
			kerr_clear(&e);
			if (list.len > 200) {
				kbuf_truncate(&list, 200);
				kbuf_puts(&list, "...");
			}
			FAIL("value must be one of %s", list.ptr);
			kbuf_release(&list);
		}
	}
	if ((x = doc_map_get(s, "const")) && !doc_equal(inst, x)) {
		kbuf c = KBUF_INIT;
		kerr e = KERR_INIT;
		doc_emit_json(&c, x, 0, &e);
		kerr_clear(&e);
		if (c.len > 200) {
			kbuf_truncate(&c, 200);
			kbuf_puts(&c, "...");
		}
		ok = false;
		if (!report) {
			kbuf_release(&c);
			return false;
		}
		fail(v, inst, path, "value must be %s", c.ptr);
		kbuf_release(&c);
	}
	if (is_num(inst)) {
		double d = num(inst);
		if ((x = doc_map_get(s, "multipleOf")) && is_num(x) && num(x) > 0) {
			bool m;
			if (inst->type == DOC_INT && x->type == DOC_INT)
				m = inst->u.i % x->u.i == 0;
			else {
				double q = d / num(x);
				m = isfinite(q) && fabs(q - nearbyint(q)) < 1e-9;
			}
			if (!m)
				FAIL("value must be a multiple of %g", num(x));
		}
		if ((x = doc_map_get(s, "minimum")) && is_num(x)) {
			bool lt = (inst->type == DOC_INT && x->type == DOC_INT) ? inst->u.i < x->u.i : d < num(x);
			if (lt)
				FAIL("value must be >= %g", num(x));
		}
		if ((x = doc_map_get(s, "maximum")) && is_num(x)) {
			bool gt = (inst->type == DOC_INT && x->type == DOC_INT) ? inst->u.i > x->u.i : d > num(x);
			if (gt)
				FAIL("value must be <= %g", num(x));
		}
		if ((x = doc_map_get(s, "exclusiveMinimum")) && is_num(x) && d <= num(x))
			FAIL("value must be > %g", num(x));
		if ((x = doc_map_get(s, "exclusiveMaximum")) && is_num(x) && d >= num(x))
			FAIL("value must be < %g", num(x));
	}
	if (inst->type == DOC_STR) {
		size_t len = utf8_count(inst->u.s.ptr, inst->u.s.len);
		if ((x = doc_map_get(s, "minLength")) && is_num(x) && (double)len < num(x))
			FAIL("length must be >= %g, got %zu", num(x), len);
		if ((x = doc_map_get(s, "maxLength")) && is_num(x) && (double)len > num(x))
			FAIL("length must be <= %g, got %zu", num(x), len);
		if ((x = doc_map_get(s, "pattern")) && x->type == DOC_STR) {
			int m = re_match(v, x, inst->u.s.ptr, inst->u.s.len);
			if (m < 0)
				FAIL("schema pattern %s does not compile", x->u.s.ptr);
			else if (!m)
				FAIL("value does not match pattern %s", x->u.s.ptr);
		}
	}
	if (inst->type == DOC_SEQ) {
		size_t n = inst->u.seq.len;
		if ((x = doc_map_get(s, "minItems")) && is_num(x) && (double)n < num(x))
			FAIL("must have at least %g items, got %zu", num(x), n);
		if ((x = doc_map_get(s, "maxItems")) && is_num(x) && (double)n > num(x))
			FAIL("must have at most %g items, got %zu", num(x), n);
		if ((x = doc_map_get(s, "uniqueItems")) && x->type == DOC_BOOL && x->u.b) {
			size_t i, j;
			bool dup = false;
			for (i = 0; i < n && !dup; i++)
				for (j = i + 1; j < n && !dup; j++)
					if (doc_equal(inst->u.seq.v[i], inst->u.seq.v[j])) {
						dup = true;
						if (report)
							FAIL("items at %zu and %zu are equal", i, j);
						else
							return false;
					}
		}
	}
	if (inst->type == DOC_MAP) {
		size_t n = inst->u.map.len, i;
		if ((x = doc_map_get(s, "minProperties")) && is_num(x) && (double)n < num(x))
			FAIL("must have at least %g properties, got %zu", num(x), n);
		if ((x = doc_map_get(s, "maxProperties")) && is_num(x) && (double)n > num(x))
			FAIL("must have at most %g properties, got %zu", num(x), n);
		if ((x = doc_map_get(s, "required")) && x->type == DOC_SEQ)
			for (i = 0; i < x->u.seq.len; i++) {
				const doc_node *k = x->u.seq.v[i];
				if (k->type == DOC_STR && !doc_map_getn(inst, k->u.s.ptr, k->u.s.len))
					FAIL("missing required property \"%s\"", k->u.s.ptr);
			}
		if ((x = doc_map_get(s, "dependentRequired")) && x->type == DOC_MAP)
			for (i = 0; i < x->u.map.len; i++) {
				const doc_pair *pr = &x->u.map.v[i];
				size_t j;
				if (!doc_map_getn(inst, pr->key->u.s.ptr, pr->key->u.s.len) || pr->val->type != DOC_SEQ)
					continue;
				for (j = 0; j < pr->val->u.seq.len; j++) {
					const doc_node *k = pr->val->u.seq.v[j];
					if (k->type == DOC_STR && !doc_map_getn(inst, k->u.s.ptr, k->u.s.len))
						FAIL("property \"%s\" requires property \"%s\"", pr->key->u.s.ptr,
						     k->u.s.ptr);
				}
			}
	}
	return ok;
#undef FAIL
}

static bool eval_map(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report,
		     int draft)
{
	bool ok = true;
	const doc_node *x, *props, *pprops, *addl;
	size_t i, n = inst->u.map.len, save = path->len;
	bool *matched = n ? karena_alloc(v->a, n * sizeof(bool)) : NULL;
#define SUBFAIL() do { ok = false; if (!report) return false; } while (0)
	props = doc_map_get(s, "properties");
	pprops = doc_map_get(s, "patternProperties");
	addl = doc_map_get(s, "additionalProperties");
	for (i = 0; i < n; i++) {
		const doc_pair *pr = &inst->u.map.v[i];
		bool any = false;
		path_key(path, pr->key->u.s.ptr, pr->key->u.s.len);
		if (props && props->type == DOC_MAP) {
			const doc_node *ps = doc_map_getn(props, pr->key->u.s.ptr, pr->key->u.s.len);
			if (ps) {
				any = true;
				if (!sub_child(v, ps, pr->val, path, report))
					SUBFAIL();
			}
		}
		if (pprops && pprops->type == DOC_MAP) {
			size_t j;
			for (j = 0; j < pprops->u.map.len; j++) {
				int m = re_match(v, pprops->u.map.v[j].key, pr->key->u.s.ptr, pr->key->u.s.len);
				if (m == 1) {
					any = true;
					if (!sub_child(v, pprops->u.map.v[j].val, pr->val, path, report))
						SUBFAIL();
				}
			}
		}
		if (!any && addl) {
			any = true;
			if (addl->type == DOC_BOOL && !addl->u.b) {
				ok = false;
				if (!report)
					return false;
				kbuf_truncate(path, save);
				fail(v, pr->val, path, "additional property \"%s\" is not allowed", pr->key->u.s.ptr);
			} else if (!sub_child(v, addl, pr->val, path, report)) {
				SUBFAIL();
			}
		}
		matched[i] = any;
		if (any && ann)
			ann->seen[i] = true;
		kbuf_truncate(path, save);
	}
	if ((x = doc_map_get(s, "propertyNames"))) {
		for (i = 0; i < n; i++) {
			const doc_pair *pr = &inst->u.map.v[i];
			path_key(path, pr->key->u.s.ptr, pr->key->u.s.len);
			if (!eval(v, x, pr->key, path, NULL, false)) {
				ok = false;
				if (!report)
					return false;
				kbuf_truncate(path, save);
				fail(v, pr->key, path, "property name \"%s\" is not allowed by propertyNames",
				     pr->key->u.s.ptr);
			}
			kbuf_truncate(path, save);
		}
	}
	if ((x = doc_map_get(s, "dependencies")) && x->type == DOC_MAP) {
		for (i = 0; i < x->u.map.len; i++) {
			const doc_pair *pr = &x->u.map.v[i];
			if (!doc_map_getn(inst, pr->key->u.s.ptr, pr->key->u.s.len))
				continue;
			if (pr->val->type == DOC_SEQ) {
				size_t j;
				for (j = 0; j < pr->val->u.seq.len; j++) {
					const doc_node *k = pr->val->u.seq.v[j];
					if (k->type == DOC_STR && !doc_map_getn(inst, k->u.s.ptr, k->u.s.len)) {
						ok = false;
						if (!report)
							return false;
						fail(v, inst, path, "property \"%s\" requires property \"%s\"",
						     pr->key->u.s.ptr, k->u.s.ptr);
					}
				}
			} else if (!sub_same(v, pr->val, inst, path, ann, report)) {
				SUBFAIL();
			}
		}
	}
	if ((x = doc_map_get(s, "dependentSchemas")) && x->type == DOC_MAP && draft != 7)
		for (i = 0; i < x->u.map.len; i++) {
			const doc_pair *pr = &x->u.map.v[i];
			if (doc_map_getn(inst, pr->key->u.s.ptr, pr->key->u.s.len) &&
			    !sub_same(v, pr->val, inst, path, ann, report))
				SUBFAIL();
		}
	return ok;
#undef SUBFAIL
}

static bool eval_seq(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report,
		     int draft)
{
	bool ok = true;
	const doc_node *items, *x;
	size_t i, n = inst->u.seq.len, save = path->len, start = 0;
#define SUBFAIL() do { ok = false; if (!report) return false; } while (0)
	items = doc_map_get(s, "items");
	x = doc_map_get(s, "prefixItems");
	if (draft != 7 && x && x->type == DOC_SEQ) {
		for (i = 0; i < n && i < x->u.seq.len; i++) {
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, x->u.seq.v[i], inst->u.seq.v[i], path, report))
				SUBFAIL();
			if (ann)
				ann->seen[i] = true;
			kbuf_truncate(path, save);
		}
		start = x->u.seq.len;
	}
	if (items && items->type == DOC_SEQ) {
		/* tuple form (draft-07) */
		for (i = 0; i < n && i < items->u.seq.len; i++) {
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, items->u.seq.v[i], inst->u.seq.v[i], path, report))
				SUBFAIL();
			if (ann)
				ann->seen[i] = true;
			kbuf_truncate(path, save);
		}
		x = doc_map_get(s, "additionalItems");
		if (x)
			for (i = items->u.seq.len; i < n; i++) {
				kbuf_printf(path, "[%zu]", i);
				if (!sub_child(v, x, inst->u.seq.v[i], path, report))
					SUBFAIL();
				if (ann)
					ann->seen[i] = true;
				kbuf_truncate(path, save);
			}
	} else if (items) {
		for (i = start; i < n; i++) {
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, items, inst->u.seq.v[i], path, report))
				SUBFAIL();
			if (ann)
				ann->seen[i] = true;
			kbuf_truncate(path, save);
		}
	}
	if ((x = doc_map_get(s, "contains"))) {
		size_t cnt = 0;
		const doc_node *mn = draft != 7 ? doc_map_get(s, "minContains") : NULL;
		const doc_node *mx = draft != 7 ? doc_map_get(s, "maxContains") : NULL;
		double minc = mn && is_num(mn) ? num(mn) : 1;
		for (i = 0; i < n; i++)
			if (eval(v, x, inst->u.seq.v[i], path, NULL, false)) {
				cnt++;
				if (ann && draft != 7)
					ann->seen[i] = true;
			}
		if ((double)cnt < minc) {
			ok = false;
			if (!report)
				return false;
			if (cnt == 0)
				fail(v, inst, path, "no item matches the contains schema");
			else
				fail(v, inst, path, "%zu items match the contains schema, want at least %g", cnt, minc);
		}
		if (mx && is_num(mx) && (double)cnt > num(mx)) {
			ok = false;
			if (!report)
				return false;
			fail(v, inst, path, "%zu items match the contains schema, want at most %g", cnt, num(mx));
		}
	}
	return ok;
#undef SUBFAIL
}

static bool eval_ref(vs *v, const doc_node *s, const char *kw, const doc_node *inst, kbuf *path, vs_ann *ann,
		     bool report, const char *base, int draft)
{
	const doc_node *r = doc_map_get(s, kw), *target;
	if (!r || r->type != DOC_STR)
		return true;
	target = resolve_ref(v, base, r->u.s.ptr, draft);
	if (target && !strcmp(kw, "$dynamicRef")) {
		/* dynamic: if the static target is a $dynamicAnchor of that name,
		 * the outermost resource in scope with the same anchor wins */
		const char *h = strchr(r->u.s.ptr, '#');
		const doc_node *da = target->type == DOC_MAP ? doc_map_get(target, "$dynamicAnchor") : NULL;
		if (h && da && da->type == DOC_STR && !strcmp(da->u.s.ptr, h + 1)) {
			int i;
			for (i = 0; i < v->nscope; i++) {
				kbuf key = KBUF_INIT;
				const doc_node *t2;
				kbuf_printf(&key, "%s#%s", v->scope[i], h + 1);
				t2 = anc_find(v, key.ptr, true);
				kbuf_release(&key);
				if (t2) {
					target = t2;
					break;
				}
			}
		}
	}
	if (!target) {
		schema_error(v, KE_INPUT, inst, path, "cannot resolve %s \"%s\"", kw, r->u.s.ptr);
		return false;
	}
	return sub_same(v, target, inst, path, ann, report);
}

static bool eval(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report)
{
	vs_info *inf;
	const char *base;
	int draft;
	bool ok = true, pushed = false;
	const doc_node *x;
	vs_ann own;
	if (s->type == DOC_BOOL) {
		if (!s->u.b && report)
			fail(v, inst, path, "no value is allowed here (schema is false)");
		return s->u.b;
	}
	if (v->fatal)
		return false;
	if (s->type != DOC_MAP)
		return true;
	if (v->depth >= VS_MAX_DEPTH) {
		schema_error(v, KE_LIMIT, inst, path, "schema references nest deeper than %d levels", VS_MAX_DEPTH);
		return false;
	}
	if (++v->steps > VS_MAX_STEPS) {
		schema_error(v, KE_LIMIT, inst, path, "the schema takes more than %d evaluation steps (nested anyOf/oneOf/$ref?)",
			     VS_MAX_STEPS);
		return false;
	}
	inf = info_get(v, s);
	if (!inf) {
		walk(v, s, v->nscope ? v->scope[v->nscope - 1] : "", v->o && v->o->draft ? v->o->draft : 2020, 0);
		inf = info_get(v, s);
	}
	base = inf ? inf->base : "";
	draft = inf ? inf->draft : 2020;
	v->depth++;
	if (!v->nscope || strcmp(v->scope[v->nscope - 1], base)) {
		v->scope[v->nscope++] = base;
		pushed = true;
	}
	if (!ann) {
		ann_init(v, &own, inst);
		ann = &own;
	}
#define SUBFAIL() do { ok = false; if (!report) goto out; } while (0)
	if (draft == 7 && doc_map_get(s, "$ref")) {
		ok = eval_ref(v, s, "$ref", inst, path, ann, report, base, draft);
		goto out;
	}
	if (!eval_ref(v, s, "$ref", inst, path, ann, report, base, draft))
		SUBFAIL();
	if (draft != 7 && !eval_ref(v, s, "$dynamicRef", inst, path, ann, report, base, draft))
		SUBFAIL();
	if (!v->no_validation && !kw_validation(v, s, inst, path, report))
		SUBFAIL();
	if (inst->type == DOC_STR && (x = doc_map_get(s, "format")) && x->type == DOC_STR) {
		int mode = v->o->format;
		bool assert_fmt = mode == VALUES_FORMAT_ASSERT || (mode == VALUES_FORMAT_DEFAULT && draft == 7);
		if (assert_fmt && !format_ok(v, x->u.s.ptr, inst->u.s.ptr, inst->u.s.len)) {
			ok = false;
			if (!report)
				goto out;
			fail(v, inst, path, "value is not a valid %s", x->u.s.ptr);
		}
	}
	if ((x = doc_map_get(s, "allOf")) && x->type == DOC_SEQ) {
		size_t i;
		for (i = 0; i < x->u.seq.len; i++)
			if (!sub_same(v, x->u.seq.v[i], inst, path, ann, report))
				SUBFAIL();
	}
	if ((x = doc_map_get(s, "anyOf")) && x->type == DOC_SEQ) {
		size_t i;
		bool any = false;
		for (i = 0; i < x->u.seq.len; i++)
			if (sub_same(v, x->u.seq.v[i], inst, path, ann, false))
				any = true;
		if (!any) {
			ok = false;
			if (!report)
				goto out;
			fail(v, inst, path, "value matches none of the anyOf schemas");
		}
	}
	if ((x = doc_map_get(s, "oneOf")) && x->type == DOC_SEQ) {
		size_t i, cnt = 0;
		for (i = 0; i < x->u.seq.len; i++)
			if (sub_same(v, x->u.seq.v[i], inst, path, ann, false))
				cnt++;
		if (cnt != 1) {
			ok = false;
			if (!report)
				goto out;
			if (cnt)
				fail(v, inst, path, "value matches %zu of the oneOf schemas, want exactly one", cnt);
			else
				fail(v, inst, path, "value matches none of the oneOf schemas");
		}
	}
	if ((x = doc_map_get(s, "not"))) {
		if (eval(v, x, inst, path, NULL, false)) {
			ok = false;
			if (!report)
				goto out;
			fail(v, inst, path, "value must not match the \"not\" schema");
		}
	}
	if ((x = doc_map_get(s, "if"))) {
		const doc_node *t = doc_map_get(s, "then"), *e = doc_map_get(s, "else");
		if (sub_same(v, x, inst, path, ann, false)) {
			if (t && !sub_same(v, t, inst, path, ann, report))
				SUBFAIL();
		} else if (e && !sub_same(v, e, inst, path, ann, report)) {
			SUBFAIL();
		}
	}
	if (inst->type == DOC_MAP && !eval_map(v, s, inst, path, ann, report, draft))
		SUBFAIL();
	if (inst->type == DOC_SEQ && !eval_seq(v, s, inst, path, ann, report, draft))
		SUBFAIL();
	if (draft != 7 && inst->type == DOC_MAP && (x = doc_map_get(s, "unevaluatedProperties"))) {
		size_t i, save = path->len;
		for (i = 0; i < inst->u.map.len; i++) {
			const doc_pair *pr = &inst->u.map.v[i];
			if (ann->seen[i])
				continue;
			path_key(path, pr->key->u.s.ptr, pr->key->u.s.len);
			if (x->type == DOC_BOOL && !x->u.b) {
				ok = false;
				if (report) {
					kbuf_truncate(path, save);
					fail(v, pr->val, path, "unevaluated property \"%s\" is not allowed",
					     pr->key->u.s.ptr);
				}
			} else if (!sub_child(v, x, pr->val, path, report)) {
				ok = false;
			}
			kbuf_truncate(path, save);
			if (!ok && !report)
				goto out;
			ann->seen[i] = true;
		}
	}
	if (draft != 7 && inst->type == DOC_SEQ && (x = doc_map_get(s, "unevaluatedItems"))) {
		size_t i, save = path->len;
		for (i = 0; i < inst->u.seq.len; i++) {
			if (ann->seen[i])
				continue;
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, x, inst->u.seq.v[i], path, report))
				ok = false;
			kbuf_truncate(path, save);
			if (!ok && !report)
				goto out;
			ann->seen[i] = true;
		}
	}
out:
#undef SUBFAIL
	if (pushed)
		v->nscope--;
	v->depth--;
	return ok;
}

/* ---- entry points ------------------------------------------------------------ */

static void vs_release(vs *v)
{
	size_t i;
	for (i = 0; i < v->nre; i++)
		if (v->re[i].code)
			pcre2_code_free(v->re[i].code);
	if (v->md)
		pcre2_match_data_free(v->md);
	free(v->re);
	free(v->info);
	free(v->res);
	free(v->anc);
	free(v->secret_files);
}

static int schema_check(const doc_node *schema, int draft, const char *what, kerr *err);

static int validate(const doc_node *schema, const doc_node *instance, const char *what,
		    const values_schema_opts *o, bool check_schema, kerr *err)
{
	vs v;
	karena scratch = KARENA_INIT;
	kbuf path = KBUF_INIT;
	values_schema_opts dflt;
	int draft;
	const doc_node *x;
	bool ok;
	int r;
	if (!schema)
		return 0;
	memset(&dflt, 0, sizeof(dflt));
	memset(&v, 0, sizeof(v));
	v.a = &scratch;
	v.o = o ? o : &dflt;
	v.what = what;
	v.err = err;
	draft = v.o->draft ? v.o->draft : 2020;
	if (schema->type == DOC_MAP && (x = doc_map_get(schema, "$schema")) && x->type == DOC_STR) {
		const char *ms = uri_resolve(v.a, "", x->u.s.ptr);
		const char *frag;
		ms = strip_fragment(v.a, ms, &frag);
		if (!values_metaschema(ms) && v.o->load) {
			/* a custom meta-schema: honour its $vocabulary */
			const doc_node *meta = load_remote(&v, ms);
			const doc_node *voc = meta ? doc_map_get(meta, "$vocabulary") : NULL;
			if (voc && voc->type == DOC_MAP &&
			    !doc_map_get(voc, "https://json-schema.org/draft/2020-12/vocab/validation"))
				v.no_validation = true;
			if (meta && (x = doc_map_get(meta, "$schema")) && x->type == DOC_STR)
				draft = draft_of(x->u.s.ptr, draft);
		}
	}
	if (check_schema) {
		int d = draft;
		if (schema->type == DOC_MAP && (x = doc_map_get(schema, "$schema")) && x->type == DOC_STR)
			d = draft_of(x->u.s.ptr, d);
		if ((r = schema_check(schema, d, what, err))) {
			vs_release(&v);
			karena_release(&scratch);
			return r;
		}
	}
	add_document(&v, "", schema, draft);
	secrets_find(&v, schema, instance);
	kbuf_init(&path, 0);
	ok = eval(&v, schema, instance, &path, NULL, true);
	kbuf_release(&path);
	vs_release(&v);
	karena_release(&scratch);
	if (v.fatal)
		return v.fatal;
	if (!ok && !err->code)
		return kerr_set(err, KE_INPUT, "%s: does not match the schema", what ? what : "values");
	return ok ? 0 : KE_INPUT;
}

/* The schema itself against its draft's meta-schema (formats not
 * asserted): an invalid schema ("type": 123, an array) is refused, located
 * in the schema file, instead of being ignored. */
static int schema_check(const doc_node *schema, int draft, const char *what, kerr *err)
{
	const char *uri = draft == 7 ? "http://json-schema.org/draft-07/schema"
				     : "https://json-schema.org/draft/2020-12/schema";
	const char *text = values_metaschema(uri);
	karena a = KARENA_INIT;
	doc_node *meta = NULL;
	values_schema_opts mo;
	int r;
	memset(&mo, 0, sizeof(mo));
	mo.draft = draft;
	mo.format = VALUES_FORMAT_IGNORE;
	if (doc_load_json(&meta, &a, uri, text, strlen(text), err))
		r = err->code;
	else
		r = validate(meta, schema, karena_printf(&a, "%s: invalid schema", what ? what : "values"), &mo, false,
			     err);
	karena_release(&a);
	return r;
}

int values_validate_opts(const doc_node *schema, const doc_node *instance, const char *what,
			 const values_schema_opts *o, kerr *err)
{
	return validate(schema, instance, what, o, true, err);
}

int values_validate(const doc_node *schema, const doc_node *instance, const char *what, kerr *err)
{
	return values_validate_opts(schema, instance, what, NULL, err);
}
