#include "render_args.h"
#include "core/alloc.h"
#include "fetch/fetch.h"

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
	if (files && files->set) {
		o->files = files->list;
		o->nfiles = files->nlist;
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
