"""Runs portable test modules on MicroPython (no pytest there): imports each module in
MODULES and calls its test_* functions in name order, then prints one summary line,
"N passed, M failed, K skipped". A module that needs what this build lacks (btree in
the WebAssembly port) raises check.Unavailable when imported and is counted skipped,
with the reason; both runners (run.mjs, tests/unit/test_portable_on_unix_port.py)
read the summary."""

import sys

from check import Unavailable


def main(modules):
    passed = failed = 0
    skipped = []
    for mod_name in modules:
        try:
            mod = __import__(mod_name)
        except Unavailable as e:
            skipped.append("%s (%s)" % (mod_name, e))
            continue
        except Exception as e:
            failed += 1
            print("FAIL %s (import)" % mod_name)
            sys.print_exception(e)
            continue
        for name in sorted(n for n in dir(mod) if n.startswith("test_")):
            try:
                getattr(mod, name)()
                passed += 1
            except Exception as e:
                failed += 1
                print("FAIL %s.%s" % (mod_name, name))
                sys.print_exception(e)
    print("MicroPython %s" % ".".join(str(v) for v in sys.implementation.version[:3]))
    if skipped:
        print("skipped: " + ", ".join(skipped))
    print("%d passed, %d failed, %d skipped" % (passed, failed, len(skipped)))
