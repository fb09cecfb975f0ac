/* release/bundle_chart.c - a bundle seen as a chart, so `kstage template`,
 * `kstage values` and the stages of `kstage apply` compute values and
 * render templates the same way: templates/ are the chart's templates,
 * values/values.yaml its defaults, values/values.schema.json its schema,
 * and kstage.yaml's name, version and description its Chart metadata
 * (also exposed to templates as .Bundle). */
#include "release.h"
#include "core/alloc.h"
#include "tmpl/chart.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_DEPTH 20
#define MAX_FILE ((size_t)16 << 20)

typedef struct flist {
	tmpl_file *v;
	size_t n, cap;
} flist;

static int read_tree(flist *fl, karena *a, const char *root, const char *rel, int depth, kerr *err)
{
	char *dirp = karena_printf(a, "%s/%s", root, rel);
	DIR *d = opendir(dirp);
	struct dirent *de;
	int rc = 0;
	if (!d)
		return kerr_set_at(err, KE_IO, dirp, 0, 0, "cannot read directory: %s", strerror(errno));
	while (!rc && (de = readdir(d))) {
		char *r, *full;
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		r = karena_printf(a, "%s/%s", rel, de->d_name);
		full = karena_printf(a, "%s/%s", root, r);
		if (stat(full, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth >= MAX_DEPTH)
				rc = kerr_set_at(err, KE_LIMIT, full, 0, 0, "directories nested deeper than %d", MAX_DEPTH);
			else
				rc = read_tree(fl, a, root, r, depth + 1, err);
		} else if (S_ISREG(st.st_mode)) {
			kbuf b = KBUF_INIT;
			int rr = kbuf_read_file(&b, full, MAX_FILE);
			if (rr == -2)
				rc = kerr_set_at(err, KE_LIMIT, full, 0, 0, "file is larger than %zu bytes", MAX_FILE);
			else if (rr < 0)
				rc = kerr_set_at(err, KE_IO, full, 0, 0, "cannot read: %s", strerror(errno));
			else {
				ALLOC_GROW(fl->v, fl->n + 1, fl->cap);
				fl->v[fl->n].name = r;
				fl->v[fl->n].kind = TMPL_FILE_TEMPLATE;
				fl->v[fl->n].data = karena_strndup(a, b.ptr, b.len);
				fl->v[fl->n].len = b.len;
				fl->n++;
			}
			kbuf_release(&b);
		}
	}
	closedir(d);
	return rc;
}

static int cmp_file(const void *x, const void *y)
{
	return strcmp(((const tmpl_file *)x)->name, ((const tmpl_file *)y)->name);
}

doc_node *rel_bundle_meta(karena *a, const rel_bundle *b)
{
	doc_node *m = doc_new_map(a);
	doc_map_set(a, m, "Name", doc_new_str(a, b->name ? b->name : "bundle"));
	doc_map_set(a, m, "Version", doc_new_str(a, b->version ? b->version : ""));
	doc_map_set(a, m, "Description", doc_new_str(a, b->description ? b->description : ""));
	return m;
}

int rel_bundle_chart(struct tmpl_chart **out, karena *a, const rel_bundle *b, values_num_mode num, kerr *err)
{
	tmpl_chart *c;
	flist fl = { NULL, 0, 0 };
	struct stat st;
	const char *tdir;
	int rc;

	if (b->is_chart) {
		*out = b->chart;
		return 0;
	}
	c = karena_alloc(a, sizeof(*c));
	c->name = b->name ? b->name : "bundle";
	c->path = b->dir;
	c->api_version = "v2";
	c->metadata = doc_new_map(a);
	doc_map_set(a, c->metadata, "apiVersion", doc_new_str(a, "v2"));
	doc_map_set(a, c->metadata, "name", doc_new_str(a, c->name));
	doc_map_set(a, c->metadata, "version", doc_new_str(a, b->version ? b->version : "0.0.0"));
	if (b->description)
		doc_map_set(a, c->metadata, "description", doc_new_str(a, b->description));
	c->bundle = rel_bundle_meta(a, b);

	tdir = karena_printf(a, "%s/templates", b->dir);
	if (!stat(tdir, &st) && S_ISDIR(st.st_mode) && (rc = read_tree(&fl, a, b->dir, "templates", 0, err))) {
		free(fl.v);
		return rc;
	}
	if (fl.n)
		qsort(fl.v, fl.n, sizeof(*fl.v), cmp_file);
	c->files = fl.n ? karena_memdup(a, fl.v, fl.n * sizeof(*fl.v)) : NULL;
	c->nfiles = fl.n;
	free(fl.v);

	c->vc.name = c->name;
	c->vc.file = karena_printf(a, "%s/values/values.yaml", b->dir);
	if (!b->defaults || b->defaults->type == DOC_NULL) {
		c->vc.defaults = doc_new_map(a);
	} else if (b->defaults->type != DOC_MAP) {
		return kerr_set_at(err, KE_INPUT, c->vc.file, b->defaults->line, b->defaults->col,
				   "values.yaml must be a map, not a %s", doc_type_name(b->defaults->type));
	} else {
		c->vc.defaults = doc_copy(a, b->defaults);
		if (num == VALUES_NUM_HELM)
			values_helm_numbers(c->vc.defaults);
	}
	c->vc.schema = b->schema;
	c->vc.enabled = true;
	c->vc.effective_name = c->name;
	*out = c;
	return 0;
}
