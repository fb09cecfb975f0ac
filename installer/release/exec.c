/*
 * release/exec.c - the stage executor (kstage apply) and the planner
 * (kstage plan), one stage run each.
 *
 * A stage run renders the stage and sorts it in install order before it
 * sends anything, so it knows every object it will touch. Plan and apply
 * then walk the same kind groups: resolve (discovery; when a kind is
 * missing and a CRD of this run brings it, apply waits for the CRD to be
 * Established and for discovery to learn it, a plan says "created after
 * stage X"), read what is live (one LIST for big groups), send the group's
 * objects in parallel (bounded; a plan as dry-runs), stop at the first
 * failure. Apply then waits for the stage to be healthy and runs its ops;
 * a plan diffs each answer against the live object.
 */
#include "release.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS (5L * 60 * 1000)
#define MAX_WORKERS 64

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool rel_stage_selected(const rel_ctx *ctx, const rel_stage *s)
{
	size_t i;
	if (!ctx->nonly)
		return true;
	for (i = 0; i < ctx->nonly; i++)
		if (!strcmp(ctx->only[i], s->name))
			return true;
	return false;
}

static const char *stage_ns(const rel_ctx *ctx, const rel_stage *s)
{
	return s->namespace ? s->namespace : ctx->namespace ? ctx->namespace : "default";
}
static size_t workers(const rel_ctx *ctx)
{
	size_t w = ctx->concurrency ? ctx->concurrency : 32;
	return w > MAX_WORKERS ? MAX_WORKERS : w;
}

/* ---- what a run learns across stages ---- */

typedef struct planned_kind {
	const char *group, *kind, *stage;
	bool namespaced;
} planned_kind;

/* The kinds the CRDs of this run bring (and the stage that brings each)
 * and the Namespaces it creates; strings live in the book's arena. */
typedef struct kind_book {
	karena a;
	planned_kind *kinds;
	size_t nkinds, cap;
	const char **namespaces;
	size_t nns, nscap;
} kind_book;

static void kind_book_init(kind_book *k)
{
	memset(k, 0, sizeof(*k));
	karena_init(&k->a);
}

static void kind_book_release(kind_book *k)
{
	free(k->kinds);
	free(k->namespaces);
	karena_release(&k->a);
}

static const planned_kind *find_kind(const kind_book *k, const kube_obj *o)
{
	size_t i;
	for (i = 0; i < k->nkinds; i++)
		if (!strcmp(k->kinds[i].group, o->group) && !strcmp(k->kinds[i].kind, o->kind))
			return &k->kinds[i];
	return NULL;
}

static bool ns_planned(const kind_book *k, const char *ns)
{
	size_t i;
	for (i = 0; ns && i < k->nns; i++)
		if (!strcmp(k->namespaces[i], ns))
			return true;
	return false;
}

/* Note the kinds and namespaces the objects of stage bring. */
static void kind_book_add(kind_book *k, const kube_obj *o, const char *stage)
{
	if (!strcmp(o->kind, "CustomResourceDefinition")) {
		planned_kind pk = { karena_strdup(&k->a, doc_get_str(o->doc, "spec.group", "")),
				    karena_strdup(&k->a, doc_get_str(o->doc, "spec.names.kind", "")),
				    karena_strdup(&k->a, stage),
				    strcmp(doc_get_str(o->doc, "spec.scope", "Namespaced"), "Cluster") != 0 };
		ALLOC_GROW(k->kinds, k->nkinds + 1, k->cap);
		k->kinds[k->nkinds++] = pk;
	}
	if (!strcmp(o->kind, "Namespace") && !o->ns) {
		ALLOC_GROW(k->namespaces, k->nns + 1, k->nscap);
		k->namespaces[k->nns++] = karena_strdup(&k->a, o->name);
	}
}

/* For a big group of one kind in one namespace: one LIST, and the objects
 * that would not change are not sent (their live copy stands in for the
 * apply answer). Anything unexpected just means everything is sent. */
#define UNCHANGED_LIST_MIN 8

/* The live copies of objs (one kind, one namespace) from one LIST:
 * live[i] is the object or NULL when absent. Nonzero (err set, live[]
 * untouched) when the LIST fails. */
static int list_group(kube_client *c, karena *a, const kube_obj *objs, size_t n, doc_node **live, kerr *err)
{
	kbuf p = KBUF_INIT;
	doc_node *list = NULL;
	const doc_node *items = NULL;
	size_t i, j;
	int rc;
	kube_obj_path(&objs[0], false, &p);
	rc = kube_get_json(c, a, p.ptr, &list, objs[0].ref, err);
	kbuf_release(&p);
	if (rc)
		return rc;
	if (!(items = doc_map_get(list, "items")) || items->type != DOC_SEQ)
		return kerr_set(err, KE_API, "LIST of %s: the answer has no items", objs[0].ref);
	for (i = 0; i < n; i++) {
		live[i] = NULL;
		for (j = 0; j < items->u.seq.len; j++) {
			doc_node *it = items->u.seq.v[j];
			if (strcmp(doc_get_str(it, "metadata.name", ""), objs[i].name))
				continue;
			/* list items carry no apiVersion/kind */
			doc_map_set(a, it, "apiVersion", doc_new_str(a, objs[i].api_version));
			doc_map_set(a, it, "kind", doc_new_str(a, objs[i].kind));
			live[i] = it;
			break;
		}
	}
	return 0;
}
const char *rel_restart_kind(const rel_op *op, const char **resource)
{
	if (!strcmp(op->kind, "statefulset")) {
		*resource = "statefulsets";
		return "StatefulSet";
	}
	if (!strcmp(op->kind, "daemonset")) {
		*resource = "daemonsets";
		return "DaemonSet";
	}
	*resource = "deployments";
	return "Deployment";
}

int rel_op_target(const char **ns, const char **name, karena *a, const rel_bundle *b, const rel_stage *s,
		  const rel_op *op, const char *stage_ns, const rel_ctx *ctx, kerr *err)
{
	kbuf o = KBUF_INIT;
	const char *sl, *what = op->type == REL_OP_JSON_KEY_MERGE ? "jsonKeyMerge.configMap" : "rolloutRestart";
	int rc;
	*ns = op->ns ? op->ns : stage_ns;
	*name = op->name;
	if (!op->ref_tmpl)
		return 0;
	rc = rel_render_string(&o, a, b, karena_printf(a, "%s:stage %s:%s", b->file, s->name, what), op->ref_tmpl, ctx,
			       err);
	if (!rc) {
		const char *ref = karena_strndup(a, o.ptr ? o.ptr : "", o.len), *why, *res;
		if ((sl = strchr(ref, '/'))) {
			*ns = karena_strndup(a, ref, (size_t)(sl - ref));
			*name = sl + 1;
		} else {
			*name = ref;
		}
		why = *ns ? kube_check_namespace(*ns) : NULL;
		if (!why)
			why = op->type == REL_OP_JSON_KEY_MERGE ? kube_check_name("", "ConfigMap", *name)
								: kube_check_name("apps", rel_restart_kind(op, &res), *name);
		if (why)
			rc = kerr_set(err, KE_INPUT, "stage %s: %s \"%s\" (from %s): %s", s->name, what, ref, op->ref_tmpl,
				      why);
	}
	kbuf_release(&o);
	return rc;
}

/* The op's set map with template strings rendered; a typed value
 * {json: TEMPLATE} is rendered, then read as JSON (true stays a bool, 30
 * a number), and null leaves its key out (as it is in the ConfigMap). */
