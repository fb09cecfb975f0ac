#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "rollback");
}

const cli_cmd cli_cmd_rollback = {
	"rollback", run, "restore the state before a release revision",
	"[RELEASE] [REVISION] | --recover", NULL, NULL,
};
