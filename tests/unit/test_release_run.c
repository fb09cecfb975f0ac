/* Unit tests for release/run.c (a release run: Lease, pending record,
 * write-ahead journal, rollback) through tests/unit/fake_api, wrapped with
 * what a run needs besides: discovery, server-side apply (PATCH) and the
 * field-manager bookkeeping of an update, and a log of every request. */
#include "unit.h"
#include "fake_api.h"
#include "release/release.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct run_api {
	fake_api f;
	kube_client *inner;     /* the fake's own client: its transport */
	pthread_mutex_t mu;
	kbuf log;               /* "METHOD path\n" in arrival order */
	const char *stop_at;    /* or NULL: a request starting "METHOD path" with it sets *stop */
	const char *slow_at;    /* or NULL: a request starting "METHOD path" with it takes slow_ms */
	long slow_ms;
	volatile sig_atomic_t *stop;
} run_api;

static const char *disc_core =
	"{\"kind\":\"APIGroupDiscoveryList\",\"items\":[{\"metadata\":{},\"versions\":[{\"version\":\"v1\","
	"\"resources\":[{\"resource\":\"configmaps\",\"responseKind\":{\"kind\":\"ConfigMap\"},\"scope\":\"Namespaced\"},"
	"{\"resource\":\"secrets\",\"responseKind\":{\"kind\":\"Secret\"},\"scope\":\"Namespaced\"},"
	"{\"resource\":\"namespaces\",\"responseKind\":{\"kind\":\"Namespace\"},\"scope\":\"Cluster\"}]}]}]}";

static void answer(kube_resp *resp, long code, const char *ctype, const char *body)
{
	resp->status = code;
	kbuf_puts(&resp->content_type, ctype);
	kbuf_puts(&resp->body, body);
}

/* "/api/v1/namespaces/NS/configmaps/NAME" -> coll "NS/configmaps", name; a
 * Namespace "/api/v1/namespaces/NAME" -> coll "namespaces" */
static bool cm_path(const char *path, char *coll, size_t cl, char *name, size_t nl)
{
	char ns[128], nm[128];
	if (sscanf(path, "/api/v1/namespaces/%127[^/?]", nm) == 1 && !strchr(path + 19, '/')) {
		snprintf(coll, cl, "namespaces");   /* a Namespace, applied as a ConfigMap is */
		snprintf(name, nl, "%s", nm);
		return true;
	}
	if (sscanf(path, "/api/v1/namespaces/%127[^/]/configmaps/%127[^?]", ns, nm) != 2)
		return false;
	snprintf(coll, cl, "%s/configmaps", ns);
	snprintf(name, nl, "%s", nm);
	return true;
}

static doc_node *managed_entry(karena *a, const char *manager, const char *op)
{
	doc_node *m = doc_new_map(a);
	doc_map_set(a, m, "manager", doc_new_str(a, manager));
	doc_map_set(a, m, "operation", doc_new_str(a, op));
	doc_map_set(a, m, "time", doc_new_str(a, "2026-12-06T00:00:00Z"));
	return m;
}

/* fieldsV1 of the keys of body's data and metadata.labels. */
static doc_node *owned_fields(karena *a, const doc_node *body)
{
	const char *keys[] = { "data", "metadata.labels" };
	doc_node *f = doc_new_map(a), *md = NULL;
	size_t k, i;
	for (k = 0; k < 2; k++) {
		const doc_node *src = doc_get_path(body, keys[k]);
		doc_node *m = doc_new_map(a);
		for (i = 0; src && src->type == DOC_MAP && i < src->u.map.len; i++)
			doc_map_set(a, m, karena_printf(a, "f:%s", src->u.map.v[i].key->u.s.ptr), doc_new_map(a));
		if (!src)
			continue;
		if (!k) {
			doc_map_set(a, f, "f:data", m);
			continue;
		}
		md = doc_new_map(a);
		doc_map_set(a, md, "f:labels", m);
		doc_map_set(a, f, "f:metadata", md);
	}
	return f;
}

/* Server-side apply of a ConfigMap, roughly: data and labels merged over
 * the live object, "kstage" noted as an Apply manager of the fields the
 * body sets. */
static void ssa(run_api *r, const kube_req *req, const char *path, kube_resp *resp)
{
	karena *a = &r->f.a;
	char coll[256], name[128];
	doc_node *body = NULL, *live, *out;
	kerr e = KERR_INIT;
	if (strstr(path, "/fail-")) {
		answer(resp, 422, "application/json", "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Invalid\","
			"\"message\":\"injected\",\"code\":422}");
		return;
	}
	if (!cm_path(path, coll, sizeof(coll), name, sizeof(name)) ||
	    doc_load_json(&body, a, "body", req->body, req->body_len, &e)) {
		kerr_clear(&e);
		answer(resp, 400, "application/json", "{\"kind\":\"Status\",\"code\":400}");
		return;
	}
	live = fake_api_find(&r->f, coll, name);
	if (strstr(path, "dryRun=All")) {
		answer(resp, 200, "application/json", "{}");
		return;
	}
	if (live) {
		const char *keys[] = { "data", "metadata.labels" };
		size_t k, i;
		out = doc_copy(a, live);
		for (k = 0; k < 2; k++) {
			const doc_node *src = doc_get_path(body, keys[k]);
			doc_node *dst;
			if (!src)
				continue;
			if (!(dst = doc_get_path(out, keys[k]))) {
				dst = doc_new_map(a);
				doc_map_set(a, k ? doc_map_get(out, "metadata") : out, k ? "labels" : "data", dst);
			}
			for (i = 0; i < src->u.map.len; i++)
				doc_map_set(a, dst, src->u.map.v[i].key->u.s.ptr, doc_copy(a, src->u.map.v[i].val));
		}
	} else {
		out = body;
		doc_map_set(a, doc_map_get(out, "metadata"), "uid", doc_new_str(a, "uid-new"));
	}
	{
		doc_node *md = doc_map_get(out, "metadata"), *mf = doc_map_get(md, "managedFields");
		doc_node *seq = doc_new_seq(a);
		size_t i;
		for (i = 0; mf && i < mf->u.seq.len; i++)
			if (strcmp(doc_get_str(mf->u.seq.v[i], "manager", ""), "kstage"))
				doc_seq_push(a, seq, mf->u.seq.v[i]);
		doc_seq_push(a, seq, managed_entry(a, "kstage", "Apply"));
		doc_map_set(a, seq->u.seq.v[seq->u.seq.len - 1], "apiVersion", doc_new_str(a, "v1"));
		doc_map_set(a, seq->u.seq.v[seq->u.seq.len - 1], "fieldsV1", owned_fields(a, body));
		doc_map_set(a, md, "managedFields", seq);
	}
	fake_api_put(&r->f, coll, name, out);
	resp->status = live ? 200 : 201;
	kbuf_puts(&resp->content_type, "application/json");
	doc_emit_json(&resp->body, out, 0, NULL);
}

