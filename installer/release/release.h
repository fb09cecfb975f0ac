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
	const char *ref_tmpl;       /* that "ns/name" when it is a template (rel_op_target), else NULL */
	const char *kind;           /* rolloutRestart: deployment|statefulset|daemonset */
	bool always;                /* rolloutRestart when: always (else only when the stage changed something) */
	const char *key;            /* jsonKeyMerge */
	doc_node *set;              /* jsonKeyMerge: top-level keys to set (may hold templates) */
	const doc_node *node;       /* for positions */
} rel_op;

/* A jsonKeyMerge set value {json: TEMPLATE}: its template string, else
 * NULL (a plain value). */
const doc_node *rel_op_typed(const doc_node *v);

/* checks: one check of a checks stage. */
typedef struct rel_check {
	const char *name;           /* NULL for permissions */
	const doc_node *fail;       /* template: non-blank output is the problem */
	const doc_node *info;       /* template shown when it passes, or NULL */
	bool permissions;           /* permissions: true */
	const doc_node *node;
} rel_check;

/* outputs: one key and its template. */
typedef struct rel_output {
	const char *key;
	const doc_node *tmpl;       /* a string (template) */
} rel_output;

/* One expected JSON value of a test's reply. */
typedef struct rel_expect {
	const char *path;           /* dotted, list items by index: "outputs.0.datatype" */
	const doc_node *value;
	const doc_node *node;
} rel_expect;

/* test: one HTTP request after the stage is healthy, its reply checked. */
typedef struct rel_test {
	const char *url;            /* template */
	const char *method;         /* GET, or POST when a body is given */
	const char *host;           /* template, or NULL */
	const doc_node *headers;    /* map of name to template, or NULL */
	const doc_node *body;       /* string template, or a map/list sent as JSON, or NULL */
	long status;                /* 200 unless given */
	rel_expect *json;
	size_t njson;
	int attempts;               /* 1 unless given */
	long interval_ms;           /* between attempts; 2 s unless given */
	const doc_node *cleanup;    /* NULL (keep), a bool or a template */
	const doc_node *node;
} rel_test;

typedef enum rel_src { REL_SRC_NONE, REL_SRC_URL, REL_SRC_PATH, REL_SRC_TEMPLATES, REL_SRC_CHART,
		       REL_SRC_CHART_CRDS, REL_SRC_GIT } rel_src;

typedef struct rel_stage {
	const char *name;
	const doc_node *node;       /* the stage in kstage.yaml */
	rel_src src;
	const char *url, *sha256;   /* source: {url, sha256}; sha256 from kstage.lock when omitted.
				     * A chart from OCI: url is its lock key (oci://HOST/REPO:VERSION),
				     * sha256 its manifest digest */
	const char *ref, *version;  /* chart: {ref: oci://HOST/REPO, version: V} */
	const char *git, *git_ref, *git_path; /* source|chart: {git: URL, ref: R, path: P} */
	const char *commit;         /* a git source's commit, from kstage.lock */
	const doc_node *chart_values; /* chart: {values: {...}}: the chart's values in place of the
				       * bundle's (string leaves may be templates), or NULL */
	const char **chart_files;   /* chart: {files: [GLOB...]}: these files of the chart applied
				     * as they are (no rendering), or NULL */
	size_t nchart_files;
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
	bool pin_optional;          /* pin: optional: its remote source may be missing from
	                             * kstage.lock; unpinned, it is not fetched, and the
	                             * preflight refuses the run when the stage is enabled */
	const char *namespace;      /* default namespace of the stage's objects, or NULL */
	const doc_node *namespace_tmpl; /* namespace: "{{ ... }}" in kstage.yaml: rendered into
				     * namespace by rel_bundle_namespaces, or NULL */
	rel_test *test;             /* test: {...}, or NULL */
	rel_check *checks;          /* a checks stage (nothing else but name and enabled), or NULL */
	size_t nchecks;
	rel_output *outputs;        /* outputs: {key: template} */
	size_t noutputs;
	const char *hook_of;        /* hook: {of: STAGE, ...}: runs around that stage, or NULL */
	bool hook_post;             /* hook.when: post (after it), else pre (before it) */
	unsigned hook_events;       /* REL_STAGE_ON_* of hook.events (default both) */
} rel_stage;

/* A hook stage's events (hook.events): the first revision, a later one. */
enum { REL_STAGE_ON_INSTALL = 1u << 0, REL_STAGE_ON_UPGRADE = 1u << 1 };


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
/* Render the stages' namespace templates (namespace_tmpl) with values into
 * namespace (in a), each checked as the API server checks a namespace
 * name; an input error with the template's location otherwise. */
