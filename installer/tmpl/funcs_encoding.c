/* tmpl/funcs_encoding.c - encodings and serialisation: b64/b32, hashes
 * (nettle: no library start-up, where OpenSSL 3's first digest costs ~1 ms
 * of provider and configuration loading), Helm's toYaml/fromYaml/fromYamlArray/toJson/fromJson/
 * fromJsonArray/toToml and Sprig's toJson family. toYaml goes through the
 * same route as Helm (keys sorted, as a JSON round trip sorts them). */
#include <math.h>
#include <nettle/nettle-meta.h>
#include <nettle/sha1.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/alloc.h"
#include "core/numfmt.h"
#include "tmpl_int.h"

#define S(i) (a[i]->u.s.ptr)
#define SL(i) (a[i]->u.s.len)

static const char b64t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void tv_b64enc(kbuf *b, const unsigned char *s, size_t len)
{
	size_t i;
	for (i = 0; i + 2 < len; i += 3) {
		kbuf_putc(b, b64t[s[i] >> 2]);
		kbuf_putc(b, b64t[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
		kbuf_putc(b, b64t[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)]);
		kbuf_putc(b, b64t[s[i + 2] & 63]);
	}
	if (i < len) {
		kbuf_putc(b, b64t[s[i] >> 2]);
		if (i + 1 < len) {
			kbuf_putc(b, b64t[((s[i] & 3) << 4) | (s[i + 1] >> 4)]);
			kbuf_putc(b, b64t[(s[i + 1] & 15) << 2]);
		} else {
			kbuf_putc(b, b64t[(s[i] & 3) << 4]);
			kbuf_putc(b, '=');
		}
		kbuf_putc(b, '=');
	}
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64t, c) : NULL;
	return p ? (int)(p - b64t) : -1;
}

/* StdEncoding.DecodeString (\r and \n ignored): returns the offset of
 * the first bad byte, or -1 when all is well */
static long b64dec(kbuf *b, const char *s, size_t len)
{
	char q[4];
	size_t i, nq = 0, pos[4] = { 0 };
	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] != '=' && b64val(s[i]) < 0)
			return (long)i;
		pos[nq] = i;
		q[nq++] = s[i];
		if (nq == 4) {
			int v[4], k, pad = 0;
			for (k = 0; k < 4; k++) {
				if (q[k] == '=' && k >= 2) {
					pad++;
					v[k] = 0;
					continue;
				}
				if (pad || (v[k] = b64val(q[k])) < 0)
					return (long)pos[k];
			}
			kbuf_putc(b, (char)((v[0] << 2) | (v[1] >> 4)));
			if (pad < 2)
				kbuf_putc(b, (char)(((v[1] & 15) << 4) | (v[2] >> 2)));
			if (pad < 1)
				kbuf_putc(b, (char)(((v[2] & 3) << 6) | v[3]));
			nq = 0;
			if (pad) {
				size_t j;
				for (j = i + 1; j < len; j++)
					if (s[j] != '\r' && s[j] != '\n')
						return (long)j;
				return -1;
			}
		}
	}
	if (nq)
		return (long)pos[0];
	return -1;
}

static int f_b64enc(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = tctx_buf(x);
	(void)n;
	tv_b64enc(&b, (const unsigned char *)S(0), SL(0));
	return tctx_ret_buf(x, out, &b);
}

