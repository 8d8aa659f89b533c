"""Fixed-size memories in flat bytes, for what the core must remember about many past
events at a cost it can afford on an ESP32: an entry is a few bytes in one bytearray,
where a Python object per entry costs tens (a short str alone is ~20 bytes on a 32-bit
MicroPython, a dict entry 8 more). The oldest entry gives way to the newest.
"""

import struct
from binascii import a2b_base64, b2a_base64

try:
    from hashlib import sha256
except ImportError:  # MicroPython ports that name it so
    from uhashlib import sha256


class _Ring:
    """`capacity` slots of WIDTH bytes; `next` is where the next entry goes.

    KEY: the bytes at the start of an entry that lookups search for (0: the whole
    entry is searched, as a fingerprint's). A ring with a KEY keeps a copy of each
    entry's key side by side in `keys`, so a lookup scans KEY bytes an entry, not WIDTH
    (a survey entry is 41 bytes for a 4-byte key: it costs 4 bytes an entry more)."""

    WIDTH = 1
    KEY = 0

    def __init__(self, capacity):
        self.capacity = capacity
        self.data = bytearray(self.WIDTH * capacity)
        self.keys = bytearray(self.KEY * capacity)
        self.next = 0
        self.count = 0  # slots in use: capacity once the ring has gone round

    def _put(self, entry):
        slot = self.next
        at = self.WIDTH * slot
        self.data[at:at + self.WIDTH] = entry
        if self.KEY:
            self.keys[self.KEY * slot:self.KEY * (slot + 1)] = entry[:self.KEY]
        self.next = (slot + 1) % self.capacity
        self.count = min(self.count + 1, self.capacity)

    def _set_key(self, at, key):
        """Overwrite the key of the entry at offset `at` (both copies)."""
        self.data[at:at + self.KEY] = key
        slot = at // self.WIDTH
        self.keys[self.KEY * slot:self.KEY * (slot + 1)] = key

    def _newest_first(self):
        """Offsets of the used slots, newest first."""
        for back in range(1, self.count + 1):
            yield self.WIDTH * ((self.next - back) % self.capacity)

    def _find_newest(self, key):
        """-> the offset of the newest entry that begins with `key` (KEY bytes, in a
        ring with a KEY), or None."""
        stride = self.KEY or self.WIDTH
        where = self.keys if self.KEY else self.data
        end = stride * self.count
        best = None
        best_age = self.capacity
        at = where.find(key, 0, end)
        while at >= 0:
            if at % stride == 0:  # a match across two slots is none
                age = (self.next - 1 - at // stride) % self.capacity
                if age < best_age:
                    best, best_age = at // stride * self.WIDTH, age
            at = where.find(key, at + 1, end)
        return best

    def dump(self):
        # Only the slots in use (a ring that has not gone round is mostly zeros).
        used = self.data[:self.WIDTH * self.count]
        return [self.next, self.count, b2a_base64(used).decode().strip()]

    def load(self, doc):
        self.next, self.count = doc[0], doc[1]
        used = a2b_base64(doc[2].encode())
        self.data[:len(used)] = used
        for slot in range(self.KEY and self.count):
            at = self.WIDTH * slot
            self.keys[self.KEY * slot:self.KEY * (slot + 1)] = self.data[at:at + self.KEY]


class Fingerprints(_Ring):
    """The last `capacity` message fingerprints: has a stored message been taken
    already? (A modem re-reads what it still holds after a crash.) 8 bytes each."""

    WIDTH = 8

    @staticmethod
    def key(fp):
        """Eight bytes of the fingerprint's SHA-256: two different messages collide
        about once in 2**64, and no runtime's own str hash is involved."""
        return sha256(fp.encode()).digest()[:8]

    def __contains__(self, fp):
        key = self.key(fp)
        end = self.WIDTH * self.count
        at = self.data.find(key, 0, end)
        while at >= 0:
            if at % self.WIDTH == 0:
                return True
            at = self.data.find(key, at + 1, end)  # a match across two slots is none
        return False

    def add(self, fp):
        self._put(self.key(fp))


class RecentCustomers(_Ring):
    """The queue each of the last `capacity` customers wrote to, so that a missed call
    lands where that customer's topic is handled. An entry is the number (UTF-8, at
    most NUMBER_BYTES, zero-padded) and a queue index byte: 21 bytes. Lookups scan
    newest first: a missed call is rare, a message is not."""

    NUMBER_BYTES = 20
    WIDTH = NUMBER_BYTES + 1

    def _number(self, number):
        raw = number.encode()
        if len(raw) > self.NUMBER_BYTES:
            return None  # no phone number is this long: nobody to call back
        return raw + bytes(self.NUMBER_BYTES - len(raw))

    def remember(self, number, queue):
        raw = self._number(number)
        if raw is not None:
            self._put(raw + bytes((queue,)))

    def forget(self, number):
        """Zero every entry of `number` (an erased customer)."""
        raw = self._number(number)
        for at in self._newest_first():
            if raw is not None and self.data[at:at + self.NUMBER_BYTES] == raw:
                self.data[at:at + self.WIDTH] = bytes(self.WIDTH)

    def last_queue(self, number):
        """The queue index `number` last wrote to, or None."""
        raw = self._number(number)
        if raw is None:
            return None
        for at in self._newest_first():
            if self.data[at:at + self.NUMBER_BYTES] == raw:
                return self.data[at + self.NUMBER_BYTES]
        return None


class SentParts(_Ring):
    """The last `capacity` SMS parts a modem accepted, found by (modem index, TP-MR) for
    their status reports; the newest send with a reference wins (TP-MR is one octet and
    wraps). 17 bytes each: modem index, TP-MR, part, parts, part state, out id,
    conversation id, and the recipient's `number_key` (sms_outbox.py)."""

    WIDTH = 17
    _LAYOUT = "<BBBBBIII"
    _STATE_AT = 4
    STATES = ("sent", "pending", "delivered", "failed")

    def remember(self, modem, mr, part, parts, out_id, conv_id, to_key):
        self._put(struct.pack(self._LAYOUT, modem, mr & 0xFF, part, parts, 0, out_id,
                              conv_id, to_key))

    def find(self, modem, mr):
        """-> the offset of the newest entry for (modem, mr), or None."""
        return self._find_newest(bytes((modem, mr & 0xFF)))

    def entry(self, at):
        """-> (part, parts, state, out id, conversation id, recipient key) at `at`."""
        _m, _mr, part, parts, state, out_id, conv_id, to_key = struct.unpack_from(
            self._LAYOUT, self.data, at)
        return part, parts, self.STATES[state], out_id, conv_id, to_key

    def set_state(self, at, state):
        self.data[at + self._STATE_AT] = self.STATES.index(state)

    def states(self, at):
        """Each part's state of the message the entry at `at` belongs to: its parts were
        remembered side by side; one the ring has overwritten since counts as "sent"."""
        part, parts, _state, out_id, _conv, _to = self.entry(at)
        first = at // self.WIDTH - part
        out = []
        for i in range(parts):
            slot = (first + i) % self.capacity
            state = "sent"
            if slot < self.count:
                p, _n, s, o, _c, _t = self.entry(slot * self.WIDTH)
                if o == out_id and p == i:
                    state = s
            out.append(state)
        return out


class RecentCloses(_Ring):
    """The last `capacity` conversations a desk or the menu closed, found by the
    customer's `number_key` so that a customer writing again soon reopens the same one
    (same thread, same desk). 20 bytes each: number key, conversation id, when it
    closed (ms), desk (0: none), queue index, language index, and whether the menu
    alone solved it; and the key's copy (see _Ring): 24 bytes."""

    WIDTH = 20
    KEY = 4
    _LAYOUT = "<IIqBBBB"
    _GONE = 0  # an erased or reopened entry's key: no customer's (number_key is a CRC)

    def remember(self, key, conv_id, closed_at, desk, queue, lang, contained):
        self._put(struct.pack(self._LAYOUT, key, conv_id, closed_at, desk or 0, queue, lang,
                              1 if contained else 0))

    def find(self, key):
        """-> (conversation id, closed at, desk or None, queue index, language index,
        contained) of the customer's newest close, or None."""
        if key == self._GONE:
            return None
        at = self._find_newest(struct.pack("<I", key))
        if at is None:
            return None
        _k, conv_id, closed_at, desk, queue, lang, contained = struct.unpack_from(
            self._LAYOUT, self.data, at)
        return conv_id, closed_at, desk or None, queue, lang, contained == 1

    def forget(self, key):
        """The customer's closes can no longer be reopened (reopened, or erased)."""
        packed = struct.pack("<I", key)
        at = self._find_newest(packed)
        while at is not None:
            self._set_key(at, struct.pack("<I", self._GONE))
            at = self._find_newest(packed)


class Preferences(_Ring):
    """What the console set on a customer's profile that the core acts on, for the last
    `capacity` customers it was set for: VIP (queued ahead, as vip_numbers) and the
    preferred language. 6 bytes each: number key, VIP flag, language index (255: none).
    The newest entry for a customer holds all of it."""

    WIDTH = 6
    NO_LANG = 255

    def remember(self, key, vip, lang):
        self._put(struct.pack("<IBB", key, 1 if vip else 0, self.NO_LANG if lang is None else lang))

    def find(self, key):
        """-> (vip, language index or None), or None when nothing was set."""
        at = self._find_newest(struct.pack("<I", key))
        if at is None:
            return None
        vip, lang = self.data[at + 4], self.data[at + 5]
        return vip == 1, None if lang == self.NO_LANG else lang
