/* Unit tests for fetch/oci.c that need no registry: references, and
 * pinned charts read from a prepared cache with --offline (the manifest
 * checks, the layer by digest, damaged and missing entries). The registry
 * side (tags, tokens, basic auth, helm's digests) is tests/e2e/test_oci.py. */
#include "unit.h"
#include "fetch/fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(fetch_oci_ref_parse_cases)
{
	static const struct {
		const char *ref, *host, *repo, *tag, *err;
	} cases[] = {
		{ "oci://ghcr.io/kserve/charts/kserve", "ghcr.io", "kserve/charts/kserve", NULL, NULL },
		{ "oci://127.0.0.1:5000/a/b:v0.15.2", "127.0.0.1:5000", "a/b", "v0.15.2", NULL },
		{ "oci://reg/x.y_z-w/a__b", "reg", "x.y_z-w/a__b", NULL, NULL },
		{ "https://ghcr.io/x", NULL, NULL, NULL, "is not an oci:// reference" },
		{ "oci://ghcr.io", NULL, NULL, NULL, "want oci://HOST/REPOSITORY" },
		{ "oci:///x", NULL, NULL, NULL, "want oci://HOST/REPOSITORY" },
		{ "oci://ghcr.io/Upper/x", NULL, NULL, NULL, "must be lowercase" },
		{ "oci://ghcr.io/a//b", NULL, NULL, NULL, "must be lowercase" },
		{ "oci://ghcr.io/a/-b", NULL, NULL, NULL, "must be lowercase" },
		{ "oci://ghcr.io/a/b.", NULL, NULL, NULL, "must be lowercase" },
		{ "oci://ghcr.io/a/../b", NULL, NULL, NULL, "must be lowercase" },
		{ "oci://ghcr.io/a/b:", NULL, NULL, NULL, "is not a valid OCI tag" },
		{ "oci://ghcr.io/a/b:v1+x", NULL, NULL, NULL, "is not a valid OCI tag" },
		{ "oci://gh cr.io/a", NULL, NULL, NULL, "is not a registry host" },
		{ "oci://ghcr.io/a?x=1", NULL, NULL, NULL, "must be lowercase" },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		fetch_oci_ref r;
		int rc = fetch_oci_ref_parse(&r, &a, cases[i].ref, &e);
		if (cases[i].err) {
			CHECK_MSG(rc == KE_INPUT, "%s: want an error", cases[i].ref);
			CHECK_CONTAINS(e.first.msg, cases[i].err);
		} else {
			CHECK_MSG(rc == 0, "%s: %s", cases[i].ref, e.first.msg ? e.first.msg : "");
			CHECK_STR_EQ(r.host, cases[i].host);
			CHECK_STR_EQ(r.repo, cases[i].repo);
			if (cases[i].tag)
				CHECK_STR_EQ(r.tag, cases[i].tag);
			else
				CHECK(r.tag == NULL);
		}
		kerr_clear(&e);
		karena_release(&a);
	}
}

typedef struct cache {
	char dir[40];
	char manifest[65], layer[65];
	fetch_opts o;
} cache;

static void put(const cache *c, const char *hex, const char *data, size_t len)
{
	kbuf p = KBUF_INIT;
	FILE *f;
	kbuf_printf(&p, "%s/sha256", c->dir);
	mkdir(p.ptr, 0700);
	kbuf_printf(&p, "/%s", hex);
	f = fopen(p.ptr, "w");
	if (!f || fwrite(data, 1, len, f) != len)
		unit_fail(__FILE__, __LINE__, "cannot write %s", p.ptr);
	fclose(f);
	kbuf_release(&p);
}

static bool has(const cache *c, const char *hex)
{
	kbuf p = KBUF_INIT;
	bool r;
	kbuf_printf(&p, "%s/sha256/%s", c->dir, hex);
	r = access(p.ptr, F_OK) == 0;
	kbuf_release(&p);
	return r;
}

/* A cache holding a chart layer and a manifest naming it (config media
 * type cfg, layer media type lt). */
