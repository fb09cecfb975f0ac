#!/usr/bin/env python3
"""Differential test: `kstage values CHART -o json` against real Helm.

The chart tests/values/charts/parent prints its computed values with
{{ toJson .Values }}; each case runs `helm template` and `kstage values` with
the same -f/--set* flags and compares the parsed JSON. Cases marked `differs`
are deliberate differences: the test says why and checks kstage's own
expectation instead. Error cases check exit code 2 and the caret.

Env: KSTAGE_BIN (kstage binary), HELM (default build/tools/bin/helm).
Ends with the line `values-oracle: N passed, M failed`.
"""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
KSTAGE = os.environ.get("KSTAGE_BIN", os.path.join(ROOT, "build", "kstage"))
HELM = os.environ.get("HELM", os.path.join(ROOT, "build", "tools", "bin", "helm"))
CHART = os.path.join(HERE, "charts", "parent")
F = lambda n: os.path.join(HERE, "files", n)

# (name, args) -- compared with Helm
CASES = [
    ("defaults", []),
    ("one file", ["-f", F("a.yaml")]),
    ("two files left to right", ["-f", F("a.yaml"), "-f", F("b.yaml")]),
    ("two files reversed", ["-f", F("b.yaml"), "-f", F("a.yaml")]),
    ("file nulls delete defaults", ["-f", F("nulls.yaml")]),
    ("yaml types from a file", ["-f", F("types.yaml")]),
    ("set scalar", ["--set", "replicas=5"]),
    ("set nested", ["--set", "image.tag=2.0"]),
    ("set several", ["--set", "a=1,b=two,c.d=3"]),
    ("set bools any case", ["--set", "t=TRUE,f=False,n2=tRuE"]),
    ("set null deletes default", ["--set", "image.pullPolicy=null"]),
    ("set null new key", ["--set", "brandNew=null"]),
    ("set NULL upper", ["--set", "replicas=NULL"]),
    ("set leading zero stays string", ["--set", "zip=01234,zero=0"]),
    ("set negative and plus", ["--set", "neg=-5,pos=+7"]),
    ("set int64 max", ["--set", "max=9223372036854775807"]),
    ("set int64 overflow", ["--set", "over=9223372036854775808"]),
    ("set float stays string", ["--set", "f=1.5,e=1e3"]),
    ("set list", ["--set", "list={x,y,z}"]),
    ("set list typed", ["--set", "list={1,true,null,s}"]),
    ("set empty list item", ["--set", "list={}"]),
    ("set index", ["--set", "list[0]=first"]),
    ("set index extends", ["--set", "newlist[2]=c"]),
    ("set index of maps", ["--set", "servers[0].name=a,servers[0].port=80,servers[1].name=b"]),
    ("set nested index", ["--set", "matrix[1][0]=x"]),
    ("set escaped dot", ["--set", "annotations.kubernetes\\.io/name=x"]),
    ("set escaped comma", ["--set", "msg=a\\,b"]),
    ("set escaped equals", ["--set", "expr=a\\=b"]),
    ("set value with equals", ["--set", "kv=a=b"]),
    ("set escaped backslash", ["--set", "path=c:\\\\dir"]),
    ("set empty value", ["--set", "empty="]),
    ("set empty then more", ["--set", "e1=,e2=x"]),
    ("set trailing comma", ["--set", "x=1,"]),
    ("set twice last wins", ["--set", "replicas=1", "--set", "replicas=9"]),
    ("set over file", ["-f", F("a.yaml"), "--set", "replicas=7"]),
    ("set-string numbers", ["--set-string", "replicas=5,b=true,n=null"]),
    ("set-string list", ["--set-string", "list={1,2}"]),
    ("set-string beats set", ["--set-string", "x=1", "--set", "x=2"]),
    ("set beats set-json", ["--set", "x=2", "--set-json", "x=3"]),
    ("set-json object", ["--set-json", 'cfg={"a":[1,2,{"b":null}],"c":"d"}']),
    ("set-json scalar and list", ["--set-json", 'n=5,l=[true,"x"]']),
    ("set-json empty is null", ["--set-json", "image.tag="]),
    ("set-json index", ["--set-json", 'list[1]={"k":1}']),
    ("set-json null deletes", ["--set-json", "resources=null"]),
    ("set-file", ["--set-file", "content=" + F("content.txt")]),
    ("set-file over set", ["--set", "content=x", "--set-file", "content=" + F("content.txt")]),
    ("set-literal keeps commas", ["--set-literal", "lit=a,b={c}\\d"]),
    ("set-literal beats set-file", ["--set-file", "v=" + F("content.txt"), "--set-literal", "v=lit"]),
    ("global from set", ["--set", "global.region=us-west"]),
    ("global new key reaches subcharts", ["--set", "global.newKey=nk"]),
    ("global map merge", ["--set", "global.db.user=root"]),
    ("global null deletes", ["--set", "global.db.port=null"]),
    ("global from file", ["-f", F("b.yaml")]),
    ("subchart value", ["--set", "sub.fromSub=override"]),
    ("subchart nested", ["--set", "sub.settings.level=trace"]),
    ("subchart null deletes sub default", ["--set", "sub.settings.removeMe=null"]),
    ("subchart list replace", ["--set", "sub.settings.flags={three}"]),
    ("subsub value", ["--set", "sub.subsub.level=4"]),
    ("subsub null deletes", ["--set", "sub.subsub.deep.kill=null"]),
    ("subchart global own", ["--set", "sub.global.subOnly=y"]),
    ("disable subchart by condition", ["--set", "sub.enabled=false"]),
    ("enable alias by condition", ["--set", "sub2.enabled=true"]),
    ("alias by global condition", ["--set", "sub2.enabled=null,global.sub2=true"]),
    ("alias values", ["--set", "sub2.enabled=true,sub2.fromSub=alias"]),
    ("disable opt", ["--set", "opt.enabled=false"]),
    ("tags alone", ["--set", "opt.enabled=null,tags.extras=true"]),
    ("tags false no condition", ["--set", "opt.enabled=null"]),
    ("import-values override", ["--set", "imported.own=user"]),
    ("map replaced by scalar", ["--set", "resources=none"]),
    ("scalar replaced by map", ["--set", "replicas.min=1"]),
    ("file null plus set", ["-f", F("nulls.yaml"), "--set", "image.pullPolicy=Never"]),
    ("multi-document file merges its documents", ["-f", F("multidoc.yaml")]),
    ("!!binary values decode to strings", ["-f", F("binary.yaml")]),
    ("multi-document file over another file", ["-f", F("a.yaml"), "-f", F("multidoc.yaml")]),
    ("all kinds together", ["-f", F("a.yaml"), "-f", F("b.yaml"), "--set-json", 'j={"x":1}',
                            "--set", "s=1,list[1]=q", "--set-string", "ss=2",
                            "--set-file", "sf=" + F("content.txt"), "--set-literal", "sl=a,b"]),
    ("stdin values", ["-f", "-"], "replicas: 11\nsub: {fromSub: stdin}\n"),
    ("empty stdin", ["-f", "-"], ""),
    ("unicode key and value", ["--set", "名前=値,emoji=✓"]),
    ("spaces in value", ["--set", "msg=hello world"]),
    ("deep new path", ["--set", "a.b.c.d.e.f=1"]),
]

