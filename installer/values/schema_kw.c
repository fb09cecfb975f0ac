/*
 * values/schema_kw.c - the assertion keywords on one instance: type, enum,
 * const, multipleOf, (exclusive)minimum/maximum, min/maxLength, pattern,
 * min/maxItems, uniqueItems, min/maxProperties, required,
 * dependentRequired.
 */
#include "schema_int.h"

#include <math.h>
#include <string.h>

static const char *json_type(const doc_node *n)
{
	switch (n->type) {
	case DOC_NULL: return "null";
	case DOC_BOOL: return "boolean";
	case DOC_INT: return "integer";
	case DOC_FLOAT: return n->u.f == floor(n->u.f) && isfinite(n->u.f) ? "integer" : "number";
	case DOC_STR: return "string";
	case DOC_SEQ: return "array";
	case DOC_MAP: return "object";
	}
	return "unknown";
}

static bool type_is(const doc_node *n, const char *t)
{
	if (!strcmp(t, "number"))
		return vs_is_num(n);
	if (!strcmp(t, "integer"))
		return n->type == DOC_INT || (n->type == DOC_FLOAT && isfinite(n->u.f) && n->u.f == floor(n->u.f));
	return !strcmp(t, json_type(n));
}

static size_t utf8_count(const char *s, size_t len)
{
	size_t i, c = 0;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

bool vs_kw_validation(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, bool report)
{
	const doc_node *x;
	bool ok = true;
#define FAIL(...) do { ok = false; if (!report) return false; vs_fail(v, inst, path, __VA_ARGS__); } while (0)
	if ((x = doc_map_get(s, "type"))) {
		bool m = false;
		size_t i;
		if (x->type == DOC_STR)
			m = type_is(inst, x->u.s.ptr);
		else if (x->type == DOC_SEQ)
			for (i = 0; i < x->u.seq.len && !m; i++)
				m = x->u.seq.v[i]->type == DOC_STR && type_is(inst, x->u.seq.v[i]->u.s.ptr);
		else
			m = true;
		if (!m) {
			kbuf want = KBUF_INIT;
			if (x->type == DOC_STR)
				kbuf_puts(&want, x->u.s.ptr);
			else
				for (i = 0; i < x->u.seq.len; i++)
					if (x->u.seq.v[i]->type == DOC_STR)
						kbuf_printf(&want, "%s%s", i ? " or " : "", x->u.seq.v[i]->u.s.ptr);
			ok = false;
			if (!report) {
				kbuf_release(&want);
				return false;
			}
			vs_fail(v, inst, path, "got %s, want %s", json_type(inst), want.ptr);
			kbuf_release(&want);
		}
	}
	if ((x = doc_map_get(s, "enum")) && x->type == DOC_SEQ) {
		size_t i;
		bool m = false;
		for (i = 0; i < x->u.seq.len && !m; i++)
			m = doc_equal(inst, x->u.seq.v[i]);
		if (!m) {
			kbuf list = KBUF_INIT;
			kerr e = KERR_INIT;
			if (!report)
				return false;
			doc_emit_json(&list, x, 0, &e);
			kerr_clear(&e);
			if (list.len > 200) {
				kbuf_truncate(&list, 200);
				kbuf_puts(&list, "...");
			}
			FAIL("value must be one of %s", list.ptr);
			kbuf_release(&list);
		}
	}
	if ((x = doc_map_get(s, "const")) && !doc_equal(inst, x)) {
		kbuf c = KBUF_INIT;
		kerr e = KERR_INIT;
		doc_emit_json(&c, x, 0, &e);
		kerr_clear(&e);
		if (c.len > 200) {
			kbuf_truncate(&c, 200);
			kbuf_puts(&c, "...");
		}
		ok = false;
		if (!report) {
			kbuf_release(&c);
			return false;
		}
		vs_fail(v, inst, path, "value must be %s", c.ptr);
		kbuf_release(&c);
	}
	if (vs_is_num(inst)) {
		double d = vs_num(inst);
		if ((x = doc_map_get(s, "multipleOf")) && vs_is_num(x) && vs_num(x) > 0) {
			bool m;
			if (inst->type == DOC_INT && x->type == DOC_INT)
				m = inst->u.i % x->u.i == 0;
			else {
				double q = d / vs_num(x);
				m = isfinite(q) && fabs(q - nearbyint(q)) < 1e-9;
			}
			if (!m)
				FAIL("value must be a multiple of %g", vs_num(x));
		}
		if ((x = doc_map_get(s, "minimum")) && vs_is_num(x)) {
			bool lt = (inst->type == DOC_INT && x->type == DOC_INT) ? inst->u.i < x->u.i : d < vs_num(x);
			if (lt)
				FAIL("value must be >= %g", vs_num(x));
		}
		if ((x = doc_map_get(s, "maximum")) && vs_is_num(x)) {
			bool gt = (inst->type == DOC_INT && x->type == DOC_INT) ? inst->u.i > x->u.i : d > vs_num(x);
			if (gt)
				FAIL("value must be <= %g", vs_num(x));
		}
		if ((x = doc_map_get(s, "exclusiveMinimum")) && vs_is_num(x) && d <= vs_num(x))
			FAIL("value must be > %g", vs_num(x));
		if ((x = doc_map_get(s, "exclusiveMaximum")) && vs_is_num(x) && d >= vs_num(x))
			FAIL("value must be < %g", vs_num(x));
	}
	if (inst->type == DOC_STR) {
		size_t len = utf8_count(inst->u.s.ptr, inst->u.s.len);
		if ((x = doc_map_get(s, "minLength")) && vs_is_num(x) && (double)len < vs_num(x))
			FAIL("length must be >= %g, got %zu", vs_num(x), len);
		if ((x = doc_map_get(s, "maxLength")) && vs_is_num(x) && (double)len > vs_num(x))
			FAIL("length must be <= %g, got %zu", vs_num(x), len);
		if ((x = doc_map_get(s, "pattern")) && x->type == DOC_STR) {
			int m = vs_re_match(v, x, inst->u.s.ptr, inst->u.s.len);
			if (m == -2) {
				vs_schema_error(v, KE_LIMIT, inst, path, "pattern %s ran out of its match budget", x->u.s.ptr);
				return false;
			}
			if (m < 0)
				FAIL("schema pattern %s does not compile", x->u.s.ptr);
			else if (!m)
				FAIL("value does not match pattern %s", x->u.s.ptr);
		}
	}
	if (inst->type == DOC_SEQ) {
		size_t n = inst->u.seq.len;
		if ((x = doc_map_get(s, "minItems")) && vs_is_num(x) && (double)n < vs_num(x))
			FAIL("must have at least %g items, got %zu", vs_num(x), n);
		if ((x = doc_map_get(s, "maxItems")) && vs_is_num(x) && (double)n > vs_num(x))
			FAIL("must have at most %g items, got %zu", vs_num(x), n);
		if ((x = doc_map_get(s, "uniqueItems")) && x->type == DOC_BOOL && x->u.b) {
			size_t i, j;
			bool dup = false;
			for (i = 0; i < n && !dup; i++)
				for (j = i + 1; j < n && !dup; j++)
					if (doc_equal(inst->u.seq.v[i], inst->u.seq.v[j])) {
						dup = true;
						if (report)
							FAIL("items at %zu and %zu are equal", i, j);
						else
							return false;
					}
		}
	}
	if (inst->type == DOC_MAP) {
		size_t n = inst->u.map.len, i;
		if ((x = doc_map_get(s, "minProperties")) && vs_is_num(x) && (double)n < vs_num(x))
			FAIL("must have at least %g properties, got %zu", vs_num(x), n);
		if ((x = doc_map_get(s, "maxProperties")) && vs_is_num(x) && (double)n > vs_num(x))
			FAIL("must have at most %g properties, got %zu", vs_num(x), n);
		if ((x = doc_map_get(s, "required")) && x->type == DOC_SEQ)
			for (i = 0; i < x->u.seq.len; i++) {
				const doc_node *k = x->u.seq.v[i];
				if (k->type == DOC_STR && !doc_map_getn(inst, k->u.s.ptr, k->u.s.len))
					FAIL("missing required property \"%s\"", k->u.s.ptr);
			}
		if ((x = doc_map_get(s, "dependentRequired")) && x->type == DOC_MAP)
			for (i = 0; i < x->u.map.len; i++) {
				const doc_pair *pr = &x->u.map.v[i];
				size_t j;
				if (!doc_map_getn(inst, pr->key->u.s.ptr, pr->key->u.s.len) || pr->val->type != DOC_SEQ)
					continue;
				for (j = 0; j < pr->val->u.seq.len; j++) {
					const doc_node *k = pr->val->u.seq.v[j];
					if (k->type == DOC_STR && !doc_map_getn(inst, k->u.s.ptr, k->u.s.len))
						FAIL("property \"%s\" requires property \"%s\"", pr->key->u.s.ptr,
						     k->u.s.ptr);
				}
			}
	}
	return ok;
#undef FAIL
}