static int f_b64dec(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	long bad;
	(void)n;
	bad = b64dec(&b, S(0), SL(0));
	if (bad >= 0) {
		kbuf_reset(&b);
		kbuf_printf(&b, "illegal base64 data at input byte %ld", bad);
	}
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static const char b32t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static int f_b32enc(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	size_t i;
	uint64_t acc = 0;
	int bits = 0;
	(void)n;
	for (i = 0; i < SL(0); i++) {
		acc = (acc << 8) | (unsigned char)S(0)[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			kbuf_putc(&b, b32t[(acc >> bits) & 31]);
		}
	}
	if (bits)
		kbuf_putc(&b, b32t[(acc << (5 - bits)) & 31]);
	while (b.len % 8)
		kbuf_putc(&b, '=');
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

static int f_b32dec(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	size_t i;
	uint64_t acc = 0;
	int bits = 0;
	(void)n;
	for (i = 0; i < SL(0); i++) {
		const char *p;
		if (S(0)[i] == '=')
			break;
		p = strchr(b32t, S(0)[i]);
		if (!p || !S(0)[i]) {
			kbuf_reset(&b);
			kbuf_printf(&b, "illegal base32 data at input byte %zu", i);
			break;
		}
		acc = (acc << 5) | (uint64_t)(p - b32t);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			kbuf_putc(&b, (char)((acc >> bits) & 0xFF));
		}
	}
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

/* hex of a nettle digest of s (nettle's descriptors: one path for all three) */
static int hex_digest(tctx *x, doc_node **out, const struct nettle_hash *hash, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	union { struct sha1_ctx a; struct sha256_ctx b; struct sha512_ctx c; } ctx;
	unsigned char h[SHA512_DIGEST_SIZE];
	char buf[2 * SHA512_DIGEST_SIZE];
	size_t i;
	hash->init(&ctx);
	hash->update(&ctx, len, (const uint8_t *)s);
	hash->digest(&ctx, hash->digest_size, h);
	for (i = 0; i < hash->digest_size; i++) {
		buf[2 * i] = hexd[h[i] >> 4];
		buf[2 * i + 1] = hexd[h[i] & 15];
	}
	*out = tv_str(x->a, buf, 2 * hash->digest_size);
	return 0;
}

static int f_sha1sum(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return hex_digest(x, out, &nettle_sha1, S(0), SL(0)); }
static int f_sha256sum(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return hex_digest(x, out, &nettle_sha256, S(0), SL(0)); }
static int f_sha512sum(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return hex_digest(x, out, &nettle_sha512, S(0), SL(0)); }

static int f_adler32sum(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	char buf[32];
	uLong v = adler32(1L, (const Bytef *)S(0), (uInt)SL(0));
	(void)n;
	snprintf(buf, sizeof(buf), "%lu", (unsigned long)v);
	*out = tv_strz(x->a, buf);
	return 0;
}

/* ---- YAML / JSON ---- */

/* json.Marshal counts the maps and slices it is in; from 1000 deep it
 * keeps those of its path and fails on one met again: a value that holds
 * itself (set can make one). Without that check a value that holds itself
 * twice would be walked 2^depth times. */
#define JSON_CYCLE_DEPTH 1000
#define JSON_MAX_DEPTH 10000

typedef struct jview {
	karena *a;
	const doc_node **path;  /* containers from JSON_CYCLE_DEPTH deep */
	const char *err;        /* why json.Marshal fails, or NULL */
} jview;

#define TIME_MARSHAL_ERR "json: error calling MarshalJSON for type time.Time: Time.MarshalJSON: year outside of range [0,9999]"


static const char *go_container_type(const doc_node *v)
{
	if (v->type == DOC_MAP)
		return v->flags & TV_SMAP ? "map[string]string" : "map[string]interface {}";
	return v->flags & TV_STRS ? "[]string" : v->flags & TV_INTS ? "[]int" : "[]interface {}";
}

static doc_node *json_view(jview *w, doc_node *v, int depth);

/* A Go struct as json.Marshal writes it: its exported fields (upper case)
 * in declaration order, under their json tags where they have one */
static doc_node *json_struct(jview *w, doc_node *v, int depth)
{
	static const char *const tags[][2] = {
		/* version.BuildInfo */
		{ "Version", "version" }, { "GitCommit", "git_commit" }, { "GitTreeState", "git_tree_state" },
		{ "GoVersion", "go_version" }, { "KubeClientVersion", "kube_client_version" },
	};
	bool tagged = (v->flags & TV_OBJ) && !strcmp(((tobj *)v)->type_name, "version.BuildInfo");
	doc_node *r = tv_map(w->a);
	size_t i, k;
	r->flags |= DOC_F_ORDERED;
	for (i = 0; i < v->u.map.len && !w->err; i++) {
		const doc_pair *p = &v->u.map.v[i];
		const char *key = p->key->u.s.ptr;
		if (key[0] >= 'a' && key[0] <= 'z')
			continue;
		for (k = 0; tagged && k < sizeof(tags) / sizeof(tags[0]); k++)
			if (!strcmp(tags[k][0], key))
				key = tags[k][1];
		doc_map_set(w->a, r, key, json_view(w, p->val, depth + 1));
	}
	return r;
}

/* json.Marshal calls MarshalJSON: a semver is its String(), quoted, a
 * time its RFC 3339 text. The tree is copied only along the paths that
 * lead to one. */
static doc_node *json_view(jview *w, doc_node *v, int depth)
{
	size_t i, j;
	karena *a = w->a;
	if (!v || w->err)
		return v;
	if ((v->flags & TV_OBJ) && (((tobj *)v)->kind == TOBJ_SEMVER || tv_is_time(v))) {
		kbuf b = KBUF_INIT;
		doc_node *s = NULL;
		if (tv_is_time(v) && !tv_time_rfc3339(&b, v)) {
			w->err = TIME_MARSHAL_ERR;
		} else {
			if (!tv_is_time(v))
				tsemver_string(&b, v);
			s = tv_str(a, b.ptr ? b.ptr : "", b.len);
		}
		kbuf_release(&b);
		return s ? s : v;
	}
	if (v->type != DOC_SEQ && v->type != DOC_MAP)
		return v;
	if (v->flags & TV_NILSEQ)
		return TV_NIL;
	if (v->flags & TV_STRUCT)
		return json_struct(w, v, depth);
	if (depth >= JSON_MAX_DEPTH) {
		w->err = "json: nesting too deep";
		return v;
	}
	if (depth >= JSON_CYCLE_DEPTH) {
		if (!w->path)
			w->path = xcalloc(JSON_MAX_DEPTH - JSON_CYCLE_DEPTH, sizeof(*w->path));
		for (i = 0; i < (size_t)(depth - JSON_CYCLE_DEPTH); i++)
			if (w->path[i] == v) {
				w->err = go_container_type(v);
				return v;
			}
		w->path[depth - JSON_CYCLE_DEPTH] = v;
	}
	if (v->type == DOC_SEQ) {
		for (i = 0; i < v->u.seq.len; i++) {
			doc_node *c = json_view(w, v->u.seq.v[i], depth + 1), *r;
			if (w->err)
				return v;
			if (c == v->u.seq.v[i])
				continue;
			r = tv_seq(a);
			r->flags = v->flags & (uint16_t)~TV_OBJ;
			for (j = 0; j < v->u.seq.len && !w->err; j++)
				doc_seq_push(a, r, j < i ? v->u.seq.v[j] : j == i ? c : json_view(w, v->u.seq.v[j], depth + 1));
			return r;
		}
	} else {
		for (i = 0; i < v->u.map.len; i++) {
			doc_node *c = json_view(w, v->u.map.v[i].val, depth + 1), *r;
			if (w->err)
				return v;
			if (c == v->u.map.v[i].val)
				continue;
			r = tv_map(a);
			r->flags = v->flags & (uint16_t)~TV_OBJ;
			for (j = 0; j < v->u.map.len && !w->err; j++) {
				doc_pair *p = &v->u.map.v[j];
				doc_map_setn(a, r, p->key->u.s.ptr, p->key->u.s.len,
					     j < i ? p->val : j == i ? c : json_view(w, p->val, depth + 1));
			}
			return r;
		}
	}
	return v;
}

/* v as json.Marshal sees it; NULL and *msg set (Go's words, after "json:
 * unsupported value: " for a cycle) when json.Marshal fails on it */
static doc_node *json_marshal_view(karena *a, doc_node *v, const char **msg, bool *cycle)
{
	jview w = { a, NULL, NULL };
	v = json_view(&w, v, 0);
	free(w.path);
	*cycle = w.err && strcmp(w.err, "json: nesting too deep") && strcmp(w.err, TIME_MARSHAL_ERR);
	*msg = w.err;
	return w.err ? NULL : v;
}

/* the error json.Marshal gives for what json_marshal_view found (msg,
 * cycle), after prefix */
static int json_marshal_fail(tctx *x, const char *prefix, const char *msg, bool cycle)
{
	if (!strcmp(msg, TIME_MARSHAL_ERR))
		return tctx_fail(x, "%s%s", prefix, msg);
	return cycle ? tctx_fail(x, "%sjson: unsupported value: encountered a cycle via %s", prefix, msg)
		     : tctx_fail(x, "%sjson: unsupported value: %s", prefix, msg);
}

/* What json.Marshal sees: []byte as base64, objects as their data. */
static int to_json(tctx *x, kbuf *b, doc_node *v, unsigned flags)
{
	kerr e = KERR_INIT;
	const char *msg;
	bool cycle;
	int r;
	if (!v || ((v->type == DOC_SEQ || v->type == DOC_MAP) && (v->flags & TV_NILSEQ))) {
		kbuf_puts(b, "null");
		return 0;
	}
	if (!(v = json_marshal_view(x->a, v, &msg, &cycle)))
		return json_marshal_fail(x, "", msg, cycle);
	r = doc_emit_json(b, v, flags | DOC_EMIT_SORT_KEYS, &e);
	if (r)
		tctx_fail(x, "json: unsupported value: %s", e.first.msg ? e.first.msg : "");
	kerr_clear(&e);
	return r;
}

static int json_common(tctx *x, doc_node **out, doc_node *v, unsigned flags, bool must)
{
	kbuf b = tctx_buf(x);
	if (to_json(x, &b, v, flags)) {
		if (kbuf_failed(&b))
			return tctx_ret_buf(x, out, &b);
		kbuf_release(&b);
		if (must)
			return KE_INPUT;
		*out = tv_strz(x->a, "");
		return 0;
	}
	return tctx_ret_buf(x, out, &b);
}

static int f_tojson(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return json_common(x, out, a[0], DOC_EMIT_HTML_ESCAPE, false); }
static int f_musttojson(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return json_common(x, out, a[0], DOC_EMIT_HTML_ESCAPE, true); }
static int f_toprettyjson(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return json_common(x, out, a[0], DOC_EMIT_HTML_ESCAPE | DOC_EMIT_INDENT, false); }
static int f_musttoprettyjson(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return json_common(x, out, a[0], DOC_EMIT_HTML_ESCAPE | DOC_EMIT_INDENT, true); }
/* Sprig's toRawJson panics where json.Marshal fails (toJson gives "") */
static int f_torawjson(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return json_common(x, out, a[0], 0, true); }
static int f_musttorawjson(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return json_common(x, out, a[0], 0, true); }

/* A string as sigs.k8s.io/yaml gets it back from json.Marshal's text read
 * by the YAML parser: invalid UTF-8 is U+FFFD (json.Marshal); a raw NEL
 * (U+0085, which JSON leaves unescaped) is a line break inside a
 * double-quoted scalar and folds (the spaces around it go, one NEL is a
 * space, n of them n-1 newlines); DEL, the other C1 controls and
 * U+FFFE/U+FFFF stop the parser (*bad is set), as does a NEL in a map key
 * (no simple key spans two lines). NULL when the string reads back
 * unchanged. */
static doc_node *utf8_fixed(karena *a, const char *s, size_t n, bool key, bool *bad)
{
	kbuf b = KBUF_INIT;
	doc_node *r;
	size_t i = 0, w;
	uint32_t c;
	bool change = false;
	while (i < n) {
		w = tv_utf8_decode((const unsigned char *)s + i, n - i, &c);
		if (c == 0x85 && key)
			*bad = true;
		if ((c == 0xFFFD && w == 1) || c == 0x85)
			change = true;
		else if (c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0xFFFE || c == 0xFFFF)
			*bad = true;
		i += w;
	}
	if (!change)
		return NULL;
	for (i = 0; i < n;) {
		w = tv_utf8_decode((const unsigned char *)s + i, n - i, &c);
		if (c == ' ' || (c == 0x85 && w == 2)) {
			size_t spaces = 0, trailing = 0;
			bool leading = false;
			while (i < n) {
				w = tv_utf8_decode((const unsigned char *)s + i, n - i, &c);
				if (c == ' ') {
					if (!leading)
						spaces++;
				} else if (c == 0x85 && w == 2) {
					if (leading)
						trailing++;
					leading = true;
					spaces = 0;
				} else {
					break;
				}
				i += w;
			}
			if (!leading)
				kbuf_putn(&b, ' ', spaces);
			else if (!trailing)
				kbuf_putc(&b, ' ');
			else
				kbuf_putn(&b, '\n', trailing);
			continue;
		}
		if (c == 0xFFFD && w == 1)
			kbuf_puts(&b, "\xEF\xBF\xBD");
		else
			kbuf_put(&b, s + i, w);
		i += w;
	}
	r = tv_str(a, b.ptr ? b.ptr : "", b.len);
	kbuf_release(&b);
	return r;
}

/* What YAML sigs.k8s.io/yaml makes of json.Marshal's output: strings (and
 * keys) that are not UTF-8 have U+FFFD for each bad byte. Copied only
 * along the paths that lead to one; v holds no cycle (json_view). */
static doc_node *yaml_utf8_view(karena *a, doc_node *v, bool *bad)
{
	size_t i, j;
	if (!v)
		return v;
	if (v->type == DOC_STR) {
		doc_node *f = utf8_fixed(a, v->u.s.ptr, v->u.s.len, false, bad);
		return f ? f : v;
	}
	if (v->type == DOC_SEQ) {
		for (i = 0; i < v->u.seq.len; i++) {
			doc_node *c = yaml_utf8_view(a, v->u.seq.v[i], bad), *r;
			if (c == v->u.seq.v[i])
				continue;
			r = tv_seq(a);
			r->flags = v->flags & (uint16_t)~TV_OBJ;
			for (j = 0; j < v->u.seq.len; j++)
				doc_seq_push(a, r, j < i ? v->u.seq.v[j] : j == i ? c : yaml_utf8_view(a, v->u.seq.v[j], bad));
			return r;
		}
	} else if (v->type == DOC_MAP) {
		for (i = 0; i < v->u.map.len; i++) {
			doc_pair *p = &v->u.map.v[i];
			doc_node *c = yaml_utf8_view(a, p->val, bad), *k = utf8_fixed(a, p->key->u.s.ptr, p->key->u.s.len, true, bad), *r;
			if (c == p->val && !k)
				continue;
			r = tv_map(a);
			r->flags = v->flags & (uint16_t)~TV_OBJ;
			for (j = 0; j < v->u.map.len; j++) {
				doc_node *kj, *vj;
				p = &v->u.map.v[j];
				kj = j < i ? NULL : utf8_fixed(a, p->key->u.s.ptr, p->key->u.s.len, true, bad);
				vj = j < i ? p->val : j == i ? c : yaml_utf8_view(a, p->val, bad);
				if (!kj)
					kj = p->key;
				doc_map_setn(a, r, kj->u.s.ptr, kj->u.s.len, vj);
			}
			return r;
		}
	}
	return v;
}

int tv_to_yaml(tctx *x, kbuf *b, doc_node *v)
{
	kerr e = KERR_INIT;
	const char *msg;
	bool cycle;
	int r;
	if (!v || v->type == DOC_NULL || ((v->type == DOC_SEQ || v->type == DOC_MAP) && (v->flags & TV_NILSEQ))) {
		kbuf_puts(b, "null\n");
		return 0;
	}
	/* sigs.k8s.io/yaml goes through json.Marshal */
	if (!(v = json_marshal_view(x->a, v, &msg, &cycle)))
		return json_marshal_fail(x, "error marshaling into JSON: ", msg, cycle);
	{
		bool bad = false;
		v = yaml_utf8_view(x->a, v, &bad);
		if (bad) /* the YAML reader stops at DEL or a C1 control */
			return tctx_fail(x, "yaml: control characters are not allowed");
	}
	r = doc_emit_yaml(b, v, DOC_EMIT_SORT_KEYS, &e);
	if (r)
		tctx_fail(x, "%s", e.first.msg ? e.first.msg : "yaml error");
	kerr_clear(&e);
	return r;
}

static int yaml_common(tctx *x, doc_node **out, doc_node *v, bool must)
{
	kbuf b = tctx_buf(x);
	if (tv_to_yaml(x, &b, v)) {
		if (kbuf_failed(&b))
			return tctx_ret_buf(x, out, &b);
		kbuf_release(&b);
		if (must)
			return KE_INPUT;
		*out = tv_strz(x->a, "");
		return 0;
	}
	if (b.len && b.ptr[b.len - 1] == '\n')
		b.len--;
	return tctx_ret_buf(x, out, &b);
}

static int f_toyaml(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return yaml_common(x, out, a[0], false); }

/* ---- toYamlPretty: go-yaml v3 with indent 2 (sequences indented under
 * their key, no line folding, floats in Go's 'g' form) ---- */

/* go-yaml's is_printable for the character at s (n bytes left) */
static bool yaml_printable(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c == 0x0A || (c >= 0x20 && c <= 0x7E))
		return true;
	if (c == 0xC2)
		return n > 1 && s[1] >= 0xA0;
	if (c > 0xC2 && c < 0xED)
		return true;
	if (c == 0xED)
		return n > 1 && s[1] < 0xA0;
	if (c == 0xEE)
		return true;
	if (c == 0xEF)
		return n > 2 && !(s[1] == 0xBB && s[2] == 0xBF) && !(s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF));
	return false;
}

