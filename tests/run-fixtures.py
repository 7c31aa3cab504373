#!/usr/bin/env python3
"""Drive the real huddlectl over every config fixture and check the outcome
each fixture states about itself in '## assert-...' comments.

Usage: run-fixtures.py HUDDLECTL FIXTURE_DIR UNITS_DIR

Directives (anywhere in a line, after the format's comment marker):
  ## assert-valid                      no errors; units are planned and pass systemd-analyze verify
  ## assert-error LINE[:COL] TEXT      an error at LINE (and COL) whose message contains TEXT
  ## assert-warning LINE TEXT          likewise for warnings; ## assert-notice for notices
                                       (LINE may be '*': any line)
  ## assert-error-count N              exactly N errors
  ## assert-key-is ROLE KEY VALUE      the last KEY= line of the ROLE unit (app, timer, fetch, watchdog-timer, watchdog) is VALUE
  ## assert-key-contains ROLE KEY VALUE  some KEY= line of the ROLE unit is VALUE
  ## assert-no-key ROLE KEY            the ROLE unit has no KEY= line
  ## assert-no-unit ROLE               no unit of that role is planned
  ## assert-property ROLE NAME SIG JSON  `plan --json`: D-Bus property NAME has signature SIG and value JSON

Hostile input:
  ## generate TOKEN COUNT TEXT         check a copy of the fixture, made in a scratch directory, in which
                                       TOKEN is TEXT repeated COUNT times: in the file's name and in every
                                       line but the ## generate lines. TEXT takes Python's bytes escapes
                                       (\\n, \\t, \\xNN, \\\\). For a 10 MB value or a 250-byte name
                                       without such a file in the repository.
  NAME.d/                              a directory of configs, checked together as one config directory
                                       (huddlectl validate DIR, plan DIR), for what involves several apps.
                                       Each file's directives apply to its own diagnostics and its app's
                                       units; there assert-valid also requires the app to be planned. An
                                       empty file masks its app and carries no directive: it must have no
                                       diagnostics and no units.
  @KEYS@                               in a fixture's lines: the absolute path of a directory the runner makes
                                       for it, 0755, with the key files that [repository] signers and keyring
                                       name: allowed_signers (one SSH key, namespaces="git"), keyring.asc (one
                                       OpenPGP public key, armored) and keyring.gpg (the same, binary), each
                                       0644 and the runner's own; the fixture is checked as a copy made in a
                                       scratch directory, as with ## generate.
  Fixtures are read as bytes: they may hold NUL bytes and invalid UTF-8.
"""
import base64
import codecs
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HUDDLECTL, FIXTURES, UNITS = sys.argv[1:4]
DIAG = re.compile(r"^(?P<file>.*?):(?:(?P<line>\d+):(?:(?P<col>\d+):)? )?\s*(?P<sev>error|warning|notice): (?P<msg>.*)$")
# Public keys only, made once for the fixtures; nothing is signed with them.
ALLOWED_SIGNERS = ('fixture@example.com namespaces="git" '
                   'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMBfeR3DBH9u++FCbmo6J7WuOcGTO5GS+8k2sFMGP7X+ fixture\n')
KEYRING_ASC = """-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaxFxZRYJKwYBBAHaRw8BAQdAMrP6adKS84uCpQw+DxBkBT4VO7Fdm3PUOZBJ
FWbAS6a0JEZpeHR1cmUgU2lnbmVyIDxmaXh0dXJlQGV4YW1wbGUuY29tPoiQBBMW
CAA4FiEEQ8ELiXmneYdX7cmu/HfEDIKqoKEFAmsRcWUCGwMFCwkIBwIGFQoJCAsC
BBYCAwECHgECF4AACgkQ/HfEDIKqoKE93AEAxnRyhO9n+dP6oL6+bqYtWPYZ5oM0
EQYsjbHIpD2Og08BAMQKtbWBVwH55ybxxMCS1r3NYUed0xhtcavGqZHK5YkD
=4Fxj
-----END PGP PUBLIC KEY BLOCK-----
"""
ROLE_UNIT = {"app": "huddle@{}.service", "timer": "huddle-fetch@{}.timer", "fetch": "huddle-fetch@{}.service",
             "watchdog-timer": "huddle-watchdog@{}.timer", "watchdog": "huddle-watchdog@{}.service"}


