/*
 * fuzz_stages: a bundle's stages file (kstage.yaml) through
 * rel_bundle_parse, the parser every plan and apply starts with. The
 * bundle directory does not exist, so source paths resolve to nothing.
 * Errors are fine; crashes, leaks and sanitizer reports are not.
 */
#include "release/release.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	rel_bundle b;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&b, 0, sizeof(b));
	if (rel_bundle_parse(&b, &a, "/nonexistent-fuzz-bundle", "/nonexistent-fuzz-bundle/kstage.yaml", text, size,
			     &e))
		kerr_format(&e, &m);
	kbuf_release(&m);
	kerr_clear(&e);
	karena_release(&a);
	free(text);
	return 0;
}
