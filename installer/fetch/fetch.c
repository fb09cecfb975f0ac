/*
 * fetch/fetch.c - https GET into the content-addressed cache, SHA-256
 * checked before a file gets its final name (write to a temporary file,
 * verify, rename), and again when read back.
 */
#include "fetch.h"
#include "core/alloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FETCH_MAX ((size_t)256 << 20)

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

static size_t on_write(char *p, size_t sz, size_t n, void *u)
{
	kbuf *b = u;
	if (b->len + sz * n > FETCH_MAX || kbuf_put(b, p, sz * n) < 0)
		return 0;
	return sz * n;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static int download(kbuf *out, const char *url, const fetch_opts *o, kerr *err)
{
	const char *ca = o && o->ca_file ? o->ca_file : getenv("SSL_CERT_FILE");
	int attempt, rc = 0;
	pthread_once(&once, init_once);
	for (attempt = 1; attempt <= 4; attempt++) {
		CURL *h = curl_easy_init();
		char ebuf[CURL_ERROR_SIZE] = "";
		CURLcode cc;
		long status = 0;
		bool retry = false;
		kbuf_reset(out);
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
		curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 300000L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "kstage/" KSTAGE_VERSION);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
		if (ca && *ca)
			curl_easy_setopt(h, CURLOPT_CAINFO, ca);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_cleanup(h);
		if (cc != CURLE_OK) {
			rc = kerr_set(err, KE_IO, "fetch %s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(cc));
			retry = cc != CURLE_PEER_FAILED_VERIFICATION && cc != CURLE_UNSUPPORTED_PROTOCOL &&
				cc != CURLE_WRITE_ERROR;
		} else if (status >= 400) {
			rc = kerr_set(err, KE_IO, "fetch %s: HTTP %ld", url, status);
			retry = status >= 500 || status == 429;
		} else {
			rc = 0;
			break;
		}
		if (!retry || attempt == 4)
			break;
		{
			struct timespec ts = { 0, 300000000L * attempt };
			nanosleep(&ts, NULL);
		}
	}
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
