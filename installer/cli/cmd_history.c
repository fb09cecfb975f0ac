#include "cli.h"
#include "cmds.h"
#include "store_open.h"

#include <stdio.h>
#include <string.h>

static const cli_flag flags[] = {
	CLI_STORE_FLAGS,
	{ NULL, 0, 0, NULL, NULL },
};

static void print_json(const rel_rec_summary *h, const char *ns)
{
	kbuf b = KBUF_INIT;
	kbuf_puts(&b, "{\"release\":");
	doc_json_quote(&b, h->name, strlen(h->name), 0);
	kbuf_puts(&b, ",\"namespace\":");
	doc_json_quote(&b, ns, strlen(ns), 0);
	kbuf_printf(&b, ",\"revision\":%d,\"status\":\"%s\"", h->revision, rel_status_name(h->status));
	if (h->updated_ms) {
		kbuf_puts(&b, ",\"updated\":\"");
		rel_time_format(&b, h->updated_ms);
		kbuf_putc(&b, '"');
	}
	if (h->description) {
		kbuf_puts(&b, ",\"description\":");
		doc_json_quote(&b, h->description, strlen(h->description), 0);
	}
	kbuf_printf(&b, ",\"parts\":%zu,\"bytes\":%zu}\n", h->parts, h->size);
	fwrite(b.ptr, 1, b.len, stdout);
	kbuf_release(&b);
}

static int run(cli_ctx *ctx, cli_args *args)
{
	cli_store s;
	kerr err = KERR_INIT;
	rel_rec_summary *h = NULL;
	size_t n = 0, i;
	int rc = cli_store_open(&s, ctx, args, "history", &err);
	if (!rc)
		rc = rel_store_history(s.store, &s.a, s.release, &h, &n, &err);
	if (!rc && !n)
		rc = kerr_set(&err, KE_NOTFOUND, "release \"%s\" has no records in namespace \"%s\"", s.release,
			      s.store->namespace);
	if (!rc && !ctx->json)
		printf("%-9s %-25s %-12s %s\n", "REVISION", "UPDATED", "STATUS", "DESCRIPTION");
	for (i = 0; !rc && i < n; i++) {
		kbuf t = KBUF_INIT;
		if (ctx->json) {
			print_json(&h[i], s.store->namespace);
			continue;
		}
		if (h[i].updated_ms)
			rel_time_format(&t, h[i].updated_ms);
		printf("%-9d %-25s %-12s %s\n", h[i].revision, h[i].updated_ms ? t.ptr : "-", rel_status_name(h[i].status),
		       h[i].description ? h[i].description : "");
		kbuf_release(&t);
	}
	return cli_store_finish(&s, ctx, &err, rc);
}

const cli_cmd cli_cmd_history = {
	"history", run, "list the revisions of a release",
	"[RELEASE] [--release-namespace NS]", flags,
	"Lists every revision of the release kept in the cluster (Secrets of type\n"
	"kstage.dev/release.v1 in --release-namespace, default kstage-system), oldest first,\n"
	"with its status (pending, deployed, failed, rolled-back, superseded, uninstalled).\n"
	"Without RELEASE, the release of the bundle in the current directory. With -o json,\n"
	"one JSON line per revision. Exit codes: 0 ok, 2 usage error or no such release,\n"
	"4 cluster unreachable or not authorised.\n",
};
