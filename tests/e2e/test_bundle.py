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

RELEASE = "kserve-gateway-api"
GWAPI = ["gatewayclasses", "gateways", "grpcroutes", "httproutes", "referencegrants"]
GWAPI_151 = GWAPI + ["backendtlspolicies", "listenersets", "tlsroutes"]
VAP = "safe-upgrades.gateway.networking.k8s.io"


def mirror(cluster):
    return ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/"]


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
    k("delete", "namespace", "kserve-test", "kserve", "envoy-gateway-system", "platform-ingress",
      "--ignore-not-found", "--wait=false")
    k("delete", "secret,lease", "-n", "kstage-system", "-l", "name=" + RELEASE, "--ignore-not-found")
    k("delete", "lease", "-n", "kstage-system", RELEASE, "--ignore-not-found", check=False)
    k("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", VAP, "--ignore-not-found")
    crds = [c["metadata"]["name"] for c in cluster.get("crd")["items"]
            if c["spec"]["group"] in ("gateway.networking.k8s.io", "serving.kserve.io")]
    if crds:
        k("delete", "crd", *crds, "--ignore-not-found", "--wait=true")
    for ns in ("kserve-test", "kserve", "envoy-gateway-system", "platform-ingress"):
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
    r = run(cluster, "apply", *example("demo"))
    assert r.returncode == 0, r.stdout + r.stderr
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
    # the controller restarted once, its rollout complete
    d = wait_rollout(cluster)
    assert "kubectl.kubernetes.io/restartedAt" in d["spec"]["template"]["metadata"].get("annotations", {})
    rs1 = replicasets(cluster)
    assert len(rs1) == len(rs0) + 1, (rs0, rs1)
    # the test InferenceService went through the Gateway; it was kept (--keep-test):
    # ask the data plane ourselves with the Host of status.url
    isvc = cluster.get("isvc", "sklearn-v2-iris", "-n", "kserve-test")
    assert cond(isvc, "Ready").get("status") == "True"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    host = isvc["status"]["url"].split("://", 1)[1]
    routes = cluster.get("httproute", "-n", "kserve-test")["items"]
    assert routes and all(p["parentRefs"][0]["name"] == "kserve-ingress-gateway" for p in
                          (rt["spec"] for rt in routes))
    body = json.dumps({"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32",
                                   "data": [[6.8, 2.8, 4.8, 1.4]]}]})
    out = subprocess.run(["curl", "-sS", "-H", "Host: " + host, "-d", body,
                          "http://%s/v2/models/sklearn-v2-iris/infer" % cluster.env["KSTAGE_DATAPLANE_ADDR"]],
                         capture_output=True, text=True, timeout=60)
    reply = json.loads(out.stdout)
    assert reply["model_name"] == "sklearn-v2-iris" and reply["outputs"][0]["data"] == [1]

    # a second apply changes nothing and restarts nothing
    s0 = state(cluster)
    r = run(cluster, "apply", *example("demo"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert state(cluster) == s0
    assert ingress(cluster) == after
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
    assert re.search(re.escape(str(f)) + r":3:\d+: .*\"htps\" is not allowed", r.stderr), r.stderr
