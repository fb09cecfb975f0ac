/*
 * values/strvals.c - the --set language, as Helm's pkg/strvals parses it.
 *
 *   a.b=c,d=e      nested keys, several assignments
 *   a={x,y}        a list of values (no nesting)
 *   a[0].b=c       list indexes (at most 65536), nested lists a[0][1]=x
 *   a\.b=c         backslash takes the next character literally
 *   true/false/null (any case), integers as int64 unless they start with 0
 *
 * --set-string never converts, --set-file reads each value as a path,
 * --set-json reads each value as JSON, --set-literal takes everything after
 * the first '=' verbatim (no escapes, no commas, no lists).
 *
 * Deliberate differences: Helm silently accepts a trailing index with no
 * value ("a[0]") and an unterminated index ("a[1"); we report them. Where
 * Helm panics and recovers ("a=1" then "a.b=2"), we say which key is not a
 * map or list. Every error points at the offending character with a caret.
 *
 * Values made here carry a pseudo-position: file is the flag and its
 * argument ("--set a.b=c"), line 1 (or the argument's line), col the column
 * of the value inside the argument. A --set-secret argument never shows its
 * values: its file is cut before them ("--set-secret a.b=<redacted>"), and
 * so is the caret line of its syntax errors.
 */
#include "values_int.h"
#include "core/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SET_MAX_INDEX 65536       /* Helm's strvals.MaxIndex */
#define SET_MAX_NESTED_NAME 30    /* Helm's strvals.MaxNestedNameLevel */
#define SET_MAX_INDEX_NESTING 30  /* a[0][0]...: Helm has no limit, C needs one */

enum { SP_OK = 0, SP_EOF = 1, SP_NOTLIST = 2 };

typedef struct sparser {
	const char *s;
	size_t len, pos;
	karena *a;
	values_flag_kind kind;
	values_num_mode num;
	const char *flag;     /* "--set" */
	const char *label;    /* "--set a=b": the position's file */
	const values_url_reader *url;
	doc_node *secret_paths;
	kbuf path;            /* path of the key being parsed, for secret_paths */
	kerr *err;
} sparser;

const char *values_flag_name(values_flag_kind kind)
{
	switch (kind) {
	case VALUES_SET: return "--set";
	case VALUES_SET_STRING: return "--set-string";
	case VALUES_SET_FILE: return "--set-file";
	case VALUES_SET_JSON: return "--set-json";
	case VALUES_SET_LITERAL: return "--set-literal";
	case VALUES_SET_SECRET: return "--set-secret";
	}
	return "--set";
}

void values_set_pos_tree(doc_node *n, const char *file, unsigned line, unsigned col)
{
	size_t i;
	if (!n)
		return;
	n->file = file;
	n->line = line;
	n->col = col;
	if (n->type == DOC_SEQ)
		for (i = 0; i < n->u.seq.len; i++)
			values_set_pos_tree(n->u.seq.v[i], file, line, col);
	else if (n->type == DOC_MAP)
		for (i = 0; i < n->u.map.len; i++) {
			values_set_pos_tree(n->u.map.v[i].key, file, line, col);
			values_set_pos_tree(n->u.map.v[i].val, file, line, col);
		}
}

static int sp_fail(sparser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Where the values of a --set argument begin: after its first '=' not
 * escaped by a backslash (len when there is none). */
static size_t values_start(const char *s, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '=')
			return i + 1;
	}
	return len;
}

/* s[0..len) with everything from cut on replaced by "<redacted>". */
static const char *redacted_arg(karena *a, const char *s, size_t len, size_t cut)
{
	return cut < len ? karena_printf(a, "%.*s<redacted>", (int)cut, s) : karena_strndup(a, s, len);
}

/* msg with every "quoted" part replaced by "<redacted>". */
static void hide_quoted(kbuf *msg)
{
	kbuf out = KBUF_INIT;
	const char *s = msg->ptr, *q;
	while ((q = strchr(s, '"')) && strchr(q + 1, '"')) {
		kbuf_put(&out, s, (size_t)(q - s));
		kbuf_puts(&out, "\"<redacted>\"");
		s = strchr(q + 1, '"') + 1;
	}
	kbuf_puts(&out, s);
	kbuf_reset(msg);
	kbuf_put(msg, out.ptr, out.len);
	kbuf_release(&out);
}

