"""Reassembly of concatenated SMS (3GPP TS 23.040 9.2.3.24.1 and .8): parts in, texts out.

Portable (CPython 3.11+ and MicroPython 1.22+) and deterministic: time comes in as
`now_ms`, and the state is a function of the `add`/`expire` calls alone, so replaying the
journaled parts with their journaled times rebuilds it after a restart. Iteration follows
arrival order kept in an explicit list, because MicroPython dicts are not
insertion-ordered.

A message is keyed on (sender, ref, total): 8-bit references collide in practice, and the
part count tells two messages with the same reference apart. 16-bit references work the
same way; the caller passes the int.

Nothing is dropped silently. Every accepted part ends up in exactly one `Complete`, which
`add` or `expire` returns:
- 'complete': the last missing part arrived;
- 'timeout': `expire` found the first part older than `timeout_ms`;
- 'evicted': a new message arrived while `max_messages` were pending, so the oldest
  one went out early (this bounds memory; `add` returns it alongside anything else);
- 'collision': a part arrived whose seq was already held with a different text, so
  the held message cannot be the same one; it goes out as it is and the newcomer
  starts a new message.
Missing parts show as GAP_MARKER in the text, one marker per run of consecutive
missing parts; `gaps` lists the missing seq numbers exactly.

A copy of a part that is already held is ignored and counted in `duplicates`. A copy that
arrives after its message went out is not recognised here: re-reads of stored messages
are the modem layer's fingerprints' job, and remembering old parts would swallow genuine
parts of a later message that reuses the reference with the same boilerplate (bulk
senders do). Such a copy starts a new message and comes out as a marked fragment, so
even then nothing is lost. Single-part messages (total 1) complete at once.

Memory: at most `max_messages` pending messages of at most `max_parts` parts each.
"""

GAP_MARKER = "[\u2026]"  # "[…]": where missing parts would be

MAX_REF = 0xFFFF
PART_LIMIT = 255  # the total field of the concatenation element is one octet


class ConcatError(ValueError):
    """A part whose numbering cannot belong to any message; the caller keeps its raw text."""


class Complete:
    """A message ready for the core: `text` is whole unless `gaps` lists missing parts or
    `truncated` says a part came cut short (the modem had only its beginning)."""

    __slots__ = ("sender", "ref", "total", "text", "parts", "first_ms", "last_ms", "gaps", "reason",
                 "truncated")

    def __init__(self, pending, reason):
        self.sender = pending.sender
        self.ref = pending.ref
        self.total = pending.total
        self.truncated = pending.truncated
        self.first_ms = pending.first_ms
        self.last_ms = pending.last_ms
        self.parts = len(pending.texts)
        self.reason = reason
        self.gaps = []
        out = []
        for seq in range(1, pending.total + 1):
            text = pending.texts.get(seq)
            if text is not None:
                out.append(text)
                continue
            if not self.gaps or self.gaps[-1] != seq - 1:
                out.append(GAP_MARKER)
            self.gaps.append(seq)
        self.text = "".join(out)

    def __repr__(self):
        return "Complete(%s ref=%d %d/%d gaps=%r)" % (self.reason, self.ref, self.parts, self.total, self.gaps)


class _Pending:
    __slots__ = ("sender", "ref", "total", "texts", "first_ms", "last_ms", "truncated")

    def __init__(self, sender, ref, total, now_ms):
        self.sender = sender
        self.ref = ref
        self.total = total
        self.truncated = False
        self.texts = {}  # seq -> text; order comes from seq, never from the dict
        self.first_ms = now_ms
        self.last_ms = now_ms


def _check_int(name, v, lo, hi):
    if not isinstance(v, int) or not lo <= v <= hi:
        raise ConcatError("%s must be an int in %d..%d, got %r" % (name, lo, hi, v))


class Reassembler:
    def __init__(self, timeout_ms, max_messages=64, max_parts=PART_LIMIT):
        _check_int("timeout_ms", timeout_ms, 1, 1 << 62)
        _check_int("max_messages", max_messages, 1, 1 << 30)
        _check_int("max_parts", max_parts, 1, PART_LIMIT)
        self.timeout_ms = timeout_ms
        self.max_messages = max_messages
        self.max_parts = max_parts
        self.duplicates = 0
        self._pending = {}  # key -> _Pending
        self._order = []  # pending keys, oldest first

    def add(self, sender, ref, total, seq, text, now_ms, truncated=False):
        """One part in -> the `Complete` messages now due: an empty list or one entry (a
        completed message, or the one evicted or flushed by a collision to make room).
        `truncated`: the part came cut short; its message will say so.

        Raises ConcatError (and changes nothing) when the numbering is impossible:
        total outside 1..max_parts, seq outside 1..total, ref outside 0..65535.
        """
        if not isinstance(sender, str) or not isinstance(text, str):
            raise ConcatError("sender and text must be str")
        _check_int("ref", ref, 0, MAX_REF)
        _check_int("total", total, 1, self.max_parts)
        _check_int("seq", seq, 1, total)
        if total == 1:
            single = _Pending(sender, ref, 1, now_ms)
            single.texts[1] = text
            single.truncated = truncated
            return [Complete(single, "complete")]
        key = (sender, ref, total)
        out = []
        p = self._pending.get(key)
        if p is not None:
            held = p.texts.get(seq)
            if held == text:
                self.duplicates += 1
                return out
            if held is not None:
                out.append(self._flush(key, "collision"))
                p = None
        if p is None:
            if len(self._order) >= self.max_messages:
                out.append(self._flush(self._order[0], "evicted"))
            p = _Pending(sender, ref, total, now_ms)
            self._pending[key] = p
            self._order.append(key)
        p.texts[seq] = text
        p.truncated = p.truncated or truncated
        p.last_ms = now_ms
        if len(p.texts) == total:
            out.append(self._flush(key, "complete"))
        return out

    def expire(self, now_ms):
        """Messages whose first part is `timeout_ms` old or older, with their gaps marked."""
        out = []
        for key in list(self._order):
            if now_ms - self._pending[key].first_ms >= self.timeout_ms:
                out.append(self._flush(key, "timeout"))
        return out

    def dump(self):
        """The pending parts, oldest message first (JSON-able: for snapshots)."""
        out = []
        for key in self._order:
            p = self._pending[key]
            texts = [[seq, p.texts[seq]] for seq in sorted(p.texts)]
            out.append([p.sender, p.ref, p.total, p.first_ms, p.last_ms, p.truncated, texts])
        return {"duplicates": self.duplicates, "pending": out}

    def load(self, doc):
        self.duplicates = doc["duplicates"]
        self._pending = {}
        self._order = []
        for sender, ref, total, first_ms, last_ms, truncated, texts in doc["pending"]:
            p = _Pending(sender, ref, total, first_ms)
            p.last_ms = last_ms
            p.truncated = truncated
            for seq, text in texts:
                p.texts[seq] = text
            key = (sender, ref, total)
            self._pending[key] = p
            self._order.append(key)

    def pending(self):
        """Summary for status pages, oldest first."""
        out = []
        for key in self._order:
            p = self._pending[key]
            missing = [s for s in range(1, p.total + 1) if s not in p.texts]
            out.append({"sender": p.sender, "ref": p.ref, "total": p.total, "received": len(p.texts),
                        "missing": missing, "first_ms": p.first_ms, "last_ms": p.last_ms})
        return out

    def _flush(self, key, reason):
        self._order.remove(key)
        return Complete(self._pending.pop(key), reason)
