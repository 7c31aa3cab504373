#!/usr/bin/env bash
# Soak: N apps (default 1000) polling every 1 to 2 s for M minutes (default
# 10) in a real systemd container, with K pushes a minute (default 10), each
# to another app. huddle-gen runs with the machine's default poll budget
# (huddle-gen(8)), which slows the polls when the apps ask for more.
# Reports polls run against polls asked and polls planned, deploys completed
# and their latency, PID 1's CPU share, the memory of every huddle process over
# time (must not grow) and failed units (must be 0). Exits 1 when memory grows,
# a unit failed or a push was not deployed.
# Usage: bench/soak.sh [BUILD_DIR] [APPS] [MINUTES] [PUSHES_PER_MINUTE]
#        bench/soak.sh --report DIR   (the report again, from a run's raw data)
# Not part of the tests: it takes the machine for MINUTES plus the set-up.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --report ]; then
  OUT=$2
else
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
APPS=${2:-1000}
MINUTES=${3:-10}
PUSHES=${4:-10}
for v in "$APPS" "$MINUTES" "$PUSHES"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/soak.sh [BUILD_DIR] [APPS] [MINUTES] [PUSHES_PER_MINUTE]" >&2; exit 2; }
done
export CT_MACHINE=huddle-soak
. "$ROOT/tests/integration/container.sh"
OUT=$(mktemp -d /tmp/huddle-soak.XXXXXX)
trap 'ct_cleanup || true' EXIT
trap 'exit 130' INT TERM
say() { printf '%s soak: %s\n' "$(date +%T)" "$*" >&2; }

ct_boot
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$CT_DIR/root" >/dev/null
ct systemd-sysusers >/dev/null
ct systemctl daemon-reload
# Polls are counted from PID 1's job messages in the journal; at hundreds a
# second journald's per-unit rate limit would drop some, so it is off here.
ct sh -c 'mkdir -p /etc/systemd/journald.conf.d && printf "[Journal]\nRateLimitIntervalSec=0\n" > /etc/systemd/journald.conf.d/soak.conf && systemctl restart systemd-journald'

say "making $APPS remotes and configs"
ct bash -s "$APPS" <<'SH'
set -e
export GIT_AUTHOR_NAME=soak GIT_AUTHOR_EMAIL=soak@example.com GIT_COMMITTER_NAME=soak GIT_COMMITTER_EMAIL=soak@example.com
t=/srv/git/template.git
git init -q --bare -b main $t
tree=$(printf '100644 blob %s\tVERSION\n' "$(echo 1 | git --git-dir=$t hash-object -w --stdin)" | git --git-dir=$t mktree)
git --git-dir=$t update-ref refs/heads/main "$(git --git-dir=$t commit-tree "$tree" -m 1)"
mkdir -p /etc/huddle
for i in $(seq 1 "$1"); do
  cp -a $t /srv/git/app$i.git
  printf '[repository]\nremote path = file:///srv/git/app%s.git\nbranch = main\n[timing]\nminimum = 1s\nmaximum = 2s\n[application]\nstart = /bin/sleep infinity\n' "$i" > /etc/huddle/app$i.ini
