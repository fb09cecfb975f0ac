#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "verify");
}

const cli_cmd cli_cmd_verify = {
	"verify", run, "run the bundle's smoke-test stage alone",
	"[BUNDLE]", NULL, NULL,
};
