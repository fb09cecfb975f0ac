/*
 * release/hooks.c - Helm hooks of a chart, run as Helm 4 runs them
 * (pkg/action/hooks.go, execHookWithDelayedShutdown).
 *
 * The hooks of one event are taken in Helm's order: the documents come
 * sorted by kind (install order, as the chart renders them), then a stable
 * sort by helm.sh/hook-weight and, for equal weights, by name. For each:
 * its delete policies (helm.sh/hook-delete-policy; before-hook-creation
 * when none is given), then a before-hook-creation deletion (waited for),
 * then the object is created (server-side apply) and a Job or Pod waited
 * for until it has completed. A failure deletes that hook by hook-failed
 * and the hooks before it by hook-succeeded, then fails; after the last
 * hook, every hook is deleted by hook-succeeded, last first.
 * CustomResourceDefinitions are never deleted.
 *
 * Hook objects are not part of the release (Helm does not track them
 * either): no journal entry, never pruned, left by a rollback. The hooks
 * of a revision are kept in its record (a stage REL_HOOKS_STAGE whose
 * manifest holds them with their namespaces) so that uninstall and
 * rollback can run the delete and rollback hooks of what is installed.
 */
#include "release.h"
#include "core/alloc.h"
#include "core/redact.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} hook_events[] = {
	{ "pre-install", REL_HOOK_PRE_INSTALL },   { "post-install", REL_HOOK_POST_INSTALL },
	{ "pre-delete", REL_HOOK_PRE_DELETE },     { "post-delete", REL_HOOK_POST_DELETE },
	{ "pre-upgrade", REL_HOOK_PRE_UPGRADE },   { "post-upgrade", REL_HOOK_POST_UPGRADE },
	{ "pre-rollback", REL_HOOK_PRE_ROLLBACK }, { "post-rollback", REL_HOOK_POST_ROLLBACK },
	{ "test", REL_HOOK_TEST },                 { "test-success", REL_HOOK_TEST },
};

static const struct {
	const char *name;
	unsigned bit;
} delete_policies[] = {
	{ "before-hook-creation", REL_HOOK_DEL_BEFORE },
	{ "hook-succeeded", REL_HOOK_DEL_SUCCEEDED },
	{ "hook-failed", REL_HOOK_DEL_FAILED },
};

const char *rel_hook_event_name(unsigned event)
{
	size_t i;
	for (i = 0; i < sizeof(hook_events) / sizeof(hook_events[0]); i++)
		if (hook_events[i].bit == event)
			return hook_events[i].name;
	return "?";
}

/* A comma-separated list of names (trimmed, lowercased) into bits; unknown
 * names set *unknown. */
