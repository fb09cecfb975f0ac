"""Release records and the per-release Lease against the test cluster.

Records written by hand with kubectl (in the record format: gzip JSON in
data.release, sha256 and part count in annotations) are read by `kstage
history` and `kstage status`; a 5,000-object record written through the
store (tools/store_tool.c, the executor does not write records yet) is split
across Secrets and reassembled here independently; damaged records are
refused; and two runs contend for one Lease. Everything is checked with
kubectl.
"""
import base64
import gzip
import hashlib
import json
import os
import pathlib
import signal
import subprocess
import time

import pytest

from conftest import ROOT, kstage_bin

PART = 512 * 1024
CI_VARS = ("GITHUB_RUN_ID", "CI_JOB_ID", "BUILDKITE_JOB_ID", "CIRCLE_WORKFLOW_JOB_ID", "BUILD_BUILDID", "BUILD_ID")


def tool_env(extra=None):
    e = dict(os.environ)
    for k in ("KUBECONFIG",) + CI_VARS:
        e.pop(k, None)
    e.update(extra or {})
    return e


def store_tool():
    p = pathlib.Path(kstage_bin()).parent / "store_tool"
    if not p.exists():
        p = ROOT / "build" / "asan" / "store_tool"
    if not p.exists():
        pytest.fail("no store_tool next to the kstage binary (make test-e2e-apply builds it)", pytrace=False)
    return str(p)


def tool(cluster, *args, check=True, env=None):
    r = subprocess.run([store_tool(), args[0], cluster.env["KSTAGE_KUBECONFIG"], *args[1:]],
                       capture_output=True, text=True, env=tool_env(env), timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"store_tool {args}: exit {r.returncode}: {r.stderr}")
    return r


def ensure_ns(cluster, ns):
    if not cluster.exists("namespace", ns):
        cluster.kubectl("create", "namespace", ns)


def fresh(cluster, ns, name):
    """No records and no Lease of release name in ns (from an earlier run)."""
    if cluster.exists("namespace", ns):
        cluster.kubectl("delete", "secrets", "-n", ns, "-l", f"owner=kstage,name={name}", "--ignore-not-found")
        cluster.kubectl("delete", "lease", f"kstage.{name}", "-n", ns, "--ignore-not-found")


def record(name, rev, status, stages, updated="2026-12-06T20:00:00.000Z", **extra):
    r = {"name": name, "revision": rev, "status": status, "created": "2026-12-06T19:59:00.000Z",
         "updated": updated, "stages": stages}
    r.update(extra)
    return r


def head_secret(ns, name, rev, status, payload, sha=None, parts=1, gen=1, updated="2026-12-06T20:00:00.000Z",
                description=""):
    return {
        "apiVersion": "v1", "kind": "Secret", "type": "kstage.dev/release.v1",
        "metadata": {
            "name": f"kstage.v1.{name}.v{rev}", "namespace": ns,
            "labels": {"owner": "kstage", "name": name, "revision": str(rev), "status": status},
            "annotations": {"kstage.dev/parts": str(parts), "kstage.dev/size": str(len(payload)),
                            "kstage.dev/sha256": sha or hashlib.sha256(payload).hexdigest(),
                            "kstage.dev/generation": str(gen),
                            "kstage.dev/updated": updated, "kstage.dev/description": description},
        },
        "data": {"release": base64.b64encode(payload[:PART]).decode()},
    }


def patch_data(cluster, ns, secret, data):
    """Set data.release of a Secret with kubectl (the patch goes in a file:
    half a MiB is too long for an argument)."""
    f = cluster.tmp / f"patch-{secret}.json"
    f.write_text(json.dumps({"data": {"release": base64.b64encode(data).decode()}}))
    cluster.kubectl("patch", "secret", secret, "-n", ns, "--type=merge", "--patch-file", str(f))


def kubectl_apply(cluster, obj):
    cluster.kubectl("apply", "-f", "-", input=json.dumps(obj))


