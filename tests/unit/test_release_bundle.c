/* Unit tests for release/bundle.c: the stage file and its errors with file:line:col. */
#include "unit.h"
#include "release/release.h"

#include <stdlib.h>
#include <string.h>

static const char *good =
	"name: kserve-gateway\n"
	"version: 0.1.0\n"
	"stages:\n"
	"  - name: gateway-api-crds\n"
	"    source: {url: https://example.com/standard-install.yaml,\n"
	"             sha256: 97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64}\n"
	"    rollback: keep\n"
	"  - name: gateway-class\n"
	"    templates: [gatewayclass.yaml]\n"
	"    wait: {for: Accepted}\n"
	"    timeout: 2m30s\n"
	"  - name: kserve-config\n"
	"    namespace: kserve\n"
	"    ops:\n"
	"      - jsonKeyMerge: {configMap: kserve/inferenceservice-config, key: ingress,\n"
	"                       set: {enableGatewayApi: true}}\n"
	"      - rolloutRestart: {deployment: kserve/kserve-controller-manager}\n"
	"  - name: extra\n"
	"    source: {path: manifests/}\n"
	"    enabled: \"{{ .Values.extra }}\"\n"
	"    wait:\n"
	"      rules:\n"
	"        - {kind: Widget, condition: Synced}\n"
	"        - {kind: Gadget, jsonPath: .status.phase, equals: Running}\n";

TEST(release_bundle_parses_stages)
{
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	kbuf m = KBUF_INIT;
	int rc = rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", good, strlen(good), &e);
	kerr_format(&e, &m);
	CHECK_MSG(rc == 0, "%s", m.ptr);
	CHECK_INT_EQ(b.nstages, 4);
	CHECK_STR_EQ(b.name, "kserve-gateway");
	CHECK_INT_EQ(b.stages[0].src, REL_SRC_URL);
	CHECK_STR_EQ(b.stages[0].rollback, "keep");
	CHECK_INT_EQ(b.stages[1].src, REL_SRC_TEMPLATES);
	CHECK_INT_EQ(b.stages[1].timeout_ms, 150000);
	CHECK_INT_EQ(b.stages[1].nrules, 1);
	CHECK_STR_EQ(b.stages[1].rules[0].condition, "Accepted");
	CHECK_INT_EQ(b.stages[2].nops, 2);
	CHECK_INT_EQ(b.stages[2].ops[0].type, REL_OP_JSON_KEY_MERGE);
	CHECK_STR_EQ(b.stages[2].ops[0].ns, "kserve");
	CHECK_STR_EQ(b.stages[2].ops[0].name, "inferenceservice-config");
	CHECK_STR_EQ(b.stages[2].ops[1].kind, "deployment");
	CHECK_STR_EQ(b.stages[2].ops[1].name, "kserve-controller-manager");
	CHECK_INT_EQ(b.stages[3].nrules, 2);
	CHECK_STR_EQ(b.stages[3].rules[1].path, ".status.phase");
	CHECK(b.stages[3].enabled != NULL);
	kbuf_release(&m);
	kerr_clear(&e);
	karena_release(&a);
}

typedef struct bad_case {
	const char *text;
	const char *want;   /* substring of the formatted errors */
} bad_case;