int rel_bundle_namespaces(rel_bundle *b, karena *a, doc_node *values, kerr *err);
/* As rel_bundle_load; pin false leaves url sources as kstage.yaml gives
 * them (for `kstage fetch --update-lock`), true pins them by the lock. */
int rel_bundle_load_opts(rel_bundle *out, karena *a, const char *path, bool pin, kerr *err);

/* ---- sources (release/sources.c) ---- */

/* A stage whose bytes come from the network (url source, OCI chart, git
 * source or chart), pinned in kstage.lock by its url. */
bool rel_stage_remote(const rel_stage *st);

/* Pin every url source by kstage.lock beside kstage.yaml: a source with
 * no sha256 in kstage.yaml takes the lock's; one with both must agree.
 * Refuses (KE_INPUT, with file:line:col) an unpinned source and a
 * kstage.yaml digest that disagrees with its lock line, naming both. */
int rel_bundle_pin(rel_bundle *b, karena *a, kerr *err);

typedef struct rel_fetch_report {
	size_t sources;             /* url and OCI sources fetched and verified */
	bool lock_written;
	kbuf digests;               /* the cache entries they use, one hex sha256 a line
				     * (initialise; release with kbuf_release) */
} rel_fetch_report;

/* Fetch and verify every url source of b into the cache, enabled or not
 * (`kstage fetch`, bundle export: for any values). update_lock resolves each
 * (downloads it, keeping a kstage.yaml sha256 as a pin) and writes
 * kstage.lock atomically; b must then be loaded unpinned. */
int rel_fetch(const rel_bundle *b, const fetch_opts *fo, bool update_lock, rel_fetch_report *rep, kerr *err);
struct rel_ctx;
/* As rel_fetch (not update_lock, with ctx->fetch), for a run: only the
 * sources of the stages it may run, those ctx->only selects and its values
 * enable (ctx->values, namespace, release_name; its client and lookup are
 * not used). A stage's enabled condition is rendered without the cluster;
 * one that reads it (lookup) or fails counts as enabled. Each source left
 * out is said (event fetch.skipped); a stage that runs after all renders
 * its source pinned and verified as ever. */
int rel_fetch_run(const rel_bundle *b, const struct rel_ctx *ctx, kerr *err);
/* version as one chart version of ref: itself, or when it is a range
 * ("^1.2", "~0.15", ">=1 <2", "1.2.x") the highest of the registry's tags
 * that meets it (in a). KE_INPUT when none does. */
int rel_oci_version(const char **out, karena *a, const char *ref, const char *version, const fetch_opts *fo,
		    kerr *err);
/* A Helm chart from an OCI registry (ref oci://HOST/REPO, at version (a
 * range is resolved against its tags), or
 * the ref's own tag) loaded from the cache or the registry, as
 * fetch_oci_chart gets it. Helm's way of naming a chart on the command
 * line: not pinned by kstage.lock (kstage says the digest it got). */
int rel_chart_pull(struct tmpl_chart **out, karena *a, const char *ref, const char *version, const fetch_opts *fo,
		   values_num_mode num, kerr *err);
/* As rel_bundle_load, and an oci:// path is a chart pulled with
 * rel_chart_pull (a two-stage bundle as a chart .tgz is). */
int rel_bundle_open(rel_bundle *out, karena *a, const char *path, const char *version, const fetch_opts *fo,
		    kerr *err);
/* ---- airgap (release/airgap.c) ---- */

/* Write b (a pinned bundle, not a chart) and every cached artifact its
 * remote sources use to out, a .tar.gz: bundle/ holds kstage.yaml,
 * kstage.lock, templates/, values/ and the stages' paths; artifacts/
 * sha256/<hex> the artifacts. Every source is fetched and verified first
 * (rel_fetch; from the cache alone with fo->offline). rep (may be NULL;
 * initialise its kbuf) says what. */
int rel_bundle_export(const rel_bundle *b, const char *out, const fetch_opts *fo, rel_fetch_report *rep, kerr *err);
/* Unpack in (written by rel_bundle_export; checked as every archive is)
 * into dir, which must not exist, and its artifacts into fo's cache (each
 * must have the digest it is named by); then load the bundle and verify
 * every pinned source from the cache alone. *nartifacts: how many went
 * into the cache. */
