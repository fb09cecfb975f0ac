/*
 * release/run.c - a release run around apply: the Lease, the pending
 * record and its write-ahead journal, the final status, and the rollback
 * from the journal (after a failed apply, or `rollback --recover` after a
 * killed one).
 *
 * Restoring exactly. An object that existed is put back with one PUT of
 * its prior content (labels, annotations, spec, data: byte for byte)
 * guarded by the current resourceVersion, carrying the prior
 * metadata.managedFields. The API server takes managedFields from an
 * update that sets them, then gives the fields the update changed to the
 * updating manager ("kstage-rollback"); a second PUT of the same content
 * changes nothing, so the server drops that manager's empty entry and the
 * managedFields are the prior ones again: "kstage" owns exactly what it
 * owned before. A server-side apply cannot do this: it can only add or
 * remove kstage's own fields, never give back a value another manager set,
 * and would leave kstage owning fields it did not own.
 */
#include "release.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROLLBACK_TIMEOUT_MS (2L * 60 * 1000)
#define PUT_TRIES 10
#define HOOK_TIMEOUT_MS (5L * 60 * 1000)   /* each hook of a rollback or uninstall, as Helm's --timeout */

/* kube_wait's on_wait hook (and kube_wait_check's) during a run: keep
 * the Lease u (a rel_lock). */
static int keep_lock(void *u, kerr *err)
{
	rel_lock *l = u;
	int rc = rel_lock_keep(l, err);
	if (rc)
		kerr_wrap(err, "stopped: another run may change release \"%s\" now", l->release);
	return rc;
}

/* Between the requests of a rollback: keep the Lease (c's on_wait hook,
 * when set). Not the stop flag: a rollback after a signal goes on. */
static int lease_check(kube_client *c, kerr *err)
{
	return c->on_wait ? c->on_wait(c->on_wait_ctx, err) : 0;
}

int rel_journal_save(rel_journal *j, kerr *err)
{
	int rc;
	if (j->lock && (rc = keep_lock(j->lock, err)))
		return rc;
	j->rec->updated_ms = rel_now_ms();
	rc = j->stored ? rel_store_update(j->store, j->rec, err) : rel_store_create(j->store, j->rec, err);
	if (rc)
		kerr_wrap(err, "write release record %s revision %d", j->rec->name, j->rec->revision);
	j->stored = j->stored || !rc;
	return rc;
}

