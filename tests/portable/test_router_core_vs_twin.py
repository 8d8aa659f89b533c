"""The router's C core as this runtime has it (the cffi extension on CPython, the
blrouter user C module on a MicroPython built with it) against the twin, on seeded
streams: every step, every public method, every snapshot both ways. On CPython,
tests/unit/test_router_differential.py goes deeper with hypothesis."""

import random

from branchline.router import (
    OUT_OFFER,
    OUT_WRAPUP_END,
    CorruptSnapshot,
    InvalidArgument,
    Router,
    TwinRouter,
)
from check import Unavailable
from router_streams import call_both, drive, make_event, outcome

if Router is TwinRouter:
    raise Unavailable("this build has no C router")

TIMERS = {"offer_timeout_ms": 60, "rejoin_ms": 80, "private_ms": 100, "max_misses": 2}
SHAPES = (  # n_queues, n_agents, capacity, options
    (1, 1, 1, {}),
    (2, 3, 4, TIMERS),
    (3, 2, 2, {"max_convs": 4, "offer_timeout_ms": 60}),
    (32, 64, 3, {"max_convs": 12, "rejoin_ms": 80, "max_misses": 1}),
    (5, 6, 6, TIMERS),
)


def picker(seed):
    """pick(n) -> 0..n-1 from a seeded generator; MicroPython's randrange takes only
    small ints, and a skill mask of 32 queues is not one."""
    random.seed(seed)

    def pick(n):
        if n <= 1 << 30:
            return random.randrange(n)
        return (random.getrandbits(30) << 30 | random.getrandbits(30)) % n

    return pick


def test_seeded_streams_agree_step_by_step():
    for seed, (n_queues, n_agents, capacity, options) in enumerate(SHAPES):
        drive(Router, picker(seed), n_queues, n_agents, capacity, options, 600)


def test_every_output_kind_is_reached():
    kinds = drive(Router, picker(7), 3, 3, 4, TIMERS, 4000, snap_every=250)
    assert kinds == set(range(OUT_OFFER, OUT_WRAPUP_END + 1)), kinds


def test_methods_answer_and_raise_alike():
    for seed, (n_queues, n_agents, capacity, options) in enumerate(SHAPES[:3]):
        pick = picker(100 + seed)
        nat = Router(n_queues, n_agents, capacity, **options)
        twin = TwinRouter(n_queues, n_agents, capacity, **options)
        held = []
        for i in range(150):
            ev = make_event(pick, n_queues, n_agents, held, i * 10)
            call_both(nat, twin, ev, n_queues, n_agents, held)


def test_bad_configs_and_blobs_are_refused_alike():
    for args in ((0, 1, 1), (1, 65, 1), (1, 1, 0), (33, 1, 1), (1, 1, 1.5)):
        assert outcome(Router, *args)[0] is outcome(TwinRouter, *args)[0] is InvalidArgument
    blob = TwinRouter(2, 2, 2).snapshot()
    for bad in (b"", blob[:-1], blob[:8] + b"\xff" + blob[9:], bytearray(blob[:20])):
        assert outcome(Router.restore, bad)[0] is CorruptSnapshot
        assert outcome(TwinRouter.restore, bad)[0] is CorruptSnapshot
    assert Router.restore(bytearray(blob)).snapshot() == blob
