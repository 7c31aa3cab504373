#!/usr/bin/env bash
# Integration tests of huddle-fetch and huddlectl deploy/status/history/rollback
# against a real systemd in a container, with real git remotes: bare
# repositories over file://, git daemon and smart HTTP (git http-backend) on
# loopback. Usage: huddle-fetch.sh BUILD_DIR. Ends with "N passed, N failed".
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
commit_push() {  # NAME VERSION [extra shell run in the work tree first]
  ct sh -c "cd /srv/src/$1 && ${3:-true} && echo $2 > version && $G commit -qam v$2 && git push -q origin HEAD:main"
}
push_empty() { ct sh -c "cd /srv/src/$1 && $G commit -q --allow-empty -m empty && git push -q origin HEAD:main"; }
head_of() { ct git -C "/srv/src/$1" rev-parse HEAD; }
live_commit() { basename "$(ct readlink "/var/lib/huddle/$1/current")"; }
deploy() { ct huddlectl deploy "$1" >/dev/null 2>&1; echo $?; }
app_config() {  # NAME URL [extra lines]
  printf '[repository]\nremote path = %s\n[timing]\nminimum = 1h\n[application]\nstart = ./run\n[deploy]\nsettle = 1s\n%s\n' "$2" "${3:-}"
}
# /srv/www/git-http.py: git http-backend behind an HTTP(S) server, serving
# /srv/git at http(s)://127.0.0.1:PORT/cgi-bin/git/NAME.git.
www_setup() {
  ct sh -c 'mkdir -p /srv/www && cat > /srv/www/git-http.py' < "$HERE/git-http.py"
}
# A loaded machine's first huddle-gen run in a fresh container can take long.
wait_units() { wait_for "$1's units" 120 loaded "huddle-fetch@$1.service"; }

# A test that uses an app an earlier one made (web, ver) makes it itself when
# it runs alone (ONLY=): NAME with its own file:// remote and app_config's
# config with EXTRA, deployed. Left as it is if it has a release already.
deployed() {  # NAME [EXTRA]
  if ! ct test -d "/srv/src/$1" || ! ct test -e "/etc/huddle/$1.ini" || ! ct test -L "/var/lib/huddle/$1/current"; then
    new_repo "$1"
    app_config "$1" "file:///srv/git/$1.git" "${2:-}" | put "$1.ini"
    wait_units "$1" || return 1
    local rc; rc=$(deploy "$1")
    [ "$rc" = 0 ] || fail "deploying $1 for this test exited $rc" || return 1
  fi
  wait_units "$1"
}
# NAME deployed, with a release before the live one (for huddlectl rollback).
deployed_twice() {  # NAME
  deployed "$1" || return 1
  [ "$(ct huddlectl history "$1" | grep -c deployed)" -ge 2 ] && return 0
  push_empty "$1"
  local rc; rc=$(deploy "$1")
  [ "$rc" = 0 ] || fail "deploying $1 a second time for this test exited $rc" || return 1
}
# web and ver as t_first_deploy_and_push and t_verify_fails make them.
ver_verify='verify = test "$(cat version)" != bad'

setup() {
  ct_boot || return 1
  ct_install_build || return 1
  ct systemctl enable --now huddle-gen.service >/dev/null 2>&1
}

t_first_deploy_and_push() {
  new_repo web
  app_config web file:///srv/git/web.git | put web.ini
  wait_units web || return 1
  local rc; rc=$(deploy web)
  [ "$rc" = 0 ] || fail "first deploy exited $rc" || return 1
  [ "$(live_commit web)" = "$(head_of web)" ] || fail "live release is not the remote's head" || return 1
  wait_for "web's output" 10 journal_has "web version 1 commit $(head_of web)" -u huddle@web || return 1
  journal_has "deployed" -u huddle@web HUDDLE_STEP=deployed || fail "deploy event not in journalctl -u huddle@web" || return 1
  [ "$(ct stat -c %U "/var/lib/huddle/web/current/version")" = root ] || fail "release not owned by root" || return 1
  ct runuser -u huddle-web -- sh -c 'echo x > /var/lib/huddle/web/current/version' 2>/dev/null && { fail "the app user can write its release"; return 1; }
  commit_push web 2
  rc=$(deploy web)
  [ "$rc" = 0 ] || fail "second deploy exited $rc" || return 1
  wait_for "web version 2" 10 journal_has "web version 2 commit $(head_of web)" -u huddle@web || return 1
  push_empty web
  rc=$(deploy web)
  [ "$rc" = 0 ] && [ "$(live_commit web)" = "$(head_of web)" ] || fail "empty commit not deployed (exit $rc)" || return 1
  [ "$(ct huddlectl history web | grep -c deployed)" = 3 ] || fail "history: $(ct huddlectl history web)" || return 1
  ct huddlectl status web --json | grep -q "\"commit\": \"$(head_of web)\"" || fail "status: $(ct huddlectl status web --json)" || return 1
}

t_no_change_poll_writes_nothing() {
  # Every path under the app's directory and the local path, with its mtime,
  # change time (chown and chmod set it even to the same values), mode, owner
  # and size: a no-change poll must leave all of it as it was.
  snapshot() { ct sh -c 'find /var/lib/huddle/web -printf "%p %T@ %C@ %s %m %u:%g\n" | sort; readlink /var/lib/huddle/web/current'; }
  local before after rc
  deployed web || return 1
  [ "$(live_commit web)" = "$(head_of web)" ] || fail "web is not at its remote's head before the poll (test broken)" || return 1
  before=$(snapshot)
  sleep 1
  rc=$(deploy web)
  after=$(snapshot)
  [ "$rc" = 0 ] || fail "no-change poll exited $rc" || return 1
  [ "$before" = "$after" ] || fail "a no-change poll changed files: $(diff <(echo "$before") <(echo "$after") | head -5)" || return 1
  [ "$(echo "$before" | wc -l)" -gt 5 ] || fail "snapshot is empty (test broken)" || return 1
}

