"""TwinRouter, the pure-Python router: every method, every error, the assignment rule.

Portable: plain test_* functions, no pytest, so they also run on MicroPython.
"""

import struct

from branchline.router import (
    ABANDONED,
    AVAILABLE,
    BREAK,
    FEWEST_ACTIVE,
    NEVER,
    OFFLINE,
    WRAPUP,
    OP_COMPLETE,
    OP_CONFIGURE,
    OP_ENQUEUE,
    OP_PRESENCE,
    OUT_EXPIRED,
    OUT_FORGOTTEN,
    OUT_OFFER,
    OUT_OFFER_TIMEOUT,
    WAITING,
    CorruptSnapshot,
    InvalidArgument,
    NotHeld,
    QueueFull,
    RouterError,
)
from branchline.router.codes import EFULL, EINVAL, ENOENT, OK
from branchline.router.errors import check, error_for
from branchline.router.snapshot import crc32
from branchline.router.twin import TwinRouter
from check import raises


def _ready(n_queues, n_agents, capacity, cap=1, skills=1, t=0):
    r = TwinRouter(n_queues, n_agents, capacity)
    for a in range(n_agents):
        r.configure_agent(a, cap, skills)
        r.set_presence(a, AVAILABLE, t)
    return r


def _offers(outputs):
    """(conv, agent) of each OFFER among the outputs."""
    return [(conv, agent) for kind, conv, agent, _ in outputs if kind == OUT_OFFER]


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
    assert r.tick(0) == []


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
    assert r.enqueue(31, 5, 1) == [(OUT_OFFER, 5, 0, 31)]


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
        with raises(InvalidArgument, match="agent_state"):
            r.agent_state(bad)
    for bad in (1 << 63, 0.5):
        with raises(InvalidArgument):
            r.tick(bad)
        with raises(InvalidArgument):
            r.backup_due(bad)


def test_ring_wraps_and_never_overwrites():
    r = TwinRouter(2, 1, 3)
    r.configure_agent(0, 1, 1)
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
    assert _offers(r.set_presence(0, AVAILABLE, 9)) == [(100, 0)]
    for i in range(20):
        assert r.enqueue(0, 103 + i, 10 + i) == []
        with raises(QueueFull):
            r.enqueue(0, 1, 10 + i)
        assert _offers(r.complete(0, 100 + i, 10 + i)) == [(101 + i, 0)]
    assert r.queue_length(0) == 2
    assert r.queue_length(1) == 0


def test_cap_never_exceeded_and_lowered_cap_keeps_held():
    r = TwinRouter(1, 2, 16)
    r.configure_agent(0, 2, 1)
    r.configure_agent(1, 3, 1)
    r.set_presence(0, AVAILABLE, 0)
    r.set_presence(1, AVAILABLE, 0)
    got = []
    for conv in range(10):
        got += _offers(r.enqueue(0, conv, 1))
    assert len(got) == 5
    assert (r.agent_load(0), r.agent_load(1), r.queue_length(0)) == (2, 3, 5)
    r.configure_agent(1, 1, 1)
    assert r.complete(1, 1, 3) == []
    assert r.agent_load(1) == 2
    assert r.complete(1, 3, 4) == []
    assert _offers(r.complete(1, 4, 4)) == [(5, 1)]


def test_complete_errors_and_any_presence():
    r = _ready(1, 2, 4, cap=3)
    r.set_presence(1, OFFLINE, 0)
    got = []
    for conv in (7, 8, 9):
        got += _offers(r.enqueue(0, conv, 0))
    assert got == [(7, 0), (8, 0), (9, 0)]
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
    assert r.enqueue(1, 50, 0) == []  # offline, no skills
    assert r.set_presence(0, AVAILABLE, 0) == []  # no skill for queue 1
    assert r.configure_agent(0, 1, 1) == []  # serves queue 0 only
    r.set_presence(0, BREAK, 1)
    assert r.configure_agent(0, 1, 2) == []  # on break
    assert r.set_presence(0, AVAILABLE, 2) == [(OUT_OFFER, 50, 0, 1)]


