/*
 * fetch/fetch.c - https GET into the content-addressed cache, SHA-256
 * checked before a file gets its final name (write to a temporary file,
 * verify, rename), and again when read back.
 */
#include "fetch_int.h"
#include "core/alloc.h"
#include "doc/doc.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void fetch_cache_dir(kbuf *out, const fetch_opts *o)
{
	const char *d = o && o->cache_dir ? o->cache_dir : getenv("KSTAGE_CACHE_DIR");
	const char *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	if (d && *d)
		kbuf_puts(out, d);
	else if (x && *x)
		kbuf_printf(out, "%s/kstage", x);
	else
		kbuf_printf(out, "%s/.cache/kstage", h && *h ? h : "/tmp");
}

void fetch_sha256_hex(const void *data, size_t len, char hex[65])
{
	struct sha256_ctx c;
	unsigned char md[SHA256_DIGEST_SIZE];
	size_t i;
	sha256_init(&c);
	sha256_update(&c, len, data);
	sha256_digest(&c, sizeof(md), md);
	for (i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	hex[64] = '\0';
}

int fetch_mkdirs(const char *path)
{
	kbuf b = KBUF_INIT;
	size_t i;
	int rc = 0;
	kbuf_puts(&b, path);
	for (i = 1; i <= b.len && !rc; i++) {
		if (b.ptr[i] == '/' || b.ptr[i] == '\0') {
			char c = b.ptr[i];
			b.ptr[i] = '\0';
			if (mkdir(b.ptr, 0700) < 0 && errno != EEXIST)
				rc = -1;
			b.ptr[i] = c;
		}
	}
	kbuf_release(&b);
	return rc;
}

bool fetch_valid_sha256(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Apply the first rule of rules[0..n) ("FROM=TO") whose FROM prefixes
 * url. 1 when one applied, 0 when none, or KE_INPUT for a bad rule. */
static int apply_rules(kbuf *out, const char *url, const char *const *rules, size_t n, const char *where,
		       kerr *err)
{
	size_t i;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(rules[i], '=');
		size_t flen = eq ? (size_t)(eq - rules[i]) : 0;
		if (!eq || !flen || !eq[1])
			return kerr_set(err, KE_INPUT, "mirror rule \"%s\"%s: want FROM=TO, both non-empty", rules[i], where);
		if (!strncmp(url, rules[i], flen)) {
			kbuf_reset(out);
			kbuf_printf(out, "%s%s", eq + 1, url + flen);
			return 1;
		}
	}
	return 0;
}

/* The config file's mirror rules ("mirrors: [{from: X, to: Y}]") as
 * "FROM=TO" strings in a. */
static int config_mirrors(const char ***rules, size_t *n, kbuf *path, karena *a, const fetch_opts *o, kerr *err)
{
	kbuf text = KBUF_INIT;
	const char *c = o && o->config_file ? o->config_file : getenv("KSTAGE_CONFIG");
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
	doc_node *root = NULL, *m;
	size_t i;
	int rc = 0;
	*rules = NULL;
	*n = 0;
	if (c && *c)
		kbuf_puts(path, c);
	else if (x && *x)
		kbuf_printf(path, "%s/kstage/config.yaml", x);
	else if (h && *h)
		kbuf_printf(path, "%s/.config/kstage/config.yaml", h);
	if (!path->len || kbuf_read_file(&text, path->ptr, 1 << 20) != 0) {
		/* only a file named outright must exist */
		if (c && *c)
			rc = kerr_set(err, KE_INPUT, "config file \"%s\" cannot be read", c);
		goto done;
	}
	if ((rc = doc_load_yaml1(&root, a, path->ptr, text.ptr, text.len, NULL, err)))
		goto done;
	m = root && root->type == DOC_MAP ? doc_map_get(root, "mirrors") : NULL;
	if (!m)
		goto done;
	if (m->type != DOC_SEQ) {
		rc = kerr_set_at(err, KE_INPUT, path->ptr, m->line, m->col, "mirrors must be a list of {from, to}");
		goto done;
	}
	*rules = karena_alloc(a, (m->u.seq.len + 1) * sizeof(char *));
	for (i = 0; i < m->u.seq.len; i++) {
		const doc_node *r = m->u.seq.v[i];
		const char *from = r->type == DOC_MAP ? doc_get_str(r, "from", NULL) : NULL;
		const char *to = r->type == DOC_MAP ? doc_get_str(r, "to", NULL) : NULL;
		kbuf rule = KBUF_INIT;
		if (!from || !to || !*from || !*to) {
			rc = kerr_set_at(err, KE_INPUT, path->ptr, r->line, r->col,
					 "a mirror rule needs from and to, both non-empty strings");
			goto done;
		}
		kbuf_printf(&rule, "%s=%s", from, to);
		(*rules)[(*n)++] = karena_strdup(a, rule.ptr);
		kbuf_release(&rule);
	}
done:
	kbuf_release(&text);
	return rc;
}

int fetch_mirror_url(kbuf *out, const char *url, const fetch_opts *o, kerr *err)
{
	karena a;
	kbuf cfg = KBUF_INIT, where = KBUF_INIT;
	const char **rules;
	size_t n;
	int rc;
	kbuf_reset(out);
	kbuf_puts(out, url);
	rc = apply_rules(out, url, o ? o->mirrors : NULL, o ? o->nmirrors : 0, " (--mirror)", err);
	karena_init(&a);
	if (rc == 0 && !(rc = config_mirrors(&rules, &n, &cfg, &a, o, err))) {
		kbuf_printf(&where, " (in %s)", cfg.ptr);
		rc = apply_rules(out, url, rules, n, where.ptr, err);
	}
	karena_release(&a);
	kbuf_release(&cfg);
	kbuf_release(&where);
	if (rc < 0)
		return rc;
	if (rc == 1 && !strncmp(url, "oci://", 6)) {
		if (strncmp(out->ptr, "oci://", 6))
			return kerr_set(err, KE_INPUT, "mirror rewrites %s to \"%s\": an oci:// reference stays oci://",
					url, out->ptr);
	} else if (rc == 1 && strncmp(out->ptr, "https://", 8) &&
		   !(o && o->allow_http && !strncmp(out->ptr, "http://", 7))) {
		return kerr_set(err, KE_INPUT, "mirror rewrites %s to \"%s\": only https:// (http:// with "
				"--allow-insecure-http)", url, out->ptr);
	}
	return 0;
}

static int download(kbuf *out, kbuf *resolved, const char *url, const fetch_opts *o, kerr *err)
{
	fetch_http_opts ho;
	kbuf from = KBUF_INIT;
	int rc;
	memset(&ho, 0, sizeof(ho));
	if ((rc = fetch_mirror_url(&from, url, o, err)))
		goto done;
	ho.ca_file = o ? o->ca_file : NULL;
	ho.allow_http = o && o->allow_http;
	ho.base_delay_ms = o ? o->base_delay_ms : 0;
	ho.max_bytes = o ? o->max_bytes : 0;
	ho.connect_timeout_ms = o ? o->connect_timeout_ms : 0;
	ho.timeout_ms = o ? o->timeout_ms : 0;
	ho.effective_url = resolved;
	ho.progress = o ? o->sink : NULL;
	ho.progress_name = url;
	if (strcmp(from.ptr, url))
		kev_emitf(o ? o->sink : NULL, KEV_INFO, "fetch.start", "fetching %s from %s", url, from.ptr);
	else
		kev_emitf(o ? o->sink : NULL, KEV_INFO, "fetch.start", "fetching %s", url);
	rc = fetch_http_get(out, from.ptr, &ho, err);
done:
	if (rc)
		kerr_wrap(err, "fetch %s", url);
	kbuf_release(&from);
	return rc;
}

void fetch_cache_store(const char *dir, const char *hex, const kbuf *data)
{
	kbuf sub = KBUF_INIT, tmp = KBUF_INIT, path = KBUF_INIT;
	int fd;
	kbuf_printf(&sub, "%s/sha256", dir);
	if (fetch_mkdirs(sub.ptr) != 0)
		goto done;
	kbuf_printf(&tmp, "%s/.tmp-%s-XXXXXX", sub.ptr, hex);
	kbuf_printf(&path, "%s/%s", sub.ptr, hex);
	fd = mkstemp(tmp.ptr);
	if (fd < 0)
		goto done;
	{
		size_t off = 0;
		bool ok = fchmod(fd, 0600) == 0;
		while (ok && off < data->len) {
			ssize_t w = write(fd, data->ptr + off, data->len - off);
			if (w < 0 && errno == EINTR)
				continue;
			ok = w > 0;
			off += ok ? (size_t)w : 0;
		}
		ok = close(fd) == 0 && ok;
		if (!ok || rename(tmp.ptr, path.ptr) != 0)
			unlink(tmp.ptr);
	}
done:
	kbuf_release(&sub);
	kbuf_release(&tmp);
	kbuf_release(&path);
}

void fetch_result_set(fetch_result *res, const void *data, size_t len, const char *resolved)
{
	if (!res)
		return;
	res->extra[0] = '\0';
	fetch_sha256_hex(data, len, res->sha256);
	res->size = len;
	kbuf_reset(&res->resolved);
	kbuf_puts(&res->resolved, resolved);
}

int fetch_cache_add(const fetch_opts *o, const void *data, size_t len, char hex[65], kerr *err)
{
	kbuf dir = KBUF_INIT, b = KBUF_INIT, p = KBUF_INIT;
	char h[65];
	int rc = 0;
	fetch_sha256_hex(data, len, h);
	fetch_cache_dir(&dir, o);
	kbuf_put(&b, data, len);
	fetch_cache_store(dir.ptr, h, &b);
	kbuf_printf(&p, "%s/sha256/%s", dir.ptr, h);
	if (access(p.ptr, R_OK) != 0)
		rc = kerr_set(err, KE_IO, "cannot write the cache entry %s", p.ptr);
	if (hex)
		memcpy(hex, h, 65);
	kbuf_release(&dir);
	kbuf_release(&b);
	kbuf_release(&p);
	return rc;
}

int fetch_cache_read(kbuf *out, kbuf *path, const char *dir, const char *hex, const kev_sink *sink)
{
	kbuf p = KBUF_INIT;
	char got[65];
	int rc = -1;
	kbuf_reset(out);
	kbuf_printf(&p, "%s/sha256/%s", dir, hex);
	if (kbuf_read_file(out, p.ptr, FETCH_MAX) == 0) {
		fetch_sha256_hex(out->ptr, out->len, got);
		if (!strcmp(got, hex)) {
			rc = 0;
		} else {
			/* a damaged cache entry: never used, fetched again */
			kev_emitf(sink, KEV_WARN, "fetch.damaged", "cache entry %s has sha256 %s: removed", p.ptr, got);
			unlink(p.ptr);
		}
	}
	if (rc)
		kbuf_reset(out);
	if (path) {
		kbuf_reset(path);
		kbuf_puts(path, p.ptr);
	}
	kbuf_release(&p);
	return rc;
}

int fetch_get(kbuf *out, fetch_result *res, const char *url, const char *sha256, const fetch_opts *o, kerr *err)
{
	kbuf dir = KBUF_INIT, path = KBUF_INIT, data = KBUF_INIT, resolved = KBUF_INIT;
	char got[65];
	int rc = 0;

	if (strncmp(url, "https://", 8))
		return kerr_set(err, KE_INPUT, "source url \"%s\" is not https://", url);
	if (sha256 && !fetch_valid_sha256(sha256))
		return kerr_set(err, KE_INPUT, "source %s: sha256 must be 64 lowercase hex digits", url);
	fetch_cache_dir(&dir, o);
	if (sha256) {
		if (fetch_cache_read(&data, &path, dir.ptr, sha256, o ? o->sink : NULL) == 0) {
			kev_emit(o ? o->sink : NULL, KEV_DEBUG, "fetch.cached", url, "url", url, "path", path.ptr, NULL);
			kbuf_puts(&resolved, url);
			goto done;
		}
	}
	if (o && o->offline) {
		if (sha256)
			rc = kerr_set(err, KE_IO, "fetch %s: not in the cache (%s) and --offline was given", url, path.ptr);
		else
			rc = kerr_set(err, KE_IO, "fetch %s: not pinned, so not resolvable with --offline", url);
		goto done;
	}
	if ((rc = download(&data, &resolved, url, o, err)))
		goto done;
	fetch_sha256_hex(data.ptr, data.len, got);
	if (sha256 && strcmp(got, sha256)) {
		rc = kerr_set(err, KE_INPUT, "fetch %s: sha256 mismatch: pinned %s, got %s (%zu bytes from %s): not using it",
			      url, sha256, got, data.len, resolved.ptr);
		goto done;
	}
	fetch_cache_store(dir.ptr, got, &data);
done:
	if (!rc) {
		kbuf_put(out, data.ptr, data.len);
		fetch_result_set(res, data.ptr, data.len, resolved.ptr);
	}
	kbuf_release(&dir);
	kbuf_release(&path);
	kbuf_release(&data);
	kbuf_release(&resolved);
	return rc;
}

int fetch_url(kbuf *out, const char *url, const char *sha256, const fetch_opts *o, kerr *err)
{
	if (!fetch_valid_sha256(sha256))
		return kerr_set(err, KE_INPUT, "source %s: sha256 must be 64 lowercase hex digits", url);
	return fetch_get(out, NULL, url, sha256, o, err);
}