/* An update as the API server books it: the fields it changes go to its
 * fieldManager (an Update entry), over the managedFields the body sets. */
static const char *book_update(run_api *r, const kube_req *req, const char *path, size_t *len)
{
	karena *a = &r->f.a;
	char coll[256], name[128];
	doc_node *body = NULL, *live;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	const char *m = strstr(path, "fieldManager=");
	if (!m || !cm_path(path, coll, sizeof(coll), name, sizeof(name)) || !(live = fake_api_find(&r->f, coll, name)) ||
	    doc_load_json(&body, a, "body", req->body, req->body_len, &e)) {
		kerr_clear(&e);
		return NULL;
	}
	if (!doc_equal(kube_diff_normalize(a, body), kube_diff_normalize(a, live))) {
		char mgr[64];
		doc_node *md = doc_map_get(body, "metadata"), *mf = doc_map_get(md, "managedFields");
		snprintf(mgr, sizeof(mgr), "%.*s", (int)strcspn(m + 13, "&"), m + 13);
		if (!mf) {
			mf = doc_new_seq(a);
			doc_map_set(a, md, "managedFields", mf);
		}
		doc_seq_push(a, mf, managed_entry(a, mgr, "Update"));
	}
	doc_emit_json(&out, body, 0, NULL);
	return kbuf_detach(&out, len);
}

static int run_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	run_api *r = impl;
	char path[1024];
	int rc = 0;
	pthread_mutex_lock(&r->mu);
	snprintf(path, sizeof(path), "%s", req->path);
	kbuf_printf(&r->log, "%s %s\n", req->method, req->path);
	if (r->slow_at) {
		char line[1100];
		snprintf(line, sizeof(line), "%s %s", req->method, req->path);
		if (!strncmp(line, r->slow_at, strlen(r->slow_at))) {
			/* a stalled request: others (the Lease renewer's) go on meanwhile */
			struct timespec ts = { r->slow_ms / 1000, (r->slow_ms % 1000) * 1000000L };
			pthread_mutex_unlock(&r->mu);
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&r->mu);
		}
	}
	if (r->stop_at) {
		char line[1100];
		snprintf(line, sizeof(line), "%s %s", req->method, req->path);
		if (!strncmp(line, r->stop_at, strlen(r->stop_at)))
			*r->stop = 1;
	}
	if (!strcmp(req->method, "GET") && !strcmp(path, "/api"))
		answer(resp, 200, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", disc_core);
	else if (!strcmp(req->method, "GET") && !strcmp(path, "/apis"))
		answer(resp, 200, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
		       "{\"kind\":\"APIGroupDiscoveryList\",\"items\":[{\"metadata\":{\"name\":\"example.dev\"},"
		       "\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"widgets\",\"responseKind\":"
		       "{\"kind\":\"Widget\"},\"scope\":\"Namespaced\"}]}]}]}");
	else if (!strcmp(req->method, "PATCH") && strcmp(req->content_type ? req->content_type : "",
							   "application/merge-patch+json"))
		ssa(r, req, path, resp);
	else {
		kube_req q = *req;
		size_t len = 0;
		char *booked = !strcmp(req->method, "PUT") ? (char *)book_update(r, req, path, &len) : NULL;
		if (booked) {
			q.body = booked;
			q.body_len = len;
		}
		rc = r->inner->tr.send(r->inner->tr.impl, &q, auth, resp, err);
		free(booked);
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static kube_client *run_api_open(run_api *r)
{
	kube_transport tr = { run_send, NULL, r };
	kube_client *c;
	fake_api_init(&r->f);
	r->inner = fake_api_client(&r->f);
	pthread_mutex_init(&r->mu, NULL);
	kbuf_init(&r->log, 0);
	r->stop_at = NULL;
	r->slow_at = NULL;
	r->stop = NULL;
	c = kube_client_new_with(tr, &r->f.cfg, NULL);
	c->max_attempts = 1;
	c->base_delay_ms = 1;
	c->max_delay_ms = 1;
	return c;
}

static void run_api_close(run_api *r, kube_client *c)
{
	kube_client_free(c);
	kube_client_free(r->inner);
	kbuf_release(&r->log);
	pthread_mutex_destroy(&r->mu);
	fake_api_release(&r->f);
}

static doc_node *json(karena *a, const char *text)
{
	doc_node *d = NULL;
	kerr e = KERR_INIT;
	if (doc_load_json(&d, a, "fixture", text, strlen(text), &e))
		unit_fail(__FILE__, __LINE__, "fixture: %s", e.first.msg);
	kerr_clear(&e);
	return d;
}

/* A bundle in a temporary directory. */
typedef struct tbundle {
	char dir[64];
	karena a;
	rel_bundle b;
} tbundle;

static void put_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *fp;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fp = fopen(p, "w"))) {
		fputs(text, fp);
		fclose(fp);
	}
}

