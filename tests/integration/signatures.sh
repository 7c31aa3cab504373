#!/usr/bin/env bash
# Integration tests of signed releases ([repository] signers, keyring, verify,
# rewind) against a real systemd in a container: SSH and OpenPGP signatures
# made with ssh-keygen and gpg inside it, commits and tags signed by git,
# bare remotes over file://. Usage: signatures.sh BUILD_DIR. Ends with
# "N passed, N failed".
set -uo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
CT_MACHINE=huddle-signatures

trap 'ct_cleanup' EXIT
trap 'exit 130' INT TERM
# The signing side (a developer's machine): its keys in /srv/keys, gpg's home
# there too. git runs with it for every commit and tag.
G="env GNUPGHOME=/srv/keys/gnupg git -c user.email=t@example.com -c user.name=test"
# How each signer signs (expanded by the container's shell: the OpenPGP keys'
# fingerprints are known once they are made).
ALICE='-c gpg.format=ssh -c user.signingkey=/srv/keys/alice.pub'        # in allowed_signers
MALLORY='-c gpg.format=ssh -c user.signingkey=/srv/keys/mallory.pub'    # in no file
OLDSSH='-c gpg.format=ssh -c user.signingkey=/srv/keys/old.pub'         # allowed, valid-before="20200101"
BOT='-c gpg.format=openpgp -c user.signingkey=$(cat /srv/keys/bot.fpr)'  # in the keyrings, signs with a subkey
STRANGER='-c gpg.format=openpgp -c user.signingkey=$(cat /srv/keys/stranger.fpr)'  # in no keyring
# In the keyrings, expired since 2025-01-02: gpg signs with it only at a
# faked time, as it was then.
OLDPGP='-c gpg.format=openpgp -c gpg.program=/srv/keys/gpg-past -c user.signingkey=$(cat /srv/keys/old.fpr)'
SIGNERS=/etc/huddle/keys/allowed_signers
ASC=/etc/huddle/keys/release.asc
GPG=/etc/huddle/keys/release.gpg

