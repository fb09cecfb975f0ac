/* doc/load_yaml.c - YAML streams into doc trees through libyaml's event
 * parser, iteratively (no recursion on input depth). */
#include "doc.h"
#include "head.h"
#include "resolve.h"
#include "core/alloc.h"
#include "core/numfmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct anchor {
	char *name;
	doc_node *node;
} anchor;

typedef struct frame {
	doc_node *node;
	doc_node *key;       /* mapping: the key waiting for its value */
	char *anchor;        /* anchor of this collection, registered at its end */
	unsigned char *merged; /* mapping: per entry, set when it came from a merge */
	size_t merged_cap;
} frame;

typedef struct loader {
	karena *a;
	const char *name;
	const char *text;
	size_t len;
	doc_load_opts o;
	kerr *err;
	frame *stack;
	size_t depth, cap;
	anchor *anchors;
	size_t nanchors, anchors_cap;
	size_t alias_budget;
	size_t alias_bytes;       /* text bytes aliases may still copy in this document */
	size_t mem_start;         /* the arena's used_total when the load began */
	/* a null key: refused at the end of its document (sigs.k8s.io/yaml
	 * checks keys after go-yaml has read the whole document) */
	doc_node *null_key;      /* the last null key read, waiting for its value */
	const doc_node *null_map; /* the map of the first one, and its value */
	const doc_node *null_val;
	unsigned null_line, null_col;
} loader;

static int fail_at(loader *l, int code, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(loader *l, int code, const yaml_mark_t *m, const char *fmt, ...)
{
	kbuf b = KBUF_INIT;
	va_list ap;
	int r;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	r = kerr_set_src(l->err, code, l->name, l->text, l->len, (unsigned)m->line + 1,
			 (unsigned)m->column + 1, "%s", b.ptr);
	kbuf_release(&b);
	return r;
}

unsigned doc_yaml_go_line(int scanner_error, unsigned problem_line, unsigned context_line)
{
	if (problem_line)
		return scanner_error ? problem_line + 1 : problem_line;
	return context_line;
}

static int parser_error(loader *l, yaml_parser_t *p)
{
	yaml_mark_t m = p->problem_mark;
	const char *what = p->problem ? p->problem : "invalid YAML";
	if (l->o.go_errors && (p->error == YAML_SCANNER_ERROR || p->error == YAML_PARSER_ERROR)) {
		/* go-yaml's words: no column, no context */
		unsigned line = doc_yaml_go_line(p->error == YAML_SCANNER_ERROR, (unsigned)m.line,
						 (unsigned)p->context_mark.line);
		return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, line, 0, "%s",
				    p->problem ? p->problem : "unknown problem parsing YAML content");
	}
	if (p->error == YAML_READER_ERROR) {
		unsigned line, col;
		kerr_offset_to_linecol(l->text, l->len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, line, col,
					    "%s (byte 0x%02x)", what, (unsigned)p->problem_value & 0xff);
		return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, line, col, "%s", what);
	}
	if (p->error == YAML_MEMORY_ERROR)
		return kerr_set(l->err, KE_LIMIT, "%s: out of memory while parsing", l->name);
	if (p->context) {
		kbuf b = KBUF_INIT;
		int r;
		kbuf_printf(&b, "%s %s (line %u, column %u)", what, p->context,
			    (unsigned)p->context_mark.line + 1, (unsigned)p->context_mark.column + 1);
		r = kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, (unsigned)m.line + 1,
				 (unsigned)m.column + 1, "%s", b.ptr);
		kbuf_release(&b);
		return r;
	}
	return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, (unsigned)m.line + 1,
			    (unsigned)m.column + 1, "%s", what);
}

static void set_pos(loader *l, doc_node *n, const yaml_mark_t *m)
{
	n->file = l->name;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
}

/* Count nodes of a subtree, stopping once past limit. */
/* text bytes all aliases of one document may copy */
#define ALIAS_MAX_BYTES ((size_t)64 << 20)

/* What copying n costs: nodes, text bytes (keys and scalars) and arena
 * bytes (nodes, arrays and text, as doc_copy allocates them) added to
 * *nodes, *bytes and *mem, stopping once nodes or text pass their limit. */