def test_oldest_assignable_head_wins():
    r = TwinRouter(3, 2, 4)
    r.enqueue(2, 1, 0)  # oldest, but nobody serves queue 2
    r.enqueue(1, 2, 1)
    r.enqueue(0, 3, 2)
    r.enqueue(1, 4, 3)
    r.configure_agent(0, 3, 3)
    assert _offers(r.set_presence(0, AVAILABLE, 5)) == [(2, 0), (3, 0), (4, 0)]
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
        assert _offers(r.enqueue(0, conv, t)) == [(conv, agent)]
    r.complete(2, 2, 35)
    assert _offers(r.enqueue(0, 6, 36)) == [(6, 2)]  # fewest active beats idle time
    # load 1: 3 changed at 32, 0 at 33, 2 at 36
    assert _offers(r.enqueue(0, 7, 37)) == [(7, 3)]


def test_step_and_run():
    r = TwinRouter(2, 2, 4)
    assert r.step(OP_CONFIGURE, 0, 3, 3, 0) == (OK, [])
    for conv in (10, 11, 12, 13):
        assert r.step(OP_ENQUEUE, conv & 1, conv, 0, 1) == (OK, [])
    assert r.step(OP_PRESENCE, 0, AVAILABLE, 0, 2) == (
        OK, [(OUT_OFFER, 10, 0, 0), (OUT_OFFER, 11, 0, 1), (OUT_OFFER, 12, 0, 0)]
    )
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
    assert r.run(events) == (
        [OK, ENOENT, EINVAL, OK, OK], [(OUT_OFFER, 13, 0, 1), (OUT_OFFER, 20, 0, 1)]
    )
    assert r.run([]) == ([], [])


def test_never_disables_the_overflow_tier():
    r = TwinRouter(2, 1, 4)
    r.set_queue(0, overflow_queue=1, overflow_after_ms=NEVER)
    r.enqueue(0, 5, 1000, priority=NEVER)  # its score is NEVER at once
    r.tick(1000)
    assert r.conv_queue(5) == 0 and r.next_due() is None


def test_state_bytes_is_a_c_figure_only():
    assert TwinRouter(2, 2, 2).state_bytes is None


def test_max_wait_expires_like_abandon():
    r = TwinRouter(2, 1, 4, rejoin_ms=1000)
    assert r.set_max_wait(0, 500) == []
    r.enqueue(0, 1, 0)
    r.enqueue(0, 2, 100, priority=200)  # score 200 at once: expires at 400
    r.enqueue(1, 3, 0)  # queue 1 has no max wait
    assert r.next_due() == 400
    assert r.tick(399) == []
    assert r.tick(400) == [(OUT_EXPIRED, 2, None, 0)]
    assert r.tick(500) == [(OUT_EXPIRED, 1, None, 0)]
    assert r.conv_state(1) == ABANDONED and r.conv_state(3) == WAITING
    assert r.tick(1500) == [(OUT_FORGOTTEN, 2, None, None), (OUT_FORGOTTEN, 1, None, None)]
    with raises(InvalidArgument):
        r.set_max_wait(2, 10)


def test_backup_due_is_the_next_head_reaching_its_backup_score():
    r = TwinRouter(3, 1, 4)
    r.set_queue(0, backup_after_ms=1000)
    r.set_queue(1, backup_after_ms=300)
    assert r.backup_due(0) is None  # nothing waits
    r.enqueue(0, 1, 100)
    r.enqueue(1, 2, 500, priority=100)
    r.enqueue(2, 3, 0)  # no backup tier
    assert r.backup_due(0) == 700
    assert r.backup_due(700) == 1100
    assert r.backup_due(1100) is None


def test_a_failed_call_carries_its_outputs():
    r = TwinRouter(1, 1, 4, offer_timeout_ms=100)
    r.configure_agent(0, 1, 1)
    r.set_presence(0, AVAILABLE, 0)
    r.enqueue(0, 5, 0)
    with raises(NotHeld) as info:
        r.complete(0, 99, 200)
    assert info.value.outputs == [(OUT_OFFER_TIMEOUT, 5, 0, 0), (OUT_OFFER, 5, 0, 0)]


def test_snapshot_version_1_is_refused():
    r = TwinRouter(1, 1, 1)
    blob = bytearray(r.snapshot())
    assert blob[4] == 2
    blob[4] = 1
    blob[-4:] = struct.pack("<I", crc32(blob[:-4]))  # a good checksum: only the version
    with raises(CorruptSnapshot):
        TwinRouter.restore(bytes(blob))
    blob[4] = 2
    blob[-4:] = struct.pack("<I", crc32(blob[:-4]))
    assert TwinRouter.restore(bytes(blob)).snapshot() == r.snapshot()