static int sp_fail(sparser *p, size_t off, const char *fmt, ...)
{
	unsigned line, col;
	va_list ap;
	kbuf msg = KBUF_INIT;
	const char *src = p->s;
	size_t srclen = p->len;
	va_start(ap, fmt);
	kbuf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (p->kind == VALUES_SET_SECRET) {
		/* the caret line shows the first key, never a value; with no
		 * '=' at all the whole argument may be the value */
		size_t cut = values_start(p->s, p->len);
		if (cut == p->len && (!p->len || p->s[p->len - 1] != '='))
			cut = 0;
		src = redacted_arg(p->a, p->s, p->len, cut);
		srclen = strlen(src);
		if (off >= cut) {
			off = cut;
			hide_quoted(&msg);   /* a key past the first value may be one */
		}
	}
	kerr_offset_to_linecol(src, srclen, off, &line, &col);
	kerr_set_src(p->err, KE_INPUT, p->flag, src, srclen, line, col, "%s", msg.ptr);
	kbuf_release(&msg);
	return KE_INPUT;
}

const char *values_label_redact(karena *a, const char *file)
{
	size_t i;
	for (i = 0; i <= VALUES_SET_SECRET; i++) {
		const char *f = values_flag_name((values_flag_kind)i);
		size_t fl = strlen(f), len;
		if (strncmp(file, f, fl) || file[fl] != ' ')
			continue;
		len = strlen(file + fl + 1);
		return karena_printf(a, "%s %s", f, redacted_arg(a, file + fl + 1, len, values_start(file + fl + 1, len)));
	}
	return file;
}

static void sp_pos(sparser *p, doc_node *n, size_t off)
{
	unsigned line, col;
	kerr_offset_to_linecol(p->s, p->len, off, &line, &col);
	n->file = p->label;
	n->line = line;
	n->col = col;
}

static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0)
		return 2;
	if ((c & 0xF0) == 0xE0)
		return 3;
	if ((c & 0xF8) == 0xF0)
		return 4;
	return 1;
}

/* Read until one of stops (consumed, returned in *last) or the end (SP_EOF).
 * A backslash takes the next character literally (not for --set-literal). */
static int runes_until(sparser *p, const char *stops, kbuf *out, int *last)
{
	kbuf_reset(out);
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c && strchr(stops, c)) {
			p->pos++;
			*last = c;
			return SP_OK;
		}
		if (c == '\\' && p->kind != VALUES_SET_LITERAL) {
			size_t n;
			p->pos++;
			if (p->pos >= p->len) {
				*last = -1;
				return SP_EOF;
			}
			n = utf8_len((unsigned char)p->s[p->pos]);
			if (p->pos + n > p->len)
				n = p->len - p->pos;
			kbuf_put(out, p->s + p->pos, n);
			p->pos += n;
			continue;
		}
		kbuf_putc(out, (char)c);
		p->pos++;
	}
	*last = -1;
	return SP_EOF;
}

static bool eq_fold(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a, y = *b;
		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return !*a && !*b;
}

