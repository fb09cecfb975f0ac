/*
 * kube/ops.c - the two changes kstage makes that are not an apply:
 *  - jsonKeyMerge: a ConfigMap key holding a JSON document (KServe's
 *    "ingress") gets some top-level keys set; every other key and the order
 *    stay; the write carries the read resourceVersion (optimistic lock) and
 *    is retried from a fresh read on 409. No write when nothing changes.
 *  - rolloutRestart: kubectl's restartedAt annotation on the pod template,
 *    one timestamp per run, so a retried request is a no-op.
 * Both write as field manager "kstage-op", so their fields are never mistaken
 * for what the stages apply (manager "kstage").
 */
#include "kube.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int kube_json_key_merge_text(kbuf *out, karena *a, const char *json, size_t len, const doc_node *set,
			     kerr *err)
{
	doc_node *root;
	size_t i;
	bool indent;
	int rc = doc_load_json(&root, a, "ConfigMap key", json, len, err);
	if (rc)
		return rc;
	if (root->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "the key does not hold a JSON object (it holds %s)",
				doc_type_name(root->type));
	if (!set || set->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "jsonKeyMerge: set must be a map");
	for (i = 0; i < set->u.map.len; i++)
		doc_map_set(a, root, set->u.map.v[i].key->u.s.ptr, doc_copy(a, set->u.map.v[i].val));
	indent = memchr(json, '\n', len) != NULL;
	if (!indent)
		return doc_emit_json(out, root, 0, err);
	{
		/* keep the original indentation unit (KServe's files use 4 spaces);
		 * JSON strings hold no raw newlines, so leading spaces are indentation */
		kbuf tmp = KBUF_INIT;
		size_t unit = 0, j = 0;
		const char *nl = memchr(json, '\n', len);
		if (nl && nl + 1 < json + len) {
			const char *q = nl + 1;
			while (q < json + len && *q == ' ')
				q++, unit++;
			if (q < json + len && *q == '\t')
				unit = 0;
		}
		if (!unit || unit > 8)
			unit = 2;
		rc = doc_emit_json(&tmp, root, DOC_EMIT_INDENT, err);
		while (!rc && j < tmp.len) {
			size_t sp = 0;
			while (j + sp < tmp.len && tmp.ptr[j + sp] == ' ')
				sp++;
			kbuf_putn(out, ' ', sp / 2 * unit);
			j += sp;
			while (j < tmp.len && tmp.ptr[j] != '\n')
				kbuf_putc(out, tmp.ptr[j++]);
			if (j < tmp.len)
				kbuf_putc(out, tmp.ptr[j++]);
		}
		kbuf_release(&tmp);
	}
	if (!rc && len && json[len - 1] == '\n')
		kbuf_putc(out, '\n');
	return rc;
}

static bool keys_already_set(karena *a, const char *json, size_t len, const doc_node *set)
{
	doc_node *root;
	kerr e = KERR_INIT;
	size_t i;
	bool same = true;
	if (doc_load_json(&root, a, "ConfigMap key", json, len, &e) || root->type != DOC_MAP) {
		kerr_clear(&e);
		return false;
	}
	for (i = 0; i < set->u.map.len && same; i++) {
		const doc_node *cur = doc_map_get(root, set->u.map.v[i].key->u.s.ptr);
		same = cur && doc_equal(cur, set->u.map.v[i].val);
	}
	return same;
}

/* The path of a namespaced object of an op (escaped) and its ref, after
 * checking ns and name as the API server would; KE_INPUT naming both. */
static int op_target(kbuf *path, kbuf *ref, const char *op, const char *api, const char *group, const char *kind,
		     const char *res, const char *ns, const char *name, kerr *err)
{
	const char *why = kube_check_namespace(ns);
	const char *what = "namespace";
	if (!why) {
		why = kube_check_name(group, kind, name);
		what = "name";
	}
	if (why) {
		kbuf m = KBUF_INIT;
		int rc;
		kbuf_printf(&m, "%s: %s ", op, kind);
		kube_quote(&m, name);
		kbuf_puts(&m, " in namespace ");
		kube_quote(&m, ns);
		kbuf_printf(&m, ": invalid %s: %s", what, why);
		rc = kerr_set(err, KE_INPUT, "%s", m.ptr);
		kbuf_release(&m);
		return rc;
	}
	kbuf_printf(path, "%s/namespaces/", api);
	kube_path_escape(path, ns);
	kbuf_printf(path, "/%s/", res);
	kube_path_escape(path, name);
	kbuf_printf(ref, "%s/%s/%s", kind, ns, name);
	return 0;
}

