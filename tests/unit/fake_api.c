/* tests/unit/fake_api.c - an in-memory API server for unit tests. See fake_api.h. */
#include "fake_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void fake_api_init(fake_api *f)
{
	memset(f, 0, sizeof(*f));
	karena_init(&f->a);
	f->rv = 100;
	f->cfg.server = "https://fake";
}

void fake_api_release(fake_api *f)
{
	size_t i;
	for (i = 0; i < f->n; i++) {
		free(f->v[i].coll);
		free(f->v[i].name);
	}
	free(f->v);
	karena_release(&f->a);
}

static fake_obj *find(fake_api *f, const char *coll, const char *name)
{
	size_t i;
	for (i = 0; i < f->n; i++)
		if (!f->v[i].gone && !strcmp(f->v[i].coll, coll) && !strcmp(f->v[i].name, name))
			return &f->v[i];
	return NULL;
}

doc_node *fake_api_find(fake_api *f, const char *coll, const char *name)
{
	fake_obj *o = find(f, coll, name);
	return o ? o->doc : NULL;
}

size_t fake_api_count(fake_api *f, const char *coll)
{
	size_t i, n = 0;
	for (i = 0; i < f->n; i++)
		n += !f->v[i].gone && !strcmp(f->v[i].coll, coll);
	return n;
}

static void set_rv(fake_api *f, doc_node *doc)
{
	char b[24];
	doc_node *m = doc_map_get(doc, "metadata");
	if (!m) {
		m = doc_new_map(&f->a);
		doc_map_set(&f->a, doc, "metadata", m);
	}
	snprintf(b, sizeof(b), "%ld", ++f->rv);
	doc_map_set(&f->a, m, "resourceVersion", doc_new_str(&f->a, b));
}

void fake_api_put(fake_api *f, const char *coll, const char *name, doc_node *doc)
{
	fake_obj *o = find(f, coll, name);
	if (!o) {
		ALLOC_GROW(f->v, f->n + 1, f->cap);
		o = &f->v[f->n++];
		o->coll = xstrdup(coll);
		o->name = xstrdup(name);
		o->gone = false;
	}
	o->doc = doc;
	set_rv(f, doc);
}

static void status(kube_resp *r, long code, const char *reason, const char *msg)
{
	r->status = code;
	kbuf_printf(&r->body, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"%s\","
		    "\"reason\":\"%s\",\"code\":%ld}", msg, reason, code);
}

static void url_decode(char *s)
{
	char *w = s;
	for (; *s; s++) {
		if (*s == '%' && s[1] && s[2]) {
			char h[3] = { s[1], s[2], 0 };
			*w++ = (char)strtol(h, NULL, 16);
			s += 2;
		} else
			*w++ = *s;
	}
	*w = 0;
}

/* Does doc's metadata.labels match the selector ("a=b,!c")? */
static bool matches(const doc_node *doc, const char *sel)
{
	const doc_node *labels = doc_get_path(doc, "metadata.labels");
	char *copy = xstrdup(sel), *p = copy, *next;
	bool ok = true;
	for (; ok && p && *p; p = next) {
		char *eq;
		next = strchr(p, ',');
		if (next)
			*next++ = 0;
		if (*p == '!') {
			ok = !labels || !doc_map_get(labels, p + 1);
		} else if ((eq = strchr(p, '='))) {
			const doc_node *v;
			*eq = 0;
			v = labels ? doc_map_get(labels, p) : NULL;
			ok = v && v->type == DOC_STR && !strcmp(v->u.s.ptr, eq + 1);
		}
	}
	free(copy);
	return ok;
}

/* RFC 7386 merge patch p into the map d (in place, nodes from a). */
static void merge_patch(karena *a, doc_node *d, const doc_node *p)
{
	size_t i;
	for (i = 0; i < p->u.map.len; i++) {
		const char *k = p->u.map.v[i].key->u.s.ptr;
		const doc_node *v = p->u.map.v[i].val;
		doc_node *cur = doc_map_get(d, k);
		if (v->type == DOC_NULL) {
			doc_map_del(d, k);
		} else if (v->type == DOC_MAP && cur && cur->type == DOC_MAP) {
			merge_patch(a, cur, v);
		} else {
			doc_node *n = v->type == DOC_MAP ? doc_new_map(a) : doc_copy(a, v);
			if (v->type == DOC_MAP)
				merge_patch(a, n, v);
			doc_map_set(a, d, k, n);
		}
	}
}