int rel_bundle_import(const char *in, const char *dir, const fetch_opts *fo, size_t *nartifacts, kerr *err);
/* The media types of a bundle pushed to an OCI registry. */
#define REL_BUNDLE_CONFIG_TYPE "application/vnd.kstage.bundle.config.v1+json"
#define REL_BUNDLE_LAYER_TYPE "application/vnd.kstage.bundle.v1.tar+gzip"
/* `kstage bundle push`: b exported (rel_bundle_export) and pushed to ref
 * (oci://HOST/REPO:TAG) as one OCI artifact; manifest_hex gets its digest. */
int rel_bundle_push(const rel_bundle *b, const char *ref, const fetch_opts *fo, rel_fetch_report *rep,
		    char manifest_hex[65], kerr *err);
/* `kstage bundle pull`: the artifact at ref imported into dir as
 * rel_bundle_import does. */
int rel_bundle_pull(const char *ref, const char *dir, const fetch_opts *fo, size_t *nartifacts, char manifest_hex[65],
		    kerr *err);
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
 * record, its store and the Lease (kept by its renewer thread, checked at
 * every write). */
typedef struct rel_journal {
	karena *a;                  /* the record's arena */
	rel_record *rec;
	rel_store *store;
	rel_lock *lock;             /* or NULL */
	bool stored;                /* rec is in the store (else the first write creates it) */
} rel_journal;

/* Check the Lease is still held (rel_lock_keep), then write the record:
 * create it the first time (apply writes it first before the first stage
 * that changes anything), then update it. */
int rel_journal_save(rel_journal *j, kerr *err);

/* ---- lookup (release/lookup.c) ---- */

/* Helm's lookup on the live cluster for a run's templates: read-only GETs
 * and LISTs, every part checked before it reaches a path, answers cached
 * until rel_lookup_forget. t is what tmpl_set_lookup and
 * tmpl_render_opts.lookup take. */
typedef struct rel_lookup {
	tmpl_lookup t;
	kube_client *c;             /* borrowed */
	kredact *secrets;           /* learns the data of the Secrets read; may be NULL */
	karena a;                   /* the answers */
	struct rel_lookup_ent *v;
	size_t n, cap;
} rel_lookup;

void rel_lookup_init(rel_lookup *l, kube_client *c, kredact *secrets);
/* Drop the cached answers (after the run changed the cluster). */
void rel_lookup_forget(rel_lookup *l);
void rel_lookup_release(rel_lookup *l);
/* The tmpl_lookup_fn (u is the rel_lookup). */
int rel_lookup_get(void *u, doc_node **out, karena *a, const char *api_version, const char *kind,
		   const char *ns, const char *name, kerr *err);

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
	rel_lookup *lookup;         /* lookup's answers from the cluster, or NULL (offline: empty maps) */
	bool keep_test;             /* --keep-test: a test's cleanup deletes nothing */
	doc_node *outputs;          /* apply: {stage: {key: value}} as stages finish (.Outputs), or NULL */
	karena *outputs_a;          /* where outputs live */
	bool create_namespace;      /* apply --create-namespace: create the namespace when missing */
	bool is_upgrade;            /* an earlier revision is deployed (.Release.IsUpgrade) */
	kbuf *notes;                /* apply: gets the chart's rendered NOTES.txt, or NULL */
	const rel_record *prior;    /* plan: the revision in effect (deletions are planned from it);
				     * verify: the deployed revision whose chart test hooks run; or NULL */
	bool test_logs;             /* verify --logs: the log of every test hook Pod */
	bool no_hooks;              /* apply --no-hooks: chart hooks are not run */
	const char *field_manager;  /* of the stages' objects; NULL: "kstage" ("helm" with --helm-record) */
	const char *kube_version;   /* the API server's gitVersion ("v1.36.3") for .Capabilities.KubeVersion
	                             * of the checks (the preflight reads GET /version), or NULL */
	rel_rec_stage *cleaned;     /* verify: gets the objects a test's cleanup deleted (in cleaned_a), or NULL */
	karena *cleaned_a;
	const rel_record *deployed; /* verify --keep-test: the release's deployed revision, which must list
				     * every object a test keeps (uninstall and rollback undo it), or NULL */
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
/* Whether the stage is enabled (its `enabled`: a bool or a template). */
int rel_stage_enabled(bool *enabled, karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx,
		      kerr *err);
struct rel_hooks;
/* As rel_stage_render; a chart stage's Helm hooks go to hooks (may be NULL:
 * not kept), unless ctx->no_hooks. text: objects other than CRDs and List
 * items are kept as text (kube_obj_keep_text), each document read in an
 * arena of its own: a stage of thousands of objects holds no trees.
 * *objs is malloc'd here (the caller frees it), whatever the result. */
