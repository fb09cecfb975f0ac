"""The shipped bundle's Gateway API experimental channel (gatewayApi.channel:
experimental), checked with kubectl: both versions installed from the shipped
kstage.lock's sha256 pins, a damaged file refused by the pin; the
never-downgrade rule keeps newer CRDs whatever the requested channel, and
CRDs of another channel are kept too (Gateway API's CRD management guide: a
bundle never overwrites CRDs of a different release channel) unless
keepNewer is off; forced, experimental over standard CRDs is named by the
preflight (exit 2, nothing changed) while v1.5.1's safe-upgrades
ValidatingAdmissionPolicy is bound, since the API server refuses it.

The test server has v1.2.1's experimental-install.yaml as a fixture and
v1.5.1's rebuilt by tests/tools/gwapi_install_yaml.py (make gwapi-assets)
from the Go module with the tag's own hack/build-install-yaml.sh, which the
tool first proves on the standard assets: both rebuilt byte for byte the
fixtures, whose sha256 are kstage.lock's pins of the release assets (see
tests/cluster/README.md). The rebuilt v1.5.1 file's sha256 is the lock's pin
(GWAPI_PINS), so the run below installs exactly what the lock pins."""
import hashlib
import ssl
import time
import urllib.request

from conftest import ROOT
from test_bundle import (GWAPI, GWAPI_151, GWAPI_PINS, VAP, _leave_clean, crd_versions,  # noqa: F401
                         example, gwapi_crds, mirror, preload, run)

# the CRDs of each experimental-install.yaml (gateway.networking.k8s.io), and
# v1.5.1's two of gateway.networking.x-k8s.io
EXP_121 = GWAPI + ["backendlbpolicies", "backendtlspolicies", "tcproutes", "tlsroutes", "udproutes"]
EXP_151 = GWAPI_151 + ["tcproutes", "udproutes"]
X_151 = ["xbackendtrafficpolicies.gateway.networking.x-k8s.io", "xmeshes.gateway.networking.x-k8s.io"]
EXPERIMENTAL = ("--set", "gatewayApi.channel=experimental", "--set", "verify.enabled=false")
GH = "https://github.com/kubernetes-sigs/gateway-api/releases/download/"


def no_crash(out):
    assert "AddressSanitizer" not in out and "runtime error" not in out and "LeakSanitizer" not in out, out


def established(cluster, name):
    c = cluster.get("crd", name)
    return any(x["type"] == "Established" and x["status"] == "True" for x in c.get("status", {}).get("conditions", []))


def apply_keeps(cluster, args, stage, report):
    """An apply of the http-only example with args keeps the installed Gateway
    API CRDs: exit 0, the preflight's report, the CRD stage skipped, no CRD written."""
    before = gwapi_crds(cluster)
    r = run(cluster, "apply", *example("http-only"), *args)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    no_crash(out)
    assert report in out, out
    assert "stage %s: skipped" % stage in out, out
    assert gwapi_crds(cluster) == before


def test_v121_experimental_from_the_shipped_lock(cluster):
    preload(cluster, "kserve-v0.15.2")
    r = run(cluster, "apply", *example("http-only"), *EXPERIMENTAL)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    no_crash(out)
    assert "stage gateway-api-crds: skipped" in out, out
    assert set(crd_versions(cluster, EXP_121).values()) == {("v1.2.1", "experimental")}
    assert not cluster.exists("validatingadmissionpolicy", VAP)


