#!/usr/bin/env python3
"""Rebuild the Gateway API release assets standard-install.yaml and
experimental-install.yaml from the Go module sigs.k8s.io/gateway-api, with
the project's own release script, for the tests' HTTPS mirror.

How the assets are made (RELEASE.md of v1.2.1 and v1.5.1): "Run the `make
build-install-yaml` command which will generate install files in the
`release/` directory. Attach these files to the GitHub release."; that
target runs hack/build-install-yaml.sh, which writes the boilerplate of
hack/boilerplate/boilerplate.sh.txt (YEAR replaced by `date +%Y`), a channel
header, then for each file of config/crd/<channel>/ ("---", "#", "# <path>",
"#", the file). Its only input from outside the tag is the year, and only
v1.2.1's boilerplate has YEAR.

This tool takes the module zip from `go mod download` (checked by the go
command against go.sum's checksum database), extracts it, runs that script
with `date +%Y` answering the year printed in the pinned standard asset, and
PROVES the method first: the rebuilt standard-install.yaml must be byte for
byte the fixture (../shared/fixtures/gateway-api/<v>/standard-install.yaml,
itself the release asset), whose sha256 must be kstage.lock's pin of the
asset. An experimental fixture, when there is one, must match as well, and a
kstage.lock pin of the experimental asset must be the rebuilt file's sha256
and size. Any difference is an error that says where the bytes differ;
nothing is written then.

Usage: gwapi_install_yaml.py --fixtures DIR --lock kstage.lock --out DIR [--go GO] v1.2.1 v1.5.1
Writes DIR/gateway-api/<v>/{standard,experimental}-install.yaml and SHA256SUMS
(the layout of the fixtures, so the artifact server serves it the same way).
"""
import argparse
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

MODULE = "sigs.k8s.io/gateway-api"
RELEASE_URL = "https://github.com/kubernetes-sigs/gateway-api/releases/download/%s/%s"
CHANNELS = ("standard", "experimental")


class Mismatch(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def module_zip(go, version):
    """The module zip of MODULE@version, downloaded (and verified) by the go command."""
    with tempfile.TemporaryDirectory() as outside:   # no go.mod here: nothing is added to one
        r = subprocess.run([go, "mod", "download", "-json", "%s@%s" % (MODULE, version)],
                           capture_output=True, text=True, cwd=outside)
    if r.returncode != 0:
        raise Mismatch("go mod download %s@%s: %s%s" % (MODULE, version, r.stdout, r.stderr))
    return json.loads(r.stdout)["Zip"]


def lock_pins(lock_text):
    """url -> (sha256, size) of every source of kstage.lock."""
    pins = {}
    for entry in re.split(r"\n  - ", lock_text)[1:]:
        url = re.search(r'^\s*url: "([^"]+)"', entry, re.M)
        sha = re.search(r'^\s*sha256: "([0-9a-f]{64})"', entry, re.M)
        size = re.search(r"^\s*size: (\d+)", entry, re.M)
        if url and sha:
            pins[url.group(1)] = (sha.group(1), int(size.group(1)) if size else None)
    return pins


def first_difference(want, got):
    """Where two byte strings first differ, as a line number and both lines."""
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            line = want.count(b"\n", 0, i) + 1
            wl = want.splitlines()[line - 1] if line <= len(want.splitlines()) else b""
            gl = got.splitlines()[line - 1] if line <= len(got.splitlines()) else b""
            return "byte %d, line %d: asset %r, rebuilt %r" % (i, line, wl, gl)
    return "one is a prefix of the other (asset %d bytes, rebuilt %d bytes)" % (len(want), len(got))


def check_same(what, want, got):
    if want != got:
        raise Mismatch("%s: rebuilt %s (%d bytes) is not the asset %s (%d bytes): %s" % (
            what, sha256(got), len(got), sha256(want), len(want), first_difference(want, got)))


def rebuild(zip_path, version, year, work):
    """Run the tag's hack/build-install-yaml.sh in the extracted module; channel -> bytes."""
    src = pathlib.Path(work) / "src"
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(src)
    root = src / ("%s@%s" % (MODULE, version))
    shim = pathlib.Path(work) / "bin"
    shim.mkdir()
    # the script's one outside input: `date +"%Y"` is the year of the release build
    (shim / "date").write_text('#!/bin/sh\n[ "$1" = "+%%Y" ] || exit 2\necho %s\n' % year)
    (shim / "date").chmod(0o755)
    env = dict(os.environ, PATH="%s:%s" % (shim, os.environ["PATH"]), LC_ALL="C")
    r = subprocess.run(["bash", "hack/build-install-yaml.sh"], cwd=root, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise Mismatch("%s: hack/build-install-yaml.sh: %s%s" % (version, r.stdout, r.stderr))
    return {ch: (root / "release" / ("%s-install.yaml" % ch)).read_bytes() for ch in CHANNELS}


def build_version(go, version, fixtures, pins, out):
    fx = pathlib.Path(fixtures) / "gateway-api" / version
    std = (fx / "standard-install.yaml").read_bytes()
    std_url = RELEASE_URL % (version, "standard-install.yaml")
    if pins.get(std_url) != (sha256(std), len(std)):
        raise Mismatch("%s: the standard fixture (%s, %d bytes) is not kstage.lock's pin of %s: %s" % (
            version, sha256(std), len(std), std_url, pins.get(std_url)))
    m = re.match(rb"# Copyright (\d{4} )?The Kubernetes Authors\.\n", std)
    if not m:
        raise Mismatch("%s: the standard asset does not start with the boilerplate" % version)
    year = m.group(1).decode().strip() if m.group(1) else "0000"   # no YEAR in the boilerplate: unused
    with tempfile.TemporaryDirectory() as work:
        built = rebuild(module_zip(go, version), version, year, work)
    check_same("%s standard-install.yaml" % version, std, built["standard"])
    if (fx / "experimental-install.yaml").exists():
        check_same("%s experimental-install.yaml (fixture)" % version,
                   (fx / "experimental-install.yaml").read_bytes(), built["experimental"])
    exp = built["experimental"]
    exp_url = RELEASE_URL % (version, "experimental-install.yaml")
    if exp_url in pins and pins[exp_url] != (sha256(exp), len(exp)):
        raise Mismatch("%s: kstage.lock pins %s at %s, the rebuilt file is %s (%d bytes)" % (
            version, exp_url, pins[exp_url], sha256(exp), len(exp)))
    d = pathlib.Path(out) / "gateway-api" / version
    d.mkdir(parents=True, exist_ok=True)
    sums = []
    for ch in CHANNELS:
        name = "%s-install.yaml" % ch
        (d / name).write_bytes(built[ch])
        sums.append("%s  %s\n" % (sha256(built[ch]), name))
        print("%s %s: sha256 %s, %d bytes%s" % (version, name, sha256(built[ch]), len(built[ch]),
              " (the asset's, byte for byte)" if ch == "standard" else ""))
    (d / "SHA256SUMS").write_text("".join(sums))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--lock", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--go", default="go")
    ap.add_argument("versions", nargs="+")
    a = ap.parse_args()
    pins = lock_pins(pathlib.Path(a.lock).read_text())
    tmp = pathlib.Path(a.out + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for v in a.versions:
            build_version(a.go, v, a.fixtures, pins, tmp)
    except Mismatch as e:
        shutil.rmtree(tmp, ignore_errors=True)
        print("gwapi_install_yaml: %s" % e, file=sys.stderr)
        return 1
    shutil.rmtree(a.out, ignore_errors=True)
    tmp.rename(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
