"""A deterministic stream of branch events for the core's benchmarks: customers write,
desks take their conversations up, answer and close them, go on break and come back.

The stream is generated against the core it feeds (`Scenario.step(core)`), so a close
names a conversation that is open, a reply one that a desk holds; `keep_open` holds the
number of open conversations steady (a new customer for every close) so that the cost
per event can be measured at a given load. Seeded xorshift32: the same stream on every
run and runtime.
"""

MINUTE = 60000
# What customers write, in the scripts and characters where runtimes tend to differ
# (JSON escaping of non-ASCII, emoji as surrogate pairs, non-ASCII white space).
TEXTS = (
    "Hello, a question about topic%d please",
    "\u4f60\u597d\uff0c\u6211\u60f3\u95ee\u4e00\u4e0b topic%d \u7684\u95ee\u9898",
    "topic%d \U0001f44d thanks \u2014 \"quoted\" \\ back-slashed\ttabbed",
    "\u0661\u0662 topic%d \u00e9t\u00e9",
)
REPLIES = ("Thanks, let me check.", "\u597d\u7684\uff0c\u9a6c\u4e0a\u67e5\u3002",
           "\u3000\u3000")  # the last is blank everywhere: refused on every runtime


class XorShift32:
    def __init__(self, seed=2463534242):
        self.state = seed

    def below(self, n):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x % n


def config(n_desks=20, n_queues=4, queue_capacity=2048, **extra):
    """A branch of `n_desks` desks (caps 1-3) over `n_queues` queues, no modems."""
    queues = [{"name": "q%d" % i, "keywords": ["topic%d" % i]} for i in range(n_queues)]
    desks = []
    for d in range(n_desks):
        served = ["q%d" % (d % n_queues), "q%d" % ((d + 1) % n_queues)]
        desks.append({"desk": d + 1, "cap": 1 + d % 3, "queues": sorted(set(served))})
    doc = {"site": "bench", "device": "bench-1", "modems": [], "queues": queues,
           "desks": desks, "queue_capacity": queue_capacity, "offer_timeout_s": 120,
           "max_missed_offers": 0}
    doc.update(extra)
    return doc


def service_config(n_desks=20, n_queues=4, queue_capacity=2048, **extra):
    """`config` with the service layer on: two languages, opening hours (every day,
    all day, so the stream's offers are those of `config`), a menu whose options lead
    to the queues, surveys and position messages in every queue."""
    doc = config(n_desks, n_queues, queue_capacity, **extra)
    days = {}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        days[day] = ["00:00-12:00", "12:00-24:00"]
    options = {}
    for i in range(n_queues):
        options[str(i + 1)] = {"queue": "q%d" % i}
    options["9"] = {"answer": {"en": "We are open {branch_hours}.", "zh": "营业时间 {branch_hours}。"}}
    for q in doc["queues"]:
        q["survey"] = True
        q["position_updates"] = True
    doc.update({
        "languages": ["en", "zh"], "timezone": "HKT-8",
        "hours": {"weekly": days, "holidays": ["2030-01-01"]},
        "menu": {"handoff_keywords": ["0", "agent", "人工"],
                 "root": {"prompt": {"en": "Reply 1-%d for a topic, 0 for an agent" % n_queues,
                                     "zh": "回复1-%d 选择业务, 0 人工" % n_queues},
                          "options": options}},
        "survey_delay_s": 60, "max_position_sms": 1,
    })
    return doc


class _Bag:
    """A set with O(1) add, remove and random pick (the scenario's bookkeeping must not
    cost more than the core it measures)."""

    def __init__(self):
        self.items = []
        self._at = {}

    def add(self, x):
        if x not in self._at:
            self._at[x] = len(self.items)
            self.items.append(x)

    def discard(self, x):
        i = self._at.pop(x, None)
        if i is not None:
            last = self.items.pop()
            if i < len(self.items):
                self.items[i] = last
                self._at[last] = i

    def pick(self, rng):
        return self.items[rng.below(len(self.items))]


