/*
 * fuzz_lock: the kstage.lock parser (fetch/lock.c), and formatting what it
 * accepted and parsing that again (it must parse, to the same entries).
 * Errors are fine; crashes, leaks and sanitizer reports are not.
 */
#include "fetch/fetch.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	fetch_lock l, back;
	if (size > 65536)
		return 0;
	e.quiet = 1;
	if (fetch_lock_parse(&l, &a, "kstage.lock", (const char *)data, size, &e) == 0) {
		kbuf t = KBUF_INIT;
		size_t i;
		fetch_lock_format(&t, &l);
		if (fetch_lock_parse(&back, &a, "again", t.ptr, t.len, &e) != 0 || back.len != l.len)
			abort();
		for (i = 0; i < l.len; i++)
			if (strcmp(l.v[i].sha256, back.v[i].sha256) || strcmp(l.v[i].url, back.v[i].url) ||
			    l.v[i].size != back.v[i].size)
				abort();
		kbuf_release(&t);
	}
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