t_tag_glob_and_pin() {
  new_repo tagged
  ct sh -c "cd /srv/src/tagged && git tag release-9 && echo 10 > version && $G commit -qam v10 && $G tag -a -m ten release-10 &&
    echo 11 > version && $G commit -qam v11 && git push -q origin main release-9 release-10"
  app_config tagged file:///srv/git/tagged.git | sed 's/^remote path.*/&\ntag = release-*/' | put tagged.ini
  wait_units tagged || return 1
  [ "$(deploy tagged)" = 0 ] || fail "tag deploy failed" || return 1
  [ "$(live_commit tagged)" = "$(ct git -C /srv/src/tagged rev-parse 'release-10^{commit}')" ] || fail "release-10 not picked" || return 1
  local pin; pin=$(ct git -C /srv/src/tagged rev-parse 'release-9^{commit}')
  # Abbreviated, as people copy them from git log --oneline; deployed by its full id.
  app_config tagged file:///srv/git/tagged.git | sed "s/^remote path.*/&\ncommit = ${pin:0:10}/" | put tagged.ini
  sleep 1; wait_units tagged || return 1
  [ "$(deploy tagged)" = 0 ] || fail "pinned deploy failed" || return 1
  [ "$(live_commit tagged)" = "$pin" ] || fail "pin not deployed" || return 1
  commit_push tagged 12
  [ "$(deploy tagged)" = 0 ] && [ "$(live_commit tagged)" = "$pin" ] || fail "the pin moved" || return 1
}

t_verify_fails() {
  new_repo ver
  app_config ver file:///srv/git/ver.git "$ver_verify" | put ver.ini
  wait_units ver || return 1
  [ "$(deploy ver)" = 0 ] || return 1
  local good pid rc; good=$(live_commit ver); pid=$(prop huddle@ver.service MainPID)
  commit_push ver bad
  rc=$(deploy ver)
  [ "$rc" = 4 ] || fail "rejected release exited $rc, not 4" || return 1
  [ "$(live_commit ver)" = "$good" ] && [ "$(prop huddle@ver.service MainPID)" = "$pid" ] || fail "the running release changed" || return 1
  local runs; runs=$(ct journalctl -u huddle@ver -o cat | grep -c 'verify: running')
  rc=$(deploy ver)
  [ "$rc" = 0 ] || fail "poll after a rejection exited $rc" || return 1
  [ "$(ct journalctl -u huddle@ver -o cat | grep -c 'verify: running')" = "$runs" ] || fail "the bad commit was retried" || return 1
  commit_push ver 3
  [ "$(deploy ver)" = 0 ] && [ "$(live_commit ver)" = "$(head_of ver)" ] || fail "a new push was not deployed" || return 1
}

t_unhealthy_rolls_back() {
  new_repo sick
  # A bare program name in the health command is looked up in PATH.
  app_config sick file:///srv/git/sick.git 'health command = sh -c "test ! -f nohealth"' | put sick.ini
  wait_units sick || return 1
  [ "$(deploy sick)" = 0 ] || return 1
  local good rc; good=$(live_commit sick)
  # Crashes at start.
  commit_push sick 2 "printf '#!/bin/sh\nexit 1\n' > run"
  rc=$(deploy sick)
  [ "$rc" = 5 ] && [ "$(live_commit sick)" = "$good" ] || fail "crash at start: exit $rc, live $(live_commit sick)" || return 1
  wait_for "the previous release runs again" 20 active huddle@sick.service || return 1
  # Exits during settle.
  commit_push sick 3 "printf '#!/bin/sh\nsleep 0.3\nexit 1\n' > run"
  rc=$(deploy sick)
  [ "$rc" = 5 ] && [ "$(live_commit sick)" = "$good" ] || fail "exit during settle: exit $rc" || return 1
  # Fails its health command.
  commit_push sick 4 "git checkout -q $good -- run && touch nohealth && git add nohealth"
  rc=$(deploy sick)
  [ "$rc" = 5 ] && [ "$(live_commit sick)" = "$good" ] || fail "failed health command: exit $rc" || return 1
  journal_has "rolled back" -u huddle@sick HUDDLE_STEP=rollback || fail "rollback not in the app's journal" || return 1
}

t_rollback_by_hand() {
  local cur prev rc
  deployed_twice web || return 1
  cur=$(live_commit web)
  rc=$(ct huddlectl rollback web >/dev/null 2>&1; echo $?)
  [ "$rc" = 0 ] || fail "huddlectl rollback exited $rc" || return 1
  prev=$(live_commit web)
  [ "$prev" != "$cur" ] || fail "rollback did not switch" || return 1
  [ "$(deploy web)" = 0 ] && [ "$(live_commit web)" = "$prev" ] || fail "the rolled-back commit was redeployed" || return 1
}

t_stopped_app_stays_stopped() {
  deployed web || return 1
  ct systemctl stop huddle@web.service
  commit_push web 5
  [ "$(deploy web)" = 0 ] || return 1
  [ "$(live_commit web)" = "$(head_of web)" ] || fail "release not updated" || return 1
  [ "$(prop huddle@web.service ActiveState)" = inactive ] || fail "a stopped app was started" || return 1
  journal_has "is stopped" -u huddle@web || fail "the journal does not say the app is stopped" || return 1
  ct systemctl start huddle@web.service
}

t_foreign_local_path_refused() {
  new_repo own
  ct sh -c 'mkdir -p /srv/own && echo precious > /srv/own/data'
  app_config own file:///srv/git/own.git | sed 's|^remote path.*|&\nlocal path = /srv/own|' | put own.ini
  wait_units own || return 1
  local rc; rc=$(deploy own)
  [ "$rc" = 6 ] || fail "exit $rc, not 6" || return 1
  [ "$(ct cat /srv/own/data)" = precious ] || fail "the directory was touched" || return 1
}

