"""The portable tests under the 32-bit MicroPython unix port, the build closest to an
ESP32 and the one with `btree` (the WebAssembly port, tests/micropython/run.mjs, lacks
it): here nothing may be skipped."""

import os
import re
import subprocess

import pytest

from host_tools.bench import heap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORTABLE = os.path.join(ROOT, "tests", "portable")


def test_every_portable_test_passes_and_none_is_skipped(tmp_path):
    mp = heap.unix_port()
    if mp is None:
        pytest.skip("the MicroPython unix port is not built (make test builds it)")
    modules = sorted(f[:-3] for f in os.listdir(PORTABLE) if re.match(r"test_.*\.py$", f))
    path = ":".join(os.path.join(ROOT, p) for p in ("firmware", "tests/portable",
                                                    "tests/micropython", ".",
                                                    heap.unix_port_modules(mp)))
    done = subprocess.run(
        # The branch is imported first, at the top: under the driver's frames its chain of
        # imports would go past the unix port's C stack limit.
        [os.path.join(ROOT, mp), "-X", "heapsize=64M", "-c",
         "import branchline.core.branch, driver; driver.main(%r)" % modules],
        capture_output=True, text=True, timeout=600, cwd=str(tmp_path),
        env=dict(os.environ, MICROPYPATH=path))
    summary = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped", done.stdout)
    assert done.returncode == 0 and summary, done.stdout + done.stderr
    assert summary.group(2) == "0" and summary.group(3) == "0", done.stdout
    assert int(summary.group(1)) > 300
