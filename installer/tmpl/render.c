/* tmpl/render.c - rendering a Helm chart as `helm template` does
 * (pkg/engine/engine.go, pkg/action/install.go renderResources,
 * pkg/release/v1/util/manifest_sorter.go): the top-level objects
 * (.Values .Release .Chart .Capabilities .Template .Files .Subcharts),
 * every template of every enabled chart parsed into one set in Helm's
 * order, executed, "<no value>" removed, split into documents, hooks set
 * apart, sorted by kind. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pthread.h>
#include <unistd.h>
#include <yaml.h>

#include "chart.h"
#include "core/alloc.h"
#include "tmpl_int.h"

#define DEFAULT_KUBE_VERSION "v1.35.0"

static const char *const default_api_versions[] = {
	"v1", "admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1alpha1",
	"admissionregistration.k8s.io/v1beta1", "internal.apiserver.k8s.io/v1alpha1", "apps/v1",
	"apps/v1beta1", "apps/v1beta2", "authentication.k8s.io/v1", "authentication.k8s.io/v1alpha1",
	"authentication.k8s.io/v1beta1", "authorization.k8s.io/v1", "authorization.k8s.io/v1beta1",
	"autoscaling/v1", "autoscaling/v2", "autoscaling/v2beta1", "autoscaling/v2beta2", "batch/v1",
	"batch/v1beta1", "certificates.k8s.io/v1", "certificates.k8s.io/v1beta1",
	"certificates.k8s.io/v1alpha1", "coordination.k8s.io/v1alpha2", "coordination.k8s.io/v1beta1",
	"coordination.k8s.io/v1", "discovery.k8s.io/v1", "discovery.k8s.io/v1beta1", "events.k8s.io/v1",
	"events.k8s.io/v1beta1", "extensions/v1beta1", "flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta1", "flowcontrol.apiserver.k8s.io/v1beta2",
	"flowcontrol.apiserver.k8s.io/v1beta3", "networking.k8s.io/v1", "networking.k8s.io/v1beta1",
	"node.k8s.io/v1", "node.k8s.io/v1alpha1", "node.k8s.io/v1beta1", "policy/v1", "policy/v1beta1",
	"rbac.authorization.k8s.io/v1", "rbac.authorization.k8s.io/v1beta1",
	"rbac.authorization.k8s.io/v1alpha1", "resource.k8s.io/v1", "resource.k8s.io/v1beta2",
	"resource.k8s.io/v1beta1", "resource.k8s.io/v1alpha3", "scheduling.k8s.io/v1alpha1",
	"scheduling.k8s.io/v1beta1", "scheduling.k8s.io/v1", "storage.k8s.io/v1beta1", "storage.k8s.io/v1",
	"storage.k8s.io/v1alpha1", "storagemigration.k8s.io/v1beta1", "apiextensions.k8s.io/v1beta1",
	"apiextensions.k8s.io/v1",
};

typedef struct rfile {
	const char *name;      /* "chart/templates/x.yaml" */
	const tmpl_file *f;
	doc_node *top;         /* the chart's top-level object */
	const char *base_path; /* "chart/templates" */
	kbuf out;
	bool rendered;
} rfile;

typedef struct rctx {
	karena *a;
	const tmpl_render_opts *o;
	doc_node *release, *caps;
	rfile *files;
	size_t nfiles, cap;
	tmpl_manifest *crds;
	size_t ncrds, capcrds;
	kerr *err;
} rctx;

static tmpl_chart *chart_of(values_chart *v)
{
	values_chart *o = v->origin ? v->origin : v;
	return (tmpl_chart *)(void *)((char *)o - offsetof(tmpl_chart, vc));
}

static doc_node *named_map(karena *a, const char *type)
{
	return &tobj_new(a, TOBJ_NAMED, type, DOC_MAP)->n;
}

/* A Chart.yaml scalar read into a Go string field, as Helm 4 does: numbers
 * in Go's form, booleans as words; anything else is "". */
static doc_node *scalar_str(karena *a, doc_node *v)
{
	if (v && v->type == DOC_STR)
		return v;
	if (v && v->type == DOC_BOOL)
		return tv_strz(a, v->u.b ? "true" : "false");
	if (v && (v->type == DOC_INT || v->type == DOC_FLOAT)) {
		kbuf b = KBUF_INIT;
		doc_node *r;
		tv_print(&b, v);
		r = tv_str(a, b.ptr, b.len);
		kbuf_release(&b);
		return r;
	}
	return tv_strz(a, "");
}

static doc_node *str_or_empty(karena *a, const doc_node *m, const char *k)
{
	return scalar_str(a, doc_map_get(m, k));
}

/* a []string of Chart.yaml: scalars as strings, as Helm 4 reads them */
static doc_node *list_or_empty(karena *a, const doc_node *m, const char *k)
{
	doc_node *v = doc_map_get(m, k), *r;
	size_t i;
	if (!v || v->type != DOC_SEQ)
		return tv_seq(a);
	r = tv_seq(a);
	for (i = 0; i < v->u.seq.len; i++) {
		doc_node *e = v->u.seq.v[i];
		doc_seq_push(a, r, e && (e->type == DOC_BOOL || e->type == DOC_INT || e->type == DOC_FLOAT)
					   ? scalar_str(a, e) : e);
	}
	return r;
}

/* import-values as processImportValues leaves them: each a
 * map[string]string of child and parent (fmt's %v of what was given), a
 * string s as child "exports.s", parent "." */
static doc_node *import_values(karena *a, const doc_node *iv)
{
	doc_node *out = tv_seq(a);
	size_t i;
	for (i = 0; iv && iv->type == DOC_SEQ && i < iv->u.seq.len; i++) {
		const doc_node *e = iv->u.seq.v[i];
		doc_node *m;
		if (e->type == DOC_STR) {
			m = tv_map(a);
			doc_map_set(a, m, "child", tv_strz(a, karena_printf(a, "exports.%s", e->u.s.ptr)));
			doc_map_set(a, m, "parent", tv_strz(a, "."));
		} else if (e->type == DOC_MAP) {
			static const char *const keys[] = { "child", "parent" };
			size_t k;
			m = tv_map(a);
			for (k = 0; k < 2; k++) {
				kbuf b = KBUF_INIT;
				tv_print(&b, doc_map_get(e, keys[k]));
				doc_map_set(a, m, keys[k], tv_str(a, b.ptr, b.len));
				kbuf_release(&b);
			}
		} else {
			continue;
		}
		m->flags |= TV_SMAP;
		doc_seq_push(a, out, m);
	}
	return out;
}

/* .Chart.Dependencies as Helm 4 gives them after processing: the enabled
 * dependencies, in Chart.yaml order, named by their alias */
static doc_node *chart_deps(karena *a, const doc_node *md, const values_chart *vc)
{
	doc_node *out = tv_seq(a), *deps = doc_map_get(md, "dependencies");
	size_t i, k;
	for (i = 0; deps && deps->type == DOC_SEQ && i < deps->u.seq.len; i++) {
		doc_node *d = deps->u.seq.v[i], *m, *tags, *iv;
		const char *name = doc_get_str(d, "name", ""), *alias = doc_get_str(d, "alias", "");
		const char *eff = *alias ? alias : name;
		bool enabled = false;
		for (k = 0; vc && k < vc->neffective; k++)
			if (vc->effective[k] && vc->effective[k]->enabled && vc->effective[k]->effective_name &&
			    !strcmp(vc->effective[k]->effective_name, eff))
				enabled = true;
		if (!enabled)
			continue;
		m = tv_map(a);
		doc_map_set(a, m, "Alias", tv_strz(a, alias));
		doc_map_set(a, m, "Condition", str_or_empty(a, d, "condition"));
		doc_map_set(a, m, "Enabled", tv_bool(true));
		iv = doc_map_get(d, "import-values");
		doc_map_set(a, m, "ImportValues", import_values(a, iv));
		doc_map_set(a, m, "Name", tv_strz(a, eff));
		doc_map_set(a, m, "Repository", str_or_empty(a, d, "repository"));
		tags = doc_map_get(d, "tags");
		doc_map_set(a, m, "Tags", tags && tags->type == DOC_SEQ ? tags : tv_seq(a));
		doc_map_set(a, m, "Version", str_or_empty(a, d, "version"));
		doc_seq_push(a, out, m);
	}
	return out;
}

