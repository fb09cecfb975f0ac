/*
 * kube/discovery.c - which kinds the server has, their plural resource and
 * scope. Aggregated discovery (apidiscovery.k8s.io/v2: two requests for the
 * whole server) with a fallback to the per-group documents. Loaded once per
 * run; a CRD made Established by the run adds its kind from its own spec
 * (no request). Entries from older loads stay allocated (callers may hold
 * them) but are no longer found.
 */
#include "kube.h"
#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGG_ACCEPT "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
		   "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

typedef struct disc_ent {
	kube_resource r;
	unsigned gen;
	bool replaced;      /* a CRD learnt later says what its kind serves */
} disc_ent;

struct kube_discovery {
	disc_ent **v;
	size_t len, cap;
	unsigned gen;
	bool loaded;
};

void kube_discovery_free(kube_discovery *d);
void kube_discovery_free(kube_discovery *d)
{
	size_t i;
	if (!d)
		return;
	for (i = 0; i < d->len; i++) {
		free(d->v[i]->r.group);
		free(d->v[i]->r.version);
		free(d->v[i]->r.kind);
		free(d->v[i]->r.resource);
		free(d->v[i]);
	}
	free(d->v);
	free(d);
}

static kube_discovery *disc_of(kube_client *c)
{
	if (!c->disc)
		c->disc = xcalloc(1, sizeof(kube_discovery));
	return c->disc;
}

static void add_locked(kube_discovery *d, const char *group, const char *version, const char *kind,
		       const char *resource, bool namespaced)
{
	disc_ent *e;
	/* subresources ("deployments/scale") and anything that could not be a
	 * path segment the server meant are left out */
	if (!kind || kube_check_kind(kind) || !resource || kube_check_resource(resource) ||
	    kube_check_api_version(group ? group : "", version))
		return;
	e = xcalloc(1, sizeof(*e));
	e->r.group = xstrdup(group ? group : "");
	e->r.version = xstrdup(version);
	e->r.kind = xstrdup(kind);
	e->r.resource = xstrdup(resource);
	e->r.namespaced = namespaced;
	e->gen = d->gen;
	ALLOC_GROW(d->v, d->len + 1, d->cap);
	d->v[d->len++] = e;
}

void kube_discovery_add(kube_client *c, const char *group, const char *version, const char *kind,
			const char *resource, bool namespaced)
{
	kube_discovery *d;
	pthread_mutex_lock(&c->mu);
	d = disc_of(c);
	d->loaded = true;
	add_locked(d, group, version, kind, resource, namespaced);
	pthread_mutex_unlock(&c->mu);
}

void kube_discovery_learn_crd(kube_client *c, const doc_node *crd)
{
	const char *group = doc_get_str(crd, "spec.group", NULL);
	const char *kind = doc_get_str(crd, "spec.names.kind", NULL);
	const char *plural = doc_get_str(crd, "spec.names.plural", NULL);
	const doc_node *vers = doc_get_path(crd, "spec.versions");
	bool namespaced = !strcmp(doc_get_str(crd, "spec.scope", ""), "Namespaced");
	kube_discovery *d;
	size_t i;
	if (!group || !kind || !plural || !vers || vers->type != DOC_SEQ)
		return;
	pthread_mutex_lock(&c->mu);
	d = disc_of(c);
	if (d->loaded) {
		for (i = 0; i < d->len; i++)
			if (d->v[i]->gen == d->gen && !strcmp(d->v[i]->r.group, group) && !strcmp(d->v[i]->r.kind, kind))
				d->v[i]->replaced = true;
		for (i = 0; i < vers->u.seq.len; i++) {
			const char *v = doc_get_str(vers->u.seq.v[i], "name", NULL);
			if (v && doc_get_bool(vers->u.seq.v[i], "served", false))
				add_locked(d, group, v, kind, plural, namespaced);
		}
	}
	pthread_mutex_unlock(&c->mu);
}

/* Group versions the per-group fallback reads, one request each: a real
 * cluster has a few hundred at most; a hostile one is not read on for ever. */
#define DISCOVERY_MAX_GROUP_VERSIONS 2048

