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

/* Go's checkValid, by recursive descent: only the words of its errors
 * matter, and where it finds the first one. */
static int check_value(gj *p, int depth);

static int check_string(gj *p)
{
	p->i++; /* the opening quote */
	for (;;) {
		unsigned char c;
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
				int k;
				p->i++;
				for (k = 0; k < 4; k++, p->i++)
					if (p->i >= p->len || !hexd(p->s[p->i]))
						return gj_syntax(p, "in \\u hexadecimal character escape");
				continue;
			}
			if (!strchr("\"\\/bfnrt", c) || !c)
				return gj_syntax(p, "in string escape code");
		}
		p->i++;
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

static int check_value(gj *p, int depth)
{
	unsigned char c;
	int r;
	gj_ws(p);
	if (p->i >= p->len)
		return gj_syntax(p, "");
	c = p->s[p->i];
	if (depth > GO_JSON_MAX_DEPTH && (c == '{' || c == '[')) {
		kbuf_puts(p->err, "exceeded max depth");
		return -1;
	}
	switch (c) {
	case '{':
		p->i++;
		gj_ws(p);
		if (p->i < p->len && p->s[p->i] == '}') {
			p->i++;
			return 0;
		}
		for (;;) {
			gj_ws(p);
			if (p->i >= p->len || p->s[p->i] != '"')
				return gj_syntax(p, "looking for beginning of object key string");
			if ((r = check_string(p)))
				return r;
			gj_ws(p);
			if (p->i >= p->len || p->s[p->i] != ':')
				return gj_syntax(p, "after object key");
			p->i++;
			if ((r = check_value(p, depth + 1)))
				return r;
			gj_ws(p);
			if (p->i < p->len && p->s[p->i] == ',') {
				p->i++;
				continue;
			}
			if (p->i < p->len && p->s[p->i] == '}') {
				p->i++;
				return 0;
			}
			return gj_syntax(p, "after object key:value pair");
		}
	case '[':
		p->i++;
		gj_ws(p);
		if (p->i < p->len && p->s[p->i] == ']') {
			p->i++;
			return 0;
		}
		for (;;) {
			if ((r = check_value(p, depth + 1)))
				return r;
			gj_ws(p);
			if (p->i < p->len && p->s[p->i] == ',') {
				p->i++;
				continue;
			}
			if (p->i < p->len && p->s[p->i] == ']') {
				p->i++;
				return 0;
			}
			return gj_syntax(p, "after array element");
		}
	case '"':
		return check_string(p);
	case 't':
		return check_literal(p, "true");
	case 'f':
		return check_literal(p, "false");
	case 'n':
		return check_literal(p, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return check_number(p);
		return gj_syntax(p, "looking for beginning of value");
	}
}

/* ---- decoding text already checked ---- */

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

/* Go's unquote: escapes, surrogate pairs, U+FFFD for what is invalid */
static void read_string(gj *p, kbuf *b)
{
	p->i++;
	while (p->s[p->i] != '"') {
		unsigned char c = p->s[p->i];
		if (c == '\\') {
			c = p->s[++p->i];
			p->i++;
			switch (c) {
			case 'b': kbuf_putc(b, '\b'); break;
			case 'f': kbuf_putc(b, '\f'); break;
			case 'n': kbuf_putc(b, '\n'); break;
			case 'r': kbuf_putc(b, '\r'); break;
			case 't': kbuf_putc(b, '\t'); break;
			case 'u': {
				unsigned cp = hex4(p->s + p->i);
				p->i += 4;
				if (cp >= 0xD800 && cp < 0xDC00 && p->i + 6 <= p->len && p->s[p->i] == '\\' &&
				    p->s[p->i + 1] == 'u') {
					unsigned lo = hex4(p->s + p->i + 2);
					if (lo >= 0xDC00 && lo < 0xE000) {
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						p->i += 6;
					}
				}
				put_rune(b, cp >= 0xD800 && cp < 0xE000 ? 0xFFFD : cp);
				break;
			}
			default: kbuf_putc(b, (char)c); break;   /* " \ / */
			}
			continue;
		}
		{
			size_t l = utf8_len(p->s + p->i, p->len - p->i);
			if (!l) {
				put_rune(b, 0xFFFD);
				p->i++;
			} else {
				kbuf_put(b, p->s + p->i, l);
				p->i += l;
			}
		}
	}
	p->i++;
}

static doc_node *read_value(gj *p, karena *a, bool *type_err)
{
	unsigned char c;
	gj_ws(p);
	c = p->s[p->i];
	if (c == '{') {
		doc_node *m = doc_new_map(a);
		kbuf k = KBUF_INIT;
		p->i++;
		gj_ws(p);
		if (p->s[p->i] == '}') {
			p->i++;
			return m;
		}
		for (;;) {
			doc_node *v;
			gj_ws(p);
			kbuf_reset(&k);
			read_string(p, &k);
			gj_ws(p);
			p->i++; /* : */
			v = read_value(p, a, type_err);
			doc_map_setn(a, m, k.ptr ? k.ptr : "", k.len, v);
			gj_ws(p);
			if (p->s[p->i++] == '}')
				break;
		}
		kbuf_release(&k);
		return m;
	}
	if (c == '[') {
		doc_node *l = doc_new_seq(a);
		p->i++;
		gj_ws(p);
		if (p->s[p->i] == ']') {
			p->i++;
			return l;
		}
		for (;;) {
			doc_seq_push(a, l, read_value(p, a, type_err));
			gj_ws(p);
			if (p->s[p->i++] == ']')
				break;
		}
		return l;
	}
	if (c == '"') {
		kbuf b = KBUF_INIT;
		doc_node *s;
		read_string(p, &b);
		s = doc_new_strn(a, b.ptr ? b.ptr : "", b.len);
		kbuf_release(&b);
		return s;
	}
	if (c == 't' || c == 'f') {
		p->i += c == 't' ? 4 : 5;
		return doc_new_bool(a, c == 't');
	}
	if (c == 'n') {
		p->i += 4;
		return doc_new_null(a);
	}
	{
		size_t st = p->i;
		char buf[64], *num = buf;
		bool integer = true;
		double f;
		doc_node *n;
		while (p->i < p->len && strchr("+-0123456789.eE", p->s[p->i]) && p->s[p->i])
			if (strchr(".eE", p->s[p->i++]))
				integer = false;
		if (p->i - st >= sizeof(buf))
			num = xmalloc(p->i - st + 1);
		memcpy(num, p->s + st, p->i - st);
		num[p->i - st] = 0;
		if (integer && strcmp(num, "-0")) {
			char *e;
			long long v;
			errno = 0;
			v = strtoll(num, &e, 10);
			if (!errno && !*e) {
				n = doc_new_int(a, (int64_t)v);
				goto done;
			}
		}
		f = strtod(num, NULL);
		if (isinf(f)) {
			/* Go's UnmarshalTypeError: noted, and the value stays nil */
			if (!*type_err)
				kbuf_printf(p->err, "json: cannot unmarshal number %s into Go value of type float64", num);
			*type_err = true;
			n = doc_new_null(a);
		} else {
			n = doc_new_float(a, f);
		}
done:
		if (num != buf)
			free(num);
		return n;
	}
}

int doc_load_json_go(doc_node **out, karena *a, const char *text, size_t len, kbuf *err)
{
	gj p;
	bool type_err = false;
	p.s = (const unsigned char *)text;
	p.len = len;
	p.i = 0;
	p.err = err;
	*out = NULL;
	if (check_value(&p, 1))
		return -1;
	gj_ws(&p);
	if (p.i < p.len)
		return gj_syntax(&p, "after top-level value");
	p.i = 0;
	*out = read_value(&p, a, &type_err);
	return type_err ? 1 : 0;
}
