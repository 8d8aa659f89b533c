"""Parts of the ESP32 edition under the MicroPython unix port with the shim's `machine`
(tests/micropython/shim/): the watchdog, fed only while every watched task lives and
the ticker beats (watchdog_check.py); the UART link through a read error, its retry and
its reopening (link_check.py); the clock's floors and steps (clock_check.py)."""

import os
import re
import subprocess

import pytest

from host_tools.bench import heap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("script, name, checks", [
    ("watchdog_check.py", "watchdog", 4),
    ("link_check.py", "link", 7),
    ("clock_check.py", "clock", 5),
])
def test_on_micropython(tmp_path, script, name, checks):
    mp = heap.unix_port()
    if mp is None:
        pytest.skip("the MicroPython unix port is not built (make test builds it)")
    path = ":".join(os.path.join(ROOT, p) for p in ("firmware", "tests/micropython/shim"))
    done = subprocess.run(
        [os.path.join(ROOT, mp), os.path.join(ROOT, "tests/micropython", script)],
        capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
        env=dict(os.environ, MICROPYPATH=path + ":" + os.path.join(
            ROOT, heap.unix_port_modules(mp)), BL_WDT=str(tmp_path / "wdt.log")))
    summary = re.search(r"%s: (\d+) checks, (\d+) failed" % name, done.stdout)
    assert done.returncode == 0 and summary, done.stdout + done.stderr
    assert summary.group(2) == "0" and int(summary.group(1)) == checks, done.stdout