int rel_stage_render_hooks(kube_obj **objs, size_t *n, struct rel_hooks *hooks, bool text, bool *enabled, karena *a,
			   const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, kerr *err);
/* The namespace and name of op's object: its "ns/name" rendered when it
 * is a template (each part checked as a Kubernetes name), else as written;
 * the namespace defaults to stage_ns. */
int rel_op_target(const char **ns, const char **name, karena *a, const rel_bundle *b, const rel_stage *s,
		  const rel_op *op, const char *stage_ns, const rel_ctx *ctx, kerr *err);

/* Render one template string with .Values (for `enabled` and op values). */
int rel_render_string(kbuf *out, karena *a, const rel_bundle *b, const char *name, const char *text,
		      const rel_ctx *ctx, kerr *err);

/* ---- apply ---- */

/* The workload kind of a rolloutRestart op ("deployment" -> Deployment);
 * *resource gets its resource (deployments). */
const char *rel_restart_kind(const rel_op *op, const char **resource);

/* The stage is one of --stage (ctx->only), or there is no --stage. */
bool rel_stage_selected(const rel_ctx *ctx, const rel_stage *s);

/* The preflight (release/checks.c): every check of every enabled checks
 * stage, before anything changes; a permissions check asks the API server
 * (SelfSubjectAccessReview) for every verb and resource the later enabled
 * and selected stages would use. Events check.passed / check.failed; all
 * problems in one KE_INPUT error. *nchecks (may be NULL) gets how many
 * checks ran. Discovery must be loaded. */
int rel_preflight(const rel_bundle *b, const rel_ctx *ctx, size_t *nchecks, kerr *err);

typedef struct rel_summary {
	size_t stages_done, stages_skipped;
	size_t created, applied, unchanged, ops_changed, ops_unchanged;
	size_t pruned;              /* objects deleted because no stage renders them any more */
	const char *failed_stage;   /* name, or NULL */
} rel_summary;

/* The order apply and plan take the stages in (indexes into b->stages, in
 * a; b->nstages of them): file order, each stage's pre hook stages just
 * before it and its post hook stages just after it (each in file order). */
size_t *rel_stage_order(karena *a, const rel_bundle *b);
/* The --stage names (ctx->only) must all be stages of b: KE_USAGE naming
 * the stages otherwise. */
int rel_check_stages(const rel_bundle *b, const rel_ctx *ctx, kerr *err);

/* Apply every enabled stage in order: render, resolve, apply (one kind
 * group at a time, its objects in parallel), wait, run ops. Stops at the
 * first failure with the context "stage NAME: ...". */
int rel_apply(const rel_bundle *b, const rel_ctx *ctx, rel_summary *sum, kerr *err);

/* kstage verify: the enabled and selected stages with a test, alone (each
 * applied, waited for, tested, cleaned up), after the preflight; the other
 * enabled stages only render their outputs (from the live cluster), in
 * order; then, without --stage, the chart test hooks of ctx->prior
 * (rel_hooks_test). Nothing is recorded as a revision; the objects a test's
 * cleanup deletes are listed in ctx->cleaned (rel_release_note_cleaned).
 * With ctx->keep_test, every object a test stage would keep must be listed
 * in ctx->deployed, else the run is refused (KE_USAGE) before it changes
 * anything: kept objects no record lists would outlive the release. */
int rel_verify(const rel_bundle *b, const rel_ctx *ctx, rel_summary *sum, kerr *err);

/* ---- tests (release/verify.c) ---- */

/* Run stage s's test (s->test): render the request, send it, check the
 * reply, retrying as the test says; events test.request, test.retry,
 * test.passed / test.failed (with the reply). KE_ERROR naming path,
 * expected and got when it does not pass. */
int rel_stage_test(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, karena *a, kerr *err);
/* Whether the test's cleanup deletes the stage's objects (its cleanup:
 * a bool or a template; never with ctx->keep_test). */
int rel_stage_cleanup_wanted(bool *out, karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx,
			     kerr *err);
/* ---- --create-namespace (release/namespace.c) ---- */

/* The record stage that journals a namespace --create-namespace created. */
#define REL_NS_STAGE "(namespace)"

/* Create ctx->namespace when it does not exist: journaled first (a record
 * stage REL_NS_STAGE holding it as absent) when ctx->journal is set, then
 * applied. Nothing when it exists or ctx->namespace is NULL. */
int rel_namespace_create(const rel_ctx *ctx, rel_summary *sum, kerr *err);
/* A "namespaces \"x\" not found" failure, without --create-namespace:
 * the message gets the way out (the flag) appended. */
