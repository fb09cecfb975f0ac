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
#include "release/release.h"
#include "values/values.h"

/* Put this inside a command's cli_flag table. */
/* helm upgrade's flags for where the values start (cli_values_mode). */
#define CLI_REUSE_FLAGS \
	{ "reuse-values", 0, FLAG_BOOL, NULL, "a chart: merge this run's values over those of the deployed revision" }, \
	{ "reset-then-reuse-values", 0, FLAG_BOOL, NULL, "as --reuse-values (the chart's own defaults apply)" }, \
	{ "reset-values", 0, FLAG_BOOL, NULL, "only this run's values over the chart's (the default; wins over both)" }

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
	{ "plain-http", 0, FLAG_BOOL, NULL, "accept http:// values files (read in clear, open to tampering)" }, \
	{ "version", 0, FLAG_STR, "VERSION", "the chart version of an oci://HOST/REPO CHART (as helm's --version)" }

/* Fill o from the parsed flags (pointers into args; the flags array and
 * the URL reader's options are allocated: release with
 * cli_values_flags_release). URL sources are read through fetch/. def_num is the number
 * mode when --numbers is not given. Returns 0, or EXIT_USAGE after saying
 * what is wrong. */
int cli_read_values_flags(cli_ctx *ctx, const cli_args *args, values_num_mode def_num, values_opts *o);
void cli_values_flags_release(values_opts *o);
/* The mode of CLI_REUSE_FLAGS, with Helm's precedence: --reset-values over
 * --reuse-values over --reset-then-reuse-values. */
rel_values_mode cli_values_mode(const cli_args *args);

/* A file named on the command line (flag is "-f", "--kubeconfig"...) must
 * exist and not be a directory; "-" and https:// URLs pass. Returns 0, or
 * EXIT_USAGE after saying what is wrong. */
int cli_check_input_file(cli_ctx *ctx, const char *flag, const char *path);

/* What plan and apply (cmd) set up alike: the BUNDLE argument, the values flags,
 * kubeconfig, --stage and --force-conflicts, then the session (bundle and
 * values first, then the client; events to sink, which must outlive the
 * session). Returns 0, or an exit code after printing the error (nothing
 * is left to release then). Close with cli_session_close. */
int cli_session_open(cli_ctx *ctx, const char *cmd, const cli_args *args, const kev_sink *sink, rel_session *s, values_opts *vo);
void cli_session_close(rel_session *s, values_opts *vo);

typedef enum cli_source { CLI_SRC_BUNDLE, CLI_SRC_CHART } cli_source;
/* A directory with kstage.yaml (and no Chart.yaml) is a bundle; a directory
 * with Chart.yaml or a .tgz/.tar.gz file is a chart. Returns 0, or
 * EXIT_USAGE after saying what is wrong. */
int cli_source_kind(cli_ctx *ctx, const char *path, cli_source *out);

#endif
