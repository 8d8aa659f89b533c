"""The branch: a deterministic state machine from journaled events to effects.

Every input is an event: a plain dict with a kind `k` and a time `t` (ms since the Unix
epoch), exactly as it is stored in the journal. `apply(event)` changes state and returns
effects for the adapters to carry out:

    ("send_sms", out_id, modem, number, text)   send, then report event sms_sent
    ("uplink", seq, kind, payload)              publish, then report event uplink_ack
    ("led", desk, state)                        set a desk's LED on the panel
    ("offered", conv_id, desk)                  offered to a desk (not answered until accepted)
    ("accepted", conv_id, desk)                 the desk took it up (accept or first reply)
    ("returned", conv_id, desk)                 the desk lost it (offer timeout, transfer...)
    ("missed_break", desk)                      the desk went on break after missed offers
    ("delivery", conv_id, out_id, state)        an open conversation's SMS is sent, retrying,
                                                delivered or failed (the console shows it)
    ("refused", reason)                         the router would not do what was asked
    ("history", op, body)                       for the customer history index (core/history.py)
    ("erase", number, pseudonym)                rewrite the journal without the number
                                                (core/erasure.py), then snapshot

The router places conversations; the branch follows it by the outputs every router call
returns (what the router did on its own: offers, returns, timeouts, expiries), never by
scanning the conversations, so an event costs the same with 10 or 5,000 open.

Work the outside world must still do (SMS not yet sent, uplinks not yet acknowledged)
lives in outboxes that are part of the state, so replaying the journal after a power cut
rebuilds them and `pending_effects()` hands them out again: nothing is lost.

core/events.py lists the event kinds and their fields.
"""

from binascii import a2b_base64, b2a_base64

from branchline.core import concat, events, jsonfmt, templates
from branchline.core.conversation import HELD, HELD_OR_WAITING, OUTCOMES, Conversation
from branchline.core.desks import Desks
from branchline.core.language import LANGUAGES, pick
from branchline.core.later import Later
from branchline.core.metrics import Metrics
from branchline.core.position import Positions
from branchline.core.rings import Fingerprints, Preferences, RecentCloses, RecentCustomers
from branchline.core.service import Service
from branchline.core.survey import Surveys
from branchline.core.sms_outbox import SmsOutbox, number_key
from branchline.fifo import Fifo
from branchline.proto import pdu
from branchline.text import ascii_lower, bare, is_blank
from branchline.core.routing import build_router
from branchline.router import (
    ABANDONED,
    AVAILABLE,
    BREAK,
    OFFLINE,
    OUT_EXPIRED,
    OUT_FORGOTTEN,
    OUT_MISSED_BREAK,
    OUT_OFFER,
    OUT_OFFER_TIMEOUT,
    OUT_OVERFLOW,
    OUT_RETURNED,
    OUT_WRAPUP_END,
    REASON_MISSED,
    REMOTE,
    WRAPUP,
    QueueFull,
    RouterError,
)

PRESENCE_NAMES = {OFFLINE: "offline", AVAILABLE: "available", BREAK: "break", WRAPUP: "wrapup"}
# What a desk or the console may ask for (events.PRESENCE_STATES; wrap-up only comes
# after a close).
PRESENCE_BY_NAME = {"offline": OFFLINE, "available": AVAILABLE, "break": BREAK}
QUARANTINE = 16  # undecodable messages kept in the state
REASON_PANEL = 1  # break reason of the panel's BREAK button (the console names others)
# A pre-event tick pass can make more due at the same time (a conversation returned past
# its queue's max wait); it settles in a pass or two, this bounds a router gone wrong.
MAX_TICK_PASSES = 8
# A reopened conversation goes to the front of its queue: ahead of everyone who has
# waited less than this (a day), or, in a queue with a max wait or an overflow, than
# just under the first of them (a larger credit would trip them at once).
FRONT_MS = 86400000
REMEMBERED_OUTCOMES = ("resolved", "transferred", "escalated")  # may be reopened
HANDOVER_NOTES = 8  # kept per desk and for the branch, newest last


def _check_shape(event):
    try:
        events.check(event)
    except events.EventError as e:
        raise Rejected(str(e))


def _pairs(mapping):
    """[[key, value], ...] in key order: JSON objects would turn int keys into strings."""
    return [[k, mapping[k]] for k in sorted(mapping)]


def _erased_payload(payload, kind, pseudonym):
    """An uplink not yet sent, about a customer being erased: the number becomes the
    pseudonym, and the texts go."""
    body = dict(payload[kind])
    body["customer"] = pseudonym
    body["messages"] = [dict(m, text="") for m in body.get("messages", ())]
    if "summary" in body:
        body["summary"] = ""
    out = dict(payload)
    out[kind] = body
    return out


class SnapshotMismatch(ValueError):
    """A saved state does not fit the configuration (the message says how)."""


class Rejected(ValueError):
    """An event that cannot apply to the current state (the message says why)."""


