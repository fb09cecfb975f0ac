/* doc/load_yaml_fast.c - libyaml's events for plain block YAML, without
 * libyaml (the fast path of doc/load_yaml.c).
 *
 * values.yaml and Chart.yaml are mostly block mappings and sequences of
 * one-line scalars and comments; libyaml reads them a character at a time
 * through several layers of buffers, a third of what `kstage template`
 * costs on a chart of a few hundred values. doc_fast_events_scan() reads
 * such text line by line into the events libyaml would give, with the same
 * marks, for the loader to build the same tree. It is only ever allowed to
 * answer for text libyaml reads into the same events: anything it does not
 * fully understand (anchors of collections, tags, documents markers, multi-line
 * plain or quoted scalars, folded or kept block scalars, nested flow
 * collections, tabs, bytes libyaml refuses or reads as line breaks, odd
 * indentation, any error) returns 0, and libyaml reads the text, which also
 * words the errors. UTF-8 text (in comments above all) is taken; libyaml
 * counts its columns in characters, and so do the marks here. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "head.h"

enum { FY_MAP = 1, FY_SEQ = 2 };
#define FY_MAX_DEPTH 64
#define FY_MAX_KEY 1000        /* libyaml's simple keys are shorter than 1024 */

typedef struct fy {
	const char *text, *end;
	doc_fast_events *ev;
	struct { int indent, kind; } st[FY_MAX_DEPTH];
	int depth;
	int pend;               /* column of a key or "-" whose value has not come, or -1 */
	bool pend_key;          /* a key's (an indentless sequence may follow at its column) */
	yaml_mark_t pend_mark;  /* where libyaml marks the empty value */
	int max_ind;            /* a line indented deeper goes on a scalar: libyaml decides */
	bool root_done;
	size_t line;            /* 0-based number of the line at ls */
	const char *ls;
	bool utf8;              /* the text is not all ASCII: columns count characters */
} fy;

static yaml_mark_t mark_at(const fy *f, const char *p)
{
	yaml_mark_t m;
	m.index = (size_t)(p - f->text);
	m.line = f->line;
	m.column = (size_t)(p - f->ls);
	if (f->utf8) {
		const char *q;
		for (q = f->ls; q < p; q++)
			m.column -= ((unsigned char)*q & 0xC0) == 0x80;  /* a continuation byte */
	}
	return m;
}

static yaml_event_t *add_event(fy *f, yaml_event_type_t t, yaml_mark_t m)
{
	doc_fast_events *e = f->ev;
	yaml_event_t *ev;
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 256;
		e->v = xrealloc(e->v, st_mult(e->cap, sizeof(*e->v)));
	}
	ev = &e->v[e->n++];
	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	ev->start_mark = ev->end_mark = m;
	return ev;
}

static void add_scalar(fy *f, const char *at, const char *v, size_t n, yaml_scalar_style_t style)
{
	yaml_event_t *ev = add_event(f, YAML_SCALAR_EVENT, mark_at(f, at));
	ev->data.scalar.value = (yaml_char_t *)v;
	ev->data.scalar.length = n;
	ev->data.scalar.style = style;
	ev->data.scalar.plain_implicit = style == YAML_PLAIN_SCALAR_STYLE;
	ev->data.scalar.quoted_implicit = style != YAML_PLAIN_SCALAR_STYLE;
}

static bool open_level(fy *f, int kind, const char *at, bool flow)
{
	yaml_event_t *ev;
	if (f->depth >= FY_MAX_DEPTH)
		return false;
	f->st[f->depth].indent = (int)(at - f->ls);
	f->st[f->depth].kind = kind;
	f->depth++;
	if (kind == FY_MAP) {
		ev = add_event(f, YAML_MAPPING_START_EVENT, mark_at(f, at));
		ev->data.mapping_start.implicit = 1;
		ev->data.mapping_start.style = flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE;
	} else {
		ev = add_event(f, YAML_SEQUENCE_START_EVENT, mark_at(f, at));
		ev->data.sequence_start.implicit = 1;
		ev->data.sequence_start.style = flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE;
	}
	return true;
}

static void close_level(fy *f, const char *at)
{
	f->depth--;
	add_event(f, f->st[f->depth].kind == FY_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT, mark_at(f, at));
	if (!f->depth)
		f->root_done = true;
}

