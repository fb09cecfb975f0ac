/*
 * values/merge.c - reading the user's values (files, stdin, URLs through the
 * caller's reader, --set*)
 * and Helm's two ways of combining maps: mergeMaps (files over files) and
 * coalesce (user values over chart defaults, null deletes).
 */
#include "values_int.h"
#include "core/alloc.h"
#include "core/numfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VALUES_MAX_FILE ((size_t)64 << 20)
#define VALUES_MAX_DEPTH 1000

doc_node *values_merge(karena *a, doc_node *dst, const doc_node *src)
{
	size_t i;
	if (!src || src->type != DOC_MAP)
		return dst;
	if (!dst || dst->type != DOC_MAP)
		return (doc_node *)src;
	for (i = 0; i < src->u.map.len; i++) {
		const doc_pair *pr = &src->u.map.v[i];
		doc_node *dv = doc_map_getn(dst, pr->key->u.s.ptr, pr->key->u.s.len);
		if (pr->val->type == DOC_MAP && dv && dv->type == DOC_MAP) {
			values_merge(a, dv, pr->val);
			continue;
		}
		doc_map_setn(a, dst, pr->key->u.s.ptr, pr->key->u.s.len, pr->val);
	}
	return dst;
}

void values_warn(karena *a, doc_node *warn, const char *msg)
{
	size_t i;
	if (!warn)
		return;
	for (i = 0; i < warn->u.seq.len; i++)
		if (!strcmp(warn->u.seq.v[i]->u.s.ptr, msg))
			return;
	doc_seq_push(a, warn, doc_new_str(a, msg));
}

/* Go's fmt %v of a values node: map[k:v ...] with sorted keys, [a b],
 * <nil>, numbers as Go prints a float64 or an int64 */
static int pair_cmp(const void *x, const void *y)
{
	const doc_pair *p = *(const doc_pair *const *)x, *q = *(const doc_pair *const *)y;
	size_t n = p->key->u.s.len < q->key->u.s.len ? p->key->u.s.len : q->key->u.s.len;
	int c = memcmp(p->key->u.s.ptr, q->key->u.s.ptr, n);
	return c ? c : (p->key->u.s.len > q->key->u.s.len) - (p->key->u.s.len < q->key->u.s.len);
}

static void go_v(kbuf *b, const doc_node *n, int depth)
{
	size_t i;
	if (depth > VALUES_MAX_DEPTH)
		return;
	switch (n->type) {
	case DOC_MAP: {
		const doc_pair **ps = xcalloc(n->u.map.len ? n->u.map.len : 1, sizeof(*ps));
		for (i = 0; i < n->u.map.len; i++)
			ps[i] = &n->u.map.v[i];
		qsort(ps, n->u.map.len, sizeof(*ps), pair_cmp);
		kbuf_puts(b, "map[");
		for (i = 0; i < n->u.map.len; i++) {
			if (i)
				kbuf_putc(b, ' ');
			kbuf_put(b, ps[i]->key->u.s.ptr, ps[i]->key->u.s.len);
			kbuf_putc(b, ':');
			go_v(b, ps[i]->val, depth + 1);
		}
		kbuf_putc(b, ']');
		free(ps);
		break;
	}
	case DOC_SEQ:
		kbuf_putc(b, '[');
		for (i = 0; i < n->u.seq.len; i++) {
			if (i)
				kbuf_putc(b, ' ');
			go_v(b, n->u.seq.v[i], depth + 1);
		}
		kbuf_putc(b, ']');
		break;
	case DOC_STR: kbuf_put(b, n->u.s.ptr, n->u.s.len); break;
	case DOC_BOOL: kbuf_puts(b, n->u.b ? "true" : "false"); break;
	case DOC_INT: numfmt_int(b, n->u.i); break;
	case DOC_FLOAT: numfmt_float_v(b, n->u.f); break;
	default: kbuf_puts(b, "<nil>"); break;
	}
}

/* Helm's words where one side is a table and the other a value: src_table
 * says which side the table is on (val is src's value) */
static void warn_table(karena *a, doc_node *warn, bool src_table, const char *prefix, const char *k, size_t klen,
		       const doc_node *val)
{
	kbuf v = KBUF_INIT;
	const char *p = prefix ? prefix : "", *dot = *p ? "." : "";
	if (!warn)
		return;
	go_v(&v, val, 0);
	if (src_table)
		values_warn(a, warn, karena_printf(a, "cannot overwrite table with non table for %s%s%.*s (%s)", p, dot,
						   (int)klen, k, v.ptr ? v.ptr : ""));
	else
		values_warn(a, warn, karena_printf(a, "destination for %s%s%.*s is a table. Ignoring non-table value (%s)",
						   p, dot, (int)klen, k, v.ptr ? v.ptr : ""));
	kbuf_release(&v);
}

