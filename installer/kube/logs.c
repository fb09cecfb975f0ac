/*
 * kube/logs.c - what a failed Pod or Job said: the pods/log subresource of
 * each of its containers (the API server reads it from the kubelet), last
 * lines only and bounded in bytes, as `helm test --logs` shows them. Read
 * only; the caller masks secrets when it prints.
 */
#include "kube.h"
#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

#define LOG_MAX_BYTES 65536L   /* per container: limitBytes, and a check of the answer */

/* GET one container's log tail into out. */
static int container_log(kbuf *out, kube_client *c, const char *ns, const char *pod, const char *container,
			 long tail_lines, const char *ref, kerr *err)
{
	kube_req rq = { 0 };
	kube_resp rs;
	kbuf p = KBUF_INIT;
	int rc;
	kbuf_puts(&p, "/api/v1/namespaces/");
	kube_path_escape(&p, ns);
	kbuf_puts(&p, "/pods/");
	kube_path_escape(&p, pod);
	kbuf_puts(&p, "/log?container=");
	kube_path_escape(&p, container);
	kbuf_printf(&p, "&tailLines=%ld&limitBytes=%ld", tail_lines, LOG_MAX_BYTES);
	rq.method = "GET";
	rq.path = p.ptr;
	rq.accept = "text/plain, */*";
	rq.idempotent = true;
	kube_resp_init(&rs);
	rc = kube_do(c, &rq, &rs, err);
	if (!rc && rs.status >= 400)
		rc = kube_status_error(err, rs.status, rs.body.ptr, rs.body.len, "read log of", ref);
	if (!rc)
		kbuf_put(out, rs.body.ptr ? rs.body.ptr : "", rs.body.len > (size_t)LOG_MAX_BYTES ? (size_t)LOG_MAX_BYTES
												: rs.body.len);
	kube_resp_release(&rs);
	kbuf_release(&p);
	return rc;
}

int kube_pod_logs(kbuf *out, kube_client *c, karena *a, const char *ns, const char *pod, long tail_lines, kerr *err)
{
	static const char *const lists[] = { "spec.initContainers", "spec.containers" };
	doc_node *live = NULL;
	kbuf p = KBUF_INIT;
	const char *ref = karena_printf(a, "Pod/%s/%s", ns, pod);
	size_t l, i;
	int rc;
	if (kube_check_namespace(ns) || kube_check_name("", "Pod", pod))
		return kerr_set(err, KE_INPUT, "pod %s/%s: not a valid pod name", ns, pod);
	kbuf_puts(&p, "/api/v1/namespaces/");
	kube_path_escape(&p, ns);
	kbuf_puts(&p, "/pods/");
	kube_path_escape(&p, pod);
	rc = kube_get_json(c, a, p.ptr, &live, ref, err);
	kbuf_release(&p);
	if (rc)
		return rc;
	for (l = 0; l < 2; l++) {
		const doc_node *cs = doc_get_path(live, lists[l]);
		for (i = 0; cs && cs->type == DOC_SEQ && i < cs->u.seq.len; i++) {
			const char *name = doc_get_str(cs->u.seq.v[i], "name", NULL);
			kerr e = KERR_INIT;
			size_t before;
			if (!name)
				continue;
			kbuf_printf(out, "POD LOGS: %s (%s)\n", pod, name);
			before = out->len;
			if (container_log(out, c, ns, pod, name, tail_lines, ref, &e))
				kbuf_printf(out, "(no log: %s)\n", e.first.msg ? e.first.msg : "unreadable");
			else if (out->len > before && out->ptr[out->len - 1] != '\n')
				kbuf_putc(out, '\n');
			kerr_clear(&e);
		}
	}
	return 0;
}

int kube_job_pod(const char **out, kube_client *c, karena *a, const char *ns, const char *job, kerr *err)
{
	doc_node *list = NULL;
	const doc_node *items;
	kbuf p = KBUF_INIT;
	const char *best = NULL, *best_ts = "";
	bool best_failed = false;
	size_t i;
	int rc;
	*out = NULL;
	if (kube_check_namespace(ns) || kube_check_name("batch", "Job", job))
		return kerr_set(err, KE_INPUT, "job %s/%s: not a valid job name", ns, job);
	kbuf_puts(&p, "/api/v1/namespaces/");
	kube_path_escape(&p, ns);
	kbuf_puts(&p, "/pods?labelSelector=");
	kube_path_escape(&p, karena_printf(a, "batch.kubernetes.io/job-name=%s", job));
	rc = kube_get_json(c, a, p.ptr, &list, karena_printf(a, "Job/%s/%s", ns, job), err);
	kbuf_release(&p);
	if (rc)
		return rc;
	items = doc_get_path(list, "items");
	for (i = 0; items && items->type == DOC_SEQ && i < items->u.seq.len; i++) {
		const doc_node *it = items->u.seq.v[i];
		const char *name = doc_get_str(it, "metadata.name", NULL);
		const char *ts = doc_get_str(it, "metadata.creationTimestamp", "");
		bool failed = !strcmp(doc_get_str(it, "status.phase", ""), "Failed");
		if (!name)
			continue;
		/* a failed pod before any other; the newest (RFC 3339 sorts as text) */
		if (!best || (failed && !best_failed) || (failed == best_failed && strcmp(ts, best_ts) >= 0)) {
			best = name;
			best_ts = ts;
			best_failed = failed;
		}
	}
	*out = best;
	return 0;
}
