#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct utest {
	const char *name, *file;
	unit_fn fn;
} utest;

static utest *tests;
static size_t ntests, cap;
static int cur_failures;
static const char *cur_name;

void unit_register(const char *name, unit_fn fn, const char *file)
{
	if (ntests == cap) {
		cap = cap ? cap * 2 : 64;
		tests = realloc(tests, cap * sizeof(*tests));
		if (!tests)
			abort();
	}
	tests[ntests].name = name;
	tests[ntests].file = file;
	tests[ntests].fn = fn;
	ntests++;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	if (cur_failures < 20) {
		fprintf(stderr, "FAIL %s (%s:%d): ", cur_name, file, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	cur_failures++;
}

int unit_failed_current(void)
{
	return cur_failures;
}

const char *unit_fixture(const char *rel)
{
	static char path[4096];
	const char *base = getenv("KSTAGE_FIXTURES");
	snprintf(path, sizeof(path), "%s/%s", base && *base ? base : "../shared/fixtures", rel);
	return path;
}

const char *unit_testdata(const char *rel)
{
	static char path[4096];
	snprintf(path, sizeof(path), "tests/%s", rel);
	return path;
}

static int cmp(const void *a, const void *b)
{
	const utest *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
	size_t i, passed = 0, failed = 0;
	qsort(tests, ntests, sizeof(*tests), cmp);
	for (i = 0; i < ntests; i++) {
		int j, match = argc < 2;
		for (j = 1; j < argc; j++)
			if (!strncmp(tests[i].name, argv[j], strlen(argv[j])))
				match = 1;
		if (!match)
			continue;
		cur_name = tests[i].name;
		cur_failures = 0;
		tests[i].fn();
		if (cur_failures) {
			failed++;
			fprintf(stderr, "not ok %s\n", tests[i].name);
		} else {
			passed++;
		}
	}
	free(tests);
	printf("unit: %zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}
