"""The customer history index, one set of tests for both implementations: SQLite on
CPython, btree on MicroPython (the unix port; the WebAssembly port has no btree)."""

import os

from check import Unavailable

try:
    from branchline.ports.cpython.history_sqlite import SqliteHistory as Index
except ImportError:  # MicroPython: no sqlite3
    try:
        import btree  # noqa: F401
    except ImportError:
        raise Unavailable("no btree in this build")
    from branchline.ports.micropython.history_btree import BtreeHistory as Index

_made = [0]


def fresh():
    """A new index in a file of its own (the test runners start in a scratch folder)."""
    try:
        import tempfile
        folder = tempfile.mkdtemp()
    except ImportError:
        folder = "."
    _made[0] += 1
    path = "%s/history-%d.db" % (folder, _made[0])
    try:
        os.remove(path)
    except OSError:
        pass
    return Index(path), path


def record(conv_id, customer, created, closed, texts=("hello",), **extra):
    doc = {"id": conv_id, "customer": customer, "queue": "general", "created": created,
           "closed": closed, "outcome": "resolved", "state": "closed", "kind": "sms",
           "messages": [{"dir": "in", "t": created, "text": t} for t in texts]}
    doc.update(extra)
    return doc


def test_a_customer_s_thread_is_every_close_newest_first_with_the_profile():
    h, _ = fresh()
    h.apply("conversation", record(1, "+852 1", 1000, 2000, disposition="info"))
    h.apply("conversation", record(2, "+852 2", 1500, 2500))
    h.apply("conversation", record(1, "+852 1", 3000, 4000, texts=("again",)))  # reopened
    h.apply("conversation", record(1, "+852 1", 3000, 4000, texts=("again",)))  # replayed
    h.apply("csat", {"conv": 1, "customer": "+852 1", "score": 4, "t": 4100})
    h.apply("profile", {"customer": "+852 1", "t": 4200, "name": "陈小姐", "vip": True,
                        "tags": ["cards"]})
    doc = h.customer("+852 1")
    assert (doc["name"], doc["vip"], doc["tags"], doc["lang"]) == ("陈小姐", True, ["cards"], None)
    assert (doc["first_contact"], doc["last_contact"]) == (1000, 4000)
    assert [(c["id"], c["closed"], c["csat"]) for c in doc["conversations"]] == [
        (1, 4000, 4), (1, 2000, None)]
    assert doc["conversations"][1]["disposition"] == "info"
    assert h.customer("+852 1", limit=1)["conversations"][0]["messages"][0]["text"] == "again"
    assert h.customer("+852 9") is None
    assert h.conversation_ids("+852 1") == [1]


def test_erase_and_retention_forget_what_they_should_and_nothing_else():
    h, _ = fresh()
    h.apply("conversation", record(1, "+1", 1000, 2000))
    h.apply("conversation", record(2, "+2", 1000, 2000))
    h.apply("conversation", record(3, "+2", 5000, 6000))
    h.apply("profile", {"customer": "+3", "t": 7000, "notes": "called about a loan"})
    assert h.erase("+2") == 2
    assert h.customer("+2") is None and h.customer("+1") is not None
    h.apply("csat", {"conv": 3, "customer": "+2", "score": 5, "t": 7000})  # nothing to mark
    assert h.expire(3000) == 1
    assert h.customer("+1") is None  # its last contact was before the cut
    assert h.customer("+3")["notes"] == "called about a loan"


def test_what_was_committed_survives_a_reopen_with_the_count_of_events_it_holds():
    h, path = fresh()
    h.feed([("history", "conversation", record(7, "+7", 10, 20)), ("uplink", 1, "x", {})], 41)
    h.commit()
    h.close()
    again = Index(path)
    assert again.applied() == 41
    assert [c["id"] for c in again.customer("+7")["conversations"]] == [7]
    again.clear()
    assert again.applied() == 0 and again.customer("+7") is None
    again.close()