static int op_set(doc_node **out, karena *a, const rel_bundle *b, const rel_stage *s, const rel_op *op,
		  const rel_ctx *ctx, kerr *err)
{
	doc_node *set = doc_copy(a, op->set);
	size_t k, n = 0;
	int rc = 0;
	for (k = 0; k < set->u.map.len && !rc; k++) {
		doc_node *v = set->u.map.v[k].val;
		const doc_node *typed = rel_op_typed(v);
		const char *key = set->u.map.v[k].key->u.s.ptr;
		if ((typed || v->type == DOC_STR) && strstr((typed ? typed : v)->u.s.ptr, "{{")) {
			kbuf o = KBUF_INIT;
			rc = rel_render_string(&o, a, b,
					       karena_printf(a, "%s:stage %s:jsonKeyMerge.set.%s", b->file, s->name, key),
					       (typed ? typed : v)->u.s.ptr, ctx, err);
			v = doc_new_strn(a, o.ptr ? o.ptr : "", o.len);
			kbuf_release(&o);
		} else if (typed) {
			v = (doc_node *)typed;
		}
		if (!rc && typed) {
			doc_node *j = NULL;
			kerr je = KERR_INIT;
			if (doc_load_json(&j, a, key, v->u.s.ptr, v->u.s.len, &je)) {
				rc = kerr_set_at(err, KE_INPUT, typed->file ? typed->file : b->file, typed->line, typed->col,
						 "stage %s: jsonKeyMerge set.%s: {json: ...} gave \"%s\", which is not JSON",
						 s->name, key, v->u.s.ptr);
				kerr_clear(&je);
				break;
			}
			v = j;
		}
		if (v->type == DOC_NULL && typed)
			continue;
		set->u.map.v[n] = set->u.map.v[k];
		set->u.map.v[n++].val = v;
	}
	set->u.map.len = n;
	*out = set;
	return rc;
}

/* Run the stage's ops in order. changed: an object of the stage changed
 * in this run; each op that changes something sets it too, and a
 * rolloutRestart when: changed runs only once it is set. */
static int run_ops(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, karena *a, rel_summary *sum,
		   bool changed_before, long timeout_ms, kerr *err)
{
	bool stage_changed = changed_before;
	size_t i;
	int rc = 0;
	kube_client *c = ctx->client;
	for (i = 0; i < s->nops && !rc; i++) {
		const rel_op *op = &s->ops[i];
		const char *ns, *name;
		if ((rc = kube_check_stop(c, err)) ||
		    (rc = rel_op_target(&ns, &name, a, b, s, op, stage_ns(ctx, s), ctx, err)))
			break;
		if (op->type == REL_OP_JSON_KEY_MERGE) {
			doc_node *set = NULL;
			bool changed = false;
			char *prior = NULL;
			const char *ref = karena_printf(a, "ConfigMap/%s/%s", ns, name);
			rc = op_set(&set, a, b, s, op, ctx, err);
			if (!rc)
				rc = kube_op_json_key_merge(c, a, ns, name, op->key, set, false, &changed, &prior, err);
			free(prior);
			if (!rc) {
				kube_emit(c, KEV_INFO, "op.done", changed ? "jsonKeyMerge: changed" : "jsonKeyMerge: unchanged",
					  "stage", s->name, "op", "jsonKeyMerge", "object", ref, "key", op->key,
					  "action", changed ? "changed" : "unchanged", NULL);
				if (changed)
					sum->ops_changed++;
				else
					sum->ops_unchanged++;
				stage_changed |= changed;
			}
		} else if (!op->always && !stage_changed) {
			const char *res, *ref = karena_printf(a, "%s/%s/%s", rel_restart_kind(op, &res), ns, name);
			kube_emit(c, KEV_INFO, "op.done", "rolloutRestart: not restarted (nothing in the stage changed)",
				  "stage", s->name, "op", "rolloutRestart", "object", ref, "action", "unchanged", NULL);
			sum->ops_unchanged++;
		} else {
			kube_obj o;
			kube_wait_item it;
			rc = kube_op_rollout_restart(c, a, op->kind, ns, name, false, &o, err);
			if (!rc) {
				kube_emit(c, KEV_INFO, "op.done", "rolloutRestart: restarted", "stage", s->name,
					  "op", "rolloutRestart", "object", o.ref, "action", "restarted", NULL);
				sum->ops_changed++;
				stage_changed = true;
				memset(&it, 0, sizeof(it));
				it.obj = &o;
				it.live = NULL;   /* the patch answer predates the controller: read again */
				rc = kube_wait(c, a, &it, 1, NULL, 0, timeout_ms, err);
			}
		}
		if (rc)
			kerr_wrap(err, "op %zu (%s)", i + 1, op->type == REL_OP_JSON_KEY_MERGE ? "jsonKeyMerge" : "rolloutRestart");
	}
	return rc;
}

/* Compare two semantic versions (a leading v, major.minor.patch, a
 * pre-release sorts before its release). <0, 0, >0. */
static int semver_cmp(const char *x, const char *y)
{
	long a[3] = { 0, 0, 0 }, b[3] = { 0, 0, 0 };
	const char *px = x + (*x == 'v'), *py = y + (*y == 'v');
	int i;
	for (i = 0; i < 3; i++) {
		char *e;
		a[i] = strtol(px, &e, 10);
		px = *e == '.' ? e + 1 : e;
		b[i] = strtol(py, &e, 10);
		py = *e == '.' ? e + 1 : e;
	}
	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	if (*px == '-' && *py != '-')
		return -1;
	if (*py == '-' && *px != '-')
		return 1;
	return strcmp(px, py) < 0 ? -1 : strcmp(px, py) > 0;
}

/* Chart CRDs: drop those the cluster has from a newer chart version
 * (Helm never upgrades CRDs; kstage does, but never downgrades them). */
static int keep_newer_crds(kube_client *c, karena *a, kube_obj *objs, size_t *n, const char *ns,
			   const char *stage, kerr *err)
{
	size_t i, k = 0;
	int rc = 0;
	for (i = 0; i < *n && !rc; i++) {
		const char *mine = objs[i].doc ? doc_get_str(objs[i].doc, "metadata.annotations.kstage\\.dev/chart-version", NULL)
					       : NULL;
		doc_node *live = NULL;
		kerr e = KERR_INIT;
		bool keep = true;
		if (mine && !(rc = kube_obj_resolve(c, a, &objs[i], ns, err))) {
			if (kube_get(c, a, &objs[i], &live, &e) == 0) {
				const char *theirs = doc_get_str(live, "metadata.annotations.kstage\\.dev/chart-version", NULL);
				if (theirs && semver_cmp(theirs, mine) > 0) {
					keep = false;
					kube_emit(c, KEV_INFO, "object.kept",
						  karena_printf(a, "%s: kept, the cluster has it from chart version %s (this is %s)",
								objs[i].ref, theirs, mine),
						  "stage", stage, "object", objs[i].ref, "action", "kept", NULL);
				}
			} else if (e.code != KE_NOTFOUND) {
				kerr_move(err, &e);
				rc = err->code;
			}
			kerr_clear(&e);
		}
		if (keep)
			objs[k++] = objs[i];
	}
	*n = k;
	return rc;
}
/* ---- one stage of a run ----
 *
 * A stage run holds every object the stage will touch, in install order,
 * before anything is sent; plan and apply walk the same kind groups
 * (objects of one kind and apiVersion): resolve, read what is live, send
 * the group in parallel, judge the answers. */

typedef struct stage_obj {
	kube_obj o;
	doc_node *before;       /* the live object before the run, NULL when absent or unread */
	bool known;             /* before was read (a LIST, or a plan's GET) */
	doc_node *live;         /* the server's answer (before, when nothing changes) */
	bool created;           /* the server answered 201 */
	bool unchanged;         /* apply: not sent, before already matches */
	bool ready;             /* apply: ready as applied; live is not kept, only rv */
	const char *rv;         /* apply: the answer's resourceVersion, when ready */
	bool in_new_ns;         /* plan: its namespace is created by this plan */
	const char *later;      /* plan: the stage whose CRD brings the kind (not sent) */
	const char *note;       /* plan: e.g. a field conflict (in a worker's arena) */
	kerr err;
} stage_obj;

typedef struct stage_run {
	const rel_bundle *b;
	const rel_stage *s;
	const rel_ctx *ctx;
	kube_client *c;
	const char *ns;         /* default namespace of the stage */
	bool plan;              /* dry-run every request */
	bool enabled;
	karena a;               /* the rendered objects and the answers */
	karena wa[MAX_WORKERS]; /* one per worker */
	size_t nw;
	stage_obj *v;
	size_t n;
	size_t settled;         /* the CRDs among v[0, settled) are Established and discovered */
	size_t changed;         /* apply: objects the server created or changed (resourceVersion moved) */
	long t0, timeout;
	rel_hooks hooks;        /* apply: a chart's Helm hooks */
} stage_run;

static long stage_left(const stage_run *r)
{
	return r->timeout - (now_ms() - r->t0);
}