static const char *next_line(fy *f, const char *nl)
{
	if (!nl)
		return f->end;
	f->line++;
	f->ls = nl + 1;
	return nl + 1;
}

/* nothing but spaces, then the end of the line or a comment, in [p, le) */
static bool rest_blank(const char *p, const char *le)
{
	const char *s = p;
	while (p < le && *p == ' ')
		p++;
	return p == le || (*p == '#' && p > s);
}

/* A quoted scalar at v that ends on its line le: its value (unescaped into
 * the arena when it has escapes) in *val, *n, and the byte after the
 * closing quote; NULL when libyaml must read it. */
static const char *quoted(fy *f, const char *v, const char *le, const char **val, size_t *n)
{
	const char *p;
	bool esc = false;
	if (*v == '\'') {
		for (p = v + 1; p < le; p++) {
			if (*p != '\'')
				continue;
			if (p + 1 < le && p[1] == '\'') {
				esc = true;
				p++;
				continue;
			}
			break;
		}
		if (p >= le)
			return NULL;
		if (!esc) {
			*val = v + 1;
			*n = (size_t)(p - v - 1);
		} else {
			char *o = karena_alloc_raw(&f->ev->a, (size_t)(p - v)), *w = o;
			const char *q;
			for (q = v + 1; q < p; q++) {
				*w++ = *q;
				if (*q == '\'')
					q++;
			}
			*val = o;
			*n = (size_t)(w - o);
		}
		return p + 1;
	}
	for (p = v + 1; p < le && *p != '"'; p++) {
		uint32_t cp;
		if (*p == '\\') {
			if (!(p = doc_fy_escape(p, le, &cp)))
				return NULL;
			esc = true;
		}
	}
	if (p >= le)
		return NULL;
	if (!esc) {
		*val = v + 1;
		*n = (size_t)(p - v - 1);
	} else {
		/* at most 4 bytes of UTF-8 for each escape of 2 or more bytes */
		char *o = karena_alloc_raw(&f->ev->a, st_mult((size_t)(p - v), 2)), *w = o;
		const char *q;
		for (q = v + 1; q < p; q++) {
			uint32_t c;
			if (*q != '\\') {
				*w++ = *q;
				continue;
			}
			q = doc_fy_escape(q, le, &c);
			if (c < 0x80) {
				*w++ = (char)c;
			} else if (c < 0x800) {
				*w++ = (char)(0xC0 | (c >> 6));
				*w++ = (char)(0x80 | (c & 0x3F));
			} else if (c < 0x10000) {
				*w++ = (char)(0xE0 | (c >> 12));
				*w++ = (char)(0x80 | ((c >> 6) & 0x3F));
				*w++ = (char)(0x80 | (c & 0x3F));
			} else {
				*w++ = (char)(0xF0 | (c >> 18));
				*w++ = (char)(0x80 | ((c >> 12) & 0x3F));
				*w++ = (char)(0x80 | ((c >> 6) & 0x3F));
				*w++ = (char)(0x80 | (c & 0x3F));
			}
		}
		*val = o;
		*n = (size_t)(w - o);
	}
	return p + 1;
}

/* A scalar in a one-line flow collection at p: quoted, or plain of
 * characters that cannot start or end anything there (single spaces
 * between words). Returns the byte after it, or NULL. */
static const char *flow_scalar(fy *f, const char *p, const char *le)
{
	const char *val, *s = p;
	size_t n;
	if (*p == '"' || *p == '\'') {
		const char *q = quoted(f, p, le, &val, &n);
		if (q)
			add_scalar(f, s, val, n, *p == '"' ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE);
		return q;
	}
	if (!doc_fy_flow_plain(*p) || *p == '%' || *p == '@' || (*p == '-' && (p + 1 >= le || !doc_fy_flow_plain(p[1]))))
		return NULL;
	for (;;) {
		while (p < le && doc_fy_flow_plain(*p))
			p++;
		if (p + 1 < le && *p == ' ' && doc_fy_flow_plain(p[1]))
			p++;
		else
			break;
	}
	add_scalar(f, s, s, (size_t)(p - s), YAML_PLAIN_SCALAR_STYLE);
	return p;
}

/* A flow collection that opens and closes on its line, of scalars only:
 * [a, "b"] or {k: v, "k": 'v'}. Returns the byte after it, or NULL. */
