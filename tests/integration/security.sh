#!/usr/bin/env bash
# Attacks on huddle's trust boundary (issue 14), each against a real systemd
# in a container, with real remotes: what a hostile server, a hostile tree
# or an unprivileged local user tries, and what must not happen. Usage:
# security.sh BUILD_DIR; ONLY=REGEX runs some. Ends with "N passed, N failed".
set -uo pipefail
BUILD=$(cd "$1" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"

trap 'ct_cleanup' EXIT
trap 'exit 130' INT TERM
G="git -c user.email=t@example.com -c user.name=test"

# An app's source repository (work tree) and its bare remote, inside the container.
new_repo() {  # NAME
  ct sh -c "rm -rf /srv/src/$1 /srv/git/$1.git && mkdir -p /srv/src/$1 /srv/git && cd /srv/src/$1 && git init -q -b main . &&
    echo 1 > version && printf '#!/bin/sh\necho \"$1 version \$(cat version) commit \$HUDDLE_COMMIT\"\nexec sleep infinity\n' > run && chmod +x run &&
    $G add -A && $G commit -qm v1 && git clone -q --bare . /srv/git/$1.git && git remote add origin /srv/git/$1.git"
}
commit_push() {  # NAME VERSION
  ct sh -c "cd /srv/src/$1 && echo $2 > version && $G commit -qam v$2 && git push -q -f origin HEAD:main"
}
head_of() { ct git -C "/srv/src/$1" rev-parse HEAD; }
live_commit() { basename "$(ct readlink "/var/lib/huddle/$1/current")"; }
deploy() { ct huddlectl deploy "$1" >/dev/null 2>&1; echo $?; }
app_config() {  # NAME URL [extra lines for [repository]]
  printf '[repository]\nremote path = %s\n%s\n[timing]\nminimum = 1h\n[application]\nstart = ./run\n[deploy]\nsettle = 1s\n' "$2" "${3:-}"
}
# A loaded machine's first huddle-gen run in a fresh container can take long.
wait_units() { wait_for "$1's units" 120 loaded "huddle-fetch@$1.service"; }
www_setup() { ct sh -c 'mkdir -p /srv/www && cat > /srv/www/git-http.py' < "$HERE/git-http.py"; }
# A private CA the container trusts, and a server certificate for localhost
# and huddle-other.test (127.0.0.2, another host as far as names go).
pki_setup() {
  ct sh -c 'grep -q huddle-other.test /etc/hosts || echo "127.0.0.2 huddle-other.test" >> /etc/hosts
    mkdir -p /srv/pki-sec && cd /srv/pki-sec && rm -f * &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj "/CN=huddle security test CA" -days 2 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null &&
    printf "subjectAltName=DNS:localhost,DNS:huddle-other.test\n" > ext &&
    openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null &&
    cp ca.crt /usr/local/share/ca-certificates/huddle-security-test-ca.crt && update-ca-certificates >/dev/null 2>&1'
}
credential() {  # NAME CONTENT
  ct sh -c "mkdir -p -m 0700 /etc/huddle/credentials && umask 077 && printf '%s\n' '$2' > /etc/huddle/credentials/$1"
}

setup() {
  ct_boot || return 1
  ct_install_build || return 1
  ct systemctl enable --now huddle-gen.service >/dev/null 2>&1
}

# Finding 5. An sshd that offers only password authentication, whose PAM
# stack records every password it is given: neither the ssh key nor a token
# reaches it.
t_ssh_password_only_server_gets_no_key() {
  new_repo sshpw
  ct sh -c 'mkdir -p /srv/sshpw /run/sshd && cd /srv/sshpw && rm -f host_key* passwords &&
    ssh-keygen -q -t ecdsa -b 256 -m PEM -N "" -f host_key &&
    rm -f /etc/huddle/credentials/sshpw-key* && mkdir -p -m 0700 /etc/huddle/credentials &&
    ssh-keygen -q -t ecdsa -b 256 -m PEM -N "" -f /etc/huddle/credentials/sshpw-key &&
    echo "[127.0.0.1]:2223 $(cut -d" " -f1,2 host_key.pub)" > /etc/huddle/known_hosts_sshpw &&
    printf "#!/bin/sh\n{ cat; echo; } >> /srv/sshpw/passwords\n" > record && chmod 0755 record && touch passwords &&
    grep -q /srv/sshpw/record /etc/pam.d/sshd || sed -i "1i auth optional pam_exec.so quiet expose_authtok /srv/sshpw/record" /etc/pam.d/sshd'
  ct systemd-run -q --unit=test-sshd-password /usr/sbin/sshd -D -p 2223 -o ListenAddress=127.0.0.1 -h /srv/sshpw/host_key \
    -o UsePAM=yes -o PasswordAuthentication=yes -o KbdInteractiveAuthentication=no -o PubkeyAuthentication=no \
    -o AuthenticationMethods=password -o StrictModes=no
  wait_for "password-only sshd" 10 ct sh -c 'ssh -v -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -p 2223 huddle@127.0.0.1 true 2>&1 |
    tr -d "\r" | grep -qx "debug1: Authentications that can continue: password"' || fail "the server does not offer exactly password authentication (test broken)" || return 1
  # The user in the URL is the one libgit2 asks the server about; the
  # password attempt is made for that user, so that sshd takes it.
  app_config sshpw ssh://huddle@127.0.0.1:2223/srv/git/sshpw.git 'credential = sshpw-key
known hosts = /etc/huddle/known_hosts_sshpw' | put sshpw.ini
  wait_units sshpw || return 1
  local rc key; rc=$(deploy sshpw)
  key=$(ct sed -n 2p /etc/huddle/credentials/sshpw-key)
  [ -n "$key" ] || fail "cannot read the key (test broken)" || return 1
  ct grep -qF -- "$key" /srv/sshpw/passwords && { fail "the ssh server received the private key as a password"; return 1; }
  [ "$rc" = 3 ] || fail "a password-only ssh server: exit $rc, not 3" || return 1
  journal_has "does not accept public key authentication; huddle offers the key in /etc/huddle/credentials/sshpw-key only as a key" -u huddle@sshpw ||
    fail "the journal does not say why the key was not offered" || return 1
  # A token named for an ssh remote is not sent to it either.
  credential sshpw-token deploy:t0ken-for-https-only-77
  app_config sshpw ssh://huddle@127.0.0.1:2223/srv/git/sshpw.git 'credential = sshpw-token
known hosts = /etc/huddle/known_hosts_sshpw' | put sshpw.ini
  sleep 1; wait_units sshpw || return 1
  rc=$(deploy sshpw)
  ct grep -qF t0ken-for-https-only-77 /srv/sshpw/passwords && { fail "the ssh server received the token as a password"; return 1; }
  [ "$rc" = 3 ] || fail "a token for an ssh remote: exit $rc, not 3" || return 1
  ct test -e /var/lib/huddle/sshpw/current && { fail "something was deployed"; return 1; }
  return 0
}

# Finding 6. An HTTPS remote that redirects (an open redirect on the forge)
# to another host, which records the Authorization header of every request
# and would serve the repository to whoever sends the token.
t_https_redirect_gets_no_token() {
  www_setup
  pki_setup || fail "cannot make the test's certificates" || return 1
  new_repo rd
  ct sh -c 'umask 077 && echo deploy:rd-t0ken-0815 > /srv/www/auth-rd && rm -f /srv/www/received-rd'
  credential rd-token deploy:rd-t0ken-0815
  ct systemd-run -q --unit=test-git-other python3 /srv/www/git-http.py --bind 127.0.0.2 --port 8447 \
    --tls /srv/pki-sec/srv.crt /srv/pki-sec/srv.key --auth-file /srv/www/auth-rd --record /srv/www/received-rd
  ct systemd-run -q --unit=test-git-redirect python3 /srv/www/git-http.py --port 8446 \
    --tls /srv/pki-sec/srv.crt /srv/pki-sec/srv.key --redirect https://huddle-other.test:8447
  wait_for "the other host" 10 ct sh -c 'curl -s -o /dev/null -u probe:probe https://huddle-other.test:8447/ && grep -q "^Basic cHJvYmU6cHJvYmU=$" /srv/www/received-rd' ||
    fail "the other host does not record what it is sent (test broken)" || return 1
  wait_for "the redirecting server" 10 ct sh -c 'curl -s -o /dev/null -w "%{http_code}" https://localhost:8446/ | grep -q 302' || return 1
  app_config rd https://localhost:8446/cgi-bin/git/rd.git 'credential = rd-token' | put rd.ini
  wait_units rd || return 1
  local rc b64; rc=$(deploy rd)
  b64=$(printf %s deploy:rd-t0ken-0815 | base64)
  ct grep -qF -- "$b64" /srv/www/received-rd && { fail "the token was sent to the host redirected to"; return 1; }
  [ "$rc" = 3 ] || fail "a redirect to another host: exit $rc, not 3" || return 1
  journal_has "huddle follows no redirect to another host" -u huddle@rd || fail "the journal does not say the redirect was refused" || return 1
  ct test -e /var/lib/huddle/rd/current && { fail "something was deployed through the redirect"; return 1; }
  # credential with an http:// remote: a config error, naming the key.
  local out
  out=$(app_config rdplain http://127.0.0.1:8080/cgi-bin/git/rd.git 'credential = rd-token' | ct sh -c 'mkdir -p -m 0755 /srv/cfg && cat > /srv/cfg/rdplain.ini && huddlectl validate /srv/cfg/rdplain.ini' 2>&1)
  rc=$?
  [ "$rc" != 0 ] || fail "huddlectl validate accepted credential with an http:// remote" || return 1
  printf '%s\n' "$out" | grep -q "credential.*is not sent over an http:// remote path" || fail "validate says: $out" || return 1
}

# Finding 7. Commits whose trees hold entry names git itself would never
# write ("../x", "a/b", ".git"), made with git hash-object --literally in the
# bare remote: each is rejected before anything is created (exit 4, the
# running release untouched, the commit marked bad), nothing appears outside
# the release, and the next good push deploys.
t_hostile_tree_names_are_refused() {
  new_repo tr
  # No build steps: the release is its commit's exact tree, so the next one
  # is made by linking what the two share (the walk that once took "..").
  # ../../huddle-escaped-dir is the app's state directory, which the fetch
  # unit may write.
  app_config tr file:///srv/git/tr.git | put tr.ini
  wait_units tr || return 1
  [ "$(deploy tr)" = 0 ] || fail "first deploy failed" || return 1
  ct sh -c 'cat > /srv/craft.py' <<'PY'
# craft.py REPO MODE NAME: a commit on top of main whose tree is main's plus
# one entry MODE NAME (a blob, or for 40000 a tree holding a blob), written
# as raw bytes so that no git command checks the name; main moves to it.
import subprocess, sys
repo, mode, name = sys.argv[1], sys.argv[2], sys.argv[3].encode()
git = lambda *a, inp=None: subprocess.run(["git", "-C", repo, *a], input=inp, capture_output=True, check=True).stdout
def raw_tree(entries):
    body = b"".join(m + b" " + n + b"\0" + bytes.fromhex(o.decode()) for m, n, o in sorted(entries, key=lambda e: e[1]))
    return git("hash-object", "-w", "--literally", "-t", "tree", "--stdin", inp=body).strip()
blob = git("hash-object", "-w", "--stdin", inp=b"planted\n").strip()
entries = []
for line in git("ls-tree", "-z", "main").split(b"\0"):
    if line:
        meta, n = line.split(b"\t", 1)
        m, _, o = meta.split(b" ")
        entries.append((m, n, o))
obj = raw_tree([(b"100644", b"planted", blob)]) if mode == "40000" else blob
entries.append((mode.encode(), name, obj))
tree = raw_tree(entries)
# The commit is written raw too: newer git's commit-tree parses the tree and
# refuses such names, which is the point of crafting them.
parent = git("rev-parse", "main").strip()
who = b"Mallory <m@example.invalid> 1700000000 +0000"
body = b"tree " + tree + b"\nparent " + parent + b"\nauthor " + who + b"\ncommitter " + who + b"\n\nhostile " + name + b"\n"
commit = git("hash-object", "-w", "--literally", "-t", "commit", "--stdin", inp=body).strip().decode()
git("update-ref", "refs/heads/main", commit)
print(commit)
PY
  outside() { ct sh -c 'find /var/lib/huddle /srv/src -path "*/releases" -prune -o -path "*/repo" -prune -o -print | sort; find / -xdev -name "huddle-escaped*" 2>/dev/null'; }
  local good pid before rc c entry
  good=$(live_commit tr); pid=$(prop huddle@tr.service MainPID)
  before=$(outside)
  for entry in "40000 ../../huddle-escaped-dir" "100644 ../huddle-escaped-x" "100644 a/b" "40000 .git" "40000 .GIT"; do
    c=$(ct python3 /srv/craft.py /srv/git/tr.git $entry) || fail "cannot craft a commit with $entry (test broken)" || return 1
    rc=$(deploy tr)
    [ "$rc" = 4 ] || fail "a tree entry '${entry#* }': exit $rc, not 4" || return 1
    [ "$(live_commit tr)" = "$good" ] && [ "$(prop huddle@tr.service MainPID)" = "$pid" ] || fail "the running release changed for '${entry#* }'" || return 1
    [ "$(outside)" = "$before" ] || fail "'${entry#* }' created files outside the release: $(diff <(echo "$before") <(outside) | head -5)" || return 1
    [ "$(ct ls /var/lib/huddle/tr/releases)" = "$good" ] || fail "'${entry#* }' left $(ct ls /var/lib/huddle/tr/releases | tr '\n' ' ') in releases/" || return 1
    ct grep -q "\"$c\"" /var/lib/huddle/tr/state.json || fail "$c is not marked bad" || return 1
    journal_has "which a release may not" -u huddle@tr || fail "the journal does not say why '${entry#* }' was refused" || return 1
  done
  commit_push tr 2
  rc=$(deploy tr)
  [ "$rc" = 0 ] && [ "$(live_commit tr)" = "$(head_of tr)" ] || fail "the good push after them: exit $rc" || return 1
}

# Finding 9. A server that advertises a tag whose name holds ESC sequences
# and a line break (git-http.py --advertise; git itself never sends such a
# name), pointing at a commit huddle already has: it is not a valid ref
# name, so it is ignored (the journal says so, escaped) and never stored;
# and what huddlectl prints of refs and details is escaped, even from a
# state file that holds such bytes.
t_hostile_ref_names_are_escaped() {
  www_setup
  new_repo esc
  ct sh -c "cd /srv/src/esc && git tag v1 && git push -q origin v1"
  commit_push esc 2
  ct sh -c "cd /srv/src/esc && git tag v2 && git push -q origin v2 && : > /srv/www/advertise-esc"
  ct systemd-run -q --unit=test-git-advertise python3 /srv/www/git-http.py --port 8448 --advertise /srv/www/advertise-esc
  wait_for "http backend" 10 ct git ls-remote http://127.0.0.1:8448/cgi-bin/git/esc.git || return 1
  app_config esc http://127.0.0.1:8448/cgi-bin/git/esc.git 'tag = v*' | put esc.ini
  wait_units esc || return 1
  local rc; rc=$(deploy esc)
  [ "$rc" = 0 ] && [ "$(live_commit esc)" = "$(head_of esc)" ] || fail "first deploy (v2): exit $rc" || return 1
  ct sh -c "printf '%s refs/tags/v9\033[31mRED\033[0m\\\\nFAKE-LINE\n' \$(git -C /srv/src/esc rev-parse v1) > /srv/www/advertise-esc"
  ct curl -s 'http://127.0.0.1:8448/cgi-bin/git/esc.git/info/refs?service=git-upload-pack' | grep -aq 'refs/tags/v9' || fail "the server does not advertise the hostile tag (test broken)" || return 1
  rc=$(deploy esc)
  ct python3 -c 'import json, sys
s = json.load(open("/var/lib/huddle/esc/state.json"))
refs = [s["ref"]] + [h["ref"] for h in s["history"]]
bad = [r for r in refs if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in r)]
sys.exit("stored: %r" % bad if bad else 0)' || fail "a ref with control bytes is in state.json" || return 1
  [ "$rc" = 0 ] || fail "a poll beside a hostile tag: exit $rc" || return 1
  [ "$(live_commit esc)" = "$(head_of esc)" ] || fail "the hostile tag was deployed" || return 1
  journal_has "ignoring the remote's ref 'refs/tags/v9\\x1b[31mRED\\x1b[0m\\x0aFAKE-LINE': not a valid git ref name" -u huddle@esc ||
    fail "the journal does not say (escaped) that the tag was ignored" || return 1
  local out
  out=$(ct huddlectl status esc; ct huddlectl history esc)
  printf '%s' "$out" | grep -q $'\e' && { fail "huddlectl printed an ESC byte"; return 1; }
  printf '%s\n' "$out" | grep -q '^FAKE-LINE' && { fail "huddlectl printed the tag's line break"; return 1; }
  # A state file holding such a ref (as an older huddle stored it): printed escaped.
  ct python3 -c 'import json
p = "/var/lib/huddle/esc/state.json"
s = json.load(open(p))
s["ref"] = "refs/tags/v9\x1b[2J\nFAKE-LINE"
s["history"].append(dict(s["history"][-1], ref=s["ref"], detail="remote said \x1b]0;owned\x07"))
json.dump(s, open(p, "w"))'
  out=$(ct huddlectl status esc; ct huddlectl history esc)
  printf '%s' "$out" | grep -q $'[\e\a]' && { fail "huddlectl printed control bytes from state.json: $(printf '%s' "$out" | od -c | head -5)"; return 1; }
  printf '%s\n' "$out" | grep -q '^FAKE-LINE' && { fail "huddlectl printed a line break from state.json"; return 1; }
  printf '%s\n' "$out" | grep -qF 'refs/tags/v9\x1b[2J\x0aFAKE-LINE' || fail "the ref is not shown escaped: $out" || return 1
  printf '%s\n' "$out" | grep -qF 'remote said \x1b]0;owned\x07' || fail "the detail is not shown escaped: $out" || return 1
}

# Finding 1, the atomic writes. Symlinks planted at the temporaries' names
# (release.env.tmp-huddle, state.json.tmp-huddle) pointing at root-owned
# files outside the release: root does not write through them, and the
# files it means to write are regular files afterwards. Once by huddle-fetch
# as root without the unit's sandbox (the victims in /etc), once through the
# unit (the victims in the app's state directory, which the unit may write).
t_planted_temporaries_are_not_followed() {
  new_repo wf
  app_config wf file:///srv/git/wf.git | put wf.ini
  wait_units wf || return 1
  [ "$(deploy wf)" = 0 ] || fail "first deploy failed" || return 1
  local d=/var/lib/huddle/wf round victim rc
  for round in direct unit; do
    victim=/etc/huddle-victim; [ "$round" = unit ] && victim=$d/victim
    ct sh -c "echo precious > $victim-env && echo precious > $victim-state && chmod 0644 $victim-env $victim-state &&
      rm -f $d/release.env.tmp-huddle $d/state.json.tmp-huddle &&
      ln -s $victim-env $d/release.env.tmp-huddle && ln -s $victim-state $d/state.json.tmp-huddle"
    commit_push wf "$round"
    if [ "$round" = direct ]; then
      rc=$(ct huddle-fetch --log console wf >/dev/null 2>&1; echo $?)
    else
      rc=$(deploy wf)
    fi
    [ "$(ct cat $victim-env)" = precious ] || fail "$round: root wrote through release.env.tmp-huddle into $victim-env" || return 1
    [ "$(ct cat $victim-state)" = precious ] || fail "$round: root wrote through state.json.tmp-huddle into $victim-state" || return 1
    [ "$rc" = 0 ] && [ "$(live_commit wf)" = "$(head_of wf)" ] || fail "$round: the deploy beside planted links: exit $rc" || return 1
    ct sh -c "test -f $d/release.env && ! test -L $d/release.env && test -f $d/state.json && ! test -L $d/state.json" ||
      fail "$round: release.env or state.json is not a regular file" || return 1
    ct grep -q "HUDDLE_COMMIT=$(head_of wf)" $d/release.env || fail "$round: release.env does not name the new commit" || return 1
  done
}

# Finding 4. An unprivileged user (nobody) holds every abstract socket name
# the old deploy slots used and tries to open, create and lock the new slot
# files: it can do none of it, and a push deploys at once.
t_nobody_cannot_hold_deploy_slots() {
  new_repo sl
  app_config sl file:///srv/git/sl.git | put sl.ini
  wait_units sl || return 1
  [ "$(deploy sl)" = 0 ] || fail "first deploy failed" || return 1
  ct sh -c 'cat > /srv/slot-thief.py' <<'PY'
import errno, fcntl, os, socket, time
held = []
for i in range(64):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0huddle/deploy-slot/%d" % i)
    held.append(s)
got = []
for i in list(range(64)) + ["new"]:
    p = "/run/huddle/slots/%s" % i
    for flags in (os.O_RDONLY, os.O_RDWR, os.O_RDWR | os.O_CREAT):
        try:
            fd = os.open(p, flags, 0o600)
        except OSError as e:
            continue
        got.append(p)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held.append(fd)
        except OSError:
            pass
print("pid %d" % os.getpid())
print("held %d abstract names; opened %d slot files" % (64, len(got)), flush=True)
time.sleep(90)
PY
  ct rm -f /run/slot-thief.out
  ct sh -c 'runuser -u nobody -- python3 /srv/slot-thief.py > /run/slot-thief.out 2>&1' &
  local thief=$!
  wait_for "nobody holds the old names" 20 ct grep -q "^held 64" /run/slot-thief.out || { ct kill "$(ct sed -n 's/^pid //p' /run/slot-thief.out)"; fail "the thief did not start: $(ct cat /run/slot-thief.out)"; return 1; }
  ct grep -q "opened 0 slot files" /run/slot-thief.out || { ct kill "$(ct sed -n 's/^pid //p' /run/slot-thief.out)"; fail "nobody opened slot files: $(ct cat /run/slot-thief.out)"; return 1; }
  commit_push sl 2
  local since; since=$(ct date +%s)
  ct systemctl start --no-block huddle-fetch@sl.service
  sleep 1
  if ! wait_for "the deploy" 60 settled huddle-fetch@sl.service; then
    ct systemctl stop huddle-fetch@sl.service
    ct kill "$(ct sed -n 's/^pid //p' /run/slot-thief.out)"; wait $thief 2>/dev/null
    fail "the deploy still waits for a slot after 60s"; return 1
  fi
  ct kill "$(ct sed -n 's/^pid //p' /run/slot-thief.out)"; wait $thief 2>/dev/null
  [ "$(live_commit sl)" = "$(head_of sl)" ] || fail "not deployed while nobody held the old names" || return 1
  journal_has "for a deploy slot" -u huddle@sl --since "@$since" && { fail "the deploy waited for a slot"; return 1; }
  [ "$(ct stat -c '%U %a' /run/huddle/slots)" = "root 700" ] || fail "/run/huddle/slots is $(ct stat -c '%U %a' /run/huddle/slots), not root 700" || return 1
  [ -z "$(ct find /run/huddle/slots -mindepth 1 \( ! -user root -o -perm /077 -o ! -type f \))" ] || fail "a slot file is not root's 0600: $(ct ls -la /run/huddle/slots)" || return 1
}

# Finding 8. What a remote costs is bounded: the fetch unit has the memory
# and task limits of [limits]; a push whose pack is beyond `fetch` is stopped
# while it downloads, a tree beyond `release` is refused before a file is
# written; both exit 4, the running release untouched, the commit marked bad
# (not downloaded again); the next small push deploys. Each hostile commit
# sits on v1, so the good one after it need not carry its objects.
t_limits_bound_what_a_remote_costs() {
  new_repo big
  app_config big file:///srv/git/big.git | put big.ini
  printf '[limits]\nmemory = 768M\ntasks = 200\nfetch = 1M\nrelease = 2M\n' | ct sh -c 'cat >> /etc/huddle/big.ini'
  ct systemctl start huddle-gen.service
  memory_max_is() { [ "$(prop huddle-fetch@big.service MemoryMax)" = "$1" ]; }
  wait_for "MemoryMax=768M on huddle-fetch@big.service" 30 memory_max_is 805306368 || return 1
  [ "$(ct systemctl show -P TasksMax huddle-fetch@big.service)" = 200 ] || fail "TasksMax is $(ct systemctl show -P TasksMax huddle-fetch@big.service), not 200" || return 1
  [ "$(deploy big)" = 0 ] || fail "first deploy failed" || return 1
  local good pid v1 rc c what
  good=$(live_commit big); pid=$(prop huddle@big.service MainPID); v1=$(head_of big)
  for what in "fetch:head -c 3145728 /dev/urandom" "release:head -c 3145728 /dev/zero"; do
    ct sh -c "cd /srv/src/big && git reset -q --hard $v1 && ${what#*:} > blob && $G add blob && $G commit -qm '${what%%:*}' && git push -q -f origin HEAD:main" || fail "cannot push (test broken)" || return 1
    c=$(head_of big)
    rc=$(deploy big)
    [ "$rc" = 4 ] || fail "a push beyond the ${what%%:*} limit: exit $rc, not 4" || return 1
    [ "$(live_commit big)" = "$good" ] && [ "$(prop huddle@big.service MainPID)" = "$pid" ] || fail "the running release changed (${what%%:*})" || return 1
    [ "$(ct ls /var/lib/huddle/big/releases)" = "$good" ] || fail "${what%%:*}: releases/ holds $(ct ls /var/lib/huddle/big/releases | tr '\n' ' ')" || return 1
    ct grep -q "\"$c\"" /var/lib/huddle/big/state.json || fail "$c is not marked bad" || return 1
    journal_has "limits ${what%%:*}" -u huddle@big || fail "no journal line names 'limits ${what%%:*}'" || return 1
    [ "$(deploy big)" = 0 ] || fail "the poll after the ${what%%:*} refusal failed" || return 1
    # What the stopped fetch received is not kept (3 MB of noise was sent).
    local kb; kb=$(ct du -sk /var/lib/huddle/big/repo | cut -f1)
    [ "$kb" -lt 1024 ] || fail "${what%%:*}: the repository holds ${kb} KB after the refusal" || return 1
  done
  ct sh -c "cd /srv/src/big && git reset -q --hard $v1 && echo 2 > version && $G commit -qam v2 && git push -q -f origin HEAD:main"
  [ "$(deploy big)" = 0 ] && [ "$(live_commit big)" = "$(head_of big)" ] || fail "the next small push was not deployed" || return 1
}

# Finding 2. Each app runs as a user of its own (huddle-APP, made by
# huddle-gen): one app's user cannot read another's environment (its
# secrets), data, release, repository or state; nobody cannot list an app's
# state directory or data; an app's HUDDLE_DATA left by the shared `huddle`
# user of earlier versions moves over to the app's own user, kept.
t_apps_are_isolated_from_each_other() {
  local a pid2 uid
  ct sh -c 'mkdir -p /var/lib/huddle/iso2/data && echo kept > /var/lib/huddle/iso2/data/old && chown -R huddle:huddle /var/lib/huddle/iso2/data'
  for a in iso1 iso2; do
    new_repo $a
    app_config $a file:///srv/git/$a.git | sed "s/^start = .*/&\nenvironment = TOKEN=secret-of-$a/" | put $a.ini
  done
  for a in iso1 iso2; do
    wait_units $a || return 1
    [ "$(deploy $a)" = 0 ] || fail "first deploy of $a failed" || return 1
    [ "$(prop huddle@$a.service User)" = "huddle-$a" ] || fail "huddle@$a.service runs as '$(prop huddle@$a.service User)', not huddle-$a" || return 1
    uid=$(ct id -u huddle-$a) || fail "no user huddle-$a" || return 1
    [ "$(ct stat -c %u /proc/$(prop huddle@$a.service MainPID))" = "$uid" ] || fail "$a's process is not huddle-$a's" || return 1
  done
  pid2=$(prop huddle@iso2.service MainPID)
  ct grep -qz secret-of-iso2 /proc/$pid2/environ || fail "iso2's environment holds no TOKEN (test broken)" || return 1
  as() { ct runuser -u "$1" -- sh -c "$2" >/dev/null 2>&1; }
  as huddle-iso1 "cat /proc/$pid2/environ" && { fail "huddle-iso1 reads iso2's environment"; return 1; }
  as huddle-iso1 "ls /var/lib/huddle/iso2/data" && { fail "huddle-iso1 lists iso2's data"; return 1; }
  as huddle-iso1 "cat /var/lib/huddle/iso2/current/version" && { fail "huddle-iso1 reads iso2's release"; return 1; }
  as huddle-iso1 "ls /var/lib/huddle/iso2/releases" && { fail "huddle-iso1 lists iso2's releases"; return 1; }
  as huddle-iso1 "cat /var/lib/huddle/iso2/repo/HEAD" && { fail "huddle-iso1 reads iso2's repository"; return 1; }
  as huddle-iso1 "cat /var/lib/huddle/iso2/state.json" && { fail "huddle-iso1 reads iso2's state.json"; return 1; }
  as huddle-iso1 "cat /var/lib/huddle/iso2/release.env" && { fail "huddle-iso1 reads iso2's release.env"; return 1; }
  as nobody "ls /var/lib/huddle/iso1" && { fail "nobody lists iso1's state directory"; return 1; }
  as nobody "ls /var/lib/huddle/iso1/data" && { fail "nobody lists iso1's HUDDLE_DATA"; return 1; }
  # What each app needs of its own is still there for it.
  as huddle-iso1 "cat /var/lib/huddle/iso1/current/version && touch /var/lib/huddle/iso1/data/mine" || fail "huddle-iso1 cannot read its release or write its data" || return 1
  [ "$(ct cat /var/lib/huddle/iso2/data/old)" = kept ] || fail "iso2's HUDDLE_DATA from the huddle user was lost" || return 1
  [ "$(ct stat -c %U /var/lib/huddle/iso2/data/old)" = huddle-iso2 ] || fail "iso2's old data is $(ct stat -c %U /var/lib/huddle/iso2/data/old)'s, not huddle-iso2's" || return 1
  as huddle-iso2 "cat /var/lib/huddle/iso2/data/old" || fail "huddle-iso2 cannot read its own old data" || return 1
}

# Finding 3. What talks to the remote runs as the app's fetch user, not as
# root: the HTTP server finds each of huddle's connections coming from a
# socket of huddlefetch-fu, never root's; a file:// remote only root can
# read is out of its reach (and the journal says who must read it); after
# each fetch, the repository is root's again.
t_remote_is_talked_to_as_the_fetch_user() {
  local uid seen rc
  www_setup
  new_repo fu
  ct systemd-run -q --unit=test-git-fu python3 /srv/www/git-http.py --port 8451 --peer-uids /srv/www/uids-fu
  wait_for "the git server" 10 ct sh -c 'curl -s -o /dev/null http://127.0.0.1:8451/ && grep -qx 0 /srv/www/uids-fu' ||
    fail "the server does not record who connects (test broken)" || return 1
  ct rm -f /srv/www/uids-fu
  app_config fu http://127.0.0.1:8451/cgi-bin/git/fu.git | put fu.ini
  wait_units fu || return 1
  [ "$(deploy fu)" = 0 ] || fail "the first deploy over http failed" || return 1
  commit_push fu 2
  [ "$(deploy fu)" = 0 ] || fail "the second deploy over http failed" || return 1
  [ "$(live_commit fu)" = "$(head_of fu)" ] || fail "the second push is not live" || return 1
  seen=$(ct sort -u /srv/www/uids-fu | tr '\n' ' ')
  case " $seen" in *" 0 "*) fail "the remote was talked to as root (uids seen: $seen)"; return 1 ;; esac
  uid=$(ct id -u huddlefetch-fu) || fail "no user huddlefetch-fu" || return 1
  [ "$seen" = "$uid " ] || fail "the remote was talked to by uids '$seen', not only by huddlefetch-fu ($uid)" || return 1
  [ "$(ct stat -c '%U %a' /var/lib/huddle/fu/repo)" = "root 700" ] || fail "the repository is $(ct stat -c '%U %a' /var/lib/huddle/fu/repo) after the fetch" || return 1
  [ -z "$(ct find /var/lib/huddle/fu/repo ! -user root)" ] || fail "not root's after the fetch: $(ct find /var/lib/huddle/fu/repo ! -user root | head -3)" || return 1
  new_repo fr
  ct chmod 0700 /srv/git/fr.git
  app_config fr file:///srv/git/fr.git | put fr.ini
  wait_units fr || return 1
  rc=$(deploy fr)
  [ "$rc" = 3 ] || fail "a remote only root can read: exit $rc, not 3" || return 1
  ct test -e /var/lib/huddle/fr/current && { fail "a remote only root can read was deployed"; return 1; }
  journal_has "reads a local remote as huddlefetch-fr" -u huddle@fr || fail "the journal does not say who must read the remote" || return 1
  ct chgrp -R huddlefetch-fr /srv/git/fr.git && ct chmod -R g+rX /srv/git/fr.git && ct chmod 0750 /srv/git/fr.git
  [ "$(deploy fr)" = 0 ] || fail "readable by its fetch user's group, the remote does not deploy" || return 1
}