static void alias_cost(const doc_node *n, size_t *nodes, size_t *bytes, size_t *mem, size_t max_nodes,
		       size_t max_bytes)
{
	size_t i;
	(*nodes)++;
	*mem += sizeof(doc_node);
	if (n->type == DOC_STR) {
		*bytes += n->u.s.len;
		*mem += n->u.s.len + 1;
	} else if (n->type == DOC_SEQ) {
		*mem += n->u.seq.len * sizeof(doc_node *);
		for (i = 0; i < n->u.seq.len && *nodes <= max_nodes && *bytes <= max_bytes; i++)
			alias_cost(n->u.seq.v[i], nodes, bytes, mem, max_nodes, max_bytes);
	} else if (n->type == DOC_MAP) {
		*mem += n->u.map.len * sizeof(doc_pair);
		for (i = 0; i < n->u.map.len && *nodes <= max_nodes && *bytes <= max_bytes; i++) {
			alias_cost(n->u.map.v[i].key, nodes, bytes, mem, max_nodes, max_bytes);
			alias_cost(n->u.map.v[i].val, nodes, bytes, mem, max_nodes, max_bytes);
		}
	}
}

/* Go's base64.StdEncoding.DecodeString (line breaks skipped, padding
 * required) into out; false on bad input. */
static bool b64_std_decode(kbuf *out, const char *s, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned q[4];
	size_t i, k = 0, pad = 0;
	for (i = 0; i < n; i++) {
		const char *p;
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			if (k < 2)
				return false;
			q[k++] = 0;
			pad++;
		} else {
			if (pad || !s[i] || !(p = strchr(abc, s[i])))
				return false;
			q[k++] = (unsigned)(p - abc);
		}
		if (k == 4) {
			kbuf_putc(out, (char)(q[0] << 2 | q[1] >> 4));
			if (pad < 2)
				kbuf_putc(out, (char)((q[1] & 15) << 4 | q[2] >> 2));
			if (pad < 1)
				kbuf_putc(out, (char)((q[2] & 3) << 6 | q[3]));
			k = 0;
			if (pad)
				break;
		}
	}
	/* nothing but line breaks may follow the padding */
	for (i++; pad && i < n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			return false;
	return k == 0;
}

/* The length of the valid UTF-8 sequence at s (Go's utf8.DecodeRune), 0
 * for an invalid byte. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t w, i;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		w = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		w = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
	else if (c >= 0xF0 && c <= 0xF4)
		w = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
	else
		return 0;
	if (n < w || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < w; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return w;
}

/* A scalar that does not read as its explicit tag t says. go-yaml words it
 * with the tag the value resolves to, and no line. */
static int tag_mismatch(loader *l, const yaml_event_t *ev, const doc_scalar *sc, const char *v, const char *t)
{
	static const char *const names[] = { [DOC_NULL] = "null", [DOC_BOOL] = "bool", [DOC_INT] = "int",
					      [DOC_FLOAT] = "float", [DOC_STR] = "str" };
	if (l->o.go_errors)
		return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, 0, 0, "cannot decode !!%s `%s` as a !!%s",
				    names[sc->type], v, t);
	if (!strcmp(t, "null"))
		return fail_at(l, KE_INPUT, &ev->start_mark, "cannot decode %s as !!null", v);
	return fail_at(l, KE_INPUT, &ev->start_mark, "cannot decode \"%s\" as !!%s", v, t);
}

