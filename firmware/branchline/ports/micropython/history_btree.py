"""The customer history on MicroPython: the `btree` module on the flash file system.
core/history.py says what it holds and why; the keys, all bytes:

    p<number>                          the profile (JSON)
    c<number>\\0<closed:13>.<id:10>     a closed conversation's record (JSON, with csat)
    i<id:10>                           the c-key of the conversation's latest close
    t<closed:13>.<id:10>               the c-key again, in closing order (retention)
    m                                  how many core events the index holds

btree iterates one cursor per database, so every scan is read into a list before the
next lookup. Numbers of 13 digits of ms last until the year 2286.
"""

import json

import btree

from branchline.core import jsonfmt
from branchline.core.history import MAX_THREAD, HistoryIndex, empty_profile


def _ms(t):
    return b"%013d" % t


def _id(conv_id):
    return b"%010d" % conv_id


def _conv_key(number, closed, conv_id):
    return b"c" + number.encode() + b"\x00" + _ms(closed) + b"." + _id(conv_id)


class BtreeHistory(HistoryIndex):
    def __init__(self, path):
        try:
            self._file = open(path, "r+b")
        except OSError:
            self._file = open(path, "w+b")
        self.db = btree.open(self._file)

    def _keys(self, lo, hi):
        return list(self.db.keys(lo, hi))

    def _profile(self, number):
        raw = self.db.get(b"p" + number.encode())
        return json.loads(raw) if raw is not None else None

    def _save(self, profile):
        self.db[b"p" + profile["number"].encode()] = jsonfmt.encode(profile)

    def add_conversation(self, record):
        number = record["customer"]
        key = _conv_key(number, record["closed"], record["id"])
        doc = dict(record)
        doc["csat"] = None
        self.db[key] = jsonfmt.encode(doc)
        latest = self.db.get(b"i" + _id(record["id"]))
        if latest is None or latest < key:
            self.db[b"i" + _id(record["id"])] = key
        self.db[b"t" + _ms(record["closed"]) + b"." + _id(record["id"])] = key
        self._contact(record)

    def set_csat(self, conv_id, customer, score):
        key = self.db.get(b"i" + _id(conv_id))
        if key is None or not key.startswith(b"c" + customer.encode() + b"\x00"):
            return
        doc = json.loads(self.db[key])
        doc["csat"] = score
        self.db[key] = jsonfmt.encode(doc)

    def _conversation_keys(self, number):
        prefix = b"c" + number.encode()
        return self._keys(prefix + b"\x00", prefix + b"\x01")

    def customer(self, number, limit=MAX_THREAD):
        profile = self._profile(number)
        if profile is None:
            return None
        keys = self._conversation_keys(number)
        # Newest close first; ties (one millisecond) by the larger id, as on SQLite.
        keys.sort(key=lambda k: (k[-24:-11], k[-10:]), reverse=True)
        profile["conversations"] = [json.loads(self.db[k]) for k in keys[:limit]]
        return profile

    def conversation_ids(self, number):
        ids = {}
        for key in self._conversation_keys(number):
            ids[int(key[-10:])] = True
        return sorted(ids)

    def _forget(self, keys):
        for key in keys:
            closed, conv_id = key[-24:-11], key[-10:]
            del self.db[key]
            del self.db[b"t" + closed + b"." + conv_id]
            if self.db.get(b"i" + conv_id) == key:
                del self.db[b"i" + conv_id]

    def erase(self, number):
        keys = self._conversation_keys(number)
        self._forget(keys)
        profile_key = b"p" + number.encode()
        if self.db.get(profile_key) is not None:
            del self.db[profile_key]
        return len(keys)

    def expire(self, before_ms):
        old = [self.db[k] for k in self._keys(b"t", b"t" + _ms(before_ms))]
        self._forget(old)
        for key in self._keys(b"p", b"q"):
            profile = json.loads(self.db[key])
            if profile["last_contact"] is not None and profile["last_contact"] < before_ms:
                del self.db[key]
        return len(old)

    def clear(self):
        for key in list(self.db.keys()):
            del self.db[key]

    def applied(self):
        raw = self.db.get(b"m")
        return int(raw) if raw is not None else 0

    def set_applied(self, count):
        self.db[b"m"] = b"%d" % count

    def commit(self):
        self.db.flush()
        self._file.flush()

    def close(self):
        self.db.close()
        self._file.close()
