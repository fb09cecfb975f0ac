/* Unit tests for the secret marks: where a schema can put
 * "x-kstage-secret", the walk's limit (a hostile schema masks everything),
 * and errors that must not show a secret value (issue 13). */
#include "unit.h"
#include "values/values.h"

#include <stdlib.h>

static char *masked(karena *a, const char *schema, const char *vals)
{
	kerr e = KERR_INIT;
	doc_node *s = NULL, *v = NULL;
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(doc_load_json(&s, a, "s.json", schema, strlen(schema), &e), 0);
	CHECK_INT_EQ(doc_load_json(&v, a, "v.json", vals, strlen(vals), &e), 0);
	doc_emit_json(&b, values_mask_secrets(a, v, s, NULL), DOC_EMIT_SORT_KEYS, &e);
	kerr_clear(&e);
	return kbuf_detach(&b, NULL);
}

TEST(values_mask_marks_in_combinators_and_refs)
{
	karena a = KARENA_INIT;
	char *s = masked(&a,
		"{\"properties\":{"
		"\"all\":{\"allOf\":[{\"type\":\"string\"},{\"x-kstage-secret\":true}]},"
		"\"any\":{\"anyOf\":[{\"type\":\"integer\"},{\"x-kstage-secret\":true}]},"
		"\"one\":{\"oneOf\":[{\"x-kstage-secret\":true}]},"
		"\"sib\":{\"$ref\":\"#/$defs/str\",\"x-kstage-secret\":true},"
		"\"slash\":{\"$ref\":\"#/$defs/a~1b\"},\"tilde\":{\"$ref\":\"#/$defs/c~0d\"},"
		"\"pct\":{\"$ref\":\"#/$defs/e%25f\"},\"idx\":{\"$ref\":\"#/$defs/list/1\"},"
		"\"deep\":{\"$ref\":\"#/$defs/wrap\"},\"plain\":{\"$ref\":\"#/$defs/str\"}},"
		"\"$defs\":{\"str\":{\"type\":\"string\"},\"a/b\":{\"x-kstage-secret\":true},"
		"\"c~d\":{\"x-kstage-secret\":true},\"e%f\":{\"x-kstage-secret\":true},"
		"\"list\":[{},{\"x-kstage-secret\":true}],"
		"\"wrap\":{\"allOf\":[{\"properties\":{\"k\":{\"$ref\":\"#/$defs/a~1b\"}}}]}}}",
		"{\"all\":\"s1\",\"any\":\"s2\",\"one\":\"s3\",\"sib\":\"s4\",\"slash\":\"s5\",\"tilde\":\"s6\","
		"\"pct\":\"s7\",\"idx\":\"s8\",\"deep\":{\"k\":\"s9\",\"o\":\"p2\"},\"plain\":\"p1\"}");
	CHECK_STR_EQ(s, "{\"all\":\"<redacted>\",\"any\":\"<redacted>\",\"deep\":{\"k\":\"<redacted>\",\"o\":\"p2\"},"
			"\"idx\":\"<redacted>\",\"one\":\"<redacted>\",\"pct\":\"<redacted>\",\"plain\":\"p1\","
			"\"sib\":\"<redacted>\",\"slash\":\"<redacted>\",\"tilde\":\"<redacted>\"}");
	free(s);
	karena_release(&a);
}

TEST(values_mask_hostile_schema_masks_everything)
{
	karena a = KARENA_INIT;
	kbuf schema = KBUF_INIT;
	char *s;
	int i;
	/* 2^40 paths through anyOf/$ref: the walk stops at its step limit and
	 * masks the whole value rather than guess */
	kbuf_puts(&schema, "{\"$ref\":\"#/$defs/d0\",\"$defs\":{");
	for (i = 0; i < 40; i++)
		kbuf_printf(&schema, "\"d%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/d%d\"},{\"$ref\":\"#/$defs/d%d\"}]},", i,
			    i + 1, i + 1);
	kbuf_puts(&schema, "\"d40\":{\"properties\":{\"k\":{\"x-kstage-secret\":false}}}}}");
	s = masked(&a, schema.ptr, "{\"k\":\"s1\",\"o\":\"s2\"}");
	CHECK_STR_EQ(s, "\"<redacted>\"");
	free(s);
	kbuf_release(&schema);
	karena_release(&a);
}