t_git_daemon_and_http() {
  new_repo gd
  new_repo hb
  ct systemd-run -q --unit=test-git-daemon git daemon --reuseaddr --export-all --base-path=/srv/git --listen=127.0.0.1 --port=9418
  www_setup
  ct systemd-run -q --unit=test-git-http python3 /srv/www/git-http.py --port 8080
  wait_for "git daemon" 10 ct git ls-remote git://127.0.0.1/gd.git || return 1
  wait_for "http backend" 10 ct git ls-remote http://127.0.0.1:8080/cgi-bin/git/hb.git || return 1
  app_config gd git://127.0.0.1/gd.git | put gd.ini
  app_config hb http://127.0.0.1:8080/cgi-bin/git/hb.git | put hb.ini
  wait_units gd && wait_units hb || return 1
  [ "$(deploy gd)" = 0 ] && [ "$(live_commit gd)" = "$(head_of gd)" ] || fail "git:// deploy failed" || return 1
  [ "$(deploy hb)" = 0 ] && [ "$(live_commit hb)" = "$(head_of hb)" ] || fail "http deploy failed" || return 1
  commit_push hb 2
  [ "$(deploy hb)" = 0 ] && [ "$(live_commit hb)" = "$(head_of hb)" ] || fail "http redeploy failed" || return 1
  ct systemctl stop test-git-http
  commit_push hb 3
  local rc; rc=$(deploy hb)
  [ "$rc" = 3 ] || fail "unreachable remote: exit $rc, not 3" || return 1
  active huddle@hb.service || fail "app down after a network fault" || return 1
  journal_has "cannot reach" -u huddle@hb || fail "the journal does not say the remote is unreachable" || return 1
  ct systemd-run -q --unit=test-git-http2 python3 /srv/www/git-http.py --port 8080
  wait_for "http backend back" 10 ct git ls-remote http://127.0.0.1:8080/cgi-bin/git/hb.git || return 1
  [ "$(deploy hb)" = 0 ] && [ "$(live_commit hb)" = "$(head_of hb)" ] || fail "no deploy after the fault healed" || return 1
  # A host name that does not resolve (.invalid never does).
  app_config nx http://huddle-test.invalid/nx.git | put nx.ini
  wait_units nx || return 1
  rc=$(deploy nx)
  [ "$rc" = 3 ] || fail "unresolvable host: exit $rc, not 3" || return 1
  journal_has "cannot reach http://huddle-test.invalid/nx.git" -u huddle@nx || fail "the journal does not name the unreachable remote" || return 1
}

t_tls_and_ssh_are_verified() {
  www_setup
  new_repo hs
  new_repo sh
  # HTTPS with a self-signed certificate: refused.
  ct sh -c 'cd /srv/www && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj /CN=127.0.0.1 -days 1 2>/dev/null'
  ct systemd-run -q --unit=test-git-https python3 /srv/www/git-http.py --port 8443 --tls /srv/www/cert.pem /srv/www/key.pem
  wait_for "https server" 10 ct sh -c 'openssl s_client -connect 127.0.0.1:8443 </dev/null 2>/dev/null | grep -q "BEGIN CERTIFICATE"' || return 1
  app_config hs https://127.0.0.1:8443/cgi-bin/git/hs.git | put hs.ini
  wait_units hs || return 1
  local rc; rc=$(deploy hs)
  [ "$rc" = 3 ] || fail "self-signed https: exit $rc, not 3" || return 1
  # huddle's own words, whatever libgit2 says (1.9 replaces the callback's).
  journal_has "the TLS certificate of 127.0.0.1 is not valid" -u huddle@hs || fail "the journal does not name the certificate problem" || return 1
  ct test -e /var/lib/huddle/hs/current && { fail "something was deployed over bad TLS"; return 1; }
  # SSH: the right host key deploys, a wrong one is refused.
  ct sh -c 'mkdir -p /srv/ssh /etc/huddle/credentials && cd /srv/ssh && rm -f host_key* other* &&
    ssh-keygen -q -t ecdsa -b 256 -m PEM -N "" -f host_key && ssh-keygen -q -t ecdsa -b 256 -m PEM -N "" -f other &&
    rm -f /etc/huddle/credentials/sshkey* && ssh-keygen -q -t ecdsa -b 256 -m PEM -N "" -f /etc/huddle/credentials/sshkey &&
    cp /etc/huddle/credentials/sshkey.pub authorized_keys &&
    echo "[127.0.0.1]:2222 $(cut -d" " -f1,2 host_key.pub)" > /etc/huddle/known_hosts_good &&
    echo "[127.0.0.1]:2222 $(cut -d" " -f1,2 other.pub)" > /etc/huddle/known_hosts_bad && mkdir -p /run/sshd'
  ct systemd-run -q --unit=test-sshd /usr/sbin/sshd -D -p 2222 -o ListenAddress=127.0.0.1 -h /srv/ssh/host_key \
    -o AuthorizedKeysFile=/srv/ssh/authorized_keys -o PermitRootLogin=prohibit-password -o StrictModes=no
  sleep 1
  app_config sh ssh://root@127.0.0.1:2222/srv/git/sh.git | sed 's|^remote path.*|&\ncredential = sshkey\nknown hosts = /etc/huddle/known_hosts_bad|' | put sh.ini
  wait_units sh || return 1
  rc=$(deploy sh)
  [ "$rc" = 3 ] || fail "wrong ssh host key: exit $rc, not 3" || return 1
  journal_has "the host key of [127.0.0.1]:2222 does not match /etc/huddle/known_hosts_bad; refusing to connect" -u huddle@sh ||
    fail "the journal does not name the host key problem" || return 1
  app_config sh ssh://root@127.0.0.1:2222/srv/git/sh.git | sed 's|^remote path.*|&\ncredential = sshkey\nknown hosts = /etc/huddle/known_hosts_good|' | put sh.ini
  sleep 1; wait_units sh || return 1
  rc=$(deploy sh)
  [ "$rc" = 0 ] && [ "$(live_commit sh)" = "$(head_of sh)" ] || fail "ssh deploy with the right host key: exit $rc" || return 1
  # Hashed entries, as `ssh-keygen -H` (or HashKnownHosts) writes them.
  ct ssh-keygen -q -H -f /etc/huddle/known_hosts_good >/dev/null 2>&1
  ct grep -q '^|1|' /etc/huddle/known_hosts_good || fail "known hosts not hashed (test broken)" || return 1
  commit_push sh 2
  rc=$(deploy sh)
  [ "$rc" = 0 ] && [ "$(live_commit sh)" = "$(head_of sh)" ] || fail "ssh deploy with a hashed known hosts entry: exit $rc" || return 1
  local secret; secret=$(ct sed -n 2p /etc/huddle/credentials/sshkey)
  [ -n "$secret" ] || fail "cannot read the key (test broken)" || return 1
  [ "$(ct journalctl -o cat --no-pager | grep -cF -- "$secret")" = 0 ] || fail "the private key reached the journal" || return 1
  [ -z "$(ct grep -rlF -- "$secret" /var/lib/huddle)" ] || fail "the private key reached huddle's files" || return 1
}

