"""The same simulated day through the core gives byte-identical journal records and
effects (uplink payloads included) on CPython with the C router, CPython with the
Python twin, MicroPython in WebAssembly (what the portable tests run on) and the
32-bit MicroPython unix port (the build closest to an ESP32)."""

import json
import os
import subprocess
import sys

import pytest

from host_tools.bench import heap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAY = os.path.join(ROOT, "tests", "micropython", "day.py")
PARAMS = {"events": 3000, "open": 64, "desks": 8, "queues": 4}


def run(command, **env):
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=dict(os.environ, **env))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_day_is_byte_identical_on_every_runtime():
    mp = heap.unix_port()
    if mp is None:
        pytest.skip("the MicroPython unix port is not built (make test builds it)")
    arg = json.dumps(PARAMS)
    runs = {
        "cpython, C router": run([sys.executable, DAY, arg]),
        "cpython, twin": run([sys.executable, DAY, json.dumps(dict(PARAMS, router="twin"))]),
        "micropython wasm": run(["node", "tests/micropython/run.mjs", "--script", DAY, arg]),
        "micropython unix 32-bit": run([mp, DAY, arg], MICROPYPATH="firmware:."),
    }
    digests = {name: r["digest"] for name, r in runs.items()}
    assert len(set(digests.values())) == 1, digests
    assert all(r["events"] == PARAMS["events"] for r in runs.values())
