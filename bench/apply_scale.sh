#!/usr/bin/env bash
# bench/apply_scale.sh - how apply scales: one Namespace plus N ConfigMaps,
# created by `kstage apply` and by `kubectl apply --server-side`, for each N
# in BENCH_SIZES (default "100 1000 5000"), through the test cluster's fault
# proxy (no faults), whose counters give the requests. Prints a Markdown
# table: wall time, requests and peak memory (max RSS, /usr/bin/time) of
# each tool, and the time per object, which stays flat when cost is linear.
#
#   bash bench/apply_scale.sh [CLUSTER_DIR]   (default build/test-cluster; needs `make cluster-up`)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-build/test-cluster}
KSTAGE=${KSTAGE:-build/kstage}
KUBECTL=${KUBECTL:-build/tools/bin/kubectl}
SIZES=${BENCH_SIZES:-100 1000 5000}
[ -f "$DIR/env" ] || { echo "bench/apply_scale: no test cluster at $DIR (make cluster-up)" >&2; exit 2; }
set -a; . "$DIR/env"; set +a
# BENCH_DIRECT=1: both tools straight to the API server (HTTP/2 over TLS)
# instead of through the fault proxy (HTTP/1.1 only); requests then read 0
KCFG=$KSTAGE_KUBECONFIG
VIA="through the fault proxy (no faults)"
[ -z "${BENCH_DIRECT:-}" ] || { KCFG=$KSTAGE_DIRECT_KUBECONFIG; VIA="straight to the API server (requests not counted)"; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

K() { "$KUBECTL" --kubeconfig "$KSTAGE_DIRECT_KUBECONFIG" "$@"; }
# clean N: the namespace and kstage's records of release bench-scale-N (each run a first install)
clean() {
  K delete namespace bench-scale --ignore-not-found --wait=true >/dev/null
  K -n kstage-system delete secret -l "owner=kstage,name=bench-scale-$1" --ignore-not-found >/dev/null
}
counters_reset() { curl -fsS -X DELETE "$KSTAGE_FAULT_URL/counters" >/dev/null; curl -fsS -X DELETE "$KSTAGE_FAULT_URL/rules" >/dev/null; }
counters_total() { curl -fsS "$KSTAGE_FAULT_URL/counters" | python3 -c 'import json,sys; print(sum(v for k, v in json.load(sys.stdin).items() if not k.startswith("WRITE ")))'; }
# measure CMD...: prints "seconds requests peak_kib"
measure() {
  counters_reset
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null
  read -r secs kib < "$WORK/time"
  echo "$secs $(counters_total) $kib"
}

echo "bench/apply_scale: 1 Namespace + N ConfigMaps, created, $VIA"
echo "  kstage: $KSTAGE ($("$KSTAGE" version --short)), kubectl: $("$KUBECTL" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| objects | kstage time | kstage requests | kstage peak MiB | kubectl time | kubectl requests | kubectl peak MiB | time ratio | kstage ms/object |"
echo "|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
for n in $SIZES; do
  b="$WORK/b$n"
  mkdir -p "$b"
  python3 - "$n" > "$b/cms.yaml" <<'PY'
import sys
n = int(sys.argv[1])
print("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench-scale}")
for i in range(1, n + 1):
    print(f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: scale-{i}, namespace: bench-scale}}\n"
          f"data: {{index: \"{i}\", payload: value-{i}-abcdefghijklmnopqrstuvwxyz}}")
PY
  # a release of its own per size: each run is a first install
  printf 'name: bench-scale-%d\nstages:\n  - name: cms\n    source: {path: cms.yaml}\n    timeout: 30m\n' "$n" > "$b/kstage.yaml"
  clean "$n"; read -r ks kr km < <(measure "$KSTAGE" apply "$b" --kubeconfig "$KCFG" -q)
  clean "$n"; read -r cs cr cm < <(measure "$KUBECTL" --kubeconfig "$KCFG" apply --server-side -f "$b/cms.yaml")
  clean "$n"
  python3 -c "
n, ks, kr, km, cs, cr, cm = $n, $ks, $kr, $km, $cs, $cr, $cm
print(f'| {n} | {ks:.2f} s | {kr:.0f} | {km/1024:.0f} | {cs:.2f} s | {cr:.0f} | {cm/1024:.0f} | {ks/cs:.2f} | {1000*ks/(n+1):.1f} |')"
done