# A private HTTPS remote: a certificate from a CA the machine trusts, and
# Basic authentication with a token from a credential file.
t_https_token() {
  www_setup
  new_repo pv
  ct sh -c 'mkdir -p /srv/pki && cd /srv/pki && rm -f * &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj "/CN=huddle test CA" -days 2 2>/dev/null &&
    openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost 2>/dev/null &&
    printf "subjectAltName=DNS:localhost\n" > ext && openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile ext 2>/dev/null &&
    cp ca.crt /usr/local/share/ca-certificates/huddle-test-ca.crt && update-ca-certificates >/dev/null 2>&1 &&
    (umask 077 && echo deploy:s3cr3t-t0ken-4711 > /srv/www/auth)'
  ct systemd-run -q --unit=test-git-auth python3 /srv/www/git-http.py --port 8444 --tls /srv/pki/srv.crt /srv/pki/srv.key --auth-file /srv/www/auth
  wait_for "authenticating https server" 10 ct sh -c 'curl -s -o /dev/null -w "%{http_code}" https://localhost:8444/ | grep -q 401' || return 1
  # Without a credential: refused by the server, nothing deployed.
  app_config pv https://localhost:8444/cgi-bin/git/pv.git | put pv.ini
  wait_units pv || return 1
  local rc; rc=$(deploy pv)
  [ "$rc" = 3 ] || fail "no credential: exit $rc, not 3" || return 1
  # huddle's own words, whatever libgit2 says (its wording differs by version).
  journal_has "the server requires authentication and the config names no credential" -u huddle@pv ||
    fail "the journal does not say authentication failed" || return 1
  ct test -e /var/lib/huddle/pv/current && { fail "deployed without a credential"; return 1; }
  # A wrong token: refused, and said so.
  ct sh -c 'mkdir -p -m 0700 /etc/huddle/credentials && umask 077 && echo deploy:expired-t0ken > /etc/huddle/credentials/pv-token'
  app_config pv https://localhost:8444/cgi-bin/git/pv.git | sed 's|^remote path.*|&\ncredential = pv-token|' | put pv.ini
  sleep 1; wait_units pv || return 1
  rc=$(deploy pv)
  [ "$rc" = 3 ] || fail "a wrong token: exit $rc, not 3" || return 1
  journal_has "the server refused the credential in /etc/huddle/credentials/pv-token" -u huddle@pv ||
    fail "the journal does not say the credential was refused" || return 1
  # With the right token: deployed.
  ct sh -c 'umask 077 && echo deploy:s3cr3t-t0ken-4711 > /etc/huddle/credentials/pv-token'
  rc=$(deploy pv)
  [ "$rc" = 0 ] && [ "$(live_commit pv)" = "$(head_of pv)" ] || fail "https deploy with a token: exit $rc" || return 1
  commit_push pv 2
  rc=$(deploy pv)
  [ "$rc" = 0 ] && [ "$(live_commit pv)" = "$(head_of pv)" ] || fail "https redeploy with a token: exit $rc" || return 1
  [ "$(ct journalctl -o cat --no-pager | grep -cF s3cr3t-t0ken-4711)" = 0 ] || fail "the token reached the journal" || return 1
  [ -z "$(ct grep -rlF s3cr3t-t0ken-4711 /var/lib/huddle /run/huddle 2>/dev/null)" ] || fail "the token reached huddle's files" || return 1
}

