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
#include "core/arena.h"
#include "core/buf.h"
#include "doc/doc.h"
#include "tmpl/chart.h"
#include "tmpl/tmpl.h"
#include "values/values.h"
#include "release/release.h"
#include "render_args.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
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

static void put_doc(kbuf *b, const tmpl_manifest *m)
{
	kbuf_puts(b, "---\n# Source: ");
	kbuf_puts(b, m->source);
	kbuf_putc(b, '\n');
	if (m->len > (1 << 16)) {
		/* big documents go straight out */
		fwrite(b->ptr, 1, b->len, stdout);
		kbuf_reset(b);
		fwrite(m->content, 1, m->len, stdout);
	} else {
		kbuf_put(b, m->content, m->len);
	}
	kbuf_putc(b, '\n');
}

static bool is_test_hook(const char *h)
{
	return h && (strstr(h, "test") != NULL);
}

/* the path without the chart name, as --show-only matches it */
static const char *show_path(const char *source)
{
	const char *s = strchr(source, '/');
	return s ? s + 1 : source;
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

/* --skip-schema-validation: no chart in the tree has a schema */
static void drop_schemas(values_chart *c, int depth)
{
	size_t i;
	if (depth > 100)
		return;
	c->schema = NULL;
	for (i = 0; i < c->nsubcharts; i++)
		drop_schemas(c->subcharts[i], depth + 1);
}

static bool is_crd(const tmpl_output *out, const tmpl_manifest *m)
{
	size_t i;
	for (i = 0; i < out->ncrds; i++)
		if (out->crds[i].content == m->content)
			return true;
	return false;
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

/* Helm's release name rule: DNS-1123 subdomain labels, at most 53 chars */
static bool valid_release_name(const char *s)
{
	size_t n = strlen(s), i;
	bool label_start = true;
	if (n == 0 || n > 53)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (c == '.') {
			if (label_start || s[i - 1] == '-')
				return false;
			label_start = true;
			continue;
		}
		if (!alnum && c != '-')
			return false;
		if (label_start && !alnum)
			return false;
		label_start = false;
	}
	return !label_start && s[n - 1] != '-';
}

static int run(cli_ctx *ctx, cli_args *args)
{
	karena a = KARENA_INIT;
	kerr err = KERR_INIT;
	values_opts o;
	const cli_flag_val *show = cli_flag_get(args, "show-only");
	const cli_flag_val *apis = cli_flag_get(args, "api-versions");
	const char *outdir = cli_flag_str(args, "output-dir", NULL), *crddir = outdir;
	char *outsub = NULL;
	const char *path, *name = "release-name";
	doc_node *user = NULL, *secret_paths = NULL;
	tmpl_chart *tc = NULL;
	tmpl_output out = { 0 };
	tmpl_render_opts ro;
	bool printed = false;
	bool bundle = false, skip_tests = cli_flag_bool(args, "skip-tests"), no_hooks = cli_flag_bool(args, "no-hooks");
	size_t i;
	kbuf b = KBUF_INIT;
	written w = { NULL, 0, 0 };
	int r, rc = EXIT_OK;

	if (args->npos == 0 || args->npos > 2) {
		cli_errorf(ctx, "want [NAME] CHART|BUNDLE");
		return EXIT_USAGE;
	}
	path = args->pos[args->npos - 1];
	if (args->npos == 2)
		name = args->pos[0];
	/* helm template names the release "release-name" before Helm's
	 * NameAndChart runs, so --generate-name only refuses a NAME */
	if (args->npos == 2 && cli_flag_bool(args, "generate-name")) {
		cli_errorf(ctx, "cannot set --generate-name and also specify a name");
		return EXIT_USAGE;
	}
	if (cli_flag_str(args, "name-template", NULL)) {
		/* Helm's TemplateName: executed with nil data, before the
		 * default name; refused next to a NAME */
		const char *nt = cli_flag_str(args, "name-template", NULL);
		tmpl_set *ts = tmpl_set_new(&a);
		tmpl_exec_opts eo = { 0, true, false, 0, 0 };
		kbuf nb = KBUF_INIT;
		if (args->npos == 2) {
			cli_errorf(ctx, "cannot set --name-template and also specify a name");
			karena_release(&a);
			return EXIT_USAGE;
		}
		if ((r = tmpl_parse(ts, "name-template", nt, strlen(nt), &err)) ||
		    (r = tmpl_exec(ts, "name-template", NULL, &nb, &eo, &err))) {
			kbuf_release(&nb);
			cli_print_error(ctx, &err);
			rc = cli_exit_code(err.code ? err.code : r);
			kerr_clear(&err);
			karena_release(&a);
			return rc;
		}
		name = karena_strndup(&a, nb.ptr, nb.len);
		kbuf_release(&nb);
	}
	if (!valid_release_name(name)) {
		cli_errorf(ctx, "release name check failed: release name \"%s\": invalid release name, must match regex "
				"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be "
				"longer than 53", name);
		return EXIT_USAGE;
	}
	{
		cli_source k;
		if ((rc = cli_source_kind(ctx, path, &k)))
			return rc;
		bundle = k == CLI_SRC_BUNDLE;
	}
	if ((rc = cli_read_values_flags(ctx, args, bundle ? VALUES_NUM_EXACT : VALUES_NUM_HELM, &o)))
		return rc;

	if ((r = values_read_user(&user, &secret_paths, &a, &o, &err)))
		goto fail;
	if (bundle) {
		rel_bundle rb;
		r = rel_bundle_load(&rb, &a, path, &err);
		if (!r)
			r = rel_bundle_chart(&tc, &a, &rb, o.num, &err);
	}
	else
		r = tmpl_chart_load(&tc, &a, path, o.num, &err);
	if (r)
		goto fail;
	if (cli_flag_bool(args, "skip-schema-validation"))
		drop_schemas(&tc->vc, 0);
	if ((r = values_compute(&tc->vc, user, &a, o.num, &err)))
		goto fail;
	memset(&out, 0, sizeof(out));
	memset(&ro, 0, sizeof(ro));
	ro.release_name = name;
	ro.namespace = ctx->namespace ? ctx->namespace : "default";
	ro.kube_version = cli_flag_str(args, "kube-version", NULL);
	if (apis && apis->set) {
		ro.api_versions = apis->list;
		ro.napi_versions = apis->nlist;
	}
	ro.is_upgrade = cli_flag_bool(args, "is-upgrade");
	ro.num = o.num;
	if ((r = tmpl_render_chart(&out, &a, tc, &ro, &err)))
		goto fail;

	if (outdir && cli_flag_bool(args, "release-name")) {
		/* Helm writes DIR/NAME/chart/templates/..., but crds/ files
		 * still to DIR/chart/crds/... */
		size_t n = strlen(outdir) + strlen(name) + 2;
		outsub = xmalloc(n);
		snprintf(outsub, n, "%s/%s", outdir, name);
		outdir = outsub;
	}
	{
		/* everything in print order */
		tmpl_manifest *all = xcalloc(out.ncrds + out.ndocs + out.nhooks + 1, sizeof(*all));
		size_t na = 0;
		if (cli_flag_bool(args, "include-crds"))
			for (i = 0; i < out.ncrds; i++)
				all[na++] = out.crds[i];
		for (i = 0; i < out.ndocs; i++)
			all[na++] = out.docs[i];
		if (!no_hooks)
			for (i = 0; i < out.nhooks; i++)
				if (!(skip_tests && is_test_hook(out.hooks[i].hook)))
					all[na++] = out.hooks[i];
		if (show && show->set && !outdir) {
			size_t k, j;
			tmpl_manifest *sel = xcalloc(na + 1, sizeof(*sel));
			size_t ns = 0;
			for (k = 0; k < show->nlist; k++) {
				bool found = false;
				for (j = 0; j < na; j++) {
					if (fnmatch(show->list[k], show_path(all[j].source), FNM_PATHNAME))
						continue;
					sel[ns++] = all[j];
					found = true;
				}
				if (!found) {
					cli_errorf(ctx, "could not find template %s in chart", show->list[k]);
					free(sel);
					free(all);
					rc = EXIT_USAGE;
					goto done;
				}
				if (ns > na)
					break;
			}
			free(all);
			all = sel;
			na = ns;
		}
		for (i = 0; i < na; i++) {
			if (outdir) {
				if (write_out(ctx, is_crd(&out, &all[i]) ? crddir : outdir, &all[i], &w)) {
					rc = EXIT_FAILED;
					break;
				}
			} else {
				put_doc(&b, &all[i]);
				printed = true;
				if (b.len > (1 << 16)) {
					fwrite(b.ptr, 1, b.len, stdout);
					kbuf_reset(&b);
				}
			}
		}
		free(all);
	}
	fwrite(b.ptr, 1, b.len, stdout);
	if (outdir || !printed)
		putchar('\n'); /* helm prints its (trimmed) manifest stream and a newline */
	if (outdir && show && show->set && show->nlist && rc == EXIT_OK) {
		/* Helm writes every file, then looks for --show-only in the
		 * (empty) stream it printed, and fails */
		cli_errorf(ctx, "could not find template %s in chart", show->list[0]);
		rc = EXIT_USAGE;
	}
	goto done;
fail:
	cli_print_error(ctx, &err);
	rc = cli_exit_code(err.code ? err.code : r);
done:
	tmpl_output_release(&out);
	for (i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	free(outsub);
	kbuf_release(&b);
	kerr_clear(&err);
	karena_release(&a);
	cli_values_flags_release(&o);
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
