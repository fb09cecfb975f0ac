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
		rc = tmpl_manifest_heads(a, docs, ndocs, o->no_fast_yaml, err);
	}
	if (rc)
		goto done;
	gen = karena_alloc(a, (ndocs + 1) * sizeof(*gen));
	hooks = karena_alloc(a, (ndocs + 1) * sizeof(*hooks));
	for (i = 0; i < ndocs; i++) {
		if (docs[i].hook) {
			if (tmpl_hook_known(docs[i].hook))
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