# A server that answers the ref advertisement, then stalls in the middle of
# sending the pack: the fetch unit's start timeout ends the attempt, the
# running release is untouched, and the poll after the fault deploys.
t_stall_mid_transfer() {
  www_setup
  new_repo st
  ct sh -c 'cat > /srv/www/stall.py' <<'PY'
import http.client, http.server, os, time
class Proxy(http.server.BaseHTTPRequestHandler):
    def relay(self, body=None):
        up = http.client.HTTPConnection("127.0.0.1", 8080)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        up.request(self.command, self.path, body=body, headers=hdrs)
        r = up.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "POST" and os.path.exists("/srv/www/stall"):
            self.wfile.write(data[: len(data) // 3])
            self.wfile.flush()
            time.sleep(3600)
        self.wfile.write(data)
    def do_GET(self):
        self.relay()
    def do_POST(self):
        self.relay(self.rfile.read(int(self.headers.get("Content-Length", 0))))
http.server.ThreadingHTTPServer(("127.0.0.1", 8081), Proxy).serve_forever()
PY
  active test-git-http2.service || ct systemd-run -q --unit=test-git-http3 python3 /srv/www/git-http.py --port 8080
  ct systemd-run -q --unit=test-git-stall python3 /srv/www/stall.py
  wait_for "stalling proxy" 10 ct git ls-remote http://127.0.0.1:8081/cgi-bin/git/st.git || return 1
  app_config st http://127.0.0.1:8081/cgi-bin/git/st.git | put st.ini
  wait_units st || return 1
  [ "$(deploy st)" = 0 ] || fail "first deploy through the proxy failed" || return 1
  local good pid; good=$(live_commit st); pid=$(prop huddle@st.service MainPID)
  ct mkdir -p /run/systemd/system/huddle-fetch@st.service.d
  printf '[Service]\nTimeoutStartSec=6\n' | ct sh -c 'cat > /run/systemd/system/huddle-fetch@st.service.d/test.conf'
  ct systemctl daemon-reload
  ct touch /srv/www/stall
  # Enough data that the pack is sent in more than one piece.
  commit_push st 2 "head -c 300000 /dev/urandom > blob && git add blob"
  local rc; rc=$(deploy st)
  [ "$rc" != 0 ] || fail "a stalled transfer reported success" || return 1
  [ "$(live_commit st)" = "$good" ] || fail "the release changed during a stalled transfer" || return 1
  [ "$(prop huddle@st.service MainPID)" = "$pid" ] || fail "the app was restarted by a stalled transfer" || return 1
  journal_has "timed out" -u huddle-fetch@st.service || fail "the journal does not say the fetch timed out" || return 1
  ct rm /srv/www/stall
  rc=$(deploy st)
  [ "$rc" = 0 ] && [ "$(live_commit st)" = "$(head_of st)" ] || fail "no deploy after the stall healed: exit $rc" || return 1
}

# A release shares the files it has in common with the one before (hard
# links); each must still be exactly its own commit, and the old one intact.
t_releases_share_unchanged_files() {
  new_repo ln
  ct sh -c 'cat > /srv/manifest.sh' <<'SH'
# manifest DIR: every path with its type, executable bit, link target and checksum
cd "$1" && find . -mindepth 1 \( -type l -printf '%P l %l\n' \) -o \( -type d -printf '%P d\n' \) \
  -o \( -type f -perm /111 -printf '%P x\n' \) -o \( -type f -printf '%P f\n' \) | sort
find . -type f -exec md5sum {} + | sort
SH
  same_as_commit() {  # COMMIT
    ct sh -c "rm -rf /tmp/arch && mkdir /tmp/arch && git -C /srv/git/ln.git archive $1 | tar -x -C /tmp/arch &&
      sh /srv/manifest.sh /tmp/arch > /tmp/m1 && sh /srv/manifest.sh /var/lib/huddle/ln/releases/$1 > /tmp/m2 && diff /tmp/m1 /tmp/m2"
  }
  ct sh -c "cd /srv/src/ln && mkdir -p d e && echo a > d/a && echo b > d/b && echo c > c && echo k > e/keep && ln -s d/a sl &&
    $G add -A && $G commit -qm files && git push -q origin HEAD:main"
  app_config ln file:///srv/git/ln.git | put ln.ini
  wait_units ln || return 1
  [ "$(deploy ln)" = 0 ] || fail "first deploy failed" || return 1
  local old new; old=$(live_commit ln)
  ct sh -c "cd /srv/src/ln && echo a2 > d/a && git rm -q d/b && echo new > d/new && chmod +x c && rm sl && ln -s c sl && git rm -rq e &&
    $G add -A && $G commit -qm change && git push -q origin HEAD:main"
  [ "$(deploy ln)" = 0 ] || fail "second deploy failed" || return 1
  new=$(live_commit ln)
  [ "$new" = "$(head_of ln)" ] || fail "not deployed" || return 1
  same_as_commit "$new" || fail "the new release is not exactly its commit" || return 1
  same_as_commit "$old" || fail "the previous release changed" || return 1
  [ "$(ct stat -c %h "/var/lib/huddle/ln/releases/$new/run")" -ge 2 ] || fail "an unchanged file was not shared" || return 1
  [ "$(ct stat -c %h "/var/lib/huddle/ln/releases/$new/d/a")" = 1 ] || fail "a changed file is shared" || return 1
  journal_has "unchanged files shared with ${old:0:12}" -u huddle@ln || fail "the journal does not say files were shared" || return 1
  active huddle@ln.service || fail "the app is not running" || return 1
}

# The fetch service runs as root with the network, the app runs what the
# remote holds: systemd's own measure of each one's exposure must say OK or
# better (the app's with its default sandbox); and an app cannot write its
# release.
t_fetch_service_is_sandboxed() {
  local out level unit
  deployed web || return 1
  for unit in huddle-fetch@web.service huddle@web.service; do
    out=$(ct systemd-analyze security --no-pager "$unit" 2>&1)
    level=$(printf '%s\n' "$out" | grep -o "Overall exposure level for $unit: [0-9.]* [A-Z]*")
    echo "    $level"
    case "$level" in
      *" OK" | *" SAFE" | *" PERFECT") ;;
      *) printf '%s\n' "$out" | grep -v '^  ✓' >&2; fail "exposure of $unit not OK: ${level:-none}"; return 1 ;;
    esac
  done
  [ "$(prop huddle@web.service User)" = huddle-web ] && [ "$(prop huddle@web.service Slice)" = huddle.slice ] || fail "the app does not run as huddle-web in huddle.slice" || return 1
  ct runuser -u huddle-web -- sh -c 'touch /var/lib/huddle/web/current/x' 2>/dev/null && { fail "the app's user can write its release"; return 1; }
  ct runuser -u huddle-web -- sh -c 'echo x >> /var/lib/huddle/web/current/run' 2>/dev/null && { fail "the app's user can change its release"; return 1; }
  return 0
}

t_apps_are_independent() {
  local pw rc1 rc2
  deployed web && deployed ver "$ver_verify" || return 1
  pw=$(prop huddle@web.service MainPID)
  commit_push web 7
  commit_push ver bad
  ct huddlectl deploy web >/dev/null 2>&1 & local j1=$!
  ct huddlectl deploy ver >/dev/null 2>&1 & local j2=$!
  wait $j1; rc1=$?; wait $j2; rc2=$?
  [ "$rc1" = 0 ] && [ "$(live_commit web)" = "$(head_of web)" ] || fail "web not deployed beside a failing app (exit $rc1)" || return 1
  [ "$rc2" = 4 ] || fail "ver: exit $rc2, not 4" || return 1
  [ "$(prop huddle@web.service MainPID)" != "$pw" ] || fail "web was not restarted" || return 1
  active huddle@ver.service || fail "ver's running release went down" || return 1
}

