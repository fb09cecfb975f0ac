/* cli/summary.c - the Markdown page of --summary. See summary.h. */
#include "summary.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const kept[] = { "check.passed", "check.failed", "stage.start", "stage.done", "stage.skipped",
				    "object.applied", "op.done", "stage.output", "test.passed", "test.failed",
				    "test.cleanup", NULL };

static void on_event(void *u, const kevent *raw)
{
	cli_summary *s = u;
	size_t i;
	for (i = 0; kept[i] && strcmp(kept[i], raw->kind); i++)
		;
	if (kept[i]) {
		kevent ev;
		karena tmp = KARENA_INIT;
		cli_summary_row *r;
		const char *detail;
		cli_redact_event(s->ctx, raw, &ev, &tmp);
		detail = kev_get(&ev, "problem") ? kev_get(&ev, "problem") : kev_get(&ev, "finding") ? kev_get(&ev, "finding")
			 : kev_get(&ev, "value") ? kev_get(&ev, "value") : kev_get(&ev, "elapsed") ? kev_get(&ev, "elapsed")
			 : ev.msg;
		ALLOC_GROW(s->rows, s->n + 1, s->cap);
		r = &s->rows[s->n++];
		r->kind = karena_strdup(&s->a, ev.kind);
		r->stage = karena_strdup(&s->a, kev_get(&ev, "stage") ? kev_get(&ev, "stage") : "");
		r->object = karena_strdup(&s->a, kev_get(&ev, "object") ? kev_get(&ev, "object") :
						kev_get(&ev, "check") ? kev_get(&ev, "check") :
						kev_get(&ev, "output") ? kev_get(&ev, "output") : "");
		r->action = karena_strdup(&s->a, kev_get(&ev, "action") ? kev_get(&ev, "action") : "");
		r->detail = karena_strdup(&s->a, detail ? detail : "");
		karena_release(&tmp);
	}
	s->inner.emit(s->inner.ctx, raw);
}

int cli_summary_open(cli_summary *s, cli_ctx *ctx, const char *path, const kev_sink *inner)
{
	memset(s, 0, sizeof(*s));
	karena_init(&s->a);
	s->ctx = ctx;
	s->inner = *inner;
	s->sink = *inner;
	s->sink.emit = on_event;
	s->sink.ctx = s;
	s->path = path;
	if (path && !(s->f = fopen(path, "w"))) {
		cli_errorf(ctx, "--summary %s: cannot write the file", path);
		return EXIT_USAGE;
	}
	return 0;
}

/* A table cell: '|' escaped, line breaks as <br>, at most 500 bytes. */
static void cell(kbuf *b, const char *s)
{
	size_t n = 0;
	for (; *s && n < 500; s++, n++) {
		if (*s == '|')
			kbuf_puts(b, "\\|");
		else if (*s == '\n')
			kbuf_puts(b, "<br>");
		else if (*s != '\r')
			kbuf_putc(b, *s);
	}
	if (*s)
		kbuf_puts(b, "...");
}

static size_t count(const cli_summary *s, const char *kind)
{
	size_t i, n = 0;
	for (i = 0; i < s->n; i++)
		n += !strcmp(s->rows[i].kind, kind);
	return n;
}

static void checks(kbuf *b, const cli_summary *s)
{
	size_t i;
	if (!count(s, "check.passed") && !count(s, "check.failed"))
		return;
	kbuf_puts(b, "\n### Checks\n\n| Check | Result | Finding |\n|---|---|---|\n");
	for (i = 0; i < s->n; i++) {
		const cli_summary_row *r = &s->rows[i];
		bool ok = !strcmp(r->kind, "check.passed");
		if (!ok && strcmp(r->kind, "check.failed"))
			continue;
		kbuf_puts(b, "| ");
		cell(b, r->object);
		kbuf_puts(b, ok ? " | ok | " : " | **problem** | ");
		cell(b, r->detail);
		kbuf_puts(b, " |\n");
	}
}

static void stages(kbuf *b, const cli_summary *s, const rel_summary *sum, int rc)
{
	size_t i, j;
	kbuf_puts(b, "\n### Stages\n\n| Stage | Result | Time | Created | Changed | Unchanged |\n|---|---|---|---|---|---|\n");
	for (i = 0; i < s->n; i++) {
		const cli_summary_row *r = &s->rows[i];
		const char *result = "started", *time = "";
		size_t cr = 0, ch = 0, un = 0;
		if (strcmp(r->kind, "stage.start") && strcmp(r->kind, "stage.skipped"))
			continue;
		if (!strcmp(r->kind, "stage.skipped"))
			result = "skipped (disabled)";
		for (j = i + 1; j < s->n && !strcmp(r->kind, "stage.start"); j++) {
			const cli_summary_row *o = &s->rows[j];
			if (strcmp(o->stage, r->stage))
				continue;
			if (!strcmp(o->kind, "stage.start"))
				break;
			if (!strcmp(o->kind, "stage.done")) {
				result = "ready";
				time = o->detail;
			} else if (!strcmp(o->kind, "object.applied") || !strcmp(o->kind, "op.done")) {
				if (!strcmp(o->action, "created"))
					cr++;
				else if (!strcmp(o->action, "unchanged"))
					un++;
				else
					ch++;
			}
		}
		if (!strcmp(result, "started") && rc && sum && sum->failed_stage && !strcmp(sum->failed_stage, r->stage))
			result = "**failed**";
		else if (!strcmp(result, "started") && count(s, "check.failed"))
			result = "checks";
		kbuf_puts(b, "| ");
		cell(b, r->stage);
		kbuf_printf(b, " | %s | %s | %zu | %zu | %zu |\n", result, time, cr, ch, un);
	}
}