void rel_rollback_report_release(rel_rollback_report *r)
{
	kbuf_release(&r->left);
	kbuf_release(&r->kept_list);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- restoring one object ---- */

static bool is_workload(const char *kind)
{
	return !strcmp(kind, "Deployment") || !strcmp(kind, "StatefulSet") || !strcmp(kind, "DaemonSet");
}

/* managedFields without their timestamps. */
static doc_node *managed_of(karena *a, const doc_node *obj)
{
	const doc_node *mf = doc_get_path(obj, "metadata.managedFields");
	doc_node *c;
	size_t i;
	if (!mf || mf->type != DOC_SEQ)
		return NULL;
	c = doc_copy(a, mf);
	for (i = 0; i < c->u.seq.len; i++)
		if (c->u.seq.v[i]->type == DOC_MAP)
			doc_map_del(c->u.seq.v[i], "time");
	return c;
}

static bool managed_by(const doc_node *obj, const char *manager)
{
	const doc_node *mf = doc_get_path(obj, "metadata.managedFields");
	size_t i;
	for (i = 0; mf && mf->type == DOC_SEQ && i < mf->u.seq.len; i++)
		if (!strcmp(doc_get_str(mf->u.seq.v[i], "manager", ""), manager))
			return true;
	return false;
}

/* A custom resource (its group has a dot and is not a Kubernetes one):
 * its status is data to put back, where a built-in kind's status belongs to
 * its controller. */
static bool custom_resource(const char *api_version)
{
	const char *slash = strchr(api_version, '/');
	size_t n = slash ? (size_t)(slash - api_version) : 0;
	if (!n || !memchr(api_version, '.', n))
		return false;
	return !(n >= 7 && !strncmp(api_version + n - 7, ".k8s.io", 7));
}

/* cur is prior again: content (a custom resource's status too) and field
 * ownership. */
static bool same_as_prior(karena *a, const doc_node *cur, const doc_node *prior)
{
	doc_node *mc = managed_of(a, cur), *mp = managed_of(a, prior);
	if (!doc_equal(kube_diff_normalize(a, cur), kube_diff_normalize(a, prior)))
		return false;
	if (custom_resource(doc_get_str(prior, "apiVersion", "")) &&
	    !((!doc_get_path(cur, "status") && !doc_get_path(prior, "status")) ||
	      (doc_get_path(cur, "status") && doc_get_path(prior, "status") &&
	       doc_equal(doc_get_path(cur, "status"), doc_get_path(prior, "status")))))
		return false;
	return (!mc && !mp) || (mc && mp && doc_equal(mc, mp));
}

/* The prior object as a request body: over the current resourceVersion
 * and uid (cur), or for a POST without them. A custom resource keeps its
 * status (stored as is when its CRD has no status subresource). */
static void prior_body(kbuf *out, karena *a, const doc_node *prior, const doc_node *cur)
{
	doc_node *b = doc_copy(a, prior), *md = doc_map_get(b, "metadata");
	kerr e = KERR_INIT;
	if (!custom_resource(doc_get_str(prior, "apiVersion", "")))
		doc_map_del(b, "status");
	if (md && md->type == DOC_MAP) {
		doc_map_del(md, "resourceVersion");
		doc_map_del(md, "uid");
		doc_map_del(md, "creationTimestamp");
		doc_map_del(md, "generation");
		doc_map_del(md, "deletionTimestamp");
		if (cur) {
			doc_map_set(a, md, "resourceVersion", doc_new_str(a, doc_get_str(cur, "metadata.resourceVersion", "")));
			doc_map_set(a, md, "uid", doc_new_str(a, doc_get_str(cur, "metadata.uid", "")));
		}
	}
	doc_emit_json(out, b, 0, &e);
	kerr_clear(&e);
}

/* A write of the prior object: POST (cur NULL), PUT over cur, or with
 * status_sub a PUT of its /status over cur. *ans gets the server's answer. */
static int write_prior(kube_client *c, karena *a, const kube_obj *o, const doc_node *prior, const doc_node *cur,
		       bool status_sub, doc_node **ans, kerr *err)
{
	kbuf path = KBUF_INIT, body = KBUF_INIT;
	kube_resp rs;
	int rc;
	kube_obj_path(o, cur != NULL, &path);
	if (status_sub)
		kbuf_puts(&path, "/status");
	kbuf_puts(&path, "?fieldManager=" REL_ROLLBACK_MANAGER);
	prior_body(&body, a, prior, cur);
	rc = rel_kube_send(c, cur ? "PUT" : "POST", path.ptr, &body, &rs, err);
	if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, cur ? "restore" : "re-create", "%s", o->ref);
	if (!rc && (rc = doc_load_json(ans, a, o->ref, rs.body.ptr, rs.body.len, err)))
		kerr_wrap(err, "answer to the restore of %s", o->ref);
	kube_resp_release(&rs);
	kbuf_release(&path);
	kbuf_release(&body);
	return rc;
}

/* Put prior back over whatever is live now (see the header comment). */
static int restore_prior(kube_client *c, karena *a, const kube_obj *o, const doc_node *prior, kerr *err)
{
	int tries, rc = 0;
	for (tries = 1;; tries++) {
		doc_node *cur = NULL, *ans = NULL;
		kerr ge = KERR_INIT;
		if (kube_get(c, a, o, &cur, &ge)) {
			cur = NULL;
			if (ge.code != KE_NOTFOUND) {
				kerr_move(err, &ge);
				return err->code;
			}
		}
		kerr_clear(&ge);
		if (cur && same_as_prior(a, cur, prior))
			return 0;
		rc = write_prior(c, a, o, prior, cur, false, &ans, err);
		/* a custom resource's status the server left out (a status
		 * subresource) goes back through it */
		if (!rc && custom_resource(o->api_version) && doc_get_path(prior, "status") &&
		    !doc_equal(doc_get_path(prior, "status"), doc_get_path(ans, "status")))
			rc = write_prior(c, a, o, prior, ans, true, &ans, err);
		if (!rc && managed_by(ans, REL_ROLLBACK_MANAGER) && doc_get_path(prior, "metadata.managedFields"))
			rc = write_prior(c, a, o, prior, ans, false, &ans, err);
		if (rc == KE_CONFLICT && tries == PUT_TRIES)
			kerr_wrap(err, "%s kept changing while it was restored (%d tries)", o->ref, tries);
		if (rc != KE_CONFLICT || tries == PUT_TRIES)
			return rc;
		kerr_clear(err);   /* someone wrote meanwhile (a controller, or it came back): read again */
		sleep_ms(50L * tries);
	}
}

