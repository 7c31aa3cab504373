#!/usr/bin/env python3
"""Run the Catch2 unit tests and count test cases, so the suite ends with the
'N passed, N failed' line every huddle suite prints. Usage: run-unit.py BINARY [ARGS]"""
import subprocess
import sys
import xml.etree.ElementTree as ET

r = subprocess.run([sys.argv[1], "--reporter", "junit", *sys.argv[2:]], capture_output=True, text=True)
try:
    root = ET.fromstring(r.stdout)
except ET.ParseError:
    print(r.stdout, r.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)
# Catch2 writes one <testcase> per test case and per section; count test cases.
cases = {}
for tc in root.iter("testcase"):
    name = tc.get("name", "").split("/")[0]
    bad = tc.find("failure") is not None or tc.find("error") is not None
    cases[name] = cases.get(name, False) or bad
    for f in list(tc.iter("failure")) + list(tc.iter("error")):
        print(f"FAIL {tc.get('name')}: {f.get('message', '')}\n{f.text or ''}")
passed = sum(1 for bad in cases.values() if not bad)
failed = sum(1 for bad in cases.values() if bad)
if r.returncode != 0 and failed == 0:
    print(r.stderr)
    failed = 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
