/* Unit tests for release/exec.c through a fake API server (a kube_transport
 * that keeps objects in memory): kind order between groups, the objects of
 * a group in parallel, the exact requests sent, dry-run plans, and waiting
 * for discovery to learn a kind whose CRD was just applied. */
#include "unit.h"
#include "release/release.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FAKE_MAX 128

typedef struct fake_obj {
	char *path;       /* /api/v1/namespaces/default/configmaps/a */
	char *json;       /* what the server answers */
} fake_obj;

typedef struct fake_api {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	fake_obj objs[FAKE_MAX];
	size_t nobjs;
	kbuf log;             /* "METHOD path\n" per request, in arrival order */
	int widget_lag;       /* discovery loads after the Widget CRD is stored before the kind shows (-1: never) */
	int loads_since_crd;
	volatile sig_atomic_t *stop;   /* set at the stop_at_load-th load after the CRD (0: never) */
	int stop_at_load;
	bool crd_stored;
	size_t barrier;       /* PATCHes held until this many are in flight together (0: none) */
	size_t inflight;
	bool barrier_met;
} fake_api;

static const char *agg_core =
	"{\"kind\":\"APIGroupDiscoveryList\",\"items\":[{\"metadata\":{},\"versions\":[{\"version\":\"v1\","
	"\"resources\":[{\"resource\":\"configmaps\",\"responseKind\":{\"kind\":\"ConfigMap\"},\"scope\":\"Namespaced\"},"
	"{\"resource\":\"namespaces\",\"responseKind\":{\"kind\":\"Namespace\"},\"scope\":\"Cluster\"}]}]}]}";

static void fake_init(fake_api *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	kbuf_init(&f->log, 0);
}

static void fake_release(fake_api *f)
{
	size_t i;
	for (i = 0; i < f->nobjs; i++) {
		free(f->objs[i].path);
		free(f->objs[i].json);
	}
	kbuf_release(&f->log);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
}

static fake_obj *fake_find(fake_api *f, const char *path)
{
	size_t i;
	for (i = 0; i < f->nobjs; i++)
		if (!strcmp(f->objs[i].path, path))
			return &f->objs[i];
	return NULL;
}

/* The last path segment is a resource (a LIST), not an object name. */
static bool is_collection(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && (!strcmp(s, "/configmaps") || !strcmp(s, "/widgets") || !strcmp(s, "/namespaces") ||
		     !strcmp(s, "/customresourcedefinitions"));
}

static void answer_status(kube_resp *resp, long code, const char *reason)
{
	resp->status = code;
	kbuf_printf(&resp->body, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"%s\",\"code\":%ld}", reason, code);
}

/* Hold a PATCH until barrier PATCHes are in flight together (5 s at most:
 * a sequential caller fails the test, it does not hang it). */
static void fake_barrier(fake_api *f)
{
	struct timespec until;
	if (!f->barrier)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	f->inflight++;
	if (f->inflight >= f->barrier) {
		f->barrier_met = true;
		pthread_cond_broadcast(&f->cv);
	}
	while (!f->barrier_met && pthread_cond_timedwait(&f->cv, &f->mu, &until) == 0)
		;
	f->inflight--;
}

