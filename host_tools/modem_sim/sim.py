"""The simulated modem: the serial line discipline (echo, the '>' prompt, result codes in
the form ATV/AT+CMEE ask for), the command dispatcher, settings and their reset, and the
faults tests inject. Commands live in general.py, sms.py and calls.py.

Threads: the pty's I/O thread calls `on_bytes` and runs timers; tests and the control
socket call the API. Every entry point takes `self.lock` so the two never interleave.
"""

import threading

from host_tools.modem_sim import calls, general, models, parser, sms
from host_tools.modem_sim.results import ERROR, HANDLERS, NUMERIC, OK, PENDING, CommandError
from host_tools.pty_device import PtyDevice

CTRL_Z = 0x1A
ESC = 0x1B
BACKSPACE = 0x08
MAX_LINE = 600  # a command line longer than a modem's buffer is cut, not grown forever
MAX_PROMPT = 1024  # hex digits of the longest PDU (176 octets) with room to spare


class ModemSim(calls.CallCommands, sms.SmsCommands, general.GeneralCommands, PtyDevice):
    """capacity/me_capacity/sr_capacity: slots of "SM", "ME", "SR"; model: 'SIM800' or
    'EC25' (LTE: answers AT+CEREG); baud: line rate to pace at (None: unpaced);
    latency_ms: delay before each answer; ring_period, boot_delay (AT+CFUN=1,1 to RDY),
    report_delay (submit to status report), cnma_timeout: seconds; cnma_fallback: 'store'
    or 'drop' an unacknowledged +CMT; cdsi_wrong_memory: the +CDSI: "SM" quirk.

    Dialects of real modems: pdu_trailer: text printed after the PDU of +CMGR/+CMGL
    (some end the line with a stray '"' or a space); truncate_udl: octets cut from the
    end of each message's user data as it is stored (its TP-UDL then claims more);
    reports_in: the memory status reports are kept in ("SR", "SM" with the messages, or
    "ME", the phone's memory, while messages stay in "SM"), announced as
    +CDSI: "<memory>",<i>; sr_memory=False: no "SR" at all (not
    listed by AT+CPMS=?, AT+CPMS="SR" fails with +CMS ERROR 302); sr_select_ignored:
    AT+CPMS="SR" answers OK but the read memory stays what it was."""

    def __init__(self, link, capacity=30, on_log=None, *, model="SIM800", baud=115200,
                 me_capacity=50, sr_capacity=20, latency_ms=0, ring_period=1.0,
                 boot_delay=0.3, cnma_timeout=5.0, cnma_fallback="store", report_delay=0.2,
                 sim_present=True, cdsi_wrong_memory=False, pdu_trailer="", truncate_udl=0,
                 reports_in="SR", sr_memory=True, sr_select_ignored=False):
        PtyDevice.__init__(self, link, baud)
        self.lock = threading.RLock()
        self.on_log = on_log or (lambda text: None)
        self.model = models.MODELS[model]
        self.latency_ms = latency_ms
        self.boot_delay = boot_delay
        self.sim_present = sim_present
        self.rssi, self.ber = 21, 0
        self.reg_stat = 1  # registered, home network
        self.commands = []  # every command line received, for tests and the timeline
        self._line = bytearray()
        self._prompt_for = None  # (length, fn(hex_pdu, length)) while '>' waits for a PDU
        self._delay = 0.0  # latency applied to what the command being run writes
        self._hung = False
        self._booting = False
        self._drop_finals = 0
        self._failures = {}  # "send" / "delete" -> [how many more, +CMS code]
        sms.SmsCommands.__init__(self, capacity, me_capacity, sr_capacity, cnma_timeout,
                                 cnma_fallback, report_delay, cdsi_wrong_memory,
                                 pdu_trailer=pdu_trailer, truncate_udl=truncate_udl,
                                 reports_in=reports_in, sr_memory=sr_memory,
                                 sr_select_ignored=sr_select_ignored)
        calls.CallCommands.__init__(self, ring_period)
        self.power_on()

    def reset_settings(self):
        """The default profile, as ATZ / AT&F restore it (no profile was ever saved)."""
        self.echo = True
        self.verbose = True
        self.cmee = 0
        self.cscs = "IRA"
        self.creg_n = 0
        self.cereg_n = 0
        self.reset_sms_settings()
        self.reset_call_settings()

    def power_on(self):
        """As after power-up, AT+CFUN=1,1 or re-enumeration: full function, default profile,
        and a direct delivery still waiting for AT+CNMA is not going to get it."""
        self.fun = 1
        self.reset_settings()
        if self._awaiting_ack is not None:
            self._unacknowledged("modem reset")

    def _locked(self, fn, *args):
        """Timer callbacks run on the I/O thread and must hold the lock like everyone."""
        with self.lock:
            return fn(*args)

    def later(self, delay, fn, *args):
        return self.call_later(delay, lambda: self._locked(fn, *args))

    # -- faults and conditions (tests, control socket) -----------------------------------
    def inject_garbage(self, data):
        """Raw bytes on the line, as from a glitch or a modem's debug port."""
        with self.lock:
            self._send(bytes(data))

    def noise(self, line):
        """A spontaneous vendor line ('+QIND: "csq",20,99', '*PSUTTZ: ...')."""
        with self.lock:
            self.urc(line)

    def drop_responses(self, n):
        """Swallow the next `n` final result codes (OK/ERROR/...); the commands still act."""
        with self.lock:
            self._drop_finals = n

    def fail_sends(self, n, code=500):
        """The next `n` AT+CMGS end with +CMS ERROR <code> after their PDU."""
        with self.lock:
            self._failures["send"] = [n, code]

    def fail_deletes(self, n, code=500):
        """The next `n` AT+CMGD fail with +CMS ERROR <code> and delete nothing."""
        with self.lock:
            self._failures["delete"] = [n, code]

    def hang(self):
        """Stop answering anything, echo and URCs included, like a wedged modem."""
        with self.lock:
            self._hung = True
            self.on_log("modem hangs")

    def unhang(self):
        with self.lock:
            self._hung = False
            self._line = bytearray()
            self.on_log("modem answers again")

    def leave_at_prompt(self):
        """As if a previous run died mid-send: the modem waits at '>' and only ESC frees it."""
        with self.lock:
            self._line = bytearray()
            self._prompt_for = (None, self.submit)

    def vanish(self):
        with self.lock:
            self.on_log("port vanishes")
        PtyDevice.vanish(self)

    def reappear(self):
        # A port comes back when the modem re-enumerates, i.e. after it rebooted: settings
        # are the power-on ones (stored messages survive: they are on the SIM/flash).
        with self.lock:
            self.power_on()
            self._line = bytearray()
            self._prompt_for = None
            self.on_log("port reappears")
        PtyDevice.reappear(self)

    def set_signal(self, rssi, ber=0):
        with self.lock:
            self.rssi, self.ber = rssi, ber

    def set_registration(self, stat):
        """0 not registered, 1 home, 2 searching, 3 denied, 5 roaming; URCs per AT+CREG=1."""
        with self.lock:
            self.reg_stat = stat
            if self.creg_n:
                self.urc("+CREG: %d" % stat)
            if self.cereg_n and self.model.lte:
                self.urc("+CEREG: %d" % stat)

    def set_sim_present(self, present):
        with self.lock:
            self.sim_present = present
            self.urc("+CPIN: %s" % ("READY" if present else "NOT INSERTED"))

    @property
    def registered(self):
        return self.fun == 1 and self.sim_present and self.reg_stat in (1, 5)

    def take_failure(self, kind):
        """-> the +CMS code this "send" or "delete" must fail with, else None."""
        armed = self._failures.get(kind)
        if not armed or armed[0] <= 0:
            return None
        armed[0] -= 1
        return armed[1]

    # -- rebooting -----------------------------------------------------------------------
    def reboot(self):
        """AT+CFUN=1,1: deaf while booting, then power-on settings and the boot URCs."""
        self._booting = True
        self.end_call("reset")
        self.later(self.boot_delay, self._booted)

    def _booted(self):
        self._booting = False
        self._line = bytearray()
        self._prompt_for = None
        self.power_on()
        for line in self.model.boot_urcs if self.sim_present else models.NO_SIM_URCS:
            self.urc(line)
        self.pump_network()

    # -- output ------------------------------------------------------------------------
    def _send(self, data):
        if not self._hung:
            self.write(data, self._delay)

    def _framed(self, text):
        return ("\r\n%s\r\n" if self.verbose else "%s\r\n") % text

    def info(self, text):
        """An information line of the running command's answer."""
        self._send(self._framed(text))

    def raw_line(self, text):
        """A line that continues the previous one (the PDU after +CMGR:, +CMT:)."""
        self._send(text.encode() + b"\r\n")

    def urc(self, text):
        """An unsolicited line: written now, whatever latency commands have."""
        if not self._hung:
            self.write(self._framed(text))

    def _final(self, result):
        if self._drop_finals > 0:
            self._drop_finals -= 1
            self.on_log("dropped final result %s" % result)
            return
        if not self.verbose and result in NUMERIC:
            self._send("%d\r" % NUMERIC[result])
        else:
            self._send(self._framed(result))

    def write(self, data, delay=0.0):
        PtyDevice.write(self, data.encode() if isinstance(data, str) else data, delay)

    def prompt(self, length, fn):
        """Answer with '> ' and hand the PDU typed before Ctrl-Z to fn(hex_pdu, length)."""
        self._prompt_for = (length, fn)
        self._line = bytearray()
        self._send(b"\r\n> ")
        return PENDING

    # -- input -------------------------------------------------------------------------
    def on_bytes(self, data):
        with self.lock:
            if self._hung or self._booting:
                return
            for b in data:
                if self._prompt_for is not None:
                    self._on_prompt_byte(b)
                else:
                    self._on_command_byte(b)
            self.pump_network()

    def _on_command_byte(self, b):
        if b == ESC:
            self._line = bytearray()  # in command mode ESC only discards the line
            return
        if self.echo:
            self.write(bytes([b]))
        if b == 13:
            line = self._line.decode("ascii", "replace").strip()
            self._line = bytearray()
            if line:
                self._command_line(line)
        elif b == BACKSPACE:
            del self._line[-1:]
        elif b != 10 and len(self._line) < MAX_LINE:
            self._line.append(b)

    def _on_prompt_byte(self, b):
        if b == ESC:
            self._prompt_for = None
            self._line = bytearray()
            self.on_log("send cancelled with ESC")
            self._final(OK)
            return
        if b != CTRL_Z:
            if self.echo:
                self.write(bytes([b]))
            if len(self._line) < MAX_PROMPT:
                self._line.append(b)
            return
        length, fn = self._prompt_for
        hex_pdu = self._line.decode("ascii", "replace").strip()
        self._prompt_for = None
        self._line = bytearray()
        self._delay = self.latency_ms / 1000.0
        try:
            fn(hex_pdu, length)
        except CommandError as e:
            self._final(e.line(self.cmee))
        else:
            self._final(OK)
        finally:
            self._delay = 0.0

    def _command_line(self, line):
        self.commands.append(line)
        self.on_log("AT command: %s" % line)
        start = line.upper().find("AT")
        if start < 0:
            self._final(ERROR)
            return
        self._delay = self.latency_ms / 1000.0
        try:
            commands = parser.split(line[start + 2 :])
        except ValueError:
            self._final(ERROR)
        else:
            self._execute(commands)
        finally:
            self._delay = 0.0

    def _execute(self, commands):
        for cmd in commands:
            if cmd.name not in HANDLERS:
                self._final(ERROR)
                return
            handler, test = HANDLERS[cmd.name]
            if cmd.op == parser.TEST:
                if test is not None:
                    self.info(test(self) if callable(test) else test)
                continue
            try:
                if handler(self, cmd) is PENDING:
                    return  # the rest of a chain after a prompt is lost, as on modems
            except CommandError as e:
                self._final(e.line(self.cmee))
                return
        self._final(OK)
