#include "cli.h"
#include "cmds.h"

static int run(cli_ctx *ctx, cli_args *args)
{
	(void)args;
	return cli_not_built(ctx, "template");
}

const cli_cmd cli_cmd_template = {
	"template", run, "render a bundle or chart to manifests",
	"[NAME] CHART|BUNDLE [flags]", NULL, NULL,
};
