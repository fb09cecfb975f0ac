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
import zipfile


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


def zip_(path, entries):
    """entries: (name, kind, arg) with kind file|dir|sym|enc (a file whose
    headers then say it is encrypted), written by Python's zipfile (deflated)."""
    enc = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, kind, arg in entries:
            zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            zi.create_system = 3   # unix: the mode in external_attr counts
            zi.compress_type = zipfile.ZIP_DEFLATED
            if kind == "dir":
                zi.external_attr = (0o040755 << 16) | 0x10
                z.writestr(zi, b"")
            elif kind == "sym":
                zi.external_attr = 0o120777 << 16
                z.writestr(zi, arg)
            else:
                zi.external_attr = 0o100644 << 16
                z.writestr(zi, arg)
                if kind == "enc":
                    enc.append(zi.header_offset)
    if enc:
        # zipfile writes no encryption; set bit 0 of the general purpose
        # flags in the entry's local and central headers
        raw = bytearray(open(path, "rb").read())
        for off in enc:
            raw[off + 6] |= 1
        cd = raw.find(b"PK\x01\x02")
        while cd >= 0:
            if int.from_bytes(raw[cd + 42:cd + 46], "little") in enc:
                raw[cd + 8] |= 1
            cd = raw.find(b"PK\x01\x02", cd + 4)
        open(path, "wb").write(bytes(raw))


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
    # zip: the same checks through libarchive's zip reader
    zip_(f"{d}/16-zip-traversal.zip", [("a/../../outside/evil.yaml", "file", cm)])
    zip_(f"{d}/17-zip-absolute.zip", [(out + "/evil.yaml", "file", cm)])
    zip_(f"{d}/18-zip-symlink-escape.zip", [("link", "sym", "../outside"), ("link/evil.yaml", "file", cm)])
    zip_(f"{d}/19-zip-bomb.zip", [("bomb.yaml", "file", b"\0" * (64 << 20))])
    zip_(f"{d}/20-zip-many-entries.zip", [("f%05d.yaml" % i, "file", "") for i in range(12000)])
    zip_(f"{d}/21-zip-encrypted.zip", [("secret.yaml", "enc", cm)])
    zip_(f"{d}/22-zip-deep-nesting.zip", [("/".join(["d"] * 100) + "/x.yaml", "file", cm)])
    with open(f"{d}/23-zip-truncated.zip", "wb") as f:
        with open(f"{d}/16-zip-traversal.zip", "rb") as g:
            f.write(g.read()[:40])
    zip_(f"{d}/good.zip", [("a/", "dir", None), ("a/cm.yaml", "file", cm), ("a/link.yaml", "sym", "cm.yaml")])
    tar(f"{d}/good.tgz", [("./a/", "dir", None), ("./a/cm.yaml", "file", cm), ("./a/link.yaml", "sym", "cm.yaml"),
                          ("./b.yaml", "hard", "a/cm.yaml")], gz=True)


if __name__ == "__main__":
    main(sys.argv[1])
