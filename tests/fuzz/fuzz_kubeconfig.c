/*
 * fuzz_kubeconfig: the kubeconfig loader (kube/kubeconfig.c) on one file of
 * arbitrary text, then the namespace, server and credentials it resolved.
 * The first byte picks --context and -n overrides; nothing is run (exec
 * plugins are only recorded) and nothing is read beyond the text, except
 * relative file paths that are never opened here. Errors are fine; crashes,
 * leaks and sanitizer reports are not.
 */
#include "kube/kube.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ctxs[] = { NULL, "a", "" };
	static const char *const nss[] = { NULL, "team-a", "../x" };
	kube_config_opts o;
	kube_config c;
	kerr e = KERR_INIT;
	const char *names[1] = { "/fuzz/kubeconfig" };
	const char *texts[1];
	char *text;
	if (size < 1 || size > 262144)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	texts[0] = text;
	memset(&o, 0, sizeof(o));
	o.context = ctxs[data[0] % 3];
	o.namespace = nss[(data[0] / 3) % 3];
	e.quiet = data[0] & 0x80;
	if (kube_config_load_texts(&c, names, texts, 1, &o, &e) == 0 && c.namespace)
		(void)kube_check_namespace(c.namespace);
	kube_config_release(&c);
	kerr_clear(&e);
	free(text);
	return 0;
}
