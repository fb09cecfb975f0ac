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

from kserve_real import GATEWAY, NS, apply_shipped, check_ready_by_kserve, check_runs_as_leader, crash_with


def test_real_v0200_controller_runs_with_the_preset(cluster, original):
    d = cluster.get("deployment", "kserve-controller-manager", "-n", NS)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "kserve/kserve-controller:v0.20.0"
    check_runs_as_leader(cluster)


def test_guide_patch_makes_the_real_v0200_controller_exit(cluster, original):
    # the guide's `kubectl patch --type=strategic` replaces the whole `ingress` string
    cs = crash_with(cluster, original, json.dumps(GATEWAY), "ingressGateway is required", patch="strategic")
    assert cs["lastState"]["terminated"]["exitCode"] == 1


def test_v0200_gateway_api_before_the_crds_fails(cluster, original):
    # a correct merge, but no HTTPRoute CRD: v0.20.0 does not panic as v0.15.2
    # does, its InferenceService controller's setup fails and the manager exits 1
    assert not cluster.exists("crd", "httproutes.gateway.networking.k8s.io")
    cfg = json.loads(original)
    cfg.update(GATEWAY)
    cs = crash_with(cluster, original, json.dumps(cfg), "gateway API mode requires gateway.networking.k8s.io/v1")
    term = cs["lastState"]["terminated"]
    assert term["exitCode"] == 1 and "unable to create controller" in term["message"], term


def test_kstage_migration_current_versions(cluster, original):
    apply_shipped(cluster, original, "current-versions")
    # Gateway API v1.5.1, as the values ask
    crd = cluster.get("crd", "httproutes.gateway.networking.k8s.io")
    assert crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.5.1"
    check_ready_by_kserve(cluster, "sklearn-v2-iris")
