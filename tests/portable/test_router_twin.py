"""TwinRouter, the pure-Python router: every method, every error, the assignment rule.

Portable: plain test_* functions, no pytest, so they also run on MicroPython.
"""

from branchline.router import (
    AVAILABLE,
    BREAK,
    FEWEST_ACTIVE,
    OFFLINE,
    WRAPUP,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
    InvalidArgument,
    NotHeld,
    QueueFull,
    RouterError,
)
from branchline.router.codes import EFULL, EINVAL, ENOENT, OK
from branchline.router.errors import check, error_for
from branchline.router.twin import TwinRouter
from check import raises


def _ready(n_queues, n_agents, capacity, cap=1, skills=1, t=0):
    r = TwinRouter(n_queues, n_agents, capacity)
    for a in range(n_agents):
        r.configure_agent(a, cap, skills)
        r.set_presence(a, AVAILABLE, t)
    return r


def _drain(r, now_ms):
    out = []
    got = r.next_assignment(now_ms)
    while got is not None:
        out.append(got)
        got = r.next_assignment(now_ms)
    return out


def test_constructor_rejects_bad_config():
    for args in (
        (0, 1, 1),
        (33, 1, 1),
        (1, 0, 1),
        (1, 65, 1),
        (1, 1, 0),
        (1, 1, 0x10000),
        (1.0, 1, 1),
    ):
        with raises(InvalidArgument):
            TwinRouter(*args)
    TwinRouter(32, 64, 0xFFFF)


def test_initial_state():
    r = TwinRouter(2, 3, 4)
    for q in range(2):
        assert r.queue_length(q) == 0
    for a in range(3):
        assert r.agent_load(a) == 0
        assert r.agent_presence(a) == OFFLINE
    assert r.next_assignment(0) is None


def test_error_mapping():
    assert error_for(EINVAL) is InvalidArgument
    assert error_for(EFULL) is QueueFull
    assert error_for(ENOENT) is NotHeld
    assert error_for(-99) is RouterError
    for exc in (InvalidArgument, QueueFull, NotHeld):
        assert issubclass(exc, RouterError)
    assert check(5, "x", ()) == 5
    with raises(QueueFull, match="enqueue(1, 2)") as info:
        check(EFULL, "enqueue", (1, 2))
    assert info.value.rc == EFULL


def test_configure_agent_errors():
    r = TwinRouter(3, 2, 4)
    bad = (
        (2, 1, 1),
        (-1, 1, 1),
        (0, 0, 1),
        (0, 4, 1),
        (0, 1, 8),
        (0, 1, -1),
        (0, 1, 1 << 40),
        (0, 2.0, 1),
    )
    for args in bad:
        with raises(InvalidArgument, match="configure_agent"):
            r.configure_agent(*args)
    r.configure_agent(1, 3, 7)


def test_all_32_skill_bits():
    r = _ready(32, 1, 1, skills=0xFFFFFFFF)
    r.enqueue(31, 5, 1)
    assert r.next_assignment(2) == (5, 0)


def test_presence_values_and_errors():
    r = TwinRouter(1, 2, 1)
    for args in (
        (2, AVAILABLE, 0),
        (0, 4, 0),
        (0, -1, 0),
        (0, AVAILABLE, 1 << 63),
        (0, AVAILABLE, None),
    ):
        with raises(InvalidArgument):
            r.set_presence(*args)
    for p in (BREAK, AVAILABLE, WRAPUP, OFFLINE):
        r.set_presence(1, p, -(1 << 63))
        assert r.agent_presence(1) == p


def test_queries_reject_bad_index():
    r = TwinRouter(2, 3, 4)
    for bad in (2, -1, 1 << 16, "0"):
        with raises(InvalidArgument, match="queue_length"):
            r.queue_length(bad)
    for bad in (3, -1, 1 << 16, None):
        with raises(InvalidArgument, match="agent_load"):
            r.agent_load(bad)
        with raises(InvalidArgument, match="agent_presence"):
            r.agent_presence(bad)
    for bad in (1 << 63, 0.5):
        with raises(InvalidArgument):
            r.next_assignment(bad)


def test_ring_wraps_and_never_overwrites():
    r = _ready(2, 1, 3)
    for i in range(3):
        r.enqueue(0, 100 + i, i)
    with raises(QueueFull):
        r.enqueue(0, 999, 9)
    with raises(InvalidArgument):
        r.enqueue(2, 1, 0)
    with raises(InvalidArgument):
        r.enqueue(0, 1 << 32, 0)
    assert r.queue_length(0) == 3
    # Many laps of the 3-slot ring: FIFO order must survive the wrap.
    for i in range(20):
        assert r.next_assignment(10 + i) == (100 + i, 0)
        assert r.next_assignment(10 + i) is None
        r.enqueue(0, 103 + i, 10 + i)
        with raises(QueueFull):
            r.enqueue(0, 1, 10 + i)
        r.complete(0, 100 + i, 10 + i)
    assert r.queue_length(0) == 3
    assert r.queue_length(1) == 0


def test_cap_never_exceeded_and_lowered_cap_keeps_held():
    r = TwinRouter(1, 2, 16)
    r.configure_agent(0, 2, 1)
    r.configure_agent(1, 3, 1)
    r.set_presence(0, AVAILABLE, 0)
    r.set_presence(1, AVAILABLE, 0)
    for conv in range(10):
        r.enqueue(0, conv, 1)
    assert len(_drain(r, 2)) == 5
    assert (r.agent_load(0), r.agent_load(1), r.queue_length(0)) == (2, 3, 5)
    r.configure_agent(1, 1, 1)
    r.complete(1, 1, 3)
    assert r.agent_load(1) == 2
    assert r.next_assignment(3) is None
    r.complete(1, 3, 4)
    r.complete(1, 4, 4)
    assert _drain(r, 5) == [(5, 1)]


