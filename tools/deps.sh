#!/usr/bin/env bash
# Install what kstage needs to build and test, if missing (Debian packages).
# As root it runs apt-get; otherwise it prints what to install and fails.
set -euo pipefail
pkgs=(pkg-config gcc make libyaml-dev libcurl4-openssl-dev libarchive-dev libgit2-dev
      libbz2-dev liblzma-dev libzstd-dev libssl-dev libjansson-dev libpcre2-dev zlib1g-dev nettle-dev libgmp-dev libcrypt-dev clang libclang-rt-14-dev
      python3 git npm golang-go time)
# `deps.sh demo`: what make demo needs, without the sanitizer and fuzzing
# toolchain (clang) that only make test uses.
if [ "${1:-}" = demo ]; then
  keep=()
  for p in "${pkgs[@]}"; do
    case "$p" in clang|libclang-rt-*) ;; *) keep+=("$p") ;; esac
  done
  pkgs=("${keep[@]}")
fi
missing=()
for p in "${pkgs[@]}"; do
  case "$p" in
    golang-go) command -v go >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
    python3) command -v python3 >/dev/null 2>&1 && continue ;;
    gcc) command -v gcc >/dev/null 2>&1 && continue ;;
    make) command -v make >/dev/null 2>&1 && continue ;;
    git) command -v git >/dev/null 2>&1 && continue ;;
    time) [ -x /usr/bin/time ] && continue ;;
  esac
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Python modules the test suites use (PyYAML parses documents for the helm
# oracle comparisons; pytest runs the e2e suites).
for mod in yaml:pyyaml pytest:pytest; do
  python3 -c "import ${mod%%:*}" 2>/dev/null || python3 -m pip install -q "${mod##*:}" >/dev/null 2>&1 || \
    echo "deps: could not install the Python module ${mod##*:}" >&2
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "deps: missing Debian packages: ${missing[*]}" >&2
echo "deps: run as root: apt-get install ${missing[*]}" >&2
exit 1
