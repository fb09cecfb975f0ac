/*
 * fetch/lock.c - kstage.lock: one entry per url source (its url as the
 * key, where it resolved, its sha256 and size), read with positions so a
 * mismatch can name the lock line, and written atomically.
 */
#include "fetch.h"
#include "doc/doc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_MAX_BYTES ((size_t)4 << 20)

#define AT(e, n, ...) kerr_add_at((e), KE_INPUT, name, (n)->line, (n)->col, __VA_ARGS__)

static const char *want_str(const doc_node *m, const char *key, const char *name, kerr *err)
{
	const doc_node *v = doc_map_get(m, key);
	if (!v) {
		AT(err, m, "lock entry needs %s", key);
		return NULL;
	}
	if (v->type != DOC_STR || !v->u.s.len) {
		AT(err, v, "lock entry %s must be a non-empty string", key);
		return NULL;
	}
	/* what fetch_lock_format writes back must read the same: printable
	 * ASCII only (URLs are percent-encoded; YAML folds NEL and friends) */
	for (size_t i = 0; i < v->u.s.len; i++)
		if ((unsigned char)v->u.s.ptr[i] < 0x20 || (unsigned char)v->u.s.ptr[i] > 0x7e) {
			AT(err, v, "lock entry %s must be printable ASCII (byte 0x%02x at %zu)", key,
			   (unsigned char)v->u.s.ptr[i], i);
			return NULL;
		}
	return v->u.s.ptr;
}

static void parse_entry(fetch_lock_entry *e, const doc_node *m, const char *name, kerr *err)
{
	static const char *const keys[] = { "stage", "url", "resolved", "sha256", "size", NULL };
	const doc_node *sz;
	size_t i, k;
	memset(e, 0, sizeof(*e));
	e->line = m->line;
	if (m->type != DOC_MAP) {
		AT(err, m, "a lock entry must be a map of stage, url, resolved, sha256, size");
		return;
	}
	for (i = 0; i < m->u.map.len; i++) {
		for (k = 0; keys[k] && !doc_key_is(m->u.map.v[i].key, keys[k]); k++)
			;
		if (!keys[k]) {
			kbuf q = KBUF_INIT;
			doc_json_quote(&q, m->u.map.v[i].key->u.s.ptr, m->u.map.v[i].key->u.s.len, 0);
			AT(err, m->u.map.v[i].val, "unknown key %s in a lock entry", q.ptr);
			kbuf_release(&q);
		}
	}
	e->stage = want_str(m, "stage", name, err);
	e->url = want_str(m, "url", name, err);
	e->resolved = want_str(m, "resolved", name, err);
	e->sha256 = want_str(m, "sha256", name, err);
	if (e->sha256) {
		e->line = doc_map_get(m, "sha256")->line;
		e->col = doc_map_get(m, "sha256")->col;
	}
	if (e->sha256 && (strlen(e->sha256) != 64 || strspn(e->sha256, "0123456789abcdef") != 64))
		AT(err, doc_map_get(m, "sha256"), "lock sha256 must be 64 lowercase hex digits");
	if (e->url && strncmp(e->url, "https://", 8) && strncmp(e->url, "oci://", 6) && strncmp(e->url, "git+", 4))
		AT(err, doc_map_get(m, "url"), "lock url \"%s\" is not https://, oci:// or git+", e->url);
	sz = doc_map_get(m, "size");
	if (!sz)
		AT(err, m, "lock entry needs size");
	else if (sz->type != DOC_INT || sz->u.i < 0 || (uint64_t)sz->u.i > FETCH_MAX)
		AT(err, sz, "lock size must be a byte count up to %zu", FETCH_MAX);
	else
		e->size = (size_t)sz->u.i;
}

