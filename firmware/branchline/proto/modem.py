"""Sans-I/O SMS modem driver: the AT conversation that receives and sends SMS in PDU mode,
reports status reports, calls and the modem's health.

It sits on top of ATEngine. The adapter feeds it bytes and time, writes what
`data_to_send` returns, and acts on its events. A received message stays where the modem
keeps it until the adapter says it is durable in the journal:

- stored delivery (+CMTI, and the sweep with AT+CMGL=4 at every start): `SmsReceived`
  has a `slot`; the adapter calls `delete(slot)` once the message is journaled;
- direct delivery (+CMT, when the driver was built with direct=True): `SmsReceived`
  has slot None; the adapter calls `ack_direct()` once journaled, and the modem keeps
  the message until AT+CNMA (TS 27.005 3.4.4) arrives, retrying or storing it if not.

A crash in between means the message is read again, never lost; the journal's
fingerprints make sure it is delivered to the core once.
"""

from branchline.fifo import Fifo
from branchline.proto import at, at_errors, at_events, pdu
from branchline.proto.modem_events import (
    CallEnded,
    Health,
    IncomingCall,
    ModemProblem,
    ModemReady,
    ModemRebooted,
    ModemUnresponsive,
    NoReportMemory,
    PduIgnored,
    PduJunk,
    SmsDeleted,
    SmsFailed,
    SmsReceived,
    SmsSent,
    SmsUndecodable,
    StatusReport,
)
from branchline.proto.sans_io import NEED_DATA
from branchline.text import is_digits

MESSAGE_MEMORY = "SM"  # where the driver has the modem keep, list and read messages
USE_MESSAGE_MEMORY = 'AT+CPMS="%s","%s","%s"' % (MESSAGE_MEMORY, MESSAGE_MEMORY, MESSAGE_MEMORY)
MEMORIES_QUERY = "AT+CPMS=?"  # which memories the modem has: where can reports be?
REPORT_MEMORY = "SR"  # the standard's memory for status reports: it holds nothing else
# Where else modems keep status reports while the messages are in MESSAGE_MEMORY: swept
# at every start when AT+CPMS=? lists them, as a report that came while the gateway was
# down is announced to nobody. Not "MT" (every memory of the phone, "SM" included: its
# listing would read the messages twice) nor "BM" (cell broadcasts).
OTHER_REPORT_MEMORIES = ("ME",)
SEND_TIMEOUT_MS = 60000
READ_TIMEOUT_MS = 5000
SWEEP_TIMEOUT_MS = 10000  # of silence: a long listing keeps it alive
UNRESPONSIVE_AFTER = 3  # consecutive timeouts before the modem is declared hung
REBOOT_URCS = ("RDY", "SMS Ready", "+CFUN")


def init_commands(direct):
    """The commands that put a modem in the state this driver relies on."""
    if direct:
        # Phase 2+ (AT+CSMS=1) makes the modem wait for our AT+CNMA after each +CMT/+CDS.
        delivery = ("AT+CSMS=1", "AT+CNMI=2,2,0,1,0")
    else:
        # mt=1: the message waits in storage (announced with +CMTI) until we delete it,
        # so nothing is lost if we are down when it arrives; ds=2: reports likewise.
        delivery = ("AT+CNMI=2,1,0,2,0",)
    return (
        "AT",
        "ATE0",
        "AT+CMEE=1",
        "AT+CMGF=0",
        MEMORIES_QUERY,
        USE_MESSAGE_MEMORY,
        "AT+CLIP=1",
        "AT+CRC=1",
    ) + delivery


# -- parsing helpers -----------------------------------------------------------------


def _fields(args):
    return [f.strip() for f in args.split(",")]


def _first_int(args):
    """3 from '"SM",3' or from '3,"REC UNREAD",,23'."""
    for field in _fields(args):
        if is_digits(field):
            return int(field)
    return None