# Deliberate differences: (name, args, check(kstage_json), reason)
DIFFERS = [
    ("nested subchart null without a default stays null",
     ["--set", "sub.subsub.nothing=null"],
     lambda v: v["sub"]["subsub"].get("nothing", "absent") is None,
     "same as Helm: a null with no default to delete stays (kept as a check of the rule)"),
]

# Errors: (name, args, substring of stderr) -- exit 2 and a caret
ERRORS = [
    ("bad index", ["--set", "a[x]=1"], "^"),
    ("unterminated list", ["--set", "a={1,2"], "list must terminate"),
    ("no value", ["--set", "novalue"], "has no value"),
    ("negative index", ["--set", "a[-1]=1"], "negative"),
    ("index too big", ["--set", "a[70000]=1"], "maximum supported index"),
    ("bad json", ["--set-json", "a={x}"], "invalid JSON"),
    ("not a map", ["--set", "replicas=1", "--set", "replicas.x=1"], "not a map"),
    ("document separator followed by content", ["-f", F("badsep.yaml")], "invalid YAML document separator: {oops: 1}"),
    ("!!binary that is not base64", ["-f", F("badbinary.yaml")], "!!binary value contains invalid base64 data"),
    ("infinity in a values file", ["-f", F("nonfinite.yaml")], "json: unsupported value: -Inf"),
]