int rel_delete_wait(kube_client *c, karena *a, const kube_obj *o, long timeout_ms, bool *was, kerr *err)
{
	kbuf path = KBUF_INIT;
	kube_resp rs;
	long t0 = mono_ms(), pause = 100;
	int rc;
	kube_obj_path(o, true, &path);
	kbuf_puts(&path, "?propagationPolicy=Background");
	rc = rel_kube_send(c, "DELETE", path.ptr, NULL, &rs, err);
	*was = rc || rs.status != 404;
	if (!rc && rs.status >= 400 && rs.status != 404)
		rc = rel_kube_error(err, &rs, "delete", "%s", o->ref);
	kube_resp_release(&rs);
	kbuf_release(&path);
	while (!rc) {
		doc_node *cur = NULL;
		kerr ge = KERR_INIT;
		rc = kube_get(c, a, o, &cur, &ge);
		if (rc == KE_NOTFOUND) {
			kerr_clear(&ge);
			return 0;
		}
		if (rc) {
			kerr_move(err, &ge);
			return rc;
		}
		if (mono_ms() - t0 > timeout_ms) {
			const doc_node *fin = doc_get_path(cur, "metadata.finalizers");
			kbuf f = KBUF_INIT;
			kerr e2 = KERR_INIT;
			if (fin)
				doc_emit_json(&f, fin, 0, &e2);
			kerr_clear(&e2);
			rc = kerr_set(err, KE_TIMEOUT, "%s is still being deleted after %lds%s%s", o->ref, timeout_ms / 1000,
				      fin ? "; finalizers " : "", fin ? f.ptr : "");
			kbuf_release(&f);
			return rc;
		}
		sleep_ms(pause);
		if (pause < 1000)
			pause *= 2;
		rc = lease_check(c, err);
	}
	return rc;
}

static void note_left(rel_rollback_report *rep, const char *ref, const kerr *e)
{
	kbuf m = KBUF_INIT;
	kerr_format_short(e, &m);
	kbuf_printf(&rep->left, "%s: %s\n", ref, m.ptr ? m.ptr : "failed");
	kbuf_release(&m);
}

static void restore_one(kube_client *c, karena *a, const rel_rec_object *e, long timeout_ms, bool delete_crds,
			bool policy_keep, rel_rollback_report *rep)
{
	bool keep = e->keep && !(delete_crds && !strcmp(e->kind, "CustomResourceDefinition"));
	kube_obj o;
	kerr err = KERR_INIT;
	const char *ref = rel_rec_object_ref(a, e);
	int rc = rel_rec_object_resolve(&o, c, a, e, &err);
	if (rc == KE_NOTFOUND && (!e->existed || e->cleaned)) {
		/* its kind is not served (its CRD went): nothing of it is left */
		rep->unchanged++;
		kerr_clear(&err);
		return;
	}
	if (!rc && e->cleaned) {
		/* a test's cleanup deleted it: gone, it stays gone; back, it is
		 * undone as any other object */
		doc_node *cur = NULL;
		kerr ge = KERR_INIT;
		int grc = kube_get(c, a, &o, &cur, &ge);
		kerr_clear(&ge);
		if (grc == KE_NOTFOUND) {
			rep->unchanged++;
			kube_emit(c, KEV_INFO, "rollback.object",
				  karena_printf(a, "%s: not re-created (a test's cleanup deleted it)", ref), "object", ref,
				  "action", "unchanged", NULL);
			return;
		}
	}
	if (!rc && keep) {
		doc_node *cur = NULL;
		kerr ge = KERR_INIT;
		bool live = kube_get(c, a, &o, &cur, &ge) == 0;
		kerr_clear(&ge);
		if (!live && !e->existed) {
			rep->unchanged++;
		} else if (live && e->existed && same_as_prior(a, cur, e->prior)) {
			rep->unchanged++;
		} else {
			rep->kept++;
			kbuf_printf(&rep->kept_list, "%s\n", ref);
			kube_emit(c, KEV_WARN, "rollback.kept",
				  karena_printf(a, "%s: kept as it is (rollback policy keep)%s", ref,
						e->existed ? "" : "; it did not exist before the run"),
				  "object", ref, "action", "kept", NULL);
		}
		return;
	}
	if (!rc && !e->existed && policy_keep) {
		/* Helm deletes no object so annotated, on uninstall nor rollback */
		rep->kept++;
		kbuf_printf(&rep->kept_list, "%s\n", ref);
		kube_emit(c, KEV_WARN, "rollback.kept",
			  karena_printf(a, "%s: kept (helm.sh/resource-policy: keep); it did not exist before the run", ref),
			  "object", ref, "action", "kept", NULL);
	} else if (!rc && !e->existed) {
		bool was = false;
		if (!(rc = rel_delete_wait(c, a, &o, timeout_ms, &was, &err)) && !was) {
			rep->unchanged++;
		} else if (!rc) {
			rep->deleted++;
			kube_emit(c, KEV_INFO, "rollback.object", karena_printf(a, "%s: deleted (it did not exist before)", ref),
				  "object", ref, "action", "deleted", NULL);
		}
	} else if (!rc) {
		doc_node *cur = NULL;
		kerr ge = KERR_INIT;
		bool same = kube_get(c, a, &o, &cur, &ge) == 0 && same_as_prior(a, cur, e->prior);
		kerr_clear(&ge);
		if (same) {
			rep->unchanged++;
		} else if (!(rc = restore_prior(c, a, &o, e->prior, &err))) {
			rep->restored++;
			kube_emit(c, KEV_INFO, "rollback.object", karena_printf(a, "%s: restored to its prior state", ref),
				  "object", ref, "action", "restored", NULL);
		}
	}
	if (rc) {
		note_left(rep, ref, &err);
		kube_emit(c, KEV_ERROR, "rollback.failed", karena_printf(a, "%s: not put back: %s", ref, err.first.msg),
			  "object", ref, NULL);
	}
	kerr_clear(&err);
}