void rel_namespace_hint(const rel_ctx *ctx, kerr *err);

/* ---- pruning (release/prune.c) ---- */

/* The record stage that journals the objects a run pruned. */
#define REL_PRUNE_STAGE "(prune)"

/* The journal entry e as a resolved object (identity only, in a);
 * KE_NOTFOUND when its kind is not served. */
int rel_rec_object_resolve(kube_obj *o, kube_client *c, karena *a, const rel_rec_object *e, kerr *err);
/* The latest deployed revision of release (in a), or *out NULL when there
 * is none. */
int rel_prior_load(rel_store *st, karena *a, const char *release, rel_record **out, kerr *err);
/* The same from the release's history h[0..n) already read (under the
 * Lease: no second LIST). */
int rel_prior_of(rel_store *st, karena *a, const char *release, const rel_rec_summary *h, size_t n,
		 rel_record **out, kerr *err);
/* How many of s's journal entries are its rendered objects (the first
 * ones, one per document of its manifest; all of them without one). */
size_t rel_rec_stage_rendered(karena *a, const rel_rec_stage *s);
/* The objects to prune (pointers into prior, array in a): rendered by a
 * stage of prior that now ran or skipped, rendered by no stage of now,
 * not journaled with rollback policy keep; each once. */
int rel_prune_candidates(const rel_rec_object ***out, size_t *n, karena *a, const rel_record *prior,
			 const rel_record *now);
/* After every stage succeeded: journal (stage REL_PRUNE_STAGE of
 * ctx->journal's record) and delete, in reverse install order and each
 * waited for until gone, the live candidates of prior against that
 * record; a live object annotated helm.sh/resource-policy: keep stays. */
int rel_prune(const rel_ctx *ctx, const rel_record *prior, rel_summary *sum, long timeout_ms, kerr *err);
struct rel_plan;
/* A plan's deletions: an entry REL_DELETED (stage REL_PRUNE_STAGE) for
 * every live candidate of ctx->prior against now (the planned stages and
 * their objects). Reads only. */
int rel_prune_plan(struct rel_plan *p, karena *a, const rel_ctx *ctx, const rel_record *now, kerr *err);

/* ---- Helm hooks (release/hooks.c) ---- */

enum {
	REL_HOOK_PRE_INSTALL = 1u << 0, REL_HOOK_POST_INSTALL = 1u << 1,
	REL_HOOK_PRE_DELETE = 1u << 2, REL_HOOK_POST_DELETE = 1u << 3,
	REL_HOOK_PRE_UPGRADE = 1u << 4, REL_HOOK_POST_UPGRADE = 1u << 5,
	REL_HOOK_PRE_ROLLBACK = 1u << 6, REL_HOOK_POST_ROLLBACK = 1u << 7,
	REL_HOOK_TEST = 1u << 8,
};
enum { REL_HOOK_DEL_BEFORE = 1u << 0, REL_HOOK_DEL_SUCCEEDED = 1u << 1, REL_HOOK_DEL_FAILED = 1u << 2 };

/* The record stage that keeps a revision's hooks (manifest only). */
#define REL_HOOKS_STAGE "(hooks)"

typedef struct rel_hook {
	kube_obj obj;               /* the hook's document */
	const char *path;           /* the template it came from, or NULL */
	unsigned events;            /* REL_HOOK_* of helm.sh/hook */
	long long weight;           /* helm.sh/hook-weight (Helm's Atoi; else 0) */
	unsigned delete_policies;   /* REL_HOOK_DEL_* of helm.sh/hook-delete-policy */
	size_t seq;                 /* position (kind order), for a stable sort */
} rel_hook;

typedef struct rel_hooks {
	rel_hook *v;                /* in the arena given to rel_hooks_add */
	size_t n, cap;
} rel_hooks;

/* "pre-install", ... for one REL_HOOK_* bit. */
const char *rel_hook_event_name(unsigned event);
/* Add doc (kept, in a) when it is a hook Helm runs: helm.sh/hook names
 * only known events (else it is skipped, as Helm does). */
