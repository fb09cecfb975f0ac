#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "plan");
}

const cli_cmd cli_cmd_plan = {
	"plan", run, "server-side dry-run and diff, stage by stage",
	"[BUNDLE] [-f FILE]... [--set K=V]... [--detailed-exitcode]", NULL, NULL,
};
