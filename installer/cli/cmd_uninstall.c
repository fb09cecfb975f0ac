#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "store_open.h"

#include <string.h>

static const cli_flag flags[] = {
	CLI_STORE_FLAGS,
	{ "delete-crds", 0, FLAG_BOOL, NULL, "delete the CRDs the release created too (and every object of their kinds)" },
	{ "wait-for-lock", 0, FLAG_STR, "D", "wait this long for another run of the release to finish" },
	{ "no-hooks", 0, FLAG_BOOL, NULL, "do not run the chart's pre-delete and post-delete hooks" },
	{ NULL, 0, 0, NULL, NULL },
};

static int run(cli_ctx *ctx, cli_args *args)
{
	cli_store s;
	rel_run_opts o;
	rel_rollback_report rep;
	kerr err = KERR_INIT;
	const char *wl = cli_flag_str(args, "wait-for-lock", NULL);
	int to = 0, rc;
	memset(&rep, 0, sizeof(rep));
	memset(&o, 0, sizeof(o));
	if (wl && (o.wait_for_lock_ms = rel_parse_duration(wl)) < 0) {
		cli_errorf(ctx, "--wait-for-lock \"%s\" is not a duration such as 5m or 90s", wl);
		return EXIT_USAGE;
	}
	o.uninstall = true;
	o.delete_crds = cli_flag_bool(args, "delete-crds");
	o.no_hooks = cli_flag_bool(args, "no-hooks");
	o.lease_s = cli_lease_seconds();
	rc = cli_store_open(&s, ctx, args, "uninstall", &err);
	if (!rc) {
		o.store = s.store;
		o.lock_ns = s.store->namespace;
		rc = rel_release_rollback(s.client, &s.a, s.release, 0, &o, &to, &rep, &err);
	}
	if (rc)
		cli_print_error(ctx, &err);
	if (rep.left.len) {
		kbuf m = KBUF_INIT;
		kbuf_printf(&m, "these objects are not as they were before the release:\n%.*s", (int)rep.left.len - 1,
			    rep.left.ptr);
		kev_emit(&ctx->sink, KEV_ERROR, "uninstall.incomplete", m.ptr, NULL);
		kbuf_release(&m);
	}
	if (!rc) {
		kbuf m = KBUF_INIT;
		kbuf_printf(&m, "release %s uninstalled: %zu deleted, %zu restored to their state before the release, "
			    "%zu unchanged, %zu kept (CRDs, rollback: keep, helm.sh/resource-policy: keep)", s.release, rep.deleted, rep.restored,
			    rep.unchanged, rep.kept);
		if (rep.kept)
			kbuf_printf(&m, ":\n%.*s", (int)rep.kept_list.len - 1, rep.kept_list.ptr);
		kev_emit(&ctx->sink, KEV_INFO, "uninstall.done", m.ptr, "release", s.release, NULL);
		kbuf_release(&m);
	}
	rel_rollback_report_release(&rep);
	cli_store_close(&s);
	kerr_clear(&err);
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_uninstall = {
	"uninstall", run, "remove what a release applied",
	"[RELEASE] [--delete-crds]", flags,
	"Undoes every revision of the release still in effect, newest first, from their\n"
	"journals: objects the release created are deleted (and waited for), objects that\n"
	"existed before its first revision (a foreign ConfigMap it only patched) get back their\n"
	"exact state from before it. CRDs and rollback: keep objects stay unless --delete-crds;\n"
	"objects annotated helm.sh/resource-policy: keep stay (as Helm keeps them).\n"
	"What revisions pruned by --history-max changed is kept with the oldest record and put\n"
	"back last. The records stay, marked uninstalled. Exit codes: 0 done; 1 refused or\n"
	"failed; 2 usage; 3 incomplete (what is left is named); 4 cluster unreachable.\n",
};