# The keys, once per container: three SSH keys, three OpenPGP keys (one
# expired), an allowed signers file and the keyrings, armored and binary,
# root's and 0644 in /etc/huddle/keys/.
keys() {
  ct test -e /srv/keys/done && return 0
  ct sh -es <<'SH' >"$CT_DIR/keys.log" 2>&1 || { cat "$CT_DIR/keys.log" >&2; fail "making the keys failed"; return 1; }
rm -rf /srv/keys && mkdir -p /srv/keys && cd /srv/keys
for k in alice mallory old; do ssh-keygen -q -t ed25519 -N "" -C "$k" -f "$k"; done
export GNUPGHOME=/srv/keys/gnupg
mkdir -m 0700 "$GNUPGHOME"
fpr() { gpg --with-colons --list-keys "$1" | awk -F: '/^fpr/ {print $10; exit}'; }
# The release key certifies only; a subkey signs (the signer's fingerprint is the primary's).
gpg --batch --passphrase "" --quick-gen-key "Release Bot <bot@example.com>" ed25519 cert never
fpr bot@example.com > bot.fpr
gpg --batch --passphrase "" --quick-add-key "$(cat bot.fpr)" ed25519 sign never
gpg --with-colons --list-keys bot@example.com | awk -F: '/^fpr/ {f = $10} END {print f}' > bot-subkey.fpr
gpg --batch --faked-system-time 20250101T000000 --passphrase "" --quick-gen-key "Old Bot <old@example.com>" ed25519 sign 1d
fpr old@example.com > old.fpr
gpg --batch --passphrase "" --quick-gen-key "Stranger <stranger@example.com>" ed25519 sign never
fpr stranger@example.com > stranger.fpr
printf '#!/bin/sh\nexec gpg --faked-system-time 20250101T000000 "$@"\n' > gpg-past
chmod +x gpg-past
mkdir -p /etc/huddle/keys
{ echo "alice@example.com namespaces=\"git\" $(cat alice.pub)"
  echo "old@example.com namespaces=\"git\",valid-before=\"20200101\" $(cat old.pub)"; } > /etc/huddle/keys/allowed_signers
gpg --export --armor "$(cat bot.fpr)" "$(cat old.fpr)" > /etc/huddle/keys/release.asc
gpg --export "$(cat bot.fpr)" "$(cat old.fpr)" > /etc/huddle/keys/release.gpg
chown root:root /etc/huddle/keys/*
chmod 0644 /etc/huddle/keys/*
gpgconf --kill all
test "$(wc -c < /etc/huddle/keys/release.gpg)" -gt 100 && grep -q "BEGIN PGP PUBLIC KEY BLOCK" /etc/huddle/keys/release.asc
test "$(cat bot.fpr)" != "$(cat bot-subkey.fpr)"
touch done
SH
}
ssh_fp() { ct ssh-keygen -lf "/srv/keys/$1.pub" | awk '{print $2}'; }
pgp_fp() { ct cat "/srv/keys/$1.fpr"; }
ALICE_ID=alice@example.com
BOT_ID="Release Bot <bot@example.com>"

# An app's source repository (work tree) and its bare remote, inside the
# container; the first commit signed as SIGN says ("" unsigned).
new_repo() {  # NAME SIGN
  ct sh -c "rm -rf /srv/src/$1 /srv/git/$1.git && mkdir -p /srv/src/$1 /srv/git && cd /srv/src/$1 && git init -q -b main . &&
    echo 1 > version && printf '#!/bin/sh\necho \"$1 version \$(cat version) commit \$HUDDLE_COMMIT\"\nexec sleep infinity\n' > run && chmod +x run &&
    git add -A && $G ${2:+$2 }commit ${2:+-S }-qm v1 && git clone -q --bare . /srv/git/$1.git && git remote add origin /srv/git/$1.git"
}
# A commit, signed as SIGN says ("" unsigned), pushed to main.
commit_push() {  # NAME VERSION SIGN [shell run in the work tree first] [git push options]
  ct sh -c "cd /srv/src/$1 && ${4:-true} && echo $2 > version && $G ${3:+$3 }commit ${3:+-S }-qam v$2 && git push -q ${5:-} origin HEAD:main"
}
head_of() { ct git -C "/srv/src/$1" rev-parse "${2:-HEAD}^{commit}"; }
live_commit() { ct test -L "/var/lib/huddle/$1/current" && basename "$(ct readlink "/var/lib/huddle/$1/current")"; }
deploy() { ct huddlectl deploy "$1" >/dev/null 2>&1; echo $?; }
main_pid() { prop "huddle@$1.service" MainPID; }
state() { ct cat "/var/lib/huddle/$1/state.json"; }
# The config: REPO lines in [repository] (signers, keyring, verify, rewind, tag).
app_config() {  # NAME REPO [EXTRA]
  printf '[repository]\nremote path = file:///srv/git/%s.git\n%s\n[timing]\nminimum = 1h\n[application]\nstart = ./run\n[deploy]\nsettle = 1s\n%s\n' "$1" "$2" "${3:-}"
}
# Waits for the app's units; if they do not come, says what huddlectl
# validate makes of the config.
wait_units() {
  wait_for "$1's units" 120 loaded "huddle-fetch@$1.service" && return 0
  fail "no units for $1; huddlectl validate says: $(ct huddlectl validate "/etc/huddle/$1.ini" 2>&1 | tr '\n' ' ')"
}
# NAME: a new repository whose first commit is signed as SIGN, its config
# with REPO, deployed.
deployed() {  # NAME SIGN REPO
  new_repo "$1" "$2"
  app_config "$1" "$3" | put "$1.ini"
  wait_units "$1" || return 1
  local rc; rc=$(deploy "$1")
  [ "$rc" = 0 ] || fail "the first deploy of $1 exited $rc, not 0" || return 1
  [ "$(live_commit "$1")" = "$(head_of "$1")" ] || fail "$1's first commit is not live" || return 1
}
# The last entry of huddlectl history APP --json, checked by a jq filter.
last_history_is() {  # APP JQ_FILTER
  local h; h=$(ct huddlectl history "$1" --json 2>&1)
  printf '%s' "$h" | jq -e "(.[-1]) | $2" >/dev/null 2>&1 || fail "huddlectl history $1 --json: last entry is not ($2): $(printf '%s' "$h" | tail -c 600)"
}
# Journal lines of the app's signature step (priority err), by message.
sig_lines() { ct journalctl --no-pager -o cat -p err -u "huddle@$1" HUDDLE_STEP=signature 2>/dev/null; }

# After a push of COMMIT that must be refused: exit 4, the running release
# untouched, history "rejected" with a detail starting with DETAIL (signature:
# or rewind:), one journal line (priority err, HUDDLE_STEP=signature) naming the
# commit and the ref (REFUSED_REF, main by default: the tag, for verify =
# tag); polled again, the commit is not retried.
refused() {  # APP DETAIL WHAT
  local app=$1 detail=$2 what=$3 ref=${REFUSED_REF:-main} live pid commit rc before n deadline line
  live=$(live_commit "$app"); pid=$(main_pid "$app")
  commit=$(ct git -C "/srv/git/$app.git" rev-parse "$ref^{commit}")
  before=$(sig_lines "$app" | wc -l)
  rc=$(deploy "$app")
  [ "$rc" = 4 ] || fail "$what: huddlectl deploy $app exited $rc, not 4" || return 1
  [ "$(live_commit "$app")" = "$live" ] || fail "$what: the live release changed to $(live_commit "$app")" || return 1
  if [ -n "$live" ]; then
    active "huddle@$app.service" && [ "$(main_pid "$app")" = "$pid" ] || fail "$what: the running app was stopped or restarted" || return 1
  fi
  last_history_is "$app" ".result == \"rejected\" and .commit == \"$commit\" and (.detail | startswith(\"$detail\"))" || { fail "$what: no rejection in the history"; return 1; }
  deadline=$((SECONDS + 10))
  until n=$(sig_lines "$app" | wc -l); [ "$n" -gt "$before" ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
  [ "$n" = $((before + 1)) ] || fail "$what: $((n - before)) journal lines with HUDDLE_STEP=signature at priority err, not 1" || return 1
  line=$(sig_lines "$app" | tail -1)
  printf '%s' "$line" | grep -F "${commit:0:12}" | grep -qF "$ref" || fail "$what: the journal line does not name the commit ${commit:0:12} and the ref $ref: $line" || return 1
  # Marked bad: polled again, not checked again and nothing written.
  local hist; hist=$(ct huddlectl history "$app" --json | jq length)
  rc=$(deploy "$app")
  [ "$rc" = 0 ] || fail "$what: the poll after the refusal exited $rc, not 0" || return 1
  [ "$(ct huddlectl history "$app" --json | jq length)" = "$hist" ] || fail "$what: the refused commit was tried again" || return 1
  [ "$(live_commit "$app")" = "$live" ] || fail "$what: the poll after the refusal switched the release" || return 1
}
# After a good push: deployed.
accepted() {  # APP WHAT
  local rc; rc=$(deploy "$1")
  [ "$rc" = 0 ] || fail "$2: huddlectl deploy $1 exited $rc, not 0" || return 1
  [ "$(live_commit "$1")" = "$(ct git -C "/srv/git/$1.git" rev-parse "${3:-main}^{commit}")" ] || fail "$2: not the live release" || return 1
}

# The signer of APP's live release, everywhere it is shown: status and its
# --json, history and its --json, state.json, the "deployed" journal line.
shows_signer() {  # APP PRINCIPAL FINGERPRINT
  local app=$1 p=$2 f=$3 commit out
  commit=$(live_commit "$app")
  out=$(ct huddlectl status "$app" 2>&1)
  printf '%s\n' "$out" | grep -qxF "  signer:      $p ($f)" || fail "huddlectl status $app has no line '  signer:      $p ($f)': $out" || return 1
  out=$(ct huddlectl status "$app" --json 2>&1)
  printf '%s' "$out" | jq -e --arg p "$p" --arg f "$f" '.[0].signer == {principal: $p, fingerprint: $f}' >/dev/null 2>&1 ||
    fail "huddlectl status $app --json: signer is not {$p, $f}: $out" || return 1
  out=$(ct huddlectl history "$app" 2>&1)
  printf '%s\n' "$out" | grep "${commit:0:12}" | grep deployed | tail -1 | grep -qF "signed by $p ($f)" ||
    fail "huddlectl history $app: the deploy of ${commit:0:12} does not say 'signed by $p ($f)': $out" || return 1
  out=$(ct huddlectl history "$app" --json 2>&1)
  printf '%s' "$out" | jq -e --arg c "$commit" --arg p "$p" --arg f "$f" \
    '[.[] | select(.commit == $c and .result == "deployed")] | last | (.signer == {principal: $p, fingerprint: $f}) and has("time") and has("ref") and has("detail")' >/dev/null 2>&1 ||
    fail "huddlectl history $app --json: the deploy of $commit has no signer {$p, $f}: $out" || return 1
  out=$(state "$app")
  printf '%s' "$out" | jq -e --arg c "$commit" --arg p "$p" --arg f "$f" \
    '(.signer == {principal: $p, fingerprint: $f}) and ([.history[] | select(.commit == $c and .result == "deployed")] | last | .signer == {principal: $p, fingerprint: $f})' >/dev/null 2>&1 ||
    fail "state.json of $app: signer is not {$p, $f}: $out" || return 1
  journal_has "deployed ${commit:0:12}" -u "huddle@$app" HUDDLE_STEP=deployed "HUDDLE_SIGNER=$p" "HUDDLE_SIGNER_KEY=$f" ||
    fail "no 'deployed' journal line with HUDDLE_SIGNER=$p HUDDLE_SIGNER_KEY=$f: $(ct journalctl -u "huddle@$app" HUDDLE_STEP=deployed -o json --no-pager | tail -1)" || return 1
}

setup() {
  ct_boot || return 1
  ct_install_build || return 1
  ct systemctl enable --now huddle-gen.service >/dev/null 2>&1
  keys
}

t_ssh_signed_deployed() {
  keys || return 1
  deployed sshok "$ALICE" "signers = $SIGNERS" || return 1
  shows_signer sshok "$ALICE_ID" "$(ssh_fp alice)" || return 1
  wait_for "sshok's output" 10 journal_has "sshok version 1 commit $(head_of sshok)" -u huddle@sshok || return 1
  commit_push sshok 2 "$ALICE"
  accepted sshok "a second signed commit" || return 1
  shows_signer sshok "$ALICE_ID" "$(ssh_fp alice)" || return 1
  [ "$(ct huddlectl history sshok --json | jq '[.[] | select(.result == "deployed" and .signer.principal == "alice@example.com")] | length')" = 2 ] ||
    fail "history: $(ct huddlectl history sshok)" || return 1
}

t_openpgp_armored_keyring() {
  keys || return 1
  deployed pgpa "$BOT" "keyring = $ASC" || return 1
  shows_signer pgpa "$BOT_ID" "$(pgp_fp bot)" || return 1
  commit_push pgpa 2 "$BOT"
  accepted pgpa "a second signed commit" || return 1
  shows_signer pgpa "$BOT_ID" "$(pgp_fp bot)" || return 1
}

t_openpgp_binary_keyring() {
  keys || return 1
  deployed pgpb "$BOT" "keyring = $GPG" || return 1
  shows_signer pgpb "$BOT_ID" "$(pgp_fp bot)" || return 1
  commit_push pgpb 2 "$BOT"
  accepted pgpb "a second signed commit" || return 1
  shows_signer pgpb "$BOT_ID" "$(pgp_fp bot)" || return 1
}

# Without signers or keyring nothing is checked, and status --json says so.
t_no_signers_no_signer() {
  deployed nosig "" "" || return 1
  local out; out=$(ct huddlectl status nosig --json 2>&1)
  printf '%s' "$out" | jq -e '.[0].signer == {principal: "", fingerprint: ""}' >/dev/null 2>&1 ||
    fail "huddlectl status nosig --json: signer is not empty: $out" || return 1
}

t_unsigned_refused() {
  keys || return 1
  # A first deploy of an unsigned commit: nothing deployed at all.
  new_repo unsfirst ""
  app_config unsfirst "signers = $SIGNERS" | put unsfirst.ini
  wait_units unsfirst || return 1
  refused unsfirst "signature:" "an unsigned first commit" || return 1
  ct test -e /var/lib/huddle/unsfirst/current && { fail "an unsigned first commit left a release live"; return 1; }
  commit_push unsfirst 2 "$ALICE"
  accepted unsfirst "a signed push after an unsigned first commit" || return 1
  # Over a signed release.
  deployed uns "$ALICE" "signers = $SIGNERS" || return 1
  commit_push uns 2 ""
  refused uns "signature:" "an unsigned commit" || return 1
  commit_push uns 3 "$ALICE"
  accepted uns "a signed push after an unsigned one" || return 1
  # An unsigned commit when only a keyring is set.
  deployed unspgp "$BOT" "keyring = $ASC" || return 1
  commit_push unspgp 2 ""
  refused unspgp "signature:" "an unsigned commit (keyring)" || return 1
  commit_push unspgp 3 "$BOT"
  accepted unspgp "a signed push after an unsigned one (keyring)" || return 1
}

t_unknown_key_refused() {
  keys || return 1
  deployed strssh "$ALICE" "signers = $SIGNERS" || return 1
  commit_push strssh 2 "$MALLORY"
  refused strssh "signature:" "an SSH key not in the signers file" || return 1
  commit_push strssh 3 "$ALICE"
  accepted strssh "the next signed push" || return 1
  deployed strpgp "$BOT" "keyring = $GPG" || return 1
  commit_push strpgp 2 "$STRANGER"
  refused strpgp "signature:" "an OpenPGP key not in the keyring" || return 1
  # A signature by a key in the signers file does not pass a keyring-only app.
  commit_push strpgp 3 "$ALICE"
  refused strpgp "signature:" "an SSH signature when only a keyring is set" || return 1
  commit_push strpgp 4 "$BOT"
  accepted strpgp "the next signed push" || return 1
}

t_expired_openpgp_key_refused() {
  keys || return 1
  deployed exppgp "$BOT" "keyring = $ASC" || return 1
  commit_push exppgp 2 "$OLDPGP"
  ct git -C /srv/src/exppgp cat-file commit HEAD | grep -q "BEGIN PGP SIGNATURE" || fail "the commit is not signed (test broken)" || return 1
  refused exppgp "signature:" "a commit signed by an expired OpenPGP key" || return 1
  commit_push exppgp 3 "$BOT"
  accepted exppgp "the next signed push" || return 1
}

t_ssh_valid_before_refused() {
  keys || return 1
  deployed sshold "$ALICE" "signers = $SIGNERS" || return 1
  # The commit claims 2019, before valid-before: the check is at the current time.
  commit_push sshold 2 "$OLDSSH" "export GIT_COMMITTER_DATE=2019-06-01T00:00:00Z GIT_AUTHOR_DATE=2019-06-01T00:00:00Z"
  ct git -C /srv/src/sshold cat-file commit HEAD | grep -q "BEGIN SSH SIGNATURE" || fail "the commit is not signed (test broken)" || return 1
  refused sshold "signature:" "an SSH key past its valid-before" || return 1
  commit_push sshold 3 "$ALICE"
  accepted sshold "the next signed push" || return 1
}

t_changed_after_signing_refused() {
  keys || return 1
  deployed tamper "$ALICE" "signers = $SIGNERS" || return 1
  local v1tree; v1tree=$(ct git -C /srv/src/tamper rev-parse 'HEAD^{tree}')
  # The signed commit's message changed by one byte, then its tree swapped for
  # v1's: same signature, other content. Written as objects, the branch moved
  # to each, force-pushed.
  ct sh -c "cd /srv/src/tamper && echo 2 > version && $G $ALICE commit -S -qam v2"
  ct sh -ec "cd /srv/src/tamper && git cat-file commit HEAD | sed 's/^v2\$/v3/' > /tmp/tampered &&
    ! git cat-file commit HEAD | cmp -s - /tmp/tampered && grep -q 'BEGIN SSH SIGNATURE' /tmp/tampered &&
    c=\$(git hash-object -t commit -w /tmp/tampered) && git update-ref refs/heads/main \$c && git push -q --force origin HEAD:main" ||
    fail "making the changed commit failed (test broken)" || return 1
  refused tamper "signature:" "a signed commit whose message changed" || return 1
  ct sh -ec "cd /srv/src/tamper && git cat-file commit HEAD | sed 's/^tree .*/tree $v1tree/' > /tmp/tampered &&
    ! git cat-file commit HEAD | cmp -s - /tmp/tampered &&
    c=\$(git hash-object -t commit -w --literally /tmp/tampered) && git update-ref refs/heads/main \$c && git push -q --force origin HEAD:main" ||
    fail "making the changed commit failed (test broken)" || return 1
  refused tamper "signature:" "a signed commit whose tree changed" || return 1
  commit_push tamper 4 "$ALICE"
  accepted tamper "the next signed push" || return 1
}

