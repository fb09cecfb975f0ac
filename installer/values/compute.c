/*
 * values/compute.c - a chart tree's values, as Helm computes them:
 * ProcessDependencies (aliases, tags, conditions, import-values), then
 * CoalesceValues (user values over each chart's defaults, globals copied
 * down, parent values over subchart defaults), then each chart's schema.
 */
#include "values_int.h"
#include "core/alloc.h"

#include <string.h>

#define MAX_CHART_DEPTH 50

static const doc_node *defaults_of(const values_chart *c)
{
	return c->eff_defaults ? c->eff_defaults : c->defaults;
}

/* ---- aliases: the effective subchart list ------------------------------- */

static values_chart *copy_tree(karena *a, const values_chart *c, int depth)
{
	values_chart *n = karena_memdup(a, c, sizeof(*c));
	size_t i;
	n->origin = c->origin ? c->origin : (values_chart *)c;
	n->effective = NULL;
	n->neffective = 0;
	n->aliased = NULL;
	n->values = NULL;
	n->eff_defaults = NULL;
	if (depth < MAX_CHART_DEPTH && c->nsubcharts) {
		n->subcharts = karena_alloc(a, st_mult(c->nsubcharts + 1, sizeof(values_chart *)));
		for (i = 0; i < c->nsubcharts; i++)
			n->subcharts[i] = copy_tree(a, c->subcharts[i], depth + 1);
	}
	return n;
}

static int resolve_tree(values_chart *c, karena *a, int depth, kerr *err)
{
	size_t i, j, n = 0;
	values_chart **eff;
	if (depth > MAX_CHART_DEPTH)
		return kerr_set(err, KE_LIMIT, "chart %s: subcharts nest deeper than %d levels", c->name,
				MAX_CHART_DEPTH);
	eff = karena_alloc(a, st_mult(c->nsubcharts + c->ndeps + 1, sizeof(values_chart *)));
	for (i = 0; i < c->nsubcharts; i++) {
		bool listed = false;
		for (j = 0; j < c->ndeps && !listed; j++)
			listed = c->deps[j].name && c->subcharts[i]->name &&
				 !strcmp(c->deps[j].name, c->subcharts[i]->name);
		if (!listed) {
			c->subcharts[i]->effective_name = c->subcharts[i]->name;
			eff[n++] = c->subcharts[i];
		}
	}
	if (depth == 0) {
		/* Helm's CheckDependencies: the top chart's only, all named */
		kbuf miss = KBUF_INIT;
		for (j = 0; j < c->ndeps; j++) {
			bool found = false;
			for (i = 0; i < c->nsubcharts && !found; i++)
				found = c->subcharts[i]->name && c->deps[j].name &&
					!strcmp(c->subcharts[i]->name, c->deps[j].name);
			if (!found)
				kbuf_printf(&miss, "%s%s", miss.len ? ", " : "", c->deps[j].name ? c->deps[j].name : "");
		}
		if (miss.len) {
			int r = kerr_set(err, KE_INPUT, "chart %s: found in Chart.yaml, but missing in charts/ directory: %s",
					 c->name, miss.ptr);
			kbuf_release(&miss);
			return r;
		}
	}
	for (j = 0; j < c->ndeps; j++) {
		const values_dep *d = &c->deps[j];
		values_chart *sub = NULL, *use;
		bool used_before = false;
		size_t k;
		for (i = 0; i < c->nsubcharts && !sub; i++)
			if (c->subcharts[i]->name && d->name && !strcmp(c->subcharts[i]->name, d->name))
				sub = c->subcharts[i];
		if (!sub) {
			/* a subchart's missing dependency: Helm renders without
			 * it; it leaves the list (effective follows deps) */
			values_dep *kept = karena_alloc(a, st_mult(c->ndeps, sizeof(*kept)));
			memcpy(kept, c->deps, j * sizeof(*kept));
			memcpy(kept + j, c->deps + j + 1, (c->ndeps - j - 1) * sizeof(*kept));
			c->deps = kept;
			c->ndeps--;
			j--;
			continue;
		}
		for (k = 0; k < n; k++)
			if (eff[k] == sub)
				used_before = true;
		use = (d->alias && *d->alias) || used_before ? copy_tree(a, sub, depth) : sub;
		use->effective_name = d->alias && *d->alias ? d->alias : sub->name;
		eff[n++] = use;
	}
	eff[n] = NULL;
	c->effective = eff;
	c->neffective = n;
	c->aliased = eff;
	for (i = 0; i < n; i++) {
		int r;
		eff[i]->enabled = true;
		if ((r = resolve_tree(eff[i], a, depth + 1, err)))
			return r;
	}
	return 0;
}

/* ---- coalescing ------------------------------------------------------------ */