static int fake_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	fake_api *f = impl;
	char path[512];
	const char *q = strchr(req->path, '?');
	(void)auth;
	(void)err;
	snprintf(path, sizeof(path), "%.*s", (int)(q ? (size_t)(q - req->path) : strlen(req->path)), req->path);
	pthread_mutex_lock(&f->mu);
	kbuf_printf(&f->log, "%s %s\n", req->method, req->path);
	kbuf_puts(&resp->content_type, "application/json");
	if (!strcmp(req->method, "GET") && !strcmp(path, "/api")) {
		kbuf_reset(&resp->content_type);
		kbuf_puts(&resp->content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
		resp->status = 200;
		kbuf_puts(&resp->body, agg_core);
	} else if (!strcmp(req->method, "GET") && !strcmp(path, "/apis")) {
		bool widgets = f->crd_stored && f->widget_lag >= 0 && f->loads_since_crd >= f->widget_lag;
		if (f->crd_stored)
			f->loads_since_crd++;
		if (f->stop && f->stop_at_load && f->loads_since_crd == f->stop_at_load)
			*f->stop = 1;
		kbuf_reset(&resp->content_type);
		kbuf_puts(&resp->content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
		resp->status = 200;
		kbuf_printf(&resp->body,
			    "{\"kind\":\"APIGroupDiscoveryList\",\"items\":[{\"metadata\":{\"name\":\"apiextensions.k8s.io\"},"
			    "\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"customresourcedefinitions\","
			    "\"responseKind\":{\"kind\":\"CustomResourceDefinition\"},\"scope\":\"Cluster\"}]}]}%s]}",
			    widgets ? ",{\"metadata\":{\"name\":\"example.com\"},\"versions\":[{\"version\":\"v1\",\"resources\":"
				      "[{\"resource\":\"widgets\",\"responseKind\":{\"kind\":\"Widget\"},\"scope\":\"Namespaced\"}]}]}"
				    : "");
	} else if (!strcmp(req->method, "GET") && fake_find(f, path)) {
		resp->status = 200;
		kbuf_puts(&resp->body, fake_find(f, path)->json);
	} else if (!strcmp(req->method, "GET") && is_collection(path)) {
		size_t i, k = 0, pl = strlen(path);
		resp->status = 200;
		kbuf_puts(&resp->body, "{\"kind\":\"List\",\"items\":[");
		for (i = 0; i < f->nobjs; i++)
			if (!strncmp(f->objs[i].path, path, pl) && f->objs[i].path[pl] == '/')
				kbuf_printf(&resp->body, "%s%s", k++ ? "," : "", f->objs[i].json);
		kbuf_puts(&resp->body, "]}");
	} else if (!strcmp(req->method, "GET")) {
		answer_status(resp, 404, "NotFound");
	} else if (!strcmp(req->method, "PATCH")) {
		kbuf j = KBUF_INIT;
		fake_obj *o = fake_find(f, path);
		bool dry = q && strstr(q, "dryRun=All");
		fake_barrier(f);
		if (strstr(path, "/conflict-") && !strstr(q, "force=true")) {
			resp->status = 409;
			kbuf_puts(&resp->body, "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,"
				  "\"message\":\"Apply failed with 1 conflict: conflict with \\\"kubectl-patch\\\" using v1: .data.mode\","
				  "\"details\":{\"causes\":[{\"reason\":\"FieldManagerConflict\",\"message\":"
				  "\"conflict with \\\"kubectl-patch\\\" using v1\",\"field\":\".data.mode\"}]}}");
			pthread_mutex_unlock(&f->mu);
			return 0;
		}
		if (strstr(path, "/fail-")) {
			answer_status(resp, 422, "Invalid");
			pthread_mutex_unlock(&f->mu);
			return 0;
		}
		/* the applied object, with a status that reads ready */
		kbuf_put(&j, req->body, req->body_len - 1);   /* without the closing brace */
		if (strstr(req->body, "\"kind\":\"CustomResourceDefinition\""))
			kbuf_puts(&j, ",\"status\":{\"conditions\":[{\"type\":\"NamesAccepted\",\"status\":\"True\"},"
				  "{\"type\":\"Established\",\"status\":\"True\"}]}");
		else if (strstr(req->body, "\"kind\":\"Widget\""))
			kbuf_puts(&j, ",\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}");
		kbuf_puts(&j, "}");
		resp->status = o ? 200 : 201;
		kbuf_put(&resp->body, j.ptr, j.len);
		if (!dry && !o && f->nobjs < FAKE_MAX) {
			f->objs[f->nobjs].path = strdup(path);
			f->objs[f->nobjs].json = kbuf_detach(&j, NULL);
			f->nobjs++;
			if (strstr(path, "/customresourcedefinitions/"))
				f->crd_stored = true;
		} else if (!dry && o) {
			free(o->json);
			o->json = kbuf_detach(&j, NULL);
		}
		kbuf_release(&j);
	} else {
		answer_status(resp, 405, "MethodNotAllowed");
	}
	pthread_mutex_unlock(&f->mu);
	return 0;
}

/* A bundle in a fresh temporary directory: kstage.yaml and the files. */
typedef struct tmp_bundle {
	char dir[64];
	karena a;
	rel_bundle b;
} tmp_bundle;

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *fp;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	if (fp) {
		fputs(text, fp);
		fclose(fp);
	}
}

