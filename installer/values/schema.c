/*
 * values/schema.c - JSON Schema validation, draft-07 and 2020-12: the
 * evaluation of a schema on an instance, and the entry points.
 *
 * Keywords: type, enum, const, multipleOf, (exclusive)minimum/maximum,
 * min/maxLength, pattern (PCRE2), format, items/additionalItems/prefixItems,
 * contains/minContains/maxContains, min/maxItems, uniqueItems, properties,
 * patternProperties, additionalProperties, propertyNames, required,
 * min/maxProperties, dependencies/dependentRequired/dependentSchemas,
 * allOf/anyOf/oneOf/not, if/then/else, unevaluatedItems/Properties,
 * $ref, $dynamicRef, $id, $anchor, $dynamicAnchor, $defs/definitions,
 * $schema with $vocabulary (a meta-schema without the validation
 * vocabulary turns the validation keywords off). The parts are listed in
 * schema_int.h.
 *
 * References resolve inside the document, to the embedded meta-schemas, or
 * through an optional loader (tests serve the test suite's remotes/). There
 * is never network access. Recursion is capped (VS_MAX_DEPTH), so a
 * self-referencing schema is an error, not a crash.
 *
 * Every violation is reported with the instance's JSON path and position;
 * inside anyOf/oneOf/not/if/contains the branches are probed quietly and one
 * summary error is reported.
 */
#include "schema_int.h"

#include <stdlib.h>
#include <string.h>

static bool eval(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report);

static void ann_init(vs *v, vs_ann *an, const doc_node *inst)
{
	size_t n = inst->type == DOC_MAP ? inst->u.map.len : inst->type == DOC_SEQ ? inst->u.seq.len : 0;
	an->n = n;
	an->seen = n ? karena_alloc(v->a, n * sizeof(bool)) : NULL;
}

static void ann_merge(vs_ann *dst, const vs_ann *src)
{
	size_t i;
	if (!dst || !src)
		return;
	for (i = 0; i < dst->n && i < src->n; i++)
		if (src->seen[i])
			dst->seen[i] = true;
}

/* Evaluate a subschema on the same instance, merging its annotations on
 * success. */
static bool sub_same(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report)
{
	vs_ann sa;
	bool ok;
	ann_init(v, &sa, inst);
	ok = eval(v, s, inst, path, &sa, report);
	if (ok)
		ann_merge(ann, &sa);
	return ok;
}

static bool sub_child(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, bool report)
{
	return eval(v, s, inst, path, NULL, report);
}

