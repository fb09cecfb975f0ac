/*
 * release/verify.c - a stage's test: one HTTP request (fetch/http.c, the
 * project's one libcurl client) once the stage is healthy, its reply
 * checked (status, JSON values by dotted path with list indexes), retried
 * as the stage says. The reply goes out as an event (masked like every
 * event); a mismatch names the path, what was expected and what came.
 */
#include "release.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLY_MAX ((size_t)4 << 20)
#define REPLY_SHOWN 2000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0)
		;
}

static int render(const char **out, karena *a, const rel_bundle *b, const rel_stage *s, const char *what,
		  const char *text, const rel_ctx *ctx, kerr *err)
{
	kbuf v = KBUF_INIT;
	int rc = rel_render_string(&v, a, b, karena_printf(a, "%s:stage %s:test.%s", b->file, s->name, what), text, ctx,
				   err);
	*out = karena_strndup(a, v.ptr ? v.ptr : "", v.len);
	kbuf_release(&v);
	return rc;
}

/* A body map or list with its string leaves rendered. */
static int render_tree(doc_node *n, karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, kerr *err)
{
	size_t i;
	int rc = 0;
	if (n->type == DOC_MAP) {
		for (i = 0; i < n->u.map.len && !rc; i++) {
			doc_node *v = n->u.map.v[i].val;
			if (v->type == DOC_STR) {
				const char *t;
				if (!(rc = render(&t, a, b, s, "request.body", v->u.s.ptr, ctx, err)))
					n->u.map.v[i].val = doc_new_str(a, t);
			} else {
				rc = render_tree(v, a, b, s, ctx, err);
			}
		}
	} else if (n->type == DOC_SEQ) {
		for (i = 0; i < n->u.seq.len && !rc; i++) {
			doc_node *v = n->u.seq.v[i];
			if (v->type == DOC_STR) {
				const char *t;
				if (!(rc = render(&t, a, b, s, "request.body", v->u.s.ptr, ctx, err)))
					n->u.seq.v[i] = doc_new_str(a, t);
			} else {
				rc = render_tree(v, a, b, s, ctx, err);
			}
		}
	}
	return rc;
}

/* The value at a dotted path ("outputs.0.shape"), or NULL. */
static const doc_node *at_path(const doc_node *n, const char *path)
{
	const char *p = path;
	while (n && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		if (n->type == DOC_MAP) {
			n = doc_map_getn(n, p, len);
		} else if (n->type == DOC_SEQ) {
			char *end;
			unsigned long i = strtoul(p, &end, 10);
			n = end == p + len && len && i < n->u.seq.len ? n->u.seq.v[i] : NULL;
		} else {
			n = NULL;
		}
		p += len + (dot ? 1 : 0);
	}
	return n;
}

static const char *json_of(karena *a, const doc_node *n)
{
	kbuf b = KBUF_INIT;
	kerr e = KERR_INIT;
	const char *s;
	doc_emit_json(&b, n, 0, &e);
	kerr_clear(&e);
	s = karena_strndup(a, b.ptr ? b.ptr : "", b.len);
	kbuf_release(&b);
	return s;
}

/* Why the reply does not pass, or NULL. */
static const char *judge(karena *a, const rel_test *t, long status, const kbuf *reply)
{
	doc_node *doc = NULL;
	kerr e = KERR_INIT;
	kbuf why = KBUF_INIT;
	const char *r;
	size_t i;
	if (status != t->status)
		return karena_printf(a, "status: expected %ld, got %ld", t->status, status);
	if (!t->njson)
		return NULL;
	if (doc_load_json(&doc, a, "reply", reply->ptr ? reply->ptr : "", reply->len, &e)) {
		kerr_clear(&e);
		return "the reply is not JSON";
	}
	for (i = 0; i < t->njson; i++) {
		const rel_expect *x = &t->json[i];
		const doc_node *got = at_path(doc, x->path);
		if (!got)
			kbuf_printf(&why, "%s%s: expected %s, got nothing (no such path)", why.len ? "; " : "", x->path,
				    json_of(a, x->value));
		else if (!doc_equal(x->value, got))   /* numbers by value: 1 == 1.0 */
			kbuf_printf(&why, "%s%s: expected %s, got %s", why.len ? "; " : "", x->path, json_of(a, x->value),
				    json_of(a, got));
	}
	r = why.len ? karena_strndup(a, why.ptr, why.len) : NULL;
	kbuf_release(&why);
	return r;
}