/* strconv.ParseInt(s, 10, 64) */
static bool parse_int10(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = false;
	uint64_t v = 0, lim;
	if (len && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i >= len)
		return false;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

/* Helm's typedVal. */
static doc_node *typed_val(karena *a, const char *s, size_t len, bool as_string)
{
	int64_t iv;
	if (as_string)
		return doc_new_strn(a, s, len);
	if (eq_fold(s, "true"))
		return doc_new_bool(a, true);
	if (eq_fold(s, "false"))
		return doc_new_bool(a, false);
	if (eq_fold(s, "null"))
		return doc_new_null(a);
	if (len == 1 && s[0] == '0')
		return doc_new_int(a, 0);
	if (len && s[0] != '0' && parse_int10(s, len, &iv))
		return doc_new_int(a, iv);
	return doc_new_strn(a, s, len);
}

/* The reader: turns the runes of one value into a node. */
static int sp_read(sparser *p, const kbuf *rs, size_t off, doc_node **out)
{
	doc_node *n;
	switch (p->kind) {
	case VALUES_SET_FILE: {
		kbuf data = KBUF_INIT;
		kerr e2 = KERR_INIT;
		e2.quiet = p->err->quiet;
		if (values_read_source(&data, rs->ptr, p->url, &e2)) {
			kbuf msg = KBUF_INIT;
			kerr_format_short(&e2, &msg);
			sp_fail(p, off, "cannot read %s: %s", rs->ptr, msg.ptr);
			kbuf_release(&msg);
			kerr_clear(&e2);
			kbuf_release(&data);
			return KE_INPUT;
		}
		n = doc_new_strn(p->a, data.ptr, data.len);
		kbuf_release(&data);
		break;
	}
	case VALUES_SET_STRING:
	case VALUES_SET_LITERAL:
		n = doc_new_strn(p->a, rs->ptr, rs->len);
		break;
	default:
		n = typed_val(p->a, rs->ptr, rs->len, false);
		break;
	}
	sp_pos(p, n, off);
	*out = n;
	return 0;
}

static void path_push_key(kbuf *b, const char *k, size_t len)
{
	size_t i;
	if (b->len)
		kbuf_putc(b, '.');
	for (i = 0; i < len; i++) {
		if (k[i] == '.' || k[i] == '[' || k[i] == ']' || k[i] == '\\')
			kbuf_putc(b, '\\');
		kbuf_putc(b, k[i]);
	}
}

static void record_secret(sparser *p)
{
	if (p->secret_paths && p->path.len)
		doc_seq_push(p->a, p->secret_paths, doc_new_strn(p->a, p->path.ptr, p->path.len));
}

/* Go's set(): an empty key is not set. */
static void sp_set(sparser *p, doc_node *data, const kbuf *k, doc_node *val, bool leaf)
{
	size_t save;
	if (!k->len)
		return;
	doc_map_setn(p->a, data, k->ptr, k->len, val);
	if (leaf) {
		save = p->path.len;
		path_push_key(&p->path, k->ptr, k->len);
		record_secret(p);
		kbuf_truncate(&p->path, save);
	}
}

static int set_index(sparser *p, doc_node *list, int64_t i, doc_node *val, size_t off)
{
	if (i < 0)
		return sp_fail(p, off, "negative %lld index not allowed", (long long)i);
	if (i > SET_MAX_INDEX)
		return sp_fail(p, off, "index of %lld is greater than maximum supported index of %d",
			       (long long)i, SET_MAX_INDEX);
	while (list->u.seq.len <= (size_t)i)
		doc_seq_push(p->a, list, doc_new_null(p->a));
	list->u.seq.v[i] = val;
	return 0;
}

/* Optional spaces, then a comma or the end: true (consumed); else false. */
static bool empty_val(sparser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];
		if (c == ',') {
			p->pos++;
			return true;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
			p->pos++;
		else
			return false;
	}
	return true;
}

static int json_val(sparser *p, doc_node **out)
{
	size_t start = p->pos, used = 0;
	kbuf why = KBUF_INIT;
	int r = doc_load_json_prefix(out, p->a, p->s + p->pos, p->len - p->pos, &used, &why);
	if (r) {
		size_t off = r == KE_INPUT ? start + used : start;
		if (off > p->len)
			off = p->len;
		r = why.len ? sp_fail(p, off, "invalid JSON value: %s", why.ptr) : sp_fail(p, off, "invalid JSON value");
		kbuf_release(&why);
		return r;
	}
	kbuf_release(&why);
	p->pos += used;
	if (p->pos > p->len)
		p->pos = p->len;
	{
		unsigned line, col;
		kerr_offset_to_linecol(p->s, p->len, start, &line, &col);
		values_set_pos_tree(*out, p->label, line, col);
	}
	if (p->num == VALUES_NUM_HELM)
		values_helm_numbers(*out);
	return 0;
}

/* valList: "{a,b}" or SP_NOTLIST or SP_EOF. */
static int val_list(sparser *p, doc_node **out)
{
	kbuf rs = KBUF_INIT;
	doc_node *list, *v;
	size_t open = p->pos, start;
	int last, r;
	if (p->pos >= p->len)
		return SP_EOF;
	if (p->s[p->pos] != '{')
		return SP_NOTLIST;
	p->pos++;
	list = doc_new_seq(p->a);
	list->flags |= DOC_F_FLOW;
	sp_pos(p, list, open);
	for (;;) {
		start = p->pos;
		if (runes_until(p, ",}", &rs, &last) == SP_EOF) {
			kbuf_release(&rs);
			return sp_fail(p, open, "list must terminate with '}'");
		}
		if ((r = sp_read(p, &rs, start, &v))) {
			kbuf_release(&rs);
			return r;
		}
		doc_seq_push(p->a, list, v);
		if (last == '}') {
			if (p->pos < p->len && p->s[p->pos] == ',')
				p->pos++;
			break;
		}
	}
	kbuf_release(&rs);
	*out = list;
	return SP_OK;
}

/* The value after '=': a list, a JSON value, a literal or a plain value.
 * Returns SP_OK, SP_EOF (value empty at the end of input; *out is "") or an
 * error. */
