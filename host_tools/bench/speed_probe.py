"""Events per second of the core under MicroPython, over the router named by PARAMS
("twin", or "native": the blrouter user C module), and the heap the router itself
takes. Prints one JSON line. Run by host_tools/bench/micropython.py under the 32-bit
unix port: `micropython host_tools/bench/speed_probe.py params.json`; PARAMS: router,
open, events, desks, queues, capacity."""

import gc
import json
import time

from branchline.core import branch, config, jsonfmt, routing
from branchline.router import TwinRouter
from host_tools.bench import core_day


def heap():
    gc.collect()
    return gc.mem_alloc()


def run(params):
    if params["router"] == "twin":
        routing.Router = TwinRouter
    elif routing.Router is TwinRouter:
        raise SystemExit("speed probe: this MicroPython has no blrouter module")
    cfg = config.validate(core_day.config(params["desks"], params["queues"],
                                          queue_capacity=params["capacity"]))
    before = heap()
    router, _ = routing.build_router(cfg)
    router_bytes = heap() - before
    router = None
    core = branch.Branch(cfg)
    scenario = core_day.Scenario(params["desks"], params["queues"])
    for ev in scenario.desks_in():
        scenario.observe(ev, core.apply(ev), len(core.conversations))
    while len(core.conversations) < params["open"]:
        ev = scenario.step(keep_open=params["open"])
        scenario.observe(ev, core_day.apply_checked(core, ev) or (), len(core.conversations))
    spent_us = 0
    for _ in range(params["events"]):
        ev = scenario.step(keep_open=params["open"])
        t0 = time.ticks_us()
        effects = core_day.apply_checked(core, ev)
        spent_us += time.ticks_diff(time.ticks_us(), t0)
        scenario.observe(ev, effects or (), len(core.conversations))
    return {"router": type(core.router).__name__, "router_heap_bytes": router_bytes,
            "events_per_s": params["events"] * 1000000 // max(1, spent_us)}


try:
    PARAMS  # noqa: F821 (set by a runner that cannot pass argv)
except NameError:
    import sys

    with open(sys.argv[1]) as f:  # a file: see heap_probe.py
        PARAMS = json.load(f)
print(jsonfmt.dumps(run(PARAMS)))