/* .Chart as Helm 4 gives it: a map of the metadata fields */
static doc_node *chart_obj(karena *a, tmpl_chart *c, const values_chart *vc, const char *name, bool root)
{
	doc_node *m = tv_map(a), *md = c->metadata, *ann;
	doc_map_set(a, m, "APIVersion", tv_strz(a, c->api_version ? c->api_version : "v1"));
	ann = doc_map_get(md, "annotations");
	if (ann && ann->type == DOC_MAP) {
		/* map[string]string: scalars as strings */
		doc_node *sm = tv_map(a);
		size_t i;
		for (i = 0; i < ann->u.map.len; i++) {
			doc_pair *p = &ann->u.map.v[i];
			doc_map_setn(a, sm, p->key->u.s.ptr, p->key->u.s.len, scalar_str(a, p->val));
		}
		ann = sm;
	}
	doc_map_set(a, m, "Annotations", ann && ann->type == DOC_MAP ? ann : tv_map(a));
	doc_map_set(a, m, "AppVersion", str_or_empty(a, md, "appVersion"));
	doc_map_set(a, m, "Condition", str_or_empty(a, md, "condition"));
	doc_map_set(a, m, "Dependencies", chart_deps(a, md, vc));
	doc_map_set(a, m, "Deprecated", tv_bool(doc_get_bool(md, "deprecated", false)));
	doc_map_set(a, m, "Description", str_or_empty(a, md, "description"));
	doc_map_set(a, m, "Home", str_or_empty(a, md, "home"));
	doc_map_set(a, m, "Icon", str_or_empty(a, md, "icon"));
	doc_map_set(a, m, "IsRoot", tv_bool(root));
	doc_map_set(a, m, "Keywords", list_or_empty(a, md, "keywords"));
	doc_map_set(a, m, "KubeVersion", str_or_empty(a, md, "kubeVersion"));
	{
		/* maintainers as Helm 4 maps them: Name, Email, URL */
		doc_node *ml = doc_map_get(md, "maintainers"), *out = tv_seq(a);
		size_t i;
		for (i = 0; ml && ml->type == DOC_SEQ && i < ml->u.seq.len; i++) {
			doc_node *mm = tv_map(a), *src = ml->u.seq.v[i];
			doc_map_set(a, mm, "Email", str_or_empty(a, src, "email"));
			doc_map_set(a, mm, "Name", str_or_empty(a, src, "name"));
			doc_map_set(a, mm, "URL", str_or_empty(a, src, "url"));
			doc_seq_push(a, out, mm);
		}
		doc_map_set(a, m, "Maintainers", out);
	}
	doc_map_set(a, m, "Name", tv_strz(a, name));
	doc_map_set(a, m, "Sources", list_or_empty(a, md, "sources"));
	doc_map_set(a, m, "Tags", str_or_empty(a, md, "tags"));
	doc_map_set(a, m, "Type", str_or_empty(a, md, "type"));
	doc_map_set(a, m, "Version", str_or_empty(a, md, "version"));
	return m;
}

/* k8s.io/apimachinery's version.ParseGeneric, which Helm 4 reads
 * --kube-version with: "v?N.N[.N...]" and anything after, which is dropped.
 * norm gets "v" and the numbers (Helm's normalized KubeVersion, String()).
 * Returns 0, or -1 with Helm's reason in why. */
static int kube_version_parse(const char *ver, kbuf *norm, uint64_t *major, uint64_t *minor, kbuf *why)
{
	const char *p = ver;
	size_t nc = 0;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
		p++;
	if (*p == 'v')
		p++;
	if (*p < '0' || *p > '9') {
		kbuf_puts(why, "could not parse ");
		tv_quote(why, ver, strlen(ver));
		kbuf_puts(why, " as version");
		return -1;
	}
	kbuf_putc(norm, 'v');
	for (;;) {
		const char *c = p;
		uint64_t v = 0;
		bool over = false;
		while (*p >= '0' && *p <= '9') {
			if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
				over = true;
			v = v * 10 + (uint64_t)(*p - '0');
			p++;
		}
		if (nc == 0 && *c == '0' && p - c > 1) {
			kbuf_puts(why, "illegal zero-prefixed version component ");
			tv_quote(why, c, (size_t)(p - c));
			kbuf_puts(why, " in ");
			tv_quote(why, ver, strlen(ver));
			return -1;
		}
		if (over) {
			kbuf_puts(why, "illegal non-numeric version component ");
			tv_quote(why, c, (size_t)(p - c));
			kbuf_puts(why, " in ");
			tv_quote(why, ver, strlen(ver));
			kbuf_puts(why, ": strconv.ParseUint: parsing ");
			tv_quote(why, c, (size_t)(p - c));
			kbuf_puts(why, ": value out of range");
			return -1;
		}
		if (nc == 0)
			*major = v;
		else if (nc == 1)
			*minor = v;
		kbuf_printf(norm, "%s%llu", nc ? "." : "", (unsigned long long)v);
		nc++;
		if (p[0] != '.' || p[1] < '0' || p[1] > '9')
			break;
		p++;
	}
	if (nc < 2) {
		kbuf_puts(why, "illegal version string ");
		tv_quote(why, ver, strlen(ver));
		return -1;
	}
	return 0;
}

/* Helm refuses a chart whose kubeVersion (the top chart's only) does not
 * admit the cluster's normalized version, or does not parse. */
static int check_kube_version(rctx *r, tmpl_chart *chart)
{
	const doc_node *kv = chart->metadata ? doc_map_get(chart->metadata, "kubeVersion") : NULL;
	const doc_node *kvo = doc_map_get(r->caps, "KubeVersion");
	const doc_node *norm = doc_map_get(kvo, "Normalized"), *full = doc_map_get(kvo, "Version");
	tsemver v;
	if (!kv || kv->type != DOC_STR || !kv->u.s.len || !norm || !full)
		return 0;
	if (!tsemver_parse(&v, r->a, norm->u.s.ptr, norm->u.s.len) &&
	    tsemver_check(r->a, kv->u.s.ptr, kv->u.s.len, &v) == 1)
		return 0;
	return kerr_set(r->err, KE_INPUT, "chart requires kubeVersion: %s which is incompatible with Kubernetes %s",
			kv->u.s.ptr, full->u.s.ptr);
}

static int make_caps(rctx *r)
{
	karena *a = r->a;
	tobj *caps = tobj_new(a, TOBJ_NAMED, "*common.Capabilities", DOC_MAP);
	tobj *kv = tobj_new(a, TOBJ_KUBEVERSION, "common.KubeVersion", DOC_MAP);
	tobj *apis = tobj_new(a, TOBJ_APIVERSIONS, "common.VersionSet", DOC_SEQ);
	tobj *hv = tobj_new(a, TOBJ_NAMED, "version.BuildInfo", DOC_MAP);
	const char *ver = r->o->kube_version ? r->o->kube_version : DEFAULT_KUBE_VERSION;
	kbuf norm = KBUF_INIT, why = KBUF_INIT;
	uint64_t major = 0, minor = 0;
	size_t i;
	char buf[32];
	caps->n.flags |= TV_STRUCT;
	kv->n.flags |= TV_STRUCT;
	hv->n.flags |= TV_STRUCT;
	if (kube_version_parse(ver, &norm, &major, &minor, &why)) {
		int rc = kerr_set(r->err, KE_USAGE, "invalid kube version '%s': %s", ver, why.ptr);
		kbuf_release(&norm);
		kbuf_release(&why);
		return rc;
	}
	{
		/* Helm 4's KubeVersion: Version as given (with a "v"), the
		 * normalized numbers (String()), Major, Minor; GitVersion() is
		 * Version */
		char *v = karena_printf(a, "%s%s", ver[0] == 'v' ? "" : "v", ver);
		doc_map_set(a, &kv->n, "Version", tv_strz(a, v));
		doc_map_set(a, &kv->n, "Normalized", tv_str(a, norm.ptr, norm.len));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)major);
		doc_map_set(a, &kv->n, "Major", tv_strz(a, buf));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)minor);
		doc_map_set(a, &kv->n, "Minor", tv_strz(a, buf));
	}
	kbuf_release(&norm);
	kbuf_release(&why);
	for (i = 0; i < sizeof(default_api_versions) / sizeof(default_api_versions[0]); i++)
		doc_seq_push(a, &apis->n, tv_strz(a, default_api_versions[i]));
	for (i = 0; i < r->o->napi_versions; i++)
		doc_seq_push(a, &apis->n, tv_strz(a, r->o->api_versions[i]));
	doc_map_set(a, &hv->n, "Version", tv_strz(a, "v4.1.4"));
	doc_map_set(a, &hv->n, "GitCommit", tv_strz(a, "05fa37973dc9e42b76e1d2883494c87174b6074f"));
	doc_map_set(a, &hv->n, "GitTreeState", tv_strz(a, "clean"));
	doc_map_set(a, &hv->n, "GoVersion", tv_strz(a, "go1.25.9"));
	doc_map_set(a, &hv->n, "KubeClientVersion", tv_strz(a, "v1.35"));
	doc_map_set(a, &caps->n, "KubeVersion", &kv->n);
	doc_map_set(a, &caps->n, "APIVersions", &apis->n);
	doc_map_set(a, &caps->n, "HelmVersion", &hv->n);
	r->caps = &caps->n;
	return 0;
}