/* a line break for go-yaml: \r, \n, U+0085, U+2028, U+2029; its length */
static size_t yaml_break(const unsigned char *s, size_t n)
{
	if (s[0] == '\r' || s[0] == '\n')
		return 1;
	if (n > 1 && s[0] == 0xC2 && s[1] == 0x85)
		return 2;
	if (n > 2 && s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
		return 3;
	return 0;
}

static size_t utf8_width(unsigned c) { return c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1; }

/* v3's analyze_scalar: may a string be a block scalar? Not with a space
 * before a break, a space at the end, or a character it cannot print
 * (tabs are fine in v3). */
static bool v3_block_allowed(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	bool prev_space = false;
	size_t i = 0;
	if (n && s[n - 1] == ' ')
		return false;
	while (i < n) {
		size_t w = utf8_width(s[i]), br = yaml_break(s + i, n - i);
		if (s[i] != '\t' && !yaml_printable(s + i, n - i))
			return false;
		if (br && prev_space)
			return false;
		prev_space = s[i] == ' ';
		i += w > n - i ? n - i : w;
	}
	return true;
}

/* a scalar as v3 writes it; block is set for multi-line strings */
static int pretty_scalar(tctx *x, kbuf *b, const doc_node *v, int indent)
{
	kbuf t = KBUF_INIT;
	kerr e = KERR_INIT;
	if (!v || v->type == DOC_NULL) {
		kbuf_puts(b, "null");
		return 0;
	}
	switch (v->type) {
	case DOC_BOOL: kbuf_puts(b, v->u.b ? "true" : "false"); return 0;
	case DOC_INT:
		/* v3 writes a time plain, RFC 3339 whatever its year */
		if (tv_is_time(v))
			tv_time_rfc3339(b, v);
		else
			numfmt_int(b, v->u.i);
		return 0;
	case DOC_FLOAT:
		if (isnan(v->u.f)) kbuf_puts(b, ".nan");
		else if (isinf(v->u.f)) kbuf_puts(b, v->u.f > 0 ? ".inf" : "-.inf");
		else numfmt_float(b, v->u.f, 'g', -1);
		return 0;
	case DOC_STR:
		/* v3 writes a literal block when it may (a BOM first is not
		 * printable, so its is_bom() quirk goes to libyaml below) */
		if (memchr(v->u.s.ptr, '\n', v->u.s.len) && v3_block_allowed(v->u.s.ptr, v->u.s.len)) {
			const unsigned char *s = (const unsigned char *)v->u.s.ptr;
			size_t n = v->u.s.len, i, last;
			bool line_start = true;
			/* write_block_scalar_hints: an indent digit when the text
			 * starts with a space or a break; '-' when it does not end
			 * in a break, '+' when it ends in two (or is one) */
			kbuf_putc(b, '|');
			if (s[0] == ' ' || yaml_break(s, n))
				kbuf_putc(b, '2');
			last = n - 1;
			while (last > 0 && (s[last] & 0xC0) == 0x80)
				last--;
			if (!yaml_break(s + last, n - last)) {
				kbuf_putc(b, '-');
			} else if (last == 0) {
				kbuf_putc(b, '+');
			} else {
				size_t prev = last - 1;
				while (prev > 0 && (s[prev] & 0xC0) == 0x80)
					prev--;
				if (yaml_break(s + prev, n - prev))
					kbuf_putc(b, '+');
			}
			kbuf_putc(b, '\n');
			/* the text: a '\n' ends a line, other breaks are written as
			 * they are; indentation only before a character that is not a
			 * break; the last break of the text is the scalar's end */
			for (i = 0; i < n;) {
				size_t br = yaml_break(s + i, n - i), w;
				if (br) {
					if (s[i] == '\n') {
						if (i + 1 < n)
							kbuf_putc(b, '\n');
					} else {
						kbuf_put(b, s + i, br);
					}
					line_start = true;
					i += br;
					continue;
				}
				if (line_start)
					kbuf_putn(b, ' ', (size_t)indent + 2);
				line_start = false;
				w = utf8_width(s[i]);
				if (w > n - i)
					w = n - i;
				kbuf_put(b, s + i, w);
				i += w;
			}
			return 0;
		}
		if (memchr(v->u.s.ptr, '\n', v->u.s.len)) {
			/* not a block: libyaml's double quotes, not folded (v3) */
			if (doc_emit_yaml(&t, v, DOC_EMIT_NO_DOC_END | DOC_EMIT_NO_WRAP, &e)) {
				kerr_clear(&e);
				kbuf_release(&t);
				return tctx_fail(x, "yaml: cannot emit");
			}
			kbuf_put(b, t.ptr, t.len);
			kbuf_release(&t);
			return 0;
		}
		if (doc_emit_yaml(&t, v, DOC_EMIT_NO_DOC_END, &e)) {
			kerr_clear(&e);
			kbuf_release(&t);
			return tctx_fail(x, "yaml: cannot emit");
		}
		/* libyaml folds long scalars at 80 columns; v3 does not */
		if (memchr(t.ptr, '\n', t.len) && t.len && t.ptr[0] != '"' && t.ptr[0] != '\'')
			kbuf_put(b, v->u.s.ptr, v->u.s.len);
		else if (memchr(t.ptr, '\n', t.len))
			tv_quote(b, v->u.s.ptr, v->u.s.len);
		else
			kbuf_put(b, t.ptr, t.len);
		kbuf_release(&t);
		return 0;
	default:
		return 0;
	}
}

static int pretty_node(tctx *x, kbuf *b, const doc_node *v, int indent, bool first_inline, int depth);

/* go-yaml v3's key order ("9" before "10") */
static int cmp_pair_yaml3(const void *p, const void *q)
{
	const doc_pair *a = *(const doc_pair *const *)p, *b = *(const doc_pair *const *)q;
	return doc_key_cmp_go(a->key->u.s.ptr, a->key->u.s.len, b->key->u.s.ptr, b->key->u.s.len, true);
}

static int pretty_map(tctx *x, kbuf *b, const doc_node *v, int indent, bool first_inline, int depth)
{
	const doc_pair **ps = tv_sorted_pairs(v);
	if (ps)
		qsort(ps, v->u.map.len, sizeof(*ps), cmp_pair_yaml3);
	size_t i;
	int r = 0;
	for (i = 0; ps && i < v->u.map.len && !r; i++) {
		const doc_node *val = ps[i]->val;
		if (i || !first_inline)
			kbuf_putn(b, ' ', (size_t)indent);
		r = pretty_scalar(x, b, ps[i]->key, indent);
		kbuf_putc(b, ':');
		if (val && val->type == DOC_MAP && val->u.map.len) {
			kbuf_putc(b, '\n');
			r = r ? r : pretty_node(x, b, val, indent + 2, false, depth + 1);
		} else if (val && val->type == DOC_SEQ && val->u.seq.len) {
			kbuf_putc(b, '\n');
			r = r ? r : pretty_node(x, b, val, indent + 2, false, depth + 1);
		} else {
			kbuf_putc(b, ' ');
			r = r ? r : pretty_node(x, b, val, indent, false, depth + 1);
			kbuf_putc(b, '\n');
		}
	}
	free(ps);
	return r;
}

static int pretty_node(tctx *x, kbuf *b, const doc_node *v, int indent, bool first_inline, int depth)
{
	size_t i;
	int r = 0;
	if (depth > 1000)
		return tctx_fail(x, "yaml: nesting too deep");
	if (v && v->type == DOC_MAP) {
		if (!v->u.map.len) {
			kbuf_puts(b, "{}");
			return 0;
		}
		return pretty_map(x, b, v, indent, first_inline, depth);
	}
	if (v && v->type == DOC_SEQ) {
		if (!v->u.seq.len) {
			kbuf_puts(b, "[]");
			return 0;
		}
		for (i = 0; i < v->u.seq.len && !r; i++) {
			const doc_node *it = v->u.seq.v[i];
			if (i || !first_inline)
				kbuf_putn(b, ' ', (size_t)indent);
			kbuf_puts(b, "- ");
			if (it && (it->type == DOC_MAP || it->type == DOC_SEQ) && doc_len(it)) {
				r = pretty_node(x, b, it, indent + 2, true, depth + 1);
			} else {
				/* a block scalar's lines go 2 in from the dash */
				r = pretty_node(x, b, it, indent, false, depth + 1);
				kbuf_putc(b, '\n');
			}
		}
		return r;
	}
	return pretty_scalar(x, b, v, indent);
}

static int f_toyamlpretty(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	(void)n;
	if (pretty_node(x, &b, a[0], 0, false, 0)) {
		kbuf_release(&b);
		x->fail_msg = NULL;
		*out = tv_strz(x->a, "");
		return 0;
	}
	/* v3 ends a scalar document with a newline, and Helm trims one: a
	 * "|+" scalar at the end keeps its others */
	if (!a[0] || (a[0]->type != DOC_MAP && a[0]->type != DOC_SEQ) || !doc_len(a[0]))
		kbuf_putc(&b, '\n');
	if (b.len && b.ptr[b.len - 1] == '\n')
		b.len--;
	return tctx_ret_buf(x, out, &b);
}
static int f_musttoyaml(tctx *x, doc_node **out, doc_node **a, size_t n) { (void)n; return yaml_common(x, out, a[0], true); }

/* Helm reads YAML and JSON through encoding/json: every number a float64. */
static void json_numbers(doc_node *n, int depth)
{
	size_t i;
	if (!n || depth > 1000)
		return;
	if (n->type == DOC_INT) {
		double f = (double)n->u.i;
		n->type = DOC_FLOAT;
		n->u.f = f;
		n->flags &= (uint16_t)~TV_INT;
	} else if (n->type == DOC_SEQ) {
		for (i = 0; i < n->u.seq.len; i++)
			json_numbers(n->u.seq.v[i], depth + 1);
	} else if (n->type == DOC_MAP) {
		for (i = 0; i < n->u.map.len; i++)
			json_numbers(n->u.map.v[i].val, depth + 1);
	}
}

static bool helm_numbers(tctx *x)
{
	return !x->set->helm || tmpl_helm_num_mode(x->set->helm) == VALUES_NUM_HELM;
}

static int parse_yaml(tctx *x, doc_node **res, const char *s, size_t l, kbuf *errmsg)
{
	kerr e = KERR_INIT;
	doc_load_opts o = { .dup = DOC_DUP_LAST, .go_errors = 1, .first_doc = 1 };
	size_t left = tctx_mem_left(x);
	int r;
	/* alias copies count against the template's memory budget */
	o.max_mem = left ? left : 1;
	r = doc_load_yaml1(res, x->a, "", s, l, &o, &e);
	if (r && kerr_reason_is(&e, DOC_REASON_MEMORY)) {
		tctx_fail(x, "template uses more than %zu bytes of memory (line %u: %s)", x->max_memory,
			  e.first.line, e.first.msg);
		kerr_clear(&e);
		return KE_LIMIT;
	}
	if (r) {
		/* go-yaml gives no line for an error on the first line; a null
		 * key is sigs.k8s.io/yaml's error, without "yaml: " */
		kbuf_puts(errmsg, "error converting YAML to JSON: ");
		if (!e.first.msg || strncmp(e.first.msg, "unsupported map key", 19))
			kbuf_puts(errmsg, "yaml: ");
		if (e.first.line)
			kbuf_printf(errmsg, "line %u: ", e.first.line);
		kbuf_puts(errmsg, e.first.msg ? e.first.msg : "invalid YAML");
		kerr_clear(&e);
		return KE_INPUT;
	}
	{
		/* Helm goes through JSON, which has no NaN or infinities */
		const doc_node *bad = doc_find_nonfinite(*res);
		if (bad) {
			kbuf_puts(errmsg, "error converting YAML to JSON: json: unsupported value: ");
			numfmt_float_v(errmsg, bad->u.f);
			return KE_INPUT;
		}
	}
	if (helm_numbers(x))
		json_numbers(*res, 0);
	return 0;
}



/* encoding/json's reading and words; a number beyond float64 leaves the
 * rest of the value in *res with the error */
static int parse_json(tctx *x, doc_node **res, const char *s, size_t l, kbuf *errmsg)
{
	int r = doc_load_json_go(res, x->a, s, l, errmsg);
	if (r < 0)
		return KE_INPUT;
	if (helm_numbers(x))
		json_numbers(*res, 0);
	return r ? KE_INPUT : 0;
}


static int f_mustfromjson(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	doc_node *v = NULL;
	kbuf em = KBUF_INIT;
	(void)n;
	if (parse_json(x, &v, S(0), SL(0), &em)) {
		int r = tctx_fail(x, "%s", em.ptr);
		kbuf_release(&em);
		return r;
	}
	kbuf_release(&em);
	*out = v;
	return 0;
}

/* 0, or KE_INPUT with Go's words in errmsg, or KE_LIMIT when the
 * template's memory budget stopped it (tctx_fail'ed) */
typedef int (*text_parser)(tctx *x, doc_node **res, const char *s, size_t l, kbuf *errmsg);

/* fromYaml, fromJson and their Array forms: the value when it has the wanted
 * shape (a map, or a list for want == DOC_SEQ), else Helm's error value: a
 * map {"Error": msg} or a list [msg], with the message Go's decoder gives. */
static int from_text(tctx *x, doc_node **out, const char *s, size_t l, text_parser parse, bool yaml,
		     doc_type want)
{
	doc_node *v = NULL;
	kbuf em = KBUF_INIT;
	bool seq = want == DOC_SEQ;
	const char *go = seq ? "[]interface {}" : "map[string]interface {}";
	int r = parse(x, &v, s, l, &em);
	if (r == KE_LIMIT) {   /* the template's memory budget: not a value, a failure */
		kbuf_release(&em);
		return KE_INPUT;
	}
	if (r || (v && v->type != want && v->type != DOC_NULL)) {
		if (v && v->type != want && v->type != DOC_NULL)
			kbuf_reset(&em); /* Go stops at the top-level type */
		if (!em.len) {
			/* Go's encoding/json names what it found; sigs.k8s.io/yaml wraps it */
			const char *found = !v ? "null" : v->type == DOC_SEQ ? "array" : v->type == DOC_MAP ? "object"
					  : v->type == DOC_STR ? "string" : v->type == DOC_BOOL ? "bool" : "number";
			kbuf_printf(&em, "%sjson: cannot unmarshal %s into Go value of type %s",
				    yaml ? "error unmarshaling JSON: while decoding JSON: " : "", found, go);
		}
		if (seq) {
			*out = tv_seq(x->a);
			doc_seq_push(x->a, *out, tv_str(x->a, em.ptr, em.len));
		} else {
			/* Go's decoder keeps what it read before a type error */
			*out = v && v->type == DOC_MAP ? v : tv_map(x->a);
			doc_map_set(x->a, *out, "Error", tv_str(x->a, em.ptr, em.len));
		}
		kbuf_release(&em);
		return 0;
	}
	kbuf_release(&em);
	*out = v && v->type == want ? v : seq ? tv_seq(x->a) : tv_map(x->a);
	if (!yaml && (!v || v->type == DOC_NULL))
		(*out)->flags |= TV_NILSEQ; /* encoding/json sets the map or slice to nil */
	return 0;
}

static int f_fromyaml(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return from_text(x, out, S(0), SL(0), parse_yaml, true, DOC_MAP);
}

static int f_fromyamlarray(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return from_text(x, out, S(0), SL(0), parse_yaml, true, DOC_SEQ);
}

static int f_fromjson(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return from_text(x, out, S(0), SL(0), parse_json, false, DOC_MAP);
}

static int f_fromjsonarray(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	(void)n;
	return from_text(x, out, S(0), SL(0), parse_json, false, DOC_SEQ);
}

/* ---- TOML: BurntSushi/toml's encoder as Helm's toToml drives it ----
 * Keys without sub-tables first, then tables and arrays of tables, each
 * group in byte order; a blank line before top-level tables and before
 * each [[array]] entry; two spaces of indent a level; maps inside arrays
 * as inline tables. */

/* BurntSushi's dblQuotedReplacer */
static void toml_quote(kbuf *b, const char *s, size_t l)
{
	size_t i;
	kbuf_putc(b, '"');
	for (i = 0; i < l; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': kbuf_puts(b, "\\\""); break;
		case '\\': kbuf_puts(b, "\\\\"); break;
		case '\b': kbuf_puts(b, "\\b"); break;
		case '\t': kbuf_puts(b, "\\t"); break;
		case '\n': kbuf_puts(b, "\\n"); break;
		case '\f': kbuf_puts(b, "\\f"); break;
		case '\r': kbuf_puts(b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f)
				kbuf_printf(b, "\\u%04x", c);
			else
				kbuf_putc(b, (char)c);
		}
	}
	kbuf_putc(b, '"');
}