def run(*args):
    r = subprocess.run([HUDDLECTL, *args], capture_output=True, env={**os.environ, "LC_ALL": "C.UTF-8"})
    # Messages quote the file's name and text, which need not be UTF-8.
    r.stdout, r.stderr = (b.decode("utf-8", "surrogateescape") for b in (r.stdout, r.stderr))
    return r


def escape(name):
    # The fixture names the runner uses are simple; systemd-escape is tested in the unit tests.
    out = ""
    for i, ch in enumerate(name):
        if ch.isalnum() and ch.isascii() or ch in ":_" or (ch == "." and i > 0):
            out += ch
        else:
            out += "\\x%02x" % ord(ch)
    return out


def unit_keys(text):
    keys = []
    for line in text.splitlines():
        if "=" in line and not line.startswith("#") and not line.startswith("["):
            k, v = line.split("=", 1)
            keys.append((k, v))
    return keys


class VerifyRoot:
    """systemd-analyze verify checks that every ExecStart program exists. The
    apps' programs arrive with their releases, and huddle-fetch is not
    installed where the build runs, so verification happens in a scratch root
    with the system's unit tree and stand-ins for the programs named.

    The unit tree is copied once per run; fresh() gives each verification the
    root as it was after the copy, with only huddle.slice in
    /etc/systemd/system: every path added since (units, stand-ins and their
    directories) is removed, and a path of the copy that changed is an error."""

    def __init__(self, base):
        self.root = os.path.join(base, "root")
        shutil.copytree("/usr/lib/systemd/system", os.path.join(self.root, "usr/lib/systemd/system"), symlinks=True)
        self.copy = self.walk()

    def walk(self):
        out = {}
        for d, dirs, files in os.walk(self.root):
            for n in dirs + files:
                p = os.path.join(d, n)
                st = os.lstat(p)
                # A directory's own times and size change with its entries.
                out[p] = (st.st_mode,) if stat.S_ISDIR(st.st_mode) else (st.st_mode, st.st_size, st.st_mtime_ns)
        return out

    def fresh(self):
        now = self.walk()
        for p in sorted(now, reverse=True):  # a directory's entries before it
            if p not in self.copy:
                if os.path.isdir(p) and not os.path.islink(p):
                    os.rmdir(p)
                else:
                    os.unlink(p)
            elif now[p] != self.copy[p]:
                sys.exit(f"run-fixtures.py: {p} changed in the verify root")
        missing = self.copy.keys() - now.keys()
        if missing:
            sys.exit(f"run-fixtures.py: {sorted(missing)[0]} went missing from the verify root")
        os.makedirs(os.path.join(self.root, "etc/systemd/system"))
        shutil.copy(os.path.join(UNITS, "huddle.slice"), os.path.join(self.root, "etc/systemd/system"))
        return self.root


