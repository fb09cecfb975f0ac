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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One top-level member of a JSON object, as byte offsets into the text. */
typedef struct json_member {
	size_t key, key_end;   /* the key's quotes included */
	size_t val, val_end;
} json_member;

static size_t skip_ws(const char *t, size_t i, size_t n)
{
	while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

/* The end of the JSON value starting at i (text already validated). */
static size_t skip_value(const char *t, size_t i, size_t n)
{
	size_t depth = 0;
	do {
		if (t[i] == '"') {
			for (i++; i < n && t[i] != '"'; i++)
				if (t[i] == '\\')
					i++;
			i++;
		} else if (t[i] == '{' || t[i] == '[') {
			depth++, i++;
		} else if (t[i] == '}' || t[i] == ']') {
			depth--, i++;
		} else if (depth) {
			i++;
		} else {
			while (i < n && !strchr(",}] \t\r\n", t[i]))
				i++;
		}
	} while (depth && i < n);
	return i;
}

/* The top-level members of the object in t; false when the text is not laid
 * out as expected (the caller then re-emits the document). */
static bool scan_members(json_member **out, size_t *nout, karena *a, const char *t, size_t n, size_t count)
{
	json_member *m = karena_alloc(a, sizeof(*m) * (count + 1));
	size_t i = skip_ws(t, 0, n), k = 0;
	if (i >= n || t[i] != '{')
		return false;
	i = skip_ws(t, i + 1, n);
	while (i < n && t[i] != '}') {
		if (k == count || t[i] != '"')
			return false;
		m[k].key = i;
		m[k].key_end = skip_value(t, i, n);
		i = skip_ws(t, m[k].key_end, n);
		if (i >= n || t[i] != ':')
			return false;
		m[k].val = skip_ws(t, i + 1, n);
		m[k].val_end = skip_value(t, m[k].val, n);
		i = skip_ws(t, m[k].val_end, n);
		k++;
		if (i < n && t[i] == ',')
			i = skip_ws(t, i + 1, n);
	}
	if (i >= n || k != count)
		return false;
	*out = m;
	*nout = k;
	return true;
}

static bool same_key(const doc_node *a, const doc_node *b)
{
	return a->u.s.len == b->u.s.len && !memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len);
}

/* Re-emit the whole document with the keys set, keeping the indentation
 * unit: for texts whose layout scan_members cannot follow. */
static int merge_reemit(kbuf *out, const doc_node *root, const char *json, size_t len, kerr *err)
{
	kbuf tmp = KBUF_INIT;
	size_t unit = 0, j = 0;
	const char *nl = memchr(json, '\n', len);
	int rc;
	if (!nl)
		return doc_emit_json(out, root, 0, err);
	/* keep the original indentation unit (KServe's files use 4 spaces);
	 * JSON strings hold no raw newlines, so leading spaces are indentation */
	if (nl + 1 < json + len) {
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
	if (!rc && len && json[len - 1] == '\n')
		kbuf_putc(out, '\n');
	return rc;
}

/*
 * The text is edited in place: a key that is set gets only its value
 * replaced (when it differs), a new key is appended after the last member
 * with that member's indentation and key/value separator; every other byte
 * (spacing, the order, other keys' values) stays as it was.
 */
int kube_json_key_merge_text(kbuf *out, karena *a, const char *json, size_t len, const doc_node *set,
			     kerr *err)
{
	doc_node *root;
	json_member *m = NULL;
	size_t i, j, nm = 0, at = 0;
	const doc_node **newval;
	int rc = doc_load_json(&root, a, "ConfigMap key", json, len, err);
	if (rc)
		return rc;
	if (root->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "the key does not hold a JSON object (it holds %s)",
				doc_type_name(root->type));
	if (!set || set->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "jsonKeyMerge: set must be a map");
	if (!scan_members(&m, &nm, a, json, len, root->u.map.len) || !nm) {
		for (i = 0; i < set->u.map.len; i++) {
			const doc_node *k = set->u.map.v[i].key;
			doc_map_setn(a, root, k->u.s.ptr, k->u.s.len, doc_copy(a, set->u.map.v[i].val));
		}
		return merge_reemit(out, root, json, len, err);
	}
	/* member i of the text is root->u.map.v[i] (the loader keeps the order) */
	newval = karena_alloc(a, sizeof(*newval) * (nm + 1));
	for (i = 0; i < nm; i++)
		newval[i] = NULL;
	for (j = 0; j < set->u.map.len; j++) {
		/* keys compare by length too: JSON keys may hold \u0000 */
		const doc_node *k = set->u.map.v[j].key;
		for (i = 0; i < nm && !same_key(root->u.map.v[i].key, k); i++)
			;
		if (i < nm && !doc_equal(root->u.map.v[i].val, set->u.map.v[j].val))
			newval[i] = set->u.map.v[j].val;
	}
	for (i = 0; i < nm && !rc; i++) {
		if (!newval[i])
			continue;
		kbuf_put(out, json + at, m[i].val - at);
		rc = doc_emit_json(out, newval[i], 0, err);
		at = m[i].val_end;
	}
	if (rc)
		return rc;
	{
		/* the new keys go after the last member, laid out like it: its
		 * indentation (when it starts a line) and its key/value separator */
		const json_member *last = &m[nm - 1];
		size_t ls = last->key;
		while (ls > 0 && (json[ls - 1] == ' ' || json[ls - 1] == '\t'))
			ls--;
		kbuf_put(out, json + at, last->val_end - at);
		at = last->val_end;
		for (j = 0; j < set->u.map.len && !rc; j++) {
			const doc_node *key = set->u.map.v[j].key;
			if (doc_map_getn(root, key->u.s.ptr, key->u.s.len))
				continue;
			kbuf_putc(out, ',');
			if (ls > 0 && json[ls - 1] == '\n')
				kbuf_putc(out, '\n');
			kbuf_put(out, json + ls, last->key - ls);
			if (!(rc = doc_emit_json(out, key, 0, err))) {
				kbuf_put(out, json + last->key_end, last->val - last->key_end);
				rc = doc_emit_json(out, set->u.map.v[j].val, 0, err);
			}
		}
	}
	kbuf_put(out, json + at, len - at);
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
		const doc_node *k = set->u.map.v[i].key;
		const doc_node *cur = doc_map_getn(root, k->u.s.ptr, k->u.s.len);
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

/* restartedAt as Go's time.RFC3339Nano in UTC (trailing zeros of the
 * fraction dropped). kubectl writes whole seconds, so two restarts in one
 * second are the same patch and the second restarts nothing; a rollback
 * restarting what its apply restarted a moment ago must not be lost. */
static void restart_stamp(char *ts, size_t size)
{
	struct timespec now;
	struct tm tm;
	char frac[16];
	size_t n, off;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	off = strftime(ts, size, "%Y-%m-%dT%H:%M:%S", &tm);
	n = (size_t)snprintf(frac, sizeof(frac), "%09ld", now.tv_nsec);
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = 0;
	snprintf(ts + off, size - off, "%s%sZ", n ? "." : "", frac);
}

int kube_op_rollout_restart(kube_client *c, karena *a, const char *kind, const char *ns,
			    const char *name, bool dry_run, kube_obj *out, kerr *err)
{
	const char *k = NULL, *res = NULL;
	kbuf path = KBUF_INIT, body = KBUF_INIT, ref = KBUF_INIT;
	kube_req rq = { 0 };
	kube_resp rs;
	char ts[48];
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
	restart_stamp(ts, sizeof(ts));
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
