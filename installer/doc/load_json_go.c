/* doc/load_json_go.c - JSON as Go's encoding/json Unmarshal reads it into
 * an interface{} (what Helm's fromJson and fromJsonArray see): the whole
 * text is checked first and a syntax error is worded as Go's scanner words
 * it; a repeated key keeps its last value; invalid UTF-8 and lone
 * surrogates become U+FFFD; a number beyond float64 is Go's type error and
 * reads as null. Numbers that are integers and fit stay DOC_INT (the caller
 * turns them to floats in Helm's mode). */
#include "doc.h"
#include "core/alloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GO_JSON_MAX_DEPTH 10000   /* encoding/json's maxNestingDepth */

/* strconv.Quote of one byte taken as a rune, in quotes as quoteChar does */
static void quote_char(kbuf *out, unsigned char c)
{
	if (c == '\'') {
		kbuf_puts(out, "'\\''");
		return;
	}
	if (c == '"') {
		kbuf_puts(out, "'\"'");
		return;
	}
	kbuf_putc(out, '\'');
	switch (c) {
	case '\a': kbuf_puts(out, "\\a"); break;
	case '\b': kbuf_puts(out, "\\b"); break;
	case '\f': kbuf_puts(out, "\\f"); break;
	case '\n': kbuf_puts(out, "\\n"); break;
	case '\r': kbuf_puts(out, "\\r"); break;
	case '\t': kbuf_puts(out, "\\t"); break;
	case '\v': kbuf_puts(out, "\\v"); break;
	case '\\': kbuf_puts(out, "\\\\"); break;
	default:
		if (c < 0x20 || c == 0x7f)
			kbuf_printf(out, "\\x%02x", c);
		else if (c >= 0x80 && (c < 0xa1 || c == 0xad))   /* not printable in Go */
			kbuf_printf(out, "\\u%04x", c);
		else if (c >= 0x80) {
			kbuf_putc(out, (char)(0xC0 | (c >> 6)));
			kbuf_putc(out, (char)(0x80 | (c & 0x3F)));
		} else
			kbuf_putc(out, (char)c);
	}
	kbuf_putc(out, '\'');
}

typedef struct gj {
	const unsigned char *s;
	size_t len, i;
	kbuf *err;
	kbuf type_err;   /* Go's UnmarshalTypeError for the first number beyond float64 */
} gj;

static int gj_syntax(gj *p, const char *context)
{
	if (p->i >= p->len) {
		kbuf_puts(p->err, "unexpected end of JSON input");
		return -1;
	}
	kbuf_puts(p->err, "invalid character ");
	quote_char(p->err, p->s[p->i]);
	kbuf_printf(p->err, " %s", context);
	return -1;
}

