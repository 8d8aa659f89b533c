"""Wall-clock time for events on CPython (the core only ever receives it as a number)."""

import time


def now_ms():
    return int(time.time() * 1000)