/* files: name, text, name, text, ..., NULL */
static int bundle_makev(tmp_bundle *t, const char *stages, va_list ap)
{
	const char *name;
	kerr e = KERR_INIT;
	int rc;
	snprintf(t->dir, sizeof(t->dir), "/tmp/kstage-unit-XXXXXX");
	karena_init(&t->a);
	if (!mkdtemp(t->dir))
		return -1;
	while ((name = va_arg(ap, const char *))) {
		const char *text = va_arg(ap, const char *);
		write_file(t->dir, name, text);
	}
	write_file(t->dir, "kstage.yaml", stages);
	rc = rel_bundle_load(&t->b, &t->a, t->dir, &e);
	if (rc) {
		kbuf m = KBUF_INIT;
		kerr_format(&e, &m);
		unit_fail(__FILE__, __LINE__, "bundle: %s", m.ptr);
		kbuf_release(&m);
	}
	kerr_clear(&e);
	return rc;
}

static int bundle_make(tmp_bundle *t, const char *stages, ...)
{
	va_list ap;
	int rc;
	va_start(ap, stages);
	rc = bundle_makev(t, stages, ap);
	va_end(ap);
	return rc;
}

static void bundle_drop(tmp_bundle *t)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		unit_fail(__FILE__, __LINE__, "cannot remove %s", t->dir);
	karena_release(&t->a);
}

static kube_config fake_cfg;

static kube_client *fake_client(fake_api *f)
{
	kube_transport tr = { fake_send, NULL, f };
	kube_client *c;
	memset(&fake_cfg, 0, sizeof(fake_cfg));
	fake_cfg.server = "https://fake";
	c = kube_client_new_with(tr, &fake_cfg, NULL);
	c->base_delay_ms = 1;
	c->max_delay_ms = 1;
	c->max_attempts = 2;
	return c;
}

static void ctx_init(rel_ctx *ctx, kube_client *c)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->client = c;
	ctx->namespace = "default";
	ctx->timeout_ms = 20000;
}

/* What most tests need: the fake server, a bundle, a client and a run
 * context over them, and an error. */
typedef struct exec_env {
	fake_api f;
	tmp_bundle t;
	kube_client *c;
	rel_ctx ctx;
	kerr e;
} exec_env;

/* stages, then the bundle's files as name, text pairs, NULL. False (and
 * nothing to close) when the bundle cannot be made. */
static bool env_open(exec_env *v, const char *stages, ...)
{
	kerr e0 = KERR_INIT;
	va_list ap;
	int rc;
	fake_init(&v->f);
	v->e = e0;
	va_start(ap, stages);
	rc = bundle_makev(&v->t, stages, ap);
	va_end(ap);
	if (rc) {
		fake_release(&v->f);
		return false;
	}
	v->c = fake_client(&v->f);
	ctx_init(&v->ctx, v->c);
	return true;
}

static void env_close(exec_env *v)
{
	kerr_clear(&v->e);
	kube_client_free(v->c);
	bundle_drop(&v->t);
	fake_release(&v->f);
}

static const char *widget_crd =
	"apiVersion: apiextensions.k8s.io/v1\n"
	"kind: CustomResourceDefinition\n"
	"metadata: {name: widgets.example.com}\n"
	"spec:\n"
	"  group: example.com\n"
	"  scope: Namespaced\n"
	"  names: {kind: Widget, plural: widgets}\n";
static const char *widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 1}\n";

static void check_ok(int rc, const kerr *e, const char *what)
{
	kbuf m = KBUF_INIT;
	kerr_format(e, &m);
	CHECK_MSG(rc == 0, "%s: rc %d: %s", what, rc, m.ptr);
	kbuf_release(&m);
}

