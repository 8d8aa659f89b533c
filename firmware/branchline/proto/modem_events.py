"""The events the modem driver (proto/modem.py) reports through next_event()."""


class ModemReady:
    """Init and the start-up sweep are done: the modem is in service."""

    __slots__ = ()


class ModemProblem:
    """A command the driver relies on failed; `reason` names it."""

    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


class ModemUnresponsive:
    """Several commands in a row got no answer: the adapter should reset the modem."""

    __slots__ = ("timeouts",)

    def __init__(self, timeouts):
        self.timeouts = timeouts


class ModemRebooted:
    """The modem announced a restart (RDY, SMS Ready...); the driver re-initialises it."""

    __slots__ = ("urc",)

    def __init__(self, urc):
        self.urc = urc


class SmsReceived:
    """A message from `slot` (None for direct delivery); `message` is a pdu.Deliver."""

    __slots__ = ("slot", "pdu", "message")

    def __init__(self, slot, pdu_hex, message):
        self.slot = slot
        self.pdu = pdu_hex
        self.message = message


class SmsUndecodable:
    """A PDU that does not decode; the adapter keeps it for a technician, then deletes it."""

    __slots__ = ("slot", "pdu", "reason")

    def __init__(self, slot, pdu_hex, reason):
        self.slot = slot
        self.pdu = pdu_hex
        self.reason = reason


class PduJunk:
    """A PDU line ended with junk (a stray '"', a space) that was cut off before decoding;
    `memory` and `slot` say where it was read (both None for +CMT/+CDS)."""

    __slots__ = ("memory", "slot", "junk")

    def __init__(self, memory, slot, junk):
        self.memory = memory
        self.slot = slot
        self.junk = junk


class SmsDeleted:
    """The modem confirmed that `slot` is free again."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


class SmsSent:
    """Every part of outgoing message `ref` was accepted; `message_refs` are the TP-MRs."""

    __slots__ = ("ref", "message_refs")

    def __init__(self, ref, message_refs):
        self.ref = ref
        self.message_refs = message_refs


class SmsFailed:
    """Outgoing message `ref` was refused. `kind` (at_errors.TEMPORARY / MODEM / PERMANENT)
    says what may work: the same again later, another modem, or nothing."""

    __slots__ = ("ref", "reason", "kind", "parts_sent")

    def __init__(self, ref, reason, kind, parts_sent):
        self.ref = ref
        self.reason = reason
        self.kind = kind
        self.parts_sent = parts_sent


class StatusReport:
    """A delivery report; `report` is a pdu.StatusReport (message_ref, status_kind...).

    Like a message, it stays with the modem until the adapter says it is durable:
    `delete_report(slot, now_ms, memory)` for one kept in `memory` ("SR", "ME", or the
    message memory of modems that keep reports with the messages), `ack_direct()` for a
    +CDS (slot and memory None)."""

    __slots__ = ("report", "slot", "memory")

    def __init__(self, report, slot=None, memory=None):
        self.report = report
        self.slot = slot
        self.memory = memory


class NoReportMemory:
    """`memory` ("SR", "ME"...) is no usable memory for status reports on this modem
    (`reason` says how that showed): it is left alone from then on, and reports are read
    where else the modem keeps them."""

    __slots__ = ("memory", "reason")

    def __init__(self, memory, reason):
        self.memory = memory
        self.reason = reason


class PduIgnored:
    """`slot` of `memory` holds a PDU that is not ours to take (`reason`): a draft or a
    copy kept by AT+CMGW in the message memory, anything but a status report in a memory
    only reports are taken from. It is neither journaled nor deleted. Told once per PDU."""

    __slots__ = ("memory", "slot", "reason")

    def __init__(self, memory, slot, reason):
        self.memory = memory
        self.slot = slot
        self.reason = reason


class IncomingCall:
    """The phone rings: `number` from +CLIP (None until the network tells), `rings` so far."""

    __slots__ = ("number", "rings")

    def __init__(self, number, rings):
        self.number = number
        self.rings = rings


class CallEnded:
    """The caller hung up, or we did (`by_us`)."""

    __slots__ = ("number", "rings", "by_us")

    def __init__(self, number, rings, by_us):
        self.number = number
        self.rings = rings
        self.by_us = by_us


class Health:
    """Signal and registration as last polled; None where the modem did not say."""

    __slots__ = ("rssi_dbm", "registered", "roaming", "sim_ready", "technology")

    def __init__(self):
        self.rssi_dbm = None
        self.registered = None
        self.roaming = None
        self.sim_ready = None
        self.technology = None

    def as_dict(self):
        return {
            "rssi_dbm": self.rssi_dbm,
            "registered": self.registered,
            "roaming": self.roaming,
            "sim_ready": self.sim_ready,
            "technology": self.technology,
        }