/* Helm's coalesceTablesFullKey: dst wins; maps merge; a null in dst
 * deletes the key when the default has a value (unless merging). */
void values_coalesce_tables(karena *a, doc_node *dst, const doc_node *src, bool merge, int depth,
			    const char *prefix, doc_node *warn)
{
	size_t i;
	if (!src || src->type != DOC_MAP || !dst || dst->type != DOC_MAP || depth > VALUES_MAX_DEPTH)
		return;
	for (i = 0; i < src->u.map.len; i++) {
		const doc_pair *pr = &src->u.map.v[i];
		const char *k = pr->key->u.s.ptr;
		size_t klen = pr->key->u.s.len;
		doc_node *dv = doc_map_getn(dst, k, klen);
		if (!dv) {
			doc_map_setn(a, dst, k, klen, doc_copy(a, pr->val));
			continue;
		}
		if (dv->type == DOC_NULL) {
			if (!merge && pr->val->type != DOC_NULL) {
				kbuf key = KBUF_INIT;
				kbuf_put(&key, k, klen);
				doc_map_del(dst, key.ptr);
				kbuf_release(&key);
			}
			continue;
		}
		if (pr->val->type == DOC_MAP && dv->type == DOC_MAP)
			values_coalesce_tables(a, dv, pr->val, merge, depth + 1,
					       warn ? karena_printf(a, "%s%s%.*s", prefix && *prefix ? prefix : "",
								    prefix && *prefix ? "." : "", (int)klen, k) : NULL,
					       warn);
		/* otherwise dst keeps its value, and Helm says so */
		else if (pr->val->type == DOC_MAP)
			warn_table(a, warn, true, prefix, k, klen, pr->val);
		else if (dv->type == DOC_MAP && pr->val->type != DOC_NULL)
			warn_table(a, warn, false, prefix, k, klen, pr->val);
	}
}

doc_node *values_coalesce(karena *a, doc_node *dst, const doc_node *defaults)
{
	if (!dst)
		return defaults ? doc_copy(a, defaults) : doc_new_map(a);
	values_coalesce_tables(a, dst, defaults, false, 0, NULL, NULL);
	return dst;
}

void values_helm_numbers(doc_node *n)
{
	size_t i;
	if (!n)
		return;
	switch (n->type) {
	case DOC_INT: {
		double f = (double)n->u.i;
		n->type = DOC_FLOAT;
		n->u.f = f;
		break;
	}
	case DOC_SEQ:
		for (i = 0; i < n->u.seq.len; i++)
			values_helm_numbers(n->u.seq.v[i]);
		break;
	case DOC_MAP:
		for (i = 0; i < n->u.map.len; i++)
			values_helm_numbers(n->u.map.v[i].val);
		break;
	default:
		break;
	}
}

/* ---- reading sources -------------------------------------------------- */

int values_read_source(kbuf *out, const char *src, const values_url_reader *url, kerr *err)
{
	int r;
	if (!strncmp(src, "https://", 8) || !strncmp(src, "http://", 7)) {
		if (!url || !url->read)
			return kerr_set(err, KE_USAGE, "%s: values cannot be read from a URL here", src);
		r = url->read(url->ctx, src, out, err);
		if (!r && out->len > VALUES_MAX_FILE)
			r = kerr_set(err, KE_LIMIT, "%s: larger than %zu bytes", src, VALUES_MAX_FILE);
		return r;
	}
	r = kbuf_read_file(out, src, VALUES_MAX_FILE);
	if (r == -2)
		return kerr_set_at(err, KE_LIMIT, src, 0, 0, "file larger than %zu bytes", VALUES_MAX_FILE);
	if (r)
		return kerr_set_at(err, KE_IO, src, 0, 0, "cannot read: %s", strerror(errno));
	return 0;
}

/* ---- values files --------------------------------------------------------- */

/* One part of a values file, decoded as go-yaml's Unmarshal does (the first
 * document only). The part is parsed behind as many newlines as lines come
 * before it, so every position is the file's. */
