/* tmpl/chart.c - load a Helm chart (directory or .tgz) into memory, as
 * Helm's pkg/chart/loader does: the same file classes, subcharts from
 * charts/, .helmignore for directories, size limits for archives. */
#include "chart.h"
#include "core/alloc.h"
#include "core/archive.h"
#include "tmpl_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILES 5000
#define MAX_TOTAL ((size_t)100 << 20)   /* Helm's MaxDecompressedChartSize */
#define MAX_FILE ((size_t)5 << 20)      /* Helm's MaxDecompressedFileSize */
#define MAX_DEPTH 20

/* A flat list of files read from a directory or an archive. */
typedef struct flist {
	tmpl_file *v;
	size_t len, cap;
	size_t total;
} flist;

/* data is arena memory of len + 1 bytes, NUL at len: kept, not copied */
static int flist_take(flist *fl, karena *a, const char *origin, const char *name, char *data, size_t len,
		      kerr *err)
{
	if (fl->len >= MAX_FILES)
		return kerr_set_at(err, KE_LIMIT, origin, 0, 0, "chart has more than %d files", MAX_FILES);
	if (len > MAX_FILE)
		return kerr_set_at(err, KE_LIMIT, origin, 0, 0,
				   "file \"%s\" is %zu bytes, larger than the %zu-byte limit", name, len, MAX_FILE);
	fl->total += len;
	if (fl->total > MAX_TOTAL)
		return kerr_set_at(err, KE_LIMIT, origin, 0, 0,
				   "chart is larger than %zu bytes uncompressed", MAX_TOTAL);
	/* Helm's loader drops a UTF-8 byte order mark from every file (directory
	 * and archive alike): templates, values and .Files see the text after it */
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
		data += 3;
		len -= 3;
	}
	ALLOC_GROW(fl->v, fl->len + 1, fl->cap);
	fl->v[fl->len].name = karena_strdup(a, name);
	fl->v[fl->len].data = data;
	fl->v[fl->len].len = len;
	fl->v[fl->len].kind = TMPL_FILE_OTHER;
	fl->len++;
	return 0;
}

/* A regular file read straight into the arena (its size is known): one
 * copy of the chart's text in memory instead of three. 0, -1 (errno) or
 * -2 (larger than max). */
