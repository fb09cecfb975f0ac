#include "cli.h"
#include "core/alloc.h"
#include "release/release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cli_flag cli_global_flags[] = {
	{ "kubeconfig", 0, FLAG_STR, "FILE", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)" },
	{ "context", 0, FLAG_STR, "NAME", "kubeconfig context to use" },
	{ "namespace", 'n', FLAG_STR, "NS", "namespace for namespaced objects and the release" },
	{ "output", 'o', FLAG_STR, "text|json", "output format: text, or JSON lines on stdout" },
	{ "verbose", 'v', FLAG_BOOL, NULL, "more detail (repeat for more)" },
	{ "quiet", 'q', FLAG_BOOL, NULL, "only errors" },
	{ "no-color", 0, FLAG_BOOL, NULL, "no colour, even on a terminal (NO_COLOR is honoured too)" },
	{ "help", 'h', FLAG_BOOL, NULL, "show help" },
	{ "cache-dir", 0, FLAG_STR, "DIR", "artifact cache (default: $XDG_CACHE_HOME/kstage)" },
	{ "offline", 0, FLAG_BOOL, NULL, "never touch the network: sources come from the cache" },
	{ "mirror", 0, FLAG_STR, "FROM=TO", "fetch URLs starting with FROM from TO instead (repeatable; "
					     "also mirrors: in $KSTAGE_CONFIG or ~/.config/kstage/config.yaml)" },
	{ "allow-insecure-http", 0, FLAG_BOOL, NULL, "let mirrors rewrite to plain http:// (digests still checked)" },
	{ "fetch-timeout", 0, FLAG_STR, "DURATION", "give up on one download after this long (Go duration; default 5m)" },
	{ "registry-config", 0, FLAG_STR, "FILE", "OCI registry credentials, a Docker config.json (default: Helm's, "
						  "then Docker's)" },
	{ "bundle-file", 0, FLAG_STR, "IN.tar.gz", "run on a `kstage bundle export` archive in place of BUNDLE (imported "
						   "into a temporary directory, artifacts into the cache)" },
	{ NULL, 0, 0, NULL, NULL },
};

