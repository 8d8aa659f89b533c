"""The gateway's customer history: the port's index (SQLite on CPython, btree on
MicroPython: core/history.py's interface) in the state folder, fed with the history
effects of every event the core applies, caught up at start-up, rebuilt from the whole
journal in the background when it missed more than the journal after the snapshot
holds (a lost or damaged file, a first start after an update), and cut to
`retention_days`.

The port gives `kind`: open(path) -> the index, remove(path) (its files, if any),
errors (what a damaged file raises) and rename(a, b) (over b).
"""

from branchline.core.branch import Branch
from branchline.core.metrics import DAY_MS

STEP_RECORDS = 200  # a rebuild's step, between which a board's loop runs
COMMIT_RECORDS = 10000


class _Stopped(Exception):
    """The gateway is stopping: a rebuild gives up (the next start does it again)."""


class History:
    def __init__(self, cfg, path, log, kind):
        self.cfg = cfg
        self.log = log
        self.kind = kind
        self.path = path
        try:
            self.index = kind.open(path)
        except kind.errors as e:  # not a database any more: start it afresh
            log.error("history_unreadable", reason=str(e))
            kind.remove(path)
            self.index = kind.open(path)
        self._behind = None  # at start-up: whether the index missed events before the tail
        self.rebuild_needed = False
        self._missed = None  # while a rebuild runs: the effects fed meanwhile
        self._stopping = False

    def replaying(self, core):
        """Store.load's on_effects: what each replayed event did."""

        def on_effects(effects):
            if self._behind is None:  # the first event after the snapshot
                self._behind = self.index.applied() < core.events_applied - 1
            if not self._behind and core.events_applied > self.index.applied():
                self.index.feed(effects, core.events_applied)

        return on_effects

    def caught_up(self, core):
        """After start-up's replay: whether the index missed events the tail did not
        hold, so that it must be rebuilt from the whole journal (`rebuild`, once the
        gateway serves: a year's journal takes a minute, start-up must not)."""
        if self._behind is None:
            self._behind = self.index.applied() < core.events_applied
        self.rebuild_needed = self._behind
        self._behind = False
        self.index.commit()

    async def rebuild(self, gateway, store, core):
        """Build a new index from every record the folder holds, in a thread, into a
        file of its own; then add what was fed meanwhile (the index's writes are
        idempotent: a record read twice changes nothing), and put it in place. Until
        then lookups answer from the old one."""
        kind = self.kind
        new_path = self.path + ".rebuild"
        kind.remove(new_path)
        self._missed = []
        self.log.warn("history_rebuilding", reason="the index missed events before the "
                      "journal's tail")
        try:
            records = await gateway.job(self._build(new_path, store))
            rebuilt = kind.open(new_path)
            for effects in self._missed:
                rebuilt.feed(effects, core.events_applied)
        except _Stopped:
            kind.remove(new_path)
            self.log.warn("history_rebuild_stopped")
            return
        except Exception as e:  # a damaged file, no memory: the old index serves on
            self.log.error("history_rebuild_failed", reason=repr(e))
            return
        finally:
            self._missed = None
        rebuilt.set_applied(core.events_applied)
        rebuilt.close()
        self.index.close()
        kind.remove(self.path)
        kind.rename(new_path, self.path)
        self.index = kind.open(self.path)
        self.rebuild_needed = False
        self.log.info("history_rebuilt", records=records)

    def _build(self, path, store):
        """A long job (Gateway.job: in a thread where there is one, else in the loop a
        step at a time): a fresh core over the whole journal, its history effects into
        a new index (a connection of its own). Its result: the records read."""
        index = self.kind.open(path)
        fresh = Branch(self.cfg)
        fresh.begin_replay()  # its messages to head office are not wanted: never made
        records = 0
        for record in store.history():
            try:
                effects = fresh.apply(record)
            except ValueError:  # refused then, refused now
                continue
            index.feed(effects, fresh.events_applied)
            records += 1
            if records % STEP_RECORDS == 0:
                if records % COMMIT_RECORDS == 0:
                    index.commit()
                if self._stopping:
                    index.close()
                    raise _Stopped()
                yield
        index.close()
        return records

    def stop_rebuild(self):
        """Have a rebuild running in its thread give up soon (the gateway stops)."""
        self._stopping = True

    def feed(self, effects, applied):
        self.index.feed(effects, applied)
        if self._missed is not None:
            self._missed.append(effects)

    def commit(self):
        self.index.commit()

    def expire(self, now):
        if self.cfg["retention_days"]:
            gone = self.index.expire(now - self.cfg["retention_days"] * DAY_MS)
            if gone:
                self.log.info("history_expired", conversations=gone)

    def close(self):
        self.index.close()