static void changes_apply(kbuf *b, const cli_summary *s)
{
	size_t i, n = 0;
	for (i = 0; i < s->n; i++) {
		const cli_summary_row *r = &s->rows[i];
		if ((strcmp(r->kind, "object.applied") && strcmp(r->kind, "op.done") && strcmp(r->kind, "test.cleanup")) ||
		    !strcmp(r->action, "unchanged"))
			continue;
		if (!n++)
			kbuf_puts(b, "\n### Changes\n\n| Stage | Object | Action |\n|---|---|---|\n");
		kbuf_puts(b, "| ");
		cell(b, r->stage);
		kbuf_puts(b, " | `");
		cell(b, r->object);
		kbuf_puts(b, "` | ");
		cell(b, r->action);
		kbuf_puts(b, " |\n");
	}
	if (!n)
		kbuf_puts(b, "\nNo object changed.\n");
}

static void changes_plan(kbuf *b, const rel_plan *p)
{
	static const char *const names[] = { "unchanged", "changed", "created", "created (after its CRD)" };
	size_t i, n = 0;
	for (i = 0; i < p->len; i++) {
		const rel_plan_entry *e = &p->v[i];
		if (e->action == REL_UNCHANGED)
			continue;
		if (!n++)
			kbuf_puts(b, "\n### Changes\n\n| Stage | Object | Action | Note |\n|---|---|---|---|\n");
		kbuf_puts(b, "| ");
		cell(b, e->stage);
		kbuf_puts(b, " | `");
		cell(b, e->ref);
		kbuf_printf(b, "` | %s | ", names[e->action]);
		cell(b, e->note ? e->note : "");
		kbuf_puts(b, " |\n");
	}
	kbuf_printf(b, "\nPlan: %zu to create, %zu to change, %zu unchanged.\n", p->created, p->changed, p->unchanged);
}

static void outputs_and_tests(kbuf *b, const cli_summary *s)
{
	size_t i, n = 0;
	for (i = 0; i < s->n; i++) {
		const cli_summary_row *r = &s->rows[i];
		if (strcmp(r->kind, "stage.output"))
			continue;
		if (!n++)
			kbuf_puts(b, "\n### Outputs\n\n| Stage | Output | Value |\n|---|---|---|\n");
		kbuf_puts(b, "| ");
		cell(b, r->stage);
		kbuf_puts(b, " | ");
		cell(b, r->object);
		kbuf_puts(b, " | `");
		cell(b, r->detail);
		kbuf_puts(b, "` |\n");
	}
	for (i = 0, n = 0; i < s->n; i++) {
		const cli_summary_row *r = &s->rows[i];
		bool ok = !strcmp(r->kind, "test.passed");
		if (!ok && strcmp(r->kind, "test.failed"))
			continue;
		if (!n++)
			kbuf_puts(b, "\n### Tests\n\n| Stage | Result | Reply |\n|---|---|---|\n");
		kbuf_puts(b, "| ");
		cell(b, r->stage);
		kbuf_puts(b, ok ? " | passed | " : " | **failed** | ");
		cell(b, r->detail);
		kbuf_puts(b, " |\n");
	}
}

int cli_summary_finish(cli_summary *s, const char *what, const rel_bundle *b, const rel_plan *p,
		       const rel_summary *sum, int rc, const kerr *err)
{
	kbuf m = KBUF_INIT;
	int ret = 0;
	if (!s->f)
		return 0;
	kbuf_printf(&m, "## kstage %s: %s %s\n\n", what, b && b->name ? b->name : "", rc ? "**failed**" : "succeeded");
	if (b && b->version)
		kbuf_printf(&m, "Bundle version %s.\n", b->version);
	checks(&m, s);
	if (p) {
		changes_plan(&m, p);
	} else if (sum) {
		stages(&m, s, sum, rc);
		changes_apply(&m, s);
		kbuf_printf(&m, "\n%zu stage%s done, %zu skipped; %zu created, %zu applied, %zu unchanged; %zu op%s changed.\n",
			    sum->stages_done, sum->stages_done == 1 ? "" : "s", sum->stages_skipped, sum->created,
			    sum->applied, sum->unchanged, sum->ops_changed, sum->ops_changed == 1 ? "" : "s");
	}
	outputs_and_tests(&m, s);
	if (rc && err && err->code) {
		kbuf e = KBUF_INIT;
		kerr_format(err, &e);
		kbuf_puts(&m, "\n### Error\n\n```\n");
		kbuf_puts(&m, cli_redact_str(s->ctx, &s->a, e.ptr ? e.ptr : ""));
		kbuf_puts(&m, "\n```\n");
		kbuf_release(&e);
	}
	if (fwrite(m.ptr, 1, m.len, s->f) != m.len || fclose(s->f) != 0) {
		cli_errorf(s->ctx, "--summary %s: cannot write the file", s->path);
		ret = EXIT_USAGE;
	}
	s->f = NULL;
	kbuf_release(&m);
	return ret;
}

void cli_summary_release(cli_summary *s)
{
	if (s->f)
		fclose(s->f);
	free(s->rows);
	karena_release(&s->a);
	memset(s, 0, sizeof(*s));
}