static bool is_subchart_key(const values_chart *c, const char *k, size_t klen)
{
	size_t i;
	for (i = 0; i < c->neffective; i++) {
		const char *n = c->effective[i]->effective_name;
		if (c->effective[i]->enabled && n && strlen(n) == klen && !memcmp(n, k, klen))
			return true;
	}
	return false;
}

/* Helm's coalesceValues: the chart's defaults under v; path names the
 * chart in warnings ("top.sub"). */
static void coalesce_values(karena *a, const values_chart *c, doc_node *v, bool is_root, bool merge,
			    const char *path, doc_node *warn)
{
	const doc_node *d = defaults_of(c);
	size_t i;
	if (!d || d->type != DOC_MAP)
		return;
	for (i = 0; i < d->u.map.len; i++) {
		const doc_pair *pr = &d->u.map.v[i];
		const char *k = pr->key->u.s.ptr;
		size_t klen = pr->key->u.s.len;
		doc_node *uv = doc_map_getn(v, k, klen);
		if (uv) {
			if (uv->type == DOC_NULL && !merge) {
				doc_map_del(v, k);
			} else if (uv->type == DOC_MAP && pr->val->type == DOC_MAP) {
				bool m = merge || is_subchart_key(c, k, klen);
				values_coalesce_tables(a, uv, doc_copy(a, pr->val), m, 0, karena_printf(a, "%s.%s", path, k), warn);
			} else if (uv->type == DOC_MAP && pr->val->type != DOC_NULL) {
				values_warn(a, warn, karena_printf(a, "skipped value for %s.%s: Not a table.", path, k));
			}
			continue;
		}
		/* a default null is kept here: the render pass drops it at the top
		 * of a subchart's values only (see process_imports) */
		doc_map_setn(a, v, k, klen, doc_copy(a, pr->val));
	}
}

/* Helm's coalesceGlobals: the parent's globals over the subchart's; path
 * names the parent in warnings. */
static void coalesce_globals(karena *a, doc_node *dest, const doc_node *src, const char *path, doc_node *warn)
{
	doc_node *dg = doc_map_get(dest, "global");
	const doc_node *sg = doc_map_get(src, "global");
	size_t i;
	if (!dg) {
		dg = doc_new_map(a);
	} else if (dg->type != DOC_MAP) {
		values_warn(a, warn, "skipping globals because destination global is not a table.");
		return;
	}
	if (sg && sg->type != DOC_MAP) {
		values_warn(a, warn, "skipping globals because source global is not a table.");
		return;
	}
	for (i = 0; sg && i < sg->u.map.len; i++) {
		const doc_pair *pr = &sg->u.map.v[i];
		const char *k = pr->key->u.s.ptr;
		size_t klen = pr->key->u.s.len;
		doc_node *dv = doc_map_getn(dg, k, klen);
		if (pr->val->type == DOC_MAP) {
			doc_node *vv = doc_copy(a, pr->val);
			if (!dv) {
				doc_map_setn(a, dg, k, klen, vv);
			} else if (dv->type == DOC_MAP) {
				values_coalesce_tables(a, vv, dv, true, 0, karena_printf(a, "%s.%s", path, k), warn);
				doc_map_setn(a, dg, k, klen, vv);
			} else {
				values_warn(a, warn, karena_printf(a, "Conflict: cannot merge map onto non-map for \"%s\". Skipping.", k));
			}
		} else if (dv && dv->type == DOC_MAP) {
			values_warn(a, warn, karena_printf(a, "key %s is table. Skipping", k));
			continue;
		} else {
			doc_map_setn(a, dg, k, klen, doc_copy(a, pr->val));
		}
	}
	doc_map_set(a, dest, "global", dg);
}

static int coalesce_chart(karena *a, values_chart *c, doc_node *v, bool is_root, bool merge, int depth,
			  const char *path, doc_node *warn, kerr *err)
{
	size_t i;
	coalesce_values(a, c, v, is_root, merge, path, warn);
	c->values = v;
	for (i = 0; i < c->neffective; i++) {
		values_chart *s = c->effective[i];
		doc_node *sv;
		int r;
		if (!s->enabled)
			continue;
		sv = doc_map_get(v, s->effective_name);
		if (!sv) {
			sv = doc_new_map(a);
			doc_map_set(a, v, s->effective_name, sv);
		} else if (sv->type != DOC_MAP) {
			return kerr_set_at(err, KE_INPUT, sv->file, sv->line, sv->col,
					   "values for subchart \"%s\" must be a map, not a %s", s->effective_name,
					   doc_type_name(sv->type));
		}
		coalesce_globals(a, sv, v, path, warn);
		if ((r = coalesce_chart(a, s, sv, false, merge, depth + 1,
					karena_printf(a, "%s.%s", path, s->name ? s->name : ""), warn, err)))
			return r;
	}
	return 0;
}