/* ---- the journal, in reverse ---- */

int rel_rollback_journal(kube_client *c, karena *a, const rel_record *rec, const rel_run_opts *o,
			 rel_rollback_report *rep, kerr *err)
{
	long timeout_ms = o->rollback_timeout_ms;
	const rel_rec_object **v = NULL;
	bool *pk = NULL;
	size_t n = 0, cap = 0, pcap = 0, i, k, s;
	int pass, rc;
	if (!timeout_ms)
		timeout_ms = ROLLBACK_TIMEOUT_MS;
	if ((rc = kube_discovery_refresh(c, err)))
		return rc;
	/* each object once, with its earliest prior state, in journal order */
	for (s = 0; s < rec->nstages; s++) {
		doc_stream ds;
		kerr me = KERR_INIT;
		const rel_rec_stage *st = &rec->stages[s];
		if (!rel_rec_stage_started(st))
			continue;
		/* the first entries are the stage's rendered documents, in order */
		memset(&ds, 0, sizeof(ds));
		if (st->manifest && doc_load_yaml(&ds, a, st->name, st->manifest, strlen(st->manifest), NULL, &me))
			memset(&ds, 0, sizeof(ds));
		kerr_clear(&me);
		for (i = 0; i < st->nobjects; i++) {
			const rel_rec_object *e = &st->objects[i];
			for (k = 0; k < n && !rel_rec_object_same(v[k], e); k++)
				;
			if (k < n)
				continue;
			ALLOC_GROW(v, n + 1, cap);
			ALLOC_GROW(pk, n + 1, pcap);
			pk[n] = i < ds.len && ds.docs[i] &&
				!strcmp(doc_get_str(ds.docs[i], "metadata.annotations.helm\\.sh/resource-policy", ""), "keep");
			v[n++] = e;
		}
	}
	/* reverse order; workloads last, so they restart over restored config;
	 * the Lease kept between objects (a lost one stops it at once) */
	for (pass = 0; pass < 2 && !rc; pass++)
		for (i = n; i-- > 0 && !rc;)
			if (is_workload(v[i]->kind) == (pass == 1) && !(rc = lease_check(c, err)))
				restore_one(c, a, v[i], timeout_ms, o->delete_crds, pk[i], rep);
	free(v);
	free(pk);
	if (rc) {
		kerr_wrap(err, "rollback of release %s revision %d stopped before its end", rec->name, rec->revision);
		err->code = KE_ROLLBACK;
		return KE_ROLLBACK;
	}
	if (rep->left.len)
		return kerr_set(err, KE_ROLLBACK, "rollback of release %s revision %d is incomplete", rec->name,
				rec->revision);
	return 0;
}

/* ---- a run ---- */

/* The renewer of the Lease just taken, on a client of its own; when it
 * cannot start, the Lease is given up. */
static int start_renewer(rel_lock *l, kube_client *c, const rel_run_opts *o, kerr *err)
{
	kube_client *own = NULL;
	kube_transport tr;
	kerr e = KERR_INIT;
	int rc = 0;
	if (o->lease_client)
		own = o->lease_client(c);
	else if ((rc = kube_transport_curl(&tr, c->cfg, err)) == 0)
		own = kube_client_new_with(tr, c->cfg, &c->sink);   /* its events go through the run's sink */
	if (!rc && !own)
		rc = kerr_set(err, KE_ERROR, "release \"%s\": no client for the thread that renews its lock", l->release);
	if (!rc)
		rc = rel_lock_renewer_start(l, own, err);
	if (rc) {
		rel_lock_unlock(l, &e);
		kerr_clear(&e);
	}
	return rc;
}

