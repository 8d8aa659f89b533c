"""A simulated stretch of a branch's day through the core, for comparing runtimes and
measuring the heap: prints one JSON line {"digest", "events", "heap_peak"}.

Run under CPython (`python tests/micropython/day.py '{...}'`) or MicroPython
(`node tests/micropython/run.mjs --script tests/micropython/day.py '{...}'`); PARAMS:
events, open (conversations kept open), desks, queues, and optionally "router":
"twin" to use the Python twin on CPython too.
"""

import gc
import json

from branchline.core import branch, config, jsonfmt, routing
from host_tools.bench import core_day


def heap():
    gc.collect()
    try:
        return gc.mem_alloc()
    except AttributeError:  # CPython: nothing comparable to measure
        return 0


def run(params):
    if params.get("router") == "twin":
        from branchline.router.twin import TwinRouter

        routing.Router = TwinRouter
    cfg = config.validate(core_day.config(params["desks"], params["queues"],
                                          queue_capacity=params.get("capacity", 256)))
    base = heap()
    digest, events, peak = core_day.digest_day(lambda: branch.Branch(cfg), params["events"],
                                               params.get("open"), heap)
    return {"digest": digest, "events": events, "heap_peak": max(0, peak - base)}


try:
    PARAMS  # noqa: F821 (set by run.mjs under MicroPython)
except NameError:
    import sys

    PARAMS = json.loads(sys.argv[1])
print(jsonfmt.dumps(run(PARAMS)))