static doc_node *files_obj(karena *a, tmpl_chart *c)
{
	tobj *o = tobj_new(a, TOBJ_FILES, "engine.files", DOC_MAP);
	size_t i;
	size_t n = 0;
	for (i = 0; i < c->nfiles; i++)
		if (c->files[i].kind == TMPL_FILE_OTHER)
			n++;
	o->n.u.map.v = karena_alloc(a, (n + 1) * sizeof(doc_pair));
	o->n.u.map.cap = n + 1;
	for (i = 0; i < c->nfiles; i++) {
		doc_pair *p;
		if (c->files[i].kind != TMPL_FILE_OTHER)
			continue;
		p = &o->n.u.map.v[o->n.u.map.len++];
		p->key = tv_strz(a, c->files[i].name);
		p->val = tv_str(a, c->files[i].data, c->files[i].len);
		p->val->flags |= TV_BYTES;
	}
	return &o->n;
}

static void add_file(rctx *r, const char *name, const tmpl_file *f, doc_node *top, const char *base)
{
	ALLOC_GROW(r->files, r->nfiles + 1, r->cap);
	memset(&r->files[r->nfiles], 0, sizeof(rfile));
	r->files[r->nfiles].name = name;
	r->files[r->nfiles].f = f;
	r->files[r->nfiles].top = top;
	r->files[r->nfiles].base_path = base;
	kbuf_init(&r->files[r->nfiles].out, 0);
	r->nfiles++;
}

static bool manifest_ext(const char *n)
{
	size_t l = strlen(n);
	return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")) ||
	       (l > 5 && !strcmp(n + l - 5, ".json"));
}

/* Walk enabled charts: build each top object, collect templates and CRDs.
 * Returns the chart's top object (for .Subcharts). */
static doc_node *walk_chart(rctx *r, values_chart *vc, const char *path, bool root, int depth,
			    doc_node *parent_vals)
{
	karena *a = r->a;
	tmpl_chart *c = chart_of(vc);
	/* the top object is a common.Values too in Helm 4 (typeOf ., deepCopy .) */
	doc_node *top = &tobj_new(a, TOBJ_NAMED, "common.Values", DOC_MAP)->n, *subs = tv_map(a), *vals;
	const char *name = vc->effective_name ? vc->effective_name : c->name;
	size_t i;
	vals = vc->values ? vc->values : tv_map(a);
	{
		tobj *vo = tobj_new(a, TOBJ_NAMED, "common.Values", DOC_MAP);
		vo->n.u = vals->u;
		vals = &vo->n;
	}
	if (parent_vals) {
		/* Helm hands a subchart the very map its parent holds under the
		 * subchart's name: a set in one is seen by the other */
		doc_node *pv = doc_map_get(parent_vals, name);
		if (pv && pv->type == DOC_MAP)
			doc_map_set(a, parent_vals, name, vals);
	}
	doc_map_set(a, top, "Values", vals);
	doc_map_set(a, top, "Release", r->release);
	doc_map_set(a, top, "Chart", chart_obj(a, c, vc, name, root));
	doc_map_set(a, top, "Capabilities", r->caps);
	doc_map_set(a, top, "Files", files_obj(a, c));
	doc_map_set(a, top, "Subcharts", subs);
	if (c->bundle)
		doc_map_set(a, top, "Bundle", c->bundle);
	{
		/* a library chart contributes only its partials (isTemplateValid) */
		bool library = !strcmp(doc_get_str(c->metadata, "type", ""), "library");
		for (i = 0; i < c->nfiles; i++) {
			const tmpl_file *f = &c->files[i];
			const char *b = strrchr(f->name, '/');
			b = b ? b + 1 : f->name;
			if (f->kind != TMPL_FILE_TEMPLATE || (library && b[0] != '_'))
				continue;
			add_file(r, karena_printf(a, "%s/%s", path, f->name), f, top,
				 karena_printf(a, "%s/templates", path));
		}
	}
	/* crds of this chart, then of its dependencies (CRDObjects) */
	for (i = 0; i < c->nfiles; i++) {
		const tmpl_file *f = &c->files[i];
		if (strncmp(f->name, "crds/", 5) || !manifest_ext(f->name))
			continue;
		ALLOC_GROW(r->crds, r->ncrds + 1, r->capcrds);
		memset(&r->crds[r->ncrds], 0, sizeof(tmpl_manifest));
		r->crds[r->ncrds].source = karena_printf(a, "%s/%s", path, f->name);
		r->crds[r->ncrds].content = f->data;
		r->crds[r->ncrds].len = f->len;
		r->crds[r->ncrds].kind = "CustomResourceDefinition";
		r->crds[r->ncrds].is_crd_file = true;
		r->ncrds++;
	}
	if (depth < 50) {
		values_chart **eff = vc->effective ? vc->effective : NULL;
		size_t ne = vc->effective ? vc->neffective : 0;
		for (i = 0; i < ne; i++) {
			values_chart *s = eff[i];
			const char *sn;
			doc_node *st;
			if (!s || !s->enabled)
				continue;
			sn = s->effective_name ? s->effective_name : s->name;
			st = walk_chart(r, s, karena_printf(a, "%s/charts/%s", path, sn), false, depth + 1, vals);
			doc_map_set(a, subs, sn, st);
		}
	}
	return top;
}

/* Helm's sortTemplates: deeper paths first; same depth by reverse name. */
static int cmp_parse_order(const void *p, const void *q)
{
	const rfile *x = p, *y = q;
	size_t cx = 0, cy = 0;
	const char *s;
	for (s = x->name; *s; s++)
		cx += *s == '/';
	for (s = y->name; *s; s++)
		cy += *s == '/';
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return -strcmp(x->name, y->name);
}

static int cmp_name(const void *p, const void *q)
{
	return strcmp((*(rfile *const *)p)->name, (*(rfile *const *)q)->name);
}

/* ---- documents ---- */

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

