# A real systemd to test against: the host's root file system, under an
# overlay, booted by systemd-nspawn. Sourced by the integration suites.
# Writes land in the overlay's upper directory; the host is left untouched.

CT_DIR=""      # overlay, logs
CT_NSPAWN=""   # pid of systemd-nspawn
CT_LEADER=""   # pid of the container's PID 1, as seen from the host

ct_log() { printf '%s\n' "$*" >&2; }

ct_boot() {
  if [ -z "$CT_DIR" ]; then
    CT_DIR=$(mktemp -d /tmp/huddle-ct.XXXXXX)
    mkdir -p "$CT_DIR/upper" "$CT_DIR/work" "$CT_DIR/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$CT_DIR/upper,workdir=$CT_DIR/work" "$CT_DIR/root"
    # A machine id of its own, and no leftovers of the host's huddle.
    rm -f "$CT_DIR/root/etc/machine-id"
    rm -rf "$CT_DIR/root/etc/huddle" "$CT_DIR/root/run/huddle" "$CT_DIR/root/usr/lib/huddle" "$CT_DIR/root/var/lib/huddle"
    mkdir -p /run/systemd/nspawn
    mountpoint -q /run/systemd/nspawn || mount -t tmpfs tmpfs /run/systemd/nspawn
  fi
  # shellcheck disable=SC2086  # CT_NSPAWN_ARGS: extra options, e.g. --bind=
  systemd-nspawn -D "$CT_DIR/root" ${CT_NSPAWN_ARGS:-} --register=no --keep-unit --link-journal=no \
    --uuid="$(tr -d - < /proc/sys/kernel/random/uuid)" -M "${CT_MACHINE:-huddle-test}" -b >>"$CT_DIR/console.log" 2>&1 &
  CT_NSPAWN=$!
  local deadline=$((SECONDS + ${CT_BOOT_TIMEOUT:-300})) state=""  # a loaded 2-core machine boots slowly
  while [ $SECONDS -lt $deadline ]; do
    CT_LEADER=$(pgrep -P "$CT_NSPAWN" | head -n1 || true)
    if [ -n "$CT_LEADER" ]; then
      state=$(nsenter -t "$CT_LEADER" -a -r -w systemctl is-system-running 2>/dev/null || true)
      case "$state" in running|degraded) return 0 ;; esac
    fi
    kill -0 "$CT_NSPAWN" 2>/dev/null || break
    sleep 0.2
  done
  ct_log "container did not boot (state: ${state:-none}); jobs and console:"
  [ -n "$CT_LEADER" ] && nsenter -t "$CT_LEADER" -a -r -w systemctl list-jobs --no-pager >&2
  tail -50 "$CT_DIR/console.log" >&2
  return 1
}

# Run a command inside the container. -r -w: its root and working directory,
# which util-linux 2.41 (Debian 13) no longer sets by itself when the caller
# is in a chroot (dev/release-test runs the suites in one).
ct() { nsenter -t "$CT_LEADER" -a -r -w "$@"; }

ct_halt() {
  [ -n "$CT_NSPAWN" ] || return 0
  kill "$CT_NSPAWN" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$CT_NSPAWN" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill -9 "$CT_NSPAWN" 2>/dev/null || true
  wait "$CT_NSPAWN" 2>/dev/null || true
  # nspawn killed before its container ended leaves the container running:
  # killing its PID 1 ends every process in its PID namespace.
  if [ -n "$CT_LEADER" ] && kill -0 "$CT_LEADER" 2>/dev/null; then
    kill -9 "$CT_LEADER" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while kill -0 "$CT_LEADER" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  fi
  CT_NSPAWN=""
  CT_LEADER=""
}

ct_cleanup() {
  ct_halt
  if [ -n "$CT_DIR" ]; then
    umount "$CT_DIR/root" 2>/dev/null || umount -l "$CT_DIR/root" 2>/dev/null || true
    rm -rf "$CT_DIR"
    CT_DIR=""
  fi
}

ct_journal_tail() { ct journalctl -b --no-pager 2>/dev/null | tail -"${1:-100}" >&2 || true; }

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local what=$1 secs=$2
  shift 2
  local deadline=$((SECONDS + secs))
  while [ $SECONDS -lt $deadline ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  ct_log "timed out after ${secs}s waiting for: $what"
  return 1
}

# Unit and journal queries inside the container.
prop() { ct systemctl show -P "$2" "$1" 2>/dev/null; }
active() { [ "$(prop "$1" ActiveState)" = active ]; }
loaded() { [ "$(prop "$1" LoadState)" = loaded ]; }
# Not starting, running or stopping (a oneshot is "activating" while it runs).
settled() { case "$(prop "$1" ActiveState)" in active|activating|deactivating|reloading|"") return 1 ;; esac; }
# journald writes what it receives asynchronously, so a line logged just now
# may not be readable yet: poll for up to 10s. (grep -q would exit at the first
# match and, under pipefail, the journalctl it cut off would fail the
# pipeline: read everything.)
journal_has() {
  local deadline=$((SECONDS + 10))
  until ct journalctl --no-pager "${@:2}" 2>/dev/null | grep -F -- "$1" >/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# Test bookkeeping shared by the suites: each ends with "N passed, N failed".
passed=0
failed=0
# A check that calls fail fails its test, whatever the test returns after.
fail() { ct_log "    $*"; check_failed=1; return 1; }
# ONLY=REGEX runs only the tests whose description or function name (t_...)
# matches, when developing: each test sets up what it uses.
run_test() {  # DESCRIPTION FUNCTION [ARGS]
  local name=$1
  shift
  [ -z "${ONLY:-}" ] || printf '%s\n%s\n' "$name" "$1" | grep -Eq -- "$ONLY" || return 0
  check_failed=0
  if "$@" && [ "$check_failed" = 0 ]; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    ct_log "---- container journal (last 60 lines) ----"
    ct_journal_tail 60
  fi
}

# The suites need root and systemd-nspawn (dev/deps installs it).
suite_needs_root() {
  if [ "$(id -u)" -ne 0 ] || ! command -v systemd-nspawn >/dev/null; then
    echo "FAIL setup: the integration tests need root and systemd-nspawn (dev/deps installs it)"
    echo "0 passed, 1 failed"
    exit 1
  fi
}
suite_setup_failed() { echo "FAIL setup"; echo "0 passed, 1 failed"; exit 1; }
# The last line of a suite, and its exit status.
suite_end() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
