#include "redact.h"
#include "alloc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A form: one byte string to mask. */
typedef struct rform {
	char *s;
	size_t len;
	int frag;        /* its fragments are indexed too */
	int input;       /* added by kredact_add: 1 whole, 2 with fragments */
} rform;

/* An entry: the KREDACT_MIN_LEN bytes of form at off. Entries whose first
 * bytes are the same are chained from one table slot. A text that matches
 * the form from off on for at least need bytes is masked as far as it
 * matches: need is the form's length for a whole form, less for fragments. */
typedef struct rent {
	size_t form, off, need;
	size_t next;     /* index + 1 of the next entry in the chain; 0 ends it */
} rent;

typedef struct rslot {
	uint64_t key;    /* the first KREDACT_MIN_LEN bytes, big-endian */
	size_t head;     /* index + 1 of the chain's first entry; 0: empty */
} rslot;

struct kredact {
	pthread_mutex_t mu;
	rform *v;
	size_t n, cap;
	rent *e;
	size_t ne, ecap;
	rslot *tab;
	size_t tabcap;   /* a power of two, or 0 */
	size_t bytes;    /* held: forms, entries and their share of the table */
	size_t max_bytes, max_frag, nfrag;
	int over;        /* a secret did not fit: every text is masked whole */
};

#define ENTRY_BYTES (sizeof(rent) + 2 * sizeof(rslot))

#define KEY_MASK ((UINT64_C(1) << (8 * KREDACT_MIN_LEN)) - 1)

kredact *kredact_new(void)
{
	kredact *r = xcalloc(1, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->max_bytes = KREDACT_MAX_BYTES;
	r->max_frag = KREDACT_MAX_FRAGMENT_ENTRIES;
	return r;
}

void kredact_set_cap(kredact *r, size_t max_bytes, size_t max_fragment_entries)
{
	pthread_mutex_lock(&r->mu);
	r->max_bytes = max_bytes;
	r->max_frag = max_fragment_entries;
	pthread_mutex_unlock(&r->mu);
}

void kredact_free(kredact *r)
{
	size_t i;
	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		memset(r->v[i].s, 0, r->v[i].len);
		free(r->v[i].s);
	}
	free(r->v);
	free(r->e);
	free(r->tab);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static uint64_t key_of(const char *s)
{
	uint64_t k = 0;
	size_t i;
	for (i = 0; i < KREDACT_MIN_LEN; i++)
		k = (k << 8) | (unsigned char)s[i];
	return k;
}

static size_t slot_of(const rslot *tab, size_t cap, uint64_t key)
{
	size_t i = (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 17) & (cap - 1);
	while (tab[i].head && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return i;
}

static void add_entry(kredact *r, size_t form, size_t off, size_t need)
{
	uint64_t key = key_of(r->v[form].s + off);
	size_t sl, i;
	/* slots in use never pass half the table (one per entry at most) */
	if (st_mult(r->ne + 1, 2) > r->tabcap) {
		size_t cap = r->tabcap ? st_mult(r->tabcap, 2) : 64;
		rslot *t = xcalloc(cap, sizeof(*t));
		for (i = 0; i < r->tabcap; i++)
			if (r->tab[i].head)
				t[slot_of(t, cap, r->tab[i].key)] = r->tab[i];
		free(r->tab);
		r->tab = t;
		r->tabcap = cap;
	}
	sl = slot_of(r->tab, r->tabcap, key);
	ALLOC_GROW(r->e, r->ne + 1, r->ecap);
	r->bytes += ENTRY_BYTES;
	r->e[r->ne].form = form;
	r->e[r->ne].off = off;
	r->e[r->ne].need = need;
	r->e[r->ne].next = r->tab[sl].head;
	r->tab[sl].key = key;
	r->tab[sl].head = ++r->ne;
}

/* The form s[0..len) as index + 1, or 0. */
static size_t find_form(const kredact *r, const char *s, size_t len)
{
	size_t f;
	if (!r->tabcap || len < KREDACT_MIN_LEN)
		return 0;
	for (f = r->tab[slot_of(r->tab, r->tabcap, key_of(s))].head; f; f = r->e[f - 1].next) {
		const rent *x = &r->e[f - 1];
		if (!x->off && r->v[x->form].len == len && !memcmp(r->v[x->form].s, s, len))
			return x->form + 1;
	}
	return 0;
}

/* Add one form as it is, with its fragments when frag (the caller holds
 * the lock). */
static void add_form(kredact *r, const char *s, size_t len, int frag)
{
	size_t f, off, need = len / 2 + len % 2, nf;
	if (len < KREDACT_MIN_LEN || r->over)
		return;
	f = find_form(r, s, len);
	if (f && (r->v[f - 1].frag || !frag))
		return;
	if (need < KREDACT_MIN_LEN)
		need = KREDACT_MIN_LEN;
	/* fragments are a best effort within their own budget; a whole form
	 * that does not fit makes every text masked whole */
	nf = len - need + 1;
	if (frag && (r->nfrag + nf > r->max_frag || r->bytes + nf * ENTRY_BYTES > r->max_bytes))
		frag = 0;
	if (f && !frag)
		return;
	if (!f && r->bytes + len + sizeof(rform) + ENTRY_BYTES > r->max_bytes) {
		r->over = 1;
		return;
	}
	if (!f) {
		ALLOC_GROW(r->v, r->n + 1, r->cap);
		r->v[r->n].s = xmemdup(s, len);
		r->v[r->n].len = len;
		r->bytes += len + sizeof(rform);
		r->v[r->n].frag = 0;
		r->v[r->n].input = 0;
		f = ++r->n;
		if (!frag) {
			add_entry(r, f - 1, 0, len);
			return;
		}
	}
	/* a known whole form gets its fragments: a second entry at 0 */
	r->v[f - 1].frag = 1;
	r->nfrag += nf;
	for (off = 0; off + need <= len; off++)
		add_entry(r, f - 1, off, need);
}

/* JSON and Go's strconv.Quote inside the quotes; html: Go's json encoder
 * also writes <, > and & as \u003c, \u003e, \u0026. */
static void json_escaped(kbuf *b, const char *s, size_t len, int html)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': kbuf_puts(b, "\\\""); break;
		case '\\': kbuf_puts(b, "\\\\"); break;
		case '\n': kbuf_puts(b, "\\n"); break;
		case '\r': kbuf_puts(b, "\\r"); break;
		case '\t': kbuf_puts(b, "\\t"); break;
		default:
			if (c < 0x20 || (html && (c == '<' || c == '>' || c == '&'))) {
				kbuf_puts(b, "\\u00");
				kbuf_putc(b, hex[c >> 4]);
				kbuf_putc(b, hex[c & 15]);
			} else {
				kbuf_putc(b, (char)c);
			}
		}
	}
}