static int take_lock(rel_lock *l, kube_client *c, const char *release, const rel_run_opts *o, kerr *err)
{
	rel_lock_opts lo;
	long t0 = mono_ms();
	int rc;
	memset(&lo, 0, sizeof(lo));
	lo.namespace = o->lock_ns;
	lo.release = release;
	lo.duration_s = o->lease_s;
	for (;;) {
		rc = rel_lock_acquire(l, c, &lo, err);
		if (!rc && l->took_over) {
			kbuf m = KBUF_INIT;
			kbuf_printf(&m, "took over the release lock from an expired holder (%s)",
				    l->prev_holder ? l->prev_holder : "unknown");
			kube_emit(c, KEV_WARN, "lock.takeover", m.ptr, "previous_holder", l->prev_holder, NULL);
			kbuf_release(&m);
		}
		if (!rc && (rc = start_renewer(l, c, o, err)) == 0) {
			/* every wait and every write of the run checks the Lease, and no
			 * request outlasts it (give_lock ends both) */
			c->on_wait = keep_lock;
			c->on_wait_ctx = l;
			c->before_write = keep_lock;
			c->before_write_ctx = l;
			c->request_timeout_ms = l->duration_s * 1000;
		}
		if (rc != KE_CONFLICT || mono_ms() - t0 >= o->wait_for_lock_ms)
			return rc;
		rel_lock_release(l);
		kerr_clear(err);
		sleep_ms(1000);
	}
}

static void give_lock(rel_lock *l)
{
	kerr e = KERR_INIT;
	if (l->c && l->c->on_wait_ctx == l) {
		l->c->on_wait = NULL;
		l->c->on_wait_ctx = NULL;
		l->c->before_write = NULL;
		l->c->before_write_ctx = NULL;
		l->c->request_timeout_ms = 0;
	}
	rel_lock_unlock(l, &e);   /* a Lease we cannot delete expires by itself */
	kerr_clear(&e);
	rel_lock_release(l);
}

/* The previous deployed revisions (h, n: the history read under the
 * Lease before the run) become superseded; old ones are pruned. Neither
 * may fail the run: the new record is already right. */
static void after_deploy(rel_store *st, const rel_rec_summary *h, size_t n, const rel_record *rec,
			 size_t history_max, kube_client *c)
{
	size_t i;
	kerr e = KERR_INIT;
	for (i = 0; i < n; i++) {
		if (h[i].status != REL_ST_DEPLOYED)
			continue;
		if (rel_store_set_status(st, rec->name, h[i].revision, REL_ST_SUPERSEDED, &e))
			kube_emit(c, KEV_WARN, "release.supersede", e.first.msg, NULL);
		kerr_clear(&e);
	}
	if (history_max && n + 1 > history_max && rel_store_prune(st, rec->name, history_max, NULL, &e))
		kube_emit(c, KEV_WARN, "release.prune", e.first.msg, NULL);
	kerr_clear(&e);
}

/* The release's history (*h, *n) and its latest revision; KE_CONFLICT
 * when that one is pending. */
static int refuse_pending(rel_store *st, karena *a, const char *release, rel_rec_summary **h, size_t *n, int *latest,
			  kerr *err)
{
	int rc = rel_store_history(st, a, release, h, n, err);
	*latest = 0;
	if (rc || !*n)
		return rc;
	*latest = (*h)[*n - 1].revision;
	if ((*h)[*n - 1].status == REL_ST_PENDING)
		return kerr_set(err, KE_CONFLICT,
				"release \"%s\" revision %d is pending: a run was killed before it finished (the lock is "
				"free); run `kstage rollback --recover %s` to put the cluster back from its journal",
				release, *latest, release);
	return 0;
}

