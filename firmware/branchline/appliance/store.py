"""The state folder: journal segments and snapshots (core/snapshot.py says which is
which), start-up from them, appends, and compaction, on the port's file system.

Start-up loads the newest snapshot that reads back intact and replays the segments
from its record on; a torn or damaged snapshot is logged and the previous one used.
Every `snapshot_every_events` records or `snapshot_every_s` seconds (and early when
the folder outgrows `disk_ceiling_mb`), the gateway calls `snapshot`: a new segment
begins, the state is written beside it (temporary file, fsync, rename, fsync of the
folder), and only then do the files it makes unnecessary go: older snapshots are
deleted, older segments move to the archive (core/snapshot.py), where those past
`retention_days` are deleted. A kill at any point leaves either the old files or the
new ones whole, and an archived segment is only ever renamed or deleted whole.
When the folder outgrows `disk_ceiling_mb`, `trim` deletes archived segments, oldest
first; the live files are never touched.

The file system `fs` is the port's: join(a, b), basename(p), exists(p), isdir(p),
listdir(p), size(p), read(p), rename(a, b) (over b), remove(p), makedirs(p),
sync_dir(p) (a creation, rename or removal in p's folder made durable), create(p) (a
file to write) and commit(tmp, p) (the written file in place of p, the old or the new
whole after a cut), write_durably(p, data) (the two at once) and open_log(p) (a journal
segment: appliance/journal_file.py).
"""

from branchline.appliance.journal_file import Journal
from branchline.core import config, events, journal, snapshot