static void base64_of(kbuf *b, const unsigned char *s, size_t len)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		kbuf_putc(b, tab[s[i] >> 2]);
		kbuf_putc(b, tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kbuf_putc(b, tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)]);
		kbuf_putc(b, tab[s[i + 2] & 63]);
	}
	if (len - i == 1) {
		kbuf_putc(b, tab[s[i] >> 2]);
		kbuf_putc(b, tab[(s[i] & 3) << 4]);
		kbuf_puts(b, "==");
	} else if (len - i == 2) {
		kbuf_putc(b, tab[s[i] >> 2]);
		kbuf_putc(b, tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kbuf_putc(b, tab[(s[i + 1] & 15) << 2]);
		kbuf_putc(b, '=');
	}
}

/* The base64 characters that s alone decides when it starts j bytes into a
 * 3-byte group of a longer text (b64enc (printf "user:%s" .password)): the
 * characters that also hold bits of the bytes before or after are left out. */
static void base64_inside(kbuf *b, const unsigned char *s, size_t len, unsigned j)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, first = (8 * (size_t)j + 5) / 6, end = 8 * ((size_t)j + len);
	for (i = first; 6 * i + 6 <= end; i++) {
		unsigned v = 0, k;
		for (k = 0; k < 6; k++) {
			size_t p = 6 * i + k - 8 * (size_t)j;
			v = (v << 1) | ((s[p / 8] >> (7 - p % 8)) & 1u);
		}
		kbuf_putc(b, tab[v]);
	}
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s))
		(*s)++, (*len)--;
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

