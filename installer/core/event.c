#include "event.h"
#include "buf.h"

#include <stdarg.h>
#include <string.h>

static void null_emit(void *ctx, const kevent *ev)
{
	(void)ctx;
	(void)ev;
}

const kev_sink kev_null_sink = { null_emit, NULL, NULL };

void kev_emitv(const kev_sink *s, kev_level level, const char *kind, const char *msg, va_list ap)
{
	kevent ev;
	const char *k;
	if (!s || !s->emit)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.level = level;
	ev.kind = kind;
	ev.msg = msg;
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		if (ev.nfields < KEV_MAX_FIELDS && v) {
			ev.fields[ev.nfields].key = k;
			ev.fields[ev.nfields].val = v;
			ev.nfields++;
		}
	}
	s->emit(s->ctx, &ev);
}

void kev_emit(const kev_sink *s, kev_level level, const char *kind, const char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	kev_emitv(s, level, kind, msg, ap);
	va_end(ap);
}

void kev_emitf(const kev_sink *s, kev_level level, const char *kind, const char *fmt, ...)
{
	kbuf b = KBUF_INIT;
	va_list ap;
	if (!s || !s->emit)
		return;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	kev_emit(s, level, kind, b.ptr, NULL);
	kbuf_release(&b);
}

const char *kev_level_name(kev_level l)
{
	switch (l) {
	case KEV_DEBUG: return "debug";
	case KEV_INFO: return "info";
	case KEV_WARN: return "warning";
	default: return "error";
	}
}

const char *kev_get(const kevent *ev, const char *key)
{
	size_t i;
	for (i = 0; i < ev->nfields; i++)
		if (!strcmp(ev->fields[i].key, key))
			return ev->fields[i].val;
	return NULL;
}

void kev_secret(const kev_sink *s, const char *v, size_t len)
{
	if (s)
		kredact_add(s->redact, v, len, KREDACT_FRAGMENTS);
}