int rel_hooks_add(rel_hooks *h, karena *a, doc_node *doc, const char *path, kerr *err);
/* Every hook of a YAML stream (a record's REL_HOOKS_STAGE manifest). */
int rel_hooks_parse(rel_hooks *h, karena *a, const char *what, const char *yaml, kerr *err);
/* Resolve every hook's kind and namespace (default ns). */
int rel_hooks_resolve(rel_hooks *h, kube_client *c, karena *a, const char *ns, kerr *err);
/* The hooks as one YAML stream (their documents, namespaces resolved). */
const char *rel_hooks_manifest(karena *a, const rel_hooks *h);
/* The hooks kept in rec (none when rec is NULL or kept none). */
int rel_hooks_of_record(rel_hooks *h, karena *a, const rel_record *rec, kerr *err);
/* Run the (resolved) hooks of event as Helm does: ordered by weight, then
 * name, then kind; delete policies (before-hook-creation by default,
 * hook-succeeded, hook-failed); a Job waited for until Complete, a Pod
 * until Succeeded (Failed fails it), each within timeout_ms. A failed Job
 * or Pod hook's pod log tail goes out as an event hook.log (KEV_ERROR)
 * before any deletion; with logs, every succeeded Pod hook's log too (as
 * `helm test --logs`). The first failure stops and is returned. *ran (may
 * be NULL) gets how many hooks the event has. */
int rel_hooks_run(kube_client *c, const rel_hooks *h, unsigned event, long timeout_ms, bool logs, size_t *ran,
		  kerr *err);
/* Run the hooks of event that rec keeps (uninstall: its delete hooks;
 * rollback: the target's rollback hooks), as rel_hooks_run; a hook without
 * a namespace goes to ns (NULL: "default"). Nothing when rec is NULL.
 * *ran (may be NULL) as rel_hooks_run's. */
int rel_hooks_of_run(kube_client *c, karena *a, const rel_record *rec, const char *ns, unsigned event,
		     long timeout_ms, bool logs, size_t *ran, kerr *err);
/* `kstage verify` of a release with a chart: the test hooks (helm.sh/hook:
 * test) that rec (its deployed revision, or rel_helm_tested's) keeps, run
 * as `helm test` runs them (a hook without a namespace in ctx->namespace),
 * within ctx->timeout_ms each (5 minutes when 0); the data of the Secrets
 * rec records is masked in all output first. *ran gets how many. */
int rel_hooks_test(const rel_ctx *ctx, const rel_record *rec, bool logs, size_t *ran, kerr *err);
/* The data and stringData of doc, when it is a v1 Secret, masked in all
 * output of sink (nothing without a redactor). */
void rel_secrets_learn(const doc_node *doc, const kev_sink *sink);

/* ---- a release Helm holds (release/helm_record.c) ---- */

typedef struct rel_helm_release {
	bool found;                 /* a deployed revision exists */
	const char *ns, *name;
	int version;                /* of the deployed revision */
	int latest;                 /* the highest revision (any status), 0: none */
	doc_node *secret;           /* the deployed revision's Secret */
	const char *secret_name;
	doc_node *release;          /* its decoded release JSON */
	const char *manifest;       /* its manifest */
	bool newer;                 /* newer than kstage's deployed revision (rel_helm_start) */
} rel_helm_release;

/* A Helm release Secret's data.release as the API returns it: base64 (the
 * API's), base64 again (Helm's), gzip when it starts with gzip's magic,
 * then the release JSON (an object, at most 64 MiB inflated) into *out. */
int rel_helm_decode(doc_node **out, karena *a, const char *b64, const char *what, kerr *err);
/* Find Helm's records of release name in ns (Secrets owner=helm) and
 * decode the latest deployed one (base64, gzip, JSON); out->found false
 * when there is none. Everything lives in a. */
int rel_helm_find(rel_helm_release *out, kube_client *c, karena *a, const char *ns, const char *name, kerr *err);
/* Helm's deployed manifest as a prior revision for pruning: one stage
 * named stage holding its objects (resolved; kinds no longer served are
 * left out; CRDs keep). */
int rel_helm_prior(rel_record **out, kube_client *c, karena *a, const rel_helm_release *h, const char *stage,
		   kerr *err);
struct tmpl_chart;
/* Write revision h->latest+1 of Helm's history over h's deployed record:
 * chart ch's metadata, templates and defaults (ch may be NULL: kept),
 * config (the user's values), manifest, hooks (may be NULL), notes, status deployed; the
 * deployed revision becomes superseded. *version gets the revision. */
int rel_helm_write(kube_client *c, karena *a, const rel_helm_release *h, const struct tmpl_chart *ch,
		   const doc_node *config, const char *manifest, const rel_hooks *hooks, const char *notes, int *version,
		   kerr *err);

/* Where a run's values start (helm upgrade's --reset-values, the default,
 * --reuse-values, --reset-then-reuse-values). */
typedef enum rel_values_mode { REL_VALUES_NEW = 0, REL_VALUES_REUSE, REL_VALUES_RESET_THEN_REUSE } rel_values_mode;