static void toml_key(kbuf *b, const char *k, size_t l)
{
	size_t i;
	bool bare = l > 0;
	for (i = 0; i < l; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			bare = false;
	}
	if (bare)
		kbuf_put(b, k, l);
	else
		toml_quote(b, k, l);
}

/* A value written as a [table] or [[array of tables]]: a map, or a list
 * whose first element is a map. */
static bool toml_is_table(const doc_node *v)
{
	if (tv_isnil(v))
		return false;
	if (v->type == DOC_MAP)
		return true;
	return v->type == DOC_SEQ && v->u.seq.len && !tv_isnil(v->u.seq.v[0]) && v->u.seq.v[0]->type == DOC_MAP;
}

/* BurntSushi refuses a nil element in any array it meets */
static bool toml_nil_element(const doc_node *v, int depth)
{
	size_t i;
	if (tv_isnil(v) || depth > 100)
		return false;
	if (v->type == DOC_SEQ) {
		for (i = 0; i < v->u.seq.len; i++)
			if (tv_isnil(v->u.seq.v[i]) || toml_nil_element(v->u.seq.v[i], depth + 1))
				return true;
	} else if (v->type == DOC_MAP) {
		for (i = 0; i < v->u.map.len; i++)
			if (toml_nil_element(v->u.map.v[i].val, depth + 1))
				return true;
	}
	return false;
}