static int scalar_node(loader *l, const yaml_event_t *ev, doc_node **out)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	doc_node *n;
	doc_scalar sc;

	if (tag && !strcmp(tag, "!"))
		tag = NULL, plain = false;   /* non-specific "!" tag: a string */
	if (tag && !strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX))) {
		const char *t = tag + strlen(TAG_PREFIX);
		doc_resolve_plain(v, len, &sc);
		if (!strcmp(t, "str") || !strcmp(t, "binary")) {
			sc.type = DOC_STR;
		} else if (!strcmp(t, "timestamp")) {
			/* kept as the string, but it must read as one */
			if (!sc.is_timestamp)
				return tag_mismatch(l, ev, &sc, v, t);
			sc.type = DOC_STR;
		} else if (!strcmp(t, "null")) {
			if (sc.type != DOC_NULL)
				return tag_mismatch(l, ev, &sc, v, t);
		} else if (!strcmp(t, "bool")) {
			if (sc.type != DOC_BOOL)
				return tag_mismatch(l, ev, &sc, v, t);
		} else if (!strcmp(t, "int")) {
			if (sc.type != DOC_INT)
				return tag_mismatch(l, ev, &sc, v, t);
		} else if (!strcmp(t, "float")) {
			if (sc.type == DOC_INT) {
				sc.type = DOC_FLOAT;
				sc.f = (double)sc.i;
			} else if (sc.type != DOC_FLOAT) {
				return tag_mismatch(l, ev, &sc, v, t);
			}
		} else if (!strcmp(t, "map") || !strcmp(t, "seq")) {
			return fail_at(l, KE_INPUT, &ev->start_mark, "a scalar cannot carry the tag %s", tag);
		} else {
			sc.type = DOC_STR;
		}
		if (!strcmp(t, "binary")) {
			/* go-yaml decodes the base64 into a string; on the way
			 * through JSON (sigs.k8s.io/yaml) every byte that is not
			 * UTF-8 becomes U+FFFD */
			kbuf raw = KBUF_INIT, txt = KBUF_INIT;
			size_t i, w;
			if (!b64_std_decode(&raw, v, len)) {
				kbuf_release(&raw);
				/* go-yaml's decoder errors carry no line */
				if (l->o.go_errors)
					return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, 0, 0,
							    "!!binary value contains invalid base64 data");
				return fail_at(l, KE_INPUT, &ev->start_mark, "!!binary value contains invalid base64 data");
			}
			for (i = 0; i < raw.len; i += w ? w : 1) {
				w = utf8_seq((const unsigned char *)raw.ptr + i, raw.len - i);
				if (w)
					kbuf_put(&txt, raw.ptr + i, w);
				else
					kbuf_puts(&txt, "\xEF\xBF\xBD");
			}
			n = doc_new(l->a, DOC_STR);
			n->u.s.ptr = karena_strndup(l->a, txt.ptr, txt.len);
			n->u.s.len = txt.len;
			kbuf_release(&raw);
			kbuf_release(&txt);
			n->flags |= DOC_F_QUOTED | DOC_F_TAGGED;
			set_pos(l, n, &ev->start_mark);
			*out = n;
			return 0;
		}
	} else if (tag) {
		sc.type = DOC_STR;   /* unknown local tag: go-yaml keeps the text */
	} else if (plain) {
		doc_resolve_plain(v, len, &sc);
	} else {
		sc.type = DOC_STR;
	}

	n = doc_new(l->a, sc.type);
	switch (sc.type) {
	case DOC_BOOL: n->u.b = sc.b; break;
	case DOC_INT: n->u.i = sc.i; break;
	case DOC_FLOAT: n->u.f = sc.f; break;
	case DOC_STR:
		n->u.s.ptr = karena_strndup(l->a, v, len);
		n->u.s.len = len;
		break;
	default: break;
	}
	if (!plain)
		n->flags |= DOC_F_QUOTED;
	if (tag)
		n->flags |= DOC_F_TAGGED;
	set_pos(l, n, &ev->start_mark);
	*out = n;
	return 0;
}

