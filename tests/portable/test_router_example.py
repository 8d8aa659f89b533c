"""The worked examples of docs/router.md, step by step, so the page cannot drift from the
code (native router on CPython, twin on MicroPython). On CPython every example also runs
on the twin, and both must end with the same snapshot bytes."""

from branchline.router import (
    ABANDONED,
    ACTIVE,
    AVAILABLE,
    BREAK,
    MANUAL,
    OFFERED,
    REASON_MISSED,
    REMOTE,
    ROUND_ROBIN,
    WAITING,
    WRAPUP,
    AlreadyExists,
    CorruptSnapshot,
    NotHeld,
    QueueFull,
    Router,
    TwinRouter,
    WrongState,
)
from check import raises

GENERAL, LOANS, COMPLAINTS = 0, 1, 2
A, B, C = 0, 1, 2
ROUTERS = [Router] if Router is TwinRouter else [Router, TwinRouter]


def each_router(example):
    snaps = [example(cls).snapshot() for cls in ROUTERS]
    assert snaps[0] == snaps[-1]


def _drain(r, now):
    out = []
    got = r.next_assignment(now)
    while got is not None:
        out.append(got)
        got = r.next_assignment(now)
    return out


def ex_basic(cls):
    r = cls(2, 2, 8)
    r.configure_agent(A, 2, (1 << GENERAL) | (1 << LOANS))
    r.configure_agent(B, 1, 1 << GENERAL)
    r.enqueue(GENERAL, 1, 0)
    r.enqueue(LOANS, 2, 1000)
    r.enqueue(GENERAL, 3, 2000)
    assert r.next_assignment(2000) is None
    r.set_presence(B, AVAILABLE, 5000)
    assert _drain(r, 5000) == [(1, B)]
    r.set_presence(A, AVAILABLE, 6000)
    assert _drain(r, 6000) == [(2, A), (3, A)]
    r.complete(B, 1, 9000)
    assert r.next_assignment(9000) is None
    r.enqueue(GENERAL, 4, 10000)
    assert _drain(r, 10000) == [(4, B)]
    return r


def test_basic_example():
    each_router(ex_basic)


def ex_strategies(cls):
    r = cls(2, 3, 8)
    for a in (A, B, C):
        r.configure_agent(a, 3, 0b11)
        r.set_presence(a, AVAILABLE, 100 * (3 - a))  # C available first, A last
    r.enqueue(GENERAL, 1, 1000)  # longest idle: C (since 100)
    assert _drain(r, 1000) == [(1, C)]
    r.enqueue(GENERAL, 2, 1100)  # B (200) has now waited longest
    assert _drain(r, 1100) == [(2, B)]
    r.set_queue(LOANS, ROUND_ROBIN)
    for conv in (10, 11, 12, 13):
        r.enqueue(LOANS, conv, 1200)
    assert _drain(r, 1200) == [(10, A), (11, B), (12, C), (13, A)]
    r.set_queue(GENERAL, MANUAL)
    r.enqueue(GENERAL, 20, 1300)
    r.enqueue(GENERAL, 21, 1400)
    assert _drain(r, 1500) == []
    assert r.take_next(B, 1500) == 20
    assert r.take_next(C, 1500) == 21
    assert r.take_next(A, 1500) is None  # nothing left (B and C are at their cap)
    return r


def test_strategies_example():
    each_router(ex_strategies)


def ex_priority(cls):
    r = cls(1, 1, 8)
    r.enqueue(GENERAL, 1, 0)
    r.enqueue(GENERAL, 2, 60000)
    r.enqueue(GENERAL, 3, 90000, priority=45000)  # VIP: counts as enqueued at 45 s
    assert [r.position(c) for c in (1, 3, 2)] == [0, 1, 2]
    r.configure_agent(A, 1, 1)
    r.set_presence(A, AVAILABLE, 95000)
    assert _drain(r, 95000) == [(1, A)]
    assert r.position(3) == 0
    return r