int rel_release_apply(const rel_bundle *b, rel_ctx *ctx, const rel_run_opts *o, rel_run_result *res, karena *a,
		      kerr *err)
{
	rel_lock lock;
	rel_journal j;
	rel_record *rec, *prior = NULL;
	rel_helm_release helm;
	rel_rec_summary *h = NULL;
	size_t nh = 0;
	kerr fe = KERR_INIT;
	int latest, rc;
	memset(res, 0, sizeof(*res));
	res->release = karena_strdup(a, o->release ? o->release : b->name);
	if ((rc = rel_release_name_check(res->release, err)) || (rc = rel_check_stages(b, ctx, err)))
		return rc;
	/* the checks, before the Lease or a record: a failed preflight changes nothing */
	if ((rc = kube_discovery_load(ctx->client, err)) || (rc = rel_preflight(b, ctx, NULL, err)))
		return rc;
	if ((rc = take_lock(&lock, ctx->client, res->release, o, err))) {
		rel_lock_release(&lock);
		return rc;
	}
	res->took_over = lock.took_over;
	res->prev_holder = lock.prev_holder ? karena_strdup(a, lock.prev_holder) : NULL;
	if ((rc = refuse_pending(o->store, a, res->release, &h, &nh, &latest, err))) {
		give_lock(&lock);
		return rc;
	}
	if ((rc = rel_prior_of(o->store, a, res->release, h, nh, &prior, err))) {
		give_lock(&lock);
		return rc;
	}
	if ((rc = rel_helm_start(&helm, &prior, b, ctx, res->release, o->helm_record, a, err))) {
		give_lock(&lock);
		return rc;
	}
	if ((rc = rel_values_reuse(ctx, b, prior, &helm, o->values_mode, a, err))) {
		give_lock(&lock);
		return rc;
	}
	ctx->is_upgrade = prior != NULL;
	ctx->release_name = res->release;   /* .Release.Name, as helm install NAME */
	rec = rel_record_new(a, res->release, latest + 1);
	rec->bundle_name = b->name;
	rec->bundle_version = b->version;
	rec->holder = karena_strdup(a, lock.identity);
	rec->takeover = res->prev_holder;
	rel_record_set_values(a, rec, ctx->values, b->schema, NULL);
	res->revision = rec->revision;
	memset(&j, 0, sizeof(j));
	j.a = a;
	j.rec = rec;
	j.store = o->store;
	j.lock = &lock;
	ctx->journal = &j;
	rc = rel_apply(b, ctx, &res->sum, err);
	if (!rc && prior)
		rc = rel_prune(ctx, prior, &res->sum, o->rollback_timeout_ms ? o->rollback_timeout_ms : ROLLBACK_TIMEOUT_MS, err);
	ctx->journal = NULL;
	res->changed = res->sum.created || res->sum.applied || res->sum.ops_changed || res->sum.pruned;
	if (!rc) {
		rec->status = REL_ST_DEPLOYED;
		rec->description = "apply complete";
	} else {
		res->failed = true;
		rec->description = karena_printf(a, "apply failed at stage %s",
						 res->sum.failed_stage ? res->sum.failed_stage : "(before any stage)");
		if (o->no_rollback) {
			rec->status = REL_ST_FAILED;
			rec->description = karena_printf(a, "%s; not rolled back (--no-rollback)", rec->description);
		} else {
			size_t s;
			int rb;
			kube_emit(ctx->client, KEV_WARN, "rollback.start",
				  karena_printf(a, "rolling back release %s revision %d from its journal", rec->name, rec->revision),
				  NULL);
			rb = rel_rollback_journal(ctx->client, a, rec, o, &res->rb, &fe);
			res->rolled_back = rb == 0;
			rec->status = rb ? REL_ST_FAILED : REL_ST_ROLLED_BACK;
			rec->description = karena_printf(a, "%s; %s", rec->description,
							 rb ? "rollback incomplete" : "rolled back");
			for (s = 0; !rb && s < rec->nstages; s++)
				if (rel_rec_stage_started(&rec->stages[s]))
					rec->stages[s].result = REL_SR_ROLLED_BACK;
		}
	}
	{
		kerr we = KERR_INIT;
		if (rel_journal_save(&j, &we)) {
			res->pending = j.stored;
			if (!rc) {
				kerr_move(err, &we);
				rc = err->code;
				res->failed = true;
			}
		}
		kerr_clear(&we);
	}
	if (!rc) {
		after_deploy(o->store, h, nh, rec, o->history_max, ctx->client);
		rel_helm_finish(&helm, b, ctx, rec, o->helm_record, a);
	}
	give_lock(&lock);
	kerr_clear(&fe);
	if (rc && (res->changed || res->pending) && !res->rolled_back)
		return KE_ROLLBACK;
	return rc;
}

/* Write back a record read from the store (the Lease kept). */
static int save_stored(karena *a, rel_record *rec, const rel_run_opts *o, rel_lock *lock, kerr *err)
{
	rel_journal j;
	memset(&j, 0, sizeof(j));
	j.a = a;
	j.rec = rec;
	j.store = o->store;
	j.lock = lock;
	j.stored = true;
	return rel_journal_save(&j, err);
}

/* Undo one revision from its journal and mark it rolled back (or failed
 * when incomplete). */
static int undo_revision(kube_client *c, karena *a, rel_record *rec, const rel_run_opts *o, rel_lock *lock,
			 const char *done, const char *incomplete, rel_rollback_report *rep, kerr *err)
{
	size_t i;
	kerr we = KERR_INIT;
	int rc;
	kube_emit(c, KEV_INFO, "rollback.revision",
		  karena_printf(a, "undoing revision %d (%s) from its journal", rec->revision, rel_status_name(rec->status)),
		  NULL);
	rc = rel_rollback_journal(c, a, rec, o, rep, err);
	rec->status = rc ? REL_ST_FAILED : o->uninstall ? REL_ST_UNINSTALLED : REL_ST_ROLLED_BACK;
	rec->description = rc ? incomplete : done;
	if (lock->took_over)   /* the takeover is recorded where this run writes */
		rec->description = karena_printf(a, "%s; the lock was taken over from an expired holder (%s)",
						 rec->description, lock->prev_holder ? lock->prev_holder : "unknown");
	for (i = 0; !rc && i < rec->nstages; i++)
		if (rel_rec_stage_started(&rec->stages[i]))
			rec->stages[i].result = REL_SR_ROLLED_BACK;
	if (save_stored(a, rec, o, lock, &we) && !rc) {
		kerr_move(err, &we);
		rc = err->code;
	}
	kerr_clear(&we);
	return rc;
}

