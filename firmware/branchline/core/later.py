"""A value made when it is first asked for, then kept.

Start-up replays the journal since the last snapshot (Branch.begin_replay). Most of
the messages for head office it remakes were acknowledged a few records later, so
their bodies (metrics reports, session records) are made only if still owed when the
replay ends. What a `Later` makes must depend only on what it was given, and that must
not change after it was made: then made now or made later, it is the same.
"""


class Later:
    def __init__(self, make, *args):
        self._make = make
        self._args = args
        self._made = None

    def __call__(self):
        if self._make is not None:
            self._made = self._make(*self._args)
            self._make = self._args = None  # what it was made from can go
        return self._made
