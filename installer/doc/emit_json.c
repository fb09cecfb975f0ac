/* doc/emit_json.c - JSON exactly as Go's encoding/json writes it. */
#include "doc.h"
#include "core/alloc.h"
#include "core/numfmt.h"
#include "resolve.h"

#include <stdlib.h>
#include <string.h>

static const char hex[] = "0123456789abcdef";

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF && n >= 2 && (s[1] & 0xC0) == 0x80) {
		*cp = ((c & 0x1F) << 6) | (s[1] & 0x3F);
		return 2;
	}
	if (c >= 0xE0 && c <= 0xEF && n >= 3 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80) {
		unsigned v = ((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3F);
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		*cp = v;
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4 && n >= 4 && (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 &&
	    (s[3] & 0xC0) == 0x80) {
		unsigned v = ((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3F);
		if (v < 0x10000 || v > 0x10FFFF)
			return 0;
		*cp = v;
		return 4;
	}
	return 0;
}

void doc_json_quote(kbuf *out, const char *str, size_t len, unsigned flags)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start = 0;
	bool html = flags & DOC_EMIT_HTML_ESCAPE;
	kbuf_putc(out, '"');
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			const char *esc = NULL;
			char u[7];
			if (c >= 0x20 && c != '"' && c != '\\' && !(html && (c == '<' || c == '>' || c == '&'))) {
				i++;
				continue;
			}
			kbuf_put(out, str + start, i - start);
			switch (c) {
			case '"': esc = "\\\""; break;
			case '\\': esc = "\\\\"; break;
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			default:
				u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
				u[4] = hex[c >> 4]; u[5] = hex[c & 0xF]; u[6] = '\0';
				esc = u;
			}
			kbuf_puts(out, esc);
			i++;
			start = i;
			continue;
		}
		{
			unsigned cp;
			size_t n = utf8_len(s + i, len - i, &cp);
			if (!n) {
				kbuf_put(out, str + start, i - start);
				kbuf_puts(out, "\\ufffd");
				i++;
				start = i;
				continue;
			}
			if (cp == 0x2028 || cp == 0x2029) {
				kbuf_put(out, str + start, i - start);
				kbuf_puts(out, cp == 0x2028 ? "\\u2028" : "\\u2029");
				i += n;
				start = i;
				continue;
			}
			i += n;
		}
	}
	kbuf_put(out, str + start, len - start);
	kbuf_putc(out, '"');
}

static int cmp_pair(const void *x, const void *y)
{
	const doc_pair *a = *(const doc_pair *const *)x, *b = *(const doc_pair *const *)y;
	size_t la = a->key->u.s.len, lb = b->key->u.s.len;
	int c = memcmp(a->key->u.s.ptr, b->key->u.s.ptr, la < lb ? la : lb);
	return c ? c : (la < lb ? -1 : la > lb);
}

/* The map's pairs in emit order; the caller frees the array. */
const doc_pair **doc_emit_order(const doc_node *m, unsigned flags)
{
	const doc_pair **v = xmalloc(st_mult(m->u.map.len + 1, sizeof(*v)));
	size_t i;
	for (i = 0; i < m->u.map.len; i++)
		v[i] = &m->u.map.v[i];
	if ((flags & DOC_EMIT_SORT_KEYS) && !(m->flags & DOC_F_ORDERED))
		qsort(v, m->u.map.len, sizeof(*v), cmp_pair);
	return v;
}

static void newline(kbuf *out, unsigned flags, int depth)
{
	if (!(flags & DOC_EMIT_INDENT))
		return;
	kbuf_putc(out, '\n');
	kbuf_putn(out, ' ', (size_t)depth * 2);
}

static int emit(kbuf *out, const doc_node *n, unsigned flags, int depth, kerr *err)
{
	size_t i;
	int r;
	if (depth > 10000)
		return kerr_set(err, KE_LIMIT, "json: nesting too deep");
	switch (n->type) {
	case DOC_NULL: kbuf_puts(out, "null"); return 0;
	case DOC_BOOL: kbuf_puts(out, n->u.b ? "true" : "false"); return 0;
	case DOC_INT: numfmt_int(out, n->u.i); return 0;
	case DOC_FLOAT:
		if (flags & DOC_EMIT_FLOAT_G) {
			numfmt_float_v(out, n->u.f);
			return 0;
		}
		if (numfmt_float_json(out, n->u.f) < 0) {
			kbuf b = KBUF_INIT;
			numfmt_float_v(&b, n->u.f);
			r = kerr_set(err, KE_INPUT, "json: unsupported value: %s", b.ptr);
			kbuf_release(&b);
			return r;
		}
		return 0;
	case DOC_STR: doc_json_quote(out, n->u.s.ptr, n->u.s.len, flags); return 0;
	case DOC_SEQ:
		if (!n->u.seq.len) {
			kbuf_puts(out, "[]");
			return 0;
		}
		kbuf_putc(out, '[');
		for (i = 0; i < n->u.seq.len; i++) {
			if (i)
				kbuf_putc(out, ',');
			newline(out, flags, depth + 1);
			if ((r = emit(out, n->u.seq.v[i], flags, depth + 1, err)))
				return r;
		}
		newline(out, flags, depth);
		kbuf_putc(out, ']');
		return 0;
	case DOC_MAP: {
		const doc_pair **order;
		if (!n->u.map.len) {
			kbuf_puts(out, "{}");
			return 0;
		}
		order = doc_emit_order(n, flags);
		kbuf_putc(out, '{');
		for (i = 0; i < n->u.map.len; i++) {
			if (i)
				kbuf_putc(out, ',');
			newline(out, flags, depth + 1);
			doc_json_quote(out, order[i]->key->u.s.ptr, order[i]->key->u.s.len, flags);
			kbuf_puts(out, (flags & DOC_EMIT_INDENT) ? ": " : ":");
			if ((r = emit(out, order[i]->val, flags, depth + 1, err))) {
				free(order);
				return r;
			}
		}
		free(order);
		newline(out, flags, depth);
		kbuf_putc(out, '}');
		return 0;
	}
	}
	return 0;
}

int doc_emit_json(kbuf *out, const doc_node *n, unsigned flags, kerr *err)
{
	size_t start = out->len;
	int r = emit(out, n, flags, 0, err);
	if (r)
		kbuf_truncate(out, start);
	return r;
}
