"""SMS in PDU mode (27.005): memories and AT+CPMS; listing, reading, writing and deleting;
sending after the '>' prompt; new-message indications per AT+CNMI (+CMTI, +CMT, +CDSI,
+CDS) with AT+CNMA acknowledgement under AT+CSMS=1. And the network's side: messages
that wait while storage is full, status reports for submits that ask for one."""

import collections
import time

from branchline.proto import pdu
from host_tools.modem_sim import models, reports
from host_tools.modem_sim.parser import READ, SET, fields
from host_tools.modem_sim.results import cms, handles, number
from host_tools.modem_sim.storage import ALL, REC_UNREAD, STO_UNSENT, Memory, tpdu_length

STORM_SENDER = "+447700900999"
CNMI_RANGES = (range(4), range(4), range(4), range(3), range(2))  # mode, mt, bm, ds, bfr


def now_scts():
    t = time.gmtime()
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, 0)


class SentMessage:
    __slots__ = ("mr", "pdu", "number", "text", "at", "status_report_requested")

    def __init__(self, mr, hex_pdu, message):
        self.mr = mr
        self.pdu = hex_pdu
        self.number = message.number
        self.text = message.text
        self.status_report_requested = message.status_report_requested
        self.at = time.time()


class Inbound:
    """A message ('sms') or status report ('report') the network is handing to the modem."""

    __slots__ = ("kind", "pdu", "slot", "store_only", "told_waiting")

    def __init__(self, kind, hex_pdu):
        self.kind = kind
        self.pdu = hex_pdu
        self.slot = None  # where it was stored, once it was
        self.store_only = False  # set when direct delivery went unacknowledged
        self.told_waiting = False


