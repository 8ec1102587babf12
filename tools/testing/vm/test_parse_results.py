#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The result parser must fail runs that crashed, warned or reported nothing."""
import importlib.util
import os
import tempfile
import unittest

spec = importlib.util.spec_from_file_location(
    "parse_results", os.path.join(os.path.dirname(__file__), "parse-results.py"))
pr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pr)

GOOD = """boot
VGPU-SECTION-BEGIN tap selftest
TAP version 13
1..3
ok 1 render.a
not ok 2 render.b
ok 3 render.c # SKIP no capsets
VGPU-SECTION-END selftest
VGPU-SECTION-BEGIN kunit kunit-s
KTAP version 1
1..1
    KTAP version 1
    # Subtest: s
    1..2
    ok 1 t1
    not ok 2 t2
ok 1 s
VGPU-SECTION-END kunit-s
VGPU-GUEST-DONE rc=0
"""


def run(text):
    pr.results.clear()
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write(text)
    try:
        rc = pr.evaluate([f"guest:g:{f.name}"])
    finally:
        os.unlink(f.name)
    return rc, {name: st for st, name, _ in pr.results}


def log_check(lines):
    """Status and detail of kernel-log-clean for GOOD with `lines` in its boot part."""
    run(GOOD.replace("boot\n", "boot\n" + "".join(l + "\n" for l in lines)))
    return next((st, detail) for st, name, detail in pr.results if name == "g/kernel-log-clean")


# Linux 7.2 console lines (kernel/panic.c __warn(), lockdep, hung_task, mm/oom_kill.c, ...).
WARN_72 = "WARNING: mm/slub.c:6946 at __kvmalloc_node_noprof+0x2f8/0x3a4, CPU#1: prog/118"
TROUBLE = {
    "WARN": [
        [WARN_72],
        ["[   12.345678] " + WARN_72],
        ["<4>[   12.345678][  T118] " + WARN_72],
        ["[    3.100000] WARNING: at virtio_gpu_rs::gem::free+0x44/0x90 [virtio_gpu_rs], "
         "CPU#0: virtgpu_test/120"],
        # The format before the 7.x rework, with its "cut here" line.
        ["------------[ cut here ]------------",
         "WARNING: CPU: 1 PID: 7 at drivers/x.c:1 f+0x0/0x4"],
    ],
    "CALL-TRACE": [
        ["[   12.350000] Call trace:",
         "[   12.350100]  __kvmalloc_node_noprof+0x2f8/0x3a4 (P)",
         "[   12.350200]  drm_ioctl_kernel+0xc0/0x130 [drm]",
         "[   12.350300]  el0t_64_sync+0x198/0x19c"],
        ["[    9.000000] Call Trace:", "[    9.000001]  <TASK>",
         "[    9.000002]  dump_stack_lvl+0x5d/0x80"],
    ],
    "OOM": [
        ["[   40.123456] Out of memory: Killed process 118 (prog) total-vm:1048576kB, "
         "anon-rss:900000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1800kB oom_score_adj:0"],
        ["[   40.100000] prog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, "
         "oom_score_adj=0"],
    ],
    "LOCKDEP": [
        ["[   20.000000] ======================================================",
         "[   20.000001] WARNING: possible circular locking dependency detected",
         "[   20.000002] 7.2.13 #1 Not tainted",
         "[   20.000003] ------------------------------------------------------",
         "[   20.000004] virtgpu_test/120 is trying to acquire lock:"],
        ["[   20.0] WARNING: possible recursive locking detected"],
        ["[   20.0] WARNING: inconsistent lock state"],
        ["[   20.0] WARNING: suspicious RCU usage"],
        ["[   20.0] BUG: sleeping function called from invalid context at mm/slub.c:4700"],
        ["[   20.0] DEBUG_LOCKS_WARN_ON(lock->magic != lock)"],
    ],
    "HUNG": [["[  245.000000] INFO: task kworker/0:1:42 blocked for more than 122 seconds."]],
    "LOCKUP": [["[   60.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [virtgpu_test:120]"]],
    "SANITIZER": [
        ["[   30.000000] BUG: KASAN: slab-use-after-free in "
         "virtio_gpu_rs::gem::free+0x44/0x90 [virtio_gpu_rs]"],
        ["[   30.0] UBSAN: shift out of bounds in drivers/gpu/drm/virtio/x.c:10:5"],
        ["[   30.0] BUG: KFENCE: use-after-free read in f+0x10/0x20"],
        ["[   30.0] kmemleak: Partially freeing unknown object at 0xffff0000 (size 64)"],
    ],
    "RUST-PANIC": [["virtio_gpu_rs: panicked at drivers/gpu/drm/virtio/vq.rs:1:1:"],
                   ["[ 5.0]  rust_panic+0x10/0x20"]],
    "PANIC": [["[   50.0] Kernel panic - not syncing: Asynchronous SError Interrupt"]],
    "OOPS": [
        ["[   50.0] Unable to handle kernel NULL pointer dereference at virtual address 0"],
        ["[   50.0] Internal error: Oops: 0000000096000004 [#1]  SMP"],
        ["[   50.0] kernel BUG at rust/helpers/bug.c:7!"],
        ["[   50.0] Oops: general protection fault, probably for non-canonical address"],
        ["[   50.0] SError Interrupt on CPU0, code 0x00000000be000000 -- SError"],
    ],
    "CORRUPTION": [["[   50.0] refcount_t: underflow; use-after-free."],
                   ["[   50.0] list_add corruption. prev->next should be next (x), but was y."]],
    "BUG": [["[   50.0] BUG: kernel NULL pointer dereference, address: 0000000000000008"]],
}

