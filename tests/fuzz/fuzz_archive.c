/*
 * fuzz_archive: the checked archive walk (core/archive.c) over arbitrary
 * bytes, in memory (nothing is extracted). Every entry it hands out must
 * have a clean relative path. Errors are fine; crashes, leaks, sanitizer
 * reports and unclean paths are not.
 */
#include "core/archive.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int check(void *ctx, const karchive_entry *e, kerr *err)
{
	size_t *n = ctx;
	(void)err;
	if (!e->path[0] || e->path[0] == '/' || !strcmp(e->path, "..") || !strncmp(e->path, "../", 3) ||
	    strstr(e->path, "/../") || (strlen(e->path) >= 3 && !strcmp(e->path + strlen(e->path) - 3, "/..")))
		abort();
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karchive_limits lim = { 64, (size_t)1 << 20, 0, 0, 0, 0 };
	kerr e = KERR_INIT;
	size_t n = 0;
	if (size > (1 << 20))
		return 0;
	e.quiet = 1;
	karchive_walk(data, size, "fuzz.tar", &lim, check, &n, &e);
	kerr_clear(&e);
	return 0;
}
