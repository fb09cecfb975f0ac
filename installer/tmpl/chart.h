/*
 * tmpl/chart.h - Helm charts on disk: a directory or a .tgz, read into
 * memory once (Chart.yaml, values.yaml, values.schema.json, templates/,
 * crds/, every other file for .Files, subcharts in charts/ as directories
 * or .tgz). Loading does no rendering and no values logic: the values
 * module decides what is enabled and what .Values is (values_compute over
 * the values_chart tree this builds).
 */
#ifndef KSTAGE_TMPL_CHART_H
#define KSTAGE_TMPL_CHART_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "doc/doc.h"
#include "values/values.h"

typedef enum tmpl_file_kind {
	TMPL_FILE_OTHER = 0,   /* visible to .Files (crds/ included), as in Helm */
	TMPL_FILE_TEMPLATE,    /* templates/... */
	TMPL_FILE_META,        /* Chart.yaml, Chart.lock, values.yaml, values.schema.json,
				* requirements.yaml/.lock: not in .Files */
} tmpl_file_kind;

typedef struct tmpl_file {
	const char *name;   /* path inside the chart, '/'-separated: "templates/x.yaml" */
	tmpl_file_kind kind;
	const char *data;   /* NUL-terminated copy; len bytes */
	size_t len;
} tmpl_file;

typedef struct tmpl_chart tmpl_chart;
struct tmpl_chart {
	const char *name;          /* Chart.yaml name */
	const char *path;          /* where it was loaded from, for messages */
	const char *api_version;   /* "v1" or "v2" */
	doc_node *metadata;        /* Chart.yaml as loaded */
	tmpl_file *files;          /* every file, sorted by name */
	size_t nfiles;
	tmpl_chart **subcharts;    /* charts/, sorted by name */
	size_t nsubcharts;
	tmpl_chart *parent;
	values_chart vc;           /* the values view of this chart */
	doc_node *bundle;          /* a kstage bundle seen as a chart: .Bundle
				    * ({Name, Version, Description}); NULL for charts */
};

/* Load a chart from a directory or a .tgz/.tar.gz file. Limits: 5000 files,
 * 100 MiB uncompressed, 20 levels of subcharts; paths escaping the chart
 * are an error. num decides how values.yaml numbers are read. */
int tmpl_chart_load(tmpl_chart **out, karena *a, const char *path, values_num_mode num, kerr *err);
/* Load from an in-memory .tgz (for OCI pulls); name is for messages. */
int tmpl_chart_load_tgz(tmpl_chart **out, karena *a, const char *name, const void *data, size_t len,
			values_num_mode num, kerr *err);
/* A file of the chart by name, or NULL. */
const tmpl_file *tmpl_chart_file(const tmpl_chart *c, const char *name);

#endif
