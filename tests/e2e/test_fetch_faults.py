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


def test_progress_events_and_bar(cluster):
    """-o json: fetch.progress events while a download runs and one at its
    end; on a terminal a bar is drawn on stderr, redrawn in place."""
    import json
    import os
    import pty
    import subprocess
    b = cluster.bundle("fetch-progress", f"""\
        name: fetch-progress
        stages:
          - name: gateway-api-crds
            source: {{url: {GH}}}
        """)
    slow = ["--mirror", "https://github.com/=" + cluster.env["KSTAGE_ARTIFACT_URL"] + "/_slow/15/"]
    r = cluster.kstage("fetch", b, "--update-lock", "-o", "json", *slow, env=cache(cluster, "progress"))
    assert r.returncode == 0, r.stderr
    ev = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
    prog = [e for e in ev if e.get("event") == "fetch.progress"]
    assert len(prog) >= 2, r.stdout
    assert prog[-1]["done"] == "true" and prog[-1]["bytes"] == prog[-1]["total"] == "598441"
    assert all(int(a["bytes"]) <= int(z["bytes"]) for a, z in zip(prog, prog[1:]))
    # a terminal on stderr
    master, slave = pty.openpty()
    env = dict(os.environ, SSL_CERT_FILE=cluster.env["KSTAGE_ARTIFACT_CA"], NO_COLOR="1",
               **cache(cluster, "progress-tty"))
    p = subprocess.run([cluster.bin, "fetch", b, *slow], stdout=subprocess.PIPE, stderr=slave, env=env,
                       timeout=120)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.returncode == 0, out
    text = out.decode(errors="replace")
    assert "\r" in text and "[##############################]   0.6/0.6 MiB" in text, text
    # not a terminal: no bar
    r = cluster.kstage("fetch", b, *slow, env=cache(cluster, "progress-pipe"))
    assert r.returncode == 0 and "MiB" not in r.stderr, r.stderr