# Finding 1. The running app (the app's user) swaps a directory of the
# release being built for a symlink to a root-owned tree, in a loop, while
# root hands the checkout to it, takes the built release back and removes a
# failed build: after 20 deploys, half of them failing in the build, nothing
# out there changed owner, mode or existence.
t_swapped_directories_do_not_redirect_root() {
  new_repo race
  ct sh -c 'rm -rf /srv/race-target && mkdir -p /srv/race-target && cd /srv/race-target && for i in $(seq 1 1500); do echo $i > f$i; done && chmod 0640 f* && chown -R root:root /srv/race-target'
  ct sh -c 'cat > /srv/swapper.py' <<'PY'
# As the app's user: every sub/ of a release being built becomes, for a
# moment, a symlink to /srv/race-target, which holds files of the same names.
import glob, os, time
while True:
    for d in glob.glob("/var/lib/huddle/race/releases/*.tmp/sub"):
        try:
            os.rename(d, d + ".x")
            os.symlink("/srv/race-target", d)
            os.unlink(d)
            os.rename(d + ".x", d)
        except OSError:
            pass
        time.sleep(0.0002)
PY
  ct sh -c 'cd /srv/src/race && mkdir -p sub && for i in $(seq 1 1500); do echo $i > sub/f$i; done && printf "#!/bin/sh\necho \"race version \$(cat version) commit \$HUDDLE_COMMIT\"\nexec python3 /srv/swapper.py\n" > run &&
    '"$G"' add -A && '"$G"' commit -qm race && git push -q -f origin HEAD:main'
  app_config race file:///srv/git/race.git | sed 's/^\[deploy\]/&\nbuild = sleep 0.3; test ! -e fail-build/' | put race.ini
  wait_units race || return 1
  [ "$(deploy race)" = 0 ] || fail "first deploy failed" || return 1
  local before i rc
  snap() { ct sh -c 'cd /srv/race-target && find . -printf "%p %u %g %m %s\n" | sort'; }
  before=$(snap)
  for i in $(seq 2 21); do
    if [ $((i % 2)) = 0 ]; then
      ct sh -c "cd /srv/src/race && echo $i > version && touch fail-build && $G add -A && $G commit -qm v$i && git push -q -f origin HEAD:main"
    else
      ct sh -c "cd /srv/src/race && echo $i > version && rm -f fail-build && $G add -A && $G commit -qm v$i && git push -q -f origin HEAD:main"
    fi
    rc=$(deploy race)
    [ "$rc" = 0 ] || [ "$rc" = 4 ] || fail "deploy $i exited $rc" || return 1
    # systemd's start limit (5 starts in 10 s) is not what is tested here.
    [ "$rc" = 4 ] || sleep 1.5
  done
  [ "$(snap)" = "$before" ] || fail "root changed the tree outside the release: $(diff <(echo "$before") <(snap) | head -5)" || return 1
  ct sh -c 'ls -d /var/lib/huddle/race/releases/*.tmp 2>/dev/null' && { fail "a build's temporary release was left"; return 1; }
  [ "$(live_commit race)" = "$(head_of race)" ] || fail "the last good push is not live" || return 1
}