static const char *flow(fy *f, const char *v, const char *le)
{
	bool map = *v == '{';
	char close = map ? '}' : ']';
	const char *p = v + 1;
	int want = 0;  /* 0: an item or the close, 1: ',' or the close, 2: an item ("[a, ]" is libyaml's) */
	if (!open_level(f, map ? FY_MAP : FY_SEQ, v, true))
		return NULL;
	for (;;) {
		while (p < le && *p == ' ')
			p++;
		if (p >= le)
			return NULL;
		if (*p == close && want != 2) {
			close_level(f, p);
			return p + 1;
		}
		if (want == 1) {
			if (*p != ',')
				return NULL;
			p++;
			want = 2;
			continue;
		}
		if (!(p = flow_scalar(f, p, le)))
			return NULL;
		if (map) {
			if (p + 1 >= le || *p != ':' || p[1] != ' ')
				return NULL;
			for (p++; p < le && *p == ' '; p++)
				;
			if (p >= le || !(p = flow_scalar(f, p, le)))
				return NULL;
		}
		want = 1;
	}
}

/* A literal block scalar ("|" or "|-" and nothing else on the line) at v,
 * the value of a key or item at column parent. Returns the line after it,
 * or NULL when libyaml must read it (blank lines before the first content
 * line or of spaces, a line between parent and content indentation, no
 * line break after the last line). With no content line (the next text is
 * at most as deep as parent, or there is none) it is empty. */
static const char *literal(fy *f, const char *v, const char *le, const char *nl, int parent)
{
	const char *h = v + 1, *l, *after;
	bool strip = false;
	int content = -1;
	size_t blanks = 0, lines = 0;
	kbuf b = KBUF_INIT;
	yaml_mark_t m = mark_at(f, v);
	char *o;
	if (h < le && *h == '-') {
		strip = true;
		h++;
	}
	if (!rest_blank(h, le) || (h < le && memchr(h, '#', (size_t)(le - h))) || !nl)
		return NULL;
	l = nl + 1;
	while (l < f->end) {
		const char *bnl = memchr(l, '\n', (size_t)(f->end - l));
		const char *ble = bnl ? bnl : f->end;
		int bi = doc_fy_indent(l, ble);
		if (l + bi == ble) {
			if (bi > 0 || !bnl)
				goto fail;  /* spaces on a blank line, or the end without a line break */
			blanks++;
			l = bnl + 1;
			lines++;
			continue;
		}
		if (content < 0) {
			if (bi <= parent)
				break;  /* no content: an empty scalar */
			if (blanks)
				goto fail;
			content = bi;
		}
		if (bi < content) {
			if (bi > parent)
				goto fail;
			break;
		}
		if (!bnl)
			goto fail;
		for (; blanks; blanks--)
			kbuf_putc(&b, '\n');
		kbuf_put(&b, l + content, (size_t)(ble - l - content));
		kbuf_putc(&b, '\n');
		l = bnl + 1;
		lines++;
	}
	if (strip && content >= 0)
		kbuf_truncate(&b, b.len - 1);
	o = karena_strndup(&f->ev->a, b.ptr, b.len);
	{
		yaml_event_t *ev = add_event(f, YAML_SCALAR_EVENT, m);
		ev->data.scalar.value = (yaml_char_t *)o;
		ev->data.scalar.length = b.len;
		ev->data.scalar.style = YAML_LITERAL_SCALAR_STYLE;
		ev->data.scalar.quoted_implicit = 1;
	}
	kbuf_release(&b);
	/* the blank lines after the content belong to the scalar too */
	after = l;
	f->line += lines + 1;
	f->ls = after;
	return after;
fail:
	kbuf_release(&b);
	return NULL;
}

/* An anchor or alias name at p ([0-9A-Za-z_-], as libyaml scans it)
 * followed by a space or the end of the line: its end, or NULL. */
static const char *anchor_name(const char *p, const char *le)
{
	const char *s = p;
	while (p < le && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  *p == '_' || *p == '-'))
		p++;
	return p > s && (p == le || *p == ' ') ? p : NULL;
}

/* The value at v (spaces skipped) of a key or item at column parent, on a
 * line ending at le; colon is the byte after the ':' or '-' (where libyaml
 * marks an empty value). Returns the next line, or NULL. A scalar may
 * carry an anchor ("&name value", marked at the '&'), or be an alias
 * ("*name"); an anchor on a collection or on an empty value is libyaml's. */
