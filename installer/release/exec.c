/*
 * release/exec.c - the stage executor (kstage apply) and the planner
 * (kstage plan).
 *
 * apply, per stage: render; sort in install order; then one kind group at
 * a time: resolve (discovery; when a kind is missing and this run applied
 * CRDs, wait for them to be Established and refresh discovery first), apply
 * the group's objects in parallel (bounded), stop at the first failure;
 * then wait for the stage to be healthy; then run its ops.
 *
 * plan, per stage: the same objects, a server-side dry-run each and a diff
 * against the live object; kinds that only an earlier stage's CRD brings
 * are "created after stage X".
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

static bool stage_selected(const rel_ctx *ctx, const rel_stage *s)
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

typedef struct group_run {
	kube_client *c;
	kube_obj *objs;
	doc_node **live;
	bool *created;
	kerr *errs;
	kube_apply_opts opts;
	bool plan;            /* plan: GET live too, retry a conflict with force */
	doc_node **before;    /* plan: the live object or NULL */
	char **notes;         /* plan: xmalloc'd note or NULL */
	const bool *skip;     /* apply: known unchanged, not sent (may be NULL) */
	const bool *listed;   /* plan: before[i] came from a LIST (NULL: absent) */
} group_run;

static void apply_one(void *u, size_t i, karena *a)
{
	group_run *g = u;
	if (g->skip && g->skip[i])
		return;
	if (g->plan) {
		kerr e = KERR_INIT;
		if (!(g->listed && g->listed[i]))
			g->before[i] = NULL;
		if (!(g->listed && g->listed[i]) && kube_get(g->c, a, &g->objs[i], &g->before[i], &e) != 0) {
			g->before[i] = NULL;
			if (e.code != KE_NOTFOUND) {
				kerr_move(&g->errs[i], &e);
				return;
			}
		}
		kerr_clear(&e);
		if (g->before[i] && kube_apply_is_noop(g->objs[i].doc, g->before[i], NULL)) {
			/* nothing would change: no need to ask the server */
			g->live[i] = g->before[i];
			return;
		}
	}
	if (kube_apply(g->c, a, &g->objs[i], &g->opts, &g->live[i], &g->created[i], &g->errs[i]) != 0) {
		g->live[i] = NULL;
		if (g->plan && g->errs[i].code == KE_CONFLICT && !g->opts.force && strstr(g->errs[i].first.msg, "field manager")) {
			kube_apply_opts f = g->opts;
			kerr e = KERR_INIT;
			kbuf note = KBUF_INIT;
			const char *m = strstr(g->errs[i].first.msg, "409 Conflict:");
			kbuf_printf(&note, "needs --force-conflicts: %s", m ? m + 14 : g->errs[i].first.msg);
			{
				char *nl = strstr(note.ptr, "\n  re-run");
				if (nl)
					kbuf_truncate(&note, (size_t)(nl - note.ptr));
			}
			f.force = true;
			if (kube_apply(g->c, a, &g->objs[i], &f, &g->live[i], NULL, &e) == 0) {
				kerr_clear(&g->errs[i]);
				g->notes[i] = kbuf_detach(&note, NULL);
			}
			kbuf_release(&note);
			kerr_clear(&e);
		}
	}
}

/* Run fn over objs[from, to) in parallel; returns index of the first error or -1. */
static long run_group(group_run *g, size_t n, size_t bound, karena *wa)
{
	size_t i;
	kube_parallel(n, bound, apply_one, g, wa);
	for (i = 0; i < n; i++)
		if (g->errs[i].code)
			return (long)i;
	return -1;
}

static size_t workers(const rel_ctx *ctx)
{
	size_t w = ctx->concurrency ? ctx->concurrency : 32;
	return w > MAX_WORKERS ? MAX_WORKERS : w;
}

static void release_arenas(karena *wa, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		karena_release(&wa[i]);
}

typedef struct planned_kind {
	const char *group, *kind, *stage;
	bool namespaced;
} planned_kind;

typedef struct plan_state {
	planned_kind *kinds;
	size_t nkinds, cap;
	const char **namespaces;
	size_t nns, nscap;
} plan_state;

