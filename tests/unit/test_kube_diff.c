/* Unit tests for kube/diff.c and the jsonKeyMerge text transform (kube/ops.c). */
#include "unit.h"
#include "kube/kube.h"

#include <stdlib.h>
#include <string.h>

static doc_node *y(karena *a, const char *t)
{
	doc_node *n = NULL;
	kerr e = KERR_INIT;
	doc_load_yaml1(&n, a, "t", t, strlen(t), NULL, &e);
	kerr_clear(&e);
	return n;
}

static char *yaml(const doc_node *n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	doc_emit_yaml(&b, n, DOC_EMIT_SORT_KEYS, &e);
	kerr_clear(&e);
	return kbuf_detach(&b, NULL);
}

TEST(kube_diff_normalize_drops_noise)
{
	karena a = KARENA_INIT;
	doc_node *live = y(&a, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: d\n  uid: 1\n  resourceVersion: '5'\n"
			      "  generation: 1\n  creationTimestamp: now\n  managedFields: [{manager: kstage}]\n"
			      "  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{}'}\n"
			      "  labels: {a: b}\ndata: {k: v}\nstatus: {x: 1}\n");
	doc_node *n = kube_diff_normalize(&a, live);
	char *s = yaml(n);
	CHECK_STR_EQ(s, "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\n  name: x\n  namespace: d\n");
	CHECK(doc_get_path(live, "metadata.uid") != NULL);   /* the input is untouched */
	free(s);
	karena_release(&a);
}

