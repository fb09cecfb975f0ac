/* doc/emit_yaml.c - YAML as Helm's toYaml writes it. Helm marshals through
 * JSON and go-yaml v2, whose emitter is a port of libyaml's: so we drive
 * libyaml's emitter with the scalar styles go-yaml v2 asks for, or, for
 * ASCII text in block collections, write its bytes directly (see "the
 * direct writer" below). */
#include "doc.h"
#include "resolve.h"
#include "core/alloc.h"
#include "core/numfmt.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	return kbuf_put(data, buffer, size) == 0;
}

static bool valid_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) { i++; continue; }
		if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
		else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
		else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
		else return false;
		if (i + n > len)
			return false;
		{
			size_t k;
			for (k = 1; k < n; k++) {
				if ((s[i + k] & 0xC0) != 0x80)
					return false;
				cp = (cp << 6) | (s[i + k] & 0x3F);
			}
		}
		if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
			return false;
		i += n;
	}
	return true;
}

static void b64(kbuf *out, const unsigned char *s, size_t len)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		kbuf_putc(out, t[s[i] >> 2]);
		kbuf_putc(out, t[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kbuf_putc(out, t[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)]);
		kbuf_putc(out, t[s[i + 2] & 63]);
	}
	if (i < len) {
		kbuf_putc(out, t[s[i] >> 2]);
		if (i + 1 < len) {
			kbuf_putc(out, t[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
			kbuf_putc(out, t[(s[i + 1] & 15) << 2]);
		} else {
			kbuf_putc(out, t[(s[i] & 3) << 4]);
			kbuf_putc(out, '=');
		}
		kbuf_putc(out, '=');
	}
}

/* A scalar libyaml writes as a stand-in that is then replaced: see
 * bom_scalar() */
typedef struct swap {
	char *marker, *text;
} swap;

typedef struct emitter {
	yaml_emitter_t e;
	unsigned flags;
	kerr *err;
	swap *swaps;
	size_t nswaps, capswaps;
	unsigned salt;      /* varies the stand-ins when the data holds one */
	bool no_swap;       /* last resort: libyaml's own text for BOM scalars */
} emitter;

static int emit_event(emitter *em, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(&em->e, ev))
		return kerr_set(em->err, KE_INPUT, "yaml: cannot emit: %s",
				em->e.problem ? em->e.problem : "unknown emitter error");
	return 0;
}

static int scalar(emitter *em, const char *tag, const char *v, size_t len, yaml_scalar_style_t style)
{
	yaml_event_t ev;
	if (!yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)tag, (yaml_char_t *)v, (int)len,
					  tag == NULL, tag == NULL, style))
		return kerr_set(em->err, KE_INTERNAL, "yaml: cannot make a scalar event");
	return emit_event(em, &ev);
}

/* go-yaml's is_bom() looks at the first three bytes of the scalar, not at
 * the current position (both v2 and v3): a double-quoted scalar that starts
 * with a BOM has every character escaped ("\uFEFF\x61\x20\n"). libyaml
 * is right, so it writes a same-length stand-in (the simple-key length
 * test) that doc_emit_yaml() swaps for go-yaml's text. */