/* s as Go's strconv.Quote writes it (printable runes kept) */
static void go_quote(kbuf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	kbuf_putc(b, '"');
	while (i < len) {
		unsigned c = u[i], cp = 0;
		size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
			   c >= 0xF0 && c <= 0xF4 ? 4 : 0, k;
		if (n > 1 && i + n <= len) {
			cp = c & (0xFF >> (n + 1));
			for (k = 1; k < n && (u[i + k] & 0xC0) == 0x80; k++)
				cp = (cp << 6) | (u[i + k] & 0x3F);
			if (k < n || (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
			    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
				n = 0;
		} else if (n != 1) {
			n = 0;
		}
		if (!n) {
			kbuf_printf(b, "\\x%02x", c);
			i++;
			continue;
		}
		if (n == 1) {
			switch (c) {
			case '"': kbuf_puts(b, "\\\""); break;
			case '\\': kbuf_puts(b, "\\\\"); break;
			case '\a': kbuf_puts(b, "\\a"); break;
			case '\b': kbuf_puts(b, "\\b"); break;
			case '\f': kbuf_puts(b, "\\f"); break;
			case '\n': kbuf_puts(b, "\\n"); break;
			case '\r': kbuf_puts(b, "\\r"); break;
			case '\t': kbuf_puts(b, "\\t"); break;
			case '\v': kbuf_puts(b, "\\v"); break;
			default:
				if (c < 0x20 || c == 0x7F)
					kbuf_printf(b, "\\x%02x", c);
				else
					kbuf_putc(b, (char)c);
			}
		} else if (cp < 0xA0 || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
			   (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF) {
			/* the common runes unicode.IsPrint refuses */
			kbuf_printf(b, "\\u%04x", cp);
		} else {
			kbuf_put(b, s + i, n);
		}
		i += n;
	}
	kbuf_putc(b, '"');
}

static int cmp_pair_bytes(const void *p, const void *q)
{
	const doc_pair *x = *(const doc_pair *const *)p, *y = *(const doc_pair *const *)q;
	size_t n = x->key->u.s.len < y->key->u.s.len ? x->key->u.s.len : y->key->u.s.len;
	int c = memcmp(x->key->u.s.ptr, y->key->u.s.ptr, n);
	return c ? c : x->key->u.s.len < y->key->u.s.len ? -1 : x->key->u.s.len > y->key->u.s.len;
}

/* v as Go's %#v prints what go-yaml v2 read into an interface{} (map keys
 * are the strings they became here) */
static void go_syntax(kbuf *b, const doc_node *v, bool top, int depth)
{
	size_t i;
	if (depth > 100) {
		kbuf_puts(b, "...");
		return;
	}
	switch (v->type) {
	case DOC_NULL: kbuf_puts(b, top ? "<nil>" : "interface {}(nil)"); return;
	case DOC_BOOL: kbuf_puts(b, v->u.b ? "true" : "false"); return;
	case DOC_INT: kbuf_printf(b, "%lld", (long long)v->u.i); return;
	case DOC_FLOAT: numfmt_float(b, v->u.f, 'g', -1); return;
	case DOC_STR: go_quote(b, v->u.s.ptr, v->u.s.len); return;
	case DOC_SEQ:
		kbuf_puts(b, "[]interface {}{");
		for (i = 0; i < v->u.seq.len; i++) {
			if (i)
				kbuf_puts(b, ", ");
			go_syntax(b, v->u.seq.v[i], false, depth + 1);
		}
		kbuf_putc(b, '}');
		return;
	case DOC_MAP: {
		/* fmt prints a map sorted by key */
		const doc_pair **ps = xmalloc(st_mult(v->u.map.len + 1, sizeof(*ps)));
		for (i = 0; i < v->u.map.len; i++)
			ps[i] = &v->u.map.v[i];
		qsort(ps, v->u.map.len, sizeof(*ps), cmp_pair_bytes);
		kbuf_puts(b, "map[interface {}]interface {}{");
		for (i = 0; i < v->u.map.len; i++) {
			if (i)
				kbuf_puts(b, ", ");
			go_quote(b, ps[i]->key->u.s.ptr, ps[i]->key->u.s.len);
			kbuf_putc(b, ':');
			go_syntax(b, ps[i]->val, false, depth + 1);
		}
		kbuf_putc(b, '}');
		free(ps);
		return;
	}
	}
}

/* A map key as a string, as sigs.k8s.io/yaml turns non-string keys. */
static int key_string(loader *l, doc_node *k, const yaml_mark_t *m)
{
	kbuf b = KBUF_INIT;
	switch (k->type) {
	case DOC_STR:
		return 0;
	case DOC_NULL:
		/* refused once the document is read (null_key_error) */
		l->null_key = k;
		kbuf_puts(&b, "null");
		break;
	case DOC_BOOL: kbuf_puts(&b, k->u.b ? "true" : "false"); break;
	case DOC_INT: kbuf_printf(&b, "%lld", (long long)k->u.i); break;
	case DOC_FLOAT: numfmt_float(&b, k->u.f, 'g', -1); break;
	default:
		if (l->o.go_errors) {
			/* go-yaml's words, without a line */
			int r;
			kbuf_puts(&b, "invalid map key: ");
			go_syntax(&b, k, true, 0);
			r = kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, 0, 0, "%s", b.ptr);
			kbuf_release(&b);
			return r;
		}
		kbuf_release(&b);
		return fail_at(l, KE_INPUT, m, "%s", "a map key must be a scalar, not a sequence or map");
	}
	k->type = DOC_STR;
	k->u.s.ptr = karena_strndup(l->a, b.ptr, b.len);
	k->u.s.len = b.len;
	kbuf_release(&b);
	return 0;
}

static void mark_merged(loader *l, frame *f, size_t idx, unsigned char v)
{
	if (idx >= f->merged_cap) {
		size_t nc = f->merged_cap ? f->merged_cap : 8;
		while (nc <= idx)
			nc *= 2;
		f->merged = xrealloc(f->merged, nc);
		memset(f->merged + f->merged_cap, 0, nc - f->merged_cap);
		f->merged_cap = nc;
	}
	f->merged[idx] = v;
	(void)l;
}

static size_t map_index(const doc_node *m, const char *k, size_t klen)
{
	size_t i;
	for (i = 0; i < m->u.map.len; i++)
		if (m->u.map.v[i].key->u.s.len == klen && !memcmp(m->u.map.v[i].key->u.s.ptr, k, klen))
			return i;
	return (size_t)-1;
}

static void merge_map(loader *l, frame *f, const doc_node *src)
{
	size_t i;
	for (i = 0; i < src->u.map.len; i++) {
		const doc_node *k = src->u.map.v[i].key;
		doc_map_setn(l->a, f->node, k->u.s.ptr, k->u.s.len, src->u.map.v[i].val);
		mark_merged(l, f, map_index(f->node, k->u.s.ptr, k->u.s.len), 1);
	}
}

/* A map key that is null: sigs.k8s.io/yaml cannot make it a JSON key */
static int null_key_error(loader *l)
{
	kbuf b = KBUF_INIT;
	int r;
	if (l->o.go_errors) {
		/* its words: reflect.TypeOf(nil) through %s, key and value by %+#v */
		kbuf_puts(&b, "unsupported map key of type: %!s(<nil>), key: <nil>, value: ");
		go_syntax(&b, l->null_val, true, 0);
		r = kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, 0, 0, "%s", b.ptr);
	} else {
		r = kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, l->null_line, l->null_col,
				 "a map key must not be null");
	}
	kbuf_release(&b);
	return r;
}

