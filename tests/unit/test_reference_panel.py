"""The reference panel's board code (boards/reference-panel) under the MicroPython unix
port, with simulated pins (tests/micropython/shim/machine.py) and the gateway's bus
master polling it: debouncing, LED colours and blinking, the buzzer, the transceiver's
driver enable, and "no gateway"."""

import os
import re
import subprocess

import pytest

from host_tools.bench import heap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_reference_panel_under_micropython(tmp_path):
    mp = heap.unix_port()
    if mp is None:
        pytest.skip("the MicroPython unix port is not built (make test builds it)")
    path = ":".join(os.path.join(ROOT, p) for p in (
        "firmware", "boards/reference-panel", "tests/micropython/shim"))
    done = subprocess.run(
        [os.path.join(ROOT, mp), os.path.join(ROOT, "tests/micropython/reference_panel_check.py"),
         os.path.join(ROOT, "boards/reference-panel/board.json")],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path),
        env=dict(os.environ, MICROPYPATH=path))
    summary = re.search(r"reference panel: (\d+) checks, (\d+) failed", done.stdout)
    assert done.returncode == 0 and summary, done.stdout + done.stderr
    assert summary.group(2) == "0" and int(summary.group(1)) >= 12, done.stdout