static const char *value(fy *f, const char *v, const char *le, const char *nl, const char *colon, int parent,
			 bool key)
{
	const char *p, *q, *val, *at = v;
	char *anchor = NULL;
	size_t n;
	/* v may be le, the end of the text: no byte there to read */
	if (v < le && *v == '*') {
		yaml_event_t *ev;
		if (!(p = anchor_name(v + 1, le)) || !rest_blank(p, le))
			return NULL;
		ev = add_event(f, YAML_ALIAS_EVENT, mark_at(f, v));
		ev->data.alias.anchor = (yaml_char_t *)karena_strndup(&f->ev->a, v + 1, (size_t)(p - v - 1));
		f->max_ind = f->st[f->depth - 1].indent;
		return next_line(f, nl);
	}
	if (v < le && *v == '&') {
		if (!(p = anchor_name(v + 1, le)))
			return NULL;
		anchor = karena_strndup(&f->ev->a, v + 1, (size_t)(p - v - 1));
		for (v = p; v < le && *v == ' '; v++)
			;
		if (v == le || *v == '#' || *v == '|' || *v == '{' || *v == '[' || *v == '&' || *v == '*')
			return NULL;
	}
	if (v == le || *v == '#') {
		f->pend = parent;
		f->pend_key = key;
		f->pend_mark = mark_at(f, colon);
		f->max_ind = INT_MAX;
		return next_line(f, nl);
	}
	f->max_ind = f->st[f->depth - 1].indent;
	if (*v == '|')
		return literal(f, v, le, nl, parent);
	if (*v == '{' || *v == '[') {
		if (!(p = flow(f, v, le)) || !rest_blank(p, le))
			return NULL;
		return next_line(f, nl);
	}
	if (*v == '"' || *v == '\'') {
		if (!(p = quoted(f, v, le, &val, &n)) || !rest_blank(p, le))
			return NULL;
		add_scalar(f, at, val, n, *v == '"' ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE);
		f->ev->v[f->ev->n - 1].data.scalar.anchor = (yaml_char_t *)anchor;
		return next_line(f, nl);
	}
	/* an indicator, but "-", "?" and ":" start a plain scalar when a
	 * non-space follows ("-1", "--flag", "::1") */
	if (strchr("-?:,[]{}#&*!|>'\"%@`", *v) && !((*v == '-' || *v == '?' || *v == ':') && v + 1 < le && v[1] != ' '))
		return NULL;
	for (p = v; p < le; p++) {
		if (*p == ':' && (p + 1 == le || p[1] == ' '))
			return NULL;
		if (*p == '#' && p[-1] == ' ')
			break;
	}
	for (q = p; q > v && q[-1] == ' '; q--)
		;
	add_scalar(f, at, v, (size_t)(q - v), YAML_PLAIN_SCALAR_STYLE);
	f->ev->v[f->ev->n - 1].data.scalar.anchor = (yaml_char_t *)anchor;
	return next_line(f, nl);
}

/* A key at p: its end (the ':'), with the key's event added, or NULL if
 * p does not start a key libyaml would take as this one. */
static const char *key(fy *f, const char *p, const char *le)
{
	const char *ke, *val;
	size_t n;
	if (*p == '"' || *p == '\'') {
		if (!(ke = quoted(f, p, le, &val, &n)) || ke >= le || *ke != ':' || (ke + 1 < le && ke[1] != ' ') ||
		    ke - p > FY_MAX_KEY)
			return NULL;
		add_scalar(f, p, val, n, *p == '"' ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_SINGLE_QUOTED_SCALAR_STYLE);
		return ke;
	}
	if (*p == '-')
		return NULL;
	for (ke = p; ke < le && doc_fy_key_char(*ke); ke++)
		;
	if (ke == p || ke >= le || *ke != ':' || (ke + 1 < le && ke[1] != ' ') || ke - p > FY_MAX_KEY)
		return NULL;
	add_scalar(f, p, p, (size_t)(ke - p), YAML_PLAIN_SCALAR_STYLE);
	return ke;
}

/* "key: value" at p (the level is the mapping at p's column) */
static const char *entry(fy *f, const char *p, const char *le, const char *nl)
{
	const char *ke = key(f, p, le), *v;
	if (!ke)
		return NULL;
	for (v = ke + 1; v < le && *v == ' '; v++)
		;
	return value(f, v, le, nl, ke + 1, (int)(p - f->ls), true);
}