/* Render the stage, sort it in install order and note its CRDs and
 * Namespaces in book. Nothing is sent but reads (chart CRD versions). */
static int stage_run_init(stage_run *r, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, bool plan,
			  kind_book *book, kerr *err)
{
	kube_obj *objs = NULL;
	size_t n = 0, i;
	bool helm;
	int rc;
	memset(r, 0, sizeof(*r));
	r->b = b;
	r->s = s;
	r->ctx = ctx;
	r->c = ctx->client;
	r->ns = stage_ns(ctx, s);
	r->plan = plan;
	r->nw = workers(ctx);
	r->t0 = now_ms();
	r->timeout = s->timeout_ms ? s->timeout_ms : ctx->timeout_ms ? ctx->timeout_ms : DEFAULT_TIMEOUT_MS;
	karena_init(&r->a);
	for (i = 0; i < r->nw; i++)
		karena_init(&r->wa[i]);
	helm = s->src == REL_SRC_CHART && ctx->field_manager && !strcmp(ctx->field_manager, "helm");
	/* an apply keeps the objects as text (helm's marks edit the trees) */
	if ((rc = rel_stage_render_hooks(&objs, &n, plan ? NULL : &r->hooks, !plan && !helm, &r->enabled, &r->a, b, s,
					 ctx, err)) ||
	    !r->enabled) {
		free(objs);
		return rc;
	}
	kube_objs_sort(objs, n);
	if (helm)
		rel_helm_mark(&r->a, objs, n, ctx->release_name ? ctx->release_name : b->name, r->ns);
	if (s->src == REL_SRC_CHART_CRDS && (rc = keep_newer_crds(r->c, &r->a, objs, &n, r->ns, s->name, err))) {
		free(objs);
		return rc;
	}
	r->v = xcalloc(n + 1, sizeof(*r->v));
	r->n = n;
	for (i = 0; i < n; i++) {
		r->v[i].o = objs[i];
		kind_book_add(book, &objs[i], s->name);
	}
	free(objs);
	return 0;
}

static void stage_run_release(stage_run *r)
{
	size_t i;
	for (i = 0; i < r->n; i++)
		kerr_clear(&r->v[i].err);
	free(r->v);
	for (i = 0; i < r->nw; i++)
		karena_release(&r->wa[i]);
	karena_release(&r->a);
}

/* Discovery learns the kinds of the stage's CRDs in [from, upto) from the
 * objects themselves, once they are Established: no refresh request. */
static void learn_crds(stage_run *r, size_t from, size_t upto)
{
	size_t i;
	for (i = from; i < upto; i++)
		if (!strcmp(r->v[i].o.kind, "CustomResourceDefinition"))
			kube_discovery_learn_crd(r->c, r->v[i].live ? r->v[i].live : r->v[i].o.doc);
}

/* Wait for the CRDs applied since the last call to be Established, then
 * let discovery learn their kinds. */
static int settle_crds(stage_run *r, size_t upto, kerr *err)
{
	kube_wait_item *it = xcalloc(upto - r->settled + 1, sizeof(*it));
	size_t i, k = 0, from = r->settled;
	int rc = 0;
	for (i = r->settled; i < upto; i++) {
		if (strcmp(r->v[i].o.kind, "CustomResourceDefinition"))
			continue;
		it[k].obj = &r->v[i].o;
		it[k++].live = r->v[i].live;
	}
	r->settled = upto;
	if (k && !(rc = kube_wait(r->c, &r->a, it, k, NULL, 0, stage_left(r), err)))
		learn_crds(r, from, upto);
	free(it);
	return k ? rc : KE_NOTFOUND;
}

/* Map the objects of group [g0, g1) to resources. A kind that a CRD of
 * this run brings may be missing from discovery: apply waits for the CRDs
 * it has applied and for discovery to learn the kind; a plan marks the
 * objects "created after" the stage that brings it. */
static int resolve_group(stage_run *r, const kind_book *book, size_t g0, size_t g1, kerr *err)
{
	size_t i;
	int rc = 0;
	for (i = g0; i < g1 && !rc; i++) {
		stage_obj *so = &r->v[i];
		const planned_kind *pk;
		rc = kube_obj_resolve(r->c, &r->a, &so->o, r->ns, err);
		if (rc != KE_NOTFOUND || !(pk = find_kind(book, &so->o)))
			continue;
		kerr_clear(err);
		if (r->plan) {
			if (!so->o.ns && pk->namespaced)
				so->o.ns = r->ns;
			so->later = pk->stage;
			rc = 0;
			continue;
		}
		if (r->settled < g0 && (rc = settle_crds(r, g0, err)) != KE_NOTFOUND) {
			if (!rc)
				rc = kube_obj_resolve(r->c, &r->a, &so->o, r->ns, err);
			if (rc != KE_NOTFOUND)
				continue;
		}
		{
			/* its CRD is Established; the server's discovery may lag a
			 * moment (a signal stops the wait) */
			int tries = 0;
			do {
				struct timespec ts = { 0, 200000000L };
				kerr_clear(err);
				if ((rc = kube_check_stop(r->c, err)))
					break;
				nanosleep(&ts, NULL);
				if (!(rc = kube_discovery_refresh(r->c, err)))
					rc = kube_obj_resolve(r->c, &r->a, &so->o, r->ns, err);
			} while (++tries < 25 && rc == KE_NOTFOUND && stage_left(r) > 0);
		}
	}
	return rc;
}

/* Applying o (as field_manager) would change nothing in live; o's text
 * is read in a scratch arena when it is kept as text. */
static bool would_not_change(const kube_obj *o, const doc_node *live, const char *field_manager)
{
	karena t = KARENA_INIT;
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	bool same = !kube_obj_doc(o, &t, &d, &e) && kube_apply_is_noop(d, live, field_manager);
	kerr_clear(&e);
	karena_release(&t);
	return same;
}

/* Big runs of one namespace in a group: one LIST instead of a GET each (or
 * what the journal read before the stage), and apply leaves out the
 * objects that would not change. */
static void read_group(stage_run *r, size_t g0, size_t g1)
{
	size_t i, r0, r1;
	for (r0 = g0; r0 < g1; r0 = r1) {
		const char *ns = r->v[r0].o.ns;
		for (r1 = r0 + 1; r1 < g1 && !r->v[r1].later &&
				  ((!r->v[r1].o.ns && !ns) || (r->v[r1].o.ns && ns && !strcmp(r->v[r1].o.ns, ns)));
		     r1++)
			;
		if (r->v[r0].later || (!r->v[r0].known && r1 - r0 < UNCHANGED_LIST_MIN))
			continue;
		if (!r->v[r0].known) {
			kube_obj *objs = xcalloc(r1 - r0, sizeof(*objs));
			doc_node **found = xcalloc(r1 - r0, sizeof(*found));
			kerr e = KERR_INIT;
			for (i = r0; i < r1; i++)
				objs[i - r0] = r->v[i].o;
			if (!list_group(r->c, &r->a, objs, r1 - r0, found, &e))
				for (i = r0; i < r1; i++) {
					r->v[i].known = true;
					r->v[i].before = found[i - r0];
				}
			kerr_clear(&e);
			free(objs);
			free(found);
		}
		for (i = r0; i < r1 && !r->plan; i++) {
			stage_obj *so = &r->v[i];
			if (so->known && so->before && would_not_change(&so->o, so->before, r->ctx->field_manager)) {
				so->unchanged = true;
				so->live = so->before;
			}
		}
	}
}

/* A plan's note for a field-manager conflict: each field and its owner,
 * from the answer's causes. */
static const char *conflict_note(karena *a, const kerr *e)
{
	kbuf m = KBUF_INIT;
	const char *note;
	kbuf_puts(&m, "needs --force-conflicts: ");
	kube_conflict_fields(&m, e);
	note = karena_strndup(a, m.ptr, m.len);
	kbuf_release(&m);
	return note;
}

typedef struct group_ctx {
	stage_run *r;
	size_t g0;
} group_ctx;

/* What the run keeps of an apply's answer (in a): the whole object, or,
 * when it is ready as applied (a ConfigMap, a Service), only its
 * resourceVersion (obj_changed); the wait then has nothing to read, and a
 * stage of thousands of objects does not keep thousands of answers. CRDs
 * stay whole (discovery learns from them). */
