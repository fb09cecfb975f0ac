/*
 * release/render.c - a stage into objects: fetched URLs, files in the
 * bundle, templates (the Go template engine), Helm charts (crds/ and
 * templates). Also the run's values and the `enabled` conditions.
 */
#include "release.h"
#include "core/alloc.h"
#include "core/archive.h"
#include "fetch/fetch.h"
#include "tmpl/chart.h"
#include "tmpl/tmpl.h"

#include <dirent.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int rel_values(doc_node **out, karena *a, const rel_bundle *b, const values_opts *vo, kredact *secrets,
	       kerr *err)
{
	doc_node *user = NULL, *secret_paths = NULL;
	int rc;
	if (vo && (vo->nfiles || vo->nflags)) {
		if ((rc = values_read_user(&user, &secret_paths, a, vo, err)))
			return rc;
	}
	if (!user)
		user = doc_new_map(a);
	if (b->is_chart) {
		values_secrets(secrets, NULL, user, secret_paths);
		*out = user;   /* charts: computed against the chart tree at render time */
		return 0;
	}
	{
		/* the same computation as `kstage values` and `kstage template` */
		struct tmpl_chart *tc;
		values_num_mode num = vo ? vo->num : VALUES_NUM_EXACT;
		if ((rc = rel_bundle_chart(&tc, a, b, num, err)))
			return rc;
		values_secrets(secrets, &tc->vc, user, secret_paths);
		if ((rc = values_compute(&tc->vc, user, a, num, err)))
			return rc;
		*out = tc->vc.values;
		values_secrets(secrets, &tc->vc, *out, secret_paths);
	}
	return 0;
}

static doc_node *make_dot(karena *a, const rel_bundle *b, const rel_ctx *ctx)
{
	doc_node *dot = doc_new_map(a), *rel = doc_new_map(a), *bun = rel_bundle_meta(a, b);
	doc_map_set(a, dot, "Values", ctx->values ? ctx->values : doc_new_map(a));
	doc_map_set(a, rel, "Name", doc_new_str(a, ctx->release_name ? ctx->release_name : (b->name ? b->name : "kstage")));
	doc_map_set(a, rel, "Namespace", doc_new_str(a, ctx->namespace ? ctx->namespace : "default"));
	doc_map_set(a, rel, "Service", doc_new_str(a, "kstage"));
	doc_map_set(a, rel, "IsInstall", doc_new_bool(a, !ctx->is_upgrade));
	doc_map_set(a, rel, "IsUpgrade", doc_new_bool(a, ctx->is_upgrade));
	doc_map_set(a, dot, "Release", rel);
	doc_map_set(a, dot, "Bundle", bun);
	doc_map_set(a, dot, "Chart", bun);   /* as `kstage template` shows a bundle */
	doc_map_set(a, dot, "Outputs", ctx->outputs ? doc_copy(a, ctx->outputs) : doc_new_map(a));
	if (ctx->kube_version) {
		/* the checks' .Capabilities.KubeVersion: Version, GitVersion, Major, Minor (as Helm's) */
		doc_node *caps = doc_new_map(a), *kv = doc_new_map(a);
		const char *v = ctx->kube_version + (ctx->kube_version[0] == 'v');
		size_t maj = strspn(v, "0123456789"), min = v[maj] == '.' ? strspn(v + maj + 1, "0123456789") : 0;
		doc_map_set(a, kv, "Version", doc_new_str(a, ctx->kube_version));
		doc_map_set(a, kv, "GitVersion", doc_new_str(a, ctx->kube_version));
		doc_map_set(a, kv, "Major", doc_new_strn(a, v, maj));
		doc_map_set(a, kv, "Minor", doc_new_strn(a, v + maj + (min ? 1 : 0), min));
		doc_map_set(a, caps, "KubeVersion", kv);
		doc_map_set(a, dot, "Capabilities", caps);
	}
	return dot;
}

/* The bundle's partials (templates/_*.tpl) into set, so templates and the
 * strings of kstage.yaml (enabled, op values) can include their defines. */
