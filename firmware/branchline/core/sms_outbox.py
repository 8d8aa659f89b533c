"""The SMS the branch owes its customers: in flight, waiting for a retry, and what the
network later said about their delivery. Portable and deterministic (time passed in).

An item stays until a modem accepted every part of it or it failed for good:
- a temporary refusal (network busy, timeout) retries after the next backoff step;
- a modem refusal (no SIM, not registered) retries the same way, through any modem;
- a permanent refusal (bad number, barred) or running out of steps fails it.
A modem refusal is not the message's fault, so it never uses up the steps: the message
waits (at the last step's pace) until a modem can send it, for at most MODEM_WAIT_MS.
Accepted messages are remembered by (modem, TP-MR) for a while, so status reports can be
matched to them; TP-MR is one octet and wraps, so the newest send with a reference wins.
"""

from branchline.proto.at_errors import MODEM, PERMANENT

RECENT_REFS = 1024
MODEM_WAIT_MS = 24 * 3600 * 1000  # an answer a day late helps nobody: fail it then


class SmsOutbox:
    def __init__(self, backoff_s):
        self.backoff_ms = [s * 1000 for s in backoff_s]
        self.items = {}  # out_id -> item dict (JSON-able)
        self._refs = {}  # "modem:mr" -> [out_id, conv_id, parts, delivered count, state]
        self._ref_order = []  # keys of _refs, oldest first (bounded)

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
        record = {
            "out": out_id,
            "conv": item["conv"],
            "to": item["to"],
            "parts": ["sent"] * len(message_refs),
        }
        for part, mr in enumerate(message_refs):
            key = "%s:%d" % (modem, mr)
            if key in self._refs:
                self._ref_order.remove(key)
            self._refs[key] = (record, part)
            self._ref_order.append(key)
        while len(self._ref_order) > RECENT_REFS:
            del self._refs[self._ref_order.pop(0)]
        return item

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
        found = self._refs.get("%s:%d" % (modem, mr))
        if found is None:
            return None
        record, part = found
        if recipient is not None and not same_number(recipient, record["to"]):
            return None
        parts = record["parts"]
        if parts[part] in ("sent", "pending"):  # a final word is not taken back
            parts[part] = status
        if "failed" in parts:
            state = "failed"
        elif all(p == "delivered" for p in parts):
            state = "delivered"
        else:
            state = "sent"
        return record["out"], record["conv"], state, list(parts)


def same_number(a, b):
    """The same phone, however written: +44 7700 900123 and 07700900123 match on their
    last nine digits (a national prefix or a country code is all that may differ)."""
    da = "".join(c for c in a if "0" <= c <= "9")
    db = "".join(c for c in b if "0" <= c <= "9")
    if not da or not db:
        return a == b  # alphanumeric: as written
    return da[-9:] == db[-9:]
