#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "render_args.h"
#include "store_open.h"
#include "summary.h"

#include <signal.h>
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
	{ "no-rollback", 0, FLAG_BOOL, NULL, "on failure keep the partial state (recorded) instead of rolling back" },
	{ "keep-test", 0, FLAG_BOOL, NULL, "keep what a test stage's cleanup would delete" },
	{ "summary", 0, FLAG_STR, "FILE", "write a Markdown summary of the run (for CI job pages)" },
	{ "release", 0, FLAG_STR, "NAME", "release name (default: the bundle's or chart's name)" },
	CLI_STORE_FLAGS,
	{ "history-max", 0, FLAG_STR, "N", "revisions kept (default 10; 0: no limit)" },
	{ "wait-for-lock", 0, FLAG_STR, "D", "wait this long for another run of the release to finish" },
	{ "concurrency", 0, FLAG_STR, "N", "objects of one kind applied at once (default 32)" },
	{ "create-namespace", 0, FLAG_BOOL, NULL, "create the namespace (-n) when it is missing (uninstall deletes it)" },
	{ "hide-notes", 0, FLAG_BOOL, NULL, "do not show the chart's NOTES.txt after a successful apply" },
	{ "no-hooks", 0, FLAG_BOOL, NULL, "do not run the chart's Helm hooks" },
	{ "helm-record", 0, FLAG_BOOL, NULL, "when Helm holds the release, write each revision into Helm's record too" },
	CLI_REUSE_FLAGS,
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
		    "%zu op%s changed, %zu pruned (%s, %s API requests, %s retried)",
		    rc ? "apply failed" : "apply done", sum->stages_done, sum->stages_done == 1 ? "" : "s",
		    sum->stages_skipped, sum->created, sum->created == 1 ? "" : "s", sum->applied, sum->unchanged,
		    sum->ops_changed, sum->ops_changed == 1 ? "" : "s", sum->pruned, el, req, retr);
	kev_emit(&ctx->sink, rc ? KEV_ERROR : KEV_INFO, "apply.summary", m.ptr, "elapsed", el,
		 "requests", req, "retries", retr, "failed_stage", sum->failed_stage, NULL);
	kbuf_release(&m);
}

/* After a failed run: what was rolled back, or what is left and how to
 * finish. */
static void report_failure(cli_ctx *ctx, const rel_run_result *res, const char *store_ns, bool no_rollback)
{
	kev_sink *k = &ctx->sink;
	char rev[32];
	kbuf m = KBUF_INIT;
	snprintf(rev, sizeof(rev), "%d", res->revision);
	if (res->rolled_back) {
		kbuf_printf(&m, "rolled back: the cluster is as it was before the run (%zu restored, %zu deleted, %zu "
			    "unchanged; release %s revision %d in namespace %s)",
			    res->rb.restored, res->rb.deleted, res->rb.unchanged, res->release, res->revision, store_ns);
		if (res->rb.kept)
			kbuf_printf(&m, "; kept by rollback policy keep:\n%.*s", (int)res->rb.kept_list.len - 1,
				    res->rb.kept_list.ptr);
		kev_emit(k, KEV_ERROR, "apply.rolled_back", m.ptr, "release", res->release, "revision", rev, NULL);
	} else if (res->rb.left.len) {
		kbuf_printf(&m, "rollback INCOMPLETE: these objects are not as they were before the run (the journal is "
			    "release %s revision %d in namespace %s; fix the cause, then `kstage rollback %s`):\n%.*s",
			    res->release, res->revision, store_ns, res->release, (int)res->rb.left.len - 1, res->rb.left.ptr);
		kev_emit(k, KEV_ERROR, "apply.rollback_incomplete", m.ptr, "release", res->release, "revision", rev, NULL);
	} else if (res->pending && !res->changed) {
		/* stopped before its rollback could run (a lost Lease) */
		kbuf_printf(&m, "the run stopped before its rollback could run: release %s revision %d in namespace %s "
			    "stays pending; once its lock is free, `kstage rollback --recover %s` puts back from its "
			    "journal whatever the run changed",
			    res->release, res->revision, store_ns, res->release);
		kev_emit(k, KEV_ERROR, "apply.record_unfinished", m.ptr, "release", res->release, "revision", rev, NULL);
	} else if (res->changed && !no_rollback) {
		/* every stage went through; the record's last write did not */
		kbuf_printf(&m, "applied, but the release record could not be finished: release %s revision %d in "
			    "namespace %s stays pending; `kstage rollback --recover %s` puts the cluster back from its "
			    "journal",
			    res->release, res->revision, store_ns, res->release);
		kev_emit(k, KEV_ERROR, "apply.record_unfinished", m.ptr, "release", res->release, "revision", rev, NULL);
	} else if (res->changed) {
		kbuf_printf(&m, "not rolled back (--no-rollback): the partial state is kept and recorded as release %s "
			    "revision %d in namespace %s; fix the cause and apply again, or put the cluster back with "
			    "`kstage rollback %s`",
			    res->release, res->revision, store_ns, res->release);
		kev_emit(k, KEV_ERROR, "apply.not_rolled_back", m.ptr, "release", res->release, "revision", rev, NULL);
	}
	kbuf_release(&m);
}