def test_history_and_status_read_records_made_with_kubectl(cluster):
    ns, name = "e2e-store-hand", "hand"
    ensure_ns(cluster, ns)
    fresh(cluster, ns, name)
    prior_cm = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "inferenceservice-config", "namespace": "kserve"},
                "data": {"ingress": "{\n  \"ingressGateway\": \"knative-serving/knative-ingress-gateway\"\n}"}}
    stages = [
        {"name": "crds", "result": "succeeded", "started": "2026-12-06T19:59:01.000Z",
         "finished": "2026-12-06T19:59:03.500Z", "objects": [
             {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
              "name": "gateways.gateway.networking.k8s.io", "prior": "absent", "policy": "keep"}]},
        {"name": "kserve-config", "result": "failed", "error": "timeout: Deployment/kserve/ctl is not ready",
         "objects": [{"apiVersion": "v1", "kind": "ConfigMap", "namespace": "kserve",
                      "name": "inferenceservice-config", "prior": prior_cm, "key": "ingress",
                      "keyPrior": prior_cm["data"]["ingress"]}]},
    ]
    r1 = record(name, 1, "superseded", stages[:1], description="apply done")
    r2 = record(name, 2, "rolled-back", stages, updated="2026-12-06T20:05:00.000Z",
                description="apply failed at stage kserve-config",
                values={"password": "<redacted>", "replicas": 2},
                bundle={"name": "kserve-gateway", "version": "1.0.0", "digest": "sha256:abc"})
    for r in (r1, r2):
        payload = gzip.compress(json.dumps(r).encode())
        kubectl_apply(cluster, head_secret(ns, name, r["revision"], r["status"], payload, updated=r["updated"],
                                           description=r["description"]))

    h = cluster.kstage("history", name, "--release-namespace", ns)
    assert h.returncode == 0, h.stderr
    lines = h.stdout.splitlines()
    assert lines[0].split() == ["REVISION", "UPDATED", "STATUS", "DESCRIPTION"]
    assert lines[1].split() == ["1", "2026-12-06T20:00:00.000Z", "superseded", "apply", "done"]
    assert lines[2].split()[:4] == ["2", "2026-12-06T20:05:00.000Z", "rolled-back", "apply"]
    assert lines[2].endswith("apply failed at stage kserve-config")
    hj = cluster.kstage("history", name, "--release-namespace", ns, "-o", "json")
    assert hj.returncode == 0, hj.stderr
    revs = [json.loads(x) for x in hj.stdout.splitlines()]
    assert [(x["revision"], x["status"]) for x in revs] == [(1, "superseded"), (2, "rolled-back")]

    s = cluster.kstage("status", name, "--release-namespace", ns)
    assert s.returncode == 0, s.stderr
    assert "revision: 2" in s.stdout and "status: rolled-back" in s.stdout
    assert "error: timeout: Deployment/kserve/ctl is not ready" in s.stdout
    assert "CustomResourceDefinition/gateways.gateway.networking.k8s.io: absent before, kept on rollback" in s.stdout
    assert ("ConfigMap/kserve/inferenceservice-config: existed before, key \"ingress\" merged (present before)"
            in s.stdout)
    sj = cluster.kstage("status", name, "--release-namespace", ns, "-o", "json")
    assert sj.returncode == 0, sj.stderr
    st = json.loads(sj.stdout)
    assert st["revision"] == 2 and st["status"] == "rolled-back"
    assert st["values"] == {"password": "<redacted>", "replicas": 2}
    assert [x["result"] for x in st["stages"]] == ["succeeded", "failed"]
    assert st["stages"][0]["durationMs"] == 2500
    assert st["stages"][1]["objects"][0] == {"object": "ConfigMap/kserve/inferenceservice-config",
                                             "apiVersion": "v1", "kind": "ConfigMap", "namespace": "kserve",
                                             "name": "inferenceservice-config", "prior": "present",
                                             "key": "ingress", "keyPrior": "present"}
    assert "manifest" not in st["stages"][0] and st["stages"][0]["objects"][0]["policy"] == "keep"
    s1 = cluster.kstage("status", name, "--release-namespace", ns, "--revision", "1", "-o", "json")
    assert s1.returncode == 0 and json.loads(s1.stdout)["status"] == "superseded"

    # a revision whose checksum does not match is refused, the others still read
    bad = gzip.compress(json.dumps(record(name, 3, "deployed", [])).encode())
    kubectl_apply(cluster, head_secret(ns, name, 3, "deployed", bad, sha="0" * 64))
    s3 = cluster.kstage("status", name, "--release-namespace", ns)
    assert s3.returncode == 2, s3.stderr
    assert "release record hand revision 3 is corrupt: sha256" in s3.stderr
    assert "revision:" not in s3.stdout
    assert cluster.kstage("status", name, "--release-namespace", ns, "--revision", "2").returncode == 0
    # a record that holds another revision is refused
    kubectl_apply(cluster, head_secret(ns, name, 3, "deployed", gzip.compress(json.dumps(r1).encode())))
    s3 = cluster.kstage("status", name, "--release-namespace", ns)
    assert s3.returncode == 2 and "it holds release \"hand\" revision 1" in s3.stderr

    missing = cluster.kstage("history", "nosuch", "--release-namespace", ns)
    assert missing.returncode == 2
    assert "release \"nosuch\" has no records in namespace \"e2e-store-hand\"" in missing.stderr