suite_needs_root
setup || suite_setup_failed
run_test "[limits]: the fetch unit has its memory and task limits; a pack beyond fetch and a tree beyond release are refused" t_limits_bound_what_a_remote_costs
run_test "each app its own user: no app reads the environment, data, release, repository or state of another; old data moves over" t_apps_are_isolated_from_each_other
run_test "the running app swapping release directories for symlinks during the chown and the cleanup redirects nothing of root" t_swapped_directories_do_not_redirect_root
run_test "the remote is talked to as the app's fetch user, never root; a remote only root can read is out of its reach" t_remote_is_talked_to_as_the_fetch_user
run_test "an ssh server offering only passwords gets neither the key nor a token" t_ssh_password_only_server_gets_no_key
run_test "an https redirect to another host does not get the token; credential with http:// is a config error" t_https_redirect_gets_no_token
run_test "tree entries ../x, a/b and .git are refused before anything is created; a good push deploys" t_hostile_tree_names_are_refused
run_test "a tag holding ESC and a line break is ignored, not stored, and printed escaped" t_hostile_ref_names_are_escaped
run_test "symlinks planted at release.env.tmp-huddle and state.json.tmp-huddle are not written through" t_planted_temporaries_are_not_followed
run_test "nobody holding the old slot names and trying the new slot files does not stop a deploy" t_nobody_cannot_hold_deploy_slots
suite_end
