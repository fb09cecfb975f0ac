/* libFuzzer target: the fast reader of plain block YAML (doc/load_yaml_fast.c)
 * against libyaml alone. Whatever the text, both give the same result, the
 * same documents, and the same line, column, type and flags on every node
 * (error messages and schema locations come from those). */
#include "doc/doc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const doc_node *a, const doc_node *b)
{
	size_t i;
	if (!a || !b) {
		if (a != b)
			abort();
		return;
	}
	if (a->type != b->type || a->flags != b->flags || a->line != b->line || a->col != b->col)
		abort();
	if (a->type == DOC_SEQ) {
		if (a->u.seq.len != b->u.seq.len)
			abort();
		for (i = 0; i < a->u.seq.len; i++)
			same(a->u.seq.v[i], b->u.seq.v[i]);
	} else if (a->type == DOC_MAP) {
		if (a->u.map.len != b->u.map.len)
			abort();
		for (i = 0; i < a->u.map.len; i++) {
			same(a->u.map.v[i].key, b->u.map.v[i].key);
			same(a->u.map.v[i].val, b->u.map.v[i].val);
		}
	} else if (!doc_equal(a, b)) {
		abort();
	}
}

static int load(doc_stream *s, karena *a, const uint8_t *data, size_t size, int no_fast, kerr *e)
{
	doc_load_opts o = { 0 };
	o.max_alias_nodes = 20000;
	o.max_depth = 200;
	o.dup = DOC_DUP_LAST;
	o.no_fast = no_fast;
	return doc_load_yaml(s, a, "fuzz.yaml", (const char *)data, size, &o, e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e1 = KERR_INIT, e2 = KERR_INIT;
	doc_stream fast, slow;
	int r1, r2;
	size_t i;
	e1.quiet = e2.quiet = 1;
	r1 = load(&fast, &a, data, size, 0, &e1);
	r2 = load(&slow, &a, data, size, 1, &e2);
	if (r1 != r2)
		abort();
	if (r1 == 0) {
		if (fast.len != slow.len)
			abort();
		for (i = 0; i < fast.len; i++)
			same(fast.docs[i], slow.docs[i]);
	} else if (strcmp(e1.first.msg ? e1.first.msg : "", e2.first.msg ? e2.first.msg : "") ||
		   e1.first.line != e2.first.line || e1.first.col != e2.first.col) {
		abort();
	}
	kerr_clear(&e1);
	kerr_clear(&e2);
	karena_release(&a);
	return 0;
}
