"""A customer's conversation while it is open: its state, its messages and deliveries,
and the document agents and head office see of it. docs/conversations.md draws the
states and every transition between them."""

HELD = ("offered", "active", "wrapup")  # a desk holds the conversation
HELD_OR_WAITING = ("queued",) + HELD
# How a conversation ended (a session record's "outcome").
OUTCOMES = ("resolved", "abandoned", "transferred", "escalated", "expired")
CALLBACK_OUTCOMES = ("reached", "no_answer", "retry")


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
    the customer's return: `abandoned`, `abandon_cause`). Times in ms: created (the
    first message), queued (handed to a queue: waits and first response count from
    here), offered (the first offer), accepted (answered), first_reply; None until they
    happen.
    """

    __slots__ = (
        "id",
        "customer",
        "modem",
        "queue",
        "state",
        "desk",
        "created",
        "offered",
        "offer_deadline",
        "accepted",
        "first_reply",
        "messages",
        "kind",
        "deliveries",
        "part_states",
        "awaiting",
        "abandoned",
        "abandon_cause",
        "lang",
        "menu",
        "queued",
        "after_hours_day",
        "reopened",
        "attempts",
        "position_sms",
        "last_position",
    )

    def __init__(self, conv_id, customer, modem, queue, now, kind="sms", lang="en"):
        self.id = conv_id
        self.kind = kind  # "sms", or "callback" for a missed call
        self.deliveries = {}  # out_id -> "sending" | "retrying" | "sent" | "delivered" | "failed"
        self.part_states = {}  # out_id -> each part's "sent" | "pending" | "delivered" | "failed"
        self.customer = customer
        self.modem = modem
        self.queue = queue
        self.state = "queued"
        self.desk = None
        self.created = now
        self.offered = None
        self.offer_deadline = None  # while offered with an offer timeout
        self.accepted = None
        self.first_reply = None
        self.awaiting = None  # the earliest customer message no reply has answered yet
        self.abandoned = None  # when the customer gave up (state "abandoned")
        self.abandon_cause = None  # "cancelled" (the customer said so) or "expired"
        self.messages = []
        self.lang = lang  # the language of everything the branch itself sends
        self.menu = None  # [path, prompts, misses] while in self-service (core/menu.py)
        self.queued = None
        self.after_hours_day = None  # local day of the last "we are closed" reply
        self.reopened = 0  # times the customer came back after a close
        self.attempts = 0  # calls made for a callback request
        self.position_sms = 0  # position messages sent
        self.last_position = None  # the position the last one gave

    def add(self, direction, t, text, truncated=False):
        """Keep a message in the thread. Its time is kept as ms after `created`: a small
        int, where an absolute time in ms is a 16-byte long on a 32-bit MicroPython."""
        dt = t - self.created
        self.messages.append((direction, dt, text, True) if truncated else (direction, dt, text))

    def dump(self):
        """Every field, for snapshots (as_dict is the document agents and head office
        see); dict keys become strings in JSON, so deliveries go as pairs."""
        out = {}
        for name in self.__slots__:
            out[name] = getattr(self, name)
        out["deliveries"] = [[o, s] for o, s in sorted(self.deliveries.items())]
        out["part_states"] = [[o, s] for o, s in sorted(self.part_states.items())]
        out["messages"] = [list(m) for m in self.messages]
        return out

    @classmethod
    def load(cls, doc):
        conv = cls(doc["id"], doc["customer"], doc["modem"], doc["queue"], doc["created"])
        for name in cls.__slots__:
            setattr(conv, name, doc[name])
        conv.deliveries = {}
        for out_id, state in doc["deliveries"]:
            conv.deliveries[out_id] = state
        conv.part_states = {}
        for out_id, states in doc["part_states"]:
            conv.part_states[out_id] = states
        conv.messages = [tuple(m) for m in doc["messages"]]
        return conv

    def as_dict(self):
        return {
            "id": self.id,
            "kind": self.kind,
            "customer": self.customer,
            "queue": self.queue,
            "state": self.state,
            "desk": self.desk,
            "lang": self.lang,
            "created": self.created,
            "queued": self.queued,
            "offered": self.offered,
            "offer_deadline": self.offer_deadline,
            "accepted": self.accepted,
            "first_reply": self.first_reply,
            "abandoned": self.abandoned,
            "reopened": self.reopened,
            "attempts": self.attempts,
            "messages": [_message_dict(m, self.created) for m in self.messages],
            "deliveries": [
                {"out": o, "state": self.deliveries[o], "parts": self.part_states.get(o, [])}
                for o in sorted(self.deliveries)
            ],
        }


def _message_dict(message, created):
    # (dir, ms after created, text), and a fourth element on an inbound message the
    # modem cut short.
    out = {"dir": message[0], "t": created + message[1], "text": message[2]}
    if len(message) > 3:
        out["truncated"] = True
    return out
