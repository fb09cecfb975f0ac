#include "buf.h"
#include "alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char kbuf_empty[1];

void kbuf_init(kbuf *b, size_t hint)
{
	b->ptr = kbuf_empty;
	b->len = b->cap = b->max = 0;
	b->failed = 0;
	if (hint)
		kbuf_grow(b, hint);
}

void kbuf_release(kbuf *b)
{
	if (b->cap)
		free(b->ptr);
	b->ptr = kbuf_empty;
	b->len = b->cap = 0;
	b->failed = 0;
}

void kbuf_set_cap(kbuf *b, size_t max)
{
	b->max = max;
}

char *kbuf_detach(kbuf *b, size_t *len_out)
{
	char *r;
	if (len_out)
		*len_out = b->len;
	r = b->cap ? b->ptr : xstrdup("");
	b->ptr = kbuf_empty;
	b->len = b->cap = 0;
	b->failed = 0;
	return r;
}

void kbuf_reset(kbuf *b)
{
	kbuf_truncate(b, 0);
	b->failed = 0;
}

void kbuf_truncate(kbuf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	if (b->cap)
		b->ptr[len] = '\0';
}

int kbuf_grow(kbuf *b, size_t extra)
{
	size_t max = b->max ? b->max : KBUF_MAX;
	size_t need;
	if (b->failed)
		return -1;
	if (extra > max || b->len > max - extra) {
		b->failed = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	{
		size_t nc = b->cap ? b->cap : 64;
		while (nc < need)
			nc = st_mult(nc, 2);
		if (nc > max + 1) /* doubling stops at the cap */
			nc = max + 1;
		if (b->cap) {
			b->ptr = xrealloc(b->ptr, nc);
		} else {
			b->ptr = xmalloc(nc);
			b->ptr[0] = '\0';
		}
		b->cap = nc;
	}
	return 0;
}

/* Room for extra more bytes and the NUL without kbuf_grow: what is
 * allocated is within the cap (kbuf_set_cap may have lowered it since). */
static inline int has_room(const kbuf *b, size_t extra)
{
	return !b->failed && extra < b->cap - b->len && b->cap - 1 <= (b->max ? b->max : KBUF_MAX);
}

int kbuf_put(kbuf *b, const void *data, size_t len)
{
	if (!has_room(b, len) && kbuf_grow(b, len) < 0)
		return -1;
	if (len)
		memmove(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int kbuf_puts(kbuf *b, const char *s)
{
	return kbuf_put(b, s, strlen(s));
}

int kbuf_putc(kbuf *b, char c)
{
	if (!has_room(b, 1) && kbuf_grow(b, 1) < 0)
		return -1;
	b->ptr[b->len++] = c;
	b->ptr[b->len] = '\0';
	return 0;
}

int kbuf_putn(kbuf *b, char c, size_t n)
{
	if (!has_room(b, n) && kbuf_grow(b, n) < 0)
		return -1;
	memset(b->ptr + b->len, c, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

int kbuf_vprintf(kbuf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->failed = 1;
		return -1;
	}
	if (kbuf_grow(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int kbuf_printf(kbuf *b, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = kbuf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* How long a pipe, FIFO or terminal may stay silent before the read gives up:
 * a FIFO nobody writes to must not hang a run. */
#define READ_IDLE_MS 10000

static int read_fd(kbuf *b, int fd, size_t max, int idle_ms)
{
	char tmp[65536];
	for (;;) {
		ssize_t n;
		if (idle_ms > 0) {
			struct pollfd p = { fd, POLLIN, 0 };
			int r = poll(&p, 1, idle_ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if ((size_t)n > max || b->len > max - (size_t)n || kbuf_put(b, tmp, (size_t)n) < 0)
			return -2;
	}
}

int kbuf_read_file(kbuf *b, const char *path, size_t max)
{
	return kbuf_read_file_idle(b, path, max, READ_IDLE_MS);
}

int kbuf_read_file_idle(kbuf *b, const char *path, size_t max, int idle_ms)
{
	struct stat st;
	int fd, r, e;
	if (!max)
		max = (size_t)64 << 20;
	if (strcmp(path, "-") == 0)
		return read_fd(b, 0, max, 0);
	/* O_NONBLOCK: opening a FIFO with no writer must not block either. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return -1;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max) {
		close(fd);
		return -2;
	}
	r = read_fd(b, fd, max, S_ISREG(st.st_mode) ? 0 : idle_ms);
	e = errno;
	close(fd);
	errno = e;
	return r;
}
