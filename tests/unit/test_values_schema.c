/* Unit tests for values_validate beyond the JSON-Schema-Test-Suite: schema
 * errors (unresolvable references, runaway recursion) are fatal wherever
 * they happen, quiet probes included, and a validation never succeeds with
 * an error set. */
#include "unit.h"
#include "values/values.h"

#include <stdlib.h>

/* Validate the JSON instance against the schema (read as YAML, as a
 * bundle's values.schema.json is, so its nodes have positions); the formatted errors
 * go to out. Returns values_validate's result, and checks that it is the
 * error object's code (0 exactly when no error is set). */
static int check_json(const char *schema, const char *instance, kbuf *out)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *s = NULL, *i = NULL;
	int r;
	CHECK_INT_EQ(doc_load_yaml1(&s, &a, "values.schema.json", schema, strlen(schema), NULL, &e), 0);
	CHECK_INT_EQ(doc_load_json(&i, &a, "values.json", instance, strlen(instance), &e), 0);
	r = values_validate(s, i, "app", &e);
	CHECK_MSG(r == e.code, "validate returned %d with error code %d", r, e.code);
	kerr_format(&e, out);
	kerr_clear(&e);
	karena_release(&a);
	return r;
}

TEST(values_schema_unresolvable_ref_in_anyof_is_fatal)
{
	kbuf out = KBUF_INIT;
	CHECK_INT_EQ(check_json("{\"anyOf\":[{\"$ref\":\"#/nope\"},{\"type\":\"string\"}]}", "\"x\"", &out),
		     KE_INPUT);
	CHECK_CONTAINS(out.ptr, "cannot resolve $ref \"#/nope\"");
	CHECK_MSG(!strstr(out.ptr, "anyOf"), "one error, not a summary: %s", out.ptr);
	kbuf_release(&out);
}

TEST(values_schema_unresolvable_ref_in_not_is_fatal)
{
	kbuf out = KBUF_INIT;
	CHECK(check_json("{\"not\":{\"$ref\":\"#/$defs/missing\"}}", "1", &out) != 0);
	CHECK_CONTAINS(out.ptr, "cannot resolve $ref \"#/$defs/missing\"");
	kbuf_release(&out);
}

TEST(values_schema_depth_in_anyof_is_fatal)
{
	kbuf out = KBUF_INIT;
	CHECK_INT_EQ(check_json("{\"anyOf\":[{\"$ref\":\"#\"},{\"type\":\"string\"}]}", "\"x\"", &out), KE_LIMIT);
	CHECK_CONTAINS(out.ptr, "schema references nest deeper than");
	kbuf_release(&out);
}

TEST(values_schema_depth_in_not_is_fatal)
{
	kbuf out = KBUF_INIT;
	CHECK(check_json("{\"$defs\":{\"loop\":{\"$ref\":\"#/$defs/loop\"}},\"not\":{\"$ref\":\"#/$defs/loop\"}}",
			 "{}", &out) != 0);
	CHECK_CONTAINS(out.ptr, "schema references nest deeper than");
	kbuf_release(&out);
}

TEST(values_schema_good_branch_after_failing_branch_leaves_no_error)
{
	kbuf out = KBUF_INIT;
	CHECK_INT_EQ(check_json("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}],"
				"\"oneOf\":[{\"minLength\":5},{\"maxLength\":2}]}", "\"x\"", &out), 0);
	CHECK_STR_EQ(out.ptr, "");
	kbuf_release(&out);
}

TEST(values_schema_invalid_schema_is_refused_with_position)
{
	kbuf out = KBUF_INIT;
	CHECK_INT_EQ(check_json("{\"properties\":{\"a\":{\n  \"type\": 123}}}", "{\"a\":1}", &out), KE_INPUT);
	CHECK_CONTAINS(out.ptr, "values.schema.json:2:11: app: invalid schema: properties.a.type:");
	kbuf_reset(&out);
	CHECK_INT_EQ(check_json("[{\"type\":\"string\"}]", "1", &out), KE_INPUT);
	CHECK_CONTAINS(out.ptr, "values.schema.json:1:1: app: invalid schema: (root): got array, want object or boolean");
	kbuf_reset(&out);
	CHECK_INT_EQ(check_json("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"required\":\"a\"}", "{}", &out),
		     KE_INPUT);
	CHECK_CONTAINS(out.ptr, "app: invalid schema: required: got string, want array");
	kbuf_release(&out);
}

TEST(values_schema_exponential_schema_hits_the_step_limit)
{
	kbuf schema = KBUF_INIT, out = KBUF_INIT;
	int i;
	/* 2^30 evaluations of d30 through nested anyOf/$ref, none of which
	 * matches: the validation stops at its step budget */
	kbuf_puts(&schema, "{\"$ref\":\"#/$defs/d0\",\"$defs\":{");
	for (i = 0; i < 30; i++)
		kbuf_printf(&schema, "\"d%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/d%d\"},{\"$ref\":\"#/$defs/d%d\"}]},", i,
			    i + 1, i + 1);
	kbuf_puts(&schema, "\"d30\":{\"type\":\"string\"}}}");
	CHECK_INT_EQ(check_json(schema.ptr, "1", &out), KE_LIMIT);
	CHECK_CONTAINS(out.ptr, "the schema takes more than 1000000 evaluation steps");
	kbuf_release(&schema);
	kbuf_release(&out);
}

TEST(values_schema_pattern_match_budget_is_an_error)
{
	kbuf out = KBUF_INIT;
	/* catastrophic backtracking: PCRE2's match limit is not "no match" */
	CHECK_INT_EQ(check_json("{\"pattern\":\"^(a|a)*$\"}", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\"", &out),
		     KE_LIMIT);
	CHECK_CONTAINS(out.ptr, "app: (root): pattern ^(a|a)*$ ran out of its match budget");
	kbuf_reset(&out);
	CHECK_INT_EQ(check_json("{\"patternProperties\":{\"^(a|a)*$\":{\"type\":\"string\"}}}",
				"{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\":1}", &out), KE_LIMIT);
	CHECK_CONTAINS(out.ptr, "ran out of its match budget");
	kbuf_release(&out);
}

TEST(values_schema_deep_schema_passes_the_meta_schema_check)
{
	kbuf schema = KBUF_INIT, inst = KBUF_INIT, out = KBUF_INIT;
	int i;
	/* the meta-schema check takes about five levels of evaluation per level
	 * of the schema: 60 nested objects are well within the depth limit */
	for (i = 0; i < 60; i++) {
		kbuf_puts(&schema, "{\"type\":\"object\",\"properties\":{\"a\":");
		kbuf_puts(&inst, "{\"a\":");
	}
	kbuf_puts(&schema, "{\"type\":\"string\"}");
	kbuf_puts(&inst, "\"x\"");
	for (i = 0; i < 60; i++) {
		kbuf_puts(&schema, "}}");
		kbuf_puts(&inst, "}");
	}
	CHECK_INT_EQ(check_json(schema.ptr, inst.ptr, &out), 0);
	CHECK_STR_EQ(out.ptr, "");
	kbuf_release(&schema);
	kbuf_release(&inst);
	kbuf_release(&out);
}
