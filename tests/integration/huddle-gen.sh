#!/usr/bin/env bash
# Integration tests of huddle-gen against a real systemd (PID 1 of a container),
# a real D-Bus and a real journal. Usage: huddle-gen.sh BUILD_DIR
# Ends with "N passed, N failed".
set -uo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"

trap 'ct_cleanup' EXIT
trap 'exit 130' INT TERM

gone() { [ "$(prop "$1" LoadState)" != loaded ]; }
last_reconcile() { ct journalctl -u huddle-gen.service -o cat --no-pager | grep '^reconciled:' | tail -n1; }
gen_idle() { [ "$(prop huddle-gen.service ActiveState)" != activating ]; }
nothing_changed() { gen_idle && last_reconcile | grep -q '^reconciled: 0 created, 0 replaced, 0 removed'; }
pid_changed() { local p; p=$(prop "$1" MainPID); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$2" ]; }

app_ini() {  # NAME WORD: an app that prints WORD and stays up
  cat <<CFG
[repository]
remote path = https://git.example.com/$1.git
local path = /srv/$1

[timing]
minimum = 1h

[application]
start = /bin/sh -c 'echo $1 says $2; exec sleep infinity'
CFG
}
beta_json() {
  cat <<'CFG'
{
  "repository": {"remote path": "https://git.example.com/beta.git", "local path": "/srv/beta"},
  "timing": {"minimum": "1h"},
  "application": {"start": "/bin/sh -c 'echo beta says hello; exec sleep infinity'"}
}
CFG
}
gamma_toml() {
  cat <<'CFG'
[repository]
remote_path = "https://git.example.com/gamma.git"
local_path = "/srv/gamma"
[timing]
minimum = "1h"
[application]
start = "/bin/sh -c 'echo gamma says hello; exec sleep infinity'"
environment = { GREETING = "hi there" }
CFG
}
gen_enabled() { ct systemctl enable --now huddle-gen.service >/dev/null 2>&1; }

# A test that uses apps earlier ones made makes them itself when it runs alone
# (ONLY=): huddle-gen enabled, and each NAME (alpha, beta, gamma, delta) with
# the config t_three_formats or t_delete_and_add writes, unless its units are
# there already, then up.
apps_up() {  # NAME...
  if [ "$(ct systemctl is-enabled huddle-gen.service)" != enabled ] || ! active huddle-gen.path; then
    gen_enabled || fail "systemctl enable --now huddle-gen failed" || return 1
  fi
  local a
  for a in "$@"; do
    if ! loaded "huddle@$a.service"; then
      case $a in
        alpha) app_ini alpha hello | put alpha.ini ;;
        beta) beta_json | put beta.json ;;
        gamma) gamma_toml | put gamma.toml ;;
        delta) app_ini delta hi | put delta.ini ;;
        *) fail "apps_up: no config for $a (test broken)"; return 1 ;;
      esac
    fi
  done
  for a in "$@"; do
    wait_for "huddle@$a active" 30 active "huddle@$a.service" || return 1
    wait_for "huddle-fetch@$a.timer active" 10 active "huddle-fetch@$a.timer" || return 1
  done
}

setup() {
  ct_boot || return 1
  ct_install_build || return 1
  ct mkdir -p /srv/alpha /srv/beta /srv/gamma /srv/delta
}

# meson's default prefix puts the binaries in /usr/local/bin while the units
# go where systemd looks: the service must name the binary there (it named
# /usr/bin/huddle-gen, and failed with 203/EXEC). A build of its own, since
# the suite's is for /usr. Runs before any app exists, since this huddle-gen
# would re-plan the apps' pollers to /usr/local/bin/huddle-fetch; the /usr
# build is put back afterwards.
t_default_prefix() {
  local def=$BUILD/default-prefix log=$BUILD/default-prefix.log status=0
  { [ -f "$def/build.ninja" ] || meson setup "$def" "$ROOT" -Dtests=false; } >"$log" 2>&1 &&
    meson compile -C "$def" >>"$log" 2>&1 || { tail -20 "$log" >&2; fail "building with the default prefix failed"; return 1; }
  ct systemctl stop huddle-gen.path huddle-gen.timer huddle-gen.service
  # The /usr build's binaries would let a unit naming /usr/bin start.
  ct rm -f /usr/bin/huddle-gen /usr/bin/huddle-fetch /usr/bin/huddlectl
  if meson install -C "$def" --no-rebuild --quiet --destdir "$CT_DIR/root" >/dev/null; then
    ct systemctl daemon-reload
    ct systemctl start huddle-gen.service 2>/dev/null ||
      fail "systemctl start huddle-gen.service failed: result $(prop huddle-gen.service Result), status $(prop huddle-gen.service ExecMainStatus)" || status=1
    prop huddle-gen.service ExecStart | grep -qF 'path=/usr/local/bin/huddle-gen ' ||
      fail "huddle-gen.service runs $(prop huddle-gen.service ExecStart)" || status=1
  else
    fail "meson install of the default-prefix build failed" || status=1
  fi
  ct systemctl stop huddle-gen.path huddle-gen.timer
  ct systemctl reset-failed huddle-gen.service 2>/dev/null
  # install-log.txt names what it installed, directories too, with the
  # destination directory in front.
  sed -n "s|^$CT_DIR/root/|/|p" "$def/meson-logs/install-log.txt" |
    ct sh -c 'while read -r f; do [ -d "$f" ] || rm -f "$f"; done'
  ct_install_build || status=1
  return $status
}