/* release/reuse.c: with mode REUSE or RESET_THEN_REUSE and a deployed
 * revision prior, ctx->values (a chart's user values) becomes them merged
 * over the values prior was given (Helm's config when prior is Helm's
 * record, helm->found), as Helm's CoalesceTables. KE_USAGE for a bundle
 * that is not a chart, and when a value to reuse was masked in the record
 * (a secret kstage does not keep). Nothing for REL_VALUES_NEW or no prior.
 * rel_values_mode_check: that KE_USAGE for a bundle alone (before any
 * request). */
int rel_values_mode_check(const rel_bundle *b, rel_values_mode mode, kerr *err);
int rel_values_reuse(rel_ctx *ctx, const rel_bundle *b, const rel_record *prior, const rel_helm_release *helm,
		     rel_values_mode mode, karena *a, kerr *err);

/* At the start of a run of a bundle with a chart stage: Helm's records of
 * release in the stage's namespace into h; when *prior is NULL (kstage
 * has no deployed revision) and Helm has one, it becomes *prior and the
 * run adopts Helm's objects (ctx->force). When kstage has one but Helm's
 * deployed revision is newer (deployed after it, and not written by
 * kstage's --helm-record: a helm upgrade or rollback ran since), *prior's
 * chart stage becomes what Helm deployed, h->newer is set, the run adopts
 * (ctx->force) and a warning helm.newer says so. With helm_record the run applies
 * as Helm's field manager ("helm"), so that Helm's own later upgrades and
 * rollbacks own the fields as before and meet no conflict. */
int rel_helm_start(rel_helm_release *h, rel_record **prior, const rel_bundle *b, rel_ctx *ctx, const char *release,
		   bool helm_record, karena *a, kerr *err);
/* `kstage verify` of a release kstage has no deployed revision of: Helm's
 * deployed revision (in the chart stage's namespace) as a record whose
 * REL_HOOKS_STAGE holds Helm's hooks and one stage Helm's manifest, for
 * rel_hooks_test; *out NULL when Helm holds none either. */
int rel_helm_tested(rel_record **out, const rel_bundle *b, const rel_ctx *ctx, const char *release, karena *a,
		    kerr *err);
/* What Helm sets on every object it applies (setMetadataVisitor): the
 * label app.kubernetes.io/managed-by=Helm and the annotations
 * meta.helm.sh/release-name and release-namespace. */
void rel_helm_mark(karena *a, kube_obj *objs, size_t n, const char *release, const char *ns);
/* After a deployed run: with write, the chart stage's manifest of rec
 * becomes Helm's next revision (rel_helm_write); without, a warning that
 * Helm's record is stale. Nothing when Helm holds no release. Failures
 * are reported as events: the run is deployed either way. */
void rel_helm_finish(const rel_helm_release *h, const rel_bundle *b, const rel_ctx *ctx, const rel_record *rec,
		     bool write, karena *a);

/* ---- release runs (run.c) ---- */

/* The documents docs[0..n) as one YAML stream ("---" before each), in a. */
const char *rel_yaml_stream(karena *a, const doc_node *const *docs, size_t n);

#define REL_ROLLBACK_MANAGER "kstage-rollback"