static void toml_newline(kbuf *b)
{
	if (b->len)
		kbuf_putc(b, '\n');
}

static void toml_map(kbuf *b, const doc_node *m, const char *key, int klen, bool inl, int depth);

/* eElement: a value inside an array or an inline table */
static void toml_element(kbuf *b, const doc_node *v, int depth)
{
	size_t i;
	switch (v ? v->type : DOC_NULL) {
	case DOC_BOOL: kbuf_puts(b, v->u.b ? "true" : "false"); break;
	case DOC_INT: numfmt_int(b, v->u.i); break;
	case DOC_FLOAT:
		if (isnan(v->u.f)) {
			kbuf_puts(b, "nan");
		} else if (isinf(v->u.f)) {
			kbuf_puts(b, v->u.f < 0 ? "-inf" : "+inf");
		} else {
			size_t start = b->len;
			numfmt_float(b, v->u.f, 'g', -1);
			if (!memchr(b->ptr + start, '.', b->len - start) && !memchr(b->ptr + start, 'e', b->len - start))
				kbuf_puts(b, ".0");
		}
		break;
	case DOC_STR: toml_quote(b, v->u.s.ptr, v->u.s.len); break;
	case DOC_SEQ:
		kbuf_putc(b, '[');
		for (i = 0; i < v->u.seq.len && depth <= 100; i++) {
			toml_element(b, v->u.seq.v[i], depth + 1);
			if (i + 1 != v->u.seq.len)
				kbuf_puts(b, ", ");
		}
		kbuf_putc(b, ']');
		break;
	case DOC_MAP:
		if (depth <= 100)
			toml_map(b, v, "", 0, true, depth + 1);
		break;
	default: break;
	}
}