/* Add a finished value to the collection on top of the stack. */
static int add_value(loader *l, doc_node *v, doc_node **root, const yaml_mark_t *m)
{
	frame *f;
	if (!l->depth) {
		*root = v;
		return 0;
	}
	f = &l->stack[l->depth - 1];
	if (f->node->type == DOC_SEQ) {
		doc_seq_push(l->a, f->node, v);
		return 0;
	}
	if (!f->key) {
		int r = key_string(l, v, m);
		if (r)
			return r;
		f->key = v;
		return 0;
	}
	{
		doc_node *k = f->key;
		size_t idx;
		f->key = NULL;
		if (k == l->null_key) {
			/* the first map with one; a later null key there overrides */
			if (!l->null_map || l->null_map == f->node) {
				l->null_map = f->node;
				l->null_val = v;
				l->null_line = k->line;
				l->null_col = k->col;
			}
			l->null_key = NULL;
		}
		if (!(k->flags & DOC_F_QUOTED) && k->u.s.len == 2 && !memcmp(k->u.s.ptr, "<<", 2)) {
			/* merge key (go-yaml v2): later keys override, a list merges
			 * right to left so earlier maps win */
			if (v->type == DOC_MAP) {
				merge_map(l, f, v);
				return 0;
			}
			if (v->type == DOC_SEQ) {
				size_t i = v->u.seq.len;
				while (i-- > 0) {
					if (v->u.seq.v[i]->type != DOC_MAP)
						goto bad_merge;
					merge_map(l, f, v->u.seq.v[i]);
				}
				return 0;
			}
bad_merge:
			if (l->o.go_errors) /* go-yaml's words, without a line */
				return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, 0, 0,
						    "map merge requires map or sequence of maps as the value");
			return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, v->line, v->col,
					    "map merge requires a map or a sequence of maps as the value");
		}
		idx = map_index(f->node, k->u.s.ptr, k->u.s.len);
		if (idx != (size_t)-1) {
			bool merged = idx < f->merged_cap && f->merged[idx];
			if (!merged && l->o.dup == DOC_DUP_ERROR) {
				const doc_node *first = f->node->u.map.v[idx].key;
				kbuf b = KBUF_INIT;
				int r;
				kbuf_printf(&b, "duplicate key \"%s\" in a map (first at line %u, column %u)",
					    k->u.s.ptr, first->line, first->col);
				r = kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, k->line, k->col,
						 "%s", b.ptr);
				kbuf_release(&b);
				return r;
			}
			f->node->u.map.v[idx].val = v;
			f->node->u.map.v[idx].key = k;
			mark_merged(l, f, idx, 0);
			return 0;
		}
		doc_map_append(l->a, f->node, k, v);
		mark_merged(l, f, f->node->u.map.len - 1, 0);
	}
	return 0;
}