t_verify_tag() {
  keys || return 1
  new_repo tagv ""
  ct sh -c "cd /srv/src/tagv && $G $ALICE tag -s -m one v1 && git push -q origin main v1"
  app_config tagv "signers = $SIGNERS
tag = v*
verify = tag" | put tagv.ini
  wait_units tagv || return 1
  accepted tagv "a signed tag on an unsigned commit" v1 || return 1
  shows_signer tagv "$ALICE_ID" "$(ssh_fp alice)" || return 1
  ct sh -c "cd /srv/src/tagv && echo 2 > version && $G commit -qam v2 && $G tag -a -m two v2 && git push -q origin main v2"
  REFUSED_REF=v2 refused tagv "signature:" "an unsigned annotated tag" || return 1
  # Lightweight, on a commit signed by an allowed key: still no signed tag.
  ct sh -c "cd /srv/src/tagv && echo 3 > version && $G $ALICE commit -S -qam v3 && git tag v3 && git push -q origin main v3"
  REFUSED_REF=v3 refused tagv "signature:" "a lightweight tag" || return 1
  ct sh -c "cd /srv/src/tagv && echo 5 > version && $G commit -qam v5 && $G $MALLORY tag -s -m five v5 && git push -q origin main v5"
  REFUSED_REF=v5 refused tagv "signature:" "a tag signed by a key not in the file" || return 1
  ct sh -c "cd /srv/src/tagv && echo 6 > version && $G commit -qam v6 && $G $ALICE tag -s -m six v6 && git push -q origin main v6"
  accepted tagv "a signed tag" v6 || return 1
  shows_signer tagv "$ALICE_ID" "$(ssh_fp alice)" || return 1
}

