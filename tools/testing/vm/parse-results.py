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
         VGPU-GUEST-DONE, and the log has no oops, WARN, BUG, panic, lockdep, hung-task,
         lockup, OOM, sanitizer report or call trace (see BAD).
"""
import re
import sys

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


def kernel_trouble(lines):
    """The distinct "KIND: message" reports in a log. TAP/KTAP diagnostics ("# ...", also
    nested or echoed through dmesg) may quote kernel lines and are not themselves reports;
    the raw dmesg dump at the end of the log still holds every real one."""
    found = []
    for line in lines:
        msg = line[PRINTK_PREFIX.match(line).end():].rstrip()
        if msg.startswith("#"):
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
