"""The journal on a POSIX file system: append, fsync, replay, repair after a power cut."""

import os
import time

from branchline.core import journal


def fsync_dir(path):
    """Make a file's creation or rename durable: fsync the directory that lists it."""
    fd = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path, data):
    """Replace `path` with `data` so that a power cut leaves the old or the new whole:
    write a temporary file, fsync it, rename it over, fsync the directory."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path)


class JournalWriteError(OSError):
    """The journal could not be made durable: nothing of this group may be acknowledged."""


class FileJournal:
    def __init__(self, path, log):
        self.path = path
        self.log = log
        existed = os.path.exists(path)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if not existed:
            fsync_dir(path)
        self._end = 0

    def replay(self):
        """Return the intact events. A torn tail (a power cut mid-write) is cut off; damage
        in the middle is set aside in a copy, and the records after it are kept."""
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        events, good, problem = journal.scan(data)
        if problem is None:
            self._end = good
        else:
            rest, skipped = journal.salvage(data, good)
            if rest:
                events.extend(rest)
                self._repair(data, events, problem, skipped)
            else:
                self.log.warn("journal_truncated", reason=problem, dropped_bytes=size - good)
                os.ftruncate(self._fd, good)
                os.fsync(self._fd)
                self._end = good
        os.lseek(self._fd, self._end, os.SEEK_SET)
        return events

    def _repair(self, data, events, problem, skipped):
        copy = "%s.damaged-%d" % (self.path, int(time.time()))
        write_durably(copy, data)
        self.log.error("journal_damaged", reason=problem, kept=len(events),
                       skipped_bytes=sum(b - a for a, b in skipped), copy=copy)
        blob = b"".join(journal.encode(e) for e in events)
        write_durably(self.path, blob)
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR, 0o600)
        self._end = len(blob)

    def append(self, records):
        """Write encoded `records` as one group and make them durable with one fsync.

        On failure the file is cut back to where the group began (so no half-written
        record sits in front of later ones) and JournalWriteError is raised."""
        blob = b"".join(records)
        try:
            view = memoryview(blob)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fsync(self._fd)
        except OSError as e:
            try:
                os.ftruncate(self._fd, self._end)
                os.lseek(self._fd, self._end, os.SEEK_SET)
            except OSError:
                pass
            raise JournalWriteError(e.errno, "journal write failed: %s" % e.strerror)
        self._end += len(blob)

    def close(self):
        os.close(self._fd)