int tmpl_split_docs(karena *a, const char *source, const char *text, size_t len, tmpl_manifest **docs,
		    size_t *ndocs, size_t *cap)
{
	/* Go: sep = (?:^|\s*\n)---\s* over strings.TrimSpace(text) */
	const char *s = text, *e = text + len, *start;
	while (s < e && is_ws(*s))
		s++;
	while (e > s && is_ws(e[-1]))
		e--;
	start = s;
	if (e - s >= 3 && !memcmp(s, "---", 3)) {
		s += 3;
		while (s < e && is_ws(*s))
			s++;
		start = s;
	}
	for (;;) {
		const char *p = start, *cut = NULL, *next = NULL;
		while (p < e) {
			const char *nl = memchr(p, '\n', (size_t)(e - p));
			if (!nl)
				break;
			if (e - nl - 1 >= 3 && !memcmp(nl + 1, "---", 3)) {
				cut = nl;
				while (cut > start && is_ws(cut[-1]))
					cut--;
				next = nl + 4;
				while (next < e && is_ws(*next))
					next++;
				break;
			}
			p = nl + 1;
		}
		{
			const char *de = cut ? cut : e, *ds = start;
			while (ds < de && is_ws(*ds))
				ds++;
			while (de > ds && is_ws(de[-1]))
				de--;
			if (de > ds) {
				if (*ndocs == *cap) {
					size_t nc = *cap ? *cap * 2 : 64;
					*docs = karena_realloc(a, *docs, *cap * sizeof(**docs), nc * sizeof(**docs));
					*cap = nc;
				}
				memset(&(*docs)[*ndocs], 0, sizeof(**docs));
				(*docs)[*ndocs].source = source;
				(*docs)[*ndocs].content = ds;
				(*docs)[*ndocs].len = (size_t)(de - ds);
				(*ndocs)++;
			}
		}
		if (!cut)
			break;
		start = next;
	}
	return 0;
}

static const char *const hook_events[] = {
	"pre-install", "post-install", "pre-delete", "post-delete", "pre-upgrade", "post-upgrade",
	"pre-rollback", "post-rollback", "test", "test-success",
};

static bool known_hooks(const char *h)
{
	const char *p = h;
	for (;;) {
		const char *c = strchr(p, ','), *e = c ? c : p + strlen(p);
		size_t i, l;
		bool ok = false;
		char buf[64];
		while (p < e && is_ws(*p))
			p++;
		while (e > p && is_ws(e[-1]))
			e--;
		l = (size_t)(e - p);
		if (l >= sizeof(buf))
			return false;
		for (i = 0; i < l; i++)
			buf[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
		buf[l] = 0;
		for (i = 0; i < sizeof(hook_events) / sizeof(hook_events[0]); i++)
			if (!strcmp(buf, hook_events[i]))
				ok = true;
		if (!ok)
			return false;
		if (!c)
			return true;
		p = c + 1;
	}
}

/* Parse a document as Helm's SimpleHead does (the whole document must be
 * valid YAML) and pick out kind and the helm.sh/hook annotation. A libyaml
 * event scan: no tree is built. Thread-safe: results are malloc'd into h. */
typedef struct head {
	const char *src, *text;
	size_t len;
	char *kind, *hook, *err;
} head;

#define HEAD_STACK 64

/* The document has a map key sigs.k8s.io/yaml refuses (a sequence or map,
 * or null), or a tagged scalar: the doc loader reads it with go-yaml's
 * words for the error. */
static void key_error(head *h)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *n = NULL;
	doc_load_opts o = { 0, 0, 0, DOC_DUP_LAST, 1, 1 };
	if (doc_load_yaml1(&n, &a, h->src, h->text, h->len, &o, &e)) {
		kbuf b = KBUF_INIT;
		const char *m = e.first.msg ? e.first.msg : "invalid YAML";
		/* go-yaml's own errors say "yaml:", sigs.k8s.io/yaml's do not */
		kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: %s%s", h->src,
			    strncmp(m, "unsupported map key", 19) ? "yaml: " : "", m);
		h->err = kbuf_detach(&b, NULL);
	}
	kerr_clear(&e);
	karena_release(&a);
}

/* ---- Helm reads each document into a SimpleHead (apiVersion, kind,
 * metadata.name, metadata.annotations); encoding/json refuses a value of
 * the wrong shape there, the first in sorted key order. ---- */

static const char *json_kind(const doc_node *v)
{
	switch (v->type) {
	case DOC_BOOL: return "bool";
	case DOC_INT: case DOC_FLOAT: return "number";
	case DOC_STR: return "string";
	case DOC_SEQ: return "array";
	default: return "object";
	}
}

static bool is_coll(const doc_node *v)
{
	return v && (v->type == DOC_SEQ || v->type == DOC_MAP);
}

/* the pair of m whose key matches name as encoding/json does (any case)
 * and that sorts first, or NULL */
static const doc_pair *json_field(const doc_node *m, const char *name)
{
	const doc_pair *best = NULL;
	size_t i;
	for (i = 0; i < m->u.map.len; i++) {
		const doc_pair *p = &m->u.map.v[i];
		if (!strcasecmp(p->key->u.s.ptr, name) && (!best || strcmp(p->key->u.s.ptr, best->key->u.s.ptr) < 0))
			best = p;
	}
	return best;
}

/* keep the error whose key sorts first */
static void shape_pick(kbuf *msg, const char **at, const char *key, kbuf *cand)
{
	if (cand->len && (!*at || strcmp(key, *at) < 0)) {
		kbuf_reset(msg);
		kbuf_put(msg, cand->ptr, cand->len);
		*at = key;
	}
	kbuf_reset(cand);
}

static void shape_metadata(kbuf *msg, const doc_node *md)
{
	const char *at = NULL;
	kbuf c = KBUF_INIT;
	const doc_pair *p;
	size_t i;
	if ((p = json_field(md, "name")) && is_coll(p->val)) {
		kbuf_printf(&c, "cannot unmarshal %s into Go struct field .metadata.name of type string", json_kind(p->val));
		shape_pick(msg, &at, p->key->u.s.ptr, &c);
	}
	if ((p = json_field(md, "annotations")) && p->val->type != DOC_NULL) {
		const char *inner = NULL;
		kbuf im = KBUF_INIT;
		if (p->val->type != DOC_MAP) {
			kbuf_printf(&im, "cannot unmarshal %s into Go struct field .metadata.annotations of type "
				    "map[string]string", json_kind(p->val));
		} else {
			for (i = 0; i < p->val->u.map.len; i++) {
				const doc_pair *q = &p->val->u.map.v[i];
				if (is_coll(q->val)) {
					kbuf_printf(&c, "cannot unmarshal %s into Go struct field .metadata.annotations of type string",
						    json_kind(q->val));
					shape_pick(&im, &inner, q->key->u.s.ptr, &c);
				}
			}
		}
		kbuf_put(&c, im.ptr, im.len);
		kbuf_release(&im);
		shape_pick(msg, &at, p->key->u.s.ptr, &c);
	}
	kbuf_release(&c);
}

/* Helm's "while decoding JSON" error for the document, or none */
static void shape_error(head *h)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	doc_node *n = NULL;
	doc_load_opts o = { 0, 0, 0, DOC_DUP_LAST, 1, 1 };
	kbuf msg = KBUF_INIT, c = KBUF_INIT;
	const char *at = NULL;
	const doc_pair *p;
	if (!doc_load_yaml1(&n, &a, h->src, h->text, h->len, &o, &e) && n && n->type != DOC_NULL) {
		if (n->type != DOC_MAP) {
			kbuf_printf(&msg, "cannot unmarshal %s into Go value of type util.SimpleHead", json_kind(n));
		} else {
			static const char *const strs[] = { "apiVersion", "kind" };
			size_t i;
			for (i = 0; i < 2; i++)
				if ((p = json_field(n, strs[i])) && is_coll(p->val)) {
					kbuf_printf(&c, "cannot unmarshal %s into Go struct field SimpleHead.%s of type string",
						    json_kind(p->val), strs[i]);
					shape_pick(&msg, &at, p->key->u.s.ptr, &c);
				}
			if ((p = json_field(n, "metadata")) && p->val->type != DOC_NULL) {
				if (p->val->type != DOC_MAP)
					kbuf_printf(&c, "cannot unmarshal %s into Go struct field SimpleHead.metadata of type struct "
						    "{ Name string \"json:\\\"name\\\"\"; Annotations map[string]string "
						    "\"json:\\\"annotations\\\"\" }", json_kind(p->val));
				else
					shape_metadata(&c, p->val);
				shape_pick(&msg, &at, p->key->u.s.ptr, &c);
			}
		}
		if (msg.len) {
			kbuf b = KBUF_INIT;
			kbuf_printf(&b, "YAML parse error on %s: error unmarshaling JSON: while decoding JSON: json: %s",
				    h->src, msg.ptr);
			h->err = kbuf_detach(&b, NULL);
		}
	}
	kbuf_release(&msg);
	kbuf_release(&c);
	kerr_clear(&e);
	karena_release(&a);
}

