/* Unit tests for installer/core: buffers, arena, errors, Go number formatting. */
#include "unit.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/event.h"
#include "core/numfmt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

TEST(core_buf_basics)
{
	kbuf b = KBUF_INIT;
	char *s;
	size_t len;
	CHECK_STR_EQ(b.ptr, "");
	CHECK_INT_EQ(kbuf_puts(&b, "hello"), 0);
	CHECK_INT_EQ(kbuf_printf(&b, " %d %s", 42, "x"), 0);
	CHECK_STR_EQ(b.ptr, "hello 42 x");
	kbuf_truncate(&b, 5);
	CHECK_STR_EQ(b.ptr, "hello");
	CHECK_INT_EQ(kbuf_putn(&b, '-', 3), 0);
	CHECK_STR_EQ(b.ptr, "hello---");
	s = kbuf_detach(&b, &len);
	CHECK_STR_EQ(s, "hello---");
	CHECK_INT_EQ(len, 8);
	CHECK_STR_EQ(b.ptr, "");
	free(s);
	s = kbuf_detach(&b, NULL);   /* detaching an empty buffer gives "" to free */
	CHECK_STR_EQ(s, "");
	free(s);
}

TEST(core_buf_cap_refuses_growth)
{
	kbuf b = KBUF_INIT;
	kbuf_set_cap(&b, 8);
	CHECK_INT_EQ(kbuf_puts(&b, "12345678"), 0);
	CHECK_INT_EQ(kbuf_putc(&b, '9'), -1);
	CHECK_STR_EQ(b.ptr, "12345678");
	CHECK_INT_EQ(kbuf_printf(&b, "%s", "more"), -1);
	CHECK_INT_EQ(b.len, 8);
	kbuf_release(&b);
}

/* A refused write is remembered: a later write that would fit is refused too,
 * so a text with a hole in it is never produced; reset starts afresh. */
TEST(core_buf_failure_is_sticky)
{
	kbuf b = KBUF_INIT;
	kbuf_set_cap(&b, 8);
	CHECK_INT_EQ(kbuf_failed(&b), 0);
	CHECK_INT_EQ(kbuf_puts(&b, "abc"), 0);
	CHECK_INT_EQ(kbuf_puts(&b, "0123456789"), -1);
	CHECK(kbuf_failed(&b));
	CHECK_INT_EQ(kbuf_putc(&b, 'd'), -1);
	CHECK_INT_EQ(kbuf_putn(&b, 'e', 1), -1);
	CHECK_INT_EQ(kbuf_printf(&b, "%d", 1), -1);
	CHECK_STR_EQ(b.ptr, "abc");
	kbuf_truncate(&b, 1);
	CHECK(kbuf_failed(&b));
	kbuf_reset(&b);
	CHECK_INT_EQ(kbuf_failed(&b), 0);
	CHECK_INT_EQ(kbuf_puts(&b, "fits"), 0);
	CHECK_STR_EQ(b.ptr, "fits");
	kbuf_release(&b);
	CHECK_INT_EQ(kbuf_failed(&b), 0);
}

/* A FIFO nobody writes to, or a directory, must not hang or read as empty;
 * a FIFO with a writer reads whole; a regular file over the limit is refused
 * before it is read. */
TEST(core_buf_read_file_special_files)
{
	char dir[] = "/tmp/kstage-unit-XXXXXX", fifo[64], big[64];
	kbuf b = KBUF_INIT;
	pid_t pid;
	int st;
	FILE *f;
	CHECK(mkdtemp(dir) != NULL);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(big, sizeof(big), "%s/big", dir);
	CHECK_INT_EQ(mkfifo(fifo, 0600), 0);

	errno = 0;
	CHECK_INT_EQ(kbuf_read_file_idle(&b, fifo, 0, 200), -1);
	CHECK_INT_EQ(errno, ETIMEDOUT);
	CHECK_INT_EQ(kbuf_read_file(&b, dir, 0), -1);
	CHECK_INT_EQ(errno, EISDIR);
	CHECK_INT_EQ(b.len, 0);

	pid = fork();
	if (pid == 0) {
		int fd = open(fifo, O_WRONLY);
		if (fd < 0 || write(fd, "a: 1\n", 5) != 5)
			_exit(1);
		close(fd);
		_exit(0);
	}
	CHECK_INT_EQ(kbuf_read_file_idle(&b, fifo, 0, 5000), 0);
	CHECK_STR_EQ(b.ptr, "a: 1\n");
	CHECK_INT_EQ(waitpid(pid, &st, 0), pid);
	kbuf_reset(&b);

	f = fopen(big, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("0123456789", f);
		fclose(f);
	}
	CHECK_INT_EQ(kbuf_read_file(&b, big, 9), -2);
	CHECK_INT_EQ(kbuf_read_file(&b, big, 10), 0);
	CHECK_STR_EQ(b.ptr, "0123456789");
	kbuf_release(&b);
	unlink(fifo);
	unlink(big);
	rmdir(dir);
}

