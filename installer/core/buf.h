/*
 * core/buf.h - growable byte buffers (git's strbuf, curl's dynbuf).
 *
 * Rules:
 *  - KBUF_INIT gives an empty buffer whose ptr is never NULL (it points to a
 *    static "" until the first write), so ptr is always a C string.
 *  - ptr[len] is always '\0'; embedded NULs are allowed.
 *  - Every buffer has a size cap (KBUF_MAX unless kbuf_set_cap); a write that
 *    would pass it fails with -1 and leaves the buffer unchanged, so input can
 *    never grow a buffer without bound.
 *  - Failure is sticky (libgit2's git_str): after one refused write every
 *    later write is refused too, and kbuf_failed() says so, so a caller may
 *    ignore the writers' results and check once, where the text is used,
 *    without ever seeing a buffer with a hole in the middle. kbuf_reset()
 *    and kbuf_release() clear it; kbuf_truncate() does not.
 *  - Writes may move ptr: never keep a pointer into a buffer across a write.
 *  - kbuf_detach() hands the memory to the caller (free() it) and resets.
 */
#ifndef KSTAGE_CORE_BUF_H
#define KSTAGE_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct kbuf {
	char *ptr;
	size_t len;
	size_t cap;   /* allocated bytes; 0 while ptr is the static "" */
	size_t max;   /* size cap; 0 means KBUF_MAX */
	int failed;   /* a write was refused (sticky) */
} kbuf;

#define KBUF_MAX ((size_t)1 << 31)   /* 2 GiB */

extern char kbuf_empty[];
#define KBUF_INIT { kbuf_empty, 0, 0, 0, 0 }

void kbuf_init(kbuf *b, size_t hint);
void kbuf_release(kbuf *b);
void kbuf_set_cap(kbuf *b, size_t max);
/* Non-zero once a write was refused (the cap, or a bad format). */
static inline int kbuf_failed(const kbuf *b) { return b->failed; }
/* Returns the string and resets b; the caller frees the result. */
char *kbuf_detach(kbuf *b, size_t *len_out);
void kbuf_reset(kbuf *b);
void kbuf_truncate(kbuf *b, size_t len);

/* All writers return 0, or -1 when the cap would be passed or the buffer
 * has failed before (nothing is written then). */
int kbuf_grow(kbuf *b, size_t extra);
int kbuf_put(kbuf *b, const void *data, size_t len);
int kbuf_puts(kbuf *b, const char *s);
int kbuf_putc(kbuf *b, char c);
int kbuf_printf(kbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kbuf_vprintf(kbuf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int kbuf_putn(kbuf *b, char c, size_t n);

/* Reads a whole file (path "-" is stdin) into b, at most max bytes (0: 64 MiB).
 * Returns 0, -1 with errno set on I/O failure (EISDIR for a directory,
 * ETIMEDOUT for a pipe, FIFO or terminal silent for 10 s), -2 if the file is
 * larger. Never blocks on opening a FIFO. */
int kbuf_read_file(kbuf *b, const char *path, size_t max);
/* The same with the idle limit for pipes, FIFOs and terminals in ms (tests). */
int kbuf_read_file_idle(kbuf *b, const char *path, size_t max, int idle_ms);

#endif
