#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "render_args.h"

#include <stdio.h>

static const cli_flag flags[] = {
	CLI_VALUES_FLAGS,
	{ "stage", 0, FLAG_LIST, "NAME", "run only this test stage" },
	{ "timeout", 0, FLAG_STR, "D", "time each stage may take to become healthy (default 5m)" },
	{ "keep-test", 0, FLAG_BOOL, NULL, "keep what a test's cleanup would delete" },
	{ "force-conflicts", 0, FLAG_BOOL, NULL, "take over fields another field manager owns" },
	{ NULL, 0, 0, NULL, NULL },
};

static int run(cli_ctx *ctx, cli_args *args)
{
	rel_session s;
	values_opts vo;
	rel_summary sum;
	kerr err = KERR_INIT;
	const char *t = cli_flag_str(args, "timeout", NULL);
	long timeout = 0;
	int rc;

	if (t && (timeout = rel_parse_duration(t)) <= 0) {
		cli_errorf(ctx, "--timeout \"%s\" is not a duration such as 5m or 90s", t);
		return EXIT_USAGE;
	}
	if ((rc = cli_session_open(ctx, "verify", args, &ctx->sink, &s, &vo)))
		return rc;
	s.ctx.timeout_ms = timeout;
	s.ctx.keep_test = cli_flag_bool(args, "keep-test");
	rc = rel_verify(&s.bundle, &s.ctx, &sum, &err);
	if (rc)
		cli_print_error(ctx, &err);
	else
		kev_emit(&ctx->sink, KEV_INFO, "verify.summary", "verify passed", NULL);
	cli_session_close(&s, &vo);
	kerr_clear(&err);
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_verify = {
	"verify", run, "run the bundle's test stages alone",
	"[BUNDLE] [-f FILE]... [--set K=V]... [--stage S]... [--keep-test]", flags,
	"Runs the checks stages, then each enabled stage that has a test: its objects applied\n"
	"and waited for, the test's request sent and its reply checked (retried as the test\n"
	"says), then its cleanup. Earlier stages only render their outputs from the live\n"
	"cluster, for the tests' templates. Nothing is recorded as a release revision.\n"
	"Exit 0 when every test passed, 1 when one failed, 2 for input errors.\n",
};
