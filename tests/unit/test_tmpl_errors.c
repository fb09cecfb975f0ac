/* Template errors as data (tmpl.h "Template errors"): the location and the
 * message are fields, worded as Go does by tmpl_error_format(). */
#include "unit.h"
#include "core/arena.h"
#include "tmpl/tmpl.h"

static int run(const char *text, kerr *e)
{
	karena a = KARENA_INIT;
	kbuf out = KBUF_INIT;
	tmpl_set *s = tmpl_set_new(&a);
	int r = tmpl_parse(s, "t.yaml", text, strlen(text), e);
	if (!r)
		r = tmpl_exec(s, "t.yaml", doc_new_map(&a), &out, NULL, e);
	kbuf_release(&out);
	karena_release(&a);
	return r;
}

TEST(tmpl_errors_exec_location_is_data)
{
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(run("a: 1\nb: {{ index .x 1 }}\n", &e), KE_INPUT);
	CHECK(kerr_reason_is(&e, TMPL_REASON_EXEC));
	CHECK_STR_EQ(e.first.file, "t.yaml");
	CHECK_INT_EQ(e.first.line, 2);
	CHECK_INT_EQ(e.first.col, 7); /* Go's column 6, plus one */
	CHECK_STR_EQ(e.first.src_line, "b: {{ index .x 1 }}");
	CHECK_STR_EQ(e.first.msg, "executing \"t.yaml\" at <index .x 1>: error calling index: index of untyped nil");
	CHECK(!kerr_find_cause(&e, TMPL_CAUSE_FAIL));
	tmpl_error_format(&e, &b);
	CHECK_STR_EQ(b.ptr, "template: t.yaml:2:6: executing \"t.yaml\" at <index .x 1>: error calling index: index of untyped nil");
	/* context a caller adds stays in front, as when the location was text */
	kbuf_reset(&b);
	kerr_wrap(&e, "stage one");
	tmpl_error_format_short(&e, &b);
	CHECK_STR_EQ(b.ptr, "stage one: template: t.yaml:2:6: executing \"t.yaml\" at <index .x 1>: error calling index: "
			    "index of untyped nil");
	kbuf_release(&b);
	kerr_clear(&e);
}

TEST(tmpl_errors_parse_location_is_data)
{
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(run("x\n  {{ nope }}", &e), KE_INPUT);
	CHECK(kerr_reason_is(&e, TMPL_REASON_PARSE));
	CHECK_INT_EQ(e.first.line, 2);
	CHECK_INT_EQ(e.first.col, 6);
	CHECK_STR_EQ(e.first.src_line, "  {{ nope }}");
	CHECK_STR_EQ(e.first.msg, "function \"nope\" not defined");
	tmpl_error_format(&e, &b);
	CHECK_STR_EQ(b.ptr, "template: t.yaml:2: function \"nope\" not defined");
	kbuf_release(&b);
	kerr_clear(&e);
}

/* outside a chart, fail is plain Go: no Helm cause, Go's words */
TEST(tmpl_errors_fail_outside_helm)
{
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	CHECK_INT_EQ(run("{{ fail \"HELM[x]HELM\" }}", &e), KE_INPUT);
	CHECK(!kerr_find_cause(&e, TMPL_CAUSE_FAIL));
	tmpl_error_format(&e, &b);
	CHECK_STR_EQ(b.ptr, "template: t.yaml:1:3: executing \"t.yaml\" at <fail \"HELM[x]HELM\">: error calling fail: HELM[x]HELM");
	kbuf_release(&b);
	kerr_clear(&e);
}

/* errors of other modules are left to kerr_format */
TEST(tmpl_errors_other_errors_unchanged)
{
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT, c = KBUF_INIT;
	kerr_set_at(&e, KE_INPUT, "v.yaml", 3, 2, "bad value");
	tmpl_error_format(&e, &b);
	kerr_format(&e, &c);
	CHECK_STR_EQ(b.ptr, c.ptr);
	kbuf_release(&b);
	kbuf_release(&c);
	kerr_clear(&e);
}
