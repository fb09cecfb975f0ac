/*
 * values/schema_ref.c - JSON Schema references: URIs resolved against a
 * base (RFC 3986, enough for $id and $ref), documents loaded (the embedded
 * meta-schemas or the caller's loader, never the network), and a $ref
 * resolved to its schema by anchor or JSON pointer.
 */
#include "schema_int.h"

#include <ctype.h>
#include <string.h>

size_t vs_scheme_len(const char *s)
{
	size_t i = 0;
	if (!isalpha((unsigned char)s[0]))
		return 0;
	while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
		i++;
	return s[i] == ':' ? i : 0;
}

static void remove_dots(kbuf *out, const char *path)
{
	/* RFC 3986 5.2.4 on a path (no query/fragment handling needed here) */
	kbuf in = KBUF_INIT;
	kbuf_puts(&in, path);
	kbuf_reset(out);
	{
		const char *p = in.ptr;
		while (*p) {
			if (!strncmp(p, "../", 3))
				p += 3;
			else if (!strncmp(p, "./", 2))
				p += 2;
			else if (!strncmp(p, "/./", 3))
				p += 2;
			else if (!strcmp(p, "/."))
				p += 1, kbuf_putc(out, '/'), p++;
			else if (!strncmp(p, "/../", 4) || !strcmp(p, "/..")) {
				char *sl;
				p += 3;
				sl = strrchr(out->ptr, '/');
				kbuf_truncate(out, sl ? (size_t)(sl - out->ptr) : 0);
				if (!*p)
					kbuf_putc(out, '/');
			} else if (!strcmp(p, ".") || !strcmp(p, ".."))
				break;
			else {
				const char *q = strchr(p + 1, '/');
				size_t n = q ? (size_t)(q - p) : strlen(p);
				kbuf_put(out, p, n);
				p += n;
			}
		}
	}
	kbuf_release(&in);
}

/* Resolve ref against base (RFC 3986, enough for JSON Schema ids). */
const char *vs_uri_resolve(karena *a, const char *base, const char *ref)
{
	kbuf b = KBUF_INIT, t = KBUF_INIT;
	const char *res;
	size_t sl, bl;
	if (!base)
		base = "";
	if (vs_scheme_len(ref) || !*base) {
		sl = vs_scheme_len(ref);
		if (sl && !strncmp(ref + sl, "://", 3)) {
			const char *auth = ref + sl + 3;
			const char *p = auth + strcspn(auth, "/?#");
			size_t pl = strcspn(p, "?#");
			kbuf tmp = KBUF_INIT;
			kbuf_put(&tmp, p, pl);
			remove_dots(&t, tmp.ptr);
			kbuf_release(&tmp);
			kbuf_put(&b, ref, (size_t)(p - ref));
			kbuf_puts(&b, t.ptr);
			kbuf_puts(&b, p + pl);
		} else {
			kbuf_puts(&b, ref);
		}
		goto done;
	}
	bl = strcspn(base, "#");
	if (ref[0] == '#' || !ref[0]) {
		kbuf_put(&b, base, bl);
		kbuf_puts(&b, ref);
		goto done;
	}
	sl = vs_scheme_len(base);
	if (!strncmp(ref, "//", 2)) {
		kbuf_put(&b, base, sl + 1);
		kbuf_puts(&b, ref);
		goto done;
	}
	{
		const char *auth_end = base + sl + 1;
		const char *pathp, *pend;
		if (!strncmp(auth_end, "//", 2))
			auth_end += 2 + strcspn(auth_end + 2, "/?#");
		pathp = auth_end;
		pend = pathp + strcspn(pathp, "?#");
		kbuf_put(&b, base, (size_t)(auth_end - base));
		if (ref[0] == '/') {
			size_t rl = strcspn(ref, "?#");
			kbuf tmp = KBUF_INIT;
			kbuf_put(&tmp, ref, rl);
			remove_dots(&t, tmp.ptr);
			kbuf_release(&tmp);
			kbuf_puts(&b, t.ptr);
			kbuf_puts(&b, ref + rl);
		} else if (ref[0] == '?') {
			kbuf_put(&b, pathp, (size_t)(pend - pathp));
			kbuf_puts(&b, ref);
		} else {
			kbuf tmp = KBUF_INIT;
			const char *last = NULL, *q;
			size_t rl = strcspn(ref, "?#");
			for (q = pathp; q < pend; q++)
				if (*q == '/')
					last = q;
			if (last)
				kbuf_put(&tmp, pathp, (size_t)(last - pathp + 1));
			else if (auth_end != base + sl + 1)
				kbuf_putc(&tmp, '/');
			kbuf_put(&tmp, ref, rl);
			if (tmp.ptr[0] == '/')
				remove_dots(&t, tmp.ptr);
			else
				kbuf_puts(&t, tmp.ptr);
			kbuf_release(&tmp);
			kbuf_puts(&b, t.ptr);
			kbuf_puts(&b, ref + rl);
		}
	}
done:
	/* an empty fragment is no fragment */
	if (b.len && b.ptr[b.len - 1] == '#')
		kbuf_truncate(&b, b.len - 1);
	res = karena_strndup(a, b.ptr, b.len);
	kbuf_release(&b);
	kbuf_release(&t);
	return res;
}