static void tbundle_drop(tbundle *t)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		unit_fail(__FILE__, __LINE__, "cannot remove %s", t->dir);
	karena_release(&t->a);
}

static bool tbundle_make(tbundle *t, const char *stages, const char *const *files)
{
	kerr e = KERR_INIT;
	int rc;
	snprintf(t->dir, sizeof(t->dir), "/tmp/kstage-run-XXXXXX");
	karena_init(&t->a);
	if (!mkdtemp(t->dir)) {
		karena_release(&t->a);
		return false;
	}
	{
		char d[96];
		snprintf(d, sizeof(d), "%s/templates", t->dir);
		if (mkdir(d, 0700)) {
			tbundle_drop(t);
			return false;
		}
	}
	put_file(t->dir, "kstage.yaml", stages);
	for (; files && *files; files += 2)
		put_file(t->dir, files[0], files[1]);
	rc = rel_bundle_load(&t->b, &t->a, t->dir, &e);
	if (rc)
		unit_fail(__FILE__, __LINE__, "bundle: %s", e.first.msg);
	kerr_clear(&e);
	return rc == 0;
}


/* Pre-existing: namespace default, ConfigMap settings (another manager's,
 * with a label) and ConfigMap inference holding pretty-printed JSON. */
#define INFERENCE_JSON "{\n  \"ingress\": {\"domain\": \"example.com\"},\n  \"b\": [1,   2]\n}"
static void seed(run_api *r)
{
	karena *a = &r->f.a;
	fake_api_put(&r->f, "namespaces", "default", json(a, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
							     "\"metadata\":{\"name\":\"default\"}}"));
	fake_api_put(&r->f, "default/configmaps", "settings",
		     json(a, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings\","
			     "\"namespace\":\"default\",\"uid\":\"uid-settings\",\"labels\":{\"team\":\"a\"},"
			     "\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\","
			     "\"time\":\"2026-01-01T00:00:00Z\"}]},\"data\":{\"mode\":\"blue\",\"theirs\":\"x\"}}"));
	{
		doc_node *cm = json(a, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"inference\","
				       "\"namespace\":\"default\",\"uid\":\"uid-inference\",\"managedFields\":[{\"manager\":"
				       "\"kserve\",\"operation\":\"Update\",\"time\":\"2026-01-01T00:00:00Z\"}]},\"data\":{}}");
		doc_map_set(a, doc_map_get(cm, "data"), "config", doc_new_str(a, INFERENCE_JSON));
		fake_api_put(&r->f, "default/configmaps", "inference", cm);
	}
}

static const char *const two_stage_files[] = {
	"templates/settings.yaml",
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: green}\n",
	"templates/fresh.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {a: b}\n",
	"templates/fail.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fail-me}\ndata: {a: b}\n",
	NULL,
};
static const char *two_stages =
	"name: demo\nstages:\n"
	"  - name: one\n    templates: [settings.yaml, fresh.yaml]\n"
	"    ops:\n      - jsonKeyMerge: {configMap: default/inference, key: config, set: {ingress: {domain: x.dev}}}\n"
	"  - name: two\n    templates: [fail.yaml]\n";

static void ctx_for(rel_ctx *ctx, kube_client *c)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->client = c;
	ctx->namespace = "default";
	ctx->timeout_ms = 20000;
}

/* The Lease renewer's client: its own, over the same fake. */
static kube_client *renewer_client(kube_client *run)
{
	kube_transport tr = { run_send, NULL, run->tr.impl };
	return kube_client_new_with(tr, run->cfg, &run->sink);
}

static void opts_for(rel_run_opts *o, rel_store *st)
{
	memset(o, 0, sizeof(*o));
	o->lease_client = renewer_client;
	o->store = st;
	o->history_max = 10;
	o->rollback_timeout_ms = 2000;
}

