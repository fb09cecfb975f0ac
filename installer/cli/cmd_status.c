#include "cli.h"
#include "cmds.h"
#include "store_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_flag flags[] = {
	CLI_STORE_FLAGS,
	{ "revision", 0, FLAG_STR, "N", "show this revision (default: the latest)" },
	{ NULL, 0, 0, NULL, NULL },
};

static void set_s(karena *a, doc_node *m, const char *k, const char *v)
{
	if (v)
		doc_map_set(a, m, k, doc_new_str(a, v));
}

static void set_t(karena *a, doc_node *m, const char *k, int64_t ms)
{
	kbuf b = KBUF_INIT;
	if (!ms)
		return;
	rel_time_format(&b, ms);
	doc_map_set(a, m, k, doc_new_str(a, b.ptr));
	kbuf_release(&b);
}

/* What status shows: the record without prior contents and manifests
 * (they are for rollback; Secret data lives in them). */
static doc_node *status_doc(karena *a, const rel_record *r, const char *ns)
{
	doc_node *d = doc_new_map(a), *stages = doc_new_seq(a);
	size_t i, j;
	set_s(a, d, "release", r->name);
	set_s(a, d, "namespace", ns);
	doc_map_set(a, d, "revision", doc_new_int(a, r->revision));
	set_s(a, d, "status", rel_status_name(r->status));
	set_t(a, d, "created", r->created_ms);
	set_t(a, d, "updated", r->updated_ms);
	set_s(a, d, "description", r->description);
	if (r->bundle_name || r->bundle_digest) {
		doc_node *b = doc_new_map(a);
		set_s(a, b, "name", r->bundle_name);
		set_s(a, b, "version", r->bundle_version);
		set_s(a, b, "digest", r->bundle_digest);
		set_s(a, b, "lockDigest", r->lock_digest);
		doc_map_set(a, d, "bundle", b);
	}
	set_s(a, d, "holder", r->holder);
	set_s(a, d, "takeover", r->takeover);
	if (r->values)
		doc_map_set(a, d, "values", r->values);
	for (i = 0; i < r->nstages; i++) {
		const rel_rec_stage *s = &r->stages[i];
		doc_node *sd = doc_new_map(a), *objs = doc_new_seq(a);
		set_s(a, sd, "name", s->name);
		set_s(a, sd, "result", rel_stage_result_name(s->result));
		set_t(a, sd, "started", s->started_ms);
		set_t(a, sd, "finished", s->finished_ms);
		if (s->started_ms && s->finished_ms >= s->started_ms)
			doc_map_set(a, sd, "durationMs", doc_new_int(a, s->finished_ms - s->started_ms));
		set_s(a, sd, "error", s->error);
		for (j = 0; j < s->nobjects; j++) {
			const rel_rec_object *o = &s->objects[j];
			doc_node *od = doc_new_map(a);
			set_s(a, od, "object", rel_rec_object_ref(a, o));
			set_s(a, od, "apiVersion", o->api_version);
			set_s(a, od, "prior", o->existed ? "present" : "absent");
			if (o->keep)
				set_s(a, od, "policy", "keep");
			if (o->key) {
				set_s(a, od, "key", o->key);
				set_s(a, od, "keyPrior", o->key_prior ? "present" : "absent");
			}
			doc_seq_push(a, objs, od);
		}
		doc_map_set(a, sd, "objects", objs);
		doc_seq_push(a, stages, sd);
	}
	doc_map_set(a, d, "stages", stages);
	return d;
}

