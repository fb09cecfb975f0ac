/* Unit tests for kube/client.c and kube/errors.c: retries through a scripted
 * transport, and metav1.Status answers in their own words. */
#include "unit.h"
#include "kube/kube.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A transport that plays a script: each step is an HTTP status (0 = a
 * connection reset, -1 = connection refused, -2 = an answer that stalled,
 * -3 = no answer within the attempt's time, which it waits out) with an
 * optional body. */
typedef struct script {
	const long *status;
	const char *const *body;
	size_t n, at;
	long retry_after;
	char last_auth[64];
} script;

static long last_timeout;   /* the time limit the last request was sent with */
static bool last_timeout_is_deadline;

static int fake_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	script *s = impl;
	long st = s->at < s->n ? s->status[s->at] : 200;
	const char *b = s->body && s->at < s->n && s->body[s->at] ? s->body[s->at] : "{}";
	last_timeout = req->timeout_ms;
	last_timeout_is_deadline = req->timeout_is_deadline;
	s->at++;
	snprintf(s->last_auth, sizeof(s->last_auth), "%s", auth && auth->token ? auth->token : "");
	if (st == -2) {
		resp->cut = KUBE_CUT_STALL;
		return kerr_set(err, KE_IO, "GET %s: stalled", req->path);
	}
	if (st == -3) {
		struct timespec ts = { req->timeout_ms / 1000, (req->timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		resp->cut = KUBE_CUT_TIMEOUT;
		return kerr_set(err, KE_IO, "GET %s: no complete answer in time", req->path);
	}
	if (st <= 0) {
		resp->not_sent = st < 0;
		return kerr_set(err, KE_IO, "connection %s", st < 0 ? "refused" : "reset by peer");
	}
	resp->status = st;
	resp->retry_after_s = st == 429 ? s->retry_after : -1;
	kbuf_puts(&resp->body, b);
	return 0;
}

static kube_config test_cfg;

static kube_client *fake_client(script *s)
{
	kube_transport tr = { fake_send, NULL, s };
	kube_client *c;
	memset(&test_cfg, 0, sizeof(test_cfg));
	test_cfg.server = "https://fake";
	test_cfg.token = "tok";
	test_cfg.user_name = "me";
	c = kube_client_new_with(tr, &test_cfg, NULL);
	c->base_delay_ms = 1;
	c->max_delay_ms = 2;
	return c;
}

static int do_req(kube_client *c, bool idem, kube_resp *rs, kerr *e)
{
	kube_req rq = { 0 };
	rq.method = idem ? "GET" : "POST";
	rq.path = "/api/v1/namespaces";
	rq.idempotent = idem;
	return kube_do(c, &rq, rs, e);
}

TEST(kube_client_retries_safe_requests)
{
	static const long st[] = { 500, 0, 503, 200 };
	script s = { st, NULL, 4, 0, 0, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, true, &rs, &e), 0);
	CHECK_INT_EQ(rs.status, 200);
	CHECK_INT_EQ(c->stats.requests, 4);
	CHECK_INT_EQ(c->stats.retries, 3);
	CHECK_STR_EQ(s.last_auth, "tok");
	kube_resp_release(&rs);
	kube_client_free(c);
	kerr_clear(&e);
}

static int refuse_writes(void *u, kerr *err)
{
	(*(int *)u)++;
	return kerr_set(err, KE_CONFLICT, "the lock was lost");
}

/* before_write is asked before every attempt of a write, never of a GET,
 * and refuses it with its own error; request_timeout_ms bounds each
 * attempt of a request that sets no limit of its own. */
