/*
 * fetch/fetch.h - remote sources into a content-addressed cache.
 *
 * A source is fetched once into $XDG_CACHE_HOME/kstage/sha256/<digest>
 * (~/.cache/kstage when XDG_CACHE_HOME is unset; $KSTAGE_CACHE_DIR wins)
 * and verified by its pinned SHA-256 on the way in and on every use. Only
 * https:// URLs; the CA bundle is the system's unless $SSL_CERT_FILE names
 * another. This module never prints; it reports through kerr and kev.
 * (A later issue adds OCI, git, lock files and airgap bundles.)
 *
 * fetch/ is also kstage's one HTTP client (http.c): every module that
 * speaks HTTP sets its libcurl handles up with fetch_http_setup() (TLS,
 * proxies, timeouts, protocols) and fetches whole documents with
 * fetch_http_get() (retries with backoff, a size cap). Nothing else
 * configures libcurl.
 */
#ifndef KSTAGE_FETCH_H
#define KSTAGE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"

#define FETCH_MAX ((size_t)256 << 20)

/* How to reach a server. Zero is a sane default for every field. */
typedef struct fetch_http_opts {
	const char *ca_file;       /* CA bundle file; NULL: $SSL_CERT_FILE, else system CAs */
	const char *ca_pem;        /* in-memory CA bundle (wins over ca_file) */
	size_t ca_len;
	bool insecure;             /* do not verify the server's certificate */
	const char *proxy;         /* NULL: libcurl's https_proxy/no_proxy environment */
	bool allow_http;           /* plain http:// too (--plain-http); redirects stay https */
	long connect_timeout_ms;   /* 0: 15 s */
	long timeout_ms;           /* one whole transfer; 0: 5 minutes */
	size_t max_bytes;          /* 0: FETCH_MAX */
	int max_attempts;          /* 0: 4 */
	long base_delay_ms;        /* first backoff; 0: 300 ms, doubling, with jitter */
} fetch_http_opts;

/* curl_global_init, once per process. */
void fetch_http_global_init(void);
/* Set up a libcurl easy handle (a CURL *) as o says: TLS verification and
 * CA, proxy, connect timeout, protocols (https, and http if allowed;
 * redirects https only), user agent, no signals, TCP keep-alive. */
void fetch_http_setup(void *curl, const fetch_http_opts *o);
/* 0 when url may be fetched under o (https://, or http:// with
 * allow_http); else KE_INPUT saying why. */
int fetch_http_check_url(const char *url, const fetch_http_opts *o, kerr *err);
/* GET url into out (reset first; empty on failure), following https
 * redirects. Retries connection failures, 429 and 5xx with backoff.
 * Errors: KE_INPUT (URL refused), KE_LIMIT (over max_bytes), KE_IO. */
int fetch_http_get(kbuf *out, const char *url, const fetch_http_opts *o, kerr *err);
/* fetch_http_get with ctx a const fetch_http_opts *: the shape of a values
 * URL reader (values_url_reader), so values never fetch by themselves. */
int fetch_read_url(void *ctx, const char *url, kbuf *out, kerr *err);

typedef struct fetch_opts {
	const char *cache_dir;   /* NULL: the default above */
	const char *ca_file;     /* NULL: $SSL_CERT_FILE, else system CAs */
	bool offline;            /* never touch the network */
	const kev_sink *sink;
} fetch_opts;

/* The cache directory into out (not created). */
void fetch_cache_dir(kbuf *out, const fetch_opts *o);
/* Lowercase hex SHA-256 of data. */
void fetch_sha256_hex(const void *data, size_t len, char hex[65]);
/* Fetch url (https) pinned by sha256 (64 hex digits) into the cache and
 * read it into out. Errors: KE_INPUT for a bad digest or URL, KE_IO for
 * network failures, KE_ERROR for a digest mismatch (naming both digests). */
int fetch_url(kbuf *out, const char *url, const char *sha256, const fetch_opts *o, kerr *err);

#endif