TEST(core_buf_embedded_nul)
{
	kbuf b = KBUF_INIT;
	kbuf_put(&b, "a\0b", 3);
	CHECK_INT_EQ(b.len, 3);
	CHECK(b.ptr[1] == '\0' && b.ptr[2] == 'b' && b.ptr[3] == '\0');
	kbuf_release(&b);
}

TEST(core_arena_alloc_and_realloc)
{
	karena a = KARENA_INIT;
	int i;
	char *big;
	int *arr = NULL;
	for (i = 0; i < 10000; i++) {
		char *s = karena_printf(&a, "item-%d", i);
		CHECK(((uintptr_t)s & 15) == 0);
		if (i == 9999)
			CHECK_STR_EQ(s, "item-9999");
	}
	big = karena_alloc(&a, 1 << 20);   /* larger than a block */
	CHECK(big[0] == 0 && big[(1 << 20) - 1] == 0);
	for (i = 0; i < 100; i++) {
		arr = karena_realloc(&a, arr, (size_t)i * sizeof(int), (size_t)(i + 1) * sizeof(int));
		arr[i] = i;
	}
	CHECK_INT_EQ(arr[0], 0);
	CHECK_INT_EQ(arr[99], 99);
	CHECK(a.used_total > (1 << 20));
	karena_release(&a);
	CHECK_INT_EQ(a.used_total, 0);
}

/* the inline path (small sizes with room in the block) and the block path
 * (no room, big sizes, one-offs past a quarter block) hand out disjoint,
 * aligned memory and count every byte, rounded up to 16 (0 counts 16) */
TEST(core_arena_inline_and_block_paths)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 4095, 4096, 4097, 16385, 65536, 70000, 3, 8000 };
	karena a = KARENA_INIT;
	unsigned char *p[13 * 40];
	size_t i, k, n = 0, want = 0;
	for (k = 0; k < 40; k++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++, n++) {
			size_t sz = sizes[i];
			p[n] = k % 2 ? karena_alloc(&a, sz) : karena_alloc_raw(&a, sz);
			CHECK(((uintptr_t)p[n] & 15) == 0);
			memset(p[n], (int)(n & 0xFF), sz);
			want += sz ? (sz + 15) / 16 * 16 : 16;
		}
	}
	CHECK_INT_EQ(a.used_total, want);
	for (n = 0, k = 0; k < 40; k++)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++, n++) {
			size_t j;
			for (j = 0; j < sizes[i] && p[n][j] == (unsigned char)(n & 0xFF); j++)
				;
			CHECK_MSG(j == sizes[i], "allocation %zu of %zu bytes was overwritten at %zu", n, sizes[i], j);
		}
	karena_release(&a);
	CHECK(a.used_total == 0 && a.cur == NULL);
	/* a released arena allocates again */
	CHECK(karena_alloc(&a, 10) != NULL);
	karena_release(&a);
}

TEST(core_err_location_caret_and_chain)
{
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	const char *text = "a: 1\nb:\t2\n";
	CHECK_INT_EQ(kerr_set_src(&e, KE_INPUT, "values.yaml", text, strlen(text), 2, 3, "tab here"), KE_INPUT);
	kerr_wrap(&e, "values");
	kerr_format(&e, &b);
	CHECK_STR_EQ(b.ptr, "values.yaml:2:3: values: tab here\n  b:\t2\n    ^");
	kbuf_reset(&b);
	kerr_format_short(&e, &b);
	CHECK_STR_EQ(b.ptr, "values.yaml:2:3: values: tab here");
	kerr_clear(&e);
	CHECK_INT_EQ(e.code, 0);
	kbuf_release(&b);
}

TEST(core_err_object_and_list)
{
	kerr e = KERR_INIT;
	kbuf b = KBUF_INIT;
	int i;
	kerr_set_obj(&e, KE_CONFLICT, "Gateway/kserve/kserve-ingress-gateway", "409 Conflict");
	kerr_wrap(&e, "stage gateway");
	kerr_format(&e, &b);
	CHECK_STR_EQ(b.ptr, "Gateway/kserve/kserve-ingress-gateway: stage gateway: 409 Conflict");
	kerr_clear(&e);
	kbuf_reset(&b);
	for (i = 0; i < 25; i++)
		kerr_add_at(&e, KE_INPUT, "s.json", (unsigned)i + 1, 1, "violation %d", i);
	CHECK_INT_EQ(e.count, 25);
	kerr_format(&e, &b);
	CHECK_CONTAINS(b.ptr, "s.json:1:1: violation 0\ns.json:2:1: violation 1");
	CHECK_CONTAINS(b.ptr, "... and 5 more errors");
	kerr_clear(&e);
	kbuf_release(&b);
}

