"""Journal framing: records survive a round trip; a torn or corrupt tail stops the scan."""

from check import raises

from branchline.core import journal

EVENTS = [
    {"k": "sms_in", "t": 1, "from": "+8613800138000", "text": "你好 😀", "modem": "m0"},
    {"k": "button", "t": 2, "desk": 1, "button": "AVAIL"},
]


def blob():
    return b"".join(journal.encode(e) for e in EVENTS)


def test_round_trip():
    events, good, problem = journal.scan(blob())
    assert events == EVENTS and good == len(blob()) and problem is None


def test_torn_tail_is_cut_at_the_last_whole_record():
    data = blob()
    first = len(journal.encode(EVENTS[0]))
    for cut in range(first, len(data)):
        events, good, problem = journal.scan(data[:cut])
        assert events == EVENTS[:1] and good == first
        assert (problem is None) == (cut == first)


def test_flipped_bit_is_caught_by_the_crc():
    data = bytearray(blob())
    data[-3] ^= 0x04
    events, good, problem = journal.scan(bytes(data))
    assert events == EVENTS[:1] and "CRC" in problem


def test_impossible_length_stops_the_scan():
    events, good, problem = journal.scan(b"\xff\xff\xff\xff\x00\x00\x00\x00")
    assert events == [] and good == 0 and "length" in problem


def test_oversized_record_is_refused_at_write():
    with raises(journal.JournalError):
        journal.encode({"k": "x", "blob": "a" * (journal.MAX_RECORD + 1)})


def test_salvage_keeps_what_follows_damage_in_the_middle():
    third = {"k": "tick", "t": 3}
    data = bytearray(blob() + journal.encode(third))
    first = len(journal.encode(EVENTS[0]))
    data[first + 10] ^= 0xFF  # rot inside the second record
    events, good, problem = journal.scan(bytes(data))
    assert events == EVENTS[:1] and good == first and problem
    rest, skipped = journal.salvage(bytes(data), good)
    assert rest == [third]
    assert skipped == [(first, len(blob()))]


def test_salvage_of_a_torn_tail_finds_nothing():
    data = blob()[:-3]
    events, good, problem = journal.scan(data)
    assert journal.salvage(data, good) == ([], [(good, len(data))])
