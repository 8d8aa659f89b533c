"""The customer history: a derived index of every closed conversation and each
customer's profile, rebuilt from the journal, never the source of truth.

The core reports what the index must learn as effects ("history", op, body):

    ("history", "conversation", session record)  a conversation closed (once per close:
                                                  a reopened one closes again, same id)
    ("history", "csat", {"conv", "customer", "score", "t"})
    ("history", "profile", {"customer", "t", and any of PROFILE_FIELDS})
    ("history", "erase", {"customer"})           every trace of the number goes

`HistoryIndex` is the one interface: `apply` takes those effects, `customer` answers
the console; SQLite implements it on CPython (ports/cpython/history_sqlite.py), btree
on MicroPython (ports/micropython/history_btree.py), and tests/portable/test_history.py
holds both to the same behaviour. `applied` is the count of core events (the core's
`events_applied`) whose effects the index holds, so start-up feeds it only what it
missed, and rebuilds it from the whole journal when it missed more than the journal
after the snapshot holds.
"""

PROFILE_FIELDS = ("name", "lang", "tags", "vip", "notes")
MAX_THREAD = 50  # closed conversations a lookup returns, newest first


class HistoryIndex:
    """What both implementations provide, besides `apply` and `feed` here:

    add_conversation(record)      keep a closed conversation's record under its customer,
                                  one entry per (id, closed): a replayed close changes
                                  nothing
    set_csat(conv_id, customer, score)  on the customer's latest close of conv_id
    customer(number, limit)       {"number", "name", "lang", "tags", "vip", "notes",
                                  "first_contact", "last_contact", "conversations":
                                  [record, ...] newest close first}, or None
    conversation_ids(number)      every conversation id held for the number
    erase(number)                 forget profile and conversations -> conversations gone
    expire(before_ms)             forget conversations closed before, and profiles with
                                  no contact since -> conversations gone
    clear(), applied(), set_applied(count), commit(), close()
    """

    def apply(self, op, body):
        if callable(body):  # a record start-up's replay has not made (core/later.py)
            body = body()
        if op == "conversation":
            self.add_conversation(body)
        elif op == "csat":
            self.set_csat(body["conv"], body["customer"], body["score"])
        elif op == "profile":
            changes = {}
            for field in PROFILE_FIELDS:
                if field in body:
                    changes[field] = body[field]
            self.update_profile(body["customer"], changes, body["t"])
        elif op == "erase":
            self.erase(body["customer"])

    # Both keep a profile per number through _profile(number) -> dict or None and
    # _save(profile): what they do with it is the same.
    def update_profile(self, customer, changes, t):
        profile = self._profile(customer) or empty_profile(customer)
        profile.update(changes)
        if profile["first_contact"] is None:
            profile["first_contact"] = profile["last_contact"] = t
        self._save(profile)

    def _contact(self, record):
        """Widen the customer's first and last contact to include `record`."""
        profile = self._profile(record["customer"]) or empty_profile(record["customer"])
        first, last = record["created"], record["closed"]
        if profile["first_contact"] is None or first < profile["first_contact"]:
            profile["first_contact"] = first
        if profile["last_contact"] is None or last > profile["last_contact"]:
            profile["last_contact"] = last
        self._save(profile)

    def feed(self, effects, applied):
        """Take the history effects of the core event numbered `applied`."""
        for effect in effects:
            if effect[0] == "history":
                self.apply(effect[1], effect[2])
        self.set_applied(applied)


def empty_profile(number):
    return {"number": number, "name": None, "lang": None, "tags": [], "vip": False,
            "notes": "", "first_contact": None, "last_contact": None}