TEST(core_err_reason_and_causes_are_data)
{
	kerr e = KERR_INIT, d = KERR_INIT;
	kbuf b = KBUF_INIT;
	kerr_set_obj(&e, KE_CONFLICT, "ConfigMap/ns/x", "409 Conflict: 1 field is managed");
	CHECK_STR_EQ(kerr_reason(&e), "");
	CHECK(kerr_find_cause(&e, "FieldManagerConflict") == NULL);
	kerr_set_reason(&e, "Conflict", 409);
	kerr_add_cause(&e, "FieldManagerConflict", ".data.a", "conflict with \"x\"");
	kerr_add_cause(&e, NULL, NULL, NULL);
	kerr_wrap(&e, "stage s");           /* context keeps the data */
	CHECK(kerr_reason_is(&e, "Conflict"));
	CHECK(!kerr_reason_is(&e, "Invalid"));
	CHECK_INT_EQ(e.status, 409);
	CHECK_INT_EQ(e.ncauses, 2);
	CHECK_STR_EQ(kerr_find_cause(&e, "FieldManagerConflict")->field, ".data.a");
	CHECK_STR_EQ(e.causes[1].message, "");
	kerr_format(&e, &b);                 /* and the printed text does not show it */
	CHECK_STR_EQ(b.ptr, "ConfigMap/ns/x: stage s: 409 Conflict: 1 field is managed");
	kerr_move(&d, &e);
	CHECK(e.reason == NULL && e.causes == NULL && e.ncauses == 0 && e.status == 0);
	CHECK(kerr_reason_is(&d, "Conflict"));
	CHECK_INT_EQ(d.ncauses, 2);
	kerr_set(&d, KE_IO, "reset");        /* a fresh error forgets the old answer */
	CHECK_STR_EQ(kerr_reason(&d), "");
	CHECK_INT_EQ(d.status, 0);
	CHECK_INT_EQ(d.ncauses, 0);
	kerr_set_reason(&d, "", 500);
	CHECK_STR_EQ(kerr_reason(&d), "");
	kerr_clear(&d);
	kerr_clear(&e);
	kbuf_release(&b);
}

TEST(core_err_quiet_keeps_code_only)
{
	kerr e = KERR_INIT;
	e.quiet = 1;
	CHECK_INT_EQ(kerr_set(&e, KE_LIMIT, "x %d", 1), KE_LIMIT);
	CHECK(e.first.msg == NULL);
	kerr_clear(&e);
}

TEST(core_err_offset_to_linecol_counts_characters)
{
	unsigned l, c;
	const char *t = "ab\n\xc3\xa9x";   /* é is one character */
	kerr_offset_to_linecol(t, strlen(t), 5, &l, &c);
	CHECK_INT_EQ(l, 2);
	CHECK_INT_EQ(c, 2);
}

static int events_seen;
static void count_emit(void *ctx, const kevent *ev)
{
	(void)ctx;
	if (!strcmp(ev->kind, "stage.start") && !strcmp(kev_get(ev, "stage"), "crds"))
		events_seen++;
}

TEST(core_event_fields)
{
	kev_sink s = { count_emit, NULL, NULL };
	kev_emit(&s, KEV_INFO, "stage.start", "stage crds", "stage", "crds", NULL);
	kev_emit(NULL, KEV_INFO, "stage.start", "dropped", NULL);
	kev_emit(&kev_null_sink, KEV_INFO, "x", "y", NULL);
	CHECK_INT_EQ(events_seen, 1);
}

