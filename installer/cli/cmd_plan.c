#include "cli.h"
#include "cmds.h"
#include "release/release.h"
#include "render_args.h"
#include "store_open.h"
#include "summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_flag flags[] = {
	CLI_VALUES_FLAGS,
	{ "stage", 0, FLAG_LIST, "NAME", "plan only this stage" },
	{ "force-conflicts", 0, FLAG_BOOL, NULL, "plan as apply --force-conflicts would run" },
	{ "detailed-exitcode", 0, FLAG_BOOL, NULL, "exit 0: no changes, 1: error, 2: changes pending" },
	{ "summary", 0, FLAG_STR, "FILE", "write a Markdown summary of the plan (for CI job pages)" },
	{ "release", 0, FLAG_STR, "NAME", "release whose deployed revision deletions are planned from (default: the bundle's or chart's name)" },
	CLI_STORE_FLAGS,
	CLI_REUSE_FLAGS,
	{ NULL, 0, 0, NULL, NULL },
};

static const char *action_name(rel_action a)
{
	switch (a) {
	case REL_UNCHANGED: return "unchanged";
	case REL_CHANGED: return "changed";
	case REL_CREATED: return "created";
	case REL_DELETED: return "deleted";
	default: return "created-later";
	}
}

static void print_json(const rel_plan *p)
{
	size_t i;
	kbuf b = KBUF_INIT;
	for (i = 0; i < p->len; i++) {
		const rel_plan_entry *e = &p->v[i];
		kbuf_reset(&b);
		kbuf_puts(&b, "{\"event\":\"plan.object\",\"stage\":");
		doc_json_quote(&b, e->stage, strlen(e->stage), 0);
		kbuf_puts(&b, ",\"object\":");
		doc_json_quote(&b, e->ref, strlen(e->ref), 0);
		kbuf_printf(&b, ",\"action\":\"%s\"", action_name(e->action));
		if (e->after_stage) {
			kbuf_puts(&b, ",\"after_stage\":");
			doc_json_quote(&b, e->after_stage, strlen(e->after_stage), 0);
		}
		if (e->note) {
			kbuf_puts(&b, ",\"note\":");
			doc_json_quote(&b, e->note, strlen(e->note), 0);
		}
		if (e->diff) {
			kbuf_puts(&b, ",\"diff\":");
			doc_json_quote(&b, e->diff, strlen(e->diff), 0);
		}
		kbuf_puts(&b, "}\n");
		fwrite(b.ptr, 1, b.len, stdout);
	}
	printf("{\"event\":\"plan.summary\",\"created\":%zu,\"changed\":%zu,\"unchanged\":%zu,\"deleted\":%zu}\n",
	       p->created, p->changed, p->unchanged, p->deleted);
	kbuf_release(&b);
}

static void print_text(const cli_ctx *ctx, const rel_plan *p)
{
	size_t i;
	const char *last = NULL;
	const char *g = ctx->color ? "\033[32m" : "", *y = ctx->color ? "\033[33m" : "";
	const char *d = ctx->color ? "\033[2m" : "", *r = ctx->color ? "\033[0m" : "";
	const char *red = ctx->color ? "\033[31m" : "";
	for (i = 0; i < p->len; i++) {
		const rel_plan_entry *e = &p->v[i];
		if (!last || strcmp(last, e->stage)) {
			printf("%sstage %s%s\n", i ? "\n" : "", e->stage, "");
			last = e->stage;
		}
		switch (e->action) {
		case REL_UNCHANGED:
			if (ctx->verbose)
				printf("  %s= %s (unchanged)%s\n", d, e->ref, r);
			break;
		case REL_CHANGED:
			printf("  %s~ %s%s (changed)\n", y, e->ref, r);
			break;
		case REL_CREATED:
			printf("  %s+ %s%s (created)\n", g, e->ref, r);
			break;
		case REL_CREATED_LATER:
			printf("  %s+ %s%s (created after stage %s)\n", g, e->ref, r, e->after_stage);
			break;
		case REL_DELETED:
			printf("  %s- %s%s (deleted)\n", red, e->ref, r);
			break;
		}
		if (e->note && (e->action != REL_UNCHANGED || ctx->verbose))
			printf("    note: %s\n", e->note);
		if (e->diff && (e->action == REL_CHANGED || ctx->verbose)) {
			const char *s = e->diff;
			while (*s) {
				const char *nl = strchr(s, '\n');
				size_t n = nl ? (size_t)(nl - s) : strlen(s);
				printf("    %.*s\n", (int)n, s);
				s += n + (nl ? 1 : 0);
			}
		}
	}
	printf("%sPlan: %zu to create, %zu to change, %zu to delete, %zu unchanged.\n", p->len ? "\n" : "", p->created,
	       p->changed, p->deleted, p->unchanged);
}

/* The release's deployed revision, which deletions are planned from (and
 * which makes the run an upgrade for the templates). */