/* ---- conditions and tags -------------------------------------------------------- */

static const doc_node *path_value(const doc_node *root, const char *path, size_t len)
{
	/* Helm's Values.PathValue: dotted keys through maps */
	const doc_node *n = root;
	size_t st = 0, i;
	for (i = 0; i <= len; i++) {
		if (i == len || path[i] == '.') {
			if (!n || n->type != DOC_MAP)
				return NULL;
			n = doc_map_getn(n, path + st, i - st);
			st = i + 1;
		}
	}
	return n;
}

static const values_chart *dep_chart(const values_chart *c, size_t j)
{
	/* the effective chart made for deps[j]: they follow the unlisted ones */
	size_t unlisted = c->neffective - c->ndeps;
	return c->effective[unlisted + j];
}

static void process_enabled(values_chart *c, const doc_node *cvals, const char *prefix, karena *a, int depth,
			    doc_node *warn)
{
	const doc_node *tags = doc_map_get(cvals, "tags");
	size_t j, i;
	if (depth > MAX_CHART_DEPTH)
		return;
	for (j = 0; j < c->ndeps; j++) {
		const values_dep *d = &c->deps[j];
		values_chart *s = (values_chart *)dep_chart(c, j);
		bool enabled = true, has_true = false, has_false = false;
		if (tags && tags->type == DOC_MAP)
			for (i = 0; i < d->ntags; i++) {
				const doc_node *t = doc_map_get(tags, d->tags[i]);
				if (t && t->type == DOC_BOOL) {
					if (t->u.b)
						has_true = true;
					else
						has_false = true;
				}
			}
		if (!has_true && has_false)
			enabled = false;
		if (d->condition) {
			const char *p = d->condition;
			while (*p == ' ' || *p == '\t' || *p == '\n')
				p++;
			while (*p) {
				size_t n = strcspn(p, ",");
				size_t tn = n;
				while (tn && (p[tn - 1] == ' ' || p[tn - 1] == '\t' || p[tn - 1] == '\n') && !p[n])
					tn--;
				if (tn) {
					kbuf full = KBUF_INIT;
					const doc_node *vv;
					kbuf_puts(&full, prefix);
					kbuf_put(&full, p, tn);
					vv = path_value(cvals, full.ptr, full.len);
					kbuf_release(&full);
					if (vv && vv->type == DOC_BOOL) {
						enabled = vv->u.b;
						break;
					}
					if (vv && vv->type != DOC_MAP) /* a table is "not a value" */
						values_warn(a, warn, karena_printf(a, "condition path \"%.*s\" for chart %s returned a non-bool value",
									      (int)tn, p, s->name ? s->name : ""));
				}
				p += n;
				if (*p == ',')
					p++;
			}
		}
		s->enabled = enabled;
	}
	/* Helm removes every subchart whose name is a disabled dependency's */
	for (j = 0; j < c->ndeps; j++) {
		const values_chart *s = dep_chart(c, j);
		if (s->enabled)
			continue;
		for (i = 0; i < c->neffective; i++)
			if (!strcmp(c->effective[i]->effective_name, s->effective_name))
				c->effective[i]->enabled = false;
	}
	for (i = 0; i < c->neffective; i++) {
		values_chart *s = c->effective[i];
		const char *np;
		if (!s->enabled)
			continue;
		np = karena_printf(a, "%s%s.", prefix, s->effective_name);
		process_enabled(s, cvals, np, a, depth + 1, warn);
	}
}

/* ---- import-values ------------------------------------------------------------------ */

static const doc_node *table_at(const doc_node *root, const char *path)
{
	const doc_node *n = path_value(root, path, strlen(path));
	return n && n->type == DOC_MAP ? n : NULL;
}

static doc_node *path_to_map(karena *a, const char *path, doc_node *data)
{
	const char *p;
	size_t st;
	doc_node *cur = data;
	if (!strcmp(path, "."))
		return data;
	st = strlen(path);
	for (p = path + st;; ) {
		const char *b = p;
		doc_node *m;
		while (b > path && b[-1] != '.')
			b--;
		m = doc_new_map(a);
		doc_map_setn(a, m, b, (size_t)(p - b), cur);
		cur = m;
		if (b == path)
			break;
		p = b - 1;
	}
	return cur;
}

/* Helm's processImportValues, run (children first) for every chart whose
 * Chart.yaml lists a dependency that is enabled, import-values or not (Helm
 * drops disabled ones from the list, and a list left empty is nil): the
 * chart's defaults become its values merged (nulls kept) with its enabled
 * subcharts' and what they export. So a subchart default null reaches the
 * render pass inside the parent's values: dropped there at the top of the
 * subchart's values (a null over a default), kept deeper down (a null over
 * a null). */