class Store:
    def __init__(self, fs, path, log, now_ms, retention_days=config.DEFAULTS["retention_days"]):
        self.fs = fs
        self.now_ms = now_ms
        self.dir = path
        self.archive = fs.join(self.dir, snapshot.ARCHIVE_DIR)
        self.log = log
        self.retention_days = retention_days
        self.records = 0  # journal records so far, over all segments
        self.journal = None  # the segment appends go to
        self._segment_start = 0
        self._since_snapshot = 0  # records since the last snapshot (or the start)
        self._migrate_legacy()
        for name in fs.listdir(path):  # snapshots a cut stopped before they were in place
            if name.startswith(snapshot.SNAPSHOT_PREFIX) and name.endswith(".tmp"):
                fs.remove(fs.join(path, name))

    def _path(self, filename):
        return self.fs.join(self.dir, filename)

    def _migrate_legacy(self):
        """The one-file journal of earlier releases becomes segment 0, once."""
        legacy = self._path(snapshot.LEGACY_JOURNAL)
        if self.fs.exists(legacy):
            first = self._path(snapshot.name(snapshot.SEGMENT_PREFIX, 0))
            if not self.fs.exists(first):
                self.fs.rename(legacy, first)
                self.fs.sync_dir(first)
                self.log.info("journal_migrated", to=self.fs.basename(first))

    def _listing(self):
        return snapshot.listing(self.fs.listdir(self.dir))

    # -- start-up --------------------------------------------------------------------
    def load(self, core, on_effects=None):
        """Bring `core` to the state the folder holds; -> the number of records replayed.
        `on_effects(effects)` gets what each replayed event did (the history index's
        feed). Raises branch.SnapshotMismatch when the configuration does not fit the
        state."""
        snapshots, segments = self._listing()
        start = 0
        loaded = False
        schema = events.SCHEMA
        for n in snapshots:
            try:
                start, schema, state = snapshot.decode(self.fs.read(
                    self._path(snapshot.name(snapshot.SNAPSHOT_PREFIX, n))))
            except (OSError, snapshot.SnapshotError) as e:
                self.log.warn("snapshot_unreadable", records=n,
                              reason=getattr(e, "strerror", None) or str(e))
                continue
            core.load(state)
            loaded = True
            break
        replay = [(seg, self._path(snapshot.name(snapshot.SEGMENT_PREFIX, seg)), False)
                  for seg in snapshot.segments_from(segments, start)]
        if not loaded:
            # No snapshot to start from (none written yet, or none readable: damaged,
            # or written by another release): the archive holds the journal before the
            # live segments.
            first = replay[0][0] if replay else None
            replay = sorted((n, self.fs.join(self.archive, f), True)
                            for _until, n, f in self._archived()
                            if first is None or n < first) + replay
        if replay[0][0] > start if replay else snapshots and not loaded:
            # Without a snapshot for the records before the first segment left, they
            # are lost: say so once, loudly, and serve with what there is.
            self.log.error("state_incomplete", from_record=start,
                           first_segment=replay[0][0] if replay else None)
        # Records after a snapshot of today's schema passed today's checks before they
        # were journaled; older ones (and a start without a snapshot, which may be a
        # folder of an earlier release) are upgraded and checked in full.
        apply = core.replay if loaded and schema == events.SCHEMA else core.apply
        core.begin_replay()
        try:
            replayed = self._replay(core, apply, replay, start, schema, on_effects)
        finally:
            core.end_replay()
        if self.journal is None:
            self.records = max(self.records, start)
            self._open_segment(self.records)
        self._since_snapshot = replayed
        return replayed

    def _replay(self, core, apply, replay, start, schema, on_effects):
        """Apply the records of the segments `replay` lists from record `start` on;
        -> how many. The last live segment stays open for appends."""
        replayed = 0
        for seg, path, archived in replay:
            if archived:
                records = self._read_archived(path)
            else:
                self.journal = Journal(self.fs, path, self.log, self.now_ms)
                records = self.journal.replay()
                self._segment_start = seg
                if seg != replay[-1][0]:
                    self.journal.close()
                    self.journal = None
            self.records = seg + len(records)
            if schema != events.SCHEMA:
                records = [events.upgrade(r, schema) for r in records]
            for i in range(max(0, start - seg), len(records)):
                effects = _apply(apply, records[i], self.log)
                if effects is not None and on_effects is not None:
                    on_effects(effects)
            replayed += max(0, len(records) - max(0, start - seg))
        return replayed

    def _read_archived(self, path):
        """The intact records of an archived segment, read only: the archive is the
        record of what happened and is never repaired in place."""
        data = self.fs.read(path)
        records, good, problem = journal.scan(data)
        if problem is not None:
            records.extend(journal.salvage(data, good)[0])
            self.log.warn("archive_damaged", segment=self.fs.basename(path), reason=problem,
                          kept=len(records))
        return records

    def _files_oldest_first(self, current=False):
        """(path, archived) of every segment kept, the archive's first: the journal from
        the oldest record still held; the segment appends go to only if `current`."""
        _snapshots, segments = self._listing()
        out = [(self.fs.join(self.archive, f), True) for _until, _n, f in
               sorted(self._archived(), key=lambda e: e[1])]
        for seg in sorted(segments):
            if current or seg != self._segment_start:
                out.append((self._path(snapshot.name(snapshot.SEGMENT_PREFIX, seg)), False))
        return out

    def history(self):
        """Every record held, oldest first (the archive, then the live segments), for
        rebuilding the derived indexes at start-up; read only."""
        for path, _archived in self._files_oldest_first(current=True):
            for record in self._read_archived(path):
                yield record

    def rewrite(self, transform):
        """A long job (Gateway.job), a file a step: pass every held record through
        `transform` (oldest first; not the segment being appended to) and replace each
        file where one changed, durably. For erasing a customer: the files change, their
        records' places do not. Its result: (files rewritten, records changed)."""
        files = changed = 0
        for path, _archived in self._files_oldest_first():
            records = self._read_archived(path)
            out = [transform(r) for r in records]
            differ = sum(1 for a, b in zip(records, out) if a is not b)
            if differ:
                self.fs.write_durably(path, b"".join(journal.encode(r) for r in out))
                files += 1
                changed += differ
            yield
        return files, changed

    # -- appends ---------------------------------------------------------------------
    def _open_segment(self, n):
        segment = Journal(self.fs, self._path(snapshot.name(snapshot.SEGMENT_PREFIX, n)),
                          self.log, self.now_ms)
        segment.replay()  # empty, or ours from a start cut short: positions the end
        self.journal = segment
        self._segment_start = n

    def append(self, records):
        """Durably append encoded records (one group, one fsync): JournalWriteError."""
        self.journal.append(records)
        self.records += len(records)
        self._since_snapshot += len(records)

    @property
    def since_snapshot(self):
        return self._since_snapshot

    def disk_bytes(self):
        """The folder's files, the archive's included."""
        total = 0
        for folder in (self.dir, self.archive):
            if self.fs.isdir(folder):
                for name in self.fs.listdir(folder):
                    path = self.fs.join(folder, name)
                    if not self.fs.isdir(path):
                        total += self.fs.size(path)
        return total

    def _archived(self):
        if not self.fs.isdir(self.archive):
            return []
        return snapshot.archive_listing(self.fs.listdir(self.archive))

    def _delete_archived(self, entries):
        for _until, _records, filename in entries:
            self.fs.remove(self.fs.join(self.archive, filename))
        if entries:
            self.fs.sync_dir(self.fs.join(self.archive, entries[0][2]))
        return [filename for _until, _records, filename in entries]

    def trim(self, ceiling_bytes):
        """Delete archived segments, oldest first, until the folder fits `ceiling_bytes`
        (or the archive is empty); -> (the names deleted, the folder's bytes now). Never
        run beside a snapshot's `finish`, which deletes from the archive too."""
        used = self.disk_bytes()
        chosen = []
        if used > ceiling_bytes:
            for entry in self._archived():
                if used <= ceiling_bytes:
                    break
                used -= self.fs.size(self.fs.join(self.archive, entry[2]))
                chosen.append(entry)
        return self._delete_archived(chosen), used

    # -- compaction ------------------------------------------------------------------
    def begin_snapshot(self, state, schema, now):
        """Start a snapshot of `state` (the core's dump, taken right now, between two
        groups; `now` the branch's time, ms): appends go to a new segment from here on.
        -> the work to finish in a thread: `finish()` puts it in place durably, archives
        what it made unnecessary and deletes the archive's segments past
        `retention_days`; it returns (records, snapshot bytes, names deleted, names
        archived)."""
        n = self.records
        path = self._path(snapshot.name(snapshot.SNAPSHOT_PREFIX, n))
        tmp = path + ".tmp"
        # Written now, streamed (the state must not move under it, and a board's heap
        # could not hold the whole document): put in place by `finish`.
        f = self.fs.create(tmp)
        try:
            size = snapshot.write(state, schema, n, f)
        finally:
            f.close()
        if n != self._segment_start:
            # The new segment first: if it cannot be made (a full flash), appends go on
            # to the old one, still open, and the snapshot waits for a later try.
            old = self.journal
            self._open_segment(n)
            old.close()
        self._since_snapshot = 0

        def finish():
            self.fs.commit(tmp, path)
            snapshots, segments = self._listing()
            gone, archived = snapshot.obsolete(snapshots, segments, n)
            if archived:
                self.fs.makedirs(self.archive)
            for seg in archived:
                # The rename is durable with the archive's fsync below; until then a cut
                # leaves it where it was, which a start reads past harmlessly.
                self.fs.rename(self._path(snapshot.name(snapshot.SEGMENT_PREFIX, seg)),
                          self.fs.join(self.archive, snapshot.archived_name(seg, now)))
            if archived:
                self.fs.sync_dir(self.fs.join(self.archive,
                                              snapshot.archived_name(archived[0], now)))
            for filename in gone:
                self.fs.remove(self._path(filename))
            if gone or archived:
                self.fs.sync_dir(path)
            gone += self._delete_archived(
                snapshot.past_retention(self._archived(), now, self.retention_days))
            return n, size, gone, archived

        return finish

    def close(self):
        if self.journal is not None:
            self.journal.close()


def count_boot(fs, path):
    """This start's number (1 for the first), kept in `path`."""
    try:
        count = int(fs.read(path).decode().strip() or 0) + 1
    except (OSError, ValueError):
        count = 1
    fs.write_durably(path, b"%d\n" % count)
    return count


def _apply(apply, event, log):
    """-> the event's effects, or None when it did not apply."""
    try:
        return apply(event)
    except ValueError as e:  # branch.Rejected: the same on every replay
        log.warn("replay_skipped", kind=event.get("k"), reason=str(e))
    except Exception as e:  # a bug: a crash loop would help nobody
        log.error("replay_failed", kind=event.get("k"), reason=repr(e))
