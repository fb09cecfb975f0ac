/* tmpl/objects.c - the objects Helm gives a chart's templates
 * (pkg/engine, pkg/chart/common): .Chart from Chart.yaml as Helm 4 reads
 * it, .Capabilities (the Kubernetes version, Helm's default API versions,
 * Helm's build), .Files, and the check of the chart's kubeVersion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "objects.h"
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

doc_node *tmpl_named_map(karena *a, const char *type)
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
doc_node *tmpl_chart_obj(karena *a, tmpl_chart *c, const values_chart *vc, const char *name, bool root)
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
	} else {
		ann = tv_map(a);
		ann->flags |= TV_NILSEQ; /* a nil map: toJson says null */
	}
	ann->flags |= TV_SMAP;
	doc_map_set(a, m, "Annotations", ann);
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
int tmpl_check_kube_version(karena *a, const doc_node *caps, const tmpl_chart *chart, kerr *err)
{
	const doc_node *kv = chart->metadata ? doc_map_get(chart->metadata, "kubeVersion") : NULL;
	const doc_node *kvo = doc_map_get(caps, "KubeVersion");
	const doc_node *norm = doc_map_get(kvo, "normalizedVersion"), *full = doc_map_get(kvo, "Version");
	tsemver v;
	if (!kv || kv->type != DOC_STR || !kv->u.s.len || !norm || !full)
		return 0;
	if (!tsemver_parse(&v, a, norm->u.s.ptr, norm->u.s.len) &&
	    tsemver_check(a, kv->u.s.ptr, kv->u.s.len, &v) == 1)
		return 0;
	return kerr_set(err, KE_INPUT, "chart requires kubeVersion: %s which is incompatible with Kubernetes %s",
			kv->u.s.ptr, full->u.s.ptr);
}

int tmpl_caps_new(doc_node **out, karena *a, const tmpl_render_opts *o, kerr *err)
{
	tobj *caps = tobj_new(a, TOBJ_NAMED, "*common.Capabilities", DOC_MAP);
	tobj *kv = tobj_new(a, TOBJ_KUBEVERSION, "common.KubeVersion", DOC_MAP);
	tobj *apis = tobj_new(a, TOBJ_APIVERSIONS, "common.VersionSet", DOC_SEQ);
	tobj *hv = tobj_new(a, TOBJ_NAMED, "version.BuildInfo", DOC_MAP);
	const char *ver = o->kube_version ? o->kube_version : DEFAULT_KUBE_VERSION;
	kbuf norm = KBUF_INIT, why = KBUF_INIT;
	uint64_t major = 0, minor = 0;
	size_t i;
	char buf[32];
	caps->n.flags |= TV_STRUCT;
	kv->n.flags |= TV_STRUCT;
	hv->n.flags |= TV_STRUCT;
	if (kube_version_parse(ver, &norm, &major, &minor, &why)) {
		int rc = kerr_set(err, KE_USAGE, "invalid kube version '%s': %s", ver, why.ptr);
		kbuf_release(&norm);
		kbuf_release(&why);
		return rc;
	}
	{
		/* Helm 4's KubeVersion: Version as given (with a "v"), the
		 * normalized numbers (String(), an unexported field), Major,
		 * Minor; GitVersion() is Version */
		char *v = karena_printf(a, "%s%s", ver[0] == 'v' ? "" : "v", ver);
		doc_map_set(a, &kv->n, "Version", tv_strz(a, v));
		doc_map_set(a, &kv->n, "normalizedVersion", tv_str(a, norm.ptr, norm.len));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)major);
		doc_map_set(a, &kv->n, "Major", tv_strz(a, buf));
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)minor);
		doc_map_set(a, &kv->n, "Minor", tv_strz(a, buf));
	}
	kbuf_release(&norm);
	kbuf_release(&why);
	for (i = 0; i < sizeof(default_api_versions) / sizeof(default_api_versions[0]); i++)
		doc_seq_push(a, &apis->n, tv_strz(a, default_api_versions[i]));
	for (i = 0; i < o->napi_versions; i++)
		doc_seq_push(a, &apis->n, tv_strz(a, o->api_versions[i]));
	doc_map_set(a, &hv->n, "Version", tv_strz(a, "v4.1.4"));
	doc_map_set(a, &hv->n, "GitCommit", tv_strz(a, "05fa37973dc9e42b76e1d2883494c87174b6074f"));
	doc_map_set(a, &hv->n, "GitTreeState", tv_strz(a, "clean"));
	doc_map_set(a, &hv->n, "GoVersion", tv_strz(a, "go1.25.9"));
	doc_map_set(a, &hv->n, "KubeClientVersion", tv_strz(a, "v1.35"));
	doc_map_set(a, &caps->n, "KubeVersion", &kv->n);
	doc_map_set(a, &caps->n, "APIVersions", &apis->n);
	doc_map_set(a, &caps->n, "HelmVersion", &hv->n);
	*out = &caps->n;
	return 0;
}

doc_node *tmpl_files_obj(karena *a, const tmpl_chart *c)
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
