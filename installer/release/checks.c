/*
 * release/checks.c - the preflight: every check of every enabled checks
 * stage, before any stage changes anything (plan, apply, verify).
 *
 * A check's `fail` template renders against the live cluster (lookup); a
 * non-blank result is a problem, and so is a template that fails. A
 * permissions check renders the later enabled stages (as the run will),
 * derives every verb and resource the run would send (objects: get, list,
 * create, patch, update, delete - apply, journal and rollback; jsonKeyMerge:
 * get, update configmaps; rolloutRestart: get, patch the workload) and asks
 * the API server with one SelfSubjectAccessReview each (sent with
 * dryRun=All, so a plan's client sends it too: it writes nothing). Every
 * check runs; the problems come back together in one error (exit 2).
 */
#include "release.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct perm {
	const char *verb, *group, *resource, *ns;   /* ns "" for cluster-scoped */
	bool denied;
	const char *why;
} perm;

typedef struct perms {
	perm *v;
	size_t n, cap;
} perms;

static void perm_add(perms *p, karena *a, const char *verb, const char *group, const char *resource, const char *ns)
{
	size_t i;
	ns = ns ? ns : "";
	for (i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].verb, verb) && !strcmp(p->v[i].group, group) && !strcmp(p->v[i].resource, resource) &&
		    !strcmp(p->v[i].ns, ns))
			return;
	ALLOC_GROW(p->v, p->n + 1, p->cap);
	memset(&p->v[p->n], 0, sizeof(p->v[p->n]));
	p->v[p->n].verb = verb;
	p->v[p->n].group = karena_strdup(a, group);
	p->v[p->n].resource = karena_strdup(a, resource);
	p->v[p->n++].ns = karena_strdup(a, ns);
}

static void perm_object(perms *p, karena *a, const char *group, const char *resource, const char *ns)
{
	static const char *const verbs[] = { "get", "list", "create", "patch", "update", "delete" };
	size_t i;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		perm_add(p, a, verbs[i], group, resource, ns);
}

/* The CRDs rendered by the run: what a kind not served yet maps to. */
static const doc_node *crd_for(kube_obj *const *crds, size_t n, const kube_obj *o)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(doc_get_str(crds[i]->doc, "spec.group", ""), o->group) &&
		    !strcmp(doc_get_str(crds[i]->doc, "spec.names.kind", ""), o->kind))
			return crds[i]->doc;
	return NULL;
}

