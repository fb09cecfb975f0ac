"""The stage features the shipped bundle uses, against the test cluster and
checked with kubectl: lookup on the live cluster, rolloutRestart when:
changed, checks (with the limited user), outputs, test stages with
`kstage verify`, and --summary."""
import json
import textwrap

from conftest import GW_SHA



def write_chart(cluster, name, version, templates):
    d = cluster.tmp / name
    (d / "templates").mkdir(parents=True, exist_ok=True)
    (d / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (d / "values.yaml").write_text("{}\n")
    for rel, text in templates.items():
        (d / "templates" / rel).write_text(textwrap.dedent(text))
    return str(d)


PASSWORD_CHART = {
    # Bitnami's common.secrets.passwords.manage, reduced: reuse what exists
    "secret.yaml": """\
        {{- $old := lookup "v1" "Secret" .Release.Namespace "app-auth" }}
        apiVersion: v1
        kind: Secret
        metadata: {name: app-auth}
        type: Opaque
        data:
          {{- if and $old $old.data }}
          password: {{ index $old.data "password" }}
          {{- else }}
          password: {{ randAlphaNum 24 | b64enc }}
          {{- end }}
        """,
    "seen.yaml": """\
        {{- $pre := lookup "v1" "Secret" .Release.Namespace "pre-existing" }}
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: seen}
        data:
          uid: {{ dig "metadata" "uid" "none" $pre | quote }}
          kind: {{ $pre.kind | default "none" | quote }}
          names: {{ range (lookup "v1" "Secret" .Release.Namespace "").items }}{{ .metadata.name }},{{ end }}
        """,
}


def test_lookup_renders_live_objects_in_plan_and_apply_and_keeps_passwords(cluster):
    ns = "e2e-lookup"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("delete", "secret", "pre-existing", "app-auth", "-n", ns, "--ignore-not-found")
    cluster.kubectl("create", "secret", "generic", "pre-existing", "-n", ns, "--from-literal=token=hunter2-lookup-token")
    uid = cluster.get("secret", "pre-existing", "-n", ns)["metadata"]["uid"]
    chart = write_chart(cluster, "pw", "0.1.0", PASSWORD_CHART)
    # template stays offline, as helm template
    t = cluster.kstage("template", chart, "-n", ns)
    assert t.returncode == 0, t.stderr
    assert 'uid: "none"' in t.stdout
    # plan sees the Secret that exists
    p = cluster.kstage("plan", chart, "-n", ns, "-v")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f'uid: {uid}' in p.stdout, p.stdout
    assert "hunter2-lookup-token" not in p.stdout + p.stderr
    r = cluster.kstage("apply", chart, "-n", ns)
    assert r.returncode == 0, r.stderr
    seen = cluster.get("configmap", "seen", "-n", ns)["data"]
    assert seen["uid"] == uid and seen["kind"] == "Secret", seen
    assert "pre-existing," in seen["names"], seen
    pw1 = cluster.get("secret", "app-auth", "-n", ns)["data"]["password"]
    # two upgrades keep the password (without lookup each would make a new one)
    for i in range(2):
        r = cluster.kstage("apply", chart, "-n", ns)
        assert r.returncode == 0, r.stderr
        assert cluster.get("secret", "app-auth", "-n", ns)["data"]["password"] == pw1
    assert "app-auth," in cluster.get("configmap", "seen", "-n", ns)["data"]["names"]


def test_lookup_forbidden_stops_the_run_naming_the_object(cluster):
    # the limited user may not read Secrets outside team-a
    b = cluster.bundle("lookup-forbidden", """\
        name: lookup-forbidden
        stages:
          - name: cm
            templates: [cm.yaml]
        """, {"templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: lf}
        data:
          x: {{ (lookup "v1" "Secret" "kube-system" "nope").kind | default "none" | quote }}
        """})
    r = cluster.kstage("plan", b, kubeconfig=cluster.env["KSTAGE_LIMITED_KUBECONFIG"])
    assert r.returncode != 0
    assert "lookup v1 Secret/kube-system/nope" in r.stderr, r.stderr
    assert "forbidden" in r.stderr.lower(), r.stderr
    assert not cluster.exists("configmap", "lf", "-n", "team-a")


def rollout_revision(cluster, ns, name):
    """The newest ReplicaSet's revision: each restart makes a new one."""
    rs = cluster.get("replicasets", "-n", ns, "-l", f"app={name}")["items"]
    return max(int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) for r in rs)


def test_rollout_restart_only_when_the_stage_changed(cluster):
    ns = "e2e-restart"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("apply", "-f", "-", input=textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: ctl, namespace: {ns}}}
        spec:
          replicas: 1
          selector: {{matchLabels: {{app: ctl}}}}
          template:
            metadata: {{labels: {{app: ctl}}}}
            spec:
              containers: [{{name: c, image: example.com/ctl:1}}]
        """))
    b = cluster.bundle("restart", f"""\
        name: restart
        stages:
          - name: config
            namespace: {ns}
            templates: [cm.yaml]
            ops:
              - rolloutRestart: {{deployment: {ns}/ctl}}
            timeout: 2m
          - name: always
            ops:
              - rolloutRestart: {{deployment: {ns}/ctl, when: always}}
            enabled: "{{{{ .Values.always }}}}"
        """, {"templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ctl-config}
        data:
          level: {{ .Values.level | quote }}
        """, "values/values.yaml": "level: info\nalways: false\n"})

    def restarted_at():
        d = cluster.get("deployment", "ctl", "-n", ns)
        return (d["spec"]["template"]["metadata"].get("annotations") or {}).get("kubectl.kubernetes.io/restartedAt")

    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    first = restarted_at()
    assert first, "the first apply creates the ConfigMap: the controller restarts"
    gen = cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"]
    # nothing changed: the plan says no restart, the apply restarts nothing
    p = cluster.kstage("plan", b, "--detailed-exitcode", "-v")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "nothing in the stage changes, no restart" in p.stdout, p.stdout
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "rolloutRestart: not restarted (nothing in the stage changed)" in r.stderr, r.stderr
    assert restarted_at() == first
    assert cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"] == gen
    rs_before = rollout_revision(cluster, ns, "ctl")
    # a changed ConfigMap restarts once, at once (restartedAt carries a
    # fraction of a second: two restarts within one second are two rollouts)
    r = cluster.kstage("apply", b, "--set", "level=debug")
    assert r.returncode == 0, r.stderr
    assert restarted_at() != first
    assert cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"] == gen + 1
    assert rollout_revision(cluster, ns, "ctl") == rs_before + 1
    # when: always restarts with nothing changed
    gen = cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"]
    r = cluster.kstage("apply", b, "--set", "level=debug", "--set", "always=true")
    assert r.returncode == 0, r.stderr
    assert cluster.get("deployment", "ctl", "-n", ns)["metadata"]["generation"] == gen + 1


