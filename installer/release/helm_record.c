/*
 * release/helm_record.c - a release Helm already holds: its records are
 * Secrets `sh.helm.release.v1.NAME.vN` (type helm.sh/release.v1, labels
 * owner=helm, name, status, version) in the release's namespace, whose
 * data.release is base64 of gzip of the release JSON (Helm's
 * pkg/storage/driver/util.go: encodeRelease, decodeRelease).
 *
 * Read: the latest deployed revision is kstage's starting point when kstage
 * has no deployed revision of its own: its manifest is the prior revision
 * that pruning compares against (rel_helm_prior). Write (--helm-record):
 * the run's chart manifest becomes revision latest+1 of Helm's history,
 * built over the deployed record (so name, namespace and the chart's other
 * fields stay as Helm wrote them) with the new chart metadata and
 * templates, the user's values, the notes and status deployed; the
 * previous deployed one becomes superseded. apply_method is "csa", so
 * that a later `helm rollback` updates with client-side apply and never
 * meets a field-manager conflict with kstage's server-side apply.
 */
#include "release.h"
#include "core/alloc.h"
#include "tmpl/chart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* info.description of the Helm revisions kstage writes (--helm-record) */
#define KSTAGE_HELM_DESCRIPTION "Upgrade complete (kstage apply)"
#define HELM_JSON_MAX ((size_t)64 * 1024 * 1024)

int rel_helm_decode(doc_node **out, karena *a, const char *b64, const char *what, kerr *err)
{
	char *once = NULL, *twice = NULL;
	size_t n1 = 0, n2 = 0;
	kbuf js = KBUF_INIT;
	int rc;
	if (kube_b64_decode(b64, strlen(b64), &once, &n1) || kube_b64_decode(once, n1, &twice, &n2)) {
		free(once);
		return kerr_set(err, KE_INPUT, "%s: data.release is not base64", what);
	}
	if (n2 > 3 && (unsigned char)twice[0] == 0x1f && (unsigned char)twice[1] == 0x8b && twice[2] == 8)
		rc = rel_gunzip(&js, twice, n2, HELM_JSON_MAX, what, err);
	else
		rc = kbuf_put(&js, twice, n2) ? kerr_set(err, KE_LIMIT, "%s is too large", what) : 0;
	if (!rc)
		rc = doc_load_json(out, a, what, js.ptr ? js.ptr : "", js.len, err);
	if (!rc && (*out)->type != DOC_MAP)
		rc = kerr_set(err, KE_INPUT, "%s: the release is not a JSON object", what);
	free(once);
	free(twice);
	kbuf_release(&js);
	return rc;
}

static int release_version(const doc_node *secret)
{
	return atoi(doc_get_str(secret, "metadata.labels.version", "0"));
}

int rel_helm_find(rel_helm_release *out, kube_client *c, karena *a, const char *ns, const char *name, kerr *err)
{
	kbuf p = KBUF_INIT;
	doc_node *list = NULL;
	const doc_node *items, *dep = NULL;
	size_t i;
	int rc;
	memset(out, 0, sizeof(*out));
	kbuf_puts(&p, "/api/v1/namespaces/");
	kube_path_escape(&p, ns);
	kbuf_puts(&p, "/secrets?labelSelector=owner%3Dhelm%2Cname%3D");
	kube_path_escape(&p, name);
	rc = kube_get_json(c, a, p.ptr, &list, karena_printf(a, "Helm release %s/%s", ns, name), err);
	kbuf_release(&p);
	if (rc)
		return rc;
	items = doc_map_get(list, "items");
	for (i = 0; items && items->type == DOC_SEQ && i < items->u.seq.len; i++) {
		const doc_node *s = items->u.seq.v[i];
		int v = release_version(s);
		if (strcmp(doc_get_str(s, "type", ""), "helm.sh/release.v1"))
			continue;
		if (v > out->latest)
			out->latest = v;
		if (!strcmp(doc_get_str(s, "metadata.labels.status", ""), "deployed") &&
		    (!dep || v > release_version(dep)))
			dep = s;
	}
	if (!dep)
		return 0;
	out->found = true;
	out->ns = karena_strdup(a, ns);
	out->name = karena_strdup(a, name);
	out->version = release_version(dep);
	out->secret = doc_copy(a, dep);
	out->secret_name = doc_get_str(out->secret, "metadata.name", "");
	rc = rel_helm_decode(&out->release, a, doc_get_str(dep, "data.release", ""),
			    karena_printf(a, "Helm release Secret %s/%s", ns, out->secret_name), err);
	if (!rc)
		out->manifest = doc_get_str(out->release, "manifest", "");
	return rc;
}