static bool eval_map(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report,
		     int draft)
{
	bool ok = true;
	const doc_node *x, *props, *pprops, *addl;
	size_t i, n = inst->u.map.len, save = path->len;
	bool *matched = n ? karena_alloc(v->a, n * sizeof(bool)) : NULL;
#define SUBFAIL() do { ok = false; if (!report) return false; } while (0)
	props = doc_map_get(s, "properties");
	pprops = doc_map_get(s, "patternProperties");
	addl = doc_map_get(s, "additionalProperties");
	for (i = 0; i < n; i++) {
		const doc_pair *pr = &inst->u.map.v[i];
		bool any = false;
		vs_path_key(path, pr->key->u.s.ptr, pr->key->u.s.len);
		if (props && props->type == DOC_MAP) {
			const doc_node *ps = doc_map_getn(props, pr->key->u.s.ptr, pr->key->u.s.len);
			if (ps) {
				any = true;
				if (!sub_child(v, ps, pr->val, path, report))
					SUBFAIL();
			}
		}
		if (pprops && pprops->type == DOC_MAP) {
			size_t j;
			for (j = 0; j < pprops->u.map.len; j++) {
				int m = vs_re_match(v, pprops->u.map.v[j].key, pr->key->u.s.ptr, pr->key->u.s.len);
				if (m == -2) {
					vs_schema_error(v, KE_LIMIT, pr->key, path, "pattern %s ran out of its match budget",
							pprops->u.map.v[j].key->u.s.ptr);
					return false;
				}
				if (m == 1) {
					any = true;
					if (!sub_child(v, pprops->u.map.v[j].val, pr->val, path, report))
						SUBFAIL();
				}
			}
		}
		if (!any && addl) {
			any = true;
			if (addl->type == DOC_BOOL && !addl->u.b) {
				ok = false;
				if (!report)
					return false;
				kbuf_truncate(path, save);
				vs_fail(v, pr->val, path, "additional property \"%s\" is not allowed", pr->key->u.s.ptr);
			} else if (!sub_child(v, addl, pr->val, path, report)) {
				SUBFAIL();
			}
		}
		matched[i] = any;
		if (any && ann)
			ann->seen[i] = true;
		kbuf_truncate(path, save);
	}
	if ((x = doc_map_get(s, "propertyNames"))) {
		for (i = 0; i < n; i++) {
			const doc_pair *pr = &inst->u.map.v[i];
			vs_path_key(path, pr->key->u.s.ptr, pr->key->u.s.len);
			if (!eval(v, x, pr->key, path, NULL, false)) {
				ok = false;
				if (!report)
					return false;
				kbuf_truncate(path, save);
				vs_fail(v, pr->key, path, "property name \"%s\" is not allowed by propertyNames",
				     pr->key->u.s.ptr);
			}
			kbuf_truncate(path, save);
		}
	}
	if ((x = doc_map_get(s, "dependencies")) && x->type == DOC_MAP) {
		for (i = 0; i < x->u.map.len; i++) {
			const doc_pair *pr = &x->u.map.v[i];
			if (!doc_map_getn(inst, pr->key->u.s.ptr, pr->key->u.s.len))
				continue;
			if (pr->val->type == DOC_SEQ) {
				size_t j;
				for (j = 0; j < pr->val->u.seq.len; j++) {
					const doc_node *k = pr->val->u.seq.v[j];
					if (k->type == DOC_STR && !doc_map_getn(inst, k->u.s.ptr, k->u.s.len)) {
						ok = false;
						if (!report)
							return false;
						vs_fail(v, inst, path, "property \"%s\" requires property \"%s\"",
						     pr->key->u.s.ptr, k->u.s.ptr);
					}
				}
			} else if (!sub_same(v, pr->val, inst, path, ann, report)) {
				SUBFAIL();
			}
		}
	}
	if ((x = doc_map_get(s, "dependentSchemas")) && x->type == DOC_MAP && draft != 7)
		for (i = 0; i < x->u.map.len; i++) {
			const doc_pair *pr = &x->u.map.v[i];
			if (doc_map_getn(inst, pr->key->u.s.ptr, pr->key->u.s.len) &&
			    !sub_same(v, pr->val, inst, path, ann, report))
				SUBFAIL();
		}
	return ok;
#undef SUBFAIL
}

static bool eval_seq(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report,
		     int draft)
{
	bool ok = true;
	const doc_node *items, *x;
	size_t i, n = inst->u.seq.len, save = path->len, start = 0;
#define SUBFAIL() do { ok = false; if (!report) return false; } while (0)
	items = doc_map_get(s, "items");
	x = doc_map_get(s, "prefixItems");
	if (draft != 7 && x && x->type == DOC_SEQ) {
		for (i = 0; i < n && i < x->u.seq.len; i++) {
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, x->u.seq.v[i], inst->u.seq.v[i], path, report))
				SUBFAIL();
			if (ann)
				ann->seen[i] = true;
			kbuf_truncate(path, save);
		}
		start = x->u.seq.len;
	}
	if (items && items->type == DOC_SEQ) {
		/* tuple form (draft-07) */
		for (i = 0; i < n && i < items->u.seq.len; i++) {
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, items->u.seq.v[i], inst->u.seq.v[i], path, report))
				SUBFAIL();
			if (ann)
				ann->seen[i] = true;
			kbuf_truncate(path, save);
		}
		x = doc_map_get(s, "additionalItems");
		if (x)
			for (i = items->u.seq.len; i < n; i++) {
				kbuf_printf(path, "[%zu]", i);
				if (!sub_child(v, x, inst->u.seq.v[i], path, report))
					SUBFAIL();
				if (ann)
					ann->seen[i] = true;
				kbuf_truncate(path, save);
			}
	} else if (items) {
		for (i = start; i < n; i++) {
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, items, inst->u.seq.v[i], path, report))
				SUBFAIL();
			if (ann)
				ann->seen[i] = true;
			kbuf_truncate(path, save);
		}
	}
	if ((x = doc_map_get(s, "contains"))) {
		size_t cnt = 0;
		const doc_node *mn = draft != 7 ? doc_map_get(s, "minContains") : NULL;
		const doc_node *mx = draft != 7 ? doc_map_get(s, "maxContains") : NULL;
		double minc = mn && vs_is_num(mn) ? vs_num(mn) : 1;
		for (i = 0; i < n; i++)
			if (eval(v, x, inst->u.seq.v[i], path, NULL, false)) {
				cnt++;
				if (ann && draft != 7)
					ann->seen[i] = true;
			}
		if ((double)cnt < minc) {
			ok = false;
			if (!report)
				return false;
			if (cnt == 0)
				vs_fail(v, inst, path, "no item matches the contains schema");
			else
				vs_fail(v, inst, path, "%zu items match the contains schema, want at least %g", cnt, minc);
		}
		if (mx && vs_is_num(mx) && (double)cnt > vs_num(mx)) {
			ok = false;
			if (!report)
				return false;
			vs_fail(v, inst, path, "%zu items match the contains schema, want at most %g", cnt, vs_num(mx));
		}
	}
	return ok;
