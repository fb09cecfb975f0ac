/*
 * tests/unit/record_fixture.h - a release record of n ConfigMaps for tests
 * (unit tests and tests/e2e/tools/store_tool.c): two in three with a prior
 * state holding 640 incompressible hex characters, so that 5,000 of them
 * take several Secrets.
 */
#ifndef KSTAGE_RECORD_FIXTURE_H
#define KSTAGE_RECORD_FIXTURE_H

#include <stdio.h>

#include "release/record.h"

static inline rel_record *record_fixture_big(karena *a, const char *name, int rev, size_t n)
{
	rel_record *r = rel_record_new(a, name, rev);
	rel_rec_stage *s = rel_record_add_stage(a, r, "configmaps");
	unsigned x = 12345u + (unsigned)rev;
	size_t i, j;
	s->result = REL_SR_SUCCEEDED;
	s->started_ms = r->created_ms;
	s->finished_ms = r->created_ms + 1500;
	s->manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-00000, namespace: bench}\n";
	r->description = karena_printf(a, "a test record of %zu objects", n);
	for (i = 0; i < n; i++) {
		char nm[32], data[641];
		doc_node *cm = doc_new_map(a), *md = doc_new_map(a), *d = doc_new_map(a);
		for (j = 0; j < 640; j++) {
			x = x * 1103515245u + 12345u;
			data[j] = "0123456789abcdef"[(x >> 16) & 15];
		}
		data[640] = 0;
		snprintf(nm, sizeof(nm), "cm-%05zu", i);
		doc_map_set(a, md, "name", doc_new_str(a, nm));
		doc_map_set(a, md, "namespace", doc_new_str(a, "bench"));
		doc_map_set(a, cm, "apiVersion", doc_new_str(a, "v1"));
		doc_map_set(a, cm, "kind", doc_new_str(a, "ConfigMap"));
		doc_map_set(a, cm, "metadata", md);
		doc_map_set(a, d, "blob", doc_new_str(a, data));
		doc_map_set(a, cm, "data", d);
		rel_record_add_object(a, s, "v1", "ConfigMap", "bench", nm, i % 3 ? cm : NULL);
	}
	return r;
}

#endif
