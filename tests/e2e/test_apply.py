"""kstage apply / plan against the test cluster, checked with kubectl."""
import json
import os
import stat
import textwrap

GW_OBJECTS = """\
    apiVersion: v1
    kind: Namespace
    metadata:
      name: e2e-apply-gw
      labels: {e2e: apply}
    ---
    apiVersion: gateway.networking.k8s.io/v1
    kind: GatewayClass
    metadata:
      name: e2e-apply-class
    spec:
      controllerName: gateway.envoyproxy.io/gatewayclass-controller
    ---
    apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata:
      name: e2e-gateway
      namespace: e2e-apply-gw
    spec:
      gatewayClassName: e2e-apply-class
      listeners:
      - name: http
        port: 80
        protocol: HTTP
        allowedRoutes:
          namespaces: {from: All}
    ---
    apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata:
      name: e2e-route
      namespace: e2e-apply-gw
    spec:
      parentRefs: [{name: e2e-gateway}]
      rules:
      - backendRefs: [{name: backend, port: 8080}]
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: backend
      namespace: e2e-apply-gw
    spec:
      ports: [{port: 8080}]
      selector: {app: backend}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: e2e-settings
      namespace: e2e-apply-gw
    data:
      mode: blue
      size: "3"
"""

GW_REFS = [
    ("crd", None, "gatewayclasses.gateway.networking.k8s.io"),
    ("crd", None, "gateways.gateway.networking.k8s.io"),
    ("crd", None, "httproutes.gateway.networking.k8s.io"),
    ("crd", None, "grpcroutes.gateway.networking.k8s.io"),
    ("crd", None, "referencegrants.gateway.networking.k8s.io"),
    ("namespace", None, "e2e-apply-gw"),
    ("gatewayclass", None, "e2e-apply-gw-class"),
    ("gateway", "e2e-apply-gw", "e2e-gateway"),
    ("httproute", "e2e-apply-gw", "e2e-route"),
    ("configmap", "e2e-apply-gw", "e2e-settings"),
    ("service", "e2e-apply-gw", "backend"),
]


def gw_bundle(cluster, name="gw", ns="e2e-apply-gw"):
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    return cluster.bundle(name, f"""\
        name: e2e-gateway
        version: 0.1.0
        stages:
          - name: gateway-api-crds
            source: {{url: {cluster.gw_url()}, sha256: 97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64}}
            rollback: keep
          - name: gateway
            source: {{path: manifests}}
            timeout: 90s
        """, {"manifests/gw.yaml": GW_OBJECTS.replace("e2e-apply-gw", ns).replace("e2e-apply-class", ns + "-class")})


def test_gateway_bundle_then_its_kinds_in_one_run_and_idempotent(cluster):
    # a cluster without Gateway API: the CRDs and objects of their kinds in one run
    fix = os.path.join(cluster.env.get("KSTAGE_FIXTURES", ""), "gateway-api", "v1.2.1", "standard-install.yaml")
    if os.path.exists(fix):
        cluster.kubectl("delete", "-f", fix, "--ignore-not-found", "--wait=true")
    b = gw_bundle(cluster)
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    if os.path.exists(fix):
        assert "+ GatewayClass/e2e-apply-gw-class (created after stage gateway-api-crds)" in p.stdout
        assert "+ Gateway/e2e-apply-gw/e2e-gateway (created after stage gateway-api-crds)" in p.stdout
    assert "+ Service/e2e-apply-gw/backend (created)" in p.stdout
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "stage gateway-api-crds" in r.stderr and "stage gateway: ready" in r.stderr
    gw = cluster.get("gateway", "e2e-gateway", "-n", "e2e-apply-gw", "--show-managed-fields")
    conds = {c["type"]: c["status"] for c in gw["status"]["conditions"]}
    assert conds.get("Programmed") == "True"
    assert any(m["manager"] == "kstage" and m["operation"] == "Apply" for m in gw["metadata"]["managedFields"])
    route = cluster.get("httproute", "e2e-route", "-n", "e2e-apply-gw")
    assert route["status"]["parents"][0]["conditions"][0]["status"] == "True"
    before = cluster.rvs(GW_REFS)
    r2 = cluster.kstage("apply", b)
    assert r2.returncode == 0, r2.stderr
    after = cluster.rvs(GW_REFS)
    moved = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not moved, f"resourceVersions moved on the second run: {moved}"
    # the plan agrees: nothing to do
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "0 to create, 0 to change, 0 to delete, 11 unchanged" in p.stdout


def test_plan_shows_exactly_the_drift(cluster):
    b = gw_bundle(cluster, "gw-drift", "e2e-drift")
    assert cluster.kstage("apply", b).returncode == 0
    # drift by another manager, on a field kstage owns, plus one it does not own
    cluster.kubectl("patch", "configmap", "e2e-settings", "-n", "e2e-drift", "--type=merge",
                    "-p", '{"data":{"mode":"green","extra":"theirs"}}')
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    out = p.stdout
    assert "~ ConfigMap/e2e-drift/e2e-settings (changed)" in out
    assert "-  mode: green" in out and "+  mode: blue" in out
    changes = [l.strip() for l in out.splitlines()
               if l.startswith(("    +", "    -")) and not l.startswith(("    +++", "    ---"))]
    assert changes == ["-  mode: green", "+  mode: blue"], changes   # "extra" is not ours: not drift
    assert "1 to change" in out and "10 unchanged" in out
    assert "needs --force-conflicts" in out and "kubectl-patch" in out
    # JSON lines say the same
    pj = cluster.kstage("plan", b, "-o", "json")
    lines = [json.loads(l) for l in pj.stdout.splitlines() if l.strip()]
    changed = [l for l in lines if l.get("action") == "changed"]
    assert [l["object"] for l in changed] == ["ConfigMap/e2e-drift/e2e-settings"]
    # apply refuses to take the field without --force-conflicts, naming field and owner
    a = cluster.kstage("apply", b)
    assert a.returncode == 1, a.stderr   # rolled back (the CRD stage changed nothing)
    assert "rolled back: the cluster is as it was before the run" in a.stderr
    assert ".data.mode (owned by \"kubectl-patch\")" in a.stderr
    assert "--force-conflicts" in a.stderr
    a = cluster.kstage("apply", b, "--force-conflicts")
    assert a.returncode == 0, a.stderr
    cm = cluster.get("configmap", "e2e-settings", "-n", "e2e-drift")
    assert cm["data"]["mode"] == "blue" and cm["data"]["extra"] == "theirs"
    assert cluster.kstage("plan", b, "--detailed-exitcode").returncode == 0


