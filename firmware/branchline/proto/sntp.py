"""SNTP (RFC 4330) as a client needs it, sans-I/O: the request to send, and the time the
answer tells, with the round trip taken out. Integer ms throughout (no floats, so the
same on every runtime).

    packet = sntp.request(t1)             # t1: our clock when sending (ms since 1970)
    offset = sntp.offset(answer, t1, t4)  # t4: our clock on receipt; -> ms to add

An answer is refused with SntpError (one line) unless it is a server's (mode 4) reply
to this very request (its originate timestamp is our transmit timestamp: a stray or
forged packet does not match), synchronised (leap indicator not 3, stratum 1..15), with
a transmit timestamp, and 48 bytes at least. NTP's seconds wrap every 2^32 (the first
time in 2036): they are read in the era of our own clock.
"""

import struct

PORT = 123
SIZE = 48
EPOCH_DELTA_S = 2208988800  # from 1900-01-01 (NTP) to 1970-01-01
_FORMAT = "!BBbbII4sIIIIIIII"  # li/vn/mode, stratum, poll, precision, ... 4 timestamps


class SntpError(ValueError):
    pass


def _to_ntp(ms):
    """(seconds, fraction) since 1900, modulo 2^32, of `ms` since 1970."""
    seconds, rest = divmod(ms, 1000)
    return (seconds + EPOCH_DELTA_S) & 0xFFFFFFFF, rest * (1 << 32) // 1000


def _to_ms(seconds, fraction, near_ms):
    """ms since 1970 of an NTP timestamp, in the 2^32-second era nearest `near_ms`."""
    near = near_ms // 1000 + EPOCH_DELTA_S
    full = seconds + (near >> 32 << 32)
    if full - near > 1 << 31:
        full -= 1 << 32
    elif near - full > 1 << 31:
        full += 1 << 32
    return (full - EPOCH_DELTA_S) * 1000 + ((fraction * 1000 + (1 << 31)) >> 32)


def request(t1_ms):
    """The client's packet (version 4, mode 3), transmit timestamp `t1_ms`."""
    seconds, fraction = _to_ntp(t1_ms)
    return struct.pack(_FORMAT, (4 << 3) | 3, 0, 0, 0, 0, 0, b"\0\0\0\0", 0, 0, 0, 0, 0, 0,
                       seconds, fraction)


def offset(packet, t1_ms, t4_ms):
    """The ms to add to our clock, from the server's answer `packet` to request(t1_ms)
    received at `t4_ms`; SntpError if it is not a usable answer."""
    if len(packet) < SIZE:
        raise SntpError("answer of %d bytes, shorter than %d" % (len(packet), SIZE))
    (flags, stratum, _poll, _precision, _delay, _dispersion, _ref_id, _ref_s, _ref_f,
     orig_s, orig_f, rx_s, rx_f, tx_s, tx_f) = struct.unpack(_FORMAT, packet[:SIZE])
    if flags & 7 != 4:
        raise SntpError("not a server's answer (mode %d)" % (flags & 7))
    if flags >> 6 == 3 or not 1 <= stratum <= 15:
        raise SntpError("the server is not synchronised (leap %d, stratum %d)" % (
            flags >> 6, stratum))
    if (orig_s, orig_f) != _to_ntp(t1_ms):
        raise SntpError("an answer to another request")
    if tx_s == 0 and tx_f == 0:
        raise SntpError("no transmit timestamp")
    t2 = _to_ms(rx_s, rx_f, t1_ms)
    t3 = _to_ms(tx_s, tx_f, t1_ms)
    return ((t2 - t1_ms) + (t3 - t4_ms)) // 2
