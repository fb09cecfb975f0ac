/*
 * release/lookup.c - Helm's `lookup` against the live cluster, for the
 * templates of plan, apply and verify (tmpl.h's tmpl_lookup).
 *
 * As Helm's install and upgrade (pkg/engine/lookup_func.go): a name gives
 * the object, no name a list (kind "<Kind>List", each item with its
 * apiVersion and kind), NotFound an empty map; an empty namespace reads a
 * namespaced kind in every namespace. Unlike Helm, a kind the server does
 * not serve (no CRD yet) is an empty map too, so a check can ask whether
 * something is installed. Every part is checked as the API server checks
 * it before it reaches a path; only GETs are sent. Answers are kept until
 * rel_lookup_forget (the run changed something); the data of Secrets read
 * is taught to the run's redactor.
 */
#include "release.h"
#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

struct rel_lookup_ent {
	const char *key;
	doc_node *val;
};

void rel_lookup_init(rel_lookup *l, kube_client *c, kredact *secrets)
{
	memset(l, 0, sizeof(*l));
	karena_init(&l->a);
	l->c = c;
	l->secrets = secrets;
	l->t.fn = rel_lookup_get;
	l->t.u = l;
}

void rel_lookup_forget(rel_lookup *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
	karena_release(&l->a);
	karena_init(&l->a);
}

void rel_lookup_release(rel_lookup *l)
{
	free(l->v);
	karena_release(&l->a);
	memset(l, 0, sizeof(*l));
}

static void learn_secret(kredact *r, const doc_node *obj)
{
	const doc_node *d = doc_map_get(obj, "data");
	size_t j;
	for (j = 0; r && d && d->type == DOC_MAP && j < d->u.map.len; j++)
		if (d->u.map.v[j].val->type == DOC_STR)
			kredact_add_base64(r, d->u.map.v[j].val->u.s.ptr, d->u.map.v[j].val->u.s.len);
}

/* The request of one lookup, every part checked. */
static int lookup_path(kbuf *p, rel_lookup *l, const char *apiv, const char *kind, const char *ns,
		       const char *name, const kube_resource **res, kerr *err)
{
	const char *sl = strchr(apiv, '/'), *why;
	char *group = sl ? xstrndup(apiv, (size_t)(sl - apiv)) : xstrdup("");
	const char *version = sl ? sl + 1 : apiv;
	int rc = 0;
	*res = NULL;
	if ((why = kube_check_api_version(group, version)))
		rc = kerr_set(err, KE_INPUT, "apiVersion \"%s\": %s", apiv, why);
	else if ((why = kube_check_kind(kind)))
		rc = kerr_set(err, KE_INPUT, "kind \"%s\": %s", kind, why);
	else if (*ns && (why = kube_check_namespace(ns)))
		rc = kerr_set(err, KE_INPUT, "namespace \"%s\": %s", ns, why);
	else if (*name && (why = kube_check_name(group, kind, name)))
		rc = kerr_set(err, KE_INPUT, "name \"%s\": %s", name, why);
	else if (!(rc = kube_discovery_load(l->c, err)) && (*res = kube_discovery_find(l->c, apiv, kind))) {
		kbuf_puts(p, *group ? "/apis/" : "/api/");
		if (*group) {
			kube_path_escape(p, group);
			kbuf_putc(p, '/');
		}
		kube_path_escape(p, version);
		if ((*res)->namespaced && *ns) {
			kbuf_puts(p, "/namespaces/");
			kube_path_escape(p, ns);
		}
		kbuf_putc(p, '/');
		kube_path_escape(p, (*res)->resource);
		if (*name) {
			kbuf_putc(p, '/');
			kube_path_escape(p, name);
		}
	}
	free(group);
	return rc;
}

/* Ask the cluster (no cache). *out in l->a; NULL for "none". */
static int ask(rel_lookup *l, doc_node **out, const char *apiv, const char *kind, const char *ns,
	       const char *name, kerr *err)
{
	kbuf p = KBUF_INIT;
	const kube_resource *res;
	const char *what = *name ? karena_printf(&l->a, "%s/%s%s%s", kind, ns, *ns ? "/" : "", name)
				 : karena_printf(&l->a, "%s list%s%s", kind, *ns ? " in " : "", ns);
	kerr e = KERR_INIT;
	int rc = lookup_path(&p, l, apiv, kind, ns, name, &res, &e);
	*out = NULL;
	if (!rc && res) {
		rc = kube_get_json(l->c, &l->a, p.ptr, out, what, &e);
		if (rc == KE_NOTFOUND) {
			*out = NULL;
			rc = 0;
		}
	}
	kbuf_release(&p);
	if (rc) {
		kbuf m = KBUF_INIT;
		kerr_format_short(&e, &m);
		kerr_set_obj(err, rc, what, "lookup %s %s: %s", apiv, what, m.ptr);
		kbuf_release(&m);
		kerr_clear(&e);
		return rc;
	}
	kerr_clear(&e);
	if (*out && !*name) {
		const doc_node *items = doc_map_get(*out, "items");
		size_t i;
		for (i = 0; items && items->type == DOC_SEQ && i < items->u.seq.len; i++) {
			doc_node *it = items->u.seq.v[i];
			if (it->type != DOC_MAP)
				continue;
			doc_map_set(&l->a, it, "apiVersion", doc_new_str(&l->a, apiv));
			doc_map_set(&l->a, it, "kind", doc_new_str(&l->a, kind));
			if (!strcmp(kind, "Secret") && !strcmp(apiv, "v1"))
				learn_secret(l->secrets, it);
		}
	} else if (*out && !strcmp(kind, "Secret") && !strcmp(apiv, "v1")) {
		learn_secret(l->secrets, *out);
	}
	return 0;
}

int rel_lookup_get(void *u, doc_node **out, karena *a, const char *apiv, const char *kind, const char *ns,
		   const char *name, kerr *err)
{
	rel_lookup *l = u;
	char *key = karena_printf(&l->a, "%s\n%s\n%s\n%s", apiv, kind, ns, name);
	doc_node *v = NULL;
	size_t i;
	int rc;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			break;
	if (i < l->n) {
		v = l->v[i].val;
	} else {
		if ((rc = ask(l, &v, apiv, kind, ns, name, err)))
			return rc;
		ALLOC_GROW(l->v, l->n + 1, l->cap);
		l->v[l->n].key = key;
		l->v[l->n++].val = v;
	}
	/* a copy: templates may change the maps they get */
	*out = v ? doc_copy(a, v) : doc_new_map(a);
	return 0;
}