static int parse_partials(tmpl_set *set, karena *a, const rel_bundle *b, kerr *err)
{
	kbuf dir = KBUF_INIT;
	DIR *d;
	struct dirent *de;
	int rc = 0;
	if (b->chart)
		return 0;
	kbuf_printf(&dir, "%s/templates", b->dir);
	d = opendir(dir.ptr);
	while (d && (de = readdir(d)) && !rc) {
		kbuf p = KBUF_INIT, t = KBUF_INIT;
		if (de->d_name[0] != '_')
			continue;
		kbuf_printf(&p, "%s/%s", dir.ptr, de->d_name);
		if (kbuf_read_file(&t, p.ptr, 16 << 20) == 0) {
			char *name = karena_printf(a, "templates/%s", de->d_name);
			rc = tmpl_parse(set, name, t.ptr, t.len, err);
		}
		kbuf_release(&p);
		kbuf_release(&t);
	}
	if (d)
		closedir(d);
	kbuf_release(&dir);
	return rc;
}

int rel_render_string(kbuf *out, karena *a, const rel_bundle *b, const char *name, const char *text,
		      const rel_ctx *ctx, kerr *err)
{
	tmpl_set *s;
	int rc;
	if (!strstr(text, "{{")) {
		kbuf_puts(out, text);
		return 0;
	}
	s = tmpl_set_new(a);
	if (ctx->lookup)
		tmpl_set_lookup(s, &ctx->lookup->t);
	if ((rc = parse_partials(s, a, b, err)) || (rc = tmpl_parse(s, name, text, strlen(text), err)))
		return rc;
	return tmpl_exec(s, name, make_dot(a, b, ctx), out, NULL, err);
}

/* ---- documents into objects ---- */

/* The objects a stage renders, as they are read: each document is read
 * into an arena of its own (anchors do not reach across documents, as in
 * Helm, which splits a manifest before it reads each part). In text mode
 * (apply of a stage) each object is kept as text (kube_obj_keep_text), so
 * a stage of thousands of objects never holds thousands of trees; CRDs and
 * the items of a List stay trees (discovery and the chart-version checks
 * read them; Lists are rare). Otherwise each tree is copied out. */
typedef struct obj_list {
	kube_obj *v;
	size_t n, cap;
	karena *a;
	bool text;
	const kev_sink *sink;   /* text mode: a Secret's data is learnt as it is read */
} obj_list;

static kube_obj *obj_next(obj_list *ol)
{
	ALLOC_GROW(ol->v, ol->n + 1, ol->cap);
	return &ol->v[ol->n];
}

/* One document, in the loader's arena. */
static int add_doc(void *u, doc_node *d, kerr *err)
{
	obj_list *ol = u;
	const doc_node *items;
	const char *kind;
	size_t j;
	int rc;
	if (!d || d->type == DOC_NULL)
		return 0;
	items = doc_map_get(d, "items");
	kind = doc_get_str(d, "kind", "");
	if (d->type == DOC_MAP && items && items->type == DOC_SEQ && strlen(kind) > 4 &&
	    !strcmp(kind + strlen(kind) - 4, "List")) {
		items = doc_map_get((d = doc_copy(ol->a, d)), "items");
		for (j = 0; j < items->u.seq.len; j++) {
			if ((rc = kube_obj_init(obj_next(ol), ol->a, items->u.seq.v[j], err)))
				return rc;
			ol->n++;
		}
		return 0;
	}
	if (!ol->text || !strcmp(kind, "CustomResourceDefinition"))
		return (rc = kube_obj_init(obj_next(ol), ol->a, doc_copy(ol->a, d), err)) ? rc : (ol->n++, 0);
	if ((rc = kube_obj_init(obj_next(ol), ol->a, d, err)))
		return rc;
	rel_secrets_learn(d, ol->sink);
	kube_obj_keep_text(&ol->v[ol->n++], ol->a);
	return 0;
}

static int add_docs(obj_list *ol, karena *a, const char *name, const char *text, size_t len, kerr *err)
{
	doc_stream st;
	doc_load_opts o;
	memset(&o, 0, sizeof(o));
	o.each = add_doc;
	o.each_u = ol;
	return doc_load_yaml(&st, a, name, text, len, &o, err);
}

static int cmpstr(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool manifest_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")) ||
	       (l > 5 && !strcmp(n + l - 5, ".json"));
}