static const planned_kind *find_kind(const plan_state *ps, const kube_obj *o)
{
	size_t i;
	for (i = 0; i < ps->nkinds; i++)
		if (!strcmp(ps->kinds[i].group, o->group) && !strcmp(ps->kinds[i].kind, o->kind))
			return &ps->kinds[i];
	return NULL;
}

static const char *kind_later(const plan_state *ps, const kube_obj *o)
{
	const planned_kind *k = find_kind(ps, o);
	return k ? k->stage : NULL;
}

static bool kind_namespaced(const plan_state *ps, const kube_obj *o)
{
	const planned_kind *k = find_kind(ps, o);
	return k ? k->namespaced : true;
}

static bool ns_planned(const plan_state *ps, const char *ns)
{
	size_t i;
	for (i = 0; ns && i < ps->nns; i++)
		if (!strcmp(ps->namespaces[i], ns))
			return true;
	return false;
}

/* For a big group of one kind in one namespace: one LIST, and the objects
 * that would not change are not sent (their live copy stands in for the
 * apply answer). Anything unexpected just means everything is sent. */
#define UNCHANGED_LIST_MIN 8

/* The live copies of objs (one kind, one namespace) from one LIST:
 * live[i] is the object or NULL when absent. Returns false (and sets
 * nothing) when the LIST fails. */
