#include "store_open.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "release/release.h"

int cli_store_open(cli_store *s, cli_ctx *ctx, const cli_args *args, const char *verb, kerr *err)
{
	kube_config_opts ko;
	const char *ns = cli_flag_str(args, "release-namespace", NULL);
	int rc;
	memset(s, 0, sizeof(*s));
	karena_init(&s->a);
	if (args->npos > 1)
		return kerr_set(err, KE_USAGE, "%s takes one RELEASE, got %zu arguments", verb, args->npos);
	if (args->npos) {
		s->release = args->pos[0];
	} else {
		rel_bundle b;
		kerr be = KERR_INIT;
		if (rel_bundle_load(&b, &s->a, ".", &be)) {
			kbuf m = KBUF_INIT;
			kerr_format_short(&be, &m);
			rc = kerr_set(err, KE_USAGE, "name the release (kstage %s RELEASE): no bundle here to take it from (%s)",
				      verb, m.ptr);
			kbuf_release(&m);
			kerr_clear(&be);
			return rc;
		}
		s->release = b.name;
	}
	if ((rc = rel_release_name_check(s->release, err)))
		return rc;
	if (ns && (rc = rel_namespace_check(ns, err)))
		return rc;
	memset(&ko, 0, sizeof(ko));
	ko.kubeconfig = ctx->kubeconfig;
	ko.context = ctx->context;
	ko.namespace = ctx->namespace;
	if ((rc = kube_config_load(&s->cfg, &ko, err)))
		return rc;
	s->cfg_loaded = true;
	if ((rc = kube_client_new(&s->client, &s->cfg, &ctx->sink, err)))
		return rc;
	s->store = rel_store_secrets(s->client, ns);
	return 0;
}

void cli_store_close(cli_store *s)
{
	rel_store_free(s->store);
	if (s->client)
		kube_client_free(s->client);
	if (s->cfg_loaded)
		kube_config_release(&s->cfg);
	karena_release(&s->a);
}

int cli_store_finish(cli_store *s, cli_ctx *ctx, kerr *err, int rc)
{
	fflush(stdout);
	if (rc)
		cli_print_error(ctx, err);
	cli_store_close(s);
	kerr_clear(err);
	return rc == KE_NOTFOUND ? EXIT_USAGE : cli_exit_code(rc);
}

long cli_lease_seconds(void)
{
	const char *v = getenv("KSTAGE_LEASE_SECONDS");
	char *end;
	long n;
	if (!v || !*v)
		return 0;
	n = strtol(v, &end, 10);
	return *end || n < 2 || n > 3600 ? 0 : n;
}

int cli_release_namespace(cli_ctx *ctx, const doc_node *values, const char **ns)
{
	const doc_node *v = doc_get_path(values, "kstage.releaseNamespace");
	kerr err = KERR_INIT;
	if (*ns || !v)
		return 0;
	if (v->type != DOC_STR || rel_namespace_check(v->u.s.ptr, &err)) {
		if (v->type != DOC_STR)
			kerr_set(&err, KE_USAGE, "values: kstage.releaseNamespace must be a string");
		else
			kerr_wrap(&err, "values: kstage.releaseNamespace");
		cli_print_error(ctx, &err);
		kerr_clear(&err);
		return EXIT_USAGE;
	}
	*ns = v->u.s.ptr;
	return 0;
}
