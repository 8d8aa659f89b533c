"""Run every benchmark (or the named ones) in one process, one table each."""

import importlib

BENCHES = ("router", "sms")


def main(only=None):
    names = list(only) if only else list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print("unknown benchmark(s): %s (have: %s)" % (", ".join(unknown), ", ".join(BENCHES)))
        return 2
    for name in names:
        importlib.import_module("host_tools.bench." + name).main()
    return 0
