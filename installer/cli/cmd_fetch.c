#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "fetch");
}

const cli_cmd cli_cmd_fetch = {
	"fetch", run, "fill and verify the artifact cache",
	"[BUNDLE] [--offline] [--update-lock]", NULL, NULL,
};
