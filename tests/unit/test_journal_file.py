"""The file journal: durable appends, replay, a torn tail cut off after a power cut,
damage in the middle repaired without losing what follows, and failed writes undone."""

import errno
import io
import os

import pytest

from branchline.core import journal
from branchline.appliance.journal_file import Journal, JournalWriteError
from branchline.ports.cpython import files
from branchline.log import Log, parse_line


def ticks(*ts):
    return [journal.encode({"k": "tick", "t": t}) for t in ts]


def open_journal(path, out=None):
    return Journal(files, str(path), Log(out or io.StringIO()), lambda: 1700000000000)


def test_append_replay_and_torn_tail(tmp_path):
    path = tmp_path / "journal.bin"
    log_out = io.StringIO()
    j = open_journal(path, log_out)
    assert j.replay() == []
    j.append(ticks(1, 2))
    j.close()
    with open(path, "ab") as f:
        f.write(ticks(3)[0][:-2])  # power cut mid-write
    j = open_journal(path, log_out)
    assert [e["t"] for e in j.replay()] == [1, 2]
    warning = parse_line(log_out.getvalue().strip())
    assert warning["event"] == "journal_truncated" and "torn" in warning["reason"]
    j.append(ticks(4))
    j.close()
    j = open_journal(path)
    assert [e["t"] for e in j.replay()] == [1, 2, 4]
    j.close()


def test_damage_in_the_middle_keeps_later_records_and_a_copy(tmp_path):
    path = tmp_path / "journal.bin"
    j = open_journal(path)
    j.replay()
    j.append(ticks(1, 2, 3))
    j.close()
    data = bytearray(path.read_bytes())
    data[len(ticks(1)[0]) + 9] ^= 0x01  # bit rot in record 2
    path.write_bytes(bytes(data))
    out = io.StringIO()
    j = open_journal(path, out)
    assert [e["t"] for e in j.replay()] == [1, 3]
    fields = parse_line(out.getvalue().strip())
    assert fields["event"] == "journal_damaged" and os.path.exists(fields["copy"])
    j.append(ticks(4))
    j.close()
    j = open_journal(path)
    assert [e["t"] for e in j.replay()] == [1, 3, 4]  # the file was rewritten clean
    j.close()


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
