"""The branch core's cost per event at a given number of open conversations, with the C
router and with the Python twin (the ESP32 edition's router unless its native module
is built). Only `Branch.apply` is timed: the stream's own bookkeeping is not.

Each load: a branch of 20 desks (caps 1-3) over 4 queues is filled to that many open
conversations (untimed), then the same event mix (host_tools/bench/core_day.py: new
customers, replies, accepts, closes, messages on open conversations, presence changes,
ticks) runs for a while with a close for every newcomer, so the load stays put.
"""

import time

from branchline.core import branch as core_branch
from branchline.core import config as core_config
from branchline.core import routing
from branchline.router.twin import TwinRouter

from host_tools.bench import core_day, heap, report

LOADS = (10, 1000, 2500, 5000)
N_DESKS = 20
N_QUEUES = 4
MIN_EVENTS = 2000
BUDGET_S = 2.0  # per load: enough events for a steady figure, not minutes at a slow one


def _core(router_class=None, service=False):
    make = core_day.service_config if service else core_day.config
    cfg = core_config.validate(make(N_DESKS, N_QUEUES, queue_capacity=2048))
    if router_class is None:
        return core_branch.Branch(cfg)
    saved = routing.Router
    routing.Router = router_class  # the same core over the other router
    try:
        return core_branch.Branch(cfg)
    finally:
        routing.Router = saved


def events_per_s(open_convs, router_class=None, service=False):
    """`service`: the service layer on (core_day.service_config; customers answer the
    menu)."""
    core = _core(router_class, service)
    scenario = core_day.Scenario(N_DESKS, N_QUEUES, menu=service)
    for ev in scenario.desks_in():
        scenario.observe(ev, core.apply(ev), len(core.conversations))
    while len(core.conversations) < open_convs:
        ev = scenario.step(keep_open=open_convs)
        scenario.observe(ev, core_day.apply_checked(core, ev) or (), len(core.conversations))
    spent = 0.0
    n = 0
    clock = time.perf_counter
    while n < MIN_EVENTS or spent < BUDGET_S:
        ev = scenario.step(keep_open=open_convs)
        t0 = clock()
        effects = core_day.apply_checked(core, ev)
        spent += clock() - t0
        n += 1
        scenario.observe(ev, effects or (), len(core.conversations))
    return round(n / spent)


def day_wall_s():
    """A day of 10,000 conversations at 20 desks through the core (check and apply)."""
    core = _core()
    # 10,000 conversations in 24 h: one every 8.6 s, about 6 events each.
    scenario = core_day.Scenario(N_DESKS, N_QUEUES, gap_ms=2 * 86400000 // 60000)
    for ev in scenario.desks_in():
        scenario.observe(ev, core.apply(ev), len(core.conversations))
    t0 = time.perf_counter()
    start = core._next_conv
    events = 0
    while core._next_conv - start < 10000:
        ev = scenario.step(keep_open=60)
        scenario.observe(ev, core_day.apply_checked(core, ev) or (), len(core.conversations))
        events += 1
    return round(time.perf_counter() - t0, 3), events


def main():
    figures = {}
    for load in LOADS:
        figures["core_events_per_s_open_%d" % load] = events_per_s(load)
    for load in LOADS:
        figures["twin_core_events_per_s_open_%d" % load] = events_per_s(load, TwinRouter)
    figures["day_wall_s"], day_events = day_wall_s()
    heap_figures, heap_notes = heap.figures()
    figures.update(heap_figures)
    notes = heap_notes + [
        "Branch.apply only, CPython, %d desks over %d queues, queue capacity 2048; "
        "core_* with the C router (cffi), twin_core_* with the Python twin; at least %d "
        "events and %.0f s per load" % (N_DESKS, N_QUEUES, MIN_EVENTS, BUDGET_S),
        "day_wall_s: 10,000 conversations (%d events) through the core, C router"
        % day_events,
    ]
    report.write("core", figures, notes)
    return 0


if __name__ == "__main__":
    main()