def test_priority_example():
    each_router(ex_priority)


def ex_private(cls):
    r = cls(1, 2, 8, private_ms=60000)
    r.configure_agent(A, 1, 1)
    r.configure_agent(B, 1, 1)
    r.set_presence(B, AVAILABLE, 0)
    r.enqueue_private(A, 7, GENERAL, 1000)
    assert _drain(r, 1000) == []  # only A may take it, and A is offline
    assert r.conv_agent(7) == A
    assert _drain(r, 60999) == []
    assert _drain(r, 61000) == [(7, B)]  # overflowed to general after 60 s
    return r


def test_private_example():
    each_router(ex_private)


def ex_tiers(cls):
    r = cls(3, 3, 8)
    r.configure_agent(A, 1, 1 << LOANS)
    r.configure_agent(B, 1, 0, 1 << LOANS)  # backup for loans
    r.configure_agent(C, 1, 1 << COMPLAINTS)
    r.set_queue(LOANS, backup_after_ms=30000, overflow_queue=COMPLAINTS,
                overflow_after_ms=120000)
    for a in (A, B, C):
        r.set_presence(a, AVAILABLE, 0)
    r.enqueue(LOANS, 1, 0)
    r.enqueue(LOANS, 2, 10000)
    r.enqueue(LOANS, 3, 20000)
    r.enqueue(COMPLAINTS, 4, 30000)
    assert _drain(r, 30000) == [(1, A), (4, C)]
    assert _drain(r, 39999) == []
    assert _drain(r, 40000) == [(2, B)]  # waited 30 s: backups may serve it
    assert r.conv_queue(3) == LOANS
    r.tick(140000)
    assert r.conv_queue(3) == COMPLAINTS  # waited 120 s: moves on, same enqueue time
    r.enqueue(COMPLAINTS, 5, 140000)
    r.complete(C, 4, 150000)
    assert _drain(r, 150000) == [(3, C)]  # ahead of 5, which came later
    return r


def test_tiers_example():
    each_router(ex_tiers)


def ex_offer_timeout(cls):
    r = cls(1, 2, 8, offer_timeout_ms=20000, max_misses=2)
    r.configure_agent(A, 2, 1)
    r.configure_agent(B, 1, 1)
    r.set_presence(A, AVAILABLE, 0)
    r.enqueue(GENERAL, 1, 1000)
    r.enqueue(GENERAL, 2, 2000)
    assert _drain(r, 2000) == [(1, A), (2, A)]
    r.accept(A, 2, 5000)
    r.tick(22000)  # 1 was not taken up in 20 s: back to the head, offered again
    assert _drain(r, 22000) == [(1, A)]
    r.tick(42000)  # second miss in a row: A goes on break
    assert r.agent_presence(A) == BREAK
    assert r.agent_reason(A) == REASON_MISSED
    assert r.conv_state(2) == ACTIVE and r.agent_load(A) == 1
    assert r.conv_state(1) == WAITING and r.position(1) == 0
    r.set_presence(B, AVAILABLE, 43000)
    assert _drain(r, 43000) == [(1, B)]
    return r


def test_offer_timeout_example():
    each_router(ex_offer_timeout)


def ex_leave_and_wrapup(cls):
    r = cls(1, 1, 8)
    r.configure_agent(A, 2, 1)
    r.set_wrapup(A, 30000)
    r.set_presence(A, AVAILABLE, 0)
    r.enqueue(GENERAL, 1, 1000)
    r.enqueue(GENERAL, 2, 2000)
    r.enqueue(GENERAL, 3, 3000)
    assert _drain(r, 3000) == [(1, A), (2, A)]
    r.accept(A, 1, 4000)
    r.set_presence(A, BREAK, 5000, reason=4)  # lunch
    assert r.conv_state(1) == ACTIVE  # answered: stays
    assert r.conv_state(2) == WAITING and r.position(2) == 0  # back at its old place
    r.set_presence(A, AVAILABLE, 6000)
    assert _drain(r, 6000) == [(2, A)]
    r.complete(A, 1, 7000)
    assert r.agent_presence(A) == WRAPUP
    assert _drain(r, 36999) == []
    assert _drain(r, 37000) == [(3, A)]  # wrap-up over: available again
    return r


