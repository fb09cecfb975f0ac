"""The real Envoy Gateway v1.3.3 beside the real KServe v0.15.2 controller
(make test-e2e-real-eg-v1.3.3: the kserve-v0.15.2 preset, KSTAGE_CONTROLLERS=real,
KSTAGE_EG=real). Envoy Gateway is installed as its v1.3.3 chart does, over
the Gateway API v1.2.1 standard CRDs; the harness runs its binary for its pod
and its certgen Job. The shipped bundle with make demo's values then
migrates KServe to the Gateway API end to end: every status checked here was
written by Envoy Gateway or KServe, read with kubectl."""
import os

import pytest

from eg_real import EG_NS, check_migrated_through_eg, eg_container, eventually
from kserve_real import apply_shipped, check_runs_as_leader, rollout


@pytest.fixture(scope="module")
def eg(cluster):
    if os.environ.get("KSTAGE_E2E_EG") != "real":
        pytest.fail("this suite needs the real Envoy Gateway (make test-e2e-real-eg-v1.3.3)", pytrace=False)
    cluster.kubectl("-n", EG_NS, "rollout", "status", "deployment/envoy-gateway", "--timeout=300s")
    return cluster


def test_envoy_gateway_runs_with_its_certificates(eg):
    pods = eg.get("pods", "-n", EG_NS, "-l", "control-plane=envoy-gateway")["items"]
    assert len(pods) == 1
    cs = eg_container(pods[0])
    assert cs["ready"] is True and cs["restartCount"] == 0, cs
    # the certgen hook Job ran the real `envoy-gateway certgen`: its Secrets exist
    # (Envoy Gateway can be Ready before the Job's status says so: wait, bounded)
    eventually(lambda: eg.get("job", "eg-gateway-helm-certgen", "-n", EG_NS)["status"].get("succeeded") == 1)
    job = eg.get("job", "eg-gateway-helm-certgen", "-n", EG_NS)
    assert job["status"].get("succeeded") == 1, job["status"]
    for name in ("envoy-gateway", "envoy"):
        sec = eg.get("secret", name, "-n", EG_NS)
        assert {"ca.crt", "tls.crt", "tls.key"} <= set(sec["data"]), name
    # leader election in its namespace, held by its pod (Envoy Gateway is
    # Ready before it has taken the Lease: wait for it, bounded)
    eventually(lambda: eg.exists("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io"))
    lease = eg.get("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io")
    assert lease["spec"]["holderIdentity"].startswith(pods[0]["metadata"]["name"])


def test_shipped_migration_through_the_real_envoy_gateway(eg):
    original = eg.get("configmap", "inferenceservice-config", "-n", "kserve")["data"]["ingress"]
    rollout(eg)
    apply_shipped(eg, original, "demo")
    check_runs_as_leader(eg)

    check_migrated_through_eg(eg)
    # Envoy Gateway never restarted on the way
    assert [eg_container(p)["restartCount"] for p in
            eg.get("pods", "-n", EG_NS, "-l", "control-plane=envoy-gateway")["items"]] == [0]
