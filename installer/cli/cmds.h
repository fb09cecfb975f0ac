/*
 * cli/cmds.h - every command's definition, one per file (cmd_NAME.c
 * defines cli_cmd_NAME with its flags, usage and run function).
 */
#ifndef KSTAGE_CLI_CMDS_H
#define KSTAGE_CLI_CMDS_H

#include "cli.h"

extern const cli_cmd cli_cmd_template;
extern const cli_cmd cli_cmd_values;
extern const cli_cmd cli_cmd_plan;
extern const cli_cmd cli_cmd_apply;
extern const cli_cmd cli_cmd_rollback;
extern const cli_cmd cli_cmd_history;
extern const cli_cmd cli_cmd_status;
extern const cli_cmd cli_cmd_uninstall;
extern const cli_cmd cli_cmd_fetch;
extern const cli_cmd cli_cmd_bundle;
extern const cli_cmd cli_cmd_verify;
extern const cli_cmd cli_cmd_version;
extern const cli_cmd cli_cmd_help;

/* For commands whose issue has not landed yet: says so, exit 2. */
int cli_not_built(cli_ctx *ctx, const char *command);

#endif
