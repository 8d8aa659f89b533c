"""NativeRouter and TwinRouter fed the same events must agree on everything observable."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# `make test` always builds the extension (pip install -e .), so its absence is a
# failure here, not a reason to skip.
from branchline.router import native

from branchline.router import (
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
    RouterError,
    TwinRouter,
)

from host_tools.bench.router import N_AGENTS, N_QUEUES, QUEUE_CAPACITY, make_stream

NativeRouter = native.NativeRouter

# Values just outside the C field types, and non-ints: they must be EINVAL in both.
ODD = [-1, 1 << 16, 1 << 32, 1 << 64, -(1 << 63) - 1, 1 << 63, 1.0, None]


def assert_same_state(nat, twin, n_queues, n_agents):
    for q in range(n_queues):
        assert nat.queue_length(q) == twin.queue_length(q)
    for a in range(n_agents):
        assert nat.agent_load(a) == twin.agent_load(a)
        assert nat.agent_presence(a) == twin.agent_presence(a)


def outcome(method, *args):
    """What method(*args) returns, or the class of the RouterError it raises."""
    try:
        return method(*args)
    except RouterError as exc:
        return type(exc)


@st.composite
def event(draw, n_queues, n_agents, held, t):
    """Mostly meaningful events (valid or wrong in one field), sometimes garbage."""
    kind = draw(
        st.sampled_from(
            ["enqueue"] * 4 + ["complete"] * 3 + ["presence"] * 2 + ["configure", "odd"]
        )
    )
    now = t + draw(st.integers(0, 50))
    agent = draw(st.integers(0, n_agents))  # n_agents itself is out of range
    if kind == "enqueue":
        return (OP_ENQUEUE, draw(st.integers(0, n_queues)), draw(st.integers(0, 40)), 0, now)
    if kind == "complete":
        if held and draw(st.booleans()):
            conv, agent = draw(st.sampled_from(held))
        else:
            conv = draw(st.integers(0, 40))
        return (OP_COMPLETE, agent, conv, 0, now)
    if kind == "presence":
        return (OP_PRESENCE, agent, draw(st.integers(0, 3)), 0, now)
    if kind == "configure":
        skills = draw(st.integers(0, (1 << (n_queues + 1)) - 1))
        return (OP_CONFIGURE, agent, draw(st.integers(0, 4)), skills, now)
    fields = [draw(st.integers(0, 6)), agent, draw(st.integers(0, 40)), 0, now]
    fields[draw(st.integers(0, 4))] = draw(st.sampled_from(ODD))
    return tuple(fields)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    n_queues=st.sampled_from([1, 2, 3, 32]),
    n_agents=st.sampled_from([1, 2, 4, 64]),
    capacity=st.integers(1, 4),
    n_events=st.integers(1, 200),
)
def test_step_by_step_agreement(data, n_queues, n_agents, capacity, n_events):
    nat = NativeRouter(n_queues, n_agents, capacity)
    twin = TwinRouter(n_queues, n_agents, capacity)
    held = []  # (conv, agent) pairs assigned so far, so completions often hit
    t = 0
    for _ in range(n_events):
        ev = data.draw(event(n_queues, n_agents, held, t))
        if isinstance(ev[4], int):
            t = max(t, ev[4])
        got = nat.step(*ev)
        assert got == twin.step(*ev), ev
        held.extend(got[1])
        assert_same_state(nat, twin, n_queues, n_agents)


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n_queues=st.sampled_from([1, 3]),
    n_agents=st.sampled_from([1, 3]),
    n_calls=st.integers(1, 100),
)
def test_methods_raise_alike(data, n_queues, n_agents, n_calls):
    nat = NativeRouter(n_queues, n_agents, 2)
    twin = TwinRouter(n_queues, n_agents, 2)
    held = []
    for i in range(n_calls):
        op, a, b, c, now = data.draw(event(n_queues, n_agents, held, i))
        name, args = {
            OP_CONFIGURE: ("configure_agent", (a, b, c)),
            OP_PRESENCE: ("set_presence", (a, b, now)),
            OP_ENQUEUE: ("enqueue", (a, b, now)),
            OP_COMPLETE: ("complete", (a, b, now)),
        }.get(op, ("queue_length", (a,)))
        assert outcome(getattr(nat, name), *args) == outcome(getattr(twin, name), *args)
        # Drain only now and then, so later events meet pending assignments too.
        if data.draw(st.booleans()):
            n = outcome(nat.next_assignment, now)
            assert n == outcome(twin.next_assignment, now)
            if isinstance(n, tuple):
                held.append(n)
        assert_same_state(nat, twin, n_queues, n_agents)


def _run_both(events, n_queues, n_agents, capacity):
    nat = NativeRouter(n_queues, n_agents, capacity)
    twin = TwinRouter(n_queues, n_agents, capacity)
    got = nat.run(events)
    assert got == twin.run(events)
    assert_same_state(nat, twin, n_queues, n_agents)
    return got


def test_bench_stream_100k_through_run():
    events, assigned = make_stream(100_000, TwinRouter(N_QUEUES, N_AGENTS, QUEUE_CAPACITY))
    _, out = _run_both(events, N_QUEUES, N_AGENTS, QUEUE_CAPACITY)
    assert len(out) == assigned


def test_seeded_stream_with_invalid_events_through_run():
    rng = random.Random(20240611)
    events = []
    t = 0
    for _ in range(100_000):
        t += rng.randrange(10)
        op = rng.choice([OP_ENQUEUE, OP_ENQUEUE, OP_COMPLETE, OP_PRESENCE, OP_CONFIGURE, 0])
        ev = [op, rng.randrange(9), rng.randrange(60), rng.randrange(1 << 9), t]
        if op == OP_CONFIGURE:
            ev[2] = rng.randrange(5)
        elif op == OP_PRESENCE:
            ev[2] = rng.randrange(4)
        if rng.random() < 0.001:
            ev[rng.randrange(5)] = rng.choice(ODD)
        events.append(tuple(ev))
    _, out = _run_both(events, 8, 8, 16)
    assert out