static bool is_archive(const char *n)
{
	size_t l = strlen(n);
	return (l > 4 && !strcmp(n + l - 4, ".tgz")) || (l > 7 && !strcmp(n + l - 7, ".tar.gz")) ||
	       (l > 4 && !strcmp(n + l - 4, ".tar")) || (l > 4 && !strcmp(n + l - 4, ".zip"));
}

typedef struct arch_file {
	char *name;
	kbuf data;
} arch_file;

static int cmp_arch(const void *x, const void *y)
{
	return strcmp(((const arch_file *)x)->name, ((const arch_file *)y)->name);
}

typedef struct arch_files {
	arch_file *v;
	size_t n, cap;
} arch_files;

static int collect_manifest(void *ctx, const karchive_entry *e, kerr *err)
{
	arch_files *f = ctx;
	const char *base = strrchr(e->path, '/');
	(void)err;
	base = base ? base + 1 : e->path;
	if (e->type != KARCHIVE_FILE || !manifest_name(e->path) || base[0] == '.')
		return 0;
	ALLOC_GROW(f->v, f->n + 1, f->cap);
	f->v[f->n].name = xstrdup(e->path);
	kbuf_init(&f->v[f->n].data, e->len);
	kbuf_put(&f->v[f->n].data, e->data, e->len);
	f->n++;
	return 0;
}

/* Every .yaml/.yml/.json file of a tar, tar.gz or zip, in name order, every
 * entry checked by core/archive.c (paths, links, devices). Limits: 5000
 * entries, 256 MiB unpacked, 100 times the packed size. */
static int add_archive(obj_list *ol, karena *a, const char *name, const void *data,
		       size_t len, kerr *err)
{
	karchive_limits lim = { 5000, (size_t)256 << 20, 0, 0, 0, 0 };
	arch_files f = { NULL, 0, 0 };
	size_t i;
	int rc = karchive_walk(data, len, name, &lim, collect_manifest, &f, err);
	if (f.n)
		qsort(f.v, f.n, sizeof(*f.v), cmp_arch);
	for (i = 0; i < f.n; i++) {
		if (!rc)
			rc = add_docs(ol, a, karena_printf(a, "%s:%s", name, f.v[i].name), f.v[i].data.ptr,
				      f.v[i].data.len, err);
		free(f.v[i].name);
		kbuf_release(&f.v[i].data);
	}
	free(f.v);
	return rc;
}

/* The manifests at path (a file, an archive, or a directory of them, not
 * recursing into dot files), each resolved inside the bundle. */
static int add_path(obj_list *ol, karena *a, const rel_bundle *b, const char *path,
		    kerr *err)
{
	struct stat sb;
	kbuf t = KBUF_INIT, real = KBUF_INIT;
	const char *full;
	int rc = rel_bundle_resolve(&real, b, path, err);
	if (rc) {
		kbuf_release(&real);
		return rc;
	}
	full = karena_strdup(a, real.ptr);
	kbuf_release(&real);
	if (stat(full, &sb) != 0)
		return kerr_set(err, KE_INPUT, "source path \"%s\" not found", full);
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(full);
		struct dirent *de;
		char **names = NULL;
		size_t nn = 0, cp = 0, i;
		if (!d)
			return kerr_set(err, KE_INPUT, "cannot read directory \"%s\"", full);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.' || !manifest_name(de->d_name))
				continue;
			ALLOC_GROW(names, nn + 1, cp);
			names[nn++] = xstrdup(de->d_name);
		}
		closedir(d);
		if (nn)
			qsort(names, nn, sizeof(char *), cmpstr);
		for (i = 0; i < nn; i++) {
			kbuf p = KBUF_INIT;
			kbuf_printf(&p, "%s/%s", full, names[i]);
			if (!rc)
				rc = add_path(ol, a, b, p.ptr, err);
			kbuf_release(&p);
			free(names[i]);
		}
		free(names);
		return rc;
	}
	if (kbuf_read_file(&t, full, 256 << 20) != 0)
		rc = kerr_set(err, KE_INPUT, "cannot read \"%s\"", full);
	else if (is_archive(full))
		rc = add_archive(ol, a, karena_strdup(a, full), t.ptr, t.len, err);
	else
		rc = add_docs(ol, a, karena_strdup(a, full), t.ptr, t.len, err);
	kbuf_release(&t);
	return rc;
}

