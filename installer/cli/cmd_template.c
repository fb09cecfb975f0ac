/*
 * cli/cmd_template.c - `kstage template [NAME] CHART|BUNDLE`: render a Helm
 * chart (directory or .tgz) or a kstage bundle to manifests and print them
 * as `helm template` does: "---\n# Source: chart/templates/x.yaml\n<doc>\n"
 * in Helm 4's install order, hooks after the manifests, crds/ first with
 * --include-crds; --show-only and --output-dir as Helm's.
 *
 * Numbers: charts render with Helm's numbers (float64 from files), bundles
 * with exact integers; --numbers helm|exact switches either way.
 */
#include "cli.h"
#include "cmds.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "release/release.h"
#include "render_args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cli_flag flags[] = {
	CLI_VALUES_FLAGS,
	{ "show-only", 's', FLAG_LIST, "TEMPLATE", "only print manifests rendered from this template (glob)" },
	{ "output-dir", 0, FLAG_STR, "DIR", "write each template's manifests to files under DIR" },
	{ "kube-version", 0, FLAG_STR, "VERSION", "Kubernetes version for .Capabilities (default v1.35.0)" },
	{ "api-versions", 'a', FLAG_LIST, "G/V", "extra API versions for .Capabilities.APIVersions" },
	{ "include-crds", 0, FLAG_BOOL, NULL, "print the charts' crds/ files too" },
	{ "skip-tests", 0, FLAG_BOOL, NULL, "leave out test hooks" },
	{ "no-hooks", 0, FLAG_BOOL, NULL, "leave out every hook" },
	{ "is-upgrade", 0, FLAG_BOOL, NULL, "set .Release.IsUpgrade instead of .Release.IsInstall" },
	{ "skip-schema-validation", 0, FLAG_BOOL, NULL, "do not check values against values.schema.json" },
	{ "release-name", 0, FLAG_BOOL, NULL, "with --output-dir: write under DIR/NAME/" },
	{ "generate-name", 'g', FLAG_BOOL, NULL, "no NAME argument (helm template still says release-name)" },
	{ "name-template", 0, FLAG_STR, "TEMPLATE", "name the release by this template (Go template, Sprig functions, no data)" },
	/* accepted as helm template accepts them; they change nothing here */
	{ "skip-crds", 0, FLAG_BOOL, NULL, "no effect on output (as in helm template)" },
	{ "debug", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "wait", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "wait-for-jobs", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "timeout", 0, FLAG_STR, "DURATION", "accepted for helm compatibility; no effect" },
	{ "atomic", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "rollback-on-failure", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "description", 0, FLAG_STR, "TEXT", "accepted for helm compatibility; no effect" },
	{ "labels", 0, FLAG_LIST, "K=V", "accepted for helm compatibility; no effect" },
	{ "hide-notes", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "render-subchart-notes", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "take-ownership", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "disable-openapi-validation", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "create-namespace", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "replace", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "force-replace", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "force-conflicts", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ "devel", 0, FLAG_BOOL, NULL, "accepted for helm compatibility; no effect" },
	{ NULL, 0, 0, NULL, NULL },
};

/* ---- output ---- */

/* Documents go out through b in chunks of less than 64 KiB: b is allocated
 * once at that size (grown by doubling, it copied the output over and
 * over, and its last size was mapped and faulted in afresh), and a document
 * that does not fit goes straight out. */
#define OUT_CHUNK (((size_t)1 << 16) - 1)

static void flush_out(kbuf *b)
{
	fwrite(b->ptr, 1, b->len, stdout);
	kbuf_reset(b);
}

static void put_doc(kbuf *b, const tmpl_manifest *m)
{
	static const char head[] = "---\n# Source: ";
	size_t n = sizeof(head) - 1 + strlen(m->source) + 1 + m->len + 1;
	if (b->len + n > OUT_CHUNK)
		flush_out(b);
	kbuf_puts(b, head);
	kbuf_puts(b, m->source);
	kbuf_putc(b, '\n');
	if (n > OUT_CHUNK) {
		flush_out(b);
		fwrite(m->content, 1, m->len, stdout);
	} else {
		kbuf_put(b, m->content, m->len);
	}
	kbuf_putc(b, '\n');
}

static int mkdirs(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);
	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0755) && errno != EEXIST)
				return -1;
			buf[i] = c;
		}
	}
	return 0;
}

typedef struct written {
	char **v;
	size_t n, cap;
} written;