def test_plan_before_crds_exist_shows_created_after(cluster):
    b = cluster.bundle("later", """\
        name: later
        stages:
          - name: crds
            source: {path: crds}
          - name: widgets
            source: {path: widgets}
        """, {
        "crds/widget.yaml": """\
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.later.e2e.kstage.dev}
            spec:
              group: later.e2e.kstage.dev
              names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
              scope: Namespaced
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
            """,
        "widgets/w.yaml": """\
            apiVersion: later.e2e.kstage.dev/v1
            kind: Widget
            metadata: {name: w1, namespace: default}
            spec: {size: 1}
            """})
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "+ Widget/default/w1 (created after stage crds)" in p.stdout
    a = cluster.kstage("apply", b)
    assert a.returncode == 0, a.stderr
    assert cluster.exists("widgets.later.e2e.kstage.dev", "w1", "-n", "default")
    cluster.kubectl("delete", "crd", "widgets.later.e2e.kstage.dev", "--wait=true")


def test_missing_crd(cluster):
    b = cluster.bundle("nocrd", """\
        name: nocrd
        stages:
          - name: things
            source: {path: m.yaml}
        """, {"m.yaml": """\
            apiVersion: nowhere.e2e.kstage.dev/v1
            kind: Gadget
            metadata: {name: g, namespace: default}
            """})
    r = cluster.kstage("apply", b)
    assert r.returncode == 1, r.stderr
    assert "has no kind \"Gadget\" in \"nowhere.e2e.kstage.dev/v1\"" in r.stderr
    assert "m.yaml:1:1" in r.stderr


def test_forbidden_names_verb_resource_user(cluster):
    b = cluster.bundle("forbidden", """\
        name: forbidden
        stages:
          - name: cm
            source: {path: m.yaml}
        """, {"m.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: not-yours, namespace: default}
            data: {a: b}
            """})
    # the release lock and records live in kstage-system, out of the user's reach
    r = cluster.kstage("apply", b, kubeconfig=cluster.env["KSTAGE_LIMITED_KUBECONFIG"])
    assert r.returncode == 4, r.stderr
    assert ("403 Forbidden: user \"team-a-user\" may not create leases.coordination.k8s.io in namespace "
            "\"kstage-system\"" in r.stderr), r.stderr
    # with records in its own namespace, the journal's read of the prior state is the first refusal
    ns = cluster.env["KSTAGE_LIMITED_NAMESPACE"]
    r = cluster.kstage("apply", b, "--release-namespace", ns, kubeconfig=cluster.env["KSTAGE_LIMITED_KUBECONFIG"])
    assert r.returncode == 4, r.stderr
    assert ("403 Forbidden: user \"team-a-user\" may not list configmaps in namespace \"default\""
            in r.stderr), r.stderr
    # the same object in the user's own namespace (the context's default) works
    b2 = cluster.bundle("allowed", """\
        name: allowed
        stages:
          - name: cm
            source: {path: m.yaml}
        """, {"m.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: yours}
            data: {a: b}
            """})
    r = cluster.kstage("apply", b2, "--release-namespace", ns, kubeconfig=cluster.env["KSTAGE_LIMITED_KUBECONFIG"])
    assert r.returncode == 0, r.stderr
    assert cluster.exists("configmap", "yours", "-n", cluster.env["KSTAGE_LIMITED_NAMESPACE"])


def test_immutable_field_422(cluster):
    def dep(sel):
        return cluster.bundle("immut-" + sel, """\
            name: immut
            stages:
              - name: app
                source: {path: d.yaml}
                wait: false
            """, {"d.yaml": f"""\
                apiVersion: apps/v1
                kind: Deployment
                metadata: {{name: e2e-immut, namespace: default}}
                spec:
                  replicas: 1
                  selector: {{matchLabels: {{app: {sel}}}}}
                  template:
                    metadata: {{labels: {{app: {sel}}}}}
                    spec:
                      containers: [{{name: c, image: example.com/x:1}}]
                """})
    assert cluster.kstage("apply", dep("one")).returncode == 0
    r = cluster.kstage("apply", dep("two"))
    assert r.returncode == 2, r.stderr   # the object is invalid (422): an input error, nothing changed
    assert "422 immutable field:" in r.stderr and "spec.selector" in r.stderr
    assert "delete and re-create" in r.stderr


def test_namespace_on_cluster_scoped_kind(cluster):
    b = cluster.bundle("scoped", """\
        name: scoped
        stages:
          - name: rbac
            source: {path: r.yaml}
        """, {"r.yaml": """\
            apiVersion: rbac.authorization.k8s.io/v1
            kind: ClusterRole
            metadata:
              name: e2e-scoped
              namespace: oops
            rules: []
            """})
    r = cluster.kstage("apply", b)
    assert r.returncode == 2, r.stderr
    assert "r.yaml:5:14:" in r.stderr
    assert "ClusterRole \"e2e-scoped\" is cluster-scoped but sets metadata.namespace \"oops\"" in r.stderr


