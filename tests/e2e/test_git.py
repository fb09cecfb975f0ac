"""git sources (libgit2) against the test cluster's git server over HTTPS:
a chart from a tag and a manifests directory from a branch, pinned in
kstage.lock by commit and by the digest of their canonical tar, applied and
checked with kubectl; a moved branch keeps what the lock pins; --offline
from the cache; an edited lock line and an unknown ref are refused.

libgit2 here is built with mbedTLS, which matches certificate names only
against DNS names, so the server is addressed as localhost (its
certificate has DNS:localhost and IP:127.0.0.1)."""
import os
import re
import socket
import subprocess
import threading
from pathlib import Path


def git_url(cluster):
    return cluster.env["KSTAGE_GIT_URL"].replace("127.0.0.1", "localhost")


def git(cluster, *args, cwd=None):
    env = dict(os.environ, GIT_SSL_CAINFO=cluster.env["KSTAGE_ARTIFACT_CA"], GIT_TERMINAL_PROMPT="0",
               GIT_AUTHOR_NAME="e2e", GIT_AUTHOR_EMAIL="e2e@kstage.test", GIT_COMMITTER_NAME="e2e",
               GIT_COMMITTER_EMAIL="e2e@kstage.test", HOME=str(cluster.tmp))
    r = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def push_manifests(cluster, branch, value):
    """A commit on branch with manifests/cm.yaml holding value: its id."""
    work = cluster.tmp / ("git-" + branch + "-" + value)
    git(cluster, "clone", "-q", git_url(cluster), str(work))
    git(cluster, "checkout", "-q", "-B", branch, *(["origin/" + branch] if value != "one" else []), cwd=work)
    (work / "manifests").mkdir(exist_ok=True)
    (work / "manifests" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\n  namespace: e2e-git\n"
        f"data:\n  value: {value}\n")
    git(cluster, "add", "manifests", cwd=work)
    git(cluster, "commit", "-q", "-m", "manifests " + value, cwd=work)
    git(cluster, "push", "-q", "-f", "origin", branch, cwd=work)
    return git(cluster, "rev-parse", "HEAD", cwd=work)


def cache(cluster, name):
    return {"XDG_CACHE_HOME": str(cluster.tmp / ("gitcache-" + name))}


def lock_entries(b):
    text = Path(b, "kstage.lock").read_text()
    return re.findall(r'url: "([^"]+)"\n\s+resolved: "([^"]+)"\n\s+sha256: "([0-9a-f]{64})"', text)


def test_git_chart_and_directory_pinned_applied_offline(cluster):
    url = git_url(cluster)
    ns = "e2e-git"
    first = push_manifests(cluster, "e2e-manifests", "one")
    cluster.kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    cluster.kubectl("create", "namespace", ns)
    b = cluster.bundle("git-bundle", f"""\
        name: git-bundle
        stages:
          - name: hello
            chart: {{git: {url}, ref: v0.1.0, path: charts/hello}}
          - name: files
            source: {{git: {url}, ref: e2e-manifests, path: manifests}}
        """)
    env = cache(cluster, "main")
    r = cluster.kstage("apply", b, "-n", ns, env=env)
    assert r.returncode == 2 and "is not pinned" in r.stderr, r.stderr
    r = cluster.kstage("fetch", b, "--update-lock", env=env)
    assert r.returncode == 0, r.stderr
    (u1, res1, sha1), (u2, res2, sha2) = lock_entries(b)
    assert u1 == f"git+{url}#v0.1.0:charts/hello"
    assert res1 == f"{url}@{cluster.env['KSTAGE_GIT_COMMIT']}"
    assert res2 == f"{url}@{first}"
    r = cluster.kstage("apply", b, "-n", ns, env=env)
    assert r.returncode == 0, r.stderr
    cm = cluster.get("configmap", "git-bundle-hello", "-n", ns)
    assert cm["data"]["message"] == "hello from git"
    assert cluster.get("configmap", "from-git", "-n", ns)["data"]["value"] == "one"

    # the branch moves on: the lock still gets the pinned commit (fresh cache)
    second = push_manifests(cluster, "e2e-manifests", "two")
    assert second != first
    r = cluster.kstage("apply", b, "-n", ns, env=cache(cluster, "moved"))
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "from-git", "-n", ns)["data"]["value"] == "one"
    # offline from the first cache
    cluster.kubectl("delete", "configmap", "from-git", "-n", ns)
    r = cluster.kstage("apply", b, "-n", ns, "--offline", env=env)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "from-git", "-n", ns)["data"]["value"] == "one"
    # --update-lock takes the branch's new commit
    r = cluster.kstage("fetch", b, "--update-lock", env=env)
    assert r.returncode == 0, r.stderr
    assert lock_entries(b)[1][1] == f"{url}@{second}"
    r = cluster.kstage("apply", b, "-n", ns, env=env)
    assert r.returncode == 0, r.stderr
    assert cluster.get("configmap", "from-git", "-n", ns)["data"]["value"] == "two"

    # a hand-edited digest: refused before anything is applied, both named
    lock = Path(b, "kstage.lock")
    sha = lock_entries(b)[1][2]
    bad = "1" * 64
    lock.write_text(lock.read_text().replace(sha, bad))
    cluster.kubectl("delete", "configmap", "from-git", "-n", ns)
    r = cluster.kstage("apply", b, "-n", ns, env=cache(cluster, "bad"))
    assert r.returncode == 2, r.stderr
    assert sha in r.stderr and bad in r.stderr and "kstage.lock:" in r.stderr
    assert not cluster.exists("configmap", "from-git", "-n", ns)


def test_git_unknown_ref_and_path(cluster):
    url = git_url(cluster)
    for ref, path, want in (("no-such-tag", "charts/hello", 'has no tag or branch "no-such-tag"'),
                            ("v0.1.0", "charts/none", 'path "charts/none" is not in the commit'),
                            ("v0.1.0", "README.md", 'path "README.md" is not a directory')):
        b = cluster.bundle("git-bad-" + ref + path.replace("/", "-"), f"""\
            name: git-bad
            stages:
              - name: x
                source: {{git: {url}, ref: {ref}, path: {path}}}
            """)
        r = cluster.kstage("fetch", b, "--update-lock", env=cache(cluster, "bad-ref"))
        assert r.returncode == 2, r.stderr
        assert want in r.stderr, r.stderr


def test_stalled_git_server_stopped_at_fetch_timeout(cluster):
    """libgit2 1.5 has no timeouts of its own: a git server that accepts the
    connection and never answers is still stopped at --fetch-timeout, with a
    clear error, and nothing is left in the cache directory."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    held = []

    def accept():
        while True:
            try:
                held.append(srv.accept()[0])   # held open, never answered
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        b = cluster.bundle("git-stalled", f"""\
            name: git-stalled
            stages:
              - name: hello
                chart: {{git: https://127.0.0.1:{port}/stalled.git, ref: v0.1.0}}
            """)
        env = cache(cluster, "stalled")
        r = cluster.kstage("fetch", b, "--update-lock", "--fetch-timeout", "2s", env=env, timeout=120)
        assert r.returncode != 0, r.stderr
        assert f"https://127.0.0.1:{port}/stalled.git: no answer within 2.0s (--fetch-timeout): stopped" in r.stderr, \
            r.stderr
        assert held, "the server was never reached"
        assert not list(Path(env["XDG_CACHE_HOME"]).glob("kstage/.git-*"))
    finally:
        srv.close()
        for c in held:
            c.close()