t_stubborn_and_chatty_apps() {
  new_repo stub
  # Ignores SIGTERM, and writes 8 MB to stdout before saying it is up.
  ct sh -c 'cat > /srv/src/stub/run' <<'APP'
#!/bin/sh
trap "" TERM
head -c 8000000 /dev/zero | tr '\0' x | fold -w 1000
echo "stub up $$ version $(cat version)"
while :; do sleep 1; done
APP
  ct sh -c "cd /srv/src/stub && $G commit -qam chatty && git push -q origin HEAD:main"
  app_config stub file:///srv/git/stub.git | sed 's/^start = .*/&\nstop timeout = 2s/' | put stub.ini
  wait_units stub || return 1
  [ "$(deploy stub)" = 0 ] || fail "first deploy of a chatty app failed" || return 1
  wait_for "the chatty app got past its output" 30 journal_has "stub up" -u huddle@stub || return 1
  local old; old=$(prop huddle@stub.service MainPID)
  commit_push stub 2
  [ "$(deploy stub)" = 0 ] || fail "deploy over an app ignoring SIGTERM failed" || return 1
  ct kill -0 "$old" 2>/dev/null && { fail "the old process $old survived its replacement"; return 1; }
  journal_has "State 'stop-sigterm' timed out" -u huddle@stub || fail "the app did not ignore SIGTERM (test broken): $(ct journalctl -u huddle@stub -o cat --no-pager | grep -v xxxx | tail -15)" || return 1
  wait_for "version 2 up" 30 journal_has "version 2" -u huddle@stub || return 1
}

t_watchdog_restarts_a_failing_app() {
  new_repo wd
  ct sh -c 'cat > /srv/src/wd/run' <<'APP'
#!/usr/bin/python3
# Answers "OK" to any request while /srv/wd-healthy exists, "BAD" after.
import os, socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7070))
s.listen()
print("wd listening", flush=True)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b"OK" if os.path.exists("/srv/wd-healthy") else b"BAD")
    c.close()
APP
  ct sh -c "cd /srv/src/wd && $G commit -qam server && git push -q origin HEAD:main && touch /srv/wd-healthy"
  app_config wd file:///srv/git/wd.git "[watchdog]
period = 2
port = 7070
request = watchdog
response = OK" | put wd.ini
  wait_units wd || return 1
  wait_for "watchdog timer" 10 active huddle-watchdog@wd.timer || return 1
  [ "$(deploy wd)" = 0 ] || fail "a deploy gated by a passing watchdog failed" || return 1
  local pid; pid=$(prop huddle@wd.service MainPID)
  sleep 5
  [ "$(prop huddle@wd.service MainPID)" = "$pid" ] || fail "a healthy app was restarted" || return 1
  ct rm /srv/wd-healthy
  wait_for "the watchdog's restart" 20 journal_has "watchdog: the answer did not contain 'OK'; restarting huddle@wd.service" -u huddle@wd || return 1
  [ "$(prop huddle@wd.service MainPID)" != "$pid" ] || fail "the app was not restarted" || return 1
}

t_notify_never_ready_rolls_back() {
  new_repo nt
  ct sh -c 'cat > /srv/src/nt/run' <<'APP'
#!/bin/sh
# Type=notify: READY=1 only while the version is good.
if [ "$(cat version)" = 1 ]; then systemd-notify --ready; fi
exec sleep infinity
APP
  ct sh -c "cd /srv/src/nt && $G commit -qam notify && git push -q origin HEAD:main"
  app_config nt file:///srv/git/nt.git | sed 's/^start = .*/&\ntype = notify/' | put nt.ini
  wait_units nt || return 1
  # systemd-notify runs as a child: let the service accept its message. In
  # /etc, so that it holds after the reboots of the power-off test too.
  ct mkdir -p /etc/systemd/system/huddle@nt.service.d
  printf '[Service]\nNotifyAccess=all\nTimeoutStartSec=5\n' | ct sh -c 'cat > /etc/systemd/system/huddle@nt.service.d/test.conf'
  ct systemctl daemon-reload
  [ "$(deploy nt)" = 0 ] || fail "first deploy of a notify app failed" || return 1
  local good; good=$(live_commit nt)
  commit_push nt 2
  local rc; rc=$(deploy nt)
  [ "$rc" = 5 ] && [ "$(live_commit nt)" = "$good" ] || fail "never-ready release: exit $rc" || return 1
  wait_for "the good release is back up" 20 active huddle@nt.service || return 1
}

# NAME deployed once, then a push whose deploy is started in the background
# and followed until it checks the app (for SETTLE). Sets the caller's
# `since` (container time before the start) for journal queries.
deploy_into_settle() {  # NAME SETTLE
  new_repo "$1"
  app_config "$1" "file:///srv/git/$1.git" | sed "s/^settle = 1s\$/settle = $2/" | put "$1.ini"
  wait_units "$1" || return 1
  [ "$(deploy "$1")" = 0 ] || return 1
  commit_push "$1" 2
  since=$(ct date +%s)
  ct systemctl start --no-block "huddle-fetch@$1.service"
  wait_for "the settle check" 60 journal_has "checking it stays up" -u "huddle@$1" --since "@$since"
}

