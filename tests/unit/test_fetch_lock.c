/* Unit tests for fetch/lock.c (kstage.lock), the mirror rules of
 * fetch/fetch.c, and release/sources.c pinning a bundle by its lock and
 * fetching its sources (all of them, or those a run's values enable). */
#include "unit.h"
#include "http_srv.h"
#include "fetch/fetch.h"
#include "release/release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GW "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"
#define D1 "97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64"
#define D2 "a111111111111111111111111111111111111111111111111111111111111111"

static const char good_lock[] =
	"version: 1\n"
	"sources:\n"
	"  - stage: crds\n"
	"    url: " GW "\n"
	"    resolved: https://mirror.internal/gw.yaml\n"
	"    sha256: " D1 "\n"
	"    size: 598441\n";

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

TEST(fetch_lock_parse_find_and_round_trip)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	fetch_lock l, l2;
	const fetch_lock_entry *x;
	kbuf t = KBUF_INIT;
	CHECK_INT_EQ(fetch_lock_parse(&l, &a, "kstage.lock", good_lock, strlen(good_lock), &e), 0);
	CHECK_INT_EQ(l.len, 1);
	x = fetch_lock_find(&l, GW);
	CHECK(x != NULL);
	CHECK_STR_EQ(x->sha256, D1);
	CHECK_STR_EQ(x->stage, "crds");
	CHECK_INT_EQ(x->size, 598441);
	CHECK_INT_EQ(x->line, 6);
	CHECK(fetch_lock_find(&l, "https://other/x") == NULL);
	fetch_lock_format(&t, &l);
	CHECK_INT_EQ(fetch_lock_parse(&l2, &a, "again", t.ptr, t.len, &e), 0);
	CHECK_INT_EQ(l2.len, 1);
	CHECK_STR_EQ(l2.v[0].resolved, "https://mirror.internal/gw.yaml");
	CHECK_STR_EQ(l2.v[0].sha256, D1);
	CHECK_INT_EQ(l2.v[0].size, 598441);
	/* empty file: an empty lock */
	CHECK_INT_EQ(fetch_lock_parse(&l, &a, "e", "", 0, &e), 0);
	CHECK_INT_EQ(l.len, 0);
	kbuf_release(&t);
	karena_release(&a);
}

TEST(fetch_lock_errors_have_positions)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "version: 2\nsources: []\n", "l:1:10: lock file version must be 1" },
		{ "version: 1\nextra: 1\n", "l:2:8: unknown key \"extra\" in the lock file" },
		{ "\"version\\0\": 1\nversion: 1\n", "unknown key \"version\\u0000\" in the lock file" },
		{ "version: 1\nsources:\n  - {stage: a, url: https://x/y, resolved: https://x/y, sha256: abc, size: 1}\n",
		  "l:3:65: lock sha256 must be 64 lowercase hex digits" },
		{ "version: 1\nsources:\n  - {stage: a, url: http://x/y, resolved: https://x/y, sha256: " D1 ", size: 1}\n",
		  "lock url \"http://x/y\" is not https://, oci:// or git+" },
		{ "version: 1\nsources:\n  - {stage: a, url: https://x/y, resolved: r, sha256: " D1 ", size: -1}\n",
		  "lock size must be a byte count" },
		{ "version: 1\nsources:\n  - {stage: a, url: https://x/y, sha256: " D1 ", size: 1}\n",
		  "l:3:5: lock entry needs resolved" },
		{ "version: 1\nsources:\n  - {stage: a, url: https://x/y, resolved: r, sha256: " D1 ", size: 1, k: 1}\n"
		  , "unknown key \"k\" in a lock entry" },
		{ "version: 1\nsources:\n  - {stage: a, url: https://x/y, resolved: r, sha256: " D1 ", size: 1}\n"
		  "  - {stage: b, url: https://x/y, resolved: r, sha256: " D1 ", size: 1}\n",
		  "l:4:5: url https://x/y is locked twice (also at line 3)" },
		{ "- 1\n", "a lock file is a map" },
	};
	size_t i;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		kbuf m = KBUF_INIT;
		fetch_lock l;
		CHECK_INT_EQ(fetch_lock_parse(&l, &a, "l", cases[i].text, strlen(cases[i].text), &e), KE_INPUT);
		kerr_format(&e, &m);
		CHECK_CONTAINS(m.ptr, cases[i].want);
		kbuf_release(&m);
		kerr_clear(&e);
		karena_release(&a);
	}
}