int kube_op_json_key_merge(kube_client *c, karena *a, const char *ns, const char *name,
			   const char *key, const doc_node *set, bool dry_run, bool *changed,
			   char **prior, kerr *err)
{
	kbuf path = KBUF_INIT, ref = KBUF_INIT;
	int attempt, rc = 0;
	*changed = false;
	if (prior)
		*prior = NULL;
	if ((rc = op_target(&path, &ref, "jsonKeyMerge", "/api/v1", "", "ConfigMap", "configmaps", ns, name, err)))
		return rc;   /* nothing was written to path or ref */
	for (attempt = 1; attempt <= 10; attempt++) {
		doc_node *cm, *val, *meta;
		kbuf merged = KBUF_INIT, body = KBUF_INIT, put = KBUF_INIT;
		kube_req rq = { 0 };
		kube_resp rs;

		if ((rc = kube_get_json(c, a, path.ptr, &cm, ref.ptr, err)))
			break;
		val = doc_get_path(cm, "data");
		val = val ? doc_map_get(val, key) : NULL;
		if (!val || val->type != DOC_STR) {
			rc = kerr_set_obj(err, KE_NOTFOUND, ref.ptr, "%s has no data key \"%s\"", ref.ptr, key);
			break;
		}
		if (keys_already_set(a, val->u.s.ptr, val->u.s.len, set))
			break;
		if ((rc = kube_json_key_merge_text(&merged, a, val->u.s.ptr, val->u.s.len, set, err))) {
			kerr_wrap(err, "%s key \"%s\"", ref.ptr, key);
			kbuf_release(&merged);
			break;
		}
		if (prior) {
			free(*prior);
			*prior = xstrndup(val->u.s.ptr, val->u.s.len);
		}
		doc_map_set(a, doc_get_path(cm, "data"), key, doc_new_strn(a, merged.ptr, merged.len));
		meta = doc_map_get(cm, "metadata");
		if (meta)
			doc_map_del(meta, "managedFields");
		/* metadata.resourceVersion stays: the server refuses the write if it moved */
		doc_emit_json(&body, cm, 0, err);
		kbuf_printf(&put, "%s?fieldManager=kstage-op%s", path.ptr, dry_run ? "&dryRun=All" : "");
		rq.method = "PUT";
		rq.path = put.ptr;
		rq.content_type = "application/json";
		rq.body = body.ptr;
		rq.body_len = body.len;
		rq.idempotent = true;   /* guarded by resourceVersion */
		kube_resp_init(&rs);
		rc = kube_do(c, &rq, &rs, err);
		if (!rc && rs.status == 409) {
			kube_emit(c, KEV_DEBUG, "op.retry", "ConfigMap changed while merging: reading it again",
				  "object", ref.ptr, NULL);
			kube_resp_release(&rs);
			kbuf_release(&merged);
			kbuf_release(&body);
			kbuf_release(&put);
			continue;
		}
		if (!rc && rs.status >= 400)
			rc = kube_status_error(err, rs.status, rs.body.ptr, rs.body.len, "jsonKeyMerge", ref.ptr);
		if (!rc)
			*changed = true;
		kube_resp_release(&rs);
		kbuf_release(&merged);
		kbuf_release(&body);
		kbuf_release(&put);
		break;
	}
	if (attempt > 10 && !rc)
		rc = kerr_set_obj(err, KE_CONFLICT, ref.ptr, "%s kept changing: gave up after 10 attempts", ref.ptr);
	kbuf_release(&path);
	kbuf_release(&ref);
	return rc;
}

