/*
 * core/arena.h - bump allocator for one render or one run phase (libgit2's
 * git_pool). Everything allocated from an arena lives until karena_release();
 * nothing is freed one by one. Documents (doc/) and template values live in
 * arenas, so sharing a pointer between two trees is always safe while the
 * arena lives.
 */
#ifndef KSTAGE_CORE_ARENA_H
#define KSTAGE_CORE_ARENA_H

#include <stddef.h>
#include <string.h>

typedef struct karena_block karena_block;
typedef struct karena {
	karena_block *head;
	size_t used_total;  /* bytes handed out, for limits and benchmarks */
	unsigned char *cur, *end;  /* the free rest of the current block */
} karena;

#define KARENA_INIT { NULL, 0, NULL, NULL }

void karena_init(karena *a);
void karena_release(karena *a);
/* karena_alloc_raw's way when the current block has no room (or n is big). */
void *karena_alloc_block(karena *a, size_t n);

/* Aligned to 16, never NULL, not zero-filled: for memory the caller fills
 * at once (copies, file contents), where zeroing would touch every page
 * twice. Inline for the common case, a small n the current block has room
 * for: a template-heavy render makes a hundred thousand allocations. */
static inline void *karena_alloc_raw(karena *a, size_t n)
{
	size_t r = (n + 15) & ~(size_t)15;
	if (n - 1 < 4096 && (size_t)(a->end - a->cur) >= r) {
		void *p = a->cur;
		a->cur += r;
		a->used_total += r;
		return p;
	}
	return karena_alloc_block(a, n);
}

/* The same, zero-filled. */
static inline void *karena_alloc(karena *a, size_t n)
{
	void *p = karena_alloc_raw(a, n);
	memset(p, 0, n);
	return p;
}

char *karena_strndup(karena *a, const char *s, size_t n);
char *karena_strdup(karena *a, const char *s);
void *karena_memdup(karena *a, const void *p, size_t n);
/* Grow an arena array: returns a copy of old (old_n bytes) with room for new_n. */
void *karena_realloc(karena *a, void *old, size_t old_n, size_t new_n);
char *karena_printf(karena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