static int bom_scalar(emitter *em, const char *s, size_t len)
{
	kbuf t = KBUF_INIT, m = KBUF_INIT;
	size_t i = 0;
	int r;
	kbuf_putc(&t, '"');
	while (i < len) {
		unsigned c = (unsigned char)s[i], v;
		size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4, k;
		v = w == 1 ? c : w == 2 ? (c & 0x1F) : w == 3 ? (c & 0x0F) : (c & 0x07);
		for (k = 1; k < w && i + k < len; k++)
			v = (v << 6) | ((unsigned char)s[i + k] & 0x3F);
		i += w;
		kbuf_putc(&t, '\\');
		switch (v) {
		case 0x00: kbuf_putc(&t, '0'); break;
		case 0x07: kbuf_putc(&t, 'a'); break;
		case 0x08: kbuf_putc(&t, 'b'); break;
		case 0x09: kbuf_putc(&t, 't'); break;
		case 0x0A: kbuf_putc(&t, 'n'); break;
		case 0x0B: kbuf_putc(&t, 'v'); break;
		case 0x0C: kbuf_putc(&t, 'f'); break;
		case 0x0D: kbuf_putc(&t, 'r'); break;
		case 0x1B: kbuf_putc(&t, 'e'); break;
		case 0x22: kbuf_putc(&t, '"'); break;
		case 0x5C: kbuf_putc(&t, '\\'); break;
		case 0x85: kbuf_putc(&t, 'N'); break;
		case 0xA0: kbuf_putc(&t, '_'); break;
		case 0x2028: kbuf_putc(&t, 'L'); break;
		case 0x2029: kbuf_putc(&t, 'P'); break;
		default:
			kbuf_printf(&t, v <= 0xFF ? "x%02X" : v <= 0xFFFF ? "u%04X" : "U%08X", v);
		}
	}
	kbuf_putc(&t, '"');
	kbuf_printf(&m, "kstage.bom.%u.%zu.", em->salt, em->nswaps);
	while (m.len < len)
		kbuf_putc(&m, '_');
	ALLOC_GROW(em->swaps, em->nswaps + 1, em->capswaps);
	em->swaps[em->nswaps].marker = kbuf_detach(&m, NULL);
	em->swaps[em->nswaps].text = kbuf_detach(&t, NULL);
	r = scalar(em, NULL, em->swaps[em->nswaps].marker, strlen(em->swaps[em->nswaps].marker),
		   YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	em->nswaps++;
	return r;
}

/* Each stand-in must occur exactly once in the text: the data itself may
 * hold one (a key or value with "kstage.bom.0." in it), and then a swap
 * would replace the data instead. */
static bool swaps_unique(const emitter *em, const kbuf *out, size_t start)
{
	size_t i;
	for (i = 0; i < em->nswaps; i++) {
		const char *m = em->swaps[i].marker, *p = out->ptr + start, *end = out->ptr + out->len, *f;
		size_t ml = strlen(m), seen = 0;
		while ((size_t)(end - p) >= ml && (f = memchr(p, m[0], (size_t)(end - p) - ml + 1))) {
			if (!memcmp(f, m, ml) && ++seen > 1)
				return false;
			p = f + 1;
		}
		if (seen != 1)
			return false;
	}
	return true;
}

/* Put go-yaml's text in place of each stand-in, in order, in out from
 * start on. */
static void apply_swaps(emitter *em, kbuf *out, size_t start)
{
	kbuf b = KBUF_INIT;
	size_t i, pos = start;
	kbuf_put(&b, out->ptr, start);
	for (i = 0; i < em->nswaps; i++) {
		size_t ml = strlen(em->swaps[i].marker);
		const char *p = out->ptr + pos, *end = out->ptr + out->len, *f = NULL;
		for (; p + ml + 2 <= end; p++)
			if (*p == '"' && !memcmp(p + 1, em->swaps[i].marker, ml) && p[ml + 1] == '"') {
				f = p;
				break;
			}
		if (!f)
			continue;
		kbuf_put(&b, out->ptr + pos, (size_t)(f - (out->ptr + pos)));
		kbuf_puts(&b, em->swaps[i].text);
		pos = (size_t)(f - out->ptr) + ml + 2;
	}
	kbuf_put(&b, out->ptr + pos, out->len - pos);
	kbuf_truncate(out, 0);
	kbuf_put(out, b.ptr, b.len);
	kbuf_release(&b);
}

/* The style go-yaml v2 asks for a string (valid UTF-8, no BOM): literal
 * when it has a line break, plain when it reads back as the same string,
 * else double-quoted. libyaml may still choose another one. */
static yaml_scalar_style_t wanted_style(const char *s, size_t len)
{
	doc_scalar sc;
	if (memchr(s, '\n', len))
		return YAML_LITERAL_SCALAR_STYLE;
	doc_resolve_plain(s, len, &sc);
	if (sc.type == DOC_STR && !sc.is_timestamp && !doc_is_base60_float(s, len))
		return YAML_PLAIN_SCALAR_STYLE;
	return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static int string_scalar(emitter *em, const char *s, size_t len)
{
	if (len > (size_t)1 << 30)
		return kerr_set(em->err, KE_LIMIT, "yaml: string too long to emit");
	if (!valid_utf8(s, len)) {
		kbuf b = KBUF_INIT;
		int r;
		b64(&b, (const unsigned char *)s, len);
		r = scalar(em, "tag:yaml.org,2002:binary", b.ptr, b.len, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		kbuf_release(&b);
		return r;
	}
	if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3) && !em->no_swap)
		return bom_scalar(em, s, len);
	return scalar(em, NULL, s, len, wanted_style(s, len));
}

/* One rune of a Go string: invalid UTF-8 is U+FFFD, one byte long. */
static unsigned next_rune(const unsigned char *s, size_t len, size_t *i)
{
	unsigned c = s[*i], cp;
	size_t n, k;
	if (c < 0x80) { (*i)++; return c; }
	if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
	else { (*i)++; return 0xFFFD; }
	if (*i + n > len) { (*i)++; return 0xFFFD; }
	for (k = 1; k < n; k++) {
		if ((s[*i + k] & 0xC0) != 0x80) { (*i)++; return 0xFFFD; }
		cp = (cp << 6) | (s[*i + k] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
		(*i)++;
		return 0xFFFD;
	}
	*i += n;
	return cp;
}

/* unicode.IsLetter for ASCII and Latin-1; above, the common alphabetic
 * blocks (Latin, Greek, Cyrillic, kana, CJK, Hangul) count as letters. */
static bool go_is_letter(unsigned r)
{
	if (r < 0x80)
		return (r | 0x20) >= 'a' && (r | 0x20) <= 'z';
	if (r < 0x100)
		return r == 0xAA || r == 0xB5 || r == 0xBA || (r >= 0xC0 && r != 0xD7 && r != 0xF7);
	return (r < 0x2B0) || (r >= 0x370 && r < 0x530 && r != 0x37E && r != 0x387) ||
	       (r >= 0x3041 && r < 0x3100 && r != 0x30FB) || (r >= 0x4E00 && r < 0xA000) ||
	       (r >= 0xAC00 && r < 0xD7A4);
}

static bool go_is_digit(unsigned r) { return r >= '0' && r <= '9'; }

/* keyList.Less(a, b) for two strings, rune by rune. v3 (not v2) puts a
 * letter first when a digit came just before the difference. */
static bool key_less_go(const unsigned char *a, size_t al, const unsigned char *b, size_t bl, bool v3)
{
	size_t i = 0, j = 0;
	bool digits = false;
	while (i < al && j < bl) {
		size_t si = i, sj = j, ai, bi, p;
		unsigned ra = next_rune(a, al, &i), rb = next_rune(b, bl, &j);
		bool la, lb;
		uint64_t an = 0, bn = 0;   /* Go's int64 arithmetic wraps: so does this */
		if (ra == rb) {
			digits = go_is_digit(ra);
			continue;
		}
		la = go_is_letter(ra);
		lb = go_is_letter(rb);
		if (la && lb)
			return ra < rb;
		if (la || lb)
			return v3 && digits ? la : lb;
		if (ra == '0' || rb == '0') {
			/* a digit run already under way that is not all zeros */
			for (p = si; p > 0 && go_is_digit(a[p - 1]); p--) {
				if (a[p - 1] != '0') {
					an = bn = 1;
					break;
				}
			}
		}
		/* digits are ASCII here, one byte a rune */
		for (ai = si; ai < al && go_is_digit(a[ai]); ai++)
			an = an * 10 + (uint64_t)(a[ai] - '0');
		for (bi = sj; bi < bl && go_is_digit(b[bi]); bi++)
			bn = bn * 10 + (uint64_t)(b[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai - si != bi - sj)
			return ai - si < bi - sj;
		return ra < rb;
	}
	/* len(ar) < len(br) in runes: the shorter one ran out first */
	return i >= al && j < bl;
}

int doc_key_cmp_go(const char *a, size_t alen, const char *b, size_t blen, bool v3)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	if (key_less_go(x, alen, y, blen, v3))
		return -1;
	return key_less_go(y, blen, x, alen, v3) ? 1 : 0;
}

bool doc_key_cmp_go_quick(const char *a, size_t alen, const char *b, size_t blen, int *out)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0, m = alen < blen ? alen : blen;
	bool la, lb;
	while (i < m && x[i] == y[i])
		i++;
	if (i == m && (i == 0 || x[i - 1] < 0x80)) {
		*out = alen == blen ? 0 : alen < blen ? -1 : 1;
		return true;
	}
	if (i == m || x[i] >= 0x80 || y[i] >= 0x80 || go_is_digit(x[i]) || go_is_digit(y[i]) ||
	    (i > 0 && go_is_digit(x[i - 1])))
		return false;
	la = go_is_letter(x[i]);
	lb = go_is_letter(y[i]);
	if (la == lb)
		*out = x[i] < y[i] ? -1 : 1;
	else
		*out = la ? 1 : -1;
	return true;
}

static int cmp_pair_go(const void *p, const void *q)
{
	const doc_pair *a = *(const doc_pair *const *)p, *b = *(const doc_pair *const *)q;
	int r;
	if (doc_key_cmp_go_quick(a->key->u.s.ptr, a->key->u.s.len, b->key->u.s.ptr, b->key->u.s.len, &r))
		return r;
	return doc_key_cmp_go(a->key->u.s.ptr, a->key->u.s.len, b->key->u.s.ptr, b->key->u.s.len, false);
}

/* The text of an int or a float as go-yaml v2 writes it after JSON. */
static void number_text(kbuf *b, const doc_node *n)
{
	double f = n->u.f;
	size_t st = b->len;
	if (n->type == DOC_INT) {
		numfmt_int(b, n->u.i);
		return;
	}
	/* A float that JSON writes as an integer (shortest digits, then
	 * zeros) reads back as one when go-yaml can hold that text in an
	 * int64 or a uint64 (-0 is 0), else as the float it is. */
	if (isnan(f))
		kbuf_puts(b, ".nan");
	else if (isinf(f))
		kbuf_puts(b, f > 0 ? ".inf" : "-.inf");
	else if (f == 0)
		kbuf_putc(b, '0');
	else if (f == floor(f) && fabs(f) < 1e21) {
		char *end;
		numfmt_float(b, f, 'f', -1);
		errno = 0;
		if (f < 0)
			(void)strtoll(b->ptr + st, &end, 10);
		else
			(void)strtoull(b->ptr + st, &end, 10);
		if (errno == ERANGE) {
			kbuf_truncate(b, st);
			numfmt_float(b, f, 'g', -1);
		}
	} else
		numfmt_float(b, f, 'g', -1);
}

static const doc_pair **pairs_in_order(const doc_node *m, unsigned flags)
{
	const doc_pair **order = doc_emit_order(m, flags & ~(unsigned)DOC_EMIT_SORT_KEYS);
	if (flags & DOC_EMIT_SORT_KEYS)
		qsort(order, m->u.map.len, sizeof(*order), cmp_pair_go);
	return order;
}

static int node(emitter *em, const doc_node *n, int depth)
{
	yaml_event_t ev;
	kbuf b = KBUF_INIT;
	size_t i;
	int r = 0;
	if (depth > 10000)
		return kerr_set(em->err, KE_LIMIT, "yaml: nesting too deep to emit");
	switch (n->type) {
	case DOC_NULL:
		return scalar(em, NULL, "null", 4, YAML_PLAIN_SCALAR_STYLE);
	case DOC_BOOL:
		return scalar(em, NULL, n->u.b ? "true" : "false", n->u.b ? 4 : 5, YAML_PLAIN_SCALAR_STYLE);
	case DOC_INT:
	case DOC_FLOAT:
		number_text(&b, n);
		break;
	case DOC_STR:
		return string_scalar(em, n->u.s.ptr, n->u.s.len);
	case DOC_SEQ:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    (r = emit_event(em, &ev)))
			return r ? r : kerr_set(em->err, KE_INTERNAL, "yaml: event");
		for (i = 0; i < n->u.seq.len; i++)
			if ((r = node(em, n->u.seq.v[i], depth + 1)))
				return r;
		yaml_sequence_end_event_initialize(&ev);
		return emit_event(em, &ev);
	case DOC_MAP: {
		const doc_pair **order;
		if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
		    (r = emit_event(em, &ev)))
			return r ? r : kerr_set(em->err, KE_INTERNAL, "yaml: event");
		order = pairs_in_order(n, em->flags);
		for (i = 0; i < n->u.map.len && !r; i++) {
			r = string_scalar(em, order[i]->key->u.s.ptr, order[i]->key->u.s.len);
			if (!r)
				r = node(em, order[i]->val, depth + 1);
		}
		free(order);
		if (r)
			return r;
		yaml_mapping_end_event_initialize(&ev);
		return emit_event(em, &ev);
	}
	}
	r = scalar(em, NULL, b.ptr, b.len, YAML_PLAIN_SCALAR_STYLE);
	kbuf_release(&b);
	return r;
}

