"""One journal segment on the port's file system: append a group durably, replay what
is intact, repair after a power cut.

The port's file system (`fs`, see appliance/store.py) opens the segment as a log with
read_all(), append(blob) (durable when it returns, OSError otherwise), cut(size)
(durably shortened) and close().
"""

from branchline.core import journal
from branchline.core.branch import Rejected


class JournalWriteError(OSError):
    """The journal could not be made durable: nothing of this group may be acknowledged."""


class NotDurable(Rejected):
    """What an input was answered with when nothing of it was journaled (no memory for
    it, no journal): it is not refused, only not taken now, so its source keeps it (an
    SMS stays on the modem for the next sweep)."""


class Journal:
    def __init__(self, fs, path, log, now_ms):
        self.fs = fs
        self.path = path
        self.log = log
        self.now_ms = now_ms
        self._log = fs.open_log(path)
        self._end = 0

    def replay(self):
        """Return the intact events. A torn tail (a power cut mid-write) is cut off; damage
        in the middle is set aside in a copy, and the records after it are kept."""
        data = self._log.read_all()
        events, good, problem = journal.scan(data)
        if problem is None:
            self._end = good
        else:
            rest, skipped = journal.salvage(data, good)
            if rest:
                events.extend(rest)
                self._repair(data, events, problem, skipped)
            else:
                self.log.warn("journal_truncated", reason=problem, dropped_bytes=len(data) - good)
                self._log.cut(good)
                self._end = good
        return events

    def _repair(self, data, events, problem, skipped):
        copy = "%s.damaged-%d" % (self.path, self.now_ms() // 1000)
        self.fs.write_durably(copy, data)
        self.log.error("journal_damaged", reason=problem, kept=len(events),
                       skipped_bytes=sum(b - a for a, b in skipped), copy=copy)
        blob = b"".join(journal.encode(e) for e in events)
        self._log.close()
        self.fs.write_durably(self.path, blob)
        self._log = self.fs.open_log(self.path)
        self._end = len(blob)

    def append(self, records):
        """Write encoded `records` as one group and make them durable with one sync.

        On failure the file is cut back to where the group began (so no half-written
        record sits in front of later ones) and JournalWriteError is raised."""
        blob = b"".join(records)
        try:
            self._log.append(blob)
        except (OSError, ValueError) as e:  # ValueError: a closed file, on MicroPython
            try:
                self._log.cut(self._end)
            except (OSError, ValueError):
                pass
            raise JournalWriteError(getattr(e, "errno", None), "journal write failed: %s" % (
                getattr(e, "strerror", None) or e))
        self._end += len(blob)

    def close(self):
        self._log.close()