/* Uninstall, after every revision still in effect was undone: put back
 * what the pruned revisions changed (rec's origin), then mark the origin
 * used (empty), so a later uninstall does not put it back again. */
static int undo_origin(kube_client *c, karena *a, rel_record *rec, const rel_run_opts *o, rel_lock *lock,
		       rel_rollback_report *rep, kerr *err)
{
	rel_record pruned = *rec;
	int rc;
	kube_emit(c, KEV_INFO, "rollback.origin",
		  karena_printf(a, "putting back what the pruned revisions before %d changed (%zu objects)", rec->revision,
				rec->origin->nobjects),
		  NULL);
	pruned.stages = rec->origin;
	pruned.nstages = 1;
	if ((rc = rel_rollback_journal(c, a, &pruned, o, rep, err)))
		return rc;
	rec->origin->nobjects = 0;
	return save_stored(a, rec, o, lock, err);
}

int rel_release_recover(kube_client *c, karena *a, const char *release, const rel_run_opts *o, int *rev,
			rel_rollback_report *rep, kerr *err)
{
	rel_lock lock;
	rel_rec_summary s;
	rel_record *rec = NULL;
	int rc;
	*rev = 0;
	if ((rc = take_lock(&lock, c, release, o, err))) {
		rel_lock_release(&lock);
		return rc;
	}
	if (!(rc = rel_store_latest(o->store, a, release, &s, err)) && s.status != REL_ST_PENDING)
		rc = kerr_set(err, KE_USAGE, "release \"%s\": the latest revision (%d) is %s, not pending: nothing to recover",
			      release, s.revision, rel_status_name(s.status));
	if (!rc)
		rc = rel_store_get(o->store, a, release, s.revision, &rec, err);
	if (!rc) {
		*rev = rec->revision;
		rc = undo_revision(c, a, rec, o, &lock, "killed run; rolled back by rollback --recover",
				   "killed run; recovery incomplete", rep, err);
	}
	give_lock(&lock);
	return rc;
}

int rel_release_note_cleaned(kube_client *c, karena *a, const char *release, const rel_run_opts *o,
			     const rel_rec_stage *cleaned, size_t *marked, kerr *err)
{
	rel_lock lock;
	rel_record *rec = NULL;
	size_t i;
	int rc;
	*marked = 0;
	if (!cleaned->nobjects)
		return 0;
	/* no deployed revision (a bundle verified before any apply): nothing to note, no Lease taken */
	if ((rc = rel_prior_load(o->store, a, release, &rec, err)) || !rec)
		return rc;
	for (i = 0; i < cleaned->nobjects && !*marked; i++)
		*marked += rel_record_mark_cleaned(rec, &cleaned->objects[i]);
	if (!*marked)
		return 0;
	*marked = 0;
	rec = NULL;
	if ((rc = take_lock(&lock, c, release, o, err))) {
		rel_lock_release(&lock);
		return rc;
	}
	if (!(rc = rel_prior_load(o->store, a, release, &rec, err)) && rec) {
		for (i = 0; i < cleaned->nobjects; i++)
			*marked += rel_record_mark_cleaned(rec, &cleaned->objects[i]);
		if (*marked)
			rc = rel_store_update(o->store, rec, err);
	}
	give_lock(&lock);
	return rc;
}

/* The hooks around a rollback (the target's pre/post-rollback) or an
 * uninstall (the newest revision's pre/post-delete); *hrec gets the record
 * they come from. */
static int release_hooks(kube_client *c, karena *a, const char *release, int target, rel_record *newest,
			 const rel_run_opts *o, bool pre, rel_record **hrec, kerr *err)
{
	int rc;
	if (pre && !o->uninstall && (rc = rel_store_get(o->store, a, release, target, hrec, err)))
		return rc;
	if (pre && o->uninstall)
		*hrec = newest;
	return rel_hooks_of_run(c, a, *hrec, NULL,
				o->uninstall ? (pre ? REL_HOOK_PRE_DELETE : REL_HOOK_POST_DELETE)
					     : (pre ? REL_HOOK_PRE_ROLLBACK : REL_HOOK_POST_ROLLBACK), HOOK_TIMEOUT_MS, false, NULL,
				err);
}