const char *vs_strip_fragment(karena *a, const char *uri, const char **frag)
{
	const char *h = strchr(uri, '#');
	if (!h) {
		*frag = "";
		return uri;
	}
	*frag = h + 1;
	return karena_strndup(a, uri, (size_t)(h - uri));
}

const doc_node *vs_load_remote(vs *v, const char *uri)
{
	const char *text = values_metaschema(uri);
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	if (text) {
		if (doc_load_json(&n, v->a, uri, text, strlen(text), &e))
			n = NULL;
		kerr_clear(&e);
	} else if (v->o && v->o->load) {
		if (v->o->load(v->o->load_ctx, uri, v->a, &n))
			n = NULL;
	}
	if (!n)
		return NULL;
	vs_add_document(v, uri, n, v->o && v->o->draft ? v->o->draft : 2020);
	return vs_res_find(v, uri) ? vs_res_find(v, uri) : n;
}

/* Resolve a reference from a schema whose base is base. */
const doc_node *vs_resolve_ref(vs *v, const char *base, const char *ref, int draft)
{
	const char *full = vs_uri_resolve(v->a, base, ref), *frag, *doc;
	const doc_node *root, *n;
	doc = vs_strip_fragment(v->a, full, &frag);
	root = vs_res_find(v, doc);
	if (!root)
		root = vs_load_remote(v, doc);
	if (!root)
		return NULL;
	if (!*frag)
		return root;
	if (frag[0] != '/') {
		kbuf key = KBUF_INIT;
		kbuf_printf(&key, "%s#", doc);
		values_pct_decode(&key, frag);
		n = vs_anc_find(v, key.ptr, false);
		kbuf_release(&key);
		return n;
	}
	{
		kbuf dec = KBUF_INIT, tok = KBUF_INIT;
		const char *p;
		const char *cur_base = doc;
		vs_info *inf;
		values_pct_decode(&dec, frag);
		n = root;
		p = dec.ptr + 1;
		for (;;) {
			const char *e = strchr(p, '/');
			size_t len = e ? (size_t)(e - p) : strlen(p);
			n = values_pointer_child(n, p, len, &tok);
			if (!n)
				break;
			if ((inf = vs_info_get(v, n)) != NULL) {
				cur_base = inf->base;
				draft = inf->draft;
			}
			if (!e)
				break;
			p = e + 1;
		}
		kbuf_release(&dec);
		kbuf_release(&tok);
		if (n && !vs_info_get(v, n))
			vs_walk(v, n, cur_base, draft, 0);
		return n;
	}
}
