"""The shipped bundle (the repo root: kstage.yaml, kstage.lock, templates/,
values/) against the test cluster with the KServe presets, checked with
kubectl: KServe's Ingress -> Gateway API migration end to end, a second
apply that changes nothing, uninstall that puts the original `ingress`
string back, KServe v0.20.0 with the current versions, the v1.2.1 -> v1.5.1
upgrade and the refused way back, the preflight refusals and the examples.

Each test starts from a preset applied to a cleaned cluster (KServe, the
Gateway API CRDs and policy, the bundle's objects and release records
removed); the module leaves the cluster clean the same way."""
import json
import re
import subprocess
import time

import pytest

from conftest import ROOT
from shipped import GWAPI_PINS, all_mirrors, mirror, pinned_copy

RELEASE = "kserve-gateway-api"
GWAPI = ["gatewayclasses", "gateways", "grpcroutes", "httproutes", "referencegrants"]
GWAPI_151 = GWAPI + ["backendtlspolicies", "listenersets", "tlsroutes"]
VAP = "safe-upgrades.gateway.networking.k8s.io"
EG_CRDS = sorted(n + ".gateway.envoyproxy.io" for n in (
    "backends", "backendtrafficpolicies", "clienttrafficpolicies", "envoyextensionpolicies", "envoypatchpolicies",
    "envoyproxies", "httproutefilters", "securitypolicies"))
# who writes an InferenceService's status and its HTTPRoutes, by the cluster's KSTAGE_KSERVE_CONTROLLER:
# KServe's own controller (its binary is `manager`, the field manager of all its writes) or the stand-in
KSERVE_FIELD_MANAGERS = {"real": ("manager", "manager"), "sim": ("kstage-sim", "kserve-controller")}


def run(cluster, verb, *args, kubeconfig=None, timeout=900):
    """kstage VERB <repo root> ARGS through the artifact mirror."""
    return cluster.kstage(verb, str(ROOT), *mirror(cluster), *args, kubeconfig=kubeconfig, timeout=timeout)


def example(name):
    return ["-f", str(ROOT / "values" / "examples" / (name + ".yaml"))]


def wait_gone(cluster, *args):
    for _ in range(240):
        if not cluster.exists(*args):
            return
        time.sleep(0.5)
    raise AssertionError("still there: %s" % (args,))


def clean(cluster):
    k = cluster.kubectl
    # the test InferenceServices first: KServe's controller removes its finalizer
    # (inferenceservice.finalizers) from them, so it must still run
    k("delete", "namespace", "kserve-test", "--ignore-not-found", "--wait=false")
    wait_gone(cluster, "namespace", "kserve-test")
    k("delete", "namespace", "kserve", "envoy-gateway-system", "platform-ingress",
      "--ignore-not-found", "--wait=false")
    k("delete", "secret,lease", "-n", "kstage-system", "-l", "name=" + RELEASE, "--ignore-not-found")
    k("delete", "lease", "-n", "kstage-system", RELEASE, "--ignore-not-found", check=False)
    k("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", VAP, "--ignore-not-found")
    crds = [c["metadata"]["name"] for c in cluster.get("crd")["items"]
            if c["spec"]["group"] in ("gateway.networking.k8s.io", "serving.kserve.io", "gateway.envoyproxy.io")]
    if crds:
        k("delete", "crd", *crds, "--ignore-not-found", "--wait=true")
    for ns in ("kserve", "envoy-gateway-system", "platform-ingress"):
        wait_gone(cluster, "namespace", ns)


