"""The gateway's customer history: the SQLite index in the state folder, fed with the
history effects of every event the core applies, caught up at start-up, rebuilt from
the whole journal when it missed more than the journal after the snapshot holds (a
lost or damaged file), and cut to `retention_days`.
"""

import os
import sqlite3

from branchline.core.branch import Branch
from branchline.core.metrics import DAY_MS
from branchline.ports.cpython.history_sqlite import SqliteHistory

FILENAME = "history.sqlite3"


class History:
    def __init__(self, cfg, state_path, log):
        self.cfg = cfg
        self.log = log
        self.path = os.path.join(state_path, FILENAME)
        try:
            self.index = SqliteHistory(self.path)
        except sqlite3.DatabaseError as e:  # not a database any more: start it afresh
            log.error("history_unreadable", reason=str(e))
            os.remove(self.path)
            self.index = SqliteHistory(self.path)
        self._behind = None  # at start-up: whether the index missed events before the tail

    def replaying(self, core):
        """Store.load's on_effects: what each replayed event did."""

        def on_effects(effects):
            if self._behind is None:  # the first event after the snapshot
                self._behind = self.index.applied() < core.events_applied - 1
            if not self._behind and core.events_applied > self.index.applied():
                self.index.feed(effects, core.events_applied)

        return on_effects

    def caught_up(self, core, store):
        """After start-up's replay: rebuild from the whole journal if the index missed
        events the tail did not hold."""
        if self._behind is None:
            self._behind = self.index.applied() < core.events_applied
        if self._behind:
            self._rebuild(core, store)
        self._behind = False
        self.index.commit()

    def _rebuild(self, core, store):
        self.index.clear()
        fresh = Branch(self.cfg)
        records = 0
        for record in store.history():
            try:
                effects = fresh.apply(record)
            except ValueError:  # refused then, refused now
                continue
            self.index.feed(effects, fresh.events_applied)
            records += 1
        self.index.set_applied(core.events_applied)
        self.log.info("history_rebuilt", records=records)

    def feed(self, effects, applied):
        self.index.feed(effects, applied)

    def commit(self):
        self.index.commit()

    def expire(self, now):
        if self.cfg["retention_days"]:
            gone = self.index.expire(now - self.cfg["retention_days"] * DAY_MS)
            if gone:
                self.log.info("history_expired", conversations=gone)

    def close(self):
        self.index.close()
