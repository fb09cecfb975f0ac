/* Pruning's choice of objects (release/prune.c) and the --create-namespace
 * hint (release/namespace.c): plain data, no cluster. */
#include "unit.h"
#include "release/release.h"

#include <stdio.h>
#include <stdlib.h>

/* A stage whose manifest renders the first nrendered objects; the rest
 * are op targets journaled after them. */
static rel_rec_stage *stage(karena *a, rel_record *r, const char *name, rel_stage_result res, size_t nrendered,
			    const char *const *objs, size_t n)
{
	rel_rec_stage *s = rel_record_add_stage(a, r, name);
	kbuf m = KBUF_INIT;
	size_t i;
	for (i = 0; i < n; i++) {
		char kind[64], ns[64], nm[64];
		/* "Kind/ns/name" or "Kind/name" */
		if (sscanf(objs[i], "%63[^/]/%63[^/]/%63s", kind, ns, nm) == 3) {
			rel_record_add_object(a, s, !strcmp(kind, "Deployment") ? "apps/v1" : "v1", kind, ns, nm, NULL);
		} else {
			sscanf(objs[i], "%63[^/]/%63s", kind, nm);
			rel_record_add_object(a, s, "v1", kind, NULL, nm, NULL);
		}
		if (i < nrendered)
			kbuf_printf(&m, "---\napiVersion: v1\nkind: %s\nmetadata: {name: x}\n", kind);
	}
	s->manifest = karena_strndup(a, m.ptr ? m.ptr : "", m.len);
	s->result = res;
	kbuf_release(&m);
	return s;
}

static const char *refs(karena *a, const rel_rec_object *const *v, size_t n)
{
	kbuf b = KBUF_INIT;
	const char *s;
	size_t i;
	for (i = 0; i < n; i++)
		kbuf_printf(&b, "%s%s", i ? " " : "", rel_rec_object_ref(a, v[i]));
	s = karena_strndup(a, b.ptr ? b.ptr : "", b.len);
	kbuf_release(&b);
	return s;
}

TEST(release_prune_candidates_are_what_the_prior_rendered_and_now_does_not)
{
	karena a = KARENA_INIT;
	rel_record *prior = rel_record_new(&a, "r", 1), *now = rel_record_new(&a, "r", 2);
	const char *p1[] = { "ConfigMap/ns/a", "ConfigMap/ns/b", "Service/ns/b", "Deployment/ns/restarted" };
	const char *p2[] = { "ConfigMap/ns/moved", "ConfigMap/ns/gone2" };
	const char *p3[] = { "ConfigMap/ns/filtered" };
	const char *pk[] = { "CustomResourceDefinition/x.example.com", "ConfigMap/ns/keepme" };
	const char *n1[] = { "ConfigMap/ns/a", "ConfigMap/ns/moved" };
	const char *ns1[] = { "Namespace/fresh" };
	const rel_rec_object **v;
	size_t n;
	rel_rec_stage *ks;
	/* prior: stage one renders 3 objects and restarts a Deployment (op) */
	stage(&a, prior, "one", REL_SR_SUCCEEDED, 3, p1, 4);
	stage(&a, prior, "two", REL_SR_SUCCEEDED, 2, p2, 2);
	stage(&a, prior, "three", REL_SR_SUCCEEDED, 1, p3, 1);
	ks = stage(&a, prior, "crds", REL_SR_SUCCEEDED, 2, pk, 2);
	ks->objects[0].keep = true;   /* a CRD */
	ks->objects[1].keep = true;   /* rollback: keep */
	stage(&a, prior, REL_NS_STAGE, REL_SR_SUCCEEDED, 1, ns1, 1);
	/* now: stage one keeps a and takes "moved" from stage two; stage two
	 * is disabled; stage three was left out (--stage); crds ran */
	stage(&a, now, "one", REL_SR_SUCCEEDED, 2, n1, 2);
	stage(&a, now, "two", REL_SR_SKIPPED, 0, NULL, 0);
	stage(&a, now, "crds", REL_SR_SUCCEEDED, 0, NULL, 0);
	CHECK_INT_EQ(rel_prune_candidates(&v, &n, &a, prior, now), 0);
	CHECK_STR_EQ(refs(&a, v, n), "ConfigMap/ns/b Service/ns/b ConfigMap/ns/gone2");
	/* nothing deployed before: nothing to prune */
	CHECK_INT_EQ(rel_prune_candidates(&v, &n, &a, NULL, now), 0);
	CHECK_INT_EQ(n, 0);
	karena_release(&a);
}

TEST(release_prune_same_object_ignores_the_version_not_the_group)
{
	rel_rec_object x = { "apps/v1", "Deployment", "d", "ns", false, NULL, false, NULL, NULL, 0, false };
	rel_rec_object y = x, z = x, w = x;
	y.api_version = "apps/v1beta2";
	z.api_version = "extensions/v1beta1";
	w.ns = NULL;
	CHECK(rel_rec_object_same(&x, &y));
	CHECK(!rel_rec_object_same(&x, &z));
	CHECK(!rel_rec_object_same(&x, &w));
}

TEST(release_prune_rendered_count_is_the_manifest_documents)
{
	karena a = KARENA_INIT;
	rel_record *r = rel_record_new(&a, "r", 1);
	const char *o[] = { "ConfigMap/ns/a", "ConfigMap/ns/b", "Deployment/ns/c" };
	rel_rec_stage *s = stage(&a, r, "s", REL_SR_SUCCEEDED, 2, o, 3);
	CHECK_INT_EQ(rel_rec_stage_rendered(&a, s), 2);
	s->manifest = NULL;   /* no manifest: every entry counts */
	CHECK_INT_EQ(rel_rec_stage_rendered(&a, s), 3);
	s->manifest = "---\n: [unclosed";
	CHECK_INT_EQ(rel_rec_stage_rendered(&a, s), 0);
	karena_release(&a);
}

TEST(release_namespace_hint_names_the_flag_only_for_a_missing_namespace)
{
	rel_ctx ctx;
	kerr e = KERR_INIT;
	memset(&ctx, 0, sizeof(ctx));
	kerr_set(&e, KE_NOTFOUND, "stage app: apply ConfigMap/x/a: namespaces \"x\" not found");
	rel_namespace_hint(&ctx, &e);
	CHECK_STR_EQ(e.first.msg,
		     "stage app: apply ConfigMap/x/a: namespaces \"x\" not found (create the namespace first, or pass "
		     "--create-namespace)");
	kerr_set(&e, KE_NOTFOUND, "configmaps \"a\" not found");
	rel_namespace_hint(&ctx, &e);
	CHECK_STR_EQ(e.first.msg, "configmaps \"a\" not found");
	ctx.create_namespace = true;
	kerr_set(&e, KE_NOTFOUND, "namespaces \"x\" not found");
	rel_namespace_hint(&ctx, &e);
	CHECK_STR_EQ(e.first.msg, "namespaces \"x\" not found");
	kerr_clear(&e);
}