int rel_helm_prior(rel_record **out, kube_client *c, karena *a, const rel_helm_release *h, const char *stage,
		   kerr *err)
{
	rel_record *r = rel_record_new(a, h->name, 0);
	rel_rec_stage *st = rel_record_add_stage(a, r, stage);
	doc_stream ds;
	size_t i;
	int rc = doc_load_yaml(&ds, a, karena_printf(a, "%s manifest", h->secret_name), h->manifest,
			       strlen(h->manifest), NULL, err);
	st->result = REL_SR_SUCCEEDED;
	for (i = 0; !rc && i < ds.len; i++) {
		kube_obj o;
		kerr e = KERR_INIT;
		if (!ds.docs[i] || ds.docs[i]->type != DOC_MAP)
			continue;
		if (kube_obj_init(&o, a, ds.docs[i], &e) || kube_obj_resolve(c, a, &o, h->ns, &e)) {
			kerr_clear(&e);   /* a kind no longer served: nothing of it to prune */
			continue;
		}
		rel_record_add_object(a, st, o.api_version, o.kind, o.ns, o.name, NULL)->keep =
			!strcmp(o.kind, "CustomResourceDefinition");
	}
	*out = r;
	return rc;
}

/* The Secret body of revision version of release rel (JSON doc) with
 * status, as Helm's newSecretsObject writes it. */
static int secret_body(kbuf *out, karena *a, const rel_helm_release *h, const doc_node *rel, int version,
		       const char *status, const doc_node *old_secret, kerr *err)
{
	kbuf js = KBUF_INIT, gz = KBUF_INIT, b64 = KBUF_INIT;
	doc_node *s = doc_new_map(a), *md = doc_new_map(a), *lb = doc_new_map(a), *data = doc_new_map(a);
	int rc = doc_emit_json(&js, rel, 0, err);
	if (!rc)
		rc = rel_gzip(&gz, js.ptr, js.len, Z_BEST_COMPRESSION, err);   /* as Helm */
	if (!rc) {
		const char *v = karena_printf(a, "%d", version);
		const doc_node *ol = old_secret ? doc_get_path(old_secret, "metadata.labels") : NULL;
		size_t i;
		kube_b64_encode(&b64, gz.ptr, gz.len);
		for (i = 0; ol && ol->type == DOC_MAP && i < ol->u.map.len; i++)
			doc_map_setn(a, lb, ol->u.map.v[i].key->u.s.ptr, ol->u.map.v[i].key->u.s.len,
				     doc_copy(a, ol->u.map.v[i].val));
		doc_map_set(a, lb, "name", doc_new_str(a, h->name));
		doc_map_set(a, lb, "owner", doc_new_str(a, "helm"));
		doc_map_set(a, lb, "status", doc_new_str(a, status));
		doc_map_set(a, lb, "version", doc_new_str(a, v));
		doc_map_set(a, s, "apiVersion", doc_new_str(a, "v1"));
		doc_map_set(a, s, "kind", doc_new_str(a, "Secret"));
		doc_map_set(a, md, "name", doc_new_str(a, karena_printf(a, "sh.helm.release.v1.%s.v%d", h->name, version)));
		doc_map_set(a, md, "namespace", doc_new_str(a, h->ns));
		if (old_secret)
			doc_map_set(a, md, "resourceVersion",
				    doc_new_str(a, doc_get_str(old_secret, "metadata.resourceVersion", "")));
		doc_map_set(a, md, "labels", lb);
		doc_map_set(a, s, "metadata", md);
		doc_map_set(a, s, "type", doc_new_str(a, "helm.sh/release.v1"));
		{
			/* data holds base64 of the bytes; the bytes are Helm's base64 */
			kbuf outer = KBUF_INIT;
			kube_b64_encode(&outer, b64.ptr, b64.len);
			doc_map_set(a, data, "release", doc_new_strn(a, outer.ptr, outer.len));
			kbuf_release(&outer);
		}
		doc_map_set(a, s, "data", data);
		rc = doc_emit_json(out, s, 0, err);
	}
	kbuf_release(&js);
	kbuf_release(&gz);
	kbuf_release(&b64);
	return rc;
}

