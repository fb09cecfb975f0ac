"""The migration against the real KServe controller manager (v0.15.2, built from
its Go module under tests/controllers/), run by the test cluster for its pods
(`make cluster-up KSTAGE_PRELOAD=kserve-v0.15.2 KSTAGE_CONTROLLERS=real`).
Envoy Gateway, the kubelet and the data plane stay simulated.

The tests run in file order on one cluster: the guide's broken paths first
(before any Gateway API CRD exists), then kstage's migration end to end.
Everything is checked with kubectl.
"""
import json
import os
import pathlib
import shutil
import time
import urllib.request

import pytest

NS = "kserve"
DEPLOY = "kserve-controller-manager"
CM = "inferenceservice-config"
ISVC_NS = "e2e-real"
ROOT = pathlib.Path(__file__).resolve().parents[3]


def _manager(pod):
    for cs in pod.get("status", {}).get("containerStatuses", []):
        if cs["name"] == "manager":
            return cs
    return {}


def _newest_pods(cluster):
    """The pods of the Deployment's newest ReplicaSet."""
    d = cluster.get("deployment", DEPLOY, "-n", NS)
    rev = d["metadata"]["annotations"].get("deployment.kubernetes.io/revision")
    rss = cluster.get("replicasets", "-n", NS, "-l", "control-plane=" + DEPLOY)["items"]
    names = {rs["metadata"]["name"] for rs in rss
             if rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision") == rev}
    pods = cluster.get("pods", "-n", NS, "-l", "control-plane=" + DEPLOY)["items"]
    return [p for p in pods if any(o["name"] in names for o in p["metadata"].get("ownerReferences", []))]


def _wait_crash(cluster, words, timeout):
    """Wait until the newest controller pod's manager has exited with words in its log tail."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        for p in _newest_pods(cluster):
            cs = _manager(p)
            last = cs
            term = cs.get("lastState", {}).get("terminated") or {}
            if cs.get("restartCount", 0) >= 1 and words in term.get("message", ""):
                return p, cs
        time.sleep(2)
    raise AssertionError(f"controller did not exit with {words!r} in {timeout}s; last status {json.dumps(last)[:1500]}")


def _rollout(cluster, timeout=240):
    cluster.kubectl("-n", NS, "rollout", "status", "deployment/" + DEPLOY, f"--timeout={timeout}s")


def _revision(cluster):
    return cluster.get("deployment", DEPLOY, "-n", NS)["metadata"]["annotations"].get("deployment.kubernetes.io/revision")


def _restart(cluster):
    """kubectl rollout restart, returning once the new ReplicaSet exists."""
    before = _revision(cluster)
    cluster.kubectl("-n", NS, "rollout", "restart", "deployment/" + DEPLOY)
    end = time.time() + 60
    while _revision(cluster) == before:
        assert time.time() < end, "the Deployment controller made no new ReplicaSet"
        time.sleep(0.5)


def _ingress(cluster):
    return cluster.get("configmap", CM, "-n", NS)["data"]["ingress"]


def _set_ingress(cluster, text):
    cluster.kubectl("-n", NS, "patch", "configmap", CM, "--type=merge",
                    "-p", json.dumps({"data": {"ingress": text}}))


@pytest.fixture(scope="module")
def original(cluster):
    if os.environ.get("KSTAGE_E2E_REAL") != "1":
        pytest.fail("this suite needs the real KServe controller (make test-e2e-real)", pytrace=False)
    _rollout(cluster)
    return _ingress(cluster)


def test_real_controller_runs_with_the_preset(cluster, original):
    pods = _newest_pods(cluster)
    assert len(pods) == 1
    cs = _manager(pods[0])
    assert cs.get("ready") is True and cs.get("restartCount") == 0, cs
    # the controller's own Lease: leader election runs in its namespace, as in a pod
    lease = cluster.get("lease", "-n", NS, "kserve-controller-manager-leader-lock")
    assert lease["spec"]["holderIdentity"].startswith(pods[0]["metadata"]["name"])


def test_guide_patch_makes_the_real_controller_exit(cluster, original):
    # the guide's `kubectl patch --type=strategic`: the whole `ingress` string is replaced
    cluster.kubectl("-n", NS, "patch", "configmap", CM, "--type=strategic", "-p", json.dumps(
        {"data": {"ingress": json.dumps({"enableGatewayApi": True,
                                         "kserveIngressGateway": "kserve/kserve-ingress-gateway"})}}))
    _restart(cluster)
    pod, cs = _wait_crash(cluster, "ingressGateway is required", 180)
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs.get("ready") is not True
    # put it back as it was; the controller starts again
    _set_ingress(cluster, original)
    _restart(cluster)
    _rollout(cluster)


def test_gateway_api_before_the_crds_fails(cluster, original):
    # a correct merge, but the HTTPRoute CRD is not installed: the real controller
    # panics at start ("Gateway API CRD not available") and crash-loops; the
    # Deployment keeps the old pod, so nothing serves the new configuration
    assert not cluster.exists("crd", "httproutes.gateway.networking.k8s.io")
    cfg = json.loads(original)
    cfg.update({"enableGatewayApi": True, "kserveIngressGateway": "kserve/kserve-ingress-gateway"})
    _set_ingress(cluster, json.dumps(cfg))
    _restart(cluster)
    pod, cs = _wait_crash(cluster, "panic: Gateway API CRD not available", 180)
    assert cs["lastState"]["terminated"]["exitCode"] == 2
    _set_ingress(cluster, original)
    _restart(cluster)
    _rollout(cluster)


def test_kstage_migration_end_to_end(cluster, original, tmp_path):
    demo = tmp_path / "bundle"
    shutil.copytree(ROOT / "tools" / "demo" / "bundle", demo)
    y = demo / "kstage.yaml"
    y.write_text(y.read_text().replace("https://artifacts.invalid", cluster.env["KSTAGE_ARTIFACT_URL"]))
    r = cluster.kstage("apply", str(demo), timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    _rollout(cluster)
    pods = _newest_pods(cluster)
    assert [_manager(p).get("restartCount") for p in pods] == [0]

    cfg = json.loads(_ingress(cluster))
    assert cfg["enableGatewayApi"] is True and cfg["kserveIngressGateway"] == "kserve/kserve-ingress-gateway"
    for k, v in json.loads(original).items():
        if k not in ("enableGatewayApi", "kserveIngressGateway"):
            assert cfg[k] == v, k

    cluster.kubectl("create", "namespace", ISVC_NS)
    cluster.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "sklearn-v2-iris", "namespace": ISVC_NS,
                     "annotations": {"serving.kserve.io/deploymentMode": "RawDeployment"}},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "protocolVersion": "v2",
                                         "runtime": "kserve-sklearnserver",
                                         "storageUri": "gs://kfserving-examples/models/sklearn/1.0/model"}}}}))
    cluster.kubectl("-n", ISVC_NS, "wait", "--for=condition=Ready", "inferenceservice/sklearn-v2-iris", "--timeout=240s")
    isvc = cluster.get("inferenceservice", "sklearn-v2-iris", "-n", ISVC_NS, "--show-managed-fields")
    # KServe itself wrote the status and the HTTPRoute (its binary is `manager`)
    assert "manager" in [m["manager"] for m in isvc["metadata"]["managedFields"]]
    route = cluster.get("httproute", "sklearn-v2-iris", "-n", ISVC_NS, "--show-managed-fields")
    # spec by KServe, status by the Envoy Gateway stand-in
    assert {m["manager"] for m in route["metadata"]["managedFields"]} == {"manager", "kstage-sim"}
    assert route["spec"]["parentRefs"][0]["name"] == "kserve-ingress-gateway"
    parent = route["status"]["parents"][0]
    assert {c["type"]: c["status"] for c in parent["conditions"]}["Accepted"] == "True"

    host = isvc["status"]["url"].split("://", 1)[1]
    body = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                        "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]}
    req = urllib.request.Request("http://" + cluster.env["KSTAGE_DATAPLANE_ADDR"] + "/v2/models/sklearn-v2-iris/infer",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Host": host, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        reply = json.loads(resp.read())
    assert reply["model_name"] == "sklearn-v2-iris"
    out = reply["outputs"][0]
    assert out["shape"] == [2] and len(out["data"]) == 2