# Healthy output that mentions warnings, bugs and panics in passing.
HARMLESS = [
    "(drm_virtgpu:123) DEBUG: Test requirement passed: fd >= 0",
    "(drm_virtgpu:123) igt_core-DEBUG: Starting subtest: getparam",
    "DEBUGFS: mounted; xBUG: not a word start",
    "#  RUN           gem.warn_free_mapping ...",
    "#            OK  gem.warn_free_mapping",
    "vgpu: no WARN in the log, no BUG, no Oops",
    "# " + WARN_72,
    "# [   12.345678] WARNING: possible circular locking dependency detected",
    # KUnit's KTAP as echoed into dmesg at module load.
    "[    5.100000]     # warn_free_mapping: pass:1 fail:0 skip:0 total:1",
    "[    5.100001]     # gem: quoting " + WARN_72,
    "[    5.100002]     ok 1 warn_free_mapping",
    # Boot lines of a debug kernel.
    "[    0.000000] Kernel command line: console=ttyAMA0 panic=-1 loglevel=7",
    "[    0.000000] kasan: KernelAddressSanitizer initialized (generic)",
    "[    0.000000] kfence: initialized - using 2097152 bytes for 255 objects",
    "[    0.000000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar",
    "[    0.000000] rcu: RCU lockdep checking is enabled.",
    "[    0.000000] ... MAX_LOCKDEP_SUBCLASSES:  8",
    "[   70.000000] kmemleak: 3 new suspected memory leaks (see /sys/kernel/debug/kmemleak)",
    # IGT's own output, were it ever printed raw: its log levels end in "DEBUG:".
    "(core_hotunplug:312) igt_kmod-DEBUG: dmesg says BUG: quoted, not a report",
    "(syncobj_wait:77) [thread:78] DEBUG: WARNING: at quoted, CPU#0: x",
    "(vgem_basic:118) igt_core-DEBUG: Test requirement passed: !(fd < 0)",
    "**** DEBUG ****",
    "(drm_virtgpu:120) CRITICAL: Test assertion failure function main, file drm_virtgpu.c:42:",
    "Subtest getparam: FAIL (0.012s)",
    "[   80.000000] [IGT] core_hotunplug: starting subtest unbind-rebind",
]