static void keep_answer(const stage_run *r, stage_obj *so, karena *a, const doc_node *live)
{
	if (strcmp(so->o.kind, "CustomResourceDefinition") && kube_health(live, r->s->rules, r->s->nrules, NULL) == KUBE_READY) {
		const char *rv = doc_get_str(live, "metadata.resourceVersion", NULL);
		so->ready = true;
		so->rv = rv ? karena_strdup(a, rv) : NULL;
		so->live = NULL;
		return;
	}
	so->live = doc_copy(a, live);
}

/* One object of a group (a worker): apply it, or for a plan read it, and
 * dry-run it unless nothing would change. A plan retries a field-manager
 * conflict with force to show the diff, and notes the conflict. */
static void send_one(void *u, size_t i, karena *a)
{
	group_ctx *g = u;
	stage_run *r = g->r;
	stage_obj *so = &r->v[g->g0 + i];
	/* an apply keeps every answer for the wait: without managedFields */
	kube_apply_opts opts = { r->ctx->force, r->plan, r->ctx->field_manager, so->known && !so->before, !r->plan };
	if (so->later || so->unchanged)
		return;
	if (r->plan && !so->known) {
		kerr e = KERR_INIT;
		so->known = true;
		if (kube_get(r->c, a, &so->o, &so->before, &e) != 0) {
			so->before = NULL;
			if (e.code != KE_NOTFOUND) {
				kerr_move(&so->err, &e);
				return;
			}
		}
		kerr_clear(&e);
	}
	if (r->plan && so->before && would_not_change(&so->o, so->before, r->ctx->field_manager)) {
		so->live = so->before;   /* nothing would change: no need to ask the server */
		return;
	}
	if (!r->plan) {
		/* the manifest (kept as text) and the answer live in t */
		karena t = KARENA_INIT;
		doc_node *live = NULL;
		kube_obj o = so->o;
		so->live = NULL;
		if (!kube_obj_doc(&so->o, &t, &o.doc, &so->err) &&
		    kube_apply(r->c, &t, &o, &opts, &live, &so->created, &so->err) == 0)
			keep_answer(r, so, a, live);
		karena_release(&t);
		return;
	}
	if (kube_apply(r->c, a, &so->o, &opts, &so->live, &so->created, &so->err) == 0)
		return;
	so->live = NULL;
	if (r->plan && so->err.code == KE_CONFLICT && !opts.force && kerr_find_cause(&so->err, "FieldManagerConflict")) {
		kerr e = KERR_INIT;
		const char *note = conflict_note(a, &so->err);
		opts.force = true;
		if (kube_apply(r->c, a, &so->o, &opts, &so->live, NULL, &e) == 0) {
			kerr_clear(&so->err);
			so->note = note;
		}
		kerr_clear(&e);
	}
}

/* The first failure of group [g0, g1) into err. A plan takes a 404 for an
 * object whose namespace the plan creates as "created". */
static int group_result(stage_run *r, const kind_book *book, size_t g0, size_t g1, kerr *err)
{
	size_t i, nbad = 0, first = g1;
	for (i = g0; i < g1; i++) {
		stage_obj *so = &r->v[i];
		if (r->plan && so->err.code == KE_NOTFOUND && so->o.ns && ns_planned(book, so->o.ns) && !so->before) {
			kerr_clear(&so->err);
			so->in_new_ns = true;
		}
		if (so->err.code) {
			nbad++;
			if (first == g1)
				first = i;
		}
	}
	if (!nbad)
		return 0;
	kerr_move(err, &r->v[first].err);
	if (!r->plan && nbad > 1)
		kerr_wrap(err, "%zu of %zu %s objects failed; the first", nbad, g1 - g0, r->v[g0].o.kind);
	return err->code;
}

/* Walk the kind groups in install order: resolve, read, send in parallel,
 * judge; stop at the first group that fails, or before a group once the
 * client's stop flag is set. after(r, g0, g1) sees each
 * group that was sent, before its failures are judged. */
static int stage_run_groups(stage_run *r, kind_book *book, void (*after)(stage_run *r, size_t g0, size_t g1, void *u),
			    void *u, kerr *err)
{
	size_t g0, g1;
	int rc = 0;
	for (g0 = 0; g0 < r->n && !rc; g0 = g1) {
		group_ctx g = { r, g0 };
		for (g1 = g0 + 1; g1 < r->n && !strcmp(r->v[g1].o.kind, r->v[g0].o.kind) &&
				  !strcmp(r->v[g1].o.api_version, r->v[g0].o.api_version);
		     g1++)
			;
		/* a signal; the Lease kept between groups */
		if ((rc = kube_wait_check(r->c, err)) || (rc = resolve_group(r, book, g0, g1, err)))
			break;
		read_group(r, g0, g1);
		kube_parallel(g1 - g0, r->nw, send_one, &g, r->wa);
		if (after)
			after(r, g0, g1, u);
		rc = group_result(r, book, g0, g1, err);
	}
	return rc;
}

/* ---- apply ---- */

/* Did applying so change the object? Created, or its resourceVersion
 * moved; when the prior state was not read, say yes. */
static bool obj_changed(const stage_obj *so)
{
	const char *was, *is;
	if (so->unchanged)
		return false;
	if (so->created || !so->known || !so->before || (!so->live && !so->ready))
		return true;
	was = doc_get_str(so->before, "metadata.resourceVersion", NULL);
	is = so->live ? doc_get_str(so->live, "metadata.resourceVersion", NULL) : so->rv;
	return !was || !is || strcmp(was, is);
}

static void applied(stage_run *r, size_t g0, size_t g1, void *u)
{
	rel_summary *sum = u;
	size_t i;
	for (i = g0; i < g1; i++) {
		const stage_obj *so = &r->v[i];
		const char *act = so->unchanged ? "unchanged" : so->created ? "created" : "applied";
		if (so->err.code)
			continue;
		if (obj_changed(so))
			r->changed++;
		if (so->unchanged)
			sum->unchanged++;
		else if (so->created)
			sum->created++;
		else
			sum->applied++;
		kube_emit(r->c, KEV_INFO, "object.applied", so->o.ref, "stage", r->s->name, "object", so->o.ref,
			  "action", act, NULL);
	}
}

/* Wait for the stage to be healthy: every object, or only its CRDs with
 * wait: false. */
static int stage_wait(stage_run *r, kerr *err)
{
	kube_wait_item *it = xcalloc(r->n + 1, sizeof(*it));
	size_t i, k = 0;
	int rc = 0;
	size_t nready = 0;
	for (i = 0; i < r->n; i++) {
		if (!r->s->wait && strcmp(r->v[i].o.kind, "CustomResourceDefinition"))
			continue;
		if (r->v[i].ready) {
			nready++;   /* ready as applied: nothing to wait for */
			continue;
		}
		it[k].obj = &r->v[i].o;
		it[k++].live = r->v[i].live;
	}
	if (k + nready) {
		char num[32];
		snprintf(num, sizeof(num), "%zu", k + nready);
		kube_emit(r->c, KEV_INFO, "stage.waiting",
			  karena_printf(&r->a, "stage %s: waiting for %zu object%s", r->s->name, k + nready,
					k + nready == 1 ? "" : "s"),
			  "stage", r->s->name, "objects", num, NULL);
		if (k)
			rc = kube_wait(r->c, &r->a, it, k, r->s->rules, r->s->nrules, stage_left(r), err);
		if (rc == KE_TIMEOUT)
			kerr_wrap(err, "not healthy within the stage timeout (%.0fs)", (double)r->timeout / 1000.0);
	}
	free(it);
	return rc;
}

/* ---- the write-ahead journal ---- */

/* Journal the object an op changes: read it (ops are few: one GET each),
 * and for a jsonKeyMerge note the exact prior string of its key. */