/* What a discovery answer must be: an object of kind want (when it names
 * one) whose list field, when present, is a list. Anything else is a bad
 * answer, as invalid JSON is: KE_INPUT, naming the path and what came (a
 * group's bad answer is then a warning, as an unavailable group is). */
static int check_shape(const doc_node *v, const char *path, const char *want, const char *field, kerr *err)
{
	const char *kind = doc_get_str(v, "kind", NULL);
	const doc_node *l = v && v->type == DOC_MAP ? doc_map_get(v, field) : NULL;
	if (!v || v->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "discovery %s: the API server's answer is not a JSON object (want %s)",
				path, want);
	if (kind && strcmp(kind, want))
		return kerr_set(err, KE_INPUT, "discovery %s: the API server answered kind \"%.64s\", want %s", path,
				kind, want);
	if (l && l->type != DOC_SEQ && l->type != DOC_NULL)
		return kerr_set(err, KE_INPUT, "discovery %s: %s in the API server's %s is not a list", path, field,
				want);
	return 0;
}

/* A resource name as the server lists it: a resource, or resource/sub for
 * a subresource; NULL when it is one, else why not. */
static const char *resource_name_problem(const char *name)
{
	const char *slash = strchr(name, '/'), *why;
	char head[64];
	if (!slash)
		return kube_check_resource(name);
	if ((size_t)(slash - name) >= sizeof(head))
		return "must be no more than 63 characters";
	memcpy(head, name, (size_t)(slash - name));
	head[slash - name] = '\0';
	return (why = kube_check_resource(head)) ? why : kube_check_resource(slash + 1);
}

/* Every resource an answer lists (field names the name: "name" in an
 * APIResourceList, "resource" in aggregated discovery) is a name the server
 * could mean: a name that would climb or add a query ("../secrets",
 * "x?dryRun=None") is a bad answer, KE_INPUT naming the path, as a
 * malformed answer is; never silently dropped, which turns the answer's
 * kinds into unknown ones. */
static int check_resources(const doc_node *res, const char *path, const char *field, kerr *err)
{
	size_t k;
	for (k = 0; res && res->type == DOC_SEQ && k < res->u.seq.len; k++) {
		const char *name = doc_get_str(res->u.seq.v[k], field, NULL);
		const char *why = name ? resource_name_problem(name) : NULL;
		if (why) {
			kbuf q = KBUF_INIT;
			char cut[80];
			int rc;
			snprintf(cut, sizeof(cut), "%s", name);
			kube_quote(&q, cut);
			rc = kerr_set(err, KE_INPUT, "discovery %s: resource %s%s is not a resource name: %s", path, q.ptr,
				      strlen(name) >= sizeof(cut) ? "..." : "", why);
			kbuf_release(&q);
			return rc;
		}
	}
	return 0;
}

static int check_names(const doc_node *v, const char *path, bool aggregated, kerr *err)
{
	const doc_node *items = aggregated ? doc_map_get(v, "items") : NULL;
	size_t i, j;
	int rc = 0;
	if (!aggregated)
		return check_resources(doc_map_get(v, "resources"), path, "name", err);
	for (i = 0; !rc && items && items->type == DOC_SEQ && i < items->u.seq.len; i++) {
		const doc_node *vers = doc_map_get(items->u.seq.v[i], "versions");
		for (j = 0; !rc && vers && vers->type == DOC_SEQ && j < vers->u.seq.len; j++)
			rc = check_resources(doc_map_get(vers->u.seq.v[j], "resources"), path, "resource", err);
	}
	return rc;
}

static int get(kube_client *c, karena *a, const char *path, const char *accept, doc_node **out,
	       bool *aggregated, const char *want, const char *field, kerr *err)
{
	kube_req rq = { 0 };
	kube_resp rs;
	int rc;
	rq.method = "GET";
	rq.path = path;
	rq.accept = accept;
	rq.idempotent = true;
	kube_resp_init(&rs);
	rc = kube_do(c, &rq, &rs, err);
	if (!rc && rs.status >= 400) {
		kbuf what = KBUF_INIT;
		kbuf_printf(&what, "discovery %s", path);
		rc = kube_status_error(err, rs.status, rs.body.ptr, rs.body.len, what.ptr, NULL);
		kbuf_release(&what);
	}
	if (!rc) {
		if (aggregated)
			*aggregated = strstr(rs.content_type.ptr, "apidiscovery.k8s.io") != NULL;
		rc = doc_load_json(out, a, path, rs.body.ptr, rs.body.len, err);
		if (rc)
			kerr_wrap(err, "discovery %s", path);
		else if (aggregated && *aggregated)
			rc = check_shape(*out, path, "APIGroupDiscoveryList", "items", err);
		else
			rc = check_shape(*out, path, want, field, err);
		if (!rc && ((aggregated && *aggregated) || !strcmp(want, "APIResourceList")))
			rc = check_names(*out, path, aggregated && *aggregated, err);
	}
	kube_resp_release(&rs);
	return rc;
}