t_three_formats() {
  app_ini alpha hello | put alpha.ini
  beta_json | put beta.json
  gamma_toml | put gamma.toml
  gen_enabled || fail "systemctl enable --now huddle-gen failed" || return 1
  [ "$(ct systemctl is-enabled huddle-gen.path)" = enabled ] || fail "huddle-gen.path not enabled with huddle-gen" || return 1
  for a in alpha beta gamma; do
    wait_for "huddle@$a active" 30 active "huddle@$a.service" || return 1
    wait_for "huddle-fetch@$a.timer active" 10 active "huddle-fetch@$a.timer" || return 1
    loaded "huddle-fetch@$a.service" || fail "huddle-fetch@$a.service not loaded" || return 1
    [ "$(prop "huddle@$a.service" Slice)" = huddle.slice ] || fail "$a not in huddle.slice" || return 1
    [ "$(prop "huddle@$a.service" User)" = "huddle-$a" ] || fail "$a does not run as huddle-$a" || return 1
    [ "$(prop "huddle@$a.service" WorkingDirectory)" = "/srv/$a" ] || fail "$a working directory" || return 1
    [ "$(prop "huddle-fetch@$a.timer" AccuracyUSec)" = 1s ] || fail "$a timer accuracy: $(prop "huddle-fetch@$a.timer" AccuracyUSec)" || return 1
    prop "huddle@$a.service" Description | grep -q '\[plan [0-9a-f]\{16\}\]' || fail "$a description has no plan marker" || return 1
    wait_for "'$a says hello' in journalctl -u huddle@$a" 10 journal_has "$a says hello" -u "huddle@$a" || return 1
  done
  prop huddle@gamma.service Environment | grep -qF 'GREETING=hi there' || fail "gamma environment: $(prop huddle@gamma.service Environment)" || return 1
  [ "$(prop huddle-fetch@alpha.timer TimersMonotonic | grep -c OnUnitActiveUSec)" -ge 1 ] || fail "timer has no OnUnitActiveUSec" || return 1
  journal_has "created huddle@alpha.service" -u huddle-gen.service || fail "no 'created' event in huddle-gen's journal" || return 1
  journal_has "created" MESSAGE_ID=e1fc8568bb0d4f288c485c258da1f2a9 HUDDLE_APP=alpha || fail "created event lacks MESSAGE_ID/HUDDLE_APP fields" || return 1
}

t_edit_replaces_only_that_app() {
  local pa pb pg ta
  apps_up alpha beta gamma || return 1
  pa=$(prop huddle@alpha.service MainPID); pb=$(prop huddle@beta.service MainPID); pg=$(prop huddle@gamma.service MainPID)
  ta=$(prop huddle-fetch@alpha.timer ActiveEnterTimestampMonotonic)


  put beta.json <<'CFG'
{
  "repository": {"remote path": "https://git.example.com/beta.git", "local path": "/srv/beta"},
  "timing": {"minimum": "1h"},
  "application": {"start": "/bin/sh -c 'echo beta says hello again; exec sleep infinity'"}
}
CFG
  wait_for "huddle@beta restarted" 30 pid_changed huddle@beta.service "$pb" || return 1
  wait_for "beta's new output" 10 journal_has "beta says hello again" -u huddle@beta || return 1
  [ "$(prop huddle@alpha.service MainPID)" = "$pa" ] || fail "alpha was restarted" || return 1
  [ "$(prop huddle@gamma.service MainPID)" = "$pg" ] || fail "gamma was restarted" || return 1
  [ "$(prop huddle-fetch@alpha.timer ActiveEnterTimestampMonotonic)" = "$ta" ] || fail "alpha's timer was replaced" || return 1
}

