"""The real Envoy Gateway v1.8.3 beside the real KServe v0.20.0 controller
(make test-e2e-real-eg-v1.8.3: the kserve-v0.20.0 preset, KSTAGE_CONTROLLERS=real,
KSTAGE_EG=real). The harness installs Envoy Gateway as its v1.8.3 chart fixture
does, over the Gateway API v1.2.1 standard CRDs (the guide's first step), and
runs its binary for its pod and its certgen Job.

The tests run in file order on one cluster. First the real failure: v1.8
watches ListenerSet (gateway.networking.k8s.io/v1, Gateway API v1.5) without
looking for its CRD, so on v1.2.1 its process exits; the harness restarts it
with the kubelet's back-off and writes each exit into the pod's status. Then
kstage's shipped migration with the current versions
(values/examples/current-versions.yaml: Gateway API v1.5.1, --force-conflicts
over the CRDs the harness applied) brings the CRDs Envoy Gateway needs; at its next restart it runs, and the migration succeeds
end to end. Every status checked here was written by Envoy Gateway or KServe,
read with kubectl."""
import os

import pytest

from eg_real import EG_NS, check_migrated_through_eg, eg_container, eventually
from kserve_real import ROOT, apply_shipped, check_runs_as_leader

# what Envoy Gateway v1.8.3 says when it exits (internal/provider/kubernetes/controller.go:
# watchResources, then cmd/server.go's "failed to start runners")
LISTENERSET = 'no matches for kind "ListenerSet" in version "gateway.networking.k8s.io/v1"'
EG_SELECTOR = "control-plane=envoy-gateway"


@pytest.fixture(scope="module")
def eg(cluster):
    if os.environ.get("KSTAGE_E2E_EG") != "real":
        pytest.fail("this suite needs the real Envoy Gateway (make test-e2e-real-eg-v1.8.3)", pytrace=False)
    return cluster


def eg_pod(eg):
    pods = eg.get("pods", "-n", EG_NS, "-l", EG_SELECTOR)["items"]
    assert len(pods) == 1, [p["metadata"]["name"] for p in pods]
    return pods[0]


def test_v183_exits_on_gateway_api_v121_crds(eg):
    d = eg.get("deployment", "envoy-gateway", "-n", EG_NS)
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/envoyproxy/gateway:v1.8.3"
    crd = eg.get("crd", "httproutes.gateway.networking.k8s.io")
    assert crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.2.1"
    assert not eg.exists("crd", "listenersets.gateway.networking.k8s.io")

    # exited, restarted by the harness, exited again: the pod's status says so
    def crashed_twice():
        pod = eg_pod(eg)
        if not pod.get("status", {}).get("containerStatuses"):
            return False  # the pod is new: its container has no status yet (seen once in make test)
        cs = eg_container(pod)
        return cs.get("restartCount", 0) >= 2 and (cs.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff"
    eventually(crashed_twice)
    pod = eg_pod(eg)
    cs = eg_container(pod)
    assert cs["restartCount"] >= 2 and cs["ready"] is False, cs
    waiting = cs["state"]["waiting"]
    assert waiting["reason"] == "CrashLoopBackOff", cs
    assert "back-off" in waiting["message"] and "restarting failed container=envoy-gateway" in waiting["message"], waiting
    term = cs["lastState"]["terminated"]
    assert term["exitCode"] == 1 and term["reason"] == "Error", term
    assert "failed to create gatewayapi controller: error watching resources: " + LISTENERSET in term["message"], term
    # the Deployment never became Available, and `kubectl logs` shows the same exit
    assert eg.get("deployment", "envoy-gateway", "-n", EG_NS)["status"].get("availableReplicas", 0) == 0
    log = eg.kubectl("-n", EG_NS, "logs", pod["metadata"]["name"], "-c", "envoy-gateway").stdout
    assert LISTENERSET in log, log[-3000:]
    # nothing Envoy Gateway would write exists: it never ran its controllers
    assert not eg.exists("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io")


def test_preflight_refuses_v183_with_the_guides_crds(eg):
    # the guide's versions (Gateway API v1.2.1) with this Envoy Gateway: refused before any change
    r = eg.kstage("plan", str(ROOT), "--mirror", "https://github.com/=" + eg.env["KSTAGE_ARTIFACT_URL"] + "/",
                  "-f", str(ROOT / "values" / "examples" / "demo.yaml"), timeout=600)
    assert r.returncode == 2, r.stdout + r.stderr
    assert ("check envoy-gateway-version: Envoy Gateway v1.8.3 needs Gateway API v1.5 CRDs and crash-loops "
            "on v1.2.1 (it watches ListenerSet") in r.stderr, r.stderr


def test_shipped_migration_current_versions_through_v183(eg, original):
    restarts = eg_container(eg_pod(eg))["restartCount"]
    # the v1.2.1 CRDs were server-side applied by another manager (the harness, as
    # `kubectl apply --server-side` would): kstage's upgrade to v1.5.1 conflicts with
    # it, says so and rolls back; with --force-conflicts it takes the fields over
    r = eg.kstage("apply", str(ROOT), "--mirror", "https://github.com/=" + eg.env["KSTAGE_ARTIFACT_URL"] + "/",
                  "-f", str(ROOT / "values" / "examples" / "current-versions.yaml"), timeout=900)
    assert r.returncode == 1, r.stdout + r.stderr
    assert ("stage gateway-api-crds-v1-5: 5 of 8 CustomResourceDefinition objects failed; the first: apply: "
            "409 Conflict") in r.stderr and "re-run with --force-conflicts" in r.stderr, r.stderr
    assert "rolled back: the cluster is as it was before the run" in r.stderr, r.stderr
    apply_shipped(eg, original, "current-versions", "--force-conflicts")
    check_runs_as_leader(eg)
    crd = eg.get("crd", "listenersets.gateway.networking.k8s.io")
    assert crd["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"] == "v1.5.1"
    # the same pod, restarted by the harness after its back-off, now runs and leads
    pod = eg_pod(eg)
    cs = eg_container(pod)
    assert cs["ready"] is True and cs["restartCount"] >= restarts, cs
    eventually(lambda: eg.exists("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io"))
    lease = eg.get("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io")
    assert lease["spec"]["holderIdentity"].startswith(pod["metadata"]["name"])
    check_migrated_through_eg(eg)
