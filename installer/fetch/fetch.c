/*
 * fetch/fetch.c - https GET into the content-addressed cache, SHA-256
 * checked before a file gets its final name (write to a temporary file,
 * verify, rename), and again when read back.
 */
#include "fetch.h"
#include "core/alloc.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

static int mkdirs(const char *path)
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

static bool valid_digest(const char *s)
{
	size_t i;
	if (!s || strlen(s) != 64)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int download(kbuf *out, const char *url, const fetch_opts *o, kerr *err)
{
	fetch_http_opts ho;
	int rc;
	memset(&ho, 0, sizeof(ho));
	ho.ca_file = o ? o->ca_file : NULL;
	rc = fetch_http_get(out, url, &ho, err);
	if (rc)
		kerr_wrap(err, "fetch");
	return rc;
}

int fetch_url(kbuf *out, const char *url, const char *sha256, const fetch_opts *o, kerr *err)
{
	kbuf dir = KBUF_INIT, path = KBUF_INIT, tmp = KBUF_INIT, data = KBUF_INIT;
	char got[65];
	int rc = 0;
	FILE *f;

	if (strncmp(url, "https://", 8))
		return kerr_set(err, KE_INPUT, "source url \"%s\" is not https://", url);
	if (!valid_digest(sha256))
		return kerr_set(err, KE_INPUT, "source %s: sha256 must be 64 lowercase hex digits", url);
	fetch_cache_dir(&dir, o);
	kbuf_printf(&path, "%s/sha256/%s", dir.ptr, sha256);
	if (kbuf_read_file(&data, path.ptr, FETCH_MAX) == 0) {
		fetch_sha256_hex(data.ptr, data.len, got);
		if (!strcmp(got, sha256)) {
			kev_emit(o ? o->sink : NULL, KEV_DEBUG, "fetch.cached", url, "url", url, "path", path.ptr, NULL);
			goto done;
		}
		/* a damaged cache entry: fetch again */
		unlink(path.ptr);
	}
	if (o && o->offline) {
		rc = kerr_set(err, KE_IO, "fetch %s: not in the cache (%s) and --offline was given", url, path.ptr);
		goto done;
	}
	kev_emitf(o ? o->sink : NULL, KEV_INFO, "fetch.start", "fetching %s", url);
	if ((rc = download(&data, url, o, err)))
		goto done;
	fetch_sha256_hex(data.ptr, data.len, got);
	if (strcmp(got, sha256)) {
		rc = kerr_set(err, KE_ERROR, "fetch %s: sha256 mismatch: pinned %s, got %s (%zu bytes): not using it",
			      url, sha256, got, data.len);
		goto done;
	}
	kbuf_printf(&tmp, "%s/sha256", dir.ptr);
	if (mkdirs(tmp.ptr) == 0) {
		kbuf_printf(&tmp, "/.tmp-%ld-%s", (long)getpid(), sha256);
		f = fopen(tmp.ptr, "wb");
		if (f) {
			bool ok = fwrite(data.ptr, 1, data.len, f) == data.len;
			ok = fclose(f) == 0 && ok;
			if (!ok || rename(tmp.ptr, path.ptr) != 0)
				unlink(tmp.ptr);
		}
	}
	/* a cache we cannot write is not an error: we have the bytes */
done:
	if (!rc)
		kbuf_put(out, data.ptr, data.len);
	kbuf_release(&dir);
	kbuf_release(&path);
	kbuf_release(&tmp);
	kbuf_release(&data);
	return rc;
}
