/*
 * fuzz_helm_record: a Helm release Secret's data.release as the API gives
 * it (base64 of Helm's base64 of gzip of JSON, or of plain JSON), decoded by
 * rel_helm_decode (release/helm_record.c). Errors are fine; crashes, leaks
 * and sanitizer reports are not.
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
	doc_node *rel = NULL;
	char *s;
	if (size > 262144)
		return 0;
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	e.quiet = 1;
	if (rel_helm_decode(&rel, &a, s, "fuzz", &e) == 0 && (!rel || rel->type != DOC_MAP))
		abort();
	free(s);
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
