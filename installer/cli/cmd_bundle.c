/*
 * cli/cmd_bundle.c - `kstage bundle export [BUNDLE] OUT.tar.gz` and
 * `kstage bundle import IN.tar.gz DIR`: a bundle with every artifact its
 * lock pins, for clusters with no network to the sources.
 */
#include "cli.h"
#include "cmds.h"
#include "release/release.h"

#include <stdio.h>
#include <string.h>

static int export(cli_ctx *ctx, cli_args *args)
{
	karena a = KARENA_INIT;
	kerr err = KERR_INIT;
	rel_bundle b;
	rel_fetch_report rep = { 0, false, KBUF_INIT };
	const char *bundle = args->npos == 3 ? args->pos[1] : ".";
	const char *out = args->pos[args->npos - 1];
	int rc;
	rc = rel_bundle_load(&b, &a, bundle, &err);
	if (!rc)
		rc = rel_bundle_export(&b, out, &ctx->fetch, &rep, &err);
	if (rc) {
		cli_print_error(ctx, &err);
	} else {
		size_t n = 0;
		const char *p;
		for (p = rep.digests.ptr; *p; p++)
			n += *p == '\n';
		if (ctx->json)
			printf("{\"event\":\"bundle.exported\",\"file\":\"%s\",\"sources\":%zu,\"artifacts\":%zu}\n", out,
			       rep.sources, n);
		else if (!ctx->quiet)
			printf("exported %s with %zu source%s (%zu artifact%s) to %s\n", b.dir, rep.sources,
			       rep.sources == 1 ? "" : "s", n, n == 1 ? "" : "s", out);
	}
	kbuf_release(&rep.digests);
	kerr_clear(&err);
	karena_release(&a);
	return cli_exit_code(rc);
}

static int import(cli_ctx *ctx, cli_args *args)
{
	kerr err = KERR_INIT;
	size_t n = 0;
	int rc;
	rc = rel_bundle_import(args->pos[1], args->pos[2], &ctx->fetch, &n, &err);
	if (rc)
		cli_print_error(ctx, &err);
	else if (ctx->json)
		printf("{\"event\":\"bundle.imported\",\"dir\":\"%s\",\"artifacts\":%zu}\n", args->pos[2], n);
	else if (!ctx->quiet)
		printf("imported the bundle into %s and %zu artifact%s into the cache\n", args->pos[2], n,
		       n == 1 ? "" : "s");
	kerr_clear(&err);
	return cli_exit_code(rc);
}

static int run(cli_ctx *ctx, cli_args *args)
{
	const char *sub = args->npos ? args->pos[0] : "";
	ctx->fetch.sink = &ctx->sink;
	if (!strcmp(sub, "export") && (args->npos == 2 || args->npos == 3))
		return export(ctx, args);
	if (!strcmp(sub, "import") && args->npos == 3)
		return import(ctx, args);
	if (!strcmp(sub, "push") || !strcmp(sub, "pull"))
		return cli_not_built(ctx, "bundle push/pull");
	cli_errorf(ctx, "usage: kstage bundle export [BUNDLE] OUT.tar.gz | import IN.tar.gz DIR");
	return EXIT_USAGE;
}

const cli_cmd cli_cmd_bundle = {
	"bundle", run, "export or import a bundle for airgapped clusters",
	"export [BUNDLE] OUT.tar.gz | import IN.tar.gz DIR", NULL,
	"export fetches and verifies every remote source of the bundle (url, OCI, git; from the\n"
	"cache alone with --offline) and writes one .tar.gz: the bundle (kstage.yaml, kstage.lock,\n"
	"templates/, values/ and the stages' paths) and every artifact the lock pins. import\n"
	"unpacks it into DIR (which must not exist) with the same checks as any archive, takes\n"
	"each artifact into the cache only when its bytes have the digest it is named by, and\n"
	"verifies every pinned source again; `kstage apply DIR --offline` then needs no network.",
};