static bool null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value, *tag = (const char *)ev->data.scalar.tag;
	size_t vl = ev->data.scalar.length;
	if (tag)
		return !strcmp(tag, "tag:yaml.org,2002:null");
	return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (vl == 0 || (vl == 1 && *v == '~') ||
		(vl == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4))));
}

/* The YAML 1.1 infinities and NaN go-yaml resolves a plain scalar to:
 * sigs.k8s.io/yaml cannot turn them into JSON, so Helm fails the document.
 * Returns Go's name of the value, or NULL. */
static const char *yaml11_nonfinite(const char *v, size_t n)
{
	static const char *const pos[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF" };
	static const char *const neg[] = { "-.inf", "-.Inf", "-.INF" };
	static const char *const nan[] = { ".nan", ".NaN", ".NAN" };
	size_t i;
	if (n < 4 || n > 5)
		return NULL;
	for (i = 0; i < 6; i++)
		if (strlen(pos[i]) == n && !memcmp(v, pos[i], n))
			return "+Inf";
	for (i = 0; i < 3; i++) {
		if (strlen(neg[i]) == n && !memcmp(v, neg[i], n))
			return "-Inf";
		if (strlen(nan[i]) == n && !memcmp(v, nan[i], n))
			return "NaN";
	}
	return NULL;
}

static void scan_head(head *h)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0;
	/* per depth: 1 mapping, 2 sequence; key: next scalar in a mapping is a key */
	unsigned char kind[HEAD_STACK + 1], iskey[HEAD_STACK + 1];
	/* path matched so far: 1 = in metadata (depth 2), 2 = in annotations (depth 3) */
	int path = 0;
	int want = 0; /* 1 kind, 2 metadata, 3 annotations, 4 hook */
	/* anchors defined so far: go-yaml refuses an alias to any other */
	char **anchors = NULL;
	size_t nanchors = 0, capanchors = 0, i;
	/* a map key that is a collection or null: sigs.k8s.io/yaml refuses it */
	bool bad_key = false, typed = false;
	/* a SimpleHead field that may hold a value of the wrong shape: 1 a
	 * string (apiVersion, kind, metadata.name, an annotation), 2 a struct
	 * (metadata), 3 a map (annotations); shape: one does */
	int sw = 0;
	bool shape = false;
	/* the first value that is an infinity or NaN, which JSON cannot hold */
	const char *nonfinite = NULL;
	kind[0] = 0;
	iskey[0] = 0;
	if (!yaml_parser_initialize(&p)) {
		h->err = strdup("yaml: cannot initialise the parser");
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)h->text, h->len);
	for (;;) {
		yaml_event_type_t t;
		if (!yaml_parser_parse(&p, &ev)) {
			unsigned line = doc_yaml_go_line(p.error == YAML_SCANNER_ERROR, (unsigned)p.problem_mark.line,
							 (unsigned)p.context_mark.line);
			kbuf b = KBUF_INIT;
			kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: yaml: ", h->src);
			if (line)
				kbuf_printf(&b, "line %u: ", line);
			kbuf_puts(&b, p.problem ? p.problem : "unknown problem parsing YAML content");
			h->err = kbuf_detach(&b, NULL);
			break;
		}
		t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_ALIAS_EVENT) {
			const char *an = (const char *)ev.data.alias.anchor;
			for (i = 0; i < nanchors && strcmp(anchors[i], an); i++)
				;
			if (i == nanchors) {
				kbuf b = KBUF_INIT;
				kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: yaml: "
					    "unknown anchor '%s' referenced", h->src, an);
				h->err = kbuf_detach(&b, NULL);
				yaml_event_delete(&ev);
				break;
			}
		} else {
			const yaml_char_t *an = t == YAML_SCALAR_EVENT ? ev.data.scalar.anchor :
						t == YAML_MAPPING_START_EVENT ? ev.data.mapping_start.anchor :
						t == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor : NULL;
			if (an) {
				ALLOC_GROW(anchors, nanchors + 1, capanchors);
				anchors[nanchors++] = xstrdup((const char *)an);
			}
		}
		switch (t) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth >= 1 && depth <= HEAD_STACK && kind[depth] == 1 && iskey[depth])
				bad_key = true;
			else if ((depth == 0 && t == YAML_SEQUENCE_START_EVENT) || sw == 1 ||
				 (sw >= 2 && t == YAML_SEQUENCE_START_EVENT))
				shape = true;
			sw = 0;
			if (t == YAML_MAPPING_START_EVENT) {
				if (want == 2 && depth == 1)
					path = 1;
				else if (want == 3 && depth == 2 && path == 1)
					path = 2;
			}
			want = 0;
			depth++;
			if (depth <= HEAD_STACK) {
				kind[depth] = t == YAML_MAPPING_START_EVENT ? 1 : 2;
				iskey[depth] = 1;
			}
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (path == 2 && depth == 3)
				path = 1;
			else if (path == 1 && depth == 2)
				path = 0;
			depth--;
			if (depth >= 1 && depth <= HEAD_STACK && kind[depth] == 1)
				iskey[depth] = 1; /* the container was a value */
			want = 0;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT: {
			const char *v = t == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.value : "";
			size_t vl = t == YAML_SCALAR_EVENT ? ev.data.scalar.length : 0;
			bool in_map = depth >= 1 && depth <= HEAD_STACK && kind[depth] == 1;
			if (in_map && iskey[depth]) {
				const char *tag = t == YAML_SCALAR_EVENT ? (const char *)ev.data.scalar.tag : NULL;
				if (t == YAML_ALIAS_EVENT ||
				    ((tag && !strcmp(tag, "tag:yaml.org,2002:null")) ||
				     (!tag && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
				      (vl == 0 || (vl == 1 && *v == '~') ||
				       /* a merge key: go-yaml wants a map (or maps) there */
				       (vl == 2 && !memcmp(v, "<<", 2)) ||
				       (vl == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
						    !memcmp(v, "NULL", 4)))))))
					bad_key = true;
				want = 0;
				sw = (depth == 1 && (!strcasecmp(v, "apiVersion") || !strcasecmp(v, "kind"))) ||
				     (depth == 2 && path == 1 && !strcasecmp(v, "name")) || (depth == 3 && path == 2) ? 1 :
				     depth == 1 && !strcasecmp(v, "metadata") ? 2 :
				     depth == 2 && path == 1 && !strcasecmp(v, "annotations") ? 3 : 0;
				if (depth == 1 && vl == 4 && !memcmp(v, "kind", 4))
					want = 1;
				else if (depth == 1 && vl == 8 && !memcmp(v, "metadata", 8))
					want = 2;
				else if (depth == 2 && path == 1 && vl == 11 && !memcmp(v, "annotations", 11))
					want = 3;
				else if (depth == 3 && path == 2 && vl == 12 && !memcmp(v, "helm.sh/hook", 12))
					want = 4;
				iskey[depth] = 0;
			} else {
				/* a scalar with a type tag may not read as that type:
				 * the doc loader tells, in go-yaml's words */
				if (t == YAML_SCALAR_EVENT && ev.data.scalar.tag &&
				    !strncmp((const char *)ev.data.scalar.tag, "tag:yaml.org,2002:", 18) &&
				    strcmp((const char *)ev.data.scalar.tag + 18, "str"))
					typed = true;
				if (t == YAML_SCALAR_EVENT && !nonfinite &&
				    ((!ev.data.scalar.tag && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE) ||
				     (ev.data.scalar.tag &&
				      !strcmp((const char *)ev.data.scalar.tag, "tag:yaml.org,2002:float"))))
					nonfinite = yaml11_nonfinite(v, vl);
				if (t == YAML_SCALAR_EVENT && (sw >= 2 || depth == 0) && !null_scalar(&ev))
					shape = true;
				sw = 0;
				if (want == 1 && t == YAML_SCALAR_EVENT && !h->kind)
					h->kind = strndup(v, vl);
				else if (want == 4 && t == YAML_SCALAR_EVENT && !h->hook)
					h->hook = strndup(v, vl);
				want = 0;
				if (in_map)
					iskey[depth] = 1;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (i = 0; i < nanchors; i++)
		free(anchors[i]);
	free(anchors);
	if ((bad_key || typed) && !h->err)
		key_error(h);
	if (nonfinite && !h->err) {
		kbuf b = KBUF_INIT;
		kbuf_printf(&b, "YAML parse error on %s: error converting YAML to JSON: json: unsupported value: %s",
			    h->src, nonfinite);
		h->err = kbuf_detach(&b, NULL);
	}
	/* after the conversion to JSON, as Helm: its unmarshal into SimpleHead */
	if (shape && !h->err)
		shape_error(h);
}