/* Discovery may lag a moment after a CRD is Established: the executor
 * refreshes it until the kind shows (here one load late), whether the CRD
 * came earlier in the same stage or in an earlier one. */
TEST(release_exec_waits_for_discovery_of_a_new_kind)
{
	static const char *same = "name: t\nstages:\n  - name: all\n    source: {path: both.yaml}\n";
	static const char *split = "name: t\nstages:\n  - name: crds\n    source: {path: crd.yaml}\n"
				   "  - name: widgets\n    source: {path: w.yaml}\n";
	const char *stages[2] = { same, split };
	int k;
	for (k = 0; k < 2; k++) {
		exec_env v;
		rel_summary sum;
		char both[1024];
		snprintf(both, sizeof(both), "%s---\n%s", widget_crd, widget);
		if (!env_open(&v, stages[k], "both.yaml", both, "crd.yaml", widget_crd, "w.yaml", widget, NULL))
			continue;
		v.f.widget_lag = 1;
		check_ok(rel_apply(&v.t.b, &v.ctx, &sum, &v.e), &v.e, stages[k]);
		CHECK_INT_EQ(sum.created, 2);
		CHECK_CONTAINS(v.f.log.ptr, "PATCH /apis/example.com/v1/namespaces/default/widgets/w1?");
		env_close(&v);
	}
}

/* A signal while discovery lags stops the wait at once, as "interrupted",
 * instead of after its 25 tries. */
TEST(release_exec_stop_flag_ends_the_wait_for_discovery)
{
	exec_env v;
	rel_summary sum;
	volatile sig_atomic_t stop = 0;
	char both[1024];
	int rc;
	snprintf(both, sizeof(both), "%s---\n%s", widget_crd, widget);
	if (!env_open(&v, "name: t\nstages:\n  - name: all\n    source: {path: both.yaml}\n", "both.yaml", both, NULL))
		return;
	v.f.widget_lag = -1;
	v.f.stop = &stop;
	v.f.stop_at_load = 2;
	v.c->stop = &stop;
	rc = rel_apply(&v.t.b, &v.ctx, &sum, &v.e);
	CHECK_INT_EQ(rc, KE_ERROR);
	CHECK_CONTAINS(v.e.first.msg, "interrupted");
	CHECK(v.f.loads_since_crd <= 3);
	v.c->stop = NULL;
	env_close(&v);
}

static const char *mixed =
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\n"
	"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 1}\n---\n"
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: n1, labels: {team: x}}\n---\n"
	"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: n1}\ndata: {k: v}\n---\n"
	"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
	"spec: {group: example.com, scope: Namespaced, names: {kind: Widget, plural: widgets},\n"
	"  versions: [{name: v1, served: true, storage: true}]}\n";

/* Helm's kind order between groups (CRDs, Namespaces, ConfigMaps, then
 * other kinds once discovery knows them), one apply per object, nothing
 * else sent but discovery, read once: the Established CRD itself tells
 * discovery its kind. */
TEST(release_exec_apply_kind_order_and_requests)
{
	exec_env v;
	rel_summary sum;
	if (!env_open(&v, "name: t\nstages:\n  - name: all\n    source: {path: m.yaml}\n", "m.yaml", mixed, NULL))
		return;
	v.ctx.concurrency = 1;   /* the objects of a group in file order */
	check_ok(rel_apply(&v.t.b, &v.ctx, &sum, &v.e), &v.e, "apply");
	CHECK_INT_EQ(sum.created, 5);
	CHECK_INT_EQ(sum.stages_done, 1);
	CHECK_STR_EQ(v.f.log.ptr,
		     "GET /api\nGET /apis\n"
		     "PATCH /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com?fieldManager=kstage&fieldValidation=Strict\n"
		     "PATCH /api/v1/namespaces/n1?fieldManager=kstage&fieldValidation=Strict\n"
		     "PATCH /api/v1/namespaces/default/configmaps/a?fieldManager=kstage&fieldValidation=Strict\n"
		     "PATCH /api/v1/namespaces/n1/configmaps/b?fieldManager=kstage&fieldValidation=Strict\n"
		     "PATCH /apis/example.com/v1/namespaces/default/widgets/w1?fieldManager=kstage&fieldValidation=Strict\n");
	env_close(&v);
}