def write_kubeconfig(path, server, ca_data, user):
    cfg = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    path.write_text(json.dumps(cfg))
    return str(path)


def admin_parts(cluster):
    cfg = json.loads(cluster.kubectl("config", "view", "--raw", "-o", "json",
                                     kubeconfig=cluster.env["KSTAGE_DIRECT_KUBECONFIG"]).stdout)
    return (cfg["clusters"][0]["cluster"]["certificate-authority-data"], cfg["users"][0]["user"]["token"])


SIMPLE = """\
    name: simple
    stages:
      - name: cm
        source: {path: m.yaml}
    """


def simple_bundle(cluster, name):
    return cluster.bundle(name, SIMPLE, {"m.yaml": f"""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {{name: e2e-{name}, namespace: default}}
        data: {{who: {name}}}
        """})


def test_unreachable_server_and_bad_ca(cluster):
    ca, tok = admin_parts(cluster)
    b = simple_bundle(cluster, "unreach")
    kc = write_kubeconfig(cluster.tmp / "unreach.kubeconfig", "https://127.0.0.1:1", ca, {"token": tok})
    r = cluster.kstage("apply", b, kubeconfig=kc)
    assert r.returncode == 4, r.stderr
    assert "cluster unreachable" in r.stderr
    assert tok not in r.stderr + r.stdout
    # a CA that did not sign the server's certificate
    import base64
    other = base64.b64encode(open(cluster.env["KSTAGE_ARTIFACT_CA"], "rb").read()).decode()
    kc = write_kubeconfig(cluster.tmp / "badca.kubeconfig", cluster.env["KSTAGE_API_DIRECT_URL"], other,
                          {"token": tok})
    r = cluster.kstage("apply", b, kubeconfig=kc)
    assert r.returncode == 4, r.stderr
    assert "TLS:" in r.stderr and "certificate" in r.stderr
    assert tok not in r.stderr + r.stdout


