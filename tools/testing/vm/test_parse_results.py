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

    def test_warn_and_rust_panic(self):
        for line in ["WARNING: CPU: 1 PID: 7 at drivers/x.c:1 f+0x0/0x4",
                     "rust_kernel: panicked at drivers/gpu/drm/virtio/vq.rs:1:1:",
                     "BUG: KASAN: slab-use-after-free in f"]:
            rc, r = run(GOOD.replace("boot\n", line + "\n"))
            self.assertEqual(r["g/kernel-log-clean"], "FAIL", line)

    def test_foreign_results_in_a_section_fail(self):
        text = GOOD.replace("ok 3 render.c # SKIP no capsets\n",
                            "ok 3 render.c # SKIP no capsets\nok 1 some_kunit_suite\n")
        rc, r = run(text)
        self.assertEqual(r["g/selftest/extra-results"], "FAIL")

    def test_suite_without_results_fails(self):
        rc, r = run("VGPU-SECTION-BEGIN kunit kunit-x\nKTAP version 1\n1..1\nok 1 x\n"
                    "VGPU-SECTION-END kunit-x\nVGPU-GUEST-DONE rc=0\n")
        self.assertEqual(r["g/kunit-x"], "FAIL")


if __name__ == "__main__":
    unittest.main()