int kube_op_json_key_merge_preview(kube_client *c, karena *a, const char *ns, const char *name,
				   const char *key, const doc_node *set, bool *changed,
				   const char **old_text, const char **new_text, kerr *err)
{
	kbuf path = KBUF_INIT, ref = KBUF_INIT, merged = KBUF_INIT;
	doc_node *cm, *val;
	int rc;
	*changed = false;
	*old_text = *new_text = NULL;
	rc = op_target(&path, &ref, "jsonKeyMerge", "/api/v1", "", "ConfigMap", "configmaps", ns, name, err);
	if (!rc)
		rc = kube_get_json(c, a, path.ptr, &cm, ref.ptr, err);
	if (!rc) {
		val = doc_get_path(cm, "data");
		val = val ? doc_map_get(val, key) : NULL;
		if (!val || val->type != DOC_STR)
			rc = kerr_set_obj(err, KE_NOTFOUND, ref.ptr, "%s has no data key \"%s\"", ref.ptr, key);
	}
	if (!rc) {
		*old_text = val->u.s.ptr;
		if (keys_already_set(a, val->u.s.ptr, val->u.s.len, set)) {
			*new_text = val->u.s.ptr;
		} else if (!(rc = kube_json_key_merge_text(&merged, a, val->u.s.ptr, val->u.s.len, set, err))) {
			*new_text = karena_strndup(a, merged.ptr, merged.len);
			*changed = true;
		}
	}
	kbuf_release(&path);
	kbuf_release(&ref);
	kbuf_release(&merged);
	return rc;
}

int kube_op_rollout_restart(kube_client *c, karena *a, const char *kind, const char *ns,
			    const char *name, bool dry_run, kube_obj *out, kerr *err)
{
	const char *k = NULL, *res = NULL;
	kbuf path = KBUF_INIT, body = KBUF_INIT, ref = KBUF_INIT;
	kube_req rq = { 0 };
	kube_resp rs;
	char ts[40];
	time_t now = time(NULL);
	struct tm tm;
	doc_node *live = NULL;
	int rc;

	if (!strcasecmp(kind, "deployment") || !strcasecmp(kind, "deployments"))
		k = "Deployment", res = "deployments";
	else if (!strcasecmp(kind, "statefulset") || !strcasecmp(kind, "statefulsets"))
		k = "StatefulSet", res = "statefulsets";
	else if (!strcasecmp(kind, "daemonset") || !strcasecmp(kind, "daemonsets"))
		k = "DaemonSet", res = "daemonsets";
	else
		return kerr_set(err, KE_INPUT, "rolloutRestart: kind \"%s\" cannot be restarted (deployment, statefulset or daemonset)", kind);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((rc = op_target(&path, &ref, "rolloutRestart", "/apis/apps/v1", "apps", k, res, ns, name, err)))
		return rc;   /* nothing was written to path or ref */
	kbuf_printf(&path, "?fieldManager=kstage-op%s", dry_run ? "&dryRun=All" : "");
	kbuf_printf(&body, "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
		    "{\"kubectl.kubernetes.io/restartedAt\":\"%s\"}}}}}", ts);
	rq.method = "PATCH";
	rq.path = path.ptr;
	rq.content_type = "application/strategic-merge-patch+json";
	rq.body = body.ptr;
	rq.body_len = body.len;
	rq.idempotent = true;   /* the same timestamp twice is a no-op */
	kube_resp_init(&rs);
	rc = kube_do(c, &rq, &rs, err);
	if (!rc && rs.status >= 400)
		rc = kube_status_error(err, rs.status, rs.body.ptr, rs.body.len, "rolloutRestart", ref.ptr);
	if (!rc)
		rc = doc_load_json(&live, a, ref.ptr, rs.body.ptr, rs.body.len, err);
	if (!rc && out) {
		rc = kube_obj_init(out, a, live, err);
		if (!rc) {
			out->res = kube_discovery_find(c, "apps/v1", k);
			if (!out->res)
				kube_discovery_add(c, "apps", "v1", k, res, true), out->res = kube_discovery_find(c, "apps/v1", k);
		}
	}
	kube_resp_release(&rs);
	kbuf_release(&path);
	kbuf_release(&body);
	kbuf_release(&ref);
	return rc;
}