/* Expected strings come from Go 1.26: strconv.FormatFloat and json.Marshal. */
static const struct {
	double v;
	const char *g, *e, *f, *json, *f2, *g3;
} floats[] = {
	{ 0, "0", "0e+00", "0", "0", "0.00", "0" },
	{ 1, "1", "1e+00", "1", "1", "1.00", "1" },
	{ -1, "-1", "-1e+00", "-1", "-1", "-1.00", "-1" },
	{ 0.5, "0.5", "5e-01", "0.5", "0.5", "0.50", "0.5" },
	{ 1e6, "1e+06", "1e+06", "1000000", "1000000", "1000000.00", "1e+06" },
	{ 1e21, "1e+21", "1e+21", "1000000000000000000000", "1e+21", "1000000000000000000000.00", "1e+21" },
	{ 1e20, "1e+20", "1e+20", "100000000000000000000", "100000000000000000000", "100000000000000000000.00", "1e+20" },
	{ 123456789, "1.23456789e+08", "1.23456789e+08", "123456789", "123456789", "123456789.00", "1.23e+08" },
	{ 1234567.5, "1.2345675e+06", "1.2345675e+06", "1234567.5", "1234567.5", "1234567.50", "1.23e+06" },
	{ 0.000001, "1e-06", "1e-06", "0.000001", "0.000001", "0.00", "1e-06" },
	{ 1e-7, "1e-07", "1e-07", "0.0000001", "1e-7", "0.00", "1e-07" },
	{ 3.14159, "3.14159", "3.14159e+00", "3.14159", "3.14159", "3.14", "3.14" },
	{ 100, "100", "1e+02", "100", "100", "100.00", "100" },
	{ 5e-324, "5e-324", "5e-324", NULL, "5e-324", "0.00", "4.94e-324" },
	{ 0.1, "0.1", "1e-01", "0.1", "0.1", "0.10", "0.1" },
	{ 2.5, "2.5", "2.5e+00", "2.5", "2.5", "2.50", "2.5" },
	{ 1e-5, "1e-05", "1e-05", "0.00001", "0.00001", "0.00", "1e-05" },
	{ 123456.789, "123456.789", "1.23456789e+05", "123456.789", "123456.789", "123456.79", "1.23e+05" },
	{ 1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308", NULL,
	  "1.7976931348623157e+308", NULL, "1.8e+308" },
};

TEST(core_numfmt_matches_go)
{
	size_t i;
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		kbuf b = KBUF_INIT;
		numfmt_float(&b, floats[i].v, 'g', -1);
		CHECK_STR_EQ(b.ptr, floats[i].g);
		kbuf_reset(&b);
		numfmt_float(&b, floats[i].v, 'e', -1);
		CHECK_STR_EQ(b.ptr, floats[i].e);
		if (floats[i].f) {
			kbuf_reset(&b);
			numfmt_float(&b, floats[i].v, 'f', -1);
			CHECK_STR_EQ(b.ptr, floats[i].f);
		}
		kbuf_reset(&b);
		CHECK_INT_EQ(numfmt_float_json(&b, floats[i].v), 0);
		CHECK_STR_EQ(b.ptr, floats[i].json);
		if (floats[i].f2) {
			kbuf_reset(&b);
			numfmt_float(&b, floats[i].v, 'f', 2);
			CHECK_STR_EQ(b.ptr, floats[i].f2);
		}
		kbuf_reset(&b);
		numfmt_float(&b, floats[i].v, 'g', 3);
		CHECK_STR_EQ(b.ptr, floats[i].g3);
		kbuf_release(&b);
	}
}

TEST(core_numfmt_specials)
{
	kbuf b = KBUF_INIT;
	numfmt_float(&b, INFINITY, 'g', -1);
	CHECK_STR_EQ(b.ptr, "+Inf");
	kbuf_reset(&b);
	numfmt_float(&b, NAN, 'g', -1);
	CHECK_STR_EQ(b.ptr, "NaN");
	kbuf_reset(&b);
	CHECK_INT_EQ(numfmt_float_json(&b, NAN), -1);
	CHECK_STR_EQ(b.ptr, "");
	numfmt_float(&b, -0.001, 'f', 2);
	CHECK_STR_EQ(b.ptr, "-0.00");
	kbuf_reset(&b);
	numfmt_float(&b, 2.5, 'f', 0);
	CHECK_STR_EQ(b.ptr, "2");
	kbuf_reset(&b);
	numfmt_float(&b, 0.125, 'e', 1);
	CHECK_STR_EQ(b.ptr, "1.2e-01");
	kbuf_reset(&b);
	numfmt_float(&b, 1234.5678, 'e', 3);
	CHECK_STR_EQ(b.ptr, "1.235e+03");
	kbuf_reset(&b);
	numfmt_float(&b, 0.00001234, 'g', 2);
	CHECK_STR_EQ(b.ptr, "1.2e-05");
	kbuf_reset(&b);
	numfmt_float(&b, 1.5e300, 'f', -1);
	CHECK_INT_EQ(b.len, 301);
	CHECK(b.ptr[0] == '1' && b.ptr[1] == '5' && b.ptr[300] == '0');
	kbuf_release(&b);
}

TEST(core_st_arith)
{
	CHECK_INT_EQ(st_add(2, 3), 5);
	CHECK_INT_EQ(st_mult(6, 7), 42);
}