def test_exec_plugin_and_client_certificate(cluster):
    ca, tok = admin_parts(cluster)
    calls = cluster.tmp / "plugin-calls"
    plugin = cluster.tmp / "kstage-test-plugin"
    plugin.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        echo call >> {calls}
        case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) exit 3;; esac
        [ "$FROM_KUBECONFIG" = yes ] || exit 4
        cat <<EOF
        {{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{{"token":"{tok}","expirationTimestamp":"2099-01-01T00:00:00Z"}}}}
        EOF
        """))
    plugin.chmod(plugin.stat().st_mode | stat.S_IEXEC)
    kc = write_kubeconfig(cluster.tmp / "exec.kubeconfig", cluster.env["KSTAGE_API_DIRECT_URL"], ca,
                          {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                                    "env": [{"name": "FROM_KUBECONFIG", "value": "yes"}]}})
    b = simple_bundle(cluster, "exec")
    r = cluster.kstage("apply", b, kubeconfig=kc)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "e2e-exec", "-n", "default")["data"]["who"] == "exec"
    assert calls.read_text().count("call") == 1     # cached until expirationTimestamp
    # client certificate (cert.kubeconfig goes straight to the API server)
    b = simple_bundle(cluster, "cert")
    r = cluster.kstage("apply", b, kubeconfig=cluster.env["KSTAGE_CERT_KUBECONFIG"])
    assert r.returncode == 0, r.stderr
    cm = cluster.get("configmap", "e2e-cert", "-n", "default")
    assert cm["data"]["who"] == "cert"


def test_json_key_merge_and_rollout_restart(cluster):
    cluster.kubectl("apply", "-f", "-", input=textwrap.dedent("""\
        apiVersion: v1
        kind: Namespace
        metadata: {name: e2e-ops}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: inferenceservice-config, namespace: e2e-ops}
        data:
          ingress: |-
            {
                "ingressGateway": "knative-serving/knative-ingress-gateway",
                "ingressDomain": "example.com",
                "enableGatewayApi": false,
                "urlScheme": "http"
            }
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: controller, namespace: e2e-ops}
        spec:
          replicas: 1
          selector: {matchLabels: {app: controller}}
          template:
            metadata: {labels: {app: controller}}
            spec:
              containers: [{name: c, image: example.com/controller:1}]
        """))
    b = cluster.bundle("ops", """\
        name: ops
        stages:
          - name: config
            ops:
              - jsonKeyMerge: {configMap: e2e-ops/inferenceservice-config, key: ingress,
                               set: {enableGatewayApi: true, kserveIngressGateway: kserve/kserve-ingress-gateway}}
              - rolloutRestart: {deployment: e2e-ops/controller}
            timeout: 2m
        """)
    gen0 = cluster.get("deployment", "controller", "-n", "e2e-ops")["metadata"]["generation"]
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    assert '~ ConfigMap/e2e-ops/inferenceservice-config (changed)' in p.stdout
    diff = [l.strip()[0] + l.strip()[1:].strip() for l in p.stdout.splitlines() if l.startswith(("    +", "    -")) and
            not l.startswith(("    +++", "    ---"))]
    assert diff == ['-"enableGatewayApi": false,', '-"urlScheme": "http"', '+"enableGatewayApi": true,',
                    '+"urlScheme": "http",', '+"kserveIngressGateway": "kserve/kserve-ingress-gateway"'], diff
    assert "~ Deployment/e2e-ops/controller (changed)" in p.stdout
    assert cluster.get("deployment", "controller", "-n", "e2e-ops")["metadata"]["generation"] == gen0
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    ingress = cluster.get("configmap", "inferenceservice-config", "-n", "e2e-ops")["data"]["ingress"]
    keys = list(json.loads(ingress).keys())
    assert keys == ["ingressGateway", "ingressDomain", "enableGatewayApi", "urlScheme", "kserveIngressGateway"]
    assert json.loads(ingress)["enableGatewayApi"] is True
    d = cluster.get("deployment", "controller", "-n", "e2e-ops")
    assert d["metadata"]["generation"] == gen0 + 1
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"]["annotations"]
    # the key merge is idempotent: a second run leaves the ConfigMap alone
    rv = cluster.get("configmap", "inferenceservice-config", "-n", "e2e-ops")["metadata"]["resourceVersion"]
    b2 = cluster.bundle("ops2", """\
        name: ops2
        stages:
          - name: config
            ops:
              - jsonKeyMerge: {configMap: e2e-ops/inferenceservice-config, key: ingress,
                               set: {enableGatewayApi: true}}
        """)
    p = cluster.kstage("plan", b2, "--detailed-exitcode")
    assert p.returncode == 0, p.stdout + p.stderr
    r = cluster.kstage("apply", b2)
    assert r.returncode == 0, r.stderr
    assert "jsonKeyMerge: unchanged" in r.stderr
    assert cluster.get("configmap", "inferenceservice-config", "-n", "e2e-ops")["metadata"]["resourceVersion"] == rv


def test_fault_proxy_convergence(cluster):
    """500s, 429 with Retry-After, connection resets and latency on 20% of
    requests: the apply still converges, with no duplicate effects."""
    import uuid
    n = 40
    run = uuid.uuid4().hex[:8]   # every run changes every object: all are sent
    docs = []
    for i in range(n):
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: e2e-fault-{i}, namespace: e2e-fault}}\n"
                    f"data: {{i: \"{i}\", run: \"{run}\"}}\n")
    cluster.kubectl("create", "namespace", "e2e-fault", check=False)
    cluster.kubectl("apply", "-f", "-", input=textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: restart-me, namespace: e2e-fault}
        spec:
          replicas: 1
          selector: {matchLabels: {app: r}}
          template:
            metadata: {labels: {app: r}}
            spec:
              containers: [{name: c, image: example.com/r:1}]
        """))
    b = cluster.bundle("fault", """\
        name: fault
        stages:
          - name: configs
            source: {path: cms.yaml}
          - name: restart
            ops:
              - rolloutRestart: {deployment: e2e-fault/restart-me, when: always}
            timeout: 2m
        """, {"cms.yaml": "---\n".join(docs)})
    gen0 = cluster.get("deployment", "restart-me", "-n", "e2e-fault")["metadata"]["generation"]
    cluster.fault("DELETE", "/rules")
    cluster.fault("DELETE", "/counters")
    rules = [
        {"action": "status", "status": 500, "probability": 0.2, "times": 15},
        {"action": "status", "status": 429, "retryAfter": 1, "probability": 0.2, "times": 5},
        {"action": "reset", "probability": 0.2, "times": 10},
        {"action": "latency", "latencyMs": 300, "probability": 0.2},
    ]
    try:
        for rule in rules:
            cluster.fault("POST", "/rules", rule)
        r = cluster.kstage("apply", b, "-v", timeout=600)
        fired = {x["action"] + str(x.get("status", "")): x["fired"] for x in cluster.fault("GET", "/rules")}
    finally:
        cluster.fault("DELETE", "/rules")
    assert r.returncode == 0, r.stderr
    assert sum(fired.values()) > 0, fired
    for i in range(n):
        cm = cluster.get("configmap", f"e2e-fault-{i}", "-n", "e2e-fault")
        assert cm["data"] == {"i": str(i), "run": run}
    d = cluster.get("deployment", "restart-me", "-n", "e2e-fault")
    assert d["metadata"]["generation"] == gen0 + 1, "the restart happened more than once"
    print("faults fired:", fired)


def test_chart_as_bundle_crds_first_upgraded_never_downgraded(cluster):
    import shutil
    chart = os.path.join(os.path.dirname(__file__), "charts", "widgets")
    cluster.kubectl("delete", "crd", "widgets.charts.e2e.kstage.dev", "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", "e2e-chart", check=False)
    r = cluster.kstage("apply", chart, "-n", "e2e-chart", "--set", "size=3")
    assert r.returncode == 0, r.stderr
    assert r.stderr.index("stage crds") < r.stderr.index("stage widgets")
    w = cluster.get("widgets.charts.e2e.kstage.dev", "widgets-widget", "-n", "e2e-chart")
    assert w["spec"] == {"size": 3, "color": "blue"}
    # a newer chart upgrades its CRD (Helm would not)
    v2 = cluster.tmp / "widgets-v2"
    shutil.copytree(chart, v2, dirs_exist_ok=True)
    crd = (v2 / "crds" / "widget.yaml").read_text().replace(
        "color: {type: string}", "color: {type: string}\n              shape: {type: string}")
    (v2 / "crds" / "widget.yaml").write_text(crd)
    (v2 / "Chart.yaml").write_text((v2 / "Chart.yaml").read_text().replace("version: 0.1.0", "version: 0.2.0"))
    p = cluster.kstage("plan", str(v2), "-n", "e2e-chart", "--set", "size=3")
    assert "~ CustomResourceDefinition/widgets.charts.e2e.kstage.dev (changed)" in p.stdout, p.stdout
    assert "+              shape:" in p.stdout
    r = cluster.kstage("apply", str(v2), "-n", "e2e-chart", "--set", "size=3")
    assert r.returncode == 0, r.stderr
    props = cluster.get("crd", "widgets.charts.e2e.kstage.dev")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert "shape" in props["properties"]["spec"]["properties"]
    # the older chart again: its CRD is kept, the rest applies
    r = cluster.kstage("apply", chart, "-n", "e2e-chart")
    assert r.returncode == 0, r.stderr
    assert "kept, the cluster has it from chart version 0.2.0 (this is 0.1.0)" in r.stderr
    props = cluster.get("crd", "widgets.charts.e2e.kstage.dev")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert "shape" in props["properties"]["spec"]["properties"]
    assert cluster.get("widgets.charts.e2e.kstage.dev", "widgets-widget", "-n", "e2e-chart")["spec"]["size"] == 1