static int send_secret(kube_client *c, const char *method, const rel_helm_release *h, const char *name,
		       const kbuf *body, kerr *err)
{
	kbuf p = KBUF_INIT;
	kube_resp rs;
	int rc;
	kbuf_puts(&p, "/api/v1/namespaces/");
	kube_path_escape(&p, h->ns);
	kbuf_puts(&p, "/secrets");
	if (!strcmp(method, "PUT")) {
		kbuf_putc(&p, '/');
		kube_path_escape(&p, name);
	}
	rc = rel_kube_send(c, method, p.ptr, body, &rs, err);
	if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, strcmp(method, "PUT") ? "create" : "update", "Secret/%s/%s", h->ns, name);
	kube_resp_release(&rs);
	kbuf_release(&p);
	return rc;
}

/* The chart as Helm's release JSON holds it: metadata, templates (name,
 * base64 data), values (the chart's defaults), over what was there. */
static void set_chart(karena *a, doc_node *rel, const struct tmpl_chart *ch)
{
	doc_node *chart = doc_map_get(rel, "chart"), *tpls = doc_new_seq(a);
	size_t i;
	if (!chart || chart->type != DOC_MAP) {
		chart = doc_new_map(a);
		doc_map_set(a, rel, "chart", chart);
	}
	doc_map_set(a, chart, "metadata", doc_copy(a, ch->metadata));
	for (i = 0; i < ch->nfiles; i++) {
		doc_node *t;
		kbuf b = KBUF_INIT;
		if (strncmp(ch->files[i].name, "templates/", 10))
			continue;
		t = doc_new_map(a);
		kube_b64_encode(&b, ch->files[i].data, ch->files[i].len);
		doc_map_set(a, t, "name", doc_new_str(a, ch->files[i].name));
		doc_map_set(a, t, "data", doc_new_strn(a, b.ptr ? b.ptr : "", b.len));
		doc_seq_push(a, tpls, t);
		kbuf_release(&b);
	}
	doc_map_set(a, chart, "templates", tpls);
	if (ch->vc.defaults)
		doc_map_set(a, chart, "values", doc_copy(a, ch->vc.defaults));
}

/* Helm's hooks array (pkg/release/v1/hook.go): name, kind, manifest,
 * events, weight, delete policies; last_run empty (not tracked). */
