/*
 * fuzz_record: the release record decoder (release/record.c), which reads
 * what is stored in the cluster. The first byte picks the input: even, a
 * gzip payload (rel_record_decode); odd, the JSON inside it
 * (rel_record_from_doc). A record that decodes must encode and decode
 * again to the same JSON. Errors are fine; crashes, leaks, sanitizer
 * reports and a failed round trip are not.
 */
#include "release/record.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *json_of(const rel_record *r)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	e.quiet = 1;
	if (rel_record_to_json(&b, r, &e)) {
		kerr_clear(&e);
		kbuf_release(&b);
		return NULL;
	}
	return kbuf_detach(&b, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_record *r = NULL;
	int rc;
	if (size < 1 || size > 262144)
		return 0;
	e.quiet = 1;
	if (data[0] & 1) {
		doc_node *d = NULL;
		rc = doc_load_json(&d, &a, "fuzz", (const char *)data + 1, size - 1, &e);
		if (!rc)
			rc = rel_record_from_doc(&r, &a, d, "fuzz", &e);
	} else {
		rc = rel_record_decode(&r, &a, data + 1, size - 1, "fuzz", &e);
	}
	kerr_clear(&e);
	if (!rc && r) {
		kbuf gz = KBUF_INIT;
		rel_record *again = NULL;
		char *j1 = json_of(r), *j2 = NULL;
		if (j1 && !rel_record_encode(&gz, r, &e) &&
		    !rel_record_decode(&again, &a, gz.ptr, gz.len, "again", &e))
			j2 = json_of(again);
		if (j1 && (!j2 || strcmp(j1, j2)))
			abort();   /* what decoded must survive its own round trip */
		free(j1);
		free(j2);
		kbuf_release(&gz);
		kerr_clear(&e);
	}
	karena_release(&a);
	return 0;
}