static int render_templates(obj_list *ol, karena *a, const rel_bundle *b,
			    const rel_stage *s, const rel_ctx *ctx, kerr *err)
{
	tmpl_set *set;
	kbuf dir = KBUF_INIT;
	size_t i;
	int rc = 0;
	doc_node *dot;
	set = tmpl_set_new(a);
	if (ctx->lookup)
		tmpl_set_lookup(set, &ctx->lookup->t);
	kbuf_printf(&dir, "%s/templates", b->dir);
	rc = parse_partials(set, a, b, err);
	dot = make_dot(a, b, ctx);
	for (i = 0; i < s->ntemplates && !rc; i++) {
		kbuf p = KBUF_INIT, t = KBUF_INIT, out = KBUF_INIT;
		char *name = karena_printf(a, "templates/%s", s->templates[i]);
		kbuf_printf(&p, "%s/%s", dir.ptr, s->templates[i]);
		if (kbuf_read_file(&t, p.ptr, 16 << 20) != 0) {
			const doc_node *tn = doc_get_path(s->node, "templates");
			rc = kerr_set_at(err, KE_INPUT, b->file, tn ? tn->line : 0, tn ? tn->col : 0,
					 "stage %s: template \"%s\" not found in %s", s->name, s->templates[i], dir.ptr);
		} else if (!(rc = tmpl_parse(set, name, t.ptr, t.len, err)) &&
			   !(rc = tmpl_exec(set, name, dot, &out, NULL, err))) {
			rc = add_docs(ol, a, name, out.ptr, out.len, err);
		}
		kbuf_release(&p);
		kbuf_release(&t);
		kbuf_release(&out);
	}
	kbuf_release(&dir);
	return rc;
}

/* A chart stage's own values: string leaves holding "{{" rendered with the
 * bundle's .Values. *slot is a value of a map or list. */
static int render_values(doc_node **slot, karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx,
			 int depth, kerr *err)
{
	doc_node *v = *slot;
	size_t i;
	int rc = 0;
	if (depth > 100)
		return kerr_set(err, KE_LIMIT, "stage %s: chart values nested deeper than 100", s->name);
	if (v->type == DOC_STR && strstr(v->u.s.ptr, "{{")) {
		kbuf o = KBUF_INIT;
		rc = rel_render_string(&o, a, b, karena_printf(a, "%s:stage %s:chart values", b->file, s->name),
				       v->u.s.ptr, ctx, err);
		*slot = doc_new_strn(a, o.ptr, o.len);
		kbuf_release(&o);
	} else if (v->type == DOC_MAP) {
		for (i = 0; i < v->u.map.len && !rc; i++)
			rc = render_values(&v->u.map.v[i].val, a, b, s, ctx, depth + 1, err);
	} else if (v->type == DOC_SEQ) {
		for (i = 0; i < v->u.seq.len && !rc; i++)
			rc = render_values(&v->u.seq.v[i], a, b, s, ctx, depth + 1, err);
	}
	return rc;
}

int rel_bundle_namespaces(rel_bundle *b, karena *a, doc_node *values, kerr *err)
{
	rel_ctx ctx;
	size_t i;
	int rc = 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.values = values;
	ctx.release_name = b->name;
	for (i = 0; i < b->nstages && !rc; i++) {
		rel_stage *s = &b->stages[i];
		const doc_node *t = s->namespace_tmpl;
		kbuf v = KBUF_INIT;
		const char *why;
		if (!t)
			continue;
		rc = rel_render_string(&v, a, b, karena_printf(a, "%s:stage %s:namespace", b->file, s->name), t->u.s.ptr,
				       &ctx, err);
		if (!rc) {
			const char *ns = karena_strndup(a, v.ptr ? v.ptr : "", v.len);
			if ((why = kube_check_namespace(ns))) {
				kbuf q = KBUF_INIT;
				kube_quote(&q, ns);
				rc = kerr_set_at(err, KE_INPUT, t->file ? t->file : b->file, t->line, t->col,
						 "stage %s: namespace gave %s: %s", s->name, q.ptr, why);
				kbuf_release(&q);
			} else {
				s->namespace = ns;
			}
		}
		kbuf_release(&v);
	}
	return rc;
}