#undef SUBFAIL
}

static bool eval_ref(vs *v, const doc_node *s, const char *kw, const doc_node *inst, kbuf *path, vs_ann *ann,
		     bool report, const char *base, int draft)
{
	const doc_node *r = doc_map_get(s, kw), *target;
	if (!r || r->type != DOC_STR)
		return true;
	target = vs_resolve_ref(v, base, r->u.s.ptr, draft);
	if (target && !strcmp(kw, "$dynamicRef")) {
		/* dynamic: if the static target is a $dynamicAnchor of that name,
		 * the outermost resource in scope with the same anchor wins */
		const char *h = strchr(r->u.s.ptr, '#');
		const doc_node *da = target->type == DOC_MAP ? doc_map_get(target, "$dynamicAnchor") : NULL;
		if (h && da && da->type == DOC_STR && !strcmp(da->u.s.ptr, h + 1)) {
			int i;
			for (i = 0; i < v->nscope; i++) {
				kbuf key = KBUF_INIT;
				const doc_node *t2;
				kbuf_printf(&key, "%s#%s", v->scope[i], h + 1);
				t2 = vs_anc_find(v, key.ptr, true);
				kbuf_release(&key);
				if (t2) {
					target = t2;
					break;
				}
			}
		}
	}
	if (!target) {
		vs_schema_error(v, KE_INPUT, inst, path, "cannot resolve %s \"%s\"", kw, r->u.s.ptr);
		return false;
	}
	return sub_same(v, target, inst, path, ann, report);
}