/* The objects of one kind group are applied at once (up to the bound):
 * the fake server holds each PATCH until four are in flight together. */
TEST(release_exec_apply_group_in_parallel)
{
	exec_env v;
	rel_summary sum;
	if (!env_open(&v, "name: t\nstages:\n  - name: cms\n    source: {path: m.yaml}\n", "m.yaml",
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n---\n"
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n---\n"
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {k: v}\n", NULL))
		return;
	v.f.barrier = 4;
	v.ctx.concurrency = 4;
	check_ok(rel_apply(&v.t.b, &v.ctx, &sum, &v.e), &v.e, "apply");
	CHECK(v.f.barrier_met);
	CHECK_INT_EQ(sum.created, 4);
	CHECK_INT_EQ(v.c->stats.by_method[1], 4);   /* PATCH */
	env_close(&v);
}

/* A plan sends every PATCH with dryRun=All, stores nothing, and names the
 * stage that brings a kind the server does not know yet. */
TEST(release_exec_plan_is_dry_run)
{
	exec_env v;
	rel_plan p;
	karena pa = KARENA_INIT;
	const char *s;
	size_t i;
	if (!env_open(&v, "name: t\nstages:\n  - name: crds\n    source: {path: crd.yaml}\n"
		      "  - name: rest\n    source: {path: m.yaml}\n",
		      "crd.yaml", widget_crd, "m.yaml",
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\n"
		      "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 1}\n", NULL))
		return;
	check_ok(rel_plan_run(&p, &pa, &v.t.b, &v.ctx, &v.e), &v.e, "plan");
	CHECK_INT_EQ(v.f.nobjs, 0);
	for (s = v.f.log.ptr; (s = strstr(s, "PATCH ")); s++) {
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\n"), s);
		CHECK_CONTAINS(line, "&dryRun=All");
	}
	CHECK_STR_EQ(v.f.log.ptr,
		     "GET /api\nGET /apis\n"
		     "GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com\n"
		     "PATCH /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com?fieldManager=kstage&fieldValidation=Strict&dryRun=All\n"
		     "GET /api/v1/namespaces/default/configmaps/a\n"
		     "PATCH /api/v1/namespaces/default/configmaps/a?fieldManager=kstage&fieldValidation=Strict&dryRun=All\n");
	CHECK_INT_EQ(p.len, 3);
	CHECK_INT_EQ(p.created, 3);
	for (i = 0; i < p.len; i++)
		if (!strcmp(p.v[i].ref, "Widget/default/w1")) {
			CHECK_INT_EQ(p.v[i].action, REL_CREATED_LATER);
			CHECK_STR_EQ(p.v[i].after_stage, "crds");
		}
	karena_release(&pa);
	env_close(&v);
}

/* A group with failures still reports what it applied, and names how many
 * of its objects failed. */
TEST(release_exec_apply_failing_group)
{
	exec_env v;
	rel_summary sum;
	kbuf m = KBUF_INIT;
	if (!env_open(&v, "name: t\nstages:\n  - name: cms\n    source: {path: m.yaml}\n", "m.yaml",
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fail-a}\ndata: {k: v}\n---\n"
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n---\n"
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fail-c}\ndata: {k: v}\n", NULL))
		return;
	CHECK_INT_EQ(rel_apply(&v.t.b, &v.ctx, &sum, &v.e), KE_INPUT);   /* a 422 for fail-a: the object is invalid */
	CHECK_INT_EQ(sum.created, 1);
	CHECK_STR_EQ(sum.failed_stage, "cms");
	kerr_format(&v.e, &m);
	CHECK_CONTAINS(m.ptr, "stage cms: 2 of 3 ConfigMap objects failed; the first");
	CHECK_CONTAINS(m.ptr, "ConfigMap/default/fail-a");
	kbuf_release(&m);
	env_close(&v);
}

/* A file inside a source directory that is a symlink to a file outside
 * the bundle is refused when the stage renders (only the stage's own path
 * is checked at load). */
TEST(release_render_refuses_symlink_out_of_bundle)
{
	tmp_bundle t;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kube_obj *objs = NULL;
	size_t n = 0;
	bool enabled = false;
	rel_ctx ctx;
	char dir[128], link[160], target[160];
	kbuf m = KBUF_INIT;
	if (bundle_make(&t, "name: t\nstages:\n  - name: s\n    source: {path: m}\n", "ok.yaml",
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", NULL))
		return;
	snprintf(dir, sizeof(dir), "%s/m", t.dir);
	snprintf(target, sizeof(target), "%s.outside.yaml", t.dir);
	snprintf(link, sizeof(link), "%s/m/evil.yaml", t.dir);
	write_file("/", target + 1, "apiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n");
	CHECK(mkdir(dir, 0755) == 0);
	CHECK(symlink(target, link) == 0);
	ctx_init(&ctx, NULL);
	CHECK_INT_EQ(rel_stage_render(&objs, &n, &enabled, &a, &t.b, &t.b.stages[0], &ctx, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "evil.yaml\" resolves to");
	CHECK_CONTAINS(m.ptr, "outside the bundle");
	unlink(target);
	kbuf_release(&m);
	kerr_clear(&e);
	karena_release(&a);
	bundle_drop(&t);
}

/* A zip path source (written by Python's zipfile: one entry stored, one
 * deflated, one not a manifest) renders its .yaml/.yml files in name
 * order; a zip entry climbing out with ".." is refused. */
TEST(release_render_zip_source)
{
	tmp_bundle t;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kube_obj *objs = NULL;
	size_t n = 0;
	bool enabled = false;
	rel_ctx ctx;
	kbuf cmd = KBUF_INIT, m = KBUF_INIT;
	if (bundle_make(&t, "name: t\nstages:\n  - name: s\n    source: {path: m.zip}\n"
			"  - name: evil\n    source: {path: evil.zip}\n", NULL))
		return;
	kbuf_printf(&cmd, "cd %s && python3 -c '"
		    "import zipfile as Z\n"
		    "cm = lambda n: \"apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: %%s}\\n\" %% n\n"
		    "with Z.ZipFile(\"m.zip\", \"w\") as z:\n"
		    "  z.writestr(\"d/b.yml\", cm(\"zip-b\"), Z.ZIP_STORED)\n"
		    "  z.writestr(\"d/a.yaml\", cm(\"zip-a\"), Z.ZIP_DEFLATED)\n"
		    "  z.writestr(\"d/README.md\", \"not a manifest\", Z.ZIP_DEFLATED)\n"
		    "with Z.ZipFile(\"evil.zip\", \"w\") as z:\n"
		    "  z.writestr(\"d/../../x.yaml\", cm(\"evil\"))\n'", t.dir);
	CHECK_INT_EQ(system(cmd.ptr), 0);
	ctx_init(&ctx, NULL);
	CHECK_INT_EQ(rel_stage_render(&objs, &n, &enabled, &a, &t.b, &t.b.stages[0], &ctx, &e), 0);
	CHECK_INT_EQ(n, 2);
	if (n == 2) {
		CHECK_STR_EQ(objs[0].name, "zip-a");
		CHECK_STR_EQ(objs[1].name, "zip-b");
	}
	CHECK_INT_EQ(rel_stage_render(&objs, &n, &enabled, &a, &t.b, &t.b.stages[1], &ctx, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "entry \"d/../../x.yaml\" climbs out with \"..\"");
	kbuf_release(&cmd);
	kbuf_release(&m);
	kerr_clear(&e);
	karena_release(&a);
	bundle_drop(&t);
}

/* chart: {files: [...]} on Envoy Gateway's pinned chart (the fixture
 * archive): only its own gateway.envoyproxy.io CRDs from the crds subchart
 * (disabled by its condition), not the Gateway API CRDs nor the safe-upgrades
 * policy beside them, nor the chart's templates; a pattern that matches no
 * manifest is an input error. */
TEST(release_render_chart_files_from_a_subchart)
{
	tmp_bundle t;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kube_obj *objs = NULL;
	size_t n = 0, i;
	bool enabled = false;
	rel_ctx ctx;
	kbuf cmd = KBUF_INIT, m = KBUF_INIT;
	if (bundle_make(&t, "name: t\nstages:\n  - name: eg-crds\n    chart:\n      path: eg.tgz\n"
			"      files: [charts/crds/crds/generated/gateway.envoyproxy.io_*.yaml]\n"
			"  - name: typo\n    chart: {path: eg.tgz, files: [crds/generated/*.yaml]}\n", NULL))
		return;
	kbuf_printf(&cmd, "cp '%s' '%s/eg.tgz'", unit_fixture("envoy-gateway/v1.8.3/gateway-helm-v1.8.3.tgz"), t.dir);
	CHECK_INT_EQ(system(cmd.ptr), 0);
	ctx_init(&ctx, NULL);
	CHECK_INT_EQ(rel_stage_render(&objs, &n, &enabled, &a, &t.b, &t.b.stages[0], &ctx, &e), 0);
	CHECK_INT_EQ(n, 8);
	for (i = 0; i < n; i++) {
		const char *group = strchr(objs[i].name, '.');
		CHECK_STR_EQ(objs[i].kind, "CustomResourceDefinition");
		CHECK_MSG(group && !strcmp(group, ".gateway.envoyproxy.io"), "not Envoy Gateway's: %s", objs[i].name);
	}
	CHECK_INT_EQ(rel_stage_render(&objs, &n, &enabled, &a, &t.b, &t.b.stages[1], &ctx, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "stage typo: chart files pattern \"crds/generated/*.yaml\" matches no manifest of chart "
		       "gateway-helm v1.8.3");
	kbuf_release(&cmd);
	kbuf_release(&m);
	kerr_clear(&e);
	karena_release(&a);
	bundle_drop(&t);
}

/* Stage names are checked for duplicates in one pass: 5,000 stages, the
 * last one repeating the first. */
TEST(release_bundle_duplicate_among_many_stages)
{
	kbuf text = KBUF_INIT, m = KBUF_INIT;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	size_t i;
	kbuf_puts(&text, "name: many\nstages:\n");
	for (i = 0; i < 5000; i++)
		kbuf_printf(&text, "  - {name: s%zu, source: {path: x.yaml}}\n", i);
	kbuf_puts(&text, "  - {name: s0, source: {path: x.yaml}}\n");
	CHECK_INT_EQ(rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", text.ptr, text.len, &e), KE_INPUT);
	CHECK_INT_EQ(e.count, 1);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "/b/kstage.yaml:5003:12: stage name \"s0\" is used twice");
	kbuf_release(&m);
	kbuf_release(&text);
	kerr_clear(&e);
	karena_release(&a);
}

/* A field-manager conflict (told by the answer's causes) makes a plan note
 * which fields need --force-conflicts and show the forced dry-run. */
TEST(release_exec_plan_notes_field_conflicts)
{
	exec_env v;
	rel_plan p;
	karena pa = KARENA_INIT;
	if (!env_open(&v, "name: t\nstages:\n  - name: s\n    source: {path: m.yaml}\n", "m.yaml",
		      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conflict-a}\ndata: {mode: blue}\n", NULL))
		return;
	check_ok(rel_plan_run(&p, &pa, &v.t.b, &v.ctx, &v.e), &v.e, "plan");
	CHECK_INT_EQ(p.len, 1);
	if (p.len == 1) {
		CHECK_STR_EQ(p.v[0].note, "needs --force-conflicts: 1 field is managed by another field manager:\n"
					  "    .data.mode (owned by \"kubectl-patch\")");
		CHECK_INT_EQ(p.v[0].action, REL_CREATED);
	}
	CHECK_CONTAINS(v.f.log.ptr, "&force=true&dryRun=All");
	karena_release(&pa);
	env_close(&v);
}
