"""Every event the core takes: its kind, its fields and their types, the structural
check, and the constructors the adapters build events with. docs/events.md lists them.

An event is a plain dict with a kind `k` and a time `t` (ms since the Unix epoch),
exactly as the journal stores it, so replay is "apply every record". `check` looks at
the shape only (known kind, required fields present, every field of the right type, no
unknown field); whether the event makes sense now (that conversation is open, that
desk exists) is the branch's business.

SCHEMA is written into snapshots and journal segments: journals of an older schema are
migrated on read (`upgrade`), so a box updated in the field replays what it has.
"""

from branchline.core.conversation import CALLBACK_OUTCOMES, OUTCOMES
from branchline.core.language import LANGUAGES
from branchline.proto.panel import BUTTONS

# 1: the journals written before this module; 2: the same kinds and fields; 3: close's
# outcome is one of OUTCOMES (older free-text outcomes read as "resolved").
SCHEMA = 3

PRESENCE_STATES = ("offline", "available", "break")  # what a desk or the console asks for
DELIVERY_STATES = ("delivered", "pending", "failed")
FAILURE_KINDS = ("temporary", "modem", "permanent")


class EventError(ValueError):
    """An event of the wrong shape: "<kind>: <detail>", the detail naming the field."""

    def __init__(self, kind, detail):
        super().__init__("%s: %s" % (kind, detail) if kind else detail)
        self.detail = detail


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _str(v):
    return isinstance(v, str)


def _text(v):
    return isinstance(v, str) and v != ""


def _int(v):
    return _is_int(v)


def _int_or_none(v):
    return v is None or _is_int(v)


def _bool(v):
    return isinstance(v, bool)


def _ints(v):
    return isinstance(v, list) and all(_is_int(x) for x in v)


def _texts(v):
    return isinstance(v, list) and all(isinstance(x, str) and x != "" for x in v)


def _concat(v):
    return isinstance(v, list) and len(v) == 3 and all(_is_int(x) for x in v)


class _OneOf:
    """A check that the value is one of some strings (a class: MicroPython functions
    take no attributes, and the error message needs the values)."""

    def __init__(self, values):
        self.values = values

    def __call__(self, v):
        return isinstance(v, str) and v in self.values


def _one_of(*values):
    return _OneOf(values)


REQUIRED = True
OPTIONAL = False

