#!/usr/bin/env bash
# The unit tests once more, built with AddressSanitizer and
# UndefinedBehaviorSanitizer in a build directory of their own; any report
# fails the run. Usage: run-sanitized.sh SOURCE_DIR BUILD_DIR
# Ends with "N passed, N failed" (run-unit.py's counts of unit-tests and
# unit-tests-sys, added).
set -euo pipefail
SRC=$1
OUT=$2/sanitize
if [ ! -f "$OUT/build.ninja" ]; then
  meson setup "$OUT" "$SRC" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
# An older build directory learns about targets added since (regenerates).
ninja -C "$OUT" build.ninja >/dev/null
meson compile -C "$OUT" unit-tests unit-tests-sys >/dev/null
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Both test programs, one count (run-unit.py's last line, each).
passed=0 failed=0
for t in unit-tests unit-tests-sys; do
  out=$(python3 "$SRC/tests/run-unit.py" "$OUT/tests/$t") || true
  printf '%s\n' "$out" | sed '$d'
  if [[ $(printf '%s\n' "$out" | tail -1) =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1])) failed=$((failed + BASH_REMATCH[2]))
  else
    echo "$t: no count"
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