/* Position of the first line of log starting with prefix, or -1. */
static long log_find(const kbuf *log, const char *prefix)
{
	const char *p = log->ptr;
	while (p && *p) {
		if (!strncmp(p, prefix, strlen(prefix)))
			return p - log->ptr;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

/* What every test needs: the seeded fake, a bundle, the Secrets store and
 * a run's context and options over them. */
typedef struct run_env {
	run_api r;
	kube_client *c;
	tbundle t;
	karena a;
	rel_ctx ctx;
	rel_run_opts o;
	rel_run_result res;
	rel_store *st;
	kerr e;
} run_env;

static void env_drop(run_env *v)
{
	kerr_clear(&v->e);
	rel_store_free(v->st);
	karena_release(&v->a);
	run_api_close(&v->r, v->c);
}

/* False (and nothing to close) when the bundle cannot be made. */
static bool env_open(run_env *v, const char *stages, const char *const *files)
{
	kerr e0 = KERR_INIT;
	v->e = e0;
	v->c = run_api_open(&v->r);
	karena_init(&v->a);
	seed(&v->r);
	v->st = rel_store_secrets(v->c, NULL);
	ctx_for(&v->ctx, v->c);
	opts_for(&v->o, v->st);
	memset(&v->res, 0, sizeof(v->res));
	if (tbundle_make(&v->t, stages, files))
		return true;
	env_drop(v);
	return false;
}

static void env_close(run_env *v)
{
	rel_rollback_report_release(&v->res.rb);
	tbundle_drop(&v->t);
	env_drop(v);
}

static int env_apply(run_env *v)
{
	rel_rollback_report_release(&v->res.rb);
	return rel_release_apply(&v->t.b, &v->ctx, &v->o, &v->res, &v->a, &v->e);
}

TEST(release_run_journals_before_mutating_and_rolls_back_exactly)
{
	run_env v;
	doc_node *settings0, *inference0;
	if (!env_open(&v, two_stages, two_stage_files))
		return;
	settings0 = doc_copy(&v.a, fake_api_find(&v.r.f, "default/configmaps", "settings"));
	inference0 = doc_copy(&v.a, fake_api_find(&v.r.f, "default/configmaps", "inference"));
	CHECK_INT_EQ(env_apply(&v), KE_INPUT);      /* the stage's error (a 422): rolled back cleanly */
	CHECK(v.res.failed && v.res.changed && v.res.rolled_back);
	CHECK_CONTAINS(v.e.first.msg, "stage two");
	CHECK_INT_EQ(v.res.rb.left.len, 0);
	CHECK_INT_EQ(v.res.rb.deleted, 1);          /* fresh */
	CHECK_INT_EQ(v.res.rb.restored, 2);         /* settings, inference */
	{
		/* the journal (the record's first write) comes before the first
		 * PATCH, and prior states were read by a LIST, not a GET per object */
		long put = log_find(&v.r.log, "POST /api/v1/namespaces/kstage-system/secrets");
		long patch = log_find(&v.r.log, "PATCH ");
		long list = log_find(&v.r.log, "GET /api/v1/namespaces/default/configmaps\n");
		long get1 = log_find(&v.r.log, "GET /api/v1/namespaces/default/configmaps/settings");
		CHECK(put >= 0 && patch > put);
		CHECK(list >= 0 && list < put);
		CHECK(get1 < 0 || get1 > patch);
		CHECK(log_find(&v.r.log, "POST /apis/coordination.k8s.io/v1/namespaces/kstage-system/leases") >= 0);
	}
	{
		/* exactly as before: data, labels, uid and managedFields (the
		 * rollback's own manager is gone again) */
		doc_node *s1 = fake_api_find(&v.r.f, "default/configmaps", "settings");
		doc_node *i1 = fake_api_find(&v.r.f, "default/configmaps", "inference");
		doc_map_del(doc_map_get(s1, "metadata"), "resourceVersion");
		doc_map_del(doc_map_get(settings0, "metadata"), "resourceVersion");
		doc_map_del(doc_map_get(i1, "metadata"), "resourceVersion");
		doc_map_del(doc_map_get(inference0, "metadata"), "resourceVersion");
		CHECK(doc_equal(s1, settings0));
		CHECK(doc_equal(i1, inference0));
		CHECK_STR_EQ(doc_get_str(i1, "data.config", ""), INFERENCE_JSON);
		CHECK(!fake_api_find(&v.r.f, "default/configmaps", "fresh"));
	}
	{
		rel_record *rec = NULL;
		kerr ge = KERR_INIT;
		CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 1, &rec, &ge), 0);
		if (rec) {
			const rel_rec_stage *s1 = rel_record_stage(rec, "one");
			CHECK_INT_EQ(rec->status, REL_ST_ROLLED_BACK);
			CHECK(s1 && s1->nobjects == 3);
			if (s1 && s1->nobjects == 3) {
				CHECK(s1->objects[0].existed && !s1->objects[1].existed);
				CHECK_STR_EQ(s1->objects[2].key, "config");
				CHECK_STR_EQ(s1->objects[2].key_prior, INFERENCE_JSON);
			}
			CHECK(rel_record_stage(rec, "two") && rel_record_stage(rec, "two")->result == REL_SR_ROLLED_BACK);
		}
		kerr_clear(&ge);
	}
	/* the Lease is given up */
	CHECK_INT_EQ(fake_api_count(&v.r.f, "kstage-system/leases"), 0);
	env_close(&v);
}

TEST(release_run_stop_flag_mid_stage_rolls_back_like_a_failure)
{
	run_env v;
	volatile sig_atomic_t stop = 0;
	doc_node *settings0;
	long flagged, put, del;
	if (!env_open(&v, two_stages, two_stage_files))
		return;
	settings0 = doc_copy(&v.a, fake_api_find(&v.r.f, "default/configmaps", "settings"));
	/* the signal lands while stage one's objects are being applied */
	v.r.stop_at = "PATCH /api/v1/namespaces/default/configmaps/settings";
	v.r.stop = &stop;
	v.c->stop = &stop;
	CHECK_INT_EQ(env_apply(&v), KE_ERROR);
	CHECK(stop == 1);
	CHECK_CONTAINS(v.e.first.msg, "interrupted");
	CHECK_CONTAINS(v.e.first.msg, "stage one");
	CHECK(v.res.failed && v.res.changed && v.res.rolled_back);
	CHECK_INT_EQ(v.res.rb.left.len, 0);
	CHECK_INT_EQ(v.res.rb.deleted, 1);          /* fresh */
	CHECK_INT_EQ(v.res.rb.restored, 1);         /* settings; the op never ran */
	/* nothing after the safe point: no jsonKeyMerge, no stage two; then the
	 * rollback's restore and delete, though the flag stays raised */
	flagged = log_find(&v.r.log, v.r.stop_at);
	put = log_find(&v.r.log, "PUT /api/v1/namespaces/default/configmaps/settings?fieldManager=" REL_ROLLBACK_MANAGER);
	del = log_find(&v.r.log, "DELETE /api/v1/namespaces/default/configmaps/fresh");
	CHECK(flagged >= 0 && put > flagged && del > flagged);
	CHECK(log_find(&v.r.log, "PUT /api/v1/namespaces/default/configmaps/inference") < 0);
	CHECK(log_find(&v.r.log, "PATCH /api/v1/namespaces/default/configmaps/fail-me") < 0);
	{
		doc_node *s1 = fake_api_find(&v.r.f, "default/configmaps", "settings");
		doc_map_del(doc_map_get(s1, "metadata"), "resourceVersion");
		doc_map_del(doc_map_get(settings0, "metadata"), "resourceVersion");
		CHECK(doc_equal(s1, settings0));
		CHECK_STR_EQ(doc_get_str(fake_api_find(&v.r.f, "default/configmaps", "inference"), "data.config", ""),
			     INFERENCE_JSON);
		CHECK(!fake_api_find(&v.r.f, "default/configmaps", "fresh"));
	}
	{
		rel_record *rec = NULL;
		kerr ge = KERR_INIT;
		CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 1, &rec, &ge), 0);
		if (rec) {
			CHECK_INT_EQ(rec->status, REL_ST_ROLLED_BACK);
			CHECK(rel_record_stage(rec, "one") && rel_record_stage(rec, "one")->result == REL_SR_ROLLED_BACK);
		}
		kerr_clear(&ge);
	}
	CHECK_INT_EQ(fake_api_count(&v.r.f, "kstage-system/leases"), 0);
	env_close(&v);
}