t_verify_both() {
  keys || return 1
  new_repo both "$ALICE"
  ct sh -c "cd /srv/src/both && $G $ALICE tag -s -m one v1 && git push -q origin main v1"
  app_config both "signers = $SIGNERS
tag = v*
verify = both" | put both.ini
  wait_units both || return 1
  accepted both "a signed tag on a signed commit" v1 || return 1
  ct sh -c "cd /srv/src/both && echo 2 > version && $G commit -qam v2 && $G $ALICE tag -s -m two v2 && git push -q origin main v2"
  REFUSED_REF=v2 refused both "signature:" "a signed tag on an unsigned commit" || return 1
  ct sh -c "cd /srv/src/both && echo 3 > version && $G $ALICE commit -S -qam v3 && $G tag -a -m three v3 && git push -q origin main v3"
  REFUSED_REF=v3 refused both "signature:" "an unsigned tag on a signed commit" || return 1
  ct sh -c "cd /srv/src/both && echo 4 > version && $G $ALICE commit -S -qam v4 && $G $ALICE tag -s -m four v4 && git push -q origin main v4"
  accepted both "a signed tag on a signed commit" v4 || return 1
}

t_rewind() {
  keys || return 1
  local a b c d
  deployed rw "$ALICE" "signers = $SIGNERS" || return 1
  a=$(head_of rw)
  commit_push rw 2 "$ALICE"; b=$(head_of rw)
  accepted rw "b" || return 1
  commit_push rw 3 "$ALICE"; c=$(head_of rw)
  accepted rw "c" || return 1
  commit_push rw 4 "$ALICE"; d=$(head_of rw)
  accepted rw "d" || return 1
  # Six starts of the app in a few seconds: keep systemd's start rate limit
  # (5 in 10 s) out of the way.
  ct systemctl reset-failed huddle@rw.service
  # huddlectl rollback is the operator's own: allowed with rewind = false.
  local rc; rc=$(ct huddlectl rollback rw >/dev/null 2>&1; echo $?)
  [ "$rc" = 0 ] && [ "$(live_commit rw)" = "$c" ] || fail "huddlectl rollback with rewind = false: exit $rc, live $(live_commit rw), not $c" || return 1
  [ "$(deploy rw)" = 0 ] && [ "$(live_commit rw)" = "$c" ] || fail "the rolled-back commit was redeployed" || return 1
  # Force-pushed back to b, an ancestor of the live c: refused.
  ct sh -c "cd /srv/src/rw && git reset -q --hard $b && git push -q --force origin HEAD:main"
  refused rw "rewind:" "a force-push to an older signed commit, rewind = false" || return 1
  # rewind = true: a force-push to a, older still, is deployed.
  app_config rw "signers = $SIGNERS
rewind = true" | put rw.ini
  sleep 1; wait_units rw || return 1
  ct systemctl reset-failed huddle@rw.service
  ct sh -c "cd /srv/src/rw && git reset -q --hard $a && git push -q --force origin HEAD:main"
  accepted rw "a force-push to an older signed commit, rewind = true" || return 1
  [ "$(live_commit rw)" = "$a" ] || fail "a is not live" || return 1
}