TEST(kube_client_checks_before_every_write_and_bounds_each_request)
{
	static const long st[] = { 0, 200, 200 };
	script s = { st, NULL, 3, 0, 0, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kube_req rq = { 0 };
	int calls = 0;
	c->before_write = refuse_writes;
	c->before_write_ctx = &calls;
	c->request_timeout_ms = 3000;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, true, &rs, &e), 0);   /* a GET, reset once */
	CHECK_INT_EQ(c->stats.requests, 2);
	CHECK_INT_EQ(calls, 0);
	CHECK_INT_EQ(last_timeout, 3000);
	CHECK_INT_EQ(do_req(c, false, &rs, &e), KE_CONFLICT);
	CHECK_STR_EQ(e.first.msg, "the lock was lost");
	CHECK_INT_EQ(calls, 1);
	CHECK_INT_EQ(c->stats.requests, 2);          /* nothing sent */
	kerr_clear(&e);
	c->before_write = NULL;
	rq.method = "GET";
	rq.path = "/api/v1/namespaces";
	rq.timeout_ms = 50000;                        /* a watch sets its own */
	CHECK_INT_EQ(kube_do(c, &rq, &rs, &e), 0);
	CHECK_INT_EQ(last_timeout, 50000);
	kube_resp_release(&rs);
	kube_client_free(c);
	kerr_clear(&e);
}

TEST(kube_client_no_retry_unsafe_after_unknown_outcome)
{
	static const long st[] = { 0, 200 };
	static const long st2[] = { -1, 500, 201 };
	script s = { st, NULL, 2, 0, 0, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, false, &rs, &e), KE_CLUSTER);   /* a reset POST may have landed */
	CHECK_INT_EQ(c->stats.requests, 1);
	kube_client_free(c);
	kerr_clear(&e);
	/* refused (never sent) is retried, a 500 on a POST is not */
	{
		script s2 = { st2, NULL, 3, 0, 0, "" };
		c = fake_client(&s2);
		CHECK_INT_EQ(do_req(c, false, &rs, &e), 0);
		CHECK_INT_EQ(rs.status, 500);
		CHECK_INT_EQ(c->stats.requests, 2);
		kube_client_free(c);
	}
	kube_resp_release(&rs);
	kerr_clear(&e);
}

TEST(kube_client_429_and_unreachable)
{
	static const long st[] = { 429, 429, 200 };
	static const long down[] = { -1, -1, -1, -1, -1, -1 };
	script s = { st, NULL, 3, 0, 0, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	unsigned seed = 1;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, false, &rs, &e), 0);   /* 429: never processed, safe to repeat */
	CHECK_INT_EQ(rs.status, 200);
	CHECK(kube_backoff_ms(c, 1, 3, &seed) >= 3000);  /* Retry-After wins over a short backoff */
	CHECK(kube_backoff_ms(c, 1, -1, &seed) <= 2);
	kube_client_free(c);
	{
		script s2 = { down, NULL, 6, 0, 0, "" };
		c = fake_client(&s2);
		CHECK_INT_EQ(do_req(c, true, &rs, &e), KE_CLUSTER);
		kerr_format(&e, &m);
		CHECK_CONTAINS(m.ptr, "cluster unreachable after 4 attempts in ");
		kube_client_free(c);
	}
	kube_resp_release(&rs);
	kbuf_release(&m);
	kerr_clear(&e);
}

/* One deadline bounds a request, every attempt and backoff included: an
 * attempt never outlasts what is left of it, no retry starts that could
 * not end within it (a 429 storm with Retry-After stops early), and a
 * request with a longer time of its own (a watch) gets that. */
TEST(kube_client_request_deadline)
{
	static const long st[] = { 200, 429, 429, 200 };
	script s = { st, NULL, 4, 0, 1, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kube_req rq = { 0 };
	c->request_deadline_ms = 2500;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, true, &rs, &e), 0);
	CHECK_INT_EQ(last_timeout, 2500);             /* not the default 60 s */
	CHECK_INT_EQ(do_req(c, true, &rs, &e), 0);
	CHECK_INT_EQ(rs.status, 429);                 /* given up within the deadline */
	CHECK_INT_EQ(c->stats.requests, 3);           /* 1 + 2 tries a second apart, not 5 */
	CHECK(last_timeout < 2500 && last_timeout >= 1000);
	rq.method = "GET";
	rq.path = "/api/v1/namespaces";
	rq.timeout_ms = 50000;
	CHECK_INT_EQ(kube_do(c, &rq, &rs, &e), 0);
	CHECK_INT_EQ(last_timeout, 50000);
	kube_resp_release(&rs);
	kube_client_free(c);
	kerr_clear(&e);
}

/* A request the limits ended says so in kstage's words: how many attempts
 * over how long, which limit ended the last (what was left of the
 * deadline, not the attempt's own limit), and how many stalled. */