/* How a stage's remote source is fetched: the run's options, its sink,
 * and the size the lock gives as the cap. */
static void stage_fetch_opts(fetch_opts *fo, const rel_stage *s, const rel_ctx *ctx)
{
	if (ctx->fetch)
		*fo = *ctx->fetch;
	else
		memset(fo, 0, sizeof(*fo));
	fo->sink = ctx->sink;
	fo->max_bytes = s->size;
}

/* The canonical tar of a git source or chart stage, pinned. */
static int fetch_stage_git(kbuf *out, const rel_stage *s, const rel_ctx *ctx, kerr *err)
{
	fetch_opts fo;
	int rc;
	stage_fetch_opts(&fo, s, ctx);
	rc = fetch_git(out, NULL, s->git, s->git_ref, s->git_path, s->commit, s->sha256, &fo, err);
	if (rc && s->pin_at)
		kerr_wrap(err, "sha256 from %s", s->pin_at);
	return rc;
}

/* The manifests of chart ch (and of its subcharts, as charts/NAME/...)
 * that a pattern of stage s matches, each added once, in file order;
 * matched[k] counts the files pattern k matched. */
static int add_chart_files(obj_list *ol, size_t *matched, karena *a, const tmpl_chart *ch,
			   const rel_stage *s, const char *prefix, int depth, kerr *err)
{
	size_t i, k;
	int rc;
	for (i = 0; i < ch->nfiles; i++) {
		const tmpl_file *f = &ch->files[i];
		const char *path = karena_printf(a, "%s%s", prefix, f->name);
		bool hit = false;
		if (!manifest_name(f->name))
			continue;
		for (k = 0; k < s->nchart_files; k++)
			if (!fnmatch(s->chart_files[k], path, FNM_PATHNAME)) {
				matched[k]++;
				hit = true;
			}
		if (hit && (rc = add_docs(ol, a, karena_printf(a, "%s/%s", ch->path, f->name), f->data, f->len, err)))
			return rc;
	}
	for (i = 0; depth < 20 && i < ch->nsubcharts; i++) {   /* the loader's own depth limit */
		const tmpl_chart *sub = ch->subcharts[i];
		if ((rc = add_chart_files(ol, matched, a, sub, s, karena_printf(a, "%scharts/%s/", prefix, sub->name),
					  depth + 1, err)))
			return rc;
	}
	return 0;
}

