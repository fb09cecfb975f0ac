"""The migration against the real KServe controller manager v0.20.0 (built from
its Go module under tests/controllers/), run by the test cluster for its pods
(`make cluster-up KSTAGE_PRELOAD=kserve-v0.20.0 KSTAGE_CONTROLLERS=real`).
Envoy Gateway, the kubelet and the data plane stay simulated.

The tests run in file order on one cluster: the guide's broken paths first
(before any Gateway API CRD exists; v0.20.0 fails differently from v0.15.2 when
the HTTPRoute CRD is missing), then kstage's shipped migration with the current
versions (values/examples/current-versions.yaml: Gateway API v1.5.1).
Everything is checked with kubectl.
"""
import json
import pathlib

import pytest

from kserve_real import (CM, NS, check_ready_by_kserve, check_runs_as_leader, ingress, manager, newest_pods,
                         require_real, restart, rollout, set_ingress, wait_crash)

ROOT = pathlib.Path(__file__).resolve().parents[3]
GATEWAY = {"enableGatewayApi": True, "kserveIngressGateway": "kserve/kserve-ingress-gateway"}


@pytest.fixture(scope="module")
def original(cluster):
    require_real()
    rollout(cluster)
    return ingress(cluster)


def test_real_v0200_controller_runs_with_the_preset(cluster, original):
    d = cluster.get("deployment", "kserve-controller-manager", "-n", NS)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "kserve/kserve-controller:v0.20.0"
    check_runs_as_leader(cluster)


def test_guide_patch_makes_the_real_v0200_controller_exit(cluster, original):
    # the guide's `kubectl patch --type=strategic` replaces the whole `ingress` string
    cluster.kubectl("-n", NS, "patch", "configmap", CM, "--type=strategic", "-p",
                    json.dumps({"data": {"ingress": json.dumps(GATEWAY)}}))
    restart(cluster)
    pod, cs = wait_crash(cluster, "ingressGateway is required", 180)
    assert cs["lastState"]["terminated"]["exitCode"] == 1
    assert cs.get("ready") is not True
    set_ingress(cluster, original)
    restart(cluster)
    rollout(cluster)


def test_v0200_gateway_api_before_the_crds_fails(cluster, original):
    # a correct merge, but no HTTPRoute CRD: v0.20.0 does not panic as v0.15.2
    # does, its InferenceService controller's setup fails and the manager exits 1
    assert not cluster.exists("crd", "httproutes.gateway.networking.k8s.io")
    cfg = json.loads(original)
    cfg.update(GATEWAY)
    set_ingress(cluster, json.dumps(cfg))
    restart(cluster)
    pod, cs = wait_crash(cluster, "gateway API mode requires gateway.networking.k8s.io/v1", 180)
    term = cs["lastState"]["terminated"]
    assert term["exitCode"] == 1 and "unable to create controller" in term["message"], term
    set_ingress(cluster, original)
    restart(cluster)
    rollout(cluster)


def test_kstage_migration_current_versions(cluster, original):
    # the shipped bundle (repo root) with the current versions; its verify
    # stage creates the InferenceService and sends the inference request itself
    r = cluster.kstage("apply", str(ROOT), "--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/",
                       "-f", str(ROOT / "values" / "examples" / "current-versions.yaml"), "--keep-test", timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "stage verify: test passed: HTTP 200" in out and '"model_name":"sklearn-v2-iris"' in out, out
    rollout(cluster)
    assert [manager(p).get("restartCount") for p in newest_pods(cluster)] == [0]

    # Gateway API v1.5.1, as the values ask
    crd = cluster.get("crd", "httproutes.gateway.networking.k8s.io")
    assert crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.5.1"
    cfg = json.loads(ingress(cluster))
    assert {k: cfg[k] for k in GATEWAY} == GATEWAY
    assert {k: v for k, v in cfg.items() if k not in GATEWAY} == \
        {k: v for k, v in json.loads(original).items() if k not in GATEWAY}

    check_ready_by_kserve(cluster, "sklearn-v2-iris")