TEST(release_run_no_rollback_keeps_the_partial_state)
{
	run_env v;
	rel_rollback_report rep;
	int rev;
	if (!env_open(&v, two_stages, two_stage_files))
		return;
	v.o.no_rollback = true;
	CHECK_INT_EQ(env_apply(&v), KE_ROLLBACK);
	CHECK(v.res.failed && !v.res.rolled_back);
	CHECK(fake_api_find(&v.r.f, "default/configmaps", "fresh"));
	CHECK_STR_EQ(doc_get_str(fake_api_find(&v.r.f, "default/configmaps", "settings"), "data.mode", ""), "green");
	kerr_clear(&v.e);
	/* failed is final: recover refuses */
	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_release_recover(v.c, &v.a, "demo", &v.o, &rev, &rep, &v.e), KE_USAGE);
	CHECK_CONTAINS(v.e.first.msg, "not pending");
	rel_rollback_report_release(&rep);
	env_close(&v);
}

TEST(release_run_refuses_a_pending_revision_then_recover_restores_it)
{
	run_env v;
	rel_record *rec, *back = NULL;
	rel_rec_stage *s;
	rel_rollback_report rep;
	int rev = 0;
	doc_node *cm;
	if (!env_open(&v, two_stages, two_stage_files))
		return;
	/* a run killed mid-stage: its journal says settings existed and fresh did not */
	rec = rel_record_new(&v.a, "demo", 1);
	s = rel_record_add_stage(&v.a, rec, "one");
	s->result = REL_SR_RUNNING;
	rel_record_add_object(&v.a, s, "v1", "ConfigMap", "default", "settings",
			      doc_copy(&v.a, fake_api_find(&v.r.f, "default/configmaps", "settings")));
	rel_record_add_object(&v.a, s, "v1", "ConfigMap", "default", "fresh", NULL);
	CHECK_INT_EQ(rel_store_create(v.st, rec, &v.e), 0);
	fake_api_put(&v.r.f, "default/configmaps", "fresh",
		     json(&v.r.f.a, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"fresh\","
				    "\"namespace\":\"default\"},\"data\":{\"a\":\"b\"}}"));
	cm = doc_copy(&v.r.f.a, fake_api_find(&v.r.f, "default/configmaps", "settings"));
	doc_map_set(&v.r.f.a, doc_map_get(cm, "data"), "mode", doc_new_str(&v.r.f.a, "green"));
	fake_api_put(&v.r.f, "default/configmaps", "settings", cm);

	CHECK_INT_EQ(env_apply(&v), KE_CONFLICT);
	CHECK_CONTAINS(v.e.first.msg, "revision 1 is pending");
	CHECK_CONTAINS(v.e.first.msg, "kstage rollback --recover demo");
	CHECK(log_find(&v.r.log, "PATCH ") < 0);
	CHECK_INT_EQ(v.res.revision, 0);
	kerr_clear(&v.e);

	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_release_recover(v.c, &v.a, "demo", &v.o, &rev, &rep, &v.e), 0);
	CHECK_INT_EQ(rev, 1);
	CHECK(!fake_api_find(&v.r.f, "default/configmaps", "fresh"));
	CHECK_STR_EQ(doc_get_str(fake_api_find(&v.r.f, "default/configmaps", "settings"), "data.mode", ""), "blue");
	CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 1, &back, &v.e), 0);
	CHECK(back && back->status == REL_ST_ROLLED_BACK);
	rel_rollback_report_release(&rep);
	env_close(&v);
}

TEST(release_run_fails_at_once_when_the_lease_is_held)
{
	run_env v;
	rel_lock other;
	rel_lock_opts lo;
	if (!env_open(&v, two_stages, two_stage_files))
		return;
	memset(&lo, 0, sizeof(lo));
	lo.release = "demo";
	lo.identity = "ci-runner-7 pid 42";
	CHECK_INT_EQ(rel_lock_acquire(&other, v.c, &lo, &v.e), 0);
	CHECK_INT_EQ(env_apply(&v), KE_CONFLICT);
	CHECK_CONTAINS(v.e.first.msg, "ci-runner-7 pid 42");
	CHECK(log_find(&v.r.log, "PATCH ") < 0);
	CHECK(log_find(&v.r.log, "POST /api/v1/namespaces/kstage-system/secrets") < 0);
	rel_lock_release(&other);
	env_close(&v);
}

TEST(release_run_deploys_then_supersedes_then_rolls_back_to_revision_one)
{
	static const char *const files[] = { "templates/settings.yaml",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: \"{{ .Values.mode }}\"}\n",
		"values/values.yaml", "mode: green\n", NULL };
	run_env v;
	rel_rec_summary *h = NULL;
	rel_rollback_report rep;
	size_t n = 0;
	int to = 0;
	doc_node *mode;
	if (!env_open(&v, "name: demo\nstages:\n  - name: one\n    templates: [settings.yaml]\n", files))
		return;
	v.ctx.values = doc_new_map(&v.a);
	doc_map_set(&v.a, v.ctx.values, "mode", doc_new_str(&v.a, "green"));
	CHECK_INT_EQ(env_apply(&v), 0);
	mode = doc_new_str(&v.a, "red");
	doc_map_set(&v.a, v.ctx.values, "mode", mode);
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK_INT_EQ(v.res.revision, 2);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&v.r.f, "default/configmaps", "settings"), "data.mode", ""), "red");
	CHECK_INT_EQ(rel_store_history(v.st, &v.a, "demo", &h, &n, &v.e), 0);
	CHECK_INT_EQ(n, 2);
	if (n == 2) {
		CHECK_INT_EQ(h[0].status, REL_ST_SUPERSEDED);
		CHECK_INT_EQ(h[1].status, REL_ST_DEPLOYED);
	}
	/* the previous successful revision: revision 2 undone from its journal */
	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_release_rollback(v.c, &v.a, "demo", 0, &v.o, &to, &rep, &v.e), 0);
	CHECK_INT_EQ(to, 1);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&v.r.f, "default/configmaps", "settings"), "data.mode", ""), "green");
	CHECK_INT_EQ(rel_store_history(v.st, &v.a, "demo", &h, &n, &v.e), 0);
	if (n == 2) {
		CHECK_INT_EQ(h[0].status, REL_ST_DEPLOYED);
		CHECK_INT_EQ(h[1].status, REL_ST_ROLLED_BACK);
	}
	rel_rollback_report_release(&rep);
	env_close(&v);
}

