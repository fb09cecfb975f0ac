/* tests/e2e/tools/store_tool.c - a test entry point into release/store.c and
 * release/lock.c for the e2e scenarios (tests/e2e/test_store.py): the
 * executor does not write records yet, so this writes and reads them.
 *
 *   store_tool write KUBECONFIG NS NAME REV NOBJECTS STATUS   -> {"sha256":..}
 *   store_tool read  KUBECONFIG NS NAME REV                   -> {"sha256":..,"objects":N,"status":..}
 *   store_tool prune KUBECONFIG NS NAME MAX                   -> {"removed":N}
 *   store_tool lock  KUBECONFIG NS NAME DURATION_S HOLD_S     -> {"held":..} then unlocks
 *
 * The sha256 is of the record's JSON, so write and read can be compared.
 * Errors go to stderr: exit 2 (input, refused record), 3 (lock held), 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "release/lock.h"
#include "release/record.h"
#include "release/store.h"

static int fail(kerr *e)
{
	kbuf b = KBUF_INIT;
	kerr_format(e, &b);
	fprintf(stderr, "store_tool: %s\n", b.ptr);
	kbuf_release(&b);
	return e->code == KE_INPUT || e->code == KE_USAGE ? 2 : e->code == KE_CONFLICT ? 3 : 1;
}

/* n ConfigMaps, two in three with prior state holding 640 incompressible
 * hex characters (so 5,000 of them take several parts) */
static rel_record *big(karena *a, const char *name, int rev, size_t n)
{
	rel_record *r = rel_record_new(a, name, rev);
	rel_rec_stage *s = rel_record_add_stage(a, r, "configmaps");
	unsigned x = 12345u + (unsigned)rev;
	size_t i, j;
	s->result = REL_SR_SUCCEEDED;
	s->started_ms = r->created_ms;
	s->finished_ms = r->created_ms + 1500;
	s->manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-00000, namespace: bench}\n";
	r->description = karena_printf(a, "written by store_tool with %zu objects", n);
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

static void print_sha(const rel_record *r, const char *extra)
{
	kbuf js = KBUF_INIT;
	kerr e = KERR_INIT;
	char sha[65];
	rel_record_to_json(&js, r, &e);
	rel_sha256_hex(sha, js.ptr, js.len);
	printf("{\"sha256\":\"%s\"%s}\n", sha, extra);
	kbuf_release(&js);
	kerr_clear(&e);
}

int main(int argc, char **argv)
{
	kube_config cfg;
	kube_config_opts ko;
	kube_client *c = NULL;
	rel_store *st = NULL;
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	int rc = 0;
	if (argc < 5) {
		fprintf(stderr, "usage: store_tool write|read|prune|lock KUBECONFIG NS NAME ...\n");
		return 2;
	}
	memset(&ko, 0, sizeof(ko));
	ko.kubeconfig = argv[2];
	if (kube_config_load(&cfg, &ko, &e) || kube_client_new(&c, &cfg, NULL, &e))
		return fail(&e);
	st = rel_store_secrets(c, argv[3]);
	if (!strcmp(argv[1], "write") && argc == 8) {
		rel_record *r = big(&a, argv[4], atoi(argv[5]), (size_t)atol(argv[6]));
		int s = rel_status_parse(argv[7]);
		r->status = s < 0 ? REL_ST_PENDING : (rel_status)s;
		if (!(rc = rel_store_create(st, r, &e)))
			print_sha(r, "");
	} else if (!strcmp(argv[1], "read") && argc == 6) {
		rel_record *r = NULL;
		if (!(rc = rel_store_get(st, &a, argv[4], atoi(argv[5]), &r, &e))) {
			char extra[128];
			snprintf(extra, sizeof(extra), ",\"objects\":%zu,\"status\":\"%s\"",
				 r->nstages ? r->stages[0].nobjects : 0, rel_status_name(r->status));
			print_sha(r, extra);
		}
	} else if (!strcmp(argv[1], "prune") && argc == 6) {
		size_t removed = 0;
		if (!(rc = rel_store_prune(st, argv[4], (size_t)atol(argv[5]), &removed, &e)))
			printf("{\"removed\":%zu}\n", removed);
	} else if (!strcmp(argv[1], "lock") && argc == 7) {
		rel_lock l;
		rel_lock_opts o = { 0 };
		o.namespace = argv[3];
		o.release = argv[4];
		o.duration_s = atol(argv[5]);
		if (!(rc = rel_lock_acquire(&l, c, &o, &e))) {
			kbuf b = KBUF_INIT;
			kbuf_printf(&b, "{\"held\":true,\"identity\":");
			doc_json_quote(&b, l.identity, strlen(l.identity), 0);
			kbuf_printf(&b, ",\"took_over\":%s,\"prev_holder\":", l.took_over ? "true" : "false");
			doc_json_quote(&b, l.prev_holder ? l.prev_holder : "", l.prev_holder ? strlen(l.prev_holder) : 0, 0);
			kbuf_printf(&b, ",\"transitions\":%ld}\n", l.transitions);
			fputs(b.ptr, stdout);
			fflush(stdout);
			kbuf_release(&b);
			sleep((unsigned)atoi(argv[6]));
			rc = rel_lock_unlock(&l, &e);
			if (!rc)
				printf("{\"unlocked\":true}\n");
		}
		rel_lock_release(&l);
	} else {
		fprintf(stderr, "store_tool: bad arguments\n");
		rc = KE_USAGE;
		kerr_set(&e, KE_USAGE, "bad arguments");
	}
	if (rc)
		rc = fail(&e);
	fflush(stdout);
	rel_store_free(st);
	kube_client_free(c);
	kube_config_release(&cfg);
	kerr_clear(&e);
	karena_release(&a);
	return rc;
}
