#include "alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t n)
{
	fprintf(stderr, "kstage: fatal: out of memory allocating %zu bytes\n", n);
	exit(70);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		die_oom(st_mult(nmemb, size));
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *r = xmalloc(st_add(len, 1));
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

void *xmemdup(const void *p, size_t n)
{
	void *r = xmalloc(n);
	if (n)
		memcpy(r, p, n);
	return r;
}

size_t st_add(size_t a, size_t b)
{
	if (a > SIZE_MAX - b) {
		fprintf(stderr, "kstage: fatal: size overflow (%zu + %zu)\n", a, b);
		exit(70);
	}
	return a + b;
}

size_t st_mult(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b) {
		fprintf(stderr, "kstage: fatal: size overflow (%zu * %zu)\n", a, b);
		exit(70);
	}
	return a * b;
}
