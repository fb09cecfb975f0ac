/*
 * fuzz_timeparse: tmpl/gotime (Go's time.ParseInLocation and Time.Format
 * for the template date functions). The input is a layout, a NUL byte,
 * then the value; the value is parsed with the layout in Local and in UTC,
 * and what parses is formatted back with the layout in the parsed zone and
 * in a loaded IANA zone. Errors are fine when they read as Go's
 * ("parsing time ..."); crashes, leaks and sanitizer reports are not.
 */
#include "tmpl/gotime.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *layout = (const char *)data, *value;
	const uint8_t *nul = memchr(data, 0, size);
	size_t ll = nul ? (size_t)(nul - data) : size, vl;
	const gt_loc *locs[2], *ny = NULL;
	karena a = KARENA_INIT;
	size_t i;
	if (size > 4096)
		return 0;
	value = nul ? (const char *)nul + 1 : "";
	vl = nul ? size - ll - 1 : 0;
	locs[0] = gt_local();
	locs[1] = gt_utc();
	if (gt_load(&a, "America/New_York", 16, &ny))
		ny = gt_utc();
	for (i = 0; i < 2; i++) {
		int64_t sec;
		long nsec;
		const gt_loc *loc;
		kbuf err = KBUF_INIT, out = KBUF_INIT;
		if (gt_parse(&a, layout, ll, value, vl, locs[i], &sec, &nsec, &loc, &err)) {
			if (strncmp(err.ptr, "parsing time ", 13))
				__builtin_trap();
		} else {
			if (nsec < 0 || nsec > 999999999)
				__builtin_trap();
			gt_format(&out, layout, ll, sec, nsec, loc);
			gt_format(&out, layout, ll, sec ^ (int64_t)size << 40, nsec, ny);
		}
		kbuf_release(&err);
		kbuf_release(&out);
	}
	karena_release(&a);
	return 0;
}
