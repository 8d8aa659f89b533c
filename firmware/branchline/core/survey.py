"""Satisfaction surveys by SMS: which closed conversations get one, when it goes out,
and which reply answers it.

A conversation a desk closed in a queue with "survey": true is surveyed
`survey_delay_s` later, unless its customer was surveyed within `survey_cooldown_days`
(remembered for the last `remembered_surveys` customers: 45 bytes each) or wrote again
meanwhile. A reply that is a digit 1-5 within `survey_window_s` of the survey is its
answer and opens nothing; anything else is an ordinary message.
"""

import struct

from branchline.core.menu import normalise
from branchline.core.rings import _Ring
from branchline.fifo import Fifo

SCORES = ("1", "2", "3", "4", "5")
DAY_MS = 86400000


class Surveyed(_Ring):
    """The last `capacity` customers surveyed, newest last: number key, when the survey
    was scheduled (closed) or sent (ms), the conversation, its queue index and desk, its
    state, the modem and language indexes, and the number itself (to send to), zero
    padded. 41 bytes each, and the key's copy (see _Ring): 45. The cooldown, the
    sending and the answer window all read it, so nothing else is kept per survey but
    its offset in the pending list."""

    NUMBER_BYTES = 20
    WIDTH = 21 + NUMBER_BYTES
    KEY = 4
    _LAYOUT = "<IqIBBBBB"
    SCHEDULED, SENT, ANSWERED = 0, 1, 2

    def remember(self, key, t, conv_id, queue, desk, modem, lang, number):
        """-> the entry's offset (for the pending list), or None for a number too long
        to keep (no phone number is)."""
        raw = number.encode()
        if len(raw) > self.NUMBER_BYTES:
            return None
        at = self.WIDTH * self.next
        self._put(struct.pack(self._LAYOUT, key, t, conv_id, queue, desk, self.SCHEDULED,
                              modem, lang) + raw + bytes(self.NUMBER_BYTES - len(raw)))
        return at

    def entry(self, at):
        """-> (key, t, conv id, queue index, desk, state, modem index, lang index,
        number) at offset `at`."""
        fields = struct.unpack_from(self._LAYOUT, self.data, at)
        raw = bytes(self.data[at + 21:at + self.WIDTH])
        end = raw.find(b"\x00")
        return fields + ((raw if end < 0 else raw[:end]).decode(),)

    def newest(self, key):
        """-> (offset, t, conv id, queue index, desk, state) or None."""
        at = self._find_newest(struct.pack("<I", key))
        if at is None:
            return None
        return (at,) + struct.unpack_from(self._LAYOUT, self.data, at)[1:6]

    def mark(self, at, t, state):
        struct.pack_into("<q", self.data, at + 4, t)
        self.data[at + 18] = state


class Surveys:
    def __init__(self, cfg, queue_names, modem_ids, languages):
        self.enabled = {}
        for q in cfg["queues"]:
            self.enabled[q["name"]] = q.get("survey", False)
        self.queue_names = queue_names
        self.modem_ids = modem_ids
        self.languages = languages
        self.delay_ms = cfg["survey_delay_s"] * 1000
        self.window_ms = cfg["survey_window_s"] * 1000
        self.cooldown_ms = cfg["survey_cooldown_days"] * DAY_MS
        self.surveyed = Surveyed(cfg["remembered_surveys"])
        # [offset, conv id] of the ring entries still to send, in closing order (one
        # delay for all, so in due order too); an entry the ring has overwritten since
        # holds another conversation and is passed over.
        self.pending = Fifo()

    def closed(self, conv, key, now):
        """A desk closed `conv`: schedule its survey if it gets one."""
        if not self.enabled.get(conv.queue) or conv.desk is None or conv.kind != "sms":
            return
        last = self.surveyed.newest(key)
        if last is not None and now - last[1] < self.cooldown_ms:
            return
        modem = self.modem_ids.index(conv.modem) if conv.modem in self.modem_ids else 255
        at = self.surveyed.remember(key, now, conv.id, self.queue_names.index(conv.queue),
                                    conv.desk, modem, self.languages.index(conv.lang),
                                    conv.customer)
        if at is not None:
            self.pending.push([at, conv.id])

    def _pending_entry(self):
        """The first pending survey's ring entry, dropping those overwritten since."""
        while self.pending:
            at, conv_id = self.pending.first()
            entry = self.surveyed.entry(at)
            if entry[2] == conv_id and entry[5] == Surveyed.SCHEDULED:
                return entry
            self.pending.pop()
        return None

    def next_due(self):
        entry = self._pending_entry()
        return entry[1] + self.delay_ms if entry is not None else None

    def due(self, now):
        """The surveys to send now: [conv id, customer, modem, lang, queue, desk] each;
        their answers are awaited from now on."""
        out = []
        while True:
            entry = self._pending_entry()
            if entry is None or entry[1] + self.delay_ms > now:
                return out
            at = self.pending.pop()[0]
            _key, _t, conv_id, queue, desk, _state, modem, lang, number = entry
            self.surveyed.mark(at, now, Surveyed.SENT)
            out.append([conv_id, number, self.modem_ids[modem] if modem < len(
                self.modem_ids) else "", self.languages[lang], self.queue_names[queue], desk])

    def message(self, key, text, now):
        """A message from a customer with no conversation open: -> (score, conv id,
        queue, desk, language) when it answers the customer's survey. Otherwise the
        customer wrote again, and a survey not sent yet is not sent (one lookup for
        both: each new message asks)."""
        entry = self._newest(key)
        if entry is None:
            return None
        at, t, conv_id, queue, desk, state = entry
        if state == Surveyed.SENT and now - t <= self.window_ms:
            word = normalise(text)
            if word in SCORES:
                self.surveyed.mark(at, t, Surveyed.ANSWERED)
                lang = self.surveyed.entry(at)[7]
                return int(word), conv_id, self.queue_names[queue], desk, self.languages[lang]
        self._settle(entry)
        return None

    def erased(self, key):
        """The customer was erased: no survey goes out (the cooldown still counts)."""
        entry = self._newest(key)
        if entry is not None:
            self._settle(entry)

    def _newest(self, key):
        return self.surveyed.newest(key) if self.surveyed.count else None

    def _settle(self, entry):
        """No answer is awaited, and nothing is sent, for the survey of `entry`."""
        if entry[5] != Surveyed.ANSWERED:
            self.surveyed.mark(entry[0], entry[1], Surveyed.ANSWERED)

    def dump(self):
        return {"surveyed": self.surveyed.dump(), "pending": self.pending.items()}

    def load(self, doc):
        self.surveyed.load(doc["surveyed"])
        self.pending = Fifo(doc["pending"])