/* The value and the forms it is printed in (the caller holds the lock). */
static void add_forms(kredact *r, const char *s, size_t len, int with_base64, unsigned flags)
{
	kbuf b = KBUF_INIT;
	size_t i;
	trim(&s, &len);
	if (len < KREDACT_MIN_LEN)
		return;
	add_form(r, s, len, (flags & KREDACT_FRAGMENTS) && len <= KREDACT_FRAGMENTS_MAX);
	json_escaped(&b, s, len, 0);
	add_form(r, b.ptr, b.len, 0);
	kbuf_reset(&b);
	json_escaped(&b, s, len, 1);
	add_form(r, b.ptr, b.len, 0);
	kbuf_reset(&b);
	for (i = 0; i < len; i++) {
		kbuf_putc(&b, s[i]);
		if (s[i] == '\'')
			kbuf_putc(&b, '\'');
	}
	add_form(r, b.ptr, b.len, 0);
	if (with_base64) {
		unsigned j;
		kbuf_reset(&b);
		base64_of(&b, (const unsigned char *)s, len);
		add_form(r, b.ptr, b.len, 0);
		for (j = 0; j < 3 && len <= KREDACT_FRAGMENTS_MAX; j++) {
			kbuf_reset(&b);
			base64_inside(&b, (const unsigned char *)s, len, j);
			add_form(r, b.ptr, b.len, 0);
		}
	}
	memset(b.ptr, 0, b.len);
	kbuf_release(&b);
}

static void add_locked(kredact *r, const char *s, size_t len, unsigned flags)
{
	const char *p = s, *t = s, *end = s + len;
	size_t tl = len, f;
	int level = flags & KREDACT_FRAGMENTS ? 2 : 1;
	trim(&t, &tl);
	/* a credential is added again with every request: known, done */
	if ((f = find_form(r, t, tl)) && r->v[f - 1].input >= level)
		return;
	add_forms(r, s, len, 1, flags);
	while (p < end && memchr(s, '\n', len)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		add_forms(r, p, n, 0, flags);
		p += n + (nl ? 1 : 0);
	}
	if ((f = find_form(r, t, tl)) && r->v[f - 1].input < level)
		r->v[f - 1].input = level;
}

