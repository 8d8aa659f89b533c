"""Wall-clock time on MicroPython, in ms since 1970.

An ESP32 keeps its RTC across a reset but not across a power cut, after which it starts
at its epoch. Two rules keep the journal's times moving forwards: at start-up the clock
is raised to the last time the journal holds, or to the firmware's build time if that
is later (`not_before`), so a board that lost power carries on from where it was
instead of decades back (and a new one does not stamp a first day in 2000, whose
metrics would then have a quarter of a century of intervals to catch up); and NTP
(`set_now`) moves it to the true time once the network answers. The gateway also never
stamps an event earlier than the one before (appliance/gateway.py), so a step back is
absorbed.

`set_now` writes the RTC (machine.RTC, which time.time_ns follows on a board) and keeps
whatever offset remains, so time is right even where the RTC cannot be set. The ESP32
port counts time from 2000, the unix port from 1970: now_ms is always from 1970.
"""

import time

import machine

from branchline.core.tz import civil_from_days, weekday

try:
    from branchline.ports.micropython.built import BUILT_MS  # `make firmware` writes it
except ImportError:  # not an image: no floor
    BUILT_MS = 0

_EPOCH_MS = 946684800000 if time.gmtime(0)[0] == 2000 else 0
_offset_ms = 0


def now_ms():
    return time.time_ns() // 1000000 + _EPOCH_MS + _offset_ms


def set_now(ms):
    """The time is `ms` now."""
    global _offset_ms
    days, rest = divmod(ms, 86400000)
    y, m, d = civil_from_days(days)
    try:
        machine.RTC().datetime((y, m, d, weekday(days), rest // 3600000,
                                rest // 60000 % 60, rest // 1000 % 60, rest % 1000 * 1000))
    except (OSError, ValueError, AttributeError):
        pass  # no RTC to set: the offset carries it
    _offset_ms = 0
    _offset_ms = ms - now_ms()


def not_before(ms):
    """Raise the clock to `ms`, or to the build time, if it is behind (a board that lost
    power)."""
    ms = max(ms, BUILT_MS)
    if now_ms() < ms:
        set_now(ms)
