#!/usr/bin/env python3
"""Differential test of huddle's INI reader against Python's configparser,
which read every config of the original Huddle.

Usage: ini-differential.py HUDDLECTL CORPUS_DIR
       ini-differential.py --oracle-only CORPUS_DIR   (configparser's side only)

For each CORPUS_DIR/*.ini the oracle is configparser.ConfigParser() with its
defaults, reading the file as UTF-8. It refuses the file when reading raises,
when get() raises (interpolation) for a key huddle knows in a section huddle
knows, or when what Huddle needed is missing ([repository] remote path; start
or executable when there is an [application]). Otherwise it accepts, with
get()'s value for each such key, [DEFAULT]'s included.

huddle's side is `HUDDLECTL show --json FILE`: accept when it says valid, and
then every oracle value must be the "text" of a "read" entry of that section
whose key, lowercased, is configparser's key.

INTENDED lists the files where huddle differs on purpose: "accepts" (huddle
accepts what configparser refuses) or "refuses" (the other way), and a text
that must be in one of huddle's diagnostics (None: no check), so that each
entry states exactly one difference and cannot go stale.
"""
import configparser
import json
import os
import subprocess
import sys

INTENDED = {
    # (direction, text in a huddle diagnostic or None, reason)
    "bom-utf8.ini": ("accepts", None, "a byte order mark: configparser reading UTF-8 sees U+FEFF before '[' (MissingSectionHeaderError); huddle strips it"),
    "bom-then-comment.ini": ("accepts", None, "a byte order mark before a comment line: likewise"),
    "bom-crlf.ini": ("accepts", None, "a byte order mark, with CRLF line ends: likewise"),
    "pct-lone.ini": ("accepts", "kept as written", "a lone '%': configparser's get() raises; huddle keeps it, with a notice"),
    "pct-at-end.ini": ("accepts", "kept as written", "a '%' at the end of a value: likewise"),
    "pct-lone-in-url.ini": ("accepts", "kept as written", "a percent-encoded URL ('%20'): likewise"),
    "pct-lone-in-continuation.ini": ("accepts", "kept as written", "a lone '%' in a continuation line: likewise"),
    "section-unknown-metadata.ini": ("refuses", "unknown section", "a section huddle does not know: configparser ignores it, huddle refuses it"),
    "section-unknown-with-bad-percent.ini": ("refuses", "unknown section", "an unknown section (holding a lone '%' nobody reads)"),
    "case-default-lowercase.ini": ("refuses", "unknown section", "[default] is not [DEFAULT] for configparser: an unknown section"),
    "case-section-title.ini": ("accepts", None, "[Repository]: section names are case-sensitive in configparser, not in huddle"),
    "section-name-inner-spaces.ini": ("accepts", None, "[ repository ]: configparser keeps the spaces in the name; huddle's names, like its keys, ignore them"),
    "section-remote-path-underscore-only.ini": ("accepts", None, "'remote_path' is not 'remote path' to configparser; huddle takes ' ', '_' and '-' alike"),
    "dup-key-two-spellings-underscore.ini": ("refuses", "set twice", "'remote path' and 'remote_path': two keys to configparser, one key given twice to huddle"),
    "dup-section-case-variant.ini": ("refuses", "section given twice", "[repository] and [Repository]: two sections to configparser, one given twice to huddle"),
    "cont-timing-swallows-maximum.ini": ("refuses", "several lines", "minimum reads '30\\nmaximum = 90' (as configparser reads it), which is no duration; Huddle's int() failed on it too"),
    "indent-header-swallowed-repository-remote.ini": ("refuses", "several lines", "an indented [application] under remote path continues it (configparser reads a two-line URL and start in [repository]); huddle refuses a remote path of several lines"),
    "ctrl-form-feed-line.ini": ("refuses", "control character", "a form feed: white space to configparser, a control character huddle refuses"),
    "ctrl-escape-in-value.ini": ("refuses", "control character", "an ESC in a value: text to configparser, a control character huddle refuses"),
}

KNOWN = {
    "repository": {"remote path", "branch", "tag", "commit", "local path", "credential", "known hosts", "submodules",
                   "remote", "type", "executable"},
    "timing": {"minimum", "maximum"},
    "application": {"start", "executable", "user", "group", "environment", "environment file", "type", "restart",
                    "stop timeout", "working directory"},
    "deploy": {"build", "verify", "timeout", "settle", "health command", "health timeout", "keep"},
    "scripts": {"pre-pull", "post-pull"},
    "watchdog": {"period", "host", "port", "request", "response"},
}


