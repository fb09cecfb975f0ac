/*
 * cli/cmd_fetch.c - `kstage fetch [BUNDLE]`: fetch every url source of the
 * bundle into the cache and verify it against its pin (kstage.yaml or
 * kstage.lock); with --update-lock, resolve each source and write
 * kstage.lock.
 */
#include "cli.h"
#include "cmds.h"
#include "release/release.h"

#include <stdio.h>
#include <string.h>

static const cli_flag flags[] = {
	{ "update-lock", 0, FLAG_BOOL, NULL, "resolve every url source and OCI chart and write kstage.lock" },
	{ NULL, 0, 0, NULL, NULL },
};

static int run(cli_ctx *ctx, cli_args *args)
{
	karena a = KARENA_INIT;
	kerr err = KERR_INIT;
	rel_bundle b;
	rel_fetch_report rep = { 0, false, KBUF_INIT };
	kbuf dir = KBUF_INIT;
	bool update = cli_flag_bool(args, "update-lock");
	const char *path = args->npos ? args->pos[0] : ".";
	int rc;

	if (args->npos > 1) {
		cli_errorf(ctx, "too many arguments: want at most one BUNDLE");
		return EXIT_USAGE;
	}
	if (update && ctx->fetch.offline) {
		cli_errorf(ctx, "--update-lock resolves sources over the network: it cannot run with --offline");
		return EXIT_USAGE;
	}
	ctx->fetch.sink = &ctx->sink;
	rc = rel_bundle_load_opts(&b, &a, path, !update, &err);
	if (!rc && b.is_chart)
		rc = kerr_set(&err, KE_INPUT, "%s is a Helm chart: kstage fetch takes a bundle (kstage.yaml)", path);
	if (!rc)
		rc = rel_fetch(&b, &ctx->fetch, update, &rep, &err);
	if (rc) {
		cli_print_error(ctx, &err);
	} else {
		fetch_cache_dir(&dir, &ctx->fetch);
		if (ctx->json)
			printf("{\"event\":\"fetch.summary\",\"sources\":%zu,\"lock_written\":%s}\n", rep.sources,
			       rep.lock_written ? "true" : "false");
		else if (!ctx->quiet && rep.lock_written)
			printf("%zu source%s verified in %s; wrote %s/kstage.lock\n", rep.sources,
			       rep.sources == 1 ? "" : "s", dir.ptr, b.dir);
		else if (!ctx->quiet)
			printf("%zu source%s verified in %s\n", rep.sources, rep.sources == 1 ? "" : "s", dir.ptr);
	}
	kbuf_release(&dir);
	kbuf_release(&rep.digests);
	kerr_clear(&err);
	karena_release(&a);
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_fetch = {
	"fetch", run, "fill and verify the artifact cache",
	"[BUNDLE] [--update-lock] [--offline] [--mirror FROM=TO]... [--cache-dir DIR]", flags,
	"Fetches every url source and OCI chart of the bundle into the cache ($XDG_CACHE_HOME/\n"
	"kstage, or --cache-dir) and checks its sha256 (an OCI chart's manifest digest), given\n"
	"in kstage.yaml or in kstage.lock beside it. OCI registries that want credentials get\n"
	"those of --registry-config FILE (a Docker config.json), else Helm's, else Docker's.\n"
	"--update-lock downloads every url source again (a sha256 in kstage.yaml must still\n"
	"match) and writes kstage.lock; every other command refuses a url source pinned in\n"
	"neither file. Mirror rules (--mirror, or mirrors: [{from, to}] in the config file\n"
	"$KSTAGE_CONFIG, else $XDG_CONFIG_HOME/kstage/config.yaml) change where bytes come\n"
	"from, never the digest they must have.",
};
