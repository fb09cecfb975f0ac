/* Unit tests for fetch/fetch.c: the content-addressed cache (offline). */
#include "unit.h"
#include "fetch/fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_file(const char *dir, const char *name, const char *text)
{
	kbuf p = KBUF_INIT;
	FILE *f;
	kbuf_printf(&p, "%s/sha256", dir);
	mkdir(p.ptr, 0700);
	kbuf_printf(&p, "/%s", name);
	f = fopen(p.ptr, "w");
	fputs(text, f);
	fclose(f);
	kbuf_release(&p);
}

TEST(fetch_cache_hit_and_verify)
{
	char dir[] = "/tmp/kstage-fetch-XXXXXX";
	char hex[65], other[65];
	kbuf out = KBUF_INIT, m = KBUF_INIT;
	kerr e = KERR_INIT;
	fetch_opts o;
	memset(&o, 0, sizeof(o));
	o.offline = true;
	CHECK(mkdtemp(dir) != NULL);
	o.cache_dir = dir;
	fetch_sha256_hex("hello\n", 6, hex);
	CHECK_STR_EQ(hex, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
	write_file(dir, hex, "hello\n");
	CHECK_INT_EQ(fetch_url(&out, "https://example.invalid/hello.txt", hex, &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "hello\n");
	/* a damaged entry is not used (and offline there is nothing else) */
	fetch_sha256_hex("other", 5, other);
	write_file(dir, other, "tampered");
	kbuf_reset(&out);
	CHECK_INT_EQ(fetch_url(&out, "https://example.invalid/other", other, &o, &e), KE_IO);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "not in the cache");
	CHECK_STR_EQ(out.ptr, "");
	kerr_clear(&e);
	CHECK_INT_EQ(fetch_url(&out, "http://example.invalid/x", hex, &o, &e), KE_INPUT);
	kerr_clear(&e);
	CHECK_INT_EQ(fetch_url(&out, "https://example.invalid/x", "ABC", &o, &e), KE_INPUT);
	kerr_clear(&e);
	{
		kbuf p = KBUF_INIT;
		kbuf_printf(&p, "%s/sha256/%s", dir, hex);
		unlink(p.ptr);
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/sha256", dir);
		rmdir(p.ptr);
		rmdir(dir);
		kbuf_release(&p);
	}
	kbuf_release(&out);
	kbuf_release(&m);
}

TEST(fetch_cache_dir_default)
{
	kbuf d = KBUF_INIT;
	char *old = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	unsetenv("KSTAGE_CACHE_DIR");
	fetch_cache_dir(&d, NULL);
	CHECK_STR_EQ(d.ptr, "/x/cache/kstage");
	if (old)
		setenv("XDG_CACHE_HOME", old, 1);
	else
		unsetenv("XDG_CACHE_HOME");
	free(old);
	kbuf_release(&d);
}
