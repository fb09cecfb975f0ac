/*
 * fetch/fetch.h - remote sources into a content-addressed cache.
 *
 * A source is fetched once into $XDG_CACHE_HOME/kstage/sha256/<digest>
 * (~/.cache/kstage when XDG_CACHE_HOME is unset; $KSTAGE_CACHE_DIR wins)
 * and verified by its pinned SHA-256 on the way in and on every use.
 * Sources: https:// URLs (fetch.c), Helm charts in OCI registries (oci.c:
 * manifest and layer, both by digest), and directories of git
 * repositories (git.c, through libgit2, as a canonical tar). The CA bundle
 * is the system's unless $SSL_CERT_FILE names another. This module never
 * prints; it reports through kerr and kev.
 *
 * Cache files are written to a unique temporary file (0600) in the cache
 * directory (0700) and renamed into place only once their digest checks,
 * so concurrent runs never see a partial file; a damaged entry is never
 * used. Mirror rules ("FROM=TO" prefix rewrites, from the command line
 * and then from the config file) change where bytes come from, never the
 * digest they must have. The lock file (lock.c) pins each url source.
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

#include "core/arena.h"
#include "core/archive.h"
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
	kbuf *effective_url;       /* if set: the URL the bytes came from (after redirects) */
	const char *const *headers;  /* extra request headers ("Name: value"), NULL-terminated */
	kbuf *resp_headers;        /* if set: the header lines of the last response */
	long *status;              /* if set: the last HTTP status; a 4xx other than 429 is
				    * then no error (the caller judges it; out has its body) */
	const kev_sink *progress;  /* if set: "fetch.progress" events (fields name, bytes, total,
				    * done) at most every 500 ms and once at the end */
	const char *progress_name; /* what the events name (default: the URL) */
	const char *method;        /* NULL: GET; "PUT" or "POST" send body */
	const void *body;
	size_t body_len;
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
/* One request of any method (a test stage's). */
typedef struct fetch_http_request {
	const char *method;          /* GET, POST, PUT, PATCH, DELETE, HEAD */
	const char *url;
	const char *const *headers;  /* "Name: value" lines ("Host: x" sets the Host) */
	size_t nheaders;
	const char *body;            /* or NULL */
	size_t body_len;
} fetch_http_request;

/* Send rq once (no retries, no redirects): *status gets the HTTP status
 * of any answer, out (reset first) its body. KE_INPUT for a URL refused
 * under o, KE_LIMIT for a body over max_bytes, KE_IO when no answer came
 * (connection, TLS, timeout). */
int fetch_http_send(kbuf *out, long *status, const fetch_http_request *rq, const fetch_http_opts *o, kerr *err);
/* fetch_http_get with ctx a const fetch_http_opts *: the shape of a values
 * URL reader (values_url_reader), so values never fetch by themselves. */
int fetch_read_url(void *ctx, const char *url, kbuf *out, kerr *err);

typedef struct fetch_opts {
	const char *cache_dir;   /* NULL: the default above */
	const char *ca_file;     /* NULL: $SSL_CERT_FILE, else system CAs */
	bool offline;            /* never touch the network */
	const kev_sink *sink;
	const char *const *mirrors;  /* "FROM=TO" prefix rewrites, first match wins */
	size_t nmirrors;
	const char *config_file; /* mirrors: too; NULL: $KSTAGE_CONFIG, else
				  * $XDG_CONFIG_HOME/kstage/config.yaml (~/.config) */
	bool allow_http;         /* mirrors may rewrite to http:// */
	long base_delay_ms;      /* first retry backoff; 0: fetch/http.c's default */
	size_t max_bytes;        /* a download larger than this is refused (KE_LIMIT); 0: FETCH_MAX */
	long connect_timeout_ms; /* 0: fetch/http.c's default */
	long timeout_ms;         /* one whole transfer; 0: fetch/http.c's default */
	const char *registry_config; /* Docker config.json with registry credentials; NULL: Helm's,
				      * then Docker's (see oci.c) */
} fetch_opts;

/* What a fetch resolved: the digest and size of the bytes, and where they
 * came from (after mirror rules and redirects). */
typedef struct fetch_result {
	char sha256[65];
	char extra[65];          /* one more cache entry the source needs (an OCI chart's layer), or "" */
	size_t size;
	kbuf resolved;           /* release with kbuf_release */
} fetch_result;