/* What the enabled stages after index first would send. */
static int needed(perms *p, karena *a, const rel_bundle *b, size_t first, const rel_ctx *ctx, kerr *err)
{
	kube_obj **all = NULL, **crds = NULL;
	const char **stage_ns = NULL;
	size_t nall = 0, capall = 0, capns = 0, ncrds = 0, capcrds = 0, i, k;
	int rc = 0;
	for (i = first; i < b->nstages && !rc; i++) {
		const rel_stage *s = &b->stages[i];
		kube_obj *objs;
		size_t n;
		bool on;
		const char *sns = s->namespace ? s->namespace : ctx->namespace ? ctx->namespace : "default";
		if (s->checks || !rel_stage_selected(ctx, s) || (rel_stage_remote(s) && !s->sha256))
			continue;   /* an optional source not pinned: refused on its own */
		if ((rc = rel_stage_render(&objs, &n, &on, a, b, s, ctx, err))) {
			kerr_wrap(err, "stage %s", s->name);
			break;
		}
		if (!on)
			continue;
		for (k = 0; k < n; k++) {
			ALLOC_GROW(all, nall + 1, capall);
			ALLOC_GROW(stage_ns, nall + 1, capns);
			stage_ns[nall] = sns;
			all[nall++] = &objs[k];
			if (!strcmp(objs[k].kind, "CustomResourceDefinition")) {
				ALLOC_GROW(crds, ncrds + 1, capcrds);
				crds[ncrds++] = &objs[k];
			}
		}
		for (k = 0; k < s->nops; k++) {
			const rel_op *op = &s->ops[k];
			const char *ons, *oname;
			if ((rc = rel_op_target(&ons, &oname, a, b, s, op, sns, ctx, err)))
				break;
			if (op->type == REL_OP_JSON_KEY_MERGE) {
				perm_add(p, a, "get", "", "configmaps", ons);
				perm_add(p, a, "update", "", "configmaps", ons);
			} else {
				const char *res;
				rel_restart_kind(op, &res);
				perm_add(p, a, "get", "apps", res, ons);
				perm_add(p, a, "patch", "apps", res, ons);
			}
		}
	}
	for (i = 0; i < nall && !rc; i++) {
		kube_obj *o = all[i];
		kerr e = KERR_INIT;
		int r = kube_obj_resolve(ctx->client, a, o, stage_ns[i], &e);
		if (!r) {
			perm_object(p, a, o->res->group, o->res->resource, o->res->namespaced ? o->ns : "");
		} else if (r == KE_NOTFOUND) {
			const doc_node *crd = crd_for(crds, ncrds, o);
			if (crd) {
				bool nsd = strcmp(doc_get_str(crd, "spec.scope", "Namespaced"), "Cluster") != 0;
				perm_object(p, a, o->group, doc_get_str(crd, "spec.names.plural", ""),
					    nsd ? (o->ns ? o->ns : stage_ns[i]) : "");
			}
			/* else: a kind nobody serves; the run names it */
		} else {
			kerr_move(err, &e);
			rc = err->code;
		}
		kerr_clear(&e);
	}
	free(all);
	free(crds);
	free(stage_ns);
	return rc;
}

/* One SelfSubjectAccessReview. */
static int review(kube_client *c, karena *a, perm *pm, kerr *err)
{
	kbuf body = KBUF_INIT;
	kube_resp rs;
	doc_node *ans = NULL;
	int rc;
	kbuf_puts(&body, "{\"apiVersion\":\"authorization.k8s.io/v1\",\"kind\":\"SelfSubjectAccessReview\","
			 "\"spec\":{\"resourceAttributes\":{\"verb\":");
	doc_json_quote(&body, pm->verb, strlen(pm->verb), 0);
	kbuf_puts(&body, ",\"group\":");
	doc_json_quote(&body, pm->group, strlen(pm->group), 0);
	kbuf_puts(&body, ",\"resource\":");
	doc_json_quote(&body, pm->resource, strlen(pm->resource), 0);
	if (*pm->ns) {
		kbuf_puts(&body, ",\"namespace\":");
		doc_json_quote(&body, pm->ns, strlen(pm->ns), 0);
	}
	kbuf_puts(&body, "}}}");
	/* it changes nothing: repeating it is safe */
	rc = rel_kube_send(c, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews?dryRun=All", &body, &rs,
			   err);
	if (!rc && rs.status >= 400)
		rc = rel_kube_error(err, &rs, "create", "SelfSubjectAccessReview");
	if (!rc)
		rc = doc_load_json(&ans, a, "SelfSubjectAccessReview", rs.body.ptr, rs.body.len, err);
	if (!rc) {
		const doc_node *al = doc_get_path(ans, "status.allowed");
		pm->denied = !(al && al->type == DOC_BOOL && al->u.b);
		pm->why = doc_get_str(ans, "status.reason", NULL);
	}
	kube_resp_release(&rs);
	kbuf_release(&body);
	return rc;
}

typedef struct report {
	const rel_bundle *b;
	const rel_ctx *ctx;
	karena *a;
	kerr problems;
	size_t n;
} report;

static void problem(report *r, const char *stage, const char *check, const char *msg)
{
	kube_emit(r->ctx->client, KEV_ERROR, "check.failed", karena_printf(r->a, "check %s: %s", check, msg),
		  "stage", stage, "check", check, "problem", msg, NULL);
	kerr_add_at(&r->problems, KE_INPUT, NULL, 0, 0, "stage %s: check %s: %s", stage, check, msg);
	r->n++;
}

