"""A customer's conversation while it is open: its state, its messages and deliveries,
and the document agents and head office see of it. docs/conversations.md draws the
states and every transition between them."""

HELD = ("offered", "active", "wrapup")  # a desk holds the conversation
HELD_OR_WAITING = ("queued",) + HELD
# How a conversation ended (a session record's "outcome").
OUTCOMES = ("resolved", "abandoned", "transferred", "escalated", "expired")
CALLBACK_OUTCOMES = ("reached", "no_answer", "retry")
SENT = ("out", "auto", "menu", "position")  # what the branch sent: one SMS each


# What a conversation records the time of, as ms after `created` (small ints, where an
# absolute time in ms is a 32-byte long on a 32-bit MicroPython): `at` gives it back.
MOMENTS = ("queued", "offered", "offer_deadline", "accepted", "first_reply", "awaiting",
           "abandoned")


class Conversation:
    """One customer's conversation while it is open.

    state: "self_service" (the menu is answering: `menu` is its place there),
    "scheduled" (a callback request waiting for the time to call again),
    "queued" (in a queue, or waiting outside it for room or for opening time), "offered"
    (a desk holds it but has not taken it up: not answered yet; `offer_deadline` says
    when it goes back), "active" (the desk took it up: accept or first reply), "wrapup"
    (the desk has finished with the customer and is writing the wrap-up record; it still
    holds the conversation), "remote" (head office has it), "abandoned" (the customer
    cancelled, or the queue's max wait ran out, and the router still keeps the place for
    the customer's return: `abandoned`, `abandon_cause`). `created` (the first message)
    is in ms; the MOMENTS are ms after it, None until they happen: queued (handed to a
    queue: waits and first response count from here), offered (the first offer),
    accepted (answered), first_reply, awaiting (the earliest customer message no reply
    has answered yet), abandoned (when the customer gave up).
    """

    # The fields a snapshot keeps as they are (it also keeps the thread and the
    # deliveries). What most conversations never set is a class attribute: an instance
    # keeps only what it set (on MicroPython each attribute an instance holds takes 8
    # bytes of its map, and the map grows in steps).
    FIELDS = ("id", "customer", "modem", "queue", "state", "desk", "created", "kind",
              "lang", "menu", "after_hours_day", "reopened", "attempts", "position_sms",
              "last_position", "abandon_cause") + MOMENTS
    desk = None
    queued = None
    offered = None
    offer_deadline = None  # while offered with an offer timeout
    accepted = None
    first_reply = None
    awaiting = None
    abandoned = None
    abandon_cause = None  # "cancelled" (the customer said so) or "expired"
    menu = None  # [path, prompts, misses] while in self-service (core/menu.py)
    after_hours_day = None  # local day of the last "we are closed" reply
    reopened = 0  # times the customer came back after a close
    attempts = 0  # calls made for a callback request
    position_sms = 0  # position messages sent
    last_position = None  # the position the last one gave
    truncated = ()  # the inbound messages the modem cut short: their places in the thread

    def __init__(self, conv_id, customer, modem, queue, now, kind="sms", lang="en"):
        self.id = conv_id
        self.kind = kind  # "sms", or "callback" for a missed call
        self.deliveries = {}  # out_id -> "sending" | "retrying" | "sent" | "delivered" | "failed"
        self.part_states = {}  # out_id -> each part's "sent" | "pending" | "delivered" | "failed"
        self.customer = customer
        self.modem = modem
        self.queue = queue
        self.state = "queued"
        self.created = now
        # direction, moment, text of each message in turn, flat: a tuple each would
        # cost 36 bytes more on MicroPython
        self.thread = []
        self.lang = lang  # the language of everything the branch itself sends

    def since(self, now):
        """`now` as a moment of this conversation: ms after it was created."""
        return now - self.created

    def at(self, moment):
        """The time (ms) of a moment, or None for one that has not happened."""
        return None if moment is None else self.created + moment

    def add(self, direction, t, text, truncated=False):
        """Keep a message in the thread, its time as a moment (see MOMENTS)."""
        if truncated:
            self.truncated = self.truncated + (len(self.thread) // 3,)
        self.thread += (direction, t - self.created, text)

    def message_count(self):
        return len(self.thread) // 3

    def _message_dicts(self):
        """The thread as agents and head office see it."""
        thread = self.thread
        created = self.created
        out = [{"dir": thread[i], "t": created + thread[i + 1], "text": thread[i + 2]}
               for i in range(0, len(thread), 3)]
        for i in self.truncated:
            out[i]["truncated"] = True
        return out

    def dump(self):
        """Every field, for snapshots (as_dict is the document agents and head office
        see), times in ms; dict keys become strings in JSON, so deliveries go as
        pairs."""
        out = {}
        for name in self.FIELDS:
            out[name] = getattr(self, name)
        for name in MOMENTS:
            out[name] = self.at(out[name])
        out["deliveries"] = [[o, s] for o, s in sorted(self.deliveries.items())]
        out["part_states"] = [[o, s] for o, s in sorted(self.part_states.items())]
        out["truncated"] = list(self.truncated)
        out["thread"] = list(self.thread)  # a dump does not change with the conversation
        return out

    @classmethod
    def load(cls, doc):
        conv = cls(doc["id"], doc["customer"], doc["modem"], doc["queue"], doc["created"])
        for name in cls.FIELDS:
            value = doc[name]
            if name in MOMENTS and value is not None:
                value -= conv.created
            if value != getattr(conv, name):  # a default stays the class's
                setattr(conv, name, value)
        if doc["truncated"]:
            conv.truncated = tuple(doc["truncated"])
        for out_id, state in doc["deliveries"]:
            conv.deliveries[out_id] = state
        for out_id, states in doc["part_states"]:
            conv.part_states[out_id] = states
        conv.thread = doc["thread"]
        return conv

    def _with_deliveries(self, messages):
        """Each SMS the branch sent, marked with its outgoing id and delivery state: the
        deliveries are the thread's last sent messages, in order (one SMS each)."""
        outs = sorted(self.deliveries)
        j = len(outs)
        for m in reversed(messages):
            if j == 0:
                break
            if m["dir"] in SENT:
                j -= 1
                m["out"] = outs[j]
                m["delivery"] = self.deliveries[outs[j]]
        return messages

    def as_dict(self):
        created = self.created  # the moments inline: a session record per close
        return {
            "id": self.id,
            "kind": self.kind,
            "customer": self.customer,
            "queue": self.queue,
            "state": self.state,
            "desk": self.desk,
            "lang": self.lang,
            "created": created,
            "queued": None if self.queued is None else created + self.queued,
            "offered": None if self.offered is None else created + self.offered,
            "offer_deadline": (None if self.offer_deadline is None
                               else created + self.offer_deadline),
            "accepted": None if self.accepted is None else created + self.accepted,
            "first_reply": None if self.first_reply is None else created + self.first_reply,
            "abandoned": None if self.abandoned is None else created + self.abandoned,
            "reopened": self.reopened,
            "attempts": self.attempts,
            "messages": self._with_deliveries(self._message_dicts()),
            "deliveries": [
                {"out": o, "state": self.deliveries[o], "parts": self.part_states.get(o, [])}
                for o in sorted(self.deliveries)
            ],
        }

    def record(self, closed, outcome, wrapup=None):
        """The session record head office and the history keep of it once closed:
        the document, when it closed and how (outcome, and the wrap-up record)."""
        record = self.as_dict()
        record["state"] = "closed"
        record["closed"] = closed
        record["outcome"] = outcome
        if wrapup:
            record.update(wrapup)
        return record
