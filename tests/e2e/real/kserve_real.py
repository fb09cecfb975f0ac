"""What the real-controller suites share: the KServe controller's pods and
their container status, its Deployment's restarts, the ingress config, and an
independent inference request through the Gateway. Everything through kubectl.
"""
import json
import os
import pathlib
import time
import urllib.request

import pytest

NS = "kserve"
DEPLOY = "kserve-controller-manager"
CM = "inferenceservice-config"
ISVC_NS = "kserve-test"   # the bundle's verify.namespace
ROOT = pathlib.Path(__file__).resolve().parents[3]
GATEWAY = {"enableGatewayApi": True, "kserveIngressGateway": "kserve/kserve-ingress-gateway"}


def require_real():
    if os.environ.get("KSTAGE_E2E_REAL") != "1":
        pytest.fail("this suite needs the real KServe controller (make test-e2e-real)", pytrace=False)


def manager(pod):
    for cs in pod.get("status", {}).get("containerStatuses", []):
        if cs["name"] == "manager":
            return cs
    return {}


def newest_pods(cluster):
    """The pods of the Deployment's newest ReplicaSet."""
    d = cluster.get("deployment", DEPLOY, "-n", NS)
    rev = d["metadata"]["annotations"].get("deployment.kubernetes.io/revision")
    rss = cluster.get("replicasets", "-n", NS, "-l", "control-plane=" + DEPLOY)["items"]
    names = {rs["metadata"]["name"] for rs in rss
             if rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == rev}
    pods = cluster.get("pods", "-n", NS, "-l", "control-plane=" + DEPLOY)["items"]
    return [p for p in pods if any(o["name"] in names for o in p["metadata"].get("ownerReferences", []))]


def wait_crash(cluster, words, timeout):
    """Wait until the newest controller pod's manager has exited with words in its log tail."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        for p in newest_pods(cluster):
            cs = manager(p)
            last = cs
            term = cs.get("lastState", {}).get("terminated") or {}
            if cs.get("restartCount", 0) >= 1 and words in term.get("message", ""):
                return p, cs
        time.sleep(2)
    raise AssertionError(f"controller did not exit with {words!r} in {timeout}s; last status {json.dumps(last)[:1500]}")


def rollout(cluster, timeout=240):
    cluster.kubectl("-n", NS, "rollout", "status", "deployment/" + DEPLOY, f"--timeout={timeout}s")


def _revision(cluster):
    return cluster.get("deployment", DEPLOY, "-n", NS)["metadata"]["annotations"].get("deployment.kubernetes.io/revision")


def restart(cluster):
    """kubectl rollout restart, returning once the new ReplicaSet exists."""
    before = _revision(cluster)
    # kubectl stamps restartedAt to the second and refuses a second restart
    # within the same second (the previous test's last step may be one)
    for _ in range(3):
        r = cluster.kubectl("-n", NS, "rollout", "restart", "deployment/" + DEPLOY, check=False)
        if r.returncode == 0 or "within the past second" not in r.stderr:
            break
        time.sleep(1.1)
    assert r.returncode == 0, f"kubectl rollout restart: {r.stderr}"
    end = time.time() + 60
    while _revision(cluster) == before:
        assert time.time() < end, "the Deployment controller made no new ReplicaSet"
        time.sleep(0.5)


def ingress(cluster):
    return cluster.get("configmap", CM, "-n", NS)["data"]["ingress"]


def set_ingress(cluster, text, patch="merge"):
    cluster.kubectl("-n", NS, "patch", "configmap", CM, "--type=" + patch,
                    "-p", json.dumps({"data": {"ingress": text}}))


def crash_with(cluster, original, text, words, patch="merge"):
    """Patch the ingress config to text, restart the controller and wait for
    it to exit with words in its log; then put the original config back and
    wait for a controller that runs. Returns the exited container's status."""
    set_ingress(cluster, text, patch)
    restart(cluster)
    _, cs = wait_crash(cluster, words, 180)
    assert cs.get("ready") is not True
    set_ingress(cluster, original)
    restart(cluster)
    rollout(cluster)
    return cs