static int load_values_part(doc_node **out, karena *a, const char *name, const char *text, size_t off,
			    size_t end, unsigned line, doc_dup_mode dup, kerr *err)
{
	kbuf b = KBUF_INIT;
	doc_load_opts lo;
	unsigned i;
	int r;
	memset(&lo, 0, sizeof(lo));
	lo.dup = dup;
	lo.first_doc = 1;
	for (i = 1; i < line; i++)
		kbuf_putc(&b, '\n');
	kbuf_put(&b, text + off, end - off);
	r = doc_load_yaml1(out, a, name, b.ptr, b.len, &lo, err);
	if (!r) {
		/* Helm reads values through JSON, which has no NaN or infinities */
		const doc_node *bad = doc_find_nonfinite(*out);
		if (bad) {
			kbuf v = KBUF_INIT;
			numfmt_float_v(&v, bad->u.f);
			r = kerr_set_src(err, KE_INPUT, name, b.ptr, b.len, bad->line, bad->col,
					 "error converting YAML to JSON: json: unsupported value: %s", v.ptr);
			kbuf_release(&v);
		}
	}
	kbuf_release(&b);
	return r;
}

int values_load_yaml(doc_node **out, karena *a, const char *name, const char *text, size_t len,
		     doc_dup_mode dup, const char *what, kerr *err)
{
	size_t p = 0, start = 0;
	unsigned line = 1, start_line = 1;
	*out = doc_new_map(a);
	for (;;) {
		const char *nl = p < len ? memchr(text + p, '\n', len - p) : NULL;
		size_t le = nl ? (size_t)(nl - text) : len, next = nl ? le + 1 : len;
		bool sep = le - p >= 3 && !memcmp(text + p, "---", 3);
		if (sep) {
			/* only blanks or a comment may follow the separator */
			size_t q = p + 3;
			while (q < le && (text[q] == ' ' || text[q] == '\t' || text[q] == '\r'))
				q++;
			if (q < le && text[q] != '#') {
				size_t e = le;
				while (e > q && (text[e - 1] == ' ' || text[e - 1] == '\t' || text[e - 1] == '\r'))
					e--;
				return kerr_set_src(err, KE_INPUT, name, text, len, line, (unsigned)(q - p) + 1,
						    "invalid YAML document separator: %.*s", (int)(e - q), text + q);
			}
		}
		if (sep || p >= len) {
			if (p > start) {
				doc_node *d;
				int r = load_values_part(&d, a, name, text, start, p, start_line, dup, err);
				if (r)
					return r;
				if (d->type != DOC_NULL && d->type != DOC_MAP)
					return kerr_set_at(err, KE_INPUT, name, d->line, d->col, "%s must be a map, not a %s",
							   what, doc_type_name(d->type));
				*out = values_merge(a, *out, d);
			}
			start = next;
			start_line = line + 1;
		}
		if (p >= len)
			return 0;
		p = next;
		line++;
	}
}

/* ---- the user's values -------------------------------------------------- */

static int load_values_file(doc_node **out, karena *a, const char *src, values_num_mode num,
			    const values_url_reader *url, kerr *err)
{
	kbuf b = KBUF_INIT;
	const char *name = strcmp(src, "-") ? src : "<stdin>";
	int r;
	if ((r = values_read_source(&b, src, url, err))) {
		kbuf_release(&b);
		return r;
	}
	r = values_load_yaml(out, a, name, b.ptr, b.len, num == VALUES_NUM_HELM ? DOC_DUP_LAST : DOC_DUP_ERROR,
			     "a values file", err);
	kbuf_release(&b);
	if (r)
		return r;
	if (num == VALUES_NUM_HELM)
		values_helm_numbers(*out);
	return 0;
}

int values_read_user(doc_node **out, doc_node **secret_paths, karena *a, const values_opts *o,
		     kerr *err)
{
	static const values_flag_kind order[] = { VALUES_SET_JSON, VALUES_SET, VALUES_SET_STRING,
						  VALUES_SET_FILE, VALUES_SET_LITERAL, VALUES_SET_SECRET };
	doc_node *base = doc_new_map(a), *sp = doc_new_seq(a);
	size_t i, k;
	int r;
	for (i = 0; i < o->nfiles; i++) {
		doc_node *cur;
		if ((r = load_values_file(&cur, a, o->files[i], o->num, &o->url, err)))
			return r;
		base = values_merge(a, base, cur);
	}
	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++)
		for (i = 0; i < o->nflags; i++) {
			if (o->flags[i].kind != order[k])
				continue;
			r = values_parse_set_ex(base, a, order[k], o->flags[i].arg, o->num, &o->url,
						order[k] == VALUES_SET_SECRET ? sp : NULL, err);
			if (r)
				return r;
		}
	*out = base;
	if (secret_paths)
		*secret_paths = sp;
	return 0;
}
