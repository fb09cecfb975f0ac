/*
 * core/err.h - one error type with a location and a chain of context.
 *
 * Functions return int: 0 on success or a negative KE_* code, passed up
 * unchanged (libgit2). The message lives in an explicit kerr the caller
 * passes down, never in a global. Callers add context with kerr_wrap()
 * ("stage gateway: apply Gateway kserve/x: 409 Conflict: ..."); nobody
 * overwrites a callee's message with a vaguer one.
 *
 * A location is data: file/line/col for user input (1-based; col counts
 * characters), or an object reference "Kind/namespace/name". When the source
 * text is known, kerr_set_src() keeps the offending line so the printed error
 * has a caret under the column.
 *
 * Parsers may report several errors: kerr_add() appends further ones (up to
 * KERR_MAX_LIST kept; count says how many there were in all).
 *
 * A remote service's answer is also data, so callers branch on it and never
 * on message text: a reason word ("Conflict", "Invalid", "NotFound"...), the
 * protocol status number (HTTP 409) and a list of causes {type, field,
 * message}. Core gives these no meaning; kerr_set*() clears them, kerr_wrap()
 * keeps them, kerr_clear() frees them and kerr_move() moves them. They are
 * kept in quiet mode too.
 */
#ifndef KSTAGE_CORE_ERR_H
#define KSTAGE_CORE_ERR_H

#include <stddef.h>
#include "buf.h"

enum {
	KE_OK = 0,
	KE_ERROR = -1,     /* generic failure */
	KE_USAGE = -2,     /* bad flags or arguments: exit 2 */
	KE_INPUT = -3,     /* bad YAML/template/values/bundle: exit 2 */
	KE_IO = -4,        /* file or network I/O */
	KE_LIMIT = -5,     /* a size, depth or count limit was hit: exit 2 */
	KE_NOTFOUND = -6,
	KE_CLUSTER = -7,   /* cluster unreachable or auth failed: exit 4 */
	KE_API = -8,       /* the API server refused a request */
	KE_CONFLICT = -9,
	KE_TIMEOUT = -10,
	KE_ROLLBACK = -11, /* failed and rollback incomplete: exit 3 */
	KE_INTERNAL = -12,
};

#define KERR_MAX_LIST 20
#define KERR_MAX_CAUSES 100

typedef struct kerr_cause {
	char *type;      /* machine-readable ("FieldManagerConflict"), never NULL */
	char *field;     /* the field it concerns (".spec.x"), never NULL, may be "" */
	char *message;   /* never NULL, may be "" */
} kerr_cause;

typedef struct kerr_item {
	char *msg;       /* context chain + message, no location */
	char *file;      /* NULL when there is no file location */
	unsigned line, col;
	char *object;    /* "Kind/namespace/name" or NULL */
	char *src_line;  /* the offending source line, for the caret, or NULL */
} kerr_item;

typedef struct kerr {
	int code;              /* 0 while no error is set */
	kerr_item first;
	kerr_item *more;       /* further errors, up to KERR_MAX_LIST - 1 */
	size_t nmore;
	size_t count;          /* errors seen in all, kept or not */
	int quiet;             /* set by fuzzers: keep the code only */
	char *reason;          /* the answer's reason word, or NULL */
	int status;            /* the answer's status number (HTTP), or 0 */
	kerr_cause *causes;    /* up to KERR_MAX_CAUSES */
	size_t ncauses;
} kerr;

#define KERR_INIT { 0, { 0 }, NULL, 0, 0, 0, NULL, 0, NULL, 0 }

/* Set a fresh error (replacing any). Returns code. */
int kerr_set(kerr *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int kerr_set_at(kerr *e, int code, const char *file, unsigned line, unsigned col,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* As kerr_set_at, and keep the source line (from text[0..len)) for a caret. */
int kerr_set_src(kerr *e, int code, const char *file, const char *text, size_t len,
		 unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));
int kerr_set_obj(kerr *e, int code, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Append one more error to a list; sets code if none yet. Returns e->code. */
int kerr_add_at(kerr *e, int code, const char *file, unsigned line, unsigned col,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Prefix context to the message(s): "ctx: old message". Returns e->code. */
int kerr_wrap(kerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Attach an object reference if none yet. */
void kerr_set_object(kerr *e, const char *object);
void kerr_clear(kerr *e);
/* Record why a remote service refused: reason (copied; NULL or "" for none)
 * and its status number. Call after kerr_set*(), which clears them. */
void kerr_set_reason(kerr *e, const char *reason, int status);
/* Append a cause (strings copied; NULL reads ""). Beyond KERR_MAX_CAUSES
 * causes are dropped. */
void kerr_add_cause(kerr *e, const char *type, const char *field, const char *message);
/* The reason word, or "" when none. */
const char *kerr_reason(const kerr *e);
/* True when the reason is exactly reason. */
int kerr_reason_is(const kerr *e, const char *reason);
/* The first cause of this type, or NULL. */
const kerr_cause *kerr_find_cause(const kerr *e, const char *type);
/* Move src into dst (dst cleared first); src is left empty. */
void kerr_move(kerr *dst, kerr *src);

/* "file:line:col: message" (or "Kind/ns/name: message"), one per error,
 * with the source line and a caret when known, and "... and N more errors". */
void kerr_format(const kerr *e, kbuf *out);
/* The first message with its location, one line, no caret. */
void kerr_format_short(const kerr *e, kbuf *out);
const char *kerr_code_name(int code);

/* Line and column (1-based, columns in UTF-8 characters) of a byte offset. */
void kerr_offset_to_linecol(const char *text, size_t len, size_t off, unsigned *line, unsigned *col);

#endif
