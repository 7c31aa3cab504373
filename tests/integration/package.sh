#!/usr/bin/env bash
# The Debian package, as an image builder meets it: build it and run lintian
# (dev/deb), then run the demo (dev/demo), which installs the .deb with apt in
# a fresh systemd container, enables huddle-gen and deploys examples/hello from
# a local remote twice. In that same container, check what the package put on
# disk, then purge it: no huddle unit may be left running, the apps' data stays.
# Usage: package.sh BUILD_DIR   (HUDDLE_DEB=FILE skips building the package)
# Ends with "N passed, N failed".
set -uo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
. "$HERE/container.sh"
STATE=/run/huddle-demo.state

cleanup() { [ -f "$STATE" ] && "$ROOT/dev/demo" --stop >/dev/null 2>&1; }
trap cleanup EXIT
trap 'exit 130' INT TERM

DEB=${HUDDLE_DEB:-}
t_build() {
  [ -z "$DEB" ] || return 0
  local log="$BUILD/deb/build.log"
  mkdir -p "$BUILD/deb"
  rm -f "$BUILD"/deb/huddle_*.deb
  if ! "$ROOT/dev/deb" "$BUILD/deb" >"$log" 2>&1; then
    tail -40 "$log" >&2
    fail "dev/deb failed (package build or lintian)"
    return 1
  fi
  grep -E '^[EW]: ' "$log" >&2 && { fail "lintian reported errors or warnings"; return 1; }
  DEB=$(tail -n1 "$log")
  [ -f "$DEB" ] || fail "no .deb at '$DEB'"
}

t_demo() {
  [ -n "$DEB" ] || fail "no package to install" || return 1
  "$ROOT/dev/demo" --keep --deb "$DEB" || fail "dev/demo failed" || return 1
  [ -f "$STATE" ] || fail "the demo left no container state" || return 1
  . "$STATE"
  # What the operator saw: the app's output and two deploys in one journal.
  journal_has "deployed" -u huddle@hello || fail "no deploy in journalctl -u huddle@hello" || return 1
  [ "$(ct journalctl -u huddle@hello -o cat --no-pager | grep -c '^deployed ')" -ge 2 ] || fail "fewer than two deploys in the journal" || return 1
  journal_has "hello" -u huddle@hello _COMM=python3 || fail "the app's own output is not in journalctl -u huddle@hello" || return 1
}

t_installed_files() {
  [ -n "$CT_LEADER" ] || fail "no container" || return 1
  ct dpkg-query -W -f='${Status}\n' huddle | grep -qx 'install ok installed' || fail "huddle is not installed" || return 1
  ct getent passwd huddle >/dev/null || fail "no huddle system user" || return 1
  [ "$(ct stat -c '%U:%G %a' /etc/huddle)" = "root:root 750" ] || fail "/etc/huddle: $(ct stat -c '%U:%G %a' /etc/huddle)" || return 1
  [ "$(ct stat -c '%U:%G %a' /etc/huddle/credentials)" = "root:root 700" ] || fail "/etc/huddle/credentials: $(ct stat -c '%U:%G %a' /etc/huddle/credentials)" || return 1
  [ "$(ct systemctl is-enabled huddle-gen.service)" = enabled ] || fail "huddle-gen.service is not enabled" || return 1
  active huddle-gen.path || fail "huddle-gen.path is not active" || return 1
  local page
  for page in huddle-gen.8 huddle-fetch.8 huddlectl.1 huddle.conf.5; do
    ct test -f "/usr/share/man/man${page##*.}/$page.gz" || fail "man page $page missing" || return 1
  done
  ct test -f /usr/share/bash-completion/completions/huddlectl || fail "no bash completion" || return 1
  ct test -f /usr/share/doc/huddle/examples/hello/server.py || fail "no examples" || return 1
  ct huddlectl validate /usr/share/doc/huddle/examples/hello.toml >/dev/null ||
    fail "the installed hello example does not validate" || return 1
}

t_purge() {
  [ -n "$CT_LEADER" ] || fail "no container" || return 1
  ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q huddle >/dev/null 2>&1 || fail "apt purge failed" || return 1
  local left
  left=$(ct systemctl list-units --all --plain --no-legend 'huddle*' | grep -v ' not-found ' || true)
  [ -z "$left" ] || fail "huddle units left after purge (running, or failed and not reset): $left" || return 1
  ct test -e /usr/bin/huddle-fetch && { fail "binaries left after purge"; return 1; }
  ct test -d /var/lib/huddle/hello || fail "purge removed the app's data" || return 1
  ct test -f /etc/huddle/hello.toml || fail "purge removed the operator's config" || return 1
  ! ct curl -fsS --max-time 2 http://127.0.0.1:8080/ >/dev/null 2>&1 || fail "the app still answers after purge" || return 1
}

suite_needs_root
run_test "the package builds and lintian reports nothing" t_build
run_test "the demo installs the package with apt, deploys hello and a push" t_demo
run_test "the package installs user, root-only /etc/huddle, enabled huddle-gen, man pages, completion, examples" t_installed_files
run_test "apt purge leaves no huddle unit running and keeps the apps' data" t_purge
suite_end
