/*
 * tests/unit/mutate.h - random edits of a seed text, for the tests that
 * compare a fast path with the general one on mutated inputs.
 */
#ifndef KSTAGE_UNIT_MUTATE_H
#define KSTAGE_UNIT_MUTATE_H

#include <stddef.h>

/* Copies seed[0..n) into buf (room for n + 8 bytes) with 1 to 3 edits drawn
 * with rnd: a deletion, a replacement or an insertion of a byte of the
 * NUL-terminated alphabet (at most 7 bytes longer). Returns the new length. */
size_t unit_mutate(char *buf, const char *seed, size_t n, const char *alphabet, unsigned (*rnd)(void));

#endif
