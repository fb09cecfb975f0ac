/*
 * release/action.c - the actions behind `kstage template` and `kstage
 * values` (as Helm keeps them in pkg/action): from options to a result,
 * with one cleanup path each. cli/ parses flags, calls one action and
 * prints its result.
 */
#include "release.h"
#include "core/alloc.h"
#include "tmpl/chart.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

/* Helm's release name rule: DNS-1123 subdomain labels, at most 53 chars */
static bool valid_release_name(const char *s)
{
	size_t n = strlen(s), i;
	bool label_start = true;
	if (n == 0 || n > 53)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (c == '.') {
			if (label_start || s[i - 1] == '-')
				return false;
			label_start = true;
			continue;
		}
		if (!alnum && c != '-')
			return false;
		if (label_start && !alnum)
			return false;
		label_start = false;
	}
	return !label_start && s[n - 1] != '-';
}

/* Helm's TemplateName: the name template runs with no data, before the
 * default name; then the name is checked as Helm checks it. */
static int release_name(const char **out, karena *a, const rel_template_opts *o, kerr *err)
{
	const char *name = o->name ? o->name : "release-name";
	if (o->name_template) {
		tmpl_set *ts = tmpl_set_new(a);
		tmpl_exec_opts eo = { 0, true, false, 0, 0 };
		kbuf nb = KBUF_INIT;
		int rc = tmpl_parse(ts, "name-template", o->name_template, strlen(o->name_template), err);
		if (!rc)
			rc = tmpl_exec(ts, "name-template", NULL, &nb, &eo, err);
		name = karena_strndup(a, nb.ptr, nb.len);
		kbuf_release(&nb);
		if (rc)
			return rc;
	}
	if (!valid_release_name(name))
		return kerr_set(err, KE_USAGE,
				"release name check failed: release name \"%s\": invalid release name, must match regex "
				"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be "
				"longer than 53", name);
	*out = name;
	return 0;
}

/* --skip-schema-validation: no chart in the tree has a schema */
static void drop_schemas(values_chart *c, int depth)
{
	size_t i;
	if (depth > 100)
		return;
	c->schema = NULL;
	for (i = 0; i < c->nsubcharts; i++)
		drop_schemas(c->subcharts[i], depth + 1);
}

/* The chart a bundle or chart path stands for. */
static int load_chart(tmpl_chart **out, karena *a, const char *path, bool bundle, const char *version,
		      const fetch_opts *fo, values_num_mode num, kerr *err)
{
	rel_bundle rb;
	int rc;
	if (!strncmp(path, "oci://", 6))
		return rel_chart_pull(out, a, path, version, fo, num, err);
	if (!bundle)
		return tmpl_chart_load(out, a, path, num, err);
	if ((rc = rel_bundle_load(&rb, a, path, err)))
		return rc;
	return rel_bundle_chart(out, a, &rb, num, err);
}

/* the path without the chart name, as --show-only matches it */
static const char *show_path(const char *source)
{
	const char *s = strchr(source, '/');
	return s ? s + 1 : source;
}

static bool is_test_hook(const char *h)
{
	return h && strstr(h, "test") != NULL;
}

/* The documents in print order: crds/ (when asked), manifests, hooks
 * (unless left out), then narrowed to --show-only. */
static int select_docs(rel_template_result *r, const rel_template_opts *o, kerr *err)
{
	const tmpl_output *out = &r->out;
	tmpl_manifest *all = xcalloc(out->ncrds + out->ndocs + out->nhooks + 1, sizeof(*all));
	size_t na = 0, i, k;
	if (o->include_crds)
		for (i = 0; i < out->ncrds; i++)
			all[na++] = out->crds[i];
	for (i = 0; i < out->ndocs; i++)
		all[na++] = out->docs[i];
	if (!o->no_hooks)
		for (i = 0; i < out->nhooks; i++)
			if (!(o->skip_tests && is_test_hook(out->hooks[i].hook)))
				all[na++] = out->hooks[i];
	r->docs = all;
	r->ndocs = na;
	if (!o->nshow_only)
		return 0;
	r->docs = xcalloc(na + 1, sizeof(*r->docs));
	r->ndocs = 0;
	for (k = 0; k < o->nshow_only; k++) {
		size_t before = r->ndocs;
		for (i = 0; i < na; i++)
			if (!fnmatch(o->show_only[k], show_path(all[i].source), FNM_PATHNAME))
				r->docs[r->ndocs++] = all[i];
		if (r->ndocs == before) {
			free(all);
			return kerr_set(err, KE_USAGE, "could not find template %s in chart", o->show_only[k]);
		}
		if (r->ndocs > na)
			break;
	}
	free(all);
	return 0;
}

