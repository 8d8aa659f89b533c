"""What a new user gets: `make demo` asks only for what running needs, and a plain
`pip install .` (a wheel, no editable paths) gives console scripts that all work."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import serial

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _make(*args):
    # --no-print-directory: under another make (make test), -w would add lines.
    command = ["make", "-s", "--no-print-directory", "-C", ROOT] + list(args)
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_the_demo_needs_only_what_running_needs():
    dry = _make("-n", "demo")
    run_packages = _make("print-packages-run").split()
    test_packages = _make("print-packages-test").split()
    assert "mosquitto" in run_packages and "gcc" in run_packages
    for pkg in ("valgrind", "gcc-arm-none-eabi", "gcc-aarch64-linux-gnu", "qemu-user",
                "gammu", "nodejs"):
        assert pkg in test_packages and pkg not in dry, pkg
    assert "npm ci" not in dry and "[test]" not in dry
    full = _make("-n", "test")
    for pkg in run_packages[:2] + test_packages:
        assert pkg in full, pkg


def test_readme_lists_the_makefiles_packages():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()

    def listed(label):
        line = re.search(r"^%s: (.*)$" % re.escape(label), readme, re.M)
        assert line, "README has no line starting with %r" % label
        return sorted(re.findall(r"`([a-z0-9.+-]+)`", line.group(1)))

    assert listed("- to run") == sorted(_make("print-packages-run").split())
    assert listed("- to test, also") == sorted(_make("print-packages-test").split())


def _source_copy(dest):
    """The checkout's files as a clean clone would have them (tracked and new ones, no
    build products), so the wheel is built from sources only."""
    listed = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtualenv with branchline installed from a wheel: its bin directory."""
    base = tmp_path_factory.mktemp("install")
    src = str(base / "src")
    _source_copy(src)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(base / "dist"), src], check=True)
    (wheel,) = os.listdir(base / "dist")
    venv = str(base / "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "-q",
                    str(base / "dist" / wheel)], check=True)
    return os.path.join(venv, "bin")


def _run(bindir, *args, timeout=120):
    # From a neutral folder, so nothing of the checkout can be imported by accident.
    return subprocess.run([os.path.join(bindir, args[0])] + list(args[1:]), cwd="/",
                          capture_output=True, text=True, timeout=timeout)


def _subcommands(parser):
    return sorted(next(a for a in parser._actions if a.dest == "command").choices)


@pytest.mark.slow
def test_every_console_script_and_subcommand_answers_help(installed):
    from branchline.ports.cpython.cli import build_parser as branchline_parser
    from host_tools.cli import build_parser as tools_parser

    for script, parser in (("branchline", branchline_parser()),
                           ("branchline-tools", tools_parser())):
        done = _run(installed, script, "--help")
        assert done.returncode == 0, done.stderr
        for sub in _subcommands(parser):
            done = _run(installed, script, sub, "--help")
            assert done.returncode == 0 and "usage:" in done.stdout, (script, sub, done.stderr)
    site = _run(installed, "python", "-c", "import branchline, host_tools.modem_sim; "
                "print(branchline.__file__)")
    assert "site-packages" in site.stdout, site
    pages = _run(installed, "python", "-c", "from branchline.web import pages; "
                 "print(pages.STATIC, sorted(pages.shipped()))")
    assert "site-packages" in pages.stdout and "'app.js', " in pages.stdout, pages
    assert "'index.html'" in pages.stdout, pages
    board = _run(installed, "python", "-c", "import boards; print(boards.path('esp32-wrover'), "
                 "boards.names())")
    assert "site-packages" in board.stdout and "'pi-zero-2w'" in board.stdout, board
    checked = _run(installed, "python", "-m", "boards.validate")
    assert checked.returncode == 0 and checked.stdout.count(": ok") == 6, checked


@pytest.mark.slow
def test_the_installed_modem_simulator_answers_like_a_modem(installed, tmp_path):
    link = str(tmp_path / "modem0")
    proc = subprocess.Popen([os.path.join(installed, "branchline-tools"), "modem-sim",
                             "--link", link, "--control", str(tmp_path / "ctl")],
                            cwd="/", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on %s" % link in line, line + proc.stdout.read()
        with serial.Serial(link, 115200, timeout=2) as port:
            port.write(b"AT\r")
            answer = b""
            deadline = time.monotonic() + 5
            while b"OK" not in answer and time.monotonic() < deadline:
                answer += port.read(64)
        assert b"OK" in answer
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


@pytest.mark.slow
def test_the_installed_demo_runs_and_a_source_only_bench_says_why_not(installed):
    done = _run(installed, "branchline-tools", "demo", timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    done = _run(installed, "branchline-tools", "bench", "router")
    assert done.returncode == 1
    assert "needs the C sources (native/) of a source checkout" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