t_unrelated_history_refused() {
  keys || return 1
  deployed orph "$ALICE" "signers = $SIGNERS
rewind = false" || return 1
  local first; first=$(head_of orph)
  ct sh -c "cd /srv/src/orph && git checkout -q --orphan other && echo x > version && $G $ALICE commit -S -qam other && git push -q --force origin HEAD:main"
  refused orph "rewind:" "a force-push to a signed commit of unrelated history" || return 1
  ct sh -c "cd /srv/src/orph && git checkout -q main && git reset -q --hard $first"
  commit_push orph 2 "$ALICE" true --force
  accepted orph "a signed descendant of the live release" || return 1
}

# A pinned commit is the operator's choice: an older one deploys with rewind
# = false; its signature is still checked.
t_pin_is_not_a_rewind() {
  keys || return 1
  local a b
  deployed pin "$ALICE" "signers = $SIGNERS" || return 1
  a=$(head_of pin)
  commit_push pin 2 "$ALICE"; b=$(head_of pin)
  accepted pin "b" || return 1
  app_config pin "signers = $SIGNERS
commit = $a" | put pin.ini
  sleep 1; wait_units pin || return 1
  local rc; rc=$(deploy pin)
  [ "$rc" = 0 ] && [ "$(live_commit pin)" = "$a" ] || fail "a pin to an older signed commit with rewind = false: exit $rc, live $(live_commit pin), not $a" || return 1
  # A pin to an unsigned commit is still refused.
  commit_push pin 3 ""
  local u; u=$(head_of pin)
  app_config pin "signers = $SIGNERS
commit = $u" | put pin.ini
  sleep 1; wait_units pin || return 1
  REFUSED_REF=${u:0:12} refused pin "signature:" "a pin to an unsigned commit" || return 1
}