TEST(fetch_lock_write_is_atomic_and_missing_is_empty)
{
	char dir[] = "/tmp/kstage-lock-XXXXXX";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	fetch_lock l, back;
	kbuf p = KBUF_INIT, t = KBUF_INIT;
	CHECK(mkdtemp(dir) != NULL);
	kbuf_printf(&p, "%s/kstage.lock", dir);
	CHECK_INT_EQ(fetch_lock_load(&back, &a, p.ptr, &e), 0);
	CHECK_INT_EQ(back.len, 0);
	CHECK_INT_EQ(fetch_lock_parse(&l, &a, "kstage.lock", good_lock, strlen(good_lock), &e), 0);
	CHECK_INT_EQ(fetch_lock_write(&l, p.ptr, &e), 0);
	CHECK_INT_EQ(fetch_lock_load(&back, &a, p.ptr, &e), 0);
	CHECK_INT_EQ(back.len, 1);
	CHECK_STR_EQ(back.v[0].url, GW);
	CHECK_INT_EQ(kbuf_read_file(&t, p.ptr, 1 << 20), 0);
	CHECK_CONTAINS(t.ptr, "sha256: \"" D1 "\"\n");
	/* nothing else beside it: the temporary file was renamed */
	unlink(p.ptr);
	CHECK_INT_EQ(rmdir(dir), 0);
	/* a directory that does not exist cannot take a lock */
	CHECK_INT_EQ(fetch_lock_write(&l, "/nonexistent-dir/kstage.lock", &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "cannot write /nonexistent-dir/kstage.lock");
	kerr_clear(&e);
	kbuf_release(&p);
	kbuf_release(&t);
	karena_release(&a);
}

TEST(fetch_mirror_rules_flags_then_config)
{
	char dir[] = "/tmp/kstage-mirror-XXXXXX";
	const char *rules[] = { "https://github.com/org/=https://a.internal/gh/", "https://github.com/=https://b.internal/" };
	fetch_opts o;
	kbuf out = KBUF_INIT, cfg = KBUF_INIT;
	kerr e = KERR_INIT;
	CHECK(mkdtemp(dir) != NULL);
	kbuf_printf(&cfg, "%s/config.yaml", dir);
	write_text(cfg.ptr, "mirrors:\n  - {from: https://example.com/, to: https://c.internal/ex/}\n"
			    "  - {from: https://plain.com/, to: http://d.internal/}\n");
	memset(&o, 0, sizeof(o));
	o.config_file = cfg.ptr;
	o.mirrors = rules;
	o.nmirrors = 2;
	/* first matching flag wins */
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://github.com/org/x.yaml", &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "https://a.internal/gh/x.yaml");
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://github.com/other/x.yaml", &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "https://b.internal/other/x.yaml");
	/* then the config file */
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://example.com/f", &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "https://c.internal/ex/f");
	/* no rule: unchanged */
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://else.org/f", &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "https://else.org/f");
	/* plain http only with consent */
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://plain.com/f", &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "only https:// (http:// with --allow-insecure-http)");
	o.allow_http = true;
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://plain.com/f", &o, &e), 0);
	CHECK_STR_EQ(out.ptr, "http://d.internal/f");
	/* a bad rule in the config names the file and line */
	write_text(cfg.ptr, "mirrors:\n  - {from: https://x/}\n");
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://x/y", &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "a mirror rule needs from and to");
	CHECK_INT_EQ(e.first.line, 2);
	/* a config file named outright must exist */
	unlink(cfg.ptr);
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://x/y", &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "cannot be read");
	o.config_file = "/dev/null";
	rules[0] = "no-equals-sign";
	CHECK_INT_EQ(fetch_mirror_url(&out, "https://x/y", &o, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "mirror rule \"no-equals-sign\" (--mirror): want FROM=TO");
	CHECK_INT_EQ(rmdir(dir), 0);
	kbuf_release(&out);
	kbuf_release(&cfg);
	kerr_clear(&e);
}

/* A bundle on disk with kstage.yaml and (optionally) kstage.lock. */
static void bundle_dir(char *dir, const char *yaml, const char *lock)
{
	kbuf p = KBUF_INIT;
	CHECK(mkdtemp(dir) != NULL);
	kbuf_printf(&p, "%s/kstage.yaml", dir);
	write_text(p.ptr, yaml);
	kbuf_reset(&p);
	kbuf_printf(&p, "%s/kstage.lock", dir);
	if (lock)
		write_text(p.ptr, lock);
	kbuf_release(&p);
}

static void bundle_rm(const char *dir)
{
	kbuf p = KBUF_INIT;
	kbuf_printf(&p, "rm -rf %s", dir);
	CHECK_INT_EQ(system(p.ptr), 0);
	kbuf_release(&p);
}

TEST(fetch_lock_pins_bundle_sources)
{
	static const char unpinned[] = "name: b\nstages:\n  - name: crds\n    source: {url: " GW "}\n";
	static const char pinned2[] = "name: b\nstages:\n  - name: crds\n    source: {url: " GW ", sha256: " D2 "}\n";
	char d1[] = "/tmp/kstage-pin-XXXXXX", d2[] = "/tmp/kstage-pin-XXXXXX", d3[] = "/tmp/kstage-pin-XXXXXX";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	kbuf m = KBUF_INIT;
	/* no lock, no sha256: refused with the stage's position */
	bundle_dir(d1, unpinned, NULL);
	CHECK_INT_EQ(rel_bundle_load(&b, &a, d1, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "kstage.yaml:4:13: stage crds: source " GW " is not pinned");
	CHECK_CONTAINS(m.ptr, "run kstage fetch --update-lock");
	kerr_clear(&e);
	/* unpinned loading (for --update-lock) takes it as it is */
	CHECK_INT_EQ(rel_bundle_load_opts(&b, &a, d1, false, &e), 0);
	CHECK(b.stages[0].sha256 == NULL);
	/* the lock pins it, and says where */
	bundle_dir(d2, unpinned, good_lock);
	CHECK_INT_EQ(rel_bundle_load(&b, &a, d2, &e), 0);
	CHECK_STR_EQ(b.stages[0].sha256, D1);
	CHECK_CONTAINS(b.stages[0].pin_at, "kstage.lock:6");
	/* kstage.yaml and the lock disagree: both digests and the lock line */
	bundle_dir(d3, pinned2, good_lock);
	kbuf_reset(&m);
	CHECK_INT_EQ(rel_bundle_load(&b, &a, d3, &e), KE_INPUT);
	kerr_format(&e, &m);
	CHECK_CONTAINS(m.ptr, "kstage.lock:6:13: stage crds: source " GW ": kstage.yaml pins sha256 " D2);
	CHECK_CONTAINS(m.ptr, "kstage.lock:6 has " D1);
	kerr_clear(&e);
	bundle_rm(d1);
	bundle_rm(d2);
	bundle_rm(d3);
	kbuf_release(&m);
	karena_release(&a);
}

/* kstage fetch offline with an empty cache names every missing source
 * and its cache path, and touches no network (the host does not exist). */
TEST(fetch_offline_names_what_is_missing)
{
	char d[] = "/tmp/kstage-off-XXXXXX", cache[] = "/tmp/kstage-offc-XXXXXX";
	static const char yaml[] = "name: b\nstages:\n  - name: crds\n    source: {url: https://nohost.invalid/x.yaml, sha256: " D1 "}\n";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	fetch_opts o;
	rel_fetch_report rep;
	bundle_dir(d, yaml, NULL);
	CHECK(mkdtemp(cache) != NULL);
	memset(&o, 0, sizeof(o));
	o.offline = true;
	o.cache_dir = cache;
	o.config_file = "/dev/null";
	CHECK_INT_EQ(rel_bundle_load(&b, &a, d, &e), 0);
	CHECK_INT_EQ(rel_fetch(&b, &o, false, &rep, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "stage crds: sha256 from ");
	CHECK_CONTAINS(e.first.msg, "https://nohost.invalid/x.yaml: not in the cache (");
	CHECK_CONTAINS(e.first.msg, "/sha256/" D1 ") and --offline was given");
	kerr_clear(&e);
	bundle_rm(d);
	bundle_rm(cache);
	karena_release(&a);
}

/* "kind: msg" a line, of the fetch.verified and fetch.skipped events. */
static void collect_fetch_events(void *u, const kevent *ev)
{
	if (!strcmp(ev->kind, "fetch.verified") || !strcmp(ev->kind, "fetch.skipped"))
		kbuf_printf(u, "%s: %s\n", ev->kind, ev->msg);
}

/* A run fetches the sources of the stages its values enable, and those
 * whose enabled condition reads the cluster or fails, among the stages
 * --stage selects; `kstage fetch` (rel_fetch) fetches every one. Counted
 * at a real server. */
TEST(fetch_run_fetches_only_the_enabled_stages_sources)
{
	static const char *const docs[] = { "kind: A\n", "kind: B\n", "kind: C\n", "kind: D\n", "kind: E\n" };
	static const char *const enabled[] = {
		"{{ .Values.want }}",                                            /* a: on */
		"{{ .Values.other }}",                                          /* b: off */
		"{{ and .Values.other (lookup \"v1\" \"ConfigMap\" \"x\" \"y\") }}", /* c: off, the cluster not read */
		"{{ if lookup \"v1\" \"ConfigMap\" \"x\" \"y\" }}true{{ else }}false{{ end }}", /* d: reads it */
		"{{ required \"want .Values.missing\" .Values.missing }}",       /* e: fails */
	};
	/* a run: a, d, e; kstage fetch into an empty cache: all five; a run with --stage sd: d */
	static const int st[] = { 200, 200, 200, 200, 200, 200, 200, 200, 200 };
	static const char *const only[] = { "sd" };
	static const char vals[] = "want: true\nother: false\n";
	const char *body[9];
	char d[] = "/tmp/kstage-run-XXXXXX", c1[] = "/tmp/kstage-runc-XXXXXX", c2[] = "/tmp/kstage-runc-XXXXXX";
	char c3[] = "/tmp/kstage-runc-XXXXXX";
	char hex[65], rule[64];
	const char *mirrors[] = { rule };
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	kbuf y = KBUF_INIT, ev = KBUF_INIT;
	rel_bundle b;
	rel_ctx ctx;
	rel_fetch_report rep;
	fetch_opts o;
	doc_stream vs;
	kev_sink sink;
	srv s;
	size_t i;
	body[0] = docs[0], body[1] = docs[3], body[2] = docs[4];
	for (i = 0; i < 5; i++)
		body[3 + i] = docs[i];
	body[8] = docs[3];
	srv_start(&s, st, body, 9);
	kbuf_puts(&y, "name: b\nstages:\n");
	for (i = 0; i < 5; i++) {
		char p[16];
		snprintf(p, sizeof(p), "/s%c.yaml", (int)('a' + i));
		fetch_sha256_hex(docs[i], strlen(docs[i]), hex);
		kbuf_printf(&y, "  - name: s%c\n    source: {url: 'https://example.invalid%s', sha256: %s}\n"
			    "    enabled: '%s'\n", (int)('a' + i), p, hex, enabled[i]);
	}
	bundle_dir(d, y.ptr, NULL);
	CHECK(mkdtemp(c1) != NULL);
	CHECK(mkdtemp(c2) != NULL);
	CHECK(mkdtemp(c3) != NULL);
	CHECK_INT_EQ(rel_bundle_load(&b, &a, d, &e), 0);
	memset(&o, 0, sizeof(o));
	memset(&sink, 0, sizeof(sink));
	sink.emit = collect_fetch_events;
	sink.ctx = &ev;
	snprintf(rule, sizeof(rule), "https://example.invalid/=%s", url_of(&s, "/"));
	o.mirrors = mirrors;
	o.nmirrors = 1;
	o.allow_http = true;
	o.cache_dir = c1;
	o.config_file = "/dev/null";
	o.sink = &sink;
	CHECK_INT_EQ(doc_load_yaml(&vs, &a, "values", vals, strlen(vals), NULL, &e), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.values = vs.docs[0];
	ctx.fetch = &o;
	CHECK_INT_EQ(rel_fetch_run(&b, &ctx, &e), 0);
	CHECK_INT_EQ(s.served, 3);
	for (i = 0; i < 5; i++) {
		char want[128];
		snprintf(want, sizeof(want), "fetch.%s: stage s%c: https://example.invalid/s%c.yaml",
			 i == 1 || i == 2 ? "skipped" : "verified", (int)('a' + i), (int)('a' + i));
		CHECK_CONTAINS(ev.ptr, want);
	}
	CHECK_CONTAINS(ev.ptr, "not fetched: the values disable the stage");
	/* again: all three from the cache, nothing asked */
	CHECK_INT_EQ(rel_fetch_run(&b, &ctx, &e), 0);
	CHECK_INT_EQ(s.served, 3);
	/* kstage fetch: every source, whatever the values */
	o.cache_dir = c2;
	memset(&rep, 0, sizeof(rep));
	CHECK_INT_EQ(rel_fetch(&b, &o, false, &rep, &e), 0);
	CHECK_INT_EQ(rep.sources, 5);
	CHECK_INT_EQ(s.served, 8);
	/* --stage sd: the other stages' sources are left out, whatever their values */
	o.cache_dir = c3;
	ctx.only = only;
	ctx.nonly = 1;
	kbuf_reset(&ev);
	CHECK_INT_EQ(rel_fetch_run(&b, &ctx, &e), 0);
	srv_stop(&s);
	CHECK_INT_EQ(s.served, 9);
	CHECK_CONTAINS(ev.ptr, "fetch.verified: stage sd: https://example.invalid/sd.yaml");
	CHECK_CONTAINS(ev.ptr, "fetch.skipped: stage sa: https://example.invalid/sa.yaml not fetched: "
		       "the run's --stage filter leaves the stage out");
	CHECK_CONTAINS(ev.ptr, "fetch.skipped: stage se: https://example.invalid/se.yaml not fetched: "
		       "the run's --stage filter leaves the stage out");
	kerr_clear(&e);
	kbuf_release(&rep.digests);
	kbuf_release(&y);
	kbuf_release(&ev);
	bundle_rm(d);
	bundle_rm(c1);
	bundle_rm(c2);
	bundle_rm(c3);
	karena_release(&a);
}