static doc_node *helm_hooks(karena *a, const rel_hooks *hooks)
{
	static const unsigned events[] = { REL_HOOK_PRE_INSTALL, REL_HOOK_POST_INSTALL, REL_HOOK_PRE_DELETE,
					   REL_HOOK_POST_DELETE, REL_HOOK_PRE_UPGRADE, REL_HOOK_POST_UPGRADE,
					   REL_HOOK_PRE_ROLLBACK, REL_HOOK_POST_ROLLBACK, REL_HOOK_TEST };
	static const char *const policies[] = { "before-hook-creation", "hook-succeeded", "hook-failed" };
	doc_node *v = doc_new_seq(a);
	size_t i, k;
	for (i = 0; hooks && i < hooks->n; i++) {
		const rel_hook *hk = &hooks->v[i];
		const doc_node *doc = hk->obj.doc;
		doc_node *o = doc_new_map(a), *ev = doc_new_seq(a), *dp = doc_new_seq(a), *lr = doc_new_map(a);
		doc_map_set(a, o, "name", doc_new_str(a, hk->obj.name));
		doc_map_set(a, o, "kind", doc_new_str(a, hk->obj.kind));
		doc_map_set(a, o, "manifest", doc_new_str(a, rel_yaml_stream(a, &doc, 1) + 4));   /* no "---\n" */
		for (k = 0; k < sizeof(events) / sizeof(events[0]); k++)
			if (hk->events & events[k])
				doc_seq_push(a, ev, doc_new_str(a, rel_hook_event_name(events[k])));
		doc_map_set(a, o, "events", ev);
		doc_map_set(a, lr, "phase", doc_new_str(a, ""));
		doc_map_set(a, o, "last_run", lr);
		if (hk->weight)
			doc_map_set(a, o, "weight", doc_new_int(a, hk->weight));
		for (k = 0; k < 3; k++)
			if (hk->delete_policies & (1u << k))
				doc_seq_push(a, dp, doc_new_str(a, policies[k]));
		if (dp->u.seq.len)
			doc_map_set(a, o, "delete_policies", dp);
		doc_seq_push(a, v, o);
	}
	return v;
}

int rel_helm_write(kube_client *c, karena *a, const rel_helm_release *h, const struct tmpl_chart *ch,
		   const doc_node *config, const char *manifest, const rel_hooks *hooks, const char *notes, int *version,
		   kerr *err)
{
	doc_node *rel = doc_copy(a, h->release), *info, *old = doc_copy(a, h->release);
	kbuf body = KBUF_INIT, now = KBUF_INIT;
	int v = h->latest + 1, rc;
	rel_time_format(&now, rel_now_ms());
	if (!(info = doc_map_get(rel, "info")) || info->type != DOC_MAP) {
		info = doc_new_map(a);
		doc_map_set(a, rel, "info", info);
	}
	doc_map_set(a, info, "last_deployed", doc_new_str(a, now.ptr));
	doc_map_del(info, "deleted");
	doc_map_del(info, "rollback_revision");
	doc_map_del(info, "resources");
	doc_map_set(a, info, "description", doc_new_str(a, KSTAGE_HELM_DESCRIPTION));
	doc_map_set(a, info, "status", doc_new_str(a, "deployed"));
	if (notes && *notes)
		doc_map_set(a, info, "notes", doc_new_str(a, notes));
	else
		doc_map_del(info, "notes");
	if (ch)
		set_chart(a, rel, ch);
	if (config && config->type == DOC_MAP && config->u.map.len)
		doc_map_set(a, rel, "config", doc_copy(a, config));
	else
		doc_map_del(rel, "config");
	doc_map_set(a, rel, "manifest", doc_new_str(a, manifest ? manifest : ""));
	if (hooks && hooks->n)
		doc_map_set(a, rel, "hooks", helm_hooks(a, hooks));
	else
		doc_map_del(rel, "hooks");
	doc_map_set(a, rel, "version", doc_new_int(a, v));
	doc_map_set(a, rel, "apply_method", doc_new_str(a, "csa"));
	rc = secret_body(&body, a, h, rel, v, "deployed", NULL, err);
	if (!rc)
		rc = send_secret(c, "POST", h, karena_printf(a, "sh.helm.release.v1.%s.v%d", h->name, v), &body, err);
	if (!rc) {
		/* the one it replaces is superseded, as helm upgrade leaves it */
		doc_set_path(a, old, "info.status", doc_new_str(a, "superseded"));
		kbuf_reset(&body);
		rc = secret_body(&body, a, h, old, h->version, "superseded", h->secret, err);
		if (!rc)
			rc = send_secret(c, "PUT", h, h->secret_name, &body, err);
	}
	kbuf_release(&body);
	kbuf_release(&now);
	if (rc)
		return kerr_wrap(err, "--helm-record: Helm release %s/%s revision %d", h->ns, h->name, v);
	*version = v;
	return 0;
}

