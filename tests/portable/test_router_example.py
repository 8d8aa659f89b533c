"""The worked examples of docs/router.md, step by step, so the page cannot drift from the
code (native router on CPython, twin on MicroPython). On CPython every example also runs
on the twin, and both must end with the same snapshot bytes. Every call's outputs are
asserted: they are what the core follows the router by."""

from branchline.router import (
    ABANDONED,
    ACTIVE,
    AVAILABLE,
    BREAK,
    MANUAL,
    OFFERED,
    OUT_EXPIRED,
    OUT_FORGOTTEN,
    OUT_MISSED_BREAK,
    OUT_OFFER,
    OUT_OFFER_TIMEOUT,
    OUT_OVERFLOW,
    OUT_PRIVATE_TIMEOUT,
    OUT_RETURNED,
    OUT_WRAPUP_END,
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


def offer(conv, agent, queue):
    return (OUT_OFFER, conv, agent, queue)


def ex_basic(cls):
    r = cls(2, 2, 8)
    r.configure_agent(A, 2, (1 << GENERAL) | (1 << LOANS))
    r.configure_agent(B, 1, 1 << GENERAL)
    assert r.enqueue(GENERAL, 1, 0) == []
    assert r.enqueue(LOANS, 2, 1000) == []
    assert r.enqueue(GENERAL, 3, 2000) == []
    assert r.set_presence(B, AVAILABLE, 5000) == [offer(1, B, GENERAL)]
    assert r.set_presence(A, AVAILABLE, 6000) == [offer(2, A, LOANS), offer(3, A, GENERAL)]
    assert r.complete(B, 1, 9000) == []
    assert r.enqueue(GENERAL, 4, 10000) == [offer(4, B, GENERAL)]
    return r


def test_basic_example():
    each_router(ex_basic)


def ex_strategies(cls):
    r = cls(2, 3, 8)
    for a in (A, B, C):
        r.configure_agent(a, 3, 0b11)
        r.set_presence(a, AVAILABLE, 100 * (3 - a))  # C available first, A last
    assert r.enqueue(GENERAL, 1, 1000) == [offer(1, C, GENERAL)]  # longest idle: C
    assert r.enqueue(GENERAL, 2, 1100) == [offer(2, B, GENERAL)]  # B (200) now
    r.set_queue(LOANS, ROUND_ROBIN)
    got = []
    for conv in (10, 11, 12, 13):
        got += r.enqueue(LOANS, conv, 1200)
    assert got == [offer(10, A, LOANS), offer(11, B, LOANS), offer(12, C, LOANS),
                   offer(13, A, LOANS)]
    r.set_queue(GENERAL, MANUAL)
    assert r.enqueue(GENERAL, 20, 1300) == []
    assert r.enqueue(GENERAL, 21, 1400) == []
    assert r.take_next(B, 1500) == [offer(20, B, GENERAL)]
    assert r.take_next(C, 1500) == [offer(21, C, GENERAL)]
    assert r.take_next(A, 1500) == []  # nothing left (B and C are at their cap)
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
    assert r.set_presence(A, AVAILABLE, 95000) == [offer(1, A, GENERAL)]
    assert r.position(3) == 0
    return r


def test_priority_example():
    each_router(ex_priority)


def ex_private(cls):
    r = cls(1, 2, 8, private_ms=60000)
    r.configure_agent(A, 1, 1)
    r.configure_agent(B, 1, 1)
    r.set_presence(B, AVAILABLE, 0)
    # Only A may take it, and A is offline.
    assert r.enqueue_private(A, 7, GENERAL, 1000) == []
    assert r.conv_agent(7) == A
    assert r.tick(60999) == []
    assert r.tick(61000) == [(OUT_PRIVATE_TIMEOUT, 7, A, GENERAL), offer(7, B, GENERAL)]
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
    assert r.enqueue(LOANS, 1, 0) == [offer(1, A, LOANS)]
    assert r.enqueue(LOANS, 2, 10000) == []
    assert r.enqueue(LOANS, 3, 20000) == []
    assert r.enqueue(COMPLAINTS, 4, 30000) == [offer(4, C, COMPLAINTS)]
    assert r.backup_due(30000) == 40000  # when 2 will have waited 30 s
    assert r.tick(39999) == []
    assert r.tick(40000) == [offer(2, B, LOANS)]  # backups may serve it now
    assert r.tick(140000) == [(OUT_OVERFLOW, 3, None, COMPLAINTS)]  # waited 120 s
    assert r.enqueue(COMPLAINTS, 5, 140000) == []
    assert r.complete(C, 4, 150000) == [offer(3, C, COMPLAINTS)]  # ahead of 5
    return r


def test_tiers_example():
    each_router(ex_tiers)


def ex_max_wait(cls):
    r = cls(3, 1, 8, rejoin_ms=60000)
    r.configure_agent(A, 1, 1 << GENERAL)
    r.set_max_wait(GENERAL, 120000)
    r.set_queue(LOANS, overflow_queue=COMPLAINTS, overflow_after_ms=60000)
    r.set_max_wait(LOANS, 300000)
    r.set_max_wait(COMPLAINTS, 90000)
    assert r.enqueue(GENERAL, 1, 0) == []
    assert r.enqueue(GENERAL, 2, 30000, priority=60000) == []  # score 60 s at once
    assert r.enqueue(LOANS, 3, 0) == []
    assert r.next_due() == 60000
    assert r.tick(60000) == [(OUT_OVERFLOW, 3, None, COMPLAINTS)]
    assert r.tick(90000) == [
        (OUT_EXPIRED, 2, None, GENERAL),  # 60 s of waiting + 60 s of priority
        (OUT_EXPIRED, 3, None, COMPLAINTS),  # judged by the queue it moved to
    ]
    assert r.conv_state(2) == ABANDONED
    assert r.tick(120000) == [(OUT_EXPIRED, 1, None, GENERAL)]
    assert r.set_presence(A, AVAILABLE, 125000) == []
    # Its old place, the head (past max wait still: only an offer in its own drain
    # saves it from the next event's timers).
    assert r.rejoin(1, 130000) == [offer(1, A, GENERAL)]
    assert r.tick(150000) == [(OUT_FORGOTTEN, 2, None, None), (OUT_FORGOTTEN, 3, None, None)]
    return r


def test_max_wait_example():
    each_router(ex_max_wait)


def ex_offer_timeout(cls):
    r = cls(1, 2, 8, offer_timeout_ms=20000, max_misses=2)
    r.configure_agent(A, 2, 1)
    r.configure_agent(B, 1, 1)
    r.set_presence(A, AVAILABLE, 0)
    assert r.enqueue(GENERAL, 1, 1000) == [offer(1, A, GENERAL)]
    assert r.enqueue(GENERAL, 2, 2000) == [offer(2, A, GENERAL)]
    assert r.accept(A, 2, 5000) == []
    # 1 was not taken up in 20 s: back to the head, offered again.
    assert r.tick(22000) == [(OUT_OFFER_TIMEOUT, 1, A, GENERAL), offer(1, A, GENERAL)]
    # Second miss in a row: A goes on break.
    assert r.tick(42000) == [
        (OUT_OFFER_TIMEOUT, 1, A, GENERAL),
        (OUT_MISSED_BREAK, None, A, None),
    ]
    assert r.agent_presence(A) == BREAK
    assert r.agent_reason(A) == REASON_MISSED
    assert r.conv_state(2) == ACTIVE and r.agent_load(A) == 1
    assert r.conv_state(1) == WAITING and r.position(1) == 0
    assert r.set_presence(B, AVAILABLE, 43000) == [offer(1, B, GENERAL)]
    return r


def test_offer_timeout_example():
    each_router(ex_offer_timeout)


def ex_leave_and_wrapup(cls):
    r = cls(1, 1, 8)
    r.configure_agent(A, 2, 1)
    r.set_wrapup(A, 30000)
    r.set_presence(A, AVAILABLE, 0)
    assert r.enqueue(GENERAL, 1, 1000) == [offer(1, A, GENERAL)]
    assert r.enqueue(GENERAL, 2, 2000) == [offer(2, A, GENERAL)]
    assert r.enqueue(GENERAL, 3, 3000) == []
    r.accept(A, 1, 4000)
    # Lunch: 1 was answered and stays; 2 goes back to its old place.
    assert r.set_presence(A, BREAK, 5000, reason=4) == [(OUT_RETURNED, 2, A, GENERAL)]
    assert r.conv_state(1) == ACTIVE
    assert r.conv_state(2) == WAITING and r.position(2) == 0
    assert r.set_presence(A, AVAILABLE, 6000) == [offer(2, A, GENERAL)]
    assert r.complete(A, 1, 7000) == []
    assert r.agent_presence(A) == WRAPUP
    assert r.tick(36999) == []
    assert r.tick(37000) == [(OUT_WRAPUP_END, None, A, None), offer(3, A, GENERAL)]
    return r


def test_leave_and_wrapup_example():
    each_router(ex_leave_and_wrapup)


def ex_transfer(cls):
    r = cls(2, 2, 8)
    r.configure_agent(A, 1, 1 << GENERAL)
    r.configure_agent(B, 1, 1 << LOANS)
    r.set_presence(A, AVAILABLE, 0)
    assert r.enqueue(GENERAL, 1, 1000) == [offer(1, A, GENERAL)]
    assert r.enqueue(LOANS, 2, 2000) == []
    r.accept(A, 1, 3000)
    # What the caller does to a conversation itself is not reported back.
    assert r.transfer_to_queue(LOANS, 1, 4000, keep_time=True) == []
    assert r.position(1) == 0  # enqueued at 1 s: ahead of 2
    assert r.transfer_to_queue(LOANS, 1, 5000, keep_time=False) == []
    assert r.position(1) == 1  # now counts from 5 s
    assert r.transfer_to_agent(B, 2, 6000) == []
    assert r.conv_agent(2) == B and r.queue_length(LOANS) == 1
    assert r.upstream(1, 7000) == []
    assert r.conv_state(1) == REMOTE
    assert r.release(1, 8000) == []
    assert r.conv_state(1) is None
    return r


def test_transfer_example():
    each_router(ex_transfer)


def ex_abandon(cls):
    r = cls(1, 1, 8, rejoin_ms=120000)
    r.enqueue(GENERAL, 1, 0)
    r.enqueue(GENERAL, 2, 1000)
    r.enqueue(GENERAL, 3, 2000)
    assert r.abandon(2, 3000) == []
    assert r.conv_state(2) == ABANDONED and r.position(3) == 1
    r.rejoin(2, 60000)
    assert r.position(2) == 1 and r.position(3) == 2
    r.abandon(2, 70000)
    assert r.tick(190000) == [(OUT_FORGOTTEN, 2, None, None)]  # more than 2 minutes
    with raises(NotHeld):
        r.rejoin(2, 190000)
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
    assert r.enqueue(GENERAL, 1, 1000) == [offer(1, A, GENERAL)]
    assert r.enqueue(GENERAL, 2, 2000) == []
    with raises(QueueFull):
        r.assign(A, 2, 3000)  # A is at its cap
    assert r.assign(A, 2, 3000, force=True) == [offer(2, A, GENERAL)]
    assert r.agent_load(A) == 2
    # Reassigned: B is on break but signed in.
    assert r.assign(B, 2, 4000) == [(OUT_RETURNED, 2, A, GENERAL), offer(2, B, GENERAL)]
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
        assert r.enqueue(0, 9, 150000) == copy.enqueue(0, 9, 150000)
        assert r.complete(C, 3, 160000) == copy.complete(C, 3, 160000) == [
            offer(5, C, COMPLAINTS)
        ]
        assert r.snapshot() == copy.snapshot()
        bad = bytearray(blob)
        bad[20] ^= 0xFF
        with raises(CorruptSnapshot):
            cls.restore(bytes(bad))
    assert OFFERED == 2