def test_url_source_digest_mismatch(cluster):
    url = cluster.env["KSTAGE_ARTIFACT_URL"] + "/_tamper/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"
    b = cluster.bundle("tamper", f"""\
        name: tamper
        stages:
          - name: crds
            source: {{url: {url}, sha256: 97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64}}
        """)
    # a fresh cache: the good file may be cached already under the same digest
    r = cluster.kstage("apply", b, env={"XDG_CACHE_HOME": str(cluster.tmp / "tamper-cache")})
    assert r.returncode == 2, r.stderr
    assert "sha256 mismatch: pinned 97598bf6ab3b33b9b5c5432bdd24de091e4e9c3aa0575ebb0710a2a19cd64d64, got" in r.stderr


def test_plan_masks_secret_values(cluster):
    cluster.kubectl("create", "namespace", "e2e-secret", check=False)
    cluster.kubectl("delete", "secret", "creds", "-n", "e2e-secret", "--ignore-not-found")
    def bundle(pw):
        return cluster.bundle("secret-" + pw, """\
            name: secret
            stages:
              - name: s
                source: {path: s.yaml}
            """, {"s.yaml": f"""\
                apiVersion: v1
                kind: Secret
                metadata: {{name: creds, namespace: e2e-secret}}
                stringData: {{password: {pw}, user: admin}}
                """})
    p = cluster.kstage("plan", bundle("hunter2"), "-v")
    assert p.returncode == 0, p.stderr
    assert "hunter2" not in p.stdout + p.stderr
    assert cluster.kstage("apply", bundle("hunter2")).returncode == 0
    p = cluster.kstage("plan", bundle("correcthorse"), "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "hunter2" not in p.stdout and "correcthorse" not in p.stdout
    assert "aHVudGVyMg" not in p.stdout and "Y29ycmVjdGhvcnNl" not in p.stdout   # nor their base64
    assert "<redacted: changed>" in p.stdout


def test_templates_values_and_enabled(cluster):
    cluster.kubectl("create", "namespace", "e2e-tmpl", check=False)
    cluster.kubectl("delete", "configmap", "--all", "-n", "e2e-tmpl")
    cluster.kubectl("create", "configmap", "tmpl-json", "-n", "e2e-tmpl",
                    "--from-literal=config.json={\"gateway\": \"none\", \"keep\": true}")
    b = cluster.bundle("tmpl", """\
        name: tmpl
        stages:
          - name: base
            templates: [settings.yaml]
            namespace: e2e-tmpl
          - name: extra
            templates: [extra.yaml]
            namespace: e2e-tmpl
            enabled: "{{ .Values.extra.enabled }}"
          - name: config
            ops:
              - jsonKeyMerge: {configMap: e2e-tmpl/tmpl-json, key: config.json,
                               set: {gateway: "{{ .Values.gateway.namespace }}/{{ .Values.gateway.name }}"}}
        """, {
        "values/values.yaml": """\
            color: blue
            replicas: 2
            extra: {enabled: false}
            gateway: {namespace: kserve, name: kserve-ingress-gateway}
            """,
        "templates/_helpers.tpl": """\
            {{- define "tmpl.labels" -}}
            app.kubernetes.io/managed-by: kstage
            app.kubernetes.io/part-of: {{ .Release.Name }}
            {{- end -}}
            """,
        "templates/settings.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: tmpl-settings
              labels:
                {{- include "tmpl.labels" . | nindent 4 }}
            data:
              color: {{ .Values.color | quote }}
              replicas: {{ .Values.replicas | quote }}
            """,
        "templates/extra.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: tmpl-extra}
            data: {on: "yes"}
            """})
    vals = cluster.tmp / "tmpl-values.yaml"
    vals.write_text("color: green\n")
    r = cluster.kstage("apply", b, "-f", str(vals), "--set", "replicas=5")
    assert r.returncode == 0, r.stderr
    assert "stage extra: skipped" in r.stderr
    cm = cluster.get("configmap", "tmpl-settings", "-n", "e2e-tmpl")
    assert cm["data"]["color"] == "green" and cm["data"]["replicas"] == "5"
    assert cm["metadata"]["labels"]["app.kubernetes.io/part-of"] == "tmpl"
    cj = cluster.get("configmap", "tmpl-json", "-n", "e2e-tmpl")["data"]["config.json"]
    assert json.loads(cj) == {"gateway": "kserve/kserve-ingress-gateway", "keep": True}
    assert list(json.loads(cj)) == ["gateway", "keep"]
    assert not cluster.exists("configmap", "tmpl-extra", "-n", "e2e-tmpl")
    r = cluster.kstage("apply", b, "-f", str(vals), "--set", "replicas=5", "--set", "extra.enabled=true")
    assert r.returncode == 0, r.stderr
    assert cluster.exists("configmap", "tmpl-extra", "-n", "e2e-tmpl")


def test_tls_server_name(cluster):
    ca, tok = admin_parts(cluster)
    b = simple_bundle(cluster, "sni")
    url = cluster.env["KSTAGE_API_DIRECT_URL"]
    for name, want in (("kubernetes.default", 0), ("wrong.example", 4)):
        cfg = {
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": url, "certificate-authority-data": ca,
                                                   "tls-server-name": name}}],
            "users": [{"name": "u", "user": {"token": tok}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        }
        kc = cluster.tmp / f"sni-{name}.kubeconfig"
        kc.write_text(json.dumps(cfg))
        r = cluster.kstage("apply", b, kubeconfig=str(kc))
        assert r.returncode == want, (name, r.stderr)
        if want:
            assert "TLS:" in r.stderr and "tls-server-name" in r.stderr


def test_timeout_names_objects_and_conditions_and_custom_rules(cluster):
    cluster.kubectl("delete", "namespace", "e2e-wait", "--ignore-not-found", "--wait=true")
    b = cluster.bundle("wait", """\
        name: wait
        stages:
          - name: gw
            source: {path: gw.yaml}
            timeout: 4s
        """, {"gw.yaml": """\
            apiVersion: v1
            kind: Namespace
            metadata: {name: e2e-wait}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: GatewayClass
            metadata: {name: e2e-wait-nobody}
            spec: {controllerName: example.com/nobody-runs-this}
            ---
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: stuck, namespace: e2e-wait}
            spec:
              gatewayClassName: e2e-wait-nobody
              listeners: [{name: http, port: 80, protocol: HTTP}]
            """})
    r = cluster.kstage("apply", b)
    assert r.returncode == 1, r.stderr   # applied, then failed: rolled back
    assert "rolled back: the cluster is as it was before the run" in r.stderr
    assert "stage gw: not healthy within the stage timeout (4s): 2 objects are not ready after" in r.stderr
    assert "GatewayClass/e2e-wait-nobody: Accepted=Unknown (Pending: Waiting for controller)" in r.stderr
    assert ('Gateway/e2e-wait/stuck: Accepted=Unknown (Pending: Waiting for controller)\n'
            '      conditions: Accepted=Unknown (Pending: "Waiting for controller"); Programmed=Unknown') in r.stderr
    assert not cluster.exists("gatewayclass", "e2e-wait-nobody")
    assert not cluster.exists("namespace", "e2e-wait")
    # a custom rule for a kind kstage does not know: JSONPath equality
    cluster.kubectl("create", "namespace", "e2e-wait")
    b = cluster.bundle("rules", """\
        name: rules
        stages:
          - name: cm
            source: {path: cm.yaml}
            timeout: 3s
            wait:
              rules:
                - {kind: ConfigMap, jsonPath: .data.phase, equals: Running}
        """, {"cm.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: phased, namespace: e2e-wait}
            data: {phase: Pending}
            """})
    r = cluster.kstage("apply", b)
    assert r.returncode == 1, r.stderr   # applied, then failed: rolled back
    assert "ConfigMap/e2e-wait/phased: .data.phase is \"Pending\", want Running" in r.stderr
    assert not cluster.exists("configmap", "phased", "-n", "e2e-wait")
    cluster.kubectl("create", "configmap", "phased", "-n", "e2e-wait", "--from-literal=phase=Running")
    r = cluster.kstage("apply", b, "--force-conflicts")
    assert r.returncode == 1   # kstage sets it to Pending: not ready, and put back
    assert cluster.get("configmap", "phased", "-n", "e2e-wait")["data"] == {"phase": "Running"}
    b2 = b.replace("rules", "rules")  # same bundle, now with the value the rule wants
    (cluster.tmp / "rules" / "cm.yaml").write_text((cluster.tmp / "rules" / "cm.yaml").read_text().replace("Pending", "Running"))
    r = cluster.kstage("apply", b2, "--force-conflicts")
    assert r.returncode == 0, r.stderr


def test_path_tarball_source_and_stage_filter(cluster):
    import io
    import tarfile
    cluster.kubectl("create", "namespace", "e2e-tar", check=False)
    # fresh objects (a second session would find them unchanged and not send them)
    cluster.kubectl("delete", "configmap", "tar-a", "tar-b", "tar-more", "-n", "e2e-tar", "--ignore-not-found")
    b = cluster.bundle("tar", """\
        name: tar
        stages:
          - name: first
            source: {path: files/manifests.tgz}
          - name: second
            source: {path: files/more.yaml}
        """, {"files/more.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: tar-more, namespace: e2e-tar}
            """})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, text in (("m/b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tar-b, namespace: e2e-tar}\n"),
                           ("m/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tar-a, namespace: e2e-tar}\n"
                                        "data: {x: '1'}\n"),
                           ("m/README.md", "not a manifest")):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    (cluster.tmp / "tar" / "files" / "manifests.tgz").write_bytes(buf.getvalue())
    r = cluster.kstage("apply", b, "--stage", "first")
    assert r.returncode == 0, r.stderr
    assert r.stderr.index("ConfigMap/e2e-tar/tar-a") < r.stderr.index("ConfigMap/e2e-tar/tar-b")
    assert cluster.exists("configmap", "tar-a", "-n", "e2e-tar") and cluster.exists("configmap", "tar-b", "-n", "e2e-tar")
    assert not cluster.exists("configmap", "tar-more", "-n", "e2e-tar")


def test_admission_policy_denial(cluster):
    cluster.kubectl("create", "namespace", "e2e-policy", check=False)
    cluster.kubectl("apply", "-f", "-", input=textwrap.dedent("""\
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicy
        metadata: {name: e2e-no-red}
        spec:
          failurePolicy: Fail
          matchConstraints:
            resourceRules:
            - apiGroups: [""]
              apiVersions: [v1]
              operations: [CREATE, UPDATE]
              resources: [configmaps]
          validations:
          - expression: "!has(object.data) || !('color' in object.data) || object.data.color != 'red'"
            message: red is not allowed here
        ---
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingAdmissionPolicyBinding
        metadata: {name: e2e-no-red-binding}
        spec:
          policyName: e2e-no-red
          validationActions: [Deny]
          matchResources:
            namespaceSelector:
              matchLabels: {kubernetes.io/metadata.name: e2e-policy}
        """))
    b = cluster.bundle("policy", """\
        name: policy
        stages:
          - name: cm
            source: {path: cm.yaml}
        """, {"cm.yaml": """\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: painted, namespace: e2e-policy}
            data: {color: red}
            """})
    import time
    r = None
    for _ in range(20):   # the policy takes a moment to be enforced
        r = cluster.kstage("apply", b)
        if r.returncode != 0:
            break
        cluster.kubectl("delete", "configmap", "painted", "-n", "e2e-policy", "--ignore-not-found")
        time.sleep(0.5)
    assert r.returncode == 1, r.stderr
    assert ('ConfigMap/e2e-policy/painted: stage cm: apply: denied by ValidatingAdmissionPolicy "e2e-no-red" '
            '(binding "e2e-no-red-binding"): red is not allowed here') in r.stderr, r.stderr
    cluster.kubectl("delete", "validatingadmissionpolicybinding", "e2e-no-red-binding")
    cluster.kubectl("delete", "validatingadmissionpolicy", "e2e-no-red")


def test_proxy_url_ca_file_and_token_file(cluster):
    """proxy-url (an HTTP CONNECT proxy), certificate-authority as a file and
    tokenFile instead of inline data."""
    import socket
    import socketserver
    import threading
    _, tok = admin_parts(cluster)
    tunnels = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
            line = head.split(b"\r\n", 1)[0].decode()
            method, target, _ = line.split(" ", 2)
            if method != "CONNECT":
                self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                return
            host, port = target.rsplit(":", 1)
            up = socket.create_connection((host, int(port)))
            tunnels.append(target)
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

            def pipe(a, b):
                try:
                    while True:
                        d = a.recv(65536)
                        if not d:
                            break
                        b.sendall(d)
                except OSError:
                    pass
                finally:
                    try:
                        b.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
            t = threading.Thread(target=pipe, args=(up, self.request), daemon=True)
            t.start()
            pipe(self.request, up)
            t.join(5)
            up.close()

    class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
        daemon_threads = True
        allow_reuse_address = True

    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        tokfile = cluster.tmp / "token"
        tokfile.write_text(tok + "\n")
        cfg = {
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{"name": "c", "cluster": {"server": cluster.env["KSTAGE_API_DIRECT_URL"],
                                                   "certificate-authority": cluster.env["KSTAGE_CLUSTER_CA"],
                                                   "proxy-url": f"http://127.0.0.1:{srv.server_address[1]}"}}],
            "users": [{"name": "u", "user": {"tokenFile": str(tokfile)}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}],
        }
        kc = cluster.tmp / "proxy.kubeconfig"
        kc.write_text(json.dumps(cfg))
        b = simple_bundle(cluster, "proxied")
        r = cluster.kstage("apply", b, kubeconfig=str(kc))
        assert r.returncode == 0, r.stderr
        assert tunnels, "kstage did not go through the proxy"
        assert cluster.get("configmap", "e2e-proxied", "-n", "default")["data"]["who"] == "proxied"
    finally:
        srv.shutdown()
        srv.server_close()