static int write_out(cli_ctx *ctx, const char *dir, const tmpl_manifest *m, written *w)
{
	char *path, *slash;
	FILE *f;
	size_t i;
	bool seen = false;
	size_t n = strlen(dir) + strlen(m->source) + 2;
	path = xmalloc(n);
	snprintf(path, n, "%s/%s", dir, m->source);
	for (i = 0; i < w->n; i++)
		if (!strcmp(w->v[i], path))
			seen = true;
	slash = strrchr(path, '/');
	*slash = '\0';
	if (mkdirs(path)) {
		cli_errorf(ctx, "cannot create %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	*slash = '/';
	f = fopen(path, seen ? "a" : "w");
	if (!f) {
		cli_errorf(ctx, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	fprintf(f, "---\n# Source: %s\n", m->source);
	fwrite(m->content, 1, m->len, f);
	fputc('\n', f);
	fclose(f);
	if (!seen) {
		printf("wrote %s\n", path);
		ALLOC_GROW(w->v, w->n + 1, w->cap);
		w->v[w->n++] = path;
	} else {
		printf("wrote %s\n", path);
		free(path);
	}
	return 0;
}

static int run(cli_ctx *ctx, cli_args *args)
{
	kerr err = KERR_INIT;
	values_opts vo;
	rel_template_opts to;
	rel_template_result res;
	const cli_flag_val *show = cli_flag_get(args, "show-only");
	const cli_flag_val *apis = cli_flag_get(args, "api-versions");
	const char *outdir = cli_flag_str(args, "output-dir", NULL), *crddir = outdir;
	char *outsub = NULL;
	cli_source src;
	size_t i;
	kbuf b = KBUF_INIT;
	written w = { NULL, 0, 0 };
	int rc;

	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));
	if (args->npos == 0 || args->npos > 2) {
		cli_errorf(ctx, "want [NAME] CHART|BUNDLE");
		return EXIT_USAGE;
	}
	/* helm template names the release "release-name" before Helm's
	 * NameAndChart runs, so --generate-name only refuses a NAME */
	if (args->npos == 2 && cli_flag_bool(args, "generate-name")) {
		cli_errorf(ctx, "cannot set --generate-name and also specify a name");
		return EXIT_USAGE;
	}
	if (args->npos == 2 && cli_flag_str(args, "name-template", NULL)) {
		cli_errorf(ctx, "cannot set --name-template and also specify a name");
		return EXIT_USAGE;
	}
	memset(&to, 0, sizeof(to));
	to.path = args->pos[args->npos - 1];
	to.name = args->npos == 2 ? args->pos[0] : NULL;
	to.name_template = cli_flag_str(args, "name-template", NULL);
	to.namespace = ctx->namespace;
	to.kube_version = cli_flag_str(args, "kube-version", NULL);
	if (apis && apis->set) {
		to.api_versions = apis->list;
		to.napi_versions = apis->nlist;
	}
	to.is_upgrade = cli_flag_bool(args, "is-upgrade");
	to.skip_schema = cli_flag_bool(args, "skip-schema-validation");
	to.include_crds = cli_flag_bool(args, "include-crds");
	to.skip_tests = cli_flag_bool(args, "skip-tests");
	to.no_hooks = cli_flag_bool(args, "no-hooks");
	if (show && show->set && !outdir) {
		to.show_only = show->list;
		to.nshow_only = show->nlist;
	}
	if ((rc = cli_source_kind(ctx, to.path, &src)))
		return rc;
	to.bundle = src == CLI_SRC_BUNDLE;
	if ((rc = cli_read_values_flags(ctx, args, to.bundle ? VALUES_NUM_EXACT : VALUES_NUM_HELM, &vo)))
		return rc;
	to.values = &vo;
	to.secrets = ctx->redact;
	to.version = cli_flag_str(args, "version", NULL);
	ctx->fetch.sink = &ctx->sink;
	to.fetch = &ctx->fetch;

	rc = rel_template(&res, &to, &err);
	for (i = 0; res.warnings && i < res.warnings->u.seq.len; i++)
		cli_warnf(ctx, "%s", res.warnings->u.seq.v[i]->u.s.ptr);
	if (rc) {
		cli_print_error(ctx, &err);
		rc = cli_exit_code(rc);
		goto done;
	}
	if (outdir && cli_flag_bool(args, "release-name")) {
		/* Helm writes DIR/NAME/chart/templates/..., but crds/ files
		 * still to DIR/chart/crds/... */
		size_t n = strlen(outdir) + strlen(res.name) + 2;
		outsub = xmalloc(n);
		snprintf(outsub, n, "%s/%s", outdir, res.name);
		outdir = outsub;
	}
	if (!outdir)
		kbuf_init(&b, OUT_CHUNK);
	for (i = 0; i < res.ndocs; i++) {
		if (outdir) {
			if (write_out(ctx, rel_template_is_crd(&res, &res.docs[i]) ? crddir : outdir, &res.docs[i], &w)) {
				rc = EXIT_FAILED;
				break;
			}
			continue;
		}
		put_doc(&b, &res.docs[i]);
	}
	fwrite(b.ptr, 1, b.len, stdout);
	if (outdir || !res.ndocs)
		putchar('\n'); /* helm prints its (trimmed) manifest stream and a newline */
	if (outdir && show && show->set && show->nlist && rc == EXIT_OK) {
		/* Helm writes every file, then looks for --show-only in the
		 * (empty) stream it printed, and fails */
		cli_errorf(ctx, "could not find template %s in chart", show->list[0]);
		rc = EXIT_USAGE;
	}
done:
	rel_template_result_release(&res);
	for (i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	free(outsub);
	kbuf_release(&b);
	kerr_clear(&err);
	cli_values_flags_release(&vo);
	return rc;
}

const cli_cmd cli_cmd_template = {
	"template", run, "render a bundle or chart to manifests",
	"[NAME] CHART|BUNDLE [-f FILE]... [--set K=V]... [--set-string K=V]... [--set-file K=PATH]... "
	"[--set-json K=JSON]... [-n NS] [--show-only T]... [--output-dir DIR] [--kube-version V] "
	"[--api-versions G/V]... [--include-crds] [--skip-schema-validation] [--release-name] "
	"[--numbers helm|exact]",
	flags,
	"Renders every template of the chart (and of its enabled subcharts) or of the bundle with\n"
	"Go's text/template, Sprig and Helm's functions, and prints the documents as helm template\n"
	"does: \"# Source:\" comments, Helm 4's install order, hooks last. Charts get Helm's numbers\n"
	"(every number in a values file is a float64); bundles keep integers exact.",
};
