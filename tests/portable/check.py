"""Assertion helpers for tests that must run on CPython (pytest) and MicroPython alike.

pytest is not available on MicroPython, so portable tests use plain asserts and these
helpers instead of pytest.raises / pytest.approx.
"""

from branchline.proto.sans_io import NEED_DATA


class Unavailable(Exception):
    """Raised by a test module when imported on a runtime that lacks what it tests (the
    reason says what); the MicroPython driver counts it skipped, pytest never sees it."""


class raises:
    """Context manager: the block must raise `exc_type` (or a subclass)."""

    def __init__(self, exc_type, match=None):
        self.exc_type = exc_type
        self.match = match
        self.value = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            raise AssertionError("expected %s, nothing was raised" % self.exc_type.__name__)
        if not issubclass(exc_type, self.exc_type):
            return False
        if self.match is not None and self.match not in str(exc):
            raise AssertionError("%r does not contain %r" % (str(exc), self.match))
        self.value = exc
        return True


def drain(source):
    """Every event `source.next_event()` has ready, until it says NEED_DATA."""
    out = []
    while True:
        ev = source.next_event()
        if ev is NEED_DATA:
            return out
        out.append(ev)


def counter_bytes():
    """A stand-in for os.urandom that gives the same bytes on every runtime (1, 1, ...,
    then 2, 2, ...): sessions and nonces become comparable between runs."""
    state = [0]

    def random_bytes(n):
        state[0] += 1
        return bytes([state[0]] * n)

    return random_bytes