/* The bundle's chart stage (a chart's templates), or NULL. */
static const rel_stage *chart_stage(const rel_bundle *b)
{
	size_t i;
	for (i = 0; i < b->nstages; i++)
		if (b->stages[i].src == REL_SRC_CHART)
			return &b->stages[i];
	return NULL;
}

/* Helm's deployed revision is newer than kstage's (prior): helm upgrade or
 * helm rollback ran after kstage's last revision. A revision kstage wrote
 * (--helm-record) is not: it is kstage's own. */
static bool helm_newer(const rel_helm_release *h, const rel_record *prior)
{
	int64_t t = rel_time_parse(doc_get_str(h->release, "info.last_deployed", ""));
	if (!strcmp(doc_get_str(h->release, "info.description", ""), KSTAGE_HELM_DESCRIPTION))
		return false;
	return t > 0 && t > (prior->updated_ms ? prior->updated_ms : prior->created_ms);
}

/* kstage's deployed revision with its chart stage replaced by what Helm's
 * newer revision deployed: prune and diff against that, adopt its objects. */
static int start_from_newer(rel_helm_release *h, rel_record *prior, const rel_stage *s, rel_ctx *ctx,
			    karena *a, kerr *err)
{
	rel_record *hp = NULL;
	rel_rec_stage *mine = rel_record_stage(prior, s->name);
	int rc = rel_helm_prior(&hp, ctx->client, a, h, s->name, err);
	if (rc)
		return rc;
	if (mine)
		*mine = hp->stages[0];
	else
		*rel_record_add_stage(a, prior, s->name) = hp->stages[0];
	ctx->force = true;   /* Helm's upgrade owns the fields it changed: adopt them */
	h->newer = true;
	kube_emit(ctx->client, KEV_WARN, "helm.newer",
		  karena_printf(a, "Helm's revision %d of release %s/%s (%s, %s) is newer than kstage's revision %d: this "
				   "run starts from what Helm deployed (its objects are adopted, what it rendered and this run "
				   "does not is pruned)",
				h->version, h->ns, h->name, doc_get_str(h->release, "info.description", "?"),
				doc_get_str(h->release, "info.last_deployed", "?"), prior->revision),
		  "release", h->name, "revision", karena_printf(a, "%d", h->version), NULL);
	return 0;
}

int rel_helm_start(rel_helm_release *h, rel_record **prior, const rel_bundle *b, rel_ctx *ctx, const char *release,
		   bool helm_record, karena *a, kerr *err)
{
	const rel_stage *s = chart_stage(b);
	const char *ns = s && s->namespace ? s->namespace : ctx->namespace ? ctx->namespace : "default";
	int rc;
	memset(h, 0, sizeof(*h));
	if (!s)
		return 0;
	if ((rc = kube_discovery_load(ctx->client, err)))
		return rc;
	if ((rc = rel_helm_find(h, ctx->client, a, ns, release, err)) && err->status == 403) {
		kube_emit(ctx->client, KEV_WARN, "helm.unreadable",
			  karena_printf(a, "Helm's records of release %s in namespace %s cannot be read (%s): a release "
					   "Helm holds is not taken over", release, ns, err->first.msg),
			  "release", release, NULL);
		kerr_clear(err);
		memset(h, 0, sizeof(*h));
		return 0;
	}
	if (rc)
		return rc;
	if (h->found && helm_record)
		ctx->field_manager = "helm";
	if (h->found && *prior && helm_newer(h, *prior))
		return start_from_newer(h, *prior, s, ctx, a, err);
	if (!h->found || *prior)
		return 0;
	/* no deployed kstage revision: Helm's is where this run starts from */
	if ((rc = rel_helm_prior(prior, ctx->client, a, h, s->name, err)))
		return rc;
	ctx->force = true;   /* adopt: the fields helm manages become kstage's */
	kube_emit(ctx->client, KEV_INFO, "helm.takeover",
		  karena_printf(a, "taking over Helm release %s/%s revision %d: its objects are adopted (fields Helm "
				   "managed become kstage's; Helm's labels and annotations stay), what it rendered and "
				   "this run does not is pruned",
				h->ns, h->name, h->version),
		  "release", release, "revision", karena_printf(a, "%d", h->version), NULL);
	return 0;
}