/* A problem that is an error: its first message after what; e cleared. */
static void problem_of(report *r, const char *stage, const char *check, const char *what, kerr *e)
{
	kbuf m = KBUF_INIT;
	kerr_format_short(e, &m);
	problem(r, stage, check, karena_printf(r->a, "%s%s", what, m.ptr ? m.ptr : ""));
	kbuf_release(&m);
	kerr_clear(e);
}

static void passed(report *r, const char *stage, const char *check, const char *finding)
{
	kube_emit(r->ctx->client, KEV_INFO, "check.passed",
		  karena_printf(r->a, "check %s: ok%s%s", check, finding && *finding ? ": " : "", finding ? finding : ""),
		  "stage", stage, "check", check, "finding", finding ? finding : "", NULL);
}

static const char *trimmed(karena *a, const kbuf *b)
{
	const char *s = b->ptr ? b->ptr : "";
	size_t n = b->len;
	while (n && strchr(" \t\r\n", *s)) {
		s++;
		n--;
	}
	while (n && strchr(" \t\r\n", s[n - 1]))
		n--;
	return karena_strndup(a, s, n);
}

static void run_check(report *r, const rel_stage *s, const rel_check *ck)
{
	kbuf out = KBUF_INIT;
	kerr e = KERR_INIT;
	const char *where = karena_printf(r->a, "%s:stage %s:check %s", r->b->file, s->name, ck->name);
	if (rel_render_string(&out, r->a, r->b, where, ck->fail ? ck->fail->u.s.ptr : "", r->ctx, &e)) {
		problem_of(r, s->name, ck->name, "", &e);
	} else if (*trimmed(r->a, &out)) {
		problem(r, s->name, ck->name, trimmed(r->a, &out));
	} else {
		const char *finding = NULL;
		kbuf_reset(&out);
		if (ck->info && !rel_render_string(&out, r->a, r->b, where, ck->info->u.s.ptr, r->ctx, &e))
			finding = trimmed(r->a, &out);
		else if (ck->info) {
			problem_of(r, s->name, ck->name, "info: ", &e);
			kbuf_release(&out);
			return;
		}
		passed(r, s->name, ck->name, finding);
	}
	kerr_clear(&e);
	kbuf_release(&out);
}

static void run_permissions(report *r, size_t si)
{
	const rel_stage *s = &r->b->stages[si];
	perms p = { NULL, 0, 0 };
	kerr e = KERR_INIT;
	size_t i, j, denied = 0;
	if (needed(&p, r->a, r->b, si + 1, r->ctx, &e)) {
		problem_of(r, s->name, "permissions", "cannot tell what the run needs: ", &e);
		free(p.v);
		return;
	}
	for (i = 0; i < p.n; i++) {
		if (review(r->ctx->client, r->a, &p.v[i], &e)) {
			problem_of(r, s->name, "permissions", "SelfSubjectAccessReview failed: ", &e);
			free(p.v);
			return;
		}
		denied += p.v[i].denied;
	}
	/* one problem per resource and namespace, naming every verb denied */
	for (i = 0; i < p.n; i++) {
		kbuf verbs = KBUF_INIT;
		const perm *pi = &p.v[i];
		if (!pi->denied || !pi->verb)
			continue;
		for (j = i; j < p.n; j++) {
			perm *pj = &p.v[j];
			if (!pj->denied || !pj->verb || strcmp(pj->group, pi->group) || strcmp(pj->resource, pi->resource) ||
			    strcmp(pj->ns, pi->ns))
				continue;
			kbuf_printf(&verbs, "%s%s", verbs.len ? ", " : "", pj->verb);
			if (j != i)
				pj->verb = NULL;
		}
		problem(r, s->name, "permissions",
			karena_printf(r->a, "may not %s %s%s%s %s%s", verbs.ptr, pi->resource, *pi->group ? "." : "", pi->group,
				      *pi->ns ? "in namespace " : "(cluster-wide)", pi->ns));
		kbuf_release(&verbs);
	}
	if (!denied)
		passed(r, s->name, "permissions",
		       karena_printf(r->a, "%zu verb%s and resource%s allowed", p.n, p.n == 1 ? "" : "s", p.n == 1 ? "" : "s"));
	free(p.v);
}