static int read_file_arena(karena *a, const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return -2;
	}
	buf = karena_alloc_raw(a, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break; /* shrank while we read: what is there */
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

/* ---- .helmignore (directories only) ------------------------------------ */

typedef struct ignore_rules {
	char **pat;
	unsigned char *neg, *dir_only, *whole;
	size_t len;
	const char *bad;   /* Helm's load error for a rule, NULL if none */
} ignore_rules;

/* one rune of s (Go's DecodeRuneInString: U+FFFD, one byte, if invalid) */
static unsigned dec_rune(const char **s, const char *e)
{
	const unsigned char *p = (const unsigned char *)*s;
	unsigned c = p[0], cp;
	size_t n, k;
	if (c < 0x80) { (*s)++; return c; }
	if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07;
	else { (*s)++; return 0xFFFD; }
	if ((size_t)(e - *s) < n) { (*s)++; return 0xFFFD; }
	for (k = 1; k < n; k++) {
		if ((p[k] & 0xC0) != 0x80) { (*s)++; return 0xFFFD; }
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	*s += n;
	return cp;
}

static int go_get_esc(const char **c, const char *ce, unsigned *r)
{
	if (*c >= ce || **c == '-' || **c == ']')
		return -1;
	if (**c == '\\') {
		(*c)++;
		if (*c >= ce)
			return -1;
	}
	*r = dec_rune(c, ce);
	return *c >= ce ? -1 : 0;
}

/* Go's filepath.Match on one "chunk" (text between stars) against s:
 * returns 1 and sets *rest on a match, 0 on none, -1 for a bad pattern
 * (the whole chunk is checked, as Go does, even once it failed). */
static int go_match_chunk(const char *c, const char *ce, const char *s, const char *se, const char **rest)
{
	bool failed = false;
	while (c < ce) {
		if (!failed && s >= se)
			failed = true;
		if (*c == '[') {
			unsigned r = 0, lo, hi;
			bool neg = false, match = false;
			int nrange = 0;
			if (!failed)
				r = dec_rune(&s, se);
			c++;
			if (c < ce && *c == '^') {
				neg = true;
				c++;
			}
			for (;;) {
				if (c < ce && *c == ']' && nrange > 0) {
					c++;
					break;
				}
				if (go_get_esc(&c, ce, &lo))
					return -1;
				hi = lo;
				if (*c == '-') {
					c++;
					if (go_get_esc(&c, ce, &hi))
						return -1;
				}
				if (lo <= r && r <= hi)
					match = true;
				nrange++;
			}
			if (match == neg)
				failed = true;
		} else if (*c == '?') {
			if (!failed) {
				if (*s == '/')
					failed = true;
				dec_rune(&s, se);
			}
			c++;
		} else {
			if (*c == '\\') {
				c++;
				if (c >= ce)
					return -1;
			}
			if (!failed) {
				if (*c != *s)
					failed = true;
				s++;
			}
			c++;
		}
	}
	if (failed)
		return 0;
	*rest = s;
	return 1;
}

static void go_scan_chunk(const char **p, const char *pe, bool *star, const char **ce)
{
	const char *q;
	bool inrange = false;
	*star = false;
	while (*p < pe && **p == '*') {
		(*p)++;
		*star = true;
	}
	for (q = *p; q < pe; q++) {
		if (*q == '\\') {
			if (q + 1 < pe)
				q++;
		} else if (*q == '[') {
			inrange = true;
		} else if (*q == ']') {
			inrange = false;
		} else if (*q == '*' && !inrange) {
			break;
		}
	}
	*ce = q;
}

/* Go's filepath.Match: 1 match, 0 none, -1 bad pattern */
static int go_match(const char *pat, const char *name)
{
	const char *p = pat, *pe = pat + strlen(pat), *n = name, *ne = name + strlen(name);
	while (p < pe) {
		bool star;
		const char *cs = p, *ce, *t = NULL;
		int ok;
		go_scan_chunk(&cs, pe, &star, &ce);
		p = ce;
		if (star && cs == ce)
			return memchr(n, '/', (size_t)(ne - n)) ? 0 : 1;
		ok = go_match_chunk(cs, ce, n, ne, &t);
		if (ok == 1 && (t == ne || p < pe)) {
			n = t;
			continue;
		}
		if (ok < 0)
			return -1;
		if (star) {
			const char *i;
			bool found = false;
			for (i = n; i < ne && *i != '/'; i++) {
				ok = go_match_chunk(cs, ce, i + 1, ne, &t);
				if (ok == 1) {
					if (p >= pe && t < ne)
						continue;
					n = t;
					found = true;
					break;
				}
				if (ok < 0)
					return -1;
			}
			if (found)
				continue;
		}
		/* no match: the rest of the pattern must still be well formed */
		while (p < pe) {
			go_scan_chunk(&p, pe, &star, &ce);
			if (go_match_chunk(p, ce, "", "", &t) < 0)
				return -1;
			p = ce;
		}
		return 0;
	}
	return n == ne;
}

/* Helm's parseRule */
static void ignore_add(ignore_rules *r, const char *line, size_t n)
{
	char *p;
	bool neg = false, dir_only = false, whole = false;
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\r' || line[n - 1] == '\t' || line[n - 1] == '\n' ||
		     line[n - 1] == '\v' || line[n - 1] == '\f'))
		n--;
	while (n && (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\v' || *line == '\f'))
		line++, n--;
	if (!n || *line == '#' || r->bad)
		return;
	p = xstrndup(line, n);
	if (strstr(p, "**")) {
		r->bad = "double-star (**) syntax is not supported";
		free(p);
		return;
	}
	if (go_match(p, "abc") < 0) {
		r->bad = "syntax error in pattern";
		free(p);
		return;
	}
	free(p);
	if (*line == '!') {
		neg = true;
		line++, n--;
	}
	if (n && line[n - 1] == '/') {
		dir_only = true;
		n--;
	}
	if (n && *line == '/') {
		whole = true;
		line++, n--;
	}
	p = xstrndup(line, n);
	if (memchr(p, '/', n))
		whole = true;
	r->pat = xrealloc(r->pat, st_mult(r->len + 1, sizeof(*r->pat)));
	r->neg = xrealloc(r->neg, r->len + 1);
	r->dir_only = xrealloc(r->dir_only, r->len + 1);
	r->whole = xrealloc(r->whole, r->len + 1);
	r->pat[r->len] = p;
	r->neg[r->len] = neg;
	r->dir_only[r->len] = dir_only;
	r->whole[r->len] = whole;
	r->len++;
}

static void ignore_release(ignore_rules *r)
{
	size_t i;
	for (i = 0; i < r->len; i++)
		free(r->pat[i]);
	free(r->pat);
	free(r->neg);
	free(r->dir_only);
	free(r->whole);
	memset(r, 0, sizeof(*r));
}

/* Helm's Rules.Ignore: rules in order, the first match ignores; a rule
 * with '/' (or a leading one) matches the whole path, else the base name.
 * A "!" rule does not re-include: whatever it does not match is ignored
 * (Helm's semantics, unlike git's). */
static bool ignored(const ignore_rules *r, const char *path, bool is_dir)
{
	size_t i;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (i = 0; i < r->len; i++) {
		bool m = go_match(r->pat[i], r->whole[i] ? path : base) == 1;
		if (r->neg[i]) {
			if ((r->dir_only[i] && !is_dir) || !m)
				return true;
			continue;
		}
		if (r->dir_only[i] && !is_dir)
			continue;
		if (m)
			return true;
	}
	return false;
}

static int read_dir(flist *fl, karena *a, const char *root, const char *rel, const ignore_rules *ig,
		    int depth, kerr *err)
{
	kbuf path = KBUF_INIT;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int r = 0;
	if (depth > 64)
		return kerr_set_at(err, KE_LIMIT, root, 0, 0, "directories nested too deep");
	kbuf_printf(&path, "%s%s%s", root, *rel ? "/" : "", rel);
	d = opendir(path.ptr);
	if (!d) {
		r = kerr_set_at(err, KE_IO, path.ptr, 0, 0, "cannot read directory: %s", strerror(errno));
		kbuf_release(&path);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, n + 1, cap);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	for (i = 0; i < n && !r; i++) {
		kbuf sub = KBUF_INIT, full = KBUF_INIT;
		struct stat st;
		kbuf_printf(&sub, "%s%s%s", rel, *rel ? "/" : "", names[i]);
		kbuf_printf(&full, "%s/%s", root, sub.ptr);
		if (stat(full.ptr, &st) != 0) {
			r = kerr_set_at(err, KE_IO, full.ptr, 0, 0, "cannot stat: %s", strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (!ignored(ig, sub.ptr, true))
				r = read_dir(fl, a, root, sub.ptr, ig, depth + 1, err);
		} else if (S_ISREG(st.st_mode) && !ignored(ig, sub.ptr, false)) {
			char *data = NULL;
			size_t dlen = 0;
			int rr = read_file_arena(a, full.ptr, MAX_FILE, &data, &dlen);
			if (rr == -2)
				r = kerr_set_at(err, KE_LIMIT, full.ptr, 0, 0,
						"file is larger than the %zu-byte limit", MAX_FILE);
			else if (rr < 0)
				r = kerr_set_at(err, KE_IO, full.ptr, 0, 0, "cannot read: %s", strerror(errno));
			else
				r = flist_take(fl, a, root, sub.ptr, data, dlen, err);
		}
		kbuf_release(&sub);
		kbuf_release(&full);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	kbuf_release(&path);
	return r;
}

typedef struct tgz_ctx {
	flist *fl;
	karena *a;
	const char *origin;
} tgz_ctx;

static void *tgz_alloc(void *ctx, size_t n)
{
	return karena_alloc_raw(((tgz_ctx *)ctx)->a, n);
}

/* "chart/templates/x.yaml" as "templates/x.yaml" (the path is clean
 * already); a file at the top has no chart directory: Helm ignores it too.
 * The bytes are arena memory from tgz_alloc, kept as they are. */
static int tgz_entry(void *ctx, const karchive_entry *e, kerr *err)
{
	tgz_ctx *t = ctx;
	const char *rest = strchr(e->path, '/');
	char *buf;
	if (e->type != KARCHIVE_FILE || !rest)
		return 0;
	buf = (char *)e->data;
	return flist_take(t->fl, t->a, t->origin, rest + 1, buf, e->len, err);
}

/* A chart archive through core/archive.c's checks (paths, links, devices,
 * bombs), with Helm's limits: 5 MiB a file, 100 MiB in all. */
static int read_tgz(flist *fl, karena *a, const char *origin, const void *data, size_t len, kerr *err)
{
	karchive_limits lim = { 0, MAX_TOTAL, 0, 0, MAX_FILE, KARCHIVE_TAR };
	tgz_ctx t = { fl, a, origin };
	int r = karchive_walk_into(data, len, origin, &lim, tgz_alloc, tgz_entry, &t, err);
	if (!r && !fl->len)
		r = kerr_set_at(err, KE_INPUT, origin, 0, 0, "chart archive is empty");
	return r;
}

static int cmp_file(const void *x, const void *y)
{
	return strcmp(((const tmpl_file *)x)->name, ((const tmpl_file *)y)->name);
}

static int cmp_chart(const void *x, const void *y)
{
	const tmpl_chart *a = *(tmpl_chart *const *)x, *b = *(tmpl_chart *const *)y;
	return strcmp(a->name, b->name);
}

static const char *str_or_null(const doc_node *n, const char *key)
{
	const doc_node *v = doc_map_get(n, key);
	return v && v->type == DOC_STR ? v->u.s.ptr : NULL;
}

static const char *const *str_list(karena *a, const doc_node *n, size_t *len)
{
	const char **v;
	size_t i, k = 0;
	*len = 0;
	if (!n || n->type != DOC_SEQ)
		return NULL;
	v = karena_alloc(a, st_mult(n->u.seq.len + 1, sizeof(*v)));
	for (i = 0; i < n->u.seq.len; i++)
		if (n->u.seq.v[i]->type == DOC_STR)
			v[k++] = n->u.seq.v[i]->u.s.ptr;
	*len = k;
	return v;
}

static int fill_deps(tmpl_chart *c, karena *a, const doc_node *deps, const char *origin, kerr *err)
{
	size_t i;
	if (!deps || deps->type == DOC_NULL)
		return 0;
	if (deps->type != DOC_SEQ)
		return kerr_set_at(err, KE_INPUT, origin, deps->line, deps->col,
				   "dependencies must be a list");
	c->vc.deps = karena_alloc(a, st_mult(deps->u.seq.len + 1, sizeof(values_dep)));
	for (i = 0; i < deps->u.seq.len; i++) {
		const doc_node *d = deps->u.seq.v[i];
		values_dep *vd = &c->vc.deps[c->vc.ndeps];
		if (d->type != DOC_MAP || !str_or_null(d, "name"))
			return kerr_set_at(err, KE_INPUT, origin, d->line, d->col,
					   "dependencies[%zu] must be a map with a name", i);
		vd->name = str_or_null(d, "name");
		vd->alias = str_or_null(d, "alias");
		vd->condition = str_or_null(d, "condition");
		vd->tags = str_list(a, doc_map_get(d, "tags"), &vd->ntags);
		vd->import_values = str_list(a, doc_map_get(d, "import-values"), &vd->nimport);
		vd->raw = d;
		c->vc.ndeps++;
	}
	return 0;
}

/* Helm's wrapping of a subchart's load error: "error unpacking subchart
 * <dir or archive> in <parent>: ", outermost first */
static const char *unpack_prefix(karena *a, const tmpl_chart *c)
{
	const char *base;
	if (!c->parent)
		return "";
	base = strrchr(c->path, '/');
	base = base ? base + 1 : c->path;
	return karena_printf(a, "%serror unpacking subchart %s in %s: ", unpack_prefix(a, c->parent), base,
			     c->parent->name);
}

/* Helm's Metadata.Validate (after the loader read every file, before the
 * subcharts): name, version, type, maintainers, dependencies */
static int validate_metadata(tmpl_chart *c, karena *a, const doc_node *deps, const char *origin, kerr *err)
{
	const char *file = karena_printf(a, "%s/Chart.yaml", origin), *pre = unpack_prefix(a, c);
	const doc_node *ver = doc_map_get(c->metadata, "version"), *type = doc_map_get(c->metadata, "type");
	const doc_node *mt = doc_map_get(c->metadata, "maintainers");
	const char *slash = strchr(c->name, '/');
	size_t i, j;
	tsemver sv;
	if (slash && strcmp(c->name, "/"))
		return kerr_set_at(err, KE_INPUT, file, 0, 0, "%svalidation: chart.metadata.name \"%s\" is invalid",
				   pre, c->name);
	if (!strcmp(c->name, ".") || !strcmp(c->name, ".."))
		return kerr_set_at(err, KE_INPUT, file, 0, 0,
				   "%svalidation: chart.metadata.name \"%s\" is not allowed", pre, c->name);
	if (!ver || ver->type == DOC_NULL || (ver->type == DOC_STR && !ver->u.s.len))
		return kerr_set_at(err, KE_INPUT, file, 0, 0, "%svalidation: chart.metadata.version is required", pre);
	/* a number there is read as its text, which parses */
	if (ver->type == DOC_STR && tsemver_parse(&sv, a, ver->u.s.ptr, ver->u.s.len))
		return kerr_set_at(err, KE_INPUT, file, 0, 0, "%svalidation: chart.metadata.version \"%s\" is invalid",
				   pre, ver->u.s.ptr);
	if (type && type->type == DOC_STR && type->u.s.len && strcmp(type->u.s.ptr, "application") &&
	    strcmp(type->u.s.ptr, "library"))
		return kerr_set_at(err, KE_INPUT, file, 0, 0,
				   "%svalidation: chart.metadata.type must be application or library", pre);
	for (i = 0; mt && mt->type == DOC_SEQ && i < mt->u.seq.len; i++)
		if (mt->u.seq.v[i]->type == DOC_NULL)
			return kerr_set_at(err, KE_INPUT, file, 0, 0,
					   "%svalidation: maintainers must not contain empty or null nodes", pre);
	for (i = 0; deps && deps->type == DOC_SEQ && i < deps->u.seq.len; i++) {
		const doc_node *d = deps->u.seq.v[i];
		const char *name, *alias, *key;
		if (d->type == DOC_NULL)
			return kerr_set_at(err, KE_INPUT, file, 0, 0,
					   "%svalidation: dependencies must not contain empty or null nodes", pre);
		if (d->type != DOC_MAP)
			continue;
		name = str_or_null(d, "name");
		alias = str_or_null(d, "alias");
		if (alias && *alias && alias[strspn(alias, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
							 "0123456789_-")])
			return kerr_set_at(err, KE_INPUT, file, 0, 0,
					   "%svalidation: dependency \"%s\" has disallowed characters in the alias", pre,
					   name ? name : "");
		key = alias && *alias ? alias : name ? name : "";
		for (j = 0; j < i; j++) {
			const doc_node *e = deps->u.seq.v[j];
			const char *en = e->type == DOC_MAP ? str_or_null(e, "name") : NULL;
			const char *ea = e->type == DOC_MAP ? str_or_null(e, "alias") : NULL;
			if (!strcmp(ea && *ea ? ea : en ? en : "", key))
				return kerr_set_at(err, KE_INPUT, file, 0, 0,
						   "%svalidation: more than one dependency with name or alias \"%s\"",
						   pre, key);
		}
	}
	return 0;
}

static int load_yaml_file(doc_node **out, karena *a, const tmpl_chart *c, const tmpl_file *f,
			  doc_dup_mode dup, kerr *err)
{
	doc_load_opts o = { 0 };
	const char *name = karena_printf(a, "%s/%s", c->name ? c->name : c->path, f->name);
	o.dup = dup;
	return doc_load_yaml1(out, a, name, f->data, f->len, &o, err);
}

static int build_chart(tmpl_chart **out, karena *a, const char *origin, flist *fl, tmpl_chart *parent,
		       values_num_mode num, int depth, kerr *err);

/* Subcharts: charts/<name>/... as a directory, charts/<x>.tgz as an archive. */
static int build_subcharts(tmpl_chart *c, karena *a, flist *fl, values_num_mode num, int depth, kerr *err)
{
	size_t i, j;
	int r = 0;
	for (i = 0; i < fl->len && !r; i++) {
		const char *n = fl->v[i].name, *rest, *slash;
		if (strncmp(n, "charts/", 7))
			continue;
		rest = n + 7;
		slash = strchr(rest, '/');
		if (!slash) {
			size_t l = strlen(rest);
			tmpl_chart *sub = NULL;
			flist sfl = { 0 };
			const char *sorigin;
			if (!((l > 4 && !strcmp(rest + l - 4, ".tgz")) || (l > 7 && !strcmp(rest + l - 7, ".tar.gz"))))
				continue;
			sorigin = karena_printf(a, "%s/%s", c->path, n);
			r = read_tgz(&sfl, a, sorigin, fl->v[i].data, fl->v[i].len, err);
			if (!r)
				r = build_chart(&sub, a, sorigin, &sfl, c, num, depth + 1, err);
			free(sfl.v);
			if (!r) {
				c->subcharts = karena_realloc(a, c->subcharts, c->nsubcharts * sizeof(*c->subcharts),
							      (c->nsubcharts + 1) * sizeof(*c->subcharts));
				c->subcharts[c->nsubcharts++] = sub;
			}
		} else {
			size_t plen = (size_t)(slash - n) + 1;   /* "charts/name/" */
			flist sfl = { 0 };
			tmpl_chart *sub = NULL;
			bool seen = false;
			for (j = 0; j < i; j++)
				if (!strncmp(fl->v[j].name, n, plen))
					seen = true;
			if (seen)
				continue;
			for (j = i; j < fl->len; j++) {
				if (strncmp(fl->v[j].name, n, plen))
					continue;
				ALLOC_GROW(sfl.v, sfl.len + 1, sfl.cap);
				sfl.v[sfl.len] = fl->v[j];
				sfl.v[sfl.len].name = fl->v[j].name + plen;
				sfl.len++;
			}
			r = build_chart(&sub, a, karena_printf(a, "%s/%.*s", c->path, (int)plen - 1, n), &sfl, c,
					num, depth + 1, err);
			free(sfl.v);
			if (!r) {
				c->subcharts = karena_realloc(a, c->subcharts, c->nsubcharts * sizeof(*c->subcharts),
							      (c->nsubcharts + 1) * sizeof(*c->subcharts));
				c->subcharts[c->nsubcharts++] = sub;
			}
		}
	}
	if (!r && c->nsubcharts > 1)
		qsort(c->subcharts, c->nsubcharts, sizeof(*c->subcharts), cmp_chart);
	return r;
}

static int build_chart(tmpl_chart **out, karena *a, const char *origin, flist *fl, tmpl_chart *parent,
		       values_num_mode num, int depth, kerr *err)
{
	tmpl_chart *c;
	const tmpl_file *chart_yaml = NULL, *values = NULL, *schema = NULL, *reqs = NULL;
	doc_node *deps;
	size_t i, k;
	int r;
	if (depth > MAX_DEPTH)
		return kerr_set_at(err, KE_LIMIT, origin, 0, 0, "subcharts nested deeper than %d", MAX_DEPTH);
	c = karena_alloc(a, sizeof(*c));
	c->path = karena_strdup(a, origin);
	c->parent = parent;
	qsort(fl->v, fl->len, sizeof(*fl->v), cmp_file);
	for (i = 0; i < fl->len; i++) {
		const char *n = fl->v[i].name;
		if (!strcmp(n, "Chart.yaml"))
			chart_yaml = &fl->v[i];
		else if (!strcmp(n, "values.yaml"))
			values = &fl->v[i];
		else if (!strcmp(n, "values.schema.json"))
			schema = &fl->v[i];
		else if (!strcmp(n, "requirements.yaml"))
			reqs = &fl->v[i];
	}
	if (!chart_yaml)
		return kerr_set_at(err, KE_INPUT, origin, 0, 0, "Chart.yaml file is missing");
	c->name = NULL;
	if ((r = load_yaml_file(&c->metadata, a, c, chart_yaml, DOC_DUP_LAST, err)))
		return r;
	if (c->metadata->type != DOC_MAP)
		return kerr_set_at(err, KE_INPUT, karena_printf(a, "%s/Chart.yaml", origin),
				   c->metadata->line, c->metadata->col, "Chart.yaml must be a map");
	c->name = str_or_null(c->metadata, "name");
	if (!c->name || !*c->name)
		return kerr_set_at(err, KE_INPUT, karena_printf(a, "%s/Chart.yaml", origin), 0, 0,
				   "validation: chart.metadata.name is required");
	c->api_version = str_or_null(c->metadata, "apiVersion");
	if (!c->api_version || !*c->api_version)
		c->api_version = "v1";
	else if (strcmp(c->api_version, "v1") && strcmp(c->api_version, "v2"))
		return kerr_set_at(err, KE_INPUT, karena_printf(a, "%s/Chart.yaml", origin), 0, 0,
				   "validation: chart.metadata.apiVersion \"%s\" is invalid", c->api_version);

	/* files: everything outside charts/ (except provenance), classified */
	c->files = karena_alloc(a, st_mult(fl->len + 1, sizeof(*c->files)));
	for (i = 0, k = 0; i < fl->len; i++) {
		const char *n = fl->v[i].name;
		tmpl_file f = fl->v[i];
		if (!strncmp(n, "charts/", 7) && !(strlen(n) > 5 && !strcmp(n + strlen(n) - 5, ".prov")))
			continue;
		if (!strcmp(n, "Chart.yaml") || !strcmp(n, "Chart.lock") || !strcmp(n, "values.yaml") ||
		    !strcmp(n, "values.schema.json") ||
		    /* a v1 chart's requirements files are in .Files too, as Helm's loader has them */
		    ((!strcmp(n, "requirements.yaml") || !strcmp(n, "requirements.lock")) &&
		     strcmp(c->api_version, "v1")))
			f.kind = TMPL_FILE_META;
		else if (!strncmp(n, "templates/", 10))
			f.kind = TMPL_FILE_TEMPLATE;
		else
			f.kind = TMPL_FILE_OTHER;
		c->files[k++] = f;
	}
	c->nfiles = k;

	/* values */
	c->vc.name = c->name;
	c->vc.file = karena_printf(a, "%s/values.yaml", c->name);
	if (values) {
		if ((r = values_load_yaml(&c->vc.defaults, a, c->vc.file, values->data, values->len, DOC_DUP_LAST,
					  "values.yaml", err)))
			return r;
		if (num == VALUES_NUM_HELM)
			values_helm_numbers(c->vc.defaults);
	} else {
		c->vc.defaults = doc_new_map(a);
	}
	if (schema) {
		const char *sname = karena_printf(a, "%s/values.schema.json", c->name);
		if ((r = doc_load_json(&c->vc.schema, a, sname, schema->data, schema->len, err)))
			return r;
	}

	/* dependencies: Chart.yaml's, replaced by requirements.yaml's when it
	 * has them: Helm's loader reads requirements.yaml into the metadata
	 * whatever the apiVersion (.Chart.Dependencies shows them) */
	deps = doc_map_get(c->metadata, "dependencies");
	if (reqs) {
		doc_node *rq;
		if ((r = load_yaml_file(&rq, a, c, reqs, DOC_DUP_LAST, err)))
			return r;
		if (rq && rq->type == DOC_MAP && doc_map_get(rq, "dependencies")) {
			doc_node *old = deps, *nd = doc_map_get(rq, "dependencies");
			size_t j, q;
			/* encoding/json decodes a list into the old one's elements:
			 * entry j keeps what Chart.yaml's entry j set and it does not */
			if (old && old->type == DOC_SEQ && nd->type == DOC_SEQ) {
				doc_node *m = doc_new_seq(a);
				for (j = 0; j < nd->u.seq.len; j++) {
					doc_node *e = nd->u.seq.v[j], *o = doc_seq_get(old, j);
					if (e && o && e->type == DOC_MAP && o->type == DOC_MAP) {
						doc_node *x = doc_copy(a, o);
						for (q = 0; q < e->u.map.len; q++)
							doc_map_setn(a, x, e->u.map.v[q].key->u.s.ptr,
								     e->u.map.v[q].key->u.s.len, e->u.map.v[q].val);
						e = x;
					}
					doc_seq_push(a, m, e);
				}
				nd = m;
			}
			deps = nd;
			doc_map_set(a, c->metadata, "dependencies", deps);
		}
	}
	if ((r = validate_metadata(c, a, deps, origin, err)) || (r = fill_deps(c, a, deps, origin, err)))
		return r;

	if ((r = build_subcharts(c, a, fl, num, depth, err)))
		return r;
	c->vc.nsubcharts = c->nsubcharts;
	c->vc.subcharts = karena_alloc(a, st_mult(c->nsubcharts + 1, sizeof(values_chart *)));
	for (i = 0; i < c->nsubcharts; i++)
		c->vc.subcharts[i] = &c->subcharts[i]->vc;
	c->vc.enabled = true;
	c->vc.effective_name = c->name;
	*out = c;
	return 0;
}

int tmpl_chart_load_tgz(tmpl_chart **out, karena *a, const char *name, const void *data, size_t len,
			values_num_mode num, kerr *err)
{
	flist fl = { 0 };
	int r = read_tgz(&fl, a, name, data, len, err);
	if (!r)
		r = build_chart(out, a, name, &fl, NULL, num, 0, err);
	free(fl.v);
	return r;
}

int tmpl_chart_load(tmpl_chart **out, karena *a, const char *path, values_num_mode num, kerr *err)
{
	struct stat st;
	flist fl = { 0 };
	int r;
	if (stat(path, &st) != 0)
		return kerr_set_at(err, KE_IO, path, 0, 0, "cannot open chart: %s", strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		ignore_rules ig = { 0 };
		kbuf hi = KBUF_INIT, hp = KBUF_INIT;
		kbuf_printf(&hp, "%s/.helmignore", path);
		if (kbuf_read_file(&hi, hp.ptr, (size_t)1 << 20) == 0) {
			const char *p = hi.ptr;
			while (*p) {
				size_t n = strcspn(p, "\n");
				ignore_add(&ig, p, n);
				p += n;
				if (*p)
					p++;
			}
		}
		ignore_add(&ig, "templates/.?*", 13);   /* Helm's default rule */
		if (ig.bad)
			r = kerr_set(err, KE_INPUT, "%s", ig.bad);
		else
			r = read_dir(&fl, a, path, "", &ig, 0, err);
		ignore_release(&ig);
		kbuf_release(&hi);
		kbuf_release(&hp);
		if (!r)
			r = build_chart(out, a, path, &fl, NULL, num, 0, err);
	} else {
		kbuf data = KBUF_INIT;
		int rr = kbuf_read_file(&data, path, MAX_TOTAL);
		if (rr == -2)
			r = kerr_set_at(err, KE_LIMIT, path, 0, 0, "chart archive larger than %zu bytes", MAX_TOTAL);
		else if (rr < 0)
			r = kerr_set_at(err, KE_IO, path, 0, 0, "cannot read chart: %s", strerror(errno));
		else
			r = tmpl_chart_load_tgz(out, a, path, data.ptr, data.len, num, err);
		kbuf_release(&data);
		return r;
	}
	free(fl.v);
	return r;
}

const tmpl_file *tmpl_chart_file(const tmpl_chart *c, const char *name)
{
	size_t lo = 0, hi = c->nfiles;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(c->files[mid].name, name);
		if (!cmp)
			return &c->files[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
