"""NativeRouter and TwinRouter fed the same events must agree on everything observable:
return codes, outputs, queries, and snapshot bytes; restoring either's snapshot in
either must carry on identically. The streams reach every output kind (checked)."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# `make test` always builds the extension (pip install -e .), so its absence is a
# failure here, not a reason to skip.
from branchline.router import native

from branchline.router import OP_ENQUEUE, OUT_OFFER, OUT_WRAPUP_END, TwinRouter
from host_tools.bench.router import N_AGENTS, N_QUEUES, QUEUE_CAPACITY, make_stream
from host_tools.bench.router_batch import BatchRouter, pack_events
from router_streams import call_both, drive, make_event

NativeRouter = native.NativeRouter

OPTIONS = st.fixed_dictionaries(
    {
        "max_convs": st.sampled_from([0, 4, 12]),
        "offer_timeout_ms": st.sampled_from([0, 60]),
        "rejoin_ms": st.sampled_from([0, 80]),
        "private_ms": st.sampled_from([0, 100]),
        "max_misses": st.sampled_from([0, 1, 2]),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n_queues=st.sampled_from([1, 2, 3, 32]),
    n_agents=st.sampled_from([1, 2, 4, 64]),
    capacity=st.integers(1, 4),
    options=OPTIONS,
    n_events=st.integers(1, 250),
)
def test_step_by_step_agreement(data, n_queues, n_agents, capacity, options, n_events):
    def pick(n):
        return data.draw(st.integers(0, n - 1))

    drive(NativeRouter, pick, n_queues, n_agents, capacity, options, n_events)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 1 << 32),
    n_queues=st.sampled_from([2, 3, 5]),
    n_agents=st.sampled_from([2, 3, 6]),
    capacity=st.integers(1, 6),
    options=OPTIONS,
)
def test_long_seeded_streams(seed, n_queues, n_agents, capacity, options):
    rng = random.Random(seed)
    drive(NativeRouter, rng.randrange, n_queues, n_agents, capacity, options, 3000,
          snap_every=250)


def test_every_output_kind_is_reached():
    # The generator, not luck, must reach every kind: a fixed seed, every timer on.
    options = {"offer_timeout_ms": 60, "rejoin_ms": 80, "private_ms": 100, "max_misses": 2}
    rng = random.Random(7)
    kinds = drive(NativeRouter, rng.randrange, 3, 3, 4, options, 4000, snap_every=250)
    assert kinds == set(range(OUT_OFFER, OUT_WRAPUP_END + 1))


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n_queues=st.sampled_from([1, 3]),
    n_agents=st.sampled_from([1, 3]),
    options=OPTIONS,
    n_calls=st.integers(1, 100),
)
def test_methods_raise_alike(data, n_queues, n_agents, options, n_calls):
    nat = NativeRouter(n_queues, n_agents, 2, **options)
    twin = TwinRouter(n_queues, n_agents, 2, **options)
    held = []

    def pick(n):
        return data.draw(st.integers(0, n - 1))

    for i in range(n_calls):
        ev = make_event(pick, n_queues, n_agents, held, i * 10)
        call_both(nat, twin, ev, n_queues, n_agents, held)


def _run_both(events, n_queues, n_agents, capacity, **options):
    nat = NativeRouter(n_queues, n_agents, capacity, **options)
    twin = TwinRouter(n_queues, n_agents, capacity, **options)
    got = nat.run(events)
    assert got == twin.run(events)
    assert nat.snapshot() == twin.snapshot()
    return got


def test_bench_stream_100k_through_bl_router_run():
    events, _, total = make_stream(100_000, TwinRouter(N_QUEUES, N_AGENTS, QUEUE_CAPACITY))
    batch = BatchRouter(N_QUEUES, N_AGENTS, QUEUE_CAPACITY)
    rcs, out = batch.run_packed(*pack_events(events))
    twin = TwinRouter(N_QUEUES, N_AGENTS, QUEUE_CAPACITY)
    assert (list(rcs), list(out)) == twin.run(events)
    assert len(out) == total
    assert batch.snapshot() == twin.snapshot()


def test_seeded_stream_with_invalid_events_through_run():
    rng = random.Random(20240611)
    held = []
    events = []
    t = 0
    for _ in range(50_000):
        ev = make_event(rng.randrange, 8, 8, held, t)
        if isinstance(ev[4], int) and ev[4] < (1 << 62):
            t = max(t, ev[4])
        events.append(ev)
        if ev[0] == OP_ENQUEUE and rng.randrange(3) == 0:
            held.append((ev[2], rng.randrange(8)))
            del held[:-20]
    _, out = _run_both(
        events, 8, 8, 16, offer_timeout_ms=60, rejoin_ms=80, private_ms=100, max_misses=2
    )
    assert out