/* The API server's version for the checks' .Capabilities.KubeVersion
 * (GET /version, once); a failure is a problem of the preflight. */
static void server_version(report *r, const char *stage, rel_ctx *c)
{
	doc_node *v = NULL;
	kerr e = KERR_INIT;
	const char *gv;
	if (c->kube_version || !c->client)
		return;
	if (kube_get_json(c->client, r->a, "/version", &v, "the API server's version", &e)) {
		problem_of(r, stage, "api-server", "GET /version: ", &e);
		return;
	}
	gv = doc_get_str(v, "gitVersion", "");
	if (gv[0] != 'v' || !strchr(gv, '.'))
		problem(r, stage, "api-server", karena_printf(r->a, "GET /version: gitVersion \"%s\" is not a version", gv));
	else
		c->kube_version = gv;
}

int rel_preflight(const rel_bundle *b, const rel_ctx *ctx0, size_t *nchecks, kerr *err)
{
	report r;
	karena a;
	rel_ctx cx = *ctx0, *ctx = &cx;
	size_t i, j, total = 0;
	int rc = 0;
	memset(&r, 0, sizeof(r));
	karena_init(&a);
	r.b = b;
	r.ctx = ctx;
	r.a = &a;
	for (i = 0; i < b->nstages && !rc; i++) {
		const rel_stage *s = &b->stages[i];
		bool on;
		if (!s->checks)
			continue;
		if ((rc = rel_stage_enabled(&on, &a, b, s, ctx, err))) {
			kerr_wrap(err, "stage %s", s->name);
			break;
		}
		if (!on)
			continue;
		kube_emit(ctx->client, KEV_INFO, "stage.start", karena_printf(&a, "stage %s: %zu check%s", s->name, s->nchecks,
									     s->nchecks == 1 ? "" : "s"),
			  "stage", s->name, NULL);
		server_version(&r, s->name, ctx);
		for (j = 0; j < s->nchecks; j++) {
			if (s->checks[j].permissions)
				run_permissions(&r, i);
			else
				run_check(&r, s, &s->checks[j]);
			total++;
		}
	}
	for (i = 0; i < b->nstages && !rc; i++) {
		const rel_stage *s = &b->stages[i];
		kerr ee = KERR_INIT;
		bool on = false;
		if (!rel_stage_remote(s) || s->sha256 || !rel_stage_selected(ctx, s))
			continue;
		/* an `enabled` that cannot be told (a lookup refused) is left to the
		 * checks and permissions that report why */
		if (rel_stage_enabled(&on, &a, b, s, ctx, &ee))
			on = false;
		kerr_clear(&ee);
		if (on)
			problem(&r, s->name, "pinned",
				karena_printf(&a, "source %s is not pinned in %s/kstage.lock (an optional source, pin: "
					      "optional, left out of the lock). Pin it on a machine that reaches it: `kstage "
					      "fetch --update-lock` records the digest it fetched; or import an airgap bundle "
					      "exported there (`kstage bundle export`, `kstage bundle import`)",
					      s->url, b->dir));
	}
	if (!rc && r.n) {
		kbuf m = KBUF_INIT;
		kerr_format(&r.problems, &m);
		rc = kerr_set(err, KE_INPUT, "preflight: %zu problem%s, nothing was changed:\n%s", r.n, r.n == 1 ? "" : "s",
			      m.ptr);
		kbuf_release(&m);
	}
	if (nchecks)
		*nchecks = total;
	kerr_clear(&r.problems);
	karena_release(&a);
	return rc;
}