/* ---- the direct writer ---------------------------------------------------
 * For the common case, ASCII text in block collections, the bytes libyaml
 * 0.2.5's emitter writes, without going through it: its analysis of a
 * scalar (yaml_emitter_analyze_scalar), its choice of style
 * (yaml_emitter_select_scalar_style) and its writers, column for column,
 * folding at the width included. Anything else (a byte above 0x7F, a key
 * that is not a simple key, a scalar at the root) gives up, and libyaml
 * writes it all. The unit test compares the two on generated values. */

typedef struct fast {
	kbuf *out;
	unsigned flags;
	int width;      /* libyaml's best_width */
	int col;        /* column of the next byte */
} fast;

typedef struct fast_scalar {
	bool multiline, plain_ok, single_ok, block_ok;
} fast_scalar;

enum { FAST_GIVE_UP = 1 };

/* libyaml's IS_BLANKZ for ASCII; the end of the text reads as NUL */
static bool fast_blankz(const char *s, size_t len, size_t i)
{
	char c = i < len ? s[i] : '\0';
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

/* yaml_emitter_analyze_scalar in block context; false for non-ASCII text */
static bool fast_analyze(const char *s, size_t len, fast_scalar *a)
{
	bool ind = false, special = false, breaks = false, lead = false, trail = false;
	bool break_space = false, space_break = false, prev_space = false, prev_break = false, preceded = true;
	size_t i;
	if (!len) {
		a->multiline = false;
		a->plain_ok = a->single_ok = true;
		a->block_ok = false;
		return true;
	}
	if (len >= 3 && (!memcmp(s, "---", 3) || !memcmp(s, "...", 3)))
		ind = true;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool followed;
		if (i && ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
			/* a letter past the start changes nothing but these */
			prev_space = prev_break = preceded = false;
			continue;
		}
		followed = fast_blankz(s, len, i + 1);
		if (c >= 0x80)
			return false;
		if (i == 0) {
			if (c && strchr("#,[]{}&*!|>'\"%@`", c))
				ind = true;
			if ((c == '?' || c == ':' || c == '-') && followed)
				ind = true;
		} else if ((c == ':' && followed) || (c == '#' && preceded)) {
			ind = true;
		}
		if (c != '\n' && (c < 0x20 || c > 0x7E))
			special = true;
		if (c == ' ') {
			lead |= i == 0;
			trail |= i == len - 1;
			break_space |= prev_break;
			prev_space = true;
			prev_break = false;
		} else if (c == '\n' || c == '\r') {
			breaks = true;
			lead |= i == 0;
			trail |= i == len - 1;
			space_break |= prev_space;
			prev_space = false;
			prev_break = true;
		} else {
			prev_space = prev_break = false;
		}
		preceded = fast_blankz(s, len, i);
	}
	a->multiline = breaks;
	a->plain_ok = !(lead || trail || break_space || space_break || special || breaks || ind);
	a->single_ok = !(break_space || space_break || special);
	a->block_ok = !(s[len - 1] == ' ' || space_break || special);
	return true;
}

