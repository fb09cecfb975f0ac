#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "render_args.h"
#include "store_open.h"

#include <stdio.h>
#include <string.h>

static const cli_flag flags[] = {
	CLI_VALUES_FLAGS,
	{ "stage", 0, FLAG_LIST, "NAME", "run only this test stage" },
	{ "timeout", 0, FLAG_STR, "D", "time each stage may take to become healthy (default 5m)" },
	{ "keep-test", 0, FLAG_BOOL, NULL,
	  "keep what a test's cleanup would delete (only objects the release's deployed record lists)" },
	{ "force-conflicts", 0, FLAG_BOOL, NULL, "take over fields another field manager owns" },
	{ "logs", 0, FLAG_BOOL, NULL, "show the log of every chart test Pod (as helm test --logs)" },
	{ "release", 0, FLAG_STR, "NAME",
	  "release whose chart test hooks run and whose record notes the cleanup (default: the bundle's or chart's name)" },
	CLI_STORE_FLAGS,
	{ NULL, 0, 0, NULL, NULL },
};

/* A bundle with a chart stage: the release's deployed revision, whose
 * chart test hooks verify runs (as helm test runs the release's); rel and
 * rns checked by the caller. */
static int load_deployed(const char *rel, const char *rns, rel_session *s, kerr *err)
{
	rel_record *prior = NULL;
	rel_store *store;
	size_t i;
	int rc;
	for (i = 0; i < s->bundle.nstages && s->bundle.stages[i].src != REL_SRC_CHART; i++)
		;
	if (i == s->bundle.nstages)
		return 0;
	if (rel)
		s->ctx.release_name = rel;
	if (!rel && rel_release_name_check(s->bundle.name, err)) {
		kerr_clear(err);   /* no release can have this name: nothing deployed */
		return 0;
	}
	store = rel_store_secrets(s->client, rns);
	rc = rel_prior_load(store, &s->a, rel ? rel : s->bundle.name, &prior, err);
	rel_store_free(store);
	if (!rc && !prior)   /* a release Helm holds: its record's test hooks, as helm test */
		rc = rel_helm_tested(&prior, &s->bundle, &s->ctx, rel ? rel : s->bundle.name, &s->a, err);
	if (rc && err->status == 403) {
		/* a user who may not read the records still runs the bundle's test stages */
		kube_emit(s->client, KEV_WARN, "verify.records_unreadable",
			  karena_printf(&s->a, "release records (kstage's or Helm's) cannot be read (%s): chart test hooks are not run",
					err->first.msg),
			  NULL);
		kerr_clear(err);
		rc = 0;
	}
	s->ctx.prior = prior;
	return rc;
}

/* --keep-test: the release's deployed revision, which must list what a
 * test keeps (rel_verify checks); none when no release can have the name. */
static int load_keep_record(const char *rel, const char *rns, rel_session *s, kerr *err)
{
	rel_record *rec = NULL;
	rel_store *store;
	int rc;
	if (!rel && rel_release_name_check(s->bundle.name, err)) {
		kerr_clear(err);
		return 0;
	}
	store = rel_store_secrets(s->client, rns);
	rc = rel_prior_load(store, &s->a, rel ? rel : s->bundle.name, &rec, err);
	rel_store_free(store);
	if (rc)
		kerr_wrap(err, "--keep-test: the release's record, which must list the kept test objects");
	s->ctx.deployed = rec;
	return rc;
}

static int run(cli_ctx *ctx, cli_args *args)
{
	rel_session s;
	values_opts vo;
	rel_summary sum;
	kerr err = KERR_INIT;
	const char *t = cli_flag_str(args, "timeout", NULL), *rel = cli_flag_str(args, "release", NULL);
	const char *rns = cli_flag_str(args, "release-namespace", NULL);
	long timeout = 0;
	int rc;

	if (t && (timeout = rel_parse_duration(t)) <= 0) {
		cli_errorf(ctx, "--timeout \"%s\" is not a duration such as 5m or 90s", t);
		return EXIT_USAGE;
	}
	if ((rns && rel_namespace_check(rns, &err)) || (rel && rel_release_name_check(rel, &err))) {
		cli_print_error(ctx, &err);
		kerr_clear(&err);
		return EXIT_USAGE;
	}
	if ((rc = cli_session_open(ctx, "verify", args, &ctx->sink, &s, &vo)))
		return rc;
	if (cli_release_namespace(ctx, s.ctx.values, &rns)) {
		cli_session_close(&s, &vo);
		return EXIT_USAGE;
	}
	s.ctx.timeout_ms = timeout;
	s.ctx.keep_test = cli_flag_bool(args, "keep-test");
	s.ctx.test_logs = cli_flag_bool(args, "logs");
	s.ctx.cleaned = rel_record_add_stage(&s.a, rel_record_new(&s.a, "verify", 1), "cleaned");
	s.ctx.cleaned_a = &s.a;
	if (!(rc = load_deployed(rel, rns, &s, &err)) && s.ctx.keep_test)
		rc = load_keep_record(rel, rns, &s, &err);
	if (!rc)
		rc = rel_verify(&s.bundle, &s.ctx, &sum, &err);
	if (rc)
		cli_print_error(ctx, &err);
	else
		kev_emit(&ctx->sink, KEV_INFO, "verify.summary", "verify passed", NULL);
	if (s.ctx.cleaned->nobjects) {
		/* what the cleanup deleted is noted in the release's record, so
		 * that its uninstall or rollback does not try to bring it back */
		rel_store *store = rel_store_secrets(s.client, rns);
		rel_run_opts ro;
		kerr ne = KERR_INIT;
		size_t marked = 0;
		memset(&ro, 0, sizeof(ro));
		ro.store = store;
		ro.lock_ns = rns;
		ro.wait_for_lock_ms = 30000;
		if (rel_release_note_cleaned(s.client, &s.a, rel ? rel : s.bundle.name, &ro, s.ctx.cleaned, &marked, &ne)) {
			cli_print_error(ctx, &ne);
			if (!rc)
				rc = ne.code;
		}
		kerr_clear(&ne);
		rel_store_free(store);
	}
	cli_session_close(&s, &vo);
	kerr_clear(&err);
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_verify = {
	"verify", run, "run the bundle's test stages alone",
	"[BUNDLE|CHART] [-f FILE]... [--set K=V]... [--stage S]... [--keep-test] [--logs]", flags,
	"Runs the checks stages, then each enabled stage that has a test: its objects applied\n"
	"and waited for, the test's request sent and its reply checked (retried as the test\n"
	"says), then its cleanup. Earlier stages only render their outputs from the live\n"
	"cluster, for the tests' templates. Then, for a chart (or a bundle with a chart\n"
	"stage) and no --stage, the test hooks (helm.sh/hook: test) of the release's\n"
	"deployed revision (or Helm's, for a release Helm holds) run as helm test runs\n"
	"them: each Pod must reach Succeeded (a Job Complete), in hook-weight order,\n"
	"hook-delete-policy honoured; a failed one is\n"
	"named with the last lines of its pod's log, secrets masked; --logs shows every\n"
	"test Pod's log. Nothing is recorded as a release revision; what a cleanup deleted is\n"
	"noted in the release's deployed record (uninstall and rollback do not re-create it).\n"
	"--keep-test keeps only objects that record lists (so uninstall and rollback remove\n"
	"them): otherwise it is refused before anything changes.\n"
	"Exit 0 when every test passed, 1 when one failed, 2 for input errors.\n",
};
