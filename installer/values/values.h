/*
 * values/values.h - the values a run uses: files and --set flags merged
 * with Helm's rules, coalesced over chart/bundle defaults (subcharts and
 * globals included), validated against JSON Schema, secrets masked.
 *
 * Module contract (other modules code against this; the values module owns
 * the semantics):
 *  - Helm's precedence: -f files left to right, then --set-json, --set,
 *    --set-string, --set-file, --set-literal (each kind in command-line
 *    order), coalesced over the chart's values.yaml. Maps merge deeply,
 *    lists and scalars replace, null deletes a default key at every depth.
 *  - Numbers: VALUES_NUM_HELM reads every number from a file as float64 and
 *    --set integers as int64 (what Helm charts are written against);
 *    VALUES_NUM_EXACT keeps integers exact (kstage bundles).
 *  - A chart tree (values_chart) is plain data filled by whoever loads charts
 *    (tmpl/chart.c): this module decides which subcharts are enabled
 *    (conditions, tags, aliases) and computes each chart's values.
 *  - Never prints. Errors name the file:line:col or the --set argument (with
 *    a caret under the offending character).
 * All nodes are allocated in the caller's arena.
 */
#ifndef KSTAGE_VALUES_H
#define KSTAGE_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/redact.h"
#include "doc/doc.h"

typedef enum values_num_mode {
	VALUES_NUM_EXACT = 0,   /* kstage bundles: integers stay int64 */
	VALUES_NUM_HELM,        /* Helm charts: file numbers are float64 */
} values_num_mode;

typedef enum values_flag_kind {
	VALUES_SET = 0,        /* --set a.b=c,d=e */
	VALUES_SET_STRING,     /* --set-string: never converts */
	VALUES_SET_FILE,       /* --set-file key=path: the file's content as a string */
	VALUES_SET_JSON,       /* --set-json key=<json> */
	VALUES_SET_LITERAL,    /* --set-literal key=value, value taken verbatim */
	VALUES_SET_SECRET,     /* --set-secret: as --set, and the key is masked */
} values_flag_kind;

typedef struct values_flag {
	values_flag_kind kind;
	const char *arg;
} values_flag;

/* Reads an http(s):// values source (-f URL, --set-file URL) into out.
 * Values never fetch anything themselves: the layer above hands them a
 * reader (fetch_read_url over fetch/'s HTTP client), or none, and then a
 * URL is refused. */
typedef struct values_url_reader {
	int (*read)(void *ctx, const char *url, kbuf *out, kerr *err);
	void *ctx;
} values_url_reader;

typedef struct values_opts {
	const char *const *files;   /* -f/--values: path, "-" (stdin) or https:// URL */
	size_t nfiles;
	const values_flag *flags;   /* in command-line order */
	size_t nflags;
	values_num_mode num;
	values_url_reader url;      /* reads URL sources; {NULL}: URLs refused */
} values_opts;

/* The user's values: files and flags merged with Helm's precedence (not yet
 * coalesced over defaults). *out is a DOC_MAP. secret_paths, if not NULL,
 * receives a DOC_SEQ of dotted paths set with --set-secret. */
int values_read_user(doc_node **out, doc_node **secret_paths, karena *a,
		     const values_opts *o, kerr *err);

/* Parse one --set style argument into dst (a DOC_MAP), Helm strvals rules. */
int values_parse_set(doc_node *dst, karena *a, values_flag_kind kind, const char *arg,
		     values_num_mode num, kerr *err);

/* A values file (or a chart's values.yaml) as Helm 4 reads it: the text is
 * cut at lines that start with "---" (only blanks or a comment may follow),
 * each part decoded on its own (its first document, as go-yaml does) must be
 * a map or empty, and later parts merge over earlier ones (mergeMaps). *out
 * is a DOC_MAP, never NULL. what names the file in the "must be a map" error
 * ("a values file"). */
int values_load_yaml(doc_node **out, karena *a, const char *name, const char *text, size_t len,
		     doc_dup_mode dup, const char *what, kerr *err);

/* Helm's coalesce: values from src fill in what dst lacks, recursively;
 * a null in dst deletes that key. dst is changed in place and returned. */
doc_node *values_coalesce(karena *a, doc_node *dst, const doc_node *defaults);
/* Deep merge (Helm's mergeMaps for -f files): src over dst, maps merge,
 * everything else replaces. */
doc_node *values_merge(karena *a, doc_node *dst, const doc_node *src);
/* Turn every integer into a float64, as Helm's JSON round trip does. */
void values_helm_numbers(doc_node *n);