/* yaml_emitter_write_indent where a line is folded: a new line at indent */
static void fast_fold(fast *f, int indent)
{
	kbuf_putc(f->out, '\n');
	kbuf_putn(f->out, ' ', (size_t)indent);
	f->col = indent;
}

static void fast_put(fast *f, char c)
{
	kbuf_putc(f->out, c);
	f->col++;
}

static void fast_plain(fast *f, const char *s, size_t len, int indent, bool lead, bool fold)
{
	bool spaces = false;
	size_t i, run;
	if (lead && len)
		fast_put(f, ' ');
	for (i = 0; i < len; i += run) {
		if (s[i] == ' ') {
			run = 1;
			if (fold && !spaces && f->col > f->width && !(i + 1 < len && s[i + 1] == ' '))
				fast_fold(f, indent);
			else
				fast_put(f, ' ');
			spaces = true;
			continue;
		}
		for (run = 1; i + run < len && s[i + run] != ' '; run++)
			;
		kbuf_put(f->out, s + i, run);
		f->col += (int)run;
		spaces = false;
	}
}

static void fast_single(fast *f, const char *s, size_t len, int indent, bool lead, bool fold)
{
	bool spaces = false;
	size_t i;
	if (lead)
		fast_put(f, ' ');
	fast_put(f, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (fold && !spaces && f->col > f->width && i != 0 && i != len - 1 && s[i + 1] != ' ')
				fast_fold(f, indent);
			else
				fast_put(f, ' ');
			spaces = true;
			continue;
		}
		if (s[i] == '\'')
			fast_put(f, '\'');
		fast_put(f, s[i]);
		spaces = false;
	}
	fast_put(f, '\'');
}

