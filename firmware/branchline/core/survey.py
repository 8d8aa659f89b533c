"""Satisfaction surveys by SMS: which closed conversations get one, when it goes out,
and which reply answers it.

A conversation a desk closed in a queue with "survey": true is surveyed
`survey_delay_s` later, unless its customer was surveyed within `survey_cooldown_days`
(remembered for the last `remembered_surveys` customers: 12 bytes each) or wrote again
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
    """When each of the last `capacity` customers was surveyed: number key, ms."""

    WIDTH = 12

    def remember(self, key, t):
        self._put(struct.pack("<Iq", key, t))

    def last(self, key):
        at = self._find_newest(struct.pack("<I", key))
        return None if at is None else struct.unpack_from("<q", self.data, at + 4)[0]


class Surveys:
    def __init__(self, cfg):
        self.enabled = {}
        for q in cfg["queues"]:
            self.enabled[q["name"]] = q.get("survey", False)
        self.delay_ms = cfg["survey_delay_s"] * 1000
        self.window_ms = cfg["survey_window_s"] * 1000
        self.cooldown_ms = cfg["survey_cooldown_days"] * DAY_MS
        self.surveyed = Surveyed(cfg["remembered_surveys"])
        # [due, conv id, customer, modem, lang, queue, desk] in closing order (the delay
        # is the same for all, so due times are in order too).
        self.pending = Fifo()
        # customer -> [sent at, conv id, queue, desk]: surveys waiting for their answer.
        self.awaiting = {}

    def closed(self, conv, key, now):
        """A desk closed `conv`: schedule its survey if it gets one."""
        if not self.enabled.get(conv.queue) or conv.desk is None or conv.kind != "sms":
            return
        last = self.surveyed.last(key)
        if last is not None and now - last < self.cooldown_ms:
            return
        self.surveyed.remember(key, now)  # at scheduling: two closes, one survey
        self.pending.push([now + self.delay_ms, conv.id, conv.customer, conv.modem, conv.lang,
                           conv.queue, conv.desk])

    def next_due(self):
        times = []
        if self.pending:
            times.append(self.pending.first()[0])
        for entry in self.awaiting.values():
            times.append(entry[0] + self.window_ms)
        return min(times) if times else None

    def due(self, now):
        """The surveys to send now: [conv id, customer, modem, lang, queue, desk] each;
        they wait for their answers from now on. Unanswered ones past the window go."""
        out = []
        while self.pending and self.pending.first()[0] <= now:
            _due, conv_id, customer, modem, lang, queue, desk = self.pending.pop()
            self.awaiting[customer] = [now, conv_id, queue, desk]
            out.append([conv_id, customer, modem, lang, queue, desk])
        for customer in sorted(self.awaiting):
            if self.awaiting[customer][0] + self.window_ms <= now:
                del self.awaiting[customer]
        return out

    def answer(self, customer, text, now):
        """-> (score, conv id, queue, desk) when `text` answers the customer's survey."""
        entry = self.awaiting.get(customer)
        if entry is None or now - entry[0] > self.window_ms:
            return None
        word = normalise(text)
        if word not in SCORES:
            return None
        del self.awaiting[customer]
        return int(word), entry[1], entry[2], entry[3]

    def wrote_again(self, customer):
        """The customer wrote again (a new or reopened conversation) before the survey
        went out: none about the one before. Rare, so the list's O(n) is fine."""
        for entry in self.pending.items():
            if entry[2] == customer:
                self.pending.remove(entry)

    def forget(self, customer):
        """An erased customer: no survey pending or awaited."""
        self.wrote_again(customer)
        self.awaiting.pop(customer, None)

    def dump(self):
        return {"surveyed": self.surveyed.dump(), "pending": self.pending.items(),
                "awaiting": [[c] + self.awaiting[c] for c in sorted(self.awaiting)]}

    def load(self, doc):
        self.surveyed.load(doc["surveyed"])
        self.pending = Fifo(doc["pending"])
        self.awaiting = {}
        for entry in doc["awaiting"]:
            self.awaiting[entry[0]] = entry[1:]
