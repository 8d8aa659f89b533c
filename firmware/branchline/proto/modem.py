"""Sans-I/O SMS modem driver: the AT conversation that receives and sends SMS in PDU mode.

It sits on top of ATEngine. The adapter feeds it bytes and time, writes what
`data_to_send` returns, and acts on its events. A received message is reported as
`SmsReceived` and stays in the modem's storage until the adapter calls `delete(slot)`,
which it does only once the message is durable in the journal: a crash in between means
the message is read again, never lost.
"""

from branchline.proto import at, pdu

INIT_COMMANDS = (
    "AT",
    "ATE0",
    "AT+CMEE=1",
    "AT+CMGF=0",
    'AT+CPMS="SM","SM","SM"',
    # +CMTI for stored messages (mode 2, mt 1): the message waits in storage until we
    # delete it, so nothing is lost if we are down when it arrives.
    "AT+CNMI=2,1,0,0,0",
)
SEND_TIMEOUT_MS = 60000
READ_TIMEOUT_MS = 5000


class ModemReady:
    __slots__ = ()


class ModemProblem:
    """A command the driver relies on failed; `reason` names it."""

    __slots__ = ("reason",)

    def __init__(self, reason):
        self.reason = reason


class SmsReceived:
    """A message read from storage `slot`; `message` is a pdu.Deliver."""

    __slots__ = ("slot", "pdu", "message")

    def __init__(self, slot, pdu_hex, message):
        self.slot = slot
        self.pdu = pdu_hex
        self.message = message


class SmsUndecodable:
    """A stored PDU that does not decode; the adapter keeps it for a technician, then deletes it."""

    __slots__ = ("slot", "pdu", "reason")

    def __init__(self, slot, pdu_hex, reason):
        self.slot = slot
        self.pdu = pdu_hex
        self.reason = reason