t_delete_and_add() {
  apps_up gamma || return 1
  ct rm /etc/huddle/gamma.toml
  wait_for "gamma's units removed" 30 gone huddle@gamma.service || return 1
  wait_for "gamma's timer removed" 10 gone huddle-fetch@gamma.timer || return 1
  gone huddle-fetch@gamma.service || fail "gamma's fetch service still loaded" || return 1
  app_ini delta hi | put delta.ini
  wait_for "delta appears" 30 active huddle@delta.service || return 1
  wait_for "delta's timer" 10 active huddle-fetch@delta.timer || return 1
}

t_invalid_config_keeps_units() {
  local pa
  apps_up alpha || return 1
  pa=$(prop huddle@alpha.service MainPID)
  printf '[repository]\nremote path = https://git.example.com/alpha.git\n[timing]\nminimum = 30\nmaximum = 10\n' | put alpha.ini
  wait_for "the config error in huddle-gen's journal" 30 journal_has "/etc/huddle/alpha.ini:5:11: error: [timing] maximum" -u huddle-gen.service || return 1
  journal_has "alpha.ini:5:11" MESSAGE_ID=ff02bb9516d041fbb92923f70258787e HUDDLE_APP=alpha || fail "rejection lacks MESSAGE_ID/HUDDLE_APP" || return 1
  [ "$(prop huddle@alpha.service MainPID)" = "$pa" ] || fail "alpha was touched by an invalid config" || return 1
  active huddle-fetch@alpha.timer || fail "alpha's timer is gone" || return 1
  # Restoring the same valid config changes nothing either.
  app_ini alpha hello | put alpha.ini
  sleep 1
  wait_for "a reconcile that changes nothing after the fix" 30 nothing_changed || return 1
  [ "$(prop huddle@alpha.service MainPID)" = "$pa" ] || fail "alpha restarted after its config was restored" || return 1
}

# Only root may be able to change what huddle runs as root.
t_writable_configs_are_refused() {
  ct mkdir -p /etc/huddle
  gen_enabled
  app_ini perm1 hello | ct sh -c 'umask 002 && cat > /etc/huddle/perm1.ini.tmp && mv /etc/huddle/perm1.ini.tmp /etc/huddle/perm1.ini'
  wait_for "perm1 refused in huddle-gen's journal" 30 journal_has "/etc/huddle/perm1.ini: error: refused: /etc/huddle/perm1.ini is writable by its group (mode 0664); fix: chmod go-w" -u huddle-gen.service || return 1
  loaded huddle@perm1.service && { fail "units made from a group-writable config"; return 1; }
  # Through a symlink, the target's directory counts.
  ct sh -c 'mkdir -p /srv/open && chmod 1777 /srv/open'
  app_ini perm2 hello | ct sh -c 'cat > /srv/open/perm2.ini'
  ct ln -sf /srv/open/perm2.ini /etc/huddle/perm2.ini
  wait_for "perm2 refused" 30 journal_has "refused: through a symlink, its directory /srv/open is writable by every user" -u huddle-gen.service || return 1
  loaded huddle@perm2.service && { fail "units made through a symlink into a world-writable directory"; return 1; }
  ! loaded huddle@alpha.service || active huddle@alpha.service || fail "another app was affected" || return 1
  # Fixed as the message says: the app comes up.
  # (A mode change is not an event the path unit sees: start huddle-gen.)
  ct chmod go-w /etc/huddle/perm1.ini
  ct systemctl start huddle-gen.service
  wait_for "perm1's units after chmod go-w" 30 loaded huddle@perm1.service || return 1
  ct rm -f /etc/huddle/perm1.ini /etc/huddle/perm2.ini
  wait_for "perm1 removed" 30 gone huddle@perm1.service || return 1
}

t_stop_then_start_by_hand() {
  apps_up beta || return 1
  ct systemctl stop huddle@beta.service
  sleep 0.5
  loaded huddle@beta.service || fail "huddle@beta unloaded after stop" || return 1
  ct systemctl start huddle@beta.service || fail "systemctl start huddle@beta failed" || return 1
  active huddle@beta.service || fail "beta not active after start" || return 1
}

t_burst_of_changes_is_not_lost() {
  local i
  apps_up || return 1
  for i in $(seq 1 12); do app_ini "burst$i" x | put "burst$i.ini"; done
  for i in $(seq 1 12); do wait_for "burst$i's timer" 60 loaded "huddle-fetch@burst$i.timer" || return 1; done
  for i in $(seq 1 12); do ct rm "/etc/huddle/burst$i.ini"; done
  for i in $(seq 1 12); do wait_for "burst$i removed" 60 gone "huddle-fetch@burst$i.timer" || return 1; done
}

