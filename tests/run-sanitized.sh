#!/usr/bin/env bash
# The unit tests once more, built with AddressSanitizer and
# UndefinedBehaviorSanitizer in a build directory of their own; any report
# fails the run. Usage: run-sanitized.sh SOURCE_DIR BUILD_DIR
# Ends with "N passed, N failed" (run-unit.py's count).
set -euo pipefail
SRC=$1
OUT=$2/sanitize
if [ ! -f "$OUT/build.ninja" ]; then
  meson setup "$OUT" "$SRC" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
meson compile -C "$OUT" unit-tests >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
exec python3 "$SRC/tests/run-unit.py" "$OUT/tests/unit-tests"