TEST(kube_client_deadline_names_the_limits)
{
	static const long st[] = { -2, -3 };
	script s = { st, NULL, 2, 0, 0, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	c->request_deadline_ms = 2000;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, true, &rs, &e), KE_CLUSTER);
	CHECK(last_timeout_is_deadline);
	CHECK(last_timeout <= 2000 && last_timeout >= 1000);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "cluster unreachable after 2 attempts in ");
	CHECK_CONTAINS(m.ptr, ", ended by the 2 s deadline of one request (KSTAGE_HTTP_DEADLINE_SECONDS), "
			      "1 of them stalled (KSTAGE_HTTP_STALL_SECONDS): GET /api/v1/namespaces: no complete answer in time");
	CHECK_INT_EQ(c->stats.requests, 2);
	kube_client_free(c);
	{
		/* the attempt's own limit is shorter than the deadline: not the deadline's cut */
		static const long st2[] = { -3, 200 };
		script s2 = { st2, NULL, 2, 0, 0, "" };
		c = fake_client(&s2);
		c->request_timeout_ms = 200;
		kerr_clear(&e);
		CHECK_INT_EQ(do_req(c, true, &rs, &e), 0);
		CHECK(!last_timeout_is_deadline);
		CHECK_INT_EQ(last_timeout, 200);
		kube_client_free(c);
	}
	kube_resp_release(&rs);
	kbuf_release(&m);
	kerr_clear(&e);
}

TEST(kube_client_401)
{
	static const long st[] = { 401 };
	script s = { st, NULL, 1, 0, 0, "" };
	kube_client *c = fake_client(&s);
	kube_resp rs;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	kube_resp_init(&rs);
	CHECK_INT_EQ(do_req(c, true, &rs, &e), KE_CLUSTER);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "401 Unauthorized");
	CHECK_CONTAINS(m.ptr, "user \"me\"");
	CHECK(strstr(m.ptr, "tok") == NULL);   /* never the token */
	kube_resp_release(&rs);
	kube_client_free(c);
	kbuf_release(&m);
	kerr_clear(&e);
}

static char *status_msg(long code, const char *body, int *rc)
{
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	*rc = kube_status_error(&e, code, body, strlen(body), "apply", "ConfigMap/ns/x");
	kerr_format(&e, &m);
	kerr_clear(&e);
	return kbuf_detach(&m, NULL);
}

