/*
 * core/redact.h - secrets masked by value wherever text is printed.
 *
 * A redaction set holds every secret string the run has learnt (values
 * marked secret, --set-secret values, the data of rendered Secret objects,
 * bearer tokens and private keys). Lower modules add to it through the
 * event sink they already hold (kev_secret); cli/ passes every byte it
 * prints to stderr, to -o json events and to plan diffs through
 * kredact_apply(), which replaces each occurrence with KREDACT_MASK.
 *
 * Rules:
 *  - A secret is matched as bytes, anywhere, also as a substring of a longer
 *    word. Overlapping or adjacent occurrences become one mask.
 *  - Secrets shorter than KREDACT_MIN_LEN bytes (after trimming surrounding
 *    white space) are not masked by value: "true", "admin", a port number
 *    would turn ordinary words into masks and hide nothing that could not be
 *    guessed. Masking by location (`kstage values`, Secret data in diffs)
 *    still hides them.
 *  - Parsers print pieces of what they could not read (Go's template lexer
 *    names `function "hunter" not defined` for "{{ hunter-22 }}", time
 *    parsing quotes the rest of the text it stopped in). A secret added with
 *    KREDACT_FRAGMENTS (values, tokens) is also masked where at least half of
 *    it, and at least KREDACT_MIN_LEN bytes, appears in one piece that is a
 *    word of its own in the text (not inside a longer run of letters, digits
 *    and '_': "percent" of "s3cret-percent" stays in "percentRef"); the
 *    piece is masked as far as it matches. Fragments of values longer than
 *    KREDACT_FRAGMENTS_MAX bytes are not indexed (their lines are, below).
 *    Secret data (kredact_add_base64) is masked whole: it holds user names
 *    and host names too often for their halves to be masked everywhere.
 *  - Besides the value itself the set masks the forms it is printed in: with
 *    surrounding white space trimmed, JSON/Go-quoted (\" \\ \n \uXXXX, also
 *    with Go's HTML escapes \u003c \u003e \u0026), YAML single-quoted (''),
 *    base64 (as in a Secret's data, and inside the base64 of a longer text
 *    at each of the three alignments, as `b64enc (printf "user:%s" .pw)`
 *    makes it, for values up to KREDACT_FRAGMENTS_MAX bytes), and each line
 *    of a multi-line value (a PEM key in a block scalar or a diff).
 *  - The password of a URL's userinfo ("https://user:PASSWORD@host") is
 *    masked wherever a URL is printed, whatever its length and whether or
 *    not it was added: mirrors, sources and libcurl's messages carry them.
 *  - Matching costs one hash probe per byte of text: every KREDACT_MIN_LEN
 *    bytes a match can start with index a table, and only the forms that
 *    start with the same bytes there are compared.
 *  - The set keeps copies and wipes them when freed. Adding and applying are
 *    thread-safe (apply workers emit events from several threads).
 *  - Budgets, checked before each form is added: fragment entries stop at
 *    KREDACT_MAX_FRAGMENT_ENTRIES (values are then masked whole and line by
 *    line); when a form would pass KREDACT_MAX_BYTES in all (copies and
 *    index), the set fails closed: from then on every text is replaced by
 *    KREDACT_OVER, as no secret may be printed.
 */
#ifndef KSTAGE_CORE_REDACT_H
#define KSTAGE_CORE_REDACT_H

#include <stddef.h>

#include "buf.h"

#define KREDACT_MASK "<redacted>"
#define KREDACT_MIN_LEN 6
#define KREDACT_FRAGMENTS_MAX 1024
#define KREDACT_MAX_BYTES ((size_t)256 << 20)
#define KREDACT_MAX_FRAGMENT_ENTRIES ((size_t)1 << 20)
#define KREDACT_OVER "<redacted: more secrets than kstage can mask>"

enum { KREDACT_FRAGMENTS = 1 };

typedef struct kredact kredact;

kredact *kredact_new(void);
/* Wipes and frees every secret held; NULL is allowed. */
void kredact_free(kredact *r);
/* Lower the budgets (tests): bytes held in all, fragment entries. */
void kredact_set_cap(kredact *r, size_t max_bytes, size_t max_fragment_entries);

/* Add the secret s[0..len) and its printed forms (copied); flags 0 or
 * KREDACT_FRAGMENTS. A NULL set, a NULL s and short values are ignored;
 * adding a known secret again is cheap. */
void kredact_add(kredact *r, const char *s, size_t len, unsigned flags);
/* Add a base64 text (a Secret's data value): the text and what it decodes to
 * (white space in the text is skipped; text that is not base64 adds only
 * itself). */
void kredact_add_base64(kredact *r, const char *b64, size_t len);
/* How many forms the set holds (tests). */
size_t kredact_count(kredact *r);

/* Append text[0..len) to out with every secret replaced by KREDACT_MASK.
 * A NULL set copies. Returns the number of masks written, or -1 when out's
 * cap would be passed (out then holds a prefix with every secret masked). */
long kredact_apply(kredact *r, const char *text, size_t len, kbuf *out);
/* Mask b in place. Returns as kredact_apply. */
long kredact_buf(kredact *r, kbuf *b);

#endif