CHECKS_BUNDLE = """\
    name: chk
    stages:
      - name: preflight
        checks:
          - name: kserve-installed
            fail: '{{ if not (lookup "v1" "ConfigMap" "team-a" "inferenceservice-config") }}KServe is not installed: no ConfigMap team-a/inferenceservice-config{{ end }}'
            info: 'inferenceservice-config found'
          - name: configmaps
            info: '{{ len (lookup "v1" "ConfigMap" "team-a" "").items }} ConfigMaps in team-a'
          - permissions: true
      - name: app
        namespace: team-a
        templates: [cm.yaml]
      - name: patch
        ops:
          - jsonKeyMerge: {configMap: "{{NS}}/chk-target", key: k, set: {a: 1}}
    """


def checks_bundle(cluster, name, ns):
    return cluster.bundle(name, CHECKS_BUNDLE.replace("{{NS}}", ns), {"templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: chk-app}
        data: {a: "1"}
        """})


def test_checks_report_every_problem_and_change_nothing(cluster):
    limited = cluster.env["KSTAGE_LIMITED_KUBECONFIG"]
    cluster.kubectl("delete", "configmap", "inferenceservice-config", "chk-app", "-n", "team-a", "--ignore-not-found")
    cluster.kubectl("create", "namespace", "e2e-chk", check=False)
    cluster.kubectl("delete", "configmap", "chk-target", "-n", "e2e-chk", "--ignore-not-found")
    cluster.kubectl("create", "configmap", "chk-target", "-n", "e2e-chk", "--from-literal=k={}")
    b = checks_bundle(cluster, "chk", "e2e-chk")
    records0 = cluster.get("secrets", "-A", "-l", "owner=kstage,name=chk")["items"]
    counters0 = cluster.fault("GET", "/counters")
    for cmd in ("plan", "apply"):
        r = cluster.kstage(cmd, b, "-o", "json", kubeconfig=limited)
        assert r.returncode == 2, (cmd, r.stdout, r.stderr)
        ev = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        failed = {e["check"]: e["problem"] for e in ev if e.get("event") == "check.failed"}
        assert failed == {
            "kserve-installed": "KServe is not installed: no ConfigMap team-a/inferenceservice-config",
            "permissions": "may not get, update configmaps in namespace e2e-chk",
        }, (cmd, failed)
        passed = [e for e in ev if e.get("event") == "check.passed"]
        assert [e["check"] for e in passed] == ["configmaps"], passed
        err = [e for e in ev if e.get("event") == "error"][0]
        assert err["msg"].startswith("preflight: 2 problems, nothing was changed"), err
    # nothing changed: no object, no release record, no Lease, no write at all
    assert not cluster.exists("configmap", "chk-app", "-n", "team-a")
    assert cluster.get("configmap", "chk-target", "-n", "e2e-chk")["data"] == {"k": "{}"}
    assert cluster.get("secrets", "-A", "-l", "owner=kstage,name=chk")["items"] == records0
    counters = cluster.fault("GET", "/counters")
    writes = {k: v - counters0.get(k, 0) for k, v in counters.items()
              if k.split(" ")[0] in ("PATCH", "PUT", "DELETE", "POST") and v != counters0.get(k, 0)}
    assert set(writes) <= {"POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews"}, writes
    # text: every problem in one report
    r = cluster.kstage("apply", b, kubeconfig=limited)
    assert r.returncode == 2
    assert "stage preflight: check kserve-installed: KServe is not installed" in r.stderr
    assert "stage preflight: check permissions: may not get, update configmaps in namespace e2e-chk" in r.stderr
    # the admin may do it all; with KServe's config present every check passes and the run goes on
    cluster.kubectl("create", "configmap", "inferenceservice-config", "-n", "team-a", check=False)
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "check permissions: ok" in r.stderr and "check kserve-installed: ok: inferenceservice-config found" in r.stderr
    assert cluster.exists("configmap", "chk-app", "-n", "team-a")


VERIFY_BUNDLE = """\
    name: {name}
    stages:
      - name: gateway-api-crds
        source: {{url: {url}, sha256: {sha}}}
        rollback: keep
      - name: gateway
        namespace: e2e-verify
        templates: [gateway.yaml]
        outputs:
          address: '{{{{ $s := lookup "v1" "Service" "e2e-verify" "envoy-e2e-verify-gw" }}}}{{{{ $i := index $s.status.loadBalancer.ingress 0 }}}}{{{{ $i.ip }}}}:{{{{ (index $i.ports 0).port }}}}'
      - name: verify
        namespace: e2e-verify
        templates: [route.yaml]
        test:
          request:
            url: 'http://{{{{ index .Outputs "gateway" "address" }}}}/v2/models/echo/infer'
            host: '{{{{ .Values.host }}}}'
            headers: {{X-Token: '{{{{ .Values.token }}}}'}}
            body: {{inputs: [{{name: input-0, shape: [1, 4], datatype: FP32, data: [[6.8, 2.8, 4.8, 1.4]]}}]}}
          expect:
            status: 200
            json: {expect}
          retry: {{attempts: 20, interval: 1s}}
          cleanup: '{{{{ not .Values.keep }}}}'
    """

VERIFY_FILES = {
    "templates/gateway.yaml": """\
        apiVersion: v1
        kind: Namespace
        metadata: {name: e2e-verify}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: GatewayClass
        metadata: {name: e2e-verify-envoy}
        spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: Gateway
        metadata: {name: e2e-verify-gw}
        spec:
          gatewayClassName: e2e-verify-envoy
          listeners:
            - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
        """,
    "templates/route.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: echo}
        spec:
          selector: {app: echo}
          ports: [{port: 80}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: echo}
        spec:
          hostnames: [echo.e2e.example.com]
          parentRefs: [{name: e2e-verify-gw}]
          rules:
            - matches: [{path: {type: PathPrefix, value: /v2}}]
              backendRefs: [{name: echo, port: 80}]
        """,
    "values/values.yaml": "host: echo.e2e.example.com\ntoken: hunter2-test-token-e2e\nkeep: false\n",
    "values/values.schema.json": '{"type": "object", "properties": {"token": {"type": "string", "x-kstage-secret": true}}}',
}


def verify_bundle(cluster, name, expect):
    return cluster.bundle(name, VERIFY_BUNDLE.format(name=name, url=cluster.gw_url(), sha=GW_SHA, expect=expect),
                          VERIFY_FILES)


def test_test_stage_passes_through_the_gateway_and_cleans_up(cluster):
    b = verify_bundle(cluster, "verify-ok",
                      '{host: echo.e2e.example.com, method: POST, path: /v2/models/echo/infer, '
                      '"route": e2e-verify/echo, "backend": "e2e-verify/echo:80"}')
    r = cluster.kstage("apply", b, "-o", "json", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    ev = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    out = [e for e in ev if e.get("event") == "stage.output"]
    addr = cluster.env["KSTAGE_DATAPLANE_ADDR"]
    assert [(e["stage"], e["output"], e["value"]) for e in out] == [("gateway", "address", addr)], out
    passed = [e for e in ev if e.get("event") == "test.passed"]
    assert len(passed) == 1 and passed[0]["status"] == "200", passed
    assert json.loads(passed[0]["reply"])["host"] == "echo.e2e.example.com"
    assert "hunter2-test-token-e2e" not in r.stdout + r.stderr
    # cleanup deleted the stage's objects, the rest stays
    assert not cluster.exists("httproute", "echo", "-n", "e2e-verify")
    assert not cluster.exists("service", "echo", "-n", "e2e-verify")
    assert cluster.exists("gateway", "e2e-verify-gw", "-n", "e2e-verify")
    # kstage verify runs the test stage alone; --keep-test keeps its objects
    r = cluster.kstage("verify", b, "--keep-test", timeout=600)
    assert r.returncode == 0, r.stderr
    assert "stage verify: test passed: HTTP 200" in r.stderr, r.stderr
    assert "stage gateway: ready" not in r.stderr and "stage gateway-api-crds: ready" not in r.stderr
    assert cluster.exists("httproute", "echo", "-n", "e2e-verify")
    # text output names the output and the request
    assert f"stage gateway: address = {addr}" in r.stderr, r.stderr
    assert f"stage verify: test POST http://{addr}/v2/models/echo/infer Host: echo.e2e.example.com" in r.stderr


def test_test_stage_mismatch_names_path_expected_and_got(cluster):
    b = verify_bundle(cluster, "verify-bad", '{method: GET, "outputs.0.datatype": INT64}')
    r = cluster.kstage("verify", b, "--set", "keep=true", "--stage", "verify", timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'method: expected "GET", got "POST"' in r.stderr, r.stderr
    assert 'outputs.0.datatype: expected "INT64", got nothing (no such path)' in r.stderr, r.stderr
    assert "test failed after 1 attempt" not in r.stderr
    assert "test failed after 20 attempts" in r.stderr


def test_summary_markdown_for_plan_and_apply(cluster):
    ns = "e2e-summary"
    cluster.kubectl("create", "namespace", ns, check=False)
    cluster.kubectl("delete", "configmap", "sum-app", "-n", ns, "--ignore-not-found")
    b = cluster.bundle("summary", f"""\
        name: summary
        version: 1.2.3
        stages:
          - name: preflight
            checks:
              - name: namespace
                fail: '{{{{ if not (lookup "v1" "Namespace" "" "{ns}") }}}}no namespace {ns}{{{{ end }}}}'
                info: 'namespace {ns} is there'
              - name: forced
                fail: '{{{{ if .Values.fail }}}}asked to fail{{{{ end }}}}'
          - name: app
            namespace: {ns}
            templates: [cm.yaml]
            outputs:
              level: '{{{{ (lookup "v1" "ConfigMap" "{ns}" "sum-app").data.level }}}}'
              secret: '{{{{ .Values.password }}}}'
        """, {"templates/cm.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: sum-app}
        data: {level: "{{ .Values.level }}"}
        """, "values/values.yaml": "level: info\npassword: hunter2-summary-pw\nfail: false\n",
            "values/values.schema.json": '{"type": "object", "properties": {"password": {"type": "string", "x-kstage-secret": true}}}'})
    plan_md = cluster.tmp / "plan.md"
    p = cluster.kstage("plan", b, "--summary", str(plan_md))
    assert p.returncode == 0, p.stderr
    md = plan_md.read_text()
    assert md.startswith("## kstage plan: summary succeeded"), md
    assert "| namespace | ok | namespace e2e-summary is there |" in md
    assert "| app | `ConfigMap/e2e-summary/sum-app` | created |" in md, md
    assert "Plan: 1 to create, 0 to change, 0 unchanged." in md
    apply_md = cluster.tmp / "apply.md"
    r = cluster.kstage("apply", b, "--summary", str(apply_md))
    assert r.returncode == 0, r.stderr
    md = apply_md.read_text()
    assert md.startswith("## kstage apply (release summary revision "), md
    assert "| app | ready |" in md and "| 1 | 0 | 0 |" in md, md
    assert "| app | `ConfigMap/e2e-summary/sum-app` | created |" in md, md
    assert "| app | level | `info` |" in md, md
    assert "hunter2-summary-pw" not in md and "| app | secret | `<redacted>` |" in md, md
    # a failing run says so, with the error; an unwritable path fails before anything is sent
    bad_md = cluster.tmp / "fail.md"
    r = cluster.kstage("apply", b, "--set", "fail=true", "--summary", str(bad_md))
    assert r.returncode == 2, r.stderr
    md = bad_md.read_text()
    assert md.startswith("## kstage apply: summary **failed**"), md
    assert "| forced | **problem** | asked to fail |" in md, md
    assert "### Error" in md and "preflight: 1 problem, nothing was changed" in md, md
    r = cluster.kstage("plan", b, "--summary", str(cluster.tmp / "no-such-dir" / "x.md"))
    assert r.returncode == 2 and "--summary" in r.stderr and "cannot write" in r.stderr, r.stderr
