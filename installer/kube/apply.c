/*
 * kube/apply.c - objects (identity, REST mapping, install order) and
 * server-side apply: PATCH with application/apply-patch+yaml (a JSON body,
 * which is valid YAML), fieldManager=kstage, force only when asked,
 * dryRun=All for plans.
 */
#include "kube.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

/* Where the node at path was written (else the doc). */
static kube_pos pos_of(const doc_node *doc, const char *path)
{
	const doc_node *n = path ? doc_get_path(doc, path) : NULL;
	kube_pos p;
	if (!n || !n->file)
		n = doc;
	p.file = n->file;
	p.line = n->line;
	p.col = n->col;
	return p;
}

/* KE_INPUT at at, naming the object. */
static int bad_field_at(kerr *err, kube_pos at, const char *kind, const char *name, const char *what,
			const char *value, const char *why)
{
	kbuf m = KBUF_INIT;
	int rc;
	kbuf_printf(&m, "%s ", kind);
	kube_quote(&m, name);
	kbuf_printf(&m, ": invalid %s ", what);
	kube_quote(&m, value);
	kbuf_printf(&m, ": %s", why);
	rc = kerr_set_at(err, KE_INPUT, at.file ? at.file : "<input>", at.line, at.col, "%s", m.ptr);
	kbuf_release(&m);
	return rc;
}

/* KE_INPUT at the node at path (else the doc), naming the object. */
static int bad_field(kerr *err, const doc_node *doc, const char *path, const char *kind, const char *name,
		     const char *what, const char *value, const char *why)
{
	return bad_field_at(err, pos_of(doc, path), kind, name, what, value, why);
}

int kube_obj_init(kube_obj *o, karena *a, doc_node *doc, kerr *err)
{
	const char *why;
	const char *av, *kind, *name, *ns;
	memset(o, 0, sizeof(*o));
	o->doc = doc;
	if (!doc || doc->type != DOC_MAP) {
		const char *f = doc && doc->file ? doc->file : "<input>";
		return kerr_set_at(err, KE_INPUT, f, doc ? doc->line : 0, doc ? doc->col : 0,
				   "manifest is not a map (a Kubernetes object)");
	}
	av = doc_get_str(doc, "apiVersion", NULL);
	kind = doc_get_str(doc, "kind", NULL);
	name = doc_get_str(doc, "metadata.name", NULL);
	if (!av || !*av || !kind || !*kind || !name || !*name) {
		const char *miss = !av || !*av ? "apiVersion" : !kind || !*kind ? "kind" : "metadata.name";
		return kerr_set_at(err, KE_INPUT, doc->file ? doc->file : "<input>", doc->line, doc->col,
				   "object has no %s", miss);
	}
	o->api_version = av;
	o->kind = kind;
	o->name = name;
	ns = doc_get_str(doc, "metadata.namespace", NULL);
	o->ns = ns && *ns ? ns : NULL;
	{
		const char *sl = strchr(av, '/');
		o->group = sl ? karena_strndup(a, av, (size_t)(sl - av)) : "";
		o->version = sl ? sl + 1 : av;
	}
	/* nothing from a manifest reaches a request path unchecked */
	if ((why = kube_check_kind(kind)))
		return bad_field(err, doc, "kind", "object", name, "kind", kind, why);
	if ((why = kube_check_api_version(o->group, o->version)))
		return bad_field(err, doc, "apiVersion", kind, name, "apiVersion", av, why);
	if ((why = kube_check_name(o->group, kind, name)))
		return bad_field(err, doc, "metadata.name", kind, name, "metadata.name", name, why);
	if (o->ns && (why = kube_check_namespace(o->ns)))
		return bad_field(err, doc, "metadata.namespace", kind, name, "metadata.namespace", o->ns, why);
	o->rank = kube_kind_rank(kind);
	o->ref = o->ns ? karena_printf(a, "%s/%s/%s", kind, o->ns, name) : karena_printf(a, "%s/%s", kind, name);
	o->at = pos_of(doc, NULL);
	o->at_meta = pos_of(doc, "metadata");
	o->at_name = pos_of(doc, "metadata.name");
	o->at_ns = pos_of(doc, "metadata.namespace");
	return 0;
}

