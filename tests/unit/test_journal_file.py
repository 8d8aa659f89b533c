"""The file journal: durable appends, replay, and a torn tail cut off after a power cut."""

import io

from branchline.core import journal
from branchline.ports.cpython.journal_file import FileJournal
from branchline.ports.cpython.log import Log, parse_line


def test_append_replay_and_torn_tail(tmp_path):
    path = tmp_path / "state" / "journal.bin"
    log_out = io.StringIO()
    j = FileJournal(str(path), Log(log_out))
    assert j.replay() == []
    j.append([journal.encode({"k": "tick", "t": 1}), journal.encode({"k": "tick", "t": 2})])
    j.close()
    with open(path, "ab") as f:
        f.write(journal.encode({"k": "tick", "t": 3})[:-2])  # power cut mid-write
    j = FileJournal(str(path), Log(log_out))
    assert [e["t"] for e in j.replay()] == [1, 2]
    warning = parse_line(log_out.getvalue().strip())
    assert warning["event"] == "journal_truncated" and "torn" in warning["reason"]
    j.append([journal.encode({"k": "tick", "t": 4})])
    j.close()
    j = FileJournal(str(path), Log(io.StringIO()))
    assert [e["t"] for e in j.replay()] == [1, 2, 4]
    j.close()