def _unquote(text):
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def csq_to_dbm(rssi):
    """AT+CSQ's 0..31 to dBm (TS 27.007 8.5); 99 = unknown."""
    if rssi is None or rssi == 99 or not 0 <= rssi <= 31:
        return None
    return -113 + 2 * rssi


def registration(args):
    """(registered, roaming) from +CREG/+CEREG/+CGREG answers or URCs (stat is the
    second field in answers to '?', the first in URCs)."""
    fields = _fields(args)
    stat = None
    if len(fields) >= 2 and is_digits(fields[1]):
        stat = int(fields[1])
    elif fields and is_digits(fields[0]):
        stat = int(fields[0])
    if stat is None:
        return None, None
    return stat in (1, 5), stat == 5


class ModemDriver:
    def __init__(self, direct=False):
        self.direct = direct
        self.engine = at.ATEngine()
        self.health = Health()
        self._polled = Health()  # filled by the poll in progress
        self.ready = False
        self._initialising = False
        self._events = Fifo()
        self._reading = {}  # slot -> True while read or awaiting delete (no double reads)
        self._outgoing = {}  # ref -> [remaining (hex, length) parts, message refs so far]
        self._deferred = []  # commands held while the read memory is switched
        self._switched = None  # the memory a transaction switched the read memory to
        self._to_list = []  # report memories to list in their next transaction
        self._to_delete = []  # (memory, slot) of durable reports, for that memory's next one
        self._reported = {}  # (memory, slot) -> True from its report until its deletion
        self._usable = {}  # report memory -> True (selection checked), False (NoReportMemory)
        self._swept_at_start = [REPORT_MEMORY]  # the report memories start-up lists
        self._ignored = {}  # (memory, slot) -> the PDU last told about there (PduIgnored)
        self._timeouts = 0
        self._call_number = None
        self._rings = 0
        self._hanging_up = False
        self._cnma_due = 0

    # -- adapter API ---------------------------------------------------------------
    def start(self, now_ms):
        """(Re)initialise the modem and sweep what arrived while we were away.

        After a reboot nothing the modem was doing survives: commands still queued,
        SMS half sent, acknowledgements owed. The adapter resends what it had in flight."""
        self.ready = False
        self._initialising = True
        self.engine = at.ATEngine()
        self._reading = {}
        self._outgoing = {}
        self._cnma_due = 0
        self._deferred = []
        self._switched = None
        self._to_list = []
        self._to_delete = []
        self._reported = {}
        self._usable = {}
        self._swept_at_start = [REPORT_MEMORY]
        self._ignored = {}
        self._call_number = None
        self._rings = 0
        self._hanging_up = False
        self.engine.recover_prompt(now_ms)
        for text in init_commands(self.direct):
            self._send(at.Command(text, tag="init"), now_ms)
        # The status-report sweep follows this one, once AT+CPMS=? has said whether
        # there is an "SR" to sweep.
        self._send(at.Command("AT+CMGL=4", timeout_ms=SWEEP_TIMEOUT_MS, tag="sweep"), now_ms)

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
            return self._events.pop()
        return NEED_DATA

    def delete(self, slot, now_ms):
        """The message in `slot` is durable: remove it from the modem's storage."""
        self._send(at.Command("AT+CMGD=%d" % slot, tag=("delete", slot)), now_ms)

    def ack_direct(self, now_ms):
        """The last directly delivered message or report is durable: acknowledge it."""
        if self._cnma_due > 0:
            self._cnma_due -= 1
            self._send(at.Command("AT+CNMA", tag="cnma"), now_ms)

    def send_sms(self, ref, number, text, now_ms, status_report=True):
        """Send `text` to `number` as one or more PDUs; ends with SmsSent or SmsFailed(ref).

        Raises ValueError (pdu.PduError) for a number or text that cannot be encoded."""
        # Long texts: parts of one message share a reference that differs from the last
        # message's, or the phone would glue two long messages together.
        parts = pdu.encode_submit(
            number, text, concat_ref=ref & 0xFF, request_status_report=status_report
        )
        self._outgoing[ref] = [list(parts), []]
        self._send_next_part(ref, now_ms)

    def hang_up(self, now_ms):
        """End the ringing call (once, however many rings ask for it)."""
        if not self._hanging_up:
            self._hanging_up = True
            self._send(at.Command("ATH", tag="hangup"), now_ms)

    def sweep(self, now_ms):
        """List stored messages again: one whose +CMTI got lost is found this way."""
        self._send(at.Command("AT+CMGL=4", timeout_ms=SWEEP_TIMEOUT_MS, tag="resweep"), now_ms)

    def poll_health(self, now_ms):
        for text in ("AT+CSQ", "AT+CPIN?", "AT+CREG?", "AT+CEREG?"):
            self._send(at.Command(text, tag="health"), now_ms)

    def reset(self, now_ms):
        """Reboot the modem (AT+CFUN=1,1); it announces itself again and is re-initialised."""
        self.ready = False
        self._send(at.Command("AT+CFUN=1,1", timeout_ms=15000, tag="reset"), now_ms)

    @property
    def sending(self):
        return len(self._outgoing)

    # -- internals -----------------------------------------------------------------
    def _send(self, command, now_ms):
        # Only what reads or deletes messages depends on the read memory; an
        # acknowledgement or a hang-up must not wait for the status-report sweep.
        tag = command.tag
        uses_memory = tag in ("sweep", "resweep") or (
            isinstance(tag, tuple) and tag[0] in ("read", "delete")
        )
        if self._switched is not None and uses_memory:
            self._deferred.append(command)
        else:
            self.engine.send(command, now_ms)

    def _send_next_part(self, ref, now_ms):
        hex_pdu, length = self._outgoing[ref][0].pop(0)
        self._send(
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
        self._send(
            at.Command("AT+CMGR=%d" % slot, timeout_ms=READ_TIMEOUT_MS, tag=("read", slot)),
            now_ms,
        )

    def delete_report(self, slot, now_ms, memory):
        """The report from `memory` slot `slot` is durable: delete it, from the message
        memory like a message, from any other in a transaction."""
        if memory == MESSAGE_MEMORY:
            self.delete(slot, now_ms)
        elif self._usable.get(memory) is not False:  # else `memory` proved not to be one
            self._to_delete.append((memory, slot))
            self._transaction(now_ms)

    def _sweep_reports(self, memory, now_ms):
        """List `memory` for status reports, in a transaction."""
        if self._usable.get(memory) is not False and memory not in self._to_list:
            self._to_list.append(memory)
            self._transaction(now_ms)

    def _transaction(self, now_ms):
        """Work on status reports kept outside the message memory: switch the read memory
        to theirs, delete the durable ones, list new ones, switch back, holding every
        command that reads or deletes messages meanwhile (it would act on the wrong
        memory). One memory at a time: first one with durable reports to delete (that
        frees its slots), else the one asked to be listed first."""
        if self._switched is not None or self._initialising:
            return  # its turn comes when this one ends / the start-up sweep ends with them
        if self._to_delete:
            memory = self._to_delete[0][0]
        elif self._to_list:
            memory = self._to_list[0]
        else:
            return
        self._switched = memory
        self.engine.send(at.Command('AT+CPMS="%s"' % memory, tag=("switch", "select")), now_ms)

    def _unusable(self, memory, reason):
        if self._usable.get(memory) is not False:
            self._usable[memory] = False
            self._to_delete = [d for d in self._to_delete if d[0] != memory]
            if memory in self._to_list:
                self._to_list.remove(memory)
            self._events.push(NoReportMemory(memory, reason))

    def _on_memories(self, resp):
        # The first list: the memories AT+CMGL and AT+CMGD work on, so the ones a report
        # can be taken from (the third says where received messages may be stored, not
        # where reports are). No answer (an old modem) tells nothing: "SR", the
        # standard's, is tried, and its selection checked; another only when a +CDSI
        # names it.
        memories = _first_list(resp.lines)
        if memories is None:
            return
        if REPORT_MEMORY not in memories:
            self._unusable(REPORT_MEMORY, '"SR" is not among its memories (%s)' % ",".join(memories))
        self._swept_at_start = [m for m in (REPORT_MEMORY,) + OTHER_REPORT_MEMORIES
                                if m in memories]

    def _verified(self, resp, now_ms):
        # Some modems answer OK to AT+CPMS="SR" (or "ME") and go on reading the message
        # memory: a listing would then show every message again, and a report in it
        # would be deleted twice, the second time from a slot a new message may hold.
        memory = self._switched
        read = _first_memory(resp.lines)
        if read is None or read == memory:
            self._usable[memory] = True
        else:
            self._unusable(memory, 'AT+CPMS="%s" has no effect: the read memory stays %s'
                           % (memory, read))
        self._selected(self._usable[memory], now_ms)

    def _selected(self, ok, now_ms):
        # Not selected (refused, no answer, no effect): any list or delete now would act
        # on the message memory instead, and must not happen. A report whose delete is
        # dropped so is no longer waited for: the next listing takes it again.
        memory = self._switched
        deletes = [slot for m, slot in self._to_delete if m == memory]
        self._to_delete = [d for d in self._to_delete if d[0] != memory]
        listing = memory in self._to_list
        if listing:
            self._to_list.remove(memory)
        if ok:
            for slot in deletes:
                self.engine.send(
                    at.Command("AT+CMGD=%d" % slot, tag=("switch", "delete", slot)), now_ms
                )
            if listing:
                self.engine.send(
                    at.Command("AT+CMGL=4", timeout_ms=SWEEP_TIMEOUT_MS, tag=("switch", "list")),
                    now_ms,
                )
        else:
            for slot in deletes:
                self._reported.pop((memory, slot), None)
        self.engine.send(at.Command(USE_MESSAGE_MEMORY, tag=("switch", "back")), now_ms)

    def _released(self, now_ms):
        self._switched = None
        held, self._deferred = self._deferred, []
        for command in held:
            self.engine.send(command, now_ms)
        self._transaction(now_ms)  # queued behind what was held: messages do not starve

    def _pump(self):
        while True:
            ev = self.engine.next_event()
            if ev is NEED_DATA:
                return
            if isinstance(ev, at_events.Response):
                self._on_response(ev)
            elif isinstance(ev, at_events.Urc):
                self._on_urc(ev)
            else:
                self._events.push(ev)

    def _on_urc(self, urc):
        now_ms = self.engine.now_ms
        name = urc.name
        if name == "+CMTI":
            self._read(_first_int(urc.args), now_ms)
        elif name == "+CMT":
            self._cnma_due += 1 if self.direct else 0
            self._decoded(None, self._pdu(None, None, urc.pdu or "", _tpdu_length(urc.args)))
        elif name == "+CDS":
            self._cnma_due += 1 if self.direct else 0
            self._status_report(self._pdu(None, None, urc.pdu or "", _tpdu_length(urc.args)))
        elif name == "+CDSI":
            self._report_announced(urc.args, now_ms)
        elif name in ("RING", "+CRING"):
            if name == "+CRING" and "VOICE" not in urc.args.upper():
                return  # a data or fax call is not a customer
            self._rings += 1
            self._events.push(IncomingCall(self._call_number, self._rings))
        elif name == "+CLIP":
            number = _unquote(_fields(urc.args)[0]) if urc.args else ""
            first = self._call_number is None
            self._call_number = number or None
            if first and self._rings:
                self._events.push(IncomingCall(self._call_number, self._rings))
        elif name == "NO CARRIER":
            self._call_ended(by_us=False)
        elif name in ("+CREG", "+CEREG"):
            self.health.registered, self.health.roaming = registration(urc.args)
        elif name in REBOOT_URCS:
            # In service, any of them means the modem restarted behind our back. After
            # our own AT+CFUN=1,1 we wait for "SMS Ready": earlier, SMS commands fail.
            if self.ready or (name == "SMS Ready" and not self._initialising):
                self._events.push(ModemRebooted(name))
                self.start(now_ms)
        else:
            self._events.push(urc)

    def _report_announced(self, args, now_ms):
        """+CDSI: "<memory>",<slot>. A report kept with the messages is read from its slot
        (and dispatched as what it is), and "SR" swept too, as some modems say "SM" for a
        report kept in "SR". A report kept in another memory ("SR", "ME"...) is found by
        listing that one: the listing also finds any whose +CDSI was lost."""
        memory = _memory_named(args)
        if memory is None or memory == MESSAGE_MEMORY:
            self._read(_first_int(args), now_ms)
            memory = REPORT_MEMORY
        self._sweep_reports(memory, now_ms)

    def _on_response(self, resp):
        tag = resp.command.tag
        now_ms = self.engine.now_ms
        if resp.reason == "timeout":
            self._timeouts += 1
            if self._timeouts >= UNRESPONSIVE_AFTER:
                self._events.push(ModemUnresponsive(self._timeouts))
                self._timeouts = 0
        else:
            self._timeouts = 0
        if tag == "init":
            if resp.command.text == MEMORIES_QUERY:
                self._on_memories(resp)
            elif not resp.ok and resp.command.text != "AT":
                self._events.push(
                    ModemProblem("%s failed: %s" % (resp.command.text, _reason(resp)))
                )
            return
        if tag in ("sweep", "resweep"):
            self._on_sweep(resp, tag == "sweep")
            return
        if tag == "health":
            self._on_health(resp)
            return
        if tag == "hangup":
            self._call_ended(by_us=True)
            return
        if tag in ("cnma", "reset"):
            if not resp.ok:
                self._events.push(
                    ModemProblem("%s failed: %s" % (resp.command.text, _reason(resp)))
                )
            return
        kind = tag[0]
        if kind == "read":
            self._on_read(tag[1], resp)
        elif kind == "delete":
            self._reading.pop(tag[1], None)
            if resp.ok:
                self._events.push(SmsDeleted(tag[1]))
            else:
                self._events.push(
                    ModemProblem("AT+CMGD=%d failed: %s" % (tag[1], _reason(resp)))
                )
        elif kind == "send":
            self._on_sent_part(tag[1], resp, now_ms)
        elif kind == "switch":
            self._on_switch(tag, resp, now_ms)

    def _on_switch(self, tag, resp, now_ms):
        step = tag[1]
        memory = self._switched
        if step == "select":
            if resp.ok and memory not in self._usable:
                self.engine.send(at.Command("AT+CPMS?", tag=("switch", "verify")), now_ms)
                return
            if not resp.ok and resp.reason != "timeout":
                # Refused (not merely unanswered): this modem has no such memory to
                # select, so asking again at every sweep and +CDSI would only cost line time.
                self._unusable(memory, 'AT+CPMS="%s" is refused (%s)' % (memory, _reason(resp)))
            self._selected(resp.ok, now_ms)
        elif step == "verify":
            self._verified(resp, now_ms)
        elif step == "delete":
            self._reported.pop((memory, tag[2]), None)
        elif step == "list":
            self._reports_listed(memory, resp)
        elif step == "back":
            self._released(now_ms)

    def _reports_listed(self, memory, resp):
        listing = [(slot, self._pdu(memory, slot, line, length))
                   for slot, line, length in _listed(resp.lines)]
        for _, hex_pdu in listing:
            if memory == REPORT_MEMORY and _mti(hex_pdu) in (pdu.MTI_DELIVER, pdu.MTI_SUBMIT):
                # Messages in "SR", which holds nothing else: the selection did nothing
                # (whatever AT+CPMS? said), and the sweep of the message memory has
                # them all already. In "ME" a message is no such sign.
                self._unusable(memory, 'the "SR" listing holds messages: AT+CPMS="SR" has no effect')
                return
        for slot, hex_pdu in listing:
            if (memory, slot) in self._reported:
                continue  # reported already, waiting for the journal
            try:
                report = pdu.decode_status_report(hex_pdu)
            except pdu.PduError as e:
                # Only ever delete what is certainly a report: anything else in
                # this memory could be a customer's message.
                self._ignore(memory, slot, hex_pdu, "%s, so left there" % e)
                continue
            self._reported[(memory, slot)] = True
            self._events.push(StatusReport(report, slot, memory))

    def _on_sweep(self, resp, starting):
        if not resp.ok:
            self._events.push(ModemProblem("AT+CMGL=4 failed: %s" % _reason(resp)))
        for slot, line, length in _listed(resp.lines):
            if slot not in self._reading:
                self._reading[slot] = True
                self._stored(slot, line, length)
        if starting:
            self.ready = True
            self._initialising = False
            self._events.push(ModemReady())
            for memory in self._swept_at_start:
                self._sweep_reports(memory, self.engine.now_ms)

    def _on_read(self, slot, resp):
        if not resp.ok or len(resp.lines) < 2:
            # Empty slot or read error: forget it, a later +CMTI or sweep retries.
            self._reading.pop(slot, None)
            if not resp.ok:
                self._events.push(
                    ModemProblem("AT+CMGR=%d failed: %s" % (slot, _reason(resp)))
                )
            return
        self._stored(slot, resp.lines[1], _tpdu_length(resp.lines[0][6:]))

    def _stored(self, slot, line, length):
        """A PDU from the message memory, taken for what its TP-MTI says it is: modems
        that keep status reports with the messages, and drafts, have them there too."""
        hex_pdu = self._pdu(MESSAGE_MEMORY, slot, line, length)
        kind = _mti(hex_pdu)
        if kind == pdu.MTI_STATUS_REPORT:
            self._status_report(hex_pdu, slot)
        elif kind == pdu.MTI_SUBMIT:
            # Never ours to delete; forgotten, so that a message stored in this slot
            # once the draft is gone is read.
            self._reading.pop(slot, None)
            self._ignore(MESSAGE_MEMORY, slot, hex_pdu,
                         "a stored SMS-SUBMIT (draft), not a received message")
        else:
            self._decoded(slot, hex_pdu)  # a DELIVER, or what does not decode at all

    def _ignore(self, memory, slot, hex_pdu, reason):
        """A PDU left where it is: told once, not at every listing that shows it again."""
        if self._ignored.get((memory, slot)) != hex_pdu:
            self._ignored[(memory, slot)] = hex_pdu
            self._events.push(PduIgnored(memory, slot, reason))

    def _pdu(self, memory, slot, line, length):
        """The PDU in a line the modem printed, without any junk it ended with. The
        message is then the same, and so is its fingerprint, whether junk came or not."""
        hex_pdu, junk = pdu.split_junk(line, length)
        if junk:
            self._events.push(PduJunk(memory, slot, junk))
        return hex_pdu

    def _decoded(self, slot, hex_pdu):
        try:
            message = pdu.decode_deliver(hex_pdu)
        except pdu.PduError as e:
            self._events.push(SmsUndecodable(slot, hex_pdu, str(e)))
            return
        self._events.push(SmsReceived(slot, hex_pdu, message))

    def _status_report(self, hex_pdu, slot=None):
        """A +CDS (slot None) or a report kept in the message memory."""
        try:
            report = pdu.decode_status_report(hex_pdu)
        except pdu.PduError as e:
            if slot is None:
                self._events.push(ModemProblem("undecodable status report: %s" % e))
            else:  # kept for a technician and deleted, like any PDU there that does not decode
                self._events.push(SmsUndecodable(slot, hex_pdu, str(e)))
            return
        self._events.push(StatusReport(report, slot, None if slot is None else MESSAGE_MEMORY))

    def _on_health(self, resp):
        polled = self._polled
        text = resp.command.text
        if text == "AT+CSQ":
            for line in resp.lines:
                if line.startswith("+CSQ:"):
                    polled.rssi_dbm = csq_to_dbm(_first_int(line[5:]))
        elif text == "AT+CPIN?":
            polled.sim_ready = resp.ok and any("READY" in line for line in resp.lines)
        elif resp.ok:
            # A modem registered on either GSM (CREG) or LTE (CEREG) is in service.
            for line in resp.lines:
                lte = line.startswith("+CEREG:")
                if lte or line.startswith("+CREG:"):
                    registered, roaming = registration(line[line.find(":") + 1 :])
                    if registered:
                        polled.registered, polled.roaming = True, roaming
                        polled.technology = "LTE" if lte else "GSM"
                    elif polled.registered is None:
                        polled.registered, polled.roaming = registered, roaming
        if text == "AT+CEREG?":
            self.health = polled
            self._polled = Health()
            self._events.push(polled)

    def _call_ended(self, by_us):
        if self._rings or self._call_number is not None:
            self._events.push(CallEnded(self._call_number, self._rings, by_us))
        self._call_number = None
        self._rings = 0
        self._hanging_up = False

    def _on_sent_part(self, ref, resp, now_ms):
        state = self._outgoing.get(ref)
        if state is None:
            return
        if not resp.ok:
            del self._outgoing[ref]
            if resp.reason == "timeout" or not (resp.reason or "").startswith("+CMS"):
                kind = at_errors.TEMPORARY  # no verdict on the message itself
            else:
                kind = at_errors.cms_kind(resp.code)
            self._events.push(SmsFailed(ref, _reason(resp), kind, len(state[1])))
            return
        for line in resp.lines:
            if line.startswith("+CMGS:"):
                state[1].append(_first_int(line[6:]))
        if state[0]:
            self._send_next_part(ref, now_ms)
        else:
            del self._outgoing[ref]
            self._events.push(SmsSent(ref, state[1]))


def _reason(resp):
    if resp.code is not None and resp.reason and resp.reason.startswith("+CMS"):
        return at_errors.describe("CMS", resp.code)
    if resp.code is not None and resp.reason and resp.reason.startswith("+CME"):
        return at_errors.describe("CME", resp.code)
    return resp.reason


def _mti(hex_pdu):
    try:
        return pdu.message_type(hex_pdu)
    except pdu.PduError:
        return None


def _first_list(lines):
    """['SM', 'ME', 'SR'] from '+CPMS: ("SM","ME","SR"),("SM","ME"),...', else None."""
    for line in lines:
        if line.startswith("+CPMS:"):
            start = line.find("(")
            end = line.find(")", start)
            if start < 0 or end < 0:
                return None
            return [_unquote(f) for f in _fields(line[start + 1 : end])]
    return None


def _memory_named(args):
    """'ME' from the '"ME",3' of a +CDSI, else None. Letters only: the name goes into an
    AT+CPMS command, where a quote or a CR would end it and start another."""
    field = _fields(args)[0]
    name = _unquote(field)
    if name == field or not name:
        return None
    for c in name:
        if not "A" <= c <= "Z":
            return None
    return name


def _first_memory(lines):
    """'SM' from AT+CPMS?'s '+CPMS: "SM",3,30,...' (the read memory), else None."""
    for line in lines:
        if line.startswith("+CPMS:"):
            first = _fields(line[6:])[0]
            return _unquote(first) if first[:1] == '"' else None
    return None


def _tpdu_length(args):
    """The <length> that ends the header of a PDU line (+CMGL: 1,0,,23 / +CMGR: 0,,23 /
    +CMT: ,23 / +CDS: 25), or None."""
    last = _fields(args)[-1]
    return int(last) if is_digits(last) else None


def _listed(lines):
    """(slot, pdu line, its announced TPDU length) from an AT+CMGL answer."""
    out = []
    i = 0
    while i + 1 < len(lines):
        if lines[i].startswith("+CMGL:"):
            slot = _first_int(lines[i][6:])
            if slot is not None:
                out.append((slot, lines[i + 1], _tpdu_length(lines[i][6:])))
            i += 2
        else:
            i += 1
    return out
