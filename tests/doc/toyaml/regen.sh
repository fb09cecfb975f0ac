#!/usr/bin/env bash
# Regenerate expected.yaml from real helm (see README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bash "$root/tests/tools/oracles.sh" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/toy/templates"
printf 'apiVersion: v2\nname: toy\nversion: 0.1.0\n' >"$tmp/toy/Chart.yaml"
printf '{{ toYaml .Values }}\n' >"$tmp/toy/templates/cm.yaml"
cp "$here/values.yaml" "$tmp/toy/values.yaml"
"$root/build/tools/bin/helm" template t "$tmp/toy" | tail -n +3 >"$here/expected.yaml"