static void fast_double(fast *f, const char *s, size_t len, int indent, bool lead, bool fold)
{
	bool spaces = false;
	size_t i;
	if (lead)
		fast_put(f, ' ');
	fast_put(f, '"');
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F || c == '"' || c == '\\') {
			fast_put(f, '\\');
			switch (c) {
			case 0x00: fast_put(f, '0'); break;
			case 0x07: fast_put(f, 'a'); break;
			case 0x08: fast_put(f, 'b'); break;
			case 0x09: fast_put(f, 't'); break;
			case 0x0A: fast_put(f, 'n'); break;
			case 0x0B: fast_put(f, 'v'); break;
			case 0x0C: fast_put(f, 'f'); break;
			case 0x0D: fast_put(f, 'r'); break;
			case 0x1B: fast_put(f, 'e'); break;
			case '"': case '\\': fast_put(f, (char)c); break;
			default:
				kbuf_printf(f->out, "x%02X", c);
				f->col += 3;
			}
			spaces = false;
		} else if (c == ' ') {
			if (fold && !spaces && f->col > f->width && i != 0 && i != len - 1) {
				fast_fold(f, indent);
				if (s[i + 1] == ' ')
					fast_put(f, '\\');
			} else {
				fast_put(f, ' ');
			}
			spaces = true;
		} else {
			fast_put(f, (char)c);
			spaces = false;
		}
	}
	fast_put(f, '"');
}

