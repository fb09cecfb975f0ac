#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "bundle");
}

const cli_cmd cli_cmd_bundle = {
	"bundle", run, "export or import a bundle for airgapped clusters",
	"export OUT.tar.gz | import IN.tar.gz", NULL, NULL,
};