static const bad_case bad[] = {
	{ "name: x\nstages:\n  - name: a\n    sourse: {path: x}\n", "/b/kstage.yaml:4:5: stage: unknown key \"sourse\"" },
	/* a key holding a NUL is not the key its first bytes spell */
	{ "name: x\nstages:\n  - name: a\n    \"source\\0x\": {path: x}\n",
	  "/b/kstage.yaml:4:5: stage: unknown key \"source\\u0000x\"" },
	{ "name: x\nstages:\n  - name: A_b\n    source: {path: x}\n", "/b/kstage.yaml:3:11: stage name \"A_b\" must be lowercase" },
	{ "name: x\nstages:\n  - name: a\n    source: {path: x}\n  - name: a\n    source: {path: z}\n", "/b/kstage.yaml:5:11: stage name \"a\" is used twice" },
	{ "name: x\nstages:\n  - name: a\n    source: {url: http://x/y.yaml, sha256: abc}\n", "stage a: source url must be https://" },
	{ "name: x\nstages:\n  - name: a\n    source: {path: x}\n    timeout: soon\n", "/b/kstage.yaml:5:14: stage a: timeout must be a duration" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - patch: {x: 1}\n", "/b/kstage.yaml:5:9: stage a: unknown op \"patch\"" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - jsonKeyMerge: {configMap: ns/cm, key: k}\n", "jsonKeyMerge: \"set\" must be a non-empty map" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - rolloutRestart: {pod: ns/x}\n", "/b/kstage.yaml:5:26: rolloutRestart: unknown kind \"pod\"" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - rolloutRestart: {deployment: ns/x, when: sometimes}\n", "/b/kstage.yaml:5:50: rolloutRestart: when must be changed or always" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - rolloutRestart: {deployment: ns/x, daemonset: ns/y}\n", "/b/kstage.yaml:5:44: rolloutRestart: give only one of" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - rolloutRestart: {when: always}\n", "/b/kstage.yaml:5:25: rolloutRestart: give one of deployment" },
	{ "name: x\nstages:\n  - name: a\n    checks:\n      - {name: c, fail: ''}\n    templates: [x.yaml]\n", "/b/kstage.yaml:6:5: stage a: a checks stage takes only name, checks and enabled, not templates" },
	{ "name: x\nstages:\n  - name: a\n    checks:\n      - {name: c, fail: 1}\n", "/b/kstage.yaml:5:25: check c: fail must be a string" },
	{ "name: x\nstages:\n  - name: a\n    checks:\n      - {name: c}\n", "/b/kstage.yaml:5:9: check c: give fail" },
	{ "name: x\nstages:\n  - name: a\n    checks:\n      - {name: c, fail: x}\n      - {name: c, fail: y}\n", "/b/kstage.yaml:6:16: check name \"c\" is used twice" },
	{ "name: x\nstages:\n  - name: a\n    checks:\n      - permissions: yes please\n", "/b/kstage.yaml:5:22: stage a: permissions must be true or false" },
	{ "name: x\nstages:\n  - name: a\n    checks:\n      - {name: c, fial: x}\n", "/b/kstage.yaml:5:19: check: unknown key \"fial\"" },
	{ "name: x\nstages:\n  - name: a\n    outputs: {address: 1}\n", "/b/kstage.yaml:4:24: stage a: output address must be a string" },
	{ "name: x\nstages:\n  - name: a\n    test: {request: {url: http://x}, expect: {status: ok}}\n", "/b/kstage.yaml:4:55: test.expect: status must be an HTTP status" },
	{ "name: x\nstages:\n  - name: a\n    test: {request: {url: http://x}, expect: {json: {a..b: 1}}}\n", "/b/kstage.yaml:4:54: test.expect: json path \"a..b\" has an empty step" },
	{ "name: x\nstages:\n  - name: a\n    test: {request: {url: http://x}, retry: {interval: soon}}\n", "/b/kstage.yaml:4:56: test.retry: interval must be a duration" },
	{ "name: x\nstages:\n  - name: a\n    test: {request: {url: http://x, headers: {Host: example}}}\n", "/b/kstage.yaml:4:47: test.request: header name \"Host\" is not allowed" },
	{ "name: x\nstages:\n  - name: a\n    test: {request: {url: http://x, method: FETCH}}\n", "/b/kstage.yaml:4:45: test.request: method must be" },
	{ "name: x\nstages:\n  - name: a\n    test: {request: {uri: http://x}}\n", "/b/kstage.yaml:4:22: test.request: unknown key \"uri\"" },
	{ "name: x\nstages:\n  - name: a\n", "/b/kstage.yaml:3:5: stage a: nothing to do" },
	{ "name: x\nstages:\n  - name: a\n    source: {path: x}\n    wait: {rules: [{kind: X}]}\n", "/b/kstage.yaml:5:20: wait rule needs a condition or a jsonPath" },
	{ "name: x\nstages: []\n", "/b/kstage.yaml:2:9: kstage.yaml: stages must be a non-empty list" },
	{ "stages:\n  - name: a\n    source: {path: x}\n    templates: [a.yaml]\n", "stage a: give only one of source, templates, chart" },
	{ "name: x\nstages:\n  - name: a\n    chart: {ref: oci://x/y}\n", "/b/kstage.yaml:4:12: stage a: chart ref oci://x/y needs a version" },
	{ "name: x\nstages:\n  - name: a\n    chart: {ref: oci://x/y:1, version: v1}\n", "/b/kstage.yaml:4:40: stage a: chart ref oci://x/y:1 has a tag already" },
	{ "name: x\nstages:\n  - name: a\n    chart: {ref: https://x/y, version: v1}\n", "/b/kstage.yaml:4:18: stage a: \"https://x/y\" is not an oci:// reference" },
	{ "name: x\nstages:\n  - name: a\n    chart: {ref: oci://x/Y, version: v1}\n", "stage a: \"oci://x/Y\": repository \"Y\" must be lowercase" },
	{ "name: x\nstages:\n  - name: a\n    chart: {ref: oci://x/y, version: v1, digest: abc}\n", "/b/kstage.yaml:4:50: stage a: digest must be sha256:<64 lowercase hex digits>" },
	{ "name: x\nstages:\n  - name: a\n    chart: {ref: oci://x/y, path: c, version: v1}\n", "stage a: chart has both path and ref" },
	{ "name: x\nstages:\n  - name: a\n    source: {git: http://h/r.git, ref: v1}\n", "/b/kstage.yaml:4:19: stage a: git must be an https:// (or file://) repository URL" },
	{ "name: x\nstages:\n  - name: a\n    source: {git: https://h/r.git}\n", "source: \"ref\" is required" },
	{ "name: x\nstages:\n  - name: a\n    source: {git: https://h/r.git, ref: a..b}\n", "/b/kstage.yaml:4:41: stage a: ref \"a..b\" is not a tag, branch or commit" },
	{ "name: x\nstages:\n  - name: a\n    source: {git: https://h/r.git, ref: v1, path: ../x}\n", "stage a: path \"../x\" must be a relative directory of the repository" },
	{ "name: x\nstages:\n  - name: a\n    source: {git: https://h/r.git, ref: v1, sha256: abc}\n", "stage a: a git source takes git, ref and path (pinned in kstage.lock)" },
	{ "name: x\nstages:\n  - name: a\n    chart: {git: https://h/r.git, ref: v1, version: v1}\n", "stage a: a chart from git takes git, ref and path" },
	{ "name: x\nstages:\n  - name: a\n    chart: {path: c, values: [1]}\n", "/b/kstage.yaml:4:30: stage a: chart values must be a map" },
	{ "name: x\nstages:\n  - name: a\n    chart: {version: v1}\n", "stage a: chart needs path, or ref (oci://HOST/REPO) with version" },
	{ "name: x\nstages:\n  - name: a\n    source: {url: https://x/y.yaml}\n    pin: sometimes\n", "/b/kstage.yaml:5:10: stage a: pin must be required or optional" },
	{ "name: x\nstages:\n  - name: a\n    source: {path: x}\n    pin: optional\n", "/b/kstage.yaml:5:10: stage a: pin is for a remote source" },
	{ "name: x\nstages:\n  - name: a\n    ops:\n      - jsonKeyMerge: {configMap: a/b, key: k, set: {t: {json: x, y: 1}}}\n", "jsonKeyMerge: set.t: a typed value is {json: \"TEMPLATE\"}, one string key" },
};

TEST(release_bundle_errors_have_locations)
{
	size_t i;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		rel_bundle b;
		kbuf m = KBUF_INIT;
		int rc = rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", bad[i].text, strlen(bad[i].text), &e);
		kerr_format(&e, &m);
		CHECK_MSG(rc == KE_INPUT, "case %zu: rc %d", i, rc);
		CHECK_MSG(strstr(m.ptr, bad[i].want) != NULL, "case %zu: got\n%s\nwant: %s", i, m.ptr, bad[i].want);
		kbuf_release(&m);
		kerr_clear(&e);
		karena_release(&a);
	}
}

