#!/usr/bin/env bash
# Benchmarks: every bench/*.sh besides this one, plus the doc loader.
# Ratios against helm and kubectl are measured in the same run; no figure
# here is a test assertion.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
B=${B:-build}
fixtures=${KSTAGE_FIXTURES:-$root/../shared/fixtures}
crds="$fixtures/kserve/v0.15.2/crds.yaml"
mkdir -p "$B/bench"
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinstaller -o "$B/bench/doc_load" \
  bench/doc_load.c installer/core/*.c installer/doc/*.c \
  $(pkg-config --cflags libcurl libarchive libgit2) $(pkg-config --cflags --libs yaml-0.1 jansson) -lm -ldl
echo "== doc: loading the KServe CRD file ($(wc -c <"$crds") bytes)"
"$B/bench/doc_load" "$crds" 20
python3 bench/doc_load_py.py "$crds" 5 || true
echo "== bench/template.py: kstage template vs helm template"
KSTAGE_BIN="$root/$B/kstage" python3 bench/template.py
# The cluster benchmarks get a test cluster of their own for the run.
started=0
if [ ! -f "$B/test-cluster/env" ]; then
  make --no-print-directory B="$B" cluster-up >/dev/null && started=1
fi
trap '[ $started = 1 ] && make --no-print-directory B="$B" cluster-down >/dev/null' EXIT
for b in bench/*.sh; do
  [ "$b" = bench/run.sh ] && continue
  echo "== $b"
  KSTAGE="$root/$B/kstage" bash "$b" "$B/test-cluster"
done
echo "== bench/rollback_vs_helm.py"
KSTAGE="$root/$B/kstage" python3 bench/rollback_vs_helm.py "$B/test-cluster"