TEST(kube_status_errors_in_their_own_words)
{
	int rc;
	char *m;
	m = status_msg(409, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"Apply failed with 2 conflicts: conflict with \\\"kubectl-edit\\\" using v1: .data.a\",\"reason\":\"Conflict\",\"details\":{\"causes\":["
		       "{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with \\\"kubectl-edit\\\" using v1\",\"field\":\".data.a\"},"
		       "{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with \\\"helm\\\" using v1\",\"field\":\".data.b\"}]},\"code\":409}", &rc);
	CHECK_INT_EQ(rc, KE_CONFLICT);
	CHECK_CONTAINS(m, "ConfigMap/ns/x: apply: 409 Conflict: 2 fields are managed by another field manager");
	CHECK_CONTAINS(m, ".data.a (owned by \"kubectl-edit\")");
	CHECK_CONTAINS(m, ".data.b (owned by \"helm\")");
	CHECK_CONTAINS(m, "--force-conflicts");
	free(m);
	m = status_msg(409, "{\"kind\":\"Status\",\"message\":\"Operation cannot be fulfilled on configmaps \\\"x\\\": the object has been modified; please apply your changes to the latest version and try again\",\"reason\":\"Conflict\",\"code\":409}", &rc);
	CHECK_INT_EQ(rc, KE_CONFLICT);
	CHECK_CONTAINS(m, "stale write");
	free(m);
	m = status_msg(422, "{\"kind\":\"Status\",\"message\":\"Deployment.apps \\\"d\\\" is invalid: spec.selector: Invalid value: ...: field is immutable\",\"reason\":\"Invalid\",\"details\":{\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: ...: field is immutable\",\"field\":\"spec.selector\"}]},\"code\":422}", &rc);
	CHECK_INT_EQ(rc, KE_INPUT);                   /* the object is not valid: exit 2 */
	CHECK_CONTAINS(m, "422 immutable field:");
	CHECK_CONTAINS(m, "spec.selector: Invalid value");
	CHECK_CONTAINS(m, "delete and re-create");
	free(m);
	m = status_msg(403, "{\"kind\":\"Status\",\"message\":\"configmaps \\\"x\\\" is forbidden: User \\\"team-a-user\\\" cannot patch resource \\\"configmaps\\\" in API group \\\"\\\" in the namespace \\\"default\\\"\",\"reason\":\"Forbidden\",\"code\":403}", &rc);
	CHECK_INT_EQ(rc, KE_CLUSTER);
	CHECK_CONTAINS(m, "403 Forbidden: user \"team-a-user\" may not patch configmaps in namespace \"default\"");
	free(m);
	m = status_msg(403, "{\"kind\":\"Status\",\"message\":\"customresourcedefinitions.apiextensions.k8s.io \\\"x\\\" is forbidden: User \\\"u\\\" cannot patch resource \\\"customresourcedefinitions\\\" in API group \\\"apiextensions.k8s.io\\\" at the cluster scope\",\"reason\":\"Forbidden\",\"code\":403}", &rc);
	CHECK_CONTAINS(m, "may not patch customresourcedefinitions.apiextensions.k8s.io (cluster-wide)");
	free(m);
	m = status_msg(400, "{\"kind\":\"Status\",\"message\":\"admission webhook \\\"validate.kserve.io\\\" denied the request: bad storageUri\",\"reason\":\"BadRequest\",\"code\":400}", &rc);
	CHECK_CONTAINS(m, "denied by admission webhook \"validate.kserve.io\": bad storageUri");
	free(m);
	m = status_msg(422, "{\"kind\":\"Status\",\"message\":\"configmaps \\\"x\\\" is forbidden: ValidatingAdmissionPolicy 'no-red' with binding 'no-red-b' denied request: red is not allowed\",\"reason\":\"Invalid\",\"code\":422}", &rc);
	CHECK_CONTAINS(m, "denied by ValidatingAdmissionPolicy \"no-red\" (binding \"no-red-b\"): red is not allowed");
	free(m);
	m = status_msg(404, "{\"kind\":\"Status\",\"message\":\"namespaces \\\"nope\\\" not found\",\"reason\":\"NotFound\",\"code\":404}", &rc);
	CHECK_INT_EQ(rc, KE_NOTFOUND);
	CHECK_CONTAINS(m, "404 Not Found: namespaces \"nope\" not found");
	free(m);
	m = status_msg(502, "<html>bad\ngateway</html>", &rc);
	CHECK_CONTAINS(m, "502 Bad Gateway: <html>bad gateway</html>");
	free(m);
}

/* The answer is data on the error: a field-manager conflict, a stale write
 * and an immutable field are told apart without reading the message. */
