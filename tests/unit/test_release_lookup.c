/* Unit tests for release/lookup.c through tests/unit/fake_api: Helm's
 * lookup answers (object, list with items, empty map), the requests it
 * sends (GETs only, names checked first), its cache, the Secret data it
 * teaches the redactor, and how a failure stops a template. */
#include "unit.h"
#include "fake_api.h"
#include "release/release.h"

#include <string.h>

typedef struct look_env {
	fake_api f;
	kube_client *c;
	kredact *red;
	kev_sink sink;
	rel_lookup l;
	karena a;
	rel_bundle b;
	rel_ctx ctx;
} look_env;

static doc_node *json(karena *a, const char *text)
{
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	doc_load_json(&n, a, "t", text, strlen(text), &e);
	kerr_clear(&e);
	return n;
}

static void env_init(look_env *v)
{
	memset(v, 0, sizeof(*v));
	fake_api_init(&v->f);
	v->c = fake_api_client(&v->f);
	kube_discovery_add(v->c, "", "v1", "Secret", "secrets", true);
	kube_discovery_add(v->c, "", "v1", "ConfigMap", "configmaps", true);
	v->red = kredact_new();
	karena_init(&v->a);
	rel_lookup_init(&v->l, v->c, v->red);
	fake_api_put(&v->f, "namespaces", "db", json(&v->f.a, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"db\"}}"));
	fake_api_put(&v->f, "db/secrets", "pw", json(&v->f.a,
		"{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"pw\",\"namespace\":\"db\"},"
		"\"data\":{\"password\":\"c2VjcmV0LXBhc3N3b3JkLTQy\"}}"));   /* secret-password-42 */
	fake_api_put(&v->f, "db/configmaps", "a", json(&v->f.a,
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"namespace\":\"db\"},\"data\":{\"k\":\"1\"}}"));
	fake_api_put(&v->f, "db/configmaps", "b", json(&v->f.a,
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"b\",\"namespace\":\"db\"},\"data\":{\"k\":\"2\"}}"));
	v->b.dir = ".";
	v->b.file = "kstage.yaml";
	v->b.name = "t";
	v->ctx.lookup = &v->l;
	v->ctx.values = doc_new_map(&v->a);
	v->ctx.namespace = "db";
}

static void env_release(look_env *v)
{
	rel_lookup_release(&v->l);
	kube_client_free(v->c);
	kredact_free(v->red);
	karena_release(&v->a);
	fake_api_release(&v->f);
}

static int render(look_env *v, kbuf *out, const char *text, kerr *err)
{
	kbuf_reset(out);
	return rel_render_string(out, &v->a, &v->b, "t", text, &v->ctx, err);
}

TEST(release_lookup_object_list_and_absent)
{
	look_env v;
	kbuf out = KBUF_INIT;
	kerr err = KERR_INIT;
	env_init(&v);
	CHECK_INT_EQ(render(&v, &out, "{{ (lookup \"v1\" \"Secret\" \"db\" \"pw\").data.password | b64dec }}", &err), 0);
	CHECK_STR_EQ(out.ptr, "secret-password-42");
	/* a list: kind List, items with their apiVersion and kind */
	CHECK_INT_EQ(render(&v, &out, "{{ range (lookup \"v1\" \"ConfigMap\" \"db\" \"\").items }}{{ .kind }}/{{ .apiVersion }}/"
				 "{{ .metadata.name }}={{ .data.k }} {{ end }}", &err), 0);
	CHECK_STR_EQ(out.ptr, "ConfigMap/v1/a=1 ConfigMap/v1/b=2 ");
	/* absent object, and a kind the server does not serve: empty maps */
	CHECK_INT_EQ(render(&v, &out, "{{ lookup \"v1\" \"Secret\" \"db\" \"nope\" | len }} "
				 "{{ if not (lookup \"v1\" \"Secret\" \"db\" \"nope\") }}none{{ end }} "
				 "{{ lookup \"serving.kserve.io/v1beta1\" \"InferenceService\" \"db\" \"x\" | len }}", &err), 0);
	CHECK_STR_EQ(out.ptr, "0 none 0");
	CHECK_INT_EQ(err.code, 0);
	kbuf_release(&out);
	env_release(&v);
}

