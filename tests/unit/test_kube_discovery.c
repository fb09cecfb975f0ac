/* Unit tests for kube/discovery.c and object mapping: aggregated discovery,
 * the per-group fallback, scopes and REST paths. */
#include "unit.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct disc_srv {
	bool aggregated;
	int requests;
} disc_srv;

static const char *agg_core =
	"{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\",\"items\":[{\"metadata\":{},"
	"\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":\"configmaps\",\"responseKind\":{\"group\":\"\","
	"\"version\":\"\",\"kind\":\"ConfigMap\"},\"scope\":\"Namespaced\"},{\"resource\":\"namespaces\",\"responseKind\":"
	"{\"group\":\"\",\"version\":\"\",\"kind\":\"Namespace\"},\"scope\":\"Cluster\"}]}]}]}";
static const char *agg_apis =
	"{\"kind\":\"APIGroupDiscoveryList\",\"apiVersion\":\"apidiscovery.k8s.io/v2\",\"items\":[{\"metadata\":"
	"{\"name\":\"gateway.networking.k8s.io\"},\"versions\":[{\"version\":\"v1\",\"resources\":[{\"resource\":"
	"\"gateways\",\"responseKind\":{\"group\":\"\",\"version\":\"\",\"kind\":\"Gateway\"},\"scope\":\"Namespaced\"},"
	"{\"resource\":\"gatewayclasses\",\"responseKind\":{\"group\":\"\",\"version\":\"\",\"kind\":\"GatewayClass\"},"
	"\"scope\":\"Cluster\"}]}]}]}";