/* settings (patched) and fresh (created) */
static const char *const settings_fresh_files[] = {
	"templates/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: green}\n",
	"templates/fresh.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {a: b}\n", NULL };

TEST(release_run_uninstall_deletes_what_it_created_and_restores_what_it_patched)
{
	run_env v;
	rel_rec_summary *h = NULL;
	rel_rollback_report rep;
	size_t n = 0;
	int to = 0;
	doc_node *settings0;
	if (!env_open(&v, "name: demo\nstages:\n  - name: one\n    templates: [settings.yaml, fresh.yaml]\n",
		      settings_fresh_files))
		return;
	settings0 = doc_copy(&v.a, fake_api_find(&v.r.f, "default/configmaps", "settings"));
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK_INT_EQ(env_apply(&v), 0);   /* revision 2 changes nothing */
	v.o.uninstall = true;
	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_release_rollback(v.c, &v.a, "demo", 0, &v.o, &to, &rep, &v.e), 0);
	CHECK(!fake_api_find(&v.r.f, "default/configmaps", "fresh"));
	{
		doc_node *s1 = fake_api_find(&v.r.f, "default/configmaps", "settings");
		doc_map_del(doc_map_get(s1, "metadata"), "resourceVersion");
		doc_map_del(doc_map_get(settings0, "metadata"), "resourceVersion");
		CHECK(doc_equal(s1, settings0));
	}
	CHECK_INT_EQ(rel_store_history(v.st, &v.a, "demo", &h, &n, &v.e), 0);
	CHECK_INT_EQ(n, 2);
	if (n == 2) {
		CHECK_INT_EQ(h[0].status, REL_ST_UNINSTALLED);
		CHECK_INT_EQ(h[1].status, REL_ST_UNINSTALLED);
	}
	rel_rollback_report_release(&rep);
	env_close(&v);
}

/* An apply that changes nothing: the prior states come from the LISTs the
 * apply reads anyway, no record is written before a stage that sends
 * nothing, the new revision is written once, the previous one becomes
 * superseded by a label patch, and no record is listed twice. */
TEST(release_run_noop_apply_writes_its_record_once)
{
	run_env v;
	rel_rec_summary *h = NULL;
	rel_record *rec = NULL;
	size_t n = 0;
	int lists, posts, puts, patches;
	if (!env_open(&v, "name: demo\nstages:\n  - name: one\n    templates: [settings.yaml, fresh.yaml]\n"
			  "  - name: two\n    templates: [fresh.yaml]\n", settings_fresh_files))
		return;
	CHECK_INT_EQ(env_apply(&v), 0);
	/* revision 1 changed stage one: written before it (POST), and at the end */
	CHECK(log_find(&v.r.log, "POST /api/v1/namespaces/kstage-system/secrets") <
	      log_find(&v.r.log, "PATCH /api/v1/namespaces/default/configmaps/"));
	kbuf_reset(&v.r.log);
	lists = v.r.f.lists, posts = v.r.f.posts, puts = v.r.f.puts, patches = v.r.f.patches;
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK_INT_EQ(v.res.revision, 2);
	CHECK(!v.res.changed);
	/* LISTs: the history (read once, under the Lease: it also names the
	 * previous revision), the previous revision's record (read for
	 * pruning), the ConfigMaps of stage one and of stage two */
	CHECK_INT_EQ(v.r.f.lists - lists, 4);
	CHECK_INT_EQ(v.r.f.posts - posts, 2);   /* the Lease, the record */
	CHECK_INT_EQ(v.r.f.puts - puts, 0);
	CHECK_INT_EQ(v.r.f.patches - patches, 1);   /* revision 1's status label */
	CHECK(log_find(&v.r.log, "PATCH /api/v1/namespaces/kstage-system/secrets/kstage.v1.demo.v1\n") >= 0);
	CHECK(log_find(&v.r.log, "GET /apis/coordination.k8s.io") < 0);   /* the Lease is created, not read first */
	CHECK_INT_EQ(rel_store_history(v.st, &v.a, "demo", &h, &n, &v.e), 0);
	CHECK_INT_EQ(n, 2);
	if (n == 2) {
		CHECK_INT_EQ(h[0].status, REL_ST_SUPERSEDED);
		CHECK_INT_EQ(h[1].status, REL_ST_DEPLOYED);
	}
	/* the status label is what a record reads back; its journal is whole */
	CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 1, &rec, &v.e), 0);
	CHECK(rec && rec->status == REL_ST_SUPERSEDED);
	CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 2, &rec, &v.e), 0);
	if (rec) {
		const rel_rec_stage *s1 = rel_record_stage(rec, "one");
		CHECK_INT_EQ(rec->status, REL_ST_DEPLOYED);
		CHECK(s1 && s1->nobjects == 2 && s1->objects[0].existed && s1->objects[1].existed);
		CHECK(s1 && s1->result == REL_SR_SUCCEEDED);
	}
	env_close(&v);
}