class Branch:
    def __init__(self, config):
        self.config = config
        self.queue_names = [q["name"] for q in config["queues"]]
        self.router, self._queue_index = build_router(config)
        self.desks = [d["desk"] for d in config["desks"]]
        self._agent_of_desk = {}
        for agent, desk in enumerate(self.desks):
            self._agent_of_desk[desk] = agent
        self._vip_ms = {}
        for number in config["vip_numbers"]:
            self._vip_ms[number] = config["vip_priority_s"] * 1000
        self._keywords = [(q["name"], [ascii_lower(kw) for kw in q.get("keywords", ())])
                          for q in config["queues"]]
        self._cancel_words = [bare(w) for w in config["cancel_words"]]
        self._tombstones = config["rejoin_s"] > 0  # the router keeps an abandoned place
        self.conversations = {}
        self._open_by_customer = {}
        # queue -> conversations that found it full, in arrival order (only queues with
        # some): they are queued as room appears, ahead of anyone who comes later.
        self._held = {}
        self._next_conv = 1
        self._next_out = 1
        self._next_seq = 1
        self.outbox = SmsOutbox(config["retry_backoff_s"], [m["id"] for m in config["modems"]],
                                config["remembered_sends"])
        self.sms_outbox = self.outbox.items
        self.reassembler = concat.Reassembler(config["concat_timeout_s"] * 1000)
        self._modem_of_sender = {}  # for long messages completed by a timeout
        # The queue of each recent customer's latest topic, for their missed calls.
        self._recent = RecentCustomers(config["remembered_customers"])
        self.uplink_outbox = {}
        self.quarantine = []
        self._fingerprints = Fingerprints(config["remembered_messages"])
        self.metrics = Metrics(config["service_level_s"], config["short_abandon_s"],
                               config["report_interval_s"])
        self._desks = Desks(self.router, self.desks, [d["cap"] for d in config["desks"]],
                            self.metrics, self._still_offered)
        self.service = Service(config)
        self._calendars = self.service.calendars
        self._front_ms = {}
        for q in config["queues"]:
            limits = [q[k] * 1000 - 1000 for k in ("max_wait_s", "overflow_after_s")
                      if q.get(k)]
            self._front_ms[q["name"]] = max(0, min(limits)) if limits else FRONT_MS
        self._serving = {}  # queue -> [(agent, cap)] of the desks that serve it first
        for q in self.queue_names:
            self._serving[q] = [(agent, d["cap"]) for agent, d in enumerate(config["desks"])
                                if q in d["queues"]]
        self._reopen_ms = config["reopen_window_s"] * 1000
        self._closes = RecentCloses(config["remembered_closes"])
        # conversation id -> when the menu gives up on its silent customer (ms): the
        # conversations in self-service, which the router does not have.
        self._self_service = {}
        self._prefs = Preferences(config["remembered_preferences"])
        self.surveys = Surveys(config, self.queue_names, [m["id"] for m in config["modems"]],
                               self.service.languages)
        self.positions = Positions(config)
        self._scheduled = {}  # callback conversation id -> when to call again (ms)
        self.handover = {}  # desk (0: the branch) -> [[t, text], ...], the newest last
        self._erased = 0  # erasures so far: names the pseudonym an erased number becomes
        self.events_applied = 0
        self._unmade = None  # while replaying: seq -> the function making its body
        self.now = 0  # the time of the last event applied

    # -- public API ----------------------------------------------------------------
    def check(self, event):
        """Raise Rejected if `event` cannot apply now; changes nothing. Its shape is
        events.check's to judge; whether it makes sense now is judged here."""
        _check_shape(event)
        _CHECKS[event["k"]](self, event)

    def apply(self, event):
        """Apply `event`: -> its effects; Rejected (and nothing changes) if it cannot."""
        _check_shape(event)
        return self.replay(event)

    def replay(self, event):
        """`apply` for a journaled event: the gateway journals only events whose shape
        passed events.check, so only whether it makes sense now is judged again (start-up
        replays tens of thousands a second)."""
        check_now = _CHECKS[event["k"]]
        check_now(self, event)
        now = event["t"]
        self.now = now
        effects = []
        for done in self.metrics.advance(now):
            self._uplink("interval", done, now, effects)
        # Timers due by now (an offer running out, a wrap-up ending) happen before the
        # event, so that it meets the state the router will act on, and so that the
        # event's own router calls report only what the event did.
        ticked = False
        for _ in range(MAX_TICK_PASSES):
            due = self.router.next_due()
            if due is None or due > now:
                break
            self._follow(self.router.tick(now), now, effects)
            ticked = True
        try:
            if ticked:
                check_now(self, event)  # again: the timers may have changed what it meets
            _APPLY[event["k"]](self, event, effects)
        except (Rejected, RouterError) as e:
            # Valid when it was journaled, overtaken by time: the same on every replay.
            if isinstance(e, RouterError):
                self._follow(e.outputs, now, effects)
            effects.append(("refused", "%s: %s" % (event["k"], e)))
        if self._held:
            self._release_held(now, effects)
        self._desks.settle(now, effects)
        self.events_applied += 1
        return effects

    def begin_replay(self):
        """Start-up replays the journal from here to `end_replay`: the bodies of the
        messages head office acknowledged later in the journal (metrics reports,
        session records) are never made, and a history effect carries its record as a
        Later (core/later.py) for the index to make if it needs it."""
        self._unmade = {}

    def end_replay(self):
        """Make the bodies of the messages still owed: the state is then as if every
        event had been applied live."""
        self._make_owed()
        self._unmade = None

    def _make_owed(self):
        unmade = self._unmade
        for seq in sorted(unmade or ()):
            kind, payload = self.uplink_outbox[seq]
            payload[kind] = unmade.pop(seq)()

    def dump(self):
        """The whole state, JSON-able (core/snapshot.py frames it): `load` into a Branch
        of the same configuration gives one that behaves exactly like this one."""
        return {
            "router": b2a_base64(self.router.snapshot()).decode().strip(),
            # Made one by one as the snapshot is written (a board has no room for all).
            "conversations": jsonfmt.Each(sorted(self.conversations),
                                          lambda c: self.conversations[c].dump()),
            "held": [[q, self._held[q].items()] for q in sorted(self._held)],
            "next": [self._next_conv, self._next_out, self._next_seq],
            "outbox": self.outbox.dump(),
            "reassembler": self.reassembler.dump(),
            "modem_of_sender": _pairs(self._modem_of_sender),
            "recent": self._recent.dump(),
            "fingerprints": self._fingerprints.dump(),
            "uplink_outbox": [[seq] + list(self.uplink_outbox[seq])
                              for seq in sorted(self.uplink_outbox)],
            "quarantine": list(self.quarantine),
            "closes": self._closes.dump(),
            "self_service": _pairs(self._self_service),
            "prefs": self._prefs.dump(),
            "surveys": self.surveys.dump(),
            "positions": self.positions.dump(),
            "scheduled": _pairs(self._scheduled),
            "handover": _pairs(self.handover),
            "erased": self._erased,
            "desks": self._desks.dump(),
            "metrics": self.metrics.dump(),
            "events_applied": self.events_applied,
            "now": self.now,
        }

    def load(self, doc):
        """Take the state `dump` gave (on a Branch just made from the configuration).
        Raises SnapshotMismatch when the configuration's queues or desks are not the
        ones the state was made with: a conversation would land in the wrong queue."""
        router = type(self.router).restore(a2b_base64(doc["router"].encode()))
        if (router.cfg.n_queues, router.cfg.n_agents) != (len(self.queue_names), len(self.desks)):
            raise SnapshotMismatch(
                "the state has %d queues and %d desks, the configuration %d and %d"
                % (router.cfg.n_queues, router.cfg.n_agents, len(self.queue_names),
                   len(self.desks)))
        self.router = router
        self._desks.router = router
        self.conversations = {}
        self._open_by_customer = {}
        for c in doc["conversations"]:
            conv = Conversation.load(c)
            self.conversations[conv.id] = conv
            self._open_by_customer[conv.customer] = conv.id
        self._held = {}
        for queue, waiting in doc["held"]:
            self._held[queue] = Fifo(waiting)
        self._next_conv, self._next_out, self._next_seq = doc["next"]
        self.outbox.load(doc["outbox"])
        self.reassembler.load(doc["reassembler"])
        self._modem_of_sender = dict(doc["modem_of_sender"])
        self._recent.load(doc["recent"])
        self._fingerprints.load(doc["fingerprints"])
        self.uplink_outbox = {}
        for seq, kind, payload in doc["uplink_outbox"]:
            self.uplink_outbox[seq] = (kind, payload)
        self.quarantine = list(doc["quarantine"])
        self._closes.load(doc["closes"])
        self._self_service = dict(doc["self_service"])
        self._prefs.load(doc["prefs"])
        self.surveys.load(doc["surveys"])
        self.positions.load(doc["positions"])
        self._scheduled = dict(doc["scheduled"])
        self.handover = dict(doc["handover"])
        self._erased = doc["erased"]
        self._desks.load(doc["desks"])
        self.metrics.load(doc["metrics"])
        self.events_applied = doc["events_applied"]
        self.now = doc["now"]

    def pending_effects(self):
        """Effects still owed to the outside world (after a restart or a reconnect)."""
        effects = self.outbox.owed()
        for seq in sorted(self.uplink_outbox):
            kind, payload = self.uplink_outbox[seq]
            effects.append(("uplink", seq, kind, payload))
        for agent, desk in enumerate(self.desks):
            effects.append(("led", desk, self._desks.led_for(agent)))
        return effects

    def next_due(self):
        """When a `tick` event next has something to do (ms), or None: a retry, a long
        message's timeout, the end of a report interval, a router timer, or a queue's
        head reaching its backup tier (the router evaluates that when asked, not by a
        timer). It may be at or before the last event's time: the router leaves what an
        event makes due at its own time to the next event, so tick at once then."""
        times = [self.outbox.next_due(), self.router.next_due(),
                 self.router.backup_due(self.now), self.metrics.next_boundary()]
        for p in self.reassembler.pending():
            times.append(p["first_ms"] + self.reassembler.timeout_ms)
        times.extend(self._self_service.values())
        times.extend(self._scheduled.values())
        times.append(self.surveys.next_due())
        times.append(self.positions.next_due())
        for queue in self._held:  # held back while closed: until it opens
            calendar = self._calendars[queue]
            if calendar is not None:
                is_open, until = calendar.span(self.now)
                if not is_open:
                    times.append(until)
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def open_conversation_of(self, customer):
        conv_id = self._open_by_customer.get(customer)
        return self.conversations[conv_id] if conv_id is not None else None

    def _still_offered(self, conv_id, desk):
        conv = self.conversations.get(conv_id)
        return conv is not None and conv.state == "offered" and conv.desk == desk

    def desk_of(self, conv_id):
        conv = self.conversations.get(conv_id)
        return conv.desk if conv else None

    def anyone_available(self):
        return any(
            self.router.agent_presence(self._agent_of_desk[d]) == AVAILABLE for d in self.desks
        )

    def presence(self, desk):
        return PRESENCE_NAMES[self.router.agent_presence(self._agent_of_desk[desk])]

    def desk_name(self, desk):
        """What the console calls a desk: its configured name, else "Desk <n>"."""
        return self.config["desks"][self._agent_of_desk[desk]].get("name", "Desk %d" % desk)

    def desk_status(self, desk):
        """A desk as the console shows it: its name, presence (and break reason), load
        against cap, its LED, and since when (ms) it has been in that presence."""
        agent = self._agent_of_desk[desk]
        presence, load, _missed = self.router.agent_state(agent)
        since = self._desks.since.get(desk)
        return {"desk": desk, "name": self.desk_name(desk), "presence": PRESENCE_NAMES[presence],
                "reason": self.router.agent_reason(agent) if presence == BREAK else None,
                "load": load, "cap": self._desks.cap(agent), "led": self._desks.led_for(agent),
                "since": since[1] if since is not None else None}

    def queue_for(self, text):
        low = ascii_lower(text)
        for name, keywords in self._keywords:
            for kw in keywords:
                if kw in low:
                    return name
        return self.queue_names[0]

    def state_summary(self):
        """The console's and the demo's view: one pass over the open conversations."""
        held_by = {}
        for conv in self.conversations.values():
            if conv.desk is not None:
                held_by.setdefault(conv.desk, []).append(conv.id)
        return {
            "desks": [
                {
                    "desk": desk,
                    "presence": self.presence(desk),
                    "load": self.router.agent_load(self._agent_of_desk[desk]),
                    "conversations": sorted(held_by.get(desk, ())),
                }
                for desk in self.desks
            ],
            "queues": [
                {"name": n, "waiting": self.router.queue_length(i)}
                for i, n in enumerate(self.queue_names)
            ],
            "held": self._held_back_count(),
            "sms_outbox": len(self.sms_outbox),
            "partial_messages": len(self.reassembler.pending()),
            "uplink_outbox": len(self.uplink_outbox),
            "metrics": self.metrics.summary(),
        }

    def render_template(self, conv_id, name, customer_name=None):
        """Canned reply `name` for conversation `conv_id`, filled in now -> its text.
        Rejected (the console's 409) when the conversation's queue has no such template
        or a placeholder has no value (an unknown name, a queue with no estimate)."""
        conv = self.conversations.get(conv_id)
        if conv is None:
            raise Rejected("no open conversation %r" % (conv_id,))
        try:
            parts = self.service.templates.parts(name, conv.queue, conv.lang)
        except KeyError:
            raise Rejected("no template %r for queue %s" % (name, conv.queue))
        wait = None
        place = self.router.position(conv.id) if conv.state == "queued" else None
        if place is not None:
            wait = self.positions.expected_minutes(conv.queue, place + 1,
                                                   self._serving_capacity(conv.queue))
        desk = self.config["desks"][self._agent_of_desk[conv.desk]] if conv.desk else {}
        try:
            return templates.render(parts, {
                "customer_name": customer_name, "desk_name": desk.get("name"),
                "branch_hours": self.service.hours_today(conv.queue, self.now, conv.lang),
                "queue": conv.queue, "wait_minutes": wait})
        except templates.MissingValue as e:
            raise Rejected("template %s: %s" % (name, e))

    def _held_back_count(self):
        return sum(len(waiting) for waiting in self._held.values())

    # -- checks (no state change) --------------------------------------------------
    def _check_nothing(self, ev):
        pass

    def _check_desk(self, ev):
        if ev["desk"] not in self._agent_of_desk:
            raise Rejected("no desk %r" % (ev["desk"],))

    def _check_presence(self, ev):
        self._check_desk(ev)
        if not 0 <= ev.get("reason", 0) < REASON_MISSED:
            raise Rejected("break reason must be a number below %d" % REASON_MISSED)

    def _open_conv(self, ev, states):
        conv = self.conversations.get(ev["conv"])
        if conv is None:
            raise Rejected("no open conversation %r" % (ev.get("conv"),))
        if conv.state not in states:
            raise Rejected("conversation %d is %s" % (conv.id, conv.state))
        return conv

    def _check_transfer(self, ev):
        self._open_conv(ev, HELD_OR_WAITING)
        if "desk" in ev:
            self._check_desk(ev)
        elif ev.get("queue") not in self._queue_index:
            raise Rejected("transfer needs a desk or a queue (no queue %r)" % (ev.get("queue"),))

    def _check_escalate(self, ev):
        self._open_conv(ev, HELD_OR_WAITING)

    def _check_button(self, ev):
        self._check_desk(ev)
        press = ev.get("press")
        if press is not None and self._desks.presses.get(ev["desk"]) == press:
            raise Rejected("desk %d's press %d was counted already" % (ev["desk"], press))

    def panel_press(self, desk):
        """The number of the last panel press taken from `desk` (None: none numbered)."""
        return self._desks.presses.get(desk)

    def _check_assign(self, ev):
        self._open_conv(ev, HELD_OR_WAITING)
        self._check_desk(ev)
        if not ev.get("force", False):  # what the router would refuse, in words
            agent = self._agent_of_desk[ev["desk"]]
            presence, load, _missed = self.router.agent_state(agent)
            if presence != AVAILABLE:
                raise Rejected("desk %d is %s: only a forced assignment reaches it" % (
                    ev["desk"], PRESENCE_NAMES[presence]))
            if load >= self._desks.cap(agent):
                raise Rejected("desk %d is at its cap (%d): only a forced assignment goes "
                               "past it" % (ev["desk"], load))

    def _check_accept(self, ev):
        self._open_conv(ev, ("offered",))

    def _check_wrapup(self, ev):
        self._open_conv(ev, ("offered", "active"))

    def _check_reply(self, ev):
        self._open_conv(ev, HELD)
        text = ev["text"]
        if is_blank(text):
            raise Rejected("reply needs a non-empty text")
        parts = pdu.part_count(text)
        if parts > self.config["max_reply_parts"]:
            raise Rejected(
                "reply too long: %d SMS parts, at most %d" % (parts, self.config["max_reply_parts"])
            )

    def _check_close(self, ev):
        conv = self._open_conv(ev, HELD + ("remote",))
        if ev.get("outcome", "resolved") not in OUTCOMES:
            raise Rejected("outcome must be one of %s" % ", ".join(OUTCOMES))
        if conv.state != "remote":  # head office files its own record
            refusal = self.service.dispositions.refusal(conv.queue, ev.get("disposition"),
                                                        ev.get("summary"))
            if refusal is not None:
                raise Rejected(refusal)

    def _check_sms_sent(self, ev):
        if ev["out"] not in self.sms_outbox:
            raise Rejected("no outgoing SMS %r" % (ev["out"],))
        if ev.get("ok", True):
            if "modem" not in ev:
                raise Rejected("sms_sent needs the modem that sent it")
        elif "kind" not in ev:
            raise Rejected("sms_sent failure needs kind temporary, modem or permanent")

    def _check_note(self, ev):
        if ev["conv"] not in self.conversations:
            raise Rejected("no open conversation %r" % (ev["conv"],))

    def _check_handover(self, ev):
        if "desk" in ev:
            self._check_desk(ev)

    def _check_callback_outcome(self, ev):
        conv = self._open_conv(ev, ("offered", "active", "wrapup"))
        if conv.kind != "callback":
            raise Rejected("conversation %d is no callback request" % conv.id)
        if ev["outcome"] == "retry" and not isinstance(ev.get("at"), int):
            raise Rejected("retry needs the time to call again (at)")
        if ev["outcome"] != "retry" and "at" in ev:
            raise Rejected("only a retry takes a time (at)")
        if ev["outcome"] == "reached":
            refusal = self.service.dispositions.refusal(conv.queue, None, None)
            if refusal is not None:
                raise Rejected(refusal + " (close it with the record instead)")

    def _check_erase(self, ev):
        customer = ev["customer"]
        conv_id = self._open_by_customer.get(customer)
        if conv_id is not None:
            raise Rejected("conversation %d of this customer is open: close it first" % conv_id)
        for item in self.outbox.items.values():
            if item["to"] == customer:
                raise Rejected("an SMS to this customer is still being sent")
        for part in self.reassembler.pending():
            if part["sender"] == customer:
                raise Rejected("a long message from this customer is still arriving")

    def _check_uplink_ack(self, ev):
        if ev["seq"] not in self.uplink_outbox:
            raise Rejected("no pending uplink %r" % (ev["seq"],))

    # -- appliers ------------------------------------------------------------------
    def _apply_sms_in(self, ev, effects):
        fp = ev.get("fp")
        if fp is not None:
            if fp in self._fingerprints:
                return  # the same stored message read again after a crash
            self._fingerprints.add(fp)
        now = ev["t"]
        part = ev.get("concat")
        truncated = ev.get("truncated") is True
        if part is None:
            self._message_in(ev["from"], ev["modem"], ev["text"], now, effects, truncated)
            return
        self._modem_of_sender[ev["from"]] = ev["modem"]
        try:
            done = self.reassembler.add(ev["from"], part[0], part[1], part[2], ev["text"], now,
                                        truncated)
        except concat.ConcatError:
            # Numbering no message can have: keep the text as it came rather than lose it.
            done = []
            self._message_in(ev["from"], ev["modem"], ev["text"], now, effects, truncated)
        self._completed(done, now, effects)

    def _completed(self, done, now, effects):
        for message in done:
            modem = self._modem_of_sender.get(message.sender, "")
            if message.sender not in [p["sender"] for p in self.reassembler.pending()]:
                self._modem_of_sender.pop(message.sender, None)
            self._message_in(message.sender, modem, message.text, now, effects,
                             message.truncated)

    def _message_in(self, customer, modem, text, now, effects, truncated=False):
        cancel = bare(text) in self._cancel_words
        conv = self.open_conversation_of(customer)
        if conv is not None and conv.state == "abandoned":
            if cancel:
                conv.add("in", now, text, truncated)  # cancelling again changes nothing
                return
            conv = self._come_back(conv, now, effects)
        if conv is None:
            key = number_key(customer)
            answer = self.surveys.message(key, text, now)
            if answer is not None:
                self._survey_answered(customer, modem, answer, now, effects)
                return
            conv = self._reopen(customer, key, modem, now, effects)
        new = conv is None
        if new:
            conv = self._new(customer, modem, self.queue_for(text), now, "sms",
                             self._language(customer, text))
        conv.add("in", now, text, truncated)
        if new:
            if self.service.menu is None:
                self._enter_queue(conv, conv.queue, now, effects)
            else:
                conv.state = "self_service"
        if conv.state == "self_service":
            self._self_serve(conv, text, now, effects)
            return
        if cancel and conv.state in ("queued", "offered"):
            self._cancel(conv, now, effects)
            return
        if conv.state == "queued" and self._closed(conv.queue, now):
            if conv.kind != "callback" and self.service.is_callback_request(text):
                self._callback_requested(conv, now, effects)
            else:
                self._after_hours_reply(conv, now, effects)
        if conv.state == "wrapup":  # the customer has more to say: not done yet
            conv.state = "active"
        if conv.awaiting is None:
            conv.awaiting = conv.since(now)

    def _language(self, customer, text):
        """The profile's preferred language, else the script of the first message."""
        prefs = self._preferences(customer)
        if prefs is not None and prefs[1] is not None:
            lang = LANGUAGES[prefs[1]]
            if lang in self.service.languages:
                return lang
        return self.service.language_of(text)

    def _vip_credit(self, customer):
        credit = self._vip_ms.get(customer)
        if credit is None:
            prefs = self._preferences(customer)
            credit = self.config["vip_priority_s"] * 1000 if prefs and prefs[0] else 0
        return credit

    def _preferences(self, customer):
        """(VIP, language index or None) as the console set them for the customer, or
        None."""
        if not self._prefs.count:  # the commonest case: nobody's profile was ever set
            return None
        return self._prefs.find(number_key(customer))

    def _new(self, customer, modem, queue, now, kind, lang):
        conv = Conversation(self._next_conv, customer, modem, queue, now, kind, lang)
        self._next_conv += 1
        self._track(conv)
        return conv

    def _track(self, conv):
        self.conversations[conv.id] = conv
        self._open_by_customer[conv.customer] = conv.id

    def _open(self, customer, modem, queue, now, kind, effects):
        """A conversation straight into `queue` (a callback request)."""
        conv = self._new(customer, modem, queue, now, kind, self._language(customer, ""))
        self._enter_queue(conv, queue, now, effects)
        return conv

    def _enter_queue(self, conv, queue, now, effects, desk=None):
        """Hand `conv` to `queue` (from the menu, or at once): it waits for a desk from
        now, outside the router while the queue is closed, and is offered first when it
        opens. `desk`: a reopened conversation's, which takes it first if it is
        available with room; otherwise it goes to the front of the queue."""
        conv.queue = queue
        conv.queued = conv.since(now)
        conv.state = "queued"
        self._recent.remember(conv.customer, self._queue_index[queue])
        self.metrics.on_offered(queue, callback=conv.kind == "callback")
        if self._closed(queue, now):
            self.metrics.on_after_hours(queue)
            if conv.kind != "callback":
                self._after_hours_reply(conv, now, effects)
            self._held_back(conv)
            return
        if desk is None:
            self._enqueue(conv, now, effects)
            self._position_update(conv, now, effects)
            return
        agent = self._agent_of_desk.get(desk)
        if agent is not None:
            presence, load, _missed = self.router.agent_state(agent)
            if presence == AVAILABLE and load < self._desks.cap(agent):
                self._enqueue(conv, now, effects, agent=agent)
                return
        self._enqueue(conv, now, effects, priority=self._front_ms[queue])

    def _closed(self, queue, now):
        calendar = self._calendars[queue]
        return calendar is not None and not calendar.is_open(now)

    def _after_hours_reply(self, conv, now, effects):
        """Say when the queue opens, at most once a (local) day per conversation."""
        calendar = self._calendars[conv.queue]
        day = calendar.local_day_and_minute(now)[0]
        if conv.after_hours_day == day:
            return
        conv.after_hours_day = day
        self._say(conv, self.service.say("after_hours_message", conv.lang, {
            "opens_at": self.service.opens_at(calendar, now, conv.lang),
            "branch_hours": self.service.hours_today(conv.queue, now, conv.lang)}), now, effects)

    def _callback_requested(self, conv, now, effects):
        """A customer waiting for opening time asks to be called back instead."""
        conv.kind = "callback"
        self.metrics.on_callback_requested(conv.queue)
        self._say(conv, self.service.say("callback_ack", conv.lang), now, effects)

    # -- self-service --------------------------------------------------------------
    def _self_serve(self, conv, text, now, effects):
        """The menu answers the customer's message `text` (core/menu.py)."""
        menu = self.service.menu
        if conv.menu is None:  # a new conversation, or one reopened after an FAQ
            conv.menu = ["", 0, 0]
            conv.state = "self_service"
            self.metrics.on_self_service()
        conv.menu, actions = menu.step(conv.menu, text, conv.lang)
        self._self_service[conv.id] = now + menu.idle_timeout_ms
        for action in actions:
            kind = action[0]
            if kind == "language":
                conv.lang = action[1]
            elif kind == "say":  # a prompt: the thread keeps which menu, not its text
                conv.add("menu", now, conv.menu[0])
                self._send(conv, action[1], now, effects)
            elif kind == "answer":
                hours = self.service.hours_today(menu.general_queue, now, conv.lang)
                self._say(conv, templates.render(action[1], {"branch_hours": hours}), now,
                          effects)
                del self._self_service[conv.id]
                self.metrics.on_contained()
                self._finish(conv, now, "resolved", effects, {"contained": True})
            else:  # handoff
                del self._self_service[conv.id]
                conv.menu = None
                ack = pick(menu.handoff_ack, conv.lang)
                if ack:
                    self._say(conv, ack, now, effects)
                self._enter_queue(conv, action[1], now, effects)
                conv.awaiting = conv.since(now)  # the human part's first response counts from here

    def _survey_answered(self, customer, modem, answer, now, effects):
        score, conv_id, queue, desk, lang = answer
        self.metrics.on_csat(queue, desk, score)
        effects.append(("history", "csat", {"conv": conv_id, "customer": customer,
                                            "score": score, "t": now}))
        self._send_to(conv_id, modem, customer, self.service.say("survey_thanks", lang), now,
                      effects)

    def _position_update(self, conv, now, effects):
        """Tell a waiting customer their place, if the queue does and it is news."""
        if (conv.state != "queued" or not self.positions.on(conv.queue)
                or conv.position_sms >= self.positions.max_sms):
            return
        place = self.router.position(conv.id)
        if place is None:
            return  # held outside the router: no place yet
        place += 1
        if place != conv.last_position:
            conv.last_position = place
            conv.position_sms += 1
            minutes = self.positions.expected_minutes(conv.queue, place,
                                                      self._serving_capacity(conv.queue))
            # The thread keeps "place/minutes", not the configured sentence around them.
            conv.add("position", now, "%d/%d" % (place, minutes))
            self._send(conv, self.service.say("position_message", conv.lang, {
                "position": place, "wait_minutes": minutes}), now, effects)
        if conv.position_sms < self.positions.max_sms:
            self.positions.sent(conv.id, now)

    def _serving_capacity(self, queue):
        """Conversations the queue's present desks can hold at once, from the desks'
        states as the last event left them (no router call). O(desks serving it)."""
        total = 0
        for agent, cap in self._serving[queue]:
            if self._desks.signed_in(agent):
                total += cap
        return total

    def _menu_timeouts(self, now, effects):
        """Customers who stopped answering the menu: their conversations end."""
        for conv_id in sorted(self._self_service):
            if self._self_service[conv_id] <= now:
                del self._self_service[conv_id]
                self._finish(self.conversations[conv_id], now, "abandoned", effects)

    # -- reopening -----------------------------------------------------------------
    def _reopen(self, customer, key, modem, now, effects):
        """The customer's conversation closed within reopen_window_s, open again (same
        id, so one thread in the history), or None."""
        if not self._reopen_ms:
            return None
        found = self._closes.find(key)
        if found is None or now - found[1] > self._reopen_ms:
            return None
        conv_id, _closed_at, desk, queue, lang, contained = found
        self._closes.forget(key)
        conv = Conversation(conv_id, customer, modem, self.queue_names[queue], now, "sms",
                            self.service.languages[lang])
        conv.reopened = 1
        self._track(conv)
        self.metrics.on_reopened(conv.queue)
        if contained:
            conv.state = "self_service"  # the menu takes the new message
        else:
            self._enter_queue(conv, conv.queue, now, effects, desk)
            conv.awaiting = conv.since(now)
        return conv

    def _apply_call(self, ev, effects):
        """A missed call becomes a callback request, in the queue the caller last wrote
        to; calling again while one is open adds to it instead of queueing twice."""
        customer = ev["from"]
        now = ev["t"]
        note = "missed call (%d rings)" % ev.get("rings", 0)
        conv = self.open_conversation_of(customer)
        if conv is not None and conv.state == "abandoned":
            conv = self._come_back(conv, now, effects)
        if conv is not None:
            conv.add("call", now, note)
            return
        queue = self.queue_names[self._recent.last_queue(customer) or 0]
        conv = self._open(customer, ev["modem"], queue, now, "callback", effects)
        conv.add("call", now, note)
        self._say(conv, self.service.say("callback_ack", conv.lang), now, effects)

    def _apply_sms_bad(self, ev, effects):
        # The newest few, for a technician; the journal has them all until compaction.
        self.quarantine = self.quarantine[1 - QUARANTINE:] + [ev]

    def _apply_button(self, ev, effects):
        agent = self._agent_of_desk[ev["desk"]]
        if "press" in ev:
            self._desks.presses[ev["desk"]] = ev["press"]
        current = self.router.agent_presence(agent)
        button = ev["button"]
        now = ev["t"]
        self._desks.touch(agent)
        if button == "NEXT":
            self._take_next(agent, now, effects)
            return
        reason = 0
        if button == "AVAIL":
            target = OFFLINE if current == AVAILABLE else AVAILABLE
        elif button == "BREAK":
            target = AVAILABLE if current == BREAK else BREAK
            reason = REASON_PANEL
        else:  # READY: back from break or a manual wrap-up
            target = AVAILABLE
        self._follow(self.router.set_presence(agent, target, now, reason), now, effects)

    def _take_next(self, agent, now, effects):
        """Manual pick: the oldest conversation the desk serves, if it may take one."""
        try:
            self._follow(self.router.take_next(agent, now), now, effects)
        except RouterError as e:
            self._follow(e.outputs, now, effects)
            effects.append(("refused", "NEXT: %s" % e))

    def _apply_presence(self, ev, effects):
        agent = self._agent_of_desk[ev["desk"]]
        self._desks.touch(agent)
        self._follow(self.router.set_presence(
            agent, PRESENCE_BY_NAME[ev["state"]], ev["t"], ev.get("reason", 0)), ev["t"], effects)

    def _apply_accept(self, ev, effects):
        self._accept(self.conversations[ev["conv"]], ev["t"], effects)

    def _accept(self, conv, now, effects):
        """The desk takes the offer up: no offer timeout from now on, and the customer
        counts as answered (the first time: a transfer offers it again)."""
        agent = self._agent_of_desk[conv.desk]
        out = self.router.accept(agent, conv.id, now)
        self._desks.touch(agent)  # its LED stops blinking
        conv.state = "active"
        conv.offer_deadline = None
        if conv.accepted is None:
            conv.accepted = conv.since(now)
            self.metrics.on_answered(conv.queue, conv.desk, self._wait(conv, now),
                                     now - conv.at(conv.queued))
        effects.append(("accepted", conv.id, conv.desk))
        self._follow(out, now, effects)

    def _apply_reply(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        if conv.state == "offered":
            self._accept(conv, now, effects)  # answering is taking it up
        elif conv.state == "wrapup":
            conv.state = "active"  # the desk has more to say after all
        conv.add("out", now, ev["text"])
        if conv.first_reply is None:
            conv.first_reply = conv.since(now)
            self.metrics.on_first_response(conv.queue, conv.desk, self._wait(conv, now))
        if conv.awaiting is not None:
            self.metrics.on_response(conv.queue, conv.desk, now - conv.at(conv.awaiting))
            conv.awaiting = None
        self._send(conv, ev["text"], now, effects)

    def _wait(self, conv, until):
        """How long `conv` has waited since it was queued, inside opening hours."""
        calendar = self._calendars[conv.queue]
        queued = conv.at(conv.queued)
        if calendar is None:
            return until - queued
        return calendar.open_ms(queued, until)

    def _say(self, conv, text, now, effects):
        """The branch's own message to the customer, kept in the thread as "auto"."""
        conv.add("auto", now, text)
        self._send(conv, text, now, effects)

    def _send(self, conv, text, now, effects):
        conv.deliveries[self._next_out] = "sending"
        self._send_to(conv.id, conv.modem, conv.customer, text, now, effects)

    def _send_to(self, conv_id, modem, customer, text, now, effects):
        """An SMS that belongs to conversation `conv_id`, open or not (a survey)."""
        out_id = self._next_out
        self._next_out += 1
        effects.append(self.outbox.add(out_id, modem, customer, text, conv_id, now))

    def _apply_wrapup(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        if conv.state == "offered":
            self._accept(conv, ev["t"], effects)
        conv.state = "wrapup"

    def _apply_close(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        if conv.state == "remote":
            # A conversation escalated while its full queue held it back never reached
            # the router: nothing to release there.
            if self.router.conv_state(conv.id) == REMOTE:
                self._follow(self.router.release(conv.id, now), now, effects)
            self._finish(conv, now, ev.get("outcome", "resolved"), effects, self._record(ev))
            return
        self._close_at_desk(conv, now, ev.get("outcome", "resolved"), self._record(ev), effects)

    def _record(self, ev):
        record = {}
        for field in ("disposition", "summary"):
            if field in ev:
                record[field] = ev[field]
        return record

    def _close_at_desk(self, conv, now, outcome, record, effects):
        self._release_desk(conv, now, conv.kind == "callback", effects)
        self._finish(conv, now, outcome, effects, record)

    def _release_desk(self, conv, now, callback_done, effects):
        """The desk is done with `conv` (closed, or a callback to try again later): its
        slot is freed and its handle time counted."""
        if conv.state == "offered":
            self._accept(conv, now, effects)  # dealing with it is taking it up
        agent = self._agent_of_desk[conv.desk]
        self._follow(self.router.complete(agent, conv.id, now), now, effects)
        self._desks.closed(agent, conv.queue, conv.at(conv.accepted), callback_done, now)

    def _apply_sms_sent(self, ev, effects):
        out_id = ev["out"]
        now = ev["t"]
        if ev.get("ok", True):
            item = self.outbox.sent(out_id, ev["modem"], ev.get("mr", []))
            self._delivery(item["conv"], out_id, "sent", effects)
            return
        item, retry_at = self.outbox.failed(out_id, ev["kind"], now)
        conv = self.conversations.get(item["conv"])
        if retry_at is None:
            self._delivery(item["conv"], out_id, "failed", effects)
            if conv is not None:
                conv.add("failed", now, ev.get("reason", ""))
        else:
            self._delivery(item["conv"], out_id, "retrying", effects)

    def _apply_sms_status(self, ev, effects):
        known = self.outbox.report(ev["modem"], ev["mr"], ev["status"], ev.get("to"))
        if known is not None:
            out_id, conv_id, state, parts = known
            self._delivery(conv_id, out_id, state, effects)
            conv = self.conversations.get(conv_id)
            if conv is not None:
                conv.part_states[out_id] = parts

    def _delivery(self, conv_id, out_id, state, effects):
        conv = self.conversations.get(conv_id)
        if conv is not None:  # a report after wrap-up: the session record has gone
            conv.deliveries[out_id] = state
            effects.append(("delivery", conv_id, out_id, state))

    def _apply_transfer(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        # Counted where it leaves from: the queue it was in, the desk that passed it on.
        self.metrics.on_transfer(conv.queue, conv.desk)
        if "desk" in ev:
            out = self.router.transfer_to_agent(self._agent_of_desk[ev["desk"]], conv.id, now)
        else:
            out = self.router.transfer_to_queue(
                self._queue_index[ev["queue"]], conv.id, now, ev.get("keep_time", True)
            )
            conv.queue = ev["queue"]
        self._returned(conv, effects)  # it waits for its new desk or queue now
        conv.add("note", now, "transferred to %s" % (
            "desk %d" % ev["desk"] if "desk" in ev else "queue " + ev["queue"]))
        self._follow(out, now, effects)

    def _apply_escalate(self, ev, effects):
        """Head office takes the conversation over: the desk's slot is freed, and the
        conversation so far goes up with the reason."""
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        self.metrics.on_escalation(conv.queue, conv.desk)
        if self._is_held_back(conv):
            self._unhold(conv)  # its queue was full: the router does not have it
        else:
            out = self.router.upstream(conv.id, now)
            if conv.desk is not None:
                self._desks.touch(self._agent_of_desk[conv.desk])
            self._follow(out, now, effects)
        conv.state = "remote"
        conv.desk = None
        conv.offer_deadline = None
        note = ev.get("note", "") if isinstance(ev.get("note", ""), str) else ""
        conv.add("note", now, "escalated to head office " + note)
        self._uplink("escalation", conv.as_dict(), now, effects)

    def _apply_assign(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        self._follow(self.router.assign(
            self._agent_of_desk[ev["desk"]], conv.id, ev["t"], ev.get("force", False)
        ), ev["t"], effects)

    def _apply_note(self, ev, effects):
        self.conversations[ev["conv"]].add("internal", ev["t"], ev["text"])

    def _apply_handover(self, ev, effects):
        notes = self.handover.setdefault(ev.get("desk", 0), [])
        notes.append([ev["t"], ev["text"]])
        del notes[:-HANDOVER_NOTES]

    def _apply_customer(self, ev, effects):
        """A profile change from the console: the index keeps it; the core keeps what it
        acts on (VIP, language)."""
        body = {}
        for name in ev:
            if name != "k":
                body[name] = ev[name]
        if "vip" in ev or "lang" in ev:
            key = number_key(ev["customer"])
            prefs = self._prefs.find(key) or (False, None)
            vip = ev.get("vip", prefs[0])
            lang = LANGUAGES.index(ev["lang"]) if "lang" in ev else prefs[1]
            self._prefs.remember(key, vip, lang)
        effects.append(("history", "profile", body))

    def _apply_callback_outcome(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        outcome = ev["outcome"]
        conv.attempts += 1
        conv.add("call", now, "callback: " + outcome.replace("_", " "))
        self.metrics.on_callback_attempt(conv.queue, conv.desk, outcome)
        if outcome == "reached":
            self._close_at_desk(conv, now, "resolved", {}, effects)
            return
        self._release_desk(conv, now, False, effects)
        conv.desk = None
        if outcome == "no_answer" and conv.attempts >= self.config["callback_max_attempts"]:
            self.metrics.on_callback_unreached(conv.queue)
            self._finish(conv, now, "abandoned", effects)
            return
        conv.state = "scheduled"
        self._scheduled[conv.id] = ev["at"] if outcome == "retry" else (
            now + self.config["callback_retry_s"] * 1000)

    def _apply_erase(self, ev, effects):
        """Forget the number: the core's memories of it, and (through the effects) the
        history index and the journal, which the gateway rewrites. What stays is a
        pseudonym, "erased-<n>", and this count."""
        customer = ev["customer"]
        self._erased += 1
        pseudonym = "erased-%d" % self._erased
        key = number_key(customer)
        self._closes.forget(key)
        self._prefs.remember(key, False, None)
        self._recent.forget(customer)
        self.surveys.erased(key)
        self._make_owed()  # a record not made yet would be made with the number
        for seq in sorted(self.uplink_outbox):
            kind, payload = self.uplink_outbox[seq]
            body = payload[kind]
            if isinstance(body, dict) and body.get("customer") == customer:
                self.uplink_outbox[seq] = (kind, _erased_payload(payload, kind, pseudonym))
        # The gateway needs the index's conversation ids to rewrite the journal: the
        # rewrite comes before the index forgets.
        effects.append(("erase", customer, pseudonym))
        effects.append(("history", "erase", {"customer": customer}))
        self._uplink("audit", {"action": "erase", "customer": pseudonym}, ev["t"], effects)

    def _apply_uplink_ack(self, ev, effects):
        del self.uplink_outbox[ev["seq"]]
        if self._unmade:
            self._unmade.pop(ev["seq"], None)

    def _apply_tick(self, ev, effects):
        now = ev["t"]
        self._follow(self.router.tick(now), now, effects)
        for effect in self.outbox.due(now):
            self._delivery(self.outbox.items[effect[1]]["conv"], effect[1], "sending", effects)
            effects.append(effect)
        self._completed(self.reassembler.expire(now), now, effects)
        if self._self_service:
            self._menu_timeouts(now, effects)
        for conv_id in sorted(self._scheduled):
            if self._scheduled[conv_id] <= now:
                del self._scheduled[conv_id]
                conv = self.conversations[conv_id]
                self._enter_queue(conv, conv.queue, now, effects)
        for conv_id, customer, modem, lang, queue, desk in self.surveys.due(now):
            self.metrics.on_survey_sent(queue, desk)
            self._send_to(conv_id, modem, customer, self.service.say("survey_message", lang),
                          now, effects)
        for conv_id in self.positions.due(now):
            conv = self.conversations.get(conv_id)
            if conv is not None:
                self._position_update(conv, now, effects)

    def _apply_metrics(self, ev, effects):
        report = self.metrics.report_later(ev["t"])
        # O(queues + desks): this runs every metrics_interval_s, whatever is open.
        waiting = self._held_back_count()
        for i in range(len(self.queue_names)):
            waiting += self.router.queue_length(i)
        available = 0
        for agent in range(len(self.desks)):
            available += self.router.agent_presence(agent) == AVAILABLE
        live = {"waiting": waiting, "agents_available": available}

        def body():
            made = report()
            made["live"] = live
            return made

        self._uplink("metrics", body, ev["t"], effects)

    # -- following the router ------------------------------------------------------
    def _follow(self, outputs, now, effects):
        """Apply what the router reports it did (docs/router.md, "Outputs"), in order."""
        for kind, conv_id, agent, queue in outputs:
            if kind == OUT_OFFER:
                self._offered(self.conversations[conv_id], agent, now, effects)
            elif kind == OUT_RETURNED:
                self._returned(self.conversations[conv_id], effects)
            elif kind == OUT_OFFER_TIMEOUT:
                conv = self.conversations[conv_id]
                self.metrics.on_missed_offer(conv.queue, self.desks[agent])
                self._returned(conv, effects)
            elif kind == OUT_OVERFLOW:
                self.conversations[conv_id].add(
                    "note", now, "moved to queue %s (waited too long)" % self.queue_names[queue])
            elif kind == OUT_EXPIRED:
                self._expired(self.conversations[conv_id], now, effects)
            elif kind == OUT_FORGOTTEN:
                conv = self.conversations.get(conv_id)
                if conv is not None and conv.state == "abandoned":
                    self._finish_abandoned(conv, now, effects)  # too late to come back
            elif kind == OUT_MISSED_BREAK:
                self._desks.missed_break(agent)
            elif kind == OUT_WRAPUP_END:
                self._desks.touch(agent)
            # PRIVATE_TIMEOUT: it waits in its home queue now, as conv.queue already says.

    def _offered(self, conv, agent, now, effects):
        desk = self.desks[agent]
        conv.state = "offered"
        conv.desk = desk
        self._desks.offer(agent, conv.id)
        self.metrics.on_offer(conv.queue, desk)
        timeout_ms = self.config["offer_timeout_s"] * 1000
        # Offers run out and are made again many times a day: the moments inline.
        conv.offer_deadline = now + timeout_ms - conv.created if timeout_ms else None
        if conv.offered is None:
            conv.offered = now - conv.created
        effects.append(("offered", conv.id, desk))

    def _returned(self, conv, effects):
        """The desk that held (or was offered) the conversation no longer does."""
        if conv.desk is None:
            return
        effects.append(("returned", conv.id, conv.desk))
        self._desks.touch(self._agent_of_desk[conv.desk])
        conv.desk = None
        conv.state = "queued"
        conv.offer_deadline = None

    # -- abandonment ---------------------------------------------------------------
    def _cancel(self, conv, now, effects):
        """The customer gave up before a desk took the conversation up."""
        self._returned(conv, effects)
        if self._is_held_back(conv):
            self._unhold(conv)
            kept = False
        else:
            self._follow(self.router.abandon(conv.id, now), now, effects)
            kept = self._tombstones
        self._abandoned(conv, "cancelled", now)
        self._say(conv, self.service.say("cancel_ack", conv.lang), now, effects)
        if not kept:
            self._finish_abandoned(conv, now, effects)

    def _expired(self, conv, now, effects):
        """The router gave up on it at its queue's max wait: offer a callback."""
        self._abandoned(conv, "expired", now)
        self._say(conv, self.service.say("max_wait_message", conv.lang), now, effects)
        if not self._tombstones:
            self._finish_abandoned(conv, now, effects)

    def _abandoned(self, conv, cause, now):
        conv.state = "abandoned"
        conv.abandoned = conv.since(now)
        conv.abandon_cause = cause
        conv.awaiting = None

    def _come_back(self, conv, now, effects):
        """The customer of an abandoned conversation writes (or calls) again, before the
        router forgot its place. -> the conversation that continues, or None for a new
        one: after a cancel, the old one at its old place; after a max wait, whose place
        is past waiting, a callback request (the max-wait message offered one)."""
        if conv.abandon_cause == "cancelled":
            try:
                self._follow(self.router.rejoin(conv.id, now), now, effects)
            except QueueFull as e:  # the queue filled up meanwhile: wait outside it
                self._follow(e.outputs, now, effects)
                self._held_back(conv)
            except RouterError as e:  # the place is gone after all: start afresh
                self._follow(e.outputs, now, effects)
                self._finish_abandoned(conv, now, effects)
                return None
            conv.state = "queued"
            conv.abandoned = None
            conv.abandon_cause = None
            return conv
        self._finish_abandoned(conv, now, effects)
        callback = self._open(conv.customer, conv.modem, conv.queue, now, "callback", effects)
        callback.lang = conv.lang
        self._say(callback, self.service.say("callback_ack", conv.lang), now, effects)
        return callback

    def _finish_abandoned(self, conv, now, effects):
        """An abandonment is counted once it is final (the customer may still come back
        while the router keeps the place)."""
        self.metrics.on_abandoned(conv.queue, self._wait(conv, conv.at(conv.abandoned)))
        self._finish(conv, now, "abandoned" if conv.abandon_cause == "cancelled" else "expired",
                     effects)

    def _finish(self, conv, now, outcome, effects, wrapup=None):
        """The conversation is over: its session record goes to head office, and one a
        desk or the menu closed may be reopened for reopen_window_s."""
        del self.conversations[conv.id]
        if self._open_by_customer.get(conv.customer) == conv.id:
            del self._open_by_customer[conv.customer]
        # Nothing changes a closed conversation: its record may be made later (Later).
        record = Later(conv.record, now, outcome, wrapup)
        contained = wrapup.get("contained", False) if wrapup else False
        if outcome in REMEMBERED_OUTCOMES and conv.kind == "sms":
            key = number_key(conv.customer)
            self._closes.remember(key, conv.id, now, conv.desk, self._queue_index[conv.queue],
                                  self.service.languages.index(conv.lang), contained)
            if outcome == "resolved":
                self.surveys.closed(conv, key, now)
        if conv.accepted is not None:
            self.positions.closed(conv.queue, now - conv.at(conv.accepted))
        self._uplink("session", record, now, effects)
        effects.append(("history", "conversation", record if self._unmade is not None
                        else record()))

    # -- helpers -------------------------------------------------------------------
    def _uplink(self, kind, body, now, effects):
        """A message for head office. `body` is its body, or a function making it
        (a Later, a metrics report): called at once, or while replaying only if the
        message is still owed when the replay ends (`end_replay`)."""
        seq = self._next_seq
        self._next_seq += 1
        payload = {
            "id": "%s-%d" % (self.config["device"], seq),
            "seq": seq,
            "ts": now,
            "site": self.config["site"],
            "device": self.config["device"],
        }
        if callable(body):
            if self._unmade is not None:
                self._unmade[seq] = body
                body = None
            else:
                body = body()
        payload[kind] = body
        self.uplink_outbox[seq] = (kind, payload)
        effects.append(("uplink", seq, kind, payload))

    def _enqueue(self, conv, now, effects, agent=None, priority=None):
        """Into the router: its queue, or `agent`'s private queue; ahead of those who
        waited less than `priority` (ms; default the customer's VIP credit)."""
        if conv.queue in self._held:  # others wait outside it already: behind them
            self._held_back(conv)
            return
        if priority is None:
            priority = self._vip_credit(conv.customer)
        index = self._queue_index[conv.queue]
        try:
            if agent is None:
                out = self.router.enqueue(index, conv.id, now, priority)
            else:
                out = self.router.enqueue_private(agent, conv.id, index, now, priority)
        except QueueFull as e:
            self._follow(e.outputs, now, effects)
            self._held_back(conv)
            return
        self._follow(out, now, effects)

    def _held_back(self, conv):
        waiting = self._held.get(conv.queue)
        if waiting is None:
            waiting = self._held[conv.queue] = Fifo()
        waiting.push(conv.id)

    def _is_held_back(self, conv):
        """A waiting conversation its full queue holds back (the router has none, or the
        tombstone of a cancel it came back from)."""
        if conv.state != "queued":
            return False
        state = self.router.conv_state(conv.id)
        return state is None or state == ABANDONED

    def _unhold(self, conv):
        """Take it off its held-back list (the customer or head office took it away:
        rare, so the list's order is worth its O(n) here)."""
        waiting = self._held[conv.queue]
        waiting.remove(conv.id)
        if not waiting:
            del self._held[conv.queue]

    def _release_held(self, now, effects):
        """Queue what full queues held back as room appears, in arrival order across
        queues (the lowest conversation id first), one full queue not holding back the
        others. O(queues with some held back) per conversation queued."""
        capacity = self.config["queue_capacity"]
        full = []
        while True:
            best = None
            for queue in self._held:
                if queue not in full and (
                        best is None or self._held[queue].first() < self._held[best].first()):
                    best = queue
            if best is None:
                return
            index = self._queue_index[best]
            if self.router.queue_length(index) >= capacity or self._closed(best, now):
                full.append(best)
                continue
            waiting = self._held[best]
            conv = self.conversations[waiting.first()]
            try:
                out = self.router.enqueue(index, conv.id, now, self._vip_credit(conv.customer))
            except QueueFull as e:  # the conversation pool is full, not the queue
                self._follow(e.outputs, now, effects)
                return
            waiting.pop()
            if not waiting:
                del self._held[best]
            self._follow(out, now, effects)


_CHECKS = {
    "sms_in": Branch._check_nothing,
    "sms_bad": Branch._check_nothing,
    "button": Branch._check_button,
    "presence": Branch._check_presence,
    "accept": Branch._check_accept,
    "reply": Branch._check_reply,
    "close": Branch._check_close,
    "wrapup": Branch._check_wrapup,
    "sms_sent": Branch._check_sms_sent,
    "sms_status": Branch._check_nothing,
    "call": Branch._check_nothing,
    "transfer": Branch._check_transfer,
    "escalate": Branch._check_escalate,
    "assign": Branch._check_assign,
    "note": Branch._check_note,
    "handover": Branch._check_handover,
    "callback_outcome": Branch._check_callback_outcome,
    "customer": Branch._check_nothing,
    "erase": Branch._check_erase,
    "uplink_ack": Branch._check_uplink_ack,
    "tick": Branch._check_nothing,
    "metrics": Branch._check_nothing,
}
_APPLY = {
    "sms_in": Branch._apply_sms_in,
    "sms_bad": Branch._apply_sms_bad,
    "button": Branch._apply_button,
    "presence": Branch._apply_presence,
    "accept": Branch._apply_accept,
    "reply": Branch._apply_reply,
    "close": Branch._apply_close,
    "wrapup": Branch._apply_wrapup,
    "sms_sent": Branch._apply_sms_sent,
    "sms_status": Branch._apply_sms_status,
    "call": Branch._apply_call,
    "transfer": Branch._apply_transfer,
    "escalate": Branch._apply_escalate,
    "assign": Branch._apply_assign,
    "note": Branch._apply_note,
    "handover": Branch._apply_handover,
    "callback_outcome": Branch._apply_callback_outcome,
    "customer": Branch._apply_customer,
    "erase": Branch._apply_erase,
    "uplink_ack": Branch._apply_uplink_ack,
    "tick": Branch._apply_tick,
    "metrics": Branch._apply_metrics,
}