static void cache_init(cache *c, const char *cfg, const char *lt, const char *layer_size)
{
	static const char chart[] = "not really a tgz, but bytes with a digest";
	kbuf m = KBUF_INIT;
	char sz[32];
	snprintf(c->dir, sizeof(c->dir), "/tmp/kstage-oci-XXXXXX");
	if (!mkdtemp(c->dir))
		unit_fail(__FILE__, __LINE__, "mkdtemp");
	fetch_sha256_hex(chart, sizeof(chart) - 1, c->layer);
	put(c, c->layer, chart, sizeof(chart) - 1);
	snprintf(sz, sizeof(sz), "%zu", sizeof(chart) - 1);
	kbuf_printf(&m, "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		    "\"config\":{\"mediaType\":\"%s\",\"digest\":\"sha256:%064d\",\"size\":2},"
		    "\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%s}]}",
		    cfg, 0, lt, c->layer, layer_size ? layer_size : sz);
	fetch_sha256_hex(m.ptr, m.len, c->manifest);
	put(c, c->manifest, m.ptr, m.len);
	kbuf_release(&m);
	memset(&c->o, 0, sizeof(c->o));
	c->o.cache_dir = c->dir;
	c->o.offline = true;
}

static void cache_free(cache *c)
{
	kbuf p = KBUF_INIT;
	kbuf_printf(&p, "%s/sha256/%s", c->dir, c->manifest);
	unlink(p.ptr);
	kbuf_reset(&p);
	kbuf_printf(&p, "%s/sha256/%s", c->dir, c->layer);
	unlink(p.ptr);
	kbuf_reset(&p);
	kbuf_printf(&p, "%s/sha256", c->dir);
	rmdir(p.ptr);
	rmdir(c->dir);
	kbuf_release(&p);
}

#define HELM_CFG "application/vnd.cncf.helm.config.v1+json"
#define HELM_LAYER "application/vnd.cncf.helm.chart.content.v1.tar+gzip"

TEST(fetch_oci_pinned_from_the_cache)
{
	cache c;
	kbuf out = KBUF_INIT;
	fetch_result res;
	kerr e = KERR_INIT;
	memset(&res, 0, sizeof(res));
	cache_init(&c, HELM_CFG, HELM_LAYER, NULL);
	CHECK_INT_EQ(fetch_oci_chart(&out, &res, "oci://reg.invalid/charts/x", "1.0.0+b", c.manifest, &c.o, &e), 0);
	CHECK_STR_EQ(out.ptr, "not really a tgz, but bytes with a digest");
	CHECK_STR_EQ(res.sha256, c.manifest);
	CHECK_INT_EQ(res.size, out.len);
	CHECK(strstr(res.resolved.ptr, "oci://reg.invalid/charts/x:1.0.0_b@sha256:") == res.resolved.ptr);
	/* a range as version: the pin decides, the range is no tag */
	kbuf_reset(&out);
	CHECK_INT_EQ(fetch_oci_chart(&out, &res, "oci://reg.invalid/charts/x", "^1.0", c.manifest, &c.o, &e), 0);
	CHECK(strstr(res.resolved.ptr, "oci://reg.invalid/charts/x@sha256:") == res.resolved.ptr);
	/* Helm 3.0-3.7 charts have layer type application/tar+gzip */
	cache_free(&c);
	kbuf_reset(&out);
	cache_init(&c, HELM_CFG, "application/tar+gzip", NULL);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/charts/x:1.0.0", NULL, c.manifest, &c.o, &e), 0);
	cache_free(&c);
	kbuf_release(&out);
	kbuf_release(&res.resolved);
}

TEST(fetch_oci_offline_misses)
{
	cache c;
	kbuf out = KBUF_INIT, p = KBUF_INIT;
	kerr e = KERR_INIT;
	cache_init(&c, HELM_CFG, HELM_LAYER, NULL);
	/* unpinned: a tag cannot be resolved offline */
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/charts/x", "1.0.0", NULL, &c.o, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "not pinned, so not resolvable with --offline");
	kerr_clear(&e);
	/* the layer missing: named */
	kbuf_printf(&p, "%s/sha256/%s", c.dir, c.layer);
	unlink(p.ptr);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/charts/x", "1.0.0", c.manifest, &c.o, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "chart layer sha256:");
	CHECK_CONTAINS(e.first.msg, c.layer);
	CHECK_CONTAINS(e.first.msg, "--offline");
	kerr_clear(&e);
	/* a damaged manifest is removed and never used */
	kbuf_reset(&p);
	kbuf_printf(&p, "%s/sha256/%s", c.dir, c.manifest);
	put(&c, c.manifest, "{}", 2);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/charts/x", "1.0.0", c.manifest, &c.o, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "not in the cache");
	CHECK(!has(&c, c.manifest));
	CHECK_INT_EQ(out.len, 0);
	kerr_clear(&e);
	cache_free(&c);
	kbuf_release(&out);
	kbuf_release(&p);
}