/* A first install into a namespace the stage creates: the journal finds
 * the Namespace absent with its LIST, so it lists nothing inside it (all of
 * it is absent) and does not GET the identity-only Namespace before its
 * apply, and an uninstall deletes it all. */
TEST(release_run_journal_lists_nothing_in_a_namespace_the_stage_creates)
{
	static const char *const files[] = {
		"templates/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: fresh-ns}\n---\n"
				     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: fresh-ns}\ndata: {k: v}\n---\n"
				     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: fresh-ns}\ndata: {k: v}\n", NULL };
	run_env v;
	rel_record *rec = NULL;
	rel_rollback_report rep;
	int to = 0;
	if (!env_open(&v, "name: demo\nstages:\n  - name: one\n    templates: [ns.yaml]\n", files))
		return;
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK(log_find(&v.r.log, "GET /api/v1/namespaces\n") >= 0);
	CHECK(log_find(&v.r.log, "GET /api/v1/namespaces/fresh-ns/configmaps") < 0);
	CHECK(log_find(&v.r.log, "GET /api/v1/namespaces/fresh-ns\n") < 0);   /* known absent: no GET before its apply */
	CHECK(fake_api_find(&v.r.f, "fresh-ns/configmaps", "b") != NULL);
	CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 1, &rec, &v.e), 0);
	if (rec) {
		const rel_rec_stage *s1 = rel_record_stage(rec, "one");
		CHECK(s1 && s1->nobjects == 3 && !s1->objects[0].existed && !s1->objects[1].existed &&
		      !s1->objects[2].existed);
	}
	/* the second apply lists them: the Namespace is there now */
	kbuf_reset(&v.r.log);
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK(log_find(&v.r.log, "GET /api/v1/namespaces/fresh-ns/configmaps\n") >= 0);
	v.o.uninstall = true;
	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_release_rollback(v.c, &v.a, "demo", 0, &v.o, &to, &rep, &v.e), 0);
	CHECK(!fake_api_find(&v.r.f, "fresh-ns/configmaps", "a"));
	CHECK(!fake_api_find(&v.r.f, "namespaces", "fresh-ns"));
	rel_rollback_report_release(&rep);
	env_close(&v);
}

static const char *const slow_group_files[] = {
	"templates/two.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: slow-ns}\n---\n"
			      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after, namespace: default}\ndata: {k: v}\n",
	NULL };
#define SLOW_GROUP_STAGES "name: demo\nstages:\n  - name: one\n    templates: [two.yaml]\n"
#define LEASE_PUT "PUT /apis/coordination.k8s.io/v1/namespaces/kstage-system/leases/kstage.demo"

/* Lines of log starting with prefix between positions from and to. */
static int log_count(const kbuf *log, const char *prefix, long from, long to)
{
	const char *p = log->ptr;
	int n = 0;
	while (p && *p) {
		long at = p - log->ptr;
		if (at > from && at < to && !strncmp(p, prefix, strlen(prefix)))
			n++;
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

/* A single request that outlasts the Lease (2.5 s of a 2 s Lease): the
 * renewer thread renews it meanwhile, every third of its duration, and the
 * run goes on with it. */
TEST(release_run_renews_the_lease_while_a_request_outlasts_it)
{
	run_env v;
	long slow, next;
	doc_node *lease;
	if (!env_open(&v, SLOW_GROUP_STAGES, slow_group_files))
		return;
	v.o.lease_s = 2;   /* renewed every 0.67 s */
	v.r.slow_at = "PATCH /api/v1/namespaces/slow-ns";
	v.r.slow_ms = 2500;
	CHECK_INT_EQ(env_apply(&v), 0);
	slow = log_find(&v.r.log, v.r.slow_at);
	next = log_find(&v.r.log, "PATCH /api/v1/namespaces/default/configmaps/after");
	CHECK(slow >= 0 && next > slow);
	CHECK_MSG(log_count(&v.r.log, LEASE_PUT, slow, next) >= 2, "renewals during the stalled request: %d\n%s",
		  log_count(&v.r.log, LEASE_PUT, slow, next), v.r.log.ptr);
	CHECK(fake_api_find(&v.r.f, "default/configmaps", "after"));
	lease = fake_api_find(&v.r.f, "kstage-system/leases", "kstage.demo");
	CHECK(!lease);   /* given up at the end */
	env_close(&v);
}

/* The renewals fail (500) while a request outlasts the Lease: the Lease is
 * lost, and the run stops before its next write (no PATCH of the next
 * object, no rollback write, the record left pending), saying why. */
TEST(release_run_stops_before_its_next_write_once_the_lease_could_not_be_renewed)
{
	run_env v;
	rel_record *rec = NULL;
	kerr ge = KERR_INIT;
	if (!env_open(&v, SLOW_GROUP_STAGES, slow_group_files))
		return;
	v.o.lease_s = 2;
	v.r.slow_at = "PATCH /api/v1/namespaces/slow-ns";
	v.r.slow_ms = 2800;
	v.r.f.fail_method = "PUT";
	v.r.f.fail_path = "/leases/";
	v.r.f.fail_count = -1;
	CHECK_INT_EQ(env_apply(&v), KE_ROLLBACK);
	CHECK(v.res.failed && v.res.changed && !v.res.rolled_back);
	CHECK_CONTAINS(v.e.first.msg, "stage one");
	{
		kbuf m = KBUF_INIT;
		kerr_format_short(&v.e, &m);
		CHECK_CONTAINS(m.ptr, "the lock (Lease kstage-system/kstage.demo) could not be renewed for ");
		CHECK_CONTAINS(m.ptr, "s and has expired: ");
		kbuf_release(&m);
	}
	CHECK(log_find(&v.r.log, "PATCH /api/v1/namespaces/default/configmaps/after") < 0);
	CHECK(log_find(&v.r.log, "DELETE /api/v1/namespaces/slow-ns") < 0);
	CHECK(!fake_api_find(&v.r.f, "default/configmaps", "after"));
	CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 1, &rec, &ge), 0);
	CHECK(rec && rec->status == REL_ST_PENDING);
	kerr_clear(&ge);
	env_close(&v);
}