# A deploy talks to systemd over the system bus (a private connection to PID 1
# would be sent every signal of every unit, which a fleet of deploys turns into
# PID 1's whole load); with no bus it goes to PID 1 directly.
t_system_bus_and_without_it() {
  local since pid
  deploy_into_settle bus 10s || return 1
  pid=$(ct systemctl show -P MainPID huddle-fetch@bus.service)
  ct busctl --system list --unique --no-legend | awk -v p="$pid" '$2 == p {f=1} END {exit !f}' ||
    fail "huddle-fetch (pid $pid) is not on the system bus during settle" || return 1
  wait_for "the deploy to end" 60 settled huddle-fetch@bus.service || return 1
  [ "$(live_commit bus)" = "$(head_of bus)" ] || fail "not deployed over the bus" || return 1
  ct systemctl stop dbus.socket dbus.service
  ct busctl --system status >/dev/null 2>&1 && { fail "the system bus is still up after stopping dbus"; ct systemctl start dbus.socket; return 1; }
  commit_push bus 3
  local rc; rc=$(deploy bus)
  ct systemctl start dbus.socket dbus.service
  [ "$rc" = 0 ] && [ "$(live_commit bus)" = "$(head_of bus)" ] || fail "without a system bus: exit $rc, live $(live_commit bus)" || return 1
}

# At most 64 deploys restart and check their apps at once (the system bus
# allows a user 256 connections); the 65th waits for a slot, then deploys.
t_deploy_waits_for_a_slot() {
  new_repo slots
  app_config slots file:///srv/git/slots.git | put slots.ini
  wait_units slots || return 1
  [ "$(deploy slots)" = 0 ] || return 1
  commit_push slots 2
  ct rm -f /run/slots-held
  # Root holds the 64 slot files (/run/huddle/slots/N, flock), as 64 deploys would.
  ct python3 -c 'import fcntl, os, time
os.makedirs("/run/huddle/slots", 0o700, exist_ok=True)
held = [os.open("/run/huddle/slots/%d" % i, os.O_RDWR | os.O_CREAT, 0o600) for i in range(64)]
for fd in held: fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
open("/run/slots-held", "w").close()
time.sleep(6)' &
  local holder=$!
  wait_for "64 slots held" 10 ct test -e /run/slots-held || return 1
  local rc; rc=$(deploy slots)
  wait "$holder"
  [ "$rc" = 0 ] && [ "$(live_commit slots)" = "$(head_of slots)" ] || fail "after waiting for a slot: exit $rc" || return 1
  journal_has "for a deploy slot (64 deploys restart their apps at once at most)" -u huddle@slots ||
    fail "the deploy did not wait for a slot" || return 1
}

# PID 1 frozen (SIGSTOP) for longer than huddle-fetch's call timeout while a
# deploy checks the app: the check that got no answer is no verdict. The
# release is deployed, or tried again; never rejected as unhealthy. The
# timeout (90 s by default) is made 5 s with HUDDLE_BUS_TIMEOUT in PID 1's
# environment, which the fetch unit inherits, so that 20 s frozen outlast it.
t_busy_systemd_is_no_verdict() {
  ct systemctl set-environment HUDDLE_BUS_TIMEOUT=5s || fail "systemctl set-environment failed" || return 1
  busy_systemd
  local rc=$?
  ct systemctl unset-environment HUDDLE_BUS_TIMEOUT
  return $rc
}
busy_systemd() {
  local since pid
  deploy_into_settle busy 20s || return 1
  pid=$(prop huddle-fetch@busy.service MainPID)
  ct cat "/proc/$pid/environ" | tr '\0' '\n' | grep -x HUDDLE_BUS_TIMEOUT=5s >/dev/null ||
    fail "huddle-fetch (pid $pid) does not have HUDDLE_BUS_TIMEOUT=5s (test broken)" || return 1
  sleep 2
  kill -STOP "$CT_LEADER"
  sleep 20
  kill -CONT "$CT_LEADER"
  wait_for "the deploy to end" 240 settled huddle-fetch@busy.service || return 1
  if ct journalctl -u huddle@busy --since "@$since" --no-pager | grep -q "is unhealthy"; then
    fail "a release was judged unhealthy because systemd did not answer"; return 1
  fi
  # Tried again at the next poll if this one could not tell.
  [ "$(live_commit busy)" = "$(head_of busy)" ] || [ "$(deploy busy)" = 0 ] || fail "not deployed after systemd answered again" || return 1
  [ "$(live_commit busy)" = "$(head_of busy)" ] || fail "live is not the pushed commit" || return 1
  journal_has "did not answer about huddle@busy.service" -u huddle@busy --since "@$since" || fail "the unanswered check was not logged" || return 1
}

t_container_stopped_mid_deploy() {
  new_repo pw
  app_config pw file:///srv/git/pw.git 'build = sleep 1' | put pw.ini
  wait_units pw || return 1
  [ "$(deploy pw)" = 0 ] || return 1
  local i v=2
  for i in $(seq 1 10); do
    commit_push pw "$v"; v=$((v + 1))
    ct systemctl start --no-block huddle-fetch@pw.service
    sleep "0.$((RANDOM % 10))"
    ct_halt  # power off mid-deploy (kill -9 of every process is the other test)
    ct_boot || return 1
    ct test -f /var/lib/huddle/pw/current/version || fail "trial $i: local path is not a complete release after the stop" || return 1
    wait_units pw || return 1
  done
  [ "$(deploy pw)" = 0 ] && [ "$(live_commit pw)" = "$(head_of pw)" ] || fail "the next poll did not converge" || return 1
}

t_kill_during_deploy() {
  new_repo crash
  app_config crash file:///srv/git/crash.git 'build = sleep 0.3' | put crash.ini
  wait_units crash || return 1
  [ "$(deploy crash)" = 0 ] || return 1
  local i v=2
  for i in $(seq 1 50); do
    commit_push crash "$v"; v=$((v + 1))
    ct sh -c "huddle-fetch --log console crash >/dev/null 2>&1 & p=\$!; sleep 0.\$((RANDOM % 9)); kill -9 \$p; wait \$p 2>/dev/null"
    ct test -f /var/lib/huddle/crash/current/version || fail "trial $i: local path is not a complete release" || return 1
  done
  [ "$(deploy crash)" = 0 ] && [ "$(live_commit crash)" = "$(head_of crash)" ] || fail "the next poll did not converge" || return 1
}