static void gj_ws(gj *p)
{
	while (p->i < p->len && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static bool hexd(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

static unsigned hex4(const unsigned char *s)
{
	unsigned v = 0;
	int k;
	for (k = 0; k < 4; k++)
		v = v * 16 + (unsigned)(s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10);
	return v;
}

static void put_rune(kbuf *b, unsigned cp)
{
	if (cp < 0x80) {
		kbuf_putc(b, (char)cp);
	} else if (cp < 0x800) {
		kbuf_putc(b, (char)(0xC0 | (cp >> 6)));
		kbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		kbuf_putc(b, (char)(0xE0 | (cp >> 12)));
		kbuf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		kbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		kbuf_putc(b, (char)(0xF0 | (cp >> 18)));
		kbuf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		kbuf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		kbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
	}
}

/* A valid UTF-8 sequence at s (of up to n bytes): its length, else 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], cp;
	size_t l, k;
	if (c < 0x80) return 1;
	if (c >= 0xC2 && c <= 0xDF) l = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF) l = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4) l = 4, cp = c & 0x07;
	else return 0;
	if (l > n)
		return 0;
	for (k = 1; k < l; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if ((l == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (l == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return l;
}

/* A string at p->i (its opening quote) checked as Go's scanner checks it
 * and unquoted as Go does: escapes, surrogate pairs, U+FFFD for invalid
 * UTF-8 and lone surrogates. */
static int parse_string(gj *p, kbuf *b)
{
	p->i++; /* the opening quote */
	for (;;) {
		unsigned char c;
		size_t l;
		if (p->i >= p->len)
			return gj_syntax(p, "");
		c = p->s[p->i];
		if (c == '"') {
			p->i++;
			return 0;
		}
		if (c < 0x20)
			return gj_syntax(p, "in string literal");
		if (c == '\\') {
			p->i++;
			if (p->i >= p->len)
				return gj_syntax(p, "");
			c = p->s[p->i];
			if (c == 'u') {
				unsigned cp;
				int k;
				p->i++;
				for (k = 0; k < 4; k++)
					if (p->i + (size_t)k >= p->len || !hexd(p->s[p->i + (size_t)k])) {
						p->i += (size_t)k;
						return gj_syntax(p, "in \\u hexadecimal character escape");
					}
				cp = hex4(p->s + p->i);
				p->i += 4;
				if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= p->len && p->s[p->i] == '\\' &&
				    p->s[p->i + 1] == 'u' && hexd(p->s[p->i + 2]) && hexd(p->s[p->i + 3]) &&
				    hexd(p->s[p->i + 4]) && hexd(p->s[p->i + 5])) {
					unsigned lo = hex4(p->s + p->i + 2);
					if (lo >= 0xDC00 && lo < 0xE000) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						p->i += 6;
					}
				}
				put_rune(b, cp >= 0xD800 && cp < 0xE000 ? 0xFFFD : cp);
				continue;
			}
			switch (c) {
			case 'b': kbuf_putc(b, '\b'); break;
			case 'f': kbuf_putc(b, '\f'); break;
			case 'n': kbuf_putc(b, '\n'); break;
			case 'r': kbuf_putc(b, '\r'); break;
			case 't': kbuf_putc(b, '\t'); break;
			case '"': case '\\': case '/': kbuf_putc(b, (char)c); break;
			default: return gj_syntax(p, "in string escape code");
			}
			p->i++;
			continue;
		}
		l = utf8_len(p->s + p->i, p->len - p->i);
		if (!l) {
			put_rune(b, 0xFFFD);
			p->i++;
		} else {
			kbuf_put(b, p->s + p->i, l);
			p->i += l;
		}
	}
}

static int check_number(gj *p)
{
	if (p->s[p->i] == '-') {
		p->i++;
		if (p->i >= p->len || p->s[p->i] < '0' || p->s[p->i] > '9')
			return gj_syntax(p, "in numeric literal");
	}
	if (p->s[p->i] == '0') {
		p->i++;
	} else {
		while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (p->i < p->len && p->s[p->i] == '.') {
		p->i++;
		if (p->i >= p->len || p->s[p->i] < '0' || p->s[p->i] > '9')
			return gj_syntax(p, "after decimal point in numeric literal");
		while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	if (p->i < p->len && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->len && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (p->i >= p->len || p->s[p->i] < '0' || p->s[p->i] > '9')
			return gj_syntax(p, "in exponent of numeric literal");
		while (p->i < p->len && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	}
	return 0;
}

/* The number checked at [st, p->i): an int64 when it is an integer that
 * fits, else a float64; beyond float64, Go's type error is noted and the
 * value is nil. */
static doc_node *number_value(gj *p, karena *a, size_t st)
{
	char buf[64], *num = buf;
	size_t n = p->i - st, k;
	bool integer = true;
	double f;
	doc_node *v;
	for (k = st; k < p->i; k++)
		if (p->s[k] == '.' || p->s[k] == 'e' || p->s[k] == 'E')
			integer = false;
	if (n >= sizeof(buf))
		num = xmalloc(n + 1);
	memcpy(num, p->s + st, n);
	num[n] = 0;
	if (integer && strcmp(num, "-0")) {
		char *e;
		long long i;
		errno = 0;
		i = strtoll(num, &e, 10);
		if (!errno && !*e) {
			v = doc_new_int(a, (int64_t)i);
			goto done;
		}
	}
	f = strtod(num, NULL);
	if (isinf(f)) {
		if (!p->type_err.len)
			kbuf_printf(&p->type_err, "json: cannot unmarshal number %s into Go value of type float64", num);
		v = doc_new_null(a);
	} else {
		v = doc_new_float(a, f);
	}
done:
	if (num != buf)
		free(num);
	return v;
}

static int check_literal(gj *p, const char *word)
{
	size_t k;
	for (k = 1; word[k]; k++) {
		p->i++;
		if (p->i >= p->len || p->s[p->i] != (unsigned char)word[k]) {
			kbuf ctx = KBUF_INIT;
			int r;
			kbuf_printf(&ctx, "in literal %s (expecting '%c')", word, word[k]);
			r = gj_syntax(p, ctx.ptr);
			kbuf_release(&ctx);
			return r;
		}
	}
	p->i++;
	return 0;
}

/* After a member or element: 1 when another follows (the comma taken), 0
 * at the closing bracket (taken), or Go's error "after <what>". */
static int next_item(gj *p, char close, const char *what)
{
	gj_ws(p);
	if (p->i < p->len && p->s[p->i] == ',') {
		p->i++;
		return 1;
	}
	if (p->i < p->len && p->s[p->i] == (unsigned char)close) {
		p->i++;
		return 0;
	}
	return gj_syntax(p, what);
}

/* One value at p->i, checked as Go's checkValid does (recursive descent:
 * only the words of its errors matter, and where it finds the first one)
 * and read into *out. */
static int parse_value(gj *p, karena *a, int depth, doc_node **out)
{
	unsigned char c;
	int r = 0;
	gj_ws(p);
	if (p->i >= p->len)
		return gj_syntax(p, "");
	c = p->s[p->i];
	if (depth > GO_JSON_MAX_DEPTH && (c == '{' || c == '[')) {
		kbuf_puts(p->err, "exceeded max depth");
		return -1;
	}
	switch (c) {
	case '{': {
		doc_node *m = doc_new_map(a), *v;
		kbuf k = KBUF_INIT;
		*out = m;
		p->i++;
		gj_ws(p);
		if (p->i < p->len && p->s[p->i] == '}') {
			p->i++;
			return 0;
		}
		do {
			gj_ws(p);
			if (p->i >= p->len || p->s[p->i] != '"') {
				r = gj_syntax(p, "looking for beginning of object key string");
				break;
			}
			kbuf_reset(&k);
			if ((r = parse_string(p, &k)))
				break;
			gj_ws(p);
			if (p->i >= p->len || p->s[p->i] != ':') {
				r = gj_syntax(p, "after object key");
				break;
			}
			p->i++;
			if ((r = parse_value(p, a, depth + 1, &v)))
				break;
			doc_map_setn(a, m, k.ptr, k.len, v);
		} while ((r = next_item(p, '}', "after object key:value pair")) == 1);
		kbuf_release(&k);
		return r;
	}
	case '[': {
		doc_node *l = doc_new_seq(a), *v;
		*out = l;
		p->i++;
		gj_ws(p);
		if (p->i < p->len && p->s[p->i] == ']') {
			p->i++;
			return 0;
		}
		do {
			if ((r = parse_value(p, a, depth + 1, &v)))
				return r;
			doc_seq_push(a, l, v);
		} while ((r = next_item(p, ']', "after array element")) == 1);
		return r;
	}
	case '"': {
		kbuf b = KBUF_INIT;
		if (!(r = parse_string(p, &b)))
			*out = doc_new_strn(a, b.ptr, b.len);
		kbuf_release(&b);
		return r;
	}
	case 't':
	case 'f':
		if ((r = check_literal(p, c == 't' ? "true" : "false")))
			return r;
		*out = doc_new_bool(a, c == 't');
		return 0;
	case 'n':
		if ((r = check_literal(p, "null")))
			return r;
		*out = doc_new_null(a);
		return 0;
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			size_t st = p->i;
			if ((r = check_number(p)))
				return r;
			*out = number_value(p, a, st);
			return 0;
		}
		return gj_syntax(p, "looking for beginning of value");
	}
}

int doc_load_json_go(doc_node **out, karena *a, const char *text, size_t len, kbuf *err)
{
	gj p;
	int r;
	p.s = (const unsigned char *)text;
	p.len = len;
	p.i = 0;
	p.err = err;
	kbuf_init(&p.type_err, 0);
	*out = NULL;
	r = parse_value(&p, a, 1, out);
	if (!r) {
		gj_ws(&p);
		if (p.i < p.len)
			r = gj_syntax(&p, "after top-level value");
	}
	if (r) {
		/* the whole text is checked before Go decodes: a syntax error
		 * is the only error, and there is no value */
		*out = NULL;
	} else if (p.type_err.len) {
		kbuf_put(err, p.type_err.ptr, p.type_err.len);
		r = 1;
	}
	kbuf_release(&p.type_err);
	return r;
}