static unsigned parse_list(const char *s, bool events, bool *unknown)
{
	unsigned bits = 0;
	*unknown = false;
	while (s && *s) {
		const char *c = strchr(s, ','), *e = c ? c : s + strlen(s);
		char buf[64];
		size_t l, i;
		bool found = false;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		l = (size_t)(e - s);
		if (l && l < sizeof(buf)) {
			for (i = 0; i < l; i++)
				buf[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
			buf[l] = 0;
			if (events) {
				for (i = 0; i < sizeof(hook_events) / sizeof(hook_events[0]); i++)
					if (!strcmp(buf, hook_events[i].name)) {
						bits |= hook_events[i].bit;
						found = true;
					}
			} else {
				for (i = 0; i < sizeof(delete_policies) / sizeof(delete_policies[0]); i++)
					if (!strcmp(buf, delete_policies[i].name)) {
						bits |= delete_policies[i].bit;
						found = true;
					}
			}
		}
		if (l && !found)
			*unknown = true;
		s = c ? c + 1 : e;
	}
	return bits;
}

/* helm.sh/hook-weight as Helm reads it (strconv.Atoi into a 64-bit int;
 * anything else 0). */
static long long hook_weight(const char *s)
{
	char *end;
	long long v;
	if (!s || !*s || !(s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno ? 0 : v;
}

int rel_hooks_add(rel_hooks *h, karena *a, doc_node *doc, const char *path, kerr *err)
{
	const char *ann = doc_get_str(doc, "metadata.annotations.helm\\.sh/hook", NULL);
	bool unknown;
	rel_hook k;
	int rc;
	if (!ann)
		return 0;
	memset(&k, 0, sizeof(k));
	k.events = parse_list(ann, true, &unknown);
	if (unknown)
		return 0;   /* Helm skips a hook with an unknown event */
	if ((rc = kube_obj_init(&k.obj, a, doc, err)))
		return rc;
	k.path = path;
	k.weight = hook_weight(doc_get_str(doc, "metadata.annotations.helm\\.sh/hook-weight", NULL));
	k.delete_policies = parse_list(doc_get_str(doc, "metadata.annotations.helm\\.sh/hook-delete-policy", NULL), false,
				       &unknown);
	if (h->n == h->cap) {
		size_t nc = h->cap ? h->cap * 2 : 8;
		h->v = karena_realloc(a, h->v, h->cap * sizeof(*h->v), nc * sizeof(*h->v));
		h->cap = nc;
	}
	h->v[h->n++] = k;
	return 0;
}

int rel_hooks_parse(rel_hooks *h, karena *a, const char *what, const char *yaml, kerr *err)
{
	doc_stream ds;
	size_t i;
	int rc = doc_load_yaml(&ds, a, what, yaml, strlen(yaml), NULL, err);
	for (i = 0; !rc && i < ds.len; i++)
		if (ds.docs[i] && ds.docs[i]->type == DOC_MAP)
			rc = rel_hooks_add(h, a, ds.docs[i], what, err);
	return rc;
}

int rel_hooks_resolve(rel_hooks *h, kube_client *c, karena *a, const char *ns, kerr *err)
{
	size_t i;
	int rc = 0;
	for (i = 0; i < h->n && !rc; i++)
		if ((rc = kube_obj_resolve(c, a, &h->v[i].obj, ns, err)))
			kerr_wrap(err, "hook %s (%s)", h->v[i].obj.ref, h->v[i].path ? h->v[i].path : "");
	return rc;
}

const char *rel_hooks_manifest(karena *a, const rel_hooks *h)
{
	const doc_node **docs = xcalloc(h->n + 1, sizeof(*docs));
	const char *m;
	size_t i;
	for (i = 0; i < h->n; i++)
		docs[i] = h->v[i].obj.doc;
	m = rel_yaml_stream(a, docs, h->n);
	free(docs);
	return m;
}

int rel_hooks_of_record(rel_hooks *h, karena *a, const rel_record *rec, kerr *err)
{
	const rel_rec_stage *st = rec ? rel_record_stage(rec, REL_HOOKS_STAGE) : NULL;
	memset(h, 0, sizeof(*h));
	if (!st || !st->manifest)
		return 0;
	return rel_hooks_parse(h, a, karena_printf(a, "release %s revision %d hooks", rec->name, rec->revision),
			       st->manifest, err);
}

static int cmp_hook(const void *x, const void *y)
{
	const rel_hook *const *a = x, *const *b = y;
	int c;
	if ((*a)->weight != (*b)->weight)
		return (*a)->weight < (*b)->weight ? -1 : 1;
	if ((c = strcmp((*a)->obj.name, (*b)->obj.name)))
		return c;
	return (*a)->seq < (*b)->seq ? -1 : (*a)->seq > (*b)->seq;   /* stable: kind order */
}

/* Delete hook k when it has policy, waiting until it is gone. */
static int delete_by_policy(kube_client *c, karena *a, const rel_hook *k, unsigned policy, long timeout_ms,
			    const char *event, kerr *err)
{
	bool was = false;
	int rc;
	if (!(k->delete_policies & policy) || !strcmp(k->obj.kind, "CustomResourceDefinition"))
		return 0;
	if ((rc = rel_delete_wait(c, a, &k->obj, timeout_ms, &was, err)))
		return kerr_wrap(err, "%s hook %s: delete", event, k->obj.ref);
	if (was)
		kube_emit(c, KEV_INFO, "hook.deleted",
			  karena_printf(a, "%s hook %s: deleted (%s)", event, k->obj.ref,
					policy == REL_HOOK_DEL_BEFORE ? "before-hook-creation"
					: policy == REL_HOOK_DEL_SUCCEEDED ? "hook-succeeded" : "hook-failed"),
			  "hook", event, "object", k->obj.ref, NULL);
	return 0;
}

static bool waits_for(const kube_obj *o)
{
	return (!strcmp(o->kind, "Job") && !strcmp(o->api_version, "batch/v1")) ||
	       (!strcmp(o->kind, "Pod") && !strcmp(o->api_version, "v1"));
}

/* Helm waits for a hook Pod until it has Succeeded (a running, Ready pod
 * is not done; Failed fails it, as the built-in rules say). */
static const kube_wait_rule pod_succeeded = { NULL, "Pod", NULL, NULL, ".status.phase", "Succeeded" };

#define FAILED_LOG_LINES 50L
#define LOGS_LINES 1000L

/* The log of hook k's pod (a Pod hook, or the pod of a Job hook that tells
 * most), as an event: KEV_ERROR when the hook failed. Errors in reading it
 * are said in the event; the hook's own outcome stands. */
static void emit_log(kube_client *c, karena *a, const rel_hook *k, const char *event, bool failed)
{
	const char *pod = k->obj.name;
	kbuf log = KBUF_INIT;
	kerr e = KERR_INIT;
	int rc = 0;
	if (!strcmp(k->obj.kind, "Job") && !(rc = kube_job_pod(&pod, c, a, k->obj.ns, k->obj.name, &e)) && !pod)
		kbuf_puts(&log, "(the job has no pod)\n");
	if (!rc && pod)
		rc = kube_pod_logs(&log, c, a, k->obj.ns, pod, failed ? FAILED_LOG_LINES : LOGS_LINES, &e);
	if (rc)
		kbuf_printf(&log, "(no log: %s)\n", e.first.msg ? e.first.msg : "unreadable");
	while (log.len && log.ptr[log.len - 1] == '\n')
		log.ptr[--log.len] = 0;
	kube_emit(c, failed ? KEV_ERROR : KEV_INFO, "hook.log",
		  karena_printf(a, "%s hook %s: %s of pod %s:\n%s", event, k->obj.ref,
				failed ? karena_printf(a, "last %ld log lines", FAILED_LOG_LINES) : "log", pod ? pod : "-",
				log.ptr ? log.ptr : ""),
		  "hook", event, "object", k->obj.ref, "pod", pod ? pod : "", "log", log.ptr ? log.ptr : "", NULL);
	kerr_clear(&e);
	kbuf_release(&log);
}

/* Create one hook and wait for it to complete: a Job until Complete, a Pod
 * until Succeeded. A failed one's log goes out as an event (before any
 * hook-failed deletion); with logs, a succeeded Pod's too. */
static int run_one(kube_client *c, karena *a, const rel_hook *k, long timeout_ms, const char *event, bool logs,
		   kerr *err)
{
	kube_apply_opts opts = { false, false, NULL, false, false };
	kube_wait_item it;
	doc_node *live = NULL;
	int rc;
	if ((rc = kube_check_stop(c, err)))
		return rc;
	if ((rc = kube_apply(c, a, &k->obj, &opts, &live, NULL, err)))
		return kerr_wrap(err, "%s hook %s (%s)", event, k->obj.ref, k->path ? k->path : "");
	kube_emit(c, KEV_INFO, "hook.created", karena_printf(a, "%s hook %s: created", event, k->obj.ref), "hook", event,
		  "object", k->obj.ref, "weight", karena_printf(a, "%lld", k->weight), NULL);
	if (!waits_for(&k->obj))
		return 0;
	memset(&it, 0, sizeof(it));
	it.obj = &k->obj;
	it.live = live;
	if ((rc = kube_wait(c, a, &it, 1, &pod_succeeded, 1, timeout_ms, err))) {
		if (!(c->stop && *c->stop))   /* not when interrupted: leave at once */
			emit_log(c, a, k, event, true);
		return kerr_wrap(err, "%s hook %s (%s) failed", event, k->obj.ref, k->path ? k->path : "");
	}
	kube_emit(c, KEV_INFO, "hook.succeeded", karena_printf(a, "%s hook %s: succeeded", event, k->obj.ref), "hook",
		  event, "object", k->obj.ref, NULL);
	if (logs && !strcmp(k->obj.kind, "Pod"))
		emit_log(c, a, k, event, false);
	return 0;
}

int rel_hooks_run(kube_client *c, const rel_hooks *h, unsigned event, long timeout_ms, bool logs, size_t *ran,
		  kerr *err)
{
	karena a = KARENA_INIT;
	const char *ev = rel_hook_event_name(event);
	rel_hook **v = xcalloc(h->n + 1, sizeof(*v));
	size_t n = 0, i, k;
	int rc = 0;
	for (i = 0; i < h->n; i++)
		if (h->v[i].events & event) {
			v[n] = &h->v[i];
			v[n]->seq = i;
			if (!v[n]->delete_policies)
				v[n]->delete_policies = REL_HOOK_DEL_BEFORE;
			n++;
		}
	qsort(v, n, sizeof(*v), cmp_hook);
	for (i = 0; i < n && !rc; i++) {
		if ((rc = delete_by_policy(c, &a, v[i], REL_HOOK_DEL_BEFORE, timeout_ms, ev, err)))
			break;
		if ((rc = run_one(c, &a, v[i], timeout_ms, ev, logs, err))) {
			kerr e = KERR_INIT;
			/* Helm: the failed hook by hook-failed, the earlier ones by
			 * hook-succeeded; their errors are only reported */
			if (delete_by_policy(c, &a, v[i], REL_HOOK_DEL_FAILED, timeout_ms, ev, &e))
				kube_emit(c, KEV_WARN, "hook.delete_failed", e.first.msg, NULL);
			kerr_clear(&e);
			for (k = 0; k < i; k++) {
				if (delete_by_policy(c, &a, v[k], REL_HOOK_DEL_SUCCEEDED, timeout_ms, ev, &e))
					kube_emit(c, KEV_WARN, "hook.delete_failed", e.first.msg, NULL);
				kerr_clear(&e);
			}
			break;
		}
	}
	for (k = n; !rc && k-- > 0;)
		rc = delete_by_policy(c, &a, v[k], REL_HOOK_DEL_SUCCEEDED, timeout_ms, ev, err);
	if (ran)
		*ran = n;
	free(v);
	karena_release(&a);
	return rc;
}

int rel_hooks_of_run(kube_client *c, karena *a, const rel_record *rec, const char *ns, unsigned event,
		     long timeout_ms, bool logs, size_t *ran, kerr *err)
{
	rel_hooks h;
	size_t n = 0;
	int rc;
	if (ran)
		*ran = 0;
	if ((rc = rel_hooks_of_record(&h, a, rec, err)) || !h.n)
		return rc;
	if ((rc = kube_discovery_load(c, err)) || (rc = rel_hooks_resolve(&h, c, a, ns ? ns : "default", err)) ||
	    (rc = rel_hooks_run(c, &h, event, timeout_ms, logs, &n, err)))
		return rc;
	if (ran)
		*ran = n;
	if (n)
		kube_emit(c, KEV_INFO, "hook.done",
			  karena_printf(a, "release %s revision %d: %zu %s hook%s done", rec->name, rec->revision, n,
					rel_hook_event_name(event), n == 1 ? "" : "s"),
			  "hook", rel_hook_event_name(event), NULL);
	return 0;
}

void rel_secrets_learn(const doc_node *doc, const kev_sink *sink)
{
	const doc_node *d, *sd;
	size_t j;
	if (!sink || !sink->redact || !doc || strcmp(doc_get_str(doc, "kind", ""), "Secret") ||
	    strcmp(doc_get_str(doc, "apiVersion", ""), "v1"))
		return;
	d = doc_map_get(doc, "data");
	sd = doc_map_get(doc, "stringData");
	for (j = 0; d && d->type == DOC_MAP && j < d->u.map.len; j++)
		if (d->u.map.v[j].val->type == DOC_STR)
			kredact_add_base64(sink->redact, d->u.map.v[j].val->u.s.ptr, d->u.map.v[j].val->u.s.len);
	for (j = 0; sd && sd->type == DOC_MAP && j < sd->u.map.len; j++)
		if (sd->u.map.v[j].val->type == DOC_STR)
			kredact_add(sink->redact, sd->u.map.v[j].val->u.s.ptr, sd->u.map.v[j].val->u.s.len, 0);
}

int rel_hooks_test(const rel_ctx *ctx, const rel_record *rec, bool logs, size_t *ran, kerr *err)
{
	karena a = KARENA_INIT;
	size_t i, k;
	int rc;
	/* what the tests may print: the release's own Secrets, masked */
	for (i = 0; i < rec->nstages; i++) {
		doc_stream ds;
		kerr e = KERR_INIT;
		if (!rec->stages[i].manifest)
			continue;
		if (!doc_load_yaml(&ds, &a, "record", rec->stages[i].manifest, strlen(rec->stages[i].manifest), NULL, &e))
			for (k = 0; k < ds.len; k++)
				rel_secrets_learn(ds.docs[k], ctx->sink);
		kerr_clear(&e);
	}
	rc = rel_hooks_of_run(ctx->client, &a, rec, ctx->namespace, REL_HOOK_TEST,
			      ctx->timeout_ms ? ctx->timeout_ms : 5L * 60 * 1000, logs, ran, err);
	if (rc)
		kerr_wrap(err, "release %s revision %d: test", rec->name, rec->revision);
	karena_release(&a);
	return rc;
}
