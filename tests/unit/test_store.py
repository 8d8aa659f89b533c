"""The state folder: snapshots, segments and compaction, with a power cut or a kill at
every step of writing a snapshot. Whatever the moment, start-up rebuilds exactly the
state of a branch that never stopped."""

import io
import json
import os

import pytest

from branchline.core import branch, config, events, journal, jsonfmt, snapshot
from branchline.log import Log, parse_line
from branchline.ports.cpython.startup import StateDir
from branchline.ports.cpython.app import open_store
from host_tools.bench import core_day

CFG = config.validate(core_day.config(4, 2, queue_capacity=32, remembered_customers=64,
                                      remembered_messages=64, remembered_sends=32))


class Day:
    """A branch running the bench's event stream into a Store, step by step."""

    def __init__(self, folder, retention_days=90):
        self.folder = str(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.scenario = core_day.Scenario(4, 2)
        self.core = branch.Branch(CFG)
        self.state_dir = StateDir(self.folder)
        self.store = open_store(self.state_dir, Log(io.StringIO()), retention_days)
        self.store.load(self.core)
        self.written = []  # every event journaled, in order
        self.times = {}  # records so far -> the branch's time at each snapshot
        for ev in self.scenario.desks_in():
            self.step(ev)

    def step(self, ev=None):
        ev = ev or self.scenario.step(keep_open=12)
        try:
            self.core.check(ev)
        except branch.Rejected:
            return
        self.store.append([journal.encode(ev)])
        self.written.append(json.loads(jsonfmt.encode(ev)))
        effects = self.core.apply(ev)
        self.scenario.observe(ev, effects, len(self.core.conversations))

    def run(self, n):
        for _ in range(n):
            self.step()

    def snapshot(self):
        self.times[self.store.records] = self.core.now
        finish = self.store.begin_snapshot(self.core.dump(), events.SCHEMA, self.core.now)
        return finish

    def files(self):
        return sorted(n for n in os.listdir(self.folder) if n != snapshot.ARCHIVE_DIR)

    def archived(self):
        return snapshot.archive_listing(os.listdir(os.path.join(self.folder,
                                                                snapshot.ARCHIVE_DIR)))

    def stop(self):
        self.store.close()
        self.state_dir.release()


def restarted(folder, log=None):
    """A new branch brought back from the folder, as the next start does."""
    core = branch.Branch(CFG)
    out = log if log is not None else io.StringIO()
    state_dir = StateDir(str(folder))
    store = open_store(state_dir, Log(out))
    store.load(core)
    store.close()
    state_dir.release()
    return core


def same(a, b):
    return jsonfmt.dumps(a.dump()) == jsonfmt.dumps(b.dump())


def test_start_up_reads_the_newest_snapshot_and_what_came_after(tmp_path):
    day = Day(tmp_path)
    day.run(300)
    day.snapshot()()
    day.run(200)
    day.snapshot()()
    day.run(150)
    day.stop()
    names = day.files()
    assert [n for n in names if n.startswith("snapshot-")] == [
        snapshot.name(snapshot.SNAPSHOT_PREFIX, n) for n in sorted(snapshot.listing(names)[0])]
    # The one before the newest is kept as a fallback, with the segments it needs.
    assert len(snapshot.listing(names)[0]) == 2
    assert snapshot.listing(names)[1][0] > 0  # the first segment went: compaction ran
    assert [records for _until, records, _name in day.archived()] == [0]
    assert same(restarted(tmp_path), day.core)


def _journal_bytes(folder, names):
    return b"".join(open(os.path.join(folder, n), "rb").read() for n in names)


def test_compacted_segments_are_archived_whole_and_deleted_past_retention(tmp_path):
    day = Day(tmp_path, retention_days=1)
    firsts = []
    for _ in range(4):
        day.run(200)
        firsts.append(day.store.records)
        day.snapshot()()
    archived = day.archived()
    assert [records for _until, records, _name in archived] == [0] + firsts[:2]
    # Archive + live segments are the whole journal, byte for byte: nothing was cut.
    live = [n for n in day.files() if n.startswith(snapshot.SEGMENT_PREFIX)]
    arch = os.path.join(day.folder, snapshot.ARCHIVE_DIR)
    whole = _journal_bytes(arch, [e[2] for e in archived]) + _journal_bytes(day.folder, live)
    assert journal.scan(whole) == (day.written, len(whole), None)
    assert [until for until, _records, _name in archived] == [
        day.times[n] for n in firsts[1:]]  # stamped with the time they left the live set
    # A day and a bit later, what was archived before it is past retention and goes.
    day.core.now += 86400000 + 1
    gone = day.snapshot()()[2]
    assert [n for n in gone if n.startswith(snapshot.SEGMENT_PREFIX)] == [
        e[2] for e in archived]
    day.stop()
    assert same(restarted(tmp_path), day.core)


def test_trim_deletes_the_oldest_archive_first_and_never_the_live_files(tmp_path):
    day = Day(tmp_path)
    for _ in range(5):
        day.run(150)
        day.snapshot()()
    live = {n: open(os.path.join(day.folder, n), "rb").read() for n in day.files()}
    archived = day.archived()
    assert len(archived) == 4
    sizes = [os.path.getsize(os.path.join(day.folder, snapshot.ARCHIVE_DIR, e[2]))
             for e in archived]
    used = day.store.disk_bytes()
    # Just enough: the oldest only.
    assert day.store.trim(used - sizes[0]) == ([archived[0][2]], used - sizes[0])
    assert day.archived() == archived[1:]
    assert day.store.trim(0)[0] == [e[2] for e in archived[1:]]  # all of it, if need be
    assert day.archived() == []
    assert {n: open(os.path.join(day.folder, n), "rb").read() for n in day.files()} == live
    day.stop()
    assert same(restarted(tmp_path), day.core)


@pytest.mark.parametrize("moment", ["segment begun", "temporary file half written",
                                    "snapshot torn", "snapshot damaged", "before clean-up",
                                    "clean-up half done"])
def test_a_kill_at_any_moment_of_a_snapshot_loses_nothing(tmp_path, moment):
    day = Day(tmp_path / "run")
    day.run(250)
    day.snapshot()()
    day.run(250)
    finish = day.snapshot()  # the new segment has begun
    new = day.store.records
    day.run(40)  # records go to the new segment while the snapshot is written
    path = os.path.join(day.folder, snapshot.name(snapshot.SNAPSHOT_PREFIX, new))
    before = {}
    for name in day.files():
        with open(os.path.join(day.folder, name), "rb") as f:
            before[name] = f.read()
    if moment != "segment begun":
        finish()
        blob = open(path, "rb").read()
        if moment == "temporary file half written":
            os.remove(path)
            with open(path + ".tmp", "wb") as f:
                f.write(blob[: len(blob) // 2])
        elif moment == "snapshot torn":
            with open(path, "wb") as f:
                f.write(blob[: len(blob) - 10])
        elif moment == "snapshot damaged":
            with open(path, "wb") as f:
                f.write(blob[:100] + bytes([blob[100] ^ 0x40]) + blob[101:])
        else:  # finish removed what the snapshot made unnecessary: undo all or half
            gone = sorted(set(before) - set(day.files()))
            assert gone
            for name in gone if moment == "before clean-up" else gone[::2]:
                with open(os.path.join(day.folder, name), "wb") as f:
                    f.write(before[name])
    day.stop()
    log = io.StringIO()
    core = restarted(day.folder, log)
    assert same(core, day.core), moment
    warned = [parse_line(line) for line in log.getvalue().splitlines()]
    if moment in ("snapshot torn", "snapshot damaged"):
        assert [w["event"] for w in warned if w["level"] == "warn"] == ["snapshot_unreadable"]
    assert not [w for w in warned if w["level"] == "error"]


def test_a_folder_of_an_earlier_release_is_taken_over(tmp_path):
    day = Day(tmp_path / "run")
    day.run(100)
    day.stop()
    seg = os.path.join(day.folder, snapshot.name(snapshot.SEGMENT_PREFIX, 0))
    os.rename(seg, os.path.join(day.folder, snapshot.LEGACY_JOURNAL))
    log = io.StringIO()
    assert same(restarted(day.folder, log), day.core)
    assert "journal_migrated" in log.getvalue()
    assert snapshot.LEGACY_JOURNAL not in os.listdir(day.folder)


def snapshot_bytes(state, schema, records):
    f = io.BytesIO()
    size = snapshot.write(state, schema, records, f)
    blob = f.getvalue()
    assert size == len(blob)
    return blob


def test_a_snapshot_is_written_streamed_and_decodes_only_when_whole(monkeypatch):
    # Streamed a few fragments at a time, it is the document encoded at once.
    big = {"a": [1, "\u4f60"], "b": ["x" * i for i in range(300)]}
    whole = snapshot_bytes(big, events.SCHEMA, 7)
    monkeypatch.setattr(jsonfmt, "CHUNK_PARTS", 3)
    assert snapshot_bytes(big, events.SCHEMA, 7) == whole
    assert whole[snapshot.HEADER_SIZE:] == jsonfmt.encode(big)
    blob = snapshot_bytes({"a": [1, "\u4f60"]}, events.SCHEMA, 42)
    assert snapshot.decode(blob) == (42, events.SCHEMA, {"a": [1, "\u4f60"]})
    for bad, why in ((blob[:10], "shorter than its header"), (blob[:-1], "torn"),
                     (b"XXXX" + blob[4:], "not a version"),
                     (blob[:-1] + bytes([blob[-1] ^ 1]), "CRC mismatch")):
        with pytest.raises(snapshot.SnapshotError, match=why):
            snapshot.decode(bad)
    assert json.loads(blob[snapshot.HEADER_SIZE:]) == {"a": [1, "\u4f60"]}


def test_without_a_readable_snapshot_start_up_replays_the_archive_from_the_start(tmp_path):
    day = Day(tmp_path)
    for _ in range(4):
        day.run(150)
        day.snapshot()()
    day.run(60)
    day.stop()
    assert day.archived()  # compaction moved the first segments there
    names = [n for n in day.files() if n.startswith(snapshot.SNAPSHOT_PREFIX)]
    for name in names:  # as if written by another release
        path = os.path.join(day.folder, name)
        blob = bytearray(open(path, "rb").read())
        blob[4:6] = (snapshot.VERSION + 1).to_bytes(2, "little")
        with open(path, "wb") as f:
            f.write(blob)
    log = io.StringIO()
    core = restarted(tmp_path, log)
    assert same(core, day.core)
    lines = [parse_line(line) for line in log.getvalue().splitlines()]
    assert [w["event"] for w in lines if w["level"] == "warn"] == ["snapshot_unreadable"] * 2
    assert not [w for w in lines if w["level"] == "error"]
    # ... and appends go on to a live segment, never into the archive.
    archive = os.path.join(day.folder, snapshot.ARCHIVE_DIR)
    archived = {n: open(os.path.join(archive, n), "rb").read() for n in os.listdir(archive)}
    state_dir = StateDir(day.folder)
    store = open_store(state_dir, Log(io.StringIO()))
    store.load(branch.Branch(CFG))
    store.append([journal.encode({"k": "tick", "t": day.core.now + 1})])
    store.close()
    state_dir.release()
    assert {n: open(os.path.join(archive, n), "rb").read()
            for n in os.listdir(archive)} == archived
    assert restarted(tmp_path).now == day.core.now + 1


def test_a_damaged_archive_is_read_around_and_never_rewritten(tmp_path):
    day = Day(tmp_path)
    for _ in range(3):
        day.run(150)
        day.snapshot()()
    day.stop()
    for name in day.files():
        if name.startswith(snapshot.SNAPSHOT_PREFIX):
            os.remove(os.path.join(day.folder, name))  # start-up must use the archive
    (first,) = [e[2] for e in day.archived() if e[1] == 0]
    path = os.path.join(day.folder, snapshot.ARCHIVE_DIR, first)
    blob = bytearray(open(path, "rb").read())
    blob[len(blob) // 2] ^= 0xFF
    with open(path, "wb") as f:
        f.write(blob)
    log = io.StringIO()
    restarted(tmp_path, log)
    assert open(path, "rb").read() == bytes(blob)
    (warned,) = [parse_line(line) for line in log.getvalue().splitlines()
                 if "archive_damaged" in line]
    assert warned["segment"] == first and int(warned["kept"]) > 0


def test_a_snapshot_a_cut_stopped_before_it_was_in_place_is_cleared_at_start(tmp_path):
    day = Day(tmp_path)
    day.run(50)
    day.stop()
    stale = os.path.join(day.folder, snapshot.name(snapshot.SNAPSHOT_PREFIX, 49) + ".tmp")
    with open(stale, "wb") as f:
        f.write(b"BLSN half of it")
    assert same(restarted(day.folder), day.core)
    assert not os.path.exists(stale)
