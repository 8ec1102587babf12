#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Collects test results from host and guest logs and prints one line per test plus
a final "N passed, N failed, N skipped" line. Exit status 1 on any failure.

Arguments are KIND:NAME:PATH with KIND
  cargo  the output of `cargo test` ("test x ... ok|FAILED|ignored")
  tap    a plain TAP file
  pyunit the output of `python3 -m unittest -v` ("test_x (mod.Class.test_x) ... ok")
  guest  a guest console log holding VGPU-SECTION-BEGIN/END frames:
         "tap" sections (kselftest harness / shell TAP: top-level results) and
         "kunit" sections (a KUnit debugfs results file: indented leaf results).
         Each guest log also yields two checks of its own: the run reached
         VGPU-GUEST-DONE, and the log has no oops, WARN, BUG, panic or sanitizer report.
"""
import re
import sys

RESULT = re.compile(r"^(\s*)(not ok|ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(SKIP|TODO)\b(.*))?$")
PLAN = re.compile(r"^\s*1\.\.(\d+)")
# What a healthy guest log never contains.
BAD = re.compile(
    r"(Oops|BUG: |WARNING: CPU|Kernel panic|Unable to handle kernel|kernel BUG at|"
    r"rust_panic|panicked at|KASAN|UBSAN|general protection fault|"
    r"INFO: task .* blocked for more than|watchdog: BUG|refcount_t: )"
)

results = []  # (status, name, detail)


def add(status, name, detail=""):
    results.append((status, name, detail))


# Line-per-test runner outputs: the pattern (test name, outcome) and outcome -> status.
LINE_RUNNERS = {
    "cargo": (re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)"),
              {"ok": "PASS", "FAILED": "FAIL", "ignored": "SKIP"}, "cargo/"),
    "pyunit": (re.compile(r"^(test\w+) \([\w.]+\)\s*\.\.\. (ok|FAIL|ERROR|skipped)"),
               {"ok": "PASS", "FAIL": "FAIL", "ERROR": "FAIL", "skipped": "SKIP"}, ""),
}


def parse_lines(kind, name, text):
    pattern, status, sub = LINE_RUNNERS[kind]
    seen = False
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            seen = True
            add(status[m.group(2)], f"{name}/{sub}{m.group(1)}")
    if not seen:
        add("FAIL", f"{name}/{sub}".rstrip("/"), "no test results (build failure?)")


def parse_section(prefix, kind, lines):
    plan, count = None, 0
    for line in lines:
        pm = PLAN.match(line)
        if pm and plan is None and (kind == "tap") == (not line[:1].isspace()):
            plan = int(pm.group(1))
        m = RESULT.match(line)
        if not m:
            continue
        indented = bool(m.group(1))
        # tap: top-level results; kunit: the indented per-test results of the suite.
        if (kind == "tap" and indented) or (kind == "kunit" and not indented):
            continue
        count += 1
        test = m.group(4).strip() or f"#{m.group(3)}"
        if m.group(5) == "SKIP":
            add("SKIP", f"{prefix}/{test}", m.group(6).strip())
        elif m.group(2) == "ok":
            add("PASS", f"{prefix}/{test}")
        else:
            add("FAIL", f"{prefix}/{test}")
    if count == 0:
        add("FAIL", prefix, "no results (crashed or did not run)")
    elif plan is not None and count < plan:
        add("FAIL", f"{prefix}/incomplete", f"{count} of {plan} planned tests reported")
    elif plan is not None and count > plan:
        add("FAIL", f"{prefix}/extra-results", f"{count} results for {plan} planned (foreign output?)")


def parse_guest(name, text):
    lines = [l.rstrip("\r") for l in text.splitlines()]
    section, kind, body = None, None, []
    for line in lines:
        m = re.match(r"^VGPU-SECTION-BEGIN (\S+) (\S+)", line)
        if m:
            if section:
                parse_section(f"{name}/{section}", kind, body)
            kind, section, body = m.group(1), m.group(2), []
            continue
        if section and re.match(r"^VGPU-SECTION-END ", line):
            parse_section(f"{name}/{section}", kind, body)
            section = None
            continue
        if section:
            body.append(line)
    if section:
        parse_section(f"{name}/{section}", kind, body)
        add("FAIL", f"{name}/{section}/unterminated", "section never ended (guest died?)")

    done = [l for l in lines if l.startswith("VGPU-GUEST-DONE")]
    if done:
        add("PASS", f"{name}/guest-completed")
    else:
        add("FAIL", f"{name}/guest-completed", "no VGPU-GUEST-DONE marker: crash, hang or timeout")
    bad = [l for l in lines if BAD.search(l) and not l.startswith("#")]
    if bad:
        add("FAIL", f"{name}/kernel-log-clean", "; ".join(bad[:5]))
    else:
        add("PASS", f"{name}/kernel-log-clean")


def evaluate(args):
    """Fills `results` from the inputs; 1 if anything failed or nothing ran."""
    for arg in args:
        kind, name, path = arg.split(":", 2)
        try:
            with open(path, errors="replace") as f:
                text = f.read()
        except OSError as e:
            add("FAIL", name, f"cannot read {path}: {e}")
            continue
        if kind == "tap":
            parse_section(name, "tap", text.splitlines())
        elif kind == "guest":
            parse_guest(name, text)
        else:
            parse_lines(kind, name, text)
    failed = any(r[0] == "FAIL" for r in results)
    return 1 if failed or not results else 0


def main(args):
    rc = evaluate(args)
    for st, name, detail in results:
        print(f"{st:4} {name}" + (f"  -- {detail}" if detail and st != "PASS" else ""))
    p = sum(1 for r in results if r[0] == "PASS")
    f = sum(1 for r in results if r[0] == "FAIL")
    s = sum(1 for r in results if r[0] == "SKIP")
    print(f"{p} passed, {f} failed" + (f", {s} skipped" if s else ""))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
