/*
 * release/release.h - bundles and their stage plan, rendering a stage into
 * objects, and the stage executor behind `kstage plan` and `kstage apply`.
 *
 * A bundle is a directory with kstage.yaml (stages), templates/ and
 * values/; a Helm chart (directory or .tgz) is a bundle of two implicit
 * stages: its crds/, then what its templates render. The executor applies
 * stages in order, waits for each to be healthy, and reports through kev
 * events; the plan runs a server-side dry-run per object and returns diffs.
 * The actions behind `template` and `values` live here too (action.c), so
 * every command is: parse flags, call one action, print. This module never
 * prints (cli/ does).
 *
 * A release run (run.c) wraps apply in a release record: the Lease, a
 * pending revision, a write-ahead journal of every stage's prior state
 * (written before the stage changes anything), and on failure a rollback
 * from that journal.
 */
#ifndef KSTAGE_RELEASE_H
#define KSTAGE_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "doc/doc.h"
#include "fetch/fetch.h"
#include "kube/kube.h"
#include "release/lock.h"
#include "release/record.h"
#include "release/store.h"
#include "tmpl/tmpl.h"
#include "values/values.h"

typedef enum rel_op_type { REL_OP_JSON_KEY_MERGE, REL_OP_ROLLOUT_RESTART } rel_op_type;

typedef struct rel_op {
	rel_op_type type;
	const char *ns, *name;      /* the object: "ns/name" in the file */
	const char *kind;           /* rolloutRestart: deployment|statefulset|daemonset */
	const char *key;            /* jsonKeyMerge */
	doc_node *set;              /* jsonKeyMerge: top-level keys to set (may hold templates) */
	const doc_node *node;       /* for positions */
} rel_op;

typedef enum rel_src { REL_SRC_NONE, REL_SRC_URL, REL_SRC_PATH, REL_SRC_TEMPLATES, REL_SRC_CHART,
		       REL_SRC_CHART_CRDS } rel_src;

typedef struct rel_stage {
	const char *name;
	const doc_node *node;       /* the stage in kstage.yaml */
	rel_src src;
	const char *url, *sha256;   /* source: {url, sha256}; sha256 from kstage.lock when omitted */
	const char *pin_at;         /* where sha256 comes from ("kstage.lock:7"), once pinned */
	size_t size;                /* the size kstage.lock gives, or 0 */
	const char *path;           /* source: {path} or chart: {path}, relative to the bundle */
	const char **templates;     /* templates: [...] under templates/ */
	size_t ntemplates;
	doc_node *enabled;          /* NULL (on), a bool, or a template string */
	bool wait;                  /* false with wait: false */
	kube_wait_rule *rules;
	size_t nrules;
	long timeout_ms;            /* 0: the run's default */
	rel_op *ops;
	size_t nops;
	const char *rollback;       /* "keep" or NULL */
	const char *namespace;      /* default namespace of the stage's objects, or NULL */
	const doc_node *test;       /* test: {...} (run by a later version; skipped with a warning) */
} rel_stage;

struct tmpl_chart;

typedef struct rel_bundle {
	const char *dir;            /* bundle root */
	const char *file;           /* kstage.yaml path, or the chart path */
	const char *name, *version, *description;
	rel_stage *stages;
	size_t nstages;
	bool is_chart;
	struct tmpl_chart *chart;   /* charts only */
	doc_node *defaults;         /* values/values.yaml or NULL */
	doc_node *schema;           /* values/values.schema.json or NULL */
} rel_bundle;

/* Load a bundle directory (kstage.yaml), a kstage.yaml file, or a Helm
 * chart directory/.tgz. Every problem in kstage.yaml is reported with
 * file:line:col (up to KERR_MAX_LIST). Returns 0 or KE_INPUT. */
int rel_bundle_load(rel_bundle *out, karena *a, const char *path, kerr *err);
/* As rel_bundle_load; pin false leaves url sources as kstage.yaml gives
 * them (for `kstage fetch --update-lock`), true pins them by the lock. */
int rel_bundle_load_opts(rel_bundle *out, karena *a, const char *path, bool pin, kerr *err);

/* ---- sources (release/sources.c) ---- */

/* Pin every url source by kstage.lock beside kstage.yaml: a source with
 * no sha256 in kstage.yaml takes the lock's; one with both must agree.
 * Refuses (KE_INPUT, with file:line:col) an unpinned source and a
 * kstage.yaml digest that disagrees with its lock line, naming both. */
