#!/usr/bin/env python3
"""Build hostile archives (and one good one) into DIR for the archive tests
(tests/unit/test_fetch_archive.c): each must be refused with a clear error
and nothing written outside the extraction target.

    hostile_archives.py DIR
"""
import gzip
import io
import os
import sys
import tarfile


def tar(path, entries, gz=False):
    """entries: (name, kind, arg) with kind file|dir|sym|hard|chr|fifo."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, arg in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            data = None
            if kind == "file":
                data = arg.encode() if isinstance(arg, str) else arg
                ti.size = len(data)
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    with open(path, "wb") as f:
        f.write(gzip.compress(raw, mtime=0) if gz else raw)


def main(d):
    os.makedirs(d, exist_ok=True)
    os.makedirs(os.path.join(d, "outside"), exist_ok=True)
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil}\n"
    out = os.path.join(d, "outside")
    tar(f"{d}/01-traversal.tar", [("../outside/evil.yaml", "file", cm)])
    tar(f"{d}/02-traversal-nested.tgz", [("a/b/../../../outside/evil.yaml", "file", cm)], gz=True)
    tar(f"{d}/03-absolute.tar", [(out + "/evil.yaml", "file", cm)])
    tar(f"{d}/04-symlink-escape.tar", [("link", "sym", "../outside"), ("link/evil.yaml", "file", cm)])
    tar(f"{d}/05-symlink-absolute.tar", [("abs", "sym", out), ("abs/evil.yaml", "file", cm)])
    tar(f"{d}/06-hardlink-escape.tar", [("h.yaml", "hard", "../outside/victim")])
    tar(f"{d}/07-hardlink-absolute.tar", [("h.yaml", "hard", "/etc/passwd")])
    tar(f"{d}/08-char-device.tar", [("null", "chr", None)])
    tar(f"{d}/09-fifo.tar", [("pipe", "fifo", None)])
    # 64 MiB of zeros in a ~64 KiB gzip: a ratio near 1000
    tar(f"{d}/10-gzip-bomb.tgz", [("bomb.yaml", "file", b"\0" * (64 << 20))], gz=True)
    tar(f"{d}/11-deep-nesting.tar", [("/".join(["d"] * 100) + "/x.yaml", "file", cm)])
    tar(f"{d}/12-many-entries.tgz", [("f%05d.yaml" % i, "file", "") for i in range(12000)], gz=True)
    with open(f"{d}/13-not-an-archive.tgz", "w") as f:
        f.write(cm)
    # a link chain that is inside lexically but not physically: d -> ., l -> d/..
    tar(f"{d}/14-symlink-chain.tar", [("d", "sym", "."), ("l", "sym", "d/..")])
    # writing through an in-tree symlink to a directory
    tar(f"{d}/15-write-through-symlink.tar", [("sub", "dir", None), ("s", "sym", "sub"), ("s/x.yaml", "file", cm)])
    tar(f"{d}/good.tgz", [("./a/", "dir", None), ("./a/cm.yaml", "file", cm), ("./a/link.yaml", "sym", "cm.yaml"),
                          ("./b.yaml", "hard", "a/cm.yaml")], gz=True)


if __name__ == "__main__":
    main(sys.argv[1])