static void parse_aggregated(kube_discovery *d, const doc_node *list)
{
	const doc_node *items = doc_map_get(list, "items");
	size_t i, j, k;
	for (i = 0; items && items->type == DOC_SEQ && i < items->u.seq.len; i++) {
		const doc_node *g = items->u.seq.v[i];
		const char *group = doc_get_str(g, "metadata.name", "");
		const doc_node *vers = doc_map_get(g, "versions");
		for (j = 0; vers && vers->type == DOC_SEQ && j < vers->u.seq.len; j++) {
			const doc_node *v = vers->u.seq.v[j];
			const char *ver = doc_get_str(v, "version", NULL);
			const doc_node *res = doc_map_get(v, "resources");
			if (!ver)
				continue;
			for (k = 0; res && res->type == DOC_SEQ && k < res->u.seq.len; k++) {
				const doc_node *r = res->u.seq.v[k];
				add_locked(d, group, ver, doc_get_str(r, "responseKind.kind", NULL),
					   doc_get_str(r, "resource", NULL),
					   !strcmp(doc_get_str(r, "scope", ""), "Namespaced"));
			}
		}
	}
}

static void parse_resource_list(kube_discovery *d, const char *group, const char *version,
				const doc_node *list)
{
	const doc_node *res = doc_map_get(list, "resources");
	size_t k;
	for (k = 0; res && res->type == DOC_SEQ && k < res->u.seq.len; k++) {
		const doc_node *r = res->u.seq.v[k];
		add_locked(d, group, version, doc_get_str(r, "kind", NULL), doc_get_str(r, "name", NULL),
			   doc_get_bool(r, "namespaced", false));
	}
}

