/*
 * release/bundle.c - kstage.yaml: the bundle's stage plan, validated with
 * file:line:col for every problem; and Helm charts as two-stage bundles.
 *
 * The format (every key below is checked; unknown keys are errors; the
 * README's "The bundle format" section says the same for users):
 *
 *   name: my-bundle                 required
 *   version: 0.1.0
 *   description: ...
 *   stages:                         applied in this order, each waited for
 *     - name: crds                  required, [a-z0-9-], unique
 *       # what the stage applies - one of:
 *       source: {url: https://..., sha256: <64 hex>}   fetched into the cache, verified
 *                                                       (sha256 may live in kstage.lock)
 *       source: {path: dir/|file.yaml|file.tgz}         inside the bundle
 *       source: {git: https://..., ref: v1, path: sub}  a git repository's directory at a tag,
 *                                                       branch or commit, pinned in kstage.lock
 *       templates: [a.yaml, b.yaml]                     under templates/ (_*.tpl partials)
 *       chart: {path: charts/x}                          a Helm chart, rendered with .Values
 *       chart: {ref: oci://HOST/REPO, version: V}        the same from an OCI registry, pinned
 *                                                       by manifest digest in kstage.lock
 *                                                       (or digest: sha256:<64 hex> here)
 *       chart: {git: https://..., ref: v1, path: sub}   a chart from a git repository, the same way
 *       chart: {..., values: {k: v}}                     the chart's values instead of the
 *                                                       bundle's .Values (strings may be templates)
 *       chart: {..., files: [GLOB, ...]}                 only the chart's files these patterns
 *                                                       match (fnmatch, '/' literal; a subchart's
 *                                                       as charts/NAME/...), applied as plain YAML
 *                                                       without rendering (e.g. CRDs of a subchart
 *                                                       the chart stage leaves disabled); each
 *                                                       pattern must match a .yaml/.yml/.json file
 *       # and/or, after the objects:
 *       ops:
 *         - jsonKeyMerge: {configMap: NS/NAME, key: KEY, set: {k: v}}   values may be templates
 *             # (NS/NAME of both ops may be a template too: "{{ .Values.ns }}/name")
 *             # (rendered as strings); a typed value is {json: TEMPLATE}: rendered, then
 *             # read as JSON ("true" a bool, "30" a number); null leaves the key as it is
 *         - rolloutRestart: {deployment|statefulset|daemonset: NS/NAME,
 *                            when: changed|always}
 *             # changed (the default): only when an earlier op or object of
 *             # this stage changed something in this run; then the rollout
 *             # is waited for. always: every run.
 *       namespace: ns               default namespace of the stage's namespaced objects
 *                                   (and a chart's .Release.Namespace); may be a
 *                                   template of the values ("{{ .Values.ns }}"),
 *                                   rendered and checked once the values are known
 *       enabled: "{{ .Values.x }}"  or true/false
 *       timeout: 5m                 Go duration; default --timeout, else 5m
 *       wait: false                 or {for: Condition, rules: [{kind, group, condition, status}
 *                                   | {kind, group, jsonPath, equals}]}
 *       rollback: keep|delete       keep: a rollback leaves the stage's objects
 *       hook: {of: STAGE, when: pre|post, events: [install, upgrade]}
 *                                   a hook of another stage (not itself a hook):
 *                                   applied just before (pre) or after (post) it,
 *                                   only on a first revision (install) and/or a
 *                                   later one (upgrade; both by default); on other
 *                                   runs it is not run and its objects stay
 *       pin: required|optional      optional: a remote source kstage.lock may lack (one
 *                                   this machine cannot reach to pin); unpinned, it is
 *                                   not fetched, and a run with the stage enabled is
 *                                   refused by the preflight with the way to pin it
 *       outputs:                    rendered once the stage is healthy (lookup sees
 *         address: TEMPLATE         the live cluster); shown in text, as the event
 *                                   stage.output, in --summary, and to the templates
 *                                   of later stages as .Outputs.<stage>.<key>
 *                                   (index .Outputs "my-stage" "address"); `plan`
 *                                   does not render them (.Outputs is empty there)
 *       test:                       after the stage's objects are healthy (and its
 *                                   ops ran): one HTTP request, its reply checked
 *         request:
 *           url: TEMPLATE           http:// or https:// (required)
 *           method: POST            default GET, or POST when body is given
 *           host: TEMPLATE          the Host header (e.g. the host of status.url)
 *           headers: {Name: TEMPLATE}
 *           body: TEMPLATE          a string (sent as is) or a map/list (sent as JSON)
 *         expect:
 *           status: 200             default 200
 *           json:                   the reply must be JSON holding each path:
 *             model_name: sklearn-v2-iris       dotted, list items by index;
 *             outputs.0.datatype: INT64         the value compared as JSON
 *             outputs.0.shape: [1]              (a string, number, bool, list, map)
 *         retry: {attempts: 10, interval: 2s}   default 1 attempt; a failed
 *                                   connection, a wrong status or reply retries
 *         cleanup: true             delete the stage's objects after the test
 *                                   (default false; true or a template); --keep-test keeps them
 *
 *     - name: preflight             a checks stage: only name, checks and enabled
 *       checks:
 *         - name: kserve-installed  required, unique in the stage
 *           fail: TEMPLATE          rendered (lookup sees the live cluster); blank
 *                                   output passes, anything else is the problem
 *           info: TEMPLATE          optional: rendered as the finding when it passes
 *         - permissions: true       a SelfSubjectAccessReview (authorization.k8s.io/v1)
 *                                   for every verb and resource the later enabled
 *                                   stages of this run use (get, list, create, patch,
 *                                   update, delete as the run sends them)
 *
 * Checks stages run before any stage changes anything, wherever they are
 * listed, in `plan`, `apply` and `verify`: every check is evaluated, and
 * any problem stops the run with one report of all of them (the events
 * check.passed / check.failed, then exit 2), nothing changed.
 *
 * Templates (templates:, enabled, ops values, outputs, checks, test) see
 * .Values, .Release, .Bundle, .Outputs, and `lookup` answers from the live
 * cluster in plan, apply and verify as Helm's install does (the object, a
 * list with items, or an empty map when absent; read-only GET/LIST,
 * names checked, answers cached until the run changes something);
 * `kstage template` stays offline (empty maps), as helm template.
 */
#include "release.h"
#include "core/alloc.h"
#include "tmpl/chart.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>


#define ERR_AT(e, n, ...) kerr_add_at((e), KE_INPUT, (n) && (n)->file ? (n)->file : file, (n) ? (n)->line : 0, \
				      (n) ? (n)->col : 0, __VA_ARGS__)

long rel_parse_duration(const char *s)
{
	double total = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	if (!strcmp(s, "0"))
		return 0;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		double mul;
		if (end == p || v < 0)
			return -1;
		p = end;
		if (!strncmp(p, "ms", 2)) { mul = 1; p += 2; }
		else if (*p == 'h') { mul = 3600000; p++; }
		else if (*p == 'm') { mul = 60000; p++; }
		else if (*p == 's') { mul = 1000; p++; }
		else return -1;
		total += v * mul;
	}
	if (total > 7.0 * 24 * 3600000)
		return -1;
	return (long)total;
}

