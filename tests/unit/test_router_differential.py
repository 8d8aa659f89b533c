"""NativeRouter and TwinRouter fed the same events must agree on everything observable:
return codes, outputs, queries, and snapshot bytes; restoring either's snapshot in
either must carry on identically. The streams reach every output kind (checked)."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# `make test` always builds the extension (pip install -e .), so its absence is a
# failure here, not a reason to skip.
from branchline.router import native

from branchline.router import (
    BREAK,
    NEVER,
    OP_ABANDON,
    OP_ACCEPT,
    OP_ASSIGN,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_ENQUEUE_PRIVATE,
    OP_NEXT,
    OP_PRESENCE,
    OP_REJOIN,
    OP_RELEASE,
    OP_SET_MAX_WAIT,
    OP_SET_QUEUE,
    OP_SET_WRAPUP,
    OP_TICK,
    OP_TRANSFER_AGENT,
    OP_TRANSFER_QUEUE,
    OP_UPSTREAM,
    OUT_OFFER,
    OUT_WRAPUP_END,
    REASON_MISSED,
    RouterError,
    TwinRouter,
)
from branchline.router.codes import OP_LAST

from host_tools.bench.router import N_AGENTS, N_QUEUES, QUEUE_CAPACITY, make_stream
from host_tools.bench.router_batch import BatchRouter, pack_events

NativeRouter = native.NativeRouter

# Values just outside the C field types, and non-ints: they must be EINVAL in both.
ODD = [-1, 1 << 16, 1 << 32, 1 << 64, -(1 << 63) - 1, 1 << 63, 1.0, None]
OPTIONS = st.fixed_dictionaries(
    {
        "max_convs": st.sampled_from([0, 4, 12]),
        "offer_timeout_ms": st.sampled_from([0, 60]),
        "rejoin_ms": st.sampled_from([0, 80]),
        "private_ms": st.sampled_from([0, 100]),
        "max_misses": st.sampled_from([0, 1, 2]),
    }
)


def assert_same_state(nat, twin, n_queues, n_agents, convs=range(0, 14)):
    for q in range(n_queues):
        assert nat.queue_length(q) == twin.queue_length(q)
    for a in range(n_agents):
        assert nat.agent_load(a) == twin.agent_load(a)
        assert nat.agent_presence(a) == twin.agent_presence(a)
        assert nat.agent_reason(a) == twin.agent_reason(a)
        assert nat.agent_state(a) == twin.agent_state(a) == (
            nat.agent_presence(a), nat.agent_load(a),
            nat.agent_presence(a) == BREAK and nat.agent_reason(a) == REASON_MISSED)
    for conv in convs:
        assert nat.conv_state(conv) == twin.conv_state(conv)
        if nat.conv_state(conv) is not None:
            assert outcome(nat.position, conv) == outcome(twin.position, conv)
            assert nat.conv_agent(conv) == twin.conv_agent(conv)
            assert nat.conv_queue(conv) == twin.conv_queue(conv)
    assert nat.next_due() == twin.next_due()
    for after in (-1, 0, 100, 10_000):
        assert nat.backup_due(after) == twin.backup_due(after)
    assert nat.snapshot() == twin.snapshot()


def outcome(method, *args):
    """What method(*args) returns, or the class of the RouterError it raises and the
    outputs it carries."""
    try:
        return method(*args)
    except RouterError as exc:
        return type(exc), exc.outputs


def make_event(pick, n_queues, n_agents, held, t):
    """One event; `pick(n)` draws 0..n-1. Mostly meaningful (valid, or wrong in one
    field), sometimes garbage. `held` lists (conv, agent) pairs offered so far, so
    accepts, completions and transfers often hit. Time moves in small steps and the
    thresholds are short, so offers time out, agents miss their way to a break,
    wrap-ups end, private conversations and queue heads overflow, max waits expire and
    tombstones are forgotten (test_every_output_kind_is_reached checks it)."""
    op = 1 + pick(OP_LAST)
    now = t + pick(40)
    agent = pick(n_agents + 1)  # n_agents itself is out of range
    queue = pick(n_queues + 1)
    if held and pick(2):
        conv, agent2 = held[pick(len(held))]
        if pick(4):
            agent = agent2
    else:
        conv = pick(14)
    if pick(60) == 0:  # garbage in one field, or an unknown op
        fields = [op if pick(3) else OP_LAST + 1 + pick(5), agent, conv, pick(3), now, 0]
        fields[pick(6)] = ODD[pick(len(ODD))]
        return tuple(fields)
    if op == OP_CONFIGURE:
        mask = (1 << (n_queues + 1)) - 1
        primary = pick(mask + 1)
        backup = pick(mask + 1)
        if pick(5):
            backup &= ~primary
        return (op, agent, pick(5), primary, now, backup)
    if op == OP_PRESENCE:
        return (op, agent, pick(5), pick(3), now)
    if op == OP_ENQUEUE:
        return (op, queue, conv, (0, 0, 0, 30, 500)[pick(5)], now)
    if op == OP_SET_QUEUE:
        oq = 0xFF if pick(3) else pick(n_queues + 1)
        return (op, queue, pick(6) | oq << 8, (NEVER, 0, 25, 90)[pick(4)], now,
                (NEVER, 0, 50, 150)[pick(4)])
    if op == OP_SET_MAX_WAIT:
        return (op, queue, (NEVER, NEVER, 0, 40, 120, 1 << 31)[pick(6)], 0, now)
    if op == OP_SET_WRAPUP:
        return (op, agent, (0, 30, 120)[pick(3)], pick(3), now)
    if op == OP_ENQUEUE_PRIVATE:
        return (op, agent, conv, (0, 0, 50)[pick(3)], now, pick(n_queues + 1))
    if op in (OP_ASSIGN, OP_TRANSFER_QUEUE):
        return (op, queue if op == OP_TRANSFER_QUEUE else agent, conv, pick(3), now)
    if op in (OP_ACCEPT, OP_COMPLETE) and held and pick(4):
        conv, agent = held[-1 - pick(min(3, len(held)))]  # a recent offer: likely valid
    if op in (OP_ACCEPT, OP_COMPLETE, OP_TRANSFER_AGENT, OP_NEXT):
        return (op, agent, conv, 0, now)
    if op in (OP_ABANDON, OP_REJOIN, OP_UPSTREAM, OP_RELEASE, OP_TICK):
        return (op, 0, conv, 0, now)
    raise AssertionError(op)


def drive(pick, n_queues, n_agents, capacity, options, n_events, snap_every=25):
    """Steps both routers through a stream; returns the set of output kinds seen."""
    nat = NativeRouter(n_queues, n_agents, capacity, **options)
    twin = TwinRouter(n_queues, n_agents, capacity, **options)
    assert nat.max_outputs() == twin.max_outputs()
    bound = nat.max_outputs()
    held = []
    kinds = set()
    t = 0
    for i in range(n_events):
        ev = make_event(pick, n_queues, n_agents, held, t)
        if isinstance(ev[4], int) and ev[4] < (1 << 62):
            t = max(t, ev[4])
        got = nat.step(*ev)
        assert got == twin.step(*ev), (i, ev)
        assert len(got[1]) <= bound
        for kind, conv, agent, _ in got[1]:
            kinds.add(kind)
            if kind == OUT_OFFER:
                held.append((conv, agent))
        if len(held) > 30:
            del held[:10]
        if i % snap_every == 0:
            assert_same_state(nat, twin, n_queues, n_agents)
            blob = nat.snapshot()
            # Restore each from the other's bytes: both must carry on identically.
            nat, twin = NativeRouter.restore(twin.snapshot()), TwinRouter.restore(blob)
            assert nat.snapshot() == blob == twin.snapshot()
    assert_same_state(nat, twin, n_queues, n_agents)
    return kinds


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

    drive(pick, n_queues, n_agents, capacity, options, n_events)


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
    drive(rng.randrange, n_queues, n_agents, capacity, options, 3000, snap_every=250)


def test_every_output_kind_is_reached():
    # The generator, not luck, must reach every kind: a fixed seed, every timer on.
    options = {"offer_timeout_ms": 60, "rejoin_ms": 80, "private_ms": 100, "max_misses": 2}
    rng = random.Random(7)
    kinds = drive(rng.randrange, 3, 3, 4, options, 4000, snap_every=250)
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
        op, a, b, c, now = ev[:5]
        d = ev[5] if len(ev) > 5 else 0
        name, args = {
            OP_CONFIGURE: ("configure_agent", (a, b, c, d, now)),
            OP_PRESENCE: ("set_presence", (a, b, now, c)),
            OP_ENQUEUE: ("enqueue", (a, b, now, c)),
            OP_COMPLETE: ("complete", (a, b, now)),
            OP_ACCEPT: ("accept", (a, b, now)),
            OP_SET_QUEUE: ("set_queue", (a, b & 0xFF if isinstance(b, int) else b,
                                         b >> 8 if isinstance(b, int) else 0, c, d, now)),
            OP_SET_WRAPUP: ("set_wrapup", (a, b, c, now)),
            OP_ENQUEUE_PRIVATE: ("enqueue_private", (a, b, d, now, c)),
            OP_ABANDON: ("abandon", (b, now)),
            OP_REJOIN: ("rejoin", (b, now)),
            OP_ASSIGN: ("assign", (a, b, now, c)),
            OP_NEXT: ("take_next", (a, now)),
            OP_TRANSFER_AGENT: ("transfer_to_agent", (a, b, now)),
            OP_TRANSFER_QUEUE: ("transfer_to_queue", (a, b, now, c)),
            OP_UPSTREAM: ("upstream", (b, now)),
            OP_RELEASE: ("release", (b, now)),
            OP_TICK: ("tick", (now,)),
            OP_SET_MAX_WAIT: ("set_max_wait", (a, b, now)),
        }.get(op, ("queue_length", (a,)))
        got = outcome(getattr(nat, name), *args)
        assert got == outcome(getattr(twin, name), *args)
        outputs = got[1] if isinstance(got, tuple) else got
        if isinstance(outputs, list):
            held.extend((o[1], o[2]) for o in outputs if o[0] == OUT_OFFER)
        assert_same_state(nat, twin, n_queues, n_agents)


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
