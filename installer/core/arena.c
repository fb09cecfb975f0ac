#include "arena.h"
#include "alloc.h"
#include "buf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct karena_block {
	karena_block *next;
	bool pooled;            /* from the pool below, not malloc */
	_Alignas(16) unsigned char data[];
};

#define BLOCK_MIN ((size_t)64 * 1024)
#define BLOCK_BYTES (sizeof(karena_block) + BLOCK_MIN)

/* ---- the block pool ----------------------------------------------------
 * A render writes megabytes of fresh arena (consul's: 8 MB of parse trees,
 * values and documents), and the kernel faults each 4 KiB page in on its
 * first write: about 2,000 faults, 40% of the CPU time of `kstage
 * template` on a template-heavy chart. Blocks of BLOCK_MIN bytes therefore
 * come from 2 MiB-aligned regions, all but the first advised for
 * transparent huge pages (a fault maps 2 MiB at once where the system
 * allows it, as glibc.malloc.hugetlb=1 does for glibc's heap), and
 * released blocks wait on a free list for the next arena (the pool keeps
 * its peak; `kstage` is a short-lived process). Under AddressSanitizer
 * blocks come from malloc, so that a leaked arena is still reported. */
#if defined(__SANITIZE_ADDRESS__)
#define POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL 0
#endif
#endif
#if !defined(POOL) && defined(MADV_HUGEPAGE) && defined(MAP_ANONYMOUS)
#define POOL 1
#endif
#if !defined(POOL)
#define POOL 0
#endif

#if POOL
#define REGION ((size_t)2 * 1024 * 1024)

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static karena_block *pool_free;             /* released blocks */
static unsigned char *pool_cur, *pool_end;  /* the unused rest of the newest region */

/* a new region: 2 MiB, aligned to 2 MiB so that a huge page can back it;
 * not the first one, which small charts do not fill: a huge page costs
 * zeroing 2 MiB, more than a small render's faults */
static bool pool_map(void)
{
	static bool first = true;
	unsigned char *m = mmap(NULL, 2 * REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *r;
	size_t lead;
	if (m == MAP_FAILED)
		return false;
	r = (unsigned char *)(((uintptr_t)m + REGION - 1) & ~(uintptr_t)(REGION - 1));
	lead = (size_t)(r - m);
	if (lead)
		munmap(m, lead);
	munmap(r + REGION, REGION - lead);
	if (!first)
		madvise(r, REGION, MADV_HUGEPAGE);  /* advice: without it the region works as it is */
	first = false;
	pool_cur = r;
	pool_end = r + REGION;
	return true;
}

static karena_block *pool_get(void)
{
	karena_block *b = NULL;
	pthread_mutex_lock(&pool_mu);
	if (pool_free) {
		b = pool_free;
		pool_free = b->next;
	} else if ((size_t)(pool_end - pool_cur) >= BLOCK_BYTES || pool_map()) {
		b = (karena_block *)pool_cur;
		pool_cur += BLOCK_BYTES;
	}
	pthread_mutex_unlock(&pool_mu);
	return b;
}

static void pool_put(karena_block *b)
{
	pthread_mutex_lock(&pool_mu);
	b->next = pool_free;
	pool_free = b;
	pthread_mutex_unlock(&pool_mu);
}
#else
static karena_block *pool_get(void) { return NULL; }
static void pool_put(karena_block *b) { (void)b; }
#endif

/* a block with room for sz bytes (sz == BLOCK_MIN from the pool if it can) */
static karena_block *block_new(size_t sz)
{
	karena_block *b = sz == BLOCK_MIN ? pool_get() : NULL;
	if (b) {
		b->pooled = true;
	} else {
		b = xmalloc(st_add(sizeof(*b), sz));
		b->pooled = false;
	}
	return b;
}

void karena_init(karena *a)
{
	a->head = NULL;
	a->used_total = 0;
	a->cur = a->end = NULL;
}

void karena_release(karena *a)
{
	karena_block *b = a->head;
	while (b) {
		karena_block *n = b->next;
		if (b->pooled)
			pool_put(b);
		else
			free(b);
		b = n;
	}
	a->head = NULL;
	a->used_total = 0;
	a->cur = a->end = NULL;
}

void *karena_alloc_block(karena *a, size_t n)
{
	karena_block *nb;
	unsigned char *p = a->cur;
	size_t sz;
	n = st_add(n, 15) & ~(size_t)15;
	if (!n)
		n = 16;
	a->used_total += n;
	if ((size_t)(a->end - a->cur) >= n) {
		a->cur += n;
		return p;
	}
	sz = n > BLOCK_MIN / 4 ? n : BLOCK_MIN;
	nb = block_new(sz);
	if (a->head && sz == n) {
		/* a big one-off: keep the current block current */
		nb->next = a->head->next;
		a->head->next = nb;
		return nb->data;
	}
	nb->next = a->head;
	a->head = nb;
	a->cur = nb->data + n;
	a->end = nb->data + sz;
	return nb->data;
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
