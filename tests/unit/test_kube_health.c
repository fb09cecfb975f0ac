/* Unit tests for kube/health.c: the readiness rules on sample objects (table). */
#include "unit.h"
#include "kube/kube.h"

#include <stdlib.h>
#include <string.h>

typedef struct hcase {
	const char *name;
	const char *obj;   /* YAML */
	kube_health_state want;
	const char *why;   /* substring of the reason, or NULL */
} hcase;

static const hcase cases[] = {
	{ "crd established", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nstatus: {conditions: [{type: NamesAccepted, status: 'True'}, {type: Established, status: 'True'}]}\n", KUBE_READY, NULL },
	{ "crd not yet", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nstatus: {conditions: [{type: Established, status: 'False', reason: Installing, message: wait}]}\n", KUBE_PROGRESSING, "Established=False (Installing: wait)" },
	{ "crd names clash", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nstatus: {conditions: [{type: NamesAccepted, status: 'False', reason: ListKindConflict, message: taken}]}\n", KUBE_FAILED, "NamesAccepted=False" },
	{ "deployment ready", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {generation: 2}\nspec: {replicas: 2}\nstatus: {observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2}\n", KUBE_READY, NULL },
	{ "deployment old generation", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {generation: 3}\nspec: {replicas: 1}\nstatus: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}\n", KUBE_PROGRESSING, "generation 3" },
	{ "deployment rolling", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3}\n", KUBE_PROGRESSING, "old replicas" },
	{ "deployment deadline", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {generation: 1}\nstatus: {observedGeneration: 1, conditions: [{type: Progressing, status: 'False', reason: ProgressDeadlineExceeded, message: slow}]}\n", KUBE_FAILED, "ProgressDeadlineExceeded" },
	{ "gatewayclass accepted", "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {generation: 1}\nstatus: {conditions: [{type: Accepted, status: 'True', observedGeneration: 1}]}\n", KUBE_READY, NULL },
	{ "gateway stale programmed", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {generation: 2}\nstatus: {conditions: [{type: Accepted, status: 'True', observedGeneration: 2}, {type: Programmed, status: 'True', observedGeneration: 1}]}\n", KUBE_PROGRESSING, "Programmed=True is for generation 1" },
	{ "gateway ready", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {generation: 2}\nstatus: {conditions: [{type: Accepted, status: 'True', observedGeneration: 2}, {type: Programmed, status: 'True', observedGeneration: 2}]}\n", KUBE_READY, NULL },
	{ "httproute one parent missing", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {generation: 1}\nspec: {parentRefs: [{name: a}, {name: b}]}\nstatus: {parents: [{parentRef: {name: a}, conditions: [{type: Accepted, status: 'True', observedGeneration: 1}]}]}\n", KUBE_PROGRESSING, "1 of 2 parents" },
	{ "httproute refused", "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {generation: 1}\nspec: {parentRefs: [{name: a}]}\nstatus: {parents: [{parentRef: {name: a}, conditions: [{type: Accepted, status: 'False', reason: NotAllowedByListeners, message: no}]}]}\n", KUBE_PROGRESSING, "parent a: Accepted=False" },
	{ "service lb pending", "apiVersion: v1\nkind: Service\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {}}\n", KUBE_PROGRESSING, "no ingress" },
	{ "service lb ready", "apiVersion: v1\nkind: Service\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: 10.0.0.1}]}}\n", KUBE_READY, NULL },
	{ "service clusterip", "apiVersion: v1\nkind: Service\nspec: {type: ClusterIP}\n", KUBE_READY, NULL },
	{ "isvc no url", "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nstatus: {conditions: [{type: Ready, status: 'True'}]}\n", KUBE_PROGRESSING, "status.url" },
	{ "isvc ready", "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nstatus: {url: http://x, conditions: [{type: Ready, status: 'True'}]}\n", KUBE_READY, NULL },
	{ "generic stalled", "apiVersion: example.com/v1\nkind: Thing\nstatus: {conditions: [{type: Stalled, status: 'True', reason: Broken, message: bad}]}\n", KUBE_FAILED, "Stalled=True" },
	{ "generic ready false", "apiVersion: example.com/v1\nkind: Thing\nstatus: {conditions: [{type: Ready, status: 'False'}]}\n", KUBE_PROGRESSING, "Ready=False" },
	{ "generic no status", "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n", KUBE_READY, NULL },
	{ "job failed", "apiVersion: batch/v1\nkind: Job\nstatus: {conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded}]}\n", KUBE_FAILED, "Failed=True" },
	{ "pod failed names the container", "apiVersion: v1\nkind: Pod\nstatus: {phase: Failed, containerStatuses: [{name: ok, state: {terminated: {exitCode: 0}}}, {name: c, state: {terminated: {exitCode: 3, reason: Error}}}]}\n", KUBE_FAILED, "container c exited with 3 (Error)" },
	{ "pod failed with a message", "apiVersion: v1\nkind: Pod\nstatus: {phase: Failed, message: evicted}\n", KUBE_FAILED, "pod failed: evicted" },
	{ "being deleted", "apiVersion: v1\nkind: ConfigMap\nmetadata: {deletionTimestamp: '2026-01-01T00:00:00Z'}\n", KUBE_PROGRESSING, "deleted" },
};

TEST(kube_health_rules)
{
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_node *n = NULL;
		kbuf why = KBUF_INIT;
		kube_health_state s;
		CHECK_INT_EQ(doc_load_yaml1(&n, &a, cases[i].name, cases[i].obj, strlen(cases[i].obj), NULL, &e), 0);
		s = kube_health(n, NULL, 0, &why);
		CHECK_MSG(s == cases[i].want, "%s: state %d, want %d (%s)", cases[i].name, s, cases[i].want, why.ptr);
		if (cases[i].why)
			CHECK_MSG(strstr(why.ptr, cases[i].why) != NULL, "%s: why \"%s\" lacks \"%s\"", cases[i].name, why.ptr, cases[i].why);
		kbuf_release(&why);
		kerr_clear(&e);
		karena_release(&a);
	}
}

TEST(kube_health_custom_rules)
{
	static const char *obj = "apiVersion: example.com/v1\nkind: Widget\nstatus: {phase: Running, conditions: [{type: Synced, status: 'False', reason: Wait}]}\n";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *n;
	kbuf why = KBUF_INIT;
	kube_wait_rule r1 = { NULL, "Widget", "Synced", NULL, NULL, NULL };
	kube_wait_rule r2 = { NULL, "Widget", NULL, NULL, "{.status.phase}", "Running" };
	kube_wait_rule r3 = { NULL, "Widget", NULL, NULL, ".status.phase", "Done" };
	kube_wait_rule other = { NULL, "Gadget", "Synced", NULL, NULL, NULL };
	CHECK_INT_EQ(doc_load_yaml1(&n, &a, "w", obj, strlen(obj), NULL, &e), 0);
	CHECK_INT_EQ(kube_health(n, &r1, 1, &why), KUBE_PROGRESSING);
	CHECK_CONTAINS(why.ptr, "Synced=False");
	CHECK_INT_EQ(kube_health(n, &r2, 1, &why), KUBE_READY);
	CHECK_INT_EQ(kube_health(n, &r3, 1, &why), KUBE_PROGRESSING);
	CHECK_CONTAINS(why.ptr, ".status.phase is \"Running\", want Done");
	CHECK_INT_EQ(kube_health(n, &other, 1, &why), KUBE_READY);
	{
		/* a stage-wide rule skips kinds without status */
		kube_wait_rule any = { NULL, NULL, "Accepted", NULL, NULL, NULL };
		doc_node *cm;
		const char *t = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
		CHECK_INT_EQ(kube_health(n, &any, 1, &why), KUBE_PROGRESSING);
		doc_load_yaml1(&cm, &a, "cm", t, strlen(t), NULL, &e);
		CHECK_INT_EQ(kube_health(cm, &any, 1, &why), KUBE_READY);
	}
	kbuf_reset(&why);
	kube_health_conditions(n, &why);
	CHECK_STR_EQ(why.ptr, "Synced=False (Wait: \"\")");
	kbuf_release(&why);
	karena_release(&a);
	kerr_clear(&e);
}
