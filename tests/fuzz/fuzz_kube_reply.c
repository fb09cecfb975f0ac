/*
 * fuzz_kube_reply: what the API server answers, through the code that
 * reads it. The first byte picks the reader:
 *   0  a failed answer (kube/errors.c), HTTP status from the second byte;
 *   1  discovery (kube/discovery.c) through a transport that answers every
 *      request with the input, aggregated or per-group by a bit;
 *   2  a list or object: health of each item (kube/health.c), diff
 *      normalisation and the no-op check (kube/apply.c).
 * Errors are fine; crashes, leaks and sanitizer reports are not.
 */
#include "kube/kube.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct reply {
	const char *body;
	size_t len;
	bool aggregated;
	unsigned calls;
} reply;

static int reply_send(void *impl, const kube_req *req, const kube_auth *auth, kube_resp *resp, kerr *err)
{
	reply *r = impl;
	(void)req;
	(void)auth;
	(void)err;
	if (++r->calls > 64) {
		resp->status = 404;
		return 0;
	}
	resp->status = 200;
	kbuf_puts(&resp->content_type, r->aggregated ? "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
						     : "application/json");
	kbuf_put(&resp->body, r->body, r->len);
	return 0;
}

static void health_of(const doc_node *n)
{
	static const kube_wait_rule rules[] = {
		{ NULL, NULL, "Ready", NULL, NULL, NULL },
		{ NULL, NULL, NULL, NULL, ".status.phase", "Running" },
	};
	kbuf why = KBUF_INIT;
	kube_health(n, rules, 2, &why);
	kbuf_reset(&why);
	kube_health_conditions(n, &why);
	kbuf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 2;
	size_t len;
	if (size < 2 || size > 262144)
		return 0;
	len = size - 2;
	switch (data[0] % 3) {
	case 0: {
		kerr e = KERR_INIT;
		kube_status_error(&e, 400 + data[1] % 130, body, len, "apply", (data[1] & 1) ? "Kind/ns/name" : NULL);
		(void)kerr_find_cause(&e, "FieldManagerConflict");
		kerr_clear(&e);
		break;
	}
	case 1: {
		reply r = { body, len, (data[1] & 1) != 0, 0 };
		kube_transport tr = { reply_send, NULL, &r };
		kube_config cfg;
		kube_client *c;
		kerr e = KERR_INIT;
		memset(&cfg, 0, sizeof(cfg));
		cfg.server = "https://fuzz";
		c = kube_client_new_with(tr, &cfg, NULL);
		c->max_attempts = 1;
		kube_discovery_load(c, &e);
		(void)kube_discovery_find(c, "v1", "ConfigMap");
		(void)kube_discovery_find(c, "apps/v1", "Deployment");
		kerr_clear(&e);
		kube_client_free(c);
		break;
	}
	default: {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		doc_node *d = NULL;
		e.quiet = 1;
		if (doc_load_json(&d, &a, "reply", body, len, &e) == 0) {
			const doc_node *items = doc_map_get(d, "items");
			size_t i;
			health_of(d);
			for (i = 0; items && items->type == DOC_SEQ && i < items->u.seq.len && i < 256; i++)
				health_of(items->u.seq.v[i]);
			if (d->type == DOC_MAP) {
				doc_node *norm = kube_diff_normalize(&a, d);
				(void)kube_apply_is_noop(norm, d, NULL);
			}
		}
		kerr_clear(&e);
		karena_release(&a);
		break;
	}
	}
	return 0;
}