static int value(sparser *p, doc_node **out)
{
	kbuf rs = KBUF_INIT;
	size_t start = p->pos;
	int r, last;
	if (p->kind == VALUES_SET_JSON) {
		if (empty_val(p)) {
			*out = doc_new_null(p->a);
			sp_pos(p, *out, start);
			return SP_OK;
		}
		if ((r = json_val(p, out)))
			return r;
		empty_val(p);
		return SP_OK;
	}
	if (p->kind == VALUES_SET_LITERAL) {
		*out = doc_new_strn(p->a, p->s + p->pos, p->len - p->pos);
		sp_pos(p, *out, start);
		p->pos = p->len;
		return SP_OK;
	}
	r = val_list(p, out);
	if (r == SP_OK || r < 0)
		return r;
	if (r == SP_EOF) {
		*out = doc_new_str(p->a, "");
		sp_pos(p, *out, start);
		return SP_EOF;
	}
	runes_until(p, ",", &rs, &last);
	r = sp_read(p, &rs, start, out);
	kbuf_release(&rs);
	return r;
}

static int key(sparser *p, doc_node *data, int level);

static int key_index(sparser *p, int64_t *out)
{
	kbuf v = KBUF_INIT;
	size_t start = p->pos;
	int last;
	if (runes_until(p, "]", &v, &last) == SP_EOF) {
		kbuf_release(&v);
		return sp_fail(p, start > 0 ? start - 1 : 0, "error parsing index: missing ']'");
	}
	if (!parse_int10(v.ptr, v.len, out) || *out > INT32_MAX || *out < INT32_MIN) {
		int r = sp_fail(p, start, "error parsing index: \"%s\" is not an integer", v.ptr);
		kbuf_release(&v);
		return r;
	}
	kbuf_release(&v);
	return 0;
}

static int list_item(sparser *p, doc_node *list, int64_t i, int level, int idepth, size_t ioff)
{
	kbuf k = KBUF_INIT;
	size_t start = p->pos, save = p->path.len;
	int last, r;
	if (i < 0)
		return sp_fail(p, ioff, "negative %lld index not allowed", (long long)i);
	if (idepth > SET_MAX_INDEX_NESTING)
		return sp_fail(p, ioff, "list index nesting is greater than the maximum of %d",
			       SET_MAX_INDEX_NESTING);
	kbuf_printf(&p->path, "[%lld]", (long long)i);
	r = runes_until(p, "[.=", &k, &last);
	if (k.len) {
		r = sp_fail(p, start, "unexpected data at end of array index: \"%s\"", k.ptr);
		goto out;
	}
	if (r == SP_EOF) {
		r = sp_fail(p, p->len, "index [%lld] has no value", (long long)i);
		goto out;
	}
	if (last == '=') {
		doc_node *v = NULL;
		r = value(p, &v);
		if (r < 0)
			goto out;
		if ((r = set_index(p, list, i, v, ioff)))
			goto out;
		record_secret(p);
		r = 0;
		goto out;
	}
	if (last == '[') {
		int64_t next;
		doc_node *crt = NULL;
		size_t noff = p->pos;
		if ((r = key_index(p, &next)))
			goto out;
		if ((size_t)i < list->u.seq.len && list->u.seq.v[i]->type != DOC_NULL) {
			crt = list->u.seq.v[i];
			if (crt->type != DOC_SEQ) {
				r = sp_fail(p, ioff, "index [%lld] is a %s, not a list", (long long)i,
					    doc_type_name(crt->type));
				goto out;
			}
		}
		if (!crt) {
			crt = doc_new_seq(p->a);
			sp_pos(p, crt, noff);
		}
		if ((r = list_item(p, crt, next, level, idepth + 1, noff)))
			goto out;
		r = set_index(p, list, i, crt, ioff);
		goto out;
	}
	/* '.' */
	{
		doc_node *inner = NULL;
		if ((size_t)i < list->u.seq.len) {
			inner = list->u.seq.v[i];
			if (inner->type != DOC_MAP) {
				/* Helm: indices out of order, start an empty map */
				inner = doc_new_map(p->a);
				sp_pos(p, inner, start);
				list->u.seq.v[i] = inner;
			}
		} else {
			inner = doc_new_map(p->a);
			sp_pos(p, inner, start);
		}
		r = key(p, inner, level);
		if (r)
			goto out;
		r = set_index(p, list, i, inner, ioff);
	}
out:
	kbuf_truncate(&p->path, save);
	kbuf_release(&k);
	return r;
}