static void fast_literal(fast *f, const char *s, size_t len, int indent)
{
	bool breaks = true;
	size_t i, run;
	kbuf_puts(f->out, " |");
	if (s[0] == ' ' || s[0] == '\n')
		kbuf_putc(f->out, '2');
	if (s[len - 1] != '\n')
		kbuf_putc(f->out, '-');
	else if (len == 1 || s[len - 2] == '\n')
		kbuf_putc(f->out, '+');
	kbuf_putc(f->out, '\n');
	for (i = 0; i < len; i += run) {
		if (s[i] == '\n') {
			kbuf_putc(f->out, '\n');
			breaks = true;
			run = 1;
			continue;
		}
		if (breaks)
			kbuf_putn(f->out, ' ', (size_t)indent);
		for (run = 1; i + run < len && s[i + run] != '\n'; run++)
			;
		kbuf_put(f->out, s + i, run);
		breaks = false;
	}
	f->col = breaks ? 0 : 1;
}

/* One string as a key (simple key context: no folding, never literal) or
 * as a value after "key:" or "-" in a container at indent. */
static int fast_string(fast *f, const char *s, size_t len, int indent, bool key)
{
	fast_scalar a;
	yaml_scalar_style_t style;
	if (!fast_analyze(s, len, &a) || (key && (a.multiline || len > 128)))
		return FAST_GIVE_UP;
	style = wanted_style(s, len);
	if (style == YAML_PLAIN_SCALAR_STYLE && (!a.plain_ok || (key && !len)))
		style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && !a.single_ok)
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (style == YAML_LITERAL_SCALAR_STYLE && (!a.block_ok || key))
		style = YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	switch (style) {
	case YAML_PLAIN_SCALAR_STYLE:
		fast_plain(f, s, len, indent + 2, !key, !key);
		break;
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
		fast_single(f, s, len, indent + 2, !key, !key);
		break;
	case YAML_LITERAL_SCALAR_STYLE:
		fast_literal(f, s, len, indent + 2);
		break;
	default:
		fast_double(f, s, len, indent + 2, !key, !key);
	}
	return 0;
}

