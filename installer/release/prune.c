/*
 * release/prune.c - pruning: an object that the revision in effect before
 * a run rendered and the run no longer renders is deleted once every stage
 * has succeeded, as Helm, kapp and Flux do.
 *
 * Which objects: the rendered objects of a record stage are the first
 * entries of its journal, one per document of its manifest (journal_stage
 * writes them in that order; the objects of its ops come after). The
 * candidates are the rendered objects of the prior revision's stages that
 * this run ran or found disabled (a stage left out with --stage prunes
 * nothing), less every object this run rendered in any stage, less those
 * journaled with rollback policy keep (the stage's `rollback: keep`, CRDs).
 * A live object annotated `helm.sh/resource-policy: keep` stays too.
 *
 * The deletions are part of the revision: each object's live state is
 * journaled (a record stage REL_PRUNE_STAGE) before anything is deleted,
 * so a failed prune rolls back with the run and `kstage rollback` brings
 * the objects back. They are deleted in reverse install order, each waited
 * for until it is gone.
 */
#include "release.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

int rel_prior_load(rel_store *st, karena *a, const char *release, rel_record **out, kerr *err)
{
	rel_rec_summary *h = NULL;
	size_t n = 0;
	int rc;
	*out = NULL;
	if ((rc = rel_store_history(st, a, release, &h, &n, err)))
		return rc;
	return rel_prior_of(st, a, release, h, n, out, err);
}

int rel_prior_of(rel_store *st, karena *a, const char *release, const rel_rec_summary *h, size_t n,
		 rel_record **out, kerr *err)
{
	size_t i;
	*out = NULL;
	for (i = n; i-- > 0;)
		if (h[i].status == REL_ST_DEPLOYED)
			return rel_store_get(st, a, release, h[i].revision, out, err);
	return 0;
}

size_t rel_rec_stage_rendered(karena *a, const rel_rec_stage *s)
{
	doc_stream ds;
	kerr e = KERR_INIT;
	size_t i, n = 0;
	if (!s->manifest)
		return s->nobjects;
	if (doc_load_yaml(&ds, a, s->name, s->manifest, strlen(s->manifest), NULL, &e)) {
		kerr_clear(&e);
		return 0;   /* unreadable: prune nothing of it */
	}
	for (i = 0; i < ds.len; i++)
		n += ds.docs[i] && ds.docs[i]->type != DOC_NULL;
	return n < s->nobjects ? n : s->nobjects;
}

static bool pseudo_stage(const char *name)
{
	return name[0] == '(';
}

/* rendered[s]: how many of now's stage s journal entries it rendered
 * (counted once: each count parses the stage's manifest). */
static bool rendered_now(const rel_record *now, const size_t *rendered, const rel_rec_object *e)
{
	size_t s, i;
	for (s = 0; s < now->nstages; s++)
		for (i = 0; i < rendered[s]; i++)
			if (rel_rec_object_same(&now->stages[s].objects[i], e))
				return true;
	return false;
}

int rel_prune_candidates(const rel_rec_object ***out, size_t *n, karena *a, const rel_record *prior,
			 const rel_record *now)
{
	const rel_rec_object **v = NULL;
	size_t cap = 0, s, i, k, m;
	size_t *rendered = karena_alloc(a, (now->nstages + 1) * sizeof(*rendered));
	*out = NULL;
	*n = 0;
	for (s = 0; s < now->nstages; s++) {
		const rel_rec_stage *st = &now->stages[s];
		rendered[s] = pseudo_stage(st->name) || st->result == REL_SR_SKIPPED ? 0 : rel_rec_stage_rendered(a, st);
	}
	for (s = 0; prior && s < prior->nstages; s++) {
		const rel_rec_stage *ps = &prior->stages[s];
		const rel_rec_stage *ns;
		if (pseudo_stage(ps->name) || !(ns = rel_record_stage(now, ps->name)) ||
		    (ns->result != REL_SR_SUCCEEDED && ns->result != REL_SR_SKIPPED))
			continue;
		for (i = 0, m = rel_rec_stage_rendered(a, ps); i < m; i++) {
			const rel_rec_object *e = &ps->objects[i];
			if (e->keep || rendered_now(now, rendered, e))
				continue;
			for (k = 0; k < *n && !rel_rec_object_same(v[k], e); k++)
				;
			if (k < *n)
				continue;
			ALLOC_GROW(v, *n + 1, cap);
			v[(*n)++] = e;
		}
	}
	if (*n) {
		*out = karena_alloc(a, *n * sizeof(*v));
		memcpy(*out, v, *n * sizeof(*v));
	}
	free(v);
	return 0;
}

int rel_rec_object_resolve(kube_obj *o, kube_client *c, karena *a, const rel_rec_object *e, kerr *err)
{
	doc_node *d = doc_new_map(a), *md = doc_new_map(a);
	int rc;
	doc_map_set(a, d, "apiVersion", doc_new_str(a, e->api_version));
	doc_map_set(a, d, "kind", doc_new_str(a, e->kind));
	doc_map_set(a, md, "name", doc_new_str(a, e->name));
	if (e->ns)
		doc_map_set(a, md, "namespace", doc_new_str(a, e->ns));
	doc_map_set(a, d, "metadata", md);
	if ((rc = kube_obj_init(o, a, d, err)))
		return rc;
	return kube_obj_resolve(c, a, o, e->ns ? e->ns : "default", err);
}

