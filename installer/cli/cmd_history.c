#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "history");
}

const cli_cmd cli_cmd_history = {
	"history", run, "list the revisions of a release",
	"[RELEASE]", NULL, NULL,
};
