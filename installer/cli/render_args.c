#include "render_args.h"
#include "core/alloc.h"
#include "fetch/fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
	const char *flag;
	values_flag_kind kind;
} kinds[] = {
	{ "set", VALUES_SET }, { "set-string", VALUES_SET_STRING }, { "set-file", VALUES_SET_FILE },
	{ "set-json", VALUES_SET_JSON }, { "set-literal", VALUES_SET_LITERAL },
	{ "set-secret", VALUES_SET_SECRET },
};

int cli_check_input_file(cli_ctx *ctx, const char *flag, const char *path)
{
	struct stat st;
	if (!strcmp(path, "-") || !strncmp(path, "https://", 8) || !strncmp(path, "http://", 7))
		return 0;
	if (stat(path, &st)) {
		cli_errorf(ctx, "%s %s: %s", flag, path, errno == ENOENT ? "no such file" : strerror(errno));
		return EXIT_USAGE;
	}
	if (S_ISDIR(st.st_mode)) {
		cli_errorf(ctx, "%s %s: is a directory, want a file", flag, path);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_read_values_flags(cli_ctx *ctx, const cli_args *args, values_num_mode def_num, values_opts *o)
{
	const cli_flag_val *files = cli_flag_get(args, "values");
	const char *numbers = cli_flag_str(args, "numbers", NULL);
	values_flag *vf;
	size_t i, k, n = 0;

	memset(o, 0, sizeof(*o));
	o->num = def_num;
	if (numbers) {
		if (!strcmp(numbers, "helm"))
			o->num = VALUES_NUM_HELM;
		else if (!strcmp(numbers, "exact"))
			o->num = VALUES_NUM_EXACT;
		else {
			cli_errorf(ctx, "invalid value \"%s\" for --numbers: want helm or exact", numbers);
			return EXIT_USAGE;
		}
	}
	if (files && files->set) {
		for (i = 0; i < files->nlist; i++)
			if (cli_check_input_file(ctx, "-f", files->list[i]))
				return EXIT_USAGE;
		o->files = files->list;
		o->nfiles = files->nlist;
	}
	{
		/* values never fetch: URL sources come through fetch/'s client */
		fetch_http_opts *ho = xcalloc(1, sizeof(*ho));
		ho->ca_file = cli_flag_str(args, "ca-file", NULL);
		ho->allow_http = cli_flag_bool(args, "plain-http");
		ho->max_bytes = (size_t)64 << 20;
		ho->timeout_ms = 120000;
		o->url.read = fetch_read_url;
		o->url.ctx = ho;
	}
	vf = xcalloc(args->norder + 1, sizeof(*vf));
	for (i = 0; i < args->norder; i++)
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (!strcmp(kinds[k].flag, args->order[i].flag)) {
				vf[n].kind = kinds[k].kind;
				vf[n].arg = args->order[i].val;
				n++;
			}
	o->flags = vf;
	o->nflags = n;
	return 0;
}

rel_values_mode cli_values_mode(const cli_args *args)
{
	if (cli_flag_bool(args, "reset-values"))
		return REL_VALUES_NEW;
	if (cli_flag_bool(args, "reuse-values"))
		return REL_VALUES_REUSE;
	return cli_flag_bool(args, "reset-then-reuse-values") ? REL_VALUES_RESET_THEN_REUSE : REL_VALUES_NEW;
}

void cli_values_flags_release(values_opts *o)
{
	free((void *)o->flags);
	o->flags = NULL;
	o->nflags = 0;
	free(o->url.ctx);
	o->url.ctx = NULL;
	o->url.read = NULL;
}

static bool has_file(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
		return false;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

int cli_source_kind(cli_ctx *ctx, const char *path, cli_source *out)
{
	struct stat st;
	if (!strncmp(path, "oci://", 6)) {
		*out = CLI_SRC_CHART;
		return 0;
	}
	if (stat(path, &st)) {
		cli_errorf(ctx, "%s: no such bundle or chart", path);
		return EXIT_USAGE;
	}
	if (S_ISDIR(st.st_mode) && has_file(path, "kstage.yaml") && !has_file(path, "Chart.yaml")) {
		*out = CLI_SRC_BUNDLE;
		return 0;
	}
	if ((S_ISDIR(st.st_mode) && has_file(path, "Chart.yaml")) ||
	    (S_ISREG(st.st_mode) && (ends_with(path, ".tgz") || ends_with(path, ".tar.gz")))) {
		*out = CLI_SRC_CHART;
		return 0;
	}
	cli_errorf(ctx, "%s: not a bundle (kstage.yaml) or a chart (Chart.yaml or .tgz)", path);
	return EXIT_USAGE;
}

int cli_session_open(cli_ctx *ctx, const char *cmd, const cli_args *args, const kev_sink *sink, rel_session *s, values_opts *vo)
{
	rel_session_opts so;
	const cli_flag_val *stages = cli_flag_get(args, "stage");
	kerr err = KERR_INIT;
	int rc;
	memset(s, 0, sizeof(*s));
	memset(vo, 0, sizeof(*vo));
	if (args->npos > 1) {
		cli_errorf(ctx, "%s takes one BUNDLE or CHART, got %zu arguments", cmd, args->npos);
		return EXIT_USAGE;
	}
	if (ctx->kubeconfig && (rc = cli_check_input_file(ctx, "--kubeconfig", ctx->kubeconfig)))
		return rc;
	if ((rc = cli_read_values_flags(ctx, args, VALUES_NUM_EXACT, vo)))
		return rc;
	memset(&so, 0, sizeof(so));
	so.values_num_explicit = cli_flag_str(args, "numbers", NULL) != NULL;
	so.bundle = args->npos ? args->pos[0] : ".";
	so.kube.kubeconfig = ctx->kubeconfig;
	so.kube.context = ctx->context;
	so.kube.namespace = ctx->namespace;
	so.values = vo;
	so.sink = sink;
	ctx->fetch.sink = sink;
	so.fetch = &ctx->fetch;
	so.version = cli_flag_str(args, "version", NULL);
	so.wait_poll = getenv("KSTAGE_WAIT_POLL") && *getenv("KSTAGE_WAIT_POLL");
	so.only = stages && stages->set ? stages->list : NULL;
	so.nonly = stages && stages->set ? stages->nlist : 0;
	if ((rc = rel_session_open(s, &so, &err))) {
		cli_print_error(ctx, &err);
		kerr_clear(&err);
		cli_session_close(s, vo);
		return cli_exit_code(rc);
	}
	s->ctx.force = cli_flag_bool(args, "force-conflicts");
	return 0;
}

void cli_session_close(rel_session *s, values_opts *vo)
{
	rel_session_close(s);
	cli_values_flags_release(vo);
}