class ParseResults(unittest.TestCase):
    def test_counts_tap_and_kunit_leaves(self):
        rc, r = run(GOOD)
        self.assertEqual(rc, 1)
        self.assertEqual(r["g/selftest/render.a"], "PASS")
        self.assertEqual(r["g/selftest/render.b"], "FAIL")
        self.assertEqual(r["g/selftest/render.c"], "SKIP")
        self.assertEqual(r["g/kunit-s/t1"], "PASS")
        self.assertEqual(r["g/kunit-s/t2"], "FAIL")
        self.assertNotIn("g/kunit-s/s", r)
        self.assertEqual(r["g/guest-completed"], "PASS")
        self.assertEqual(r["g/kernel-log-clean"], "PASS")

    def test_crash_mid_suite(self):
        text = GOOD.split("ok 3 render.c")[0] + "Unable to handle kernel paging request\n"
        rc, r = run(text)
        self.assertEqual(rc, 1)
        self.assertEqual(r["g/guest-completed"], "FAIL")
        self.assertEqual(r["g/kernel-log-clean"], "FAIL")
        self.assertEqual(r["g/selftest/incomplete"], "FAIL")

    def test_kernel_trouble_fails_the_log_check(self):
        for kind, cases in TROUBLE.items():
            for lines in cases:
                with self.subTest(lines=lines):
                    st, detail = log_check(lines)
                    self.assertEqual(st, "FAIL")
                    self.assertTrue(detail.startswith(kind + ": "), detail)

    def test_detail_names_the_kind_and_drops_the_printk_prefix(self):
        st, detail = log_check(["<4>[   12.345678] " + WARN_72, "[   12.35] Call trace:",
                                "[   40.1] Out of memory: Killed process 118 (prog)"])
        self.assertEqual(detail, f"WARN: {WARN_72}; CALL-TRACE: Call trace:; "
                                 "OOM: Out of memory: Killed process 118 (prog)")

    def test_console_and_dmesg_copies_are_reported_once(self):
        st, detail = log_check(["[ 1.0] " + WARN_72, "VGPU-DMESG-BEGIN", "[ 1.0] " + WARN_72])
        self.assertEqual(detail, "WARN: " + WARN_72)

    def test_harmless_lines_pass(self):
        st, detail = log_check(HARMLESS)
        self.assertEqual(st, "PASS", detail)
        rc, r = run(GOOD.replace("render.a", "gem.warn_free_mapping"))
        self.assertEqual(r["g/selftest/gem.warn_free_mapping"], "PASS")
        self.assertEqual(r["g/kernel-log-clean"], "PASS")

    def test_foreign_results_in_a_section_fail(self):
        text = GOOD.replace("ok 3 render.c # SKIP no capsets\n",
                            "ok 3 render.c # SKIP no capsets\nok 1 some_kunit_suite\n")
        rc, r = run(text)
        self.assertEqual(r["g/selftest/extra-results"], "FAIL")

    def test_suite_without_results_fails(self):
        rc, r = run("VGPU-SECTION-BEGIN kunit kunit-x\nKTAP version 1\n1..1\nok 1 x\n"
                    "VGPU-SECTION-END kunit-x\nVGPU-GUEST-DONE rc=0\n")
        self.assertEqual(r["g/kunit-x"], "FAIL")


    def test_empty_plan_is_a_skip(self):
        # A harness filter can leave one of several programs with nothing to run.
        rc, r = run("VGPU-SECTION-BEGIN tap objects\nTAP version 13\n1..0\n"
                    "VGPU-SECTION-END objects\nVGPU-GUEST-DONE rc=0\n")
        self.assertEqual(r["g/objects"], "SKIP")
        self.assertEqual(rc, 0)

    def test_missing_plan_and_results_fails(self):
        rc, r = run("VGPU-SECTION-BEGIN tap objects\nTAP version 13\n"
                    "VGPU-SECTION-END objects\nVGPU-GUEST-DONE rc=0\n")
        self.assertEqual(r["g/objects"], "FAIL")

# An igt section as guest/igt.sh writes it.
IGT_LOG = """VGPU-SECTION-BEGIN tap igt
TAP version 13
# igt-gpu-tools-tests 2.5-1 amd64
ok 1 igt-setup
ok 2 drm_virtgpu@getparam
not ok 3 drm_virtgpu@create-blob # FAIL
# Starting subtest: create-blob
# (drm_virtgpu:120) CRITICAL: Test assertion failure function create_blob, file x.c:9:
# (drm_virtgpu:120) CRITICAL: Failed assertion: ret == 0
# IGT debug log, last 1 of 1 lines:
#   (drm_virtgpu:120) DEBUG: BUG: quoted by a debug line
ok 4 kms_x@y # SKIP Test requirement: has_kms(fd)
ok 5 vgem_basic@dmabuf-export
ok 6 sw_sync@sync_busy_fork@fork-a
not ok 7 sw_sync@sync_busy_fork@fork-b # TIMEOUT never finished (exit status 143)
not ok 8 sw_sync@sync_busy_fork # TIMEOUT after 120 s (exit status 143)
not ok 9 core_hotunplug@hotrebind # CRASH signal 11
# drm_virtgpu: 2 results in 3.1 s
ok 10 igt-still-bound
1..10
VGPU-SECTION-END igt
VGPU-GUEST-DONE rc=0
"""