int rel_helm_tested(rel_record **out, const rel_bundle *b, const rel_ctx *ctx, const char *release, karena *a,
		    kerr *err)
{
	const rel_stage *s = chart_stage(b);
	const char *ns = s && s->namespace ? s->namespace : ctx->namespace ? ctx->namespace : "default";
	const doc_node *hooks;
	rel_helm_release h;
	rel_record *r;
	kbuf m = KBUF_INIT;
	size_t i;
	int rc;
	*out = NULL;
	if (!s || (rc = rel_helm_find(&h, ctx->client, a, ns, release, err)) || !h.found)
		return s ? rc : 0;
	r = rel_record_new(a, release, h.version);
	rel_record_add_stage(a, r, s->name)->manifest = h.manifest;
	hooks = doc_map_get(h.release, "hooks");
	for (i = 0; hooks && hooks->type == DOC_SEQ && i < hooks->u.seq.len; i++)
		kbuf_printf(&m, "---\n%s\n", doc_get_str(hooks->u.seq.v[i], "manifest", ""));
	rel_record_add_stage(a, r, REL_HOOKS_STAGE)->manifest = karena_strndup(a, m.ptr ? m.ptr : "", m.len);
	kbuf_release(&m);
	kube_emit(ctx->client, KEV_INFO, "helm.tested",
		  karena_printf(a, "release %s: no kstage revision; the test hooks of Helm's revision %d (%s/%s) run",
				release, h.version, h.ns, h.secret_name),
		  "release", release, NULL);
	*out = r;
	return 0;
}

void rel_helm_finish(const rel_helm_release *h, const rel_bundle *b, const rel_ctx *ctx, const rel_record *rec,
		     bool write, karena *a)
{
	const rel_stage *s = chart_stage(b);
	const rel_rec_stage *st = s ? rel_record_stage(rec, s->name) : NULL;
	kerr e = KERR_INIT;
	rel_hooks hooks;
	int v = 0;
	if (!h->found || !st)
		return;
	if (!write) {
		kube_emit(ctx->client, KEV_WARN, "helm.stale",
			  karena_printf(a, "Helm's record of release %s/%s is now stale: `helm history` and `helm status` still "
					   "show revision %d (Secret %s); pass --helm-record to write kstage's revision there too",
					h->ns, h->name, h->version, h->secret_name),
			  "release", h->name, NULL);
		return;
	}
	if (rel_hooks_of_record(&hooks, a, rec, &e) ||
	    rel_helm_write(ctx->client, a, h, b->is_chart ? b->chart : NULL, b->is_chart ? ctx->values : NULL,
			   st->manifest, &hooks, ctx->notes && ctx->notes->len ? ctx->notes->ptr : NULL, &v, &e))
		kube_emit(ctx->client, KEV_ERROR, "helm.record_failed",
			  karena_printf(a, "the run is deployed, but Helm's record was not written: %s", e.first.msg),
			  "release", h->name, NULL);
	else
		kube_emit(ctx->client, KEV_INFO, "helm.record",
			  karena_printf(a, "Helm's record of release %s/%s: revision %d written (deployed), revision %d superseded",
					h->ns, h->name, v, h->version),
			  "release", h->name, "revision", karena_printf(a, "%d", v), NULL);
	kerr_clear(&e);
}

void rel_helm_mark(karena *a, kube_obj *objs, size_t n, const char *release, const char *ns)
{
	size_t i;
	for (i = 0; i < n; i++) {
		doc_set_path(a, objs[i].doc, "metadata.labels.app\\.kubernetes\\.io/managed-by", doc_new_str(a, "Helm"));
		doc_set_path(a, objs[i].doc, "metadata.annotations.meta\\.helm\\.sh/release-name", doc_new_str(a, release));
		doc_set_path(a, objs[i].doc, "metadata.annotations.meta\\.helm\\.sh/release-namespace", doc_new_str(a, ns));
	}
}
