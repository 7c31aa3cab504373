#!/usr/bin/env bash
# Benchmark: a no-change poll, huddle-fetch side by side with the shell
# baseline `git fetch -q origin BRANCH && git rev-parse FETCH_HEAD` in an
# existing clone, over file:// and smart HTTP on loopback; and a no-change
# poll on a repository with 100,000 commits against one with 10.
# Usage: bench/huddle-fetch.sh [BUILD_DIR] [POLLS]   (defaults: build, 50)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
POLLS=${2:-50}
W=$(mktemp -d /tmp/huddle-bench.XXXXXX)
chmod 755 "$W"  # the CGI runs as nobody
cleanup() { [ -n "${HTTP_PID:-}" ] && kill "$HTTP_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
G="git -c user.email=b@example.com -c user.name=bench"

make_repo() {  # NAME COMMITS
  mkdir -p "$W/src/$1" && cd "$W/src/$1" && git init -q -b main .
  # fast-import makes 100,000 commits in seconds
  { for i in $(seq 1 "$2"); do
      printf 'commit refs/heads/main\ncommitter b <b@example.com> %d +0000\ndata 2\nc\n' "$((1700000000 + i))"
      printf 'M 644 inline f\ndata %d\n%d\n\n' "${#i}" "$i"
    done; } | git fast-import --quiet
  git clone -q --bare . "$W/git/$1.git"
  cd "$ROOT"
}

mkdir -p "$W/git" "$W/cfg" "$W/state"
make_repo small 10
make_repo big 100000
python3 "$ROOT/tests/integration/git-http.py" --port 18080 --root "$W/git" >/dev/null 2>&1 &
HTTP_PID=$!
for i in $(seq 50); do git ls-remote "http://127.0.0.1:18080/cgi-bin/git/small.git" >/dev/null 2>&1 && break; sleep 0.1; done

# Files-only apps: the poll and nothing else. One per remote.
for spec in "fsmall file://$W/git/small.git" "fbig file://$W/git/big.git" "hsmall http://127.0.0.1:18080/cgi-bin/git/small.git"; do
  set -- $spec
  printf '[repository]\nremote path = %s\nbranch = main\nlocal path = %s/live/%s\n' "$2" "$W" "$1" > "$W/cfg/$1.ini"
  HUDDLE_STATE_DIR=$W/state "$BUILD/huddle-fetch" -c "$W/cfg" --log console "$1" >/dev/null
  git clone -q "$2" "$W/clone-$1"
done

# Run CMD POLLS times; print mean CPU ms (user+sys) per poll and peak RSS KiB.
measure() {
  python3 - "$POLLS" "$@" <<'PY'
import os, resource, subprocess, sys
n = int(sys.argv[1]); cmd = sys.argv[2:]
peak = 0; cpu = 0.0
for _ in range(n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    cpu += ru.ru_utime + ru.ru_stime
    peak = max(peak, ru.ru_maxrss)
    if status != 0: sys.exit("command failed: %s" % " ".join(cmd))
print("%.2f %d" % (cpu * 1000 / n, peak))
PY
}

printf '%-28s %14s %14s %14s %14s %8s\n' "no-change poll" "huddle cpu ms" "huddle rss KiB" "git cpu ms" "git rss KiB" "cpu ratio"
declare -A CPU
for spec in "file://,10-commits fsmall" "http-loopback,10-commits hsmall" "file://,100000-commits fbig"; do
  set -- $spec
  read -r hc hr < <(HUDDLE_STATE_DIR=$W/state measure "$BUILD/huddle-fetch" -c "$W/cfg" --log console "$2")
  read -r gc gr < <(cd "$W/clone-$2" && measure sh -c 'git fetch -q origin main && git rev-parse FETCH_HEAD')
  CPU[$2]=$hc
  awk -v l="$1" -v hc="$hc" -v hr="$hr" -v gc="$gc" -v gr="$gr" 'BEGIN { printf "%-28s %14.2f %14d %14.2f %14d %7.2fx\n", l, hc, hr, gc, gr, gc / hc }'
done
awk -v a="${CPU[fsmall]}" -v b="${CPU[fbig]}" 'BEGIN { printf "history size: 100000 commits vs 10: huddle-fetch CPU %.2fx\n", b / a }'