static void toml_indent(kbuf *b, int klen)
{
	if (klen > 1)
		kbuf_putn(b, ' ', (size_t)(klen - 1) * 2);
}

/* encode(key, v) for one entry of a non-inline table; key is the dotted
 * path (quoted where needed) of klen parts, name the last part */
static void toml_encode(kbuf *b, const doc_node *v, const char *key, int klen, const char *name, size_t nl,
			int depth)
{
	size_t i;
	if (tv_isnil(v) || depth > 100)
		return;
	if (v->type == DOC_MAP) {
		if (klen == 1)
			toml_newline(b);
		toml_indent(b, klen);
		kbuf_printf(b, "[%s]", key);
		toml_newline(b);
		toml_map(b, v, key, klen, false, depth + 1);
	} else if (toml_is_table(v)) {
		for (i = 0; i < v->u.seq.len; i++) {
			const doc_node *t = v->u.seq.v[i];
			if (tv_isnil(t))
				continue;
			toml_newline(b);
			toml_indent(b, klen);
			kbuf_printf(b, "[[%s]]", key);
			toml_newline(b);
			if (t->type == DOC_MAP)
				toml_map(b, t, key, klen, false, depth + 1);
		}
	} else {
		toml_indent(b, klen);
		toml_key(b, name, nl);
		kbuf_puts(b, " = ");
		toml_element(b, v, depth + 1);
		toml_newline(b);
	}
}

