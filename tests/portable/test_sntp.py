"""SNTP's client side (proto/sntp.py): the request, and the offset an answer gives with
the round trip taken out; what is not a usable answer is refused with one line."""

import struct

from check import raises

from branchline.proto import sntp

T1 = 1796300000123  # our clock when the request left (ms)


def answer(t1, t2, t3, flags=(0 << 6) | (4 << 3) | 4, stratum=2, originate=None):
    """What a server sends: it received at t2 and answered at t3 (its clock, ms)."""
    orig = sntp._to_ntp(t1 if originate is None else originate)
    rx = sntp._to_ntp(t2)
    tx = sntp._to_ntp(t3)
    return struct.pack(sntp._FORMAT, flags, stratum, 6, -20, 0, 0, b"GPS\0", rx[0], rx[1],
                       orig[0], orig[1], rx[0], rx[1], tx[0], tx[1])


def test_the_request_is_a_version_4_client_packet_with_our_time():
    packet = sntp.request(T1)
    assert len(packet) == 48
    assert packet[0] == (4 << 3) | 3
    assert struct.unpack("!II", packet[40:48]) == sntp._to_ntp(T1)


def test_timestamps_round_trip_to_the_millisecond_across_the_2036_wrap():
    wrap = ((1 << 32) - sntp.EPOCH_DELTA_S) * 1000  # 2036-02-07T06:28:16Z
    for ms in (1, 999, T1, wrap - 1, wrap, wrap + 1, 4102444800000):
        assert sntp._to_ms(*sntp._to_ntp(ms), near_ms=ms + 3600000) == ms
    assert sntp._to_ntp(wrap)[0] == 0


def test_an_answer_just_after_the_wrap_to_a_request_just_before_it():
    wrap = ((1 << 32) - sntp.EPOCH_DELTA_S) * 1000
    t1 = wrap - 500
    assert sntp.offset(answer(t1, wrap + 1500, wrap + 1500), t1, t1) == 2000


def test_the_offset_takes_the_round_trip_out():
    # Our clock is 5 s behind; the request takes 40 ms out and 60 ms back; the server
    # spends 10 ms on it.
    true_t1 = T1 + 5000
    t4 = T1 + 40 + 10 + 60
    got = sntp.offset(answer(T1, true_t1 + 40, true_t1 + 50), T1, t4)
    assert got == 5000 - 10  # half the asymmetry (20 ms) is all SNTP cannot see


def test_a_clock_ahead_gets_a_negative_offset():
    assert sntp.offset(answer(T1, T1 - 3600000, T1 - 3600000), T1, T1) == -3600000


def test_what_is_not_a_usable_answer_is_refused():
    good = answer(T1, T1, T1)
    for packet, words in (
            (good[:47], "shorter"),
            (answer(T1, T1, T1, flags=(4 << 3) | 3), "not a server's answer"),
            (answer(T1, T1, T1, flags=(3 << 6) | (4 << 3) | 4), "not synchronised"),
            (answer(T1, T1, T1, stratum=0), "not synchronised"),  # a kiss-of-death
            (answer(T1, T1, T1, originate=T1 - 1), "another request"),
            (good[:40] + b"\0" * 8, "no transmit timestamp")):
        with raises(sntp.SntpError) as e:
            sntp.offset(packet, T1, T1)
        assert words in str(e.value), (words, str(e.value))