/* The chart's NOTES.txt after a successful run, secrets masked: printed
 * as Helm does (text), or an event (JSON). */
static void show_notes(cli_ctx *ctx, karena *a, const char *notes)
{
	const char *n = cli_redact_str(ctx, a, notes);
	if (ctx->json) {
		kev_emit(&ctx->sink, KEV_INFO, "apply.notes", "NOTES.txt of the chart", "notes", n, NULL);
		return;
	}
	fflush(stderr);
	printf("NOTES:\n%s%s", n, n[strlen(n) - 1] == '\n' ? "" : "\n");
	fflush(stdout);
}

/* SIGINT and SIGTERM during a run: the first stops the apply at its next
 * safe point and the rollback runs; later ones are counted and ignored, so
 * the rollback is never cut short. */
static volatile sig_atomic_t stop_signal, late_signals;

static void on_signal(int sig)
{
	if (stop_signal)
		late_signals++;
	else
		stop_signal = sig;
}

static int apply_trapped(rel_session *s, const rel_run_opts *ro, rel_run_result *res, kerr *err)
{
	struct sigaction sa, old_int, old_term;
	int rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	stop_signal = late_signals = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	s->client->stop = &stop_signal;
	rc = rel_release_apply(&s->bundle, &s->ctx, ro, res, &s->a, err);
	s->client->stop = NULL;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

static int run(cli_ctx *ctx, cli_args *args)
{
	rel_session s;
	values_opts vo;
	rel_run_result res;
	rel_run_opts ro;
	rel_store *store = NULL;
	kerr err = KERR_INIT;
	progress pg;
	kev_sink psink;
	cli_summary sm;
	kbuf notes = KBUF_INIT;
	const char *t = cli_flag_str(args, "timeout", NULL), *cc = cli_flag_str(args, "concurrency", NULL);
	const char *rns = cli_flag_str(args, "release-namespace", NULL), *hm = cli_flag_str(args, "history-max", NULL);
	const char *wl = cli_flag_str(args, "wait-for-lock", NULL);
	long timeout = 0, wait_lock = 0;
	char *end = NULL;
	long hmax = hm ? strtol(hm, &end, 10) : REL_HISTORY_MAX;
	int rc;

	if (t && (timeout = rel_parse_duration(t)) <= 0) {
		cli_errorf(ctx, "--timeout \"%s\" is not a duration such as 5m or 90s", t);
		return EXIT_USAGE;
	}
	if (wl && (wait_lock = rel_parse_duration(wl)) < 0) {
		cli_errorf(ctx, "--wait-for-lock \"%s\" is not a duration such as 5m or 90s", wl);
		return EXIT_USAGE;
	}
	if (cc && (atoi(cc) < 1 || atoi(cc) > 64)) {
		cli_errorf(ctx, "--concurrency must be between 1 and 64");
		return EXIT_USAGE;
	}
	if (hm && (!*hm || *end || hmax < 0 || hmax > 100000)) {
		cli_errorf(ctx, "--history-max must be a number from 0 (no limit) to 100000");
		return EXIT_USAGE;
	}
	if ((rns && rel_namespace_check(rns, &err)) ||
	    (cli_flag_str(args, "release", NULL) && rel_release_name_check(cli_flag_str(args, "release", NULL), &err))) {
		cli_print_error(ctx, &err);
		kerr_clear(&err);
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
	if ((rc = cli_summary_open(&sm, ctx, cli_flag_str(args, "summary", NULL), ctx->json ? &ctx->sink : &psink)))
		return rc;
	if ((rc = cli_session_open(ctx, "apply", args, &sm.sink, &s, &vo))) {
		cli_summary_release(&sm);
		return rc;
	}
	if (rel_values_mode_check(&s.bundle, cli_values_mode(args), &err)) {
		cli_print_error(ctx, &err);
		kerr_clear(&err);
		cli_session_close(&s, &vo);
		cli_summary_release(&sm);
		return EXIT_USAGE;
	}
	if (cli_release_namespace(ctx, s.ctx.values, &rns)) {
		cli_session_close(&s, &vo);
		cli_summary_release(&sm);
		return EXIT_USAGE;
	}
	s.ctx.timeout_ms = timeout;
	s.ctx.concurrency = cc ? (size_t)atoi(cc) : 0;
	s.ctx.keep_test = cli_flag_bool(args, "keep-test");
	store = rel_store_secrets(s.client, rns);
	memset(&ro, 0, sizeof(ro));
	ro.release = cli_flag_str(args, "release", NULL);
	ro.store = store;
	ro.lock_ns = rns;
	ro.wait_for_lock_ms = wait_lock;
	ro.lease_s = cli_lease_seconds();
	ro.history_max = (size_t)hmax;
	ro.no_rollback = cli_flag_bool(args, "no-rollback");
	ro.helm_record = cli_flag_bool(args, "helm-record");
	ro.values_mode = cli_values_mode(args);
	s.ctx.create_namespace = cli_flag_bool(args, "create-namespace");
	s.ctx.no_hooks = cli_flag_bool(args, "no-hooks");
	s.ctx.notes = &notes;
	rc = apply_trapped(&s, &ro, &res, &err);
	if (pg.line_open)
		fputs("\r\033[K", stderr);
	if (stop_signal) {
		char sig[16];
		snprintf(sig, sizeof(sig), "%s", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
		kev_emit(&ctx->sink, KEV_WARN, "apply.interrupted",
			 late_signals ? "interrupted; later signals were ignored until the rollback had finished"
				      : "interrupted: the run was stopped and handled as a failed stage",
			 "signal", sig, NULL);
	}
	summary(ctx, &pg, &s, &res.sum, rc);
	if (rc)
		cli_print_error(ctx, &err);
	else if (notes.len && !cli_flag_bool(args, "hide-notes"))
		show_notes(ctx, &s.a, notes.ptr);
	kbuf_release(&notes);
	if (res.failed)
		report_failure(ctx, &res, store->namespace, ro.no_rollback);
	if (cli_summary_finish(&sm, res.revision ? karena_printf(&s.a, "apply (release %s revision %d)", res.release,
								 res.revision) : "apply",
			       &s.bundle, NULL, &res.sum, rc, &err) && !rc)
		rc = KE_USAGE;
	rel_rollback_report_release(&res.rb);
	rel_store_free(store);
	cli_session_close(&s, &vo);
	cli_summary_release(&sm);
	kerr_clear(&err);
	if (rc == KE_ROLLBACK)
		return EXIT_ROLLBACK;
	return res.failed && res.changed ? EXIT_FAILED : cli_exit_code(rc);
}

const cli_cmd cli_cmd_apply = {
	"apply", run, "apply stages in order, waiting for each to be healthy",
	"[BUNDLE|CHART] [-f FILE]... [--set K=V]... [--timeout D] [--stage S]... [--force-conflicts]", flags,
	"Applies each stage with server-side apply (field manager \"kstage\"), waits until its\n"
	"objects are healthy, then goes on to the next. A Helm chart (directory or .tgz) runs as\n"
	"two stages: its crds/, then its templates; its NOTES.txt is shown after a successful\n"
	"run (--hide-notes: not). --create-namespace creates the namespace (-n) when it is\n"
	"missing, recorded so that uninstall deletes it (and only when kstage created it).\n"
	"Objects the previous deployed revision rendered and this run no longer renders are\n"
	"deleted after the last stage (pruned), in reverse install order, unless annotated\n"
	"helm.sh/resource-policy: keep or in a stage with rollback: keep; rollback restores them.\n"
	"A chart's Helm hooks run as Helm runs them: pre-install/post-install on the first\n"
	"revision, pre-upgrade/post-upgrade later (by hook-weight, then name; delete policies;\n"
	"Jobs and Pods waited for until complete; a failed hook fails the run, which rolls back).\n"
	"Uninstall runs pre-delete/post-delete, rollback the target's pre/post-rollback hooks.\n"
	"A release Helm holds (sh.helm.release.v1.NAME.vN Secrets in the namespace) is taken\n"
	"over: with no kstage revision deployed, Helm's deployed manifest is the prior revision\n"
	"(its objects adopted, what it rendered and this run does not pruned); --helm-record\n"
	"writes each revision into Helm's history too, else kstage warns that it is stale.\n"
	"When Helm's deployed revision is newer than kstage's (a helm upgrade or rollback ran\n"
	"after kstage, by the time it was deployed; revisions --helm-record wrote are kstage's),\n"
	"the run starts from what Helm deployed: its objects adopted, its extra objects pruned,\n"
	"its values reused with --reuse-values; a warning says so.\n"
	"--reuse-values (chart) merges this run's -f/--set over the values of the deployed\n"
	"revision (kstage's, or Helm's when it is the starting point); --reset-then-reuse-values\n"
	"does the same; --reset-values (the default) wins over both. The chart's own defaults\n"
	"apply in every mode (kstage does not keep an earlier chart's defaults).\n"
	"Each run is a revision of the release, recorded as Secrets in --release-namespace\n"
	"(or the values' kstage.releaseNamespace; default kstage-system): before a stage changes anything, the prior state of every object it\n"
	"touches is written there. A failed stage rolls the run back from that journal: objects\n"
	"that did not exist are deleted, the others get back their exact prior content (CRDs and\n"
	"stages with rollback: keep are left in place). One run at a time per release (a Lease).\n"
	"Exit codes: 0 ok; 1 failed and the cluster is as it was (rolled back, or nothing\n"
	"applied); 2 usage or input error; 3 failed and not put back (rollback incomplete, or\n"
	"--no-rollback): what is left and the record are named; 4 cluster unreachable or not\n"
	"authorised.\n",
};
