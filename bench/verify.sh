#!/usr/bin/env bash
# Benchmark: what signed releases cost. One signature check as huddle-fetch
# makes it, SSH (`ssh-keygen -Y find-principals`, then `-Y verify`) and
# OpenPGP (`gpgv`), next to the whole deploy of a signed commit; and the
# no-change poll's whole-system CPU with and without `signers` set. One
# systemd container, three apps over file:// (`settle = 0`, `minimum = 1h`):
# `plain` (no signers), `ssh` (signers) and `pgp` (keyring), all from one
# repository whose commits are signed by both keys in turn.
# Whole-system CPU: PID 1's own and that of the processes it reaped (the
# fetch service's sandbox set-up, huddle-fetch, and what huddle-fetch ran and
# waited for), journald and dbus-daemon, from /proc/PID/stat inside the
# container, over the same interval.
# Usage: bench/verify.sh [BUILD_DIR] [RUNS] [DEPLOYS]   (defaults: build, 40, 20)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
RUNS=${2:-40}
DEPLOYS=${3:-20}
. "$ROOT/tests/integration/container.sh"
CT_MACHINE=huddle-bench-verify
trap '[ -n "${KEEP:-}" ] || ct_cleanup' EXIT
trap 'exit 130' INT TERM

ct_boot
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$CT_DIR/root" >/dev/null
ct systemd-sysusers >/dev/null
ct systemctl daemon-reload
ct systemctl enable --now huddle-gen.service >/dev/null 2>&1