/* Another writer (a controller updating status) changes an object on every
 * restore: the rollback tries again a bounded number of times, then names
 * the object and why, never an empty reason. */
static void bump_settings(fake_api *f, const char *path)
{
	doc_node *cur = fake_api_find(f, "default/configmaps", "settings");
	if (strstr(path, "/configmaps/settings") && cur)
		fake_api_put(f, "default/configmaps", "settings", doc_copy(&f->a, cur));
}

TEST(release_run_rollback_names_an_object_that_keeps_changing)
{
	run_env v;
	if (!env_open(&v, two_stages, two_stage_files))
		return;
	v.r.f.before_put = bump_settings;
	CHECK_INT_EQ(env_apply(&v), KE_ROLLBACK);
	CHECK(v.res.failed && !v.res.rolled_back);
	CHECK_CONTAINS(v.res.rb.left.ptr ? v.res.rb.left.ptr : "",
		       "ConfigMap/default/settings: ConfigMap/default/settings kept changing while it was restored (10 tries)");
	env_close(&v);
}

/* A custom resource's status is put back with it: in the PUT when its CRD
 * has no status subresource, else through /status (the main PUT leaves it
 * out). */
TEST(release_rollback_puts_back_a_custom_resource_status)
{
	int sub;
	for (sub = 0; sub < 2; sub++) {
		run_env v;
		rel_record *rec;
		rel_rec_stage *st;
		rel_rollback_report rep;
		doc_node *w;
		if (!env_open(&v, two_stages, two_stage_files))
			return;
		v.r.f.status_sub = sub ? "/widgets" : NULL;
		fake_api_put(&v.r.f, "default/widgets", "w1",
			     json(&v.r.f.a, "{\"apiVersion\":\"example.dev/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\","
				  "\"namespace\":\"default\",\"uid\":\"u1\"},\"spec\":{\"size\":2},\"status\":{\"phase\":\"Changed\"}}"));
		rec = rel_record_new(&v.a, "demo", 1);
		st = rel_record_add_stage(&v.a, rec, "one");
		st->result = REL_SR_FAILED;
		rel_record_add_object(&v.a, st, "example.dev/v1", "Widget", "default", "w1",
				      json(&v.a, "{\"apiVersion\":\"example.dev/v1\",\"kind\":\"Widget\",\"metadata\":{\"name\":\"w1\","
					   "\"namespace\":\"default\",\"uid\":\"u1\",\"resourceVersion\":\"1\"},\"spec\":{\"size\":1},"
					   "\"status\":{\"phase\":\"Ready\",\"seen\":[1,2]}}"));
		memset(&rep, 0, sizeof(rep));
		CHECK_INT_EQ(rel_rollback_journal(v.c, &v.a, rec, &v.o, &rep, &v.e), 0);
		CHECK_INT_EQ(rep.restored, 1);
		w = fake_api_find(&v.r.f, "default/widgets", "w1");
		CHECK_STR_EQ(doc_get_str(w, "status.phase", ""), "Ready");
		CHECK(doc_get_path(w, "spec.size") && doc_get_path(w, "spec.size")->u.i == 1);
		CHECK((log_find(&v.r.log, "PUT /apis/example.dev/v1/namespaces/default/widgets/w1/status") >= 0) == (sub == 1));
		rel_rollback_report_release(&rep);
		env_close(&v);
	}
}

TEST(release_run_prunes_what_is_no_longer_rendered_and_rollback_brings_it_back)
{
	static const char *const files[] = {
		"templates/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: green}\n",
		"templates/fresh.yaml",
		"{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {a: b}\n{{- end }}\n",
		NULL };
	run_env v;
	rel_rollback_report rep;
	rel_record *r2 = NULL;
	int to = 0;
	if (!env_open(&v, "name: demo\nstages:\n  - name: one\n    templates: [settings.yaml, fresh.yaml]\n", files))
		return;
	v.ctx.values = doc_new_map(&v.a);
	doc_map_set(&v.a, v.ctx.values, "extra", doc_new_bool(&v.a, true));
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK_INT_EQ(v.res.sum.pruned, 0);
	CHECK(fake_api_find(&v.r.f, "default/configmaps", "fresh") != NULL);
	doc_map_set(&v.a, v.ctx.values, "extra", doc_new_bool(&v.a, false));
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK_INT_EQ(v.res.sum.pruned, 1);
	CHECK(!fake_api_find(&v.r.f, "default/configmaps", "fresh"));
	CHECK(fake_api_find(&v.r.f, "default/configmaps", "settings") != NULL);
	/* the deletion is journaled in revision 2 with the prior content */
	CHECK_INT_EQ(rel_store_get(v.st, &v.a, "demo", 2, &r2, &v.e), 0);
	if (r2) {
		const rel_rec_stage *ps = rel_record_stage(r2, REL_PRUNE_STAGE);
		CHECK(ps != NULL);
		if (ps && ps->nobjects == 1) {
			CHECK_STR_EQ(ps->objects[0].name, "fresh");
			CHECK(ps->objects[0].existed);
			CHECK_STR_EQ(doc_get_str(ps->objects[0].prior, "data.a", ""), "b");
		}
	}
	/* a third run prunes nothing more */
	CHECK_INT_EQ(env_apply(&v), 0);
	CHECK_INT_EQ(v.res.sum.pruned, 0);
	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_release_rollback(v.c, &v.a, "demo", 1, &v.o, &to, &rep, &v.e), 0);
	CHECK_STR_EQ(doc_get_str(fake_api_find(&v.r.f, "default/configmaps", "fresh"), "data.a", ""), "b");
	rel_rollback_report_release(&rep);
	env_close(&v);
}