def first_line(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def oracle(path):
    """('accept'|'refuse', reason, {(section, key): value})"""
    cp = configparser.ConfigParser()
    try:
        cp.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as e:
        return "refuse", first_line(e), {}
    values = {}
    for section, keys in KNOWN.items():
        if not cp.has_section(section):
            continue
        for key in cp.options(section):  # [DEFAULT]'s keys included
            if key in keys:
                try:
                    values[(section, key)] = cp.get(section, key)
                except configparser.Error as e:
                    return "refuse", first_line(e), {}
    if not cp.has_option("repository", "remote path"):
        return "refuse", "no [repository] remote path", {}
    if cp.has_section("application") and not (cp.has_option("application", "start") or cp.has_option("application", "executable")):
        return "refuse", "[application] without start or executable", {}
    return "accept", "", values


def huddle(huddlectl, path):
    """('accept'|'refuse', first error or '', doc), or raises RuntimeError."""
    r = subprocess.run([huddlectl, "show", "--json", path], capture_output=True, env={**os.environ, "LC_ALL": "C.UTF-8"})
    try:
        doc = json.loads(r.stdout.decode("utf-8", "surrogateescape"))
    except ValueError:
        raise RuntimeError(f"exit {r.returncode}, no JSON: {r.stderr.decode(errors='replace').strip()[:200]!r}")
    if r.returncode not in (0, 1) or doc.get("valid") != (r.returncode == 0):
        raise RuntimeError(f"exit {r.returncode} with valid={doc.get('valid')!r}")
    errors = [f"{d.get('line')}: {d['message']}" for d in doc["diagnostics"] if d["severity"] == "error"]
    return ("accept" if doc["valid"] else "refuse"), (errors[0] if errors else ""), doc


def compare_values(values, doc):
    """The first oracle value huddle did not read alike, as a message, or None."""
    for (section, key), want in values.items():
        got = [e["text"] for e in doc["read"] if e["section"] == section and e["key"].lower() == key]
        if want not in got:
            return f"[{section}] {key}: configparser {want!r}, huddle {got[0] if len(got) == 1 else got!r}"
    return None


def check(huddlectl, path):
    """None if the file passes, else why not (one line)."""
    name = os.path.basename(path)
    o, o_why, values = oracle(path)
    try:
        h, h_why, doc = huddle(huddlectl, path)
    except RuntimeError as e:
        return f"huddlectl: {e}"
    sides = f"configparser {o}{' (' + o_why + ')' if o_why else ''}; huddle {h}{' (' + h_why + ')' if h_why else ''}"
    if name in INTENDED:
        direction, needle, reason = INTENDED[name]
        want = ("refuse", "accept") if direction == "accepts" else ("accept", "refuse")
        if (o, h) != want:
            return f"listed as huddle {direction} ({reason}), but {sides}"
        if needle and not any(needle in d["message"] for d in doc["diagnostics"]):
            return f"listed as huddle {direction} with a diagnostic containing {needle!r}, but none does; {sides}"
        return None
    if o != h:
        return sides
    if o == "accept":
        return compare_values(values, doc)
    return None


def main():
    if sys.argv[1:2] == ["--oracle-only"]:
        for name in sorted(os.listdir(sys.argv[2])):
            o, why, values = oracle(os.path.join(sys.argv[2], name))
            print(f"{name}: {o}{' (' + why + ')' if why else ''}")
            for (section, key), v in values.items():
                print(f"    [{section}] {key} = {v!r}")
        return 0
    huddlectl, corpus = sys.argv[1:3]
    names = sorted(n for n in os.listdir(corpus) if n.endswith(".ini"))
    stale = sorted(set(INTENDED) - set(names))
    failed = 0
    for name in names:
        why = check(huddlectl, os.path.join(corpus, name))
        if why:
            failed += 1
            print(f"FAIL {name}: {why}")
    for name in stale:
        failed += 1
        print(f"FAIL {name}: listed in INTENDED but not in the corpus")
    print(f"{len(names) - failed + len(stale)} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