def test_unchanged_objects_are_not_sent_but_drift_still_is(cluster):
    """A big group of one kind is LISTed once; objects that would not change
    are not sent. Drift, a dropped key and a new label are still applied."""
    cluster.kubectl("delete", "namespace", "e2e-noop", "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", "e2e-noop")

    def bundle(name, overrides):
        docs = []
        for i in range(12):
            data = {"i": str(i), "extra": "x"}
            labels = {"set": "noop"}
            data, labels = overrides.get(i, (data, labels))
            docs.append(json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                                    "metadata": {"name": f"noop-{i}", "namespace": "e2e-noop", "labels": labels},
                                    "data": data}))
        return cluster.bundle(name, """\
            name: noop
            stages:
              - name: cms
                source: {path: cms.yaml}
            """, {"cms.yaml": "\n---\n".join(docs) + "\n"})

    b = bundle("noop1", {})
    assert cluster.kstage("apply", b).returncode == 0
    refs = [("configmap", "e2e-noop", f"noop-{i}") for i in range(12)]
    before = cluster.rvs(refs)
    cluster.fault("DELETE", "/counters")
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert "12 unchanged (not sent)" in r.stderr, r.stderr
    counters = cluster.fault("GET", "/counters")
    # (the one PATCH is the previous release record's status label)
    assert not any(k.startswith("PATCH") and "/kstage-system/secrets/" not in k for k in counters), counters
    assert cluster.rvs(refs) == before
    # drift on noop-3 (another manager), a key dropped from noop-5, a label added to noop-7
    cluster.kubectl("patch", "configmap", "noop-3", "-n", "e2e-noop", "--type=merge", "-p", '{"data":{"i":"drifted"}}')
    b2 = bundle("noop2", {5: ({"i": "5"}, {"set": "noop"}), 7: ({"i": "7", "extra": "x"}, {"set": "noop", "new": "yes"})})
    r = cluster.kstage("apply", b2, "--force-conflicts")
    assert r.returncode == 0, r.stderr
    assert "9 unchanged (not sent)" in r.stderr, r.stderr
    assert cluster.get("configmap", "noop-3", "-n", "e2e-noop")["data"]["i"] == "3"
    assert "extra" not in cluster.get("configmap", "noop-5", "-n", "e2e-noop")["data"]
    assert cluster.get("configmap", "noop-7", "-n", "e2e-noop")["metadata"]["labels"]["new"] == "yes"
    after = cluster.rvs(refs)
    moved = sorted(k[2] for k in refs if before[k] != after[k])
    assert moved == ["noop-3", "noop-5", "noop-7"], moved


