/*
 * core/regex.h - the one regular-expression wrapper. Only core/regex.c
 * includes the engine's header (PCRE2 today); nothing of the engine shows
 * here, so another engine (an RE2-style one for Go's syntax) can take its
 * place behind the same functions.
 *
 * Rules:
 *  - Patterns and subjects are byte strings with lengths (no NUL needed);
 *    offsets are byte offsets into the subject.
 *  - A kregex holds its compiled pattern and the storage of its last
 *    match: one thread at a time. kregex_free() frees both.
 *  - A match ends in one of the kregex_result codes. KREGEX_LIMIT (the
 *    engine's backtracking or memory budget ran out) is not "no match":
 *    callers decide what it means for them.
 *  - The iteration, replacement and split functions follow Go's regexp
 *    (FindAll, ReplaceAll with $1/${name} expansion, Split), the semantics
 *    Helm's template functions have.
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
	KREGEX_INVALID_UTF = 1u << 1,   /* the subject may hold invalid UTF-8 (with KREGEX_UTF) */
	KREGEX_DOLLAR_ENDONLY = 1u << 2, /* $ matches at the very end only, not before a final newline */
	KREGEX_ALT_CIRCUMFLEX = 1u << 3, /* (?m)^ also matches after a final newline */
	KREGEX_ALT_BSUX = 1u << 4,      /* ECMAScript escapes: \uhhhh, \u{h..}, \xhh; \U is a literal U */
	KREGEX_RE2_SPACE = 1u << 5,     /* \s, \S and \v as RE2 reads them (\s is [\t\n\f\r ]) */
	/* Go's regexp as far as charts see it: the set Helm's regex functions use */
	KREGEX_GO = KREGEX_UTF | KREGEX_INVALID_UTF | KREGEX_DOLLAR_ENDONLY | KREGEX_ALT_CIRCUMFLEX |
		    KREGEX_RE2_SPACE,
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

/* Groups of the pattern, group 0 (the whole match) included. */
size_t kregex_groups(const kregex *re);
/* The number of the group called name[0..len), or -1 if there is none. */
int kregex_group_index(const kregex *re, const char *name, size_t len);

/* The leftmost match in s[0..len) at or after byte start. On KREGEX_MATCH
 * *sub (if sub is not NULL) points at kregex_groups(re) spans, valid until
 * the next match with re. */
kregex_result kregex_match(kregex *re, const char *s, size_t len, size_t start, const kregex_span **sub);

/* Go's FindAll: calls fn for each successive non-overlapping match, at
 * most n of them (n < 0: all); an empty match abutting the previous match
 * is skipped. sub holds kregex_groups(re) spans. Returns KREGEX_MATCH if
 * any matched, KREGEX_NOMATCH, or the failure that stopped the walk
 * (matches before it were reported). */
typedef void (*kregex_each_fn)(void *ctx, const char *s, const kregex_span *sub, size_t ngroups);
kregex_result kregex_each(kregex *re, const char *s, size_t len, int64_t n, kregex_each_fn fn, void *ctx);

/* Go's ReplaceAll (literal false: $1, ${1}, $name, ${name} and $$ in
 * repl[0..rlen) expand as Regexp.Expand does) or ReplaceAllLiteral: s with
 * every match replaced, appended to out. Returns as kregex_each; on a
 * failure the text after the last match taken is appended unchanged. */
kregex_result kregex_replace(kregex *re, const char *s, size_t len, const char *repl, size_t rlen,
			     bool literal, kbuf *out);

/* Go's Regexp.Split(s, n): calls fn for each piece in order, at most n
 * pieces (n < 0: all; n == 0: none, where Go returns nil). Returns as
 * kregex_each. */
typedef void (*kregex_piece_fn)(void *ctx, const char *piece, size_t len);
kregex_result kregex_split(kregex *re, const char *s, size_t len, int64_t n, kregex_piece_fn fn, void *ctx);

#endif