TEST(release_bundle_reports_every_error)
{
	const char *t = "name: x\nstages:\n  - name: a\n    source: {path: x}\n    timeout: never\n    rollback: maybe\n";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	CHECK_INT_EQ(rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", t, strlen(t), &e), KE_INPUT);
	CHECK_INT_EQ(e.count, 2);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(release_stage_hooks_order)
{
	/* post hooks listed first, pre hooks last, two around one stage: each hook
	 * runs next to its stage, hooks of one stage in file order */
	const char *t = "name: x\nstages:\n"
			"  - name: p2\n    templates: [a.yaml]\n    hook: {of: b, when: post, events: [upgrade]}\n"
			"  - name: a\n    templates: [a.yaml]\n"
			"  - name: b\n    templates: [a.yaml]\n"
			"  - name: q1\n    templates: [a.yaml]\n    hook: {of: b, when: pre}\n"
			"  - name: q2\n    templates: [a.yaml]\n    hook: {of: b, when: pre, events: [install]}\n"
			"  - name: p1\n    templates: [a.yaml]\n    hook: {of: a, when: post}\n";
	static const char *const want[] = { "a", "p1", "q1", "q2", "b", "p2" };
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	size_t *order, i;
	CHECK_INT_EQ(rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", t, strlen(t), &e), 0);
	order = rel_stage_order(&a, &b);
	for (i = 0; i < 6; i++)
		CHECK_STR_EQ(b.stages[order[i]].name, want[i]);
	CHECK_INT_EQ(b.stages[0].hook_events, REL_STAGE_ON_UPGRADE);
	CHECK(b.stages[0].hook_post);
	CHECK_INT_EQ(b.stages[3].hook_events, REL_STAGE_ON_INSTALL | REL_STAGE_ON_UPGRADE);
	CHECK_INT_EQ(b.stages[4].hook_events, REL_STAGE_ON_INSTALL);
	kerr_clear(&e);
	karena_release(&a);
}

TEST(release_parse_duration)
{
	CHECK_INT_EQ(rel_parse_duration("5m"), 300000);
	CHECK_INT_EQ(rel_parse_duration("1h30m"), 5400000);
	CHECK_INT_EQ(rel_parse_duration("90s"), 90000);
	CHECK_INT_EQ(rel_parse_duration("500ms"), 500);
	CHECK_INT_EQ(rel_parse_duration("1.5s"), 1500);
	CHECK_INT_EQ(rel_parse_duration("5"), -1);
	CHECK_INT_EQ(rel_parse_duration("x"), -1);
	CHECK_INT_EQ(rel_parse_duration(""), -1);
}

TEST(release_bundle_survives_truncation)
{
	size_t i, n = strlen(good);
	for (i = 0; i <= n; i++) {
		karena a = KARENA_INIT;
		kerr e = KERR_INIT;
		rel_bundle b;
		rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", good, i, &e);
		kerr_clear(&e);
		karena_release(&a);
	}
	CHECK(1);
}

TEST(release_bundle_optional_pin_and_typed_values)
{
	const char *t = "name: x\nstages:\n  - name: a\n    source: {url: https://x/y.yaml}\n    pin: optional\n"
			"  - name: b\n    ops:\n      - jsonKeyMerge:\n          configMap: '{{ .Values.ns }}/cm'\n"
			"          key: k\n          set: {t: {json: '{{ .Values.t | toJson }}'}, u: {json: x, y: 1}}\n";
	const char *ok = "name: x\nstages:\n  - name: a\n    source: {url: https://x/y.yaml}\n    pin: optional\n"
			 "  - name: b\n    ops:\n      - jsonKeyMerge:\n          configMap: '{{ .Values.ns }}/cm'\n"
			 "          key: k\n          set: {t: {json: '{{ .Values.t | toJson }}'}, s: plain}\n";
	karena a = KARENA_INIT;
	kerr e = KERR_INIT;
	rel_bundle b;
	CHECK_INT_EQ(rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", t, strlen(t), &e), KE_INPUT);
	kerr_clear(&e);
	CHECK_INT_EQ(rel_bundle_parse(&b, &a, "/b", "/b/kstage.yaml", ok, strlen(ok), &e), 0);
	if (!e.code && b.nstages == 2) {
		const doc_node *set = b.stages[1].ops[0].set;
		CHECK(b.stages[0].pin_optional);
		CHECK(!b.stages[1].pin_optional);
		CHECK_STR_EQ(b.stages[1].ops[0].ref_tmpl, "{{ .Values.ns }}/cm");
		CHECK(b.stages[1].ops[0].name == NULL);
		CHECK(rel_op_typed(doc_map_get(set, "t")) != NULL);
		CHECK_STR_EQ(rel_op_typed(doc_map_get(set, "t"))->u.s.ptr, "{{ .Values.t | toJson }}");
		CHECK(rel_op_typed(doc_map_get(set, "s")) == NULL);
	}
	kerr_clear(&e);
	karena_release(&a);
}