static void add_anchor(loader *l, const char *name, doc_node *n)
{
	size_t i;
	for (i = 0; i < l->nanchors; i++) {
		if (!strcmp(l->anchors[i].name, name)) {
			l->anchors[i].node = n;   /* redefinition: later aliases see the new one */
			return;
		}
	}
	ALLOC_GROW(l->anchors, l->nanchors + 1, l->anchors_cap);
	l->anchors[l->nanchors].name = xstrdup(name);
	l->anchors[l->nanchors].node = n;
	l->nanchors++;
}

static int alias_node(loader *l, const yaml_event_t *ev, doc_node **out)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t i, nodes = 0, bytes = 0, mem = 0;
	for (i = 0; i < l->nanchors; i++) {
		if (!strcmp(l->anchors[i].name, name)) {
			doc_node *src = l->anchors[i].node;
			size_t used = l->a->used_total - l->mem_start;
			alias_cost(src, &nodes, &bytes, &mem, l->alias_budget, l->alias_bytes);
			if (nodes > l->alias_budget || bytes > l->alias_bytes) {
				kbuf b = KBUF_INIT;
				int r;
				if (nodes > l->alias_budget)
					kbuf_printf(&b, "aliases expand to more than %zu nodes", l->o.max_alias_nodes);
				else
					kbuf_printf(&b, "aliases expand to more than %zu MiB of text", ALIAS_MAX_BYTES >> 20);
				kbuf_printf(&b, " (alias \"*%s\"): refusing a possible alias bomb", name);
				r = kerr_set_src(l->err, KE_LIMIT, l->name, l->text, l->len,
						 (unsigned)ev->start_mark.line + 1,
						 (unsigned)ev->start_mark.column + 1, "%s", b.ptr);
				kbuf_release(&b);
				return r;
			}
			if (l->o.max_mem && (used > l->o.max_mem || mem > l->o.max_mem - used)) {
				int r = kerr_set_src(l->err, KE_LIMIT, l->name, l->text, l->len,
						     (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
						     "alias \"*%s\" would copy %zu bytes, past the %zu-byte memory limit of "
						     "this document", name, mem, l->o.max_mem);
				kerr_set_reason(l->err, DOC_REASON_MEMORY, 0);
				return r;
			}
			l->alias_budget -= nodes;
			l->alias_bytes -= bytes;
			*out = doc_copy(l->a, src);
			return 0;
		}
	}
	if (l->o.go_errors) /* go-yaml's words, without a line */
		return kerr_set_src(l->err, KE_INPUT, l->name, l->text, l->len, 0, 0,
				    "unknown anchor '%s' referenced", name);
	return fail_at(l, KE_INPUT, &ev->start_mark, "unknown anchor \"%s\" referenced", name);
}