TEST(release_lookup_caches_until_forget_and_sends_gets_only)
{
	look_env v;
	kbuf out = KBUF_INIT;
	kerr err = KERR_INIT;
	int gets;
	env_init(&v);
	CHECK_INT_EQ(render(&v, &out, "{{ (lookup \"v1\" \"ConfigMap\" \"db\" \"a\").data.k }}", &err), 0);
	gets = v.f.gets;
	CHECK_INT_EQ(gets, 1);
	/* the same question again, and changing the answer in the template, ask nothing */
	CHECK_INT_EQ(render(&v, &out, "{{ $c := lookup \"v1\" \"ConfigMap\" \"db\" \"a\" }}{{ $_ := set $c.data \"k\" \"9\" }}"
				 "{{ (lookup \"v1\" \"ConfigMap\" \"db\" \"a\").data.k }}", &err), 0);
	CHECK_STR_EQ(out.ptr, "1");
	CHECK_INT_EQ(v.f.gets, gets);
	/* after the run changed something, the cluster is asked again */
	fake_api_put(&v.f, "db/configmaps", "a", json(&v.f.a,
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"namespace\":\"db\"},\"data\":{\"k\":\"3\"}}"));
	rel_lookup_forget(&v.l);
	CHECK_INT_EQ(render(&v, &out, "{{ (lookup \"v1\" \"ConfigMap\" \"db\" \"a\").data.k }}", &err), 0);
	CHECK_STR_EQ(out.ptr, "3");
	CHECK_INT_EQ(v.f.gets, gets + 1);
	CHECK_INT_EQ(v.f.posts + v.f.puts + v.f.deletes, 0);
	kbuf_release(&out);
	env_release(&v);
}

TEST(release_lookup_teaches_secret_data_to_the_redactor)
{
	look_env v;
	kbuf out = KBUF_INIT, shown = KBUF_INIT;
	kerr err = KERR_INIT;
	env_init(&v);
	CHECK_INT_EQ(render(&v, &out, "{{ (lookup \"v1\" \"Secret\" \"db\" \"pw\").data.password | b64dec }}", &err), 0);
	kredact_apply(v.red, out.ptr, out.len, &shown);
	CHECK(!strstr(shown.ptr, "secret-password-42"));
	kbuf_release(&shown);
	kbuf_release(&out);
	env_release(&v);
}

TEST(release_lookup_bad_names_are_refused_before_any_request)
{
	look_env v;
	kbuf out = KBUF_INIT;
	kerr err = KERR_INIT;
	env_init(&v);
	CHECK(render(&v, &out, "{{ lookup \"v1\" \"Secret\" \"db\" \"../../nodes/x\" }}", &err) == KE_INPUT);
	CHECK_CONTAINS(err.first.msg, "error calling lookup: lookup v1 Secret/db/../../nodes/x: name \"../../nodes/x\": may not");
	kerr_clear(&err);
	CHECK(render(&v, &out, "{{ lookup \"v1\" \"Secret\" \"DB?x=1\" \"pw\" }}", &err) == KE_INPUT);
	CHECK_CONTAINS(err.first.msg, "namespace \"DB?x=1\"");
	kerr_clear(&err);
	CHECK(render(&v, &out, "{{ lookup \"v1/../x\" \"Secret\" \"db\" \"pw\" }}", &err) == KE_INPUT);
	CHECK_CONTAINS(err.first.msg, "apiVersion \"v1/../x\"");
	kerr_clear(&err);
	CHECK_INT_EQ(v.f.gets, 0);
	kbuf_release(&out);
	env_release(&v);
}

TEST(release_lookup_server_error_stops_the_template_naming_the_object)
{
	look_env v;
	kbuf out = KBUF_INIT;
	kerr err = KERR_INIT;
	env_init(&v);
	v.f.fail_method = "GET";
	v.f.fail_path = "/secrets/pw";
	v.f.fail_count = -1;
	CHECK(render(&v, &out, "x{{ lookup \"v1\" \"Secret\" \"db\" \"pw\" }}", &err) == KE_CLUSTER);   /* a 500 that stays */
	CHECK_CONTAINS(err.first.msg, "error calling lookup: lookup v1 Secret/db/pw:");
	CHECK_CONTAINS(err.first.msg, "injected");
	kerr_clear(&err);
	kbuf_release(&out);
	env_release(&v);
}

TEST(release_lookup_offline_without_a_cluster)
{
	look_env v;
	kbuf out = KBUF_INIT;
	kerr err = KERR_INIT;
	env_init(&v);
	v.ctx.lookup = NULL;
	CHECK_INT_EQ(render(&v, &out, "{{ lookup \"v1\" \"Secret\" \"db\" \"pw\" | len }}", &err), 0);
	CHECK_STR_EQ(out.ptr, "0");
	CHECK_INT_EQ(v.f.gets, 0);
	kbuf_release(&out);
	env_release(&v);
}
