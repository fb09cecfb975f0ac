/* tmpl/chart.c: loading the real KServe charts as packaged, and the YAML
 * files inside them round-tripping through doc/ (issue 2's fixture check
 * extends to the charts). */
#include "unit.h"
#include "tmpl/chart.h"

#include <stdio.h>
#include <stdlib.h>

static void roundtrip_chart_yaml(const tmpl_chart *c, size_t *n)
{
	size_t i;
	for (i = 0; i < c->nfiles; i++) {
		const tmpl_file *f = &c->files[i];
		size_t len = strlen(f->name);
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_stream s;
		doc_load_opts o = { 0 };
		size_t k;
		if (f->kind == TMPL_FILE_TEMPLATE || len < 5 || strcmp(f->name + len - 5, ".yaml"))
			continue;
		o.dup = DOC_DUP_LAST;
		if (doc_load_yaml(&s, &a, f->name, f->data, f->len, &o, &e)) {
			unit_fail(__FILE__, __LINE__, "%s/%s does not load: %s", c->name, f->name, e.first.msg);
		} else {
			for (k = 0; k < s.len; k++) {
				kbuf y = KBUF_INIT;
				doc_node *back;
				CHECK_INT_EQ(doc_emit_yaml(&y, s.docs[k], 0, &e), 0);
				if (doc_load_yaml1(&back, &a, "again.yaml", y.ptr, y.len, NULL, &e) ||
				    !doc_equal(back, s.docs[k]))
					unit_fail(__FILE__, __LINE__, "%s/%s: document %zu differs after a round trip",
						  c->name, f->name, k);
				kbuf_release(&y);
			}
			(*n)++;
		}
		kerr_clear(&e);
		karena_release(&a);
	}
	for (i = 0; i < c->nsubcharts; i++)
		roundtrip_chart_yaml(c->subcharts[i], n);
}

TEST(tmpl_chart_load_kserve_crd_chart)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	tmpl_chart *c = NULL;
	size_t n = 0, i, crds = 0;
	int r = tmpl_chart_load(&c, &a, unit_fixture("kserve/v0.15.2/kserve-crd-v0.15.2.tgz"), VALUES_NUM_HELM, &e);
	CHECK_MSG(r == 0, "load failed: %s", e.first.msg ? e.first.msg : "");
	if (!r) {
		CHECK_STR_EQ(c->name, "kserve-crd");
		CHECK_STR_EQ(c->api_version, "v1");
		for (i = 0; i < c->nfiles; i++)
			if (!strncmp(c->files[i].name, "templates/", 10) || !strncmp(c->files[i].name, "crds/", 5))
				crds++;
		CHECK(crds > 0);
		CHECK(tmpl_chart_file(c, "Chart.yaml") != NULL);
		CHECK(tmpl_chart_file(c, "Chart.yaml")->kind == TMPL_FILE_META);
		CHECK(tmpl_chart_file(c, "no-such-file") == NULL);
		roundtrip_chart_yaml(c, &n);
		CHECK(n >= 1);
	}
	kerr_clear(&e);
	karena_release(&a);
}

TEST(tmpl_chart_load_kserve_chart)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	tmpl_chart *c = NULL;
	size_t n = 0, i, templates = 0;
	int r = tmpl_chart_load(&c, &a, unit_fixture("kserve/v0.15.2/kserve-v0.15.2.tgz"), VALUES_NUM_HELM, &e);
	CHECK_MSG(r == 0, "load failed: %s", e.first.msg ? e.first.msg : "");
	if (!r) {
		CHECK_STR_EQ(c->name, "kserve");
		for (i = 0; i < c->nfiles; i++)
			if (c->files[i].kind == TMPL_FILE_TEMPLATE)
				templates++;
		CHECK(templates > 10);
		CHECK(c->vc.defaults && c->vc.defaults->type == DOC_MAP);
		CHECK(doc_get_path(c->vc.defaults, "kserve") != NULL);
		roundtrip_chart_yaml(c, &n);
		CHECK(n >= 1);
	}
	kerr_clear(&e);
	karena_release(&a);
}