static int disc_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	disc_srv *s = impl;
	(void)auth;
	(void)err;
	s->requests++;
	resp->status = 200;
	if (s->aggregated && strstr(req->accept ? req->accept : "", "apidiscovery")) {
		kbuf_puts(&resp->content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
		kbuf_puts(&resp->body, !strcmp(req->path, "/api") ? agg_core : agg_apis);
		return 0;
	}
	kbuf_puts(&resp->content_type, "application/json");
	if (!strcmp(req->path, "/api"))
		kbuf_puts(&resp->body, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
	else if (!strcmp(req->path, "/apis"))
		kbuf_puts(&resp->body, "{\"kind\":\"APIGroupList\",\"groups\":[{\"name\":\"apps\",\"versions\":"
			  "[{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}]},{\"name\":\"metrics.k8s.io\",\"versions\":"
			  "[{\"groupVersion\":\"metrics.k8s.io/v1beta1\",\"version\":\"v1beta1\"}]}]}");
	else if (!strcmp(req->path, "/api/v1"))
		kbuf_puts(&resp->body, "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":\"configmaps\",\"kind\":"
			  "\"ConfigMap\",\"namespaced\":true},{\"name\":\"pods/log\",\"kind\":\"Pod\",\"namespaced\":true}]}");
	else if (!strcmp(req->path, "/apis/apps/v1"))
		kbuf_puts(&resp->body, "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":\"deployments\",\"kind\":"
			  "\"Deployment\",\"namespaced\":true}]}");
	else {
		resp->status = 503;   /* an aggregated API that is down must not stop discovery */
		kbuf_puts(&resp->body, "{\"kind\":\"Status\",\"message\":\"service unavailable\",\"code\":503}");
	}
	return 0;
}

static kube_config dcfg;

static kube_client *client(disc_srv *s)
{
	kube_transport tr = { disc_send, NULL, s };
	kube_client *c;
	memset(&dcfg, 0, sizeof(dcfg));
	dcfg.server = "https://fake";
	c = kube_client_new_with(tr, &dcfg, NULL);
	c->base_delay_ms = 1;
	c->max_delay_ms = 1;
	c->max_attempts = 2;
	return c;
}

TEST(kube_discovery_aggregated)
{
	disc_srv s = { true, 0 };
	kube_client *c = client(&s);
	kerr e = KERR_INIT;
	const kube_resource *r;
	CHECK_INT_EQ(kube_discovery_load(c, &e), 0);
	CHECK_INT_EQ(s.requests, 2);
	r = kube_discovery_find(c, "gateway.networking.k8s.io/v1", "GatewayClass");
	CHECK(r && !r->namespaced && !strcmp(r->resource, "gatewayclasses"));
	r = kube_discovery_find(c, "v1", "ConfigMap");
	CHECK(r && r->namespaced && !strcmp(r->group, ""));
	CHECK(kube_discovery_find(c, "gateway.networking.k8s.io/v1beta1", "Gateway") == NULL);
	CHECK(kube_discovery_find(c, "apps/v1", "Deployment") == NULL);
	CHECK_INT_EQ(kube_discovery_load(c, &e), 0);   /* cached */
	CHECK_INT_EQ(s.requests, 2);
	kube_client_free(c);
	kerr_clear(&e);
}

/* An Established CRD tells discovery its kind without a request: its
 * served versions replace what was known of the kind (a version no longer
 * served is not found), scope and plural from its spec; before discovery
 * is loaded nothing is learnt (the load will see the kind). */
TEST(kube_discovery_learns_a_crd_from_the_object)
{
	static const char *crd =
		"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
		"metadata: {name: gateways.gateway.networking.k8s.io}\n"
		"spec:\n  group: gateway.networking.k8s.io\n  scope: Cluster\n"
		"  names: {kind: Gateway, plural: gatewayz}\n"
		"  versions:\n  - {name: v1, served: false, storage: false}\n"
		"  - {name: v2, served: true, storage: true}\n  - {name: v3}\n";
	disc_srv s = { true, 0 };
	kube_client *c = client(&s);
	kerr e = KERR_INIT;
	karena a = KARENA_INIT;
	doc_node *n = NULL;
	const kube_resource *r;
	CHECK_INT_EQ(doc_load_yaml1(&n, &a, "crd", crd, strlen(crd), NULL, &e), 0);
	kube_discovery_learn_crd(c, n);   /* not loaded yet: nothing */
	CHECK_INT_EQ(kube_discovery_load(c, &e), 0);
	CHECK_INT_EQ(s.requests, 2);
	CHECK(kube_discovery_find(c, "gateway.networking.k8s.io/v1", "Gateway") != NULL);
	CHECK(kube_discovery_find(c, "gateway.networking.k8s.io/v2", "Gateway") == NULL);
	kube_discovery_learn_crd(c, n);
	CHECK_INT_EQ(s.requests, 2);
	CHECK(kube_discovery_find(c, "gateway.networking.k8s.io/v1", "Gateway") == NULL);   /* served: false */
	CHECK(kube_discovery_find(c, "gateway.networking.k8s.io/v3", "Gateway") == NULL);   /* served unset */
	r = kube_discovery_find(c, "gateway.networking.k8s.io/v2", "Gateway");
	CHECK(r && !r->namespaced && !strcmp(r->resource, "gatewayz"));
	r = kube_discovery_find(c, "gateway.networking.k8s.io/v1", "GatewayClass");   /* other kinds stay */
	CHECK(r && !strcmp(r->resource, "gatewayclasses"));
	CHECK_INT_EQ(kube_discovery_refresh(c, &e), 0);   /* a reload: the server's word again */
	CHECK(kube_discovery_find(c, "gateway.networking.k8s.io/v1", "Gateway") != NULL);
	karena_release(&a);
	kube_client_free(c);
	kerr_clear(&e);
}

TEST(kube_discovery_per_group_fallback)
{
	disc_srv s = { false, 0 };
	kube_client *c = client(&s);
	kerr e = KERR_INIT;
	const kube_resource *r;
	CHECK_INT_EQ(kube_discovery_load(c, &e), 0);
	r = kube_discovery_find(c, "apps/v1", "Deployment");
	CHECK(r && r->namespaced && !strcmp(r->resource, "deployments"));
	CHECK(kube_discovery_find(c, "v1", "ConfigMap") != NULL);
	CHECK(kube_discovery_find(c, "v1", "Pod") == NULL);   /* subresources are not kinds */
	kube_client_free(c);
	kerr_clear(&e);
}

/* A discovery answer of another kind, or whose list is not a list, was
 * read as an empty one ("the server has no kind ConfigMap", exit 1): it is
 * a bad answer naming the path (exit 2), as invalid JSON is; from one
 * group's path it is a warning, as an unavailable group is (issue 13). */
static const char *shape_core_v1;
static const char *shape_apps_v1;

static int shape_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	(void)impl;
	(void)auth;
	(void)err;
	resp->status = 200;
	kbuf_puts(&resp->content_type, "application/json");
	if (!strcmp(req->path, "/api"))
		kbuf_puts(&resp->body, "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"]}");
	else if (!strcmp(req->path, "/apis"))
		kbuf_puts(&resp->body, "{\"kind\":\"APIGroupList\",\"groups\":[{\"name\":\"apps\",\"versions\":"
			  "[{\"groupVersion\":\"apps/v1\",\"version\":\"v1\"}]}]}");
	else if (!strcmp(req->path, "/api/v1"))
		kbuf_puts(&resp->body, shape_core_v1);
	else
		kbuf_puts(&resp->body, shape_apps_v1);
	return 0;
}

