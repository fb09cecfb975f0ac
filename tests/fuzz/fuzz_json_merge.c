/*
 * fuzz_json_merge: jsonKeyMerge's in-place edit of a JSON string
 * (kube_json_key_merge_text). When it accepts the input, the result must
 * parse, hold every set key with its value and every other key of the input
 * with its value, and nothing else. Errors are fine; crashes, leaks and
 * sanitizer reports are not.
 */
#include "kube/kube.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char set_json[] = "{\"enableGatewayApi\":true,\"kserveIngressGateway\":\"kserve/gw\","
				       "\"extra\":[1,{\"a\":\"b\"}]}";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *set, *in, *res;
	size_t i;
	if (size > 65536)
		return 0;
	e.quiet = 1;
	if (doc_load_json(&set, &a, "set", set_json, sizeof(set_json) - 1, &e))
		abort();
	if (kube_json_key_merge_text(&out, &a, (const char *)data, size, set, &e) == 0) {
		if (doc_load_json(&in, &a, "in", (const char *)data, size, &e) ||
		    doc_load_json(&res, &a, "out", out.ptr, out.len, &e) || res->type != DOC_MAP)
			abort();
		for (i = 0; i < set->u.map.len; i++) {
			const doc_node *k = set->u.map.v[i].key;
			const doc_node *v = doc_map_getn(res, k->u.s.ptr, k->u.s.len);
			if (!v || !doc_equal(v, set->u.map.v[i].val))
				abort();
		}
		for (i = 0; i < in->u.map.len; i++) {
			const doc_node *k = in->u.map.v[i].key;
			const doc_node *v = doc_map_getn(res, k->u.s.ptr, k->u.s.len);
			if (!v || (!doc_map_getn(set, k->u.s.ptr, k->u.s.len) && !doc_equal(v, in->u.map.v[i].val)))
				abort();
		}
		for (i = 0; i < res->u.map.len; i++) {
			const doc_node *k = res->u.map.v[i].key;
			if (!doc_map_getn(in, k->u.s.ptr, k->u.s.len) && !doc_map_getn(set, k->u.s.ptr, k->u.s.len))
				abort();
		}
	}
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