def preload(cluster, preset):
    clean(cluster)
    d = cluster.env["KSTAGE_CLUSTER_DIR"]
    r = subprocess.run([d + "/bin/kstage-testcluster", "preload", "--dir", d, preset],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    wait_rollout(cluster)


def wait_rollout(cluster):
    for _ in range(240):
        d = cluster.get("deployment", "kserve-controller-manager", "-n", "kserve")
        st = d.get("status", {})
        if (st.get("observedGeneration") == d["metadata"]["generation"] and
                st.get("updatedReplicas") == st.get("readyReplicas") == st.get("availableReplicas") ==
                d["spec"]["replicas"] and not st.get("unavailableReplicas")):
            return d
        time.sleep(0.5)
    raise AssertionError("kserve-controller-manager rollout did not complete: %s" % d.get("status"))


@pytest.fixture(scope="module", autouse=True)
def _leave_clean(cluster):
    yield
    clean(cluster)


def ingress(cluster):
    return cluster.get("configmap", "inferenceservice-config", "-n", "kserve")["data"]["ingress"]


def cond(obj, t):
    """Condition t of an object (status.conditions) or of a listener status (conditions)."""
    for c in obj.get("status", obj).get("conditions", []):
        if c["type"] == t:
            return c
    return {}


def crd_versions(cluster, names):
    out = {}
    for n in names:
        c = cluster.get("crd", n + ".gateway.networking.k8s.io")
        assert cond(c, "Established").get("status") == "True", n
        a = c["metadata"].get("annotations", {})
        out[n] = (a.get("gateway.networking.k8s.io/bundle-version"), a.get("gateway.networking.k8s.io/channel"))
    return out


def replicasets(cluster):
    return sorted(rs["metadata"]["name"] for rs in cluster.get("rs", "-n", "kserve")["items"]
                  if rs["metadata"]["name"].startswith("kserve-controller-manager-"))


def state(cluster):
    """resourceVersions of everything the bundle writes, and the controller's ReplicaSets."""
    return (cluster.rvs([("gatewayclass", "", "envoy"), ("gateway", "kserve", "kserve-ingress-gateway"),
                         ("secret", "kserve", "kserve-ingress-gateway-tls"),
                         ("configmap", "kserve", "inferenceservice-config"),
                         ("deployment", "kserve", "kserve-controller-manager")]),
            replicasets(cluster))


def strip_comments(text):
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def test_migration_from_kserve_v0152_then_idempotent_then_uninstall(cluster):
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    rs0 = replicasets(cluster)
    r = run(cluster, "apply", *example("demo"), "--keep-test")
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    # preflight findings, the external address and the checked reply, as kstage reports them
    assert "check kserve-installed: ok: KServe v0.15.2, default deployment mode Serverless" in out, out
    assert "check permissions: ok" in out, out
    assert re.search(r"stage external-address: address = http://127\.0\.0\.1:\d+", out), out
    assert "port-forward service/envoy-kserve-ingress-gateway 8080:80" in out, out
    assert "stage verify: test passed: HTTP 200" in out and '"model_name":"sklearn-v2-iris"' in out, out
    # five CRDs Established, v1.2.1 standard
    assert crd_versions(cluster, GWAPI) == {n: ("v1.2.1", "standard") for n in GWAPI}
    assert not cluster.exists("validatingadmissionpolicy", VAP)
    gc = cluster.get("gatewayclass", "envoy")
    assert cond(gc, "Accepted").get("status") == "True"
    assert gc["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    sec = cluster.get("secret", "kserve-ingress-gateway-tls", "-n", "kserve")
    assert sec["type"] == "kubernetes.io/tls" and sec["data"]["tls.key"] and sec["data"]["tls.crt"]
    gw = cluster.get("gateway", "kserve-ingress-gateway", "-n", "kserve")
    gen = gw["metadata"]["generation"]
    for t in ("Accepted", "Programmed"):
        c = cond(gw, t)
        assert c.get("status") == "True" and c.get("observedGeneration") == gen, (t, c)
    listeners = {ls["name"]: ls for ls in gw["spec"]["listeners"]}
    assert listeners["http"]["port"] == 80 and listeners["http"]["protocol"] == "HTTP"
    assert listeners["https"]["port"] == 443 and listeners["https"]["tls"]["mode"] == "Terminate"
    assert all(ls["allowedRoutes"]["namespaces"]["from"] == "All" for ls in listeners.values())
    st = {ls["name"]: ls for ls in gw["status"]["listeners"]}
    assert set(st) == {"http", "https"}
    for ls in st.values():
        assert cond(ls, "Programmed").get("status") == "True", ls
    # the ingress JSON: the two keys set, every other original key and value kept
    after = ingress(cluster)
    old, new = json.loads(strip_comments(before)), json.loads(strip_comments(after))
    assert new["enableGatewayApi"] is True
    assert new["kserveIngressGateway"] == "kserve/kserve-ingress-gateway"
    for k, v in old.items():
        if k not in ("enableGatewayApi", "kserveIngressGateway"):
            assert new[k] == v, k
    assert set(new) == set(old)
    # and the string's formatting: only the changed value's bytes differ
    assert before.count('"enableGatewayApi": false') == 1
    assert after == before.replace('"enableGatewayApi": false', '"enableGatewayApi": true'), after
    # the controller restarted once, its rollout complete
    d = wait_rollout(cluster)
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"].get("annotations", {})
    rs1 = replicasets(cluster)
    assert len(rs1) == len(rs0) + 1, (rs0, rs1)
    # the test InferenceService went through the Gateway; it was kept (--keep-test):
    # ask the data plane ourselves with the Host of status.url
    isvc = cluster.get("isvc", "sklearn-v2-iris", "-n", "kserve-test", "--show-managed-fields")
    assert cond(isvc, "Ready").get("status") == "True"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    # made Ready, and its HTTPRoutes written, by KServe's own controller, or with
    # KSTAGE_CONTROLLERS=sim by the stand-in
    isvc_by, route_by = KSERVE_FIELD_MANAGERS[cluster.env["KSTAGE_KSERVE_CONTROLLER"]]
    assert isvc_by in [m["manager"] for m in isvc["metadata"]["managedFields"] if m.get("subresource") == "status"], \
        isvc["metadata"]["managedFields"]
    host = isvc["status"]["url"].split("://", 1)[1]
    routes = cluster.get("httproute", "-n", "kserve-test", "--show-managed-fields")["items"]
    assert routes and all(p["parentRefs"][0]["name"] == "kserve-ingress-gateway" for p in
                          (rt["spec"] for rt in routes))
    for rt in routes:
        assert any(o["kind"] == "InferenceService" and o["name"] == "sklearn-v2-iris"
                   for o in rt["metadata"]["ownerReferences"]), rt["metadata"]
        assert route_by in [m["manager"] for m in rt["metadata"]["managedFields"] if m.get("subresource") != "status"], \
            rt["metadata"]["managedFields"]
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32",
                                   "data": [[6.8, 2.8, 4.8, 1.4]]}]})
    out = subprocess.run(["curl", "-sS", "-H", "Host: " + host, "-d", body,
                          "http://%s/v2/models/sklearn-v2-iris/infer" % cluster.env["KSTAGE_DATAPLANE_ADDR"]],
                         capture_output=True, text=True, timeout=60)
    reply = json.loads(out.stdout)
    assert reply["model_name"] == "sklearn-v2-iris" and reply["outputs"][0]["data"] == [1]

    # a second apply changes nothing and restarts nothing
    s0 = state(cluster)
    r = run(cluster, "apply", *example("demo"), "--keep-test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert state(cluster) == s0
    assert ingress(cluster) == after
    assert "rolloutRestart: restarted" not in r.stdout + r.stderr
    isvc2 = cluster.get("isvc", "sklearn-v2-iris", "-n", "kserve-test")
    assert isvc2["metadata"]["uid"] == isvc["metadata"]["uid"]
    r = run(cluster, "plan", *example("demo"), "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr

    # uninstall: the original ingress string, byte for byte
    r = cluster.kstage("uninstall", RELEASE)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ingress(cluster) == before
    assert not cluster.exists("gateway", "kserve-ingress-gateway", "-n", "kserve")
    assert not cluster.exists("gatewayclass", "envoy")
    # CRDs are kept (rollback: keep)
    assert crd_versions(cluster, GWAPI)["httproutes"] == ("v1.2.1", "standard")


def test_kserve_v0200_current_versions(cluster):
    preload(cluster, "kserve-v0.20.0")
    d = cluster.get("deployment", "kserve-controller-manager", "-n", "kserve")
    assert any(c["image"].endswith(":v0.20.0") for c in d["spec"]["template"]["spec"]["containers"])
    before = ingress(cluster)
    r = run(cluster, "apply", *example("current-versions"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert crd_versions(cluster, GWAPI_151) == {n: ("v1.5.1", "standard") for n in GWAPI_151}
    assert cluster.exists("validatingadmissionpolicy", VAP)
    new = json.loads(strip_comments(ingress(cluster)))
    assert new["enableGatewayApi"] is True and new["kserveIngressGateway"] == "kserve/kserve-ingress-gateway"
    old = json.loads(strip_comments(before))
    assert {k: v for k, v in new.items() if k not in ("enableGatewayApi", "kserveIngressGateway")} == \
        {k: v for k, v in old.items() if k not in ("enableGatewayApi", "kserveIngressGateway")}
    gw = cluster.get("gateway", "kserve-ingress-gateway", "-n", "kserve")
    assert cond(gw, "Programmed").get("status") == "True"
    wait_rollout(cluster)


def test_upgrade_v121_to_v151_then_the_way_back_is_refused(cluster):
    preload(cluster, "kserve-v0.15.2")
    r = run(cluster, "apply", *example("http-only"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert crd_versions(cluster, GWAPI)["gateways"] == ("v1.2.1", "standard")
    r = run(cluster, "apply", *example("http-only"), "--set", "gatewayApi.version=v1.5.1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert crd_versions(cluster, GWAPI_151) == {n: ("v1.5.1", "standard") for n in GWAPI_151}
    assert cluster.exists("validatingadmissionpolicy", VAP)
    # asked for v1.2.1 again: newer CRDs are kept, the CRD stage is skipped
    r = run(cluster, "apply", *example("http-only"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "stage gateway-api-crds: skipped" in r.stdout + r.stderr
    assert crd_versions(cluster, GWAPI)["gateways"] == ("v1.5.1", "standard")
    # forced (keepNewer false): the API server's policy refuses it, reported, rolled back
    r = run(cluster, "apply", *example("http-only"), "--set", "gatewayApi.keepNewer=false")
    assert r.returncode == 1, r.stdout + r.stderr
    err = r.stderr
    assert "Installing CRDs with version before v1.5.0 is prohibited" in err, err
    assert VAP in err, err
    assert "AddressSanitizer" not in err and "runtime error" not in err
    assert crd_versions(cluster, GWAPI_151) == {n: ("v1.5.1", "standard") for n in GWAPI_151}


def test_http_only_example(cluster):
    preload(cluster, "kserve-v0.15.2")
    r = run(cluster, "apply", *example("http-only"))
    assert r.returncode == 0, r.stdout + r.stderr
    gw = cluster.get("gateway", "kserve-ingress-gateway", "-n", "kserve")
    assert [ls["name"] for ls in gw["spec"]["listeners"]] == ["http"]
    assert cond(gw, "Programmed").get("status") == "True"
    assert not cluster.exists("secret", "kserve-ingress-gateway-tls", "-n", "kserve")
    assert json.loads(strip_comments(ingress(cluster)))["enableGatewayApi"] is True


def test_values_typo_is_an_error_with_file_and_line(cluster, tmp_path):
    f = tmp_path / "typo.yaml"
    f.write_text("gateway:\n  name: gw\n  htps:\n    enabled: false\n")
    r = cluster.kstage("plan", str(ROOT), "-f", str(f))
    assert r.returncode == 2, r.stdout + r.stderr
    assert re.search(re.escape(str(f)) + r":[34]:\d+: .*\"htps\" is not allowed", r.stderr), r.stderr


def nothing_changed(cluster, ingress_before):
    assert not [c for c in cluster.get("crd")["items"] if c["spec"]["group"] == "gateway.networking.k8s.io"]
    assert not cluster.exists("namespace", "kserve-test")
    if ingress_before is not None:
        assert ingress(cluster) == ingress_before


def test_preflight_kserve_missing(cluster):
    clean(cluster)
    r = run(cluster, "apply", *example("demo"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "KServe is not installed: ConfigMap kserve/inferenceservice-config is missing" in r.stderr
    assert "nothing was changed" in r.stderr
    nothing_changed(cluster, None)


def test_preflight_forbidden_for_the_limited_user(cluster):
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    r = run(cluster, "apply", *example("demo"), kubeconfig=cluster.env["KSTAGE_LIMITED_KUBECONFIG"])
    assert r.returncode == 2, r.stdout + r.stderr
    assert 'user "team-a-user" may not get customresourcedefinitions.apiextensions.k8s.io' in r.stderr, r.stderr
    assert "nothing was changed" in r.stderr
    nothing_changed(cluster, before)


def test_preflight_missing_tls_secret(cluster):
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    r = run(cluster, "apply", *example("existing-tls"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "the HTTPS listener needs Secret kserve/kserve-ingress-cert, which does not exist" in r.stderr
    nothing_changed(cluster, before)
    # with the Secret there, the same values apply and the Gateway is Programmed
    crt, key = make_cert(cluster)
    cluster.kubectl("-n", "kserve", "create", "secret", "tls", "kserve-ingress-cert", "--cert", crt, "--key", key)
    r = run(cluster, "apply", *example("existing-tls"))
    assert r.returncode == 0, r.stdout + r.stderr
    gw = cluster.get("gateway", "kserve-ingress-gateway", "-n", "kserve")
    assert cond(gw, "Programmed").get("status") == "True"


def make_cert(cluster):
    crt, key = cluster.tmp / "tls.crt", cluster.tmp / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return str(crt), str(key)


def test_preflight_envoy_gateway_v18_with_v121(cluster):
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    cluster.kubectl("apply", "-f", "-", input="""\
apiVersion: v1
kind: Namespace
metadata: {name: envoy-gateway-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: envoy-gateway, namespace: envoy-gateway-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: envoy-gateway}}
  template:
    metadata: {labels: {app: envoy-gateway}}
    spec:
      containers:
        - {name: envoy-gateway, image: docker.io/envoyproxy/gateway:v1.8.3}
""")
    r = run(cluster, "apply", *example("demo"))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Envoy Gateway v1.8.3 needs Gateway API v1.5 CRDs and crash-loops on v1.2.1" in r.stderr, r.stderr
    assert "current-versions.yaml" in r.stderr
    nothing_changed(cluster, before)
    # the way out it names works
    r = run(cluster, "apply", *example("current-versions"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "check envoy-gateway-version: ok: Envoy Gateway v1.8.3 found" in r.stdout + r.stderr


def test_istio_example(cluster):
    preload(cluster, "kserve-v0.15.2")
    # as an Istio install leaves it: the Gateway API CRDs and Istio's own GatewayClass
    cluster.kubectl("apply", "--server-side", "-f",
                    cluster.env["KSTAGE_FIXTURES"] + "/gateway-api/v1.2.1/standard-install.yaml")
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=120s",
                    "crd/gatewayclasses.gateway.networking.k8s.io")
    cluster.kubectl("apply", "-f", "-", input="""\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
""")
    r = run(cluster, "apply", *example("istio"))
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert "stage gateway-class: skipped" in out
    assert "check gateway-api-crds: ok: Gateway API v1.2.1 (standard) installed" in out, out
    assert not cluster.exists("gatewayclass", "envoy")
    gw = cluster.get("gateway", "kserve-ingress-gateway", "-n", "kserve")
    assert gw["spec"]["gatewayClassName"] == "istio"
    assert cond(gw, "Programmed").get("status") == "True"
    assert "stage verify: test passed: HTTP 200" in out
    assert json.loads(strip_comments(ingress(cluster)))["enableGatewayApi"] is True
    # the test service was deleted after the check (cleanup); `kstage verify` runs it alone again
    wait_gone(cluster, "isvc", "sklearn-v2-iris", "-n", "kserve-test")
    r = run(cluster, "verify", *example("istio"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "stage verify: test passed: HTTP 200" in r.stdout + r.stderr
    assert '"model_name":"sklearn-v2-iris"' in r.stdout + r.stderr
    wait_gone(cluster, "isvc", "sklearn-v2-iris", "-n", "kserve-test")


def test_verify_cleanup_after_keep_test_is_recorded_then_uninstall(cluster):
    """apply --keep-test twice (the second revision journals the test objects
    as existing), then `kstage verify` deletes them (its cleanup): uninstall
    must not try to re-create them (it failed re-creating the
    InferenceService in its deleted namespace, exit 3)."""
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    for _ in range(2):
        r = run(cluster, "apply", *example("demo"), "--keep-test")
        assert r.returncode == 0, r.stdout + r.stderr
    assert cluster.exists("isvc", "sklearn-v2-iris", "-n", "kserve-test")
    r = run(cluster, "verify", *example("demo"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "InferenceService/kserve-test/sklearn-v2-iris: deleted (test cleanup)" in r.stderr, r.stderr
    assert not cluster.exists("namespace", "kserve-test")
    # the deployed record notes it (checked in the record itself)
    rec = release_record(cluster, RELEASE)
    cleaned = {(o["kind"], o.get("namespace"), o["name"]) for st in rec["stages"] for o in st["objects"]
               if o.get("cleaned")}
    assert cleaned == {("InferenceService", "kserve-test", "sklearn-v2-iris"), ("Namespace", None, "kserve-test")}
    r = cluster.kstage("uninstall", RELEASE)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "InferenceService/kserve-test/sklearn-v2-iris: not re-created (a test's cleanup deleted it)" in r.stderr
    assert not cluster.exists("namespace", "kserve-test")
    assert not cluster.exists("gateway", "kserve-ingress-gateway", "-n", "kserve")
    assert ingress(cluster) == before


def test_verify_keep_test_keeps_only_what_the_record_lists(cluster):
    """`kstage verify --keep-test` keeps the test's objects only when the
    release's deployed record lists them (its uninstall then removes them);
    otherwise it is refused before anything is created (they would outlive
    the release)."""
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    # no release yet
    r = run(cluster, "verify", *example("demo"), "--keep-test")
    assert r.returncode == 2, r.stdout + r.stderr
    assert ("--keep-test would keep Namespace/kserve-test, InferenceService/kserve-test/sklearn-v2-iris, and release "
            "kserve-gateway-api has no deployed revision to record them in") in r.stderr, r.stderr
    assert "nothing was changed" in r.stderr
    nothing_changed(cluster, before)
    # a release whose apply did not run the verify stage: its record lists no test object
    r = run(cluster, "apply", *example("demo"), "--set", "verify.enabled=false")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run(cluster, "verify", *example("demo"), "--keep-test")
    assert r.returncode == 2, r.stdout + r.stderr
    assert ("--keep-test would keep Namespace/kserve-test, InferenceService/kserve-test/sklearn-v2-iris, which "
            "release kserve-gateway-api revision 1 does not list") in r.stderr, r.stderr
    assert "`kstage apply --keep-test`" in r.stderr
    assert not cluster.exists("namespace", "kserve-test")
    # an apply that ran it (and cleaned up): the record lists them, verify keeps them
    r = run(cluster, "apply", *example("demo"))
    assert r.returncode == 0, r.stdout + r.stderr
    wait_gone(cluster, "namespace", "kserve-test")
    r = run(cluster, "verify", *example("demo"), "--keep-test")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "stage verify: test passed: HTTP 200" in r.stderr, r.stderr
    assert cluster.exists("isvc", "sklearn-v2-iris", "-n", "kserve-test")
    # and uninstall removes what verify kept
    r = cluster.kstage("uninstall", RELEASE)
    assert r.returncode == 0, r.stdout + r.stderr
    wait_gone(cluster, "namespace", "kserve-test")
    assert ingress(cluster) == before


def release_record(cluster, name):
    """The latest deployed record of a release, decoded from its Secret (one part)."""
    import base64
    import gzip
    heads = [s for s in cluster.get("secret", "-n", "kstage-system", "-l", "name=" + name)["items"]
             if s["metadata"]["labels"].get("status") == "deployed"]
    assert len(heads) == 1, [s["metadata"]["labels"] for s in heads]
    assert heads[0]["metadata"]["annotations"]["kstage.dev/parts"] == "1"
    return json.loads(gzip.decompress(base64.b64decode(heads[0]["data"]["release"])))


def test_shipped_lock_pins_the_gateway_api_files_and_a_run_that_needs_an_unpinned_source_is_refused(cluster):
    lock = (ROOT / "kstage.lock").read_text()
    assert "docker.io" not in lock and "ghcr.io" not in lock
    for (version, channel), pin in GWAPI_PINS.items():
        assert ('url: "https://github.com/kubernetes-sigs/gateway-api/releases/download/%s/%s-install.yaml"\n'
                '    resolved: "https://github.com/kubernetes-sigs/gateway-api/releases/download/%s/%s-install.yaml"\n'
                '    sha256: "%s"' % (version, channel, version, channel, pin)) in lock, (version, channel)
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    r = run(cluster, "apply", *example("current-versions"), "--set", "envoyGateway.install=true",
            "--set", "kserve.mode=helm", "--set", "gatewayApi.channel=experimental")
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr
    assert "preflight: 4 problems, nothing was changed" in err, err
    assert ("check kserve-helm-mode: kserve.mode helm: KServe's chart needs cert-manager (its webhook Certificate "
            "and Issuer), and CRD certificates.cert-manager.io is not installed") in err, err
    for stage, src in (("envoy-gateway-crds", "oci://docker.io/envoyproxy/gateway-helm:v1.8.3"),
                       ("envoy-gateway", "oci://docker.io/envoyproxy/gateway-helm:v1.8.3"),
                       ("kserve-helm", "oci://ghcr.io/kserve/charts/kserve:v0.15.2")):
        assert "stage %s: check pinned: source %s is not pinned in" % (stage, src) in err, err
    assert "gateway-api-crds-v1-5-experimental: check pinned" not in err, err
    assert "`kstage fetch --update-lock` records the digest it fetched" in err
    assert "airgap bundle" in err
    nothing_changed(cluster, before)
    # the same sources, disabled (the default values): nothing is fetched for them, the run goes on
    r = run(cluster, "plan", *example("demo"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "docker.io" not in r.stderr and "ghcr.io" not in r.stderr


GH_GWAPI = "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
DOWN = "https://127.0.0.1:9/down/"   # the discard port: nothing listens, every connection is refused


def fetches(cluster, verb, *args, cache):
    """kstage VERB <repo root> -v ARGS with its own cache, and the sources it
    downloaded (url -> where from), from its `fetching URL from MIRROR` lines."""
    r = cluster.kstage(verb, str(ROOT), "-v", *args, env={"XDG_CACHE_HOME": str(cluster.tmp / cache)}, timeout=900)
    got = re.findall(r"^fetching (\S+) from (\S+)$", r.stderr, re.M)
    return r, got


def test_a_run_fetches_only_the_sources_its_values_enable(cluster):
    """plan and apply of the default values (v1.2.1 standard) with the servers of
    the three other Gateway API files down: those are never fetched, the run
    succeeds; the stage that the values then enable fetches its file and checks it."""
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    art = cluster.env["KSTAGE_ARTIFACT_URL"] + "/"
    unused = [GH_GWAPI + "v1.5.1/standard-install.yaml", GH_GWAPI + "v1.2.1/experimental-install.yaml",
              GH_GWAPI + "v1.5.1/experimental-install.yaml"]
    down = [a for u in unused for a in ("--mirror", u + "=" + DOWN + u[len("https://"):])]
    good = ["--mirror", "https://github.com/=" + art]
    for verb, cache in (("plan", "only-enabled-plan"), ("apply", "only-enabled-apply")):
        r, got = fetches(cluster, verb, *example("demo"), *down, *good, cache=cache)
        assert r.returncode == 0, r.stdout + r.stderr
        # one download, the file the values ask for, through the artifact server
        assert got == [(GH_GWAPI + "v1.2.1/standard-install.yaml",
                        art + "kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml")], got
        assert ("stage gateway-api-crds: %sv1.2.1/standard-install.yaml verified (sha256 %s, 598441 bytes)"
                % (GH_GWAPI, GWAPI_PINS[("v1.2.1", "standard")])) in r.stderr, r.stderr
        for stage, u in zip(("gateway-api-crds-v1-5", "gateway-api-crds-experimental",
                             "gateway-api-crds-v1-5-experimental"), unused):
            assert "stage %s: %s not fetched: the values disable the stage" % (stage, u) in r.stderr, r.stderr
        assert "127.0.0.1:9" not in r.stderr, r.stderr
    assert crd_versions(cluster, GWAPI) == {n: ("v1.2.1", "standard") for n in GWAPI}
    applied = ingress(cluster)
    assert applied != before and json.loads(strip_comments(applied))["enableGatewayApi"] is True
    crds = gwapi_crds(cluster)
    # gatewayApi.version v1.5.1 enables gateway-api-crds-v1-5: its file is fetched, so its server being
    # down stops the run before the cluster is touched ...
    v151 = ["--set", "gatewayApi.version=v1.5.1"]
    r, got = fetches(cluster, "apply", *example("demo"), *v151, *down, *good, cache="only-enabled-down")
    assert r.returncode != 0, r.stdout + r.stderr
    assert "stage gateway-api-crds-v1-5: sha256 from " in r.stderr and unused[0] in r.stderr, r.stderr
    assert "127.0.0.1:9" in r.stderr, r.stderr
    assert "stage gateway-api-crds: %sv1.2.1/standard-install.yaml not fetched" % GH_GWAPI in r.stderr, r.stderr
    assert gwapi_crds(cluster) == crds and ingress(cluster) == applied
    # ... damaged bytes are refused by its pin ...
    tamper = ["--mirror", "https://github.com/=" + art + "_tamper/"]
    r, got = fetches(cluster, "plan", *example("demo"), *v151, *tamper, cache="only-enabled-tamper")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "sha256 mismatch: pinned %s, got " % GWAPI_PINS[("v1.5.1", "standard")] in r.stderr, r.stderr
    assert [u for u, _ in got] == [unused[0]], got
    # ... and served, it is fetched and verified, alone
    r, got = fetches(cluster, "plan", *example("demo"), *v151, *good, cache="only-enabled-v151")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [u for u, _ in got] == [unused[0]], got
    assert ("stage gateway-api-crds-v1-5: %s verified (sha256 %s, 1024333 bytes)"
            % (unused[0], GWAPI_PINS[("v1.5.1", "standard")])) in r.stderr, r.stderr
    assert gwapi_crds(cluster) == crds


def test_kstage_fetch_and_bundle_export_still_carry_every_pinned_source(cluster):
    """For any values: `kstage fetch` downloads the four Gateway API files, and
    an airgap export holds them all."""
    r, got = fetches(cluster, "fetch", *mirror(cluster), cache="fetch-all")
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(u for u, _ in got) == sorted(GH_GWAPI + "%s/%s-install.yaml" % k for k in GWAPI_PINS), got
    out = cluster.tmp / "shipped-airgap.tar.gz"
    r = cluster.kstage("bundle", "export", str(ROOT), str(out), "--offline",
                       env={"XDG_CACHE_HOME": str(cluster.tmp / "fetch-all")})
    assert r.returncode == 0, r.stdout + r.stderr
    names = subprocess.run(["tar", "tzf", str(out)], capture_output=True, text=True, check=True).stdout.split()
    for pin in GWAPI_PINS.values():
        assert "artifacts/sha256/" + pin in names, names


def gwapi_crds(cluster):
    """name -> (resourceVersion, bundle-version, channel) of every Gateway API CRD."""
    out = {}
    for c in cluster.get("crd")["items"]:
        if c["spec"]["group"] == "gateway.networking.k8s.io":
            a = c["metadata"].get("annotations", {})
            out[c["metadata"]["name"]] = (c["metadata"]["resourceVersion"],
                                          a.get("gateway.networking.k8s.io/bundle-version"),
                                          a.get("gateway.networking.k8s.io/channel"))
    return out


def test_envoy_gateway_stage_with_update_lock(cluster):
    """envoyGateway.install with the chart pinned by --update-lock: Envoy
    Gateway's own gateway.envoyproxy.io CRDs from the chart archive's crds
    subchart (without the experimental Gateway API CRDs and the policy beside
    them), Established, then the chart's objects in envoy-gateway-system, its
    controller Deployment Available. The test cluster runs no Envoy Gateway
    binary: the kubelet stand-in makes the pod Ready; the GatewayClass is
    Accepted by the sim's Envoy Gateway stand-in."""
    preload(cluster, "kserve-v0.15.2")
    b = pinned_copy(cluster, "bundle-eg")
    try:
        # the Gateway API v1.5.1 CRDs first, without Envoy Gateway: the run after
        # must leave them as they are
        r = cluster.kstage("apply", str(b), *all_mirrors(cluster), *example("envoy-gateway"),
                           "--set", "envoyGateway.install=false", "--set", "verify.enabled=false", timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "stage envoy-gateway-crds: skipped" in r.stderr, r.stderr
        gw0, vap0 = gwapi_crds(cluster), cluster.get("validatingadmissionpolicy", VAP)["metadata"]["resourceVersion"]
        assert sorted(gw0) == sorted(n + ".gateway.networking.k8s.io" for n in GWAPI_151), gw0
        assert not [c for c in cluster.get("crd")["items"] if c["spec"]["group"] == "gateway.envoyproxy.io"]
        r = cluster.kstage("apply", str(b), *all_mirrors(cluster), *example("envoy-gateway"),
                           "--set", "verify.enabled=false", timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "stage envoy-gateway-crds: 8 objects" in r.stderr, r.stderr
        assert "stage envoy-gateway-crds: ready" in r.stderr, r.stderr
        assert "stage envoy-gateway: ready" in r.stderr, r.stderr
        # Envoy Gateway's own CRDs, Established, before its controller
        eg = {c["metadata"]["name"]: c for c in cluster.get("crd")["items"]
              if c["spec"]["group"] == "gateway.envoyproxy.io"}
        assert sorted(eg) == EG_CRDS, sorted(eg)
        for c in eg.values():
            assert cond(c, "Established").get("status") == "True", c["metadata"]["name"]
        out = r.stderr
        assert out.index("stage envoy-gateway-crds: ready") < re.search(r"stage envoy-gateway: \d+ objects", out).start()
        # no Gateway API CRD touched (same resourceVersions: standard v1.5.1 of the
        # CRD stage, not the chart's experimental ones), no policy from the chart
        assert gwapi_crds(cluster) == gw0
        assert cluster.get("validatingadmissionpolicy", VAP)["metadata"]["resourceVersion"] == vap0
        d = cluster.get("deployment", "envoy-gateway", "-n", "envoy-gateway-system")
        assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/envoyproxy/gateway:v1.8.3"
        st = d.get("status", {})
        assert st.get("availableReplicas") == d["spec"]["replicas"], st
        assert cluster.exists("service", "envoy-gateway", "-n", "envoy-gateway-system")
        assert cluster.exists("configmap", "envoy-gateway-config", "-n", "envoy-gateway-system")
        assert cond(cluster.get("gatewayclass", "envoy"), "Accepted").get("status") == "True"
        # a second run changes none of them
        rv = {n: c["metadata"]["resourceVersion"] for n, c in eg.items()}
        r = cluster.kstage("apply", str(b), *all_mirrors(cluster), *example("envoy-gateway"),
                           "--set", "verify.enabled=false", timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        assert {c["metadata"]["name"]: c["metadata"]["resourceVersion"] for c in cluster.get("crd")["items"]
                if c["spec"]["group"] == "gateway.envoyproxy.io"} == rv
        r = cluster.kstage("uninstall", RELEASE)
        assert r.returncode == 0, r.stdout + r.stderr
        wait_gone(cluster, "deployment", "envoy-gateway", "-n", "envoy-gateway-system")
        # CRDs are kept (rollback: keep), as the Gateway API ones
        assert sorted(c["metadata"]["name"] for c in cluster.get("crd")["items"]
                      if c["spec"]["group"] == "gateway.envoyproxy.io") == EG_CRDS
    finally:
        cluster.kubectl("delete", "mutatingwebhookconfiguration", "envoy-gateway-topology-injector.envoy-gateway-system",
                        "--ignore-not-found", check=False)


CERT_MANAGER_CRDS = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: %(plural)s.cert-manager.io}
spec:
  group: cert-manager.io
  names: {kind: %(kind)s, listKind: %(kind)sList, plural: %(plural)s, singular: %(singular)s}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


def cert_manager_crds(cluster):
    for kind, plural in (("Certificate", "certificates"), ("Issuer", "issuers")):
        cluster.kubectl("apply", "-f", "-", input=CERT_MANAGER_CRDS % {"kind": kind, "plural": plural,
                                                                        "singular": kind.lower()})
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=120s",
                    "crd/certificates.cert-manager.io", "crd/issuers.cert-manager.io")


def drop_kserve_webhooks(cluster):
    """KServe's chart's webhook configurations (named *.serving.kserve.io, unlabelled)."""
    for kind in ("mutatingwebhookconfiguration", "validatingwebhookconfiguration"):
        names = [w["metadata"]["name"] for w in cluster.get(kind)["items"]
                 if w["metadata"]["name"].endswith(".serving.kserve.io")]
        if names:
            cluster.kubectl("delete", kind, *names, "--ignore-not-found")


def drop_kserve_chart_leftovers(cluster):
    """KServe's chart's webhooks (no server here) and the cert-manager CRDs."""
    drop_kserve_webhooks(cluster)
    cluster.kubectl("delete", "crd", "certificates.cert-manager.io", "issuers.cert-manager.io",
                    "--ignore-not-found", check=False)


def test_kserve_helm_mode_applies_kserves_chart_with_the_gateway_values(cluster):
    """kserve.mode helm: KServe's own chart (v0.15.2, pinned by --update-lock)
    applied with enableGatewayApi and kserveGateway; the controller restarted.
    KServe's chart needs cert-manager's kinds (Certificate, Issuer): the test
    installs their CRDs only (no cert-manager), and the chart's webhooks have
    no CA bundle in the test cluster (no cert-manager), so the apply runs with
    verify off, and the verify stage runs alone once they are removed."""
    preload(cluster, "kserve-v0.15.2")
    cert_manager_crds(cluster)
    b = pinned_copy(cluster, "bundle-helm")
    rs0 = replicasets(cluster)
    try:
        # the preset's ConfigMap is owned by another field manager: taking it over is asked for
        r = cluster.kstage("apply", str(b), *all_mirrors(cluster), *example("helm"), "--force-conflicts",
                           "--set", "verify.enabled=false", timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "stage kserve-config: skipped" in r.stderr, r.stderr
        assert "stage kserve-helm: ready" in r.stderr, r.stderr
        ing = json.loads(strip_comments(ingress(cluster)))
        assert ing["enableGatewayApi"] is True
        assert ing["kserveIngressGateway"] == "kserve/kserve-ingress-gateway"
        assert ing["ingressGateway"] == "knative-serving/knative-ingress-gateway"
        assert cluster.exists("certificate", "serving-cert", "-n", "kserve")
        d = wait_rollout(cluster)
        assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"].get("annotations", {})
        assert len(replicasets(cluster)) == len(rs0) + 1
        # The data plane of the Helm mode: KServe's chart registers admission
        # webhooks whose caBundle cert-manager would inject; the test cluster
        # has none, so the API server cannot call them. Without them, the
        # verify stage alone sends the inference request through the Gateway.
        drop_kserve_webhooks(cluster)
        r = cluster.kstage("verify", str(b), *all_mirrors(cluster), *example("helm"), timeout=900)
        out = r.stdout + r.stderr
        assert r.returncode == 0, out
        assert "stage verify: test passed: HTTP 200" in out, out
        assert '"model_name":"sklearn-v2-iris"' in out, out
        wait_gone(cluster, "isvc", "sklearn-v2-iris", "-n", "kserve-test")
        r = cluster.kstage("uninstall", RELEASE)
        assert r.returncode == 0, r.stdout + r.stderr
        assert json.loads(strip_comments(ingress(cluster)))["enableGatewayApi"] is False
    finally:
        drop_kserve_chart_leftovers(cluster)


def test_kserve_helm_mode_v0200_chart_in_the_namespace_of_the_values(cluster):
    """kserve.mode helm with kserve.chartVersion v0.20.0: KServe's
    kserve-resources chart (pinned by --update-lock) applied in
    kserve.namespace (here ml-serving, where a copy of the v0.20.0 preset's
    ConfigMap and controller stand), with enableGatewayApi and kserveGateway;
    the controller there restarted. cert-manager's CRDs only, as above."""
    preload(cluster, "kserve-v0.20.0")
    cert_manager_crds(cluster)
    b = pinned_copy(cluster, "bundle-helm-v0200")
    cluster.kubectl("create", "namespace", "ml-serving")
    try:
        cm = cluster.get("configmap", "inferenceservice-config", "-n", "kserve")
        cluster.kubectl("create", "configmap", "inferenceservice-config", "-n", "ml-serving",
                        "--from-literal=ingress=" + cm["data"]["ingress"], "--from-literal=deploy=" + cm["data"]["deploy"])
        d = cluster.get("deployment", "kserve-controller-manager", "-n", "kserve")
        d["metadata"] = {"name": d["metadata"]["name"], "namespace": "ml-serving", "labels": d["metadata"].get("labels", {})}
        d.pop("status", None)
        cluster.kubectl("create", "-f", "-", input=json.dumps(d))
        original = cluster.get("configmap", "inferenceservice-config", "-n", "kserve")["data"]["ingress"]
        # the v0.15.2 chart stays in namespace kserve: refused by the preflight
        r = cluster.kstage("plan", str(b), *all_mirrors(cluster), *example("helm"), "--set", "kserve.namespace=ml-serving",
                           "--set", "verify.enabled=false", timeout=600)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "use kserve.chartVersion v0.20.0 (its chart follows kserve.namespace)" in r.stderr, r.stderr
        r = cluster.kstage("apply", str(b), *all_mirrors(cluster), *example("helm-current"), "--force-conflicts",
                           "--set", "kserve.namespace=ml-serving", "--set", "verify.enabled=false", timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "stage kserve-helm: skipped" in r.stderr and "stage kserve-config: skipped" in r.stderr, r.stderr
        assert "stage kserve-helm-v0-20: ready" in r.stderr, r.stderr
        ing = json.loads(strip_comments(cluster.get("configmap", "inferenceservice-config", "-n", "ml-serving")
                                        ["data"]["ingress"]))
        assert ing["enableGatewayApi"] is True
        assert ing["kserveIngressGateway"] == "kserve/kserve-ingress-gateway"
        # the chart's objects in ml-serving; KServe in namespace kserve untouched
        assert cluster.exists("certificate", "serving-cert", "-n", "ml-serving")
        assert not cluster.exists("certificate", "serving-cert", "-n", "kserve")
        assert cluster.get("configmap", "inferenceservice-config", "-n", "kserve")["data"]["ingress"] == original
        d = cluster.get("deployment", "kserve-controller-manager", "-n", "ml-serving")
        assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"].get("annotations", {})
        assert any(c["image"].endswith(":v0.20.0") for c in d["spec"]["template"]["spec"]["containers"])
        assert crd_versions(cluster, GWAPI_151) == {n: ("v1.5.1", "standard") for n in GWAPI_151}
        r = cluster.kstage("uninstall", RELEASE)
        assert r.returncode == 0, r.stdout + r.stderr
        ing = json.loads(strip_comments(cluster.get("configmap", "inferenceservice-config", "-n", "ml-serving")
                                        ["data"]["ingress"]))
        assert ing["enableGatewayApi"] is False
    finally:
        drop_kserve_chart_leftovers(cluster)
        cluster.kubectl("delete", "namespace", "ml-serving", "--ignore-not-found", "--wait=false")


def test_disable_http_route_timeout_stays_a_json_boolean(cluster):
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    r = run(cluster, "apply", *example("http-only"), "--set", "verify.enabled=false",
            "--set", "kserve.disableHTTPRouteTimeout=true")
    assert r.returncode == 0, r.stdout + r.stderr
    want = before.replace('"enableGatewayApi": false', '"enableGatewayApi": true').replace(
        '"disableIngressCreation": false\n', '"disableIngressCreation": false,\n    "disableHTTPRouteTimeout": true\n')
    assert ingress(cluster) == want, ingress(cluster)
    assert json.loads(strip_comments(ingress(cluster)))["disableHTTPRouteTimeout"] is True
    r = run(cluster, "apply", *example("http-only"), "--set", "verify.enabled=false",
            "--set", "kserve.disableHTTPRouteTimeout=false")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ingress(cluster) == want.replace('"disableHTTPRouteTimeout": true', '"disableHTTPRouteTimeout": false')
    # null (the default) leaves the key as it is
    r = run(cluster, "apply", *example("http-only"), "--set", "verify.enabled=false")
    assert r.returncode == 0, r.stdout + r.stderr
    assert '"disableHTTPRouteTimeout": false' in ingress(cluster)


def test_kserve_object_names_are_values(cluster):
    """KServe under other names: the preset's objects copied to namespace
    ml-serving as serving-config / serving-controller."""
    preload(cluster, "kserve-v0.15.2")
    r = run(cluster, "plan", *example("http-only"), "--set", "kserve.namespace=ml-serving")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "KServe is not installed: ConfigMap ml-serving/inferenceservice-config is missing" in r.stderr, r.stderr
    r = run(cluster, "plan", *example("http-only"), "--set", "kserve.configMap=Bad_Name")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "kserve.configMap" in r.stderr, r.stderr
    # a Deployment under another name, restarted by its name
    cluster.kubectl("create", "namespace", "ml-serving")
    try:
        cm = cluster.get("configmap", "inferenceservice-config", "-n", "kserve")
        cluster.kubectl("create", "configmap", "serving-config", "-n", "ml-serving",
                        "--from-literal=ingress=" + cm["data"]["ingress"], "--from-literal=deploy=" + cm["data"]["deploy"])
        cluster.kubectl("create", "deployment", "serving-controller", "-n", "ml-serving", "--image=example/ctl:v0.15.2")
        r = run(cluster, "apply", *example("http-only"), "--set", "verify.enabled=false",
                "--set", "kserve.namespace=ml-serving", "--set", "kserve.configMap=serving-config",
                "--set", "kserve.controller=serving-controller")
        assert r.returncode == 0, r.stdout + r.stderr
        got = cluster.get("configmap", "serving-config", "-n", "ml-serving")["data"]["ingress"]
        assert json.loads(strip_comments(got))["enableGatewayApi"] is True
        assert json.loads(strip_comments(ingress(cluster)))["enableGatewayApi"] is False
        d = cluster.get("deployment", "serving-controller", "-n", "ml-serving")
        assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"].get("annotations", {})
    finally:
        cluster.kubectl("delete", "namespace", "ml-serving", "--ignore-not-found", "--wait=false")


def test_preflight_refuses_an_api_server_too_old_for_the_gateway_api_version(cluster):
    """The API server's version (GET /version, answered by the fault proxy as an
    older Kubernetes would) against what the requested CRDs need: v1.5.1 needs
    1.30 (admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy), v1.2.1
    needs 1.26."""
    preload(cluster, "kserve-v0.15.2")
    before = ingress(cluster)
    r = run(cluster, "plan", *example("demo"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"check api-server-version: ok: Kubernetes v1\.\d+\.\d+", r.stderr), r.stderr
    rule = cluster.fault("POST", "/rules", {"method": "GET", "path": "^/version$", "action": "status", "status": 200,
                                            "body": json.dumps({"major": "1", "minor": "29", "gitVersion": "v1.29.4"})})
    try:
        r = run(cluster, "apply", *example("current-versions"))
        assert r.returncode == 2, r.stdout + r.stderr
        assert ("check api-server-version: the API server is Kubernetes v1.29.4; Gateway API v1.5.1 needs "
                "Kubernetes 1.30 or later") in r.stderr, r.stderr
        assert "nothing was changed" in r.stderr
        nothing_changed(cluster, before)
        # v1.2.1 needs 1.26: 1.29 is enough
        r = run(cluster, "plan", *example("demo"))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "check api-server-version: ok: Kubernetes v1.29.4" in r.stderr, r.stderr
    finally:
        cluster.fault("DELETE", "/rules/%d" % rule["id"])
