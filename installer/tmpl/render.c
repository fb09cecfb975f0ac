/* tmpl/render.c - rendering a Helm chart as `helm template` does
 * (pkg/engine/engine.go, pkg/action/install.go renderResources): each
 * enabled chart's top-level object (.Values .Release .Chart .Capabilities
 * .Template .Files .Subcharts; objects.c builds them), every template of
 * every enabled chart parsed into one set in Helm's order, executed,
 * "<no value>" removed; then manifest.c splits the output into documents
 * and reads their heads, hooks are set apart and both sorted by kind. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "core/alloc.h"
#include "objects.h"
#include "tmpl_int.h"

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
		if (pv && pv->type == DOC_MAP) {
			doc_map_set(a, parent_vals, name, vals);
			((tobj *)vals)->ptr = TOBJ_IN_PARENT;
		}
	}
	doc_map_set(a, top, "Values", vals);
	doc_map_set(a, top, "Release", r->release);
	doc_map_set(a, top, "Chart", tmpl_chart_obj(a, c, vc, name, root));
	doc_map_set(a, top, "Capabilities", r->caps);
	doc_map_set(a, top, "Files", tmpl_files_obj(a, c));
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

/* Helm's slog line for a hook annotation naming an unknown event: the
 * message, then the attribute as slog's text handler writes it (quoted
 * when it holds a blank, a quote, '=' or a control byte) */
static const char *unknown_hook_warning(karena *a, const char *hook)
{
	kbuf b = KBUF_INIT;
	const char *p;
	bool quote = !*hook;
	char *r;
	for (p = hook; *p; p++)
		quote |= (unsigned char)*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f;
	kbuf_puts(&b, "skipping unknown hooks hookTypes=");
	if (quote)
		kbuf_putc(&b, '"');
	for (p = hook; *p; p++) {
		if (quote && (*p == '"' || *p == '\\'))
			kbuf_putc(&b, '\\');
		if (quote && (unsigned char)*p < ' ')
			kbuf_printf(&b, *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : "\\x%02x", (unsigned char)*p);
		else
			kbuf_putc(&b, *p);
	}
	if (quote)
		kbuf_putc(&b, '"');
	r = karena_strndup(a, b.ptr, b.len);
	kbuf_release(&b);
	return r;
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
	if ((rc = tmpl_caps_new(&r.caps, a, o, err)))
		return rc;
	/* Helm's checkIfInstallable */
	if (!strcmp(doc_get_str(chart->metadata, "type", ""), "library"))
		return kerr_set(err, KE_INPUT, "library charts are not installable");
	if ((rc = tmpl_check_kube_version(a, r.caps, chart, err)))
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
	set->lookup = o->lookup;
	if (r.nfiles)
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
		tobjn = tmpl_named_map(a, "common.Values");
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
		if (k)
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
	out->warnings = karena_alloc(a, (ndocs + 1) * sizeof(*out->warnings));
	for (i = 0; i < ndocs; i++) {
		if (docs[i].hook) {
			if (tmpl_hook_known(docs[i].hook))
				hooks[nhooks++] = docs[i];
			else
				out->warnings[out->nwarnings++] = unknown_hook_warning(a, docs[i].hook);
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
