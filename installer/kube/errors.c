/*
 * kube/errors.c - a failed API answer (a metav1.Status) in words that fit
 * the case. Each case keeps the server's facts (fields, managers, user,
 * verb) and says what to do next.
 */
#include "kube.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static const char *http_reason(long s)
{
	switch (s) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

/* The reason client-go gives an answer that carries no Status reason
 * (k8s.io/apimachinery errors.NewGenericServerResponse), or NULL. */
static const char *status_reason(long s)
{
	switch (s) {
	case 400: return "BadRequest";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "NotFound";
	case 405: return "MethodNotAllowed";
	case 406: return "NotAcceptable";
	case 409: return "Conflict";
	case 413: return "RequestEntityTooLarge";
	case 415: return "UnsupportedMediaType";
	case 422: return "Invalid";
	case 429: return "TooManyRequests";
	case 500: return "InternalError";
	case 503: return "ServiceUnavailable";
	case 504: return "Timeout";
	default: return NULL;
	}
}

/* The quoted word after marker in s ("User \"x\"" -> x), into out. */
static bool quoted_after(const char *s, const char *marker, kbuf *out)
{
	const char *p = strstr(s, marker), *q;
	if (!p)
		return false;
	p += strlen(marker);
	while (*p == ' ')
		p++;
	if (*p != '"')
		return false;
	q = strchr(p + 1, '"');
	if (!q)
		return false;
	kbuf_reset(out);
	kbuf_put(out, p + 1, (size_t)(q - p - 1));
	return true;
}

static void forbidden(kbuf *m, const char *msg)
{
	kbuf user = KBUF_INIT, verb = KBUF_INIT, res = KBUF_INIT, grp = KBUF_INIT, ns = KBUF_INIT;
	const char *cannot = strstr(msg, " cannot ");
	if (quoted_after(msg, "User", &user) && cannot) {
		const char *v = cannot + 8, *ve = strchr(v, ' ');
		if (ve)
			kbuf_put(&verb, v, (size_t)(ve - v));
		quoted_after(msg, " resource", &res);
		quoted_after(msg, "API group", &grp);
		kbuf_printf(m, "403 Forbidden: user \"%s\" may not %s %s%s%s", user.ptr, verb.ptr,
			    res.len ? res.ptr : "this resource", grp.len ? "." : "", grp.ptr);
		if (quoted_after(msg, "in the namespace", &ns))
			kbuf_printf(m, " in namespace \"%s\"", ns.ptr);
		else
			kbuf_puts(m, " (cluster-wide)");
		kbuf_puts(m, ": ask a cluster admin for this permission, or use a context whose user has it");
	} else {
		kbuf_printf(m, "403 Forbidden: %s", msg);
	}
	kbuf_release(&user);
	kbuf_release(&verb);
	kbuf_release(&res);
	kbuf_release(&grp);
	kbuf_release(&ns);
}

void kube_conflict_fields(kbuf *out, const kerr *e)
{
	size_t i, n = 0;
	kbuf mgr = KBUF_INIT;
	for (i = 0; i < e->ncauses; i++)
		n += !strcmp(e->causes[i].type, "FieldManagerConflict");
	kbuf_printf(out, "%zu field%s managed by another field manager:", n, n == 1 ? " is" : "s are");
	for (i = 0; i < e->ncauses; i++) {
		if (strcmp(e->causes[i].type, "FieldManagerConflict"))
			continue;
		if (!quoted_after(e->causes[i].message, "conflict with", &mgr))
			kbuf_puts(&mgr, "?");
		kbuf_printf(out, "\n    %s (owned by \"%s\")", *e->causes[i].field ? e->causes[i].field : "?", mgr.ptr);
	}
	kbuf_release(&mgr);
}

int kube_status_error(kerr *err, long http_status, const char *body, size_t len, const char *what,
		      const char *object)
{
	karena a = KARENA_INIT;
	doc_node *st = NULL;
	kerr perr = KERR_INIT, data = KERR_INIT;   /* data: the causes, as err will carry them */
	kbuf m = KBUF_INIT;
	const char *msg = "", *reason = "";
	const doc_node *causes = NULL;
	int code = KE_API;
	size_t i;

	if (body && len && doc_load_json(&st, &a, "status", body, len, &perr) == 0 && st->type == DOC_MAP &&
	    !strcmp(doc_get_str(st, "kind", ""), "Status")) {
		msg = doc_get_str(st, "message", "");
		reason = doc_get_str(st, "reason", "");
		causes = doc_get_path(st, "details.causes");
		if (causes && causes->type != DOC_SEQ)
			causes = NULL;   /* a server may send anything here */
	} else if (body && len) {
		/* not a Status: quote the start of it, one line */
		size_t k = 0;
		char *t = karena_strndup(&a, body, len > 200 ? 200 : len);
		for (k = 0; t[k]; k++)
			if (t[k] == '\n' || t[k] == '\r')
				t[k] = ' ';
		msg = t;
	}
	kerr_clear(&perr);
	for (i = 0; causes && causes->type == DOC_SEQ && i < causes->u.seq.len; i++) {
		const doc_node *c = causes->u.seq.v[i];
		kerr_add_cause(&data, doc_get_str(c, "reason", ""), doc_get_str(c, "field", ""),
			       doc_get_str(c, "message", ""));
	}
	if (what && *what)
		kbuf_printf(&m, "%s: ", what);

	if (strstr(msg, "admission webhook") && strstr(msg, "denied the request")) {
		kbuf hook = KBUF_INIT;
		const char *why = strstr(msg, "denied the request");
		why += strlen("denied the request");
		while (*why == ':' || *why == ' ')
			why++;
		quoted_after(msg, "admission webhook", &hook);
		kbuf_printf(&m, "denied by admission webhook \"%s\": %s", hook.ptr, *why ? why : msg);
		kbuf_release(&hook);
		code = KE_API;
	} else if (strstr(msg, "ValidatingAdmissionPolicy") && strstr(msg, "denied request")) {
		kbuf pol = KBUF_INIT, bind = KBUF_INIT;
		const char *why = strstr(msg, "denied request");
		const char *q = strstr(msg, "ValidatingAdmissionPolicy");
		why += strlen("denied request");
		while (*why == ':' || *why == ' ')
			why++;
		/* ValidatingAdmissionPolicy 'name' with binding 'b' denied request: ... */
		if (q && (q = strchr(q, '\'')) && strchr(q + 1, '\''))
			kbuf_put(&pol, q + 1, (size_t)(strchr(q + 1, '\'') - q - 1));
		if ((q = strstr(msg, "with binding '")) && strchr(q + 14, '\''))
			kbuf_put(&bind, q + 14, (size_t)(strchr(q + 14, '\'') - q - 14));
		kbuf_printf(&m, "denied by ValidatingAdmissionPolicy \"%s\"%s%s%s: %s", pol.ptr, bind.len ? " (binding \"" : "",
			    bind.ptr, bind.len ? "\")" : "", *why ? why : msg);
		kbuf_release(&pol);
		kbuf_release(&bind);
		code = KE_API;
	} else if (http_status == 409 && causes && doc_len(causes) &&
		   !strcmp(doc_get_str(causes->u.seq.v[0], "reason", ""), "FieldManagerConflict")) {
		kbuf_puts(&m, "409 Conflict: ");
		kube_conflict_fields(&m, &data);
		kbuf_puts(&m, "\n  re-run with --force-conflicts to take these fields over, or stop the other manager from setting them");
		code = KE_CONFLICT;
	} else if (http_status == 409 && strstr(msg, "has been modified")) {
		kbuf_printf(&m, "409 Conflict: stale write: the object changed since it was read "
			    "(resourceVersion precondition failed): %s", msg);
		code = KE_CONFLICT;
	} else if (http_status == 409 && !strcmp(reason, "AlreadyExists")) {
		kbuf_printf(&m, "409 Conflict: already exists: %s", msg);
		code = KE_CONFLICT;
	} else if (http_status == 422) {
		bool immutable = strstr(msg, "immutable") != NULL;
		for (i = 0; causes && causes->type == DOC_SEQ && i < causes->u.seq.len; i++)
			if (strstr(doc_get_str(causes->u.seq.v[i], "message", ""), "immutable"))
				immutable = true;
		if (immutable) {
			kbuf_puts(&m, "422 immutable field:");
		} else {
			kbuf_puts(&m, "422 invalid object:");
		}
		if (causes && doc_len(causes)) {
			for (i = 0; i < causes->u.seq.len; i++) {
				const doc_node *c = causes->u.seq.v[i];
				kbuf_printf(&m, "\n    %s: %s", doc_get_str(c, "field", "?"),
					    doc_get_str(c, "message", ""));
			}
		} else {
			kbuf_printf(&m, " %s", msg);
		}
		if (immutable)
			kbuf_puts(&m, "\n  the server does not allow changing this field: delete and re-create the object to change it");
		code = KE_INPUT;   /* the object sent is not valid: an input error */
	} else if (http_status == 403) {
		forbidden(&m, msg);
		code = KE_CLUSTER;
	} else if (http_status == 401) {
		kbuf_printf(&m, "401 Unauthorized: %s", *msg ? msg : "the credentials were not accepted");
		code = KE_CLUSTER;
	} else if (http_status == 404) {
		kbuf_printf(&m, "404 Not Found: %s", *msg ? msg : "no such object or resource");
		code = KE_NOTFOUND;
	} else {
		kbuf_printf(&m, "%ld %s: %s", http_status, *reason ? reason : http_reason(http_status),
			    *msg ? msg : "(no message)");
		if (http_status == 429 || http_status >= 500)
			code = KE_CLUSTER;   /* the server is not serving (kube_do retried what it may) */
	}
	if (object)
		kerr_set_obj(err, code, object, "%s", m.ptr);
	else
		kerr_set(err, code, "%s", m.ptr);
	kerr_set_reason(err, *reason ? reason : status_reason(http_status), (int)http_status);
	for (i = 0; i < data.ncauses; i++)
		kerr_add_cause(err, data.causes[i].type, data.causes[i].field, data.causes[i].message);
	kerr_clear(&data);
	kbuf_release(&m);
	karena_release(&a);
	return code;
}