# A config error for huddlectl validate (exit 1, the message names the key and
# what to do) and for huddle-fetch (exit 1, nothing deployed).
config_refused() {  # APP KEY TEXT
  local out rc
  out=$(ct huddlectl validate "/etc/huddle/$1.ini" 2>&1); rc=$?
  [ "$rc" = 1 ] || fail "huddlectl validate $1: exit $rc, not 1: $out" || return 1
  printf '%s\n' "$out" | grep "/etc/huddle/$1.ini:[0-9]" | grep -F -- "$2" | grep -qF -- "$3" ||
    fail "huddlectl validate $1 does not say '$3' naming $2 at a line of the file: $out" || return 1
}
fetch_exit() {  # APP: huddle-fetch's exit status in its unit
  ct systemctl start "huddle-fetch@$1.service" >/dev/null 2>&1
  prop "huddle-fetch@$1.service" ExecMainStatus
}

t_config_errors() {
  keys || return 1
  local pid live out rc
  # Writable by others: refused, with the fix; the running app keeps running.
  ct sh -c "cp $SIGNERS /etc/huddle/keys/cfgw_signers && chmod 0644 /etc/huddle/keys/cfgw_signers"
  deployed cfgw "$ALICE" "signers = /etc/huddle/keys/cfgw_signers" || return 1
  live=$(live_commit cfgw); pid=$(main_pid cfgw)
  ct chmod 0666 /etc/huddle/keys/cfgw_signers
  commit_push cfgw 2 "$ALICE"
  config_refused cfgw signers "chmod go-w /etc/huddle/keys/cfgw_signers" || return 1
  rc=$(fetch_exit cfgw)
  [ "$rc" = 1 ] || fail "huddle-fetch with a signers file writable by others: exit $rc, not 1" || return 1
  [ "$(live_commit cfgw)" = "$live" ] && [ "$(main_pid cfgw)" = "$pid" ] || fail "the app changed with a signers file writable by others" || return 1
  journal_has "chmod go-w /etc/huddle/keys/cfgw_signers" -u huddle-fetch@cfgw.service || fail "huddle-fetch does not log the fix" || return 1
  # Not root's: refused, with the fix.
  ct sh -c "chmod 0644 /etc/huddle/keys/cfgw_signers && chown nobody /etc/huddle/keys/cfgw_signers"
  config_refused cfgw signers "chown root: /etc/huddle/keys/cfgw_signers" || return 1
  rc=$(fetch_exit cfgw)
  [ "$rc" = 1 ] && [ "$(live_commit cfgw)" = "$live" ] || fail "huddle-fetch with a signers file not root's: exit $rc, not 1" || return 1
  ct chown root: /etc/huddle/keys/cfgw_signers
  accepted cfgw "the push, once the file is fixed" || return 1
  # A signers file that is not there: refused before any unit is made.
  app_config cfgm "signers = /etc/huddle/keys/missing" | put cfgm.ini
  config_refused cfgm signers "cannot open: No such file" || return 1
  app_config cfgk "keyring = /etc/huddle/keys/missing.asc" | put cfgk.ini
  config_refused cfgk keyring "cannot open: No such file" || return 1
  # verify = tag without a tag to verify; verify = commit with no signers or keyring.
  app_config cfgt "signers = $SIGNERS
verify = tag" | put cfgt.ini
  config_refused cfgt verify "tag" || return 1
  app_config cfgn "verify = commit" | put cfgn.ini
  config_refused cfgn verify "signers" || return 1
  for a in cfgm cfgk cfgt cfgn; do new_repo "$a" "$ALICE"; done
  sleep 1
  for a in cfgm cfgk cfgt cfgn; do
    ct test -e "/var/lib/huddle/$a/current" && { fail "$a was deployed with a config error"; return 1; }
    out=$(ct huddlectl deploy "$a" 2>&1); rc=$?
    [ "$rc" = 1 ] || fail "huddlectl deploy $a: exit $rc, not 1: $out" || return 1
    ct sh -c "huddle-fetch --log console $a >/dev/null 2>&1"; rc=$?
    [ "$rc" = 1 ] || fail "huddle-fetch $a: exit $rc, not 1" || return 1
    ct test -e "/var/lib/huddle/$a/current" && { fail "$a was deployed with a config error"; return 1; }
  done
  return 0
}