TEST(tmpl_chart_load_errors)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	tmpl_chart *c;
	CHECK_INT_EQ(tmpl_chart_load(&c, &a, "/nonexistent/chart", VALUES_NUM_HELM, &e), KE_IO);
	CHECK_CONTAINS(e.first.msg, "cannot open chart");
	kerr_clear(&e);
	CHECK_INT_EQ(tmpl_chart_load_tgz(&c, &a, "junk.tgz", "not a tarball", 13, VALUES_NUM_HELM, &e), KE_INPUT);
	kerr_clear(&e);
	/* a directory without Chart.yaml */
	CHECK_INT_EQ(tmpl_chart_load(&c, &a, unit_testdata("doc/toyaml"), VALUES_NUM_HELM, &e), KE_INPUT);
	CHECK_CONTAINS(e.first.msg, "Chart.yaml file is missing");
	kerr_clear(&e);
	karena_release(&a);
}

/* Chart .tgz files go through core/archive.c's checks as sources and
 * bundle imports do: each hostile archive of tests/tools/hostile_archives.py
 * whose entries alone are bad is refused by the chart loader too (the chain
 * and write-through cases need a disk; the loader writes nothing), and a zip
 * is no chart. */
TEST(tmpl_chart_tgz_hostile_archives_refused)
{
	static const struct {
		const char *file, *want;
		int code;
	} hostile[] = {
		{ "01-traversal.tar", "entry \"../outside/evil.yaml\" climbs out with \"..\"", KE_INPUT },
		{ "02-traversal-nested.tgz", "climbs out with \"..\"", KE_INPUT },
		{ "03-absolute.tar", "has an absolute path", KE_INPUT },
		{ "04-symlink-escape.tar", "symlink \"link\" -> \"../outside\" leaves the archive", KE_INPUT },
		{ "05-symlink-absolute.tar", "leaves the archive", KE_INPUT },
		{ "06-hardlink-escape.tar", "hard link \"h.yaml\": ", KE_INPUT },
		{ "07-hardlink-absolute.tar", "has an absolute path", KE_INPUT },
		{ "08-char-device.tar", "entry \"null\" is a character device", KE_INPUT },
		{ "09-fifo.tar", "entry \"pipe\" is a FIFO", KE_INPUT },
		{ "10-gzip-bomb.tgz", "entry \"bomb.yaml\" is larger than the 5242880-byte limit", KE_LIMIT },
		{ "11-deep-nesting.tar", "is nested deeper than 32 directories", KE_LIMIT },
		{ "12-many-entries.tgz", "more than 10000 entries", KE_LIMIT },
		{ "13-not-an-archive.tgz", "not a tar or tar.gz archive", KE_INPUT },
		{ "16-zip-traversal.zip", "a zip archive, not a tar or tar.gz", KE_INPUT },
		{ "good.zip", "a zip archive, not a tar or tar.gz", KE_INPUT },
	};
	char dir[] = "/tmp/kstage-chart-tgz-XXXXXX";
	kbuf cmd = KBUF_INIT, p = KBUF_INIT, data = KBUF_INIT, m = KBUF_INIT;
	size_t i;
	CHECK(mkdtemp(dir) != NULL);
	kbuf_printf(&cmd, "python3 tests/tools/hostile_archives.py %s", dir);
	CHECK_INT_EQ(system(cmd.ptr), 0);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		tmpl_chart *c = NULL;
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/%s", dir, hostile[i].file);
		kbuf_reset(&data);
		CHECK_INT_EQ(kbuf_read_file(&data, p.ptr, 4 << 20), 0);
		CHECK_MSG(tmpl_chart_load_tgz(&c, &a, hostile[i].file, data.ptr, data.len, VALUES_NUM_HELM, &e) ==
			  hostile[i].code, "%s: code %d", hostile[i].file, e.code);
		kbuf_reset(&m);
		kerr_format(&e, &m);
		CHECK_MSG(strstr(m.ptr, hostile[i].want) != NULL, "%s: %s", hostile[i].file, m.ptr);
		kerr_clear(&e);
		karena_release(&a);
	}
	kbuf_reset(&cmd);
	kbuf_printf(&cmd, "rm -rf %s", dir);
	CHECK_INT_EQ(system(cmd.ptr), 0);
	kbuf_release(&cmd);
	kbuf_release(&p);
	kbuf_release(&data);
	kbuf_release(&m);
}
