"""One place that formats benchmark tables and writes build/bench/<name>.json."""

import json
import os
import platform
import time

BENCH_DIR = os.environ.get("BRANCHLINE_BENCH_DIR", os.path.join("build", "bench"))


class BenchUnavailable(RuntimeError):
    """A benchmark cannot run here (the message says why and what to do instead)."""


def write(name, figures, notes=None):
    """Print `figures` (a dict of key -> number) as a table and write them to <name>.json.

    The JSON holds the figures at top level (the keys issues name) plus a `_meta` block
    saying where and when they were measured.
    """
    os.makedirs(BENCH_DIR, exist_ok=True)
    width = max(len(k) for k in figures)
    print("== bench: %s" % name)
    for key, value in figures.items():
        shown = "%.3f" % value if isinstance(value, float) else str(value)
        print("  %-*s  %s" % (width, key, shown))
    for line in notes or ():
        print("  # " + line)
    doc = dict(figures)
    doc["_meta"] = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "notes": list(notes or ()),
    }
    path = os.path.join(BENCH_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    return path
