#include "cli.h"
#include "cmds.h"

#include <string.h>

/* Every command, once. Order is the order of `kstage help`. */
const cli_cmd *const cli_commands[] = {
	&cli_cmd_template,
	&cli_cmd_values,
	&cli_cmd_plan,
	&cli_cmd_apply,
	&cli_cmd_rollback,
	&cli_cmd_history,
	&cli_cmd_status,
	&cli_cmd_uninstall,
	&cli_cmd_fetch,
	&cli_cmd_bundle,
	&cli_cmd_verify,
	&cli_cmd_version,
	&cli_cmd_help,
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const cli_cmd *cli_find_command(const char *name)
{
	size_t i;
	for (i = 0; i < cli_ncommands; i++)
		if (!strcmp(cli_commands[i]->name, name))
			return cli_commands[i];
	return NULL;
}

const char *cli_suggest_command(const char *name)
{
	const char *names[64];
	size_t n;
	for (n = 0; n < cli_ncommands && n < 64; n++)
		names[n] = cli_commands[n]->name;
	return cli_suggest(name, names, n);
}