static int fast_map(fast *f, const doc_node *m, int indent, bool inline_first, int depth);
static int fast_seq(fast *f, const doc_node *q, int indent, bool inline_first, int depth);

/* The value after "key:" (in_seq false) or "-" in a container at indent,
 * to the end of its last line. */
static int fast_value(fast *f, const doc_node *n, int indent, bool in_seq, int depth)
{
	kbuf *out = f->out;
	int r = 0;
	switch (n->type) {
	case DOC_NULL:
		kbuf_puts(out, " null");
		break;
	case DOC_BOOL:
		kbuf_puts(out, n->u.b ? " true" : " false");
		break;
	case DOC_INT:
	case DOC_FLOAT:
		kbuf_putc(out, ' ');
		number_text(out, n);
		break;
	case DOC_STR:
		r = fast_string(f, n->u.s.ptr, n->u.s.len, indent, false);
		break;
	case DOC_MAP:
		if (!n->u.map.len) {
			kbuf_puts(out, " {}");
			break;
		}
		kbuf_putc(out, in_seq ? ' ' : '\n');
		return fast_map(f, n, indent + 2, in_seq, depth + 1);
	case DOC_SEQ:
		if (!n->u.seq.len) {
			kbuf_puts(out, " []");
			break;
		}
		kbuf_putc(out, in_seq ? ' ' : '\n');
		return fast_seq(f, n, in_seq ? indent + 2 : indent, in_seq, depth + 1);
	}
	if (!r && !(n->type == DOC_STR && f->col == 0))
		kbuf_putc(out, '\n');
	return r;
}

static int fast_map(fast *f, const doc_node *m, int indent, bool inline_first, int depth)
{
	const doc_pair **order;
	size_t i;
	int r = 0;
	if (depth > 10000)
		return FAST_GIVE_UP;
	order = pairs_in_order(m, f->flags);
	for (i = 0; i < m->u.map.len && !r; i++) {
		const doc_node *k = order[i]->key;
		if (i || !inline_first)
			kbuf_putn(f->out, ' ', (size_t)indent);
		f->col = indent;
		r = fast_string(f, k->u.s.ptr, k->u.s.len, indent, true);
		if (!r) {
			fast_put(f, ':');
			r = fast_value(f, order[i]->val, indent, false, depth);
		}
	}
	free(order);
	return r;
}

static int fast_seq(fast *f, const doc_node *q, int indent, bool inline_first, int depth)
{
	size_t i;
	int r = 0;
	if (depth > 10000)
		return FAST_GIVE_UP;
	for (i = 0; i < q->u.seq.len && !r; i++) {
		if (i || !inline_first)
			kbuf_putn(f->out, ' ', (size_t)indent);
		kbuf_putc(f->out, '-');
		f->col = indent + 1;
		r = fast_value(f, q->u.seq.v[i], indent, true, depth);
	}
	return r;
}

