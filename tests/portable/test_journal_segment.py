"""A journal segment (appliance/journal_file.py) on each runtime's file system: durable
appends, replay, a torn tail cut off after a power cut, damage in the middle repaired
without losing what follows. On MicroPython through ports/micropython/files.py (which
cannot truncate: it rewrites); on CPython through both that and ports/cpython/files.py."""

import io

from branchline.appliance.journal_file import Journal
from branchline.core import journal
from branchline.log import Log, parse_line
from branchline.ports.micropython import files as mp_files

FILE_SYSTEMS = [mp_files]
try:
    from branchline.ports.cpython import files as posix_files

    FILE_SYSTEMS.append(posix_files)
except (ImportError, AttributeError):  # MicroPython: no os.path, no fsync
    pass

_made = [0]


def scratch(fs):
    """A new empty folder for one test."""
    try:
        import tempfile

        return tempfile.mkdtemp()
    except ImportError:  # MicroPython: a folder of our own under the working one
        _made[0] += 1
        folder = "journal-scratch-%d" % _made[0]
        if fs.isdir(folder):
            for name in fs.listdir(folder):
                fs.remove(fs.join(folder, name))
        fs.makedirs(folder)
        return folder


def ticks(*ts):
    return [journal.encode({"k": "tick", "t": t}) for t in ts]


def open_journal(fs, path, out=None):
    return Journal(fs, path, Log(out or io.StringIO(), now_ms=lambda: 1796300000000),
                   lambda: 1796300000000)


def test_append_replay_and_torn_tail():
    for fs in FILE_SYSTEMS:
        path = fs.join(scratch(fs), "journal.bin")
        out = io.StringIO()
        j = open_journal(fs, path, out)
        assert j.replay() == []
        j.append(ticks(1, 2))
        j.close()
        with open(path, "ab") as f:
            f.write(ticks(3)[0][:-2])  # power cut mid-write
        j = open_journal(fs, path, out)
        assert [e["t"] for e in j.replay()] == [1, 2]
        warning = parse_line(out.getvalue().strip())
        assert warning["event"] == "journal_truncated" and "torn" in warning["reason"]
        j.append(ticks(4))
        j.close()
        j = open_journal(fs, path)
        assert [e["t"] for e in j.replay()] == [1, 2, 4]
        j.close()


def test_damage_in_the_middle_keeps_later_records_and_a_copy():
    for fs in FILE_SYSTEMS:
        path = fs.join(scratch(fs), "journal.bin")
        j = open_journal(fs, path)
        j.replay()
        j.append(ticks(1, 2, 3))
        j.close()
        data = bytearray(fs.read(path))
        data[len(ticks(1)[0]) + 9] ^= 0x01  # bit rot in record 2
        fs.write_durably(path, bytes(data))
        out = io.StringIO()
        j = open_journal(fs, path, out)
        assert [e["t"] for e in j.replay()] == [1, 3]
        fields = parse_line(out.getvalue().strip())
        assert fields["event"] == "journal_damaged" and fs.exists(fields["copy"])
        j.append(ticks(4))
        j.close()
        j = open_journal(fs, path)
        assert [e["t"] for e in j.replay()] == [1, 3, 4]  # the file was rewritten clean
        j.close()


def test_makedirs_makes_the_folders_named_and_no_others():
    import os

    base = scratch(mp_files)
    here = os.getcwd()
    os.chdir(base)
    try:
        mp_files.makedirs("state/archive")
        mp_files.makedirs("state/archive")  # there already: nothing to do
        assert os.listdir(".") == ["state"] and os.listdir("state") == ["archive"]
    finally:
        os.chdir(here)