# Counts the runs of ssh-keygen (as the journal sees them, from a wrapper in
# its place) while COMMAND runs.
with_counted_ssh_keygen() {
  ct sh -ec 'test -e /usr/bin/ssh-keygen.real || mv /usr/bin/ssh-keygen /usr/bin/ssh-keygen.real
    printf "#!/bin/sh\nlogger -t huddle-test-ssh-keygen -- \"\$*\" 2>/dev/null\nexec /usr/bin/ssh-keygen.real \"\$@\"\n" > /usr/bin/ssh-keygen
    chmod 0755 /usr/bin/ssh-keygen'
}
without_counted_ssh_keygen() { ct sh -c 'test -e /usr/bin/ssh-keygen.real && mv /usr/bin/ssh-keygen.real /usr/bin/ssh-keygen'; }
ssh_keygen_runs() { ct journalctl --no-pager -o cat -t huddle-test-ssh-keygen 2>/dev/null | wc -l; }

t_no_change_poll_writes_nothing() {
  # Every path under the app's directory with its mtime and size, and the
  # link: a no-change poll must leave all of it as it was, and check no signature.
  snapshot() { ct sh -c 'find /var/lib/huddle/quiet -printf "%p %T@ %s\n" | sort; readlink /var/lib/huddle/quiet/current'; }
  keys || return 1
  deployed quiet "$ALICE" "signers = $SIGNERS" || return 1
  with_counted_ssh_keygen || return 1
  local before after rc rc2 runs0 runs1 runs2
  runs0=$(ssh_keygen_runs)
  commit_push quiet 2 "$ALICE"
  rc=$(deploy quiet)
  sleep 1
  runs1=$(ssh_keygen_runs)
  before=$(snapshot)
  sleep 1
  rc2=$(deploy quiet)
  after=$(snapshot)
  sleep 1
  runs2=$(ssh_keygen_runs)
  without_counted_ssh_keygen
  [ "$rc" = 0 ] && [ "$(live_commit quiet)" = "$(head_of quiet)" ] || fail "the signed push was not deployed (exit $rc)" || return 1
  [ "$runs1" -gt "$runs0" ] || fail "the deploy ran no ssh-keygen that the wrapper saw (test broken)" || return 1
  [ "$rc2" = 0 ] || fail "no-change poll exited $rc2" || return 1
  [ "$before" = "$after" ] || fail "a no-change poll changed files: $(diff <(echo "$before") <(echo "$after") | head -5)" || return 1
  [ "$(echo "$before" | wc -l)" -gt 5 ] || fail "snapshot is empty (test broken)" || return 1
  [ "$runs2" = "$runs1" ] || fail "a no-change poll ran ssh-keygen $((runs2 - runs1)) times" || return 1
}

