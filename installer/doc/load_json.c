/* doc/load_json.c - JSON (API server replies) through jansson. */
#include "doc.h"
#include "core/alloc.h"

#include <jansson.h>
#include <string.h>

#define JSON_MAX_DEPTH 1000

/* skip[0].skip[1] is left out: level is 0 at the top, 1 inside skip[0] */
static doc_node *convert(karena *a, json_t *j, int depth, int *too_deep, const char *const *skip, int level)
{
	doc_node *n;
	if (depth > JSON_MAX_DEPTH) {
		*too_deep = 1;
		return doc_new_null(a);
	}
	switch (json_typeof(j)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;
		n = doc_new_map(a);
		/* sized once and no lookups: jansson's keys are unique */
		n->u.map.cap = json_object_size(j);
		n->u.map.v = n->u.map.cap ? karena_alloc_raw(a, st_mult(n->u.map.cap, sizeof(doc_pair))) : NULL;
		json_object_foreach(j, k, v) {
			if (level == 1 && !strcmp(k, skip[1]))
				continue;
			doc_map_append(a, n, doc_new_str(a, k),
				       convert(a, v, depth + 1, too_deep, skip, skip && level == 0 && !strcmp(k, skip[0]) ? 1 : 2));
		}
		return n;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;
		n = doc_new_seq(a);
		n->u.seq.cap = json_array_size(j);
		n->u.seq.v = n->u.seq.cap ? karena_alloc_raw(a, st_mult(n->u.seq.cap, sizeof(doc_node *))) : NULL;
		json_array_foreach(j, i, v) {
			doc_seq_push(a, n, convert(a, v, depth + 1, too_deep, skip, 2));
		}
		return n;
	}
	case JSON_STRING:
		return doc_new_strn(a, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		return doc_new_int(a, (int64_t)json_integer_value(j));
	case JSON_REAL:
		return doc_new_float(a, json_real_value(j));
	case JSON_TRUE:
		return doc_new_bool(a, true);
	case JSON_FALSE:
		return doc_new_bool(a, false);
	default:
		return doc_new_null(a);
	}
}

static int load_json(doc_node **out, karena *a, const char *name, const char *text, size_t len,
		     const char *const *skip, kerr *err)
{
	json_error_t je;
	json_t *j;
	int too_deep = 0;
	const char *nm = name ? name : "<json>";
	doc_node *m;
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &je);
	if (!j && strstr(je.text, "too big")) {
		/* an integer beyond int64 (Go writes 1e20 as 100000000000000000000):
		 * read every number as a float rather than fail */
		j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES |
			       JSON_DECODE_INT_AS_REAL, &je);
	}
	if (!j && strstr(je.text, "NUL byte in object key")) {
		/* jansson keeps keys as C strings; Go writes "\u0000" in a key
		 * (a custom resource's free-form field may hold one) */
		kbuf why = KBUF_INIT;
		int r = doc_load_json_go(out, a, text, len, &why);
		kbuf_release(&why);
		if (r == 0) {
			if (skip && (*out)->type == DOC_MAP && (m = doc_map_get(*out, skip[0])) && m->type == DOC_MAP)
				doc_map_del(m, skip[1]);
			return 0;
		}
	}
	if (!j) {
		if (je.line > 0)
			return kerr_set_src(err, KE_INPUT, nm, text, len, (unsigned)je.line,
					    (unsigned)(je.column > 0 ? je.column : 1), "invalid JSON: %s", je.text);
		return kerr_set_at(err, KE_INPUT, nm, 0, 0, "invalid JSON: %s", je.text);
	}
	*out = convert(a, j, 0, &too_deep, skip, skip ? 0 : 2);
	json_decref(j);
	if (too_deep)
		return kerr_set_at(err, KE_LIMIT, nm, 0, 0, "JSON nesting deeper than %d levels",
				   JSON_MAX_DEPTH);
	return 0;
}

int doc_load_json(doc_node **out, karena *a, const char *name, const char *text, size_t len, kerr *err)
{
	return load_json(out, a, name, text, len, NULL, err);
}

int doc_load_json_skip(doc_node **out, karena *a, const char *name, const char *text, size_t len, const char *outer,
		       const char *inner, kerr *err)
{
	const char *const skip[2] = { outer, inner };
	return load_json(out, a, name, text, len, skip, err);
}

int doc_load_json_prefix(doc_node **out, karena *a, const char *text, size_t len, size_t *used, kbuf *why)
{
	json_error_t je;
	json_t *j;
	int too_deep = 0;
	*out = NULL;
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		*used = je.position > 0 ? (size_t)je.position - 1 : 0;
		kbuf_puts(why, je.text);
		return KE_INPUT;
	}
	*used = (size_t)je.position;
	*out = convert(a, j, 0, &too_deep, NULL, 2);
	json_decref(j);
	if (too_deep) {
		*out = NULL;
		*used = 0;
		return KE_LIMIT;
	}
	return 0;
}