def stand_in(root, program):
    path = program if program.startswith("/") else "/usr/bin/" + program
    dest = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if not os.path.exists(dest):
        with open(dest, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(dest, 0o755)


def directives_of(data):
    out = []
    for line in data.decode("utf-8", "surrogateescape").splitlines():
        m = re.search(r"## (assert-[a-z-]+|generate)\s*(.*?)\s*$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def key_files(scratch):
    """The directory @KEYS@ stands for: key files as an operator installs them."""
    d = os.path.join(scratch, "keys")
    os.makedirs(d)
    os.chmod(d, 0o755)
    body = KEYRING_ASC.split("\n\n", 1)[1].split("\n=", 1)[0]
    for name, content in (("allowed_signers", ALLOWED_SIGNERS.encode()), ("keyring.asc", KEYRING_ASC.encode()),
                          ("keyring.gpg", base64.b64decode("".join(body.split())))):
        p = os.path.join(d, name)
        with open(p, "wb") as f:
            f.write(content)
        os.chmod(p, 0o644)
    return d


def generate(path, data, gens, scratch):
    """The copy of a fixture that its ## generate directives describe, with
    @KEYS@ replaced."""
    name = os.path.basename(path).encode("utf-8", "surrogateescape")
    lines = data.split(b"\n")
    if b"@KEYS@" in data:
        keys = key_files(scratch).encode()
        lines = [l.replace(b"@KEYS@", keys) for l in lines]
    for arg in gens:
        token, count, text = arg.split(" ", 2)
        token = token.encode()
        value = codecs.escape_decode(text.encode("utf-8", "surrogateescape"))[0] * int(count)
        name = name.replace(token, value)
        lines = [l if b"## generate " in l else l.replace(token, value) for l in lines]
    d = os.path.join(scratch, "generated")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(d, name.decode("utf-8", "surrogateescape"))
    with open(out, "wb") as f:
        f.write(b"\n".join(lines))
    return out


def load(target):
    """huddlectl validate and plan on TARGET (a file or a directory): the
    diagnostics by file, the plan (None if the plan is refused), problems."""
    problems = []
    v = run("validate", target)
    diags = {}
    for line in v.stdout.splitlines():
        m = DIAG.match(line)
        if m:
            diags.setdefault(m.group("file"), []).append(
                {"line": int(m.group("line") or 0), "col": int(m.group("col") or 0), "sev": m.group("sev"), "msg": m.group("msg")})
    errors = sum(1 for ds in diags.values() for d in ds if d["sev"] == "error")
    if v.returncode not in (0, 1):
        problems.append(f"huddlectl validate exited {v.returncode}: {v.stderr.strip()}")
    if (v.returncode == 1) != bool(errors):
        problems.append(f"exit code {v.returncode} does not match {errors} error(s)")
    plan_json = None
    if not errors or os.path.isdir(target):
        p = run("plan", target)
        pj = run("plan", "--json", target)
        if p.returncode != (1 if errors else 0) or pj.returncode != p.returncode:
            problems.append(f"plan exited {p.returncode} (--json: {pj.returncode}) for {errors} error(s): {p.stderr.strip()}")
        else:
            plan_json = json.loads(pj.stdout)
    return diags, plan_json, problems


def check(path, directives, diags, plan_json, in_dir):
    """The directives of the fixture at PATH, against what huddlectl said."""
    app = os.path.basename(path).rsplit(".", 1)[0]
    problems = []
    errors = [d for d in diags if d["sev"] == "error"]

    def unit_text(role):
        if not plan_json:
            return None
        want = ROLE_UNIT[role].format(escape(app))
        for a in plan_json["apps"]:
            for u in a["units"]:
                if u["name"] == want:
                    return u
        return None

    for kind, arg in directives:
        if kind == "generate":
            continue
        if kind == "assert-valid":
            if errors:
                problems.append("expected valid, got: " + "; ".join(f"{d['line']}: {d['msg']}" for d in errors))
            elif in_dir and not any(a["app"] == app for a in (plan_json or {}).get("apps", [])):
                problems.append(f"app {app} is not planned")
        elif kind in ("assert-error", "assert-warning", "assert-notice"):
            sev = kind.split("-")[1]
            where, _, text = arg.partition(" ")
            line, _, col = where.partition(":")
            hit = [d for d in diags if d["sev"] == sev and (line == "*" or d["line"] == int(line))
                   and (not col or d["col"] == int(col)) and text in d["msg"]]
            if not hit:
                problems.append(f"expected {sev} at {where} containing {text!r}; got: " +
                                ("; ".join(f"{d['sev']} {d['line']}:{d['col']} {d['msg']}" for d in diags) or "nothing"))
        elif kind == "assert-error-count":
            if len(errors) != int(arg):
                problems.append(f"expected {arg} error(s), got {len(errors)}")
        elif kind in ("assert-key-is", "assert-key-contains", "assert-no-key", "assert-no-unit"):
            parts = arg.split(" ", 2)
            role = parts[0]
            u = unit_text(role)
            if kind == "assert-no-unit":
                if plan_json is None:
                    problems.append("assert-no-unit needs a valid config")
                elif u is not None:
                    problems.append(f"expected no {role} unit, got {u['name']}")
                continue
            if u is None:
                problems.append(f"no {role} unit planned for {kind} {arg}")
                continue
            values = [val for k, val in unit_keys(u["text"]) if k == parts[1]]
            if kind == "assert-no-key":
                if values:
                    problems.append(f"{role} unit has {parts[1]}={values[-1]}")
            elif kind == "assert-key-is":
                if not values or values[-1] != parts[2]:
                    problems.append(f"{role} {parts[1]}: expected {parts[2]!r}, got {values[-1] if values else None!r}")
            elif parts[2] not in values:
                problems.append(f"{role} {parts[1]}: expected one line {parts[2]!r}, got {values!r}")
        elif kind == "assert-property":
            role, prop, sig, value = arg.split(" ", 3)
            u = unit_text(role)
            found = [p for p in (u or {}).get("properties", []) if p["name"] == prop]
            if not found:
                problems.append(f"no property {prop} in {role} unit")
            elif found[0]["signature"] != sig or found[0]["value"] != json.loads(value):
                problems.append(f"{role} {prop}: expected {sig} {value}, got {found[0]['signature']} {json.dumps(found[0]['value'])}")
        else:
            problems.append(f"unknown directive {kind}")
    return problems


def verify(plan_json, verify_root):
    if not plan_json or not plan_json["apps"]:
        return []
    root = verify_root.fresh()
    names = []
    for a in plan_json["apps"]:
        for u in a["units"]:
            with open(os.path.join(root, "etc/systemd/system", u["name"]), "w") as f:
                f.write(u["text"])
            names.append(u["name"])
            for p in u["properties"]:
                if p["signature"] == "a(sasb)":
                    for cmd in p["value"]:
                        stand_in(root, cmd[0])
    r = subprocess.run(["systemd-analyze", "verify", "--root=" + root, *names], capture_output=True, text=True)
    if r.returncode != 0 or r.stderr.strip():
        return ["systemd-analyze verify: " + (r.stderr.strip() or f"exit {r.returncode}")]
    return []


def check_file(path, scratch, verify_root):
    with open(path, "rb") as f:
        data = f.read()
    directives = directives_of(data)
    if not any(k.startswith("assert-") for k, _ in directives):
        return ["no '## assert-' directive: say what this fixture must produce"]
    gens = [a for k, a in directives if k == "generate"]
    target = generate(path, data, gens, scratch) if gens or b"@KEYS@" in data else path
    diags, plan_json, problems = load(target)
    problems += check(target, directives, diags.get(target, []), plan_json, False)
    return problems + verify(plan_json, verify_root)


def check_dir(path, verify_root):
    diags, plan_json, problems = load(path)
    names = sorted(f for f in os.listdir(path) if f.rsplit(".", 1)[-1] in ("ini", "json", "toml"))
    if not names:
        return ["no configs in the directory"]
    for f in names:
        fp = os.path.join(path, f)
        with open(fp, "rb") as fh:
            data = fh.read()
        directives = directives_of(data)
        if not data:
            app = f.rsplit(".", 1)[0]
            if diags.get(fp):
                problems.append(f"{f}: an empty file masks its app, but got: " + "; ".join(d["msg"] for d in diags[fp]))
            if plan_json and any(a["app"] == app for a in plan_json["apps"]):
                problems.append(f"{f}: an empty file masks its app, but {app} is planned")
        elif not any(k.startswith("assert-") for k, _ in directives):
            problems.append(f"{f}: no '## assert-' directive: say what this fixture must produce")
        else:
            problems += [f"{f}: {p}" for p in check(fp, directives, diags.get(fp, []), plan_json, True)]
    return problems + verify(plan_json, verify_root)


def main():
    entries = sorted(f for f in os.listdir(FIXTURES) if f.rsplit(".", 1)[-1] in ("ini", "json", "toml")
                     or (f.endswith(".d") and os.path.isdir(os.path.join(FIXTURES, f))))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as base:
        verify_root = VerifyRoot(base)
        for f in entries:
            with tempfile.TemporaryDirectory() as scratch:
                path = os.path.join(FIXTURES, f)
                problems = check_dir(path, verify_root) if f.endswith(".d") else check_file(path, scratch, verify_root)
            if problems:
                failed += 1
                print(f"FAIL {f}")
                for p in problems:
                    print(f"     {p}")
            else:
                passed += 1
                print(f"ok   {f}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not entries else 0


if __name__ == "__main__":
    sys.exit(main())
