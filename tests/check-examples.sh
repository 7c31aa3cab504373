#!/usr/bin/env bash
# Checks what ships in examples/ and completions/:
#  - every example config (examples/*.toml, *.ini, *.json), alone in a scratch
#    config directory, passes `huddlectl validate` with no error or warning,
#    and `huddlectl plan` makes its units;
#  - hello.toml, hello.ini and hello.json plan the same units;
#  - examples/hello/server.py answers / with its version and commit, /health
#    with "ok", and exits 0 on SIGTERM;
#  - completions/huddlectl.bash completes subcommands, options and app names.
# Usage: tests/check-examples.sh HUDDLECTL EXAMPLES_DIR [COMPLETION_FILE]
# Last line: "N passed, N failed"; exit status 1 if any check failed.
set -uo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 HUDDLECTL EXAMPLES_DIR [COMPLETION_FILE]" >&2
  exit 2
fi
huddlectl=$1
examples=$(cd "$2" && pwd) || exit 2
completion=${3:-$examples/../completions/huddlectl.bash}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/check-examples.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok   $1"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  shift
  local line
  for line in "$@"; do
    printf '%s\n' "$line" | sed 's/^/     /'
  done
}

# --- Every example config, alone in a config directory ----------------------
shopt -s nullglob
configs=("$examples"/*.toml "$examples"/*.ini "$examples"/*.json)
shopt -u nullglob
if [ ${#configs[@]} -eq 0 ]; then
  fail "example configs" "no *.toml, *.ini or *.json in $examples"
fi
for f in "${configs[@]}"; do
  name=$(basename "$f")
  # One directory, emptied for each: the plans name it (huddle-fetch -c DIR).
  dir="$scratch/conf"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$f" "$dir/"
  out=$("$huddlectl" -c "$dir" validate 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || printf '%s\n' "$out" | grep -E ': (error|warning): ' >/dev/null ||
    ! printf '%s\n' "$out" | grep -Fx '1 config checked: 1 valid, 0 invalid (0 errors, 0 warnings)' >/dev/null; then
    fail "example $name validates" "huddlectl -c DIR validate exited $rc:" "$out"
    continue
  fi
  plan=$("$huddlectl" -c "$dir" plan 2>&1)
  rc=$?
  if [ $rc -ne 0 ] || ! printf '%s\n' "$plan" | grep -F '.timer (transient' >/dev/null; then
    fail "example $name validates" "huddlectl -c DIR plan exited $rc:" "$plan"
    continue
  fi
  # The plan, without the lines naming the source file.
  printf '%s\n' "$plan" | grep -v '^# ' >"$scratch/plan-$name"
  ok "example $name validates"
done

# --- The hello config means the same in each format -------------------------
if [ -f "$scratch/plan-hello.toml" ] && [ -f "$scratch/plan-hello.ini" ] && [ -f "$scratch/plan-hello.json" ]; then
  if cmp -s "$scratch/plan-hello.toml" "$scratch/plan-hello.ini" && cmp -s "$scratch/plan-hello.toml" "$scratch/plan-hello.json"; then
    ok "hello.toml, hello.ini and hello.json plan the same units"
  else
    fail "hello.toml, hello.ini and hello.json plan the same units" \
      "$(diff "$scratch/plan-hello.toml" "$scratch/plan-hello.ini"; diff "$scratch/plan-hello.toml" "$scratch/plan-hello.json")"
  fi
else
  fail "hello.toml, hello.ini and hello.json plan the same units" "one of them is missing or did not plan"
fi

# --- examples/hello/server.py -------------------------------------------------
# fetch URL: prints "STATUS BODY", or "error ..." (python3: curl is not a
# build dependency).
fetch() {
  python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        print(r.status, r.read().decode().strip())
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode().strip())
except Exception as e:
    print("error", e)
PY
}

# wait_for SECONDS COMMAND...: poll COMMAND until it succeeds, bounded.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# The server has exited: no such process, or a zombie not yet reaped.
server_gone() {
  local state=""
  kill -0 "$server_pid" 2>/dev/null || return 0
  read -r _ _ state _ <"/proc/$server_pid/stat" 2>/dev/null || return 0
  [ "$state" = Z ]
}

check_server() {
  local app="$scratch/hello" log="$scratch/hello.log" port line answer health
  mkdir -p "$app"
  cp "$examples/hello/server.py" "$app/"
  echo "test-4.5.6" >"$app/VERSION"
  # From another directory: VERSION is found next to the script. PORT=0: a
  # free port, which the start line names.
  (cd / && exec env PORT=0 BIND=127.0.0.1 HUDDLE_COMMIT=0123456789abcdef0123 python3 "$app/server.py") >"$log" 2>&1 &
  server_pid=$!
  if ! wait_for 10 grep -q 'listening on http://127.0.0.1:[0-9]*/' "$log"; then
    fail "hello server starts and logs one line" "no start line within 10 s:" "$(cat "$log")"
    return
  fi
  line=$(head -n1 "$log")
  port=$(printf '%s\n' "$line" | sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p')
  if printf '%s\n' "$line" | grep -F 'test-4.5.6' >/dev/null && [ -n "$port" ]; then
    ok "hello server starts and logs one line"
  else
    fail "hello server starts and logs one line" "start line: $line"
  fi
  answer=$(fetch "http://127.0.0.1:$port/")
  if [ "$answer" = "200 hello from huddle, version test-4.5.6, commit 0123456789ab" ]; then
    ok "hello server: GET / names the version and the commit"
  else
    fail "hello server: GET / names the version and the commit" "got: $answer"
  fi
  health=$(fetch "http://127.0.0.1:$port/health")
  if [ "$health" = "200 ok" ]; then
    ok "hello server: GET /health is 200 ok"
  else
    fail "hello server: GET /health is 200 ok" "got: $health"
  fi
  kill -TERM "$server_pid"
  if ! wait_for 10 server_gone; then
    fail "hello server exits 0 on SIGTERM" "still running 10 s after SIGTERM"
    return
  fi
  local rc=0
  wait "$server_pid" || rc=$?
  server_pid=""
  if [ $rc -eq 0 ] && grep -F 'hello: stopped' "$log" >/dev/null; then
    ok "hello server exits 0 on SIGTERM"
  else
    fail "hello server exits 0 on SIGTERM" "exit status $rc; output:" "$(cat "$log")"
  fi
}
if [ -f "$examples/hello/server.py" ]; then
  check_server
else
  fail "hello server" "no $examples/hello/server.py"
fi

# --- completions/huddlectl.bash -----------------------------------------------
# complete WORD...: what _huddlectl offers for the last WORD, one line, in a
# fresh bash that sources only the completion.
complete_words() {
  bash --norc --noprofile -c '
    source "$1" || exit 1
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _huddlectl || exit 1
    printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort | tr "\n" " " | sed "s/ \$//"
  ' complete "$completion" "$@" 2>&1
}

# expect_completion WANT WORD...
expect_completion() {
  local want=$1 got
  shift
  got=$(complete_words "$@")
  if [ "$got" = "$want" ]; then
    ok "completion: $*"
  else
    fail "completion: $*" "want: $want" "got:  $got"
  fi
}

if [ -f "$completion" ]; then
  cdir="$scratch/completion-configs"
  cdir2="$scratch/completion-configs-2"
  mkdir -p "$cdir" "$cdir2"
  echo x >"$cdir/web.toml"
  echo x >"$cdir/api.ini"
  echo x >"$cdir/my.app.json"
  echo x >"$cdir/_disabled.toml"
  echo x >"$cdir/.hidden.ini"
  echo x >"$cdir/notes.txt"
  : >"$cdir/masked.toml"
  echo x >"$cdir2/masked.toml"
  echo x >"$cdir2/other.json"
  mkdir -p "$scratch/state/web/releases/3b17cd5e" "$scratch/state/web/releases/9f00aa1.tmp"

  expect_completion "deploy" huddlectl de
  expect_completion "deploy history plan rollback show status validate" huddlectl ""
  expect_completion "--config-dir --help --version -c -h" huddlectl -
  expect_completion "status" huddlectl -c "$cdir" st
  expect_completion "api my.app web" huddlectl -c "$cdir" status ""
  expect_completion "api my.app" huddlectl -c "$cdir" status web ""
  expect_completion "web" huddlectl --config-dir "$cdir" deploy w
  expect_completion "api my.app web" huddlectl --config-dir = "$cdir" history ""
  # masked.toml, empty in the first directory, hides the second's.
  expect_completion "api my.app other web" huddlectl -c "$cdir" -c "$cdir2" rollback ""
  expect_completion "masked other" huddlectl -c "$cdir2" plan ""
  expect_completion "" huddlectl -c "$cdir" deploy web ""
  expect_completion "--json" huddlectl -c "$cdir" plan --j
  expect_completion "--help --json" huddlectl status --
  expect_completion "--help --to -h" huddlectl -c "$cdir" rollback web -
  expect_completion "$cdir2" huddlectl -c "$cdir-"
  expect_completion "$cdir/web.toml" huddlectl validate "$cdir/w"
  expect_completion "api my.app web" huddlectl -c "$cdir" show ""
  expect_completion "" huddlectl -c "$cdir" show web ""
  expect_completion "$cdir/web.toml" huddlectl show "$cdir/w"
  expect_completion "--help --json" huddlectl show --
  # Commits of the releases on disk, not a half-made one.
  HUDDLE_STATE_DIR="$scratch/state" expect_completion "3b17cd5e" huddlectl rollback web --to ""
else
  fail "completion" "no $completion"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