/* ---- a fast path for plain block YAML ----------------------------------
 * Most rendered documents (CRDs above all) are block mappings and sequences
 * of one-line scalars. fast_head() checks such a document and finds kind
 * and the hook annotation without libyaml. It is only ever allowed to say
 * "valid" for text libyaml accepts: anything it does not fully understand
 * (anchors, tags, flow collections, multi-line or unusual scalars, tabs,
 * non-ASCII, odd indentation, any error) returns 0, and the caller runs
 * the libyaml scan, which also words the errors. */

enum { FH_MAP = 1, FH_SEQ = 2 };

typedef struct fh_level {
	int indent;
	int kind;
	int path;      /* 1: metadata mapping, 2: annotations mapping */
} fh_level;

static int fh_indent(const char *l, const char *e)
{
	const char *p = l;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* CRDs are indented 20 and more spaces deep: 8 at a time */
	while (e - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= 0x2020202020202020ULL;
		if (w)
			return (int)(p - l) + __builtin_ctzll(w) / 8;
		p += 8;
	}
#endif
	while (p < e && *p == ' ')
		p++;
	return (int)(p - l);
}

/* a one-line flow sequence of simple scalars, [v, e) with e[-1] == ']':
 * ["a", "b"], [a, b], ['x'] (RBAC verbs, commands). Plain items only of
 * characters that cannot start or end anything in flow context. */
static bool fh_flow_plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
	       c == '.' || c == '/' || c == '=' || c == '@' || c == '+' || c == '$' || c == '~' || c == '%';
}