TEST(kube_diff_masks_secrets)
{
	karena a = KARENA_INIT;
	doc_node *live = y(&a, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {same: c2VjcmV0, diff: b2xk}\n");
	doc_node *want = y(&a, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {same: c2VjcmV0, diff: bmV3, added: eA==}\nstringData: {p: plain}\n");
	char *l, *w;
	kube_diff_mask_secrets(&a, live, want);
	l = yaml(live);
	w = yaml(want);
	CHECK(strstr(l, "c2VjcmV0") == NULL && strstr(w, "c2VjcmV0") == NULL);
	CHECK(strstr(w, "bmV3") == NULL && strstr(w, "plain") == NULL);
	CHECK_CONTAINS(w, "diff: '<redacted: changed>'");
	CHECK_CONTAINS(w, "added: '<redacted: changed>'");
	CHECK_CONTAINS(w, "same: <redacted>");
	CHECK_CONTAINS(l, "diff: <redacted>");
	free(l);
	free(w);
	karena_release(&a);
}

TEST(kube_diff_unified_hunks)
{
	kbuf d = KBUF_INIT;
	const char *old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
	const char *new = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n";
	size_t n = kube_diff_unified(&d, "live", old, "planned", new, 1, false);
	CHECK_INT_EQ(n, 3);
	CHECK_STR_EQ(d.ptr, "--- live\n+++ planned\n@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n@@ -10,1 +10,2 @@\n j\n+k\n");
	kbuf_reset(&d);
	CHECK_INT_EQ(kube_diff_unified(&d, "a", old, "b", old, 3, false), 0);
	CHECK_STR_EQ(d.ptr, "");
	kbuf_reset(&d);
	CHECK_INT_EQ(kube_diff_unified(&d, "/dev/null", "", "new", "x\ny\n", 3, false), 2);
	CHECK_STR_EQ(d.ptr, "--- /dev/null\n+++ new\n@@ -0,0 +1,2 @@\n+x\n+y\n");
	kbuf_release(&d);
}

TEST(kube_json_key_merge_keeps_order)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	const char *ingress = "{\n    \"ingressGateway\": \"knative-serving/knative-ingress-gateway\",\n"
			      "    \"ingressDomain\": \"example.com\",\n    \"enableGatewayApi\": false,\n"
			      "    \"urlScheme\": \"http\"\n}\n";
	doc_node *set = y(&a, "{enableGatewayApi: true, kserveIngressGateway: kserve/kserve-ingress-gateway}");
	CHECK_INT_EQ(kube_json_key_merge_text(&out, &a, ingress, strlen(ingress), set, &e), 0);
	CHECK_STR_EQ(out.ptr, "{\n    \"ingressGateway\": \"knative-serving/knative-ingress-gateway\",\n"
			      "    \"ingressDomain\": \"example.com\",\n    \"enableGatewayApi\": true,\n"
			      "    \"urlScheme\": \"http\",\n    \"kserveIngressGateway\": \"kserve/kserve-ingress-gateway\"\n}\n");
	kbuf_reset(&out);
	CHECK_INT_EQ(kube_json_key_merge_text(&out, &a, "{\"b\":1,\"a\":2}", 13, set, &e), 0);
	CHECK_STR_EQ(out.ptr, "{\"b\":1,\"a\":2,\"enableGatewayApi\":true,\"kserveIngressGateway\":\"kserve/kserve-ingress-gateway\"}");
	kbuf_reset(&out);
	/* KServe's own layout: only the changed value's bytes change, a new key
	 * copies the last member's indentation and separator */
	kbuf_reset(&out);
	{
		const char *kserve = "{   \n    \"enableGatewayApi\": false,\n"
				     "    \"kserveIngressGateway\" : \"kserve/kserve-ingress-gateway\",\n"
				     "    \"additionalIngressDomains\": [\n    ],\n"
				     "    \"domainTemplate\": \"{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}\",\n"
				     "    \"urlScheme\"  : \"http\"\n}";
		doc_node *set2 = y(&a, "{enableGatewayApi: true, kserveIngressGateway: kserve/kserve-ingress-gateway, "
				       "disableHTTPRouteTimeout: true}");
		CHECK_INT_EQ(kube_json_key_merge_text(&out, &a, kserve, strlen(kserve), set2, &e), 0);
		CHECK_STR_EQ(out.ptr, "{   \n    \"enableGatewayApi\": true,\n"
				      "    \"kserveIngressGateway\" : \"kserve/kserve-ingress-gateway\",\n"
				      "    \"additionalIngressDomains\": [\n    ],\n"
				      "    \"domainTemplate\": \"{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}\",\n"
				      "    \"urlScheme\"  : \"http\",\n    \"disableHTTPRouteTimeout\"  : true\n}");
		/* an empty object is written out whole */
		kbuf_reset(&out);
		CHECK_INT_EQ(kube_json_key_merge_text(&out, &a, "{ }", 3, set, &e), 0);
		CHECK_STR_EQ(out.ptr, "{\"enableGatewayApi\":true,\"kserveIngressGateway\":\"kserve/kserve-ingress-gateway\"}");
	}
	/* a key holding \u0000 is its own key, not the one its first bytes spell
	 * (fuzz_json_merge: the old code took it for enableGatewayApi) */
	kbuf_reset(&out);
	{
		const char *nul = "{\"enableGatewayApi\\u0000x\":false,\"kserveIngressGateway\":\"a/b\"}";
		CHECK_INT_EQ(kube_json_key_merge_text(&out, &a, nul, strlen(nul), set, &e), 0);
		CHECK_STR_EQ(out.ptr, "{\"enableGatewayApi\\u0000x\":false,\"kserveIngressGateway\":\"kserve/kserve-ingress-gateway\","
				      "\"enableGatewayApi\":true}");
	}
	kbuf_reset(&out);
	CHECK_INT_EQ(kube_json_key_merge_text(&out, &a, "[1]", 3, set, &e), KE_INPUT);
	kerr_clear(&e);
	CHECK(kube_json_key_merge_text(&out, &a, "{bad", 4, set, &e) != 0);
	kerr_clear(&e);
	kbuf_release(&out);
	karena_release(&a);
}

TEST(kube_apply_noop_detection)
{
	karena a = KARENA_INIT;
	const char *want = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n, labels: {a: b}}\ndata: {k: v, j: w}\n";
	const char *live_ok =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\n  resourceVersion: '9'\n"
		"  labels: {a: b, other: x}\n  managedFields:\n"
		"  - {manager: kubectl, operation: Update, apiVersion: v1, fieldsV1: {'f:metadata': {'f:labels': {'f:other': {}}}}}\n"
		"  - {manager: kstage, operation: Apply, apiVersion: v1, fieldsV1: {'f:data': {'f:k': {}, 'f:j': {}},"
		" 'f:metadata': {'f:labels': {'f:a': {}}}}}\n"
		"data: {k: v, j: w}\n";
	doc_node *w = y(&a, want), *l = y(&a, live_ok);
	CHECK(kube_apply_is_noop(w, l, NULL));
	/* a drifted value */
	CHECK(!kube_apply_is_noop(w, y(&a, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: b}, managedFields: "
				      "[{manager: kstage, operation: Apply, apiVersion: v1, fieldsV1: {'f:data': {'f:k': {}, 'f:j': {}}, "
				      "'f:metadata': {'f:labels': {'f:a': {}}}}}]}\ndata: {k: CHANGED, j: w}\n"), NULL));
	/* a field kstage applied before and no longer wants: the server must remove it */
	CHECK(!kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: b}}\ndata: {k: v}\n"), l, NULL));
	/* owned by an Update, not an Apply */
	CHECK(!kube_apply_is_noop(w, y(&a, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {a: b}, managedFields: "
				      "[{manager: kstage, operation: Update, apiVersion: v1, fieldsV1: {'f:data': {'f:k': {}, 'f:j': {}}, "
				      "'f:metadata': {'f:labels': {'f:a': {}}}}}]}\ndata: {k: v, j: w}\n"), NULL));
	/* a list must equal the live one whole (an atomic list owned whole) */
	CHECK(kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c}\nspec: {l: [1, {a: b}]}\n"),
				 y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c, managedFields: [{manager: kstage, operation: Apply, "
				       "apiVersion: v1, fieldsV1: {'f:spec': {'f:l': {}}}}]}\nspec: {l: [1, {a: b}]}\n"), NULL));
	CHECK(!kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c}\nspec: {l: [1, {a: b}]}\n"),
				  y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c, managedFields: [{manager: kstage, operation: Apply, "
				        "apiVersion: v1, fieldsV1: {'f:spec': {'f:l': {}}}}]}\nspec: {l: [1, {a: b, d: e}]}\n"), NULL));
	/* keyed list entries in managedFields are left to the server */
	CHECK(!kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c}\nspec: {l: [{n: a}]}\n"),
				  y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c, managedFields: [{manager: kstage, operation: Apply, "
				        "apiVersion: v1, fieldsV1: {'f:spec': {'f:l': {'k:{\"n\":\"a\"}': {}}}}}]}\nspec: {l: [{n: a}]}\n"), NULL));
	/* null is no opinion, unless the manager owns the field (the server removes it) */
	{
		const char *lv = "apiVersion: v1\nkind: X\nmetadata: {name: c, creationTimestamp: '2026-01-01T00:00:00Z', "
				 "managedFields: [{manager: kstage, operation: Apply, apiVersion: v1, fieldsV1: {'f:spec': {'f:k': {}}}}]}\n"
				 "spec: {k: v, o: w}\n";
		CHECK(kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c, creationTimestamp: null}\n"
					       "spec: {k: v, o: null}\n"), y(&a, lv), NULL));
		CHECK(!kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c}\nspec: {k: null}\n"), y(&a, lv),
					  NULL));
	}
	/* a desired status counts unless live shows a status subresource */
	{
		const char *want_st = "apiVersion: v1\nkind: X\nmetadata: {name: c}\nspec: {k: v}\nstatus: {phase: ''}\n";
		const char *own = "{manager: kstage, operation: Apply, apiVersion: v1, fieldsV1: {'f:spec': {'f:k': {}}}}";
		CHECK(kube_apply_is_noop(y(&a, want_st), y(&a, karena_printf(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c, "
				 "managedFields: [%s, {manager: ctl, operation: Update, subresource: status, apiVersion: v1, "
				 "fieldsV1: {'f:status': {'f:phase': {}}}}]}\nspec: {k: v}\nstatus: {phase: Ready}\n", own)), NULL));
		CHECK(!kube_apply_is_noop(y(&a, want_st), y(&a, karena_printf(&a, "apiVersion: v1\nkind: X\nmetadata: {name: c, "
				  "managedFields: [%s]}\nspec: {k: v}\nstatus: {phase: Ready}\n", own)), NULL));
	}
	/* identity only: nothing owned, nothing to send */
	CHECK(kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n"),
				 y(&a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1, managedFields: [{manager: kstage, "
				       "operation: Apply, apiVersion: v1, fieldsV1: {}}]}\n"), NULL));
	/* ... whoever manages it (kube_apply does not send it) */
	CHECK(kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n"),
				 y(&a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1, managedFields: [{manager: kubectl, "
				       "operation: Update, apiVersion: v1, fieldsV1: {'f:status': {'f:phase': {}}}}]}\n"), NULL));
	CHECK(!kube_apply_is_noop(y(&a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n"),
				  y(&a, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1, deletionTimestamp: x}\n"), NULL));
	karena_release(&a);
}

/* kube_diff_mask_values: the run's secrets in a plan diff of any kind. */
TEST(kube_diff_mask_values_in_a_configmap)
{
	karena a = KARENA_INIT;
	kredact *r = kredact_new();
	doc_node *want = y(&a, "kind: ConfigMap\ndata:\n  url: https://u:Znew-secret-2@db\n  same: x-Znew-secret-2\n"
			       "  plain: keep\n  list: [a, Znew-secret-2]\n");
	doc_node *live = y(&a, "kind: ConfigMap\ndata:\n  url: https://u:Zold-secret-1@db\n  same: x-Znew-secret-2\n"
			       "  plain: keep\n  list: [a, b]\n");
	char *w, *l;
	kredact_add(r, "Znew-secret-2", 13, KREDACT_FRAGMENTS);
	kube_diff_mask_values(&a, r, live, want);
	w = yaml(want);
	l = yaml(live);
	CHECK_STR_EQ(w, "data:\n  list:\n  - a\n  - <redacted>\n  plain: keep\n  same: x-<redacted>\n"
			"  url: https://u:<redacted>@db\nkind: ConfigMap\n");
	/* the old value an earlier run wrote is not known to this run: masked whole */
	CHECK_STR_EQ(l, "data:\n  list:\n  - a\n  - <redacted>\n  plain: keep\n  same: x-<redacted>\n"
			"  url: <redacted>\nkind: ConfigMap\n");
	free(w);
	free(l);
	/* no live object, and no set: nothing to do */
	kube_diff_mask_values(&a, r, NULL, want);
	kube_diff_mask_values(&a, NULL, live, want);
	kredact_free(r);
	karena_release(&a);
}
