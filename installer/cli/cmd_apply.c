#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "apply");
}

const cli_cmd cli_cmd_apply = {
	"apply", run, "apply stages in order, waiting for each to be healthy",
	"[BUNDLE] [-f FILE]... [--set K=V]... [--timeout D]", NULL, NULL,
};
