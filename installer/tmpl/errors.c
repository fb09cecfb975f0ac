/* tmpl/errors.c - template errors as data (tmpl.h, "Template errors"), and
 * the one place they are worded as Go's text/template and Helm's engine
 * word them (Helm's cleanupParseError and cleanupExecError, but from the
 * fields, never by taking a message apart). */
#include <string.h>

#include "tmpl_int.h"

int tmpl_error_set(kerr *err, const char *reason, const char *file, const char *src, size_t len, size_t pos,
		   const char *helm_fail, const char *msg)
{
	size_t i, p = pos < len ? pos : len, ls = 0;
	unsigned line = 1;
	for (i = 0; i < p; i++)
		if (src[i] == '\n') {
			line++;
			ls = i + 1;
		}
	kerr_set_src(err, KE_INPUT, file, src, len, line, (unsigned)(p - ls) + 1, "%s", msg);
	kerr_set_reason(err, reason, 0);
	kerr_add_cause(err, TMPL_CAUSE_MESSAGE, "", msg);
	if (helm_fail)
		kerr_add_cause(err, TMPL_CAUSE_FAIL, "", helm_fail);
	return KE_INPUT;
}

int tmpl_error_set_name(kerr *err, const char *name, const char *helm_fail, const char *msg)
{
	kerr_set_at(err, KE_INPUT, name, 0, 0, "%s", msg);
	kerr_set_reason(err, TMPL_REASON_EXEC, 0);
	kerr_add_cause(err, TMPL_CAUSE_MESSAGE, "", msg);
	if (helm_fail)
		kerr_add_cause(err, TMPL_CAUSE_FAIL, "", helm_fail);
	return KE_INPUT;
}

/* file:line (file:line:col with col) or the bare name of an error without
 * a node */
static void put_loc(kbuf *out, const kerr_item *it, bool col)
{
	kbuf_puts(out, it->file);
	if (it->line)
		kbuf_printf(out, ":%u", it->line);
	if (it->line && col)
		kbuf_printf(out, ":%u", it->col ? it->col - 1 : 0);
}

/* The first error in Go's or (helm) Helm's words; false if it is no
 * template error. */
static bool format_template(const kerr *e, bool helm, kbuf *out)
{
	const kerr_item *it = &e->first;
	const kerr_cause *m = kerr_find_cause(e, TMPL_CAUSE_MESSAGE), *fail;
	size_t ml, ctx = 0;
	const char *msg;
	bool parse = kerr_reason_is(e, TMPL_REASON_PARSE), helm_parse = kerr_reason_is(e, TMPL_REASON_HELM_PARSE);
	if (!e->code || !it->file || !it->msg || !m || (!parse && !helm_parse && !kerr_reason_is(e, TMPL_REASON_EXEC)))
		return false;
	/* context callers added with kerr_wrap() comes first, as when the
	 * location was part of the text */
	msg = m->message;
	ml = strlen(msg);
	if (strlen(it->msg) >= ml && !strcmp(it->msg + strlen(it->msg) - ml, msg))
		ctx = strlen(it->msg) - ml;
	kbuf_put(out, it->msg, ctx);
	if (helm && helm_parse) {
		/* only what follows the last ": " (`illegal number syntax: "-"`
		 * says `"-"`) */
		const char *last = msg, *q;
		for (q = msg; (q = strstr(q, ": ")) != NULL; q += 2)
			last = q + 2;
		kbuf_puts(out, "parse error at (");
		put_loc(out, it, false);
		kbuf_printf(out, "): %s", last);
	} else if (helm && !parse && !helm_parse && (fail = kerr_find_cause(e, TMPL_CAUSE_FAIL)) != NULL) {
		kbuf_puts(out, "execution error at (");
		put_loc(out, it, true);
		kbuf_printf(out, "): %s", fail->message);
	} else {
		kbuf_puts(out, "template: ");
		put_loc(out, it, !parse && !helm_parse);
		kbuf_printf(out, ": %s", msg);
	}
	return true;
}

void tmpl_error_format(const kerr *e, kbuf *out)
{
	if (!format_template(e, true, out))
		kerr_format(e, out);
}

void tmpl_error_format_short(const kerr *e, kbuf *out)
{
	if (!format_template(e, true, out))
		kerr_format_short(e, out);
}

void tmpl_error_format_go(const kerr *e, kbuf *out)
{
	if (!format_template(e, false, out))
		kerr_format_short(e, out);
}
