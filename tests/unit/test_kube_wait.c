/* Unit tests for kube/wait.c through a recording transport: the poll-only
 * switch is the client's field (filled by the CLI), not the environment. */
#include "unit.h"
#include "kube/kube.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

typedef struct wrec {
	pthread_mutex_t mu;
	unsigned watches, gets;
	bool stuck;             /* the Deployment never becomes ready; watches end at once, empty */
	unsigned hook_calls;    /* on_wait calls; the third one fails */
} wrec;

static int wrec_hook(void *u, kerr *err)
{
	wrec *r = u;
	return ++r->hook_calls < 3 ? 0 : kerr_set(err, KE_CONFLICT, "lock lost");
}

static int wrec_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	wrec *r = impl;
	(void)auth;
	(void)err;
	pthread_mutex_lock(&r->mu);
	if (r->stuck && strstr(req->path, "watch=1")) {
		r->watches++;
		resp->status = 200;
	} else if (r->stuck) {
		r->gets++;
		resp->status = 200;
		kbuf_puts(&resp->body, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
			  "\"namespace\":\"ns\",\"generation\":1},\"spec\":{\"replicas\":1},\"status\":{\"observedGeneration\":1,"
			  "\"replicas\":1,\"updatedReplicas\":1,\"readyReplicas\":0,\"availableReplicas\":0}}");
	} else if (strstr(req->path, "watch=1")) {
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

/* One kube_wait of Deployment ns/web; its result. stop and hook go to the
 * client when set. */
static int wait_once(bool poll, wrec *r, const volatile sig_atomic_t *stop, bool hook, kerr *e)
{
	kube_transport tr = { wrec_send, NULL, r };
	kube_config cfg;
	kube_client *c;
	karena a = KARENA_INIT;
	kube_obj o;
	int rc;
	kube_wait_item it;
	doc_node *d = NULL;
	static const char *m = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: ns}\n";
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "https://fake";
	c = kube_client_new_with(tr, &cfg, NULL);
	c->wait_poll = poll;
	c->stop = stop;
	if (hook) {
		c->on_wait = wrec_hook;
		c->on_wait_ctx = r;
	}
	kube_discovery_add(c, "apps", "v1", "Deployment", "deployments", true);
	CHECK_INT_EQ(doc_load_yaml1(&d, &a, "m", m, strlen(m), NULL, e), 0);
	CHECK_INT_EQ(kube_obj_init(&o, &a, d, e), 0);
	CHECK_INT_EQ(kube_obj_resolve(c, &a, &o, "ns", e), 0);
	memset(&it, 0, sizeof(it));
	it.obj = &o;
	rc = kube_wait(c, &a, &it, 1, NULL, 0, 30000, e);
	if (!rc)
		CHECK_INT_EQ(it.state, KUBE_READY);
	karena_release(&a);
	kube_client_free(c);
	return rc;
}

TEST(kube_wait_poll_is_an_option)
{
	wrec r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.mu, NULL);
	setenv("KSTAGE_WAIT_POLL", "1", 1);   /* no longer read below the CLI */
	kerr e = KERR_INIT;
	CHECK_INT_EQ(wait_once(false, &r, NULL, false, &e), 0);
	CHECK(r.watches >= 1);
	unsetenv("KSTAGE_WAIT_POLL");
	r.watches = r.gets = 0;
	CHECK_INT_EQ(wait_once(true, &r, NULL, false, &e), 0);
	CHECK_INT_EQ(r.watches, 0);
	CHECK(r.gets >= 1);
	kerr_clear(&e);
	pthread_mutex_destroy(&r.mu);
}

TEST(kube_wait_ends_on_the_stop_flag_and_runs_the_on_wait_hook)
{
	int poll;
	for (poll = 0; poll < 2; poll++) {
		wrec r;
		kerr e = KERR_INIT;
		volatile sig_atomic_t stop = 1;
		memset(&r, 0, sizeof(r));
		pthread_mutex_init(&r.mu, NULL);
		r.stuck = true;
		/* an object that never becomes ready: the hook is called while
		 * waiting (a Lease renewal), and its error ends the wait */
		CHECK_INT_EQ(wait_once(poll, &r, NULL, true, &e), KE_CONFLICT);
		CHECK_INT_EQ(r.hook_calls, 3);
		CHECK_STR_EQ(e.first.msg, "lock lost");
		kerr_clear(&e);
		/* a raised stop flag ends it too, hook or not */
		r.hook_calls = 0;
		CHECK_INT_EQ(wait_once(poll, &r, &stop, true, &e), KE_ERROR);
		CHECK_STR_EQ(e.first.msg, "interrupted");
		CHECK_INT_EQ(r.hook_calls, 0);
		kerr_clear(&e);
		pthread_mutex_destroy(&r.mu);
	}
}
