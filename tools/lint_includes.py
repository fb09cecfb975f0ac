#!/usr/bin/env python3
"""Include rules of DESIGN.md that a compiler does not check.

1. Layering: cli -> release -> {kube, fetch, tmpl, values} -> doc -> core.
   A module includes its own headers and those of lower layers only; the
   four middle modules do not include each other, except that tmpl may use
   values through its public header values/values.h, and kube's transport
   shares fetch's HTTP client set-up (fetch/fetch.h).
2. One wrapper per library: a library's headers are included only by the
   files that wrap it (WRAPPERS below). cli/cmd_version.c is the one
   exception: it prints the versions of the libraries kstage runs with.

Prints one line per violation and exits 1 if there is any.
"""
import os
import re
import sys

RANK = {"core": 0, "doc": 1, "kube": 2, "fetch": 2, "tmpl": 2, "values": 2,
        "release": 3, "cli": 4}
# (module, header) pairs allowed across the middle layer.
SIDEWAYS = {("tmpl", "values/values.h"), ("kube", "fetch/fetch.h")}

# library header pattern -> files (relative to installer/) allowed to include
# it; an entry ending in "/" allows the whole module
WRAPPERS = {
    r"yaml\.h": {"doc/"},
    r"jansson\.h": {"doc/load_json.c", "doc/emit_json.c"},
    r"pcre2\.h": {"core/regex.c"},
    r"archive(_entry)?\.h": {"core/archive.c"},
    r"curl/": {"core/dynload_curl.c", "fetch/http.c", "kube/client.c"},
    r"git2\.h": {"core/dynload_git2.c", "fetch/git.c"},
    r"openssl/": {"core/dynload_crypto.c", "tmpl/funcs_crypto.c"},
}
VERSION_FILE = "cli/cmd_version.c"

INC_LOCAL = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
INC_SYS = re.compile(r'^\s*#\s*include\s+<([^>]+)>')


def main(root):
    base = os.path.join(root, "installer")
    bad = []
    for mod in sorted(os.listdir(base)):
        mdir = os.path.join(base, mod)
        if not os.path.isdir(mdir):
            continue
        if mod not in RANK:
            bad.append(f"installer/{mod}: a module DESIGN.md does not name")
            continue
        for name in sorted(os.listdir(mdir)):
            if not name.endswith((".c", ".h")):
                continue
            rel = f"{mod}/{name}"
            with open(os.path.join(mdir, name), encoding="utf-8") as f:
                for ln, line in enumerate(f, 1):
                    m = INC_LOCAL.match(line)
                    if m and "/" in m.group(1):
                        hdr = m.group(1)
                        other = hdr.split("/", 1)[0]
                        if other == mod:
                            continue
                        if other not in RANK:
                            bad.append(f"installer/{rel}:{ln}: includes \"{hdr}\" of no module")
                        elif RANK[other] > RANK[mod] or (RANK[other] == RANK[mod] and (mod, hdr) not in SIDEWAYS):
                            bad.append(f"installer/{rel}:{ln}: {mod}/ may not include \"{hdr}\" (layering)")
                        elif other in ("tmpl", "values") and hdr.endswith("_int.h"):
                            bad.append(f"installer/{rel}:{ln}: \"{hdr}\" is internal to {other}/")
                        continue
                    m = INC_SYS.match(line)
                    if m and rel != VERSION_FILE:
                        hdr = m.group(1)
                        for pat, allowed in WRAPPERS.items():
                            ok = any(rel == w or (w.endswith("/") and rel.startswith(w)) for w in allowed)
                            if re.match(pat, hdr) and not ok:
                                bad.append(f"installer/{rel}:{ln}: <{hdr}> is included only by "
                                           + ", ".join(sorted(allowed)))
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
