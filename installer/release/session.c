/*
 * release/session.c - what every cluster command sets up: bundle and
 * values first (so input errors come before any network), then the
 * kubeconfig and the client.
 */
#include "release.h"

#include <string.h>

int rel_session_open(rel_session *s, const rel_session_opts *o, kerr *err)
{
	int rc;
	memset(s, 0, sizeof(*s));
	karena_init(&s->a);
	if ((rc = rel_bundle_open(&s->bundle, &s->a, o->bundle ? o->bundle : ".", o->version, o->fetch, err)))
		return rc;
	{
		/* Helm charts read numbers as Helm does; bundles keep integers exact */
		values_opts vo;
		if (o->values)
			vo = *o->values;
		else
			memset(&vo, 0, sizeof(vo));
		if (!o->values_num_explicit)
			vo.num = s->bundle.is_chart ? VALUES_NUM_HELM : VALUES_NUM_EXACT;
		if ((rc = rel_values(&s->values, &s->a, &s->bundle, &vo, o->sink ? o->sink->redact : NULL, err)) ||
		    (rc = rel_bundle_namespaces(&s->bundle, &s->a, s->values, err)))
			return rc;
	}
	{
		/* the sources of the stages the run may run (--stage, values),
		 * verified before the cluster is touched */
		rel_ctx c;
		memset(&c, 0, sizeof(c));
		c.values = s->values;
		c.namespace = o->kube.namespace;
		c.release_name = s->bundle.name;
		c.sink = o->sink;
		c.fetch = o->fetch;
		c.only = o->only;
		c.nonly = o->nonly;
		if ((rc = rel_fetch_run(&s->bundle, &c, err)))
			return rc;
	}
	if ((rc = kube_config_load(&s->cfg, &o->kube, err)))
		return rc;
	if ((rc = kube_client_new(&s->client, &s->cfg, o->sink, err)))
		return rc;
	s->client->wait_poll = o->wait_poll;
	s->ctx.client = s->client;
	s->ctx.values = s->values;
	s->ctx.namespace = s->cfg.namespace;
	s->ctx.release_name = s->bundle.name;
	s->ctx.sink = o->sink;
	s->ctx.fetch = o->fetch;
	s->ctx.only = o->only;
	s->ctx.nonly = o->nonly;
	rel_lookup_init(&s->lookup, s->client, o->sink ? o->sink->redact : NULL);
	s->ctx.lookup = &s->lookup;
	s->ctx.outputs = doc_new_map(&s->a);
	s->ctx.outputs_a = &s->a;
	return 0;
}

void rel_session_close(rel_session *s)
{
	if (s->ctx.lookup)
		rel_lookup_release(&s->lookup);
	kube_client_free(s->client);
	kube_config_release(&s->cfg);
	karena_release(&s->a);
	memset(s, 0, sizeof(*s));
}