/* A chart as values see it: filled by the chart loader. */
typedef struct values_dep {
	const char *name;        /* Chart.yaml dependencies[].name */
	const char *alias;       /* or NULL */
	const char *condition;   /* "a.enabled,b.enabled" or NULL */
	const char *const *tags; /* may be NULL */
	size_t ntags;
	const char *const *import_values; /* string entries of import-values */
	size_t nimport;
	const doc_node *raw;     /* the whole dependencies[] entry (map forms of
				  * import-values, version, repository) */
} values_dep;

typedef struct values_chart values_chart;
struct values_chart {
	const char *name;           /* Chart.yaml name */
	const char *file;           /* for messages: "mychart/values.yaml" */
	doc_node *defaults;         /* values.yaml (DOC_MAP) */
	doc_node *schema;           /* values.schema.json or NULL */
	values_dep *deps;           /* Chart.yaml dependencies */
	size_t ndeps;
	values_chart **subcharts;   /* charts/ entries */
	size_t nsubcharts;
	/* outputs of values_compute: */
	bool enabled;
	const char *effective_name; /* alias or name */
	doc_node *values;           /* the chart's computed values (.Values) */
	values_chart **aliased;     /* same array as effective (kept for older callers) */
	/* The subcharts in effect, in Helm's order: charts/ entries not named in
	 * dependencies, then one per dependencies[] entry (an alias gets a deep
	 * copy of the loaded chart's tree, with origin set). NULL-terminated;
	 * check ->enabled: disabled ones stay listed. */
	values_chart **effective;
	size_t neffective;
	values_chart *origin;       /* alias copy: the loaded chart it copies; else NULL */
	doc_node *eff_defaults;     /* defaults after import-values (NULL: defaults) */
	doc_node *warnings;         /* the root's: what Helm warns of (strings: a
				     * non-bool condition, a table over a value) */
};

/* Decide enabled subcharts (conditions, tags, aliases), coalesce user values
 * over every chart's defaults with globals copied down, and validate each
 * chart's values against its schema (every violation reported). Sets
 * enabled, effective_name and values on the tree. */
int values_compute(values_chart *root, doc_node *user, karena *a, values_num_mode num, kerr *err);

/* Validate instance against a JSON Schema (draft-07 or 2020-12). The
 * schema is first checked against its draft's meta-schema (an invalid one
 * is refused, located in the schema where its nodes have positions). Every
 * violation is added to err with its JSON path and the instance's
 * file:line:col; a location never shows a value the schema marks secret
 * (a --set argument that sets one is cut before its values). A reference
 * that does not resolve is KE_INPUT, a depth, step or regex budget run out
 * KE_LIMIT, wherever it happens (anyOf/oneOf/not probes included). Returns
 * 0, KE_INPUT or KE_LIMIT, and 0 only when no error was added. */
int values_validate(const doc_node *schema, const doc_node *instance, const char *what, kerr *err);

/* Options for values_validate_opts (the test suite and future callers). */
typedef enum values_format_mode {
	VALUES_FORMAT_DEFAULT = 0, /* assert formats in draft-07, annotate only in 2020-12 */
	VALUES_FORMAT_ASSERT,
	VALUES_FORMAT_IGNORE,
} values_format_mode;

/* Load the schema document at uri (no fragment) into *out (arena a).
 * Returns 0, or non-zero when it cannot. Never called for the embedded
 * meta-schemas (draft-07, 2020-12). */
typedef int (*values_schema_loader)(void *ctx, const char *uri, karena *a, doc_node **out);

typedef struct values_schema_opts {
	int draft;                  /* 7 or 2020 when the schema has no $schema; 0: 2020-12 */
	values_format_mode format;
	values_schema_loader load;  /* NULL: only local and embedded references */
	void *load_ctx;
} values_schema_opts;

/* values_validate with options (o may be NULL). */
int values_validate_opts(const doc_node *schema, const doc_node *instance, const char *what,
			 const values_schema_opts *o, kerr *err);

/* A copy of root->values with secrets masked: each enabled chart's schema
 * applies to its own part of the tree (subcharts under their name), and
 * secret_paths (may be NULL) to the whole. */
doc_node *values_chart_mask(karena *a, const values_chart *root, const doc_node *secret_paths);

/* A copy of vals with secret values replaced by "<redacted>": those marked
 * "x-kstage-secret": true in schema (may be NULL) and those at secret_paths
 * (may be NULL). */
doc_node *values_mask_secrets(karena *a, const doc_node *vals, const doc_node *schema,
			      const doc_node *secret_paths);
/* Add to r (may be NULL) every scalar of vals that values_chart_mask would
 * hide: what root's and its enabled subcharts' schemas mark secret (root may
 * be NULL) and what sits at secret_paths (may be NULL). vals may be the
 * user's values before values_compute (so that schema errors on them are
 * masked too) or root->values after it. A hidden map or list adds each of
 * its scalars; numbers and booleans as they print. */
void values_secrets(kredact *r, const values_chart *root, const doc_node *vals, const doc_node *secret_paths);

#endif