static int push(loader *l, doc_node *n, const yaml_event_t *ev, const char *anchor_name)
{
	frame *f;
	if (l->depth >= l->o.max_depth) {
		kbuf b = KBUF_INIT;
		int r;
		kbuf_printf(&b, "nesting deeper than %u levels", l->o.max_depth);
		r = kerr_set_src(l->err, KE_LIMIT, l->name, l->text, l->len,
				 (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
				 "%s", b.ptr);
		kbuf_release(&b);
		return r;
	}
	ALLOC_GROW(l->stack, l->depth + 1, l->cap);
	f = &l->stack[l->depth++];
	memset(f, 0, sizeof(*f));
	f->node = n;
	f->anchor = anchor_name ? xstrdup(anchor_name) : NULL;
	return 0;
}

static void pop_all(loader *l)
{
	while (l->depth) {
		frame *f = &l->stack[--l->depth];
		free(f->anchor);
		free(f->merged);
	}
}

static void seq_or_map_flags(doc_node *n, const yaml_event_t *ev)
{
	if (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE)
		n->flags |= DOC_F_FLOW;
	if (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE)
		n->flags |= DOC_F_FLOW;
}

/* One event of the document stream, libyaml's or the fast path's. */
static int load_event(loader *l, const yaml_event_t *ev, doc_stream *out, doc_node **root, size_t *cap, int *done)
{
	karena *a = l->a;
	doc_node *n = NULL;
	const char *anchor_name = NULL;
	int r = 0;
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = 1;
		break;
	case YAML_DOCUMENT_START_EVENT:
		*root = NULL;
		if (l->o.each) {
			/* the last document's nodes are gone: so are its anchors */
			size_t i;
			for (i = 0; i < l->nanchors; i++)
				free(l->anchors[i].name);
			l->nanchors = 0;
			l->mem_start = a->used_total;
		}
		l->alias_budget = l->o.max_alias_nodes;
		l->alias_bytes = ALIAS_MAX_BYTES;
		l->null_map = l->null_val = NULL;
		break;
	case YAML_DOCUMENT_END_EVENT:
		if (l->null_map) {
			r = null_key_error(l);
			break;
		}
		if (!*root) {
			*root = doc_new_null(a);
			set_pos(l, *root, &ev->start_mark);
		}
		if (l->o.each) {
			r = l->o.each(l->o.each_u, *root, l->err);
			*root = NULL;
			karena_release(a);
			karena_init(a);
			if (r)
				break;
			if (l->o.first_doc)
				*done = 1;
			break;
		}
		if (out->len == *cap) {
			size_t nc = *cap ? *cap * 2 : 4;
			out->docs = karena_realloc(a, out->docs, *cap * sizeof(*out->docs),
						   st_mult(nc, sizeof(*out->docs)));
			*cap = nc;
		}
		out->docs[out->len++] = *root;
		*root = NULL;
		if (l->o.first_doc)
			*done = 1;
		break;
	case YAML_SCALAR_EVENT:
		r = scalar_node(l, ev, &n);
		anchor_name = (const char *)ev->data.scalar.anchor;
		if (!r && anchor_name)
			add_anchor(l, anchor_name, n);
		if (!r)
			r = add_value(l, n, root, &ev->start_mark);
		break;
	case YAML_ALIAS_EVENT:
		r = alias_node(l, ev, &n);
		if (!r)
			r = add_value(l, n, root, &ev->start_mark);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		const char *tag;
		int is_seq = ev->type == YAML_SEQUENCE_START_EVENT;
		n = doc_new(a, is_seq ? DOC_SEQ : DOC_MAP);
		set_pos(l, n, &ev->start_mark);
		seq_or_map_flags(n, ev);
		tag = (const char *)(is_seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag);
		/* go-yaml v2 (Helm) ignores any tag on a collection */
		if (tag && l->o.dup != DOC_DUP_LAST && !strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) &&
		    strcmp(tag + strlen(TAG_PREFIX), is_seq ? "seq" : "map") &&
		    strcmp(tag + strlen(TAG_PREFIX), is_seq ? "seq" : "omap")) {
			r = fail_at(l, KE_INPUT, &ev->start_mark, "a %s cannot carry the tag %s",
				    is_seq ? "sequence" : "map", tag);
			break;
		}
		anchor_name = (const char *)(is_seq ? ev->data.sequence_start.anchor
						    : ev->data.mapping_start.anchor);
		r = push(l, n, ev, anchor_name);
		break;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		frame f = l->stack[--l->depth];
		if (f.anchor)
			add_anchor(l, f.anchor, f.node);
		free(f.anchor);
		free(f.merged);
		r = add_value(l, f.node, root, &ev->start_mark);
		break;
	}
	default:
		break;
	}
	return r;
}

