#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "uninstall");
}

const cli_cmd cli_cmd_uninstall = {
	"uninstall", run, "remove what a release applied",
	"[RELEASE]", NULL, NULL,
};