# kind -> ((field, check, required, what it is), ...)
KINDS = {
    "sms_in": (
        ("modem", _text, REQUIRED, "the modem that received it"),
        ("from", _str, REQUIRED, "the sender's number (or name)"),
        ("text", _str, REQUIRED, "the text (of this part, for a long message)"),
        ("scts", _str, OPTIONAL, "the SMSC's time stamp, ISO 8601"),
        ("slot", _int_or_none, OPTIONAL, "where the modem stored it (null: delivered directly)"),
        ("fp", _text, OPTIONAL, "fingerprint: the same stored message read again counts once"),
        ("concat", _concat, OPTIONAL, "[ref, total, seq] of a part of a long message"),
        ("truncated", _bool, OPTIONAL, "the modem gave less than the PDU announced"),
    ),
    "sms_bad": (
        ("modem", _text, REQUIRED, "the modem it came from"),
        ("pdu", _str, REQUIRED, "the PDU as the modem gave it, for a technician"),
        ("reason", _str, REQUIRED, "why it could not be taken"),
    ),
    "sms_sent": (
        ("out", _int, REQUIRED, "the outgoing SMS"),
        ("ok", _bool, OPTIONAL, "false: the modem refused it (default true)"),
        ("modem", _text, OPTIONAL, "the modem that sent it (required when ok)"),
        ("mr", _ints, OPTIONAL, "TP-MR of each part (when ok)"),
        ("kind", _one_of(*FAILURE_KINDS), OPTIONAL, "what may work after a failure"),
        ("reason", _str, OPTIONAL, "the modem's error, in words"),
    ),
    "sms_status": (
        ("modem", _text, REQUIRED, "the modem the report came through"),
        ("mr", _int, REQUIRED, "TP-MR of the part it reports on"),
        ("to", _str, OPTIONAL, "the recipient"),
        ("status", _one_of(*DELIVERY_STATES), REQUIRED, "what became of the part"),
    ),
    "call": (
        ("modem", _text, REQUIRED, "the modem that rang"),
        ("from", _text, REQUIRED, "the caller's number"),
        ("rings", _int, OPTIONAL, "how many times it rang"),
    ),
    "button": (
        ("desk", _int, REQUIRED, "the desk"),
        ("button", _one_of(*BUTTONS), REQUIRED, "the button pressed"),
        ("press", _int, OPTIONAL, "the panel's number of the press: each counts once, "
                                  "across restarts too"),
    ),
    "presence": (
        ("desk", _int, REQUIRED, "the desk"),
        ("state", _one_of(*PRESENCE_STATES), REQUIRED, "the presence asked for"),
        ("reason", _int, OPTIONAL, "break reason code"),
    ),
    "accept": (("conv", _int, REQUIRED, "the offered conversation the desk takes up"),),
    "reply": (
        ("conv", _int, REQUIRED, "the conversation"),
        ("text", _str, REQUIRED, "the SMS to send the customer"),
    ),
    "wrapup": (("conv", _int, REQUIRED, "the conversation the desk has finished with"),),
    "close": (
        ("conv", _int, REQUIRED, "the conversation"),
        ("outcome", _one_of(*OUTCOMES), OPTIONAL, "how it ended (default resolved)"),
        ("disposition", _text, OPTIONAL, "the wrap-up's disposition code"),
        ("summary", _str, OPTIONAL, "the wrap-up's summary"),
    ),
    "transfer": (
        ("conv", _int, REQUIRED, "the conversation"),
        ("desk", _int, OPTIONAL, "to this desk's private queue (give desk or queue)"),
        ("queue", _text, OPTIONAL, "to this queue"),
        ("keep_time", _bool, OPTIONAL, "keep its place in time (default true)"),
    ),
    "escalate": (
        ("conv", _int, REQUIRED, "the conversation"),
        ("note", _str, OPTIONAL, "why, for head office"),
    ),
    "assign": (
        ("conv", _int, REQUIRED, "the conversation"),
        ("desk", _int, REQUIRED, "the desk a supervisor chose"),
        ("force", _bool, OPTIONAL, "one above the desk's cap, whatever its presence"),
    ),
    "note": (
        ("conv", _int, REQUIRED, "the conversation"),
        ("text", _text, REQUIRED, "an internal note: kept in the history, never sent"),
    ),
    "handover": (
        ("desk", _int, OPTIONAL, "for this desk's next shift (none: the whole branch's)"),
        ("text", _text, REQUIRED, "the note for whoever signs in next"),
    ),
    "callback_outcome": (
        ("conv", _int, REQUIRED, "the callback request the desk holds"),
        ("outcome", _one_of(*CALLBACK_OUTCOMES), REQUIRED, "what came of the call"),
        ("at", _int, OPTIONAL, "retry: when to call again (ms)"),
    ),
    "customer": (
        ("customer", _text, REQUIRED, "the customer's number"),
        ("name", _str, OPTIONAL, "the customer's name"),
        ("lang", _one_of(*LANGUAGES), OPTIONAL, "the language to write to them in"),
        ("tags", _texts, OPTIONAL, "labels for the agents"),
        ("vip", _bool, OPTIONAL, "queued ahead, as the configuration's vip_numbers"),
        ("notes", _str, OPTIONAL, "free notes on the customer"),
    ),
    "erase": (("customer", _text, REQUIRED, "the number whose transcripts go"),),
    "uplink_ack": (("seq", _int, REQUIRED, "the uplink message head office's broker took"),),
    "tick": (),
    "metrics": (),
}


def check(event):
    """Raise EventError unless `event` has the shape its kind says; changes nothing."""
    if not isinstance(event, dict):
        raise EventError(None, "an event is an object, got %s" % type(event).__name__)
    kind = event.get("k")
    fields = KINDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise EventError(None, "unknown event kind %r" % (kind,))
    t = event.get("t")
    if not isinstance(t, int) or isinstance(t, bool):
        raise EventError(kind, "t must be an integer time (ms)")
    known = 2
    for name, ok, required, _ in fields:
        if name in event:
            known += 1
            if not ok(event[name]):
                raise EventError(kind, "%s %s" % (name, _expected(ok)))
        elif required:
            raise EventError(kind, "%s is missing" % name)
    if known != len(event):
        names = [f[0] for f in fields]
        extra = sorted(key for key in event if key not in names and key not in ("k", "t"))
        raise EventError(kind, "unknown field %s" % extra[0])


_EXPECTED = {
    _str: "must be a string",
    _text: "must be a non-empty string",
    _int: "must be an integer",
    _int_or_none: "must be an integer or null",
    _bool: "must be true or false",
    _ints: "must be a list of integers",
    _texts: "must be a list of non-empty strings",
    _concat: "must be [ref, total, seq]",
}


def _expected(ok):
    if isinstance(ok, _OneOf):
        return "must be one of %s" % ", ".join(ok.values)
    return _EXPECTED[ok]


def make(k, t, **fields):
    """An event of kind `k` at `t` with `fields` (those that are None are left out): the
    one way adapters build events. It is checked where every event is, on its way into
    the journal, so a modem reporting nonsense costs an event, never a crashed reader."""
    event = {"k": k, "t": t}  # `k`, as in the event: sms_sent has a field named kind
    for name in fields:
        if fields[name] is not None:
            event[name] = fields[name]
    return event


def field_names(kind):
    return [f[0] for f in KINDS[kind]]


def upgrade(event, schema):
    """An event as journaled under `schema`, in today's shape."""
    if schema > SCHEMA:
        raise EventError(None, "journal schema %d is newer than this firmware's %d"
                         % (schema, SCHEMA))
    if schema < 3 and event.get("k") == "close" and (
            event.get("outcome", "resolved") not in OUTCOMES):
        event["outcome"] = "resolved"
    return event
