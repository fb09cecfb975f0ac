/*
 * fuzz_oci: what an OCI registry or a stage file hands fetch/oci.c: an input
 * starting "oci://" is a reference (fetch_oci_ref_parse); anything else is a
 * manifest, put into a private cache under its digest and read back as a
 * pinned chart with --offline (the manifest checks: JSON, media types, the
 * chart layer's digest and size). Errors are fine; crashes, leaks and
 * sanitizer reports are not.
 */
#include "fetch/fetch.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void cleanup(void)
{
	char sub[80];
	snprintf(sub, sizeof(sub), "%s/sha256", dir);
	rmdir(sub);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf in = KBUF_INIT, out = KBUF_INIT, p = KBUF_INIT;
	char hex[65];
	if (size > 65536)
		return 0;
	e.quiet = 1;
	kbuf_put(&in, data, size);
	if (size >= 6 && !memcmp(data, "oci://", 6)) {
		fetch_oci_ref r;
		if (fetch_oci_ref_parse(&r, &a, in.ptr, &e) == 0 && (!r.host || !r.repo || !*r.host || !*r.repo))
			abort();
	} else {
		fetch_opts o;
		FILE *f;
		if (!dir[0]) {
			snprintf(dir, sizeof(dir), "/tmp/kstage-fuzz-oci-%ld", (long)getpid());
			mkdir(dir, 0700);
			atexit(cleanup);
		}
		fetch_sha256_hex(data, size, hex);
		kbuf_printf(&p, "%s/sha256", dir);
		mkdir(p.ptr, 0700);
		kbuf_printf(&p, "/%s", hex);
		if ((f = fopen(p.ptr, "wb"))) {
			fwrite(data, 1, size, f);
			fclose(f);
		}
		memset(&o, 0, sizeof(o));
		o.cache_dir = dir;
		o.offline = true;
		if (fetch_oci_chart(&out, NULL, "oci://fuzz.invalid/charts/x", "1.0.0", hex, &o, &e) == 0)
			abort();   /* the layer is never in this cache */
		unlink(p.ptr);
	}
	kerr_clear(&e);
	kbuf_release(&in);
	kbuf_release(&out);
	kbuf_release(&p);
	karena_release(&a);
	return 0;
}
