/*
 * fuzz_health: health of an arbitrary live object (kube/health.c) under
 * custom wait rules taken from the input. The input is NUL-separated:
 * group, kind, condition, status, path, equals (an empty field is NULL),
 * then the object as JSON or YAML.
 * Errors are fine; crashes, leaks and sanitizer reports are not.
 */
#include "doc/doc.h"
#include "kube/kube.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf why = KBUF_INIT;
	doc_load_opts o = { 0 };
	const char *f[6] = { NULL };
	kube_wait_rule rule;
	doc_node *obj = NULL;
	char *text = malloc(size + 1), *p, *end;
	size_t i;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	end = text + size;
	for (i = 0; i < 6 && p < end; i++) {
		size_t n = strlen(p);
		f[i] = n ? p : NULL;
		p += n + 1;
	}
	if (p > end)
		p = end;
	rule.group = f[0];
	rule.kind = f[1];
	rule.condition = f[2];
	rule.status = f[3];
	rule.path = f[4];
	rule.equals = f[5];
	if (doc_load_yaml1(&obj, &a, "live.yaml", p, (size_t)(end - p), &o, &e) == 0 && obj) {
		kube_health(obj, &rule, 1, &why);
		kbuf_reset(&why);
		kube_health(obj, NULL, 0, &why);
		kbuf_reset(&why);
		kube_health_conditions(obj, &why);
	}
	kbuf_release(&why);
	kerr_clear(&e);
	karena_release(&a);
	free(text);
	return 0;
}
