/*
 * fuzz_schema: the JSON Schema compiler and validator (values/schema*.c)
 * and the secret-mark walk (values/mask.c). The input is a schema in JSON,
 * then a NUL byte and the instance in JSON; with no NUL the schema is
 * validated against itself. Validation errors and limits are fine;
 * crashes, hangs, leaks and sanitizer reports are not.
 */
#include "values/values.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *schema = NULL, *inst = NULL;
	const char *text = (const char *)data;
	const char *nul = memchr(data, 0, size);
	size_t slen = nul ? (size_t)(nul - text) : size;
	values_schema_opts o;
	if (size > 65536)
		return 0;
	e.quiet = 1;
	if (doc_load_json(&schema, &a, "values.schema.json", text, slen, &e))
		goto out;
	kerr_clear(&e);
	if (!nul)
		inst = schema;
	else if (doc_load_json(&inst, &a, "values.json", nul + 1, size - slen - 1, &e))
		goto out;
	kerr_clear(&e);
	memset(&o, 0, sizeof(o));
	o.draft = (size & 1) ? 7 : 2020;
	o.format = VALUES_FORMAT_ASSERT;
	values_validate_opts(schema, inst, "fuzz", &o, &e);
	kerr_clear(&e);
	values_mask_secrets(&a, inst, schema, NULL);
out:
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
