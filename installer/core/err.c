#include "err.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char *vfmt(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vfmt(const char *fmt, va_list ap)
{
	kbuf b = KBUF_INIT;
	kbuf_vprintf(&b, fmt, ap);
	return kbuf_detach(&b, NULL);
}

static void item_release(kerr_item *it)
{
	free(it->msg);
	free(it->file);
	free(it->object);
	free(it->src_line);
	memset(it, 0, sizeof(*it));
}

static void causes_release(kerr *e)
{
	size_t i;
	for (i = 0; i < e->ncauses; i++) {
		free(e->causes[i].type);
		free(e->causes[i].field);
		free(e->causes[i].message);
	}
	free(e->causes);
	e->causes = NULL;
	e->ncauses = 0;
	free(e->reason);
	e->reason = NULL;
	e->status = 0;
}

void kerr_clear(kerr *e)
{
	size_t i;
	item_release(&e->first);
	for (i = 0; i < e->nmore; i++)
		item_release(&e->more[i]);
	free(e->more);
	e->more = NULL;
	e->nmore = 0;
	e->count = 0;
	e->code = 0;
	causes_release(e);
}

void kerr_set_reason(kerr *e, const char *reason, int status)
{
	free(e->reason);
	e->reason = reason && *reason ? xstrdup(reason) : NULL;
	e->status = status;
}

void kerr_add_cause(kerr *e, const char *type, const char *field, const char *message)
{
	kerr_cause *c;
	if (e->ncauses >= KERR_MAX_CAUSES)
		return;
	e->causes = xrealloc(e->causes, st_mult(e->ncauses + 1, sizeof(*e->causes)));
	c = &e->causes[e->ncauses++];
	c->type = xstrdup(type ? type : "");
	c->field = xstrdup(field ? field : "");
	c->message = xstrdup(message ? message : "");
}

const char *kerr_reason(const kerr *e)
{
	return e->reason ? e->reason : "";
}

int kerr_reason_is(const kerr *e, const char *reason)
{
	return e->reason && reason && !strcmp(e->reason, reason);
}

const kerr_cause *kerr_find_cause(const kerr *e, const char *type)
{
	size_t i;
	for (i = 0; i < e->ncauses; i++)
		if (!strcmp(e->causes[i].type, type))
			return &e->causes[i];
	return NULL;
}

void kerr_move(kerr *dst, kerr *src)
{
	int quiet = dst->quiet;
	kerr_clear(dst);
	*dst = *src;
	dst->quiet = quiet;
	memset(src, 0, sizeof(*src));
	src->quiet = dst->quiet;
}

static void item_fill(kerr_item *it, const char *file, unsigned line, unsigned col, char *msg)
{
	it->msg = msg;
	it->file = file ? xstrdup(file) : NULL;
	it->line = line;
	it->col = col;
}

