/* doc/head_fast.c - the fast path of doc/head.c for plain block YAML. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "head.h"

/* ---- a fast path for plain block YAML ----------------------------------
 * Most rendered documents (CRDs above all) are block mappings and sequences
 * of one-line scalars. doc_head_fast() checks such a document and finds kind
 * and the hook annotation without libyaml. It is only ever allowed to say
 * "valid" for text libyaml accepts: anything it does not fully understand
 * (anchors, tags, flow collections, multi-line or unusual scalars, tabs,
 * characters libyaml refuses or reads as line breaks, odd indentation,
 * any error) returns 0, and the caller runs the libyaml scan, which also
 * words the errors. */

enum { FH_MAP = 1, FH_SEQ = 2 };

typedef struct fh_level {
	int indent;
	int kind;
	int path;      /* 1: metadata mapping, 2: annotations mapping */
} fh_level;

int doc_fy_indent(const char *l, const char *e)
{
	const char *p = l;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* CRDs are indented 20 and more spaces deep: 8 at a time */
	while (e - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= 0x2020202020202020ULL;
		if (w)
			return (int)(p - l) + __builtin_ctzll(w) / 8;
		p += 8;
	}
#endif
	while (p < e && *p == ' ')
		p++;
	return (int)(p - l);
}

/* a one-line flow sequence of simple scalars, [v, e) with e[-1] == ']':
 * ["a", "b"], [a, b], ['x'] (RBAC verbs, commands). Plain items only of
 * characters that cannot start or end anything in flow context. */
bool doc_fy_flow_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '.' || c == '/' || c == '=' || c == '@' || c == '+' || c == '$' || c == '~' || c == '%';
}

