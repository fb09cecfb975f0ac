/* Unit tests for release/checks.c (the preflight) through
 * tests/unit/fake_api: fail/info templates with lookup, every check run
 * and every problem in one report, and the SelfSubjectAccessReviews of a
 * permissions check (the verbs and resources the later stages use). */
#include "unit.h"
#include "fake_api.h"
#include "release/release.h"

#include <string.h>

typedef struct ck_env {
	fake_api f;
	kube_client *c;
	karena a;
	rel_bundle b;
	rel_lookup l;
	rel_ctx ctx;
	kbuf events;
	kev_sink sink;
} ck_env;

static void record(void *u, const kevent *ev)
{
	ck_env *v = u;
	kbuf_printf(&v->events, "%s: %s\n", ev->kind, ev->msg);
}

static const char *yaml =
	"name: t\n"
	"stages:\n"
	"  - name: preflight\n"
	"    checks:\n"
	"      - name: config\n"
	"        fail: '{{ if not (lookup \"v1\" \"ConfigMap\" \"kserve\" \"inferenceservice-config\") }}KServe is not installed{{ end }}'\n"
	"      - name: count\n"
	"        info: '{{ len (lookup \"v1\" \"ConfigMap\" \"kserve\" \"\").items }} ConfigMaps'\n"
	"      - name: broken\n"
	"        fail: '{{ .Values.nope.deeper }}'\n"
	"      - name: kube\n"
	"        fail: '{{ if semverCompare \"< 1.30.0-0\" .Capabilities.KubeVersion.Version }}too old: {{ .Capabilities.KubeVersion.Version }}{{ end }}'\n"
	"        info: 'Kubernetes {{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}'\n"
	"      - permissions: true\n"
	"  - name: app\n"
	"    namespace: apps\n"
	"    templates: [x.yaml]\n"
	"    enabled: false\n"
	"  - name: patch\n"
	"    ops:\n"
	"      - jsonKeyMerge: {configMap: kserve/cfg, key: k, set: {a: 1}}\n"
	"      - rolloutRestart: {deployment: kserve/ctl}\n";

static void env_init(ck_env *v)
{
	kerr e = KERR_INIT;
	memset(v, 0, sizeof(*v));
	fake_api_init(&v->f);
	karena_init(&v->a);
	kbuf_init(&v->events, 0);
	v->sink.emit = record;
	v->sink.ctx = v;
	v->c = fake_api_client(&v->f);
	v->c->user_sink = &v->sink;
	kube_discovery_add(v->c, "", "v1", "ConfigMap", "configmaps", true);
	CHECK_INT_EQ(rel_bundle_parse(&v->b, &v->a, ".", "kstage.yaml", yaml, strlen(yaml), &e), 0);
	kerr_clear(&e);
	rel_lookup_init(&v->l, v->c, NULL);
	v->ctx.client = v->c;
	v->ctx.values = doc_new_map(&v->a);
	v->ctx.lookup = &v->l;
}

static void env_release(ck_env *v)
{
	rel_lookup_release(&v->l);
	kube_client_free(v->c);
	kbuf_release(&v->events);
	karena_release(&v->a);
	fake_api_release(&v->f);
}

TEST(release_checks_report_every_problem_at_once)
{
	ck_env v;
	kerr err = KERR_INIT;
	size_t n = 0;
	env_init(&v);
	v.f.deny = "update /configmaps kserve\npatch apps/deployments kserve\n";
	CHECK_INT_EQ(rel_preflight(&v.b, &v.ctx, &n, &err), KE_INPUT);
	CHECK_INT_EQ(n, 5);   /* config, count, broken, kube, permissions */
	CHECK_CONTAINS(err.first.msg, "preflight: 4 problems, nothing was changed:\n"
				      "stage preflight: check config: KServe is not installed\n"
				      "stage preflight: check broken: ");
	CHECK_CONTAINS(err.first.msg, "nil pointer evaluating interface {}.deeper");
	CHECK_CONTAINS(err.first.msg, "stage preflight: check permissions: may not update configmaps in namespace kserve\n"
				      "stage preflight: check permissions: may not patch deployments.apps in namespace kserve");
	CHECK_CONTAINS(v.events.ptr, "check.passed: check count: ok: 0 ConfigMaps");
	/* the disabled stage asks nothing: get and update ConfigMaps, get and patch Deployments */
	CHECK_INT_EQ(v.f.reviews, 4);
	CHECK_INT_EQ(v.f.posts, v.f.reviews);
	CHECK_INT_EQ(v.f.puts + v.f.deletes, 0);
	kerr_clear(&err);
	env_release(&v);
}

TEST(release_checks_pass_when_all_is_well)
{
	ck_env v;
	kerr err = KERR_INIT;
	doc_node *cm;
	env_init(&v);
	cm = doc_new_map(&v.f.a);
	doc_map_set(&v.f.a, cm, "kind", doc_new_str(&v.f.a, "ConfigMap"));
	fake_api_put(&v.f, "kserve/configmaps", "inferenceservice-config", cm);
	doc_map_set(&v.a, v.ctx.values, "nope", doc_new_map(&v.a));
	CHECK_INT_EQ(rel_preflight(&v.b, &v.ctx, NULL, &err), 0);
	CHECK_CONTAINS(v.events.ptr, "check.passed: check count: ok: 1 ConfigMaps");
	CHECK_CONTAINS(v.events.ptr, "check.passed: check permissions: ok: 4 verbs and resources allowed");
	CHECK_CONTAINS(v.events.ptr, "check.passed: check kube: ok: Kubernetes 1.36");
	env_release(&v);
}

TEST(release_checks_see_the_api_server_version)
{
	ck_env v;
	kerr err = KERR_INIT;
	doc_node *cm;
	env_init(&v);
	v.f.git_version = "v1.29.4-eks-1";
	cm = doc_new_map(&v.f.a);
	doc_map_set(&v.f.a, cm, "kind", doc_new_str(&v.f.a, "ConfigMap"));
	fake_api_put(&v.f, "kserve/configmaps", "inferenceservice-config", cm);
	doc_map_set(&v.a, v.ctx.values, "nope", doc_new_map(&v.a));
	CHECK_INT_EQ(rel_preflight(&v.b, &v.ctx, NULL, &err), KE_INPUT);
	CHECK_CONTAINS(err.first.msg, "preflight: 1 problem, nothing was changed:\n"
				      "stage preflight: check kube: too old: v1.29.4-eks-1");
	kerr_clear(&err);
	env_release(&v);
}
