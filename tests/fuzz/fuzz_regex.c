/*
 * fuzz_regex: tmpl/re (Go's regexp for the template functions): the parser,
 * Simplify, the compiler and the Pike VM with the FindAll, ReplaceAll and
 * Split loops. The input is a pattern, a NUL byte, then the subject; the
 * subject doubles as the replacement template. Rejected patterns are fine;
 * crashes, leaks, sanitizer reports and runaway time or memory are not.
 */
#include "tmpl/re.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_match(void *ctx, const char *s, const int64_t *cap)
{
	size_t *n = ctx;
	(void)s;
	if (cap[0] < 0 || cap[1] < cap[0])
		__builtin_trap();
	(*n)++;
}

static void on_piece(void *ctx, const char *piece, size_t len)
{
	size_t *n = ctx;
	(void)piece;
	*n += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *pat = (const char *)data, *s;
	const char *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - pat) : size, slen, n = 0;
	re_prog *re;
	kbuf msg = KBUF_INIT, out = KBUF_INIT;
	if (size > 4096)
		return 0;
	s = nul ? nul + 1 : "";
	slen = nul ? size - plen - 1 : 0;
	if (re_compile(&re, pat, plen, &msg)) {
		if (strncmp(msg.ptr, "error parsing regexp: ", 22))
			__builtin_trap();
		kbuf_release(&msg);
		return 0;
	}
	{
		int64_t *cap = calloc(2 * re_groups(re), sizeof(int64_t));
		if (re_exec(re, s, slen, 0, cap) && (cap[0] < 0 || cap[1] > (int64_t)slen))
			__builtin_trap();
		free(cap);
	}
	re_each(re, s, slen, -1, on_match, &n);
	re_replace(re, s, slen, s, slen, false, &out);
	re_replace(re, s, slen, s, slen, true, &out);
	re_split(re, s, slen, -1, on_piece, &n);
	re_free(re);
	kbuf_release(&out);
	return 0;
}
