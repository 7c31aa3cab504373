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
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HUDDLECTL, FIXTURES, UNITS = sys.argv[1:4]
DIAG = re.compile(r"^(?P<file>.*?):(?:(?P<line>\d+):(?:(?P<col>\d+):)? )?\s*(?P<sev>error|warning|notice): (?P<msg>.*)$")
ROLE_UNIT = {"app": "huddle@{}.service", "timer": "huddle-fetch@{}.timer", "fetch": "huddle-fetch@{}.service",
             "watchdog-timer": "huddle-watchdog@{}.timer", "watchdog": "huddle-watchdog@{}.service"}


def run(*args):
    return subprocess.run([HUDDLECTL, *args], capture_output=True, text=True, env={**os.environ, "LC_ALL": "C.UTF-8"})


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


def make_verify_root(base):
    """systemd-analyze verify checks that every ExecStart program exists. The
    apps' programs arrive with their releases, and huddle-fetch is not
    installed where the build runs, so verification happens in a scratch root
    with the system's unit tree and stand-ins for the programs named."""
    root = os.path.join(base, "root")
    shutil.copytree("/usr/lib/systemd/system", os.path.join(root, "usr/lib/systemd/system"), symlinks=True)
    os.makedirs(os.path.join(root, "etc/systemd/system"))
    shutil.copy(os.path.join(UNITS, "huddle.slice"), os.path.join(root, "etc/systemd/system"))
    return root


def stand_in(root, program):
    path = program if program.startswith("/") else "/usr/bin/" + program
    dest = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    if not os.path.exists(dest):
        with open(dest, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(dest, 0o755)


def check(path, scratch):
    name = os.path.basename(path)
    app = name.rsplit(".", 1)[0]
    problems = []
    directives = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(r"## (assert-[a-z-]+)\s*(.*?)\s*$", line)
            if m:
                directives.append((m.group(1), m.group(2)))
    if not directives:
        return ["no '## assert-' directive: say what this fixture must produce"]

    v = run("validate", path)
    diags = []
    for line in v.stdout.splitlines():
        m = DIAG.match(line)
        if m and m.group("file") == path:
            diags.append({"line": int(m.group("line") or 0), "col": int(m.group("col") or 0), "sev": m.group("sev"), "msg": m.group("msg")})
    errors = [d for d in diags if d["sev"] == "error"]
    if v.returncode not in (0, 1):
        problems.append(f"huddlectl validate exited {v.returncode}: {v.stderr.strip()}")
    if (v.returncode == 1) != bool(errors):
        problems.append(f"exit code {v.returncode} does not match {len(errors)} error(s)")

    plan_text = plan_json = None
    if not errors:
        p = run("plan", path)
        pj = run("plan", "--json", path)
        if p.returncode != 0 or pj.returncode != 0:
            problems.append(f"plan failed on a valid config: {p.stderr.strip()}")
        else:
            plan_text = p.stdout
            plan_json = json.loads(pj.stdout)

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
        if kind == "assert-valid":
            if errors:
                problems.append("expected valid, got: " + "; ".join(f"{d['line']}: {d['msg']}" for d in errors))
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

    if plan_json:
        root = make_verify_root(os.path.join(scratch, app))
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
            problems.append("systemd-analyze verify: " + (r.stderr.strip() or f"exit {r.returncode}"))
    return problems


def main():
    files = sorted(f for f in os.listdir(FIXTURES) if f.rsplit(".", 1)[-1] in ("ini", "json", "toml"))
    passed = failed = 0
    with tempfile.TemporaryDirectory() as scratch:
        for f in files:
            problems = check(os.path.join(FIXTURES, f), scratch)
            if problems:
                failed += 1
                print(f"FAIL {f}")
                for p in problems:
                    print(f"     {p}")
            else:
                passed += 1
                print(f"ok   {f}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not files else 0


if __name__ == "__main__":
    sys.exit(main())
