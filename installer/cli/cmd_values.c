#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "values");
}

const cli_cmd cli_cmd_values = {
	"values", run, "print the computed values, secrets masked",
	"[BUNDLE|CHART] [-f FILE]... [--set K=V]...", NULL, NULL,
};