static int journal_op(stage_run *r, rel_journal *j, rel_rec_stage *st, const rel_op *op, kerr *err)
{
	const char *ns, *name, *resource = "configmaps", *kind = "ConfigMap", *apiv = "v1";
	kbuf p = KBUF_INIT;
	doc_node *live = NULL;
	rel_rec_object *e;
	kerr ge = KERR_INIT;
	int rc = rel_op_target(&ns, &name, &r->a, r->b, r->s, op, r->ns, r->ctx, err);
	if (rc)
		return rc;
	if (op->type == REL_OP_ROLLOUT_RESTART) {
		kind = rel_restart_kind(op, &resource);
		apiv = "apps/v1";
	}
	kbuf_puts(&p, op->type == REL_OP_ROLLOUT_RESTART ? "/apis/apps/v1/namespaces/" : "/api/v1/namespaces/");
	kube_path_escape(&p, ns);
	kbuf_printf(&p, "/%s/", resource);
	kube_path_escape(&p, name);
	if (kube_get_json(r->c, &r->a, p.ptr, &live, karena_printf(&r->a, "%s/%s/%s", kind, ns, name), &ge)) {
		live = NULL;
		if (ge.code != KE_NOTFOUND) {
			kerr_move(err, &ge);
			rc = err->code;
		}
	}
	kerr_clear(&ge);
	kbuf_release(&p);
	if (rc)
		return rc;
	e = rel_record_add_object(j->a, st, apiv, kind, ns, name, live ? doc_copy(j->a, live) : NULL);
	e->keep = r->s->rollback && !strcmp(r->s->rollback, "keep");
	if (op->type == REL_OP_JSON_KEY_MERGE) {
		const doc_node *v = live ? doc_get_path(live, "data") : NULL;
		e->key = karena_strdup(j->a, op->key);
		v = v && v->type == DOC_MAP ? doc_map_get(v, op->key) : NULL;
		if (v && v->type == DOC_STR) {
			e->key_prior = karena_strndup(j->a, v->u.s.ptr, v->u.s.len);
			e->key_prior_len = v->u.s.len;
		}
	}
	return 0;
}

const char *rel_yaml_stream(karena *a, const doc_node *const *docs, size_t n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	size_t i;
	const char *m;
	for (i = 0; i < n; i++) {
		kbuf_puts(&b, "---\n");
		doc_emit_yaml(&b, docs[i], 0, &e);
		kerr_clear(&e);
	}
	m = karena_strndup(a, b.ptr ? b.ptr : "", b.len);
	kbuf_release(&b);
	return m;
}

/* The stage's rendered objects as one YAML stream (as rel_yaml_stream;
 * each object kept as text is read in a scratch arena of its own). */
static const char *stage_manifest(karena *a, const stage_run *r)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	size_t i;
	const char *m;
	for (i = 0; i < r->n; i++) {
		karena t = KARENA_INIT;
		doc_node *d = NULL;
		if (!kube_obj_doc(&r->v[i].o, &t, &d, &e)) {
			kbuf_puts(&b, "---\n");
			doc_emit_yaml(&b, d, 0, &e);
		}
		kerr_clear(&e);
		karena_release(&t);
	}
	m = karena_strndup(a, b.ptr ? b.ptr : "", b.len);
	kbuf_release(&b);
	return m;
}

/* Stage run r may change something: it has ops, or an object that is
 * absent (or of a kind not served yet) or that would not be left out as
 * unchanged (read_group). */
static bool stage_may_change(const stage_run *r)
{
	size_t i;
	if (r->s->nops)
		return true;
	for (i = 0; i < r->n; i++)
		if (!r->v[i].before || !would_not_change(&r->v[i].o, r->v[i].before, NULL))
			return true;
	return false;
}

static bool is_namespace(const kube_obj *o)
{
	return !strcmp(o->kind, "Namespace") && !strcmp(o->api_version, "v1");
}

/* ns is a Namespace of stage run r that its journal found absent (done):
 * its objects are absent too, without a LIST (a first install into a new
 * namespace). */
static bool namespace_absent(const stage_run *r, const bool *done, const char *ns)
{
	size_t i;
	for (i = 0; ns && i < r->n; i++)
		if (done[i] && !r->v[i].before && is_namespace(&r->v[i].o) && !strcmp(r->v[i].o.name, ns))
			return true;
	return false;
}

/* Before stage run r changes anything: the prior state of every object it
 * will touch into the record, then the record into the store (not for a
 * stage that changes nothing: the next write carries it). Objects are
 * read with one LIST per kind and namespace; an object whose kind comes
 * with a CRD of this run (not served yet) is "absent". */
static int journal_stage(stage_run *r, const kind_book *book, rel_rec_stage *st, kerr *err)
{
	rel_journal *j = r->ctx->journal;
	bool keep_stage = r->s->rollback && !strcmp(r->s->rollback, "keep");
	bool *done = xcalloc(r->n + 1, sizeof(*done));
	const char **ns = xcalloc(r->n + 1, sizeof(*ns));
	size_t *idx = xcalloc(r->n + 1, sizeof(*idx));
	kube_obj *objs = xcalloc(r->n + 1, sizeof(*objs));
	doc_node **found = xcalloc(r->n + 1, sizeof(*found));
	size_t i, k, m;
	int pass, rc = 0;
	for (i = 0; i < r->n && !rc; i++) {
		stage_obj *so = &r->v[i];
		const planned_kind *pk;
		rc = kube_obj_resolve(r->c, &r->a, &so->o, r->ns, err);
		ns[i] = so->o.ns;
		if (rc == KE_NOTFOUND && (pk = find_kind(book, &so->o))) {
			kerr_clear(err);
			rc = 0;
			if (!ns[i] && pk->namespaced)
				ns[i] = r->ns;
			done[i] = so->known = true;
		}
	}
	/* the stage's Namespaces first: nothing is in one that is absent */
	for (pass = 0; pass < 2 && !rc; pass++)
		for (i = 0; i < r->n && !rc; i++) {
			if (done[i] || is_namespace(&r->v[i].o) != (pass == 0))
				continue;
			for (k = i, m = 0; k < r->n; k++)
				if (!done[k] && !strcmp(r->v[k].o.kind, r->v[i].o.kind) &&
				    !strcmp(r->v[k].o.api_version, r->v[i].o.api_version) &&
				    (ns[k] == ns[i] || (ns[k] && ns[i] && !strcmp(ns[k], ns[i])))) {
					idx[m] = k;
					objs[m++] = r->v[k].o;
					found[m - 1] = NULL;
				}
			if (!namespace_absent(r, done, ns[i]) && (rc = list_group(r->c, &r->a, objs, m, found, err)))
				break;
			for (k = 0; k < m; k++) {
				done[idx[k]] = r->v[idx[k]].known = true;
				r->v[idx[k]].before = found[k];
			}
		}
	for (i = 0; i < r->n && !rc; i++) {
		const stage_obj *so = &r->v[i];
		rel_rec_object *e = rel_record_add_object(j->a, st, so->o.api_version, so->o.kind, ns[i], so->o.name,
							  so->before ? doc_copy(j->a, so->before) : NULL);
		e->keep = keep_stage || !strcmp(so->o.kind, "CustomResourceDefinition");
	}
	for (i = 0; i < r->s->nops && !rc; i++)
		rc = journal_op(r, j, st, &r->s->ops[i], err);
	free(done);
	free(ns);
	free(idx);
	free(objs);
	free(found);
	if (rc) {
		kerr_wrap(err, "journal of the prior state");
		return rc;
	}
	st->manifest = stage_manifest(j->a, r);
	st->result = REL_SR_RUNNING;
	st->started_ms = rel_now_ms();
	return stage_may_change(r) ? rel_journal_save(j, err) : 0;
}

/* The stage's outcome into the record (the next write stores it: the
 * journal of the next stage that changes anything, or the run's end). */
static void journal_stage_end(rel_journal *j, rel_rec_stage *st, int rc, const kerr *why)
{
	st->result = rc ? REL_SR_FAILED : REL_SR_SUCCEEDED;
	st->finished_ms = rel_now_ms();
	if (rc) {
		kbuf m = KBUF_INIT;
		kerr_format_short(why, &m);
		st->error = karena_strndup(j->a, m.ptr ? m.ptr : "", m.len);
		kbuf_release(&m);
	}
}

/* Render the stage's outputs (the stage is healthy; lookup sees it live),
 * report each and keep them for later stages' .Outputs. */
