/*
 * tmpl/tmpl.h - Go text/template with Sprig and Helm functions, and Helm
 * chart rendering (what `helm template` prints).
 *
 * The language is Go's text/template, executed with Go's semantics (types,
 * comparisons, printf verbs, error messages). Data is doc_node trees
 * (doc/doc.h) living in the caller's arena; see tmpl_int.h for how Go types
 * map onto nodes. This module never prints: errors come back in a kerr as
 * data (see "Template errors" below), worded as Go or Helm words them by
 * tmpl_error_format() where they are printed. Known differences
 * from Helm, Go and Sprig are listed in tmpl/DIFFERENCES.md; the oracle
 * tests (tests/tmpl/diff_helm.py) hold the rest to helm's output.
 *
 * Limits: nesting of template/include/tpl 1000 deep (Helm's), control
 * structures and parentheses 1000 deep, output of one execution 100 MiB,
 * source of one template 64 MiB, 100 million steps, 2 GiB of values.
 */
#ifndef KSTAGE_TMPL_H
#define KSTAGE_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "doc/doc.h"
#include "values/values.h"

typedef struct tmpl_set tmpl_set;

/* A template set with every Go builtin, Sprig and Helm function (Helm's
 * include/tpl/required/lookup... work once render.c attached a chart; a
 * bare set gets offline defaults). Lives in arena a. */
tmpl_set *tmpl_set_new(karena *a);

/* ---- lookup ----
 * Helm's `lookup apiVersion kind namespace name` asks fn: *out gets the
 * object, a list with items (name ""), or an empty map when there is
 * none, in arena a (the template may change it). A nonzero return (err
 * set) fails the template: "error calling lookup: " and err's first
 * message, with err's code kept. A set without one (kstage template)
 * answers empty maps, as helm template does. */
typedef int (*tmpl_lookup_fn)(void *u, doc_node **out, karena *a, const char *api_version, const char *kind,
			      const char *ns, const char *name, kerr *err);
typedef struct tmpl_lookup {
	tmpl_lookup_fn fn;
	void *u;
} tmpl_lookup;

/* Let s's lookup ask l (borrowed; NULL: offline). */
void tmpl_set_lookup(tmpl_set *s, const tmpl_lookup *l);

/* ---- Template errors ----
 * A parse or execution error of a template is a kerr whose reason says its
 * kind and whose first item holds the location as fields: file is the
 * template's (parse) name, line and col where the fault is (col is Go's:
 * bytes from the start of the line, plus one; 0 for an execution error
 * that has no node), src_line the offending line, msg Go's words after
 * the location ("executing \"x\" at <.a>: ..." or "unexpected EOF"), also
 * kept as the cause TMPL_CAUSE_MESSAGE so context added by kerr_wrap()
 * stays apart. A Helm fail or required anywhere in the chain (include,
 * tpl) is a cause of type TMPL_CAUSE_FAIL holding its message. Other
 * errors of this module are plain text. */
#define TMPL_REASON_PARSE "TemplateParse"     /* Go: "template: file:line: msg" */
#define TMPL_REASON_HELM_PARSE "HelmParse"    /* a chart's: "parse error at (file:line): ..." */
#define TMPL_REASON_EXEC "TemplateExec"       /* "template: file:line:col: msg" */
#define TMPL_CAUSE_MESSAGE "TemplateMessage"
#define TMPL_CAUSE_FAIL "HelmFail"            /* "execution error at (file:line:col): message" */

/* e's errors as kerr_format() writes them, template errors in the words Go
 * or Helm prints (no caret: Helm shows none). */
void tmpl_error_format(const kerr *e, kbuf *out);
/* The first error, one line, as kerr_format_short() writes it, template
 * errors worded as in tmpl_error_format(). */
void tmpl_error_format_short(const kerr *e, kbuf *out);

/* Parse text as template `name` (defines inside it are added to the set;
 * a later definition replaces an earlier one unless it is empty, as Go).
 * Returns 0 or KE_INPUT with a template error (TMPL_REASON_PARSE). */
int tmpl_parse(tmpl_set *s, const char *name, const char *text, size_t len, kerr *err);