static int load(kube_client *c, kerr *err)
{
	karena a = KARENA_INIT;
	doc_node *core = NULL, *apis = NULL;
	bool agg1 = false, agg2 = false;
	int rc;
	kube_discovery *d;
	size_t i, j;

	rc = get(c, &a, "/api", AGG_ACCEPT, &core, &agg1, "APIVersions", "versions", err);
	if (!rc)
		rc = get(c, &a, "/apis", AGG_ACCEPT, &apis, &agg2, "APIGroupList", "groups", err);
	if (rc) {
		karena_release(&a);
		return rc;
	}
	pthread_mutex_lock(&c->mu);
	d = disc_of(c);
	d->gen++;
	pthread_mutex_unlock(&c->mu);
	if (agg1 && agg2) {
		pthread_mutex_lock(&c->mu);
		parse_aggregated(d, core);
		parse_aggregated(d, apis);
		d->loaded = true;
		pthread_mutex_unlock(&c->mu);
		karena_release(&a);
		kube_emit(c, KEV_DEBUG, "discovery", "aggregated discovery loaded", NULL);
		return 0;
	}
	/* per-group fallback */
	{
		const doc_node *vs = doc_map_get(core, "versions");
		const doc_node *gs = doc_map_get(apis, "groups");
		size_t ngv = vs && vs->type == DOC_SEQ ? vs->u.seq.len : 0;
		for (i = 0; gs && gs->type == DOC_SEQ && i < gs->u.seq.len; i++) {
			const doc_node *gv = doc_map_get(gs->u.seq.v[i], "versions");
			ngv += gv && gv->type == DOC_SEQ ? gv->u.seq.len : 0;
		}
		if (ngv > DISCOVERY_MAX_GROUP_VERSIONS) {
			karena_release(&a);
			return kerr_set(err, KE_INPUT, "discovery /apis: the API server lists %zu group versions, more than "
					"the %d kstage reads (one request each)", ngv, DISCOVERY_MAX_GROUP_VERSIONS);
		}
		for (i = 0; vs && vs->type == DOC_SEQ && i < vs->u.seq.len; i++) {
			kbuf p = KBUF_INIT;
			doc_node *l;
			const char *v = vs->u.seq.v[i]->type == DOC_STR ? vs->u.seq.v[i]->u.s.ptr : NULL;
			if (!v)
				continue;
			kbuf_puts(&p, "/api/");
			kube_path_escape(&p, v);
			rc = get(c, &a, p.ptr, NULL, &l, NULL, "APIResourceList", "resources", err);
			kbuf_release(&p);
			if (rc)
				break;
			pthread_mutex_lock(&c->mu);
			parse_resource_list(d, "", v, l);
			pthread_mutex_unlock(&c->mu);
		}
		for (i = 0; !rc && gs && gs->type == DOC_SEQ && i < gs->u.seq.len; i++) {
			const doc_node *g = gs->u.seq.v[i];
			const doc_node *gv = doc_map_get(g, "versions");
			const char *gname = doc_get_str(g, "name", "");
			for (j = 0; gv && gv->type == DOC_SEQ && j < gv->u.seq.len; j++) {
				const char *gvs = doc_get_str(gv->u.seq.v[j], "groupVersion", NULL);
				const char *ver = doc_get_str(gv->u.seq.v[j], "version", NULL);
				kbuf p = KBUF_INIT;
				doc_node *l;
				kerr e2 = KERR_INIT;
				if (!gvs || !ver)
					continue;
				kbuf_puts(&p, "/apis/");
				kube_path_escape(&p, gname);
				kbuf_putc(&p, '/');
				kube_path_escape(&p, ver);
				if (get(c, &a, p.ptr, NULL, &l, NULL, "APIResourceList", "resources", &e2) == 0) {
					pthread_mutex_lock(&c->mu);
					parse_resource_list(d, gname, ver, l);
					pthread_mutex_unlock(&c->mu);
				} else {
					/* an unavailable aggregated API must not stop the run */
					kube_emit(c, KEV_WARN, "discovery.group", e2.first.msg, "group", gvs, NULL);
				}
				if (e2.code == KE_CLUSTER && e2.status != 429 && e2.status < 500) {
					/* unreachable or refused credentials: the run cannot go
					 * on; a group's server failing (503) is a warning */
					kerr_move(err, &e2);
					rc = KE_CLUSTER;
				}
				kerr_clear(&e2);
				kbuf_release(&p);
				if (rc)
					break;
			}
		}
	}
	if (!rc) {
		pthread_mutex_lock(&c->mu);
		d->loaded = true;
		pthread_mutex_unlock(&c->mu);
		kube_emit(c, KEV_DEBUG, "discovery", "per-group discovery loaded", NULL);
	}
	karena_release(&a);
	return rc;
}

int kube_discovery_load(kube_client *c, kerr *err)
{
	bool loaded;
	pthread_mutex_lock(&c->mu);
	loaded = c->disc && c->disc->loaded;
	pthread_mutex_unlock(&c->mu);
	return loaded ? 0 : load(c, err);
}

int kube_discovery_refresh(kube_client *c, kerr *err)
{
	return load(c, err);
}

const kube_resource *kube_discovery_find(kube_client *c, const char *api_version, const char *kind)
{
	const char *sl = strchr(api_version, '/');
	size_t glen = sl ? (size_t)(sl - api_version) : 0;
	const char *ver = sl ? sl + 1 : api_version;
	const kube_resource *found = NULL;
	size_t i;
	pthread_mutex_lock(&c->mu);
	if (c->disc) {
		kube_discovery *d = c->disc;
		for (i = d->len; i-- > 0 && !found;) {
			const disc_ent *e = d->v[i];
			if (e->gen != d->gen || e->replaced)
				continue;
			if (strcmp(e->r.kind, kind) || strcmp(e->r.version, ver))
				continue;
			if (strlen(e->r.group) != glen || strncmp(e->r.group, api_version, glen))
				continue;
			found = &e->r;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return found;
}
