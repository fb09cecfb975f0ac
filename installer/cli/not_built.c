#include "cli.h"
#include "cmds.h"

int cli_not_built(cli_ctx *ctx, const char *command)
{
	cli_errorf(ctx, "\"kstage %s\" is not built yet in this version", command);
	return EXIT_USAGE;
}
