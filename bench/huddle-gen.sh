#!/usr/bin/env bash
# Benchmark: huddle-gen reconciling N apps (3 units each) against a real
# systemd in a container, side by side with the same units made by a shell
# loop of systemd-run calls. Usage: bench/huddle-gen.sh [BUILD_DIR] [N...]
# (defaults: build, 100 1000). Run as root on the development machine.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
shift || true
[ $# -gt 0 ] && SIZES=("$@") || SIZES=(100 1000)
. "$ROOT/tests/integration/container.sh"
trap ct_cleanup EXIT
trap 'exit 130' INT TERM

ct_boot
meson install -C "$BUILD" --no-rebuild --quiet --destdir "$CT_DIR/root" >/dev/null
ct systemd-sysusers >/dev/null
ct systemctl daemon-reload

# Inside the container: run a command, print "wall_ms cpu_ms pid1_cpu_ms".
# CPU of the command is its user+sys (children times); PID 1's comes from
# /proc/1/stat over the same interval.
ct sh -c 'cat > /run/measure' <<'SH'
#!/bin/bash
tck=$(getconf CLK_TCK)
p1() { awk '{print $14 + $15}' /proc/1/stat; }
a=$(p1); t0=$(date +%s%N)
"$@" >/dev/null 2>&1
t1=$(date +%s%N); b=$(p1)
times > /run/measure.times  # in this shell: a pipe would report a subshell's children
read -r cu cs < <(tail -n1 /run/measure.times | sed 's/[ms]/ /g' | awk '{print $1*60+$2, $3*60+$4}')
cpu=$(awk -v u="$cu" -v s="$cs" 'BEGIN{printf "%d", (u+s)*1000}')
echo "$(( (t1 - t0) / 1000000 )) $cpu $(( (b - a) * 1000 / tck ))"
SH
ct chmod +x /run/measure

make_configs() {  # N DIR: N apps; their local paths do not exist, so the app units are made but not started
  ct sh -c "rm -rf $2 && mkdir -p $2 && for i in \$(seq 1 $1); do
    printf '[repository]\nremote path = /srv/none/app%s.git\n[timing]\nminimum = 1h\n[application]\nstart = /bin/sleep infinity\n' \$i > $2/app\$i.ini; done"
}

systemd_run_loop() {  # N: the same three units per app, by hand
  ct sh -c 'cat > /run/runloop' <<'SH'
#!/bin/sh
for i in $(seq 1 "$1"); do
  # The fetch unit first: its After= reference keeps the (condition-skipped) app unit loaded.
  systemd-run -q --unit="huddle-fetch@app$i" --on-active=30 --on-unit-active=3600 \
    --timer-property=AccuracySec=1s -p Type=oneshot -p After="huddle@app$i.service" /bin/true "app$i"
  systemd-run -q --unit="huddle@app$i.service" -p Slice=huddle.slice -p User=huddle \
    -p ConditionPathExists="/var/lib/huddle/app$i/current" -p WorkingDirectory="/var/lib/huddle/app$i/current" \
    -p Restart=always /bin/sleep infinity
done
SH
  ct chmod +x /run/runloop
  ct /run/measure /run/runloop "$1"
}

clear_units() {
  ct sh -c 'systemctl stop "huddle-fetch@*.timer" "huddle-fetch@*.service" "huddle@*.service" 2>/dev/null; systemctl reset-failed 2>/dev/null' || true
}

count_units() { ct systemctl list-units --all --no-legend 'huddle@*' 'huddle-fetch@*' | wc -l; }

printf '%-6s %-22s %10s %10s %12s %8s\n' apps run wall_ms cpu_ms pid1_cpu_ms units
declare -A COLD
for n in "${SIZES[@]}"; do
  make_configs "$n" /run/bench
  clear_units
  read -r w c p < <(ct /run/measure huddle-gen -c /run/bench --log console)
  COLD[$n]=$w
  printf '%-6s %-22s %10s %10s %12s %8s\n' "$n" "huddle-gen cold" "$w" "$c" "$p" "$(count_units)"
  cold_cpu=$c; cold_pid1=$p; cold_wall=$w
  read -r w c p < <(ct /run/measure huddle-gen -c /run/bench --log console)
  printf '%-6s %-22s %10s %10s %12s %8s\n' "$n" "huddle-gen no change" "$w" "$c" "$p" "$(count_units)"
  nochange_wall=$w
  touched=$(ct huddle-gen -c /run/bench --dry-run | grep -vc '^keep' || true)
  clear_units
  read -r rw rc rp < <(systemd_run_loop "$n")
  printf '%-6s %-22s %10s %10s %12s %8s\n' "$n" "systemd-run loop" "$rw" "$rc" "$rp" "$(count_units)"
  clear_units
  awk -v n="$n" -v cw="$cold_wall" -v cc="$cold_cpu" -v cp="$cold_pid1" -v rw="$rw" -v nw="$nochange_wall" -v t="$touched" 'BEGIN {
    printf "%-6s ratios: systemd-run loop / huddle-gen = %.1fx; huddle-gen CPU / PID 1 CPU = %.1f%%; no-change run %d ms touching %d units\n",
      n, rw / (cw > 0 ? cw : 1), 100 * cc / (cp > 0 ? cp : 1), nw, t }'
done
if [ -n "${COLD[100]:-}" ] && [ -n "${COLD[1000]:-}" ]; then
  awk -v a="${COLD[100]}" -v b="${COLD[1000]}" 'BEGIN { printf "scaling: 1000 apps take %.1fx the time of 100 (10x would be linear)\n", b / (a > 0 ? a : 1) }'
fi