static bool dns_label(const char *s)
{
	size_t i, n = strlen(s);
	if (!n || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

static bool check_keys(const doc_node *m, const char *const *allowed, const char *what, const char *file, kerr *err)
{
	size_t i, j;
	bool ok = true;
	for (i = 0; i < m->u.map.len; i++) {
		const doc_node *k = m->u.map.v[i].key;
		for (j = 0; allowed[j] && !doc_key_is(k, allowed[j]); j++)
			;
		if (!allowed[j]) {
			kbuf list = KBUF_INIT, q = KBUF_INIT;
			for (j = 0; allowed[j]; j++)
				kbuf_printf(&list, "%s%s", j ? ", " : "", allowed[j]);
			doc_json_quote(&q, k->u.s.ptr, k->u.s.len, 0);   /* whole, a NUL included */
			ERR_AT(err, k, "%s: unknown key %s (known: %s)", what, q.ptr, list.ptr);
			kbuf_release(&q);
			kbuf_release(&list);
			ok = false;
		}
	}
	return ok;
}

static const char *want_str(const doc_node *m, const char *key, bool required, const char *what,
			    const char *file, kerr *err)
{
	const doc_node *n = doc_map_get(m, key);
	if (!n) {
		if (required)
			ERR_AT(err, m, "%s: \"%s\" is required", what, key);
		return NULL;
	}
	if (n->type != DOC_STR || !n->u.s.len) {
		ERR_AT(err, n, "%s: \"%s\" must be a non-empty string, not %s", what, key, doc_type_name(n->type));
		return NULL;
	}
	return n->u.s.ptr;
}

static void split_ref(karena *a, const char *ref, const char **ns, const char **name)
{
	const char *sl = strchr(ref, '/');
	if (sl) {
		*ns = karena_strndup(a, ref, (size_t)(sl - ref));
		*name = sl + 1;
	} else {
		*ns = NULL;
		*name = ref;
	}
}

static void parse_ops(rel_stage *st, karena *a, const doc_node *ops, const char *file, kerr *err)
{
	size_t i;
	if (ops->type != DOC_SEQ) {
		ERR_AT(err, ops, "stage %s: ops must be a list", st->name);
		return;
	}
	st->ops = karena_alloc(a, sizeof(rel_op) * (ops->u.seq.len + 1));
	for (i = 0; i < ops->u.seq.len; i++) {
		const doc_node *o = ops->u.seq.v[i], *body;
		rel_op *op = &st->ops[st->nops];
		const char *k;
		if (o->type != DOC_MAP || o->u.map.len != 1) {
			ERR_AT(err, o, "stage %s: each op is a map with one key: jsonKeyMerge or rolloutRestart", st->name);
			continue;
		}
		k = o->u.map.v[0].key->u.s.ptr;
		body = o->u.map.v[0].val;
		op->node = o;
		if (body->type != DOC_MAP) {
			ERR_AT(err, body, "stage %s: op %s must be a map", st->name, k);
			continue;
		}
		if (doc_key_is(o->u.map.v[0].key, "jsonKeyMerge")) {
			static const char *const keys[] = { "configMap", "key", "set", NULL };
			const char *cm = want_str(body, "configMap", true, "jsonKeyMerge", file, err);
			const doc_node *set = doc_map_get(body, "set");
			check_keys(body, keys, "jsonKeyMerge", file, err);
			op->type = REL_OP_JSON_KEY_MERGE;
			op->key = want_str(body, "key", true, "jsonKeyMerge", file, err);
			if (cm && strstr(cm, "{{"))
				op->ref_tmpl = cm;
			else if (cm)
				split_ref(a, cm, &op->ns, &op->name);
			if (!set || set->type != DOC_MAP || !set->u.map.len) {
				ERR_AT(err, set ? set : body, "jsonKeyMerge: \"set\" must be a non-empty map of keys to values");
			} else {
				size_t j;
				op->set = (doc_node *)set;
				for (j = 0; j < set->u.map.len; j++) {
					const doc_node *v = set->u.map.v[j].val;
					if (v->type == DOC_MAP && doc_map_get(v, "json") && !rel_op_typed(v))
						ERR_AT(err, v, "jsonKeyMerge: set.%s: a typed value is {json: \"TEMPLATE\"}, "
						       "one string key", set->u.map.v[j].key->u.s.ptr);
				}
			}
		} else if (doc_key_is(o->u.map.v[0].key, "rolloutRestart")) {
			const doc_node *when = doc_map_get(body, "when"), *target = NULL;
			size_t j;
			bool bad = false;
			op->type = REL_OP_ROLLOUT_RESTART;
			for (j = 0; j < body->u.map.len; j++) {
				const doc_node *kn = body->u.map.v[j].key;
				const char *kk = kn->u.s.ptr;
				if (doc_key_is(kn, "when"))
					continue;
				if (!doc_key_is(kn, "deployment") && !doc_key_is(kn, "statefulset") && !doc_key_is(kn, "daemonset")) {
					ERR_AT(err, body->u.map.v[j].key,
					       "rolloutRestart: unknown kind \"%s\" (deployment, statefulset, daemonset; when)", kk);
					bad = true;
					continue;
				}
				if (target) {
					ERR_AT(err, body->u.map.v[j].key, "rolloutRestart: give only one of deployment, statefulset, daemonset");
					bad = true;
				}
				target = body->u.map.v[j].val;
				op->kind = kk;
			}
			if (!target && !bad) {
				ERR_AT(err, body, "rolloutRestart: give one of deployment, statefulset, daemonset: NAMESPACE/NAME");
				bad = true;
			}
			if (target && target->type != DOC_STR) {
				ERR_AT(err, target, "rolloutRestart: %s must be NAMESPACE/NAME", op->kind);
				bad = true;
			}
			op->always = false;
			if (when && (when->type != DOC_STR || (strcmp(when->u.s.ptr, "changed") && strcmp(when->u.s.ptr, "always")))) {
				ERR_AT(err, when, "rolloutRestart: when must be changed or always");
				bad = true;
			} else if (when) {
				op->always = !strcmp(when->u.s.ptr, "always");
			}
			if (bad)
				continue;
			if (strstr(target->u.s.ptr, "{{"))
				op->ref_tmpl = target->u.s.ptr;
			else
				split_ref(a, target->u.s.ptr, &op->ns, &op->name);
		} else {
			ERR_AT(err, o->u.map.v[0].key, "stage %s: unknown op \"%s\" (jsonKeyMerge, rolloutRestart)", st->name, k);
			continue;
		}
		st->nops++;
	}
}

/* A wait rule's jsonPath is the dotted path kube/health.c reads
 * (doc_get_path), optionally in {}: ".status.phase",
 * "status.conditions[0].type", "data.a\\.b". Returns the offset of the
 * first character that is wrong, or -1. JSONPath's filters, wildcards and
 * recursive descent are not paths and are refused. */
static long bad_wait_path(const char *s)
{
	size_t n = strlen(s);
	const char *p = s, *end = s + n;
	if (*p == '{') {
		if (n < 2 || s[n - 1] != '}')
			return (long)n;
		p++;
		end--;
	}
	if (p == end)
		return (long)(p - s);
	if (*p == '.' && p + 1 == end)
		return -1;   /* the object itself */
	while (p < end) {
		const char *k;
		if (*p == '.')
			p++;
		if (p == end)
			return (long)(p - s);
		if (*p == '[') {
			const char *d = ++p;
			while (p < end && *p >= '0' && *p <= '9')
				p++;
			if (p == d || p == end || *p != ']')
				return (long)(p - s);
			p++;
			if (p < end && *p != '.' && *p != '[')
				return (long)(p - s);
			continue;
		}
		for (k = p; p < end && *p != '.' && *p != '['; p++) {
			if (*p == '\\' && p + 1 < end) {
				p++;
				continue;
			}
			if (strchr("*?@()[]{} \t\n", *p) || (*p == '$' && p == s))
				return (long)(p - s);
		}
		if (p == k)
			return (long)(p - s);
	}
	return -1;
}

static void parse_wait(rel_stage *st, karena *a, const doc_node *w, const char *file, kerr *err)
{
	static const char *const keys[] = { "for", "rules", NULL };
	static const char *const rkeys[] = { "kind", "group", "condition", "status", "jsonPath", "equals", NULL };
	const doc_node *rules, *f;
	size_t i;
	if (w->type == DOC_BOOL) {
		st->wait = w->u.b;
		return;
	}
	if (w->type != DOC_MAP) {
		ERR_AT(err, w, "stage %s: wait must be true, false or a map (for, rules)", st->name);
		return;
	}
	check_keys(w, keys, "wait", file, err);
	rules = doc_map_get(w, "rules");
	f = doc_map_get(w, "for");
	st->rules = karena_alloc(a, sizeof(kube_wait_rule) * (doc_len(rules) + 2));
	if (f) {
		if (f->type != DOC_STR)
			ERR_AT(err, f, "wait.for must be a condition type such as Ready");
		else
			st->rules[st->nrules++].condition = f->u.s.ptr;
	}
	if (rules && rules->type != DOC_SEQ) {
		ERR_AT(err, rules, "wait.rules must be a list");
		return;
	}
	for (i = 0; rules && i < rules->u.seq.len; i++) {
		const doc_node *r = rules->u.seq.v[i];
		kube_wait_rule *kr = &st->rules[st->nrules];
		if (r->type != DOC_MAP) {
			ERR_AT(err, r, "wait rule must be a map (kind, condition, status, jsonPath, equals)");
			continue;
		}
		check_keys(r, rkeys, "wait rule", file, err);
		kr->kind = want_str(r, "kind", false, "wait rule", file, err);
		kr->group = want_str(r, "group", false, "wait rule", file, err);
		kr->condition = want_str(r, "condition", false, "wait rule", file, err);
		kr->status = want_str(r, "status", false, "wait rule", file, err);
		kr->path = want_str(r, "jsonPath", false, "wait rule", file, err);
		kr->equals = want_str(r, "equals", false, "wait rule", file, err);
		if (!kr->condition && !kr->path) {
			ERR_AT(err, r, "wait rule needs a condition or a jsonPath");
			continue;
		}
		if (kr->condition && kr->path) {
			ERR_AT(err, r, "wait rule has both condition and jsonPath: use two rules");
			continue;
		}
		if (kr->path && bad_wait_path(kr->path) >= 0) {
			ERR_AT(err, doc_map_get(r, "jsonPath"),
			       "wait rule jsonPath \"%s\" is not a path at character %ld: want a dotted path such as "
			       ".status.phase or .status.conditions[0].type", kr->path, bad_wait_path(kr->path) + 1);
			continue;
		}
		st->nrules++;
	}
}

static void parse_checks(rel_stage *st, karena *a, const doc_node *n, const char *file, kerr *err)
{
	static const char *const keys[] = { "name", "fail", "info", NULL };
	size_t i, j;
	if (n->type != DOC_SEQ || !n->u.seq.len) {
		ERR_AT(err, n, "stage %s: checks must be a non-empty list of {name, fail, info} or {permissions: true}",
		       st->name);
		return;
	}
	st->checks = karena_alloc(a, sizeof(rel_check) * n->u.seq.len);
	for (i = 0; i < n->u.seq.len; i++) {
		const doc_node *c = n->u.seq.v[i], *p;
		rel_check *ck = &st->checks[st->nchecks];
		memset(ck, 0, sizeof(*ck));
		ck->node = c;
		if (c->type != DOC_MAP) {
			ERR_AT(err, c, "stage %s: a check must be a map {name, fail, info} or {permissions: true}", st->name);
			continue;
		}
		if ((p = doc_map_get(c, "permissions"))) {
			if (c->u.map.len != 1)
				ERR_AT(err, c, "stage %s: a permissions check takes no other key", st->name);
			else if (p->type != DOC_BOOL)
				ERR_AT(err, p, "stage %s: permissions must be true or false", st->name);
			else if (p->u.b) {
				ck->permissions = true;
				st->nchecks++;
			}
			continue;
		}
		if (!check_keys(c, keys, "check", file, err))
			continue;
		ck->name = want_str(c, "name", true, "check", file, err);
		if (ck->name && !dns_label(ck->name)) {
			ERR_AT(err, doc_map_get(c, "name"), "check name \"%s\" must be lowercase letters, digits and '-'", ck->name);
			continue;
		}
		for (j = 0; ck->name && j < st->nchecks; j++)
			if (st->checks[j].name && !strcmp(st->checks[j].name, ck->name))
				break;
		if (ck->name && j < st->nchecks) {
			ERR_AT(err, doc_map_get(c, "name"), "check name \"%s\" is used twice", ck->name);
			continue;
		}
		ck->fail = doc_map_get(c, "fail");
		ck->info = doc_map_get(c, "info");
		if (ck->fail && ck->fail->type != DOC_STR) {
			ERR_AT(err, ck->fail, "check %s: fail must be a string (a template), not %s", ck->name ? ck->name : "?",
			       doc_type_name(ck->fail->type));
			continue;
		}
		if (ck->info && ck->info->type != DOC_STR) {
			ERR_AT(err, ck->info, "check %s: info must be a string (a template), not %s", ck->name ? ck->name : "?",
			       doc_type_name(ck->info->type));
			continue;
		}
		if (!ck->fail && !ck->info) {
			ERR_AT(err, c, "check %s: give fail (a template; non-blank is a problem) and/or info", ck->name ? ck->name : "?");
			continue;
		}
		if (ck->name)
			st->nchecks++;
	}
}

static void parse_outputs(rel_stage *st, karena *a, const doc_node *n, const char *file, kerr *err)
{
	size_t i;
	if (n->type != DOC_MAP || !n->u.map.len) {
		ERR_AT(err, n, "stage %s: outputs must be a map of names to templates", st->name);
		return;
	}
	st->outputs = karena_alloc(a, sizeof(rel_output) * n->u.map.len);
	for (i = 0; i < n->u.map.len; i++) {
		const doc_node *k = n->u.map.v[i].key, *v = n->u.map.v[i].val;
		if (v->type != DOC_STR) {
			ERR_AT(err, v, "stage %s: output %s must be a string (a template), not %s", st->name, k->u.s.ptr,
			       doc_type_name(v->type));
			continue;
		}
		st->outputs[st->noutputs].key = k->u.s.ptr;
		st->outputs[st->noutputs++].tmpl = v;
	}
}

/* A test's expected path: dotted keys, list items by index; no empty step. */
static bool good_expect_path(const char *p)
{
	const char *q;
	if (!*p || *p == '.')
		return false;
	for (q = p; *q; q++)
		if (*q == '.' && (q[1] == '.' || q[1] == '\0'))
			return false;
	return true;
}

static void parse_test(rel_stage *st, karena *a, const doc_node *n, const char *file, kerr *err)
{
	static const char *const keys[] = { "request", "expect", "retry", "cleanup", NULL };
	static const char *const rkeys[] = { "url", "method", "host", "headers", "body", NULL };
	static const char *const ekeys[] = { "status", "json", NULL };
	static const char *const tkeys[] = { "attempts", "interval", NULL };
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL };
	const doc_node *rq, *ex, *rt, *v;
	rel_test *t;
	size_t i;
	if (n->type != DOC_MAP) {
		ERR_AT(err, n, "stage %s: test must be a map (request, expect, retry, cleanup)", st->name);
		return;
	}
	t = karena_alloc(a, sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->node = n;
	t->status = 200;
	t->attempts = 1;
	t->interval_ms = 2000;
	check_keys(n, keys, "test", file, err);
	rq = doc_map_get(n, "request");
	if (!rq || rq->type != DOC_MAP) {
		ERR_AT(err, rq ? rq : n, "stage %s: test.request must be a map with url", st->name);
		return;
	}
	check_keys(rq, rkeys, "test.request", file, err);
	t->url = want_str(rq, "url", true, "test.request", file, err);
	t->host = want_str(rq, "host", false, "test.request", file, err);
	t->body = doc_map_get(rq, "body");
	t->method = want_str(rq, "method", false, "test.request", file, err);
	if (t->method) {
		for (i = 0; methods[i] && strcmp(methods[i], t->method); i++)
			;
		if (!methods[i])
			ERR_AT(err, doc_map_get(rq, "method"), "test.request: method must be GET, POST, PUT, PATCH, DELETE or HEAD");
	} else {
		t->method = t->body ? "POST" : "GET";
	}
	if (t->body && t->body->type != DOC_STR && t->body->type != DOC_MAP && t->body->type != DOC_SEQ)
		ERR_AT(err, t->body, "test.request: body must be a string, a map or a list");
	if ((v = doc_map_get(rq, "headers"))) {
		if (v->type != DOC_MAP)
			ERR_AT(err, v, "test.request: headers must be a map of names to strings");
		for (i = 0; v->type == DOC_MAP && i < v->u.map.len; i++) {
			const char *hn = v->u.map.v[i].key->u.s.ptr;
			if (v->u.map.v[i].val->type != DOC_STR)
				ERR_AT(err, v->u.map.v[i].val, "test.request: header %s must be a string", hn);
			else if (!*hn || strspn(hn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(hn) ||
				 !strcasecmp(hn, "host"))
				ERR_AT(err, v->u.map.v[i].key, "test.request: header name \"%s\" is not allowed (letters, digits, '-'; Host is request.host)", hn);
		}
		t->headers = v;
	}
	if ((ex = doc_map_get(n, "expect"))) {
		if (ex->type != DOC_MAP) {
			ERR_AT(err, ex, "test.expect must be a map (status, json)");
		} else {
			check_keys(ex, ekeys, "test.expect", file, err);
			if ((v = doc_map_get(ex, "status"))) {
				if (v->type != DOC_INT || v->u.i < 100 || v->u.i > 599)
					ERR_AT(err, v, "test.expect: status must be an HTTP status such as 200");
				else
					t->status = (long)v->u.i;
			}
			if ((v = doc_map_get(ex, "json"))) {
				if (v->type != DOC_MAP || !v->u.map.len) {
					ERR_AT(err, v, "test.expect: json must be a map of paths (outputs.0.datatype) to values");
				} else {
					t->json = karena_alloc(a, sizeof(rel_expect) * v->u.map.len);
					for (i = 0; i < v->u.map.len; i++) {
						const char *p = v->u.map.v[i].key->u.s.ptr;
						if (!good_expect_path(p)) {
							ERR_AT(err, v->u.map.v[i].key, "test.expect: json path \"%s\" has an empty step", p);
							continue;
						}
						t->json[t->njson].path = p;
						t->json[t->njson].node = v->u.map.v[i].key;
						t->json[t->njson++].value = v->u.map.v[i].val;
					}
				}
			}
		}
	}
	if ((rt = doc_map_get(n, "retry"))) {
		if (rt->type != DOC_MAP) {
			ERR_AT(err, rt, "test.retry must be a map (attempts, interval)");
		} else {
			check_keys(rt, tkeys, "test.retry", file, err);
			if ((v = doc_map_get(rt, "attempts"))) {
				if (v->type != DOC_INT || v->u.i < 1 || v->u.i > 1000)
					ERR_AT(err, v, "test.retry: attempts must be a number from 1 to 1000");
				else
					t->attempts = (int)v->u.i;
			}
			if ((v = doc_map_get(rt, "interval"))) {
				long ms = v->type == DOC_STR ? rel_parse_duration(v->u.s.ptr) : -1;
				if (ms < 0 || ms > 600000)
					ERR_AT(err, v, "test.retry: interval must be a duration such as 2s (at most 10m)");
				else
					t->interval_ms = ms;
			}
		}
	}
	if ((v = doc_map_get(n, "cleanup"))) {
		if (v->type != DOC_BOOL && v->type != DOC_STR)
			ERR_AT(err, v, "test.cleanup must be true, false or a template such as \"{{ not .Values.keep }}\"");
		else
			t->cleanup = v;
	}
	st->test = t;
}

/* A source or chart path is relative to the bundle and stays inside it:
 * not absolute, no ".." step. (Symlinks are resolved when the bundle is
 * loaded from disk: rel_bundle_load.) */
static void check_rel_path(const rel_stage *st, const doc_node *n, const char *what, const char *file, kerr *err)
{
	const char *p = n->u.s.ptr, *q;
	if (strlen(p) != n->u.s.len) {
		/* C would read the path only up to the NUL: a different file */
		ERR_AT(err, n, "stage %s: %s path holds a NUL byte", st->name, what);
		return;
	}
	if (*p == '/') {
		ERR_AT(err, n, "stage %s: %s path \"%s\" must be relative to the bundle, not absolute", st->name, what, p);
		return;
	}
	for (q = p; q; q = strchr(q, '/')) {
		if (*q == '/')
			q++;
		if (q[0] == '.' && q[1] == '.' && (q[2] == '/' || q[2] == '\0')) {
			ERR_AT(err, n, "stage %s: %s path \"%s\" climbs out of the bundle with \"..\"", st->name, what, p);
			return;
		}
	}
}

/* {git: URL, ref: R, path: P} of a source or chart: url becomes the lock
 * key "git+URL#R[:P]". */
static void parse_git(rel_stage *st, karena *a, const doc_node *n, const char *what, const char *file, kerr *err)
{
	const char *p;
	st->git = want_str(n, "git", true, what, file, err);
	st->git_ref = want_str(n, "ref", true, what, file, err);
	st->git_path = want_str(n, "path", false, what, file, err);
	if (st->git && strncmp(st->git, "https://", 8) && strncmp(st->git, "file://", 7))
		ERR_AT(err, doc_map_get(n, "git"), "stage %s: git must be an https:// (or file://) repository URL", st->name);
	if (st->git_ref && (st->git_ref[0] == '-' || strpbrk(st->git_ref, " ~^:?*[\\") || strstr(st->git_ref, "..")))
		ERR_AT(err, doc_map_get(n, "ref"), "stage %s: ref \"%s\" is not a tag, branch or commit", st->name,
		       st->git_ref);
	if ((p = st->git_path)) {
		if (*p == '/' || strstr(p, "..") || strstr(p, "//"))
			ERR_AT(err, doc_map_get(n, "path"), "stage %s: path \"%s\" must be a relative directory of the "
			       "repository", st->name, p);
		if (!*p || !strcmp(p, "."))
			st->git_path = NULL;
	}
	if (st->git && st->git_ref)
		st->url = karena_printf(a, "git+%s#%s%s%s", st->git, st->git_ref, st->git_path ? ":" : "",
					st->git_path ? st->git_path : "");
}

/* chart: {ref: oci://HOST/REPO, version: V, digest: sha256:HEX} */
static void parse_oci_chart(rel_stage *st, karena *a, const doc_node *n, const char *file, kerr *err)
{
	const doc_node *rn = doc_map_get(n, "ref");
	const char *digest = want_str(n, "digest", false, "chart", file, err);
	fetch_oci_ref r;
	kerr e = KERR_INIT;
	st->version = want_str(n, "version", false, "chart", file, err);
	if (fetch_oci_ref_parse(&r, a, st->ref, &e)) {
		ERR_AT(err, rn, "stage %s: %s", st->name, e.first.msg);
	} else if (!st->version && !r.tag) {
		ERR_AT(err, n, "stage %s: chart ref %s needs a version", st->name, st->ref);
	} else if (st->version && r.tag) {
		ERR_AT(err, doc_map_get(n, "version"), "stage %s: chart ref %s has a tag already: drop version or the tag",
		       st->name, st->ref);
	} else {
		st->url = st->version ? karena_printf(a, "%s:%s", st->ref, st->version) : st->ref;
	}
	kerr_clear(&e);
	if (digest) {
		if (strncmp(digest, "sha256:", 7) || !fetch_valid_sha256(digest + 7))
			ERR_AT(err, doc_map_get(n, "digest"), "stage %s: digest must be sha256:<64 lowercase hex digits>",
			       st->name);
		else
			st->sha256 = digest + 7;
	}
}

/* chart: {files: [GLOB, ...]}: relative patterns, rendered by nothing (so
 * no values with them). */
static void parse_chart_files(rel_stage *st, karena *a, const doc_node *n, const char *file, kerr *err)
{
	const doc_node *f = doc_map_get(n, "files");
	size_t i;
	if (doc_map_get(n, "values"))
		ERR_AT(err, f, "stage %s: chart files are applied as they are: give files or values, not both", st->name);
	if (f->type != DOC_SEQ || !f->u.seq.len) {
		ERR_AT(err, f, "stage %s: chart files must be a non-empty list of patterns such as crds/*.yaml", st->name);
		return;
	}
	st->chart_files = karena_alloc(a, sizeof(char *) * f->u.seq.len);
	for (i = 0; i < f->u.seq.len; i++) {
		const doc_node *g = f->u.seq.v[i];
		if (g->type != DOC_STR || !g->u.s.len || g->u.s.ptr[0] == '/' || strstr(g->u.s.ptr, ".."))
			ERR_AT(err, g, "stage %s: a chart files pattern must be a relative path pattern inside the chart",
			       st->name);
		else
			st->chart_files[st->nchart_files++] = g->u.s.ptr;
	}
}

/* hook: {of: STAGE, when: pre|post, events: [install, upgrade]}; whether
 * STAGE exists is checked once every stage is read (check_hooks). */
static void parse_hook(rel_stage *st, karena *a, const doc_node *n, const char *file, kerr *err)
{
	static const char *const keys[] = { "of", "when", "events", NULL };
	const doc_node *w, *ev;
	const char *what;
	size_t i;
	if (n->type != DOC_MAP) {
		ERR_AT(err, n, "stage %s: hook must be a map {of: STAGE, when: pre|post, events: [install, upgrade]}",
		       st->name);
		return;
	}
	what = karena_printf(a, "stage %s: hook", st->name);
	check_keys(n, keys, what, file, err);
	st->hook_of = want_str(n, "of", true, what, file, err);
	if (!(w = doc_map_get(n, "when")) || w->type != DOC_STR || (strcmp(w->u.s.ptr, "pre") && strcmp(w->u.s.ptr, "post")))
		ERR_AT(err, w ? w : n, "stage %s: hook.when must be pre or post", st->name);
	else
		st->hook_post = !strcmp(w->u.s.ptr, "post");
	st->hook_events = REL_STAGE_ON_INSTALL | REL_STAGE_ON_UPGRADE;
	if (!(ev = doc_map_get(n, "events")))
		return;
	if (ev->type != DOC_SEQ || !ev->u.seq.len) {
		ERR_AT(err, ev, "stage %s: hook.events must be a non-empty list of install, upgrade", st->name);
		return;
	}
	st->hook_events = 0;
	for (i = 0; i < ev->u.seq.len; i++) {
		const doc_node *e = ev->u.seq.v[i];
		if (e->type == DOC_STR && !strcmp(e->u.s.ptr, "install"))
			st->hook_events |= REL_STAGE_ON_INSTALL;
		else if (e->type == DOC_STR && !strcmp(e->u.s.ptr, "upgrade"))
			st->hook_events |= REL_STAGE_ON_UPGRADE;
		else if (e->type == DOC_STR && (!strcmp(e->u.s.ptr, "delete") || !strcmp(e->u.s.ptr, "rollback")))
			ERR_AT(err, e, "stage %s: hook event %s: a bundle stage runs only in apply (install, upgrade); "
			       "uninstall and rollback work from the record", st->name, e->u.s.ptr);
		else
			ERR_AT(err, e, "stage %s: unknown hook event (want install or upgrade)", st->name);
	}
}

/* Every hook's `of` names another stage of b that is not a hook itself. */
static void check_hooks(const rel_bundle *b, const char *file, kerr *err)
{
	size_t i, k;
	for (i = 0; i < b->nstages; i++) {
		const rel_stage *h = &b->stages[i];
		const doc_node *of = h->hook_of ? doc_get_path(h->node, "hook.of") : NULL;
		if (!h->hook_of)
			continue;
		for (k = 0; k < b->nstages && (!b->stages[k].name || strcmp(b->stages[k].name, h->hook_of)); k++)
			;
		if (k == b->nstages)
			ERR_AT(err, of, "stage %s: hook of \"%s\": no such stage", h->name, h->hook_of);
		else if (k == i)
			ERR_AT(err, of, "stage %s: a stage cannot be a hook of itself", h->name);
		else if (b->stages[k].hook_of)
			ERR_AT(err, of, "stage %s: hook of \"%s\", which is a hook itself (hooks do not chain)", h->name,
			       h->hook_of);
		else if (b->stages[k].checks || h->checks)
			ERR_AT(err, of, "stage %s: checks stages run before everything; they neither have nor are hooks",
			       h->name);
	}
}

static void parse_stage(rel_stage *st, karena *a, const doc_node *s, const char *file, kerr *err)
{
	static const char *const keys[] = { "name", "source", "templates", "chart", "namespace", "wait", "timeout",
					    "enabled", "ops", "rollback", "test", "checks", "outputs", "hook", "pin",
					    NULL };
	const doc_node *n;
	size_t i, nsrc = 0;
	memset(st, 0, sizeof(*st));
	st->node = s;
	st->wait = true;
	if (s->type != DOC_MAP) {
		ERR_AT(err, s, "a stage must be a map with a name");
		return;
	}
	check_keys(s, keys, "stage", file, err);
	st->name = want_str(s, "name", true, "stage", file, err);
	if (st->name && !dns_label(st->name))
		ERR_AT(err, doc_map_get(s, "name"), "stage name \"%s\" must be lowercase letters, digits and '-'", st->name);
	if (!st->name)
		st->name = "?";
	if ((n = doc_map_get(s, "source"))) {
		static const char *const skeys[] = { "url", "sha256", "path", "git", "ref", NULL };
		nsrc++;
		if (n->type != DOC_MAP) {
			ERR_AT(err, n, "stage %s: source must be a map ({url, sha256}, {git, ref, path} or {path})", st->name);
		} else if (doc_map_get(n, "git")) {
			check_keys(n, skeys, "source", file, err);
			st->src = REL_SRC_GIT;
			parse_git(st, a, n, "source", file, err);
			if (doc_map_get(n, "url") || doc_map_get(n, "sha256"))
				ERR_AT(err, n, "stage %s: a git source takes git, ref and path (pinned in kstage.lock)", st->name);
		} else {
			check_keys(n, skeys, "source", file, err);
			st->url = want_str(n, "url", false, "source", file, err);
			st->sha256 = want_str(n, "sha256", false, "source", file, err);
			st->path = want_str(n, "path", false, "source", file, err);
			if (st->url && st->path)
				ERR_AT(err, n, "stage %s: source has both url and path", st->name);
			else if (st->url) {
				st->src = REL_SRC_URL;
				if (strncmp(st->url, "https://", 8))
					ERR_AT(err, doc_map_get(n, "url"), "stage %s: source url must be https://", st->name);
				if (st->sha256 && !fetch_valid_sha256(st->sha256))
					ERR_AT(err, doc_map_get(n, "sha256"), "stage %s: sha256 must be 64 lowercase hex digits", st->name);
			} else if (st->path) {
				st->src = REL_SRC_PATH;
				check_rel_path(st, doc_map_get(n, "path"), "source", file, err);
			} else {
				ERR_AT(err, n, "stage %s: source needs url (with sha256) or path", st->name);
			}
		}
	}
	if ((n = doc_map_get(s, "templates"))) {
		nsrc++;
		st->src = REL_SRC_TEMPLATES;
		if (n->type != DOC_SEQ || !n->u.seq.len) {
			ERR_AT(err, n, "stage %s: templates must be a non-empty list of files under templates/", st->name);
		} else {
			st->templates = karena_alloc(a, sizeof(char *) * n->u.seq.len);
			for (i = 0; i < n->u.seq.len; i++) {
				const doc_node *t = n->u.seq.v[i];
				if (t->type != DOC_STR || !t->u.s.len || strstr(t->u.s.ptr, ".."))
					ERR_AT(err, t, "stage %s: template must be a file name under templates/", st->name);
				else
					st->templates[st->ntemplates++] = t->u.s.ptr;
			}
		}
	}
	if ((n = doc_map_get(s, "chart"))) {
		static const char *const ckeys[] = { "path", "ref", "version", "digest", "values", "git", "files",
						     NULL };
		nsrc++;
		st->src = REL_SRC_CHART;
		if (n->type != DOC_MAP)
			ERR_AT(err, n, "stage %s: chart must be a map ({path} or {ref: oci://..., version})", st->name);
		else {
			check_keys(n, ckeys, "chart", file, err);
			st->path = want_str(n, "path", false, "chart", file, err);
			st->ref = want_str(n, "ref", false, "chart", file, err);
			if (doc_map_get(n, "git")) {
				st->ref = st->path = NULL;
				parse_git(st, a, n, "chart", file, err);
				if (doc_map_get(n, "version") || doc_map_get(n, "digest"))
					ERR_AT(err, n, "stage %s: a chart from git takes git, ref and path", st->name);
			} else if (st->path && st->ref)
				ERR_AT(err, n, "stage %s: chart has both path and ref", st->name);
			else if (st->path)
				check_rel_path(st, doc_map_get(n, "path"), "chart", file, err);
			else if (st->ref)
				parse_oci_chart(st, a, n, file, err);
			else
				ERR_AT(err, n, "stage %s: chart needs path, or ref (oci://HOST/REPO) with version", st->name);
			if ((st->chart_values = doc_map_get(n, "values")) && st->chart_values->type != DOC_MAP)
				ERR_AT(err, st->chart_values, "stage %s: chart values must be a map", st->name);
			if (doc_map_get(n, "files"))
				parse_chart_files(st, a, n, file, err);
		}
	}
	if (nsrc > 1)
		ERR_AT(err, s, "stage %s: give only one of source, templates, chart", st->name);
	if ((n = doc_map_get(s, "ops")))
		parse_ops(st, a, n, file, err);
	if ((n = doc_map_get(s, "test")))
		parse_test(st, a, n, file, err);
	if ((n = doc_map_get(s, "outputs")))
		parse_outputs(st, a, n, file, err);
	if ((n = doc_map_get(s, "checks"))) {
		parse_checks(st, a, n, file, err);
		for (i = 0; i < s->u.map.len; i++) {
			const doc_node *kn = s->u.map.v[i].key;
			const char *k = kn->u.s.ptr;
			if (!doc_key_is(kn, "name") && !doc_key_is(kn, "checks") && !doc_key_is(kn, "enabled"))
				ERR_AT(err, s->u.map.v[i].key, "stage %s: a checks stage takes only name, checks and enabled, not %s",
				       st->name, k);
		}
	} else if (!nsrc && !st->nops && !st->test && !st->noutputs) {
		ERR_AT(err, s, "stage %s: nothing to do: give source, templates, chart, ops, test, outputs or checks", st->name);
	}
	st->namespace = want_str(s, "namespace", false, "stage", file, err);
	if (st->namespace && strstr(st->namespace, "{{")) {
		/* rendered with the run's values, then checked (rel_bundle_namespaces) */
		st->namespace_tmpl = doc_map_get(s, "namespace");
		st->namespace = NULL;
	} else if (st->namespace) {
		/* it goes into request paths: refused here, before any request */
		const char *why = kube_check_namespace(st->namespace);
		if (why) {
			kbuf q = KBUF_INIT;
			kube_quote(&q, st->namespace);
			ERR_AT(err, doc_map_get(s, "namespace"), "stage %s: namespace %s: %s", st->name, q.ptr, why);
			kbuf_release(&q);
		}
	}
	if ((n = doc_map_get(s, "wait")))
		parse_wait(st, a, n, file, err);
	if ((n = doc_map_get(s, "timeout"))) {
		long t = n->type == DOC_STR ? rel_parse_duration(n->u.s.ptr) : -1;
		if (t <= 0)
			ERR_AT(err, n, "stage %s: timeout must be a duration such as 5m or 90s", st->name);
		else
			st->timeout_ms = t;
	}
	if ((n = doc_map_get(s, "enabled"))) {
		if (n->type != DOC_BOOL && n->type != DOC_STR)
			ERR_AT(err, n, "stage %s: enabled must be true, false or a template such as \"{{ .Values.x }}\"", st->name);
		else
			st->enabled = (doc_node *)n;
	}
	if ((n = doc_map_get(s, "rollback"))) {
		if (n->type != DOC_STR || (strcmp(n->u.s.ptr, "keep") && strcmp(n->u.s.ptr, "delete")))
			ERR_AT(err, n, "stage %s: rollback must be keep or delete", st->name);
		else
			st->rollback = n->u.s.ptr;
	}
	if ((n = doc_map_get(s, "hook")))
		parse_hook(st, a, n, file, err);
	if ((n = doc_map_get(s, "pin"))) {
		if (n->type != DOC_STR || (strcmp(n->u.s.ptr, "optional") && strcmp(n->u.s.ptr, "required")))
			ERR_AT(err, n, "stage %s: pin must be required or optional", st->name);
		else if (!rel_stage_remote(st))
			ERR_AT(err, n, "stage %s: pin is for a remote source (url, OCI or git)", st->name);
		else
			st->pin_optional = !strcmp(n->u.s.ptr, "optional");
	}
}

/* A set of names (open addressing, FNV-1a): duplicate checks in linear
 * time however many stages there are. The names are borrowed. */
typedef struct name_set {
	const char **v;
	size_t cap;   /* a power of two, at least twice the names */
} name_set;

static void name_set_init(name_set *s, size_t n)
{
	s->cap = 16;
	while (s->cap < st_mult(n, 2))
		s->cap *= 2;
	s->v = xcalloc(s->cap, sizeof(*s->v));
}

static void name_set_release(name_set *s)
{
	free(s->v);
}

/* Add name; false when it was there already. */
static bool name_set_add(name_set *s, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p;
	size_t i;
	for (p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (i = (size_t)h & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->v[i], name))
			return false;
	s->v[i] = name;
	return true;
}

int rel_bundle_parse(rel_bundle *out, karena *a, const char *dir, const char *name, const char *text,
		     size_t len, kerr *err)
{
	static const char *const keys[] = { "apiVersion", "kind", "name", "version", "description", "stages", NULL };
	doc_node *root;
	const doc_node *stages;
	const char *file = name;
	size_t i;
	int rc;
	memset(out, 0, sizeof(*out));
	out->dir = karena_strdup(a, dir ? dir : ".");
	out->file = karena_strdup(a, name);
	if ((rc = doc_load_yaml1(&root, a, name, text, len, NULL, err)))
		return rc;
	if (root->type != DOC_MAP)
		return kerr_set_at(err, KE_INPUT, name, root->line ? root->line : 1, root->col ? root->col : 1,
				   "%s must be a map with name and stages", name);
	check_keys(root, keys, "kstage.yaml", file, err);
	out->name = want_str(root, "name", true, "kstage.yaml", file, err);
	out->version = want_str(root, "version", false, "kstage.yaml", file, err);
	out->description = want_str(root, "description", false, "kstage.yaml", file, err);
	stages = doc_map_get(root, "stages");
	if (!stages || stages->type != DOC_SEQ || !stages->u.seq.len) {
		ERR_AT(err, stages ? stages : root, "kstage.yaml: stages must be a non-empty list");
	} else {
		name_set seen;
		name_set_init(&seen, stages->u.seq.len);
		out->stages = karena_alloc(a, sizeof(rel_stage) * stages->u.seq.len);
		for (i = 0; i < stages->u.seq.len; i++) {
			rel_stage *st = &out->stages[i];
			parse_stage(st, a, stages->u.seq.v[i], file, err);
			out->nstages = i + 1;
			if (st->name && strcmp(st->name, "?") && !name_set_add(&seen, st->name))
				ERR_AT(err, doc_map_get(st->node, "name"), "stage name \"%s\" is used twice", st->name);
		}
		name_set_release(&seen);
		check_hooks(out, file, err);
	}
	return err->code ? KE_INPUT : 0;
}

static bool exists(const char *p, bool *is_dir)
{
	struct stat st;
	if (stat(p, &st) != 0)
		return false;
	if (is_dir)
		*is_dir = S_ISDIR(st.st_mode);
	return true;
}

int rel_bundle_resolve(kbuf *out, const rel_bundle *b, const char *path, kerr *err)
{
	char *root = realpath(b->dir, NULL), *full;
	size_t n;
	int rc = 0;
	if (!root)
		return kerr_set(err, KE_INPUT, "bundle directory \"%s\" not found", b->dir);
	n = strlen(root);
	kbuf_reset(out);
	if (path[0] == '/')
		kbuf_puts(out, path);
	else
		kbuf_printf(out, "%s/%s", b->dir, path);
	full = realpath(out->ptr, NULL);
	if (!full)
		rc = kerr_set(err, KE_INPUT, "source path \"%s\" not found", out->ptr);
	else if (strcmp(root, "/") && (strncmp(full, root, n) || (full[n] != '/' && full[n] != '\0')))
		rc = kerr_set(err, KE_INPUT, "\"%s\" resolves to \"%s\", outside the bundle \"%s\"", path, full, root);
	else {
		kbuf_reset(out);
		kbuf_puts(out, full);
	}
	free(full);
	free(root);
	return rc;
}

/* The source and chart paths that exist must resolve (symlinks followed)
 * inside the bundle. */
static int check_paths(const rel_bundle *b, kerr *err)
{
	size_t i;
	kbuf p = KBUF_INIT;
	for (i = 0; i < b->nstages; i++) {
		const rel_stage *st = &b->stages[i];
		const doc_node *n;
		kerr e = KERR_INIT;
		if ((st->src != REL_SRC_PATH && st->src != REL_SRC_CHART) || !st->path)
			continue;
		n = doc_get_path(st->node, st->src == REL_SRC_PATH ? "source.path" : "chart.path");
		kbuf_reset(&p);
		kbuf_printf(&p, "%s/%s", b->dir, st->path);
		if (!exists(p.ptr, NULL))
			continue;   /* said when the stage renders */
		if (rel_bundle_resolve(&p, b, st->path, &e))
			kerr_add_at(err, KE_INPUT, n && n->file ? n->file : b->file, n ? n->line : 0, n ? n->col : 0,
				    "stage %s: %s", st->name, e.first.msg);
		kerr_clear(&e);
	}
	kbuf_release(&p);
	return err->code ? KE_INPUT : 0;
}

static int load_optional(doc_node **out, karena *a, const char *path, kerr *err)
{
	doc_stream s;
	int rc;
	*out = NULL;
	if (!exists(path, NULL))
		return 0;
	if ((rc = doc_load_yaml_file(&s, a, path, NULL, err)))
		return rc;
	*out = s.len ? s.docs[0] : NULL;
	return 0;
}

/* A chart (loaded from path, a directory or .tgz, or pulled) as a bundle
 * of two stages: its crds/, then its templates. */
static int chart_bundle(rel_bundle *out, karena *a, tmpl_chart *ch, const char *path)
{
	out->is_chart = true;
	out->chart = ch;
	out->file = karena_strdup(a, path);
	out->dir = karena_strdup(a, path);
	out->name = ch->name;
	out->version = doc_get_str(ch->metadata, "version", NULL);
	out->nstages = 2;
	out->stages = karena_alloc(a, 2 * sizeof(rel_stage));
	out->stages[0].name = "crds";
	out->stages[0].src = REL_SRC_CHART_CRDS;
	out->stages[0].wait = true;
	out->stages[0].rollback = "keep";
	out->stages[1].name = karena_strdup(a, ch->name);
	out->stages[1].src = REL_SRC_CHART;
	out->stages[1].wait = true;
	return 0;
}

static int load_chart(rel_bundle *out, karena *a, const char *path, kerr *err)
{
	tmpl_chart *ch;
	int rc;
	if ((rc = tmpl_chart_load(&ch, a, path, VALUES_NUM_HELM, err)))
		return rc;
	return chart_bundle(out, a, ch, path);
}

int rel_chart_pull(tmpl_chart **out, karena *a, const char *ref, const char *version, const fetch_opts *fo,
		   values_num_mode num, kerr *err)
{
	kbuf data = KBUF_INIT;
	fetch_result res;
	int rc;
	memset(&res, 0, sizeof(res));
	rc = rel_oci_version(&version, a, ref, version, fo, err);
	if (!rc)
		rc = fetch_oci_chart(&data, &res, ref, version, NULL, fo, err);
	if (!rc) {
		kev_emit(fo ? fo->sink : NULL, KEV_INFO, "fetch.resolved",
			 karena_printf(a, "%s%s%s: manifest sha256:%s (not pinned: a bundle stage pins it in kstage.lock)",
				       ref, version ? " " : "", version ? version : "", res.sha256),
			 "url", ref, "sha256", res.sha256, NULL);
		rc = tmpl_chart_load_tgz(out, a, ref, data.ptr, data.len, num, err);
	}
	kbuf_release(&data);
	kbuf_release(&res.resolved);
	return rc;
}

int rel_bundle_open(rel_bundle *out, karena *a, const char *path, const char *version, const fetch_opts *fo,
		    kerr *err)
{
	tmpl_chart *ch;
	int rc;
	if (strncmp(path, "oci://", 6))
		return rel_bundle_load(out, a, path, err);
	memset(out, 0, sizeof(*out));
	if ((rc = rel_chart_pull(&ch, a, path, version, fo, VALUES_NUM_HELM, err)))
		return rc;
	return chart_bundle(out, a, ch, path);
}

const doc_node *rel_op_typed(const doc_node *v)
{
	const doc_node *j;
	if (v->type != DOC_MAP || v->u.map.len != 1 || !(j = doc_map_get(v, "json")) || j->type != DOC_STR)
		return NULL;
	return j;
}

int rel_bundle_load(rel_bundle *out, karena *a, const char *path, kerr *err)
{
	return rel_bundle_load_opts(out, a, path, true, err);
}

int rel_bundle_load_opts(rel_bundle *out, karena *a, const char *path, bool pin, kerr *err)
{
	kbuf p = KBUF_INIT, text = KBUF_INIT;
	bool dir = false;
	int rc;
	const char *d;
	size_t n = strlen(path);
	memset(out, 0, sizeof(*out));
	if (!exists(path, &dir))
		return kerr_set(err, KE_INPUT, "bundle \"%s\" not found", path);
	if (!dir && ((n > 4 && !strcmp(path + n - 4, ".tgz")) || (n > 7 && !strcmp(path + n - 7, ".tar.gz"))))
		return load_chart(out, a, path, err);
	if (dir) {
		kbuf_printf(&p, "%s/kstage.yaml", path);
		if (!exists(p.ptr, NULL)) {
			kbuf_reset(&p);
			kbuf_printf(&p, "%s/Chart.yaml", path);
			if (exists(p.ptr, NULL)) {
				kbuf_release(&p);
				return load_chart(out, a, path, err);
			}
			kbuf_release(&p);
			return kerr_set(err, KE_INPUT, "\"%s\" is neither a bundle (no kstage.yaml) nor a Helm chart (no Chart.yaml)", path);
		}
		d = path;
	} else {
		kbuf_puts(&p, path);
		d = NULL;
	}
	if (kbuf_read_file(&text, p.ptr, 16 << 20) != 0) {
		rc = kerr_set(err, KE_INPUT, "cannot read %s", p.ptr);
		goto done;
	}
	{
		char *dd = NULL;
		if (!d) {
			const char *sl = strrchr(path, '/');
			dd = sl ? karena_strndup(a, path, (size_t)(sl - path)) : ".";
		}
		rc = rel_bundle_parse(out, a, d ? d : dd, p.ptr, text.ptr, text.len, err);
	}
	if (!rc)
		rc = check_paths(out, err);
	if (!rc && pin)
		rc = rel_bundle_pin(out, a, err);
	if (!rc) {
		kbuf vp = KBUF_INIT;
		kbuf_printf(&vp, "%s/values/values.yaml", out->dir);
		rc = load_optional(&out->defaults, a, vp.ptr, err);
		kbuf_reset(&vp);
		kbuf_printf(&vp, "%s/values/values.schema.json", out->dir);
		if (!rc)
			rc = load_optional(&out->schema, a, vp.ptr, err);
		kbuf_release(&vp);
	}
done:
	kbuf_release(&p);
	kbuf_release(&text);
	return rc;
}