int rel_bundle_pin(rel_bundle *b, karena *a, kerr *err);

typedef struct rel_fetch_report {
	size_t sources;             /* url sources fetched and verified */
	bool lock_written;
} rel_fetch_report;

/* Fetch and verify every url source of b into the cache (enabled or not,
 * so a run never finds a bad source halfway). update_lock resolves each
 * (downloads it, keeping a kstage.yaml sha256 as a pin) and writes
 * kstage.lock atomically; b must then be loaded unpinned. */
int rel_fetch(const rel_bundle *b, const fetch_opts *fo, bool update_lock, rel_fetch_report *rep, kerr *err);
/* Parse a stage file from text (tests; dir is where relative paths point). */
int rel_bundle_parse(rel_bundle *out, karena *a, const char *dir, const char *name, const char *text,
		     size_t len, kerr *err);
/* The bundle as a chart (release/bundle_chart.c): templates/ as its
 * templates, values/values.yaml and values.schema.json as its values, name,
 * version and description as its metadata and as .Bundle. A chart bundle
 * gives its chart. What `template`, `values` and `apply` all render from. */
int rel_bundle_chart(struct tmpl_chart **out, karena *a, const rel_bundle *b, values_num_mode num, kerr *err);
/* {Name, Version, Description} of the bundle, as templates see .Bundle. */
doc_node *rel_bundle_meta(karena *a, const rel_bundle *b);

/* The real path of path (relative to the bundle, or absolute; symlinks
 * resolved) into out. KE_INPUT when it does not exist or lies outside the
 * bundle directory. */
int rel_bundle_resolve(kbuf *out, const rel_bundle *b, const char *path, kerr *err);

/* Parse a Go duration ("5m", "1h30m", "90s", "500ms") into ms; -1 if bad. */
long rel_parse_duration(const char *s);

/* What apply journals into (set up by rel_release_apply): the pending
 * record, its store and the Lease renewed at every write. */
typedef struct rel_journal {
	karena *a;                  /* the record's arena */
	rel_record *rec;
	rel_store *store;
	rel_lock *lock;             /* or NULL */
	int64_t renewed_ms;         /* when the Lease was last taken or renewed (unix ms) */
	bool stored;                /* rec is in the store (else the first write creates it) */
} rel_journal;

/* Renew the Lease (when held and a third of its duration has passed since
 * it was last renewed), then write the record: create it the first time
 * (apply writes it first before the first stage that changes anything),
 * then update it. */
int rel_journal_save(rel_journal *j, kerr *err);

/* What a run needs besides the bundle. */
typedef struct rel_ctx {
	kube_client *client;        /* NULL for rendering only */
	doc_node *values;           /* the computed values (.Values), a DOC_MAP */
	const char *namespace;      /* default namespace (-n, kubeconfig) */
	const char *release_name;   /* for templates and charts */
	const kev_sink *sink;
	const fetch_opts *fetch;    /* how url sources are fetched; NULL: the defaults */
	long timeout_ms;            /* per stage when the stage sets none; 0: 5 minutes */
	bool force;                 /* --force-conflicts */
	size_t concurrency;         /* objects of one kind in flight; 0: 32 */
	const char *const *only;    /* --stage filters (names), or NULL */
	size_t nonly;
	bool color;                 /* plan diffs */
	rel_journal *journal;       /* apply: journal each stage before it changes anything, or NULL */
} rel_ctx;

/* The values of a bundle run: user files and flags over the bundle's
 * defaults, validated against its schema. The secret ones (--set-secret,
 * marked in a schema) are added to secrets (may be NULL) before the schema
 * is checked, so that no error shows them. */
int rel_values(doc_node **out, karena *a, const rel_bundle *b, const values_opts *vo, kredact *secrets,
	       kerr *err);

/* Render a stage into its objects (unresolved, in file order), and say
 * whether it is enabled. */
int rel_stage_render(kube_obj **objs, size_t *n, bool *enabled, karena *a, const rel_bundle *b,
		     const rel_stage *s, const rel_ctx *ctx, kerr *err);
/* Render one template string with .Values (for `enabled` and op values). */
int rel_render_string(kbuf *out, karena *a, const rel_bundle *b, const char *name, const char *text,
		      const rel_ctx *ctx, kerr *err);

/* ---- apply ---- */

typedef struct rel_summary {
	size_t stages_done, stages_skipped;
	size_t created, applied, unchanged, ops_changed, ops_unchanged;
	const char *failed_stage;   /* name, or NULL */
} rel_summary;