def parts_of(cluster, ns, name, rev):
    """The payload reassembled from the Secrets, by hand: head, then
    g<generation>p1, p2, ... in order."""
    items = cluster.get("secrets", "-n", ns, "-l", f"owner=kstage,name={name},revision={rev}")["items"]
    head = [i for i in items if "kstage.dev/part" not in i["metadata"]["labels"]][0]
    ann = head["metadata"]["annotations"]
    gen, n = ann["kstage.dev/generation"], int(ann["kstage.dev/parts"])
    by = {i["metadata"]["labels"]["kstage.dev/part"]: i for i in items if "kstage.dev/part" in i["metadata"]["labels"]}
    chunks = [base64.b64decode(head["data"]["release"])]
    for k in range(1, n):
        chunks.append(base64.b64decode(by[f"g{gen}p{k}"]["data"]["release"]))
    return head, items, chunks


def test_5000_object_record_splits_across_secrets_and_is_refused_when_damaged(cluster):
    ns, name = "e2e-store-big", "bulk"
    if cluster.exists("namespace", ns):
        cluster.kubectl("delete", "namespace", ns, "--wait=true")
    w = tool(cluster, "write", ns, name, "1", "5000", "deployed")
    written = json.loads(w.stdout)["sha256"]
    assert cluster.exists("namespace", ns), "the release namespace was not created"

    head, items, chunks = parts_of(cluster, ns, name, 1)
    assert all(i["type"] == "kstage.dev/release.v1" for i in items)
    assert len(items) >= 2 and len(chunks) == len(items)
    assert all(len(c) <= PART for c in chunks) and all(len(c) == PART for c in chunks[:-1])
    payload = b"".join(chunks)
    assert hashlib.sha256(payload).hexdigest() == head["metadata"]["annotations"]["kstage.dev/sha256"]
    rec = json.loads(gzip.decompress(payload))
    assert rec["name"] == name and rec["revision"] == 1 and rec["status"] == "deployed"
    objs = rec["stages"][0]["objects"]
    assert len(objs) == 5000
    assert objs[0]["prior"] == "absent" and objs[1]["prior"]["metadata"]["name"] == "cm-00001"

    r = tool(cluster, "read", ns, name, "1")
    got = json.loads(r.stdout)
    assert got == {"sha256": written, "objects": 5000, "status": "deployed"}
    h = cluster.kstage("history", name, "--release-namespace", ns, "-o", "json")
    assert h.returncode == 0, h.stderr
    summary = json.loads(h.stdout)
    assert summary["parts"] == len(chunks) and summary["bytes"] == len(payload)

    # one byte of the second part changed: refused by the checksum
    part1 = [i for i in items if i["metadata"]["labels"].get("kstage.dev/part", "").endswith("p1")][0]
    pname = part1["metadata"]["name"]
    data = bytearray(base64.b64decode(part1["data"]["release"]))
    data[1000] ^= 0xFF
    patch_data(cluster, ns, pname, bytes(data))
    bad = tool(cluster, "read", ns, name, "1", check=False)
    assert bad.returncode == 2 and "release record bulk revision 1 is corrupt: sha256" in bad.stderr
    s = cluster.kstage("status", name, "--release-namespace", ns)
    assert s.returncode == 2 and "is corrupt: sha256" in s.stderr and "stages:" not in s.stdout

    # the part deleted: refused as incomplete
    cluster.kubectl("delete", "secret", pname, "-n", ns)
    s = cluster.kstage("status", name, "--release-namespace", ns)
    assert s.returncode == 2
    assert f"release record bulk revision 1 is incomplete: part 2 of {len(chunks)} is missing" in s.stderr

    # part 2 back as it was, then the last part cut short: refused as truncated
    cluster.kubectl("create", "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "Secret", "type": part1["type"],
        "metadata": {"name": pname, "namespace": ns, "labels": part1["metadata"]["labels"]},
        "data": part1["data"]}))
    assert tool(cluster, "read", ns, name, "1", check=False).returncode == 0
    suffix = f"p{len(chunks) - 1}"
    last = [i for i in items if i["metadata"]["labels"].get("kstage.dev/part", "").endswith(suffix)][0]
    short = base64.b64decode(last["data"]["release"])[:-100]
    patch_data(cluster, ns, last["metadata"]["name"], short)
    s = cluster.kstage("status", name, "--release-namespace", ns)
    assert s.returncode == 2 and "release record bulk revision 1 is truncated" in s.stderr, s.stderr