t_dry_run() {
  local out
  apps_up alpha || return 1
  out=$(ct huddle-gen --dry-run) || fail "huddle-gen --dry-run failed" || return 1
  echo "$out" | grep -q '^keep *huddle@alpha.service$' || fail "dry run: $out" || return 1
  ct systemctl stop huddle-gen.path huddle-gen.timer
  printf '[repository]\nremote path = /srv/x.git\n' | put epsilon.ini
  out=$(ct huddle-gen --dry-run)
  local made=no
  loaded huddle-fetch@epsilon.timer && made=yes
  ct rm /etc/huddle/epsilon.ini
  ct systemctl start huddle-gen.path huddle-gen.timer
  echo "$out" | grep -q '^create *huddle-fetch@epsilon.timer$' || fail "dry run does not show the new app: $out" || return 1
  [ $made = no ] || fail "dry run created a unit" || return 1
}

every() { prop "$1" TimersMonotonic | grep -o 'OnUnitActiveUSec=[^;]*' | sed 's/^OnUnitActiveUSec=//; s/ *$//'; }
timer_every() { [ "$(every "$1")" = "$2" ]; }

# Each app polls every hour; a budget of 1 poll per 10,000 s (0.0001 a
# second) makes the floor the first power of two seconds at or above
# apps x 10,000 s.
t_poll_budget() {
  local pa n floor want
  apps_up alpha beta || return 1
  pa=$(prop huddle@alpha.service MainPID)
  n=$(ct systemctl list-units --all --plain --no-legend 'huddle-fetch@*.timer' | wc -l)
  [ "$n" -ge 2 ] || fail "expected some apps, found $n timers" || return 1
  floor=1; while [ $floor -lt $((n * 10000)) ]; do floor=$((floor * 2)); done
  want=$(ct systemd-analyze timespan "${floor}s" | sed -n 's/^ *Human: //p')
  [ "$(every huddle-fetch@alpha.timer)" = 1h ] || fail "alpha's timer before: '$(every huddle-fetch@alpha.timer)'" || return 1
  # Saving the file is enough: huddle-gen.path watches it.
  ct sh -c 'printf "# test\nHUDDLE_POLL_BUDGET=0.0001\n" > /etc/default/huddle'
  wait_for "alpha's timer slowed to $want" 30 timer_every huddle-fetch@alpha.timer "$want" || { fail "alpha polls every '$(every huddle-fetch@alpha.timer)'"; return 1; }
  timer_every huddle-fetch@beta.timer "$want" || fail "beta polls every '$(every huddle-fetch@beta.timer)'" || return 1
  prop huddle-fetch@alpha.timer Description | grep -qF '(slowed by the poll budget from 1h)' ||
    fail "description: $(prop huddle-fetch@alpha.timer Description)" || return 1
  journal_has "more than the poll budget of 0.0001; the $n that poll more often than every $want on average are slowed" -u huddle-gen.service MESSAGE_ID=e87b506ef1244d718d6c22f4780a2eec ||
    fail "no poll budget warning with its MESSAGE_ID" || return 1
  [ "$(prop huddle@alpha.service MainPID)" = "$pa" ] || fail "re-timing the poller restarted the app" || return 1
  # huddlectl plan reads the same file and shows the same timer.
  ct huddlectl plan alpha 2>/dev/null | grep -qx "OnUnitActiveSec=$want" || fail "huddlectl plan: $(ct huddlectl plan alpha 2>&1 | grep -E 'notice|OnUnit')" || return 1
  # A bad value: an error naming the file and line, and the default budget.
  ct sh -c 'printf "# test\nHUDDLE_POLL_BUDGET=lots\n" > /etc/default/huddle'
  wait_for "the error in huddle-gen's journal" 30 journal_has "/etc/default/huddle:2: error: HUDDLE_POLL_BUDGET: 'lots' is not a rate" -u huddle-gen.service || return 1
  wait_for "alpha's timer back to 1h" 30 timer_every huddle-fetch@alpha.timer 1h || { fail "alpha polls every '$(every huddle-fetch@alpha.timer)'"; return 1; }
  ct huddlectl plan alpha >/dev/null 2>&1 && { fail "huddlectl plan exits 0 with a bad budget"; return 1; }
  ct rm /etc/default/huddle
  ct systemctl start huddle-gen.service
  timer_every huddle-fetch@alpha.timer 1h || fail "alpha polls every '$(every huddle-fetch@alpha.timer)' without the file" || return 1
  [ "$(prop huddle@alpha.service MainPID)" = "$pa" ] || fail "the app was restarted" || return 1
}