TEST(values_set_secret_syntax_error_hides_values)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *dst = doc_new_map(&a);
	CHECK_INT_EQ(values_parse_set(dst, &a, VALUES_SET_SECRET, "db.password=hunter2,x[y]=1", VALUES_NUM_EXACT, &e),
		     KE_INPUT);
	kerr_format(&e, &out);
	CHECK_CONTAINS(out.ptr, "--set-secret:1:13: error parsing index");
	CHECK_CONTAINS(out.ptr, "db.password=<redacted>");
	CHECK_MSG(!strstr(out.ptr, "hunter2"), "the value shows: %s", out.ptr);
	/* a key after the first value may be a value typed without its key */
	kbuf_reset(&out);
	CHECK_INT_EQ(values_parse_set(dst, &a, VALUES_SET_SECRET, "a=b,hunter3", VALUES_NUM_EXACT, &e), KE_INPUT);
	kerr_format(&e, &out);
	CHECK_CONTAINS(out.ptr, "key \"<redacted>\" has no value");
	CHECK_MSG(!strstr(out.ptr, "hunter3"), "the value shows: %s", out.ptr);
	/* no '=' at all: the whole argument may be the value */
	kbuf_reset(&out);
	CHECK_INT_EQ(values_parse_set(dst, &a, VALUES_SET_SECRET, "hunter4", VALUES_NUM_EXACT, &e), KE_INPUT);
	kerr_format(&e, &out);
	CHECK_CONTAINS(out.ptr, "--set-secret:1:1: key \"<redacted>\" has no value");
	CHECK_MSG(!strstr(out.ptr, "hunter4"), "the value shows: %s", out.ptr);
	/* a mistake in the first key is shown as it is */
	kbuf_reset(&out);
	CHECK_INT_EQ(values_parse_set(dst, &a, VALUES_SET_SECRET, "k[x]=hunter5", VALUES_NUM_EXACT, &e), KE_INPUT);
	kerr_format(&e, &out);
	CHECK_CONTAINS(out.ptr, "--set-secret:1:3: error parsing index: \"x\" is not an integer");
	CHECK_CONTAINS(out.ptr, "k[x]=<redacted>");
	CHECK_MSG(!strstr(out.ptr, "hunter5"), "the value shows: %s", out.ptr);
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(values_schema_error_hides_secret_argument)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *user = doc_new_map(&a), *schema = NULL;
	const char *sj = "{\"properties\":{\"n\":{\"type\":\"integer\"},\"db\":{\"allOf\":[{\"x-kstage-secret\":true}],"
			 "\"properties\":{\"password\":{\"maxLength\":3}}}}}";
	CHECK_INT_EQ(doc_load_json(&schema, &a, "s.json", sj, strlen(sj), &e), 0);
	CHECK_INT_EQ(values_parse_set(user, &a, VALUES_SET, "n=x,db.password=hunter2", VALUES_NUM_EXACT, &e), 0);
	CHECK_INT_EQ(values_validate(schema, user, "app", &e), KE_INPUT);
	kerr_format(&e, &out);
	CHECK_CONTAINS(out.ptr, "--set n=<redacted>:1:3: app: n: got string, want integer");
	CHECK_CONTAINS(out.ptr, "--set n=<redacted>:1:17: app: db.password: length must be <= 3, got 7");
	CHECK_MSG(!strstr(out.ptr, "hunter2"), "the value shows: %s", out.ptr);
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(values_mask_marks_in_conditionals_and_item_keywords)
{
	karena a = KARENA_INIT;
	char *s = masked(&a,
		"{\"properties\":{"
		"\"cond\":{\"if\":{\"type\":\"integer\"},\"then\":{},\"else\":{\"x-kstage-secret\":true}},"
		"\"dep\":{\"dependentSchemas\":{\"k\":{\"properties\":{\"v\":{\"x-kstage-secret\":true}}}}},"
		"\"tuple\":{\"items\":[{}],\"additionalItems\":{\"x-kstage-secret\":true}},"
		"\"has\":{\"contains\":{\"x-kstage-secret\":true}},"
		"\"tail\":{\"prefixItems\":[{}],\"unevaluatedItems\":{\"x-kstage-secret\":true}},"
		"\"rest\":{\"properties\":{\"p\":{}},\"unevaluatedProperties\":{\"x-kstage-secret\":true}}}}",
		"{\"cond\":\"s1\",\"dep\":{\"k\":1,\"v\":\"s2\"},\"tuple\":[\"p1\",\"s3\"],\"has\":[\"s4\"],\"tail\":[\"p3\",\"s6\"],"
		"\"rest\":{\"p\":\"p2\",\"q\":\"s5\"}}");
	CHECK_STR_EQ(s, "{\"cond\":\"<redacted>\",\"dep\":{\"k\":1,\"v\":\"<redacted>\"},\"has\":[\"<redacted>\"],"
			"\"rest\":{\"p\":\"p2\",\"q\":\"<redacted>\"},\"tail\":[\"p3\",\"<redacted>\"],"
			"\"tuple\":[\"p1\",\"<redacted>\"]}");
	free(s);
	karena_release(&a);
}

TEST(values_mask_marks_behind_anchors)
{
	karena a = KARENA_INIT;
	char *s = masked(&a,
		"{\"properties\":{\"a\":{\"$ref\":\"#tok\"},\"b\":{\"$dynamicRef\":\"#dyn\"},\"c\":{\"$ref\":\"#old\"},"
		"\"d\":{\"$ref\":\"#none\"}},"
		"\"$defs\":{\"t\":{\"$anchor\":\"tok\",\"x-kstage-secret\":true},"
		"\"u\":{\"$dynamicAnchor\":\"dyn\",\"x-kstage-secret\":true},"
		"\"v\":{\"$id\":\"#old\",\"x-kstage-secret\":true}}}",
		"{\"a\":\"s1\",\"b\":\"s2\",\"c\":\"s3\",\"d\":\"p1\"}");
	CHECK_STR_EQ(s, "{\"a\":\"<redacted>\",\"b\":\"<redacted>\",\"c\":\"<redacted>\",\"d\":\"p1\"}");
	free(s);
	karena_release(&a);
}
