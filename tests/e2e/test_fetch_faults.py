"""Network faults while fetching, against the test cluster's artifact server
and OCI registry: a server slower than --fetch-timeout stops the fetch with a
clear message (exit 1, nothing applied); a certificate from a CA we do not
trust is refused for HTTPS files and OCI registries alike, without retries."""
import time
import uuid

GH = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"


def cache(cluster, name):
    return {"XDG_CACHE_HOME": str(cluster.tmp / ("faultcache-" + name + uuid.uuid4().hex[:6]))}


def bundle(cluster, name, ns):
    host = cluster.env["KSTAGE_OCI_HOST"]
    return cluster.bundle(name, f"""\
        name: {name}
        stages:
          - name: first
            source: {{path: manifests}}
          - name: gateway-api-crds
            source: {{url: {GH}}}
          - name: kserve
            chart: {{ref: oci://{host}/kserve/charts/kserve, version: v0.15.2}}
        """, {"manifests/ns.yaml": f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"})


def test_slow_server_times_out(cluster):
    ns = "e2e-fetch-slow"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    b = bundle(cluster, "fetch-slow", ns)
    # 598441 bytes at 4 KiB per 200 ms is half a minute: 1 s is far too short
    slow = ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/_slow/200/"]
    t0 = time.monotonic()
    r = cluster.kstage("fetch", b, "--update-lock", "--fetch-timeout", "1s", *slow, env=cache(cluster, "slow"))
    took = time.monotonic() - t0
    assert r.returncode == 1, r.stderr
    assert "timed out" in r.stderr.lower(), r.stderr
    assert "gateway-api-crds" in r.stderr
    assert took < 60, took
    r = cluster.kstage("fetch", b, "--fetch-timeout", "soon", env=cache(cluster, "slow"))
    assert r.returncode == 2 and "--fetch-timeout" in r.stderr
    assert not cluster.exists("namespace", ns)


def test_untrusted_certificate_is_refused(cluster):
    ns = "e2e-fetch-badcert"
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    b = bundle(cluster, "fetch-badcert", ns)
    mirror = ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/"]
    # the cluster's CA signed the API server, not the artifact servers
    wrong = {"SSL_CERT_FILE": cluster.env["KSTAGE_CLUSTER_CA"]}
    r = cluster.kstage("fetch", b, "--update-lock", *mirror, env={**cache(cluster, "bad"), **wrong})
    assert r.returncode == 1, r.stderr
    assert "certificate" in r.stderr.lower() and "gateway-api-crds" in r.stderr, r.stderr
    assert "attempts" not in r.stderr
    # the OCI registry alone (the url source from a good cache)
    env = cache(cluster, "good")
    r = cluster.kstage("fetch", b, "--update-lock", *mirror, env=env)
    assert r.returncode == 0, r.stderr
    r = cluster.kstage("template", "oci://" + cluster.env["KSTAGE_OCI_HOST"] + "/kserve/charts/kserve",
                       "--version", "v0.15.2", env={**cache(cluster, "bad2"), **wrong})
    assert r.returncode == 1, r.stderr
    assert "certificate" in r.stderr.lower(), r.stderr
    assert not cluster.exists("namespace", ns)
