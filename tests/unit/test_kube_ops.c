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