def test_prune_removes_the_oldest_and_keeps_what_they_changed(cluster):
    """The oldest revisions go, stopping at a deployed one; the earliest prior
    state of each object they touched is folded into the oldest kept record's
    origin first (read back with kubectl)."""
    ns, name = "e2e-store-prune", "pruned"
    fresh(cluster, ns, name)
    statuses = ["superseded"] * 2 + ["deployed"] + ["superseded"] * 8 + ["failed"]
    for rev, st in enumerate(statuses, 1):
        tool(cluster, "write", ns, name, str(rev), "3", st)
    out = json.loads(tool(cluster, "prune", ns, name, "10").stdout)
    assert out == {"removed": 2}
    heads = cluster.get("secrets", "-n", ns, "-l", f"owner=kstage,name={name},!kstage.dev/part")["items"]
    revs = sorted(int(i["metadata"]["labels"]["revision"]) for i in heads)
    assert revs == list(range(3, 13))
    h = cluster.kstage("history", name, "--release-namespace", ns, "-o", "json")
    assert [json.loads(x)["revision"] for x in h.stdout.splitlines()] == revs
    head = [i for i in heads if i["metadata"]["labels"]["revision"] == "3"][0]
    rec = json.loads(gzip.decompress(base64.b64decode(head["data"]["release"])))
    # revision 1's journal: cm-00000 absent, cm-00001 and cm-00002 with their prior data
    origin = {o["name"]: o["prior"] for o in rec["origin"]}
    assert sorted(origin) == ["cm-00000", "cm-00001", "cm-00002"], rec["origin"]
    assert origin["cm-00000"] == "absent" and origin["cm-00001"]["data"]["blob"], origin
    # the deployed revision 3 stops it: nothing older is left to go
    out = json.loads(tool(cluster, "prune", ns, name, "2").stdout)
    assert out == {"removed": 0}


