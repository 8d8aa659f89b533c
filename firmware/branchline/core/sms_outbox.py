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
newest send with a reference wins. Cost: 17 bytes per part remembered, in one
bytearray (core/rings.py's SentParts).
"""

from binascii import crc32

from branchline.core.rings import SentParts
from branchline.proto.at_errors import MODEM, PERMANENT

MODEM_WAIT_MS = 24 * 3600 * 1000  # an answer a day late helps nobody: fail it then


class SmsOutbox:
    def __init__(self, backoff_s, modem_ids, remembered_sends):
        self.backoff_ms = [s * 1000 for s in backoff_s]
        self.items = {}  # out_id -> item dict (JSON-able)
        self._modem_index = {}
        for i, modem in enumerate(modem_ids):
            self._modem_index[modem] = i
        self._sent = SentParts(remembered_sends)

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
        to_key = number_key(item["to"])
        parts = len(message_refs)
        for part, mr in enumerate(message_refs):
            self._sent.remember(self._modem(modem), mr, part, parts, out_id, item["conv"],
                                to_key)
        return item

    def _modem(self, modem):
        return self._modem_index.get(modem, 0xFF)

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
        at = self._sent.find(self._modem(modem), mr)
        if at is None:
            return None
        _part, _parts, state, out_id, conv_id, to_key = self._sent.entry(at)
        if recipient is not None and number_key(recipient) != to_key:
            return None
        if state in ("sent", "pending"):  # a final word is not taken back
            self._sent.set_state(at, status)
        parts = self._sent.states(at)
        if "failed" in parts:
            state = "failed"
        elif all(p == "delivered" for p in parts):
            state = "delivered"
        else:
            state = "sent"
        return out_id, conv_id, state, parts


    def dump(self):
        """Items owed and the sent parts remembered (JSON-able: for snapshots)."""
        items = [[out_id, self.items[out_id]] for out_id in sorted(self.items)]
        return {"items": items, "sent": self._sent.dump()}

    def load(self, doc):
        self.items.clear()  # in place: the branch shows it as its sms_outbox
        for out_id, item in doc["items"]:
            self.items[out_id] = item
        self._sent.load(doc["sent"])


def number_key(number):
    """The phone behind a number, as 32 bits to keep per part sent: +44 7700 900123 and
    07700900123 give the same key, from their last nine digits (a national prefix or a
    country code is all that may differ); an alphanumeric sender counts as written.
    Two different phones share a key once in 2**32."""
    if number == _memo[0]:  # an event asks about its customer several times
        return _memo[1]
    raw = number.encode()
    digits = raw[1:] if raw[:1] == b"+" else raw
    if not digits.isdigit():  # bytes: ASCII digits only, on every runtime
        digits = bytes(c for c in raw if 48 <= c <= 57)
    key = crc32(b"d" + digits[-9:] if digits else b"s" + raw) & 0xFFFFFFFF
    _memo[0], _memo[1] = number, key
    return key


_memo = [None, 0]  # the last number_key asked for, and its key
