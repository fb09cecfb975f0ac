/*
 * kube/health.c - is a live object ready? kstatus's rules
 * (sigs.k8s.io/cli-utils/pkg/kstatus) for the built-in kinds and the
 * generic Ready/Stalled/Reconciling conditions, plus what kstatus misses:
 * Gateway API conditions with their own observedGeneration, HTTPRoute
 * parents, LoadBalancer addresses, KServe InferenceService.
 */
#include "kube.h"
#include "core/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const doc_node *cond(const doc_node *conds, const char *type)
{
	size_t i;
	for (i = 0; conds && conds->type == DOC_SEQ && i < conds->u.seq.len; i++)
		if (!strcmp(doc_get_str(conds->u.seq.v[i], "type", ""), type))
			return conds->u.seq.v[i];
	return NULL;
}

static bool cond_is(const doc_node *conds, const char *type, const char *status)
{
	const doc_node *c = cond(conds, type);
	return c && !strcmp(doc_get_str(c, "status", ""), status);
}

static void say(kbuf *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(kbuf *why, const char *fmt, ...)
{
	va_list ap;
	if (!why)
		return;
	kbuf_reset(why);
	va_start(ap, fmt);
	kbuf_vprintf(why, fmt, ap);
	va_end(ap);
}

static void cond_why(kbuf *why, const doc_node *c, const char *type, const char *want)
{
	if (!c)
		say(why, "waiting for condition %s=%s", type, want);
	else
		say(why, "%s=%s (%s: %s)", type, doc_get_str(c, "status", "?"), doc_get_str(c, "reason", ""),
		    doc_get_str(c, "message", ""));
}

/* A condition that must be True and describe the current generation. */
static kube_health_state want_cond_gen(const doc_node *conds, const char *type, int64_t gen, kbuf *why)
{
	const doc_node *c = cond(conds, type);
	if (!c || strcmp(doc_get_str(c, "status", ""), "True")) {
		cond_why(why, c, type, "True");
		return KUBE_PROGRESSING;
	}
	if (gen > 0 && doc_get_int(c, "observedGeneration", gen) < gen) {
		say(why, "%s=True is for generation %" PRId64 ", the object is at %" PRId64, type,
		    doc_get_int(c, "observedGeneration", 0), gen);
		return KUBE_PROGRESSING;
	}
	return KUBE_READY;
}

static kube_health_state deployment(const doc_node *o, kbuf *why)
{
	const doc_node *conds = doc_get_path(o, "status.conditions");
	const doc_node *p = cond(conds, "Progressing");
	int64_t want = doc_get_int(o, "spec.replicas", 1);
	int64_t upd = doc_get_int(o, "status.updatedReplicas", 0);
	int64_t rdy = doc_get_int(o, "status.readyReplicas", 0);
	int64_t av = doc_get_int(o, "status.availableReplicas", 0);
	int64_t tot = doc_get_int(o, "status.replicas", 0);
	if (p && !strcmp(doc_get_str(p, "reason", ""), "ProgressDeadlineExceeded")) {
		say(why, "rollout failed: ProgressDeadlineExceeded: %s", doc_get_str(p, "message", ""));
		return KUBE_FAILED;
	}
	if (upd < want) {
		say(why, "%" PRId64 " of %" PRId64 " replicas updated", upd, want);
		return KUBE_PROGRESSING;
	}
	if (tot > upd) {
		say(why, "%" PRId64 " old replicas pending termination", tot - upd);
		return KUBE_PROGRESSING;
	}
	if (av < want || rdy < want) {
		say(why, "%" PRId64 " of %" PRId64 " replicas available, %" PRId64 " ready", av, want, rdy);
		return KUBE_PROGRESSING;
	}
	return KUBE_READY;
}

static kube_health_state statefulset(const doc_node *o, kbuf *why)
{
	int64_t want = doc_get_int(o, "spec.replicas", 1);
	int64_t rdy = doc_get_int(o, "status.readyReplicas", 0);
	int64_t upd = doc_get_int(o, "status.updatedReplicas", 0);
	const char *cur = doc_get_str(o, "status.currentRevision", "");
	const char *up = doc_get_str(o, "status.updateRevision", "");
	if (rdy < want) {
		say(why, "%" PRId64 " of %" PRId64 " replicas ready", rdy, want);
		return KUBE_PROGRESSING;
	}
	if (strcmp(doc_get_str(o, "spec.updateStrategy.type", "RollingUpdate"), "OnDelete") &&
	    (upd < want || strcmp(cur, up))) {
		say(why, "%" PRId64 " of %" PRId64 " replicas updated", upd, want);
		return KUBE_PROGRESSING;
	}
	return KUBE_READY;
}

static kube_health_state daemonset(const doc_node *o, kbuf *why)
{
	int64_t want = doc_get_int(o, "status.desiredNumberScheduled", -1);
	int64_t upd = doc_get_int(o, "status.updatedNumberScheduled", 0);
	int64_t av = doc_get_int(o, "status.numberAvailable", 0);
	if (want < 0) {
		say(why, "no status yet");
		return KUBE_PROGRESSING;
	}
	if (upd < want || av < want) {
		say(why, "%" PRId64 " of %" PRId64 " pods updated, %" PRId64 " available", upd, want, av);
		return KUBE_PROGRESSING;
	}
	return KUBE_READY;
}

static kube_health_state routes(const doc_node *o, int64_t gen, kbuf *why)
{
	const doc_node *refs = doc_get_path(o, "spec.parentRefs");
	const doc_node *parents = doc_get_path(o, "status.parents");
	size_t want = doc_len(refs), i;
	size_t have = parents && parents->type == DOC_SEQ ? parents->u.seq.len : 0;
	if (have < want) {
		say(why, "%zu of %zu parents report status", have, want);
		return KUBE_PROGRESSING;
	}
	for (i = 0; i < have; i++) {
		const doc_node *p = parents->u.seq.v[i];
		const doc_node *conds = doc_map_get(p, "conditions");
		const char *pn = doc_get_str(p, "parentRef.name", "?");
		kube_health_state s = want_cond_gen(conds, "Accepted", gen, why);
		if (s == KUBE_READY && cond(conds, "ResolvedRefs"))
			s = want_cond_gen(conds, "ResolvedRefs", gen, why);
		if (s != KUBE_READY) {
			kbuf t = KBUF_INIT;
			if (why) {
				kbuf_printf(&t, "parent %s: %s", pn, why->ptr);
				kbuf_reset(why);
				kbuf_put(why, t.ptr, t.len);
			}
			kbuf_release(&t);
			return s;
		}
	}
	return KUBE_READY;
}

/* Kinds that never carry status conditions: a stage-wide rule (no kind)
 * does not apply to them, so `wait: {for: Accepted}` on a stage that also
 * holds a ConfigMap does not wait forever. */
static bool statusless(const char *group, const char *kind)
{
	static const char *const core[] = { "ConfigMap", "Secret", "ServiceAccount", "Namespace", "Service",
					    "Endpoints", "LimitRange", "ResourceQuota", NULL };
	static const char *const rbac[] = { "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", NULL };
	const char *const *l = !*group ? core : !strcmp(group, "rbac.authorization.k8s.io") ? rbac : NULL;
	size_t i;
	if (!strcmp(kind, "CustomResourceDefinition") || !strcmp(kind, "PriorityClass") ||
	    !strcmp(kind, "StorageClass") || !strcmp(kind, "IngressClass") || !strcmp(kind, "NetworkPolicy") ||
	    !strcmp(kind, "MutatingWebhookConfiguration") || !strcmp(kind, "ValidatingWebhookConfiguration"))
		return true;
	for (i = 0; l && l[i]; i++)
		if (!strcmp(l[i], kind))
			return true;
	return false;
}

static bool rule_matches(const kube_wait_rule *r, const char *group, const char *kind)
{
	if (r->kind && strcmp(r->kind, kind))
		return false;
	if (!r->kind && statusless(group, kind))
		return false;
	if (r->group && strcmp(r->group, group))
		return false;
	return true;
}

static void scalar_text(const doc_node *n, kbuf *out)
{
	switch (n->type) {
	case DOC_STR: kbuf_puts(out, n->u.s.ptr); break;
	case DOC_BOOL: kbuf_puts(out, n->u.b ? "true" : "false"); break;
	case DOC_INT: kbuf_printf(out, "%" PRId64, n->u.i); break;
	case DOC_FLOAT: kbuf_printf(out, "%g", n->u.f); break;
	case DOC_NULL: kbuf_puts(out, "null"); break;
	default: kbuf_puts(out, "<object>"); break;
	}
}

static kube_health_state custom(const doc_node *o, const kube_wait_rule *r, kbuf *why)
{
	if (r->condition) {
		const char *want = r->status ? r->status : "True";
		const doc_node *c = cond(doc_get_path(o, "status.conditions"), r->condition);
		if (!c || strcmp(doc_get_str(c, "status", ""), want)) {
			cond_why(why, c, r->condition, want);
			return KUBE_PROGRESSING;
		}
	}
	if (r->path) {
		kbuf p = KBUF_INIT, got = KBUF_INIT;
		const char *s = r->path;
		const doc_node *n;
		kube_health_state st = KUBE_READY;
		if (*s == '{')
			s++;
		kbuf_puts(&p, s);
		if (p.len && p.ptr[p.len - 1] == '}')
			kbuf_truncate(&p, p.len - 1);
		n = doc_get_path(o, p.ptr);
		if (n)
			scalar_text(n, &got);
		if (!n || (r->equals && strcmp(got.ptr, r->equals))) {
			say(why, "%s is %s%s%s, want %s", r->path, n ? "\"" : "", n ? got.ptr : "missing", n ? "\"" : "",
			    r->equals ? r->equals : "present");
			st = KUBE_PROGRESSING;
		}
		kbuf_release(&p);
		kbuf_release(&got);
		return st;
	}
	return KUBE_READY;
}

static kube_health_state builtin(const doc_node *o, kbuf *why)
{
	const char *kind = doc_get_str(o, "kind", "");
	const char *av = doc_get_str(o, "apiVersion", "");
	const doc_node *conds = doc_get_path(o, "status.conditions");
	int64_t gen = doc_get_int(o, "metadata.generation", 0);
	int64_t og = doc_get_int(o, "status.observedGeneration", -1);
	bool gw = !strncmp(av, "gateway.networking.k8s.io/", 26);

	if (doc_get_path(o, "metadata.deletionTimestamp")) {
		say(why, "being deleted");
		return KUBE_PROGRESSING;
	}
	if (!strcmp(kind, "CustomResourceDefinition")) {
		const doc_node *na = cond(conds, "NamesAccepted");
		if (na && !strcmp(doc_get_str(na, "status", ""), "False")) {
			say(why, "NamesAccepted=False (%s: %s)", doc_get_str(na, "reason", ""),
			    doc_get_str(na, "message", ""));
			return KUBE_FAILED;
		}
		if (!cond_is(conds, "Established", "True")) {
			cond_why(why, cond(conds, "Established"), "Established", "True");
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	if (og >= 0 && gen > 0 && og < gen && !gw) {
		say(why, "controller has not seen generation %" PRId64 " yet (observed %" PRId64 ")", gen, og);
		return KUBE_PROGRESSING;
	}
	if (!strcmp(kind, "Deployment") && (!strcmp(av, "apps/v1")))
		return og < 0 ? (say(why, "no status yet"), KUBE_PROGRESSING) : deployment(o, why);
	if (!strcmp(kind, "StatefulSet") && !strcmp(av, "apps/v1"))
		return og < 0 ? (say(why, "no status yet"), KUBE_PROGRESSING) : statefulset(o, why);
	if (!strcmp(kind, "DaemonSet") && !strcmp(av, "apps/v1"))
		return daemonset(o, why);
	if (!strcmp(kind, "ReplicaSet") && !strcmp(av, "apps/v1")) {
		int64_t want = doc_get_int(o, "spec.replicas", 1);
		if (doc_get_int(o, "status.availableReplicas", 0) < want) {
			say(why, "%" PRId64 " of %" PRId64 " replicas available",
			    doc_get_int(o, "status.availableReplicas", 0), want);
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	if (!strcmp(kind, "Job") && !strcmp(av, "batch/v1")) {
		if (cond_is(conds, "Failed", "True")) {
			cond_why(why, cond(conds, "Failed"), "Failed", "False");
			return KUBE_FAILED;
		}
		if (cond_is(conds, "Complete", "True"))
			return KUBE_READY;
		say(why, "job not complete (%" PRId64 " succeeded)", doc_get_int(o, "status.succeeded", 0));
		return KUBE_PROGRESSING;
	}
	if (!strcmp(kind, "Pod") && !strcmp(av, "v1")) {
		const char *ph = doc_get_str(o, "status.phase", "Pending");
		if (!strcmp(ph, "Succeeded"))
			return KUBE_READY;
		if (!strcmp(ph, "Failed")) {
			const doc_node *cs = doc_get_path(o, "status.containerStatuses");
			size_t i;
			const char *msg = doc_get_str(o, "status.message", "");
			for (i = 0; !*msg && cs && cs->type == DOC_SEQ && i < cs->u.seq.len; i++) {
				const doc_node *t = doc_get_path(cs->u.seq.v[i], "state.terminated");
				if (t && doc_get_int(t, "exitCode", 0)) {
					say(why, "pod failed: container %s exited with %" PRId64 " (%s)",
					    doc_get_str(cs->u.seq.v[i], "name", "?"), doc_get_int(t, "exitCode", 0),
					    doc_get_str(t, "reason", "?"));
					return KUBE_FAILED;
				}
			}
			say(why, "pod failed: %s", msg);
			return KUBE_FAILED;
		}
		if (!strcmp(ph, "Running") && cond_is(conds, "Ready", "True"))
			return KUBE_READY;
		say(why, "pod %s, not ready", ph);
		return KUBE_PROGRESSING;
	}
	if (!strcmp(kind, "PersistentVolumeClaim") && !strcmp(av, "v1")) {
		if (strcmp(doc_get_str(o, "status.phase", ""), "Bound")) {
			say(why, "claim is %s", doc_get_str(o, "status.phase", "Pending"));
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	if (!strcmp(kind, "Service") && !strcmp(av, "v1")) {
		if (!strcmp(doc_get_str(o, "spec.type", ""), "LoadBalancer") &&
		    doc_len(doc_get_path(o, "status.loadBalancer.ingress")) == 0) {
			say(why, "LoadBalancer has no ingress address yet");
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	if (!strcmp(kind, "Namespace") && !strcmp(av, "v1")) {
		const char *ph = doc_get_str(o, "status.phase", "Active");
		if (strcmp(ph, "Active")) {
			say(why, "namespace is %s", ph);
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	if (gw && (!strcmp(kind, "GatewayClass")))
		return want_cond_gen(conds, "Accepted", gen, why);
	if (gw && !strcmp(kind, "Gateway")) {
		kube_health_state s = want_cond_gen(conds, "Accepted", gen, why);
		return s == KUBE_READY ? want_cond_gen(conds, "Programmed", gen, why) : s;
	}
	if (gw && strlen(kind) > 5 && !strcmp(kind + strlen(kind) - 5, "Route"))
		return routes(o, gen, why);
	if (!strcmp(kind, "InferenceService") && !strncmp(av, "serving.kserve.io/", 18)) {
		if (!cond_is(conds, "Ready", "True")) {
			cond_why(why, cond(conds, "Ready"), "Ready", "True");
			return KUBE_PROGRESSING;
		}
		if (!doc_get_str(o, "status.url", NULL)) {
			say(why, "Ready=True but no status.url yet");
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	if (!strcmp(kind, "APIService")) {
		if (!cond_is(conds, "Available", "True")) {
			cond_why(why, cond(conds, "Available"), "Available", "True");
			return KUBE_PROGRESSING;
		}
		return KUBE_READY;
	}
	/* generic (kstatus): Stalled fails, Reconciling waits, Ready decides */
	if (gw && og >= 0 && gen > 0 && og < gen) {
		say(why, "controller has not seen generation %" PRId64 " yet", gen);
		return KUBE_PROGRESSING;
	}
	if (cond_is(conds, "Stalled", "True")) {
		cond_why(why, cond(conds, "Stalled"), "Stalled", "False");
		return KUBE_FAILED;
	}
	if (cond_is(conds, "Reconciling", "True")) {
		cond_why(why, cond(conds, "Reconciling"), "Reconciling", "False");
		return KUBE_PROGRESSING;
	}
	if (cond(conds, "Ready") && !cond_is(conds, "Ready", "True")) {
		cond_why(why, cond(conds, "Ready"), "Ready", "True");
		return KUBE_PROGRESSING;
	}
	return KUBE_READY;
}

kube_health_state kube_health(const doc_node *live, const kube_wait_rule *rules, size_t nrules, kbuf *why)
{
	kube_health_state s;
	const char *kind = doc_get_str(live, "kind", "");
	const char *av = doc_get_str(live, "apiVersion", "");
	const char *sl = strchr(av, '/');
	kbuf group = KBUF_INIT;
	size_t i;
	if (why)
		kbuf_reset(why);
	if (!live || live->type != DOC_MAP) {
		say(why, "not found");
		return KUBE_PROGRESSING;
	}
	s = builtin(live, why);
	if (s != KUBE_READY)
		return s;
	if (sl)
		kbuf_put(&group, av, (size_t)(sl - av));
	for (i = 0; i < nrules && s == KUBE_READY; i++)
		if (rule_matches(&rules[i], group.ptr, kind))
			s = custom(live, &rules[i], why);
	kbuf_release(&group);
	return s;
}

void kube_health_conditions(const doc_node *live, kbuf *out)
{
	const doc_node *conds = doc_get_path(live, "status.conditions");
	const doc_node *parents = doc_get_path(live, "status.parents");
	size_t i;
	if ((!conds || conds->type != DOC_SEQ || !conds->u.seq.len) && parents && parents->type == DOC_SEQ &&
	    parents->u.seq.len) {
		/* routes: conditions live per parent */
		for (i = 0; i < parents->u.seq.len; i++) {
			doc_node tmp, st;
			const doc_node *p = parents->u.seq.v[i];
			kbuf_printf(out, "%sparent %s: ", i ? "; " : "", doc_get_str(p, "parentRef.name", "?"));
			memset(&tmp, 0, sizeof(tmp));
			memset(&st, 0, sizeof(st));
			{
				doc_pair sp = { NULL, NULL }, tp = { NULL, NULL };
				doc_node ks, kc;
				memset(&ks, 0, sizeof(ks));
				memset(&kc, 0, sizeof(kc));
				ks.type = kc.type = DOC_STR;
				ks.u.s.ptr = "status"; ks.u.s.len = 6;
				kc.u.s.ptr = "conditions"; kc.u.s.len = 10;
				sp.key = &kc;
				sp.val = doc_map_get(p, "conditions");
				if (!sp.val) {
					kbuf_puts(out, "no conditions");
					continue;
				}
				st.type = DOC_MAP; st.u.map.v = &sp; st.u.map.len = 1;
				tp.key = &ks; tp.val = &st;
				tmp.type = DOC_MAP; tmp.u.map.v = &tp; tmp.u.map.len = 1;
				kube_health_conditions(&tmp, out);
			}
		}
		return;
	}
	if (!conds || conds->type != DOC_SEQ || !conds->u.seq.len) {
		kbuf_puts(out, "no conditions");
		return;
	}
	for (i = 0; i < conds->u.seq.len; i++) {
		const doc_node *c = conds->u.seq.v[i];
		const char *r = doc_get_str(c, "reason", ""), *m = doc_get_str(c, "message", "");
		kbuf_printf(out, "%s%s=%s", i ? "; " : "", doc_get_str(c, "type", "?"), doc_get_str(c, "status", "?"));
		if (*r || *m)
			kbuf_printf(out, " (%s%s\"%s\")", r, *r ? ": " : "", m);
	}
}
