/*
 * fuzz_chart_tgz: a chart archive (.tgz) read from memory through
 * tmpl_chart_load_tgz, as an OCI pull or a chart path hands it over:
 * gzip, tar, Chart.yaml, values, subcharts and the size limits.
 * Errors are fine; crashes, leaks and sanitizer reports are not.
 */
#include "tmpl/chart.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf m = KBUF_INIT;
	tmpl_chart *c = NULL;
	if (tmpl_chart_load_tgz(&c, &a, "fuzz.tgz", data, size, VALUES_NUM_HELM, &e))
		kerr_format(&e, &m);
	kbuf_release(&m);
	kerr_clear(&e);
	karena_release(&a);
	return 0;
}
