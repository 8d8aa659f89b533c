"""The ESP32 edition's watchdog under the MicroPython unix port with the shim's WDT
(tests/micropython/watchdog_check.py): fed only while every watched task lives and the
ticker beats."""

import os
import re
import subprocess

import pytest

from host_tools.bench import heap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_watchdog_starves_when_a_task_dies_or_the_loop_stalls(tmp_path):
    mp = heap.unix_port()
    if mp is None:
        pytest.skip("the MicroPython unix port is not built (make test builds it)")
    path = ":".join(os.path.join(ROOT, p) for p in ("firmware", "tests/micropython/shim"))
    done = subprocess.run(
        [os.path.join(ROOT, mp), os.path.join(ROOT, "tests/micropython/watchdog_check.py")],
        capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
        env=dict(os.environ, MICROPYPATH=path + ":" + os.path.join(
            ROOT, heap.unix_port_modules(mp)), BL_WDT=str(tmp_path / "wdt.log")))
    summary = re.search(r"watchdog: (\d+) checks, (\d+) failed", done.stdout)
    assert done.returncode == 0 and summary, done.stdout + done.stderr
    assert summary.group(2) == "0" and int(summary.group(1)) == 4, done.stdout