typedef struct rel_run_opts {
	const char *release;        /* NULL: the bundle's (or chart's) name */
	rel_store *store;           /* where records live (borrowed) */
	const char *lock_ns;        /* namespace of the Lease; NULL: kstage-system */
	long wait_for_lock_ms;      /* 0: fail at once when another run holds the Lease */
	long lease_s;               /* the Lease's duration; 0: REL_LOCK_DURATION_S */
	size_t history_max;         /* revisions kept; 0: no limit */
	bool no_rollback;           /* keep the partial state of a failed run */
	long rollback_timeout_ms;   /* for deletions to finish; 0: 2 minutes */
	bool uninstall;             /* rel_release_rollback: undo every revision (kstage uninstall) */
	bool delete_crds;           /* a rollback deletes CRDs too (policy keep does not hold them) */
	bool no_hooks;              /* rollback/uninstall: the chart's rollback/delete hooks are not run */
	bool helm_record;           /* apply: write the revision into Helm's release record too */
	rel_values_mode values_mode; /* apply: --reuse-values and its kin (rel_values_reuse) */
	/* The client of the thread that renews the Lease (rel_lock_renewer_start
	 * takes it), made from the run's client; NULL: a curl client of its own
	 * over the run's kubeconfig (tests give a fake). */
	kube_client *(*lease_client)(kube_client *run);
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
	bool pending;               /* its record's last write failed: it stays pending (rollback --recover) */
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
 * incomplete or was not asked for after changes, or when the record of a
 * failed run stays pending (a lost Lease stops the rollback too). Release
 * res->rb.
 * The client's stop flag (a signal) stops the apply at its next safe point
 * (before a kind group or op, or within a wait) as a stage failure, and the
 * rollback then runs to its end regardless of the flag. A thread renews
 * the Lease every third of its duration for the whole run; every write
 * and every wait checks it, and no request may outlast it: a lost Lease
 * stops the run before its next write (KE_CONFLICT naming the holder, the
 * record left pending for rollback --recover). */
int rel_release_apply(const rel_bundle *b, rel_ctx *ctx, const rel_run_opts *o, rel_run_result *res, karena *a,
		      kerr *err);

/* kstage verify's cleanup, recorded: under the Lease, the journal entries
 * of the latest deployed revision of release for the objects in cleaned
 * are marked cleaned (rel_record_mark_cleaned), so that its rollback or
 * uninstall does not re-create them. *marked gets how many entries; no
 * deployed revision (or none of the objects in it) writes nothing. */
int rel_release_note_cleaned(kube_client *c, karena *a, const char *release, const rel_run_opts *o,
			     const rel_rec_stage *cleaned, size_t *marked, kerr *err);

/* Put back what the journal of rec says: every started stage in reverse,
 * each object once (its earliest prior state); objects that were absent
 * deleted and waited for until gone, objects that existed replaced by
 * their prior content with their prior managedFields (workloads last, so
 * a rolloutRestart's Deployment restarts after its config is back);
 * policy keep left in place. 0 when complete, KE_ROLLBACK with rep->left
 * otherwise. */
int rel_rollback_journal(kube_client *c, karena *a, const rel_record *rec, const rel_run_opts *o,
			 rel_rollback_report *rep, kerr *err);

/* Delete o (propagation Background) and wait until it is gone, at most
 * timeout_ms; *was tells whether there was one. KE_TIMEOUT names its
 * finalizers. */
int rel_delete_wait(kube_client *c, karena *a, const kube_obj *o, long timeout_ms, bool *was, kerr *err);

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

/* Delete o (resolved) and wait until it is gone, at most timeout_ms;
 * *was tells whether there was one. */
int rel_delete_wait(kube_client *c, karena *a, const kube_obj *o, long timeout_ms, bool *was, kerr *err);

/* ---- plan ---- */

typedef enum rel_action { REL_UNCHANGED, REL_CHANGED, REL_CREATED, REL_CREATED_LATER, REL_DELETED } rel_action;

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
	size_t created, changed, unchanged, deleted;
} rel_plan;

/* Add an entry (copied) to p, counting it; p's array grows in a. */
void rel_plan_add(rel_plan *p, karena *a, const rel_plan_entry *e);

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
	const char *version;        /* an oci:// path: the chart version */
	const fetch_opts *fetch;    /* an oci:// path: how it is fetched; NULL: the defaults */
} rel_template_opts;

typedef struct rel_template_result {
	karena a;                   /* everything below lives here or in out */
	tmpl_output out;
	const char *name;           /* the release name used */
	tmpl_manifest *docs;        /* in print order, narrowed to show_only (xmalloc'd) */
	size_t ndocs;
	const doc_node *warnings;   /* what Helm warns of (strings), also set when
				     * the render fails after the values; or NULL */
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
 * (may be NULL), before the schemas are checked. An oci:// path is pulled
 * at version with fo (may be NULL). */
int rel_values_show(doc_node **out, karena *a, const char *path, bool bundle, const char *version,
		    const fetch_opts *fo, const values_opts *vo, kredact *secrets, kerr *err);

/* ---- a run: kubeconfig, client, bundle and values together ---- */

typedef struct rel_session {
	karena a;                   /* bundle, values, plan entries */
	kube_config cfg;
	kube_client *client;
	rel_bundle bundle;
	doc_node *values;
	rel_lookup lookup;          /* the run's lookups (ctx.lookup) */
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
	const char *version;        /* an oci:// bundle: the chart version */
	const char *const *only;    /* --stage filters (names) into ctx.only, or NULL */
	size_t nonly;
} rel_session_opts;

/* Load the bundle and values (input errors first, before any network),
 * then the kubeconfig and a client. Fills s->ctx with the defaults. */
int rel_session_open(rel_session *s, const rel_session_opts *o, kerr *err);
void rel_session_close(rel_session *s);

#endif