void kredact_add(kredact *r, const char *s, size_t len, unsigned flags)
{
	if (!r || !s)
		return;
	pthread_mutex_lock(&r->mu);
	add_locked(r, s, len, flags);
	pthread_mutex_unlock(&r->mu);
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

void kredact_add_base64(kredact *r, const char *b64, size_t len)
{
	kbuf d = KBUF_INIT;
	unsigned acc = 0;
	int bits = 0, ok = 1;
	size_t i, pad = 0;
	if (!r || !b64)
		return;
	for (i = 0; i < len && ok; i++) {
		unsigned char c = (unsigned char)b64[i];
		int v;
		if (is_space((char)c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = b64_val(c);
		if (v < 0 || pad) {
			ok = 0;
			break;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			kbuf_putc(&d, (char)((acc >> bits) & 0xff));
		}
	}
	pthread_mutex_lock(&r->mu);
	add_forms(r, b64, len, 0, 0);
	if (ok && pad <= 2)
		add_locked(r, d.ptr, d.len, 0);
	pthread_mutex_unlock(&r->mu);
	memset(d.ptr, 0, d.len);
	kbuf_release(&d);
}

size_t kredact_count(kredact *r)
{
	size_t n;
	if (!r)
		return 0;
	pthread_mutex_lock(&r->mu);
	n = r->n;
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* Letters, digits, '_' and UTF-8 bytes: what a word is made of. */
static int is_word(char c)
{
	unsigned char u = (unsigned char)c;
	return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u >= 0x80;
}

/* How far from text[at] a secret or a long enough fragment of one matches
 * (its first bytes give key), or 0. Entries that cannot reach past end
 * (the mask being grown) are not compared. */
static size_t match_at(const kredact *r, uint64_t key, const char *text, size_t len, size_t at, size_t end)
{
	size_t sl = slot_of(r->tab, r->tabcap, key), f, best = 0;
	for (f = r->tab[sl].head; f; f = r->e[f - 1].next) {
		const rent *x = &r->e[f - 1];
		const rform *fm = &r->v[x->form];
		size_t most = fm->len - x->off, m;
		if (most > len - at)
			most = len - at;
		if (most < x->need || at + most <= end || most <= best)
			continue;
		for (m = KREDACT_MIN_LEN; m < most && text[at + m] == fm->s[x->off + m]; m++)
			;
		if (m < x->need)
			continue;
		if (x->off || m < fm->len) {
			/* a piece: only as a word of its own in the text */
			if (at && is_word(text[at - 1]) && is_word(text[at]))
				continue;
			while (m >= x->need && at + m < len && is_word(text[at + m]) && is_word(text[at + m - 1]))
				m--;
			if (m < x->need)
				continue;
		}
		if (m > best)
			best = m;
	}
	return best;
}

/* The end of a URL's userinfo "user:password" that starts at text[i] (just
 * after "://"), or 0 if no '@' with a ':' before it ends it there. */
static size_t userinfo_end(const char *text, size_t len, size_t i, size_t *colon)
{
	size_t j;
	*colon = 0;
	for (j = i; j < len; j++) {
		unsigned char c = (unsigned char)text[j];
		if (c == '@')
			return *colon ? j : 0;
		if (c == ':' && !*colon)
			*colon = j;
		if (c <= ' ' || c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '\\' || c == '>')
			return 0;
	}
	return 0;
}

/* Append text[0..len) to out with the password of every URL's userinfo
 * ("https://user:PASSWORD@host") replaced by the mask, whatever its length:
 * URLs from flags, config files, lock files and libcurl's messages carry
 * them where no secret was ever declared. Returns the masks or -1. */
static long mask_url_passwords(const char *text, size_t len, kbuf *out)
{
	size_t i, done = 0, colon, end;
	long masks = 0;
	for (i = 0; i + 3 <= len; i++) {
		if (memcmp(text + i, "://", 3))
			continue;
		if (!(end = userinfo_end(text, len, i + 3, &colon)) || end == colon + 1)
			continue;
		if (kbuf_put(out, text + done, colon + 1 - done) || kbuf_puts(out, KREDACT_MASK))
			return -1;
		masks++;
		done = end;
		i = end;
	}
	return kbuf_put(out, text + done, len - done) ? -1 : masks;
}

static long apply_values(kredact *r, const char *text, size_t len, kbuf *out);

long kredact_apply(kredact *r, const char *text, size_t len, kbuf *out)
{
	kbuf v = KBUF_INIT;
	long n, u;
	if (!r)
		return kbuf_put(out, text, len) ? -1 : 0;
	kbuf_set_cap(&v, out->max);
	n = apply_values(r, text, len, &v);
	u = mask_url_passwords(v.ptr, v.len, out);
	kbuf_release(&v);
	return n < 0 || u < 0 ? -1 : n + u;
}

static long apply_values(kredact *r, const char *text, size_t len, kbuf *out)
{
	size_t i, done = 0, cs = 0, ce = 0;   /* text[cs..ce) is the mask being grown */
	long masks = 0;
	int open = 0;
	uint64_t key = 0;
	if (!r)
		return kbuf_put(out, text, len) ? -1 : 0;
	pthread_mutex_lock(&r->mu);
	if (r->over) {
		pthread_mutex_unlock(&r->mu);
		return kbuf_puts(out, KREDACT_OVER) ? -1 : 1;
	}
	if (!r->ne) {
		pthread_mutex_unlock(&r->mu);
		return kbuf_put(out, text, len) ? -1 : 0;
	}
	for (i = 0; i < len; i++) {
		size_t at, m;
		key = ((key << 8) | (unsigned char)text[i]) & KEY_MASK;
		if (i + 1 < KREDACT_MIN_LEN)
			continue;
		at = i + 1 - KREDACT_MIN_LEN;
		if (!(m = match_at(r, key, text, len, at, open ? ce : 0)))
			continue;
		if (open && at <= ce) {
			if (at + m > ce)
				ce = at + m;
			continue;
		}
		if (open) {
			if (kbuf_put(out, text + done, cs - done) || kbuf_puts(out, KREDACT_MASK))
				goto full;
			masks++;
			done = ce;
		}
		open = 1;
		cs = at;
		ce = at + m;
	}
	if (open) {
		if (kbuf_put(out, text + done, cs - done) || kbuf_puts(out, KREDACT_MASK))
			goto full;
		masks++;
		done = ce;
	}
	pthread_mutex_unlock(&r->mu);
	return kbuf_put(out, text + done, len - done) ? -1 : masks;
full:
	pthread_mutex_unlock(&r->mu);
	return -1;
}

long kredact_buf(kredact *r, kbuf *b)
{
	kbuf o = KBUF_INIT;
	long n;
	kbuf_set_cap(&o, b->max);
	n = kredact_apply(r, b->ptr, b->len, &o);
	if (n) {
		/* on -1, o holds a masked prefix: never keep the unmasked text */
		memset(b->ptr, 0, b->len);
		kbuf_release(b);
		*b = o;
	} else {
		kbuf_release(&o);
	}
	return n;
}