static int set_v(kerr *e, int code, const char *file, unsigned line, unsigned col,
		 const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

static int set_v(kerr *e, int code, const char *file, unsigned line, unsigned col,
		 const char *fmt, va_list ap)
{
	int quiet = e->quiet;
	kerr_clear(e);
	e->quiet = quiet;
	e->code = code ? code : KE_ERROR;
	e->count = 1;
	if (!quiet)
		item_fill(&e->first, file, line, col, vfmt(fmt, ap));
	return e->code;
}

int kerr_set(kerr *e, int code, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = set_v(e, code, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return r;
}

int kerr_set_at(kerr *e, int code, const char *file, unsigned line, unsigned col,
		const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = set_v(e, code, file, line, col, fmt, ap);
	va_end(ap);
	return r;
}

static char *source_line(const char *text, size_t len, unsigned line)
{
	size_t i = 0, start;
	unsigned cur = 1;
	if (!text || !line)
		return NULL;
	while (cur < line && i < len) {
		if (text[i] == '\n')
			cur++;
		i++;
	}
	if (cur != line)
		return NULL;
	start = i;
	while (i < len && text[i] != '\n' && text[i] != '\r' && i - start < 240)
		i++;
	return xstrndup(text + start, i - start);
}

int kerr_set_src(kerr *e, int code, const char *file, const char *text, size_t len,
		 unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = set_v(e, code, file, line, col, fmt, ap);
	va_end(ap);
	if (!e->quiet)
		e->first.src_line = source_line(text, len, line);
	return r;
}

int kerr_set_obj(kerr *e, int code, const char *object, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = set_v(e, code, NULL, 0, 0, fmt, ap);
	va_end(ap);
	if (!e->quiet && object)
		e->first.object = xstrdup(object);
	return r;
}

int kerr_add_at(kerr *e, int code, const char *file, unsigned line, unsigned col,
		const char *fmt, ...)
{
	va_list ap;
	if (!e->code) {
		va_start(ap, fmt);
		set_v(e, code, file, line, col, fmt, ap);
		va_end(ap);
		return e->code;
	}
	e->count++;
	if (e->quiet || e->nmore + 1 >= KERR_MAX_LIST)
		return e->code;
	e->more = xrealloc(e->more, st_mult(e->nmore + 1, sizeof(*e->more)));
	memset(&e->more[e->nmore], 0, sizeof(*e->more));
	va_start(ap, fmt);
	item_fill(&e->more[e->nmore], file, line, col, vfmt(fmt, ap));
	va_end(ap);
	e->nmore++;
	return e->code;
}

static void wrap_item(kerr_item *it, const char *ctx)
{
	kbuf b = KBUF_INIT;
	kbuf_printf(&b, "%s: %s", ctx, it->msg ? it->msg : "");
	free(it->msg);
	it->msg = kbuf_detach(&b, NULL);
}

int kerr_wrap(kerr *e, const char *fmt, ...)
{
	va_list ap;
	char *ctx;
	size_t i;
	if (!e->code)
		e->code = KE_ERROR;
	if (e->quiet)
		return e->code;
	va_start(ap, fmt);
	ctx = vfmt(fmt, ap);
	va_end(ap);
	wrap_item(&e->first, ctx);
	for (i = 0; i < e->nmore; i++)
		wrap_item(&e->more[i], ctx);
	free(ctx);
	return e->code;
}

void kerr_set_object(kerr *e, const char *object)
{
	if (!e->quiet && object && !e->first.object)
		e->first.object = xstrdup(object);
}

static void format_item(const kerr_item *it, kbuf *out, int caret)
{
	if (it->file && it->line)
		kbuf_printf(out, "%s:%u:%u: ", it->file, it->line, it->col);
	else if (it->file)
		kbuf_printf(out, "%s: ", it->file);
	if (it->object)
		kbuf_printf(out, "%s: ", it->object);
	kbuf_puts(out, it->msg ? it->msg : "unknown error");
	if (caret && it->src_line) {
		const char *p = it->src_line;
		unsigned c = 1;
		kbuf_printf(out, "\n  %s\n  ", it->src_line);
		/* pad with the line's own tabs so the caret lines up */
		while (*p && c < it->col) {
			if (((unsigned char)*p & 0xC0) != 0x80) {
				kbuf_putc(out, *p == '\t' ? '\t' : ' ');
				c++;
			}
			p++;
		}
		kbuf_putc(out, '^');
	}
}

void kerr_format(const kerr *e, kbuf *out)
{
	size_t i;
	if (!e->code)
		return;
	format_item(&e->first, out, 1);
	for (i = 0; i < e->nmore; i++) {
		kbuf_putc(out, '\n');
		format_item(&e->more[i], out, 1);
	}
	if (e->count > e->nmore + 1)
		kbuf_printf(out, "\n... and %zu more error%s", e->count - e->nmore - 1,
			    e->count - e->nmore - 1 == 1 ? "" : "s");
}

void kerr_format_short(const kerr *e, kbuf *out)
{
	if (e->code)
		format_item(&e->first, out, 0);
}

const char *kerr_code_name(int code)
{
	switch (code) {
	case KE_OK: return "ok";
	case KE_USAGE: return "usage";
	case KE_INPUT: return "input";
	case KE_IO: return "io";
	case KE_LIMIT: return "limit";
	case KE_NOTFOUND: return "not-found";
	case KE_CLUSTER: return "cluster";
	case KE_API: return "api";
	case KE_CONFLICT: return "conflict";
	case KE_TIMEOUT: return "timeout";
	case KE_ROLLBACK: return "rollback";
	case KE_INTERNAL: return "internal";
	default: return "error";
	}
}

void kerr_offset_to_linecol(const char *text, size_t len, size_t off, unsigned *line, unsigned *col)
{
	size_t i;
	unsigned l = 1, c = 1;
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}
