#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "render_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const cli_flag flags[] = {
	CLI_VALUES_FLAGS,
	{ "timeout", 0, FLAG_STR, "D", "time each stage may take to become healthy (default 5m)" },
	{ "stage", 0, FLAG_LIST, "NAME", "apply only this stage" },
	{ "force-conflicts", 0, FLAG_BOOL, NULL, "take over fields another field manager owns" },
	{ "no-rollback", 0, FLAG_BOOL, NULL, "accepted; has no effect: this version never rolls back" },
	{ "concurrency", 0, FLAG_STR, "N", "objects of one kind applied at once (default 32)" },
	{ NULL, 0, 0, NULL, NULL },
};

/* Progress: on a terminal one line that updates in place; else plain lines. */
typedef struct progress {
	cli_ctx *ctx;
	kev_sink inner;
	bool tty;
	bool line_open;
	size_t done;
	struct timespec t0;
	char stage[128];
} progress;

static double elapsed(const progress *p)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - p->t0.tv_sec) + (double)(t.tv_nsec - p->t0.tv_nsec) / 1e9;
}

static void progress_show(progress *p, const kevent *ev)
{
	const char *st = kev_get(ev, "stage");
	if (st && strcmp(st, p->stage)) {
		snprintf(p->stage, sizeof(p->stage), "%s", st);
		p->done = 0;
	}
	if (!strcmp(ev->kind, "object.applied"))
		p->done++;
	if (p->tty && (!strcmp(ev->kind, "object.applied") || !strcmp(ev->kind, "object.ready")) && ev->level < KEV_WARN) {
		const char *obj = kev_get(ev, "object");
		fprintf(stderr, "\r\033[K  [%s] %zu %s  %s  %.1fs", p->stage, p->done,
			!strcmp(ev->kind, "object.ready") ? "ready" : kev_get(ev, "action"), obj ? obj : "", elapsed(p));
		fflush(stderr);
		p->line_open = true;
		return;
	}
	if (p->line_open) {
		fputs("\r\033[K", stderr);
		p->line_open = false;
	}
	if (!p->tty && !strcmp(ev->kind, "object.applied")) {
		const char *act = kev_get(ev, "action");
		if (!p->ctx->quiet && (p->ctx->verbose || !act || strcmp(act, "unchanged")))
			fprintf(stderr, "  %s %s\n", act ? act : "applied", kev_get(ev, "object"));
		return;
	}
	if (!p->tty && !strcmp(ev->kind, "object.ready") && !p->ctx->quiet) {
		fprintf(stderr, "  ready %s (%s)\n", kev_get(ev, "object"), kev_get(ev, "elapsed"));
		return;
	}
	p->inner.emit(p->inner.ctx, ev);
}

static void progress_emit(void *u, const kevent *raw)
{
	progress *p = u;
	karena a = KARENA_INIT;
	kevent ev;
	cli_redact_event(p->ctx, raw, &ev, &a);
	progress_show(p, &ev);
	karena_release(&a);
}

/* The line that ends a run: what was done, how long, how many requests. */
static void summary(cli_ctx *ctx, const progress *pg, const rel_session *s, const rel_summary *sum, int rc)
{
	kbuf m = KBUF_INIT;
	char el[32], req[32], retr[32];
	snprintf(el, sizeof(el), "%.1fs", elapsed(pg));
	snprintf(req, sizeof(req), "%lu", s->client->stats.requests);
	snprintf(retr, sizeof(retr), "%lu", s->client->stats.retries);
	kbuf_printf(&m, "%s: %zu stage%s done, %zu skipped, %zu object%s created, %zu applied, %zu unchanged (not sent), "
		    "%zu op%s changed (%s, %s API requests, %s retried)",
		    rc ? "apply failed" : "apply done", sum->stages_done, sum->stages_done == 1 ? "" : "s",
		    sum->stages_skipped, sum->created, sum->created == 1 ? "" : "s", sum->applied, sum->unchanged,
		    sum->ops_changed, sum->ops_changed == 1 ? "" : "s", el, req, retr);
	kev_emit(&ctx->sink, rc ? KEV_ERROR : KEV_INFO, "apply.summary", m.ptr, "elapsed", el,
		 "requests", req, "retries", retr, "failed_stage", sum->failed_stage, NULL);
	kbuf_release(&m);
}

static int run(cli_ctx *ctx, cli_args *args)
{
	rel_session s;
	values_opts vo;
	rel_summary sum;
	kerr err = KERR_INIT;
	progress pg;
	kev_sink psink;
	const char *t = cli_flag_str(args, "timeout", NULL), *cc = cli_flag_str(args, "concurrency", NULL);
	long timeout = 0;
	bool changed;
	int rc;

	if (t && (timeout = rel_parse_duration(t)) <= 0) {
		cli_errorf(ctx, "--timeout \"%s\" is not a duration such as 5m or 90s", t);
		return EXIT_USAGE;
	}
	if (cc && (atoi(cc) < 1 || atoi(cc) > 64)) {
		cli_errorf(ctx, "--concurrency must be between 1 and 64");
		return EXIT_USAGE;
	}
	memset(&pg, 0, sizeof(pg));
	pg.ctx = ctx;
	pg.inner = ctx->sink;
	pg.tty = !ctx->json && !ctx->quiet && isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &pg.t0);
	psink = ctx->sink;
	psink.emit = progress_emit;
	psink.ctx = &pg;
	if ((rc = cli_session_open(ctx, "apply", args, ctx->json ? &ctx->sink : &psink, &s, &vo)))
		return rc;
	s.ctx.timeout_ms = timeout;
	s.ctx.concurrency = cc ? (size_t)atoi(cc) : 0;
	rc = rel_apply(&s.bundle, &s.ctx, &sum, &err);
	if (pg.line_open)
		fputs("\r\033[K", stderr);
	summary(ctx, &pg, &s, &sum, rc);
	/* an apply answered 200 may have changed nothing, but kstage cannot
	 * tell without the prior state: count it */
	changed = sum.created || sum.applied || sum.ops_changed;
	if (rc)
		cli_print_error(ctx, &err);
	if (rc && changed) {
		/* no release records yet (see DESIGN.md): nothing puts the cluster back */
		kev_emit(&ctx->sink, KEV_ERROR, "apply.not_rolled_back",
			 "objects were applied (or ops run) before the failure and are NOT rolled back (this version "
			 "of kstage does not roll back): fix the cause and apply again, or undo the changes by hand",
			 "failed_stage", sum.failed_stage, NULL);
	}
	cli_session_close(&s, &vo);
	kerr_clear(&err);
	return rc && changed ? EXIT_ROLLBACK : cli_exit_code(rc);
}

const cli_cmd cli_cmd_apply = {
	"apply", run, "apply stages in order, waiting for each to be healthy",
	"[BUNDLE|CHART] [-f FILE]... [--set K=V]... [--timeout D] [--stage S]... [--force-conflicts]", flags,
	"Applies each stage with server-side apply (field manager \"kstage\"), waits until its\n"
	"objects are healthy, then goes on to the next. A Helm chart (directory or .tgz) runs as\n"
	"two stages: its crds/, then its templates.\n"
	"This version keeps no release records and does not roll back: a failed apply leaves\n"
	"what it applied in place. Exit codes: 0 ok; 1 failed before applying anything (the\n"
	"cluster is as it was); 2 usage or input error; 3 failed after applying objects or running\n"
	"ops, which are NOT rolled back (fix the cause and apply again); 4 cluster unreachable or\n"
	"not authorised.\n",
};