static bool eval(vs *v, const doc_node *s, const doc_node *inst, kbuf *path, vs_ann *ann, bool report)
{
	vs_info *inf;
	const char *base;
	int draft;
	bool ok = true, pushed = false;
	const doc_node *x;
	vs_ann own;
	if (s->type == DOC_BOOL) {
		if (!s->u.b && report)
			vs_fail(v, inst, path, "no value is allowed here (schema is false)");
		return s->u.b;
	}
	if (v->fatal)
		return false;
	if (s->type != DOC_MAP)
		return true;
	if (v->depth >= VS_MAX_DEPTH) {
		vs_schema_error(v, KE_LIMIT, inst, path, "schema references nest deeper than %d levels", VS_MAX_DEPTH);
		return false;
	}
	if (++v->steps > VS_MAX_STEPS) {
		vs_schema_error(v, KE_LIMIT, inst, path, "the schema takes more than %d evaluation steps (nested anyOf/oneOf/$ref?)",
			     VS_MAX_STEPS);
		return false;
	}
	inf = vs_info_get(v, s);
	if (!inf) {
		vs_walk(v, s, v->nscope ? v->scope[v->nscope - 1] : "", v->o && v->o->draft ? v->o->draft : 2020, 0);
		inf = vs_info_get(v, s);
	}
	base = inf ? inf->base : "";
	draft = inf ? inf->draft : 2020;
	v->depth++;
	if (!v->nscope || strcmp(v->scope[v->nscope - 1], base)) {
		v->scope[v->nscope++] = base;
		pushed = true;
	}
	if (!ann) {
		ann_init(v, &own, inst);
		ann = &own;
	}
#define SUBFAIL() do { ok = false; if (!report) goto out; } while (0)
	if (draft == 7 && doc_map_get(s, "$ref")) {
		ok = eval_ref(v, s, "$ref", inst, path, ann, report, base, draft);
		goto out;
	}
	if (!eval_ref(v, s, "$ref", inst, path, ann, report, base, draft))
		SUBFAIL();
	if (draft != 7 && !eval_ref(v, s, "$dynamicRef", inst, path, ann, report, base, draft))
		SUBFAIL();
	if (!v->no_validation && !vs_kw_validation(v, s, inst, path, report))
		SUBFAIL();
	if (inst->type == DOC_STR && (x = doc_map_get(s, "format")) && x->type == DOC_STR) {
		int mode = v->o->format;
		bool assert_fmt = mode == VALUES_FORMAT_ASSERT || (mode == VALUES_FORMAT_DEFAULT && draft == 7);
		if (assert_fmt && !vs_format_ok(x->u.s.ptr, inst->u.s.ptr, inst->u.s.len)) {
			ok = false;
			if (!report)
				goto out;
			vs_fail(v, inst, path, "value is not a valid %s", x->u.s.ptr);
		}
	}
	if ((x = doc_map_get(s, "allOf")) && x->type == DOC_SEQ) {
		size_t i;
		for (i = 0; i < x->u.seq.len; i++)
			if (!sub_same(v, x->u.seq.v[i], inst, path, ann, report))
				SUBFAIL();
	}
	if ((x = doc_map_get(s, "anyOf")) && x->type == DOC_SEQ) {
		size_t i;
		bool any = false;
		for (i = 0; i < x->u.seq.len; i++)
			if (sub_same(v, x->u.seq.v[i], inst, path, ann, false))
				any = true;
		if (!any) {
			ok = false;
			if (!report)
				goto out;
			vs_fail(v, inst, path, "value matches none of the anyOf schemas");
		}
	}
	if ((x = doc_map_get(s, "oneOf")) && x->type == DOC_SEQ) {
		size_t i, cnt = 0;
		for (i = 0; i < x->u.seq.len; i++)
			if (sub_same(v, x->u.seq.v[i], inst, path, ann, false))
				cnt++;
		if (cnt != 1) {
			ok = false;
			if (!report)
				goto out;
			if (cnt)
				vs_fail(v, inst, path, "value matches %zu of the oneOf schemas, want exactly one", cnt);
			else
				vs_fail(v, inst, path, "value matches none of the oneOf schemas");
		}
	}
	if ((x = doc_map_get(s, "not"))) {
		if (eval(v, x, inst, path, NULL, false)) {
			ok = false;
			if (!report)
				goto out;
			vs_fail(v, inst, path, "value must not match the \"not\" schema");
		}
	}
	if ((x = doc_map_get(s, "if"))) {
		const doc_node *t = doc_map_get(s, "then"), *e = doc_map_get(s, "else");
		if (sub_same(v, x, inst, path, ann, false)) {
			if (t && !sub_same(v, t, inst, path, ann, report))
				SUBFAIL();
		} else if (e && !sub_same(v, e, inst, path, ann, report)) {
			SUBFAIL();
		}
	}
	if (inst->type == DOC_MAP && !eval_map(v, s, inst, path, ann, report, draft))
		SUBFAIL();
	if (inst->type == DOC_SEQ && !eval_seq(v, s, inst, path, ann, report, draft))
		SUBFAIL();
	if (draft != 7 && inst->type == DOC_MAP && (x = doc_map_get(s, "unevaluatedProperties"))) {
		size_t i, save = path->len;
		for (i = 0; i < inst->u.map.len; i++) {
			const doc_pair *pr = &inst->u.map.v[i];
			if (ann->seen[i])
				continue;
			vs_path_key(path, pr->key->u.s.ptr, pr->key->u.s.len);
			if (x->type == DOC_BOOL && !x->u.b) {
				ok = false;
				if (report) {
					kbuf_truncate(path, save);
					vs_fail(v, pr->val, path, "unevaluated property \"%s\" is not allowed",
					     pr->key->u.s.ptr);
				}
			} else if (!sub_child(v, x, pr->val, path, report)) {
				ok = false;
			}
			kbuf_truncate(path, save);
			if (!ok && !report)
				goto out;
			ann->seen[i] = true;
		}
	}
	if (draft != 7 && inst->type == DOC_SEQ && (x = doc_map_get(s, "unevaluatedItems"))) {
		size_t i, save = path->len;
		for (i = 0; i < inst->u.seq.len; i++) {
			if (ann->seen[i])
				continue;
			kbuf_printf(path, "[%zu]", i);
			if (!sub_child(v, x, inst->u.seq.v[i], path, report))
				ok = false;
			kbuf_truncate(path, save);
			if (!ok && !report)
				goto out;
			ann->seen[i] = true;
		}
	}
out:
#undef SUBFAIL
	if (pushed)
		v->nscope--;
	v->depth--;
	return ok;
}

