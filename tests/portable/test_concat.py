"""Reassembly of concatenated SMS. Portable: runs under pytest and MicroPython."""

from check import raises

from branchline.core.concat import GAP_MARKER, ConcatError, Reassembler
from branchline.proto import pdu

ALICE = "+4915112345678"
BOB = "+4915187654321"
MINUTE = 60000


def _shuffled(items, seed):
    # A small LCG so CPython and MicroPython shuffle identically.
    items = list(items)
    x = seed
    for i in range(len(items) - 1, 0, -1):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        j = x % (i + 1)
        items[i], items[j] = items[j], items[i]
    return items


def test_parts_out_of_order_complete_once():
    r = Reassembler(MINUTE)
    assert r.add(ALICE, 7, 3, 3, "C", 1000) == []
    assert r.add(ALICE, 7, 3, 1, "A", 1001) == []
    (done,) = r.add(ALICE, 7, 3, 2, "B", 1002)
    assert (done.text, done.sender, done.ref, done.total, done.parts) == ("ABC", ALICE, 7, 3, 3)
    assert (done.first_ms, done.last_ms, done.gaps, done.reason) == (1000, 1002, [], "complete")
    assert r.pending() == [] and r.expire(10 ** 9) == []


def test_a_part_cut_short_marks_its_message_truncated():
    r = Reassembler(MINUTE)
    assert r.add(ALICE, 7, 2, 2, "B", 1000, truncated=True) == []
    (done,) = r.add(ALICE, 7, 2, 1, "A", 1001)
    assert done.text == "AB" and done.truncated
    (single,) = r.add(ALICE, 8, 1, 1, "C", 1002)
    assert not single.truncated
    (single,) = r.add(ALICE, 9, 1, 1, "D", 1003, truncated=True)
    assert single.truncated
    r.add(BOB, 1, 2, 1, "x", 1004, truncated=True)
    (late,) = r.expire(1004 + MINUTE)
    assert late.truncated and late.gaps == [2]


def test_duplicates_are_ignored_and_counted():
    r = Reassembler(MINUTE)
    r.add(ALICE, 7, 2, 1, "A", 0)
    assert r.add(ALICE, 7, 2, 1, "A", 5) == []
    assert r.add(ALICE, 7, 2, 1, "A", 6) == []
    assert r.duplicates == 2
    (done,) = r.add(ALICE, 7, 2, 2, "B", 7)
    assert done.text == "AB" and done.first_ms == 0


def test_colliding_8bit_refs_are_told_apart_by_part_count_and_sender():
    r = Reassembler(MINUTE)
    r.add(ALICE, 200, 2, 1, "two-1 ", 0)
    r.add(ALICE, 200, 3, 1, "three-1 ", 1)
    r.add(BOB, 200, 2, 1, "bob-1 ", 2)
    assert [(p["sender"], p["total"]) for p in r.pending()] == [(ALICE, 2), (ALICE, 3), (BOB, 2)]
    (a,) = r.add(ALICE, 200, 3, 3, "three-3", 3) + r.add(ALICE, 200, 3, 2, "three-2 ", 4)
    assert a.text == "three-1 three-2 three-3"
    (b,) = r.add(ALICE, 200, 2, 2, "two-2", 5)
    assert b.text == "two-1 two-2"
    (c,) = r.add(BOB, 200, 2, 2, "bob-2", 6)
    assert c.text == "bob-1 bob-2"


def test_16bit_references():
    r = Reassembler(MINUTE)
    r.add(ALICE, 0x78E0, 2, 1, "big ", 0)
    r.add(ALICE, 0xE0, 2, 1, "small ", 0)  # same low octet, a different message
    (d,) = r.add(ALICE, 0x78E0, 2, 2, "ref", 1)
    assert d.text == "big ref" and d.ref == 0x78E0
    (d,) = r.add(ALICE, 0xE0, 2, 2, "ref", 1)
    assert d.text == "small ref"


def test_255_parts_in_any_order():
    r = Reassembler(MINUTE)
    order = _shuffled(range(1, 256), 42)
    out = []
    for i, seq in enumerate(order):
        out += r.add(ALICE, 9, 255, seq, "%03d," % seq, i)
        assert len(out) == (1 if i == 254 else 0)
    assert out[0].text == "".join(["%03d," % s for s in range(1, 256)])
    assert out[0].parts == 255


def test_timeout_delivers_with_gap_markers():
    r = Reassembler(MINUTE)
    r.add(ALICE, 1, 6, 1, "one ", 1000)
    r.add(ALICE, 1, 6, 4, "four ", 2000)
    r.add(ALICE, 1, 6, 5, "five", 70000)  # late parts do not extend the deadline
    assert r.expire(1000 + MINUTE - 1) == []
    (d,) = r.expire(1000 + MINUTE)
    assert d.reason == "timeout" and d.gaps == [2, 3, 6]
    assert d.text == "one " + GAP_MARKER + "four five" + GAP_MARKER  # one marker per run
    assert (d.parts, d.total, d.first_ms, d.last_ms) == (3, 6, 1000, 70000)
    assert r.pending() == []


def test_missing_first_part_and_gap_marker_is_visible():
    r = Reassembler(1000)
    r.add(BOB, 3, 2, 2, "tail", 0)
    (d,) = r.expire(5000)
    assert d.text == GAP_MARKER + "tail" and d.gaps == [1]
    assert GAP_MARKER == "[\u2026]"