int rel_release_rollback(kube_client *c, karena *a, const char *release, int target, const rel_run_opts *o,
			 int *to, rel_rollback_report *rep, kerr *err)
{
	rel_lock lock;
	rel_rec_summary *h = NULL;
	rel_record **recs = NULL, *hrec = NULL, *oldest = NULL;
	size_t n = 0, i, k = 0;
	int rc;
	*to = 0;
	if ((rc = take_lock(&lock, c, release, o, err))) {
		rel_lock_release(&lock);
		return rc;
	}
	if ((rc = rel_store_history(o->store, a, release, &h, &n, err)))
		goto out;
	if (!n) {
		rc = kerr_set(err, KE_NOTFOUND, "release \"%s\" has no records in namespace \"%s\"", release,
			      o->store->namespace);
		goto out;
	}
	if (h[n - 1].status == REL_ST_PENDING) {
		rc = kerr_set(err, KE_CONFLICT, "release \"%s\" revision %d is pending (a killed run): run `kstage "
			      "rollback --recover %s` first", release, h[n - 1].revision, release);
		goto out;
	}
	if (o->uninstall) {
		target = 0;   /* before the first revision */
	} else if (!target) {
		/* the previous successful revision: before the latest one when that
		 * one is in effect, else the newest still in effect */
		size_t top = h[n - 1].status == REL_ST_DEPLOYED ? n - 1 : n;
		for (i = top; i-- > 0;)
			if (h[i].status == REL_ST_DEPLOYED || h[i].status == REL_ST_SUPERSEDED) {
				target = h[i].revision;
				break;
			}
		if (!target) {
			rc = kerr_set(err, KE_USAGE, "release \"%s\": no earlier successful revision to roll back to", release);
			goto out;
		}
	}
	for (i = 0; i < n && h[i].revision != target; i++)
		;
	if (!o->uninstall && (i == n || (h[i].status != REL_ST_DEPLOYED && h[i].status != REL_ST_SUPERSEDED))) {
		rc = kerr_set(err, KE_USAGE, "release \"%s\": revision %d %s", release, target,
			      i == n ? "does not exist (or was pruned)" : "did not succeed: roll back to a deployed or superseded one");
		goto out;
	}
	/* every later revision still in effect is undone, newest first; all
	 * their records must be there before anything changes (for uninstall,
	 * the pruned ones' changes are in the oldest record's origin) */
	if (o->uninstall && (rc = rel_store_get(o->store, a, release, h[0].revision, &oldest, err)))
		goto out;
	if (o->uninstall && h[0].revision > 1 && !oldest->origin) {
		rc = kerr_set(err, KE_USAGE, "release \"%s\": the records of revisions before %d were pruned (by a kstage "
			      "that kept no origin): what they changed cannot be put back", release, h[0].revision);
		goto out;
	}
	for (i = 0, k = 0; i < n; i++)
		k += h[i].revision > target;
	if ((int)k != h[n - 1].revision - (o->uninstall ? h[0].revision - 1 : target)) {
		rc = kerr_set(err, KE_USAGE, "release \"%s\": records of revisions after %d were pruned: cannot undo them",
			      release, o->uninstall ? h[0].revision : target);
		goto out;
	}
	recs = xcalloc(n + 1, sizeof(*recs));
	for (i = n, k = 0; i-- > 0 && h[i].revision > target;) {
		if (h[i].status == REL_ST_ROLLED_BACK || h[i].status == REL_ST_UNINSTALLED)
			continue;
		if (oldest && h[i].revision == oldest->revision)
			recs[k] = oldest;   /* one copy: its origin is written back after its undo */
		else if ((rc = rel_store_get(o->store, a, release, h[i].revision, &recs[k], err)))
			goto out;
		k++;
	}
	/* an object a test's cleanup deleted after one of these revisions is
	 * not re-created by an earlier one either */
	for (i = 0; i < k; i++) {
		size_t s, e, m;
		for (s = 0; s < recs[i]->nstages; s++)
			for (e = 0; e < recs[i]->stages[s].nobjects; e++)
				if (recs[i]->stages[s].objects[e].cleaned)
					for (m = 0; m < k; m++)
						rel_record_mark_cleaned(recs[m], &recs[i]->stages[s].objects[e]);
	}
	if (!o->no_hooks && (rc = release_hooks(c, a, release, target, k ? recs[0] : NULL, o, true, &hrec, err)))
		goto out;
	for (i = 0; i < k && !rc; i++)
		rc = undo_revision(c, a, recs[i], o, &lock, o->uninstall ? "uninstalled" : "rolled back by kstage rollback",
				   o->uninstall ? "uninstall incomplete" : "rollback incomplete", rep, err);
	if (!rc && oldest && oldest->origin && oldest->origin->nobjects)
		rc = undo_origin(c, a, oldest, o, &lock, rep, err);
	if (!rc && hrec)
		rc = release_hooks(c, a, release, target, hrec, o, false, &hrec, err);
	if (!rc && !o->uninstall) {
		rel_record *t = NULL;
		if (!(rc = rel_store_get(o->store, a, release, target, &t, err)) && t->status != REL_ST_DEPLOYED) {
			t->status = REL_ST_DEPLOYED;
			rc = rel_store_update(o->store, t, err);
		}
		*to = target;
	}
out:
	free(recs);
	give_lock(&lock);
	return rc;
}
