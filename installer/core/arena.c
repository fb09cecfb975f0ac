#include "arena.h"
#include "alloc.h"
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct karena_block {
	karena_block *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

#define BLOCK_MIN ((size_t)64 * 1024)

void karena_init(karena *a)
{
	a->head = NULL;
	a->used_total = 0;
}

void karena_release(karena *a)
{
	karena_block *b = a->head;
	while (b) {
		karena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = NULL;
	a->used_total = 0;
}

void *karena_alloc_raw(karena *a, size_t n)
{
	karena_block *b = a->head;
	void *p;
	n = st_add(n, 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if (!b || b->size - b->used < n) {
		size_t sz = n > BLOCK_MIN / 4 ? n : BLOCK_MIN;
		karena_block *nb = xmalloc(st_add(sizeof(*nb), sz));
		nb->size = sz;
		nb->used = 0;
		if (b && sz == n) {
			/* a big one-off: keep the current block current */
			nb->next = b->next;
			b->next = nb;
			nb->used = n;
			a->used_total += n;
			return nb->data;
		}
		nb->next = b;
		a->head = b = nb;
	}
	p = b->data + b->used;
	b->used += n;
	a->used_total += n;
	return p;
}

void *karena_alloc(karena *a, size_t n)
{
	void *p = karena_alloc_raw(a, n);
	memset(p, 0, n);
	return p;
}

char *karena_strndup(karena *a, const char *s, size_t n)
{
	char *r = karena_alloc_raw(a, st_add(n, 1));
	if (n)
		memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

char *karena_strdup(karena *a, const char *s)
{
	return karena_strndup(a, s, strlen(s));
}

void *karena_memdup(karena *a, const void *p, size_t n)
{
	void *r = karena_alloc_raw(a, n);
	if (n)
		memcpy(r, p, n);
	return r;
}

void *karena_realloc(karena *a, void *old, size_t old_n, size_t new_n)
{
	void *r;
	if (new_n <= old_n)
		return old;
	r = karena_alloc(a, new_n);
	if (old_n)
		memcpy(r, old, old_n);
	return r;
}

char *karena_printf(karena *a, const char *fmt, ...)
{
	kbuf b = KBUF_INIT;
	va_list ap;
	char *r;
	va_start(ap, fmt);
	kbuf_vprintf(&b, fmt, ap);
	va_end(ap);
	r = karena_strndup(a, b.ptr, b.len);
	kbuf_release(&b);
	return r;
}