/* Put data into the cache under its sha256 (computed) and say it in hex
 * (may be NULL). KE_IO when the cache cannot be written. */
int fetch_cache_add(const fetch_opts *o, const void *data, size_t len, char hex[65], kerr *err);
/* The cache directory into out (not created). */
void fetch_cache_dir(kbuf *out, const fetch_opts *o);
/* s is 64 lowercase hex digits (a SHA-256 as kstage writes them). */
bool fetch_valid_sha256(const char *s);
/* Lowercase hex SHA-256 of data. */
void fetch_sha256_hex(const void *data, size_t len, char hex[65]);
/* Fetch url (https) pinned by sha256 (64 hex digits) into the cache and
 * read it into out. Errors: KE_INPUT for a bad digest or URL, KE_IO for
 * network failures, KE_ERROR for a digest mismatch (naming both digests). */
int fetch_url(kbuf *out, const char *url, const char *sha256, const fetch_opts *o, kerr *err);
/* As fetch_url; sha256 NULL resolves: the bytes are downloaded (never
 * read from the cache), their digest computed, and they are cached. res
 * (may be NULL; initialise its kbuf) says what was fetched. Errors:
 * KE_INPUT also for a digest mismatch (naming both digests) and a bad
 * mirror rule, KE_LIMIT over the size cap, KE_IO for the network and for
 * a source missing offline (naming it and the cache path). */
int fetch_get(kbuf *out, fetch_result *res, const char *url, const char *sha256, const fetch_opts *o, kerr *err);
/* Where url is fetched from under o's mirror rules (flags, then the
 * config file) into out. KE_INPUT for a malformed rule, a config file
 * that does not parse, or a rewrite to plain http without allow_http. */
int fetch_mirror_url(kbuf *out, const char *url, const fetch_opts *o, kerr *err);

/* ---- OCI registries (oci.c) ---- */

/* oci://HOST/REPO[:TAG], parsed; strings in the arena. */
typedef struct fetch_oci_ref {
	const char *host;        /* host[:port] */
	const char *repo;        /* a/b/c */
	const char *tag;         /* NULL when the reference has none */
} fetch_oci_ref;

/* Parse and check an oci:// reference (the repository as the distribution
 * spec allows it, a valid tag). KE_INPUT saying what is wrong. */
int fetch_oci_ref_parse(fetch_oci_ref *out, karena *a, const char *ref, kerr *err);
/* Push data as a one-layer OCI artifact to ref (oci://HOST/REPO:TAG): the
 * layer (media type layer_type) and an empty JSON config (config_type)
 * as blobs, then the manifest under TAG. manifest_hex (may be NULL) gets
 * the manifest's sha256. Authentication as for pulls (scope pull,push). */
int fetch_oci_push(const char *ref, const void *data, size_t len, const char *config_type, const char *layer_type,
		   char manifest_hex[65], const fetch_opts *o, kerr *err);
/* Pull the one layer of the artifact at ref (oci://HOST/REPO:TAG) whose
 * config media type is config_type into out, the manifest and layer
 * checked by digest. manifest_hex (may be NULL) gets its sha256. */
int fetch_oci_pull(kbuf *out, const char *ref, const char *config_type, char manifest_hex[65], const fetch_opts *o,
		   kerr *err);
/* The tags of the repository of ref (oci://HOST/REPO, after o's mirror
 * rules; GET /v2/REPO/tags/list), one a line, appended to out. KE_IO
 * with --offline. */
int fetch_oci_tags(kbuf *out, const char *ref, const fetch_opts *o, kerr *err);
/* The Helm chart ref (oci://HOST/REPO) at version (its tag, "+" as "_";
 * NULL: the ref's own tag; with digest it may be a range, then unused)
 * into out (appended): pinned by digest (the
 * manifest's sha256, 64 hex; NULL resolves the tag), from the cache when
 * there, else from the registry after o's mirror rules; the manifest must
 * be a Helm chart's (config application/vnd.cncf.helm.config.v1+json, a
 * layer application/vnd.cncf.helm.chart.content.v1.tar+gzip) and the
 * layer must have the digest and size the manifest gives. res (may be
 * NULL; initialise its kbuf): sha256 the manifest digest, size the
 * chart's, resolved "oci://HOST/REPO[:TAG]@sha256:..." (after mirror rules).
 * Errors: KE_INPUT for a bad reference, a digest mismatch (naming both),
 * not a chart, a 404, refused credentials; KE_LIMIT over the size cap;
 * KE_IO for the network and for a chart missing --offline. */
