#!/usr/bin/env python3
"""Keep the man pages in man/ in step with the code and with themselves.

Usage: check-man.py HUDDLECTL MAN_DIR

Checks, each counted once:
  - each huddlectl subcommand, as `huddlectl --help` lists it, has an entry
    "*NAME* ..." in the COMMANDS section of huddlectl.1.scd, and that entry
    names every option `huddlectl NAME --help` lists; the COMMANDS section
    documents no subcommand that does not exist;
  - the global options of `huddlectl --help` appear in its OPTIONS section;
  - each page: scdoc converts it without a message, its preamble names the
    file's page and section, it has NAME, SYNOPSIS, DESCRIPTION and SEE ALSO,
    and man/meson.build builds it;
  - each example config, a literal block after a "; example: FILE" comment,
    passes `huddlectl validate` with no error or warning; huddle.conf.5.scd
    has one in each format, and its examples of one app in several formats
    (shop.json, shop.ini, ...) plan the same units.
(Every config key is checked by tests/unit/test_man.cpp, which asks the
loader itself for the keys it accepts.)

Prints one line per check; the last line is "N passed, N failed". Exit
status 1 if any check failed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

PAGES = ["huddle.conf.5.scd", "huddle-gen.8.scd", "huddle-fetch.8.scd", "huddlectl.1.scd"]
REQUIRED_HEADINGS = ["NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"]

passed = 0
failed = 0


def check(ok, what, why=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what}" + (f": {why}" if why else ""))


def env_without_overrides():
    env = dict(os.environ)
    env.pop("HUDDLE_CONFIG_PATH", None)
    return env


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, env=env_without_overrides(), **kw)


def unescape(text):
    """scdoc's escape: a backslash makes the next character literal."""
    return re.sub(r"\\(.)", r"\1", text)


def top_sections(lines):
    """{'COMMANDS': [lines...], ...} for each '# HEADING' of a page."""
    out, current = {}, None
    for line in lines:
        m = re.match(r"# (.+)$", line)
        if m:
            current = m.group(1).strip()
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def entries(lines):
    """{term: [lines of its entry]} for each '*term* ...' line at column 0."""
    out, current = {}, None
    for line in lines:
        m = re.match(r"\*([^*]+)\*", line)
        if m:
            current = unescape(m.group(1))
            out[current] = [line]
        elif line.startswith("#"):
            current = None
        elif current is not None:
            out[current].append(line)
    return out


def help_block(text, title):
    """The indented lines under 'Title:' in CLI11's --help output."""
    lines, inside = [], False
    for line in text.splitlines():
        if line.strip() == title + ":":
            inside = True
            continue
        if inside:
            if not line.strip() or not line.startswith(" "):
                break
            lines.append(line)
    return lines


def option_names(help_text):
    """Every -x and --xyz named in the Options: block, but --help."""
    names = []
    for line in help_block(help_text, "Options"):
        spec = line.split()[0] if line.startswith("  -") else ""
        for name in spec.split(","):
            if name.startswith("-") and name not in ("-h", "--help"):
                names.append(name)
    return names


def check_huddlectl(huddlectl, man_dir):
    path = os.path.join(man_dir, "huddlectl.1.scd")
    try:
        lines = unescape(open(path, encoding="utf-8").read()).splitlines()
    except OSError as e:
        check(False, "huddlectl.1.scd", str(e))
        return
    sections = top_sections(lines)
    documented = entries(sections.get("COMMANDS", []))

    top = run([huddlectl, "--help"])
    subcommands = [line.split()[0] for line in help_block(top.stdout, "Subcommands")]
    if top.returncode != 0 or not subcommands:
        check(False, "huddlectl --help lists subcommands", f"exit {top.returncode}, none found in:\n{top.stdout}{top.stderr}")
        return
    for sub in subcommands:
        what = f"huddlectl.1: COMMANDS has *{sub}*"
        if sub not in documented:
            check(False, what, f"no line starting with '*{sub}*' in # COMMANDS")
            continue
        entry = "\n".join(documented[sub])
        sub_help = run([huddlectl, sub, "--help"])
        missing = [o for o in option_names(sub_help.stdout) if not re.search(re.escape(o) + r"(?![\w-])", entry)]
        check(sub_help.returncode == 0 and not missing, what + " with its options",
              f"huddlectl {sub} --help exit {sub_help.returncode}" if sub_help.returncode else f"not in its entry: {', '.join(missing)}")
    extra = [t for t in documented if t not in subcommands]
    check(not extra, "huddlectl.1: COMMANDS documents only real subcommands", f"not in huddlectl --help: {', '.join(extra)}")

    options = "\n".join(sections.get("OPTIONS", []))
    missing = [o for o in option_names(top.stdout) + ["--help"] if not re.search(re.escape(o) + r"(?![\w-])", options)]
    check(not missing, "huddlectl.1: OPTIONS has the global options", f"missing: {', '.join(missing)}")