def helm_values(args, stdin):
    p = subprocess.run([HELM, "template", "t", CHART] + args, input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    marker = "# Source: parent/templates/values.yaml\n"
    i = p.stdout.find(marker)
    if i < 0:
        return None, "no values template in helm output"
    line = p.stdout[i + len(marker):].split("\n", 1)[0]
    return json.loads(line), None


def kstage_values(args, stdin):
    p = subprocess.run([KSTAGE, "values", CHART, "-o", "json"] + args, input=stdin, capture_output=True,
                       text=True)
    if p.returncode != 0:
        return None, p.stderr.strip(), p.returncode
    return json.loads(p.stdout), None, 0


BUNDLE = os.path.join(HERE, "bundle")


def bundle_checks():
    """kstage bundles: exact integers, secrets masked, schema errors located."""
    out = []
    p = subprocess.run([KSTAGE, "values", BUNDLE, "-o", "json", "--set-secret", "token=abc"],
                       capture_output=True, text=True)
    v = json.loads(p.stdout) if p.returncode == 0 else {}
    out.append(("bundle exact integers", p.returncode == 0 and v.get("big") == 12345678901234567, p.stderr))
    out.append(("bundle schema secret masked", v.get("db", {}).get("password") == "<redacted>", p.stdout))
    out.append(("bundle --set-secret masked", v.get("token") == "<redacted>", p.stdout))
    p = subprocess.run([KSTAGE, "values", BUNDLE, "--set", "replicas=0", "--set-string", "db.password=x,db=1"],
                       capture_output=True, text=True)
    out.append(("bundle schema error names the --set argument",
                p.returncode == 2 and "--set replicas=0:1:10: values-test: replicas: value must be >= 1" in p.stderr,
                p.stderr))
    return out


def main():
    passed = failed = 0
    for name, ok, detail in bundle_checks():
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL %s\n%s" % (name, detail))
    for case in CASES:
        name, args = case[0], case[1]
        stdin = case[2] if len(case) > 2 else ""
        hv, herr = helm_values(args, stdin)
        kv, kerr, _ = kstage_values(args, stdin)
        if herr is not None or kerr is not None or hv != kv:
            failed += 1
            print("FAIL %s: %s" % (name, " ".join(args)))
            print("  helm:   %s" % (herr or json.dumps(hv, sort_keys=True)))
            print("  kstage: %s" % (kerr or json.dumps(kv, sort_keys=True)))
        else:
            passed += 1
    for name, args, check, reason in DIFFERS:
        kv, kerr, _ = kstage_values(args, "")
        if kerr is None and check(kv):
            passed += 1
        else:
            failed += 1
            print("FAIL (deliberate difference) %s: %s\n  kstage: %s" % (name, reason, kerr or json.dumps(kv)))
    for name, args, want in ERRORS:
        p = subprocess.run([KSTAGE, "values", CHART] + args, capture_output=True, text=True)
        if p.returncode == 2 and want in p.stderr and "^" in p.stderr:
            passed += 1
        else:
            failed += 1
            print("FAIL (error) %s: exit %d\n%s" % (name, p.returncode, p.stderr))
    print("values-oracle: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