TEST(kube_discovery_answer_of_the_wrong_shape_is_an_error)
{
	static const char *good = "{\"kind\":\"APIResourceList\",\"resources\":[{\"name\":\"configmaps\","
				  "\"kind\":\"ConfigMap\",\"namespaced\":true}]}";
	static const struct { const char *body, *msg; } bad[] = {
		{ "{\"kind\":\"Secret\",\"resources\":[]}", "discovery /api/v1: the API server answered kind \"Secret\", want APIResourceList" },
		{ "{\"kind\":\"APIResourceList\",\"resources\":\"x\"}", "discovery /api/v1: resources in the API server's APIResourceList is not a list" },
		{ "[1,2]", "discovery /api/v1: the API server's answer is not a JSON object (want APIResourceList)" },
	};
	kube_transport tr = { shape_send, NULL, NULL };
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		kube_client *c;
		kerr e = KERR_INIT;
		memset(&dcfg, 0, sizeof(dcfg));
		dcfg.server = "https://fake";
		c = kube_client_new_with(tr, &dcfg, NULL);
		shape_core_v1 = bad[i].body;
		shape_apps_v1 = good;
		CHECK_INT_EQ(kube_discovery_load(c, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg ? e.first.msg : "", bad[i].msg);
		kerr_clear(&e);
		kube_client_free(c);
		/* the same answer from a group: a warning, ConfigMap still found */
		c = kube_client_new_with(tr, &dcfg, NULL);
		shape_core_v1 = good;
		shape_apps_v1 = bad[i].body;
		CHECK_INT_EQ(kube_discovery_load(c, &e), 0);
		CHECK(kube_discovery_find(c, "v1", "ConfigMap") != NULL);
		kerr_clear(&e);
		kube_client_free(c);
	}
}

TEST(kube_obj_resolve_and_paths)
{
	disc_srv s = { true, 0 };
	kube_client *c = client(&s);
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *d = NULL;
	kube_obj o;
	kbuf p = KBUF_INIT, m = KBUF_INIT;
	const char *gw = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\n";
	const char *ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, namespace: ns1}\n";
	const char *nokind = "apiVersion: v1\nmetadata: {name: x}\n";
	CHECK_INT_EQ(kube_discovery_load(c, &e), 0);
	doc_load_yaml1(&d, &a, "gw.yaml", gw, strlen(gw), NULL, &e);
	CHECK_INT_EQ(kube_obj_init(&o, &a, d, &e), 0);
	CHECK_INT_EQ(kube_obj_resolve(c, &a, &o, "team", &e), 0);
	CHECK_STR_EQ(o.ref, "Gateway/team/g");
	CHECK_STR_EQ(doc_get_str(o.doc, "metadata.namespace", ""), "team");
	kube_obj_path(&o, true, &p);
	CHECK_STR_EQ(p.ptr, "/apis/gateway.networking.k8s.io/v1/namespaces/team/gateways/g");
	doc_load_yaml1(&d, &a, "ns.yaml", ns, strlen(ns), NULL, &e);
	CHECK_INT_EQ(kube_obj_init(&o, &a, d, &e), 0);
	CHECK_INT_EQ(kube_obj_resolve(c, &a, &o, "team", &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "ns.yaml:3:32: Namespace \"x\" is cluster-scoped but sets metadata.namespace \"ns1\"");
	kerr_clear(&e);
	doc_load_yaml1(&d, &a, "k.yaml", nokind, strlen(nokind), NULL, &e);
	CHECK_INT_EQ(kube_obj_init(&o, &a, d, &e), KE_INPUT);
	kbuf_reset(&m);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "k.yaml:1:1: object has no kind");
	kerr_clear(&e);
	CHECK(kube_kind_rank("CustomResourceDefinition") < kube_kind_rank("Namespace"));
	CHECK(kube_kind_rank("Namespace") < kube_kind_rank("GatewayClass"));
	CHECK(kube_kind_rank("GatewayClass") < kube_kind_rank("ClusterRole"));
	CHECK(kube_kind_rank("ConfigMap") < kube_kind_rank("Deployment"));
	CHECK(kube_kind_rank("Deployment") < kube_kind_rank("Gateway"));
	CHECK(kube_kind_rank("Gateway") < kube_kind_rank("ValidatingWebhookConfiguration"));
	kbuf_release(&p);
	kbuf_release(&m);
	kube_client_free(c);
	karena_release(&a);
}
