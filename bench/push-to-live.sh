#!/usr/bin/env bash
# Benchmark: push to live. The time from the ref moving to the new release
# answering, for huddle (the poll fires at once: `systemctl start
# huddle-fetch@APP.service`, no build or verify, settle 0) and for the shell
# baseline `git pull && systemctl restart` in an existing clone; each minus the
# app's own start-up (a plain `systemctl restart` until it answers), measured
# the same way. Both run in one systemd container, on a 1,000-file repository.
# /var/lib/huddle and /srv are bind-mounted from this machine's own file
# system: the container's overlay makes every file creation several times
# slower than on a machine's disk, which would measure the overlay.
# Usage: bench/push-to-live.sh [BUILD_DIR] [TRIALS]   (defaults: build, 15)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
TRIALS=${2:-15}
. "$ROOT/tests/integration/container.sh"
CT_MACHINE=huddle-bench
DISK=$(mktemp -d /var/tmp/huddle-bench.XXXXXX)
mkdir -p "$DISK/lib" "$DISK/srv"
CT_NSPAWN_ARGS="--bind=$DISK/lib:/var/lib/huddle --bind=$DISK/srv:/srv"
trap '[ -n "${KEEP:-}" ] || { ct_cleanup; rm -rf "$DISK"; }' EXIT
trap 'exit 130' INT TERM

ct_boot
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$CT_DIR/root" >/dev/null
ct systemd-sysusers >/dev/null
ct systemctl daemon-reload
ct systemctl enable --now huddle-gen.service >/dev/null 2>&1

# The app: answers every request with the version it started with.
ct sh -ec '
  G="git -c user.email=b@example.com -c user.name=bench"
  rm -rf /srv/src /srv/git /srv/base && mkdir -p /srv/src/ptl /srv/git && cd /srv/src/ptl && git init -q -b main .
  for d in $(seq 0 9); do mkdir -p lib$d; for f in $(seq 0 99); do echo "file $d/$f" > lib$d/f$f.txt; done; done
  cat > app.py <<PY
import http.server, sys
v = open("version").read().strip().encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(v))); self.end_headers(); self.wfile.write(v)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
  echo 0 > version && $G add -A && $G commit -qm v0 && git clone -q --bare . /srv/git/ptl.git && git remote add origin /srv/git/ptl.git
  git clone -q /srv/git/ptl.git /srv/base
  mkdir -p /etc/huddle
  printf "[repository]\nremote path = file:///srv/git/ptl.git\nlocal path = /srv/ptl\n[timing]\nminimum = 1h\n[application]\nstart = python3 app.py 18090\n[deploy]\nsettle = 0\n" > /etc/huddle/ptl.ini'
wait_for "huddle's units" 30 loaded huddle-fetch@ptl.service
ct huddlectl deploy ptl >/dev/null
ct systemd-run -q --unit=ptl-base -p WorkingDirectory=/srv/base python3 app.py 18091
[ "$(ct git -C /srv/src/ptl ls-files | wc -l)" -ge 1000 ]

ct python3 - "$TRIALS" <<'PY'
import statistics, subprocess, sys, time, urllib.request
trials = int(sys.argv[1])
def run(*cmd, cwd=None):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        unit = [c for c in cmd if c.endswith(".service")]
        log = subprocess.run(["journalctl", "--no-pager", "-n", "30"] + [a for u in unit for a in ("-u", u)], stdout=subprocess.PIPE, text=True).stdout
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stdout}\n{log}")
def answers(port, want, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.read().decode() == want:
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.002)
    sys.exit(f"port {port} never answered {want!r}")
G = ["git", "-c", "user.email=b@example.com", "-c", "user.name=bench"]
version = 0
def push():
    global version
    version += 1
    open("/srv/src/ptl/version", "w").write(f"{version}\n")
    run(*G, "commit", "-qam", f"v{version}", cwd="/srv/src/ptl")
    run("git", "push", "-q", "origin", "HEAD:main", cwd="/srv/src/ptl")
    return str(version), time.monotonic()
def restart(unit, port):
    want = open("/srv/ptl/version" if port == 18090 else "/srv/base/version").read().strip()
    t0 = time.monotonic()
    run("systemctl", "restart", unit)
    return answers(port, want) - t0
huddle, base, hstart, bstart = [], [], [], []
for _ in range(trials):
    # Four restarts a trial: keep systemd's start rate limit out of the way.
    run("systemctl", "reset-failed", "huddle@ptl.service", "ptl-base.service")
    want, t0 = push()
    run("systemctl", "start", "--no-block", "huddle-fetch@ptl.service")
    huddle.append(answers(18090, want) - t0)
    run("systemctl", "start", "huddle-fetch@ptl.service")  # let the cycle finish
    want, t0 = push()
    run("git", "-C", "/srv/base", "pull", "-q")
    run("systemctl", "restart", "ptl-base.service")
    base.append(answers(18091, want) - t0)
    hstart.append(restart("huddle@ptl.service", 18090))
    bstart.append(restart("ptl-base.service", 18091))
ms = lambda xs: statistics.median(xs) * 1000
h, b, hs, bs = ms(huddle), ms(base), ms(hstart), ms(bstart)
print(f"push to live, 1000-file repository, {trials} trials, medians in ms")
print(f"{'':34} {'total':>8} {'app start':>10} {'net':>8}")
print(f"{'huddle (fetch unit started at once)':34} {h:8.1f} {hs:10.1f} {h - hs:8.1f}")
print(f"{'git pull && systemctl restart':34} {b:8.1f} {bs:10.1f} {b - bs:8.1f}")
print(f"net ratio huddle / baseline: {(h - hs) / max(b - bs, 0.001):.2f}x; target: huddle net <= 100 ms")
PY
