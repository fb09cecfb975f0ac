/* libFuzzer target: the YAML loader and both emitters. Whatever loads must
 * emit, and what is emitted must load back to an equal document. Loaded a
 * document at a time (doc_load_opts.each, as an apply reads a stage), the
 * stream gives the same documents, or fails where the whole load fails or
 * an alias reaches into an earlier document. */
#include "doc/doc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct seen {
	const doc_stream *whole;   /* NULL: the whole load failed */
	size_t n;
} seen;

static int each(void *u, doc_node *d, kerr *err)
{
	seen *s = u;
	(void)err;
	if (s->whole && (s->n >= s->whole->len || !doc_equal(d, s->whole->docs[s->n])))
		abort();
	s->n++;
	return 0;
}

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
	int whole = doc_load_yaml(&s, &a, "fuzz.yaml", (const char *)data, size, &o, &e);
	{
		doc_load_opts so = o;
		seen sn = { whole ? NULL : &s, 0 };
		doc_stream none;
		kerr se = KERR_INIT;
		int r;
		se.quiet = 1;
		so.each = each;
		so.each_u = &sn;
		r = doc_load_yaml(&none, &a, "fuzz.yaml", (const char *)data, size, &so, &se);
		if (none.len || (!r && whole) || (!r && sn.n != s.len) ||
		    (r && !whole && se.code != KE_INPUT))
			abort();
		kerr_clear(&se);
	}
	if (whole == 0) {
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