static int stage_outputs(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, karena *a, kerr *err)
{
	doc_node *mine = NULL;
	size_t i;
	int rc = 0;
	if (ctx->outputs) {
		mine = doc_new_map(ctx->outputs_a);
		doc_map_set(ctx->outputs_a, ctx->outputs, s->name, mine);
	}
	for (i = 0; i < s->noutputs && !rc; i++) {
		const rel_output *o = &s->outputs[i];
		kbuf v = KBUF_INIT;
		rc = rel_render_string(&v, a, b, karena_printf(a, "%s:stage %s:outputs.%s", b->file, s->name, o->key),
				       o->tmpl->u.s.ptr, ctx, err);
		if (rc) {
			kerr_wrap(err, "output %s", o->key);
		} else {
			const char *val = v.ptr ? v.ptr : "";
			kube_emit(ctx->client, KEV_INFO, "stage.output", karena_printf(a, "stage %s: %s = %s", s->name, o->key, val),
				  "stage", s->name, "output", o->key, "value", val, NULL);
			if (mine)
				doc_map_set(ctx->outputs_a, mine, o->key, doc_new_strn(ctx->outputs_a, val, v.len));
		}
		kbuf_release(&v);
	}
	return rc;
}

/* A test's cleanup deleted o: apply marks its journal entries in this
 * run's record, verify lists it for the release's record (ctx->cleaned),
 * so that a rollback or uninstall does not try to re-create it. */
static void note_cleaned(const rel_ctx *ctx, const kube_obj *o)
{
	rel_rec_object id;
	memset(&id, 0, sizeof(id));
	id.api_version = o->api_version;
	id.kind = o->kind;
	id.ns = o->ns;
	id.name = o->name;
	if (ctx->journal)
		rel_record_mark_cleaned(ctx->journal->rec, &id);
	if (ctx->cleaned)
		rel_record_add_object(ctx->cleaned_a, ctx->cleaned, o->api_version, o->kind, o->ns, o->name, NULL);
}

/* The stage's test, then its cleanup (whether the test passed or not):
 * the stage's objects deleted in reverse order and waited until gone. */
static int stage_test(stage_run *r, kerr *err)
{
	kerr ce = KERR_INIT;
	bool clean = false;
	size_t i;
	int rc = rel_stage_test(r->b, r->s, r->ctx, &r->a, err), crc;
	crc = rel_stage_cleanup_wanted(&clean, &r->a, r->b, r->s, r->ctx, &ce);
	for (i = r->n; !crc && clean && i-- > 0;) {
		bool was;
		long left = stage_left(r);
		if ((crc = rel_delete_wait(r->c, &r->a, &r->v[i].o, left > 30000 ? left : 30000, &was, &ce)))
			break;
		kube_emit(r->c, KEV_INFO, "test.cleanup", karena_printf(&r->a, "%s: deleted (test cleanup)", r->v[i].o.ref),
			  "stage", r->s->name, "object", r->v[i].o.ref, "action", "deleted", NULL);
		note_cleaned(r->ctx, &r->v[i].o);
	}
	if (crc && !rc) {
		kerr_move(err, &ce);
		rc = crc;
		kerr_wrap(err, "test cleanup");
	}
	kerr_clear(&ce);
	return rc;
}

/* A chart's hooks: resolved, and kept in the record (uninstall and
 * rollback run theirs from there). */
static int keep_hooks(stage_run *r, kerr *err)
{
	rel_journal *j = r->ctx->journal;
	rel_rec_stage *hs;
	const char *m;
	int rc;
	if ((rc = rel_hooks_resolve(&r->hooks, r->c, &r->a, r->ns, err)) || !j)
		return rc;
	m = rel_hooks_manifest(j->a, &r->hooks);
	if ((hs = rel_record_stage(j->rec, REL_HOOKS_STAGE))) {
		hs->manifest = karena_printf(j->a, "%s%s", hs->manifest ? hs->manifest : "", m);
	} else {
		hs = rel_record_add_stage(j->a, j->rec, REL_HOOKS_STAGE);
		hs->manifest = m;
		hs->result = REL_SR_SKIPPED;   /* nothing to roll back: hooks are not journaled */
	}
	return 0;
}

/* Run the stage's hooks of event within the stage's time. */
static int stage_hooks(stage_run *r, unsigned event, kerr *err)
{
	size_t ran = 0;
	long left = stage_left(r);
	int rc = rel_hooks_run(r->c, &r->hooks, event, left > 1000 ? left : 1000, false, &ran, err);
	if (!rc && ran)
		kube_emit(r->c, KEV_INFO, "hook.done",
			  karena_printf(&r->a, "stage %s: %zu %s hook%s done", r->s->name, ran, rel_hook_event_name(event),
					ran == 1 ? "" : "s"),
			  "stage", r->s->name, "hook", rel_hook_event_name(event), NULL);
	return rc;
}

static int apply_stage(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, rel_summary *sum, kind_book *book,
		       kerr *err)
{
	stage_run r;
	kube_client *c = ctx->client;
	rel_journal *j = ctx->journal;
	rel_rec_stage *st = j ? rel_record_add_stage(j->a, j->rec, s->name) : NULL;
	bool journaled = false;
	char num[32];
	int rc = stage_run_init(&r, b, s, ctx, false, book, err);
	if (rc)
		goto out;
	if (!r.enabled) {
		kube_emit(c, KEV_INFO, "stage.skipped", karena_printf(&r.a, "stage %s: skipped (enabled is false)", s->name),
			  "stage", s->name, NULL);
		sum->stages_skipped++;
		if (st)
			st->result = REL_SR_SKIPPED;
		goto out;
	}
	snprintf(num, sizeof(num), "%zu", r.n);
	kube_emit(c, KEV_INFO, "stage.start", karena_printf(&r.a, "stage %s: %zu object%s%s", s->name, r.n, r.n == 1 ? "" : "s",
							    s->nops ? karena_printf(&r.a, ", %zu op%s", s->nops, s->nops == 1 ? "" : "s") : ""),
		  "stage", s->name, "objects", num, NULL);
	if (r.hooks.n && (rc = keep_hooks(&r, err)))
		goto out;
	if (st && (rc = journal_stage(&r, book, st, err)))
		goto out;
	journaled = st != NULL;
	if (r.hooks.n && (rc = stage_hooks(&r, ctx->is_upgrade ? REL_HOOK_PRE_UPGRADE : REL_HOOK_PRE_INSTALL, err)))
		goto out;
	if ((rc = stage_run_groups(&r, book, applied, sum, err)) || (rc = stage_wait(&r, err)))
		goto out;
	learn_crds(&r, 0, r.n);
	if (ctx->lookup)
		rel_lookup_forget(ctx->lookup);   /* the cluster changed: ops and outputs look again */
	if (s->nops && (rc = run_ops(b, s, ctx, &r.a, sum, r.changed > 0, stage_left(&r) > 1000 ? stage_left(&r) : 1000, err)))
		goto out;
	if (s->nops && ctx->lookup)
		rel_lookup_forget(ctx->lookup);
	if (s->noutputs && (rc = stage_outputs(b, s, ctx, &r.a, err)))
		goto out;
	if (s->test && (rc = stage_test(&r, err)))
		goto out;
	if (r.hooks.n && (rc = stage_hooks(&r, ctx->is_upgrade ? REL_HOOK_POST_UPGRADE : REL_HOOK_POST_INSTALL, err)))
		goto out;
	{
		char el[32];
		snprintf(el, sizeof(el), "%.1fs", (double)(now_ms() - r.t0) / 1000.0);
		kube_emit(c, KEV_INFO, "stage.done", karena_printf(&r.a, "stage %s: ready in %s", s->name, el),
			  "stage", s->name, "elapsed", el, NULL);
	}
	sum->stages_done++;
out:
	if (rc)
		kerr_wrap(err, "stage %s", s->name);
	if (journaled) {
		journal_stage_end(j, st, rc, err);
	} else if (st && rc) {
		st->result = REL_SR_FAILED;
	}
	if (rc)
		sum->failed_stage = s->name;
	stage_run_release(&r);
	return rc;
}