static size_t nflags(const cli_flag *f)
{
	size_t n = 0;
	while (f && f[n].name)
		n++;
	return n;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row;
	size_t r;
	if (la > 64 || lb > 64)
		return 99;
	row = xcalloc(lb + 1, sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	r = row[lb];
	free(row);
	return r;
}

const char *cli_suggest(const char *s, const char *const *names, size_t n)
{
	size_t i, best = 99;
	const char *pick = NULL;
	for (i = 0; i < n; i++) {
		size_t d = edit_distance(s, names[i]);
		if (strlen(s) >= 2 && !strncmp(names[i], s, strlen(s)))
			d = d < 1 ? d : 1;
		if (d < best) {
			best = d;
			pick = names[i];
		}
	}
	if (pick && (best <= 2 || best * 3 <= strlen(s)))
		return pick;
	return NULL;
}

static const cli_flag *find_long(const cli_flag *defs, const char *name, size_t len)
{
	size_t i;
	for (i = 0; defs && defs[i].name; i++)
		if (strlen(defs[i].name) == len && !strncmp(defs[i].name, name, len))
			return &defs[i];
	return NULL;
}

static const cli_flag *find_short(const cli_flag *defs, char c)
{
	size_t i;
	for (i = 0; defs && defs[i].name; i++)
		if (defs[i].shortname == c)
			return &defs[i];
	return NULL;
}

static void unknown_flag(const cli_cmd *cmd, const char *flag)
{
	const char *names[128];
	size_t n = 0, i;
	const char *sug;
	char bare[128];
	size_t len = strcspn(flag, "=");
	if (len >= sizeof(bare))
		len = sizeof(bare) - 1;
	memcpy(bare, flag, len);
	bare[len] = '\0';
	for (i = 0; cli_global_flags[i].name && n < 128; i++)
		names[n++] = cli_global_flags[i].name;
	for (i = 0; cmd && cmd->flags && cmd->flags[i].name && n < 128; i++)
		names[n++] = cmd->flags[i].name;
	sug = cli_suggest(bare + (bare[0] == '-' ? (bare[1] == '-' ? 2 : 1) : 0), names, n);
	fprintf(stderr, "kstage: error: unknown flag \"%s\"%s%s%s\n", bare,
		cmd ? " for \"kstage " : "", cmd ? cmd->name : "", cmd ? "\"" : "");
	if (sug)
		fprintf(stderr, "\nDid you mean this?\n\t--%s\n", sug);
	if (cmd)
		fprintf(stderr, "\nRun 'kstage %s --help' for usage.\n", cmd->name);
	else
		fprintf(stderr, "\nRun 'kstage help' for usage.\n");
}

static int set_global(cli_ctx *ctx, const cli_flag *f, const char *val)
{
	if (!strcmp(f->name, "kubeconfig"))
		ctx->kubeconfig = val;
	else if (!strcmp(f->name, "context"))
		ctx->context = val;
	else if (!strcmp(f->name, "namespace"))
		ctx->namespace = val;
	else if (!strcmp(f->name, "output")) {
		if (!strcmp(val, "json"))
			ctx->json = true;
		else if (!strcmp(val, "text"))
			ctx->json = false;
		else {
			fprintf(stderr, "kstage: error: invalid value \"%s\" for --output: want text or json\n", val);
			return EXIT_USAGE;
		}
	} else if (!strcmp(f->name, "verbose"))
		ctx->verbose++;
	else if (!strcmp(f->name, "quiet"))
		ctx->quiet = true;
	else if (!strcmp(f->name, "no-color"))
		ctx->color = false;
	else if (!strcmp(f->name, "help"))
		ctx->help = true;
	else if (!strcmp(f->name, "cache-dir"))
		ctx->fetch.cache_dir = val;
	else if (!strcmp(f->name, "offline"))
		ctx->fetch.offline = true;
	else if (!strcmp(f->name, "allow-insecure-http"))
		ctx->fetch.allow_http = true;
	else if (!strcmp(f->name, "registry-config"))
		ctx->fetch.registry_config = val;
	else if (!strcmp(f->name, "bundle-file"))
		ctx->bundle_file = val;
	else if (!strcmp(f->name, "fetch-timeout")) {
		long ms = rel_parse_duration(val);
		if (ms <= 0) {
			fprintf(stderr, "kstage: error: invalid value \"%s\" for --fetch-timeout: want a duration like 30s or 2m\n", val);
			return EXIT_USAGE;
		}
		ctx->fetch.timeout_ms = ms;
	}
	else if (!strcmp(f->name, "mirror")) {
		const size_t max = sizeof(ctx->mirrors) / sizeof(ctx->mirrors[0]);
		if (!strchr(val, '=') || val[0] == '=' || !strchr(val, '=')[1]) {
			fprintf(stderr, "kstage: error: invalid value \"%s\" for --mirror: want FROM=TO\n", val);
			return EXIT_USAGE;
		}
		if (ctx->fetch.nmirrors == max) {
			fprintf(stderr, "kstage: error: at most %zu --mirror rules (use the config file)\n", max);
			return EXIT_USAGE;
		}
		ctx->mirrors[ctx->fetch.nmirrors++] = val;
		ctx->fetch.mirrors = ctx->mirrors;
	}
	return 0;
}

static void record(cli_args *out, const cli_cmd *cmd, const cli_flag *f, const char *val)
{
	size_t idx = (size_t)(f - cmd->flags);
	cli_flag_val *v = &out->vals[idx];
	v->set = true;
	if (f->kind == FLAG_LIST) {
		v->list = xrealloc(v->list, st_mult(v->nlist + 1, sizeof(*v->list)));
		v->list[v->nlist++] = val;
	}
	v->str = val;
	out->order = xrealloc(out->order, st_mult(out->norder + 1, sizeof(*out->order)));
	out->order[out->norder].flag = f->name;
	out->order[out->norder].val = val;
	out->norder++;
}

int cli_parse(cli_ctx *ctx, const cli_cmd *cmd, int argc, char **argv, cli_args *out)
{
	int i, only_pos = 0;
	memset(out, 0, sizeof(*out));
	out->defs = cmd ? cmd->flags : NULL;
	out->ndefs = cmd ? nflags(cmd->flags) : 0;
	out->vals = xcalloc(out->ndefs + 1, sizeof(*out->vals));
	out->pos = xcalloc((size_t)argc + 1, sizeof(*out->pos));
	for (i = 0; i < argc; i++) {
		char *arg = argv[i];
		const cli_flag *f = NULL;
		const char *val = NULL;
		int is_global = 0;
		if (only_pos || arg[0] != '-' || !arg[1]) {
			out->pos[out->npos++] = arg;
			continue;
		}
		if (!strcmp(arg, "--")) {
			only_pos = 1;
			continue;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2;
			size_t len = strcspn(name, "=");
			f = cmd ? find_long(cmd->flags, name, len) : NULL;
			if (!f) {
				f = find_long(cli_global_flags, name, len);
				is_global = f != NULL;
			}
			if (name[len] == '=')
				val = name + len + 1;
		} else {
			f = cmd ? find_short(cmd->flags, arg[1]) : NULL;
			if (!f) {
				f = find_short(cli_global_flags, arg[1]);
				is_global = f != NULL;
			}
			if (f && arg[2]) {
				if (f->kind == FLAG_BOOL) {
					/* -vv */
					size_t k;
					for (k = 2; arg[k] == arg[1]; k++)
						;
					if (arg[k])
						f = NULL;
					else if (is_global)
						for (k = 2; arg[k]; k++)
							set_global(ctx, f, NULL);
				} else {
					val = arg + 2;
				}
			}
		}
		if (!f) {
			unknown_flag(cmd, arg);
			return EXIT_USAGE;
		}
		if (f->kind == FLAG_BOOL) {
			if (val) {
				fprintf(stderr, "kstage: error: flag --%s takes no value\n", f->name);
				return EXIT_USAGE;
			}
		} else if (!val) {
			if (i + 1 >= argc) {
				fprintf(stderr, "kstage: error: flag --%s needs a value (%s)\n", f->name,
					f->argname ? f->argname : "VALUE");
				return EXIT_USAGE;
			}
			val = argv[++i];
		}
		if (is_global) {
			int r = set_global(ctx, f, val);
			if (r)
				return r;
			continue;
		}
		record(out, cmd, f, val ? val : "true");
	}
	return 0;
}

void cli_args_release(cli_args *a)
{
	size_t i;
	for (i = 0; i < a->ndefs; i++)
		free(a->vals[i].list);
	free(a->vals);
	free(a->pos);
	free(a->order);
	memset(a, 0, sizeof(*a));
}

const cli_flag_val *cli_flag_get(const cli_args *a, const char *name)
{
	size_t i;
	for (i = 0; i < a->ndefs; i++)
		if (!strcmp(a->defs[i].name, name))
			return &a->vals[i];
	return NULL;
}

bool cli_flag_bool(const cli_args *a, const char *name)
{
	const cli_flag_val *v = cli_flag_get(a, name);
	return v && v->set;
}

const char *cli_flag_str(const cli_args *a, const char *name, const char *def)
{
	const cli_flag_val *v = cli_flag_get(a, name);
	return v && v->set ? v->str : def;
}
