#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "status");
}

const cli_cmd cli_cmd_status = {
	"status", run, "show the state of a release",
	"[RELEASE]", NULL, NULL,
};