static int render_chart(obj_list *ol, rel_hooks *hooks, karena *a, const rel_bundle *b,
			const rel_stage *s, const rel_ctx *ctx, bool crds, kerr *err)
{
	tmpl_chart *ch = b->chart;
	doc_node *user;
	tmpl_output out;
	tmpl_render_opts ro;
	size_t i;
	int rc;
	if (!ch && s->ref) {
		kbuf data = KBUF_INIT;
		fetch_opts fo;
		stage_fetch_opts(&fo, s, ctx);
		rc = fetch_oci_chart(&data, NULL, s->ref, s->version, s->sha256, &fo, err);
		if (rc && s->pin_at)
			kerr_wrap(err, "digest from %s", s->pin_at);
		if (!rc)
			rc = tmpl_chart_load_tgz(&ch, a, s->url, data.ptr, data.len, VALUES_NUM_HELM, err);
		kbuf_release(&data);
		if (rc)
			return rc;
	} else if (!ch && s->git) {
		kbuf data = KBUF_INIT;
		rc = fetch_stage_git(&data, s, ctx, err);
		if (!rc)
			rc = tmpl_chart_load_tgz(&ch, a, s->url, data.ptr, data.len, VALUES_NUM_HELM, err);
		kbuf_release(&data);
		if (rc)
			return rc;
	} else if (!ch) {
		kbuf p = KBUF_INIT;
		rc = rel_bundle_resolve(&p, b, s->path, err);
		if (!rc)
			rc = tmpl_chart_load(&ch, a, p.ptr, VALUES_NUM_HELM, err);
		kbuf_release(&p);
		if (rc)
			return rc;
	}
	if (crds) {
		/* crds/ are plain YAML: no values needed */
		for (i = 0; i < ch->nfiles; i++) {
			const tmpl_file *f = &ch->files[i];
			if (strncmp(f->name, "crds/", 5) || !manifest_name(f->name))
				continue;
			if ((rc = add_docs(ol, a, karena_printf(a, "%s/%s", ch->name, f->name), f->data, f->len, err)))
				return rc;
		}
		/* remember which chart version brought each CRD: a later run of an
		 * older chart must not downgrade it */
		for (i = 0; i < ol->n; i++) {
			const char *v = doc_get_str(ch->metadata, "version", NULL);
			if (v && ol->v[i].doc && !strcmp(ol->v[i].kind, "CustomResourceDefinition"))
				doc_set_path(a, ol->v[i].doc, "metadata.annotations.kstage\\.dev/chart-version",
					     doc_new_str(a, v));
		}
		return 0;
	}
	if (s->nchart_files) {
		size_t *matched = karena_alloc(a, sizeof(size_t) * s->nchart_files);   /* zero-filled */
		if ((rc = add_chart_files(ol, matched, a, ch, s, "", 0, err)))
			return rc;
		for (i = 0; i < s->nchart_files; i++)
			if (!matched[i])
				return kerr_set(err, KE_INPUT, "stage %s: chart files pattern \"%s\" matches no manifest of chart %s %s",
						s->name, s->chart_files[i], ch->name, doc_get_str(ch->metadata, "version", "?"));
		return 0;
	}
	if (s->chart_values) {
		user = doc_copy(a, s->chart_values);
		if ((rc = render_values(&user, a, b, s, ctx, 0, err)))
			return rc;
	} else {
		user = ctx->values ? doc_copy(a, ctx->values) : doc_new_map(a);
	}
	values_secrets(ctx->sink ? ctx->sink->redact : NULL, &ch->vc, user, NULL);
	if ((rc = values_compute(&ch->vc, user, a, VALUES_NUM_HELM, err)))
		return rc;
	values_secrets(ctx->sink ? ctx->sink->redact : NULL, &ch->vc, ch->vc.values, NULL);
	memset(&ro, 0, sizeof(ro));
	ro.release_name = ctx->release_name ? ctx->release_name : ch->name;
	ro.namespace = s->namespace ? s->namespace : ctx->namespace;   /* helm -n: the stage's namespace */
	ro.num = VALUES_NUM_HELM;
	ro.is_upgrade = ctx->is_upgrade;
	ro.lookup = ctx->lookup ? &ctx->lookup->t : NULL;
	if ((rc = tmpl_render_chart(&out, a, ch, &ro, err))) {
		tmpl_output_release(&out);
		return rc;
	}
	for (i = 0; i < out.ndocs && !rc; i++)
		rc = add_docs(ol, a, out.docs[i].source, out.docs[i].content, out.docs[i].len, err);
	if (!rc && ctx->notes && out.notes)
		kbuf_puts(ctx->notes, out.notes);
	for (i = 0; hooks && !ctx->no_hooks && i < out.nhooks && !rc; i++) {
		doc_stream ds;
		size_t k;
		rc = doc_load_yaml(&ds, a, out.hooks[i].source, out.hooks[i].content, out.hooks[i].len, NULL, err);
		for (k = 0; !rc && k < ds.len; k++)
			if (ds.docs[k] && ds.docs[k]->type == DOC_MAP)
				rc = rel_hooks_add(hooks, a, ds.docs[k], out.hooks[i].source, err);
	}
	if (out.nhooks && ctx->sink && (!hooks || ctx->no_hooks))
		kev_emitf(ctx->sink, ctx->no_hooks ? KEV_WARN : KEV_INFO, "chart.hooks", "chart %s: %zu Helm hook document(s) %s",
			  ch->name, out.nhooks, ctx->no_hooks ? "not run (--no-hooks)" : "run during apply, not planned");
	tmpl_output_release(&out);
	return rc;
}

