/*
 * cli/render_args.h - what every rendering command (template, values, plan,
 * apply) takes alike: the values flags, turned into values_opts in one
 * place, and the BUNDLE|CHART argument, told apart in one place, so the
 * commands cannot drift apart.
 */
#ifndef KSTAGE_CLI_RENDER_ARGS_H
#define KSTAGE_CLI_RENDER_ARGS_H

#include <stdbool.h>

#include "cli.h"
#include "values/values.h"

/* Put this inside a command's cli_flag table. */
#define CLI_VALUES_FLAGS \
	{ "values", 'f', FLAG_LIST, "FILE", "values file (a path, - for stdin, or an https:// URL)" }, \
	{ "set", 0, FLAG_LIST, "K=V", "set values (a.b=c,d={x,y},e[0]=f)" }, \
	{ "set-string", 0, FLAG_LIST, "K=V", "set values, always as strings" }, \
	{ "set-file", 0, FLAG_LIST, "K=PATH", "set a value to the content of a file" }, \
	{ "set-json", 0, FLAG_LIST, "K=JSON", "set values from JSON" }, \
	{ "set-literal", 0, FLAG_LIST, "K=V", "set one value verbatim (no escapes, commas or lists)" }, \
	{ "set-secret", 0, FLAG_LIST, "K=V", "as --set, and the value is masked in all output" }, \
	{ "numbers", 0, FLAG_STR, "helm|exact", "helm: values-file numbers are float64 (charts' default); " \
						"exact: integers stay exact (bundles' default)" }, \
	{ "ca-file", 0, FLAG_STR, "FILE", "CA bundle for https:// values files" }, \
	{ "plain-http", 0, FLAG_BOOL, NULL, "accept http:// values files (read in clear, open to tampering)" }

/* Fill o from the parsed flags (pointers into args; the flags array and
 * the URL reader's options are allocated: release with
 * cli_values_flags_release). URL sources are read through fetch/. def_num is the number
 * mode when --numbers is not given. Returns 0, or EXIT_USAGE after saying
 * what is wrong. */
int cli_read_values_flags(cli_ctx *ctx, const cli_args *args, values_num_mode def_num, values_opts *o);
void cli_values_flags_release(values_opts *o);

typedef enum cli_source { CLI_SRC_BUNDLE, CLI_SRC_CHART } cli_source;
/* A directory with kstage.yaml (and no Chart.yaml) is a bundle; a directory
 * with Chart.yaml or a .tgz/.tar.gz file is a chart. Returns 0, or
 * EXIT_USAGE after saying what is wrong. */
int cli_source_kind(cli_ctx *ctx, const char *path, cli_source *out);

#endif
