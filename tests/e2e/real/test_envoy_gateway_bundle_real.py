"""The real Envoy Gateway v1.8.3 installed by the shipped bundle itself
(make test-e2e-real-eg-bundle: the kserve-v0.20.0 preset, KSTAGE_CONTROLLERS=real,
KSTAGE_EG=bundle). The harness installs no Envoy Gateway of its own; it runs
the real binary of the pod's image tag for whatever Envoy Gateway pods appear.
The bundle, pinned with `kstage fetch --update-lock` through the test servers,
with values/examples/envoy-gateway.yaml (Gateway API v1.5.1,
envoyGateway.install), installs Envoy Gateway from the v1.8.3 chart fixture
(served as oci://docker.io/envoyproxy/gateway-helm:v1.8.3) with its certgen
hook, and the migration succeeds end to end through it."""
import os

import pytest

from eg_real import EG_NS, check_migrated_through_eg, eg_container, eventually
from kserve_real import apply_shipped, check_runs_as_leader
from shipped import pinned_copy


def test_bundle_installs_v183_and_migrates_through_it(cluster, original):
    if os.environ.get("KSTAGE_E2E_EG") != "bundle":
        pytest.fail("this suite needs the real Envoy Gateway installed by the bundle (make test-e2e-real-eg-bundle)",
                    pytrace=False)
    # the harness installed none
    assert not cluster.exists("namespace", EG_NS)
    assert not [c for c in cluster.get("crd")["items"] if c["spec"]["group"] == "gateway.envoyproxy.io"]
    b = pinned_copy(cluster, "bundle-eg")
    apply_shipped(cluster, original, "envoy-gateway",
                  "--mirror", "oci://docker.io/=oci://" + cluster.env["KSTAGE_OCI_HOST"] + "/", bundle=b)
    check_runs_as_leader(cluster)
    d = cluster.get("deployment", "envoy-gateway", "-n", EG_NS, "--show-managed-fields")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == "docker.io/envoyproxy/gateway:v1.8.3"
    assert "kstage-testcluster" not in {m["manager"] for m in d["metadata"]["managedFields"]}
    pods = cluster.get("pods", "-n", EG_NS, "-l", "control-plane=envoy-gateway")["items"]
    assert len(pods) == 1
    cs = eg_container(pods[0])
    assert cs["ready"] is True and cs["restartCount"] == 0, cs
    # its certgen hook ran the real `envoy-gateway certgen`: the Secrets it makes exist
    for name in ("envoy-gateway", "envoy"):
        assert {"ca.crt", "tls.crt", "tls.key"} <= set(cluster.get("secret", name, "-n", EG_NS)["data"]), name
    eventually(lambda: cluster.exists("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io"))
    lease = cluster.get("lease", "-n", EG_NS, "5b9825d2.gateway.envoyproxy.io")
    assert lease["spec"]["holderIdentity"].startswith(pods[0]["metadata"]["name"])
    check_migrated_through_eg(cluster)
    cluster.kubectl("delete", "mutatingwebhookconfiguration", "envoy-gateway-topology-injector.envoy-gateway-system",
                    "--ignore-not-found")
