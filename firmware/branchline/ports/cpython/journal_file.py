"""The journal on a POSIX file system: append, fsync, replay, truncate a torn tail."""

import os

from branchline.core import journal


class FileJournal:
    def __init__(self, path, log):
        self.path = path
        self.log = log
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def replay(self):
        """Return the intact events; cut off a torn tail left by a power cut."""
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        events, good, problem = journal.scan(data)
        if problem is not None:
            self.log.warn("journal_truncated", reason=problem, dropped_bytes=size - good)
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        os.lseek(self._fd, good, os.SEEK_SET)
        return events

    def append(self, records):
        """Write encoded `records` as one group and make them durable with a single fsync."""
        blob = b"".join(records)
        view = memoryview(blob)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def close(self):
        os.close(self._fd)