int fetch_lock_parse(fetch_lock *out, karena *a, const char *name, const char *text, size_t len, kerr *err)
{
	doc_node *root = NULL;
	const doc_node *v, *src;
	size_t i, j;
	int rc;
	memset(out, 0, sizeof(*out));
	out->file = karena_strdup(a, name);
	if ((rc = doc_load_yaml1(&root, a, name, text, len, NULL, err)))
		return rc;
	if (root->type == DOC_NULL)
		return 0;
	if (root->type != DOC_MAP)
		return kerr_set_at(err, KE_INPUT, name, root->line, root->col, "a lock file is a map: version, sources");
	for (i = 0; i < root->u.map.len; i++)
		if (!doc_key_is(root->u.map.v[i].key, "version") && !doc_key_is(root->u.map.v[i].key, "sources")) {
			kbuf q = KBUF_INIT;
			doc_json_quote(&q, root->u.map.v[i].key->u.s.ptr, root->u.map.v[i].key->u.s.len, 0);
			AT(err, root->u.map.v[i].val, "unknown key %s in the lock file", q.ptr);
			kbuf_release(&q);
		}
	v = doc_map_get(root, "version");
	if (!v || v->type != DOC_INT || v->u.i != 1)
		AT(err, v ? v : root, "lock file version must be 1");
	src = doc_map_get(root, "sources");
	if (src && src->type != DOC_SEQ && src->type != DOC_NULL)
		AT(err, src, "lock sources must be a list");
	else if (src && src->type == DOC_SEQ && src->u.seq.len) {
		out->v = karena_alloc(a, src->u.seq.len * sizeof(*out->v));
		for (i = 0; i < src->u.seq.len; i++) {
			fetch_lock_entry *e = &out->v[out->len];
			parse_entry(e, src->u.seq.v[i], name, err);
			for (j = 0; e->url && j < out->len; j++)
				if (out->v[j].url && !strcmp(out->v[j].url, e->url))
					AT(err, src->u.seq.v[i], "url %s is locked twice (also at line %u)", e->url,
					   out->v[j].line);
			out->len++;
		}
	}
	return err->code ? KE_INPUT : 0;
}

int fetch_lock_load(fetch_lock *out, karena *a, const char *path, kerr *err)
{
	kbuf text = KBUF_INIT;
	int rc;
	memset(out, 0, sizeof(*out));
	out->file = karena_strdup(a, path);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if (kbuf_read_file(&text, path, LOCK_MAX_BYTES) != 0) {
		kbuf_release(&text);
		return kerr_set(err, KE_INPUT, "cannot read the lock file %s (at most %zu bytes)", path, LOCK_MAX_BYTES);
	}
	rc = fetch_lock_parse(out, a, path, text.ptr, text.len, err);
	kbuf_release(&text);
	return rc;
}

const fetch_lock_entry *fetch_lock_find(const fetch_lock *l, const char *url)
{
	size_t i;
	for (i = 0; l && i < l->len; i++)
		if (l->v[i].url && !strcmp(l->v[i].url, url))
			return &l->v[i];
	return NULL;
}

static void put_field(kbuf *out, const char *indent, const char *key, const char *val)
{
	kbuf_printf(out, "%s%s: ", indent, key);
	doc_json_quote(out, val, strlen(val), 0);
	kbuf_putc(out, '\n');
}

void fetch_lock_format(kbuf *out, const fetch_lock *l)
{
	size_t i;
	kbuf_puts(out, "# kstage.lock: written by `kstage fetch --update-lock`; every other command\n"
		       "# refuses a url source that is not pinned here or in kstage.yaml\n"
		       "version: 1\n");
	if (!l->len) {
		kbuf_puts(out, "sources: []\n");
		return;
	}
	kbuf_puts(out, "sources:\n");
	for (i = 0; i < l->len; i++) {
		const fetch_lock_entry *e = &l->v[i];
		put_field(out, "  - ", "stage", e->stage);
		put_field(out, "    ", "url", e->url);
		put_field(out, "    ", "resolved", e->resolved);
		put_field(out, "    ", "sha256", e->sha256);
		kbuf_printf(out, "    size: %zu\n", e->size);
	}
}

int fetch_lock_write(const fetch_lock *l, const char *path, kerr *err)
{
	kbuf text = KBUF_INIT, tmp = KBUF_INIT;
	int fd, rc = 0;
	size_t off = 0;
	fetch_lock_format(&text, l);
	kbuf_printf(&tmp, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp.ptr);
	if (fd < 0) {
		rc = kerr_set(err, KE_IO, "cannot write %s: %s", path, strerror(errno));
		goto done;
	}
	while (off < text.len) {
		ssize_t w = write(fd, text.ptr + off, text.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	/* the lock is reviewed and committed like kstage.yaml: 0644 */
	if (off != text.len || fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		rc = kerr_set(err, KE_IO, "cannot write %s: %s", tmp.ptr, strerror(errno ? errno : EIO));
		close(fd);
		unlink(tmp.ptr);
		goto done;
	}
	if (close(fd) != 0 || rename(tmp.ptr, path) != 0) {
		rc = kerr_set(err, KE_IO, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp.ptr);
	}
done:
	kbuf_release(&text);
	kbuf_release(&tmp);
	return rc;
}