static int fake_handle(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	fake_api *f = impl;
	char path[1024], *q, *sel = NULL, coll[512], name[256] = "";
	char *seg[8];
	size_t nseg = 0;
	char *p;
	doc_node *body = NULL;
	(void)auth;
	(void)err;
	if (!strcmp(req->method, "GET"))
		f->gets++;
	else if (!strcmp(req->method, "POST"))
		f->posts++;
	else if (!strcmp(req->method, "PUT"))
		f->puts++;
	else if (!strcmp(req->method, "DELETE"))
		f->deletes++;
	else if (!strcmp(req->method, "PATCH"))
		f->patches++;
	if (f->fail_count && !strcmp(req->method, f->fail_method ? f->fail_method : "") &&
	    (!f->fail_path || strstr(req->path, f->fail_path))) {
		if (f->fail_count > 0)
			f->fail_count--;
		status(resp, 500, "InternalError", "injected");
		return 0;
	}
	if (!strcmp(req->method, "POST") && !strncmp(req->path, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", 54)) {
		kerr e = KERR_INIT;
		char line[512];
		if (doc_load_json(&body, &f->a, "body", req->body, req->body_len, &e)) {
			kerr_clear(&e);
			status(resp, 400, "BadRequest", "bad JSON");
			return 0;
		}
		snprintf(line, sizeof(line), "%s %s/%s %s\n", doc_get_str(body, "spec.resourceAttributes.verb", ""),
			 doc_get_str(body, "spec.resourceAttributes.group", ""),
			 doc_get_str(body, "spec.resourceAttributes.resource", ""),
			 doc_get_str(body, "spec.resourceAttributes.namespace", ""));
		f->reviews++;
		resp->status = 201;
		kbuf_printf(&resp->body, "{\"kind\":\"SelfSubjectAccessReview\",\"status\":{\"allowed\":%s}}",
			    f->deny && strstr(f->deny, line) ? "false" : "true");
		return 0;
	}
	if (!strcmp(req->method, "GET") && !strcmp(req->path, "/version")) {
		resp->status = 200;
		kbuf_printf(&resp->body, "{\"major\":\"1\",\"gitVersion\":\"%s\"}",
			    f->git_version ? f->git_version : "v1.36.3");
		return 0;
	}
	snprintf(path, sizeof(path), "%s", req->path);
	if ((q = strchr(path, '?'))) {
		*q++ = 0;
		url_decode(q);
		if (!strncmp(q, "labelSelector=", 14))
			sel = q + 14;
	}
	for (p = strtok_r(path, "/", &q); p && nseg < 8; p = strtok_r(NULL, "/", &q))
		seg[nseg++] = p;
	/* api v1 namespaces [NS [RES [NAME]]] | apis G V namespaces NS RES [NAME] */
	{
		size_t base = nseg && !strcmp(seg[0], "apis") ? 3 : 2;
		if (nseg < base + 1 || strcmp(seg[base], "namespaces")) {
			status(resp, 404, "NotFound", "no such path");
			return 0;
		}
		if (nseg <= base + 2) {
			snprintf(coll, sizeof(coll), "namespaces");
			if (nseg == base + 2)
				snprintf(name, sizeof(name), "%s", seg[base + 1]);
		} else {
			snprintf(coll, sizeof(coll), "%s/%s", seg[base + 1], seg[base + 2]);
			if (nseg > base + 3)
				snprintf(name, sizeof(name), "%s", seg[base + 3]);
		}
	}
	if (req->body && req->body_len) {
		kerr e = KERR_INIT;
		if (doc_load_json(&body, &f->a, "body", req->body, req->body_len, &e)) {
			kerr_clear(&e);
			status(resp, 400, "BadRequest", "bad JSON");
			return 0;
		}
	}
	if (!strcmp(req->method, "GET") && !*name) {
		size_t i;
		bool first = true;
		f->lists++;
		resp->status = 200;
		kbuf_puts(&resp->body, "{\"kind\":\"List\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[");
		for (i = 0; i < f->n; i++) {
			if (f->v[i].gone || strcmp(f->v[i].coll, coll) || (sel && !matches(f->v[i].doc, sel)))
				continue;
			if (!first)
				kbuf_putc(&resp->body, ',');
			first = false;
			doc_emit_json(&resp->body, f->v[i].doc, 0, NULL);
		}
		kbuf_puts(&resp->body, "]}");
		return 0;
	}
	if (!strcmp(req->method, "GET")) {
		fake_obj *o = find(f, coll, name);
		if (!o)
			status(resp, 404, "NotFound", "not found");
		else {
			resp->status = 200;
			doc_emit_json(&resp->body, o->doc, 0, NULL);
		}
		return 0;
	}
	if (!strcmp(req->method, "POST")) {
		const char *nm = doc_get_str(body, "metadata.name", "");
		if (strcmp(coll, "namespaces")) {
			char ns[256];
			snprintf(ns, sizeof(ns), "%.*s", (int)strcspn(coll, "/"), coll);
			if (!find(f, "namespaces", ns)) {
				status(resp, 404, "NotFound", "namespace not found");
				return 0;
			}
		}
		if (find(f, coll, nm)) {
			status(resp, 409, "AlreadyExists", "already exists");
			return 0;
		}
		fake_api_put(f, coll, nm, body);
		resp->status = 201;
		doc_emit_json(&resp->body, body, 0, NULL);
		return 0;
	}
	if (!strcmp(req->method, "PUT")) {
		fake_obj *o;
		if (f->before_put)
			f->before_put(f, req->path);
		o = find(f, coll, name);
		if (!o && f->put_creates) {
			doc_map_del(doc_map_get(body, "metadata"), "resourceVersion");
			fake_api_put(f, coll, name, body);
			resp->status = 201;
			doc_emit_json(&resp->body, body, 0, NULL);
			return 0;
		}
		if (!o) {
			status(resp, 404, "NotFound", "not found");
			return 0;
		}
		if (strcmp(doc_get_str(body, "metadata.resourceVersion", ""), doc_get_str(o->doc, "metadata.resourceVersion", "-"))) {
			status(resp, 409, "Conflict", "the object has been modified");
			return 0;
		}
		if (f->status_sub && strlen(coll) >= strlen(f->status_sub) &&
		    !strcmp(coll + strlen(coll) - strlen(f->status_sub), f->status_sub)) {
			bool sub = strstr(req->path, "/status") != NULL;
			doc_node *d = doc_copy(&f->a, sub ? o->doc : body), *st = doc_get_path(sub ? body : o->doc, "status");
			doc_map_del(d, "status");
			if (st)
				doc_map_set(&f->a, d, "status", doc_copy(&f->a, st));
			body = d;
		}
		fake_api_put(f, coll, name, body);
		resp->status = 200;
		doc_emit_json(&resp->body, body, 0, NULL);
		return 0;
	}
	if (!strcmp(req->method, "PATCH") && body && body->type == DOC_MAP && req->content_type &&
	    !strcmp(req->content_type, "application/merge-patch+json")) {
		fake_obj *o = find(f, coll, name);
		doc_node *d;
		if (!o) {
			status(resp, 404, "NotFound", "not found");
			return 0;
		}
		d = doc_copy(&f->a, o->doc);
		merge_patch(&f->a, d, body);
		fake_api_put(f, coll, name, d);
		resp->status = 200;
		doc_emit_json(&resp->body, d, 0, NULL);
		return 0;
	}
	if (!strcmp(req->method, "DELETE") && !*name) {
		size_t i;
		for (i = 0; i < f->n; i++)
			if (!f->v[i].gone && !strcmp(f->v[i].coll, coll) && (!sel || matches(f->v[i].doc, sel)))
				f->v[i].gone = true;
		resp->status = 200;
		kbuf_puts(&resp->body, "{\"kind\":\"List\",\"items\":[]}");
		return 0;
	}
	if (!strcmp(req->method, "DELETE")) {
		fake_obj *o = find(f, coll, name);
		const char *pre = doc_get_str(body, "preconditions.resourceVersion", NULL);
		if (!o)
			status(resp, 404, "NotFound", "not found");
		else if (pre && strcmp(pre, doc_get_str(o->doc, "metadata.resourceVersion", "")))
			status(resp, 409, "Conflict", "precondition failed");
		else {
			o->gone = true;
			resp->status = 200;
			kbuf_puts(&resp->body, "{\"kind\":\"Status\",\"status\":\"Success\"}");
		}
		return 0;
	}
	status(resp, 405, "MethodNotAllowed", "method");
	return 0;
}

/* The request is carried out; with lose_*, its answer is then lost: a 500
 * instead, as when a connection breaks after the server acted. */
static int fake_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	fake_api *f = impl;
	int rc = fake_handle(impl, req, auth, resp, err);
	if (!rc && f->lose_count && !strcmp(req->method, f->lose_method ? f->lose_method : "") &&
	    (!f->lose_path || strstr(req->path, f->lose_path))) {
		if (f->lose_count > 0)
			f->lose_count--;
		kbuf_reset(&resp->body);
		status(resp, 500, "InternalError", "injected after the request was carried out");
	}
	return rc;
}

kube_client *fake_api_client(fake_api *f)
{
	kube_transport tr = { fake_send, NULL, f };
	kube_client *c = kube_client_new_with(tr, &f->cfg, NULL);
	c->max_attempts = 1;
	c->base_delay_ms = 1;
	c->max_delay_ms = 1;
	return c;
}
