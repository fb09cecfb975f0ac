/* Unit tests for kube/ops.c through a scripted transport: jsonKeyMerge
 * re-reads and retries on 409 and writes with the read resourceVersion. */
#include "unit.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fake_cm {
	int rv;
	int conflicts_left;   /* PUTs to answer with 409 */
	int gets, puts;
	char last_put_rv[16];
	kbuf last_body;
} fake_cm;

static int cm_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	fake_cm *f = impl;
	(void)auth;
	(void)err;
	if (!strcmp(req->method, "GET")) {
		f->gets++;
		resp->status = 200;
		kbuf_printf(&resp->body, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\","
			    "\"namespace\":\"ns\",\"resourceVersion\":\"%d\"},\"data\":{\"ingress\":"
			    "\"{\\\"b\\\":1,\\\"a\\\":false}\",\"other\":\"x\"}}", f->rv);
		return 0;
	}
	f->puts++;
	kbuf_reset(&f->last_body);
	kbuf_put(&f->last_body, req->body, req->body_len);
	{
		const char *p = strstr(req->body, "\"resourceVersion\":\"");
		snprintf(f->last_put_rv, sizeof(f->last_put_rv), "%.*s", p ? (int)strcspn(p + 19, "\"") : 0, p ? p + 19 : "");
	}
	if (f->conflicts_left > 0) {
		f->conflicts_left--;
		f->rv++;   /* someone else wrote */
		resp->status = 409;
		kbuf_puts(&resp->body, "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"the object has been modified\",\"code\":409}");
		return 0;
	}
	f->rv++;
	resp->status = 200;
	kbuf_puts(&resp->body, "{}");
	return 0;
}

TEST(kube_json_key_merge_retries_on_409)
{
	fake_cm f = { 7, 2, 0, 0, "", KBUF_INIT };
	kube_transport tr = { cm_send, NULL, &f };
	kube_config cfg;
	kube_client *c;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *set = NULL;
	bool changed = false;
	char *prior = NULL;
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "https://fake";
	c = kube_client_new_with(tr, &cfg, NULL);
	doc_load_yaml1(&set, &a, "set", "{a: true, c: new}", 17, NULL, &e);
	CHECK_INT_EQ(kube_op_json_key_merge(c, &a, "ns", "cfg", "ingress", set, false, &changed, &prior, &e), 0);
	CHECK(changed);
	CHECK_INT_EQ(f.gets, 3);
	CHECK_INT_EQ(f.puts, 3);
	CHECK_STR_EQ(f.last_put_rv, "9");   /* the third read's version */
	CHECK_CONTAINS(f.last_body.ptr, "\"ingress\":\"{\\\"b\\\":1,\\\"a\\\":true,\\\"c\\\":\\\"new\\\"}\"");
	CHECK_CONTAINS(f.last_body.ptr, "\"other\":\"x\"");
	CHECK_STR_EQ(prior, "{\"b\":1,\"a\":false}");
	free(prior);
	prior = NULL;
	/* nothing to change: no write */
	{
		doc_node *same = NULL;
		int puts = f.puts;
		doc_load_yaml1(&same, &a, "set", "{b: 1}", 6, NULL, &e);
		CHECK_INT_EQ(kube_op_json_key_merge(c, &a, "ns", "cfg", "ingress", same, false, &changed, &prior, &e), 0);
		CHECK(!changed);
		CHECK_INT_EQ(f.puts, puts);
	}
	/* a key that is not there */
	CHECK_INT_EQ(kube_op_json_key_merge(c, &a, "ns", "cfg", "nokey", set, false, &changed, &prior, &e), KE_NOTFOUND);
	kerr_clear(&e);
	kube_client_free(c);
	kbuf_release(&f.last_body);
	karena_release(&a);
}

/* rolloutRestart: each call writes its own restartedAt, in RFC 3339 with
 * the fraction Go's RFC3339Nano gives: two restarts within one second are
 * two rollouts (kubectl's whole seconds made the second one a no-op: an
 * apply's restart followed at once by its rollback's was lost). */
typedef struct fake_restart {
	int n;
	char stamp[2][64];
} fake_restart;

static int restart_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	fake_restart *f = impl;
	const char *p = strstr(req->body ? req->body : "", "restartedAt\":\"");
	(void)auth;
	(void)err;
	if (f->n < 2 && p)
		snprintf(f->stamp[f->n], sizeof(f->stamp[0]), "%.*s", (int)strcspn(p + 14, "\""), p + 14);
	f->n++;
	resp->status = 200;
	kbuf_puts(&resp->body, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		  "\"namespace\":\"ns\"}}");
	return 0;
}

TEST(kube_rollout_restart_twice_in_one_second_writes_two_stamps)
{
	fake_restart f = { 0, { "", "" } };
	kube_transport tr = { restart_send, NULL, &f };
	kube_config cfg;
	kube_client *c;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	int i;
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "https://fake";
	c = kube_client_new_with(tr, &cfg, NULL);
	CHECK_INT_EQ(kube_op_rollout_restart(c, &a, "deployment", "ns", "web", false, NULL, &e), 0);
	CHECK_INT_EQ(kube_op_rollout_restart(c, &a, "deployment", "ns", "web", false, NULL, &e), 0);
	CHECK_INT_EQ(f.n, 2);
	CHECK(strcmp(f.stamp[0], f.stamp[1]) != 0);
	for (i = 0; i < 2; i++) {   /* 2006-01-02T15:04:05[.fraction]Z */
		size_t len = strlen(f.stamp[i]);
		CHECK_MSG(len >= 20 && len <= 30 && f.stamp[i][10] == 'T' && f.stamp[i][len - 1] == 'Z' &&
			  (len == 20 || f.stamp[i][19] == '.'), "%s", f.stamp[i]);
		CHECK(len == 20 || f.stamp[i][len - 2] != '0');
	}
	kube_client_free(c);
	karena_release(&a);
	kerr_clear(&e);
}