int rel_stage_test(const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, karena *a, kerr *err)
{
	const rel_test *t = s->test;
	fetch_http_request rq;
	fetch_http_opts ho;
	const char **hdrs, *url, *host = NULL, *body = NULL, *why = NULL;
	size_t nh = 0, i;
	kbuf reply = KBUF_INIT;
	long status = 0;
	int attempt, rc;
	memset(&rq, 0, sizeof(rq));
	memset(&ho, 0, sizeof(ho));
	hdrs = karena_alloc(a, sizeof(char *) * (doc_len(t->headers) + 3));
	if ((rc = render(&url, a, b, s, "request.url", t->url, ctx, err)))
		return rc;
	if (t->host && (rc = render(&host, a, b, s, "request.host", t->host, ctx, err)))
		return rc;
	if (host && *host)
		hdrs[nh++] = karena_printf(a, "Host: %s", host);
	for (i = 0; t->headers && i < t->headers->u.map.len; i++) {
		const char *v;
		if ((rc = render(&v, a, b, s, "request.headers", t->headers->u.map.v[i].val->u.s.ptr, ctx, err)))
			return rc;
		if (strpbrk(v, "\r\n"))
			return kerr_set(err, KE_INPUT, "stage %s: test header %s holds a line break", s->name,
					t->headers->u.map.v[i].key->u.s.ptr);
		hdrs[nh++] = karena_printf(a, "%s: %s", t->headers->u.map.v[i].key->u.s.ptr, v);
	}
	if (t->body && t->body->type == DOC_STR) {
		if ((rc = render(&body, a, b, s, "request.body", t->body->u.s.ptr, ctx, err)))
			return rc;
	} else if (t->body) {
		doc_node *tree = doc_copy(a, t->body);
		if ((rc = render_tree(tree, a, b, s, ctx, err)))
			return rc;
		body = json_of(a, tree);
		if (!t->headers || !doc_map_get(t->headers, "Content-Type"))
			hdrs[nh++] = "Content-Type: application/json";
	}
	if (host && strpbrk(host, "\r\n"))
		return kerr_set(err, KE_INPUT, "stage %s: test host holds a line break", s->name);
	rq.method = t->method;
	rq.url = url;
	rq.headers = hdrs;
	rq.nheaders = nh;
	rq.body = body;
	rq.body_len = body ? strlen(body) : 0;
	ho.allow_http = true;          /* a test reaches what the stage serves, often plain http */
	ho.max_bytes = REPLY_MAX;
	ho.timeout_ms = 30000;
	ho.connect_timeout_ms = 10000;
	kube_emit(ctx->client, KEV_INFO, "test.request",
		  karena_printf(a, "stage %s: test %s %s%s%s", s->name, t->method, url, host ? " Host: " : "", host ? host : ""),
		  "stage", s->name, "method", t->method, "url", url, "host", host ? host : "", NULL);
	for (attempt = 1; attempt <= t->attempts; attempt++) {
		kerr e = KERR_INIT;
		if ((rc = kube_wait_check(ctx->client, err)))   /* a signal; the Lease kept */
			break;
		if (fetch_http_send(&reply, &status, &rq, &ho, &e)) {
			if (e.code == KE_INPUT) {
				kerr_move(err, &e);
				rc = err->code;
				break;
			}
			why = karena_strdup(a, e.first.msg ? e.first.msg : "no answer");
		} else {
			why = judge(a, t, status, &reply);
		}
		kerr_clear(&e);
		if (!why)
			break;
		if (attempt < t->attempts) {
			kube_emit(ctx->client, KEV_INFO, "test.retry",
				  karena_printf(a, "stage %s: test attempt %d of %d: %s", s->name, attempt, t->attempts, why),
				  "stage", s->name, "reason", why, NULL);
			sleep_ms(t->interval_ms);
		}
	}
	if (!rc) {
		char st[16];
		size_t shown = reply.len > REPLY_SHOWN ? REPLY_SHOWN : reply.len;
		const char *text = karena_printf(a, "%.*s%s", (int)shown, reply.ptr ? reply.ptr : "",
						 reply.len > shown ? "..." : "");
		snprintf(st, sizeof(st), "%ld", status);
		if (why) {
			kube_emit(ctx->client, KEV_ERROR, "test.failed",
				  karena_printf(a, "stage %s: test failed: %s; reply HTTP %ld: %s", s->name, why, status, text),
				  "stage", s->name, "status", st, "reply", text, "reason", why, NULL);
			rc = kerr_set(err, KE_ERROR, "test failed after %d attempt%s: %s", t->attempts,
				      t->attempts == 1 ? "" : "s", why);
		} else {
			kube_emit(ctx->client, KEV_INFO, "test.passed",
				  karena_printf(a, "stage %s: test passed: HTTP %ld: %s", s->name, status, text),
				  "stage", s->name, "status", st, "reply", text, NULL);
		}
	}
	kbuf_release(&reply);
	return rc;
}

int rel_stage_cleanup_wanted(bool *out, karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx,
			     kerr *err)
{
	const doc_node *c = s->test ? s->test->cleanup : NULL;
	const char *v;
	int rc;
	*out = false;
	if (!c || ctx->keep_test)
		return 0;
	if (c->type == DOC_BOOL) {
		*out = c->u.b;
		return 0;
	}
	if ((rc = render(&v, a, b, s, "cleanup", c->u.s.ptr, ctx, err)))
		return rc;
	while (*v == ' ' || *v == '\n')
		v++;
	if (!strncmp(v, "true", 4))
		*out = true;
	else if (strncmp(v, "false", 5) && *v)
		return kerr_set_at(err, KE_INPUT, c->file ? c->file : b->file, c->line, c->col,
				   "stage %s: test.cleanup gave \"%s\", want true or false", s->name, v);
	return 0;
}
