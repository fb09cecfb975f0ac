"""The migration against the real KServe controller manager (v0.15.2, built from
its Go module under tests/controllers/), run by the test cluster for its pods
(`make cluster-up KSTAGE_PRELOAD=kserve-v0.15.2 KSTAGE_CONTROLLERS=real`).
Envoy Gateway, the kubelet and the data plane stay simulated.

The tests run in file order on one cluster: the guide's broken paths first
(before any Gateway API CRD exists), then kstage's shipped migration end to
end (the repo root bundle with make demo's values).
Everything is checked with kubectl.
"""
import json
import pathlib

import pytest

from kserve_real import (CM, DEPLOY, NS, check_ready_by_kserve, check_runs_as_leader, ingress, manager,
                         newest_pods, require_real, restart, rollout, set_ingress, wait_crash)

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def original(cluster):
    require_real()
    rollout(cluster)
    return ingress(cluster)


def test_real_controller_runs_with_the_preset(cluster, original):
    check_runs_as_leader(cluster)


def test_guide_patch_makes_the_real_controller_exit(cluster, original):
    # the guide's `kubectl patch --type=strategic`: the whole `ingress` string is replaced
    cluster.kubectl("-n", NS, "patch", "configmap", CM, "--type=strategic", "-p", json.dumps(
        {"data": {"ingress": json.dumps({"enableGatewayApi": True,
                                         "kserveIngressGateway": "kserve/kserve-ingress-gateway"})}}))
    restart(cluster)
    pod, cs = wait_crash(cluster, "ingressGateway is required", 180)
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs.get("ready") is not True
    # put it back as it was; the controller starts again
    set_ingress(cluster, original)
    restart(cluster)
    rollout(cluster)


def test_gateway_api_before_the_crds_fails(cluster, original):
    # a correct merge, but the HTTPRoute CRD is not installed: the real controller
    # panics at start ("Gateway API CRD not available") and crash-loops; the
    # Deployment keeps the old pod, so nothing serves the new configuration
    assert not cluster.exists("crd", "httproutes.gateway.networking.k8s.io")
    cfg = json.loads(original)
    cfg.update({"enableGatewayApi": True, "kserveIngressGateway": "kserve/kserve-ingress-gateway"})
    set_ingress(cluster, json.dumps(cfg))
    restart(cluster)
    pod, cs = wait_crash(cluster, "panic: Gateway API CRD not available", 180)
    assert cs["lastState"]["terminated"]["exitCode"] == 2
    set_ingress(cluster, original)
    restart(cluster)
    rollout(cluster)


def test_kstage_migration_end_to_end(cluster, original):
    # the shipped bundle (repo root) with make demo's values; its verify stage
    # creates the InferenceService and sends the inference request itself
    r = cluster.kstage("apply", str(ROOT), "--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/",
                       "-f", str(ROOT / "values" / "examples" / "demo.yaml"), "--keep-test", timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "stage verify: test passed: HTTP 200" in out and '"model_name":"sklearn-v2-iris"' in out, out
    rollout(cluster)
    pods = newest_pods(cluster)
    assert [manager(p).get("restartCount") for p in pods] == [0]

    cfg = json.loads(ingress(cluster))
    assert cfg["enableGatewayApi"] is True and cfg["kserveIngressGateway"] == "kserve/kserve-ingress-gateway"
    for k, v in json.loads(original).items():
        if k not in ("enableGatewayApi", "kserveIngressGateway"):
            assert cfg[k] == v, k

    check_ready_by_kserve(cluster, "sklearn-v2-iris")
