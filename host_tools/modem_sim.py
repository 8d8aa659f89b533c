"""A GSM modem on a pseudo-terminal that answers like a SIM800 / Quectel in PDU mode.

It echoes commands until ATE0, stores inbound messages in numbered slots of "SM" memory
and announces them with +CMTI (per AT+CNMI), lets them be listed, read and deleted, takes
outbound PDUs after the '>' prompt and keeps what was sent. Tests and the demo inject
messages with `deliver()` and read `sent`.
"""

import threading
import time

from branchline.proto import pdu
from host_tools.pty_device import PtyDevice

CTRL_Z = 0x1A
ESC = 0x1B
IDENTITY = {
    "AT+CGMI": "SIMCOM_Ltd",
    "AT+CGMM": "SIMCOM_SIM800L",
    "AT+CGMR": "Revision:1418B05SIM800L24",
    "AT+CGSN": "866000000000017",
    "AT+CIMI": "460001234567890",
}
STAT_NAMES = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT")


class SentMessage:
    __slots__ = ("mr", "pdu", "number", "text", "at")

    def __init__(self, mr, hex_pdu, number, text):
        self.mr = mr
        self.pdu = hex_pdu
        self.number = number
        self.text = text
        self.at = time.time()


class ModemSim(PtyDevice):
    def __init__(self, link, capacity=30, on_log=None):
        super().__init__(link)
        self.capacity = capacity
        self.echo = True
        self.cmee = 0
        self.cmgf = 0
        self.cnmi_mt = 0  # until AT+CNMI asks, the modem announces nothing
        self.storage = {}  # slot -> [stat, hex pdu]
        self.sent = []
        self.commands = []  # every command line received, for tests and the timeline
        self.next_mr = 0
        self.on_log = on_log or (lambda text: None)
        self._line = bytearray()
        self._pdu_length = None  # set while the '>' prompt waits for a PDU
        self._state_lock = threading.RLock()

    # -- the outside world (tests, demo, control socket) ---------------------------
    def deliver(self, sender, text, scts=None):
        """A message arrives from the network: store its parts, announce them. Returns slots."""
        scts = scts or _now_scts()
        slots = []
        with self._state_lock:
            for hex_pdu in pdu.encode_deliver(sender, text, scts):
                slot = self._free_slot()
                if slot is None:
                    self.on_log("storage full, message from network lost")
                    break
                self.storage[slot] = [0, hex_pdu]
                slots.append(slot)
                if self.cnmi_mt == 1:
                    self._urc('+CMTI: "SM",%d' % slot)
        self.on_log("network delivered SMS into slots %s" % slots)
        return slots

    def sent_texts(self):
        with self._state_lock:
            return [(m.number, m.text) for m in self.sent]

    # -- the serial side ------------------------------------------------------------
    def on_bytes(self, data):
        with self._state_lock:
            for b in data:
                self._on_byte(b)

    def _on_byte(self, b):
        if self._pdu_length is not None:
            self._on_pdu_byte(b)
            return
        if b == ESC:
            self._line = bytearray()
            return
        if b == 13:
            line = self._line.decode("ascii", "replace").strip()
            self._line = bytearray()
            if self.echo:
                self.write(line.encode() + b"\r")
            if line:
                self._command(line)
            return
        if b == 10:
            return
        if len(self._line) < 600:
            self._line.append(b)

    def _on_pdu_byte(self, b):
        if b == ESC:
            self._pdu_length = None
            self._line = bytearray()
            self._reply("OK")
            return
        if b != CTRL_Z:
            if len(self._line) < 1024:
                self._line.append(b)
            return
        hex_pdu = self._line.decode("ascii", "replace").strip()
        length = self._pdu_length
        self._pdu_length = None
        self._line = bytearray()
        try:
            message = pdu.decode_submit(hex_pdu)
            smsc_octets = int(hex_pdu[:2], 16) + 1
            if len(hex_pdu) // 2 - smsc_octets != length:
                raise pdu.PduError("AT+CMGS said %d octets, PDU has %d"
                                   % (length, len(hex_pdu) // 2 - smsc_octets))
        except (pdu.PduError, ValueError) as e:
            self.on_log("rejected PDU: %s" % e)
            self._error(304)
            return
        mr = self.next_mr
        self.next_mr = (self.next_mr + 1) % 256
        self.sent.append(SentMessage(mr, hex_pdu, message.number, message.text))
        self.on_log("sent SMS mr=%d to %s: %r" % (mr, message.number, message.text))
        self._reply("+CMGS: %d" % mr)
        self._reply("OK")

    # -- responses -------------------------------------------------------------------
    def _reply(self, line):
        self.write(b"\r\n" + line.encode() + b"\r\n")

    def _urc(self, line):
        self._reply(line)

    def _error(self, code):
        if self.cmee == 0:
            self._reply("ERROR")
        else:
            self._reply("+CMS ERROR: %d" % code)

    def _free_slot(self):
        for slot in range(1, self.capacity + 1):
            if slot not in self.storage:
                return slot
        return None

    # -- commands --------------------------------------------------------------------
    def _command(self, line):
        self.commands.append(line)
        self.on_log("AT command: %s" % line)
        upper = line.upper()
        if not upper.startswith("AT"):
            self._reply("ERROR")
            return
        body = upper[2:]
        name, _, arg = body.partition("=")
        handler = _HANDLERS.get(name)
        if handler is None:
            if upper in IDENTITY:
                self._reply(IDENTITY[upper])
                self._reply("OK")
            elif upper in ("AT", "ATZ", "AT&F"):
                self._reply("OK")
            else:
                self._reply("ERROR")
            return
        handler(self, arg, line)

    def _echo_setting(self, arg, line):
        self.echo = line.upper().endswith("E1")
        self._reply("OK")

    def _set_int(self, arg, allowed):
        try:
            value = int(arg)
        except ValueError:
            return None
        return value if value in allowed else None

    def _cmee(self, arg, line):
        value = self._set_int(arg, (0, 1, 2))
        if value is None:
            self._reply("ERROR")
            return
        self.cmee = value
        self._reply("OK")

    def _cmgf(self, arg, line):
        value = self._set_int(arg, (0, 1))
        if value is None:
            self._error(302)
            return
        self.cmgf = value
        self._reply("OK")

    def _cpms(self, arg, line):
        used = len(self.storage)
        if arg.endswith("?") or arg == "":
            self._reply('+CPMS: "SM",%d,%d,"SM",%d,%d,"SM",%d,%d'
                        % (used, self.capacity, used, self.capacity, used, self.capacity))
        else:
            self._reply("+CPMS: %d,%d,%d,%d,%d,%d"
                        % (used, self.capacity, used, self.capacity, used, self.capacity))
        self._reply("OK")

    def _cnmi(self, arg, line):
        fields = arg.split(",")
        try:
            self.cnmi_mt = int(fields[1]) if len(fields) > 1 and fields[1] else 0
        except ValueError:
            self._error(303)
            return
        self._reply("OK")

    def _slot_arg(self, arg):
        try:
            return int(arg.split(",")[0])
        except ValueError:
            return None

    def _tpdu_length(self, hex_pdu):
        return len(hex_pdu) // 2 - (int(hex_pdu[:2], 16) + 1)

    def _cmgr(self, arg, line):
        slot = self._slot_arg(arg)
        if slot is None or not 1 <= slot <= self.capacity:
            self._error(321)
            return
        entry = self.storage.get(slot)
        if entry is not None:
            self._reply("+CMGR: %d,,%d" % (entry[0], self._tpdu_length(entry[1])))
            self.write(entry[1].encode() + b"\r\n")
            entry[0] = 1
        self._reply("OK")

    def _cmgl(self, arg, line):
        try:
            wanted = int(arg)
        except ValueError:
            self._error(302)
            return
        for slot in sorted(self.storage):
            entry = self.storage[slot]
            if wanted == 4 or entry[0] == wanted:
                self._reply("+CMGL: %d,%d,,%d" % (slot, entry[0], self._tpdu_length(entry[1])))
                self.write(entry[1].encode() + b"\r\n")
                entry[0] = 1 if entry[0] == 0 else entry[0]
        self._reply("OK")

    def _cmgd(self, arg, line):
        slot = self._slot_arg(arg)
        if slot is None or not 0 <= slot <= self.capacity:
            self._error(321)
            return
        flag = arg.split(",")[1] if "," in arg else "0"
        if flag.strip() == "4":
            self.storage.clear()
        else:
            self.storage.pop(slot, None)
        self.on_log("deleted slot %d" % slot)
        self._reply("OK")

    def _cmgs(self, arg, line):
        if self.cmgf != 0:
            self._error(302)  # text mode sending is not what the product uses
            return
        try:
            length = int(arg)
        except ValueError:
            self._error(304)
            return
        if not 7 <= length <= 164:
            self._error(304)
            return
        self._pdu_length = length
        self._line = bytearray()
        self.write(b"\r\n> ")

    def _csq(self, arg, line):
        self._reply("+CSQ: 21,0")
        self._reply("OK")

    def _creg(self, arg, line):
        self._reply("+CREG: 0,1")
        self._reply("OK")

    def _cpin(self, arg, line):
        self._reply("+CPIN: READY")
        self._reply("OK")


def _now_scts():
    t = time.gmtime()
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, 0)


_HANDLERS = {
    "E0": ModemSim._echo_setting,
    "E1": ModemSim._echo_setting,
    "+CMEE": ModemSim._cmee,
    "+CMGF": ModemSim._cmgf,
    "+CPMS": ModemSim._cpms,
    "+CPMS?": ModemSim._cpms,
    "+CNMI": ModemSim._cnmi,
    "+CMGR": ModemSim._cmgr,
    "+CMGL": ModemSim._cmgl,
    "+CMGD": ModemSim._cmgd,
    "+CMGS": ModemSim._cmgs,
    "+CSQ": ModemSim._csq,
    "+CREG?": ModemSim._creg,
    "+CPIN?": ModemSim._cpin,
}