def test_bounded_memory_evicts_the_oldest_visibly():
    r = Reassembler(MINUTE, max_messages=3)
    for ref in (1, 2, 3):
        assert r.add(ALICE, ref, 2, 1, "m%d " % ref, ref) == []
    assert r.add(ALICE, 3, 2, 1, "m3 ", 9) == []  # a duplicate is not a new message
    (ev,) = r.add(ALICE, 4, 2, 1, "m4 ", 10)
    assert (ev.reason, ev.ref, ev.text, ev.gaps) == ("evicted", 1, "m1 " + GAP_MARKER, [2])
    assert [p["ref"] for p in r.pending()] == [2, 3, 4]
    # a single-part message is never held, so it evicts nothing
    r2 = Reassembler(MINUTE, max_messages=1)
    r2.add(ALICE, 1, 2, 1, "a", 0)
    out = r2.add(BOB, 1, 1, 1, "single", 1)
    assert [d.reason for d in out] == ["complete"] and r2.pending()[0]["sender"] == ALICE


def test_collision_flushes_the_held_message():
    r = Reassembler(MINUTE)
    r.add(ALICE, 5, 3, 1, "old-1 ", 0)
    r.add(ALICE, 5, 3, 2, "old-2 ", 1)
    (old,) = r.add(ALICE, 5, 3, 1, "new-1 ", 2)
    assert (old.reason, old.text, old.gaps) == ("collision", "old-1 old-2 " + GAP_MARKER, [3])
    r.add(ALICE, 5, 3, 2, "new-2 ", 3)
    (new,) = r.add(ALICE, 5, 3, 3, "new-3", 4)
    assert new.text == "new-1 new-2 new-3" and new.first_ms == 2


def test_single_part_completes_at_once():
    r = Reassembler(MINUTE)
    (d,) = r.add(ALICE, 0, 1, 1, "hello", 5)
    assert (d.text, d.parts, d.gaps, d.reason) == ("hello", 1, [], "complete")
    (d,) = r.add(ALICE, 0, 1, 1, "hello", 6)  # the same text again is another message
    assert d.text == "hello" and r.duplicates == 0


def test_impossible_numbering_is_rejected_without_changing_state():
    r = Reassembler(MINUTE, max_parts=10)
    r.add(ALICE, 1, 3, 1, "x", 0)
    before = r.pending()
    bad = [(ALICE, 1, 3, 0, "x"), (ALICE, 1, 3, 4, "x"), (ALICE, 1, 0, 1, "x"), (ALICE, 1, 11, 1, "x"),
           (ALICE, -1, 2, 1, "x"), (ALICE, 65536, 2, 1, "x"), (ALICE, "1", 2, 1, "x"),
           (None, 1, 2, 1, "x"), (ALICE, 1, 2, 1, b"x"), (ALICE, 1, 2, 1.0, "x")]
    for args in bad:
        with raises(ConcatError):
            r.add(args[0], args[1], args[2], args[3], args[4], 1)
    assert r.pending() == before
    with raises(ConcatError, "seq"):
        r.add(ALICE, 1, 3, 4, "x", 1)
    with raises(ConcatError):
        Reassembler(0)
    with raises(ConcatError):
        Reassembler(MINUTE, max_parts=256)
    with raises(ConcatError):
        Reassembler(MINUTE, max_messages=0)


def test_pending_summary():
    r = Reassembler(MINUTE)
    r.add(BOB, 9, 4, 3, "c", 100)
    r.add(ALICE, 2, 2, 2, "b", 200)
    r.add(BOB, 9, 4, 1, "a", 300)
    assert r.pending() == [
        {"sender": BOB, "ref": 9, "total": 4, "received": 2, "missing": [2, 4], "first_ms": 100, "last_ms": 300},
        {"sender": ALICE, "ref": 2, "total": 2, "received": 1, "missing": [1], "first_ms": 200, "last_ms": 200},
    ]


def _run(events):
    r = Reassembler(5000, max_messages=4)
    log = []
    for ev in events:
        done = r.expire(ev[5]) if ev[0] == "tick" else r.add(ev[0], ev[1], ev[2], ev[3], ev[4], ev[5])
        log += [(d.reason, d.sender, d.ref, d.total, d.text, d.gaps, d.first_ms) for d in done]
    return log, r.pending(), r.duplicates


def test_replaying_the_same_parts_rebuilds_the_same_state():
    events = []
    t = 0
    x = 7
    for i in range(300):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        t += x % 700
        if x % 11 == 0:
            events.append(("tick", 0, 0, 0, "", t))
            continue
        total = 2 + x % 3
        events.append(((ALICE, BOB)[x % 2], (x >> 8) % 5, total, 1 + (x >> 4) % total, "p%d " % (x % 3), t))
    first = _run(events)
    assert first == _run(events)
    delivered = [e for e in first[0]]
    assert delivered and any(e[0] == "complete" for e in delivered) and any(e[5] for e in delivered)


def test_decoded_pdus_through_the_reassembler():
    text = "Grüße aus Köln! \u20ac5 {ok} " * 12 + "\U0001F600 end"
    hs = pdu.encode_deliver("+491701234567", text, (2026, 5, 1, 12, 0, 0, 8), concat_ref=0xAB)
    parts = [pdu.decode_deliver(h) for h in hs]
    r = Reassembler(MINUTE)
    out = []
    for d in _shuffled(parts + parts[:2], 3):  # out of order, two parts twice
        ref, total, seq = d.concat
        out += r.add(d.sender, ref, total, seq, d.text, 0)
    assert len(out) == 1 and out[0].text == text and r.duplicates == 2