int rel_check_stages(const rel_bundle *b, const rel_ctx *ctx, kerr *err)
{
	size_t i, j;
	for (i = 0; i < ctx->nonly; i++) {
		for (j = 0; j < b->nstages && strcmp(b->stages[j].name, ctx->only[i]); j++)
			;
		if (j == b->nstages) {
			kbuf names = KBUF_INIT;
			int rc;
			for (j = 0; j < b->nstages; j++)
				kbuf_printf(&names, "%s%s", j ? ", " : "", b->stages[j].name);
			rc = kerr_set(err, KE_USAGE, "--stage \"%s\": no such stage in %s (stages: %s)", ctx->only[i],
				      b->file ? b->file : "the bundle", names.len ? names.ptr : "none");
			kbuf_release(&names);
			return rc;
		}
	}
	return 0;
}

size_t *rel_stage_order(karena *a, const rel_bundle *b)
{
	size_t *v = karena_alloc(a, (b->nstages + 1) * sizeof(*v));
	size_t n = 0, i, k;
	int post;
	for (i = 0; i < b->nstages; i++) {
		if (b->stages[i].hook_of)
			continue;
		for (post = 0; post < 2; post++) {
			if (post)
				v[n++] = i;
			for (k = 0; k < b->nstages; k++)
				if (b->stages[k].hook_of && b->stages[k].hook_post == (post == 1) && b->stages[i].name &&
				    !strcmp(b->stages[k].hook_of, b->stages[i].name))
					v[n++] = k;
		}
	}
	return v;   /* every hook names a stage that is no hook (rel_bundle_load checks): n == nstages */
}

/* Whether stage s runs in this run: a hook stage only on its events. */
static bool runs_now(const rel_stage *s, const rel_ctx *ctx)
{
	return !s->hook_of || (s->hook_events & (ctx->is_upgrade ? REL_STAGE_ON_UPGRADE : REL_STAGE_ON_INSTALL));
}

/* A hook stage whose events do not include this run's: said, not recorded
 * (its objects of an earlier revision stay, as a --stage filter leaves them). */
static bool hook_not_now(const rel_stage *s, const rel_ctx *ctx)
{
	if (runs_now(s, ctx))
		return false;
	kev_emitf(ctx->sink, KEV_INFO, "stage.skipped", "stage %s: not run (a hook of stage %s on %s, this run is %s)",
		  s->name, s->hook_of,
		  s->hook_events & REL_STAGE_ON_INSTALL ? "install" : "upgrade", ctx->is_upgrade ? "an upgrade" : "an install");
	return true;
}

int rel_apply(const rel_bundle *b, const rel_ctx *ctx, rel_summary *sum, kerr *err)
{
	size_t i, *order;
	int rc;
	kind_book book;
	karena oa = KARENA_INIT;
	memset(sum, 0, sizeof(*sum));
	if ((rc = rel_check_stages(b, ctx, err)) || (rc = kube_discovery_load(ctx->client, err)))
		return rc;
	if (ctx->create_namespace && (rc = rel_namespace_create(ctx, sum, err)))
		return rc;
	kind_book_init(&book);
	order = rel_stage_order(&oa, b);
	for (i = 0; i < b->nstages && !rc; i++) {
		const rel_stage *s = &b->stages[order[i]];
		if (rel_stage_selected(ctx, s) && !s->checks && !hook_not_now(s, ctx))
			rc = apply_stage(b, s, ctx, sum, &book, err);
	}
	karena_release(&oa);
	kind_book_release(&book);
	if (rc)
		rel_namespace_hint(ctx, err);
	return rc;
}

static bool has_chart(const rel_bundle *b)
{
	size_t i;
	for (i = 0; i < b->nstages; i++)
		if (b->stages[i].src == REL_SRC_CHART)
			return true;
	return false;
}

static bool record_lists(const rel_record *rec, const rel_rec_object *id)
{
	size_t i, k;
	for (i = 0; i < rec->nstages; i++)
		for (k = 0; k < rec->stages[i].nobjects; k++)
			if (rel_rec_object_same(&rec->stages[i].objects[k], id))
				return true;
	return false;
}

/* verify --keep-test: the objects the selected, enabled test stages would
 * keep, each listed in the release's deployed record (ctx->deployed), so
 * that its uninstall or rollback undoes them; else refused, nothing changed. */
static int keep_test_recorded(const rel_bundle *b, const rel_ctx *ctx, kerr *err)
{
	const char *rel = ctx->release_name ? ctx->release_name : b->name;
	kbuf missing = KBUF_INIT;
	kind_book book;
	size_t i, k, nmiss = 0;
	int rc = 0;
	kind_book_init(&book);
	for (i = 0; i < b->nstages && !rc; i++) {
		const rel_stage *s = &b->stages[i];
		stage_run r;
		if (!s->test || !rel_stage_selected(ctx, s))
			continue;
		rc = stage_run_init(&r, b, s, ctx, true, &book, err);
		for (k = 0; !rc && r.enabled && k < r.n; k++) {
			rel_rec_object id;
			kerr e = KERR_INIT;
			kube_obj *o = &r.v[k].o;
			if (kube_obj_resolve(r.c, &r.a, o, r.ns, &e) == KE_NOTFOUND && !o->ns)
				o->ns = r.ns;   /* its kind is not served yet: namespaced as the stage's */
			kerr_clear(&e);
			memset(&id, 0, sizeof(id));
			id.api_version = o->api_version;
			id.kind = o->kind;
			id.ns = o->ns;
			id.name = o->name;
			if (!ctx->deployed || !record_lists(ctx->deployed, &id)) {
				kbuf_printf(&missing, "%s%s", nmiss ? ", " : "", rel_rec_object_ref(&r.a, &id));
				nmiss++;
			}
		}
		stage_run_release(&r);
	}
	kind_book_release(&book);
	if (!rc && nmiss && !ctx->deployed)
		rc = kerr_set(err, KE_USAGE,
			      "--keep-test would keep %s, and release %s has no deployed revision to record them in "
			      "(no uninstall or rollback would remove them): apply the bundle first, or verify without "
			      "--keep-test; nothing was changed", missing.ptr, rel);
	else if (!rc && nmiss)
		rc = kerr_set(err, KE_USAGE,
			      "--keep-test would keep %s, which release %s revision %d does not list (no uninstall or "
			      "rollback would remove %s): `kstage apply --keep-test` applies and records the test's "
			      "objects, or verify without --keep-test; nothing was changed", missing.ptr, rel,
			      ctx->deployed->revision, nmiss == 1 ? "it" : "them");
	kbuf_release(&missing);
	return rc;
}

int rel_verify(const rel_bundle *b, const rel_ctx *ctx, rel_summary *sum, kerr *err)
{
	size_t i, ntests = 0;
	int rc;
	kind_book book;
	memset(sum, 0, sizeof(*sum));
	if ((rc = rel_check_stages(b, ctx, err)) || (rc = kube_discovery_load(ctx->client, err)) ||
	    (rc = rel_preflight(b, ctx, NULL, err)) || (ctx->keep_test && (rc = keep_test_recorded(b, ctx, err))))
		return rc;
	kind_book_init(&book);
	for (i = 0; i < b->nstages && !rc; i++) {
		const rel_stage *s = &b->stages[i];
		bool on;
		karena a;
		if (s->checks)
			continue;
		if (s->test) {
			if (!rel_stage_selected(ctx, s))
				continue;
			ntests++;
			rc = apply_stage(b, s, ctx, sum, &book, err);
			continue;
		}
		if (!s->noutputs)
			continue;
		karena_init(&a);
		if (!(rc = rel_stage_enabled(&on, &a, b, s, ctx, err)) && on)
			rc = stage_outputs(b, s, ctx, &a, err);
		if (rc)
			kerr_wrap(err, "stage %s", s->name);
		karena_release(&a);
	}
	kind_book_release(&book);
	if (!rc && ctx->prior && !ctx->nonly) {
		size_t ran = 0;
		rc = rel_hooks_test(ctx, ctx->prior, ctx->test_logs, &ran, err);
		ntests += ran;
	}
	if (!rc && !ntests && has_chart(b) && !ctx->nonly && ctx->prior)
		rc = kerr_set(err, KE_USAGE, "%s has no test stage, and release %s revision %d has no test hook",
			      b->file ? b->file : "the bundle", ctx->prior->name, ctx->prior->revision);
	else if (!rc && !ntests && has_chart(b) && !ctx->nonly)
		rc = kerr_set(err, KE_USAGE,
			      "%s has no test stage, and release %s has no deployed revision whose chart test hooks could run",
			      b->file ? b->file : "the bundle", ctx->release_name ? ctx->release_name : b->name);
	else if (!rc && !ntests)
		rc = kerr_set(err, KE_USAGE, "%s has no test stage%s", b->file ? b->file : "the bundle",
			      ctx->nonly ? " among the --stage ones" : "");
	return rc;
}

