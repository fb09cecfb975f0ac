/*
 * values/schema_errors.c - validation errors: the instance's JSON path and
 * position, instance errors (quiet inside probes), schema errors (fatal,
 * probes included), each error once, and no secret value in a location.
 */
#include "schema_int.h"
#include "core/alloc.h"

#include <ctype.h>
#include <string.h>

void vs_path_key(kbuf *p, const char *k, size_t len)
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
void vs_secrets_find(vs *v, const doc_node *schema, const doc_node *instance)
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
void vs_fail(vs *v, const doc_node *inst, const kbuf *path, const char *fmt, ...)
{
	va_list ap;
	if (v->fatal)
		return;
	va_start(ap, fmt);
	fail_v(v, KE_INPUT, inst, path, fmt, ap);
	va_end(ap);
}

/* A schema error (a reference that does not resolve, a limit): reported
 * once, even from a quiet probe, and it stops the whole evaluation, so no
 * anyOf/oneOf/not can turn it into a success. */
void vs_schema_error(vs *v, int code, const doc_node *inst, const kbuf *path, const char *fmt, ...)
{
	va_list ap;
	if (v->fatal)
		return;
	va_start(ap, fmt);
	fail_v(v, code, inst, path, fmt, ap);
	va_end(ap);
	v->fatal = code;
}