static void toml_keys(kbuf *b, const doc_pair **ps, size_t n, bool trail, const char *key, int klen, bool inl,
		      int depth)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const char *k = ps[i]->key->u.s.ptr;
		size_t kl = ps[i]->key->u.s.len;
		if (tv_isnil(ps[i]->val))
			continue;
		if (inl) {
			toml_key(b, k, kl);
			kbuf_puts(b, " = ");
			toml_element(b, ps[i]->val, depth + 1);
			if (trail || i + 1 != n)
				kbuf_puts(b, ", ");
		} else {
			kbuf full = KBUF_INIT;
			if (klen) {
				kbuf_puts(&full, key);
				kbuf_putc(&full, '.');
			}
			toml_key(&full, k, kl);
			toml_encode(b, ps[i]->val, full.ptr, klen + 1, k, kl, depth + 1);
			kbuf_release(&full);
		}
	}
}

/* eMap: keys without tables, then tables, each group sorted */
static void toml_map(kbuf *b, const doc_node *m, const char *key, int klen, bool inl, int depth)
{
	const doc_pair **ps = tv_sorted_pairs(m), **sub;
	size_t i, nd = 0, ns = 0;
	if (!ps)
		return;
	sub = malloc((m->u.map.len + 1) * sizeof(*sub));
	if (!sub) {
		free(ps);
		return;
	}
	for (i = 0; i < m->u.map.len; i++) {
		if (toml_is_table(ps[i]->val))
			sub[ns++] = ps[i];
		else
			ps[nd++] = ps[i];
	}
	if (inl)
		kbuf_putc(b, '{');
	toml_keys(b, ps, nd, ns > 0, key, klen, inl, depth);
	toml_keys(b, sub, ns, false, key, klen, inl, depth);
	if (inl)
		kbuf_putc(b, '}');
	free(sub);
	free(ps);
}

