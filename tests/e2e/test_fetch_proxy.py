"""HTTPS_PROXY and NO_PROXY for every kind of fetch: a bundle with a url
source (the Gateway API file through a mirror rule to the test artifact
server), an OCI chart and a git chart resolves through a real CONNECT proxy
(connect_proxy.py, which counts its tunnels per target) when HTTPS_PROXY
names it, goes direct for the hosts NO_PROXY lists, and fails with a clear
error when the proxy named is not there."""
from urllib.parse import urlparse

from conftest import GW_SHA
from connect_proxy import ConnectProxy

GH = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.2.1/standard-install.yaml"


def proxy_env(cluster, name, proxy, no_proxy=""):
    return {"XDG_CACHE_HOME": str(cluster.tmp / ("proxycache-" + name)),
            "HTTPS_PROXY": proxy, "https_proxy": proxy, "HTTP_PROXY": "", "http_proxy": "",
            "NO_PROXY": no_proxy, "no_proxy": no_proxy, "ALL_PROXY": "", "all_proxy": ""}


def test_fetches_go_through_https_proxy_unless_no_proxy(cluster):
    oci = cluster.env["KSTAGE_OCI_HOST"]
    art = urlparse(cluster.env["KSTAGE_ARTIFACT_URL"]).netloc
    git = cluster.env["KSTAGE_GIT_URL"].replace("127.0.0.1", "localhost")
    gitloc = urlparse(git).netloc
    stages = {
        "gateway-api-crds": f"source: {{url: {GH}}}",
        "kserve-crds": f"chart: {{ref: oci://{oci}/kserve/charts/kserve-crd, version: v0.15.2}}",
        "hello": f"chart: {{git: {git}, ref: v0.1.0, path: charts/hello}}",
    }

    def bundle(name, names):
        return cluster.bundle(name, "name: proxy\nstages:\n" +
                              "".join(f"  - name: {n}\n    {stages[n]}\n" for n in names))

    b = bundle("proxy", list(stages))
    mirror = ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/"]
    with ConnectProxy() as p:
        r = cluster.kstage("fetch", b, "--update-lock", *mirror, env=proxy_env(cluster, "via", p.url))
        assert r.returncode == 0, r.stderr
        assert GW_SHA in open(b + "/kstage.lock").read()
        # each kind of source went through the proxy
        assert p.tunnels[art] >= 1, p.tunnels
        assert p.tunnels[oci] >= 1, p.tunnels
        assert p.tunnels[gitloc] >= 1, p.tunnels
        # NO_PROXY names the hosts: no tunnel at all, same digests
        p.tunnels.clear()
        r = cluster.kstage("fetch", b, "--update-lock", *mirror,
                           env=proxy_env(cluster, "direct", p.url, "127.0.0.1,localhost"))
        assert r.returncode == 0, r.stderr
        assert sum(p.tunnels.values()) == 0, p.tunnels
    # a proxy that is not there (127.0.0.2, an address only it has): every
    # kind fails there rather than going direct
    for stage in stages:
        r = cluster.kstage("fetch", bundle("proxy-" + stage, [stage]), "--update-lock", *mirror,
                           env=proxy_env(cluster, "dead-" + stage, "http://127.0.0.2:1"))
        assert r.returncode != 0, (stage, r.stderr)
        assert "127.0.0.2" in r.stderr, (stage, r.stderr)
