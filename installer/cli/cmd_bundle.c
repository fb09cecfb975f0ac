/*
 * cli/cmd_bundle.c - `kstage bundle export [BUNDLE] OUT.tar.gz` and
 * `kstage bundle import IN.tar.gz DIR`: a bundle with every artifact its
 * lock pins, for clusters with no network to the sources; `bundle push
 * [BUNDLE] oci://REG/REPO:TAG` and `bundle pull oci://REG/REPO:TAG DIR` move
 * the same archive through an OCI registry as one artifact.
 */
#include "cli.h"
#include "cmds.h"
#include "doc/doc.h"
#include "release/release.h"

#include <stdio.h>
#include <string.h>

/* {"event":EVENT,"KEY":"VAL"...,"NUMKEY":N} on stdout, strings quoted. */
static void json_event(const char *event, const char *k1, const char *v1, const char *k2, const char *v2,
		       const char *nk, size_t n)
{
	kbuf b = KBUF_INIT;
	kbuf_printf(&b, "{\"event\":\"%s\",\"%s\":", event, k1);
	doc_json_quote(&b, v1, strlen(v1), 0);
	if (k2) {
		kbuf_printf(&b, ",\"%s\":", k2);
		doc_json_quote(&b, v2, strlen(v2), 0);
	}
	kbuf_printf(&b, ",\"%s\":%zu}\n", nk, n);
	fwrite(b.ptr, 1, b.len, stdout);
	kbuf_release(&b);
}

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
			json_event("bundle.exported", "file", out, NULL, NULL, "artifacts", n);
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
		json_event("bundle.imported", "dir", args->pos[2], NULL, NULL, "artifacts", n);
	else if (!ctx->quiet)
		printf("imported the bundle into %s and %zu artifact%s into the cache\n", args->pos[2], n,
		       n == 1 ? "" : "s");
	kerr_clear(&err);
	return cli_exit_code(rc);
}

static int push(cli_ctx *ctx, cli_args *args)
{
	karena a = KARENA_INIT;
	kerr err = KERR_INIT;
	rel_bundle b;
	rel_fetch_report rep = { 0, false, KBUF_INIT };
	const char *bundle = args->npos == 3 ? args->pos[1] : ".";
	const char *ref = args->pos[args->npos - 1];
	char digest[65] = "";
	int rc = rel_bundle_load(&b, &a, bundle, &err);
	if (!rc)
		rc = rel_bundle_push(&b, ref, &ctx->fetch, &rep, digest, &err);
	if (rc)
		cli_print_error(ctx, &err);
	else if (ctx->json)
		json_event("bundle.pushed", "ref", ref, "digest", digest, "sources", rep.sources);
	else if (!ctx->quiet)
		printf("pushed %s to %s\ndigest: sha256:%s\n", b.dir, ref, digest);
	kbuf_release(&rep.digests);
	kerr_clear(&err);
	karena_release(&a);
	return cli_exit_code(rc);
}

static int pull(cli_ctx *ctx, cli_args *args)
{
	kerr err = KERR_INIT;
	size_t n = 0;
	char digest[65] = "";
	int rc = rel_bundle_pull(args->pos[1], args->pos[2], &ctx->fetch, &n, digest, &err);
	if (rc)
		cli_print_error(ctx, &err);
	else if (ctx->json)
		json_event("bundle.pulled", "dir", args->pos[2], "digest", digest, "artifacts", n);
	else if (!ctx->quiet)
		printf("pulled %s (sha256:%s) into %s and %zu artifact%s into the cache\n", args->pos[1], digest,
		       args->pos[2], n, n == 1 ? "" : "s");
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
	if (!strcmp(sub, "push") && (args->npos == 2 || args->npos == 3))
		return push(ctx, args);
	if (!strcmp(sub, "pull") && args->npos == 3)
		return pull(ctx, args);
	cli_errorf(ctx, "usage: kstage bundle export [BUNDLE] OUT.tar.gz | import IN.tar.gz DIR | "
		   "push [BUNDLE] oci://REG/REPO:TAG | pull oci://REG/REPO:TAG DIR");
	return EXIT_USAGE;
}

const cli_cmd cli_cmd_bundle = {
	"bundle", run, "export or import a bundle for airgapped clusters",
	"export [BUNDLE] OUT.tar.gz | import IN.tar.gz DIR | push [BUNDLE] oci://REG/REPO:TAG | pull oci://REG/REPO:TAG DIR",
	NULL,
	"export fetches and verifies every remote source of the bundle (url, OCI, git; from the\n"
	"cache alone with --offline) and writes one .tar.gz: the bundle (kstage.yaml, kstage.lock,\n"
	"templates/, values/ and the stages' paths) and every artifact the lock pins. import\n"
	"unpacks it into DIR (which must not exist) with the same checks as any archive, takes\n"
	"each artifact into the cache only when its bytes have the digest it is named by, and\n"
	"verifies every pinned source again; `kstage apply DIR --offline` then needs no network.\n"
	"--bundle-file IN.tar.gz in place of BUNDLE (any command that takes one) does the import\n"
	"into a temporary directory, runs the command there and removes the directory.\n"
	"push sends the same archive to an OCI registry as one artifact (config\n"
	"application/vnd.kstage.bundle.config.v1+json, layer application/vnd.kstage.bundle.v1.tar+gzip);\n"
	"pull fetches it, checks both digests and imports it as import does.",
};