def test_complete_errors_and_any_presence():
    r = _ready(1, 2, 4, cap=3)
    r.set_presence(1, OFFLINE, 0)
    for conv in (7, 8, 9):
        r.enqueue(0, conv, 0)
    assert _drain(r, 1) == [(7, 0), (8, 0), (9, 0)]
    for conv in (7, 8, 9):
        r.accept(0, conv, 1)  # taken up: they stay with the agent when it leaves
    with raises(InvalidArgument):
        r.complete(2, 7, 2)
    with raises(NotHeld):
        r.complete(1, 7, 2)
    with raises(NotHeld, match="complete(0, 6, 2)"):
        r.complete(0, 6, 2)
    r.complete(0, 8, 2)
    with raises(NotHeld):
        r.complete(0, 8, 2)
    r.set_presence(0, OFFLINE, 3)
    r.complete(0, 9, 4)
    r.complete(0, 7, 4)
    assert r.agent_load(0) == 0


def test_eligibility_needs_presence_skill_and_room():
    r = TwinRouter(2, 1, 4)
    r.enqueue(1, 50, 0)
    assert r.next_assignment(0) is None  # offline, no skills
    r.set_presence(0, AVAILABLE, 0)
    assert r.next_assignment(0) is None  # no skill for queue 1
    r.configure_agent(0, 1, 1)
    assert r.next_assignment(0) is None  # serves queue 0 only
    r.configure_agent(0, 1, 2)
    r.set_presence(0, BREAK, 1)
    assert r.next_assignment(1) is None  # on break
    r.set_presence(0, AVAILABLE, 2)
    assert r.next_assignment(3) == (50, 0)


def test_oldest_assignable_head_wins():
    r = TwinRouter(3, 2, 4)
    r.enqueue(2, 1, 0)  # oldest, but nobody serves queue 2
    r.enqueue(1, 2, 1)
    r.enqueue(0, 3, 2)
    r.enqueue(1, 4, 3)
    r.configure_agent(0, 3, 3)
    r.set_presence(0, AVAILABLE, 0)
    assert _drain(r, 5) == [(2, 0), (3, 0), (4, 0)]
    assert r.queue_length(2) == 1


def test_agent_tie_breaks():
    r = TwinRouter(1, 4, 16)
    r.set_queue(0, FEWEST_ACTIVE)
    for a in range(4):
        r.configure_agent(a, 2, 1)
    for a, t in ((3, 10), (1, 10), (2, 10), (0, 20)):
        r.set_presence(a, AVAILABLE, t)
    r.set_presence(1, AVAILABLE, 99)  # already available: idle time is kept
    expected = (
        (1, 30, 1),  # idle tie at 10: lowest index
        (2, 31, 2),
        (3, 32, 3),
        (4, 33, 0),  # the only one with nothing active
        (5, 34, 1),  # all hold one; 1 changed longest ago (30)
    )
    for conv, t, agent in expected:
        r.enqueue(0, conv, t)
        assert r.next_assignment(t) == (conv, agent)
    r.complete(2, 2, 35)
    r.enqueue(0, 6, 36)
    assert r.next_assignment(36) == (6, 2)  # fewest active beats idle time
    r.enqueue(0, 7, 37)
    assert r.next_assignment(37) == (7, 3)  # load 1: 3 changed at 32, 0 at 33, 2 at 36


def test_step_and_run():
    r = TwinRouter(2, 2, 4)
    assert r.step(OP_CONFIGURE, 0, 3, 3, 0) == (OK, [])
    for conv in (10, 11, 12, 13):
        assert r.step(OP_ENQUEUE, conv & 1, conv, 0, 1) == (OK, [])
    assert r.step(OP_PRESENCE, 0, AVAILABLE, 0, 2) == (OK, [(10, 0), (11, 0), (12, 0)])
    assert r.step(OP_COMPLETE, 0, 99, 0, 3) == (ENOENT, [])
    assert r.step(0, 0, 0, 0, 0) == (EINVAL, [])
    assert r.step(OP_CONFIGURE, 0, 1 << 32, 1, 0) == (EINVAL, [])
    assert r.step(OP_ENQUEUE, 0, 1, 0, 1.5) == (EINVAL, [])
    events = [
        (OP_COMPLETE, 0, 10, 0, 4),
        (OP_COMPLETE, 0, 10, 0, 5),
        (OP_ENQUEUE, 9, 1, 0, 6),
        (OP_ENQUEUE, 1, 20, 0, 7),
        (OP_COMPLETE, 0, 11, 0, 8),
    ]
    assert r.run(events) == ([OK, ENOENT, EINVAL, OK, OK], [(13, 0), (20, 0)])
    assert r.run([]) == ([], [])


def test_step_drains_what_direct_calls_left_pending():
    r = _ready(1, 1, 4, cap=3)
    r.enqueue(0, 1, 0)
    r.enqueue(0, 2, 0)
    assert r.step(OP_COMPLETE, 0, 5, 0, 1) == (ENOENT, [(1, 0), (2, 0)])


def test_state_bytes_is_a_c_figure_only():
    assert TwinRouter(2, 2, 2).state_bytes is None