def apply_shipped(cluster, original, values, *args, bundle=ROOT):
    """kstage apply of the shipped bundle (the repo root, or a copy of it) with
    values/examples/VALUES.yaml and ARGS, keeping the verify stage's
    InferenceService; its verify stage creates it and sends the inference
    request itself. Then the controller runs as before, with
    the Gateway API merged into the ingress config and all else kept."""
    r = cluster.kstage("apply", str(bundle), "--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/",
                       "-f", str(ROOT / "values" / "examples" / (values + ".yaml")), "--keep-test", *args, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "stage verify: test passed: HTTP 200" in out and '"model_name":"sklearn-v2-iris"' in out, out
    rollout(cluster)
    assert [manager(p).get("restartCount") for p in newest_pods(cluster)] == [0]
    cfg = json.loads(ingress(cluster))
    assert {k: cfg[k] for k in GATEWAY} == GATEWAY
    assert {k: v for k, v in cfg.items() if k not in GATEWAY} == \
        {k: v for k, v in json.loads(original).items() if k not in GATEWAY}


def check_runs_as_leader(cluster):
    """One controller pod, Ready, never restarted, holding its own Lease."""
    pods = newest_pods(cluster)
    assert len(pods) == 1
    cs = manager(pods[0])
    assert cs.get("ready") is True and cs.get("restartCount") == 0, cs
    # leader election runs in its namespace, as in a pod
    lease = cluster.get("lease", "-n", NS, "kserve-controller-manager-leader-lock")
    assert lease["spec"]["holderIdentity"].startswith(pods[0]["metadata"]["name"])


def check_ready_by_kserve(cluster, name):
    """The InferenceService was made Ready by KServe itself (its binary is
    `manager`, the field manager of its writes) through the HTTPRoute it
    created for the Gateway, accepted by the Envoy Gateway stand-in; an
    independent request through the Gateway reaches the data plane."""
    isvc = cluster.get("inferenceservice", name, "-n", ISVC_NS, "--show-managed-fields")
    assert {c["type"]: c["status"] for c in isvc["status"]["conditions"]}["Ready"] == "True", isvc["status"]
    assert "manager" in [m["manager"] for m in isvc["metadata"]["managedFields"]]
    route = cluster.get("httproute", name, "-n", ISVC_NS, "--show-managed-fields")
    # spec by KServe, status by the Envoy Gateway stand-in
    assert {m["manager"] for m in route["metadata"]["managedFields"]} == {"manager", "kstage-sim"}
    assert route["spec"]["parentRefs"][0]["name"] == "kserve-ingress-gateway"
    assert any(o["kind"] == "InferenceService" and o["name"] == name
               for o in route["metadata"].get("ownerReferences", []))
    parent = route["status"]["parents"][0]
    assert {c["type"]: c["status"] for c in parent["conditions"]}["Accepted"] == "True"
    # and its own log says so, as `kubectl logs` shows it (the kubelet stand-in serves the process's output)
    pods = newest_pods(cluster)
    log = cluster.kubectl("-n", NS, "logs", pods[0]["metadata"]["name"], "-c", "manager").stdout
    assert [ln for ln in log.splitlines() if '"msg":"Reconciling inference service"' in ln and f'"isvc":"{name}"' in ln], \
        log[-3000:]

    host = isvc["status"]["url"].split("://", 1)[1]
    body = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                        "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]}
    req = urllib.request.Request("http://" + cluster.env["KSTAGE_DATAPLANE_ADDR"] + "/v2/models/" + name + "/infer",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Host": host, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        reply = json.loads(resp.read())
    assert reply["model_name"] == name
    out = reply["outputs"][0]
    assert out["shape"] == [2] and len(out["data"]) == 2
