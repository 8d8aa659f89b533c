"""One console for both runtimes: the same application (branchline.web on microdot),
driven through microdot's test client with a real core and each runtime's history
index, answers byte for byte the same under the MicroPython unix port and CPython
(tests/micropython/console_check.py)."""

import os
import shutil
import subprocess
import sys

import microdot
import pytest

from host_tools.bench import heap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "micropython", "console_check.py")


def test_the_console_answers_alike_on_micropython_and_cpython(tmp_path):
    mp = heap.unix_port()
    if mp is None:
        pytest.skip("the MicroPython unix port is not built (make test builds it)")
    lib = tmp_path / "lib"
    # The same microdot source serves both runtimes: the one pip installed.
    shutil.copytree(os.path.dirname(microdot.__file__), str(lib / "microdot"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    path = ":".join((os.path.join(ROOT, "firmware"), str(lib),
                     os.path.join(ROOT, heap.unix_port_modules(mp))))
    on_mp = subprocess.run([os.path.join(ROOT, mp), "-X", "heapsize=16M", SCRIPT,
                            str(tmp_path / "history.db")],
                           capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
                           env=dict(os.environ, MICROPYPATH=path))
    on_cpython = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "history.sqlite3")],
                                capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert on_mp.returncode == 0, on_mp.stdout + on_mp.stderr
    assert on_cpython.returncode == 0, on_cpython.stdout + on_cpython.stderr
    assert on_mp.stdout == on_cpython.stdout
    lines = on_mp.stdout.splitlines()
    for expected in ("GET / None 200 text/html; charset=utf-8",
                     "GET /api/conversations/1 bo 403 ",
                     "POST /api/conversations/1/reply ana 403 {\"error\":\"CSRF token",
                     "POST /api/conversations/1/reply ana 200 ",
                     "GET /api/queue sam 403 {\"error\":\"change your password first\"}",
                     "POST /api/me/password sam 200 "):
        assert [line for line in lines if line.startswith(expected)], expected