/* ---- plan ---- */

void rel_plan_add(rel_plan *p, karena *a, const rel_plan_entry *e)
{
	if (p->len == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 32;
		p->v = karena_realloc(a, p->v, p->cap * sizeof(*p->v), nc * sizeof(*p->v));
		p->cap = nc;
	}
	p->v[p->len++] = *e;
	if (e->action == REL_UNCHANGED)
		p->unchanged++;
	else if (e->action == REL_CHANGED)
		p->changed++;
	else if (e->action == REL_DELETED)
		p->deleted++;
	else
		p->created++;
}

static const char *yaml_of(karena *a, const doc_node *n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	char *s;
	if (n)
		doc_emit_yaml(&b, n, DOC_EMIT_SORT_KEYS, &e);
	kerr_clear(&e);
	s = karena_strndup(a, b.ptr, b.len);
	kbuf_release(&b);
	return s;
}

/* The plan entry of one op; changed: an earlier entry of the stage
 * changes something (a rolloutRestart when: changed depends on it). */
static int plan_op(rel_plan *p, karena *pa, karena *a, const rel_bundle *b, const rel_stage *s,
		   const rel_op *op, bool changed_before, const rel_ctx *ctx, kerr *err)
{
	rel_plan_entry en = { 0 };
	const char *ns, *name;
	int rc = rel_op_target(&ns, &name, a, b, s, op, stage_ns(ctx, s), ctx, err);
	if (rc)
		return rc;
	en.stage = karena_strdup(pa, s->name);
	if (op->type == REL_OP_ROLLOUT_RESTART) {
		const char *res;
		en.ref = karena_printf(pa, "%s/%s/%s", rel_restart_kind(op, &res), ns, name);
		if (op->always || changed_before) {
			en.action = REL_CHANGED;
			en.note = "rolloutRestart: the pods will be restarted (restartedAt annotation), then waited for";
		} else {
			en.action = REL_UNCHANGED;
			en.note = "rolloutRestart (when: changed): nothing in the stage changes, no restart";
		}
	} else {
		doc_node *set;
		bool changed = false;
		const char *old = NULL, *new = NULL;
		kerr e = KERR_INIT;
		en.ref = karena_printf(pa, "ConfigMap/%s/%s", ns, name);
		if ((rc = op_set(&set, a, b, s, op, ctx, err)))
			return rc;
		rc = kube_op_json_key_merge_preview(ctx->client, a, ns, name, op->key, set, &changed, &old, &new, &e);
		if (rc == KE_NOTFOUND) {
			en.action = REL_CHANGED;
			en.note = karena_printf(pa, "jsonKeyMerge on key \"%s\": %s (apply fails unless an earlier stage creates it)",
						op->key, e.first.msg);
			rc = 0;
		} else if (rc) {
			kerr_move(err, &e);
			return rc;
		} else {
			en.action = changed ? REL_CHANGED : REL_UNCHANGED;
			en.note = karena_printf(pa, "jsonKeyMerge on key \"%s\"", op->key);
			if (changed) {
				kbuf d = KBUF_INIT;
				kube_diff_unified(&d, karena_printf(a, "live %s data.%s", en.ref, op->key), old,
						  karena_printf(a, "planned %s data.%s", en.ref, op->key), new, 3, ctx->color);
				en.diff = karena_strndup(pa, d.ptr, d.len);
				kbuf_release(&d);
			}
		}
		kerr_clear(&e);
	}
	rel_plan_add(p, pa, &en);
	return rc;
}
/* The plan entry of one object that was planned. */
static void plan_object(rel_plan *p, karena *pa, stage_run *r, stage_obj *so)
{
	rel_plan_entry en = { 0 };
	karena *a = &r->a;
	const kube_obj *o = &so->o;
	doc_node *want, *have = NULL;
	kbuf d = KBUF_INIT;
	en.stage = karena_strdup(pa, r->s->name);
	en.note = so->note ? karena_strdup(pa, so->note) : NULL;
	if (so->later) {
		en.ref = karena_strdup(pa, o->ns ? karena_printf(a, "%s/%s/%s", o->kind, o->ns, o->name) : o->ref);
		en.action = REL_CREATED_LATER;
		en.after_stage = karena_strdup(pa, so->later);
		rel_plan_add(p, pa, &en);
		return;
	}
	en.ref = karena_strdup(pa, o->ref);
	if (so->in_new_ns) {
		/* its namespace is created by this plan: nothing to dry-run against */
		en.note = karena_printf(pa, "namespace %s is created by this plan", o->ns);
		want = kube_diff_normalize(a, o->doc);
	} else {
		want = kube_diff_normalize(a, so->live);
		have = so->before ? kube_diff_normalize(a, so->before) : NULL;
	}
	kube_diff_mask_secrets(a, have, want);
	kube_diff_mask_values(a, r->ctx->sink ? r->ctx->sink->redact : NULL, have, want);
	en.action = !have ? REL_CREATED : doc_equal(have, want) ? REL_UNCHANGED : REL_CHANGED;
	if (en.action != REL_UNCHANGED) {
		kube_diff_unified(&d, have ? karena_printf(a, "live %s", en.ref) : "/dev/null", have ? yaml_of(a, have) : "",
				  so->in_new_ns ? en.ref : karena_printf(a, "planned %s", en.ref), yaml_of(a, want), 3,
				  r->ctx->color);
		en.diff = karena_strndup(pa, d.ptr, d.len);
	}
	kbuf_release(&d);
	rel_plan_add(p, pa, &en);
}

static int plan_stage(rel_plan *p, karena *pa, kind_book *book, const rel_bundle *b, const rel_stage *s,
		      const rel_ctx *ctx, rel_record *now, kerr *err)
{
	stage_run r;
	size_t i;
	int rc = stage_run_init(&r, b, s, ctx, true, book, err);
	rel_rec_stage *st = rel_record_add_stage(pa, now, s->name);
	st->result = !rc && !r.enabled ? REL_SR_SKIPPED : REL_SR_SUCCEEDED;
	if (!rc && r.enabled && !(rc = stage_run_groups(&r, book, NULL, NULL, err))) {
		size_t first = p->len, k;
		for (i = 0; i < r.n; i++) {
			plan_object(p, pa, &r, &r.v[i]);
			rel_record_add_object(pa, st, r.v[i].o.api_version, r.v[i].o.kind, r.v[i].o.ns, r.v[i].o.name, NULL);
		}
		for (i = 0; i < s->nops && !rc; i++) {
			bool changed = false;
			for (k = first; k < p->len; k++)
				changed |= p->v[k].action != REL_UNCHANGED;
			rc = plan_op(p, pa, &r.a, b, s, &s->ops[i], changed, ctx, err);
		}
	}
	if (rc)
		kerr_wrap(err, "stage %s", s->name);
	stage_run_release(&r);
	return rc;
}

int rel_plan_run(rel_plan *out, karena *a, const rel_bundle *b, const rel_ctx *ctx, kerr *err)
{
	kind_book book;
	rel_record *now;
	size_t i, *order;
	int rc;
	memset(out, 0, sizeof(*out));
	ctx->client->dry_run_only = true;   /* kube_do refuses any write without dryRun=All */
	if ((rc = rel_check_stages(b, ctx, err)) || (rc = kube_discovery_load(ctx->client, err)) ||
	    (rc = rel_preflight(b, ctx, NULL, err)))
		return rc;
	now = rel_record_new(a, "plan", 0);
	kind_book_init(&book);
	order = rel_stage_order(a, b);
	for (i = 0; i < b->nstages && !rc; i++)
		if (rel_stage_selected(ctx, &b->stages[order[i]]) && !b->stages[order[i]].checks &&
		    !hook_not_now(&b->stages[order[i]], ctx))
			rc = plan_stage(out, a, &book, b, &b->stages[order[i]], ctx, now, err);
	kind_book_release(&book);
	if (!rc && ctx->prior)
		rc = rel_prune_plan(out, a, ctx, now, err);
	return rc;
}
