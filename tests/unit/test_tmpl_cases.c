/*
 * tests/unit/test_tmpl_cases.c - the template language as data: every file
 * tests/tmpl/cases/NAME.txt holds cases
 *
 *   === name
 *   --- template          (the template text; its last newline is dropped)
 *   --- data              (optional YAML; integers stay int64 like --set)
 *   --- data-helm         (optional YAML read as Helm reads values: floats)
 *   --- output            (expected output; last newline dropped)
 *   --- error             (or: a text the error must contain)
 *   --- max-memory        (optional: the template memory budget in bytes;
 *                          the arena must not grow past it, error or not)
 *
 * Templates are parsed under the name "test"; Helm's "<no value>" removal
 * is on. Extra templates can be defined with {{define}} in the template.
 */
#include "unit.h"
#include "core/arena.h"
#include "core/buf.h"
#include "doc/doc.h"
#include "tmpl/tmpl.h"
#include "values/values.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tcase {
	char *name;
	kbuf tmpl, data, out, err, maxmem;
	int has_data, helm, has_out, has_err;
	int line;
} tcase;

static void strip_nl(kbuf *b)
{
	if (b->len && b->ptr[b->len - 1] == '\n')
		kbuf_truncate(b, b->len - 1);
}

static void run_case(const char *file, tcase *c, int *passed, int *failed)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf out = KBUF_INIT;
	doc_node *data = NULL;
	tmpl_set *s;
	tmpl_exec_opts opts = { 0 };
	size_t before;
	int r;
	opts.max_memory = c->maxmem.len ? (size_t)strtoull(c->maxmem.ptr, NULL, 10) : 0;
	strip_nl(&c->tmpl);
	strip_nl(&c->out);
	strip_nl(&c->err);
	if (c->has_data) {
		if (doc_load_yaml1(&data, &a, "data", c->data.ptr, c->data.len, NULL, &e)) {
			unit_fail(file, c->line, "case %s: bad data: %s", c->name, e.first.msg);
			(*failed)++;
			goto done;
		}
		if (c->helm)
			values_helm_numbers(data);
	} else {
		data = doc_new_map(&a);
	}
	s = tmpl_set_new(&a);
	r = tmpl_parse(s, "test", c->tmpl.ptr, c->tmpl.len, &e);
	before = a.used_total;
	if (!r)
		r = tmpl_exec(s, "test", data, &out, &opts, &e);
	if (opts.max_memory && a.used_total - before > opts.max_memory) {
		unit_fail(file, c->line, "case %s: the arena grew by %zu bytes, past the budget of %zu", c->name,
			  a.used_total - before, opts.max_memory);
		(*failed)++;
		goto done;
	}
	if (c->has_err) {
		kbuf msg = KBUF_INIT;
		if (!r) {
			unit_fail(file, c->line, "case %s: expected error containing \"%s\", got output \"%s\"", c->name,
				  c->err.ptr, out.ptr);
			(*failed)++;
		} else {
			tmpl_error_format_short(&e, &msg);
			if (!strstr(msg.ptr, c->err.ptr)) {
				unit_fail(file, c->line, "case %s:\n  error:    %s\n  expected: %s", c->name, msg.ptr,
					  c->err.ptr);
				(*failed)++;
			} else {
				(*passed)++;
			}
		}
		kbuf_release(&msg);
	} else if (r) {
		kbuf msg = KBUF_INIT;
		kerr_format_short(&e, &msg);
		unit_fail(file, c->line, "case %s: unexpected error: %s", c->name, msg.ptr);
		kbuf_release(&msg);
		(*failed)++;
	} else if (out.len != c->out.len || (out.len && memcmp(out.ptr, c->out.ptr, out.len))) {
		unit_fail(file, c->line, "case %s:\n  got:      \"%s\"\n  expected: \"%s\"", c->name, out.ptr, c->out.ptr);
		(*failed)++;
	} else {
		(*passed)++;
	}
done:
	kbuf_release(&out);
	kerr_clear(&e);
	karena_release(&a);
}