int doc_load_yaml(doc_stream *out, karena *a, const char *name, const char *text, size_t len,
		  const doc_load_opts *opts, kerr *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	doc_fast_events fast;
	loader l;
	doc_node *root = NULL;
	karena each_a;
	int r = 0, done = 0;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	memset(&l, 0, sizeof(l));
	karena_init(&each_a);
	l.a = opts && opts->each ? &each_a : a;
	l.name = karena_strdup(a, name ? name : "<input>");
	l.text = text;
	l.len = len;
	l.err = err;
	if (opts)
		l.o = *opts;
	if (!l.o.max_size)
		l.o.max_size = (size_t)64 << 20;
	if (!l.o.max_depth)
		l.o.max_depth = 1000;
	if (!l.o.max_alias_nodes)
		l.o.max_alias_nodes = 1000000;
	l.alias_budget = l.o.max_alias_nodes;
	l.alias_bytes = ALIAS_MAX_BYTES;
	l.mem_start = l.a->used_total;

	if (len > l.o.max_size) {
		/* point at where the limit is passed */
		unsigned line, col;
		kerr_offset_to_linecol(text, len, l.o.max_size, &line, &col);
		return kerr_set_at(err, KE_LIMIT, l.name, line, col,
				   "input is %zu bytes, larger than the %zu-byte limit", len, l.o.max_size);
	}
	if (!l.o.no_fast && doc_fast_events_scan(&fast, text, len)) {
		size_t i;
		for (i = 0; i < fast.n && !done && !r; i++)
			r = load_event(&l, &fast.v[i], out, &root, &cap, &done);
		doc_fast_events_release(&fast);
		goto finish;
	}
	doc_fast_events_release(&fast);
	if (!yaml_parser_initialize(&parser))
		return kerr_set(err, KE_INTERNAL, "%s: cannot initialise the YAML parser", l.name);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			r = parser_error(&l, &parser);
			break;
		}
		r = load_event(&l, &ev, out, &root, &cap, &done);
		yaml_event_delete(&ev);
		if (r)
			break;
	}
	yaml_parser_delete(&parser);
finish:
	pop_all(&l);
	{
		size_t i;
		for (i = 0; i < l.nanchors; i++)
			free(l.anchors[i].name);
		free(l.anchors);
		free(l.stack);
	}
	karena_release(&each_a);
	if (r) {
		out->len = 0;
		return r;
	}
	return 0;
}

int doc_load_yaml1(doc_node **out, karena *a, const char *name, const char *text, size_t len,
		   const doc_load_opts *opts, kerr *err)
{
	doc_stream s;
	int r = doc_load_yaml(&s, a, name, text, len, opts, err);
	if (r)
		return r;
	if (s.len > 1)
		return kerr_set_src(err, KE_INPUT, name, text, len, s.docs[1]->line, 1,
				    "expected one YAML document, found %zu", s.len);
	*out = s.len ? s.docs[0] : doc_new_null(a);
	return 0;
}

int doc_load_yaml_file(doc_stream *out, karena *a, const char *path,
		       const doc_load_opts *opts, kerr *err)
{
	kbuf b = KBUF_INIT;
	size_t max = opts && opts->max_size ? opts->max_size : (size_t)64 << 20;
	int r = kbuf_read_file(&b, path, max);
	if (r == -2) {
		kbuf_release(&b);
		return kerr_set_at(err, KE_LIMIT, path, 0, 0, "file is larger than the %zu-byte limit", max);
	}
	if (r < 0) {
		kbuf_release(&b);
		return kerr_set_at(err, KE_IO, path, 0, 0, "cannot read: %s", strerror(errno));
	}
	r = doc_load_yaml(out, a, strcmp(path, "-") ? path : "<stdin>", b.ptr, b.len, opts, err);
	kbuf_release(&b);
	return r;
}