static void print_text(karena *a, const rel_record *r, const char *ns)
{
	kbuf t = KBUF_INIT;
	size_t i, j;
	printf("release: %s (namespace %s)\n", r->name, ns);
	rel_time_format(&t, r->updated_ms);
	printf("revision: %d\nstatus: %s\nupdated: %s\n", r->revision, rel_status_name(r->status),
	       r->updated_ms ? t.ptr : "-");
	if (r->description)
		printf("description: %s\n", r->description);
	if (r->bundle_name || r->bundle_digest)
		printf("bundle: %s%s%s%s%s\n", r->bundle_name ? r->bundle_name : "", r->bundle_version ? " " : "",
		       r->bundle_version ? r->bundle_version : "", r->bundle_digest ? " " : "",
		       r->bundle_digest ? r->bundle_digest : "");
	if (r->holder)
		printf("run by: %s\n", r->holder);
	if (r->takeover)
		printf("lock taken over from: %s\n", r->takeover);
	printf("stages:\n");
	for (i = 0; i < r->nstages; i++) {
		const rel_rec_stage *s = &r->stages[i];
		char dur[32] = "";
		if (s->started_ms && s->finished_ms >= s->started_ms)
			snprintf(dur, sizeof(dur), "  %.1fs", (double)(s->finished_ms - s->started_ms) / 1000.0);
		printf("  %-24s %-12s%s  %zu object%s\n", s->name, rel_stage_result_name(s->result), dur, s->nobjects,
		       s->nobjects == 1 ? "" : "s");
		if (s->error)
			printf("    error: %s\n", s->error);
		for (j = 0; j < s->nobjects; j++) {
			const rel_rec_object *o = &s->objects[j];
			printf("    %s: %s before%s", rel_rec_object_ref(a, o), o->existed ? "existed" : "absent",
			       o->keep ? ", kept on rollback" : "");
			if (o->key)
				printf(", key \"%s\" merged (%s before)", o->key, o->key_prior ? "present" : "absent");
			putchar('\n');
		}
	}
	kbuf_release(&t);
}

static int run(cli_ctx *ctx, cli_args *args)
{
	cli_store s;
	kerr err = KERR_INIT;
	const char *rs = cli_flag_str(args, "revision", NULL);
	rel_record *r = NULL;
	long rev = 0;
	int rc;
	if (rs) {
		char *end;
		rev = strtol(rs, &end, 10);
		if (*end || rev < 1 || rev > 1000000000) {
			cli_errorf(ctx, "--revision \"%s\" is not a revision number", rs);
			return EXIT_USAGE;
		}
	}
	rc = cli_store_open(&s, ctx, args, "status", &err);
	if (!rc && !rev) {
		rel_rec_summary last;
		if (!(rc = rel_store_latest(s.store, &s.a, s.release, &last, &err)))
			rev = last.revision;
	}
	if (!rc)
		rc = rel_store_get(s.store, &s.a, s.release, (int)rev, &r, &err);
	if (!rc && ctx->json) {
		kbuf b = KBUF_INIT;
		if (!(rc = doc_emit_json(&b, status_doc(&s.a, r, s.store->namespace), 0, &err))) {
			kbuf_putc(&b, '\n');
			fwrite(b.ptr, 1, b.len, stdout);
		}
		kbuf_release(&b);
	} else if (!rc) {
		print_text(&s.a, r, s.store->namespace);
	}
	fflush(stdout);
	if (rc)
		cli_print_error(ctx, &err);
	cli_store_close(&s);
	kerr_clear(&err);
	return rc == KE_NOTFOUND ? EXIT_USAGE : cli_exit_code(rc);
}

const cli_cmd cli_cmd_status = {
	"status", run, "show the state of a release",
	"[RELEASE] [--revision N] [--release-namespace NS]", flags,
	"Shows the latest revision of the release (or --revision N) from its record in the\n"
	"cluster: status, per stage its result, timing and error, and per object whether it\n"
	"existed before (what a rollback puts back) or was absent (what a rollback deletes).\n"
	"Without RELEASE, the release of the bundle in the current directory. With -o json, one\n"
	"JSON object. A damaged record is refused whole. Exit codes: 0 ok, 2 usage error, no\n"
	"such release or a damaged record, 4 cluster unreachable or not authorised.\n",
};
