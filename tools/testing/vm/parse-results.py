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
         The tap sections "igt" and "igt-c" (guest/igt.sh: one line per IGT subtest and
         dynamic subtest, "test@subtest[@dynamic]") are held against expectation lists
         in the repository (see IGT_EXPECTED and load_expectations).
         Each guest log also yields two checks of its own: the run reached
         VGPU-GUEST-DONE, and the log has no oops, WARN, BUG, panic, lockdep, hung-task,
         lockup, OOM, sanitizer report or call trace (see BAD).
"""
import os
import re
import sys

# The repository: this file is tools/testing/vm/parse-results.py.
REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))

RESULT = re.compile(r"^(\s*)(not ok|ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(SKIP|TODO)\b(.*))?$")
PLAN = re.compile(r"^\s*1\.\.(\d+)")
# What a healthy guest log never contains: (kind, pattern) in the kernel's own formats, first
# match wins. Unanchored, so a printk "<4>", "[    1.234567] " or "[  T118] " prefix or a
# subsystem prefix ("watchdog: ") may precede them. Word starts keep IGT's "DEBUG:" out.
BAD = [(kind, re.compile(pattern)) for kind, pattern in [
    # 7.2: "WARNING: mm/slub.c:6946 at sym+0x2f8/0x3a4, CPU#1: comm/118" or "WARNING: at sym,
    # CPU#1: ..." (no file); older kernels: "WARNING: CPU: 1 PID: 7 at file:line sym".
    ("WARN", r"\bWARNING: (?:CPU: \d+ PID: \d+ at |at \S|\S+:\d+ at \S)"),
    ("LOCKDEP", r"\bWARNING: (?:possible (?:circular locking dependency|recursive locking"
                r"|irq lock inversion dependency) detected|inconsistent lock state"
                r"|suspicious RCU usage|bad unlock balance detected|held lock freed"
                r"|lock held when returning to user space|Nested lock was not taken"
                r"|\S+-safe -> \S+-unsafe lock order detected|\S+/\d+ still has locks held"
                r"|chain_key collision|bad contention detected)"),
    ("LOCKDEP", r"\bBUG: (?:sleeping function called from invalid context|scheduling while atomic"
                r"|Invalid wait context)|\bDEBUG_LOCKS_WARN_ON\("),
    ("HUNG", r"\bINFO: task .+:\d+ (?:is )?blocked\b"),
    ("LOCKUP", r"\bBUG: soft lockup\b|\bWatchdog detected hard LOCKUP\b"),
    # kmemleak's leak summary ("N new suspected memory leaks") is left to the lifecycle
    # section's kmemleak-clean test, which discards leaks from before its cycles on purpose;
    # its misuse reports (double or unknown frees) are bugs wherever they happen.
    ("SANITIZER", r"\bBUG: (?:KASAN|KFENCE|KCSAN|KMSAN):|\bUBSAN: "
                  r"|\bkmemleak: (?:Cannot insert|Found object by alias|.*\bunknown object\b)"),
    ("RUST-PANIC", r"\brust_panic\b|\bpanicked at\b"),
    ("PANIC", r"\bKernel panic - not syncing\b"),
    ("OOPS", r"\bOops(?::| - )|\bUnable to handle kernel\b|\bkernel BUG at\b|\bInternal error: "
             r"|\bgeneral protection fault\b|\bSError\b"),
    ("CORRUPTION", r"\brefcount_t: |\blist_(?:add|del) corruption\b"),
    ("OOM", r"\b(?:Out|Memory cgroup out) of memory(?: \(oom_kill_allocating_task\))?: "
            r"Killed process|\bOut of memory and no killable processes|\binvoked oom-killer\b"),
    ("BUG", r"\bBUG: "),
    ("CALL-TRACE", r"\bCall [Tt]race:"),
]]
# printk's level, time and caller prefixes, e.g. "<4>[   12.345678][  T118] ".
PRINTK_PREFIX = re.compile(r"^\s*(?:<\d+>)?(?:\[\s*\d+\.\d+\])?(?:\[\s*[A-Z]?\d+\])?\s*")
# IGT's log lines, "(prog:pid) [thread:tid] domain-LEVEL: ...": they may quote kernel
# messages ("DEBUG: ... BUG: ..."), and the kernel prints its real reports itself.
IGT_LOG_LINE = re.compile(r"^\([^()\s]+:\d+\) (?:\[thread:\d+\] )?(?:\S+-)?"
                          r"(?:DEBUG|INFO|WARNING|CRITICAL): ")


def kernel_trouble(lines):
    """The distinct "KIND: message" reports in a log. TAP/KTAP diagnostics ("# ...", also
    nested or echoed through dmesg) and IGT's log lines may quote kernel lines and are not
    themselves reports; the raw dmesg dump at the end of the log still holds every real one."""
    found = []
    for line in lines:
        msg = line[PRINTK_PREFIX.match(line).end():].rstrip()
        if msg.startswith("#") or IGT_LOG_LINE.match(msg):
            continue
        for kind, pattern in BAD:
            if pattern.search(msg):
                report = f"{kind}: {msg}"
                if report not in found:
                    found.append(report)
                break
    return found


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
    if count == 0 and plan == 0:
        # A harness filter (VGPU_ARGS=-t,NAME) selected none of this program's tests.
        add("SKIP", prefix, "no tests selected (plan 1..0)")
    elif count == 0:
        add("FAIL", prefix, "no results (crashed or did not run)")
    elif plan is not None and count < plan:
        add("FAIL", f"{prefix}/incomplete", f"{count} of {plan} planned tests reported")
    elif plan is not None and count > plan:
        add("FAIL", f"{prefix}/extra-results", f"{count} results for {plan} planned (foreign output?)")


# IGT sections and their expectation lists (relative to the repository): igt runs on our
# driver, igt-c on the upstream C driver of the same boot.
IGT_EXPECTED = {
    "igt": "tools/testing/igt/expected.txt",
    "igt-c": "tools/testing/igt/expected-c.txt",
}
IGT_STATUSES = ("skip", "fail", "timeout", "crash")
# guest/igt.sh's lines: "ok N NAME", "ok N NAME # SKIP why", "not ok N NAME # FAIL|TIMEOUT|CRASH why".
IGT_RESULT = re.compile(r"^(not ok|ok) (\d+) (\S+)(?:\s+#\s*(\S+)\s*(.*?))?\s*$")


def load_expectations(path):
    """DRM-CI-style expectations: one "NAME STATUS REASON..." a line (STATUS one of
    IGT_STATUSES, the reason required), "#" comments and blank lines. Returns
    ({name: (status, reason)}, [error, ...])."""
    expected, errors = {}, []
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        return {}, [f"cannot read {path}: {e}"]
    for no, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3 or parts[1] not in IGT_STATUSES:
            errors.append(f"{os.path.basename(path)}:{no}: want NAME {'|'.join(IGT_STATUSES)} "
                          f"REASON, got '{line}'")
        elif parts[0] in expected:
            errors.append(f"{os.path.basename(path)}:{no}: {parts[0]} listed twice")
        else:
            expected[parts[0]] = (parts[1], parts[2])
    return expected, errors


def parse_igt_section(prefix, section, lines):
    """Every IGT result is one test of the summary. Not listed in the section's expectation
    file: only a pass passes. Listed: only the listed status is accepted (shown as SKIP with
    the reason), anything else fails, a pass included, so the list can only shrink; and a
    listed name that did not run fails too (stale), unless the run was filtered."""
    path = os.path.join(REPO, IGT_EXPECTED[section])
    rel = os.path.relpath(path, REPO)
    expected, errors = load_expectations(path)
    for err in errors:
        add("FAIL", f"{prefix}/expectations", err)
    plan, got, filtered, why_none = None, [], False, "no tests selected (plan 1..0)"
    last, quoted = None, True
    for line in lines:
        if line.startswith("# IGT filter:"):
            filtered = True
        pm = PLAN.match(line)
        if pm and plan is None and not line[:1].isspace():
            plan = int(pm.group(1))
            if plan == 0:
                skip = re.search(r"#\s*SKIP\b\s*(.*)", line)
                why_none = skip.group(1).strip() if skip and skip.group(1).strip() else why_none
                continue
        m = IGT_RESULT.match(line)
        if m:
            directive, why = (m.group(4) or "").upper(), m.group(5) or ""
            if m.group(1) == "ok":
                status = "skip" if directive == "SKIP" else "pass"
            else:
                status = directive.lower() if directive in ("FAIL", "TIMEOUT", "CRASH") else "fail"
                if directive not in ("FAIL", "TIMEOUT", "CRASH"):
                    why = f"{m.group(4) or ''} {why}".strip()
            last = [m.group(3), status, why]
            got.append(last)
            quoted = status in ("pass", "skip")
        elif last and not quoted and line.startswith("# ") and (
                "Failed assertion" in line or "CRITICAL" in line):
            # The first assertion IGT printed goes into the summary line.
            last[2] = f"{last[2]}; {line[2:].strip()}".lstrip("; ")
            quoted = True
    if not got:
        if plan == 0:
            add("SKIP", prefix, why_none)
        else:
            add("FAIL", prefix, "no results (crashed or did not run)")
        return
    seen = set()
    for name, status, why in got:
        test = f"{prefix}/{name}"
        if name in seen:
            add("FAIL", test, "reported twice")
            continue
        seen.add(name)
        want, reason = expected.get(name, ("pass", ""))
        if status == want == "pass":
            add("PASS", test)
        elif status == want:
            add("SKIP", test, f"expected {want}: {reason}")
        elif want == "pass":
            add("FAIL", test, f"unexpected {status}" + (f": {why}" if why else ""))
        else:
            add("FAIL", test, f"expected {want} ({rel}: {reason}), got {status}"
                              + (f": {why}" if why else ""))
    if not filtered:
        for name, (want, reason) in expected.items():
            if name not in seen:
                add("FAIL", f"{prefix}/{name}", f"listed in {rel} as {want} but did not run")
    if plan is None:
        add("FAIL", f"{prefix}/incomplete", f"no plan after {len(got)} results (guest died?)")
    elif len(got) < plan:
        add("FAIL", f"{prefix}/incomplete", f"{len(got)} of {plan} planned tests reported")
    elif len(got) > plan:
        add("FAIL", f"{prefix}/extra-results", f"{len(got)} results for {plan} planned")


def parse_guest_section(name, section, kind, body):
    if kind == "tap" and section in IGT_EXPECTED:
        parse_igt_section(f"{name}/{section}", section, body)
    else:
        parse_section(f"{name}/{section}", kind, body)


def parse_guest(name, text):
    lines = [l.rstrip("\r") for l in text.splitlines()]
    section, kind, body = None, None, []
    for line in lines:
        m = re.match(r"^VGPU-SECTION-BEGIN (\S+) (\S+)", line)
        if m:
            if section:
                parse_guest_section(name, section, kind, body)
            kind, section, body = m.group(1), m.group(2), []
            continue
        if section and re.match(r"^VGPU-SECTION-END ", line):
            parse_guest_section(name, section, kind, body)
            section = None
            continue
        if section:
            body.append(line)
    if section:
        parse_guest_section(name, section, kind, body)
        add("FAIL", f"{name}/{section}/unterminated", "section never ended (guest died?)")

    done = [l for l in lines if l.startswith("VGPU-GUEST-DONE")]
    if done:
        add("PASS", f"{name}/guest-completed")
    else:
        add("FAIL", f"{name}/guest-completed", "no VGPU-GUEST-DONE marker: crash, hang or timeout")
    bad = kernel_trouble(lines)
    if bad:
        more = f"; +{len(bad) - 5} more" if len(bad) > 5 else ""
        add("FAIL", f"{name}/kernel-log-clean", "; ".join(bad[:5]) + more)
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