/* The --stage names (ctx->only) must all be stages of b: KE_USAGE naming
 * the stages otherwise. */
int rel_check_stages(const rel_bundle *b, const rel_ctx *ctx, kerr *err);

/* Apply every enabled stage in order: render, resolve, apply (one kind
 * group at a time, its objects in parallel), wait, run ops. Stops at the
 * first failure with the context "stage NAME: ...". */
int rel_apply(const rel_bundle *b, const rel_ctx *ctx, rel_summary *sum, kerr *err);

/* ---- release runs (run.c) ---- */

#define REL_ROLLBACK_MANAGER "kstage-rollback"

typedef struct rel_run_opts {
	const char *release;        /* NULL: the bundle's (or chart's) name */
	rel_store *store;           /* where records live (borrowed) */
	const char *lock_ns;        /* namespace of the Lease; NULL: kstage-system */
	long wait_for_lock_ms;      /* 0: fail at once when another run holds the Lease */
	size_t history_max;         /* revisions kept; 0: no limit */
	bool no_rollback;           /* keep the partial state of a failed run */
	long rollback_timeout_ms;   /* for deletions to finish; 0: 2 minutes */
	bool uninstall;             /* rel_release_rollback: undo every revision (kstage uninstall) */
	bool delete_crds;           /* a rollback deletes CRDs too (policy keep does not hold them) */
} rel_run_opts;

typedef struct rel_rollback_report {
	size_t restored, deleted, kept, unchanged;
	kbuf left;                  /* "Kind/ns/name: why" per line: not put back */
	kbuf kept_list;             /* "Kind/ns/name" per line: left by policy keep */
} rel_rollback_report;

void rel_rollback_report_release(rel_rollback_report *r);

typedef struct rel_run_result {
	const char *release;        /* in the caller's arena */
	int revision;               /* the record written; 0: none */
	bool failed;                /* the apply failed (err holds why) */
	bool changed;               /* something was sent before the failure */
	bool rolled_back;           /* failed and everything was put back */
	bool took_over;             /* an expired Lease was taken over */
	const char *prev_holder;
	rel_summary sum;
	rel_rollback_report rb;
} rel_run_result;

/* kstage apply with a release record: take the Lease (KE_CONFLICT naming
 * the holder), refuse when the latest revision is pending, write revision
 * latest+1 as pending, apply with the journal, then mark it deployed (the
 * previous deployed one superseded) or, on failure, roll back from the
 * journal (unless no_rollback) and mark it rolled-back or failed; prune
 * and give the Lease up. On a failed apply err holds the stage's error and
 * the return is that error's code, or KE_ROLLBACK when the rollback is
 * incomplete or was not asked for after changes. Release res->rb.
 * The client's stop flag (a signal) stops the apply at its next safe point
 * (before a kind group or op, or within a wait) as a stage failure, and the
 * rollback then runs to its end regardless of the flag. While a stage
 * waits, the Lease is renewed every third of its duration. */
int rel_release_apply(const rel_bundle *b, rel_ctx *ctx, const rel_run_opts *o, rel_run_result *res, karena *a,
		      kerr *err);

/* Put back what the journal of rec says: every started stage in reverse,
 * each object once (its earliest prior state); objects that were absent
 * deleted and waited for until gone, objects that existed replaced by
 * their prior content with their prior managedFields (workloads last, so
 * a rolloutRestart's Deployment restarts after its config is back);
 * policy keep left in place. 0 when complete, KE_ROLLBACK with rep->left
 * otherwise. */
int rel_rollback_journal(kube_client *c, karena *a, const rel_record *rec, const rel_run_opts *o,
			 rel_rollback_report *rep, kerr *err);

/* kstage rollback --recover: the latest revision must be pending (a killed
 * run); take the Lease, roll back from its journal, mark it rolled-back
 * (or failed when incomplete). *rev gets the revision. */
int rel_release_recover(kube_client *c, karena *a, const char *release, const rel_run_opts *o, int *rev,
			rel_rollback_report *rep, kerr *err);

/* kstage rollback RELEASE [REVISION]: undo, newest first and each from
 * its journal, every revision after target that is still in effect, so
 * the cluster is as target left it; target 0: the previous successful
 * revision. The undone ones are marked rolled-back, target deployed.
 * With o->uninstall every revision is undone (target ignored) and marked
 * uninstalled: what the release created is deleted, what existed before
 * its first revision (a foreign ConfigMap it only patched) gets back its
 * state from before that revision; CRDs stay unless o->delete_crds.
 * Refuses (before changing anything) a pending latest revision, a target
 * that did not succeed, and records that were pruned. */