def check_pages(man_dir):
    scdoc = shutil.which("scdoc")
    try:
        meson = open(os.path.join(man_dir, "meson.build"), encoding="utf-8").read()
    except OSError:
        meson = ""
    present = sorted(f for f in os.listdir(man_dir) if f.endswith(".scd"))
    for page in sorted(set(PAGES) | set(present)):
        path = os.path.join(man_dir, page)
        problems = []
        try:
            text = open(path, encoding="utf-8").read()
        except OSError as e:
            check(False, f"page {page}", str(e))
            continue
        name, section = page[: -len(".scd")].rsplit(".", 1)
        first = text.splitlines()[0] if text else ""
        if not re.match(re.escape(f"{name}({section})") + r'(\s|$)', first):
            problems.append(f"preamble is '{first}', expected '{name}({section})'")
        headings = {m.group(1).strip() for m in re.finditer(r"^# (.+)$", text, re.M)}
        problems += [f"no '# {h}'" for h in REQUIRED_HEADINGS if h not in headings]
        if f"'{name}.{section}'" not in meson:
            problems.append(f"man/meson.build does not build '{name}.{section}'")
        if not scdoc:
            problems.append("scdoc is not installed (dev/deps installs it)")
        else:
            with open(path, "rb") as f:
                r = subprocess.run([scdoc], stdin=f, capture_output=True)
            if r.returncode != 0 or r.stderr.strip():
                problems.append(f"scdoc: exit {r.returncode}: {r.stderr.decode(errors='replace').strip()}")
            elif not r.stdout:
                problems.append("scdoc wrote nothing")
        check(not problems, f"page {page}", "; ".join(problems))


def examples_of(text):
    """[(file name, content)] of each literal block after '; example: FILE'."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r";\s+example:\s+(\S+)\s*$", lines[i])
        i += 1
        if not m:
            continue
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines) or lines[i].strip() != "```":
            out.append((m.group(1), None))
            continue
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        i += 1
        out.append((m.group(1), unescape("\n".join(body)) + "\n"))
    return out


def check_examples(huddlectl, man_dir):
    formats = set()
    twins = {}
    with tempfile.TemporaryDirectory(prefix="check-man.") as tmp:
        for page in PAGES:
            try:
                text = open(os.path.join(man_dir, page), encoding="utf-8").read()
            except OSError:
                continue  # reported by check_pages
            for name, content in examples_of(text):
                what = f"{page}: example {name} is valid"
                if content is None:
                    check(False, what, "no ``` block after its '; example:' comment")
                    continue
                path = os.path.join(tmp, os.path.basename(name))
                with open(path, "w", encoding="utf-8") as f:
                    f.write(content)
                r = run([huddlectl, "validate", path])
                bad = [l for l in r.stdout.splitlines() if ": error: " in l or ": warning: " in l]
                check(r.returncode == 0 and not bad, what, f"exit {r.returncode}\n{r.stdout}{r.stderr}")
                if page == "huddle.conf.5.scd":
                    formats.add(os.path.splitext(name)[1])
                    twins.setdefault(os.path.splitext(name)[0], []).append(path)
        # The same app written in several formats must mean the same.
        for base, paths in sorted(twins.items()):
            if len(paths) < 2:
                continue
            plans = []
            for path in paths:
                r = run([huddlectl, "plan", path])
                plans.append("\n".join(l for l in r.stdout.splitlines() if not l.startswith("#")) if r.returncode == 0 else None)
            same = plans[0] is not None and all(p == plans[0] for p in plans)
            check(same, f"huddle.conf.5: examples {base}.* plan the same units",
                  "\n".join(f"--- {os.path.basename(p)}\n{plan}" for p, plan in zip(paths, plans)))
    missing = {".json", ".ini", ".toml"} - formats
    check(not missing, "huddle.conf.5: an example in each format", f"none in {', '.join(sorted(missing))}")


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        print("0 passed, 1 failed")
        return 2
    huddlectl, man_dir = sys.argv[1], sys.argv[2]
    check_huddlectl(huddlectl, man_dir)
    check_pages(man_dir)
    check_examples(huddlectl, man_dir)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