int doc_emit_yaml_direct(kbuf *out, const doc_node *n, unsigned flags)
{
	fast f;
	size_t start = out->len;
	int r;
	f.out = out;
	f.flags = flags;
	f.width = (flags & DOC_EMIT_NO_WRAP) ? INT_MAX : 80;
	f.col = 0;
	r = 0;
	if (n->type == DOC_MAP && !n->u.map.len)
		kbuf_puts(out, "{}\n");
	else if (n->type == DOC_SEQ && !n->u.seq.len)
		kbuf_puts(out, "[]\n");
	else if (n->type == DOC_MAP)
		r = fast_map(&f, n, 0, false, 0);
	else if (n->type == DOC_SEQ)
		r = fast_seq(&f, n, 0, false, 0);
	else
		r = FAST_GIVE_UP;
	if (r)
		kbuf_truncate(out, start);
	return r;
}

static int emit_once(emitter *em, kbuf *out, const doc_node *n, unsigned flags)
{
	yaml_event_t ev;
	int r;
	if (!yaml_emitter_initialize(&em->e))
		return kerr_set(em->err, KE_INTERNAL, "yaml: cannot initialise the emitter");
	yaml_emitter_set_output(&em->e, write_handler, out);
	yaml_emitter_set_unicode(&em->e, 1);
	yaml_emitter_set_indent(&em->e, 2);
	yaml_emitter_set_width(&em->e, (flags & DOC_EMIT_NO_WRAP) ? -1 : 80);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	r = emit_event(em, &ev);
	if (!r) {
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		r = emit_event(em, &ev);
	}
	if (!r)
		r = node(em, n, 0);
	if (!r) {
		/* libyaml ends the stream with "..." after a keep-chomped ("|+")
		 * scalar; go-yaml v2 never closes an implicit document so */
		em->e.open_ended = 0;
		yaml_document_end_event_initialize(&ev, 1);
		r = emit_event(em, &ev);
	}
	if (!r) {
		yaml_stream_end_event_initialize(&ev);
		r = emit_event(em, &ev);
	}
	if (!r && !yaml_emitter_flush(&em->e))
		r = kerr_set(em->err, KE_IO, "yaml: cannot flush the emitter");
	yaml_emitter_delete(&em->e);
	return r;
}

static void free_swaps(emitter *em)
{
	size_t i;
	for (i = 0; i < em->nswaps; i++) {
		free(em->swaps[i].marker);
		free(em->swaps[i].text);
	}
	free(em->swaps);
	em->swaps = NULL;
	em->nswaps = em->capswaps = 0;
}

static int emit_libyaml(kbuf *out, const doc_node *n, unsigned flags, kerr *err)
{
	emitter em;
	size_t start = out->len;
	int r;
	memset(&em, 0, sizeof(em));
	em.flags = flags;
	em.err = err;
	for (;;) {
		r = emit_once(&em, out, n, flags);
		if (r || !em.nswaps || swaps_unique(&em, out, start))
			break;
		/* the data holds a stand-in: other ones, or libyaml's text */
		kbuf_truncate(out, start);
		free_swaps(&em);
		if (++em.salt == 8)
			em.no_swap = true;
	}
	if (!r && em.nswaps)
		apply_swaps(&em, out, start);
	free_swaps(&em);
	if (r)
		kbuf_truncate(out, start);
	return r;
}

int doc_emit_yaml(kbuf *out, const doc_node *n, unsigned flags, kerr *err)
{
	size_t start = out->len;
	int r;
	if (((flags & DOC_EMIT_LIBYAML) || doc_emit_yaml_direct(out, n, flags)) &&
	    (r = emit_libyaml(out, n, flags, err)))
		return r;
	if ((flags & DOC_EMIT_NO_DOC_END) && out->len > start && out->ptr[out->len - 1] == '\n')
		kbuf_truncate(out, out->len - 1);
	return 0;
}
