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
#include "record_fixture.h"

static int fail(kerr *e)
{
	kbuf b = KBUF_INIT;
	kerr_format(e, &b);
	fprintf(stderr, "store_tool: %s\n", b.ptr);
	kbuf_release(&b);
	return e->code == KE_INPUT || e->code == KE_USAGE ? 2 : e->code == KE_CONFLICT ? 3 : 1;
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
		rel_record *r = record_fixture_big(&a, argv[4], atoi(argv[5]), (size_t)atol(argv[6]));
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