int rel_release_rollback(kube_client *c, karena *a, const char *release, int target, const rel_run_opts *o,
			 int *to, rel_rollback_report *rep, kerr *err);

/* ---- plan ---- */

typedef enum rel_action { REL_UNCHANGED, REL_CHANGED, REL_CREATED, REL_CREATED_LATER } rel_action;

typedef struct rel_plan_entry {
	const char *stage;
	const char *ref;            /* Kind/ns/name */
	rel_action action;
	const char *after_stage;    /* REL_CREATED_LATER: the stage whose CRD brings the kind */
	const char *note;           /* e.g. a field conflict, or NULL */
	const char *diff;           /* unified diff (may be coloured), or NULL */
} rel_plan_entry;

typedef struct rel_plan {
	rel_plan_entry *v;
	size_t len, cap;
	size_t created, changed, unchanged;
} rel_plan;

/* Server-side dry-run of every object of every enabled stage and a diff
 * against the live object. Entries live in a. */
int rel_plan_run(rel_plan *out, karena *a, const rel_bundle *b, const rel_ctx *ctx, kerr *err);

/* ---- actions: what `template` and `values` do (release/action.c) ---- */

typedef struct rel_template_opts {
	const char *path;           /* the chart (directory or .tgz) or bundle */
	bool bundle;                /* path is a bundle */
	const char *name;           /* release name; NULL: "release-name" */
	const char *name_template;  /* Helm's --name-template, or NULL */
	const char *namespace;      /* NULL: "default" */
	const char *kube_version;   /* NULL: Helm's default */
	const char *const *api_versions;
	size_t napi_versions;
	bool is_upgrade, skip_schema, include_crds, skip_tests, no_hooks;
	const char *const *show_only;   /* globs over "templates/x.yaml"; none: every document */
	size_t nshow_only;
	const values_opts *values;  /* may be NULL; its num is the number mode */
	kredact *secrets;           /* gets the secret values (schema marks, --set-secret); may be NULL */
} rel_template_opts;

typedef struct rel_template_result {
	karena a;                   /* everything below lives here or in out */
	tmpl_output out;
	const char *name;           /* the release name used */
	tmpl_manifest *docs;        /* in print order, narrowed to show_only (xmalloc'd) */
	size_t ndocs;
} rel_template_result;

/* Render a chart or bundle as `helm template` does: the release name
 * (checked as Helm checks it), the user's values over the defaults
 * (schemas unless skip_schema), every template, then the documents in
 * print order. KE_USAGE for a bad name or a --show-only that matches
 * nothing. Release r with rel_template_result_release, also on failure. */
int rel_template(rel_template_result *r, const rel_template_opts *o, kerr *err);
void rel_template_result_release(rel_template_result *r);
/* m is one of the charts' crds/ files. */
bool rel_template_is_crd(const rel_template_result *r, const tmpl_manifest *m);

/* The values a run uses, secrets masked: the user's values alone (path
 * NULL) or coalesced over a bundle's or chart's defaults and checked
 * against their schemas. *out lives in a. The secret values go to secrets
 * (may be NULL), before the schemas are checked. */
int rel_values_show(doc_node **out, karena *a, const char *path, bool bundle, const values_opts *vo,
		    kredact *secrets, kerr *err);

/* ---- a run: kubeconfig, client, bundle and values together ---- */

typedef struct rel_session {
	karena a;                   /* bundle, values, plan entries */
	kube_config cfg;
	kube_client *client;
	rel_bundle bundle;
	doc_node *values;
	rel_ctx ctx;
} rel_session;

typedef struct rel_session_opts {
	const char *bundle;         /* path; NULL: "." */
	kube_config_opts kube;
	const values_opts *values;  /* may be NULL */
	bool values_num_explicit;   /* values->num was asked for (--numbers): keep it */
	bool wait_poll;             /* wait by polling, never watching (the test switch KSTAGE_WAIT_POLL) */
	const kev_sink *sink;
	const fetch_opts *fetch;    /* NULL: the defaults */
} rel_session_opts;

/* Load the bundle and values (input errors first, before any network),
 * then the kubeconfig and a client. Fills s->ctx with the defaults. */
int rel_session_open(rel_session *s, const rel_session_opts *o, kerr *err);
void rel_session_close(rel_session *s);

#endif