int fetch_oci_chart(kbuf *out, fetch_result *res, const char *ref, const char *version, const char *digest,
		    const fetch_opts *o, kerr *err);

/* ---- git repositories (git.c) ---- */

/* The directory path (NULL or "": the whole tree) of the git repository
 * url (https://, file://, http:// with o->allow_http; after o's mirror
 * rules) at ref (a tag, a branch, a full refs/... name or a commit id),
 * as a canonical tar (see git.c) into out (appended). commit (hex, may be
 * NULL) is the commit the lock pins: it must be in what ref fetches.
 * sha256 (may be NULL) pins the tar; with it a cached copy is used and
 * nothing is fetched. res (may be NULL; initialise its kbuf): the tar's
 * sha256 and size, resolved "URL@COMMIT". Errors: KE_INPUT (no such ref,
 * path or commit, a submodule, a digest mismatch naming both), KE_LIMIT,
 * KE_IO (network, git, missing --offline). */
int fetch_git(kbuf *out, fetch_result *res, const char *url, const char *ref, const char *path, const char *commit,
	      const char *sha256, const fetch_opts *o, kerr *err);

/* ---- writing archives (tar.c) ---- */

typedef enum fetch_tar_type { FETCH_TAR_FILE, FETCH_TAR_DIR, FETCH_TAR_SYMLINK } fetch_tar_type;

/* Append one ustar entry (owner 0, time 0; data for files, link for
 * symlinks) to tar. -1 when path or link do not fit a ustar header (path
 * up to 100 bytes, or 155 + 100 split at a '/'; link up to 100) or tar is
 * full. */
int fetch_tar_add(kbuf *tar, const char *path, fetch_tar_type type, unsigned mode, const void *data, size_t len,
		  const char *link);
/* The two zero blocks that end a tar. */
int fetch_tar_end(kbuf *tar);
/* gzip data (zlib, level 6) onto out. */
int fetch_gzip(kbuf *out, const void *data, size_t len, kerr *err);

/* ---- archives (archive.c), read by core/archive.h ---- */

/* rm -rf dir (symlinks are removed, never followed). */
void fetch_rmtree(const char *dir);
/* Extract into dir, which is created (0700) and must not exist: files
 * 0644, directories 0755, no owners or special bits; never through a
 * symlink; every symlink must then resolve inside dir. On any error dir is
 * removed with everything in it. */
int fetch_archive_extract(const void *data, size_t len, const char *name, const char *dir,
			  const karchive_limits *lim, kerr *err);

/* ---- kstage.lock (lock.c) ----
 *
 *   # kstage.lock: written by `kstage fetch --update-lock`
 *   version: 1
 *   sources:
 *     - stage: gateway-api-crds
 *       url: https://github.com/...        as written in kstage.yaml (the key)
 *       resolved: https://mirror/...       where the bytes came from
 *       sha256: <64 hex>
 *       size: 12345
 *
 * Everything lives in the arena it is loaded into. */
typedef struct fetch_lock_entry {
	const char *stage, *url, *resolved, *sha256;
	size_t size;
	unsigned line, col;      /* of its sha256 in the lock file; 0 when made by code */
} fetch_lock_entry;

typedef struct fetch_lock {
	const char *file;        /* the lock file's path */
	fetch_lock_entry *v;
	size_t len;
} fetch_lock;

/* Load path into out; a missing file is an empty lock. Every problem
 * comes with file:line:col (KE_INPUT). */
int fetch_lock_load(fetch_lock *out, karena *a, const char *path, kerr *err);
/* Parse lock text (name is used in locations). */
int fetch_lock_parse(fetch_lock *out, karena *a, const char *name, const char *text, size_t len, kerr *err);
/* The entry for url, or NULL. */
const fetch_lock_entry *fetch_lock_find(const fetch_lock *l, const char *url);
/* The lock as YAML text into out (appended). */
void fetch_lock_format(kbuf *out, const fetch_lock *l);
/* Write l to path atomically (a temporary file beside it, renamed).
 * KE_IO when it cannot be written. */
int fetch_lock_write(const fetch_lock *l, const char *path, kerr *err);

#endif