TEST(kube_status_errors_carry_reason_and_causes)
{
	kerr e = KERR_INIT;
	const char *fm = "{\"kind\":\"Status\",\"message\":\"Apply failed with 1 conflict\",\"reason\":\"Conflict\",\"details\":{\"causes\":["
		"{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with \\\"helm\\\" using v1\",\"field\":\".data.b\"}]},\"code\":409}";
	const char *stale = "{\"kind\":\"Status\",\"message\":\"Operation cannot be fulfilled on configmaps \\\"x\\\": the object has been modified\",\"reason\":\"Conflict\",\"code\":409}";
	const char *immut = "{\"kind\":\"Status\",\"message\":\"x is invalid\",\"reason\":\"Invalid\",\"details\":{\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: 1: field is immutable\",\"field\":\"spec.selector\"}]},\"code\":422}";
	CHECK_INT_EQ(kube_status_error(&e, 409, fm, strlen(fm), "apply", "ConfigMap/ns/x"), KE_CONFLICT);
	CHECK(kerr_reason_is(&e, "Conflict"));
	CHECK_INT_EQ(e.status, 409);
	CHECK_INT_EQ(e.ncauses, 1);
	CHECK(kerr_find_cause(&e, "FieldManagerConflict") != NULL);
	CHECK_STR_EQ(e.causes[0].field, ".data.b");
	CHECK_STR_EQ(e.causes[0].message, "conflict with \"helm\" using v1");
	{
		kbuf n = KBUF_INIT;
		kube_conflict_fields(&n, &e);
		CHECK_STR_EQ(n.ptr, "1 field is managed by another field manager:\n    .data.b (owned by \"helm\")");
		kbuf_release(&n);
	}
	CHECK_INT_EQ(kube_status_error(&e, 409, stale, strlen(stale), "apply", "ConfigMap/ns/x"), KE_CONFLICT);
	CHECK(kerr_reason_is(&e, "Conflict"));
	CHECK_INT_EQ(e.ncauses, 0);
	CHECK(kerr_find_cause(&e, "FieldManagerConflict") == NULL);
	CHECK_INT_EQ(kube_status_error(&e, 422, immut, strlen(immut), "apply", "Deployment/ns/d"), KE_INPUT);
	CHECK(kerr_reason_is(&e, "Invalid"));
	CHECK_INT_EQ(e.status, 422);
	CHECK_STR_EQ(kerr_find_cause(&e, "FieldValueInvalid")->field, "spec.selector");
	/* not a Status: the reason client-go would give the status code */
	CHECK_INT_EQ(kube_status_error(&e, 404, "<html>", 6, "get", NULL), KE_NOTFOUND);
	CHECK(kerr_reason_is(&e, "NotFound"));
	CHECK_INT_EQ(kube_status_error(&e, 502, "<html>", 6, "get", NULL), KE_CLUSTER);
	CHECK_STR_EQ(kerr_reason(&e), "");
	CHECK_INT_EQ(e.status, 502);
	kerr_clear(&e);
}

/* The exec credential plugin: run with KUBERNETES_EXEC_INFO and the
 * kubeconfig's env, cached until expirationTimestamp, run again on 401. */
static int run_plugin_case(const char *expiry, int requests, const long *statuses, int *calls_out, char *tok_out)
{
	char dir[] = "/tmp/kstage-exec-XXXXXX";
	kbuf text = KBUF_INIT, path = KBUF_INIT, calls = KBUF_INIT;
	FILE *f;
	kube_exec ex;
	char *args[] = { NULL };
	char *env[] = { (char *)"PLUGIN_MODE=unit", NULL };
	script s = { statuses, NULL, (size_t)requests, 0, 0, "" };
	kube_transport tr = { fake_send, NULL, &s };
	kube_config cfg;
	kube_client *c;
	kube_resp rs;
	kerr e = KERR_INIT;
	int i, rc = 0;
	if (!mkdtemp(dir))
		return -1;
	kbuf_printf(&path, "%s/plugin", dir);
	kbuf_printf(&calls, "%s/calls", dir);
	kbuf_printf(&text, "#!/bin/sh\n[ \"$PLUGIN_MODE\" = unit ] || exit 5\n"
		    "case \"$KUBERNETES_EXEC_INFO\" in *'\"kind\":\"ExecCredential\"'*) ;; *) exit 6;; esac\n"
		    "echo x >> %s\nn=$(wc -l < %s)\n"
		    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
		    "\"status\":{\"token\":\"tok-%%s\",\"expirationTimestamp\":\"%s\"}}' $n\n", calls.ptr, calls.ptr, expiry);
	f = fopen(path.ptr, "w");
	fputs(text.ptr, f);
	fclose(f);
	chmod(path.ptr, 0700);
	memset(&ex, 0, sizeof(ex));
	ex.api_version = (char *)"client.authentication.k8s.io/v1";
	ex.command = path.ptr;
	ex.args = args;
	ex.env = env;
	ex.nenv = 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.server = "https://fake";
	cfg.exec = &ex;
	c = kube_client_new_with(tr, &cfg, NULL);
	c->base_delay_ms = 1;
	kube_resp_init(&rs);
	for (i = 0; i < requests && !rc; i++) {
		kube_req rq = { 0 };
		rq.method = "GET";
		rq.path = "/api";
		rq.idempotent = true;
		rc = kube_do(c, &rq, &rs, &e);
	}
	snprintf(tok_out, 64, "%s", s.last_auth);
	kube_resp_release(&rs);
	kube_client_free(c);
	kerr_clear(&e);
	{
		kbuf t = KBUF_INIT;
		kbuf_read_file(&t, calls.ptr, 0);
		*calls_out = 0;
		for (i = 0; i < (int)t.len; i++)
			*calls_out += t.ptr[i] == '\n';
		kbuf_release(&t);
	}
	unlink(calls.ptr);
	unlink(path.ptr);
	rmdir(dir);
	kbuf_release(&text);
	kbuf_release(&path);
	kbuf_release(&calls);
	return rc;
}