/* The list or map at key k of data (type t), or a new one positioned at
 * start; an existing value of another type is an error naming what it is. */
static int child_of(sparser *p, doc_node *data, const kbuf *k, doc_type t, size_t start, doc_node **out)
{
	doc_node *n = doc_map_getn(data, k->ptr, k->len);
	if (n && n->type != t)
		return sp_fail(p, start, "key \"%s\" is a %s, not a %s", k->ptr, doc_type_name(n->type),
			       t == DOC_SEQ ? "list" : "map");
	if (!n) {
		n = doc_new(p->a, t);
		sp_pos(p, n, start);
	}
	*out = n;
	return 0;
}

static int key(sparser *p, doc_node *data, int level)
{
	kbuf k = KBUF_INIT;
	size_t start = p->pos, save = p->path.len;
	int last, r;
	r = runes_until(p, p->kind == VALUES_SET_LITERAL ? "=[." : "=[,.", &k, &last);
	if (r == SP_EOF) {
		if (!k.len) {
			kbuf_release(&k);
			return SP_EOF;
		}
		r = sp_fail(p, p->len, "key \"%s\" has no value", k.ptr);
		goto out;
	}
	if (last == '[') {
		int64_t i;
		doc_node *list;
		size_t ioff = p->pos;
		if ((r = key_index(p, &i)))
			goto out;
		if ((r = child_of(p, data, &k, DOC_SEQ, start, &list)))
			goto out;
		path_push_key(&p->path, k.ptr, k.len);
		r = list_item(p, list, i, level, 1, ioff);
		kbuf_truncate(&p->path, save);
		sp_set(p, data, &k, list, false);
		goto out;
	}
	if (last == '=') {
		doc_node *v = NULL;
		r = value(p, &v);
		if (r < 0)
			goto out;
		sp_set(p, data, &k, v, true);
		goto out;
	}
	if (last == ',') {
		sp_set(p, data, &k, doc_new_str(p->a, ""), false);
		r = sp_fail(p, p->pos - 1, "key \"%s\" has no value (cannot end with ,)", k.ptr);
		goto out;
	}
	/* '.' */
	{
		doc_node *inner;
		level++;
		if (level > SET_MAX_NESTED_NAME) {
			r = sp_fail(p, p->pos - 1,
				    "value name nested level is greater than maximum supported nested level of %d",
				    SET_MAX_NESTED_NAME);
			goto out;
		}
		if ((r = child_of(p, data, &k, DOC_MAP, start, &inner)))
			goto out;
		path_push_key(&p->path, k.ptr, k.len);
		r = key(p, inner, level);
		kbuf_truncate(&p->path, save);
		if (r == 0 && inner->u.map.len == 0) {
			r = sp_fail(p, start, "key map \"%s\" has no value", k.ptr);
			goto out;
		}
		if (inner->u.map.len)
			sp_set(p, data, &k, inner, false);
	}
out:
	kbuf_truncate(&p->path, save);
	kbuf_release(&k);
	return r;
}

int values_parse_set_ex(doc_node *dst, karena *a, values_flag_kind kind, const char *arg,
			values_num_mode num, const values_url_reader *url, doc_node *secret_paths, kerr *err)
{
	sparser p;
	int r;
	memset(&p, 0, sizeof(p));
	if (!dst || dst->type != DOC_MAP)
		return kerr_set(err, KE_INTERNAL, "values_parse_set: destination is not a map");
	p.s = arg ? arg : "";
	p.len = strlen(p.s);
	p.a = a;
	p.kind = kind;
	p.num = num;
	p.flag = values_flag_name(kind);
	/* a --set-secret value never shows in a location */
	p.label = karena_printf(a, "%s %s", p.flag,
				kind == VALUES_SET_SECRET ? redacted_arg(a, p.s, p.len, values_start(p.s, p.len)) : p.s);
	p.url = url;
	p.secret_paths = secret_paths;
	p.err = err;
	kbuf_init(&p.path, 0);
	for (;;) {
		r = key(&p, dst, 0);
		if (r == SP_OK)
			continue;
		if (r == SP_EOF)
			r = 0;
		break;
	}
	kbuf_release(&p.path);
	return r;
}

int values_parse_set(doc_node *dst, karena *a, values_flag_kind kind, const char *arg,
		     values_num_mode num, kerr *err)
{
	return values_parse_set_ex(dst, a, kind, arg, num, NULL, NULL, err);
}