static int process_imports(values_chart *c, karena *a, int depth, kerr *err)
{
	size_t i, j;
	doc_node *cvals, *b;
	int r;
	if (depth > MAX_CHART_DEPTH)
		return 0;
	for (i = 0; i < c->neffective; i++)
		if (c->effective[i]->enabled && (r = process_imports(c->effective[i], a, depth + 1, err)))
			return r;
	for (j = 0; j < c->ndeps && !dep_chart(c, j)->enabled; j++)
		;
	if (j == c->ndeps)
		return 0;
	cvals = doc_new_map(a);
	if ((r = coalesce_chart(a, c, cvals, true, true, depth, "", NULL, err)))
		return r;
	b = doc_new_map(a);
	for (j = 0; j < c->ndeps; j++) {
		const values_chart *s = dep_chart(c, j);
		const doc_node *iv = c->deps[j].raw ? doc_map_get(c->deps[j].raw, "import-values") : NULL;
		if (!s->enabled || !iv || iv->type != DOC_SEQ)
			continue;
		for (i = 0; i < iv->u.seq.len; i++) {
			const doc_node *e = iv->u.seq.v[i], *t;
			const char *child, *parent;
			if (e->type == DOC_STR) {
				child = karena_printf(a, "%s.exports.%s", s->effective_name, e->u.s.ptr);
				parent = ".";
			} else if (e->type == DOC_MAP && doc_map_get(e, "child") && doc_map_get(e, "parent") &&
				   doc_map_get(e, "child")->type == DOC_STR && doc_map_get(e, "parent")->type == DOC_STR) {
				child = karena_printf(a, "%s.%s", s->effective_name, doc_get_str(e, "child", ""));
				parent = doc_get_str(e, "parent", ".");
			} else {
				return kerr_set_at(err, KE_INPUT, e->file, e->line, e->col,
						   "chart %s: import-values entries must be a string or a map with "
						   "child and parent", c->name);
			}
			t = table_at(cvals, child);
			if (!t)
				continue;   /* Helm warns and goes on */
			values_coalesce_tables(a, b, path_to_map(a, parent, doc_copy(a, t)), true, 0, NULL, NULL);
		}
	}
	/* the parent's own values beat what it imports */
	values_coalesce_tables(a, cvals, b, true, 0, NULL, NULL);
	c->eff_defaults = cvals;
	return 0;
}

/* ---- schemas ------------------------------------------------------------------------ */

static void validate_tree(values_chart *c, const char *what, karena *a, int depth, kerr *err)
{
	size_t i;
	if (c->schema && c->values)
		values_validate(c->schema, c->values, what, err);
	if (depth > MAX_CHART_DEPTH)
		return;
	for (i = 0; i < c->neffective; i++)
		if (c->effective[i]->enabled)
			validate_tree(c->effective[i], karena_printf(a, "%s/%s", what, c->effective[i]->effective_name),
				      a, depth + 1, err);
}

static void reset_outputs(values_chart *c, int depth)
{
	size_t i;
	c->values = NULL;
	c->eff_defaults = NULL;
	if (depth > MAX_CHART_DEPTH)
		return;
	for (i = 0; i < c->neffective; i++) {
		c->effective[i]->enabled = true;
		reset_outputs(c->effective[i], depth + 1);
	}
}

int values_compute(values_chart *root, doc_node *user, karena *a, values_num_mode num, kerr *err)
{
	doc_node *cvals;
	int r;
	(void)num;   /* numbers were converted when files were read */
	if (!user)
		user = doc_new_map(a);
	if (user->type != DOC_MAP)
		return kerr_set(err, KE_INPUT, "values must be a map, not a %s", doc_type_name(user->type));
	root->enabled = true;
	root->effective_name = root->name;
	root->origin = NULL;
	if ((r = resolve_tree(root, a, 0, err)))
		return r;
	reset_outputs(root, 0);
	/* conditions and tags see the values with every subchart enabled */
	cvals = doc_copy(a, user);
	root->warnings = doc_new_seq(a);
	if ((r = coalesce_chart(a, root, cvals, true, false, 0, "", NULL, err)))
		return r;
	process_enabled(root, cvals, "", a, 0, root->warnings);
	if ((r = process_imports(root, a, 0, err)))
		return r;
	if ((r = coalesce_chart(a, root, doc_copy(a, user), true, false, 0, root->name ? root->name : "",
				root->warnings, err)))
		return r;
	validate_tree(root, root->name ? root->name : "values", a, 0, err);
	return err->code ? err->code : 0;
}
