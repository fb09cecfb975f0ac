/*
 * core/alloc.h - the one allocator: fails cleanly, never returns NULL.
 *
 * Every allocation in kstage goes through these. On exhaustion they print one
 * line and exit(70): the only place below cli/ allowed to end the process,
 * because no caller can do anything useful without memory.
 * Size arithmetic is overflow-checked with st_add()/st_mult().
 */
#ifndef KSTAGE_CORE_ALLOC_H
#define KSTAGE_CORE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void *xmemdup(const void *p, size_t n);

/* a + b or a * b; exits like xmalloc on overflow (sizes come from input). */
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/* Grow *arr (element size elt) so it holds at least need elements. */
#define ALLOC_GROW(arr, need, cap) do { \
	if ((need) > (cap)) { \
		size_t nc_ = (cap) ? (cap) : 8; \
		while (nc_ < (need)) nc_ = st_mult(nc_, 2); \
		(arr) = xrealloc((arr), st_mult(nc_, sizeof(*(arr)))); \
		(cap) = nc_; \
	} \
} while (0)

#endif