# A build that leaves writers running in the background, one in its process
# group and one that left it with setsid (as a daemon does): both are killed
# when the build step ends, so verify sees a release nothing writes any more.
t_build_leftovers_are_killed() {
  new_repo stray
  app_config stray file:///srv/git/stray.git "build = nohup sh -c 'while :; do echo x >> stray; sleep 0.1; done' >/dev/null 2>&1 &
  setsid sh -c 'while :; do echo y >> stray2; sleep 0.1; done' >/dev/null 2>&1 < /dev/null &
verify = sleep 1; a=\$(cat stray stray2 | wc -c); sleep 1; test \"\$(cat stray stray2 | wc -c)\" = \"\$a\"" | put stray.ini
  wait_units stray || return 1
  local rc; rc=$(deploy stray)
  [ "$rc" = 0 ] || fail "deploy exited $rc: a background writer of the build outlived its step" || return 1
  ct pgrep -f 'echo x >> stray' >/dev/null && { fail "the build's background writer still runs"; return 1; }
  ct pgrep -f 'echo y >> stray2' >/dev/null && { fail "the build's setsid writer still runs"; return 1; }
  return 0
}

# Each step in a scope of its own, with the app's limits, gone when the
# step ends: the build and the verify step record their cgroup, and the
# build its scope's MemoryMax= and BindsTo= (asked of systemd: cgroup v1
# hosts have no memory.max), in the release.
t_steps_run_in_scopes_of_their_own() {
  new_repo sc
  app_config sc file:///srv/git/sc.git 'build = sed -n "s/^0:://p" /proc/self/cgroup > build-cg && systemctl show -p MemoryMax --value $(basename $(cat build-cg)) > build-mem && systemctl show -p BindsTo --value $(basename $(cat build-cg)) > build-binds
verify = sed -n "s/^0:://p" /proc/self/cgroup > verify-cg' | sed 's/^\[timing\]/[limits]\nmemory = 300M\n&/' | put sc.ini
  wait_units sc || return 1
  local rc b v; rc=$(deploy sc)
  [ "$rc" = 0 ] || fail "deploy exited $rc" || return 1
  b=$(ct cat /var/lib/huddle/sc/current/build-cg) v=$(ct cat /var/lib/huddle/sc/current/verify-cg)
  printf '%s\n' "$b" | grep -Eq '^/huddle.slice/huddle-step-sc-[0-9]+\.scope$' || fail "the build ran in $b, not a scope of its own" || return 1
  printf '%s\n' "$v" | grep -Eq '^/huddle.slice/huddle-step-sc-[0-9]+\.scope$' || fail "verify ran in $v, not a scope of its own" || return 1
  [ "$b" != "$v" ] || fail "build and verify shared a scope" || return 1
  [ "$(ct cat /var/lib/huddle/sc/current/build-mem)" = 314572800 ] || fail "the build's scope has memory.max $(ct cat /var/lib/huddle/sc/current/build-mem), not [limits] memory" || return 1
  [ "$(ct cat /var/lib/huddle/sc/current/build-binds)" = huddle-fetch@sc.service ] || fail "the build's scope is bound to '$(ct cat /var/lib/huddle/sc/current/build-binds)', not to its fetch unit" || return 1
  [ -z "$(ct systemctl list-units --all --plain --no-legend 'huddle-step-*')" ] || fail "step scopes are left: $(ct systemctl list-units --all --plain --no-legend 'huddle-step-*')" || return 1
}

suite_needs_root
setup || suite_setup_failed
run_test "first deploy, a push and an empty commit are deployed" t_first_deploy_and_push
run_test "a no-change poll writes nothing" t_no_change_poll_writes_nothing
run_test "tag glob picks release-10 over release-9; a pin stays" t_tag_glob_and_pin
run_test "verify fails: old release runs, commit not retried, a new push is" t_verify_fails
run_test "crash at start, exit during settle, failed health command roll back" t_unhealthy_rolls_back
run_test "huddlectl rollback, and the commit is not redeployed" t_rollback_by_hand
run_test "a stopped app is not started by a deploy" t_stopped_app_stays_stopped
run_test "a local path that is not huddle's is refused, untouched" t_foreign_local_path_refused
run_test "git daemon and smart HTTP remotes; refused connection heals; unresolvable host" t_git_daemon_and_http
run_test "self-signed TLS and a wrong SSH host key are refused; the right key deploys" t_tls_and_ssh_are_verified
run_test "a private HTTPS remote with a token deploys; no token, no deploy; the token is in no log or file" t_https_token
run_test "a server stalling mid-transfer is ended by the unit's timeout; the next poll deploys" t_stall_mid_transfer
run_test "a release shares unchanged files with the previous one, and each is exactly its commit" t_releases_share_unchanged_files
run_test "the fetch and app services' exposure (systemd-analyze security) is OK; apps cannot write their release" t_fetch_service_is_sandboxed
run_test "two apps: one fails, the other deploys" t_apps_are_independent
run_test "an app ignoring SIGTERM is stopped before its new version; 8 MB of output does not block" t_stubborn_and_chatty_apps
run_test "[watchdog] restarts an app that stops answering" t_watchdog_restarts_a_failing_app
run_test "a notify app that never says READY rolls back" t_notify_never_ready_rolls_back
run_test "a deploy talks to systemd over the system bus, and to PID 1 directly without one" t_system_bus_and_without_it
run_test "the 65th deploy at once waits for a slot, then deploys" t_deploy_waits_for_a_slot
run_test "systemd frozen past the call timeout during a deploy's checks is no verdict on the release" t_busy_systemd_is_no_verdict
run_test "a build's background process is killed when the build ends, before verify" t_build_leftovers_are_killed
run_test "each build and verify step runs in a scope of its own with the app's memory limit, gone after it" t_steps_run_in_scopes_of_their_own
run_test "kill -9 at random points of 50 deploys leaves a complete release" t_kill_during_deploy
run_test "the machine powered off in 10 deploys leaves a complete release" t_container_stopped_mid_deploy
suite_end
