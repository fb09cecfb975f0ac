/* libFuzzer target: the YAML loader and both emitters. Whatever loads must
 * emit, and what is emitted must load back to an equal document. */
#include "doc/doc.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_stream s;
	doc_load_opts o = { 0 };
	size_t i;
	e.quiet = 1;
	o.max_alias_nodes = 20000;
	o.max_depth = 200;
	if (doc_load_yaml(&s, &a, "fuzz.yaml", (const char *)data, size, &o, &e) == 0) {
		for (i = 0; i < s.len; i++) {
			kbuf y = KBUF_INIT, j = KBUF_INIT;
			doc_node *back = NULL;
			if (doc_emit_yaml(&y, s.docs[i], i & 1 ? DOC_EMIT_SORT_KEYS : 0, &e) != 0)
				abort();
			if (doc_load_yaml1(&back, &a, "again.yaml", y.ptr, y.len, &o, &e) != 0 ||
			    !doc_equal(back, s.docs[i]))
				abort();
			if (doc_emit_json(&j, s.docs[i], DOC_EMIT_HTML_ESCAPE, &e) == 0) {
				if (doc_load_json(&back, &a, "again.json", j.ptr, j.len, &e) != 0 ||
				    !doc_equal(back, s.docs[i]))
					abort();
			}
			(void)doc_get_path(s.docs[i], "metadata.name");
			(void)doc_get_path(s.docs[i], "spec.a[0].b");
			kbuf_release(&y);
			kbuf_release(&j);
		}
	}
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