void kube_obj_keep_text(kube_obj *o, karena *a)
{
	kbuf j = KBUF_INIT;
	kerr e = KERR_INIT;
	if (doc_emit_json(&j, o->doc, 0, &e)) {
		/* (a tree the loader made always emits; keep it as it is) */
		kerr_clear(&e);
		kbuf_release(&j);
		o->doc = doc_copy(a, o->doc);
		return;
	}
	o->text = karena_strndup(a, j.ptr ? j.ptr : "", j.len);
	o->text_len = j.len;
	kbuf_release(&j);
	o->doc = NULL;
	o->api_version = karena_strdup(a, o->api_version);
	o->kind = karena_strdup(a, o->kind);
	o->name = karena_strdup(a, o->name);
	o->ns = o->ns ? karena_strdup(a, o->ns) : NULL;
	o->group = karena_strdup(a, o->group);
	o->version = karena_strdup(a, o->version);
	o->ref = karena_strdup(a, o->ref);
}

int kube_obj_doc(const kube_obj *o, karena *a, doc_node **out, kerr *err)
{
	int rc;
	if (o->doc || !o->text) {
		*out = o->doc;
		return 0;
	}
	rc = doc_load_json(out, a, o->ref, o->text, o->text_len, err);
	if (rc || !*out || (*out)->type != DOC_MAP) {
		kerr_clear(err);
		return kerr_set_obj(err, KE_INTERNAL, o->ref, "the kept manifest does not read back as an object");
	}
	if (o->ns && o->res && o->res->namespaced)
		doc_set_path(a, *out, "metadata.namespace", doc_new_str(a, o->ns));
	return 0;
}

int kube_obj_resolve(kube_client *c, karena *a, kube_obj *o, const char *default_ns, kerr *err)
{
	const kube_resource *r = kube_discovery_find(c, o->api_version, o->kind);
	if (!r) {
		kerr_set_obj(err, KE_NOTFOUND, o->ref,
			     "the server has no kind \"%s\" in \"%s\": is its CustomResourceDefinition installed? "
			     "(put the CRD in an earlier stage, or in this one)", o->kind, o->api_version);
		if (o->at.file) {
			err->first.file = xstrdup(o->at.file);
			err->first.line = o->at.line;
			err->first.col = o->at.col;
		}
		return KE_NOTFOUND;
	}
	o->res = r;
	{
		const char *why = kube_check_resource_name(r->group, r->resource, o->name);
		if (why)
			return bad_field_at(err, o->at_name, o->kind, o->name, "metadata.name", o->name, why);
	}
	if (r->namespaced) {
		if (!o->ns) {
			const char *why;
			if (default_ns && *default_ns && (why = kube_check_namespace(default_ns)))
				return bad_field_at(err, o->at_meta, o->kind, o->name, "namespace", default_ns, why);
			o->ns = default_ns && *default_ns ? default_ns : "default";
			if (o->doc) {
				doc_set_path(a, o->doc, "metadata.namespace", doc_new_str(a, o->ns));
				o->ns = doc_get_str(o->doc, "metadata.namespace", o->ns);
			}
		}
	} else if (o->ns) {
		return kerr_set_at(err, KE_INPUT, o->at_ns.file ? o->at_ns.file : "<input>", o->at_ns.line, o->at_ns.col,
				   "%s \"%s\" is cluster-scoped but sets metadata.namespace \"%s\": remove the namespace",
				   o->kind, o->name, o->ns);
	}
	{
		/* a new string only when it changes (a namespace filled in):
		 * a stage of thousands of objects resolves each */
		kbuf ref = KBUF_INIT;
		if (o->ns)
			kbuf_printf(&ref, "%s/%s/%s", o->kind, o->ns, o->name);
		else
			kbuf_printf(&ref, "%s/%s", o->kind, o->name);
		if (!o->ref || strcmp(o->ref, ref.ptr))
			o->ref = karena_strndup(a, ref.ptr, ref.len);
		kbuf_release(&ref);
	}
	return 0;
}

void kube_obj_path(const kube_obj *o, bool with_name, kbuf *out)
{
	const kube_resource *r = o->res;
	if (!*o->group) {
		kbuf_puts(out, "/api/");
	} else {
		kbuf_puts(out, "/apis/");
		kube_path_escape(out, o->group);
		kbuf_putc(out, '/');
	}
	kube_path_escape(out, o->version);
	if (r && r->namespaced && o->ns) {
		kbuf_puts(out, "/namespaces/");
		kube_path_escape(out, o->ns);
	}
	kbuf_putc(out, '/');
	kube_path_escape(out, r ? r->resource : "?");
	if (with_name) {
		kbuf_putc(out, '/');
		kube_path_escape(out, o->name);
	}
}

