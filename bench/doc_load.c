/* bench/doc_load.c - how fast doc/ loads and re-emits a large real file
 * (default: the 1.4 MB KServe CRD file). Prints one line per measure:
 *   doc_load <file> <bytes> <docs> load_ms=<best of N> MB/s=<..> emit_yaml_ms=.. emit_json_ms=..
 * Timing lives here, never in tests. */
#include "doc/doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "../shared/fixtures/kserve/v0.15.2/crds.yaml";
	int rounds = argc > 2 ? atoi(argv[2]) : 10, i;
	kbuf text = KBUF_INIT;
	double best_load = 1e18, best_yaml = 1e18, best_json = 1e18;
	size_t ndocs = 0;
	if (kbuf_read_file(&text, path, 0) != 0) {
		fprintf(stderr, "doc_load: cannot read %s\n", path);
		return 1;
	}
	for (i = 0; i < rounds; i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_stream s;
		kbuf y = KBUF_INIT, j = KBUF_INIT;
		size_t k;
		double t0 = now_ms(), t1, t2, t3;
		doc_load_opts o = { 0 };
		o.dup = DOC_DUP_LAST;
		if (doc_load_yaml(&s, &a, path, text.ptr, text.len, &o, &e)) {
			kbuf m = KBUF_INIT;
			kerr_format(&e, &m);
			fprintf(stderr, "doc_load: %s\n", m.ptr);
			return 1;
		}
		t1 = now_ms();
		for (k = 0; k < s.len; k++)
			doc_emit_yaml(&y, s.docs[k], 0, &e);
		t2 = now_ms();
		for (k = 0; k < s.len; k++)
			doc_emit_json(&j, s.docs[k], 0, &e);
		t3 = now_ms();
		ndocs = s.len;
		if (t1 - t0 < best_load)
			best_load = t1 - t0;
		if (t2 - t1 < best_yaml)
			best_yaml = t2 - t1;
		if (t3 - t2 < best_json)
			best_json = t3 - t2;
		kbuf_release(&y);
		kbuf_release(&j);
		karena_release(&a);
	}
	printf("doc_load %s bytes=%zu docs=%zu load_ms=%.1f MB/s=%.1f emit_yaml_ms=%.1f emit_json_ms=%.1f (best of %d)\n",
	       path, text.len, ndocs, best_load, (double)text.len / 1e3 / best_load, best_yaml, best_json, rounds);
	kbuf_release(&text);
	return 0;
}