static bool fh_flow_seq(const char *v, const char *e)
{
	const char *p = v + 1;
	if (e - v < 3 || e[-1] != ']')
		return false;
	e--;                   /* at the ']' */
	for (;;) {
		while (p < e && *p == ' ')
			p++;
		if (p >= e)
			return false;  /* "[a, ]" or "[ ]": libyaml decides */
		if (*p == '"' || *p == '\'') {
			char q = *p++;
			while (p < e && *p != q && *p != '\\')
				p++;
			if (p >= e || *p != q)
				return false;
			p++;
		} else {
			const char *st = p;
			if (*p == '-' && (p + 1 >= e || !fh_flow_plain(p[1])))
				return false;
			if (*p == '%' || *p == '@')
				return false;  /* reserved indicators */
			while (p < e && fh_flow_plain(*p))
				p++;
			if (p == st || yaml11_nonfinite(st, (size_t)(p - st)))
				return false;
		}
		while (p < e && *p == ' ')
			p++;
		if (p == e)
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

/* a one-line scalar value [v, e): returns its text (for kind/hook) in
 * [*vs, *ve) or false if it is not one we are sure of */
static bool fh_scalar(const char *v, const char *e, const char **vs, const char **ve)
{
	const char *p;
	while (e > v && e[-1] == ' ')
		e--;
	if (v >= e)
		return false;
	if (e - v == 2 && ((v[0] == '{' && v[1] == '}') || (v[0] == '[' && v[1] == ']'))) {
		*vs = *ve = NULL; /* an empty flow collection: no scalar text */
		return true;
	}
	if (*v == '[') {
		*vs = *ve = NULL;
		return fh_flow_seq(v, e);
	}
	if (*v == '\'') {
		for (p = v + 1; p < e; p++) {
			if (*p == '\'') {
				if (p + 1 < e && p[1] == '\'') {
					p++;
					continue;
				}
				break;
			}
		}
		if (p != e - 1)
			return false; /* unterminated, or text after the quote */
		*vs = v + 1;
		*ve = e - 1;
		return !memchr(v + 1, '\'', (size_t)(e - v - 2)); /* '' escapes: no fast value */
	}
	if (*v == '"') {
		for (p = v + 1; p < e; p++) {
			if (*p == '\\')
				return false;
			if (*p == '"')
				break;
		}
		if (p != e - 1)
			return false;
		*vs = v + 1;
		*ve = e - 1;
		return true;
	}
	if (strchr("-?:,[]{}#&*!|>'\"%@`", *v)) {
		/* "-1", "-foo": a plain scalar may start with '-' followed by a non-space */
		if (!(*v == '-' && e - v > 1 && v[1] != ' '))
			return false;
	}
	if (yaml11_nonfinite(v, (size_t)(e - v)))
		return false;  /* JSON has no infinities: the libyaml scan fails it */
	for (p = v; p < e; p++) {
		if (*p == ':' && (p + 1 == e || p[1] == ' '))
			return false;
		if (*p == '#' && p > v && p[-1] == ' ')
			return false;
		if (*p == '\t')
			return false;
	}
	*vs = v;
	*ve = e;
	return true;
}

/* A block scalar: v points at its header on a line ending at le ("|", "|-",
 * "|+", ">", ">-", ">+" and nothing else), its content starts at bl and
 * must be indented deeper than parent. Returns the first line after it, or
 * NULL when libyaml must judge (an indentation indicator, a comment,
 * all-space lines before the first content line, which move the detected
 * indentation, or a line between parent and content indentation). */
static const char *fh_block(const char *v, const char *le, const char *bl, const char *end, int parent)
{
	const char *q = v + 1;
	int content = -1;
	if (q < le && (*q == '-' || *q == '+'))
		q++;
	while (q < le && *q == ' ')
		q++;
	if (q != le)
		return NULL;
	while (bl < end) {
		const char *bnl = memchr(bl, '\n', (size_t)(end - bl));
		const char *ble = bnl ? bnl : end;
		int bi = fh_indent(bl, ble);
		if (bl + bi == ble) {
			if (bi > 0 && content < 0)
				return NULL;
			bl = bnl ? bnl + 1 : end;
			continue;
		}
		if (bi <= parent)
			break;
		if (content < 0)
			content = bi;
		else if (bi < content)
			return NULL;
		bl = bnl ? bnl + 1 : end;
	}
	return bl;
}

/* a copy of [s, s+n) that never reads past it (the text is not NUL-terminated) */
static char *dupn(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

static const unsigned char fh_key_chars[256] = {
	['$'] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, ['_'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
	['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
	['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static bool fh_key_char(char c)
{
	return fh_key_chars[(unsigned char)c];
}

/* a null key (libyaml takes it, go-yaml's JSON conversion does not) */
static bool fh_null_key(const char *k, const char *e)
{
	return e - k == 4 && (!memcmp(k, "null", 4) || !memcmp(k, "Null", 4) || !memcmp(k, "NULL", 4));
}

/* only printable ASCII and newlines? 16 bytes a step with GCC's vector
 * extension (portable to every target GCC and clang build for): the byte
 * loop with an early exit is not vectorised, and it reads every byte of
 * every rendered document. */
typedef unsigned char fh_u8x16 __attribute__((vector_size(16)));
typedef signed char fh_s8x16 __attribute__((vector_size(16)));

static bool fh_plain_bytes(const unsigned char *s, size_t n)
{
	size_t i = 0, j;
	while (n - i >= 16) {
		fh_s8x16 bad = { 0 };
		size_t m = n - i < 4096 ? n - i : 4096;
		for (j = 0; j + 16 <= m; j += 16) {
			fh_u8x16 v;
			memcpy(&v, s + i + j, 16);
			bad |= (v >= 0x7F) | ((v < 0x20) & (v != '\n'));
		}
		for (j = 0; j < 16; j++)
			if (bad[j])
				return false;
		i += m - m % 16;
	}
	for (; i < n; i++)
		if (s[i] >= 0x7F || (s[i] < 0x20 && s[i] != '\n'))
			return false;
	return true;
}

/* Returns 1 when the document is plain block YAML (kind and hook set in h,
 * malloc'd), 0 when libyaml must decide. */
static int fast_head(head *h)
{
	const char *t = h->text, *end = h->text + h->len, *line = t;
	fh_level st[64];
	int depth = 0;               /* levels in st */
	int pending = -1;            /* indent of a key or "-" whose value may follow as a block */
	int pending_path = 0;        /* path of the mapping that would open there */
	bool pending_is_item = false;
	bool any = false;
	if (!fh_plain_bytes((const unsigned char *)t, h->len))
		return 0;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end, *p, *ke, *vs, *ve;
		int ind = fh_indent(line, le);
		p = line + ind;
		if (p == le || *p == '#') {  /* blank or comment line */
			line = nl ? nl + 1 : end;
			continue;
		}
		if (ind == 0 && le - p >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)))
			return 0;
		if (!any) {
			if (ind != 0)
				return 0;
			any = true;
		}
		/* close levels deeper than this line */
		while (depth > 0 && st[depth - 1].indent > ind)
			depth--;
		if (*p == '-' && (p + 1 == le || p[1] == ' ')) {
			/* a sequence item */
			const char *v = p + 1;
			if (depth > 0 && st[depth - 1].kind == FH_SEQ && st[depth - 1].indent == ind) {
				/* next item */
			} else if (pending >= 0 && (pending_is_item ? ind > pending : ind >= pending)) {
				if (depth >= 64 || pending_path)
					return 0;  /* (a list as metadata or annotations: the scan words it) */
				st[depth].indent = ind;
				st[depth].kind = FH_SEQ;
				st[depth].path = 0;
				depth++;
			} else {
				return 0;
			}
			pending = -1;
			while (v < le && *v == ' ')
				v++;
			if (v == le) {
				pending = ind;
				pending_is_item = true;
				pending_path = 0;
			} else {
				/* "- key: value" opens a mapping at the key's column, or a scalar */
				const char *k = v;
				while (k < le && fh_key_char(*k))
					k++;
				if (k > v && k < le && *k == ':' && (k + 1 == le || k[1] == ' ') && *v != '-' &&
				    !fh_null_key(v, k)) {
					int kind_ind = (int)(v - line);
					const char *val = k + 1;
					if (depth >= 64 || k - v > 1000)
						return 0;
					st[depth].indent = kind_ind;
					st[depth].kind = FH_MAP;
					st[depth].path = 0;
					depth++;
					while (val < le && *val == ' ')
						val++;
					if (val == le) {
						pending = kind_ind;
						pending_is_item = false;
						pending_path = 0;
					} else if (*val == '|' || *val == '>') {
						if (!(line = fh_block(val, le, nl ? nl + 1 : end, end, kind_ind)))
							return 0;
						continue;
					} else if (!fh_scalar(val, le, &vs, &ve)) {
						return 0;
					}
				} else if (*v == '|' || *v == '>') {
					if (!(line = fh_block(v, le, nl ? nl + 1 : end, end, ind)))
						return 0;
					continue;
				} else if (!fh_scalar(v, le, &vs, &ve)) {
					return 0;
				}
			}
			line = nl ? nl + 1 : end;
			continue;
		}
		/* a mapping entry "key:" or "key: value" */
		ke = p;
		while (ke < le && fh_key_char(*ke))
			ke++;
		if (ke == p || ke >= le || *ke != ':' || (ke + 1 < le && ke[1] != ' ') || ke - p > 1000 || *p == '-' ||
		    fh_null_key(p, ke))
			return 0;
		if (depth > 0 && st[depth - 1].kind == FH_SEQ && st[depth - 1].indent == ind) {
			/* a sequence at the same indent as its key ends here */
			depth--;
		}
		if (depth > 0 && st[depth - 1].kind == FH_MAP && st[depth - 1].indent == ind && pending != ind) {
			/* next key of this mapping */
		} else if (pending >= 0 && ind > pending) {
			if (depth >= 64)
				return 0;
			st[depth].indent = ind;
			st[depth].kind = FH_MAP;
			st[depth].path = pending_path;
			depth++;
		} else if (depth == 0 && ind == 0 && pending < 0) {
			st[depth].indent = 0;
			st[depth].kind = FH_MAP;
			st[depth].path = 0;
			depth++;
		} else if (depth > 0 && st[depth - 1].kind == FH_MAP && st[depth - 1].indent == ind) {
			/* "key:" with no value followed by a sibling: the value is null */
		} else {
			return 0;
		}
		pending = -1;
		{
			const char *v = ke + 1;
			int lvl = depth - 1;
			size_t kl = (size_t)(ke - p);
			bool top = lvl == 0 && st[0].indent == 0 && st[0].kind == FH_MAP;
			/* a SimpleHead field (a string, or metadata and annotations)
			 * whose value may have the wrong shape: the libyaml scan checks */
			bool sfield = (top && ((kl == 10 && !strncasecmp(p, "apiVersion", 10)) ||
					       (kl == 4 && !strncasecmp(p, "kind", 4)))) ||
				      (st[lvl].path == 1 && kl == 4 && !strncasecmp(p, "name", 4)) || st[lvl].path == 2;
			bool mfield = (top && kl == 8 && !strncasecmp(p, "metadata", 8)) ||
				      (st[lvl].path == 1 && kl == 11 && !strncasecmp(p, "annotations", 11));
			while (v < le && *v == ' ')
				v++;
			if ((v == le && sfield) || (v < le && mfield))
				return 0;
			if (v == le) {
				pending = ind;
				pending_is_item = false;
				pending_path = 0;
				if (top && kl == 8 && !memcmp(p, "metadata", 8))
					pending_path = 1;
				else if (st[lvl].path == 1 && kl == 11 && !memcmp(p, "annotations", 11))
					pending_path = 2;
			} else if (*v == '|' || *v == '>') {
				if (!(line = fh_block(v, le, nl ? nl + 1 : end, end, ind)))
					return 0;
				continue;
			} else if (!fh_scalar(v, le, &vs, &ve)) {
				return 0;
			} else if (!vs && (sfield || (top && kl == 4 && !memcmp(p, "kind", 4)) ||
					   (st[lvl].path == 2 && kl == 12 && !memcmp(p, "helm.sh/hook", 12)))) {
				return 0; /* a collection where a scalar belongs: libyaml words it */
			} else if (top && kl == 4 && !memcmp(p, "kind", 4)) {
				if (!h->kind)
					h->kind = dupn(vs, (size_t)(ve - vs));
			} else if (st[lvl].path == 2 && kl == 12 && !memcmp(p, "helm.sh/hook", 12)) {
				if (!h->hook)
					h->hook = dupn(vs, (size_t)(ve - vs));
			}
		}
		line = nl ? nl + 1 : end;
	}
	if (!any)
		return 0;
	return 1;
}

typedef struct head_job {
	head *h;
	size_t n;
	bool no_fast;
	size_t next;
	pthread_mutex_t mu;
} head_job;

static void *head_worker(void *arg)
{
	head_job *j = arg;
	for (;;) {
		size_t i;
		pthread_mutex_lock(&j->mu);
		i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->n)
			return NULL;
		if (!j->no_fast && fast_head(&j->h[i]))
			continue;
		free(j->h[i].kind);
		free(j->h[i].hook);
		j->h[i].kind = j->h[i].hook = NULL;
		scan_head(&j->h[i]);
	}
}

int tmpl_doc_head_check(const char *text, size_t len, bool fast, char **kind, char **hook, char **err)
{
	head h;
	int ok;
	memset(&h, 0, sizeof(h));
	h.src = "doc";
	h.text = text;
	h.len = len;
	if (fast) {
		ok = fast_head(&h);
		if (!ok) {
			free(h.kind);
			free(h.hook);
			h.kind = h.hook = NULL;
		}
	} else {
		scan_head(&h);
		ok = h.err == NULL;
	}
	*kind = h.kind;
	*hook = h.hook;
	*err = h.err;
	return ok;
}

/* Scan every document's head, on several threads when there is much to scan.
 * The first invalid document (in order) is the error, as Helm reports. */
static int doc_heads(rctx *r, tmpl_manifest *docs, size_t n)
{
	head *h = calloc(n + 1, sizeof(*h));
	head_job j;
	size_t i, total = 0;
	int rc = 0;
	if (!h)
		return kerr_set(r->err, KE_INTERNAL, "out of memory");
	for (i = 0; i < n; i++) {
		h[i].src = docs[i].source;
		h[i].text = docs[i].content;
		h[i].len = docs[i].len;
		total += docs[i].len;
	}
	memset(&j, 0, sizeof(j));
	j.h = h;
	j.n = n;
	j.no_fast = getenv("KSTAGE_TMPL_NO_FAST_YAML") != NULL;
	pthread_mutex_init(&j.mu, NULL);
	if (total > ((size_t)256 << 10) && n > 1) {
		pthread_t th[8];
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		size_t nt = ncpu > 1 ? (size_t)(ncpu < 8 ? ncpu : 8) : 1, started = 0;
		if (nt > n)
			nt = n;
		for (i = 1; i < nt; i++)
			if (!pthread_create(&th[started], NULL, head_worker, &j))
				started++;
		head_worker(&j);
		for (i = 0; i < started; i++)
			pthread_join(th[i], NULL);
	} else {
		head_worker(&j);
	}
	pthread_mutex_destroy(&j.mu);
	for (i = 0; i < n; i++) {
		if (h[i].err && !rc)
			rc = kerr_set(r->err, KE_INPUT, "%s", h[i].err);
		docs[i].kind = h[i].kind ? karena_strdup(r->a, h[i].kind) : "";
		docs[i].hook = h[i].hook ? karena_strdup(r->a, h[i].hook) : NULL;
		free(h[i].kind);
		free(h[i].hook);
		free(h[i].err);
	}
	free(h);
	return rc;
}

void tmpl_output_release(tmpl_output *out)
{
	size_t i;
	for (i = 0; i < out->nbufs; i++)
		free(out->bufs[i]);
	free(out->bufs);
	out->bufs = NULL;
	out->nbufs = 0;
}

int tmpl_render_chart(tmpl_output *out, karena *a, struct tmpl_chart *chart, const tmpl_render_opts *o, kerr *err)
{
	rctx r;
	tmpl_set *set;
	struct tmpl_helm *helm;
	size_t i;
	rfile **sorted = NULL;
	tmpl_manifest *docs = NULL, *gen = NULL, *hooks = NULL;
	size_t ndocs = 0, capdocs = 0, ngen = 0, nhooks = 0;
	int rc = 0;
	tmpl_exec_opts eo;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.a = a;
	r.o = o;
	r.err = err;
	if ((rc = make_caps(&r)))
		return rc;
	/* Helm's checkIfInstallable */
	if (!strcmp(doc_get_str(chart->metadata, "type", ""), "library"))
		return kerr_set(err, KE_INPUT, "library charts are not installable");
	if ((rc = check_kube_version(&r, chart)))
		return rc;
	r.release = tv_map(a);
	doc_map_set(a, r.release, "IsInstall", tv_bool(!o->is_upgrade));
	doc_map_set(a, r.release, "IsUpgrade", tv_bool(o->is_upgrade));
	doc_map_set(a, r.release, "Name", tv_strz(a, o->release_name ? o->release_name : "release-name"));
	doc_map_set(a, r.release, "Namespace", tv_strz(a, o->namespace ? o->namespace : "default"));
	doc_map_set(a, r.release, "Revision", tv_int(a, 1));
	doc_map_set(a, r.release, "Service", tv_strz(a, "Helm"));

	walk_chart(&r, &chart->vc, chart->vc.effective_name ? chart->vc.effective_name : chart->name, true, 0, NULL);

	set = tmpl_set_new(a);
	helm = karena_alloc(a, sizeof(*helm));
	helm->num = o->num;
	set->helm = helm;
	qsort(r.files, r.nfiles, sizeof(*r.files), cmp_parse_order);
	for (i = 0; i < r.nfiles && !rc; i++) {
		rc = tmpl_parse_file(set, r.files[i].name, r.files[i].f->data, r.files[i].f->len, false, err);
		/* Helm words a chart's parse errors its own way */
		if (rc && kerr_reason_is(err, TMPL_REASON_PARSE))
			kerr_set_reason(err, TMPL_REASON_HELM_PARSE, 0);
	}
	memset(&eo, 0, sizeof(eo));
	eo.strict = o->strict;
	for (i = 0; i < r.nfiles && !rc; i++) {
		rfile *f = &r.files[i];
		const char *b = strrchr(f->name, '/');
		doc_node *tobjn;
		b = b ? b + 1 : f->name;
		if (b[0] == '_')
			continue;
		/* .Template for this file. The top object is the chart's, shared
		 * by its templates as in Helm: a `set $ "Values" ...` in one
		 * (istio's zzz_profile.yaml, run first) is seen by the next. */
		tobjn = named_map(a, "common.Values");
		doc_map_set(a, tobjn, "BasePath", tv_strz(a, f->base_path));
		doc_map_set(a, tobjn, "Name", tv_strz(a, f->name));
		doc_map_set(a, f->top, "Template", tobjn);
		rc = tmpl_exec(set, f->name, f->top, &f->out, &eo, err);
		f->rendered = true;
	}
	if (rc)
		goto done;

	/* NOTES.txt: the top chart's is kept, every one is left out of manifests */
	sorted = calloc(r.nfiles + 1, sizeof(*sorted));
	if (!sorted) {
		rc = kerr_set(err, KE_INTERNAL, "out of memory");
		goto done;
	}
	{
		size_t k = 0;
		const char *root_notes = karena_printf(a, "%s/templates/NOTES.txt",
						       chart->vc.effective_name ? chart->vc.effective_name : chart->name);
		for (i = 0; i < r.nfiles; i++) {
			rfile *f = &r.files[i];
			size_t l = strlen(f->name);
			if (!f->rendered)
				continue;
			if (l >= 9 && !strcmp(f->name + l - 9, "NOTES.txt")) {
				if (!strcmp(f->name, root_notes))
					out->notes = karena_strndup(a, f->out.ptr, f->out.len);
				continue;
			}
			sorted[k++] = f;
		}
		qsort(sorted, k, sizeof(*sorted), cmp_name);
		out->bufs = calloc(k + 1, sizeof(char *));
		if (!out->bufs) {
			rc = kerr_set(err, KE_INTERNAL, "out of memory");
			goto done;
		}
		for (i = 0; i < k; i++) {
			rfile *f = sorted[i];
			size_t len = f->out.len;
			char *text = kbuf_detach(&f->out, NULL);
			out->bufs[out->nbufs++] = text;
			tmpl_split_docs(a, f->name, text, len, &docs, &ndocs, &capdocs);
		}
		rc = doc_heads(&r, docs, ndocs);
	}
	if (rc)
		goto done;
	gen = karena_alloc(a, (ndocs + 1) * sizeof(*gen));
	hooks = karena_alloc(a, (ndocs + 1) * sizeof(*hooks));
	for (i = 0; i < ndocs; i++) {
		if (docs[i].hook) {
			if (known_hooks(docs[i].hook))
				hooks[nhooks++] = docs[i];
			continue;
		}
		gen[ngen++] = docs[i];
	}
	tmpl_sort_manifests(gen, ngen);
	tmpl_sort_manifests(hooks, nhooks);
	out->docs = gen;
	out->ndocs = ngen;
	out->hooks = hooks;
	out->nhooks = nhooks;
	out->crds = r.crds ? karena_memdup(a, r.crds, r.ncrds * sizeof(*r.crds)) : NULL;
	out->ncrds = r.ncrds;
done:
	for (i = 0; i < r.nfiles; i++)
		kbuf_release(&r.files[i].out);
	free(sorted);
	free(r.files);
	free(r.crds);
	return rc;
}