int rel_template(rel_template_result *r, const rel_template_opts *o, kerr *err)
{
	doc_node *user = NULL, *secret_paths = NULL;
	tmpl_chart *tc = NULL;
	tmpl_render_opts ro;
	values_num_mode num = o->values ? o->values->num : o->bundle ? VALUES_NUM_EXACT : VALUES_NUM_HELM;
	doc_node *w;
	size_t i;
	int rc;
	memset(r, 0, sizeof(*r));
	karena_init(&r->a);
	if ((rc = release_name(&r->name, &r->a, o, err)))
		return rc;
	if (o->values && (rc = values_read_user(&user, &secret_paths, &r->a, o->values, err)))
		return rc;
	if ((rc = load_chart(&tc, &r->a, o->path, o->bundle, o->version, o->fetch, num, err)))
		return rc;
	values_secrets(o->secrets, &tc->vc, user, secret_paths);
	if (o->skip_schema)
		drop_schemas(&tc->vc, 0);
	if ((rc = values_compute(&tc->vc, user ? user : doc_new_map(&r->a), &r->a, num, err)))
		return rc;
	/* Helm's template action warns of a deprecated chart first */
	w = doc_new_seq(&r->a);
	if (doc_get_bool(tc->metadata, "deprecated", false))
		doc_seq_push(&r->a, w, doc_new_str(&r->a, "this chart is deprecated"));
	for (i = 0; tc->vc.warnings && i < tc->vc.warnings->u.seq.len; i++)
		doc_seq_push(&r->a, w, tc->vc.warnings->u.seq.v[i]);
	r->warnings = w;
	values_secrets(o->secrets, &tc->vc, tc->vc.values, secret_paths);
	memset(&ro, 0, sizeof(ro));
	ro.release_name = r->name;
	ro.namespace = o->namespace ? o->namespace : "default";
	ro.kube_version = o->kube_version;
	ro.api_versions = o->api_versions;
	ro.napi_versions = o->napi_versions;
	ro.is_upgrade = o->is_upgrade;
	ro.num = num;
	if ((rc = tmpl_render_chart(&r->out, &r->a, tc, &ro, err)))
		return rc;
	for (i = 0; i < r->out.nwarnings; i++)
		doc_seq_push(&r->a, w, doc_new_str(&r->a, r->out.warnings[i]));
	return select_docs(r, o, err);
}

bool rel_template_is_crd(const rel_template_result *r, const tmpl_manifest *m)
{
	size_t i;
	for (i = 0; i < r->out.ncrds; i++)
		if (r->out.crds[i].content == m->content)
			return true;
	return false;
}

void rel_template_result_release(rel_template_result *r)
{
	free(r->docs);
	tmpl_output_release(&r->out);
	karena_release(&r->a);
	memset(r, 0, sizeof(*r));
}

int rel_values_show(doc_node **out, karena *a, const char *path, bool bundle, const char *version,
		    const fetch_opts *fo, const values_opts *vo, kredact *secrets, kerr *err)
{
	doc_node *user = NULL, *secret_paths = NULL;
	tmpl_chart *tc = NULL;
	values_num_mode num = vo ? vo->num : bundle || !path ? VALUES_NUM_EXACT : VALUES_NUM_HELM;
	int rc;
	*out = NULL;
	if (vo && (rc = values_read_user(&user, &secret_paths, a, vo, err)))
		return rc;
	if (!user)
		user = doc_new_map(a);
	if (!path) {
		values_secrets(secrets, NULL, user, secret_paths);
		*out = values_mask_secrets(a, user, NULL, secret_paths);
		return 0;
	}
	if ((rc = load_chart(&tc, a, path, bundle, version, fo, num, err)))
		return rc;
	values_secrets(secrets, &tc->vc, user, secret_paths);
	if ((rc = values_compute(&tc->vc, user, a, num, err)))
		return rc;
	values_secrets(secrets, &tc->vc, tc->vc.values, secret_paths);
	*out = values_chart_mask(a, &tc->vc, secret_paths);
	return 0;
}