class SmsCommands:
    def __init__(self, capacity, me_capacity, sr_capacity, cnma_timeout, cnma_fallback,
                 report_delay, cdsi_wrong_memory, *, pdu_trailer="", truncate_udl=0,
                 reports_in="SR", sr_memory=True, sr_select_ignored=False):
        if cnma_fallback not in ("store", "drop"):
            raise ValueError("cnma_fallback must be 'store' or 'drop', got %r" % cnma_fallback)
        self.memories = {"SM": Memory("SM", capacity), "ME": Memory("ME", me_capacity)}
        if sr_memory:
            self.memories["SR"] = Memory("SR", sr_capacity)
        if reports_in not in self.memories:
            raise ValueError("reports_in must be one of %s, got %r"
                             % (", ".join(self.memories), reports_in))
        self.reports_in = reports_in  # the memory status reports are kept in
        self.sr_select_ignored = sr_select_ignored  # AT+CPMS="SR" answers OK, selects nothing
        self.storage = self.memories["SM"].slots  # the SIM's slots: index -> [stat, pdu]
        self.sent = []
        self.deleted = []  # (memory, index) of every message AT+CMGD removed, in order
        self.listed = []  # the memory each AT+CMGL listed, in order
        self.reports = []  # status report PDUs the network produced, routed or not
        self.lost = []  # PDUs the network gave up on (no +CNMA with fallback 'drop', SR full)
        self.report_outcomes = {}  # destination number -> TP-ST (or its name) of its reports
        self.next_mr = 0
        self.cnma_timeout = cnma_timeout
        self.cnma_fallback = cnma_fallback
        self.report_delay = report_delay
        self.cdsi_wrong_memory = cdsi_wrong_memory
        self.pdu_trailer = pdu_trailer  # printed after the PDU of +CMGR/+CMGL (a dialect)
        self.truncate_udl = truncate_udl  # octets of user data lost when a message is stored
        self.storage_full = False
        self.storm_texts = []  # every message a storm delivered, in order
        self._storm = None  # [seconds between deliveries, how many more or None, sender]
        self._network = collections.deque()  # Inbound items in the order the SMSC sends them
        self._awaiting_ack = None  # (Inbound, Timer) while a +CMT/+CDS waits for AT+CNMA
        self._concat_ref = 0

    @property
    def capacity(self):
        return self.memories["SM"].capacity

    @capacity.setter
    def capacity(self, value):
        self.memories["SM"].capacity = value

    def reset_sms_settings(self):
        self.cmgf = 0
        self.csms = 0
        self.smsc = models.SMSC
        self.mem = ["SM", "SM", "SM"]  # read/list/delete, write/send, receive
        self.cnmi_mode = self.cnmi_mt = self.cnmi_bm = self.cnmi_ds = self.cnmi_bfr = 0

    # -- the network side (tests, control socket) --------------------------------------
    def deliver(self, sender, text, scts=None):
        """A message arrives from the network: its parts are stored or routed per AT+CNMI.

        -> the slots stored now; [] when they wait (storage full, a +CMT not yet
        acknowledged) or went straight to the port as +CMT."""
        with self.lock:
            self._concat_ref = (self._concat_ref + 1) & 0xFF  # long messages must differ
            items = [Inbound("sms", p) for p in
                     pdu.encode_deliver(sender, text, scts or now_scts(), concat_ref=self._concat_ref)]
            self._network.extend(items)
            self.pump_network()
            slots = [item.slot for item in items if item.slot is not None]
            self.on_log("network delivered SMS into slots %s" % slots)
            return slots

    def set_report_outcome(self, number_, outcome):
        """Status reports for messages to `number_` carry `outcome` ('permanent', 0x41...)."""
        with self.lock:
            self.report_outcomes[number_] = reports.status_code(outcome)

    def set_storage_full(self, full):
        """Every memory refuses new messages as if full; the network's messages wait."""
        with self.lock:
            self.storage_full = full
            self.pump_network()

    def storm(self, every_ms, count=None, sender=STORM_SENDER):
        """The network delivers 'storm <n>' every `every_ms` ms, `count` times or until
        `stop_storm()`: under AT+CNMI mt=1 a +CMTI follows each, a steady stream of URCs."""
        if not every_ms > 0 or (count is not None and count < 1):
            raise ValueError("storm needs every_ms > 0 and a count of at least 1, got %r, %r"
                             % (every_ms, count))
        with self.lock:
            self._storm = [every_ms / 1000.0, count, sender]
            self.later(self._storm[0], self._storm_step, self._storm)

    def stop_storm(self):
        with self.lock:
            self._storm = None

    @property
    def storming(self):
        return self._storm is not None

    def _storm_step(self, storm):
        if self._storm is not storm:
            return  # stopped, or replaced by a newer storm
        text = "storm %d" % len(self.storm_texts)
        self.storm_texts.append(text)
        self.deliver(storm[2], text)
        if storm[1] is not None:
            storm[1] -= 1
            if storm[1] <= 0:
                self._storm = None
                return
        self.later(storm[0], self._storm_step, storm)

    def pump_network(self):
        """Hand waiting messages over while the modem can take them, in order (the SMSC
        retries a message the modem could not store; later ones queue behind it)."""
        while self._network and not self._booting and self._awaiting_ack is None:
            if not self._route(self._network[0]):
                return
            self._network.popleft()

    @property
    def waiting(self):
        """PDUs the network holds for this modem."""
        with self.lock:
            return [item.pdu for item in self._network]

    def _route(self, item):
        """Deliver `item` per AT+CNMI; False when it has to wait."""
        if item.kind == "report":
            self._route_report(item)
            return True
        if self.cnmi_mt == 2 and not item.store_only:
            self._direct(item, "+CMT: ,%d")
            return True
        mem = self.memories[self.mem[2]]
        if self.storage_full or mem.full:
            if not item.told_waiting:
                item.told_waiting = True
                self.on_log("storage %s full: the network's message waits" % mem.name)
            return False
        item.slot = mem.store(REC_UNREAD, self._as_stored(item.pdu))
        if self.cnmi_mt:
            self.urc('+CMTI: "%s",%d' % (mem.name, item.slot))
        return True

    def _as_stored(self, hex_pdu):
        """The dialect of modems that keep less user data than TP-UDL says (TP-UDL stays)."""
        if self.truncate_udl:
            return hex_pdu[: len(hex_pdu) - 2 * self.truncate_udl]
        return hex_pdu

    def _route_report(self, item):
        if self.cnmi_ds == 1 and not item.store_only:
            self._direct(item, "+CDS: %d")
            return
        if self.cnmi_ds == 0 and not item.store_only:
            self.on_log("status report not routed (AT+CNMI ds=0)")
            return
        mem = self.memories[self.reports_in]
        if self.storage_full or mem.full:
            self.on_log("%s memory full: status report lost" % mem.name)
            self.lost.append(item.pdu)
            return
        item.slot = mem.store(REC_UNREAD, item.pdu)
        # The quirk some firmware has: the report is in SR but the URC names SM.
        self.urc('+CDSI: "%s",%d' % ("SM" if self.cdsi_wrong_memory else mem.name, item.slot))

    def _direct(self, item, header):
        self.urc(header % tpdu_length(item.pdu))
        if not self._hung:
            self.write(item.pdu + "\r\n")
        if self.csms == 1:
            timer = self.later(self.cnma_timeout, self._ack_timeout, item)
            self._awaiting_ack = (item, timer)

    def _ack_timeout(self, item):
        if self._awaiting_ack is not None and self._awaiting_ack[0] is item:
            self._unacknowledged("no AT+CNMA within %.1f s" % self.cnma_timeout)
            self.pump_network()

    def _unacknowledged(self, why):
        """A direct delivery was not acknowledged: store it instead, or lose it (flag)."""
        item, timer = self._awaiting_ack
        timer.cancel()
        self._awaiting_ack = None
        if self.cnma_fallback == "drop":
            self.on_log("%s: %s dropped" % (why, item.kind))
            self.lost.append(item.pdu)
            return
        self.on_log("%s: %s goes to storage" % (why, item.kind))
        item.store_only = True
        self._network.appendleft(item)

    def _report(self, mr, number_, submitted):
        status = self.report_outcomes.get(number_, 0)
        hex_pdu = pdu.encode_status_report(mr, number_, submitted, now_scts(), status)
        self.reports.append(hex_pdu)
        self.on_log("status report mr=%d st=0x%02X" % (mr, status))
        self._network.append(Inbound("report", hex_pdu))
        self.pump_network()

    def sent_texts(self):
        with self.lock:
            return [(m.number, m.text) for m in self.sent]

    # -- commands ------------------------------------------------------------------------
    def _sms_ready(self):
        self.need_sim(cms(310))

    def _memory(self, which):
        return self.memories[self.mem[which]]

    @handles("+CMGF", test="+CMGF: (0,1)")
    def _cmgf(self, cmd):
        self._setting(cmd, "cmgf", (0, 1), cms(302))

    @handles("+CSMS", test="+CSMS: (0,1)")
    def _csms(self, cmd):
        if cmd.op == SET:
            self.csms = number(cmd.args, (0, 1), cms(302))
            self.info("+CSMS: 1,1,1")  # mobile terminated, originated, broadcast: all there
        elif cmd.op == READ:
            self.info("+CSMS: %d,1,1,1" % self.csms)

    @handles("+CSCA")
    def _csca(self, cmd):
        if cmd.op == SET:
            self.smsc = fields(cmd.args)[0]
        elif cmd.op == READ:
            self.info('+CSCA: "%s",%d' % (self.smsc, 145 if self.smsc.startswith("+") else 129))

    def _cpms_test(self):
        return '+CPMS: (%s),("SM","ME"),("SM","ME")' % ",".join('"%s"' % m for m in self.memories)

    @handles("+CPMS", test=lambda sim: sim._cpms_test())
    def _cpms(self, cmd):
        self._sms_ready()
        if cmd.op == READ:
            self.info("+CPMS: " + ",".join('"%s",%d,%d' % (m.name, m.used, m.capacity)
                                           for m in map(self._memory, range(3))))
            return
        names = [name.upper() for name in fields(cmd.args)]
        if cmd.op != SET or not 1 <= len(names) <= 3:
            raise cms(302)
        for i, name in enumerate(names):
            # Status reports only arrive from the network; nothing is written into SR.
            if name not in self.memories or (i > 0 and name == "SR"):
                raise cms(302)
        if self.sr_select_ignored and names[0] == "SR":
            names[0] = self.mem[0]  # the dialect: OK, and the read memory stays
        self.mem[: len(names)] = names
        self.info("+CPMS: " + ",".join("%d,%d" % (m.used, m.capacity)
                                       for m in map(self._memory, range(3))))

    @handles("+CNMI", test="+CNMI: (0-3),(0-3),(0-3),(0-2),(0,1)")
    def _cnmi(self, cmd):
        names = ("cnmi_mode", "cnmi_mt", "cnmi_bm", "cnmi_ds", "cnmi_bfr")
        if cmd.op == READ:
            self.info("+CNMI: " + ",".join(str(getattr(self, n)) for n in names))
            return
        values = fields(cmd.args)
        if cmd.op != SET or len(values) > len(names):
            raise cms(303)
        new = [number(v, allowed, cms(303)) if v else getattr(self, n)
               for v, n, allowed in zip(values, names, CNMI_RANGES)]
        for n, v in zip(names, new):
            setattr(self, n, v)

    @handles("+CNMA", test="+CNMA: (0-2)")
    def _cnma(self, cmd):
        args = fields(cmd.args) if cmd.op == SET else [""]
        kind = number(args[0] or "0", range(3), cms(302))
        if self.csms != 1 or self._awaiting_ack is None:
            raise cms(340)
        if len(args) > 1 and args[1]:
            # An RP-ACK / RP-ERROR TPDU follows the prompt; its content does not matter here.
            return self.prompt(number(args[1], range(176), cms(304)),
                               lambda hex_pdu, length: self._acknowledge(kind))
        self._acknowledge(kind)
        return None

    def _acknowledge(self, kind):
        if self._awaiting_ack is None:
            raise cms(340)
        if kind == 2:
            self._unacknowledged("AT+CNMA=2 (RP-ERROR)")
            return
        item, timer = self._awaiting_ack
        timer.cancel()
        self._awaiting_ack = None
        self.on_log("%s acknowledged" % item.kind)

    def _pdu_mode(self):
        """SMS commands that need the SIM and PDU mode (text mode is not simulated: the
        product and gammu both use PDU mode)."""
        self._sms_ready()
        if self.cmgf != 0:
            raise cms(302)

    @handles("+CMGL", test="+CMGL: (0-4)")
    def _cmgl(self, cmd):
        self._pdu_mode()
        stat = number(cmd.args or "0", range(ALL + 1), cms(302))
        self.listed.append(self.mem[0])
        for index, old_stat, hex_pdu in self._memory(0).listing(stat):
            self.info("+CMGL: %d,%d,,%d" % (index, old_stat, tpdu_length(hex_pdu)))
            self.raw_line(hex_pdu + self.pdu_trailer)

    @handles("+CMGR")
    def _cmgr(self, cmd):
        self._pdu_mode()
        mem = self._memory(0)
        got = mem.read(number(fields(cmd.args)[0], range(1, mem.capacity + 1), cms(321)))
        if got is not None:  # an empty slot answers a bare OK, as SIM800 and EC2x do
            self.info("+CMGR: %d,,%d" % (got[0], tpdu_length(got[1])))
            self.raw_line(got[1] + self.pdu_trailer)

    @handles("+CMGD", test=lambda sim: "+CMGD: (1-%d),(0-4)" % sim._memory(0).capacity)
    def _cmgd(self, cmd):
        self._sms_ready()
        mem = self._memory(0)
        args = fields(cmd.args)
        index = number(args[0], range(1 << 16), cms(321))
        flag = number(args[1], range(5), cms(302)) if len(args) > 1 and args[1] else 0
        if flag == 0 and not mem.valid(index):
            raise cms(321)
        code = self.take_failure("delete")
        if code is not None:
            raise cms(code)
        self.deleted.extend((mem.name, i) for i in mem.delete(index, flag))
        self.on_log("deleted %s slot %d (delflag %d)" % (mem.name, index, flag))

    @handles("+CMGS")
    def _cmgs(self, cmd):
        self._pdu_mode()
        if cmd.op != SET:
            raise cms(302)
        return self.prompt(number(fields(cmd.args)[0], range(7, 165), cms(304)), self.submit)

    @handles("+CMGW")
    def _cmgw(self, cmd):
        self._pdu_mode()
        args = fields(cmd.args)
        if cmd.op != SET:
            raise cms(302)
        length = number(args[0], range(7, 177), cms(304))
        stat = number(args[1], range(4), cms(302)) if len(args) > 1 and args[1] else STO_UNSENT
        return self.prompt(length, lambda hex_pdu, n: self._write_pdu(hex_pdu, n, stat))

    def _checked_length(self, hex_pdu, length):
        try:
            bytes.fromhex(hex_pdu)
            actual = tpdu_length(hex_pdu)
        except ValueError as e:
            self.on_log("rejected PDU: %s" % e)
            raise cms(304) from None
        if actual != length:
            self.on_log("rejected PDU: the command said %s octets, the PDU has %d" % (length, actual))
            raise cms(304)

    def _write_pdu(self, hex_pdu, length, stat):
        self._checked_length(hex_pdu, length)
        mem = self._memory(1)
        if self.storage_full or mem.full:
            raise cms(322)
        self.info("+CMGW: %d" % mem.store(stat, hex_pdu.upper()))

    def submit(self, hex_pdu, length):
        """The PDU typed at AT+CMGS's prompt goes to the network, or fails as configured."""
        self._checked_length(hex_pdu, length)
        try:
            message = pdu.decode_submit(hex_pdu)
        except pdu.PduError as e:
            self.on_log("rejected PDU: %s" % e)
            raise cms(304) from None
        code = self.take_failure("send")
        if code is not None:
            self.on_log("send fails with +CMS ERROR %d (injected)" % code)
            raise cms(code)
        if not self.registered:
            raise cms(331)
        mr = self.next_mr
        self.next_mr = (mr + 1) % 256
        self.sent.append(SentMessage(mr, hex_pdu, message))
        self.on_log("sent SMS mr=%d to %s: %r" % (mr, message.number, message.text))
        self.info("+CMGS: %d" % mr)
        if message.status_report_requested:
            self.later(self.report_delay, self._report, mr, message.number, now_scts())
