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
    ("refused", reason)                         the router would not do what was asked

Work the outside world must still do (SMS not yet sent, uplinks not yet acknowledged)
lives in outboxes that are part of the state, so replaying the journal after a power cut
rebuilds them and `pending_effects()` hands them out again: nothing is lost.

Event kinds: sms_in (one SMS or one part of a long one), sms_bad, sms_sent, sms_status,
call (a missed call: a callback request), button, presence, accept, reply, close,
transfer, escalate, assign (a supervisor's), uplink_ack,
tick (time passed: retries and reassembly timeouts fall due; `next_due()` says when the
next one does) and metrics (a snapshot for head office).
"""

from binascii import a2b_base64, b2a_base64

from branchline.core import concat, events
from branchline.core.conversation import HELD, HELD_OR_WAITING, Conversation
from branchline.core.metrics import Metrics
from branchline.core.rings import Fingerprints, RecentCustomers
from branchline.core.sms_outbox import SmsOutbox
from branchline.proto import pdu
from branchline.text import ascii_lower, is_blank
from branchline.core.routing import build_router
from branchline.router import (
    ACTIVE,
    AVAILABLE,
    BREAK,
    OFFERED,
    OFFLINE,
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


def _pairs(mapping):
    """[[key, value], ...] in key order: JSON objects would turn int keys into strings."""
    return [[k, mapping[k]] for k in sorted(mapping)]


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
        self.conversations = {}
        self._open_by_customer = {}
        self._held = []  # conversations that found their queue full, in arrival order
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
        self._leds = {}
        self._missed_break = {}  # desk -> True while on break after missed offers
        self.metrics = Metrics(config["service_level_s"], config["short_abandon_s"],
                               config["report_interval_s"])
        self._desk_clock = {}  # desk -> the (signed in, held, wrap-up) metrics last saw
        self.events_applied = 0
        self.now = 0  # the time of the last event applied

    # -- public API ----------------------------------------------------------------
    def check(self, event):
        """Raise Rejected if `event` cannot apply now; changes nothing. Its shape is
        events.check's to judge; whether it makes sense now is judged here."""
        try:
            events.check(event)
        except events.EventError as e:
            raise Rejected(str(e))
        _CHECKS[event["k"]](self, event)

    def apply(self, event):
        self.check(event)
        now = event["t"]
        self.now = now
        effects = []
        for done in self.metrics.advance(now):
            self._uplink("interval", done, now, effects)
        # Timers due by now (an offer running out, a wrap-up ending) happen before the
        # event, so that it meets the state the router will act on.
        due = self.router.next_due()
        if due is not None and due <= now:
            self.router.tick(now)
            self._reconcile(now, effects)
        try:
            self.check(event)
            _APPLY[event["k"]](self, event, effects)
        except (Rejected, RouterError) as e:
            # Valid when it was journaled, overtaken by time: the same on every replay.
            effects.append(("refused", "%s: %s" % (event["k"], e)))
        self._assign(now, effects)
        self._led_changes(effects)
        self._desk_clocks(now)
        self.events_applied += 1
        return effects

    def dump(self):
        """The whole state, JSON-able (core/snapshot.py frames it): `load` into a Branch
        of the same configuration gives one that behaves exactly like this one."""
        return {
            "router": b2a_base64(self.router.snapshot()).decode().strip(),
            "conversations": [self.conversations[c].dump() for c in sorted(self.conversations)],
            "held": list(self._held),
            "next": [self._next_conv, self._next_out, self._next_seq],
            "outbox": self.outbox.dump(),
            "reassembler": self.reassembler.dump(),
            "modem_of_sender": _pairs(self._modem_of_sender),
            "recent": self._recent.dump(),
            "fingerprints": self._fingerprints.dump(),
            "uplink_outbox": [[seq] + list(self.uplink_outbox[seq])
                              for seq in sorted(self.uplink_outbox)],
            "quarantine": list(self.quarantine),
            "leds": _pairs(self._leds),
            "missed_break": _pairs(self._missed_break),
            "desk_clock": [[d, list(v)] for d, v in _pairs(self._desk_clock)],
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
        self.conversations = {}
        self._open_by_customer = {}
        for c in doc["conversations"]:
            conv = Conversation.load(c)
            self.conversations[conv.id] = conv
            self._open_by_customer[conv.customer] = conv.id
        self._held = list(doc["held"])
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
        self._leds = dict(doc["leds"])
        self._missed_break = dict(doc["missed_break"])
        self._desk_clock = {}
        for desk, state in doc["desk_clock"]:
            self._desk_clock[desk] = tuple(state)
        self.metrics.load(doc["metrics"])
        self.events_applied = doc["events_applied"]
        self.now = doc["now"]

    def pending_effects(self):
        """Effects still owed to the outside world (after a restart or a reconnect)."""
        effects = self.outbox.owed()
        for seq in sorted(self.uplink_outbox):
            kind, payload = self.uplink_outbox[seq]
            effects.append(("uplink", seq, kind, payload))
        for desk in self.desks:
            effects.append(("led", desk, self._led_for(desk)))
        return effects

    def next_due(self):
        """When a `tick` event next has something to do (ms), or None: a retry, a long
        message's timeout, a router timer, or a waiting conversation reaching its queue's
        backup tier (the router evaluates that when asked, not by a timer)."""
        times = [self.outbox.next_due(), self.router.next_due(), self.metrics.next_boundary()]
        for p in self.reassembler.pending():
            times.append(p["first_ms"] + self.reassembler.timeout_ms)
        for conv in self.conversations.values():
            backup_s = self.config["queues"][self._queue_index[conv.queue]].get("backup_after_s")
            if backup_s and conv.state == "waiting":
                key = conv.created - self._vip_ms.get(conv.customer, 0)
                times.append(key + backup_s * 1000)
        # Anything at or before the last event's time was dealt with by that event (a
        # backup tier already reached just has no backup agent free: no tick helps).
        times = [t for t in times if t is not None and t > self.now]
        return min(times) if times else None

    def desk_of(self, conv_id):
        conv = self.conversations.get(conv_id)
        return conv.desk if conv else None

    def anyone_available(self):
        return any(
            self.router.agent_presence(self._agent_of_desk[d]) == AVAILABLE for d in self.desks
        )

    def presence(self, desk):
        return PRESENCE_NAMES[self.router.agent_presence(self._agent_of_desk[desk])]

    def queue_for(self, text):
        low = ascii_lower(text)
        for q in self.config["queues"]:
            for kw in q.get("keywords", ()):
                if ascii_lower(kw) in low:
                    return q["name"]
        return self.queue_names[0]

    def state_summary(self):
        return {
            "desks": [
                {
                    "desk": desk,
                    "presence": self.presence(desk),
                    "load": self.router.agent_load(self._agent_of_desk[desk]),
                    "conversations": sorted(
                        c.id for c in self.conversations.values() if c.desk == desk
                    ),
                }
                for desk in self.desks
            ],
            "queues": [
                {"name": n, "waiting": self.router.queue_length(i)}
                for i, n in enumerate(self.queue_names)
            ],
            "held": len(self._held),
            "sms_outbox": len(self.sms_outbox),
            "partial_messages": len(self.reassembler.pending()),
            "uplink_outbox": len(self.uplink_outbox),
            "metrics": self.metrics.summary(),
        }

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

    def _check_assign(self, ev):
        self._open_conv(ev, HELD_OR_WAITING)
        self._check_desk(ev)

    def _check_accept(self, ev):
        self._open_conv(ev, ("offered",))

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
        self._open_conv(ev, HELD + ("remote",))

    def _check_sms_sent(self, ev):
        if ev["out"] not in self.sms_outbox:
            raise Rejected("no outgoing SMS %r" % (ev["out"],))
        if ev.get("ok", True):
            if "modem" not in ev:
                raise Rejected("sms_sent needs the modem that sent it")
        elif "kind" not in ev:
            raise Rejected("sms_sent failure needs kind temporary, modem or permanent")

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
        message = ("in", now, text, True) if truncated else ("in", now, text)
        conv_id = self._open_by_customer.get(customer)
        if conv_id is not None:
            conv = self.conversations[conv_id]
        else:
            conv = self._open(customer, modem, self.queue_for(text), now, "sms")
        conv.messages.append(message)
        if conv.awaiting is None:
            conv.awaiting = now

    def _open(self, customer, modem, queue, now, kind):
        conv = Conversation(self._next_conv, customer, modem, queue, now, kind)
        self._next_conv += 1
        self.conversations[conv.id] = conv
        self._open_by_customer[customer] = conv.id
        self._recent.remember(customer, self._queue_index[queue])
        self.metrics.on_offered(queue, callback=kind == "callback")
        self._enqueue(conv, now)
        return conv

    def _apply_call(self, ev, effects):
        """A missed call becomes a callback request, in the queue the caller last wrote
        to; calling again while one is open adds to it instead of queueing twice."""
        customer = ev["from"]
        now = ev["t"]
        note = "missed call (%d rings)" % ev.get("rings", 0)
        conv_id = self._open_by_customer.get(customer)
        if conv_id is not None:
            self.conversations[conv_id].messages.append(("call", now, note))
            return
        queue = self.queue_names[self._recent.last_queue(customer) or 0]
        conv = self._open(customer, ev["modem"], queue, now, "callback")
        conv.messages.append(("call", now, note))
        self._send(conv, self.config["callback_ack"], now, effects)

    def _apply_sms_bad(self, ev, effects):
        # The newest few, for a technician; the journal has them all until compaction.
        self.quarantine = self.quarantine[1 - QUARANTINE:] + [ev]

    def _apply_button(self, ev, effects):
        agent = self._agent_of_desk[ev["desk"]]
        current = self.router.agent_presence(agent)
        button = ev["button"]
        now = ev["t"]
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
        self.router.set_presence(agent, target, now, reason)

    def _take_next(self, agent, now, effects):
        """Manual pick: the oldest conversation the desk serves, if it may take one."""
        try:
            conv_id = self.router.take_next(agent, now)
        except RouterError as e:
            effects.append(("refused", "NEXT: %s" % e))
            return
        if conv_id is not None:
            self._assigned(conv_id, agent, now, effects)

    def _apply_presence(self, ev, effects):
        agent = self._agent_of_desk[ev["desk"]]
        self.router.set_presence(
            agent, PRESENCE_BY_NAME[ev["state"]], ev["t"], ev.get("reason", 0)
        )

    def _apply_accept(self, ev, effects):
        self._accept(self.conversations[ev["conv"]], ev["t"], effects)

    def _accept(self, conv, now, effects):
        """The desk takes the offer up: no offer timeout from now on, and the customer
        counts as answered (the first time: a transfer offers it again)."""
        self.router.accept(self._agent_of_desk[conv.desk], conv.id, now)
        conv.state = "active"
        conv.offer_deadline = None
        if conv.accepted is None:
            conv.accepted = now
            self.metrics.on_answered(conv.queue, conv.desk, now - conv.created)
        effects.append(("accepted", conv.id, conv.desk))

    def _apply_reply(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        if conv.state == "offered":
            self._accept(conv, now, effects)  # answering is taking it up
        conv.messages.append(("out", now, ev["text"]))
        if conv.first_reply is None:
            conv.first_reply = now
            self.metrics.on_first_response(conv.queue, conv.desk, now - conv.created)
        if conv.awaiting is not None:
            self.metrics.on_response(conv.queue, conv.desk, now - conv.awaiting)
            conv.awaiting = None
        self._send(conv, ev["text"], now, effects)

    def _send(self, conv, text, now, effects):
        out_id = self._next_out
        self._next_out += 1
        conv.deliveries[out_id] = "sending"
        effects.append(self.outbox.add(out_id, conv.modem, conv.customer, text, conv.id, now))

    def _apply_close(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        if conv.state == "remote":
            # A conversation escalated while its full queue held it back never reached
            # the router: nothing to release there.
            if self.router.conv_state(conv.id) == REMOTE:
                self.router.release(conv.id, now)
        else:
            if conv.state == "offered":
                self._accept(conv, now, effects)  # closing it is dealing with it
            self.router.complete(self._agent_of_desk[conv.desk], conv.id, now)
            self.metrics.on_handled(conv.queue, conv.desk, now - conv.accepted,
                                    callback=conv.kind == "callback")
        del self.conversations[conv.id]
        self._open_by_customer.pop(conv.customer, None)
        record = conv.as_dict()
        record["state"] = "closed"
        record["closed"] = now
        record["outcome"] = ev.get("outcome", "resolved")
        self._uplink("session", record, now, effects)

    def _apply_sms_sent(self, ev, effects):
        out_id = ev["out"]
        now = ev["t"]
        if ev.get("ok", True):
            item = self.outbox.sent(out_id, ev["modem"], ev.get("mr", []))
            self._delivery(item["conv"], out_id, "sent")
            return
        item, retry_at = self.outbox.failed(out_id, ev["kind"], now)
        conv = self.conversations.get(item["conv"])
        if retry_at is None:
            self._delivery(item["conv"], out_id, "failed")
            if conv is not None:
                conv.messages.append(("failed", now, ev.get("reason", "")))
        else:
            self._delivery(item["conv"], out_id, "retrying")

    def _apply_sms_status(self, ev, effects):
        known = self.outbox.report(ev["modem"], ev["mr"], ev["status"], ev.get("to"))
        if known is not None:
            out_id, conv_id, state, parts = known
            self._delivery(conv_id, out_id, state)
            conv = self.conversations.get(conv_id)
            if conv is not None:
                conv.part_states[out_id] = parts

    def _delivery(self, conv_id, out_id, state):
        conv = self.conversations.get(conv_id)
        if conv is not None:  # a report after wrap-up: the session record has gone
            conv.deliveries[out_id] = state

    def _apply_transfer(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        try:
            if "desk" in ev:
                self.router.transfer_to_agent(self._agent_of_desk[ev["desk"]], conv.id, now)
            else:
                self.router.transfer_to_queue(
                    self._queue_index[ev["queue"]], conv.id, now, ev.get("keep_time", True)
                )
                conv.queue = ev["queue"]
        except RouterError as e:
            effects.append(("refused", "transfer: %s" % e))
            return
        self.metrics.on_transfer(conv.queue, conv.desk)
        conv.messages.append(("note", now, "transferred to %s" % (
            "desk %d" % ev["desk"] if "desk" in ev else "queue " + ev["queue"])))

    def _apply_escalate(self, ev, effects):
        """Head office takes the conversation over: the desk's slot is freed, and the
        conversation so far goes up with the reason."""
        conv = self.conversations[ev["conv"]]
        now = ev["t"]
        self.metrics.on_escalation(conv.queue, conv.desk)
        if conv.id in self._held:
            self._held.remove(conv.id)  # its queue was full: the router never had it
        else:
            self.router.upstream(conv.id, now)
        conv.state = "remote"
        conv.desk = None
        conv.offer_deadline = None
        note = ev.get("note", "") if isinstance(ev.get("note", ""), str) else ""
        conv.messages.append(("note", now, "escalated to head office " + note))
        self._uplink("escalation", conv.as_dict(), now, effects)

    def _apply_assign(self, ev, effects):
        conv = self.conversations[ev["conv"]]
        try:
            self.router.assign(
                self._agent_of_desk[ev["desk"]], conv.id, ev["t"], ev.get("force", False)
            )
        except RouterError as e:
            effects.append(("refused", "assign: %s" % e))

    def _apply_uplink_ack(self, ev, effects):
        del self.uplink_outbox[ev["seq"]]

    def _apply_tick(self, ev, effects):
        now = ev["t"]
        self.router.tick(now)
        for effect in self.outbox.due(now):
            self._delivery(self.outbox.items[effect[1]]["conv"], effect[1], "sending")
            effects.append(effect)
        self._completed(self.reassembler.expire(now), now, effects)

    def _apply_metrics(self, ev, effects):
        body = self.metrics.report(ev["t"])
        summary = self.state_summary()
        body["live"] = {
            "waiting": sum(q["waiting"] for q in summary["queues"]) + summary["held"],
            "agents_available": sum(1 for d in summary["desks"] if d["presence"] == "available"),
        }
        self._uplink("metrics", body, ev["t"], effects)

    # -- helpers -------------------------------------------------------------------
    def _uplink(self, kind, body, now, effects):
        seq = self._next_seq
        self._next_seq += 1
        payload = {
            "id": "%s-%d" % (self.config["device"], seq),
            "seq": seq,
            "ts": now,
            "site": self.config["site"],
            "device": self.config["device"],
        }
        payload[kind] = body
        self.uplink_outbox[seq] = (kind, payload)
        effects.append(("uplink", seq, kind, payload))

    def _enqueue(self, conv, now):
        try:
            self.router.enqueue(
                self._queue_index[conv.queue], conv.id, now, self._vip_ms.get(conv.customer, 0)
            )
        except QueueFull:
            self._held.append(conv.id)

    def _assign(self, now, effects):
        while True:
            pick = self.router.next_assignment(now)
            if pick is None:
                break
            self._assigned(pick[0], pick[1], now, effects)
            self._release_held(now)
        if self._held:
            self._release_held(now)  # room may have appeared otherwise (an escalation...)
        self._reconcile(now, effects)

    def _assigned(self, conv_id, agent, now, effects):
        """The router offered the conversation to `agent`'s desk."""
        conv = self.conversations[conv_id]
        desk = self.desks[agent]
        if conv.desk is not None and conv.desk != desk:
            effects.append(("returned", conv_id, conv.desk))
        conv.state = "offered"
        conv.desk = desk
        self.metrics.on_offer(conv.queue, desk)
        timeout_ms = self.config["offer_timeout_s"] * 1000
        conv.offer_deadline = now + timeout_ms if timeout_ms else None
        if conv.offered is None:
            conv.offered = now
        effects.append(("offered", conv_id, conv.desk))

    def _reconcile(self, now, effects):
        """Follow what the router did on its own (an offer timing out, a desk leaving, a
        supervisor's assignment): each conversation's desk is the router's holder."""
        for conv_id in sorted(self.conversations):
            conv = self.conversations[conv_id]
            if conv.state not in HELD_OR_WAITING:
                continue
            state = self.router.conv_state(conv_id)
            holder = None
            if state in (OFFERED, ACTIVE):
                holder = self.desks[self.router.conv_agent(conv_id)]
            if holder == conv.desk:
                continue
            if holder is None:
                effects.append(("returned", conv_id, conv.desk))
                conv.desk = None
                conv.state = "waiting"
                conv.offer_deadline = None
            else:
                self._assigned(conv_id, self.router.conv_agent(conv_id), now, effects)

    def _release_held(self, now):
        """Queue what a full queue held back, in arrival order, as room appears (one
        full queue does not hold back the others)."""
        full = []
        for conv_id in list(self._held):
            conv = self.conversations[conv_id]
            if conv.queue in full:
                continue  # keep arrival order within a queue
            try:
                self.router.enqueue(
                    self._queue_index[conv.queue], conv.id, now,
                    self._vip_ms.get(conv.customer, 0),
                )
            except QueueFull:
                full.append(conv.queue)
                continue
            self._held.remove(conv_id)

    def _desk_clocks(self, now):
        """Tell the metrics each desk whose signed-in, held or wrap-up state changed."""
        for agent, desk in enumerate(self.desks):
            presence = self.router.agent_presence(agent)
            state = (presence in (AVAILABLE, WRAPUP), self.router.agent_load(agent),
                     presence == WRAPUP)
            if self._desk_clock.get(desk) != state:
                self._desk_clock[desk] = state
                self.metrics.desk_state(desk, now, state[0], state[1], state[2])

    def _led_for(self, desk):
        agent = self._agent_of_desk[desk]
        presence = self.router.agent_presence(agent)
        if presence == OFFLINE:
            return "OFF"
        if presence == BREAK:
            # Missed offers put the desk on break: flash so the agent notices.
            return "RED_BLINK" if self.router.agent_reason(agent) == REASON_MISSED else "AMBER"
        if presence == WRAPUP:
            return "AMBER_BLINK"
        cap = self.config["desks"][agent]["cap"]
        return "RED" if self.router.agent_load(agent) >= cap else "GREEN"

    def _led_changes(self, effects):
        for desk in self.desks:
            state = self._led_for(desk)
            if self._leds.get(desk) != state:
                self._leds[desk] = state
                effects.append(("led", desk, state))
            agent = self._agent_of_desk[desk]
            missed = (self.router.agent_presence(agent) == BREAK
                      and self.router.agent_reason(agent) == REASON_MISSED)
            if missed and not self._missed_break.get(desk):
                effects.append(("missed_break", desk))
            self._missed_break[desk] = missed


_CHECKS = {
    "sms_in": Branch._check_nothing,
    "sms_bad": Branch._check_nothing,
    "button": Branch._check_desk,
    "presence": Branch._check_presence,
    "accept": Branch._check_accept,
    "reply": Branch._check_reply,
    "close": Branch._check_close,
    "sms_sent": Branch._check_sms_sent,
    "sms_status": Branch._check_nothing,
    "call": Branch._check_nothing,
    "transfer": Branch._check_transfer,
    "escalate": Branch._check_escalate,
    "assign": Branch._check_assign,
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
    "sms_sent": Branch._apply_sms_sent,
    "sms_status": Branch._apply_sms_status,
    "call": Branch._apply_call,
    "transfer": Branch._apply_transfer,
    "escalate": Branch._apply_escalate,
    "assign": Branch._apply_assign,
    "uplink_ack": Branch._apply_uplink_ack,
    "tick": Branch._apply_tick,
    "metrics": Branch._apply_metrics,
}
