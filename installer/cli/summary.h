/*
 * cli/summary.h - `--summary FILE` of plan and apply: a Markdown page for
 * CI job summaries and merge-request comments (checks, stages with their
 * result and time, changes per object, outputs, tests, the result and the
 * error). It listens to the run's events (masked as everything printed)
 * and writes the file once the run is over; the file is opened before the
 * run, so a path that cannot be written fails before anything changes.
 */
#ifndef KSTAGE_CLI_SUMMARY_H
#define KSTAGE_CLI_SUMMARY_H

#include <stdio.h>

#include "cli.h"
#include "release/release.h"

typedef struct cli_summary_row {
	const char *kind, *stage, *object, *action, *detail;
} cli_summary_row;

typedef struct cli_summary {
	cli_ctx *ctx;
	FILE *f;                  /* NULL: no --summary */
	const char *path;
	kev_sink sink;            /* what the run emits to: records, then forwards to inner */
	kev_sink inner;
	karena a;
	cli_summary_row *rows;
	size_t n, cap;
} cli_summary;

/* Open --summary FILE (path may be NULL: then s only forwards). Events
 * emitted to s->sink go on to inner. Returns 0, or EXIT_USAGE after saying
 * the file cannot be written. */
int cli_summary_open(cli_summary *s, cli_ctx *ctx, const char *path, const kev_sink *inner);
/* Write the page of a plan (p NULL when it failed) or an apply (sum),
 * what: "plan" or "apply"; rc and err the run's result; then close.
 * Returns 0, or EXIT_USAGE after saying the file could not be written. */
int cli_summary_finish(cli_summary *s, const char *what, const rel_bundle *b, const rel_plan *p,
		       const rel_summary *sum, int rc, const kerr *err);
void cli_summary_release(cli_summary *s);

#endif
