/*
 * fetch/fetch.h - remote sources into a content-addressed cache.
 *
 * A source is fetched once into $XDG_CACHE_HOME/kstage/sha256/<digest>
 * (~/.cache/kstage when XDG_CACHE_HOME is unset; $KSTAGE_CACHE_DIR wins)
 * and verified by its pinned SHA-256 on the way in and on every use. Only
 * https:// URLs; the CA bundle is the system's unless $SSL_CERT_FILE names
 * another. This module never prints; it reports through kerr and kev.
 * (A later issue adds OCI, git, lock files and airgap bundles.)
 */
#ifndef KSTAGE_FETCH_H
#define KSTAGE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"

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