TEST(fetch_oci_not_a_chart)
{
	static const struct {
		const char *cfg, *lt, *size, *err;
	} cases[] = {
		{ "application/vnd.oci.image.config.v1+json", HELM_LAYER, NULL,
		  "is not a Helm chart: its config media type is \"application/vnd.oci.image.config.v1+json\"" },
		{ HELM_CFG, "application/vnd.oci.image.layer.v1.tar+gzip", NULL, "the manifest has no Helm chart layer" },
		{ HELM_CFG, HELM_LAYER, "0", "chart layer size 0 is not within" },
		{ HELM_CFG, HELM_LAYER, "999999999999", "chart layer size 999999999999 is not within" },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cache c;
		kbuf out = KBUF_INIT;
		kerr e = KERR_INIT;
		cache_init(&c, cases[i].cfg, cases[i].lt, cases[i].size);
		CHECK(fetch_oci_chart(&out, NULL, "oci://reg.invalid/x", "1", c.manifest, &c.o, &e) < 0);
		CHECK_CONTAINS(e.first.msg, cases[i].err);
		kerr_clear(&e);
		cache_free(&c);
		kbuf_release(&out);
	}
}

TEST(fetch_oci_index_and_bad_arguments)
{
	cache c;
	kbuf out = KBUF_INIT;
	kerr e = KERR_INIT;
	static const char idx[] = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
				  "\"manifests\":[]}";
	char hex[65];
	cache_init(&c, HELM_CFG, HELM_LAYER, NULL);
	fetch_sha256_hex(idx, sizeof(idx) - 1, hex);
	put(&c, hex, idx, sizeof(idx) - 1);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/x", "1", hex, &c.o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "is an image index");
	kerr_clear(&e);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/x:1", "2", c.manifest, &c.o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "has tag 1 and the version is 2");
	kerr_clear(&e);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/x", NULL, NULL, &c.o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "give a version");
	kerr_clear(&e);
	CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/x", "1", "ABC", &c.o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "64 lowercase hex digits");
	kerr_clear(&e);
	/* a mirror rule may not turn an oci:// reference into something else */
	{
		const char *rules[] = { "oci://reg.invalid/=https://elsewhere/" };
		c.o.mirrors = rules;
		c.o.nmirrors = 1;
		CHECK_INT_EQ(fetch_oci_chart(&out, NULL, "oci://reg.invalid/x", "1", c.manifest, &c.o, &e), KE_INPUT);
		CHECK_CONTAINS(e.first.msg, "stays oci://");
		kerr_clear(&e);
	}
	{
		kbuf p = KBUF_INIT;
		kbuf_printf(&p, "%s/sha256/%s", c.dir, hex);
		unlink(p.ptr);
		kbuf_release(&p);
	}
	cache_free(&c);
	kbuf_release(&out);
}

/* Version ranges are resolved with tmpl's semver (Masterminds rules, as Helm). */
#include "tmpl/tmpl.h"

TEST(tmpl_semver_pick_ranges)
{
	static const char *const tags[] = { "v0.15.2", "v0.20.0", "0.15.0", "1.0.0-rc.1", "latest", "0.16.1+b" };
	static const struct {
		const char *cs;
		long want;
	} cases[] = {
		{ "^0.15", 0 }, { ">=0.15.0", 1 }, { "~0.20.0", 1 }, { "0.15.x", 0 }, { "<0.15.2", 2 },
		{ "^0.16", 5 }, { "^1", -1 }, { ">=1.0.0-0", 3 }, { "^0.15 || ^0.20", 1 }, { "not a range", -2 },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_MSG(tmpl_semver_pick(cases[i].cs, tags, sizeof(tags) / sizeof(tags[0])) == cases[i].want,
			  "%s: got %ld, want %ld", cases[i].cs, tmpl_semver_pick(cases[i].cs, tags, 6), cases[i].want);
}
