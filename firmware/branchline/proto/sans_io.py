"""What every sans-I/O codec here shares (h11's shape): `next_event()` returns an event,
or NEED_DATA when the bytes so far hold no more. One object, compared with `is`."""


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


NEED_DATA = _Sentinel("NEED_DATA")
