/*
 * fetch/fetch_int.h - what the files of fetch/ share and nothing else
 * sees: the content-addressed cache (fetch.c).
 */
#ifndef KSTAGE_FETCH_INT_H
#define KSTAGE_FETCH_INT_H

#include "fetch.h"

/* 64 lowercase hex digits. */
bool fetch_hex_digest(const char *s);
/* mkdir -p path (0700). 0 or -1. */
int fetch_mkdirs(const char *path);
/* Read dir/sha256/<hex> into out (reset first) when it is there and still
 * has that digest: 0. A damaged entry is removed (with a warning on sink)
 * and, like a missing one, gives -1 with out empty. path (may be NULL)
 * gets the entry's path. */
int fetch_cache_read(kbuf *out, kbuf *path, const char *dir, const char *hex, const kev_sink *sink);
/* data into dir/sha256/<hex>: a unique 0600 temporary file, renamed. A
 * cache we cannot write is not an error: the caller has the bytes. */
void fetch_cache_store(const char *dir, const char *hex, const kbuf *data);

/* res (may be NULL) says data[0..len) came from resolved. */
void fetch_result_set(fetch_result *res, const void *data, size_t len, const char *resolved);

#endif