/* ---- install order ---- */

static const struct { const char *kind; int rank; } order[] = {
	{ "CustomResourceDefinition", 0 },
	{ "Namespace", 1 },
	{ "PriorityClass", 2 }, { "StorageClass", 2 }, { "IngressClass", 2 }, { "RuntimeClass", 2 },
	{ "GatewayClass", 2 },
	{ "NetworkPolicy", 3 }, { "ResourceQuota", 3 }, { "LimitRange", 3 }, { "PodDisruptionBudget", 3 },
	{ "ServiceAccount", 4 },
	{ "ClusterRole", 5 }, { "ClusterRoleBinding", 6 }, { "Role", 5 }, { "RoleBinding", 6 },
	{ "Secret", 7 }, { "ConfigMap", 7 },
	{ "PersistentVolume", 8 }, { "PersistentVolumeClaim", 8 },
	{ "Service", 9 },
	{ "DaemonSet", 10 }, { "Pod", 10 }, { "ReplicationController", 10 }, { "ReplicaSet", 10 },
	{ "Deployment", 10 }, { "HorizontalPodAutoscaler", 10 }, { "StatefulSet", 10 }, { "Job", 10 },
	{ "CronJob", 10 },
	{ "Ingress", 11 }, { "APIService", 11 },
	{ "MutatingWebhookConfiguration", 13 }, { "ValidatingWebhookConfiguration", 13 },
	{ "ValidatingAdmissionPolicy", 13 }, { "ValidatingAdmissionPolicyBinding", 13 },
};

int kube_kind_rank(const char *kind)
{
	size_t i, n = strlen(kind);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (!strcmp(order[i].kind, kind))
			return order[i].rank;
	if (n > 5 && !strcmp(kind + n - 5, "Class"))
		return 2;
	return 12;   /* custom resources: after the built-in kinds, before webhooks */
}

