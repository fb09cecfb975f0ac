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

from kserve_real import GATEWAY, apply_shipped, check_ready_by_kserve, check_runs_as_leader, crash_with


def test_real_controller_runs_with_the_preset(cluster, original):
    check_runs_as_leader(cluster)


def test_guide_patch_makes_the_real_controller_exit(cluster, original):
    # the guide's `kubectl patch --type=strategic`: the whole `ingress` string is replaced
    cs = crash_with(cluster, original, json.dumps(GATEWAY), "ingressGateway is required", patch="strategic")
    assert cs["lastState"]["terminated"]["exitCode"] == 1


def test_gateway_api_before_the_crds_fails(cluster, original):
    # a correct merge, but the HTTPRoute CRD is not installed: the real controller
    # panics at start ("Gateway API CRD not available") and crash-loops; the
    # Deployment keeps the old pod, so nothing serves the new configuration
    assert not cluster.exists("crd", "httproutes.gateway.networking.k8s.io")
    cfg = json.loads(original)
    cfg.update(GATEWAY)
    cs = crash_with(cluster, original, json.dumps(cfg), "panic: Gateway API CRD not available")
    assert cs["lastState"]["terminated"]["exitCode"] == 2


def test_kstage_migration_end_to_end(cluster, original):
    # the shipped bundle with make demo's values
    apply_shipped(cluster, original, "demo")
    check_ready_by_kserve(cluster, "sklearn-v2-iris")