/* "- ..." at p (the level is the sequence at p's column) */
static const char *item(fy *f, const char *p, const char *le, const char *nl)
{
	const char *v = p + 1;
	size_t nev = f->ev->n;
	while (v < le && *v == ' ')
		v++;
	if (v < le && *v == '-' && (v + 1 == le || v[1] == ' '))
		return NULL;  /* "- - x" */
	if (v < le && *v != '#') {
		/* "- key: value" opens a mapping at the key's column */
		const char *ke;
		if (!open_level(f, FY_MAP, v, false))
			return NULL;
		if ((ke = key(f, v, le))) {
			const char *w;
			for (w = ke + 1; w < le && *w == ' '; w++)
				;
			return value(f, w, le, nl, ke + 1, (int)(v - f->ls), true);
		}
		f->depth--;
		f->ev->n = nev;
	}
	return value(f, v, le, nl, p + 1, (int)(p - f->ls), false);
}

int doc_fast_events_scan(doc_fast_events *out, const char *text, size_t len)
{
	fy f;
	const char *line = text;
	memset(out, 0, sizeof(*out));
	karena_init(&out->a);
	if (!len)
		return 0;
	memset(&f, 0, sizeof(f));
	f.utf8 = !doc_fy_plain_bytes((const unsigned char *)text, len);
	if (f.utf8 && !doc_fy_text_bytes((const unsigned char *)text, len))
		return 0;
	f.text = f.ls = text;
	f.end = text + len;
	f.ev = out;
	f.pend = -1;
	f.max_ind = INT_MAX;
	add_event(&f, YAML_STREAM_START_EVENT, mark_at(&f, text));
	add_event(&f, YAML_DOCUMENT_START_EVENT, mark_at(&f, text));
	while (line < f.end) {
		const char *nl = memchr(line, '\n', (size_t)(f.end - line));
		const char *le = nl ? nl : f.end, *p;
		int ind = doc_fy_indent(line, le);
		bool is_item;
		p = line + ind;
		if (p == le || *p == '#') {
			line = next_line(&f, nl);
			continue;
		}
		if (ind == 0 && (*p == '%' || (le - p >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)))))
			return 0;
		if (f.root_done || ind > f.max_ind)
			return 0;
		is_item = *p == '-' && (p + 1 == le || p[1] == ' ');
		if (f.pend >= 0) {
			bool opens = ind > f.pend || (is_item && f.pend_key && ind == f.pend);
			if (!opens) {
				yaml_event_t *ev = add_event(&f, YAML_SCALAR_EVENT, f.pend_mark);
				ev->data.scalar.value = (yaml_char_t *)"";
				ev->data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
				ev->data.scalar.plain_implicit = 1;
			} else if (!open_level(&f, is_item ? FY_SEQ : FY_MAP, p, false)) {
				return 0;
			}
			f.pend = -1;
		} else if (!f.depth) {
			if (ind != 0 || !open_level(&f, is_item ? FY_SEQ : FY_MAP, p, false))
				return 0;
		}
		while (f.depth && (f.st[f.depth - 1].indent > ind ||
				   (f.st[f.depth - 1].kind == FY_SEQ && f.st[f.depth - 1].indent == ind && !is_item)))
			close_level(&f, p);
		if (!f.depth || f.st[f.depth - 1].indent != ind || f.st[f.depth - 1].kind != (is_item ? FY_SEQ : FY_MAP))
			return 0;
		line = is_item ? item(&f, p, le, nl) : entry(&f, p, le, nl);
		if (!line)
			return 0;
	}
	if (f.pend >= 0) {
		yaml_event_t *ev = add_event(&f, YAML_SCALAR_EVENT, f.pend_mark);
		ev->data.scalar.value = (yaml_char_t *)"";
		ev->data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
		ev->data.scalar.plain_implicit = 1;
	}
	while (f.depth)
		close_level(&f, f.end);
	if (!f.root_done)
		return 0;
	add_event(&f, YAML_DOCUMENT_END_EVENT, mark_at(&f, f.end));
	add_event(&f, YAML_STREAM_END_EVENT, mark_at(&f, f.end));
	return 1;
}

void doc_fast_events_release(doc_fast_events *e)
{
	free(e->v);
	karena_release(&e->a);
	memset(e, 0, sizeof(*e));
}