# Keys (an SSH key in an allowed signers file, an OpenPGP key in a binary
# keyring), one repository, three apps.
ct sh -es <<'SH' >/dev/null 2>&1
rm -rf /srv/keys /srv/src /srv/git && mkdir -p /srv/keys /srv/src/app /srv/git /etc/huddle/keys && cd /srv/keys
ssh-keygen -q -t ed25519 -N "" -C bench -f bench
export GNUPGHOME=/srv/keys/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --passphrase "" --quick-gen-key "Bench <bench@example.com>" ed25519 sign never
gpg --with-colons --list-keys bench@example.com | awk -F: '/^fpr/ {print $10; exit}' > bench.fpr
echo "bench@example.com namespaces=\"git\" $(cat bench.pub)" > /etc/huddle/keys/allowed_signers
gpg --export "$(cat bench.fpr)" > /etc/huddle/keys/release.gpg
chmod 0644 /etc/huddle/keys/*
cd /srv/src/app && git init -q -b main .
printf '#!/bin/sh\nexec sleep infinity\n' > run && chmod +x run && echo 0 > version && git add -A
git -c user.email=b@example.com -c user.name=bench -c gpg.format=ssh -c user.signingkey=/srv/keys/bench.pub commit -S -qm v0
for a in plain ssh pgp; do git clone -q --bare . /srv/git/$a.git; git remote add $a /srv/git/$a.git; done
for a in plain ssh pgp; do
  case $a in plain) k= ;; ssh) k="signers = /etc/huddle/keys/allowed_signers" ;; pgp) k="keyring = /etc/huddle/keys/release.gpg" ;; esac
  printf "[repository]\nremote path = file:///srv/git/%s.git\n%s\n[timing]\nminimum = 1h\n[application]\nstart = ./run\n[deploy]\nsettle = 0\n" "$a" "$k" > /etc/huddle/$a.ini
done
SH
for a in plain ssh pgp; do
  wait_for "$a's units" 30 loaded "huddle-fetch@$a.service" ||
    { ct huddlectl validate "/etc/huddle/$a.ini" >&2 || true; exit 1; }
done

ct python3 - "$RUNS" "$DEPLOYS" <<'PY'
import os, resource, statistics, subprocess, sys, time
runs, deploys = int(sys.argv[1]), int(sys.argv[2])
TCK = os.sysconf("SC_CLK_TCK")
ENV = {**os.environ, "GNUPGHOME": "/srv/keys/gnupg"}
G = ["git", "-c", "user.email=b@example.com", "-c", "user.name=bench"]
SIGN = {"ssh": ["-c", "gpg.format=ssh", "-c", "user.signingkey=/srv/keys/bench.pub"],
        "pgp": ["-c", "gpg.format=openpgp", "-c", "user.signingkey=" + open("/srv/keys/bench.fpr").read().strip()],
        "plain": []}

def run(*cmd, stdin=None, cwd=None, ok=(0,)):
    p = subprocess.run(cmd, stdin=stdin, cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode not in ok:
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}): {p.stdout}")
    return p.stdout

def pid_of(name):
    return int(subprocess.run(["pidof", "-s", name], stdout=subprocess.PIPE, text=True).stdout.split()[0])
WATCH = [1, pid_of("systemd-journald"), pid_of("dbus-daemon")]
def ticks():  # PID 1's own and its reaped children's; journald's and dbus-daemon's own
    t = 0
    for pid in WATCH:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        t += int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if pid == 1 else 0)
    return t

def whole(cmd, n, before=None):
    """CMD N times: median wall ms and mean whole-system CPU ms per run."""
    walls, cpu = [], 0
    for _ in range(n):
        if before:
            before()
        c0, t0 = ticks(), time.monotonic()
        run(*cmd)
        walls.append((time.monotonic() - t0) * 1000)
        cpu += ticks() - c0
    return statistics.median(walls), cpu * 1000 / TCK / n

def own(cmds, n, stdin_path=None):
    """The commands in turn, N times: median wall ms and mean CPU ms (user+sys)
    of the processes themselves per round."""
    walls, cpu = [], 0.0
    for _ in range(n):
        r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        for cmd in cmds:
            with open(stdin_path or "/dev/null") as f:
                subprocess.run(cmd, stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        walls.append((time.monotonic() - t0) * 1000)
        cpu += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return statistics.median(walls), cpu * 1000 / n

version = 0
def push(signer, remote):
    global version
    version += 1
    open("/srv/src/app/version", "w").write(f"{version}\n")
    run(*G, *SIGN[signer], "commit", *(["-S"] if SIGN[signer] else []), "-qam", f"v{version}", cwd="/srv/src/app")
    run("git", "push", "-q", "--force", remote, "HEAD:main", cwd="/srv/src/app")
    return run("git", "rev-parse", "HEAD", cwd="/srv/src/app").strip()

def poll(app):
    return ["systemctl", "start", f"huddle-fetch@{app}.service"]
def live(app):
    return os.path.basename(os.readlink(f"/var/lib/huddle/{app}/current"))

# First deploys, then a signed commit of each kind to check.
for app, signer in (("plain", "plain"), ("ssh", "ssh"), ("pgp", "pgp")):
    c = push(signer, app)
    run(*poll(app))
    if live(app) != c:
        sys.exit(f"{app}: {c} was not deployed; journalctl -u huddle@{app} says:\n" + run("journalctl", "-u", f"huddle@{app}", "-n", "20", "--no-pager"))

def split(commit):
    """A commit's signature and the payload it signs, as git verify-commit cuts them."""
    raw = run("git", "cat-file", "commit", commit, cwd="/srv/src/app").split("\n")
    sig, payload, inside = [], [], False
    for line in raw:
        if line.startswith("gpgsig "):
            inside = True
            sig.append(line[len("gpgsig "):])
        elif inside and line.startswith(" "):
            sig.append(line[1:])
        else:
            inside = False
            payload.append(line)
    return "\n".join(sig) + "\n", "\n".join(payload)
for kind in ("ssh", "pgp"):
    s, p = split(live(kind))
    open(f"/srv/keys/{kind}.sig", "w").write(s)
    open(f"/srv/keys/{kind}.payload", "w").write(p)
ssh_cmds = [["ssh-keygen", "-Y", "find-principals", "-s", "/srv/keys/ssh.sig", "-f", "/etc/huddle/keys/allowed_signers"],
            ["ssh-keygen", "-Y", "verify", "-n", "git", "-I", "bench@example.com", "-s", "/srv/keys/ssh.sig",
             "-f", "/etc/huddle/keys/allowed_signers"]]
pgp_cmds = [["gpgv", "--status-fd", "1", "--keyring", "/etc/huddle/keys/release.gpg", "/srv/keys/pgp.sig", "/srv/keys/pgp.payload"]]
sw, sc = own(ssh_cmds, runs, "/srv/keys/ssh.payload")
gw, gc = own(pgp_cmds, runs)

# Whole deploys of a new commit, and no-change polls.
dep = {}
for app in ("plain", "ssh", "pgp"):
    # Each deploy restarts the app: keep systemd's start rate limit (5 in 10 s) out of the way.
    dep[app] = whole(poll(app), deploys, before=lambda app=app: (push(app, app), run("systemctl", "reset-failed", f"huddle@{app}.service")))
    if live(app) != run("git", "rev-parse", "HEAD", cwd="/srv/src/app").strip():
        sys.exit(f"{app}: the last push was not deployed")
nc = {app: whole(poll(app), runs) for app in ("plain", "ssh", "pgp")}

print(f"signed releases: {runs} runs of each check and no-change poll, {deploys} deploys of each; "
      "wall: median ms; CPU: mean ms (a check: its own processes; a deploy or poll: the whole system)")
print(f"{'':52} {'wall ms':>9} {'CPU ms':>9}")
row = lambda label, w, c: print(f"{label:52} {w:9.1f} {c:9.1f}")
row("SSH check: ssh-keygen -Y find-principals + -Y verify", sw, sc)
row("OpenPGP check: gpgv", gw, gc)
row("deploy, no signers", *dep["plain"])
row("deploy, signers (SSH)", *dep["ssh"])
row("deploy, keyring (OpenPGP)", *dep["pgp"])
row("no-change poll, no signers", *nc["plain"])
row("no-change poll, signers", *nc["ssh"])
row("no-change poll, keyring", *nc["pgp"])
print(f"SSH check / signed deploy: wall {sw / dep['ssh'][0]:.1%}, CPU {sc / dep['ssh'][1]:.1%}; "
      f"OpenPGP check / signed deploy: wall {gw / dep['pgp'][0]:.1%}, CPU {gc / dep['pgp'][1]:.1%}")
print(f"signed deploy / unsigned deploy: SSH wall {dep['ssh'][0] / dep['plain'][0]:.2f}x, CPU {dep['ssh'][1] / dep['plain'][1]:.2f}x; "
      f"OpenPGP wall {dep['pgp'][0] / dep['plain'][0]:.2f}x, CPU {dep['pgp'][1] / dep['plain'][1]:.2f}x")
print(f"no-change poll CPU, signers / none: {nc['ssh'][1] / nc['plain'][1]:.2f}x; keyring / none: {nc['pgp'][1] / nc['plain'][1]:.2f}x")
PY
