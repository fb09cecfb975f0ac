/* Unit tests for kube/wait.c through a recording transport: the poll-only
 * switch is the client's field (filled by the CLI), not the environment. */
#include "unit.h"
#include "kube/kube.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct wrec {
	pthread_mutex_t mu;
	unsigned watches, gets;
} wrec;

static int wrec_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	wrec *r = impl;
	(void)auth;
	(void)err;
	pthread_mutex_lock(&r->mu);
	if (strstr(req->path, "watch=1")) {
		r->watches++;
		resp->status = 405;   /* watching refused: the poll loop takes over */
		kbuf_puts(&resp->body, "{\"kind\":\"Status\",\"reason\":\"MethodNotAllowed\",\"code\":405}");
	} else {
		r->gets++;
		resp->status = 200;
		kbuf_puts(&resp->body, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
			  "\"namespace\":\"ns\",\"generation\":1},\"spec\":{\"replicas\":1},\"status\":{\"observedGeneration\":1,"
			  "\"replicas\":1,\"updatedReplicas\":1,\"readyReplicas\":1,\"availableReplicas\":1,"
			  "\"conditions\":[{\"type\":\"Available\",\"status\":\"True\"}]}}");
	}
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void wait_once(bool poll, wrec *r)
{
	kube_transport tr = { wrec_send, NULL, r };
	kube_config cfg;
	kube_client *c;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kube_obj o;
	kube_wait_item it;
	doc_node *d = NULL;
	static const char *m = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\n";
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "https://fake";
	c = kube_client_new_with(tr, &cfg, NULL);
	c->wait_poll = poll;
	kube_discovery_add(c, "apps", "v1", "Deployment", "deployments", true);
	CHECK_INT_EQ(doc_load_yaml1(&d, &a, "m", m, strlen(m), NULL, &e), 0);
	CHECK_INT_EQ(kube_obj_init(&o, &a, d, &e), 0);
	CHECK_INT_EQ(kube_obj_resolve(c, &a, &o, "ns", &e), 0);
	memset(&it, 0, sizeof(it));
	it.obj = &o;
	CHECK_INT_EQ(kube_wait(c, &a, &it, 1, NULL, 0, 30000, &e), 0);
	CHECK_INT_EQ(it.state, KUBE_READY);
	kerr_clear(&e);
	karena_release(&a);
	kube_client_free(c);
}

TEST(kube_wait_poll_is_an_option)
{
	wrec r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.mu, NULL);
	setenv("KSTAGE_WAIT_POLL", "1", 1);   /* no longer read below the CLI */
	wait_once(false, &r);
	CHECK(r.watches >= 1);
	unsetenv("KSTAGE_WAIT_POLL");
	r.watches = r.gets = 0;
	wait_once(true, &r);
	CHECK_INT_EQ(r.watches, 0);
	CHECK(r.gets >= 1);
	pthread_mutex_destroy(&r.mu);
}