static void vs_release(vs *v)
{
	vs_regex_release(v);
	free(v->info);
	free(v->res);
	free(v->anc);
	free(v->secret_files);
}

static int schema_check(const doc_node *schema, int draft, const char *what, kerr *err);

static int validate(const doc_node *schema, const doc_node *instance, const char *what,
		    const values_schema_opts *o, bool check_schema, kerr *err)
{
	vs v;
	karena scratch = KARENA_INIT;
	kbuf path = KBUF_INIT;
	values_schema_opts dflt;
	int draft;
	const doc_node *x;
	bool ok;
	int r;
	if (!schema)
		return 0;
	memset(&dflt, 0, sizeof(dflt));
	memset(&v, 0, sizeof(v));
	v.a = &scratch;
	v.o = o ? o : &dflt;
	v.what = what;
	v.err = err;
	draft = v.o->draft ? v.o->draft : 2020;
	if (schema->type == DOC_MAP && (x = doc_map_get(schema, "$schema")) && x->type == DOC_STR) {
		const char *ms = vs_uri_resolve(v.a, "", x->u.s.ptr);
		const char *frag;
		ms = vs_strip_fragment(v.a, ms, &frag);
		if (!values_metaschema(ms) && v.o->load) {
			/* a custom meta-schema: honour its $vocabulary */
			const doc_node *meta = vs_load_remote(&v, ms);
			const doc_node *voc = meta ? doc_map_get(meta, "$vocabulary") : NULL;
			if (voc && voc->type == DOC_MAP &&
			    !doc_map_get(voc, "https://json-schema.org/draft/2020-12/vocab/validation"))
				v.no_validation = true;
			if (meta && (x = doc_map_get(meta, "$schema")) && x->type == DOC_STR)
				draft = vs_draft_of(x->u.s.ptr, draft);
		}
	}
	if (check_schema) {
		int d = draft;
		if (schema->type == DOC_MAP && (x = doc_map_get(schema, "$schema")) && x->type == DOC_STR)
			d = vs_draft_of(x->u.s.ptr, d);
		if ((r = schema_check(schema, d, what, err))) {
			vs_release(&v);
			karena_release(&scratch);
			return r;
		}
	}
	vs_add_document(&v, "", schema, draft);
	vs_secrets_find(&v, schema, instance);
	kbuf_init(&path, 0);
	ok = eval(&v, schema, instance, &path, NULL, true);
	kbuf_release(&path);
	vs_release(&v);
	karena_release(&scratch);
	if (v.fatal)
		return v.fatal;
	if (!ok && !err->code)
		return kerr_set(err, KE_INPUT, "%s: does not match the schema", what ? what : "values");
	return ok ? 0 : KE_INPUT;
}

/* The schema itself against its draft's meta-schema (formats not
 * asserted): an invalid schema ("type": 123, an array) is refused, located
 * in the schema file, instead of being ignored. */
static int schema_check(const doc_node *schema, int draft, const char *what, kerr *err)
{
	const char *uri = draft == 7 ? "http://json-schema.org/draft-07/schema"
				     : "https://json-schema.org/draft/2020-12/schema";
	const char *text = values_metaschema(uri);
	karena a = KARENA_INIT;
	doc_node *meta = NULL;
	values_schema_opts mo;
	int r;
	memset(&mo, 0, sizeof(mo));
	mo.draft = draft;
	mo.format = VALUES_FORMAT_IGNORE;
	if (doc_load_json(&meta, &a, uri, text, strlen(text), err))
		r = err->code;
	else
		r = validate(meta, schema, karena_printf(&a, "%s: invalid schema", what ? what : "values"), &mo, false,
			     err);
	karena_release(&a);
	return r;
}

int values_validate_opts(const doc_node *schema, const doc_node *instance, const char *what,
			 const values_schema_opts *o, kerr *err)
{
	return validate(schema, instance, what, o, true, err);
}

int values_validate(const doc_node *schema, const doc_node *instance, const char *what, kerr *err)
{
	return values_validate_opts(schema, instance, what, NULL, err);
}