static int load_prior(const cli_args *args, rel_session *s, kerr *err)
{
	const char *rel = cli_flag_str(args, "release", NULL), *rns = cli_flag_str(args, "release-namespace", NULL);
	rel_store *store;
	rel_record *prior = NULL;
	kerr ne = KERR_INIT;
	int rc;
	if ((rel && rel_release_name_check(rel, err)) || (rns && rel_namespace_check(rns, err)))
		return KE_USAGE;
	if (!rel && rel_release_name_check(s->bundle.name, &ne)) {
		kerr_clear(&ne);   /* no release can have this name: nothing deployed */
		return 0;
	}
	if (rel)
		s->ctx.release_name = rel;   /* .Release.Name, as apply --release renders it */
	store = rel_store_secrets(s->client, rns);
	rc = rel_prior_load(store, &s->a, rel ? rel : s->bundle.name, &prior, err);
	rel_store_free(store);
	if (rc && err->status == 403) {
		/* a user who may not read the records can still plan (apply will need them) */
		kube_emit(s->client, KEV_WARN, "plan.records_unreadable",
			  karena_printf(&s->a, "release records cannot be read (%s): deletions are not planned",
					err->first.msg),
			  NULL);
		kerr_clear(err);
		rc = 0;
	}
	if (!rc) {
		/* a release Helm holds and kstage does not yet: plan from Helm's record */
		rel_helm_release h;
		rc = rel_helm_start(&h, &prior, &s->bundle, &s->ctx, rel ? rel : s->bundle.name, false, &s->a, err);
		if (!rc)
			rc = rel_values_reuse(&s->ctx, &s->bundle, prior, &h, cli_values_mode(args), &s->a, err);
	}
	s->ctx.prior = prior;
	s->ctx.is_upgrade = prior != NULL;
	return rc;
}

static int run(cli_ctx *ctx, cli_args *args)
{
	rel_session s;
	values_opts vo;
	rel_plan plan;
	cli_summary sm;
	kerr err = KERR_INIT;
	bool detailed = cli_flag_bool(args, "detailed-exitcode");
	size_t i;
	int rc;

	if ((rc = cli_summary_open(&sm, ctx, cli_flag_str(args, "summary", NULL), &ctx->sink)))
		return detailed ? 1 : rc;
	if ((rc = cli_session_open(ctx, "plan", args, &sm.sink, &s, &vo))) {
		cli_summary_release(&sm);
		return detailed ? 1 : rc;
	}
	s.ctx.color = ctx->color && !ctx->json;
	if ((rc = rel_check_stages(&s.bundle, &s.ctx, &err)) ||
	    (rc = rel_values_mode_check(&s.bundle, cli_values_mode(args), &err)) || (rc = load_prior(args, &s, &err))) {
		cli_print_error(ctx, &err);
		cli_session_close(&s, &vo);
		kerr_clear(&err);
		return detailed ? 1 : cli_exit_code(rc);
	}
	rc = rel_plan_run(&plan, &s.a, &s.bundle, &s.ctx, &err);
	for (i = 0; !rc && i < plan.len; i++) {
		plan.v[i].ref = cli_redact_str(ctx, &s.a, plan.v[i].ref);
		plan.v[i].note = cli_redact_str(ctx, &s.a, plan.v[i].note);
		plan.v[i].diff = cli_redact_str(ctx, &s.a, plan.v[i].diff);
	}
	if (rc)
		cli_print_error(ctx, &err);
	else if (ctx->json)
		print_json(&plan);
	else
		print_text(ctx, &plan);
	if (cli_summary_finish(&sm, "plan", &s.bundle, rc ? NULL : &plan, NULL, rc, &err) && !rc)
		rc = KE_USAGE;
	cli_session_close(&s, &vo);
	cli_summary_release(&sm);
	kerr_clear(&err);
	if (detailed)
		return rc ? 1 : (plan.created || plan.changed || plan.deleted) ? 2 : 0;
	return cli_exit_code(rc);
}

const cli_cmd cli_cmd_plan = {
	"plan", run, "server-side dry-run and diff, stage by stage",
	"[BUNDLE|CHART] [-f FILE]... [--set K=V]... [--stage S]... [--detailed-exitcode]", flags,
	"For every object of every enabled stage: a server-side dry-run apply and a diff against\n"
	"the live object (server-set fields removed, Secret values masked). Objects whose kind\n"
	"an earlier stage's CRD brings are shown as \"created after stage X\". -v also lists\n"
	"unchanged objects and shows created ones in full. Objects that the release's deployed\n"
	"revision (or, for a release Helm holds and kstage does not yet, Helm's deployed\n"
	"revision) rendered and this run no longer renders are shown as deleted (apply prunes\n"
	"them after its last stage).\n"
	"With --detailed-exitcode: 0 no changes, 1 error, 2 changes pending.\n",
};