static void run_file(const char *path, int *passed, int *failed)
{
	kbuf b = KBUF_INIT;
	tcase c;
	kbuf *sec = NULL;
	int in_case = 0, lineno = 0;
	char *p, *end;
	memset(&c, 0, sizeof(c));
	if (kbuf_read_file(&b, path, 0)) {
		unit_fail(path, 0, "cannot read");
		return;
	}
	p = b.ptr;
	end = b.ptr + b.len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (l >= 4 && !strncmp(p, "=== ", 4)) {
			if (in_case)
				run_case(path, &c, passed, failed);
			kbuf_release(&c.tmpl);
			kbuf_release(&c.data);
			kbuf_release(&c.out);
			kbuf_release(&c.err);
			kbuf_release(&c.maxmem);
			free(c.name);
			memset(&c, 0, sizeof(c));
			c.name = strndup(p + 4, l - 4);
			c.line = lineno;
			in_case = 1;
			sec = NULL;
		} else if (in_case && l >= 4 && !strncmp(p, "--- ", 4)) {
			const char *w = p + 4;
			size_t wl = l - 4;
			if (wl == 8 && !strncmp(w, "template", 8))
				sec = &c.tmpl;
			else if (wl == 4 && !strncmp(w, "data", 4))
				sec = &c.data, c.has_data = 1;
			else if (wl == 9 && !strncmp(w, "data-helm", 9))
				sec = &c.data, c.has_data = 1, c.helm = 1;
			else if (wl == 6 && !strncmp(w, "output", 6))
				sec = &c.out, c.has_out = 1;
			else if (wl == 5 && !strncmp(w, "error", 5))
				sec = &c.err, c.has_err = 1;
			else if (wl == 10 && !strncmp(w, "max-memory", 10))
				sec = &c.maxmem;
			else
				unit_fail(path, lineno, "unknown section %.*s", (int)wl, w);
		} else if (sec) {
			kbuf_put(sec, p, l);
			kbuf_putc(sec, '\n');
		}
		p = nl ? nl + 1 : end;
	}
	if (in_case)
		run_case(path, &c, passed, failed);
	kbuf_release(&c.tmpl);
	kbuf_release(&c.data);
	kbuf_release(&c.out);
	kbuf_release(&c.err);
	kbuf_release(&c.maxmem);
	free(c.name);
	kbuf_release(&b);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

TEST(tmpl_cases)
{
	const char *dir = unit_testdata("tmpl/cases");
	char *dcopy = strdup(dir);
	DIR *d = opendir(dcopy);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int passed = 0, failed = 0;
	CHECK_MSG(d != NULL, "cannot open %s", dcopy);
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcmp(de->d_name + l - 4, ".txt")) {
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dcopy, names[i]);
		run_file(path, &passed, &failed);
		free(names[i]);
	}
	free(names);
	free(dcopy);
	fprintf(stderr, "tmpl cases: %d passed, %d failed\n", passed, failed);
	CHECK(passed > 0);
}

/* the kind sort and the document splitter */
TEST(tmpl_sort_kinds)
{
	tmpl_manifest m[5];
	memset(m, 0, sizeof(m));
	m[0].kind = "Deployment";
	m[1].kind = "Zeta";
	m[2].kind = "Namespace";
	m[3].kind = "Alpha";
	m[4].kind = "Service";
	tmpl_sort_manifests(m, 5);
	CHECK_STR_EQ(m[0].kind, "Namespace");
	CHECK_STR_EQ(m[1].kind, "Service");
	CHECK_STR_EQ(m[2].kind, "Deployment");
	CHECK_STR_EQ(m[3].kind, "Alpha");
	CHECK_STR_EQ(m[4].kind, "Zeta");
}

TEST(tmpl_split_documents)
{
	karena a = KARENA_INIT;
	tmpl_manifest *docs = NULL;
	size_t n = 0, cap = 0;
	/* Helm's separator eats the whitespace after "---", so a "---" right
	 * after an empty document stays in the next one, as in Go */
	const char *t = "\n---\na: 1\n---\n\n---\n# c\n---\nb: 2\n";
	tmpl_split_docs(&a, "x", t, strlen(t), &docs, &n, &cap);
	CHECK_INT_EQ(n, 3);
	if (n == 3) {
		CHECK(docs[0].len == 4 && !memcmp(docs[0].content, "a: 1", 4));
		CHECK(docs[1].len == 7 && !memcmp(docs[1].content, "---\n# c", 7));
		CHECK(docs[2].len == 4 && !memcmp(docs[2].content, "b: 2", 4));
	}
	karena_release(&a);
}
