#include "cli.h"
#include "cmds.h"

#include <stdio.h>

static int run(cli_ctx *ctx, cli_args *args)
{
	const cli_cmd *cmd;
	if (args->npos == 0) {
		cli_usage(NULL, stdout);
		return EXIT_OK;
	}
	cmd = cli_find_command(args->pos[0]);
	if (!cmd) {
		const char *sug = cli_suggest_command(args->pos[0]);
		cli_errorf(ctx, "unknown help topic \"%s\"%s%s%s", args->pos[0],
			   sug ? " (did you mean \"" : "", sug ? sug : "", sug ? "\"?)" : "");
		return EXIT_USAGE;
	}
	cli_usage(cmd, stdout);
	return EXIT_OK;
}

const cli_cmd cli_cmd_help = {
	"help", run, "show help for kstage or one command", "[COMMAND]", NULL, NULL,
};