def test_insecure_skip_tls_verify_warns_loudly(cluster):
    _, tok = admin_parts(cluster)
    cfg = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": cluster.env["KSTAGE_API_DIRECT_URL"],
                                               "insecure-skip-tls-verify": True}}],
        "users": [{"name": "u", "user": {"token": tok}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    }
    kc = cluster.tmp / "insecure.kubeconfig"
    kc.write_text(json.dumps(cfg))
    r = cluster.kstage("apply", simple_bundle(cluster, "insecure"), kubeconfig=str(kc))
    assert r.returncode == 0, r.stderr
    assert "warning: insecure-skip-tls-verify is set: the API server's certificate is NOT checked" in r.stderr
    r = cluster.kstage("apply", simple_bundle(cluster, "insecure"), "-q", kubeconfig=str(kc))
    assert "insecure-skip-tls-verify" in r.stderr     # even with -q


def _writes(cluster):
    """The requests the fault proxy saw that could change the cluster: any
    method but GET/HEAD/OPTIONS without dryRun=All (its WRITE counters)."""
    return {k: v for k, v in cluster.fault("GET", "/counters").items() if k.startswith("WRITE ")}


def test_plan_sends_no_mutating_request(cluster):
    # issue 13: counted by the fault proxy, not by kstage: a plan of a new
    # release (CRDs, then objects of their kinds and core ones), then a plan
    # of the applied release with drift, leave no WRITE; the apply between
    # them does write, so the counter is live
    ns = "e2e-plan-nowrite"
    b = gw_bundle(cluster, "nowrite", ns)
    cluster.fault("DELETE", "/counters")
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    assert _writes(cluster) == {}
    assert any(k.startswith(("PATCH ", "POST ")) for k in cluster.fault("GET", "/counters")), \
        "the plan sent no dry-run request: the check would prove nothing"
    r = cluster.kstage("apply", b)
    assert r.returncode == 0, r.stderr
    assert _writes(cluster), "apply wrote nothing the proxy counted"
    cluster.kubectl("patch", "configmap", "e2e-settings", "-n", ns, "--type=merge", "-p", '{"data":{"mode":"green"}}')
    cluster.fault("DELETE", "/counters")
    p = cluster.kstage("plan", b, "--detailed-exitcode")
    assert p.returncode == 2, p.stdout + p.stderr
    assert f"~ ConfigMap/{ns}/e2e-settings (changed)" in p.stdout
    assert _writes(cluster) == {}
    p = cluster.kstage("plan", b, "-o", "json")
    assert p.returncode == 0, p.stderr
    assert _writes(cluster) == {}



WIDGET_CRD = """\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: KINDS.e2e-learn.kstage.dev}
    spec:
      group: e2e-learn.kstage.dev
      scope: Namespaced
      names: {plural: KINDS, singular: KIND, kind: CAP, listKind: CAPList}
      versions:
        - name: v1alpha1
          served: false
          storage: false
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        - name: v1
          served: true
          storage: true
          schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    """


def _crd(kind):
    return textwrap.dedent(WIDGET_CRD.replace("KINDS", kind.lower() + "s").replace("KIND", kind.lower())
                           .replace("CAP", kind))


def test_crd_kinds_learnt_without_a_discovery_refresh(cluster):
    # a CRD made Established by the run tells discovery its group, plural,
    # scope and served versions itself: whether its objects come in a later
    # stage or the same one, the run reads discovery once (GET /api, /apis)
    ns = "e2e-learn"
    for kind in ("Widget", "Gadget"):
        cluster.kubectl("delete", "crd", f"{kind.lower()}s.e2e-learn.kstage.dev", "--ignore-not-found", "--wait=true")
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    objs = "".join(f"---\napiVersion: e2e-learn.kstage.dev/v1\nkind: {k}\nmetadata: {{name: {k.lower()}-{i}, "
                   f"namespace: {ns}}}\nspec: {{size: {i}}}\n" for k in ("Widget", "Gadget") for i in range(3))
    b = cluster.bundle("learn", """\
        name: learn
        stages:
          - name: crds
            source: {path: crd.yaml}
          - name: objects
            source: {path: objects.yaml}
        """, {"crd.yaml": _crd("Widget"),
              "objects.yaml": _crd("Gadget") + f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n" +
              objs})
    cluster.fault("DELETE", "/counters")
    r = cluster.kstage("apply", b, "--release-namespace", ns + "-rec")
    assert r.returncode == 0, r.stderr
    counters = cluster.fault("GET", "/counters")
    assert counters.get("GET /apis") == 1 and counters.get("GET /api") == 1, counters
    for kind in ("widget", "gadget"):
        got = cluster.get(kind + "s.e2e-learn.kstage.dev", "-n", ns)["items"]
        assert sorted(o["spec"]["size"] for o in got) == [0, 1, 2], got
    cluster.kubectl("delete", "namespace", ns, ns + "-rec", "--ignore-not-found", "--wait=true")
    for kind in ("Widget", "Gadget"):
        cluster.kubectl("delete", "crd", f"{kind.lower()}s.e2e-learn.kstage.dev", "--ignore-not-found", "--wait=true")
