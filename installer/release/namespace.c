/*
 * release/namespace.c - `apply --create-namespace`, as Helm's: the run's
 * namespace is created when it is missing, journaled as absent before the
 * run (a record stage of its own, REL_NS_STAGE), so that a rollback of
 * that revision and `kstage uninstall` delete it, and only when kstage
 * created it.
 */
#include "release.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

int rel_namespace_create(const rel_ctx *ctx, rel_summary *sum, kerr *err)
{
	rel_journal *j = ctx->journal;
	kube_client *c = ctx->client;
	karena a = KARENA_INIT;
	doc_node *d, *md, *live = NULL;
	kube_obj o;
	kerr ge = KERR_INIT;
	bool created = false;
	int rc;
	if (!ctx->namespace)
		return 0;
	d = doc_new_map(&a);
	md = doc_new_map(&a);
	doc_map_set(&a, d, "apiVersion", doc_new_str(&a, "v1"));
	doc_map_set(&a, d, "kind", doc_new_str(&a, "Namespace"));
	doc_map_set(&a, md, "name", doc_new_str(&a, ctx->namespace));
	doc_map_set(&a, d, "metadata", md);
	if ((rc = kube_obj_init(&o, &a, d, err)) || (rc = kube_obj_resolve(c, &a, &o, NULL, err)))
		goto out;
	rc = kube_get(c, &a, &o, &live, &ge);
	if (rc != KE_NOTFOUND) {
		if (rc)
			kerr_move(err, &ge);
		goto out;
	}
	kerr_clear(&ge);
	if (j) {
		rel_rec_stage *st = rel_record_add_stage(j->a, j->rec, REL_NS_STAGE);
		const doc_node *docs[1] = { d };
		rel_record_add_object(j->a, st, "v1", "Namespace", NULL, ctx->namespace, NULL);
		st->manifest = rel_yaml_stream(j->a, docs, 1);
		st->result = REL_SR_RUNNING;
		st->started_ms = rel_now_ms();
		if ((rc = rel_journal_save(j, err)))
			goto out;
		rc = kube_apply(c, &a, &o, &(kube_apply_opts){ false, false, NULL, true, false }, &live, &created, err);
		st->result = rc ? REL_SR_FAILED : REL_SR_SUCCEEDED;
		st->finished_ms = rel_now_ms();
		if (rel_journal_save(j, rc ? &ge : err) && !rc)
			rc = err->code;
		kerr_clear(&ge);
	} else {
		rc = kube_apply(c, &a, &o, &(kube_apply_opts){ false, false, NULL, true, false }, &live, &created, err);
	}
	if (!rc) {
		sum->created += created;
		kube_emit(c, KEV_INFO, "object.applied", o.ref, "stage", REL_NS_STAGE, "object", o.ref, "action",
			  created ? "created" : "applied", NULL);
	}
out:
	if (rc)
		kerr_wrap(err, "--create-namespace: namespace \"%s\"", ctx->namespace);
	karena_release(&a);
	return rc;
}

void rel_namespace_hint(const rel_ctx *ctx, kerr *err)
{
	kbuf m = KBUF_INIT;
	if (err->code != KE_NOTFOUND || ctx->create_namespace || !err->first.msg ||
	    !strstr(err->first.msg, "namespaces \"") || !strstr(err->first.msg, "\" not found"))
		return;
	kbuf_printf(&m, "%s (create the namespace first, or pass --create-namespace)", err->first.msg);
	free(err->first.msg);
	err->first.msg = kbuf_detach(&m, NULL);
}