class Scenario:
    """Events for a core built from `config(...)`, starting at `t0` (ms). It follows the
    core by the effects each event returns (`observe`), never by scanning it."""

    def __init__(self, n_desks, n_queues, t0=1796169600000, seed=2463534242, gap_ms=2000,
                 menu=False):
        self.rng = XorShift32(seed)
        self.gap_ms = gap_ms  # events come 1..gap_ms apart (a year: some seconds)
        self.n_desks = n_desks
        self.n_queues = n_queues
        self.t = t0
        self.next_customer = 1
        self.offered = _Bag()  # conversation ids a desk holds, not yet taken up
        self.active = _Bag()
        self.customers = _Bag()  # customers with an open conversation
        self.open = 0
        self.owed = []  # what the adapters report back: SMS sent, uplinks acknowledged
        self.messages = 0
        self.next_mr = 0
        self.menu = menu  # a new customer answers the menu's prompt with their topic
        self._topic = 0
        self._ticked = None  # the time of the last tick `due` asked for

    def _customer(self):
        self.next_customer += 1
        return "+4477%08d" % self.next_customer

    def sms(self, customer=None, topic=None):
        topic = self.rng.below(self.n_queues) if topic is None else topic
        self._topic = topic
        text = TEXTS[self.rng.below(len(TEXTS))] % topic
        # Every message has its fingerprint, and now and then one is read again (as a
        # modem re-reads what it still holds after a crash): the core must drop it.
        self.messages += 1
        n = self.messages - self.rng.below(3) if self.rng.below(20) == 0 else self.messages
        return {"k": "sms_in", "t": self.t, "modem": "m0", "from": customer or self._customer(),
                "text": text, "fp": "m0:%08x" % n}

    def desks_in(self):
        return [{"k": "presence", "t": self.t, "desk": d + 1, "state": "available"}
                for d in range(self.n_desks)]

    def observe(self, event, effects, open_count):
        """Learn from what the core did with `event`."""
        if event["k"] == "sms_in" and open_count > self.open:
            self.customers.add(event["from"])
            if self.menu:  # the prompt comes back: the customer picks the topic's option
                self.messages += 1
                self.owed.append({"k": "sms_in", "t": self.t, "modem": "m0",
                                  "from": event["from"], "text": str(self._topic + 1),
                                  "fp": "m0:%08x" % self.messages})
        self.open = open_count
        for effect in effects:
            kind = effect[0]
            if kind == "offered":
                self.active.discard(effect[1])
                self.offered.add(effect[1])
            elif kind == "accepted":
                self.offered.discard(effect[1])
                self.active.add(effect[1])
            elif kind == "returned":
                self.offered.discard(effect[1])
                self.active.discard(effect[1])
            elif kind == "uplink":
                self.owed.append({"k": "uplink_ack", "t": self.t, "seq": effect[1]})
                if effect[2] == "session":
                    session = effect[3]["session"]
                    self.offered.discard(session["id"])
                    self.active.discard(session["id"])
                    self.customers.discard(session["customer"])
            elif kind == "send_sms":
                self.next_mr = (self.next_mr + 1) & 0xFF
                self.owed.append({"k": "sms_sent", "t": self.t, "out": effect[1], "ok": True,
                                  "modem": "m0", "mr": [self.next_mr]})

    def step(self, keep_open=None, due=None):
        """The next event, keeping `keep_open` conversations open if given. What the
        modem and the broker owe comes first, as it would a moment later. `due`, if
        given, is the core's `next_due()`: once it has come, a tick comes next, as the
        gateway's timer sends one (without it, ticks come at random, now and then, and
        what falls due in between waits for one: surveys pile up)."""
        if self.owed:
            ev = self.owed.pop(0)
            ev["t"] = self.t
            return ev
        if due is not None and due <= self.t and self._ticked != self.t:
            self._ticked = self.t  # once per moment: what a tick left due waits
            return {"k": "tick", "t": self.t}
        self.t += 1 + self.rng.below(self.gap_ms)
        k = self.rng.below(100)
        if keep_open is not None and self.open < keep_open:
            return self.sms()
        held = self.active if self.active.items else self.offered
        if k < 15 and self.offered.items:
            return {"k": "accept", "t": self.t, "conv": self.offered.pick(self.rng)}
        if k < 35 and held.items:
            return {"k": "reply", "t": self.t, "conv": held.pick(self.rng),
                    "text": REPLIES[self.rng.below(len(REPLIES))]}
        if k < 55 and held.items:
            return {"k": "close", "t": self.t, "conv": held.pick(self.rng)}
        if k < 70 and self.customers.items:
            return self.sms(self.customers.pick(self.rng))
        if k < 73:
            desk = 1 + self.rng.below(self.n_desks)
            state = ("available", "break", "available")[self.rng.below(3)]
            return {"k": "presence", "t": self.t, "desk": desk, "state": state}
        if k < 74:
            return {"k": "tick", "t": self.t}
        if k < 75:
            return {"k": "metrics", "t": self.t}  # figures, as every metrics_interval_s
        if keep_open is not None and self.open >= keep_open and held.items:
            return {"k": "close", "t": self.t, "conv": held.pick(self.rng)}  # one out, one in
        return self.sms()


def apply_checked(core, ev):
    """Apply `ev` as the gateway does: an event the core refuses is not journaled and
    changes nothing (-> None), else its effects."""
    try:
        core.check(ev)
    except ValueError:  # branch.Rejected
        return None
    return core.apply(ev)


def digest_day(make_core, n_events, keep_open=None, heap=None, sample_every=50):
    """Run `n_events` of the stream through `make_core()`; -> (digest, events, heap peak).

    The digest covers every journal record (the events as the journal encodes them)
    and every effect the core returned (uplink payloads included), in the one JSON
    encoding: equal digests mean byte-identical runs. `heap`, if given, is called every
    `sample_every` events and its largest answer is returned (MicroPython: live bytes)."""
    from branchline.core import journal, jsonfmt

    try:
        from hashlib import sha256
    except ImportError:  # a MicroPython port built without hashlib
        from uhashlib import sha256
    h = sha256()
    core = make_core()
    scenario = Scenario(len(core.desks), len(core.queue_names))
    peak = 0
    n = 0
    for ev in scenario.desks_in():
        h.update(journal.encode(ev))
        h.update(jsonfmt.encode(core.apply(ev)))
    while n < n_events:
        ev = scenario.step(keep_open=keep_open)
        effects = apply_checked(core, ev)
        if effects is None:
            h.update(b"refused")
        else:
            h.update(journal.encode(ev))
            h.update(jsonfmt.encode(effects))
        scenario.observe(ev, effects or (), len(core.conversations))
        n += 1
        if heap is not None and n % sample_every == 0:
            peak = max(peak, heap())
    return "".join("%02x" % b for b in h.digest()), n, peak
