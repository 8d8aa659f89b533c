"""The SMS the branch owes its customers: in flight, waiting for a retry, and what the
network later said about their delivery. Portable and deterministic (time passed in).

An item stays until a modem accepted every part of it or it failed for good:
- a temporary refusal (network busy, timeout) retries after the next backoff step;
- a modem refusal (no SIM, not registered) retries the same way, through any modem;
- a permanent refusal (bad number, barred) or running out of steps fails it.
A modem refusal is not the message's fault, so it never uses up the steps: the message
waits (at the last step's pace) until a modem can send it, for at most MODEM_WAIT_MS.
Accepted messages are remembered by (modem, TP-MR) for the last `remembered_sends`
parts, so status reports can be matched to them; TP-MR is one octet and wraps, so the
newest send with a reference wins. Cost: about 80 bytes per part remembered on a 32-bit
MicroPython (an int key, a small tuple, the shared per-message record).
"""

from branchline.proto.at_errors import MODEM, PERMANENT

MODEM_WAIT_MS = 24 * 3600 * 1000  # an answer a day late helps nobody: fail it then


class SmsOutbox:
    def __init__(self, backoff_s, modem_ids, remembered_sends):
        self.backoff_ms = [s * 1000 for s in backoff_s]
        self.items = {}  # out_id -> item dict (JSON-able)
        self._modem_index = {}
        for i, modem in enumerate(modem_ids):
            self._modem_index[modem] = i
        # (modem index << 8 | TP-MR) -> (record, part, ring slot); a record is
        # (out_id, conv_id, to, part states), shared by the parts of one message.
        self._refs = {}
        self._ring = [None] * remembered_sends  # the keys, in the order they came
        self._next_slot = 0

    def add(self, out_id, modem, to, text, conv_id, now):
        self.items[out_id] = {
            "modem": modem,
            "to": to,
            "text": text,
            "conv": conv_id,
            "attempts": 0,  # refusals that count against the backoff steps
            "retry_at": None,
            "since": now,
        }
        return self._effect(out_id)

    def _effect(self, out_id):
        item = self.items[out_id]
        return ("send_sms", out_id, item["modem"], item["to"], item["text"])

    def owed(self):
        """Send effects for items not waiting for a retry, oldest first."""
        return [self._effect(o) for o in sorted(self.items) if self.items[o]["retry_at"] is None]

    def next_due(self):
        times = [i["retry_at"] for i in self.items.values() if i["retry_at"] is not None]
        return min(times) if times else None

    def due(self, now):
        """Send effects for items whose retry time has come."""
        effects = []
        for out_id in sorted(self.items):
            item = self.items[out_id]
            if item["retry_at"] is not None and item["retry_at"] <= now:
                item["retry_at"] = None
                effects.append(self._effect(out_id))
        return effects

    def sent(self, out_id, modem, message_refs):
        """Every part was accepted: the item is done; remember its references."""
        item = self.items.pop(out_id)
        # The delivery of each part, as status reports tell it: "sent" until then.
        record = (out_id, item["conv"], item["to"], ["sent"] * len(message_refs))
        for part, mr in enumerate(message_refs):
            self._remember(self._key(modem, mr), record, part)
        return item

    def _key(self, modem, mr):
        return self._modem_index.get(modem, 0xFFFF) << 8 | (mr & 0xFF)

    def _remember(self, key, record, part):
        slot = self._next_slot
        self._next_slot = (slot + 1) % len(self._ring)
        old = self._ring[slot]
        # The oldest goes, unless its reference was reused since (then it went already).
        if old is not None and self._refs[old][2] == slot:
            del self._refs[old]
        self._ring[slot] = key
        self._refs[key] = (record, part, slot)

    def failed(self, out_id, kind, now):
        """A refusal: returns (item, retry_at) where retry_at is None when it failed for good."""
        item = self.items[out_id]
        if kind == MODEM:
            item["modem"] = None  # any modem that can send
            gave_up = now - item["since"] >= MODEM_WAIT_MS
            step = min(item["attempts"], len(self.backoff_ms) - 1)
        else:
            item["attempts"] += 1
            step = item["attempts"] - 1
            gave_up = kind == PERMANENT or step >= len(self.backoff_ms)
        if gave_up or not self.backoff_ms:
            del self.items[out_id]
            return item, None
        item["retry_at"] = now + self.backoff_ms[step]
        return item, item["retry_at"]

    def report(self, modem, mr, status, recipient=None):
        """A status report for one part: returns (out_id, conv_id, state, part states)
        with the message's state ("delivered" when every part arrived, "failed" when one
        failed, else "sent"), or None for a reference sent too long ago to remember, or
        one now reused for another number (a late report after TP-MR wrapped)."""
        found = self._refs.get(self._key(modem, mr))
        if found is None:
            return None
        record, part, _ = found
        out_id, conv_id, to, parts = record
        if recipient is not None and not same_number(recipient, to):
            return None
        if parts[part] in ("sent", "pending"):  # a final word is not taken back
            parts[part] = status
        if "failed" in parts:
            state = "failed"
        elif all(p == "delivered" for p in parts):
            state = "delivered"
        else:
            state = "sent"
        return out_id, conv_id, state, list(parts)


    def dump(self):
        """Items owed and the sent parts remembered (JSON-able: for snapshots)."""
        records = []
        index = {}
        refs = []
        for slot in range(len(self._ring)):
            key = self._ring[slot]
            if key is None or self._refs[key][2] != slot:
                continue  # unused, or reused since: the live entry has another slot
            record, part, _ = self._refs[key]
            if id(record) not in index:
                index[id(record)] = len(records)
                records.append(list(record))
            refs.append([slot, key, index[id(record)], part])
        items = [[out_id, self.items[out_id]] for out_id in sorted(self.items)]
        return {"items": items, "records": records, "refs": refs, "next_slot": self._next_slot}

    def load(self, doc):
        self.items.clear()  # in place: the branch shows it as its sms_outbox
        for out_id, item in doc["items"]:
            self.items[out_id] = item
        records = [tuple(r) for r in doc["records"]]
        self._refs = {}
        self._ring = [None] * len(self._ring)
        for slot, key, record, part in doc["refs"]:
            self._ring[slot] = key
            self._refs[key] = (records[record], part, slot)
        self._next_slot = doc["next_slot"]


def same_number(a, b):
    """The same phone, however written: +44 7700 900123 and 07700900123 match on their
    last nine digits (a national prefix or a country code is all that may differ)."""
    da = "".join(c for c in a if "0" <= c <= "9")
    db = "".join(c for c in b if "0" <= c <= "9")
    if not da or not db:
        return a == b  # alphanumeric: as written
    return da[-9:] == db[-9:]