static bool list_group(kube_client *c, karena *a, const kube_obj *objs, size_t n, doc_node **live)
{
	kbuf p = KBUF_INIT;
	doc_node *list = NULL;
	const doc_node *items = NULL;
	kerr e = KERR_INIT;
	size_t i, j;
	bool ok;
	kube_obj_path(&objs[0], false, &p);
	ok = kube_get_json(c, a, p.ptr, &list, objs[0].ref, &e) == 0 && (items = doc_map_get(list, "items")) &&
	     items->type == DOC_SEQ;
	for (i = 0; ok && i < n; i++) {
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
	kerr_clear(&e);
	kbuf_release(&p);
	return ok;
}

static void find_unchanged(kube_client *c, karena *a, kube_obj *objs, size_t n, doc_node **live, bool *skip)
{
	doc_node **found;
	size_t i;
	if (n < UNCHANGED_LIST_MIN)
		return;
	for (i = 1; i < n; i++)
		if ((objs[i].ns == NULL) != (objs[0].ns == NULL) || (objs[i].ns && strcmp(objs[i].ns, objs[0].ns)))
			return;
	found = xcalloc(n, sizeof(*found));
	if (list_group(c, a, objs, n, found))
		for (i = 0; i < n; i++)
			if (found[i] && kube_apply_is_noop(objs[i].doc, found[i], NULL)) {
				skip[i] = true;
				live[i] = found[i];
			}
	free(found);
}

/* Plans: the live copies of objs (one kind, one namespace) from one LIST;
 * listed[i] says before[i] is known (NULL then means absent). */
static void prefetch_live(kube_client *c, karena *a, kube_obj *objs, size_t n, doc_node **before, bool *listed)
{
	size_t i;
	if (list_group(c, a, objs, n, before))
		for (i = 0; i < n; i++)
			listed[i] = true;
}

/* Wait for the CRDs among items to be Established, then refresh discovery. */
static int settle_crds(kube_client *c, karena *a, kube_obj **crds, doc_node **crd_live, size_t ncrds,
		       long timeout_ms, kerr *err)
{
	kube_wait_item *it;
	size_t i;
	int rc;
	if (!ncrds)
		return 0;
	it = xcalloc(ncrds, sizeof(*it));
	for (i = 0; i < ncrds; i++) {
		it[i].obj = crds[i];
		it[i].live = crd_live[i];
	}
	rc = kube_wait(c, a, it, ncrds, NULL, 0, timeout_ms, err);
	free(it);
	if (!rc)
		rc = kube_discovery_refresh(c, err);
	return rc;
}

/* The op's set map with template strings rendered. */
static int op_set(doc_node **out, karena *a, const rel_bundle *b, const rel_stage *s, const rel_op *op,
		  const rel_ctx *ctx, kerr *err)
{
	doc_node *set = doc_copy(a, op->set);
	size_t k;
	int rc = 0;
	for (k = 0; k < set->u.map.len && !rc; k++) {
		doc_node *v = set->u.map.v[k].val;
		if (v->type == DOC_STR && strstr(v->u.s.ptr, "{{")) {
			kbuf o = KBUF_INIT;
			rc = rel_render_string(&o, a, b, karena_printf(a, "%s:stage %s:jsonKeyMerge", b->file, s->name),
					       v->u.s.ptr, ctx, err);
			set->u.map.v[k].val = doc_new_strn(a, o.ptr, o.len);
			kbuf_release(&o);
		}
	}
	*out = set;
	return rc;
}

static int run_ops(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, karena *a, rel_summary *sum,
		   long timeout_ms, kerr *err)
{
	size_t i;
	int rc = 0;
	kube_client *c = ctx->client;
	for (i = 0; i < s->nops && !rc; i++) {
		const rel_op *op = &s->ops[i];
		const char *ns = op->ns ? op->ns : stage_ns(ctx, s);
		if (op->type == REL_OP_JSON_KEY_MERGE) {
			doc_node *set = NULL;
			bool changed = false;
			char *prior = NULL;
			const char *ref = karena_printf(a, "ConfigMap/%s/%s", ns, op->name);
			rc = op_set(&set, a, b, s, op, ctx, err);
			if (!rc)
				rc = kube_op_json_key_merge(c, a, ns, op->name, op->key, set, false, &changed, &prior, err);
			free(prior);
			if (!rc) {
				kube_emit(c, KEV_INFO, "op.done", changed ? "jsonKeyMerge: changed" : "jsonKeyMerge: unchanged",
					  "stage", s->name, "op", "jsonKeyMerge", "object", ref, "key", op->key,
					  "action", changed ? "changed" : "unchanged", NULL);
				if (changed)
					sum->ops_changed++;
				else
					sum->ops_unchanged++;
			}
		} else {
			kube_obj o;
			kube_wait_item it;
			rc = kube_op_rollout_restart(c, a, op->kind, ns, op->name, false, &o, err);
			if (!rc) {
				kube_emit(c, KEV_INFO, "op.done", "rolloutRestart: restarted", "stage", s->name,
					  "op", "rolloutRestart", "object", o.ref, "action", "restarted", NULL);
				sum->ops_changed++;
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
		const char *mine = doc_get_str(objs[i].doc, "metadata.annotations.kstage\\.dev/chart-version", NULL);
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

static int apply_stage(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, rel_summary *sum, plan_state *expect,
		       kerr *err)
{
	karena a = KARENA_INIT;
	karena wa[MAX_WORKERS];
	kube_obj *objs = NULL;
	size_t n = 0, i, g0, nw = workers(ctx);
	bool enabled;
	doc_node **live = NULL;
	bool *created = NULL, *skip = NULL;
	kerr *errs = NULL;
	kube_obj **crds = NULL;
	doc_node **crd_live = NULL;
	size_t ncrds = 0, settled = 0;
	long t0 = now_ms(), timeout = s->timeout_ms ? s->timeout_ms : ctx->timeout_ms ? ctx->timeout_ms : DEFAULT_TIMEOUT_MS;
	kube_client *c = ctx->client;
	const char *ns = stage_ns(ctx, s);
	char num[32];
	int rc;

	for (i = 0; i < nw; i++)
		karena_init(&wa[i]);
	rc = rel_stage_render(&objs, &n, &enabled, &a, b, s, ctx, err);
	if (rc)
		goto out;
	if (!enabled) {
		kube_emit(c, KEV_INFO, "stage.skipped", karena_printf(&a, "stage %s: skipped (enabled is false)", s->name),
			  "stage", s->name, NULL);
		sum->stages_skipped++;
		goto out;
	}
	if (s->test)
		kube_emit(c, KEV_WARN, "stage.test", karena_printf(&a, "stage %s: test stages are not run by this version of kstage", s->name),
			  "stage", s->name, NULL);
	kube_objs_sort(objs, n);
	if (s->src == REL_SRC_CHART_CRDS && (rc = keep_newer_crds(c, &a, objs, &n, ns, s->name, err)))
		goto out;
	snprintf(num, sizeof(num), "%zu", n);
	kube_emit(c, KEV_INFO, "stage.start", karena_printf(&a, "stage %s: %zu object%s%s", s->name, n, n == 1 ? "" : "s",
							  s->nops ? karena_printf(&a, ", %zu op%s", s->nops, s->nops == 1 ? "" : "s") : ""),
		  "stage", s->name, "objects", num, NULL);
	live = xcalloc(n + 1, sizeof(*live));
	created = xcalloc(n + 1, sizeof(*created));
	errs = xcalloc(n + 1, sizeof(*errs));
	crds = xcalloc(n + 1, sizeof(*crds));
	crd_live = xcalloc(n + 1, sizeof(*crd_live));
	skip = xcalloc(n + 1, sizeof(*skip));
	for (g0 = 0; g0 < n;) {
		size_t g1 = g0 + 1;
		group_run g;
		long bad;
		while (g1 < n && !strcmp(objs[g1].kind, objs[g0].kind) && !strcmp(objs[g1].api_version, objs[g0].api_version))
			g1++;
		for (i = g0; i < g1; i++) {
			rc = kube_obj_resolve(c, &a, &objs[i], ns, err);
			if (rc == KE_NOTFOUND && settled < ncrds) {
				/* CRDs applied earlier in this stage may bring the kind */
				kerr_clear(err);
				rc = settle_crds(c, &a, crds + settled, crd_live + settled, ncrds - settled,
						 timeout - (now_ms() - t0), err);
				settled = ncrds;
				if (!rc)
					rc = kube_obj_resolve(c, &a, &objs[i], ns, err);
			}
			if (rc == KE_NOTFOUND && find_kind(expect, &objs[i])) {
				/* its CRD is Established; the server's discovery may lag a moment */
				int tries;
				for (tries = 0; tries < 25 && rc == KE_NOTFOUND && now_ms() - t0 < timeout; tries++) {
					struct timespec ts = { 0, 200000000L };
					kerr_clear(err);
					nanosleep(&ts, NULL);
					if (!(rc = kube_discovery_refresh(c, err)))
						rc = kube_obj_resolve(c, &a, &objs[i], ns, err);
				}
			}
			if (rc)
				goto out;
		}
		memset(&g, 0, sizeof(g));
		g.c = c;
		g.objs = objs + g0;
		g.live = live + g0;
		g.created = created + g0;
		g.errs = errs + g0;
		g.opts.force = ctx->force;
		find_unchanged(c, &a, objs + g0, g1 - g0, live + g0, skip + g0);
		g.skip = skip + g0;
		bad = run_group(&g, g1 - g0, nw, wa);
		for (i = g0; i < g1; i++) {
			const char *act = skip[i] ? "unchanged" : created[i] ? "created" : "applied";
			if (errs[i].code)
				continue;
			if (skip[i])
				sum->unchanged++;
			else if (created[i])
				sum->created++;
			else
				sum->applied++;
			kube_emit(c, KEV_INFO, "object.applied", objs[i].ref, "stage", s->name, "object", objs[i].ref,
				  "action", act, NULL);
			if (!strcmp(objs[i].kind, "CustomResourceDefinition")) {
				planned_kind k = { xstrdup(doc_get_str(objs[i].doc, "spec.group", "")),
						   xstrdup(doc_get_str(objs[i].doc, "spec.names.kind", "")), NULL, true };
				crds[ncrds] = &objs[i];
				crd_live[ncrds++] = live[i];
				ALLOC_GROW(expect->kinds, expect->nkinds + 1, expect->cap);
				expect->kinds[expect->nkinds++] = k;
			}
		}
		if (bad >= 0) {
			size_t nbad = 0;
			for (i = g0; i < g1; i++)
				nbad += errs[i].code != 0;
			kerr_move(err, &errs[g0 + (size_t)bad]);
			if (nbad > 1)
				kerr_wrap(err, "%zu of %zu %s objects failed; the first", nbad, g1 - g0, objs[g0].kind);
			rc = err->code;
			goto out;
		}
		g0 = g1;
	}
	/* wait for the stage */
	if (n) {
		kube_wait_item *it = xcalloc(n, sizeof(*it));
		size_t k = 0;
		for (i = 0; i < n; i++) {
			if (!s->wait && strcmp(objs[i].kind, "CustomResourceDefinition"))
				continue;
			it[k].obj = &objs[i];
			it[k].live = live[i];
			k++;
		}
		if (k) {
			snprintf(num, sizeof(num), "%zu", k);
			kube_emit(c, KEV_INFO, "stage.waiting", karena_printf(&a, "stage %s: waiting for %zu object%s", s->name, k, k == 1 ? "" : "s"),
				  "stage", s->name, "objects", num, NULL);
			rc = kube_wait(c, &a, it, k, s->rules, s->nrules, timeout - (now_ms() - t0), err);
			if (rc == KE_TIMEOUT)
				kerr_wrap(err, "not healthy within the stage timeout (%.0fs)", (double)timeout / 1000.0);
		}
		free(it);
		if (rc)
			goto out;
	}
	if (ncrds && (rc = kube_discovery_refresh(c, err)))
		goto out;
	if (s->nops && (rc = run_ops(b, s, ctx, &a, sum, timeout - (now_ms() - t0) > 1000 ? timeout - (now_ms() - t0) : 1000, err)))
		goto out;
	{
		char el[32];
		snprintf(el, sizeof(el), "%.1fs", (double)(now_ms() - t0) / 1000.0);
		kube_emit(c, KEV_INFO, "stage.done", karena_printf(&a, "stage %s: ready in %s", s->name, el),
			  "stage", s->name, "elapsed", el, NULL);
	}
	sum->stages_done++;
out:
	if (rc) {
		kerr_wrap(err, "stage %s", s->name);
		sum->failed_stage = s->name;
	}
	for (i = 0; errs && i < n; i++)
		kerr_clear(&errs[i]);
	free(errs);
	free(live);
	free(created);
	free(crds);
	free(crd_live);
	free(skip);
	release_arenas(wa, nw);
	karena_release(&a);
	return rc;
}

int rel_apply(const rel_bundle *b, const rel_ctx *ctx, rel_summary *sum, kerr *err)
{
	size_t i;
	int rc = 0;
	plan_state expect;
	memset(sum, 0, sizeof(*sum));
	memset(&expect, 0, sizeof(expect));
	if ((rc = kube_discovery_load(ctx->client, err)))
		return rc;
	for (i = 0; i < b->nstages && !rc; i++) {
		if (!stage_selected(ctx, &b->stages[i]))
			continue;
		rc = apply_stage(b, &b->stages[i], ctx, sum, &expect, err);
	}
	for (i = 0; i < expect.nkinds; i++) {
		free((char *)expect.kinds[i].group);
		free((char *)expect.kinds[i].kind);
	}
	free(expect.kinds);
	return rc;
}

/* ---- plan ---- */

static void add_entry(rel_plan *p, karena *a, const rel_plan_entry *e)
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

static int plan_op(rel_plan *p, karena *pa, karena *a, const rel_bundle *b, const rel_stage *s,
		   const rel_op *op, const rel_ctx *ctx, kerr *err)
{
	rel_plan_entry en = { 0 };
	const char *ns = op->ns ? op->ns : stage_ns(ctx, s);
	int rc = 0;
	en.stage = karena_strdup(pa, s->name);
	if (op->type == REL_OP_ROLLOUT_RESTART) {
		const char *k = !strcmp(op->kind, "deployment") ? "Deployment" : !strcmp(op->kind, "statefulset") ? "StatefulSet" : "DaemonSet";
		en.ref = karena_printf(pa, "%s/%s/%s", k, ns, op->name);
		en.action = REL_CHANGED;
		en.note = "rolloutRestart: the pods will be restarted (restartedAt annotation), then waited for";
	} else {
		doc_node *set;
		bool changed = false;
		const char *old = NULL, *new = NULL;
		kerr e = KERR_INIT;
		en.ref = karena_printf(pa, "ConfigMap/%s/%s", ns, op->name);
		if ((rc = op_set(&set, a, b, s, op, ctx, err)))
			return rc;
		rc = kube_op_json_key_merge_preview(ctx->client, a, ns, op->name, op->key, set, &changed, &old, &new, &e);
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
	add_entry(p, pa, &en);
	return rc;
}

static int plan_stage(rel_plan *p, karena *pa, plan_state *ps, const rel_bundle *b, const rel_stage *s,
		      const rel_ctx *ctx, kerr *err)
{
	karena a = KARENA_INIT;
	karena wa[MAX_WORKERS];
	kube_obj *objs = NULL, *todo;
	size_t n = 0, i, nt = 0, nw = workers(ctx);
	bool enabled;
	doc_node **live = NULL, **before = NULL;
	bool *created = NULL;
	kerr *errs = NULL;
	char **notes = NULL;
	size_t *map = NULL;
	bool *listed = NULL;
	rel_plan_entry *ents = NULL;
	bool *filled = NULL;
	kube_client *c = ctx->client;
	const char *ns = stage_ns(ctx, s);
	int rc;

	for (i = 0; i < nw; i++)
		karena_init(&wa[i]);
	rc = rel_stage_render(&objs, &n, &enabled, &a, b, s, ctx, err);
	if (rc || !enabled)
		goto out;
	kube_objs_sort(objs, n);
	if (s->src == REL_SRC_CHART_CRDS && (rc = keep_newer_crds(c, &a, objs, &n, ns, s->name, err)))
		goto out;
	todo = xcalloc(n + 1, sizeof(*todo));
	map = xcalloc(n + 1, sizeof(*map));
	ents = xcalloc(n + 1, sizeof(*ents));
	filled = xcalloc(n + 1, sizeof(*filled));
	for (i = 0; i < n; i++) {
		kube_obj *o = &objs[i];
		const char *later;
		kerr e = KERR_INIT;
		if (!strcmp(o->kind, "CustomResourceDefinition")) {
			planned_kind k = { karena_strdup(pa, doc_get_str(o->doc, "spec.group", "")),
					   karena_strdup(pa, doc_get_str(o->doc, "spec.names.kind", "")),
					   karena_strdup(pa, s->name),
					   strcmp(doc_get_str(o->doc, "spec.scope", "Namespaced"), "Cluster") != 0 };
			ALLOC_GROW(ps->kinds, ps->nkinds + 1, ps->cap);
			ps->kinds[ps->nkinds++] = k;
		}
		if (!strcmp(o->kind, "Namespace") && !o->ns) {
			ALLOC_GROW(ps->namespaces, ps->nns + 1, ps->nscap);
			ps->namespaces[ps->nns++] = karena_strdup(pa, o->name);
		}
		rc = kube_obj_resolve(c, &a, o, ns, &e);
		if (rc == KE_NOTFOUND && (later = kind_later(ps, o))) {
			rel_plan_entry en = { 0 };
			kerr_clear(&e);
			rc = 0;
			if (!o->ns && kind_namespaced(ps, o))
				o->ns = ns;
			en.stage = karena_strdup(pa, s->name);
			en.ref = karena_strdup(pa, o->ns ? karena_printf(&a, "%s/%s/%s", o->kind, o->ns, o->name) : o->ref);
			en.action = REL_CREATED_LATER;
			en.after_stage = later;
			ents[i] = en;
			filled[i] = true;
			continue;
		}
		if (rc) {
			kerr_move(err, &e);
			free(todo);
			goto out;
		}
		map[nt] = i;
		todo[nt++] = *o;
	}
	live = xcalloc(nt + 1, sizeof(*live));
	before = xcalloc(nt + 1, sizeof(*before));
	created = xcalloc(nt + 1, sizeof(*created));
	errs = xcalloc(nt + 1, sizeof(*errs));
	notes = xcalloc(nt + 1, sizeof(*notes));
	listed = xcalloc(nt + 1, sizeof(*listed));
	{
		/* big groups of one kind in one namespace: one LIST instead of a GET each */
		size_t g0, g1;
		for (g0 = 0; g0 < nt; g0 = g1) {
			for (g1 = g0 + 1; g1 < nt && todo[g1].res == todo[g0].res &&
					  ((!todo[g1].ns && !todo[g0].ns) || (todo[g1].ns && todo[g0].ns && !strcmp(todo[g1].ns, todo[g0].ns)));
			     g1++)
				;
			if (g1 - g0 >= UNCHANGED_LIST_MIN)
				prefetch_live(c, &a, todo + g0, g1 - g0, before + g0, listed + g0);
		}
	}
	{
		group_run g;
		memset(&g, 0, sizeof(g));
		g.listed = listed;
		g.c = c;
		g.objs = todo;
		g.live = live;
		g.created = created;
		g.errs = errs;
		g.before = before;
		g.notes = notes;
		g.plan = true;
		g.opts.dry_run = true;
		g.opts.force = ctx->force;
		kube_parallel(nt, nw, apply_one, &g, wa);
	}
	for (i = 0; i < nt && !rc; i++) {
		rel_plan_entry en = { 0 };
		kube_obj *o = &todo[i];
		doc_node *want, *have;
		en.stage = karena_strdup(pa, s->name);
		en.ref = karena_strdup(pa, o->ref);
		en.note = notes[i] ? karena_strdup(pa, notes[i]) : NULL;
		if (errs[i].code) {
			if (errs[i].code == KE_NOTFOUND && o->ns && ns_planned(ps, o->ns) && !before[i]) {
				/* its namespace is created by this plan: nothing to dry-run against */
				en.action = REL_CREATED;
				en.note = karena_printf(pa, "namespace %s is created by this plan", o->ns);
				want = kube_diff_normalize(&a, o->doc);
				kube_diff_mask_secrets(&a, NULL, want);
				{
					kbuf d = KBUF_INIT;
					kube_diff_unified(&d, "/dev/null", "", en.ref, yaml_of(&a, want), 3, ctx->color);
					en.diff = karena_strndup(pa, d.ptr, d.len);
					kbuf_release(&d);
				}
				ents[map[i]] = en;
				filled[map[i]] = true;
				continue;
			}
			kerr_move(err, &errs[i]);
			rc = err->code;
			break;
		}
		want = kube_diff_normalize(&a, live[i]);
		have = before[i] ? kube_diff_normalize(&a, before[i]) : NULL;
		kube_diff_mask_secrets(&a, have, want);
		if (!have) {
			en.action = REL_CREATED;
		} else if (doc_equal(have, want)) {
			en.action = REL_UNCHANGED;
		} else {
			en.action = REL_CHANGED;
		}
		if (en.action != REL_UNCHANGED) {
			kbuf d = KBUF_INIT;
			kube_diff_unified(&d, have ? karena_printf(&a, "live %s", en.ref) : "/dev/null", have ? yaml_of(&a, have) : "",
					  karena_printf(&a, "planned %s", en.ref), yaml_of(&a, want), 3, ctx->color);
			en.diff = karena_strndup(pa, d.ptr, d.len);
			kbuf_release(&d);
		}
		ents[map[i]] = en;
				filled[map[i]] = true;
	}
	for (i = 0; i < n && !rc; i++)
		if (filled[i])
			add_entry(p, pa, &ents[i]);
	free(todo);
	for (i = 0; i < s->nops && !rc; i++)
		rc = plan_op(p, pa, &a, b, s, &s->ops[i], ctx, err);
out:
	if (rc)
		kerr_wrap(err, "stage %s", s->name);
	for (i = 0; errs && i < nt; i++) {
		kerr_clear(&errs[i]);
		free(notes[i]);
	}
	free(errs);
	free(notes);
	free(live);
	free(before);
	free(created);
	free(map);
	free(listed);
	free(ents);
	free(filled);
	release_arenas(wa, nw);
	karena_release(&a);
	return rc;
}

int rel_plan_run(rel_plan *out, karena *a, const rel_bundle *b, const rel_ctx *ctx, kerr *err)
{
	plan_state ps;
	size_t i;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	if ((rc = kube_discovery_load(ctx->client, err)))
		return rc;
	for (i = 0; i < b->nstages && !rc; i++) {
		if (!stage_selected(ctx, &b->stages[i]))
			continue;
		rc = plan_stage(out, a, &ps, b, &b->stages[i], ctx, err);
	}
	free(ps.kinds);
	free(ps.namespaces);
	return rc;
}