suite_needs_root
setup || suite_setup_failed
run_test "a commit signed by an allowed SSH key is deployed; its signer in status, history, state.json and the journal" t_ssh_signed_deployed
run_test "a commit signed by an OpenPGP key in an armored keyring is deployed; its signer shown" t_openpgp_armored_keyring
run_test "a commit signed by an OpenPGP key in a binary keyring is deployed; its signer shown" t_openpgp_binary_keyring
run_test "without signers or keyring an unsigned commit deploys; status --json shows an empty signer" t_no_signers_no_signer
run_test "an unsigned commit is refused (exit 4), the old release runs, the next signed push deploys" t_unsigned_refused
run_test "a commit signed by a key in no signers file or keyring is refused" t_unknown_key_refused
run_test "a commit signed by an expired OpenPGP key is refused" t_expired_openpgp_key_refused
run_test "a commit signed by an SSH key past its valid-before is refused, whatever date it claims" t_ssh_valid_before_refused
run_test "a signed commit changed after signing (message, tree) is refused" t_changed_after_signing_refused
run_test "verify = tag: unsigned annotated and lightweight tags refused, a signed tag deployed" t_verify_tag
run_test "verify = both: a signed tag on an unsigned commit is refused" t_verify_both
run_test "rewind = false refuses a force-push to an older commit, rollback by hand allowed; rewind = true deploys it" t_rewind
run_test "rewind = false refuses a force-push to unrelated history" t_unrelated_history_refused
run_test "a pin to an older commit is no rewind; a pin to an unsigned commit is refused" t_pin_is_not_a_rewind
run_test "config errors: signers writable by others or not root's, missing files, verify without tag or keys" t_config_errors
run_test "a no-change poll with signers set writes nothing and checks no signature" t_no_change_poll_writes_nothing
suite_end
