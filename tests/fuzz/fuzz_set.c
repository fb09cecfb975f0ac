/*
 * fuzz_set: the --set parser (values/strvals.c). The first byte picks the
 * flag kind (--set, --set-string, --set-json, --set-literal); --set-file is
 * left out so the fuzzer never reads files. The rest is the argument. Errors
 * are fine; crashes, leaks and sanitizer reports are not.
 */
#include "values/values.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const values_flag_kind kinds[] = { VALUES_SET, VALUES_SET_STRING, VALUES_SET_JSON,
						  VALUES_SET_LITERAL, VALUES_SET_SECRET };
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *m;
	char *arg;
	values_flag_kind k;
	if (size < 1 || size > 65536)
		return 0;
	k = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
	arg = malloc(size);
	if (!arg)
		return 0;
	memcpy(arg, data + 1, size - 1);
	arg[size - 1] = '\0';
	e.quiet = 1;
	m = doc_new_map(&a);
	values_parse_set(m, &a, k, arg, (data[0] & 0x80) ? VALUES_NUM_HELM : VALUES_NUM_EXACT, &e);
	/* a second argument into the same map exercises merging into lists/maps */
	values_parse_set(m, &a, VALUES_SET, arg, VALUES_NUM_HELM, &e);
	kerr_clear(&e);
	free(arg);
	karena_release(&a);
	return 0;
}