done
chmod 644 /etc/huddle/*.ini
SH

# Samples every second, inside the container: PID 1 and journald (RSS, CPU
# ticks), every huddle process running at that moment (its RSS and peak RSS),
# the fetch services running, and the CPU time of the processes PID 1 has
# reaped: the polls with their sandbox set-up (the apps never exit).
ct sh -c 'cat > /run/soak-sample.py' <<'PY'
import glob, json, os, sys, time
def status(pid):
    d = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                d[k] = v.strip()
    except OSError:
        return None
    return d
def ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read().rsplit(")", 1)[1].split()
    return int(s[11]) + int(s[12])
def kib(d, k):
    return int(d.get(k, "0 kB").split()[0])
def children_ticks(pid):  # CPU of the children it has reaped
    with open(f"/proc/{pid}/stat") as f:
        s = f.read().rsplit(")", 1)[1].split()
    return int(s[13]) + int(s[14])
journald = int(open("/run/systemd/journal/pid").read()) if os.path.exists("/run/systemd/journal/pid") else None
if journald is None:
    import subprocess
    journald = int(subprocess.check_output(["systemctl", "show", "-P", "MainPID", "systemd-journald"]).strip())
out = open(sys.argv[1], "a", buffering=1)
while True:
    now = time.time()
    procs = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            comm = open(f"/proc/{p}/comm").read().strip()
        except OSError:
            continue
        if comm in ("huddle-fetch", "huddle-gen", "huddlectl"):
            d = status(p)
            if d:
                procs.append([comm, kib(d, "VmRSS"), kib(d, "VmHWM")])
    s1, sj = status(1), status(journald)
    # cgroup v2, or v1 (systemd's own hierarchy) as nspawn gives it on some hosts
    # A unit's cgroup can outlive its processes for a moment: count the populated ones.
    def populated(d):
        try:
            return "populated 1" in open(d + "/cgroup.events").read()
        except OSError:  # v1: no cgroup.events
            try:
                return bool(open(d + "/cgroup.procs").read().strip())
            except OSError:
                return False
    running = [p for p in glob.glob("/sys/fs/cgroup/system.slice/system-huddle\\x2dfetch.slice/huddle-fetch@*.service") +
               glob.glob("/sys/fs/cgroup/systemd/system.slice/system-huddle\\x2dfetch.slice/huddle-fetch@*.service") if populated(p)]
    rec = {"t": now, "pid1_rss": kib(s1, "VmRSS"), "pid1_ticks": ticks(1),
           "journald_rss": kib(sj, "VmRSS") if sj else 0, "journald_ticks": ticks(journald) if sj else 0,
           "procs": procs, "pid1_children_ticks": children_ticks(1), "fetch_running": len(running)}
    out.write(json.dumps(rec) + "\n")
    time.sleep(max(0, 1 - (time.time() - now)))
PY

say "huddle-gen: making the units of $APPS apps"
t0=$(date +%s.%N)
ct systemctl start huddle-gen.service
t1=$(date +%s.%N)
# What the poll budget made of the timers: polls asked, planned, the floor.
ct huddlectl plan --json 2>/dev/null | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["polls"]))' > "$OUT/polls.json"
say "poll budget: $(cat "$OUT/polls.json")"
ct sh -c 'nohup python3 /run/soak-sample.py /run/soak-samples.jsonl >/dev/null 2>&1 &'

say "waiting for every app's first deploy"
deadline=$((SECONDS + 1800))
while :; do
  n=$(ct sh -c 'ls -d /var/lib/huddle/*/current 2>/dev/null | wc -l')
  [ "$n" -ge "$APPS" ] && break
  [ $SECONDS -lt $deadline ] || { say "only $n of $APPS apps deployed after 30 min"; exit 1; }
  sleep 5
done
t2=$(date +%s.%N)
say "all $APPS deployed; soaking for $MINUTES min with $PUSHES pushes a minute"

# "busy total" jiffies of the whole machine, from /proc/stat
machine_cpu() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }

# The window. Pushes go to apps spread over the fleet, one every 60/K s, each
# a new commit on main made in the bare remote.
win_start=$(date +%s.%N)
pid1_start=$(ct awk '{print $14 + $15}' /proc/1/stat)
cpu_start=$(machine_cpu)
: > "$OUT/pushes"
total=$((MINUTES * PUSHES))
for k in $(seq 1 "$total"); do
  # due times from the window's start, so the schedule does not drift (microseconds)
  due=$(( ${win_start/./} / 1000 + (k - 1) * 60000000 / PUSHES ))
  now=$(( $(date +%s%N) / 1000 ))
  [ $due -le $now ] || sleep "$(awk -v d=$((due - now)) 'BEGIN{printf "%.3f", d/1e6}')"
  app=app$(( (k * 389) % APPS + 1 ))
  c=$(ct bash -c "r=/srv/git/$app.git; export GIT_AUTHOR_NAME=soak GIT_AUTHOR_EMAIL=soak@example.com GIT_COMMITTER_NAME=soak GIT_COMMITTER_EMAIL=soak@example.com
    tree=\$(printf '100644 blob %s\tVERSION\n' \"\$(echo push$k | git --git-dir=\$r hash-object -w --stdin)\" | git --git-dir=\$r mktree)
    c=\$(git --git-dir=\$r commit-tree \"\$tree\" -p refs/heads/main -m push$k) && git --git-dir=\$r update-ref refs/heads/main \$c && echo \$c")
  echo "$(date +%s.%N) $app $c" >> "$OUT/pushes"
done
end=$(( ${win_start/./} / 1000 + MINUTES * 60000000 ))
now=$(( $(date +%s%N) / 1000 ))
[ $end -le $now ] || sleep "$(awk -v d=$((end - now)) 'BEGIN{printf "%.3f", d/1e6}')"
win_end=$(date +%s.%N)
pid1_end=$(ct awk '{print $14 + $15}' /proc/1/stat)
cpu_end=$(machine_cpu)
# The last pushes get up to two floor periods (the slowest slowed poll is
# 1.34 floors) plus a minute to be deployed.
floor=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["floor_usec"] // 1000000)' "$OUT/polls.json")
drain=$((2 * floor + 60))
say "window over; giving the last pushes up to $drain s to deploy"
deadline=$((SECONDS + drain))
while [ $SECONDS -lt $deadline ]; do
  pending=$(ct bash -s < <(awk '{last[$2]=$3} END{for (a in last) printf "readlink /var/lib/huddle/%s/current | grep -q %s || echo %s\n", a, last[a], a}' "$OUT/pushes") | wc -l)
  [ "$pending" -eq 0 ] && break
  sleep 5
done
# The link switches before the settle check ends; "deployed" is logged after it.
[ "$pending" -eq 0 ] && sleep 15
drained=$(date +%s.%N)
ct pkill -f soak-sample.py || true

ct systemctl list-units --all --failed --no-legend --plain > "$OUT/failed" 2>"$OUT/failed.err" || echo "UNKNOWN $(cat "$OUT/failed.err")" > "$OUT/failed"
ct journalctl -o json --output-fields=UNIT,JOB_TYPE,JOB_RESULT,HUDDLE_APP,HUDDLE_STEP,HUDDLE_COMMIT,PRIORITY,MESSAGE,_PID \
  --since "@${t0%.*}" --no-pager > "$OUT/journal.json"
ct sh -c 'for d in /var/lib/huddle/*/; do a=$(basename $d); echo "$a $(readlink $d/current)"; done' > "$OUT/current"
ct cat /run/soak-samples.jsonl > "$OUT/samples.jsonl"
echo "$APPS $MINUTES $PUSHES $t0 $t1 $t2 $win_start $win_end $pid1_start $pid1_end $(getconf CLK_TCK) $(nproc) $cpu_start $cpu_end $drained" > "$OUT/params"
ct_halt  # the rest (the overlay) when the script exits
fi

python3 - "$OUT" <<'PY'
import collections, json, statistics, sys
out = sys.argv[1]
P = open(f"{out}/params").read().split()
apps, minutes, pushes = int(P[0]), int(P[1]), int(P[2])
t0, t1, t2, ws, we = map(float, P[3:8])
p1s, p1e, tck, ncpu = float(P[8]), float(P[9]), int(P[10]), int(P[11])
busy_s, total_s, busy_e, total_e = map(int, P[12:16])
drained = float(P[16]) if len(P) > 16 else we + 60
try:
    budget = json.load(open(f"{out}/polls.json"))
except (OSError, ValueError):
    budget = None
span = we - ws
polls = collections.Counter(); results = collections.Counter(); deployed = {}
errors = []
for line in open(f"{out}/journal.json"):
    e = json.loads(line)
    t = int(e["__REALTIME_TIMESTAMP"]) / 1e6
    unit = e.get("UNIT", "")
    if e.get("_PID") == "1" and e.get("JOB_TYPE") == "start" and e.get("JOB_RESULT") and unit.startswith("huddle-fetch@") and unit.endswith(".service"):
        if ws <= t < we:
            polls[unit[len("huddle-fetch@"):-len(".service")]] += 1
            results[e.get("JOB_RESULT", "?")] += 1
    if e.get("HUDDLE_STEP") == "deployed" and e.get("HUDDLE_COMMIT"):
        deployed.setdefault(e["HUDDLE_COMMIT"], t)
    if e.get("HUDDLE_APP") and e.get("PRIORITY") in ("0", "1", "2", "3") and t >= ws:
        errors.append(e.get("MESSAGE"))
n_polls = sum(polls.values())
period = 1.5  # OnUnitActiveSec=1s plus a RandomizedDelaySec=1s draw, on average
expected = apps * span / period
per_app = [polls.get(f"app{i}", 0) for i in range(1, apps + 1)]
print(f"# soak: {apps} apps, polls every 1-2 s, {span/60:.1f} min, {pushes} pushes/min, {ncpu} CPUs")
print(f"set-up: huddle-gen made {3*apps} units in {t1-t0:.1f} s; first deploy of all {apps} apps done {t2-t0:.0f} s after")
if budget:
    print(f"poll budget: {budget['budget']:g} a second; the configs ask for {budget['asked']:.1f}; "
          + (f"{budget['slowed']} apps slowed to a {budget['floor_usec']/1e6:.0f} s floor, {budget['planned']:.1f} a second planned"
             if budget["floor_usec"] else "nothing slowed"))
planned = budget["planned"] * span if budget else expected
print(f"polls run: {n_polls} of {expected:.0f} asked by the configs ({100*n_polls/expected:.1f}%) and {planned:.0f} planned by the budget "
      f"({100*n_polls/planned:.0f}%), {n_polls/span:.1f} a second")
print(f"  per app: min {min(per_app)}, median {statistics.median(per_app):.0f}, max {max(per_app)}; "
      f"mean interval {span/max(statistics.mean(per_app),1e-9):.1f} s; apps never polled: {sum(1 for n in per_app if n == 0)}")
print(f"  poll results: " + ", ".join(f"{k} {v}" for k, v in sorted(results.items())))
rows = [l.split() for l in open(f"{out}/pushes")]
lat = []
current = dict(l.split(None, 1) for l in open(f"{out}/current") if " " in l.strip())
last = {}
for ts, app, c in rows:
    last[app] = c
    if c in deployed:
        lat.append(deployed[c] - float(ts))
superseded = sum(1 for ts, app, c in rows if c not in deployed and last[app] != c)
missing = [app for app, c in last.items() if c not in current.get(app, "")]
print(f"deploys: {len(lat)} of {len(rows)} pushes deployed ({superseded} superseded by a later push first); "
      f"apps not on their last push {drained - we:.0f} s after the window: {len(missing)}")
if lat:
    lat.sort()
    print(f"  push to deployed (includes the 5 s settle): median {statistics.median(lat):.1f} s, "
          f"90th {lat[int(0.9*(len(lat)-1))]:.1f} s, max {lat[-1]:.1f} s")
pid1 = (p1e - p1s) / tck
print(f"PID 1 CPU: {pid1:.0f} s in {span:.0f} s = {100*pid1/span:.0f}% of one CPU, {100*pid1/span/ncpu:.0f}% of the machine")
S = [json.loads(l) for l in open(f"{out}/samples.jsonl")]
S = [s for s in S if ws <= s["t"] <= we]
def cpu_share(key, scale):
    a, b = S[0], S[-1]
    if a.get(key) is None or b.get(key) is None: return "?"
    return f"{100*(b[key]-a[key])/scale/(b['t']-a['t']):.0f}%"
if n_polls and S[-1].get("pid1_children_ticks") is not None:
    kids = (S[-1]["pid1_children_ticks"] - S[0]["pid1_children_ticks"]) / tck * span / (S[-1]["t"] - S[0]["t"])
    print(f"CPU per poll: PID 1 {1000*pid1/n_polls:.0f} ms + the poll's processes (sandbox set-up and huddle-fetch) {1000*kids/n_polls:.0f} ms")
print(f"CPU, share of one CPU: the polls (processes PID 1 reaped) {cpu_share('pid1_children_ticks', tck)}, journald {cpu_share('journald_ticks', tck)}; "
      f"machine busy {100*(busy_e-busy_s)/(total_e-total_s):.0f}%")
print("memory (KiB) by minute: huddle processes sampled, their peak RSS (max, 90th percentile, median); PID 1 RSS; journald RSS; fetch services running (mean)")
by = collections.defaultdict(list)
for s in S:
    by[int((s["t"] - ws) // 60)].append(s)
firsts, lasts = None, None
for m in sorted(by):
    ss = by[m]
    # 0: a process already exiting (its status has no memory lines)
    hwm = sorted(p[2] for s in ss for p in s["procs"] if p[2] > 0) or [0]
    row = (len(hwm), hwm[-1], hwm[int(0.9 * (len(hwm) - 1))], statistics.median(hwm),
           max(s["pid1_rss"] for s in ss), max(s["journald_rss"] for s in ss),
           statistics.mean(s["fetch_running"] for s in ss))
    print(f"  min {m+1:2d}: {row[0]:5d} procs, peak RSS max {row[1]:6d} p90 {row[2]:6d} median {row[3]:6.0f}; PID 1 {row[4]:6d}; journald {row[5]:6d}; running {row[6]:6.1f}")
    firsts = firsts or row
    lasts = row
# A process's peak grows during its life, so a sample's value depends on the
# process's age when sampled. With hundreds running at once (no poll budget)
# the median of a minute's samples is steady; with a handful (the budget's
# few polls at a time) it is not, and the maximum and the 90th percentile,
# set by processes sampled near the end of their run, say whether a run
# needs more memory over time.
grow = lasts[1] > firsts[1] * 1.10 + 1024 or lasts[2] > firsts[2] * 1.10 + 1024
print(f"huddle process peak RSS: first minute max {firsts[1]} / p90 {firsts[2]} / median {firsts[3]:.0f} KiB, "
      f"last minute max {lasts[1]} / p90 {lasts[2]} / median {lasts[3]:.0f} KiB: {'GROWS' if grow else 'flat'} (by max and p90)")
print(f"PID 1 RSS: {firsts[4]} -> {lasts[4]} KiB; journald RSS: {firsts[5]} -> {lasts[5]} KiB")
failed = [l for l in open(f"{out}/failed") if l.strip()]
if failed and failed[0].startswith("UNKNOWN"):
    print(f"failed units at the end: unknown (systemctl could not list them: {failed[0][8:].strip()})")
else:
    print(f"failed units at the end: {len(failed)}" + "".join("\n  " + l.strip() for l in failed[:10]))
print(f"huddle errors logged in the window: {len(errors)}" + "".join("\n  " + str(m) for m in errors[:5]))
print(f"raw data: {out}")
bad = grow or failed or missing or results.get("failed", 0) or results.get("timeout", 0)
sys.exit(1 if bad else 0)
PY
