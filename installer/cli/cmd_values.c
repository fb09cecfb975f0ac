/*
 * cli/cmd_values.c - `kstage values [BUNDLE|CHART]`: the values a run will
 * use, computed exactly as template/apply compute them, secrets masked.
 *
 *   no path      the user's values alone (-f and --set*, merged)
 *   BUNDLE       a directory with kstage.yaml: values/values.yaml and
 *                values/values.schema.json, exact integers
 *   CHART        a directory with Chart.yaml, or a .tgz: subcharts, globals,
 *                conditions, schemas; Helm's numbers (float64 from files)
 */
#include "cli.h"
#include "cmds.h"
#include "core/arena.h"
#include "doc/doc.h"
#include "release/release.h"
#include "render_args.h"

#include <stdio.h>
#include <string.h>

static const cli_flag flags[] = {
	CLI_VALUES_FLAGS,
	{ NULL, 0, 0, NULL, NULL },
};

static int run(cli_ctx *ctx, cli_args *args)
{
	karena a = KARENA_INIT;
	kerr err = KERR_INIT;
	values_opts o;
	const char *path = args->npos ? args->pos[0] : NULL;
	doc_node *out = NULL;
	cli_source src = CLI_SRC_BUNDLE;
	kbuf b = KBUF_INIT;
	int rc;

	if (args->npos > 1) {
		cli_errorf(ctx, "too many arguments: want at most one BUNDLE or CHART");
		return EXIT_USAGE;
	}
	if (path && (rc = cli_source_kind(ctx, path, &src)))
		return rc;
	if ((rc = cli_read_values_flags(ctx, args, path && src == CLI_SRC_CHART ? VALUES_NUM_HELM : VALUES_NUM_EXACT, &o)))
		return rc;
	ctx->fetch.sink = &ctx->sink;
	rc = rel_values_show(&out, &a, path, src == CLI_SRC_BUNDLE, cli_flag_str(args, "version", NULL), &ctx->fetch, &o,
			     ctx->redact, &err);
	if (!rc && ctx->json) {
		rc = doc_emit_json(&b, out, DOC_EMIT_SORT_KEYS, &err);
		kbuf_putc(&b, '\n');
	} else if (!rc) {
		rc = doc_emit_yaml(&b, out, DOC_EMIT_SORT_KEYS, &err);
	}
	cli_redact(ctx, &b);
	if (rc)
		cli_print_error(ctx, &err);
	else
		fwrite(b.ptr, 1, b.len, stdout);
	kbuf_release(&b);
	kerr_clear(&err);
	karena_release(&a);
	cli_values_flags_release(&o);
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_values = {
	"values", run, "print the computed values, secrets masked",
	"[BUNDLE|CHART] [-f FILE]... [--set K=V]... [--set-string K=V]... [--set-file K=PATH]... "
	"[--set-json K=JSON]... [--set-literal K=V]... [--set-secret K=V]... [--numbers helm|exact]",
	flags,
	"Prints the values a run will use: the -f files left to right, then --set-json, --set,\n"
	"--set-string, --set-file, --set-literal and --set-secret, coalesced over the bundle's or\n"
	"chart's defaults (subcharts, globals, conditions and tags as Helm does them), checked\n"
	"against every values.schema.json. Values marked \"x-kstage-secret\": true in a schema,\n"
	"or set with --set-secret, print as \"<redacted>\". -o json prints JSON.",
};