def test_lease_one_holder_and_takeover_after_a_killed_run(cluster):
    ns, name = "e2e-store-lock", "contend"
    lease = f"kstage.{name}"
    fresh(cluster, ns, name)
    e = tool_env({"GITHUB_RUN_ID": "777001"})
    first = subprocess.Popen([store_tool(), "lock", cluster.env["KSTAGE_KUBECONFIG"], ns, name, "5", "600"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=e)
    try:
        line = first.stdout.readline()
        assert line, first.stderr.read()
        held = json.loads(line)
        assert held["held"] and not held["took_over"]
        assert f"pid {first.pid} job GITHUB_RUN_ID=777001" in held["identity"]
        spec = cluster.get("lease", lease, "-n", ns)["spec"]
        assert spec["holderIdentity"] == held["identity"] and spec["leaseDurationSeconds"] == 5

        # a second run is refused at once, naming the holder
        second = tool(cluster, "lock", ns, name, "5", "0", check=False, env={"CI_JOB_ID": "42"})
        assert second.returncode == 3, second.stderr
        assert f"release \"{name}\" is locked by another run: {held['identity']}" in second.stderr

        # the holder is killed: its Lease stays until it expires, then is taken over
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert cluster.get("lease", lease, "-n", ns)["spec"]["holderIdentity"] == held["identity"]
        deadline = time.monotonic() + 60
        while True:
            third = tool(cluster, "lock", ns, name, "5", "0", check=False, env={"CI_JOB_ID": "43"})
            if third.returncode == 0 or time.monotonic() > deadline:
                break
            assert third.returncode == 3 and held["identity"] in third.stderr, third.stderr
            time.sleep(1)
        assert third.returncode == 0, third.stderr
        took = json.loads(third.stdout.splitlines()[0])
        assert took["took_over"] and took["prev_holder"] == held["identity"]
        assert "job CI_JOB_ID=43" in took["identity"] and took["transitions"] == 1
        assert json.loads(third.stdout.splitlines()[1]) == {"unlocked": True}
        assert not cluster.exists("lease", lease, "-n", ns)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()


def test_status_shows_the_origin_of_pruned_revisions_without_prior_contents(cluster):
    """A record whose origin (what pruned revisions changed) holds a Secret's
    prior content: `status` lists the origin's objects, text and -o json,
    with "present"/"absent" in place of prior contents, never the Secret's
    data."""
    ns, name = "e2e-store-origin", "origin"
    ensure_ns(cluster, ns)
    fresh(cluster, ns, name)
    data = base64.b64encode(b"origin-s3cret-value").decode()
    prior_secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "app"},
                    "data": {"token": data}}
    prior_cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf", "namespace": "app"},
                "data": {"ingress": "{\"x\": \"origin-key-prior\"}"}}
    origin = [
        {"apiVersion": "v1", "kind": "Secret", "namespace": "app", "name": "creds", "prior": prior_secret},
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "app", "name": "conf", "prior": prior_cm,
         "key": "ingress", "keyPrior": prior_cm["data"]["ingress"]},
        {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "app", "name": "made", "prior": "absent"},
    ]
    r = record(name, 3, "deployed", [{"name": "one", "result": "succeeded", "objects": []}], origin=origin,
               description="apply complete")
    payload = gzip.compress(json.dumps(r).encode())
    kubectl_apply(cluster, head_secret(ns, name, 3, "deployed", payload, description="apply complete"))
    sj = cluster.kstage("status", name, "--release-namespace", ns, "-o", "json")
    assert sj.returncode == 0, sj.stderr
    assert data not in sj.stdout and "origin-key-prior" not in sj.stdout, sj.stdout
    st = json.loads(sj.stdout)
    assert [(o["object"], o["prior"], o.get("keyPrior")) for o in st["origin"]] == [
        ("Secret/app/creds", "present", None), ("ConfigMap/app/conf", "present", "present"),
        ("ConfigMap/app/made", "absent", None)], st["origin"]
    s = cluster.kstage("status", name, "--release-namespace", ns)
    assert s.returncode == 0, s.stderr
    assert data not in s.stdout and "origin-key-prior" not in s.stdout, s.stdout
    assert "origin (what pruned revisions changed; uninstall puts it back): 3 objects" in s.stdout, s.stdout
    assert "ConfigMap/app/conf: existed before, key \"ingress\" merged (present before)" in s.stdout, s.stdout
    assert "ConfigMap/app/made: absent before" in s.stdout, s.stdout
