"""The journal on CPython's file system: a failed write undone (tests/portable/
test_journal_segment.py has the rest, on every runtime's file system)."""

import errno
import io
import os

import pytest

from branchline.appliance.journal_file import Journal, JournalWriteError
from branchline.core import journal
from branchline.log import Log
from branchline.ports.cpython import files


def ticks(*ts):
    return [journal.encode({"k": "tick", "t": t}) for t in ts]


def open_journal(path, out=None):
    return Journal(files, str(path), Log(out or io.StringIO()), lambda: 1700000000000)


def test_a_failed_write_leaves_no_half_record_behind(tmp_path, monkeypatch):
    path = tmp_path / "journal.bin"
    j = open_journal(path)
    j.replay()
    j.append(ticks(1))
    real_write = os.write

    def disk_full_after_a_few_bytes(fd, data):
        real_write(fd, bytes(data[:5]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "write", disk_full_after_a_few_bytes)
    with pytest.raises(JournalWriteError):
        j.append(ticks(2))
    monkeypatch.setattr(files.os, "write", real_write)
    j.append(ticks(3))
    j.close()
    j = open_journal(path)
    assert [e["t"] for e in j.replay()] == [1, 3]
    j.close()