def test_v151_experimental_pinned_by_the_shipped_lock(cluster, tmp_path):
    preload(cluster, "kserve-v0.15.2")
    args = (*example("http-only"), "--set", "gatewayApi.version=v1.5.1", *EXPERIMENTAL)
    # a damaged file (one byte flipped, same length) is refused by the lock's pin,
    # before anything is applied (its own cache: nothing cached can answer for it)
    # (every pinned source is fetched and checked: only this one is damaged; the first rule matching wins)
    exp = "kubernetes-sigs/gateway-api/releases/download/v1.5.1/experimental-install.yaml"
    tampered = ["--mirror", "https://github.com/%s=%s/_tamper/%s" % (exp, cluster.env["KSTAGE_ARTIFACT_URL"], exp),
                *mirror(cluster)]
    r = cluster.kstage("apply", str(ROOT), *tampered, *args, env={"XDG_CACHE_HOME": str(tmp_path / "cache-tampered")}, timeout=900)
    assert r.returncode == 2, r.stdout + r.stderr
    no_crash(r.stdout + r.stderr)
    assert "sha256 mismatch: pinned %s, got " % GWAPI_PINS[("v1.5.1", "experimental")] in r.stderr, r.stderr
    assert "kstage.lock:" in r.stderr, r.stderr
    assert gwapi_crds(cluster) == {}
    # the file the test server serves: installed, every CRD of the file Established
    r = cluster.kstage("apply", str(ROOT), *mirror(cluster), *args,
                       env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout + r.stderr
    no_crash(out)
    for skipped in ("gateway-api-crds", "gateway-api-crds-v1-5", "gateway-api-crds-experimental"):
        assert "stage %s: skipped" % skipped in out, out
    assert set(crd_versions(cluster, EXP_151).values()) == {("v1.5.1", "experimental")}
    assert set(gwapi_crds(cluster)) == {n + ".gateway.networking.k8s.io" for n in EXP_151}
    for name in X_151:
        assert established(cluster, name), name
    assert cluster.exists("validatingadmissionpolicy", VAP)
    assert cluster.exists("validatingadmissionpolicybinding", VAP)
    # a second run changes no CRD
    before = gwapi_crds(cluster)
    r = cluster.kstage("apply", str(ROOT), *mirror(cluster), *args,
                       env={"XDG_CACHE_HOME": str(tmp_path / "cache")}, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    assert gwapi_crds(cluster) == before


def test_another_channel_is_kept_and_experimental_over_standard_is_refused_by_the_policy(cluster):
    preload(cluster, "kserve-v0.15.2")
    v151 = ("--set", "gatewayApi.version=v1.5.1")
    r = run(cluster, "apply", *example("http-only"), *v151)
    assert r.returncode == 0, r.stdout + r.stderr
    assert crd_versions(cluster, GWAPI_151) == {n: ("v1.5.1", "standard") for n in GWAPI_151}
    assert cluster.exists("validatingadmissionpolicy", VAP)
    standard = gwapi_crds(cluster)
    # v1.2.1 experimental requested (the default version): the newer CRDs are kept,
    # reported by the preflight, the CRD stage skipped; nothing changes
    apply_keeps(cluster, EXPERIMENTAL, "gateway-api-crds-experimental",
                "Gateway API v1.5.1 (standard) installed, newer than the requested v1.2.1: kept, never downgraded")
    # v1.5.1 experimental over the v1.5.1 standard CRDs: another release channel is
    # kept (Gateway API's CRD management guide: a bundle never overwrites CRDs of a
    # different channel), reported by the preflight; nothing changes
    apply_keeps(cluster, (*v151, *EXPERIMENTAL), "gateway-api-crds-v1-5-experimental",
                "Gateway API v1.5.1 (standard) installed, another channel than the requested v1.5.1 (experimental): "
                "kept, CRDs of another release channel are never overwritten (gatewayApi.keepNewer=false to switch)")
    # forced (keepNewer false): the API server's policy would refuse it (checked
    # below): the preflight names it and the way out, exit 2, nothing changed
    force = ("--set", "gatewayApi.keepNewer=false")
    r = run(cluster, "apply", *example("http-only"), *v151, *EXPERIMENTAL, *force)
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr
    no_crash(r.stdout + err)
    assert "preflight: 1 problem, nothing was changed" in err, err
    assert ("check gateway-api-crds: Gateway API v1.5.1 (standard) is installed and ValidatingAdmissionPolicy "
            "safe-upgrades.gateway.networking.k8s.io (Gateway API v1.5's) is bound: the API server refuses "
            "experimental CRDs over standard ones") in err, err
    assert "Keep gatewayApi.channel=standard" in err and "kubectl delete validatingadmissionpolicybinding" in err, err
    assert gwapi_crds(cluster) == standard
    # the refusal the preflight predicts, by the API server itself (a server-side dry run
    # of the file the lock pins, as served by the test server)
    ctx = ssl.create_default_context(cafile=cluster.env["KSTAGE_ARTIFACT_CA"])
    with urllib.request.urlopen(cluster.env["KSTAGE_ARTIFACT_URL"] + "/kubernetes-sigs/gateway-api/releases/download/"
                                "v1.5.1/experimental-install.yaml", context=ctx, timeout=60) as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() == GWAPI_PINS[("v1.5.1", "experimental")]
    k = cluster.kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-",
                        check=False, input=data.decode())
    assert k.returncode != 0, k.stdout
    assert "Installing experimental CRDs on top of standard channel CRDs is prohibited by default" in k.stderr, k.stderr
    assert gwapi_crds(cluster) == standard
    # with the policy removed (the way out the preflight gives), the forced switch goes through
    cluster.kubectl("delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", VAP)
    # the API server drops a deleted policy from its admission cache a moment
    # later (an informer): wait until its own dry run lets the file through
    for _ in range(120):
        k = cluster.kubectl("apply", "--server-side", "--force-conflicts", "--dry-run=server", "-f", "-",
                            check=False, input=data.decode())
        if k.returncode == 0:
            break
        time.sleep(0.5)
    assert k.returncode == 0, k.stderr
    r = run(cluster, "apply", *example("http-only"), *v151, *EXPERIMENTAL, *force)
    assert r.returncode == 0, r.stdout + r.stderr
    no_crash(r.stdout + r.stderr)
    assert set(crd_versions(cluster, EXP_151).values()) == {("v1.5.1", "experimental")}
    assert cluster.exists("validatingadmissionpolicybinding", VAP)
    # and back: standard requested over the experimental CRDs is kept as well (the
    # policy would let it through, dropping the experimental fields from the schemas)
    apply_keeps(cluster, v151, "gateway-api-crds-v1-5",
                "Gateway API v1.5.1 (experimental) installed, another channel than the requested v1.5.1 (standard): kept")