static bool policy_keep(const doc_node *live)
{
	return !strcmp(doc_get_str(live, "metadata.annotations.helm\\.sh/resource-policy", ""), "keep");
}

typedef struct doomed {
	kube_obj o;
	doc_node *live;
} doomed;

static int cmp_doomed(const void *x, const void *y)
{
	const doomed *a = x, *b = y;
	return b->o.rank - a->o.rank;   /* reverse install order */
}

/* The live objects among the candidates, less the ones policy keeps. */
static int live_candidates(doomed **out, size_t *n, kube_client *c, karena *a, const rel_rec_object *const *cand,
			   size_t ncand, const char *stage, kerr *err)
{
	doomed *v = karena_alloc(a, (ncand + 1) * sizeof(*v));
	size_t i;
	int rc = 0;
	*n = 0;
	for (i = 0; i < ncand && !rc; i++) {
		doomed *d = &v[*n];
		kerr ge = KERR_INIT;
		rc = rel_rec_object_resolve(&d->o, c, a, cand[i], &ge);
		if (!rc)
			rc = kube_get(c, a, &d->o, &d->live, &ge);
		if (rc == KE_NOTFOUND) {
			rc = 0;   /* gone already, or its kind is */
		} else if (rc) {
			kerr_move(err, &ge);
		} else if (policy_keep(d->live)) {
			kube_emit(c, KEV_INFO, "object.kept",
				  karena_printf(a, "%s: not pruned (helm.sh/resource-policy: keep)", d->o.ref), "stage", stage,
				  "object", d->o.ref, "action", "kept", NULL);
		} else {
			d->o.rank = kube_kind_rank(d->o.kind);
			(*n)++;
		}
		kerr_clear(&ge);
	}
	qsort(v, *n, sizeof(*v), cmp_doomed);
	*out = v;
	return rc;
}

int rel_prune(const rel_ctx *ctx, const rel_record *prior, rel_summary *sum, long timeout_ms, kerr *err)
{
	rel_journal *j = ctx->journal;
	kube_client *c = ctx->client;
	karena a = KARENA_INIT;
	const rel_rec_object **cand;
	doomed *v = NULL;
	size_t ncand, n = 0, i;
	rel_rec_stage *st;
	int rc = 0;
	rel_prune_candidates(&cand, &ncand, &a, prior, j->rec);
	if (!ncand || (rc = live_candidates(&v, &n, c, &a, cand, ncand, REL_PRUNE_STAGE, err)) || !n) {
		karena_release(&a);
		return rc;
	}
	st = rel_record_add_stage(j->a, j->rec, REL_PRUNE_STAGE);
	for (i = 0; i < n; i++)
		rel_record_add_object(j->a, st, v[i].o.api_version, v[i].o.kind, v[i].o.ns, v[i].o.name,
				      doc_copy(j->a, v[i].live));
	st->result = REL_SR_RUNNING;
	st->started_ms = rel_now_ms();
	if ((rc = rel_journal_save(j, err)))
		goto out;
	for (i = 0; i < n && !rc; i++) {
		bool was = false;
		if (!(rc = kube_check_stop(c, err)) && !(rc = rel_delete_wait(c, &a, &v[i].o, timeout_ms, &was, err)) && was) {
			sum->pruned++;
			kube_emit(c, KEV_INFO, "object.pruned",
				  karena_printf(&a, "%s: deleted (no longer rendered)", v[i].o.ref), "stage", REL_PRUNE_STAGE,
				  "object", v[i].o.ref, "action", "deleted", NULL);
		}
	}
	st->result = rc ? REL_SR_FAILED : REL_SR_SUCCEEDED;
	st->finished_ms = rel_now_ms();
	{
		kerr we = KERR_INIT;
		if (rel_journal_save(j, &we) && !rc) {
			kerr_move(err, &we);
			rc = err->code;
		}
		kerr_clear(&we);
	}
out:
	if (rc) {
		kerr_wrap(err, "prune");
		sum->failed_stage = REL_PRUNE_STAGE;
	}
	karena_release(&a);
	return rc;
}

int rel_prune_plan(struct rel_plan *p, karena *a, const rel_ctx *ctx, const rel_record *now, kerr *err)
{
	const rel_rec_object **cand;
	doomed *v = NULL;
	size_t ncand, n = 0, i;
	int rc = 0;
	rel_prune_candidates(&cand, &ncand, a, ctx->prior, now);
	if (!ncand || (rc = live_candidates(&v, &n, ctx->client, a, cand, ncand, REL_PRUNE_STAGE, err)))
		return rc;
	for (i = 0; i < n; i++) {
		rel_plan_entry en = { 0 };
		en.stage = REL_PRUNE_STAGE;
		en.ref = v[i].o.ref;
		en.action = REL_DELETED;
		en.note = karena_printf(a, "rendered by revision %d, not by this run: deleted after the last stage",
					ctx->prior->revision);
		rel_plan_add(p, a, &en);
	}
	return 0;
}