def test_leave_and_wrapup_example():
    each_router(ex_leave_and_wrapup)


def ex_transfer(cls):
    r = cls(2, 2, 8)
    r.configure_agent(A, 1, 1 << GENERAL)
    r.configure_agent(B, 1, 1 << LOANS)
    r.set_presence(A, AVAILABLE, 0)
    r.enqueue(GENERAL, 1, 1000)
    r.enqueue(LOANS, 2, 2000)
    assert _drain(r, 2000) == [(1, A)]
    r.accept(A, 1, 3000)
    r.transfer_to_queue(LOANS, 1, 4000, keep_time=True)
    assert r.position(1) == 0  # enqueued at 1 s: ahead of 2
    r.transfer_to_queue(LOANS, 1, 5000, keep_time=False)
    assert r.position(1) == 1  # now counts from 5 s
    r.transfer_to_agent(B, 2, 6000)
    assert r.conv_agent(2) == B and r.queue_length(LOANS) == 1
    r.upstream(1, 7000)
    assert r.conv_state(1) == REMOTE
    r.release(1, 8000)
    assert r.conv_state(1) is None
    return r


def test_transfer_example():
    each_router(ex_transfer)


def ex_abandon(cls):
    r = cls(1, 1, 8, rejoin_ms=120000)
    r.enqueue(GENERAL, 1, 0)
    r.enqueue(GENERAL, 2, 1000)
    r.enqueue(GENERAL, 3, 2000)
    r.abandon(2, 3000)
    assert r.conv_state(2) == ABANDONED and r.position(3) == 1
    r.rejoin(2, 60000)
    assert r.position(2) == 1 and r.position(3) == 2
    r.abandon(2, 70000)
    r.tick(190000)
    with raises(NotHeld):
        r.rejoin(2, 190000)  # more than 2 minutes: forgotten
    r.enqueue(GENERAL, 2, 190000)  # a new conversation, at the back
    assert r.position(2) == 2
    return r


def test_abandon_example():
    each_router(ex_abandon)


def ex_supervisor(cls):
    r = cls(1, 2, 8)
    r.configure_agent(A, 1, 1)
    r.configure_agent(B, 1, 1)
    r.set_presence(A, AVAILABLE, 0)
    r.set_presence(B, BREAK, 0)
    r.enqueue(GENERAL, 1, 1000)
    r.enqueue(GENERAL, 2, 2000)
    assert _drain(r, 2000) == [(1, A)]
    with raises(QueueFull):
        r.assign(A, 2, 3000)  # A is at its cap
    r.assign(A, 2, 3000, force=True)
    assert r.agent_load(A) == 2
    r.assign(B, 2, 4000)  # reassign: B is on break but signed in
    assert r.conv_agent(2) == B and r.agent_load(A) == 1
    with raises(WrongState):
        r.assign(B, 2, 5000)
    with raises(AlreadyExists):
        r.enqueue(GENERAL, 2, 5000)
    return r


def test_supervisor_example():
    each_router(ex_supervisor)


def test_snapshot_example():
    for cls in ROUTERS:
        r = ex_tiers(cls)
        blob = r.snapshot()
        copy = cls.restore(blob)
        assert copy.snapshot() == blob
        r.enqueue(0, 9, 150000)
        copy.enqueue(0, 9, 150000)
        r.complete(C, 3, 160000)
        copy.complete(C, 3, 160000)
        assert _drain(r, 160000) == _drain(copy, 160000)
        assert r.snapshot() == copy.snapshot()
        bad = bytearray(blob)
        bad[20] ^= 0xFF
        with raises(CorruptSnapshot):
            cls.restore(bytes(bad))
    assert OFFERED == 2
