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

typedef struct karena_block karena_block;
typedef struct karena {
	karena_block *head;
	size_t used_total;  /* bytes handed out, for limits and benchmarks */
} karena;

#define KARENA_INIT { NULL, 0 }

void karena_init(karena *a);
void karena_release(karena *a);
/* Aligned to 16, never NULL, zero-filled. */
void *karena_alloc(karena *a, size_t n);
/* The same, not zero-filled: for memory the caller fills at once (copies,
 * file contents), where zeroing would touch every page twice. */
void *karena_alloc_raw(karena *a, size_t n);
char *karena_strndup(karena *a, const char *s, size_t n);
char *karena_strdup(karena *a, const char *s);
void *karena_memdup(karena *a, const void *p, size_t n);
/* Grow an arena array: returns a copy of old (old_n bytes) with room for new_n. */
void *karena_realloc(karena *a, void *old, size_t old_n, size_t new_n);
char *karena_printf(karena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