typedef struct tmpl_exec_opts {
	size_t max_output;   /* bytes; 0: 100 MiB */
	bool keep_no_value;  /* keep "<no value>" (plain Go); Helm removes it */
	bool strict;         /* missingkey=error */
	uint64_t max_steps;  /* function calls and loop iterations; 0: 100 million */
	size_t max_memory;   /* arena bytes used while executing; 0: 2 GiB */
} tmpl_exec_opts;

/* Execute template `name` with dot as data, appending to out. opts may be
 * NULL. Returns 0 or a negative code (KE_INPUT for template errors). */
int tmpl_exec(tmpl_set *s, const char *name, doc_node *dot, kbuf *out,
	      const tmpl_exec_opts *opts, kerr *err);

/* ---- Helm charts ---- */

struct tmpl_chart;

typedef struct tmpl_render_opts {
	const char *release_name;      /* default "release-name" */
	const char *namespace;         /* default "default" */
	const char *kube_version;      /* "v1.31.0" style; NULL: Helm's default */
	const char *const *api_versions; /* extra "group/version" or "group/version/Kind" */
	size_t napi_versions;
	bool is_upgrade;
	values_num_mode num;
	bool strict;                   /* missingkey=error (helm --strict lint) */
	bool no_fast_yaml;             /* read document heads with libyaml alone (tests) */
	const tmpl_lookup *lookup;     /* the live cluster for lookup, or NULL (offline) */
} tmpl_render_opts;

/* One rendered manifest document (or file), as helm template prints it. */
typedef struct tmpl_manifest {
	const char *source;    /* "chart/templates/x.yaml" */
	const char *content;   /* the document text, no leading "---" */
	size_t len;
	const char *kind;      /* from the document head, "" if none */
	const char *hook;      /* helm.sh/hook annotation or NULL */
	bool is_crd_file;      /* from crds/ */
} tmpl_manifest;

typedef struct tmpl_output {
	tmpl_manifest *docs;   /* manifests in Helm's install order */
	size_t ndocs;
	tmpl_manifest *hooks;  /* hook documents, in Helm's order */
	size_t nhooks;
	tmpl_manifest *crds;   /* crds/ files (all charts), for --include-crds */
	size_t ncrds;
	const char *notes;     /* rendered NOTES.txt of the top chart or NULL */
	const char **warnings; /* what Helm logs while sorting, in its words
				* ("skipping unknown hooks hookTypes=x"), arena */
	size_t nwarnings;
	char **bufs;           /* rendered text the documents point into (malloc'd) */
	size_t nbufs;
} tmpl_output;

/* Render a loaded chart whose values were computed (values_compute) into
 * out: every template of every enabled chart, split into documents and
 * sorted as Helm 4 does. Returns 0 or a negative code; either way release
 * out with tmpl_output_release(). */
int tmpl_render_chart(tmpl_output *out, karena *a, struct tmpl_chart *chart,
		      const tmpl_render_opts *o, kerr *err);

/* Free what tmpl_render_chart malloc'd (the rest lives in the arena). */
void tmpl_output_release(tmpl_output *out);

/* Helm 4's install order index of a kind; unknown kinds give a large value. */
int tmpl_kind_order(const char *kind);

/* The highest of versions[0..n) (semver, "v" prefix allowed; others
 * skipped) that meets the constraint cs (Masterminds/Helm syntax: "^1.2",
 * "~0.15", ">=1.0.0 <2.0.0", "1.2.x", "a || b"; prereleases only when the
 * constraint cs names one), as an index: -1 when none does, -2 when the
 * constraint does not parse. */
long tmpl_semver_pick(const char *cs, const char *const *versions, size_t n);
/* Sort manifests stably by install order (unknown kinds last, by kind name). */
void tmpl_sort_manifests(tmpl_manifest *m, size_t n);

/* Split a rendered file into documents (Helm's "---" separator rules),
 * dropping empty ones. Appends to *docs (arena array). */
int tmpl_split_docs(karena *a, const char *source, const char *text, size_t len,
		    tmpl_manifest **docs, size_t *ndocs, size_t *cap);

#endif
