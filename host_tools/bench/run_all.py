"""Run every benchmark (or the named ones) in one process, one table each."""

import importlib

from host_tools.bench.report import BenchUnavailable

BENCHES = ("router", "sms", "core", "year", "service", "micropython", "desk")


def main(only=None):
    names = list(only) if only else list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print("unknown benchmark(s): %s (have: %s)" % (", ".join(unknown), ", ".join(BENCHES)))
        return 2
    unavailable = 0
    for name in names:
        try:
            importlib.import_module("host_tools.bench." + name).main()
        except BenchUnavailable as e:
            print("bench %s" % e)
            unavailable += 1
    return 1 if unavailable else 0