class SmsDeleted:
    """The modem confirmed that `slot` is free again."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


class SmsSent:
    __slots__ = ("ref", "message_refs")

    def __init__(self, ref, message_refs):
        self.ref = ref
        self.message_refs = message_refs


class SmsFailed:
    __slots__ = ("ref", "reason")

    def __init__(self, ref, reason):
        self.ref = ref
        self.reason = reason


def _first_int(args):
    """3 from '"SM",3' or from '3,"REC UNREAD",,23'."""
    for field in args.split(","):
        field = field.strip()
        if field.isdigit():
            return int(field)
    return None


class ModemDriver:
    def __init__(self):
        self.engine = at.ATEngine()
        self._events = []
        self._reading = {}  # slot -> True while read or awaiting delete (no double reads)
        self._outgoing = {}  # ref -> [remaining (hex, length) parts, message refs so far]
        self.ready = False

    def start(self, now_ms):
        """(Re)initialise the modem and sweep messages that arrived while we were away."""
        self.ready = False
        self.engine.recover_prompt()
        for text in INIT_COMMANDS:
            self.engine.send(at.Command(text, tag="init"), now_ms)
        self.engine.send(at.Command("AT+CMGL=4", timeout_ms=30000, tag="sweep"), now_ms)

    # -- adapter API ---------------------------------------------------------------
    def receive_data(self, data, now_ms):
        self.engine.receive_data(data, now_ms)
        self._pump()

    def tick(self, now_ms):
        self.engine.tick(now_ms)
        self._pump()

    def data_to_send(self):
        return self.engine.data_to_send()

    def next_event(self):
        if self._events:
            return self._events.pop(0)
        return at.NEED_DATA

    def delete(self, slot, now_ms):
        """The message in `slot` is durable: remove it from the modem's storage."""
        self.engine.send(at.Command("AT+CMGD=%d" % slot, tag=("delete", slot)), now_ms)

    def send_sms(self, ref, number, text, now_ms):
        """Send `text` to `number` as one or more PDUs; ends with SmsSent or SmsFailed(ref)."""
        # Long texts: parts of one message share a reference that differs from the last
        # message's, or the phone would glue two long messages together.
        parts = pdu.encode_submit(number, text, concat_ref=ref & 0xFF)
        self._outgoing[ref] = [list(parts), []]
        self._send_next_part(ref, now_ms)

    # -- internals -----------------------------------------------------------------
    def _send_next_part(self, ref, now_ms):
        remaining = self._outgoing[ref][0]
        hex_pdu, length = remaining.pop(0)
        self.engine.send(
            at.Command(
                "AT+CMGS=%d" % length,
                payload=hex_pdu,
                timeout_ms=SEND_TIMEOUT_MS,
                tag=("send", ref),
            ),
            now_ms,
        )

    def _read(self, slot, now_ms):
        if slot is None or slot in self._reading:
            return
        self._reading[slot] = True
        self.engine.send(
            at.Command("AT+CMGR=%d" % slot, timeout_ms=READ_TIMEOUT_MS, tag=("read", slot)),
            now_ms,
        )

    def _pump(self):
        while True:
            ev = self.engine.next_event()
            if ev is at.NEED_DATA:
                return
            if isinstance(ev, at.Response):
                self._on_response(ev)
            elif isinstance(ev, at.Urc):
                self._on_urc(ev)
            else:
                self._events.append(ev)

    def _on_urc(self, urc):
        if urc.name == "+CMTI":
            self._read(_first_int(urc.args), self.engine.now_ms)
        else:
            self._events.append(urc)

    def _on_response(self, resp):
        tag = resp.command.tag
        now_ms = self.engine.now_ms
        if tag == "init":
            if not resp.ok and resp.command.text not in ("AT",):
                self._events.append(
                    ModemProblem("%s failed: %s" % (resp.command.text, resp.reason))
                )
            return
        if tag == "sweep":
            self._on_sweep(resp)
            return
        kind = tag[0]
        if kind == "read":
            self._on_read(tag[1], resp)
        elif kind == "delete":
            self._reading.pop(tag[1], None)
            if resp.ok:
                self._events.append(SmsDeleted(tag[1]))
            else:
                self._events.append(
                    ModemProblem("AT+CMGD=%d failed: %s" % (tag[1], resp.reason))
                )
        elif kind == "send":
            self._on_sent_part(tag[1], resp, now_ms)

    def _on_sweep(self, resp):
        if not resp.ok:
            self._events.append(ModemProblem("AT+CMGL=4 failed: %s" % resp.reason))
        lines = resp.lines
        i = 0
        while i + 1 < len(lines):
            if lines[i].startswith("+CMGL:"):
                slot = _first_int(lines[i][6:])
                if slot is not None and slot not in self._reading:
                    self._reading[slot] = True
                    self._decoded(slot, lines[i + 1])
                i += 2
            else:
                i += 1
        self.ready = True
        self._events.append(ModemReady())

    def _on_read(self, slot, resp):
        if not resp.ok or len(resp.lines) < 2:
            # Empty slot or read error: forget it, a later +CMTI or sweep retries.
            self._reading.pop(slot, None)
            if not resp.ok:
                self._events.append(
                    ModemProblem("AT+CMGR=%d failed: %s" % (slot, resp.reason))
                )
            return
        self._decoded(slot, resp.lines[1])

    def _decoded(self, slot, hex_pdu):
        try:
            message = pdu.decode_deliver(hex_pdu)
        except pdu.PduError as e:
            self._events.append(SmsUndecodable(slot, hex_pdu, str(e)))
            return
        self._events.append(SmsReceived(slot, hex_pdu, message))

    def _on_sent_part(self, ref, resp, now_ms):
        state = self._outgoing.get(ref)
        if state is None:
            return
        if not resp.ok:
            del self._outgoing[ref]
            self._events.append(SmsFailed(ref, resp.reason))
            return
        for line in resp.lines:
            if line.startswith("+CMGS:"):
                state[1].append(_first_int(line[6:]))
        if state[0]:
            self._send_next_part(ref, now_ms)
        else:
            del self._outgoing[ref]
            self._events.append(SmsSent(ref, state[1]))