# systemctl show's lines without what changes by itself: when a command or a
# timer last ran or runs next, and the order of dependency lists.
normalize_show() {
  python3 -c '
import re, sys
for line in sys.stdin:
    line = re.sub(r" ; start_time=[^}]*", "", line.rstrip("\n"))
    line = re.sub(r" ; next_elapse=[^}]*", "", line)
    m = re.match(r"(\S+ (After|Before|Wants|Requires|WantedBy)=)(.*)", line)
    if m:
        line = m.group(1) + " ".join(sorted(m.group(3).split()))
    print(line)'
}

# What systemd has of every property huddle-gen set on APP's units, one
# "UNIT NAME=VALUE" line each, and each service's systemd-analyze exposure.
unit_snapshot() {  # APP
  local unit name
  ct huddlectl plan --json "$1" | python3 -c '
import json, sys
for app in json.load(sys.stdin)["apps"]:
    for u in app["units"]:
        for p in u["properties"]:
            print(u["name"], p["name"])' | while read -r unit name; do
    printf '%s %s\n' "$unit" "$(ct systemctl show -p "$name" "$unit")"
  done | normalize_show
  for unit in "huddle@$1.service" "huddle-fetch@$1.service"; do
    ct systemd-analyze security --no-pager "$unit" 2>&1 | grep -o 'Overall exposure level for .*'
  done
}

t_reload_and_reexec() {
  local pa before after
  apps_up alpha || return 1
  pa=$(prop huddle@alpha.service MainPID)
  before=$(unit_snapshot alpha)
  ct systemctl daemon-reload
  after=$(unit_snapshot alpha)
  [ "$after" = "$before" ] || fail "daemon-reload changed properties: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]')" || return 1
  ct systemctl daemon-reexec
  wait_for "systemd back after reexec" 30 active huddle@alpha.service || return 1
  after=$(unit_snapshot alpha)
  [ "$after" = "$before" ] || fail "daemon-reexec changed properties: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]')" || return 1
  [ "$(prop huddle@alpha.service MainPID)" = "$pa" ] || fail "alpha restarted by daemon-reexec" || return 1
  active huddle-fetch@alpha.timer || fail "timer lost by daemon-reexec" || return 1
  ct systemctl start huddle-gen.service
  nothing_changed || fail "units changed after reexec: $(last_reconcile)" || return 1
  # systemd re-read alpha's unit from its transient file: a restart must run
  # the same command (its `sh -c '...; ...'` survives the round trip).
  ct systemctl restart huddle@alpha.service
  wait_for "alpha back after restart" 10 active huddle@alpha.service || return 1
  sleep 1
  active huddle@alpha.service || fail "alpha's command changed across daemon-reload" || return 1
  ct journalctl -u huddle@alpha -o cat --no-pager | grep -F '; exec sleep' >/dev/null && { fail "sh got an escaped ';'"; return 1; }
  return 0
}

t_reboot_recreates() {
  apps_up alpha beta delta || return 1
  ct_halt
  ct_boot || return 1
  for a in alpha beta delta; do
    wait_for "huddle@$a after reboot" 60 active "huddle@$a.service" || return 1
    wait_for "huddle-fetch@$a.timer after reboot" 10 active "huddle-fetch@$a.timer" || return 1
  done
  gone huddle@gamma.service || fail "deleted app came back" || return 1
}

suite_needs_root
setup || suite_setup_failed
run_test "a build with the default prefix (/usr/local) starts huddle-gen.service" t_default_prefix
run_test "three apps, one per format, come up with their planned properties" t_three_formats
run_test "editing one config replaces only that app's units" t_edit_replaces_only_that_app
run_test "deleting a config removes its units; a new one appears" t_delete_and_add
run_test "an invalid config leaves the running app untouched" t_invalid_config_keeps_units
run_test "configs writable by non-root users, also through symlinks, are refused" t_writable_configs_are_refused
run_test "stop then start by hand works" t_stop_then_start_by_hand
run_test "a burst of config changes is not lost" t_burst_of_changes_is_not_lost
run_test "--dry-run shows actions and changes nothing" t_dry_run
run_test "the poll budget in /etc/default/huddle slows the timers, not the apps" t_poll_budget
run_test "daemon-reload and daemon-reexec keep the units and every property huddle set, the sandbox included" t_reload_and_reexec
run_test "a reboot recreates the units" t_reboot_recreates
suite_end
