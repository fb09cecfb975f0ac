#!/usr/bin/env bash
# Checks a compiler does not: banned functions (core/banned.h), the layering
# of DESIGN.md (only cli/ prints or exits; include direction; one wrapper per
# library), Go outside tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
if grep -rnE '\b(strcpy|strcat|strncpy|strncat|strtok|sprintf|vsprintf|gets)\s*\(' installer \
     --include='*.c' --include='*.h' | grep -v 'core/banned.h'; then
  echo "lint: banned function used (see installer/core/banned.h)" >&2; fail=1
fi
# Lower modules never print or exit; core/alloc.c may die on out-of-memory and
# core/dynload.c when a shared library is missing.
if grep -rnE '\b(printf|puts|putchar|exit|_exit|abort)\s*\(|\b(stdout|stderr)\b' installer \
     --include='*.c' | grep -vE '^installer/cli/|^installer/core/alloc\.c:|^installer/core/dynload\.c:|^installer/core/proc\.c:|snprintf|vsnprintf|kbuf_printf|kbuf_vprintf|karena_printf|//|^\S+:\s*\*'; then
  echo "lint: only installer/cli/ may print or exit" >&2; fail=1
fi
# Include direction and one wrapper per library (tools/lint_includes.py).
if ! python3 tools/lint_includes.py .; then
  echo "lint: include rules broken (layering of DESIGN.md, or a library header outside its wrapper)" >&2; fail=1
fi
if find . -name '*.go' -not -path './tests/*' -not -path './build/*' | grep .; then
  echo "lint: Go code outside tests/" >&2; fail=1
fi
[ $fail -eq 0 ] && echo "lint: ok"
exit $fail
