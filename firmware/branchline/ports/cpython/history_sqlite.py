"""The customer history on CPython: SQLite from the standard library, WAL mode, one
writer (the gateway's loop). core/history.py says what it holds and why."""

import json
import sqlite3

from branchline.core import jsonfmt
from branchline.core.history import MAX_THREAD, HistoryIndex, empty_profile

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    number TEXT PRIMARY KEY,
    profile TEXT NOT NULL,          -- name, lang, tags, vip, notes (JSON)
    first_contact INTEGER,
    last_contact INTEGER
);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER NOT NULL,
    closed INTEGER NOT NULL,
    number TEXT NOT NULL,
    record TEXT NOT NULL,           -- the session record (JSON)
    csat INTEGER,
    PRIMARY KEY (id, closed)
);
CREATE INDEX IF NOT EXISTS conversations_by_number ON conversations (number, closed);
CREATE INDEX IF NOT EXISTS conversations_by_closed ON conversations (closed);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
PROFILE_KEYS = ("name", "lang", "tags", "vip", "notes")


class SqliteHistory(HistoryIndex):
    def __init__(self, path):
        # isolation_level=None: transactions are ours (BEGIN ... commit()), one per
        # group of events the gateway applies.
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # the journal is the durable truth
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN")

    def _profile(self, number):
        row = self.db.execute("SELECT profile, first_contact, last_contact FROM customers "
                              "WHERE number = ?", (number,)).fetchone()
        if row is None:
            return None
        out = empty_profile(number)
        out.update(json.loads(row[0]))
        out["first_contact"], out["last_contact"] = row[1], row[2]
        return out

    def _save(self, profile):
        kept = {}
        for key in PROFILE_KEYS:
            kept[key] = profile[key]
        self.db.execute("INSERT OR REPLACE INTO customers VALUES (?, ?, ?, ?)",
                        (profile["number"], jsonfmt.dumps(kept), profile["first_contact"],
                         profile["last_contact"]))

    def add_conversation(self, record):
        number = record["customer"]
        self.db.execute("INSERT OR REPLACE INTO conversations (id, closed, number, record) "
                        "VALUES (?, ?, ?, ?)",
                        (record["id"], record["closed"], number, jsonfmt.dumps(record)))
        self._contact(record)

    def set_csat(self, conv_id, customer, score):
        self.db.execute("UPDATE conversations SET csat = ? WHERE id = ? AND number = ? AND "
                        "closed = (SELECT MAX(closed) FROM conversations WHERE id = ?)",
                        (score, conv_id, customer, conv_id))

    def customer(self, number, limit=MAX_THREAD):
        profile = self._profile(number)
        if profile is None:
            return None
        rows = self.db.execute("SELECT record, csat FROM conversations WHERE number = ? "
                               "ORDER BY closed DESC, id DESC LIMIT ?", (number, limit))
        profile["conversations"] = []
        for record, csat in rows:
            doc = json.loads(record)
            doc["csat"] = csat
            profile["conversations"].append(doc)
        return profile

    def conversation_ids(self, number):
        rows = self.db.execute("SELECT DISTINCT id FROM conversations WHERE number = ? "
                               "ORDER BY id", (number,))
        return [row[0] for row in rows]

    def erase(self, number):
        gone = self.db.execute("DELETE FROM conversations WHERE number = ?", (number,)).rowcount
        self.db.execute("DELETE FROM customers WHERE number = ?", (number,))
        return gone

    def expire(self, before_ms):
        gone = self.db.execute("DELETE FROM conversations WHERE closed < ?",
                               (before_ms,)).rowcount
        self.db.execute("DELETE FROM customers WHERE last_contact < ?", (before_ms,))
        return gone

    def clear(self):
        for table in ("customers", "conversations", "meta"):
            self.db.execute("DELETE FROM " + table)

    def applied(self):
        row = self.db.execute("SELECT value FROM meta WHERE key = 'applied'").fetchone()
        return row[0] if row else 0

    def set_applied(self, count):
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('applied', ?)", (count,))

    def commit(self):
        self.db.execute("COMMIT")
        self.db.execute("BEGIN")

    def close(self):
        self.db.execute("COMMIT")
        self.db.close()
