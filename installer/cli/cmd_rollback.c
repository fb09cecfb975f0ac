#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "store_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_flag flags[] = {
	CLI_STORE_FLAGS,
	{ "recover", 0, FLAG_BOOL, NULL, "finish a run that was killed: put the cluster back from its journal" },
	{ "wait-for-lock", 0, FLAG_STR, "D", "wait this long for another run of the release to finish" },
	{ "no-hooks", 0, FLAG_BOOL, NULL, "do not run the target revision's pre-rollback and post-rollback hooks" },
	{ NULL, 0, 0, NULL, NULL },
};

static int run(cli_ctx *ctx, cli_args *args)
{
	cli_store s;
	cli_args a1 = *args;
	rel_run_opts o;
	rel_rollback_report rep;
	kerr err = KERR_INIT;
	bool recover = cli_flag_bool(args, "recover");
	const char *wl = cli_flag_str(args, "wait-for-lock", NULL);
	int target = 0, rev = 0, rc;
	memset(&rep, 0, sizeof(rep));
	memset(&o, 0, sizeof(o));
	o.no_hooks = cli_flag_bool(args, "no-hooks");
	o.lease_s = cli_lease_seconds();
	if (wl && (o.wait_for_lock_ms = rel_parse_duration(wl)) < 0) {
		cli_errorf(ctx, "--wait-for-lock \"%s\" is not a duration such as 5m or 90s", wl);
		return EXIT_USAGE;
	}
	if (args->npos > 2 || (recover && args->npos > 1)) {
		cli_errorf(ctx, "rollback takes [RELEASE] [REVISION], or --recover [RELEASE]");
		return EXIT_USAGE;
	}
	if (args->npos == 2) {
		char *end;
		long r = strtol(args->pos[1], &end, 10);
		if (!*args->pos[1] || *end || r < 1 || r > 1000000000) {
			cli_errorf(ctx, "REVISION \"%s\" is not a revision number", args->pos[1]);
			return EXIT_USAGE;
		}
		target = (int)r;
		a1.npos = 1;
	}
	rc = cli_store_open(&s, ctx, &a1, "rollback", &err);
	if (!rc) {
		o.store = s.store;
		o.lock_ns = s.store->namespace;
		rc = recover ? rel_release_recover(s.client, &s.a, s.release, &o, &rev, &rep, &err)
			     : rel_release_rollback(s.client, &s.a, s.release, target, &o, &rev, &rep, &err);
	}
	if (rc)
		cli_print_error(ctx, &err);
	if (rep.left.len) {
		kbuf m = KBUF_INIT;
		kbuf_printf(&m, "these objects are not as the journal says they were:\n%.*s", (int)rep.left.len - 1,
			    rep.left.ptr);
		kev_emit(&ctx->sink, KEV_ERROR, "rollback.incomplete", m.ptr, NULL);
		kbuf_release(&m);
	}
	if (!rc) {
		kbuf m = KBUF_INIT;
		kbuf_printf(&m, recover ? "release %s revision %d rolled back from its journal: "
					: "release %s is at revision %d again: ",
			    s.release, rev);
		kbuf_printf(&m, "%zu restored, %zu deleted, %zu unchanged, %zu kept (policy keep)", rep.restored, rep.deleted,
			    rep.unchanged, rep.kept);
		kev_emit(&ctx->sink, KEV_INFO, "rollback.done", m.ptr, "release", s.release, NULL);
		kbuf_release(&m);
	}
	rel_rollback_report_release(&rep);
	cli_store_close(&s);
	kerr_clear(&err);
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_rollback = {
	"rollback", run, "put a release back as a revision left it",
	"[RELEASE] [REVISION] | --recover [RELEASE]", flags,
	"With no REVISION, goes back to the previous successful revision; with one, to that\n"
	"revision. Every later revision still in effect is undone from its journal, newest\n"
	"first: objects it created are deleted, objects it changed get back their exact prior\n"
	"content (CRDs and rollback: keep objects stay). --recover finishes a run that was\n"
	"killed (its revision is pending) the same way. RELEASE defaults to the name of the\n"
	"bundle in the current directory. Exit codes: 0 done; 1 refused or failed; 2 usage;\n"
	"3 incomplete (what is left is named); 4 cluster unreachable.\n",
};
