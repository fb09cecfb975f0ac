/* Unit tests for release/verify.c (a stage's test) against the scripted
 * HTTP server of tests/unit/http_srv: the request as sent (method, Host,
 * headers, JSON body, all rendered), the JSON expectations by dotted path
 * with list indexes, retries, and the words of a mismatch. */
#include "unit.h"
#include "fake_api.h"
#include "http_srv.h"
#include "release/release.h"

#include <string.h>

typedef struct vt_env {
	fake_api f;
	kube_client *c;
	karena a;
	rel_bundle b;
	rel_ctx ctx;
	kbuf events;          /* "kind: msg\n" per event */
	kev_sink sink;
} vt_env;

static void record(void *u, const kevent *ev)
{
	vt_env *v = u;
	kbuf_printf(&v->events, "%s: %s\n", ev->kind, ev->msg);
}

#define STAGE_YAML \
	"name: t\n" \
	"stages:\n" \
	"  - name: verify\n" \
	"    test:\n" \
	"      request:\n" \
	"        url: '{{ .Values.url }}/v2/models/iris/infer'\n" \
	"        host: iris.example.com\n" \
	"        headers: {X-A: '{{ .Values.v }}'}\n" \
	"        body: {inputs: [{name: input-0, data: '{{ .Values.v }}', shape: [1, 4]}]}\n" \
	"      expect:\n" \
	"        json: {model_name: iris, outputs.0.shape: [1], outputs.0.data.0: 1, outputs.0.datatype: %s}\n" \
	"      retry: {attempts: %d, interval: 1ms}\n"

static void env_init(vt_env *v, const srv *s, const char *datatype, int attempts)
{
	kbuf y = KBUF_INIT;
	kerr e = KERR_INIT;
	memset(v, 0, sizeof(*v));
	fake_api_init(&v->f);
	karena_init(&v->a);
	kbuf_init(&v->events, 0);
	v->sink.emit = record;
	v->sink.ctx = v;
	v->c = fake_api_client(&v->f);
	v->c->user_sink = &v->sink;
	kbuf_printf(&y, STAGE_YAML, datatype, attempts);
	CHECK_INT_EQ(rel_bundle_parse(&v->b, &v->a, ".", "kstage.yaml", y.ptr, y.len, &e), 0);
	kbuf_release(&y);
	kerr_clear(&e);
	v->ctx.client = v->c;
	v->ctx.values = doc_new_map(&v->a);
	doc_map_set(&v->a, v->ctx.values, "url", doc_new_str(&v->a, url_of(s, "")));
	doc_map_set(&v->a, v->ctx.values, "v", doc_new_str(&v->a, "hello"));
}

static void env_release(vt_env *v)
{
	kube_client_free(v->c);
	kbuf_release(&v->events);
	karena_release(&v->a);
	fake_api_release(&v->f);
}

static const char *reply =
	"{\"model_name\":\"iris\",\"id\":\"x\",\"outputs\":[{\"name\":\"output-0\",\"shape\":[1],\"datatype\":\"INT32\","
	"\"data\":[1.0]}]}";

TEST(release_test_stage_sends_the_rendered_request_and_passes)
{
	static const int st[] = { 200 };
	const char *body[] = { reply };
	srv s;
	vt_env v;
	kerr err = KERR_INIT;
	srv_start(&s, st, body, 1);
	env_init(&v, &s, "INT32", 1);
	CHECK_INT_EQ(rel_stage_test(&v.b, &v.b.stages[0], &v.ctx, &v.a, &err), 0);
	srv_stop(&s);
	CHECK_CONTAINS(s.last, "POST /v2/models/iris/infer HTTP/1.1\r\n");
	CHECK_CONTAINS(s.last, "\r\nHost: iris.example.com\r\n");
	CHECK_CONTAINS(s.last, "\r\nX-A: hello\r\n");
	CHECK_CONTAINS(s.last, "\r\nContent-Type: application/json\r\n");
	CHECK_CONTAINS(s.last, "{\"inputs\":[{\"name\":\"input-0\",\"data\":\"hello\",\"shape\":[1,4]}]}");
	CHECK_CONTAINS(v.events.ptr, "test.passed: stage verify: test passed: HTTP 200: {\"model_name\":\"iris\"");
	env_release(&v);
}

/* The run's on_wait hook (the Lease kept): counted per call. */
static int on_wait_calls;
static int count_wait(void *u, kerr *err)
{
	(void)u;
	(void)err;
	on_wait_calls++;
	return 0;
}

TEST(release_test_stage_retries_then_names_path_expected_and_got)
{
	static const int st[] = { 503, 200, 200 };
	const char *body[] = { "busy", "not json", reply };
	srv s;
	vt_env v;
	kerr err = KERR_INIT;
	srv_start(&s, st, body, 3);
	env_init(&v, &s, "INT64", 3);
	on_wait_calls = 0;
	v.c->on_wait = count_wait;
	CHECK_INT_EQ(rel_stage_test(&v.b, &v.b.stages[0], &v.ctx, &v.a, &err), KE_ERROR);
	CHECK_INT_EQ(on_wait_calls, 3);   /* before each attempt: a long retry keeps the Lease */
	srv_stop(&s);
	CHECK_STR_EQ(err.first.msg, "test failed after 3 attempts: outputs.0.datatype: expected \"INT64\", got \"INT32\"");
	CHECK_CONTAINS(v.events.ptr, "test attempt 1 of 3: status: expected 200, got 503");
	CHECK_CONTAINS(v.events.ptr, "test attempt 2 of 3: the reply is not JSON");
	CHECK_CONTAINS(v.events.ptr, "test.failed: stage verify: test failed: outputs.0.datatype");
	kerr_clear(&err);
	env_release(&v);
}

TEST(release_test_stage_missing_path_and_no_server)
{
	static const int st[] = { 200 };
	const char *body[] = { "{\"model_name\":\"iris\",\"outputs\":[]}" };
	srv s;
	vt_env v;
	kerr err = KERR_INIT;
	srv_start(&s, st, body, 1);
	env_init(&v, &s, "INT32", 1);
	CHECK_INT_EQ(rel_stage_test(&v.b, &v.b.stages[0], &v.ctx, &v.a, &err), KE_ERROR);
	CHECK_CONTAINS(err.first.msg, "outputs.0.shape: expected [1], got nothing (no such path)");
	CHECK_CONTAINS(err.first.msg, "; outputs.0.datatype: expected \"INT32\", got nothing");
	kerr_clear(&err);
	srv_stop(&s);
	/* the server is gone: no answer is a failure that names the URL */
	CHECK_INT_EQ(rel_stage_test(&v.b, &v.b.stages[0], &v.ctx, &v.a, &err), KE_ERROR);
	CHECK_CONTAINS(err.first.msg, "test failed after 1 attempt: http://127.0.0.1:");
	kerr_clear(&err);
	env_release(&v);
}