class IgtExpectations(unittest.TestCase):
    def run_igt(self, expected, log=IGT_LOG, section="igt"):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(expected)
        old = dict(pr.IGT_EXPECTED)
        pr.IGT_EXPECTED[section] = f.name  # absolute: os.path.join keeps it
        try:
            rc, r = run(log)
        finally:
            pr.IGT_EXPECTED.clear()
            pr.IGT_EXPECTED.update(old)
            os.unlink(f.name)
        details = {name: detail for _, name, detail in pr.results}
        return rc, r, details

    ALL_LISTED = """# comment
drm_virtgpu@create-blob fail driver bug, see report
kms_x@y skip render-only: no KMS
sw_sync@sync_busy_fork@fork-b   timeout   slow under TCG
sw_sync@sync_busy_fork timeout slow under TCG
core_hotunplug@hotrebind crash upstream bug
"""

    def test_every_subtest_is_counted_and_unlisted_trouble_fails(self):
        rc, r, d = self.run_igt("")
        self.assertEqual(rc, 1)
        self.assertEqual(r["g/igt/drm_virtgpu@getparam"], "PASS")
        self.assertEqual(r["g/igt/sw_sync@sync_busy_fork@fork-a"], "PASS")
        self.assertEqual(r["g/igt/igt-setup"], "PASS")
        for name in ("drm_virtgpu@create-blob", "kms_x@y", "sw_sync@sync_busy_fork@fork-b",
                     "sw_sync@sync_busy_fork", "core_hotunplug@hotrebind"):
            self.assertEqual(r[f"g/igt/{name}"], "FAIL", name)
        self.assertEqual(d["g/igt/kms_x@y"], "unexpected skip: Test requirement: has_kms(fd)")
        self.assertEqual(d["g/igt/drm_virtgpu@create-blob"],
                         "unexpected fail: (drm_virtgpu:120) CRITICAL: Test assertion failure "
                         "function create_blob, file x.c:9:")
        self.assertEqual(d["g/igt/core_hotunplug@hotrebind"], "unexpected crash: signal 11")
        self.assertEqual(len([n for n in r if n.startswith("g/igt/")]), 10)

    def test_listed_results_are_accepted_with_their_reason(self):
        rc, r, d = self.run_igt(self.ALL_LISTED)
        self.assertEqual(rc, 0, pr.results)
        self.assertEqual(r["g/igt/kms_x@y"], "SKIP")
        self.assertEqual(d["g/igt/kms_x@y"], "expected skip: render-only: no KMS")
        self.assertEqual(r["g/igt/drm_virtgpu@create-blob"], "SKIP")
        self.assertEqual(d["g/igt/drm_virtgpu@create-blob"], "expected fail: driver bug, see report")
        self.assertEqual(r["g/igt/sw_sync@sync_busy_fork@fork-b"], "SKIP")
        self.assertEqual(r["g/igt/core_hotunplug@hotrebind"], "SKIP")
        self.assertEqual(r["g/kernel-log-clean"], "PASS")

    def test_a_listed_line_with_another_result_fails(self):
        listed = self.ALL_LISTED + "drm_virtgpu@getparam fail was broken\n"
        listed = listed.replace("kms_x@y skip", "kms_x@y fail")
        rc, r, d = self.run_igt(listed)
        self.assertEqual(rc, 1)
        # An expected failure that passes fails: the list only shrinks.
        self.assertEqual(r["g/igt/drm_virtgpu@getparam"], "FAIL")
        self.assertIn("expected fail", d["g/igt/drm_virtgpu@getparam"])
        self.assertIn("got pass", d["g/igt/drm_virtgpu@getparam"])
        self.assertEqual(r["g/igt/kms_x@y"], "FAIL")
        self.assertIn("got skip", d["g/igt/kms_x@y"])

    def test_an_expected_skip_that_runs_fails(self):
        listed = self.ALL_LISTED + "vgem_basic@dmabuf-export skip C driver refuses the import\n"
        rc, r, d = self.run_igt(listed)
        self.assertEqual(rc, 1)
        self.assertEqual(r["g/igt/vgem_basic@dmabuf-export"], "FAIL")
        self.assertIn("expected skip", d["g/igt/vgem_basic@dmabuf-export"])

    def test_a_listed_line_that_did_not_run_fails_unless_filtered(self):
        listed = self.ALL_LISTED + "core_auth@basic-auth skip gone\n"
        rc, r, d = self.run_igt(listed)
        self.assertEqual(r["g/igt/core_auth@basic-auth"], "FAIL")
        self.assertIn("did not run", d["g/igt/core_auth@basic-auth"])
        filtered = IGT_LOG.replace("TAP version 13\n", "TAP version 13\n# IGT filter: x\n")
        rc, r, d = self.run_igt(listed, filtered)
        self.assertEqual(rc, 0)
        self.assertNotIn("g/igt/core_auth@basic-auth", r)

    def test_bad_expectation_lines_fail(self):
        for bad in ("drm_virtgpu@getparam flaky sometimes\n", "drm_virtgpu@getparam skip\n",
                    "kms_x@y skip a\nkms_x@y skip b\n"):
            with self.subTest(bad=bad):
                rc, r, d = self.run_igt(self.ALL_LISTED.replace("kms_x@y skip render-only: no KMS\n", "") + bad)
                self.assertEqual(r["g/igt/expectations"], "FAIL")
                self.assertEqual(rc, 1)

    def test_missing_expectation_file_fails(self):
        old = dict(pr.IGT_EXPECTED)
        pr.IGT_EXPECTED["igt-c"] = "/nonexistent/expected-c.txt"
        try:
            rc, r = run(IGT_LOG.replace("tap igt", "tap igt-c").replace("END igt", "END igt-c"))
        finally:
            pr.IGT_EXPECTED.clear()
            pr.IGT_EXPECTED.update(old)
        self.assertEqual(r["g/igt-c/expectations"], "FAIL")
        self.assertEqual(rc, 1)

    def test_sections_pick_their_own_file(self):
        self.assertEqual(pr.IGT_EXPECTED["igt"], "tools/testing/igt/expected.txt")
        self.assertEqual(pr.IGT_EXPECTED["igt-c"], "tools/testing/igt/expected-c.txt")
        for f in pr.IGT_EXPECTED.values():
            expected, errors = pr.load_expectations(os.path.join(pr.REPO, f))
            self.assertEqual(errors, [])

    def test_igt_c_uses_the_c_list(self):
        log = IGT_LOG.replace("tap igt", "tap igt-c").replace("END igt", "END igt-c")
        rc, r, d = self.run_igt(self.ALL_LISTED, log, section="igt-c")
        self.assertEqual(rc, 0, pr.results)
        self.assertEqual(r["g/igt-c/kms_x@y"], "SKIP")

    def test_incomplete_section_fails(self):
        cut = IGT_LOG.split("ok 10 igt-still-bound")[0]
        rc, r, d = self.run_igt(self.ALL_LISTED, cut)
        self.assertEqual(rc, 1)
        self.assertEqual(r["g/igt/incomplete"], "FAIL")
        self.assertEqual(r["g/igt/unterminated"], "FAIL")

    def test_no_disk_is_a_skip(self):
        rc, r, d = self.run_igt("", "VGPU-SECTION-BEGIN tap igt\nTAP version 13\n"
                                    "1..0 # SKIP no IGT disk\nVGPU-SECTION-END igt\n"
                                    "VGPU-GUEST-DONE rc=0\n")
        self.assertEqual(r["g/igt"], "SKIP")
        self.assertEqual(d["g/igt"], "no IGT disk")
        self.assertEqual(rc, 0)


if __name__ == "__main__":
    unittest.main()