static int f_totoml(tctx *x, doc_node **out, doc_node **a, size_t n)
{
	kbuf b = KBUF_INIT;
	(void)n;
	if (!a[0] || a[0]->type != DOC_MAP) {
		*out = tv_strz(x->a, "toml: top-level values must be Go maps or structs");
		return 0;
	}
	if (toml_nil_element(a[0], 0)) {
		*out = tv_strz(x->a, "toml: cannot encode array with nil element");
		return 0;
	}
	toml_map(&b, a[0], "", 0, false, 0);
	*out = tv_str(x->a, b.ptr, b.len);
	kbuf_release(&b);
	return 0;
}

const tfunc tmpl_funcs_encoding[] = {
	{ "b64enc", f_b64enc, "s" },
	{ "b64dec", f_b64dec, "s" },
	{ "b32enc", f_b32enc, "s" },
	{ "b32dec", f_b32dec, "s" },
	{ "sha1sum", f_sha1sum, "s" },
	{ "sha256sum", f_sha256sum, "s" },
	{ "sha512sum", f_sha512sum, "s" },
	{ "adler32sum", f_adler32sum, "s" },
	{ "toJson", f_tojson, "a" },
	{ "mustToJson", f_musttojson, "a" },
	{ "toPrettyJson", f_toprettyjson, "a" },
	{ "mustToPrettyJson", f_musttoprettyjson, "a" },
	{ "toRawJson", f_torawjson, "a" },
	{ "mustToRawJson", f_musttorawjson, "a" },
	{ "fromJson", f_fromjson, "s" },
	{ "mustFromJson", f_mustfromjson, "s" },
	{ "fromJsonArray", f_fromjsonarray, "s" },
	{ "toYaml", f_toyaml, "a" },
	{ "mustToYaml", f_musttoyaml, "a" },
	{ "toYamlPretty", f_toyamlpretty, "a" },
	{ "fromYaml", f_fromyaml, "s" },
	{ "fromYamlArray", f_fromyamlarray, "s" },
	{ "toToml", f_totoml, "a" },
	{ NULL, NULL, NULL },
};