void kube_objs_sort(kube_obj *v, size_t n)
{
	/* insertion sort: stable, and stages are small */
	size_t i, j;
	for (i = 1; i < n; i++) {
		kube_obj t = v[i];
		for (j = i; j > 0 && v[j - 1].rank > t.rank; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
}

/* ---- requests ---- */

int kube_get_json(kube_client *c, karena *a, const char *path, doc_node **out, const char *object,
		  kerr *err)
{
	kube_req rq = { 0 };
	kube_resp rs;
	int rc;
	rq.method = "GET";
	rq.path = path;
	rq.idempotent = true;
	kube_resp_init(&rs);
	rc = kube_do(c, &rq, &rs, err);
	if (!rc && rs.status >= 400)
		rc = kube_status_error(err, rs.status, rs.body.ptr, rs.body.len, "get", object);
	if (!rc)
		rc = doc_load_json(out, a, path, rs.body.ptr, rs.body.len, err);
	kube_resp_release(&rs);
	return rc;
}

int kube_get(kube_client *c, karena *a, const kube_obj *o, doc_node **out, kerr *err)
{
	kbuf p = KBUF_INIT;
	int rc;
	kube_obj_path(o, true, &p);
	rc = kube_get_json(c, a, p.ptr, out, o->ref, err);
	kbuf_release(&p);
	return rc;
}

/* An object with nothing but apiVersion, kind, name and namespace. */
static bool identity_only(const doc_node *d)
{
	const doc_node *m = doc_map_get(d, "metadata");
	size_t i;
	for (i = 0; i < d->u.map.len; i++) {
		const char *k = d->u.map.v[i].key->u.s.ptr;
		if (strcmp(k, "apiVersion") && strcmp(k, "kind") && strcmp(k, "metadata"))
			return false;
	}
	for (i = 0; m && m->type == DOC_MAP && i < m->u.map.len; i++) {
		const char *k = m->u.map.v[i].key->u.s.ptr;
		if (strcmp(k, "name") && strcmp(k, "namespace"))
			return false;
	}
	return true;
}

/* An apply's answer is the object: a JSON object (checked on its first
 * byte when it is not read), and when read, of the kind and name sent. A
 * list, a scalar or another object is a bad answer (KE_INPUT, as invalid
 * JSON is), not an applied object to wait for. */
static int check_answer(const kube_obj *o, const kube_resp *rs, const doc_node *got, bool dry_run, kerr *err)
{
	const char *what = dry_run ? "dry-run apply" : "apply";
	size_t i = 0;
	while (i < rs->body.len && strchr(" \t\r\n", rs->body.ptr[i]))
		i++;
	if (i == rs->body.len || rs->body.ptr[i] != '{' || (got && got->type != DOC_MAP))
		return kerr_set_obj(err, KE_INPUT, o->ref, "%s: the API server's answer (%ld) is not an object",
				    what, rs->status);
	if (got && (strcmp(doc_get_str(got, "kind", o->kind), o->kind) ||
		    strcmp(doc_get_str(got, "metadata.name", ""), o->name)))
		return kerr_set_obj(err, KE_INPUT, o->ref, "%s: the API server answered %.64s \"%.253s\", not the object sent",
				    what, doc_get_str(got, "kind", "?"), doc_get_str(got, "metadata.name", ""));
	return 0;
}

int kube_apply(kube_client *c, karena *a, const kube_obj *o, const kube_apply_opts *opts,
	       doc_node **out, bool *created, kerr *err)
{
	kbuf p = KBUF_INIT, body = KBUF_INIT;
	kube_req rq = { 0 };
	kube_resp rs;
	int rc;
	const char *fm = opts && opts->field_manager ? opts->field_manager : "kstage";

	if (!o->res)
		return kerr_set_obj(err, KE_INTERNAL, o->ref, "object was not resolved before apply");
	if (identity_only(o->doc) && !(opts && (opts->dry_run || opts->absent))) {
		/* Nothing to own: applying it again would only make the server add a
		 * "before-first-apply" entry and move resourceVersion. */
		doc_node *live = NULL;
		kerr e = KERR_INIT;
		rc = kube_get(c, a, o, &live, &e);
		if (rc == 0) {
			if (out)
				*out = live;
			if (created)
				*created = false;
			kerr_clear(&e);
			return 0;
		}
		/* not found, or not allowed to read: apply it */
		kerr_clear(&e);
	}
	kube_obj_path(o, true, &p);
	kbuf_puts(&p, "?fieldManager=");
	kube_path_escape(&p, fm);
	kbuf_puts(&p, "&fieldValidation=Strict");
	if (opts && opts->force)
		kbuf_puts(&p, "&force=true");
	if (opts && opts->dry_run)
		kbuf_puts(&p, "&dryRun=All");
	if ((rc = doc_emit_json(&body, o->doc, 0, err))) {
		kbuf_release(&p);
		kbuf_release(&body);
		return rc;
	}
	rq.method = "PATCH";
	rq.path = p.ptr;
	rq.content_type = "application/apply-patch+yaml";
	rq.body = body.ptr;
	rq.body_len = body.len;
	rq.idempotent = true;   /* an apply is declarative: repeating it changes nothing more */
	kube_resp_init(&rs);
	rc = kube_do(c, &rq, &rs, err);
	if (!rc && rs.status >= 400)
		rc = kube_status_error(err, rs.status, rs.body.ptr, rs.body.len,
				       opts && opts->dry_run ? "dry-run apply" : "apply", o->ref);
	if (!rc && out && opts && opts->lean)   /* managedFields: often half the answer, read by nothing kept */
		rc = doc_load_json_skip(out, a, o->ref, rs.body.ptr, rs.body.len, "metadata", "managedFields", err);
	else if (!rc && out)
		rc = doc_load_json(out, a, o->ref, rs.body.ptr, rs.body.len, err);
	if (!rc)
		rc = check_answer(o, &rs, out ? *out : NULL, opts && opts->dry_run, err);
	if (created)
		*created = !rc && rs.status == 201;
	kube_resp_release(&rs);
	kbuf_release(&p);
	kbuf_release(&body);
	return rc;
}

/* ---- no-op detection ---- */

/* desired's leaves all equal in live, a list only when equal whole; a null
 * leaf is no opinion (the server leaves it out of an apply), and so is the
 * top-level status when skip_status (a status subresource: the server drops
 * it from an apply). */
static bool leaves_match(const doc_node *d, const doc_node *l, bool top, bool skip_status)
{
	size_t i;
	if (d->type == DOC_NULL)
		return true;
	if (d->type != DOC_MAP)
		return l && doc_equal(d, l);
	if (!l || l->type != DOC_MAP)
		return false;
	for (i = 0; i < d->u.map.len; i++) {
		const char *k = d->u.map.v[i].key->u.s.ptr;
		const doc_node *dv = d->u.map.v[i].val;
		if (top && (!strcmp(k, "apiVersion") || !strcmp(k, "kind") || (skip_status && !strcmp(k, "status"))))
			continue;
		if (dv->type == DOC_MAP && !dv->u.map.len)
			return false;   /* an empty map is a field of its own: let the server judge */
		if (!leaves_match(dv, doc_map_get(l, k), false, false))
			return false;
	}
	return true;
}

/* fieldsV1 f (an "f:..." tree) owns exactly desired d's fields (but its
 * null ones, and its top-level status when skip_status). */
static bool fields_match(const doc_node *d, const doc_node *f, int depth, bool skip_status)
{
	size_t i, n = 0;
	if (!f || f->type != DOC_MAP)
		return false;
	for (i = 0; i < f->u.map.len; i++) {
		const char *k = f->u.map.v[i].key->u.s.ptr;
		const doc_node *child;
		if (!strcmp(k, "."))
			continue;
		if (strncmp(k, "f:", 2))
			return false;   /* list keys (k:, v:, i:): not handled here */
		child = doc_map_get(d, k + 2);
		if (!child || child->type == DOC_NULL)
			return false;
		if (child->type == DOC_MAP) {
			if (!fields_match(child, f->u.map.v[i].val, depth + 1, false))
				return false;
		} else if (f->u.map.v[i].val->type == DOC_MAP && f->u.map.v[i].val->u.map.len) {
			return false;
		}
		n++;
	}
	/* and every desired field is owned */
	for (i = 0; i < d->u.map.len; i++) {
		const char *k = d->u.map.v[i].key->u.s.ptr;
		if (depth == 0 && (!strcmp(k, "apiVersion") || !strcmp(k, "kind")))
			continue;
		if (depth == 1 && (!strcmp(k, "name") || !strcmp(k, "namespace")))
			continue;   /* metadata identity is never in managedFields */
		if (d->u.map.v[i].val->type == DOC_NULL || (depth == 0 && skip_status && !strcmp(k, "status")))
			continue;
		{
			kbuf fk = KBUF_INIT;
			bool has;
			kbuf_printf(&fk, "f:%s", k);
			has = doc_map_get(f, fk.ptr) != NULL;
			kbuf_release(&fk);
			if (!has) {
				/* metadata with only name/namespace (and nulls) is not listed at all */
				const doc_node *v = d->u.map.v[i].val;
				if (depth == 0 && !strcmp(k, "metadata") && v->type == DOC_MAP) {
					size_t j;
					bool only_id = true;
					for (j = 0; j < v->u.map.len; j++)
						if (!doc_key_is(v->u.map.v[j].key, "name") &&
						    !doc_key_is(v->u.map.v[j].key, "namespace") &&
						    v->u.map.v[j].val->type != DOC_NULL)
							only_id = false;
					if (only_id)
						continue;
				}
				return false;
			}
		}
	}
	(void)n;
	return true;
}

bool kube_apply_is_noop(const doc_node *desired, const doc_node *live, const char *field_manager)
{
	const doc_node *mf = doc_get_path(live, "metadata.managedFields");
	const char *fm = field_manager ? field_manager : "kstage";
	const char *av = doc_get_str(desired, "apiVersion", "");
	bool skip_status = false;
	size_t i;
	if (!desired || desired->type != DOC_MAP || !live || live->type != DOC_MAP)
		return false;
	if (doc_get_path(live, "metadata.deletionTimestamp"))
		return false;
	if (identity_only(desired))
		return true;   /* kube_apply sends nothing for it either */
	/* a status written through its subresource: the type has one */
	for (i = 0; mf && mf->type == DOC_SEQ && i < mf->u.seq.len; i++)
		if (!strcmp(doc_get_str(mf->u.seq.v[i], "subresource", ""), "status"))
			skip_status = true;
	if (!leaves_match(desired, live, true, skip_status))
		return false;
	for (i = 0; mf && mf->type == DOC_SEQ && i < mf->u.seq.len; i++) {
		const doc_node *e = mf->u.seq.v[i];
		if (strcmp(doc_get_str(e, "manager", ""), fm) || strcmp(doc_get_str(e, "operation", ""), "Apply") ||
		    strcmp(doc_get_str(e, "apiVersion", ""), av) || doc_get_str(e, "subresource", NULL))
			continue;
		return fields_match(desired, doc_map_get(e, "fieldsV1"), 0, skip_status);
	}
	return false;
}
