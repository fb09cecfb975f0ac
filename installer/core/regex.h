/*
 * core/regex.h - the one PCRE2 wrapper, for the regular expressions that
 * are PCRE2/ECMA-262 ones: JSON-Schema `pattern` (values/schema_regex.c,
 * values/mask.c).
 * Only core/regex.c includes the engine's header. (The template functions
 * follow Go's regexp instead: tmpl/re.h.)
 *
 * Rules:
 *  - Patterns and subjects are byte strings with lengths (no NUL needed);
 *    offsets are byte offsets into the subject.
 *  - A kregex holds its compiled pattern and the storage of its last
 *    match: one thread at a time. kregex_free() frees both.
 *  - A match ends in one of the kregex_result codes. KREGEX_LIMIT (the
 *    engine's backtracking or memory budget ran out) is not "no match":
 *    callers decide what it means for them.
 */
#ifndef KSTAGE_CORE_REGEX_H
#define KSTAGE_CORE_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct kregex kregex;

/* Compile flags. */
enum {
	KREGEX_UTF = 1u << 0,           /* pattern and subject are UTF-8 */
	KREGEX_DOLLAR_ENDONLY = 1u << 2, /* $ matches at the very end only, not before a final newline */
	KREGEX_ALT_BSUX = 1u << 4,      /* ECMAScript escapes: \uhhhh, \u{h..}, \xhh; \U is a literal U */
};

typedef enum kregex_result {
	KREGEX_MATCH = 1,
	KREGEX_NOMATCH = 0,
	KREGEX_LIMIT = -1,   /* the match budget ran out before an answer */
	KREGEX_ERROR = -2,   /* any other engine failure */
} kregex_result;

#define KREGEX_UNSET ((size_t)-1)

/* A submatch: bytes [beg, end) of the subject; both KREGEX_UNSET when the
 * group took no part in the match. */
typedef struct kregex_span {
	size_t beg, end;
} kregex_span;

/* Compiles pat[0..len). Returns 0 and a kregex in *out (free it with
 * kregex_free), or -1 with the engine's words for what is wrong appended
 * to errmsg (may be NULL) and *out NULL. */
int kregex_compile(kregex **out, const char *pat, size_t len, unsigned flags, kbuf *errmsg);
void kregex_free(kregex *re);

/* The leftmost match in s[0..len) at or after byte start. On KREGEX_MATCH
 * *sub (if sub is not NULL) points at one span per group (group 0, the
 * whole match, first), valid until the next match with re. */
kregex_result kregex_match(kregex *re, const char *s, size_t len, size_t start, const kregex_span **sub);

#endif