/* The data of the Secrets a stage renders is masked in all output. */
static void learn_secrets(const kube_obj *objs, size_t n, const kev_sink *sink)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (objs[i].doc)
			rel_secrets_learn(objs[i].doc, sink);
}

int rel_stage_enabled(bool *enabled, karena *a, const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx,
		      kerr *err)
{
	int rc = 0;
	*enabled = true;
	if (s->enabled) {
		if (s->enabled->type == DOC_BOOL) {
			*enabled = s->enabled->u.b;
		} else {
			kbuf v = KBUF_INIT;
			char *t;
			rc = rel_render_string(&v, a, b, karena_printf(a, "%s:stage %s:enabled", b->file, s->name),
					       s->enabled->u.s.ptr, ctx, err);
			t = v.ptr;
			while (*t == ' ' || *t == '\n')
				t++;
			while (v.len && (v.ptr[v.len - 1] == ' ' || v.ptr[v.len - 1] == '\n'))
				kbuf_truncate(&v, v.len - 1);
			if (!rc) {
				if (!strcmp(t, "true"))
					*enabled = true;
				else if (!strcmp(t, "false") || !*t || !strcmp(t, "<no value>"))
					*enabled = false;
				else
					rc = kerr_set_at(err, KE_INPUT, s->enabled->file ? s->enabled->file : b->file,
							 s->enabled->line, s->enabled->col,
							 "stage %s: enabled gave \"%s\", want true or false", s->name, t);
			}
			kbuf_release(&v);
		}
	}
	return rc;
}

int rel_stage_render(kube_obj **objs, size_t *n, bool *enabled, karena *a, const rel_bundle *b,
		     const rel_stage *s, const rel_ctx *ctx, kerr *err)
{
	kube_obj *v = NULL;
	int rc = rel_stage_render_hooks(&v, n, NULL, false, enabled, a, b, s, ctx, err);
	*objs = *n ? karena_memdup(a, v, *n * sizeof(*v)) : NULL;
	free(v);
	return rc;
}

int rel_stage_render_hooks(kube_obj **objs, size_t *n, rel_hooks *hooks, bool text, bool *enabled, karena *a,
			   const rel_bundle *b, const rel_stage *s, const rel_ctx *ctx, kerr *err)
{
	obj_list ol;
	int rc;
	memset(&ol, 0, sizeof(ol));
	ol.a = a;
	ol.text = text;
	ol.sink = ctx->sink;
	*objs = NULL;
	*n = 0;
	if ((rc = rel_stage_enabled(enabled, a, b, s, ctx, err)) || !*enabled)
		return rc;
	switch (s->src) {
	case REL_SRC_URL: {
		kbuf data = KBUF_INIT;
		fetch_opts fo;
		stage_fetch_opts(&fo, s, ctx);
		rc = fetch_url(&data, s->url, s->sha256, &fo, err);
		if (rc && s->pin_at)
			kerr_wrap(err, "sha256 from %s", s->pin_at);
		if (!rc && is_archive(s->url))
			rc = add_archive(&ol, a, karena_strdup(a, s->url), data.ptr, data.len, err);
		else if (!rc)
			rc = add_docs(&ol, a, karena_strdup(a, s->url), data.ptr, data.len, err);
		kbuf_release(&data);
		break;
	}
	case REL_SRC_GIT: {
		kbuf data = KBUF_INIT;
		rc = fetch_stage_git(&data, s, ctx, err);
		if (!rc)
			rc = add_archive(&ol, a, s->url, data.ptr, data.len, err);
		kbuf_release(&data);
		break;
	}
	case REL_SRC_PATH: {
		rc = add_path(&ol, a, b, s->path, err);
		break;
	}
	case REL_SRC_TEMPLATES:
		rc = render_templates(&ol, a, b, s, ctx, err);
		break;
	case REL_SRC_CHART:
		rc = render_chart(&ol, hooks, a, b, s, ctx, false, err);
		break;
	case REL_SRC_CHART_CRDS:
		rc = render_chart(&ol, NULL, a, b, s, ctx, true, err);
		break;
	case REL_SRC_NONE:
		break;
	}
	*objs = ol.v;
	*n = ol.n;
	learn_secrets(*objs, *n, ctx->sink);
	return rc;
}