TEST(kube_client_exec_plugin_cache)
{
	static const long ok3[] = { 200, 200, 200 };
	static const long unauth[] = { 401, 200 };
	int calls = 0;
	char tok[64];
	CHECK_INT_EQ(run_plugin_case("2099-01-01T00:00:00Z", 3, ok3, &calls, tok), 0);
	CHECK_INT_EQ(calls, 1);                  /* cached until it expires */
	CHECK_STR_EQ(tok, "tok-1");
	CHECK_INT_EQ(run_plugin_case("2000-01-01T00:00:00Z", 3, ok3, &calls, tok), 0);
	CHECK_INT_EQ(calls, 3);                  /* expired: run each time */
	CHECK_INT_EQ(run_plugin_case("2099-01-01T00:00:00Z", 1, unauth, &calls, tok), 0);
	CHECK_INT_EQ(calls, 2);                  /* 401: a fresh credential, once */
	CHECK_STR_EQ(tok, "tok-2");
}

/* Every prefix of real answers and of a kubeconfig: no crash, no leak
 * (a cheap stand-in until the parsers get fuzz targets). */
TEST(kube_parsers_survive_truncation)
{
	static const char *status =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"Apply failed with 1 conflict: "
		"conflict with \\\"x\\\" using v1: .data.a\",\"reason\":\"Conflict\",\"details\":{\"causes\":[{\"reason\":"
		"\"FieldManagerConflict\",\"message\":\"conflict with \\\"x\\\" using v1\",\"field\":\".data.a\"}]},\"code\":409}";
	static const char *kc =
		"current-context: c\nclusters: [{name: k, cluster: {server: https://a, certificate-authority-data: aGk=}}]\n"
		"users: [{name: u, user: {exec: {command: p, args: [a], env: [{name: A, value: b}]}}}]\n"
		"contexts: [{name: c, context: {cluster: k, user: u, namespace: n}}]\n";
	size_t i;
	for (i = 0; i <= strlen(status); i++) {
		kerr e = KERR_INIT;
		kube_status_error(&e, 409, status, i, "apply", "X/y");
		CHECK(e.code != 0);
		kerr_clear(&e);
	}
	for (i = 0; i <= strlen(kc); i++) {
		char *t = strndup(kc, i);
		const char *names[] = { "kc" };
		const char *texts[] = { t };
		kube_config_opts o = { 0 };
		kube_config c;
		kerr e = KERR_INIT;
		kube_config_load_texts(&c, names, texts, 1, &o, &e);
		kube_config_release(&c);
		kerr_clear(&e);
		free(t);
	}
}

TEST(kube_client_adds_the_token_it_sends_to_the_sinks_secrets)
{
	static const long st[] = { 200 };
	script s = { st, NULL, 1, 0, 0, "" };
	kev_sink sink = { NULL, NULL, NULL };
	kube_transport tr = { fake_send, NULL, &s };
	kube_client *c;
	kube_resp rs;
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	kube_resp_init(&rs);
	memset(&test_cfg, 0, sizeof(test_cfg));
	test_cfg.server = "https://fake";
	test_cfg.token = "Ztoken-in-use-0123";
	sink.redact = kredact_new();
	c = kube_client_new_with(tr, &test_cfg, &sink);
	CHECK_INT_EQ(do_req(c, true, &rs, &e), 0);
	CHECK_STR_EQ(s.last_auth, "Ztoken-in-use-0123");
	kredact_apply(sink.redact, "Bearer Ztoken-in-use-0123", 25, &b);
	CHECK_STR_EQ(b.ptr, "Bearer <redacted>");
	kbuf_release(&b);
	kube_resp_release(&rs);
	kerr_clear(&e);
	kube_client_free(c);
	kredact_free(sink.redact);
}
