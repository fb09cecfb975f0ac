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

/* A journal's entries (objs, as rel_record_to_doc writes them) without
 * their prior contents: "present" or "absent" in their place. */
static void journal_doc(karena *a, const rel_rec_stage *s, doc_node *objs)
{
	size_t j;
	for (j = 0; j < s->nobjects; j++) {
		const rel_rec_object *o = &s->objects[j];
		doc_node *od = doc_seq_get(objs, j);
		doc_map_set(a, od, "object", doc_new_str(a, rel_rec_object_ref(a, o)));
		doc_map_set(a, od, "prior", doc_new_str(a, o->existed ? "present" : "absent"));
		if (o->key)
			doc_map_set(a, od, "keyPrior", doc_new_str(a, o->key_prior ? "present" : "absent"));
	}
}

/* What status shows: the record without prior contents and manifests
 * (they are for rollback; Secret data lives in them), in the stages'
 * journals and in the origin of pruned revisions alike. */
static doc_node *status_doc(karena *a, const rel_record *r, const char *ns)
{
	doc_node *d = rel_record_to_doc(a, r), *out = doc_new_map(a), *stages;
	size_t i;
	doc_map_set(a, out, "release", doc_new_str(a, r->name));
	doc_map_set(a, out, "namespace", doc_new_str(a, ns));
	for (i = 0; i < d->u.map.len; i++)
		if (!doc_key_is(d->u.map.v[i].key, "name"))
			doc_map_setn(a, out, d->u.map.v[i].key->u.s.ptr, d->u.map.v[i].key->u.s.len, d->u.map.v[i].val);
	stages = doc_map_get(out, "stages");
	for (i = 0; i < r->nstages; i++) {
		const rel_rec_stage *s = &r->stages[i];
		doc_node *sd = doc_seq_get(stages, i);
		doc_map_del(sd, "manifest");
		if (s->started_ms && s->finished_ms >= s->started_ms)
			doc_map_set(a, sd, "durationMs", doc_new_int(a, s->finished_ms - s->started_ms));
		journal_doc(a, s, doc_map_get(sd, "objects"));
	}
	if (r->origin)
		journal_doc(a, r->origin, doc_map_get(out, "origin"));
	return out;
}

/* A journal's entries, one line each. */
static void print_journal(karena *a, const rel_rec_stage *s)
{
	size_t j;
	for (j = 0; j < s->nobjects; j++) {
		const rel_rec_object *o = &s->objects[j];
		printf("    %s: %s before%s", rel_rec_object_ref(a, o), o->existed ? "existed" : "absent",
		       o->keep ? ", kept on rollback" : "");
		if (o->key)
			printf(", key \"%s\" merged (%s before)", o->key, o->key_prior ? "present" : "absent");
		putchar('\n');
	}
}

static void print_text(karena *a, const rel_record *r, const char *ns)
{
	kbuf t = KBUF_INIT;
	size_t i;
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
		print_journal(a, s);
	}
	if (r->origin && r->origin->nobjects) {
		printf("origin (what pruned revisions changed; uninstall puts it back): %zu object%s\n",
		       r->origin->nobjects, r->origin->nobjects == 1 ? "" : "s");
		print_journal(a, r->origin);
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
	return cli_store_finish(&s, ctx, &err, rc);
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