static bool fh_flow_seq(const char *v, const char *e)
{
	const char *p = v + 1;
	if (e - v < 3 || e[-1] != ']')
		return false;
	e--;                   /* at the ']' */
	for (;;) {
		while (p < e && *p == ' ')
			p++;
		if (p >= e)
			return false;  /* "[a, ]" or "[ ]": libyaml decides */
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			while (p < e && *p != q && *p != '\\')
				p++;
			if (p >= e || *p != q)
				return false;
			p++;
		} else {
			const char *st = p;
			if (*p == '-' && (p + 1 >= e || !doc_fy_flow_plain(p[1])))
				return false;
			if (*p == '%' || *p == '@')
				return false;  /* reserved indicators */
			while (p < e && doc_fy_flow_plain(*p))
				p++;
			if (p == st || doc_yaml11_nonfinite(st, (size_t)(p - st)))
				return false;
		}
		while (p < e && *p == ' ')
			p++;
		if (p == e)
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

static int fh_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const char *doc_fy_escape(const char *p, const char *e, uint32_t *cp)
{
	static const char simple[] = "0abt\tnvfre \"/\\N_LP";
	static const uint32_t value[] = { 0, 7, 8, 9, 9, 10, 11, 12, 13, 27, ' ', '"', '/', '\\', 0x85, 0xA0,
					  0x2028, 0x2029 };
	const char *s;
	int digits = 0, i;
	uint32_t c = 0;
	if (p + 1 >= e)
		return NULL;
	if (p[1] && (s = strchr(simple, p[1]))) {
		*cp = value[s - simple];
		return p + 1;
	}
	switch (p[1]) {
	case 'x': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default: return NULL;
	}
	if (e - (p + 2) < digits)
		return NULL;
	for (i = 0; i < digits; i++) {
		int d = fh_hex(p[2 + i]);
		if (d < 0)
			return NULL;
		c = c * 16 + (uint32_t)d;
	}
	if ((c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return NULL;
	*cp = c;
	return p + 1 + digits;
}

/* after a value's last character at p, on a line that ends at e with no
 * trailing spaces: nothing, or a comment after a space (*ended: nothing
 * may go on on the lines after)? */
static bool fh_rest(const char *p, const char *e, bool *ended)
{
	if (p == e)
		return true;
	if (*p != ' ')
		return false;
	while (*p == ' ')
		p++;
	if (*p != '#')
		return false;
	*ended = true;
	return true;
}

/* "{}", "{ }", "[]", "[ ]" at v, before e: the byte after it, or NULL */
static const char *fh_flow_empty(const char *v, const char *e)
{
	const char *p = v + 1;
	if (*v != '{' && *v != '[')
		return NULL;
	while (p < e && *p == ' ')
		p++;
	return p < e && *p == (*v == '{' ? '}' : ']') ? p + 1 : NULL;
}

/* a one-line scalar value [v, e), maybe followed by a comment: returns its
 * text (for kind/hook) in [*vs, *ve) or false if it is not one we are sure
 * of; *cooked says the text holds escapes (a quoted value whose text is not
 * [*vs, *ve)), *ended that a comment follows it (a plain one does not go
 * on over the lines after) */
static bool fh_scalar(const char *v, const char *e, const char **vs, const char **ve, bool *cooked, bool *ended)
{
	const char *p;
	*cooked = *ended = false;
	while (e > v && e[-1] == ' ')
		e--;
	if (v >= e)
		return false;
	if ((p = fh_flow_empty(v, e))) {
		*vs = *ve = NULL; /* an empty flow collection: no scalar text */
		return fh_rest(p, e, ended);
	}
	if (*v == '[') {
		/* its last ']' ends it, but for a comment after it */
		for (p = e - 1; p > v && *p != ']'; p--)
			;
		*vs = *ve = NULL;
		return p > v && fh_rest(p + 1, e, ended) && fh_flow_seq(v, p + 1);
	}
	if (*v == '\'') {
		for (p = v + 1; p < e; p++) {
			if (*p == '\'') {
				if (p + 1 < e && p[1] == '\'') {
					p++;
					continue;
				}
				break;
			}
		}
		if (p >= e || !fh_rest(p + 1, e, ended))
			return false; /* unterminated, or text after the quote */
		*vs = v + 1;
		*ve = p;
		*cooked = memchr(v + 1, '\'', (size_t)(p - v - 1)) != NULL; /* '' escapes: not the text */
		return true;
	}
	if (*v == '"') {
		/* the next '"' and the escapes before it by memchr: JSON in a
		 * value is long, and full of \" */
		const char *q = memchr(v + 1, '"', (size_t)(e - v - 1)), *bs;
		p = v + 1;
		while ((bs = memchr(p, '\\', (size_t)((q ? q : e) - p)))) {
			uint32_t cp;
			if (!(p = doc_fy_escape(bs, e, &cp)))
				return false;
			*cooked = true;
			p++;
			if (q && q < p)  /* the escape took it (\") */
				q = memchr(p, '"', (size_t)(e - p));
		}
		p = q ? q : e;
		if (p >= e || !fh_rest(p + 1, e, ended))
			return false;
		*vs = v + 1;
		*ve = p;
		return true;
	}
	if (strchr("-?:,[]{}#&*!|>'\"%@`", *v)) {
		/* "-1", "-foo": a plain scalar may start with '-' followed by a non-space */
		if (!(*v == '-' && e - v > 1 && v[1] != ' '))
			return false;
	}
	for (p = v; p < e; p++) {  /* (no tabs: doc_fy_text_bytes refused them) */
		if (*p == ':' && (p + 1 == e || p[1] == ' '))
			return false;
		if (*p == '#' && p[-1] == ' ') {
			/* a comment ends it ('#' cannot start it) */
			*ended = true;
			for (e = p; e[-1] == ' '; e--)
				;
			break;
		}
	}
	if (doc_yaml11_nonfinite(v, (size_t)(e - v)))
		return false;  /* JSON has no infinities: the libyaml scan fails it */
	*vs = v;
	*ve = e;
	return true;
}

/* A block scalar: v points at its header on a line ending at le ("|", "|-",
 * "|+", ">", ">-", ">+" and nothing else), its content starts at bl and
 * must be indented deeper than parent. Returns the first line after it, or
 * NULL when libyaml must judge (an indentation indicator, a comment,
 * all-space lines before the first content line, which move the detected
 * indentation, or a line between parent and content indentation). */
static const char *fh_block(const char *v, const char *le, const char *bl, const char *end, int parent)
{
	const char *q = v + 1;
	int content = -1;
	if (q < le && (*q == '-' || *q == '+'))
		q++;
	while (q < le && *q == ' ')
		q++;
	if (q != le)
		return NULL;
	while (bl < end) {
		const char *bnl = memchr(bl, '\n', (size_t)(end - bl));
		const char *ble = bnl ? bnl : end;
		int bi = doc_fy_indent(bl, ble);
		if (bl + bi == ble) {
			if (bi > 0 && content < 0)
				return NULL;
			bl = bnl ? bnl + 1 : end;
			continue;
		}
		if (bi <= parent)
			break;
		if (content < 0)
			content = bi;
		else if (bi < content)
			return NULL;
		bl = bnl ? bnl + 1 : end;
	}
	return bl;
}

/* The continuation lines of a plain scalar that is the value of a key at
 * column key (CRD descriptions wrapped by kubectl): lines indented deeper
 * than the key, blank lines between them. Returns the first line after
 * the last one (next when there are none), or NULL when libyaml must judge
 * (a line that starts a comment or holds ": " or " #"). */
static const char *fh_plain_more(const char *next, const char *end, int key)
{
	const char *after = next, *l = next;
	while (l < end) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end, *p, *q;
		int ind = doc_fy_indent(l, le);
		p = l + ind;
		if (p == le) {          /* blank: part of the scalar only if it goes on */
			l = nl ? nl + 1 : end;
			continue;
		}
		if (ind <= key)
			break;
		if (*p == '#')
			return NULL;
		for (q = p; q < le; q++)
			if ((*q == ':' && (q + 1 == le || q[1] == ' ')) || (*q == '#' && q[-1] == ' '))
				return NULL;
		l = after = nl ? nl + 1 : end;
	}
	return after;
}

/* A quoted value at v that goes on past its line le, as the value of a
 * key at column key: its lines after the first indented deeper than the
 * key, its closing quote followed by nothing but spaces; '' in a
 * single-quoted one, in a double-quoted one the escapes doc_fy_escape
 * takes (not an escaped line break). Returns the line after it, or NULL
 * when libyaml must judge. */
static const char *fh_quoted_more(const char *v, const char *le, const char *end, int key)
{
	const char q = *v, *p = v + 1, *l;
	for (;;) {
		for (; p < le; p++) {
			uint32_t cp;
			if (q == '"' && *p == '\\') {
				if (!(p = doc_fy_escape(p, le, &cp)))
					return NULL;
				continue;
			}
			if (*p != q)
				continue;
			if (q == '\'' && p + 1 < le && p[1] == '\'') {
				p++;
				continue;
			}
			for (p++; p < le && *p == ' '; p++)
				;
			return p == le ? (le < end ? le + 1 : end) : NULL;
		}
		if (le >= end)
			return NULL;  /* unterminated */
		l = le + 1;
		le = memchr(l, '\n', (size_t)(end - l));
		le = le ? le : end;
		if (l + doc_fy_indent(l, le) < le && doc_fy_indent(l, le) <= key)
			return NULL;
		p = l;
	}
}

/* a copy of [s, s+n) that never reads past it (the text is not NUL-terminated) */
static char *dupn(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static const unsigned char fh_key_chars[256] = {
	['$'] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
	['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

bool doc_fy_key_char(char c)
{
	return fh_key_chars[(unsigned char)c];
}

/* a null key (libyaml takes it, go-yaml's JSON conversion does not) */
static bool fh_null_key(const char *k, const char *e)
{
	return e - k == 4 && (!memcmp(k, "null", 4) || !memcmp(k, "Null", 4) || !memcmp(k, "NULL", 4));
}

/* only printable ASCII and newlines? 16 bytes a step with GCC's vector
 * extension (portable to every target GCC and clang build for): the byte
 * loop with an early exit is not vectorised, and it reads every byte of
 * every rendered document. */
typedef unsigned char fh_u8x16 __attribute__((vector_size(16)));
typedef signed char fh_s8x16 __attribute__((vector_size(16)));

bool doc_fy_plain_bytes(const unsigned char *s, size_t n)
{
	size_t i = 0, j;
	while (n - i >= 16) {
		fh_s8x16 bad = { 0 };
		size_t m = n - i < 4096 ? n - i : 4096;
		for (j = 0; j + 16 <= m; j += 16) {
			fh_u8x16 v;
			memcpy(&v, s + i + j, 16);
			bad |= (v >= 0x7F) | ((v < 0x20) & (v != '\n'));
		}
		for (j = 0; j < 16; j++)
			if (bad[j])
				return false;
		i += m - m % 16;
	}
	for (; i < n; i++)
		if (s[i] >= 0x7F || (s[i] < 0x20 && s[i] != '\n'))
			return false;
	return true;
}

/* 16 bytes of printable ASCII and newlines at s? */
static bool fh_plain16(const unsigned char *s)
{
	fh_u8x16 v;
	fh_s8x16 bad;
	uint64_t w[2];
	memcpy(&v, s, 16);
	bad = (v >= 0x7F) | ((v < 0x20) & (v != '\n'));
	memcpy(w, &bad, 16);
	return !(w[0] | w[1]);
}

/* only what libyaml's reader takes as text, with no line break but the
 * newline? Printable ASCII (the usual case) goes through
 * doc_fy_plain_bytes; a document with other bytes is checked one
 * character at a time (its runs of ASCII 16 bytes a step): UTF-8 in its
 * shortest form, no surrogates, at most U+10FFFF, in libyaml's printable
 * ranges, and not NEL, LS or PS (line breaks to libyaml), the BOM or
 * U+FFFE/U+FFFF. */
bool doc_fy_text_bytes(const unsigned char *s, size_t n)
{
	size_t i = 0;
	if (doc_fy_plain_bytes(s, n))
		return true;
	while (i < n) {
		unsigned c = s[i];
		uint32_t cp;
		size_t len, k;
		if (c < 0x80) {
			if (n - i >= 16 && fh_plain16(s + i)) {
				i += 16;  /* the ASCII between the other characters, 16 bytes a step */
				continue;
			}
			if (c >= 0x7F || (c < 0x20 && c != '\n'))
				return false;
			i++;
			continue;
		}
		if (c < 0xC2 || c > 0xF4)
			return false;  /* a continuation byte, an overlong lead, or past U+10FFFF */
		len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
		if (n - i < len)
			return false;
		cp = c & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3Fu);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp < 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF ||
		    cp == 0xFFFE || cp == 0xFFFF)
			return false;
		i += len;
	}
	return true;
}

/* Returns 1 when the document is plain block YAML (kind and hook set in h,
 * malloc'd), 0 when libyaml must decide. */
int doc_head_fast(doc_head *h)
{
	const char *t = h->text, *end = h->text + h->len, *line = t;
	fh_level st[64];
	int depth = 0;               /* levels in st */
	int pending = -1;            /* indent of a key or "-" whose value may follow as a block */
	int pending_path = 0;        /* path of the mapping that would open there */
	bool pending_m = false;      /* a metadata or annotations key in any case: only a map may follow */
	bool pending_is_item = false;
	bool any = false;
	if (!doc_fy_text_bytes((const unsigned char *)t, h->len))
		return 0;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end, *p, *ke, *colon, *vs, *ve;
		char q;
		bool cooked, ended;
		int ind = doc_fy_indent(line, le);
		p = line + ind;
		if (p == le || *p == '#') {  /* blank or comment line */
			line = nl ? nl + 1 : end;
			continue;
		}
		if (ind == 0 && le - p >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)))
			return 0;
		if (!any) {
			if (ind != 0)
				return 0;
			any = true;
		}
		/* close levels deeper than this line */
		while (depth > 0 && st[depth - 1].indent > ind)
			depth--;
		if (pending >= 0 && ind > pending && (!pending_m || *p == '{') && !(*p == '-' && (p + 1 == le || p[1] == ' ')) &&
		    fh_scalar(p, le, &vs, &ve, &cooked, &ended)) {
			/* the value of the key or item before, alone on its line:
			 * "{}" (metadata and annotations may be one), or a scalar (a
			 * plain one may go on over the lines after, deeper than the
			 * key or item) */
			int at = pending;
			pending = -1;
			if (vs == p && !ended) {
				if (!(line = fh_plain_more(nl ? nl + 1 : end, end, at)))
					return 0;
			} else {
				line = nl ? nl + 1 : end;
			}
			continue;
		}
		if (*p == '-' && (p + 1 == le || p[1] == ' ')) {
			/* a sequence item */
			const char *v = p + 1;
			if (depth > 0 && st[depth - 1].kind == FH_SEQ && st[depth - 1].indent == ind) {
				/* next item */
			} else if (pending >= 0 && (pending_is_item ? ind > pending : ind >= pending)) {
				if (depth >= 64 || pending_m)
					return 0;  /* (a list as metadata or annotations: the scan words it) */
				st[depth].indent = ind;
				st[depth].kind = FH_SEQ;
				st[depth].path = 0;
				depth++;
			} else {
				return 0;
			}
			pending = -1;
			while (v < le && *v == ' ')
				v++;
			if (v == le || *v == '#') {  /* nothing, or a comment: the value may follow */
				pending = ind;
				pending_is_item = true;
				pending_path = 0;
				pending_m = false;
			} else {
				/* "- key: value" opens a mapping at the key's column, or a scalar */
				const char *k = v;
				while (k < le && doc_fy_key_char(*k))
					k++;
				if (k > v && k < le && *k == ':' && (k + 1 == le || k[1] == ' ') && *v != '-' &&
				    !fh_null_key(v, k)) {
					int kind_ind = (int)(v - line);
					const char *val = k + 1;
					if (depth >= 64 || k - v > 1000)
						return 0;
					st[depth].indent = kind_ind;
					st[depth].kind = FH_MAP;
					st[depth].path = 0;
					depth++;
					while (val < le && *val == ' ')
						val++;
					if (val == le || *val == '#') {
						pending = kind_ind;
						pending_is_item = false;
						pending_path = 0;
						pending_m = false;
					} else if (*val == '|' || *val == '>') {
						if (!(line = fh_block(val, le, nl ? nl + 1 : end, end, kind_ind)))
							return 0;
						continue;
					} else if (!fh_scalar(val, le, &vs, &ve, &cooked, &ended)) {
						return 0;
					}
				} else if (*v == '|' || *v == '>') {
					if (!(line = fh_block(v, le, nl ? nl + 1 : end, end, ind)))
						return 0;
					continue;
				} else if (!fh_scalar(v, le, &vs, &ve, &cooked, &ended)) {
					return 0;
				}
			}
			line = nl ? nl + 1 : end;
			continue;
		}
		/* a mapping entry "key:" or "key: value": a plain key, or one
		 * quoted with only plain-key characters inside ("helm.sh/hook":
		 * in annotations), which libyaml reads as the same text; from
		 * here p is the key's text, ending at ke, and colon its ':' */
		q = *p == '"' || *p == '\'' ? *p++ : 0;
		ke = p;
		while (ke < le && doc_fy_key_char(*ke))
			ke++;
		if (q && (ke >= le || *ke != q))
			return 0;
		colon = q ? ke + 1 : ke;
		if (ke == p || colon >= le || *colon != ':' || (colon + 1 < le && colon[1] != ' ') || ke - p > 1000 ||
		    *p == '-' || fh_null_key(p, ke))
			return 0;
		if (depth > 0 && st[depth - 1].kind == FH_SEQ && st[depth - 1].indent == ind) {
			/* a sequence at the same indent as its key ends here */
			depth--;
		}
		if (depth > 0 && st[depth - 1].kind == FH_MAP && st[depth - 1].indent == ind && pending != ind) {
			/* next key of this mapping */
		} else if (pending >= 0 && ind > pending) {
			if (depth >= 64)
				return 0;
			st[depth].indent = ind;
			st[depth].kind = FH_MAP;
			st[depth].path = pending_path;
			depth++;
		} else if (depth == 0 && ind == 0 && pending < 0) {
			st[depth].indent = 0;
			st[depth].kind = FH_MAP;
			st[depth].path = 0;
			depth++;
		} else if (depth > 0 && st[depth - 1].kind == FH_MAP && st[depth - 1].indent == ind) {
			/* "key:" with no value followed by a sibling: the value is null */
		} else {
			return 0;
		}
		pending = -1;
		{
			const char *v = colon + 1;
			int lvl = depth - 1;
			size_t kl = (size_t)(ke - p);
			bool top = lvl == 0 && st[0].indent == 0 && st[0].kind == FH_MAP;
			/* a SimpleHead field (a string, or metadata and annotations)
			 * whose value may have the wrong shape: the libyaml scan checks */
			bool sfield = (top && ((kl == 10 && !strncasecmp(p, "apiVersion", 10)) ||
					       (kl == 4 && !strncasecmp(p, "kind", 4)))) ||
				      (st[lvl].path == 1 && kl == 4 && !strncasecmp(p, "name", 4)) || st[lvl].path == 2;
			bool mfield = (top && kl == 8 && !strncasecmp(p, "metadata", 8)) ||
				      (st[lvl].path == 1 && kl == 11 && !strncasecmp(p, "annotations", 11));
			bool empty;
			while (v < le && *v == ' ')
				v++;
			empty = v == le || *v == '#';  /* nothing, or a comment: the value may follow */
			if ((empty && sfield) || (!empty && mfield && *v != '{'))
				return 0;  /* ("{" takes the fast path when it is "{}") */
			if (empty) {
				pending = ind;
				pending_is_item = false;
				pending_path = 0;
				/* go's JSON decoding matches field names in any case:
				 * "annotatIons:" is the annotations field too */
				pending_m = mfield;
				if (top && kl == 8 && !memcmp(p, "metadata", 8))
					pending_path = 1;
				else if (st[lvl].path == 1 && kl == 11 && !memcmp(p, "annotations", 11))
					pending_path = 2;
			} else if (*v == '|' || *v == '>') {
				if (!(line = fh_block(v, le, nl ? nl + 1 : end, end, ind)))
					return 0;
				continue;
			} else if ((*v == '\'' || *v == '"') && !sfield && !(top && kl == 4 && !memcmp(p, "kind", 4)) &&
				   !fh_scalar(v, le, &vs, &ve, &cooked, &ended)) {
				/* a quoted value wrapped over lines (CRD descriptions) */
				if (!(line = fh_quoted_more(v, le, end, ind)))
					return 0;
				continue;
			} else if (!fh_scalar(v, le, &vs, &ve, &cooked, &ended)) {
				return 0;
			} else if (cooked && sfield) {
				return 0; /* a field the head reads, with escapes: libyaml unescapes it */
			} else if (vs == v && !ended && !sfield && !(top && kl == 4 && !memcmp(p, "kind", 4))) {
				/* a plain value (not one the head reads): it may go on
				 * over deeper-indented lines */
				if (!(line = fh_plain_more(nl ? nl + 1 : end, end, ind)))
					return 0;
				continue;
			} else if (!vs && (sfield || (top && kl == 4 && !memcmp(p, "kind", 4)) ||
					   (st[lvl].path == 2 && kl == 12 && !memcmp(p, "helm.sh/hook", 12)))) {
				return 0; /* a collection where a scalar belongs: libyaml words it */
			} else if (top && kl == 4 && !memcmp(p, "kind", 4)) {
				if (!h->kind)
					h->kind = dupn(vs, (size_t)(ve - vs));
			} else if (st[lvl].path == 2 && kl == 12 && !memcmp(p, "helm.sh/hook", 12)) {
				if (!h->hook)
					h->hook = dupn(vs, (size_t)(ve - vs));
			}
		}
		line = nl ? nl + 1 : end;
	}
	if (!any)
		return 0;
	return 1;
}
