"""The worked example of docs/router.md, step by step, so the page cannot drift from the
code (native router on CPython, twin on MicroPython)."""

from branchline.router import AVAILABLE, Router

GENERAL, LOANS = 0, 1
A, B = 0, 1


def test_docs_worked_example():
    r = Router(2, 2, 8)
    r.configure_agent(A, 2, (1 << GENERAL) | (1 << LOANS))
    r.configure_agent(B, 1, 1 << GENERAL)
    r.enqueue(GENERAL, 1, 0)
    r.enqueue(LOANS, 2, 1000)
    r.enqueue(GENERAL, 3, 2000)
    assert r.next_assignment(2000) is None
    r.set_presence(B, AVAILABLE, 5000)
    assert r.next_assignment(5000) == (1, B)
    assert r.next_assignment(5000) is None
    r.set_presence(A, AVAILABLE, 6000)
    assert r.next_assignment(6000) == (2, A)
    assert r.next_assignment(6000) == (3, A)
    assert r.next_assignment(6000) is None
    r.complete(B, 1, 9000)
    assert r.next_assignment(9000) is None
    r.enqueue(GENERAL, 4, 10000)
    assert r.next_assignment(10000) == (4, B)
