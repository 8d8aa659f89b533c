"""Sans-I/O AT command engine for GSM/LTE modems.

Bytes from the modem go in with `receive_data`; `next_event` returns what they mean
(`Response`, `Urc`, `Noise`) or NEED_DATA. Commands go in with `send`; the bytes to write
to the port come out of `data_to_send`. One command is in flight at a time, the rest
wait in order. Time is passed in, so timeouts are deterministic.

Unsolicited result codes are recognised by prefix, even while a command waits for its
answer, so a +CMTI arriving in the middle of an AT+CMGR reply is dispatched, not
swallowed into the reply.
"""

from branchline.compat import const
from branchline.fifo import Fifo
from branchline.proto.at_events import Noise, Response, Urc
from branchline.proto.sans_io import NEED_DATA


MAX_LINE = const(1024)  # a PDU line is at most 2 * (12 + 164) hex digits
# After ESC or a timeout the modem may still answer what we gave up on: until the line
# has been quiet this long, answers are discarded (URCs still count) so they cannot pass
# for the next command's. A modem still listing a full SIM for a killed predecessor
# keeps talking for seconds, hence quiet rather than a fixed wait. Quiet means no line
# that could be such an answer (answers, noise, a line still arriving): a URC cannot be
# one, so a steady stream of +CMTI does not hold init back. DRAIN_MAX_MS bounds it
# against a line that never stops.
DRAIN_MS = const(300)
MAX_NOISE = const(64)  # noise events waiting at once; more are only counted
DRAIN_MAX_MS = const(60000)
CTRL_Z = b"\x1a"
ESC = b"\x1b"

# Final result codes end a command. +CME/+CMS carry a numeric reason (AT+CMEE=1).
_FINAL_OK = ("OK", "CONNECT")
_FINAL_ERROR = ("ERROR", "NO CARRIER", "BUSY", "NO ANSWER", "NO DIALTONE")
_FINAL_CODED = ("+CME ERROR:", "+CMS ERROR:")

# Unsolicited codes; the two marked in _URC_WITH_PDU are followed by a PDU line.
_URC_PREFIXES = (
    "+CMTI:",
    "+CMT:",
    "+CDSI:",
    "+CDS:",
    "+CLIP:",
    "+CRING:",
    "RING",
    "RDY",
    "Call Ready",
    "SMS Ready",
    "+CPIN:",
    "+CREG:",
    "+CEREG:",
    "NORMAL POWER DOWN",
    "+CFUN:",
)
_URC_WITH_PDU = ("+CMT:", "+CDS:")


class ATProtocolError(ValueError):
    """The byte stream broke a rule of the AT dialect (named in the message)."""


class Command:
    """One AT command. `payload` is sent after the '>' prompt, terminated by Ctrl-Z."""

    # timeout_ms counts from the last sign of life (the command going out, or a line of
    # its answer), so a long listing at a low baud rate is not cut off while a silent
    # modem is still caught quickly.
    __slots__ = ("text", "payload", "timeout_ms", "tag", "alive_ms")

    def __init__(self, text, payload=None, timeout_ms=5000, tag=None):
        if "\r" in text or "\n" in text or "\x1a" in text or "\x1b" in text:
            raise ATProtocolError("command contains a control character: %r" % text)
        if payload is not None:
            for ch in payload:
                if ch not in "0123456789ABCDEFabcdef":
                    raise ATProtocolError("payload must be hex (PDU mode), got %r" % ch)
        self.text = text
        self.payload = payload
        self.timeout_ms = timeout_ms
        self.tag = tag
        self.alive_ms = None

    def response_prefix(self):
        """'+CMGR:' for 'AT+CMGR=3': the prefix of this command's information lines."""
        body = self.text[2:] if self.text[:2].upper() == "AT" else self.text
        end = len(body)
        for i in range(len(body)):
            if body[i] in "=?":
                end = i
                break
        return body[:end].upper() + ":" if body[:1] == "+" else None

    def __repr__(self):
        return "Command(%r)" % self.text


def _text(raw):
    # Lines are ASCII in the AT dialect; anything else is line noise and must not kill the
    # reader, so it becomes '?' instead of raising a decode error.
    return "".join(chr(b) if 32 <= b < 127 else "?" for b in raw)


def _split_urc(line):
    colon = line.find(":")
    if colon < 0:
        return line, ""
    return line[:colon], line[colon + 1 :].strip()


def _is_urc(line):
    for prefix in _URC_PREFIXES:
        if line.startswith(prefix):
            return True
    return False


def _final(line):
    """(ok, reason, code) when `line` ends a command, else None."""
    if line in _FINAL_OK:
        return True, None, None
    if line in _FINAL_ERROR:
        return False, line, None
    for prefix in _FINAL_CODED:
        if line.startswith(prefix):
            detail = line[len(prefix) :].strip()
            try:
                code = int(detail)
            except ValueError:
                code = None
            return False, line, code
    return None


class ATEngine:
    def __init__(self):
        self._rx = bytearray()
        self._tx = bytearray()
        self._queue = Fifo()  # commands waiting their turn (the driver paces them)
        self._current = None
        self._lines = []
        self._urc_waiting_pdu = None
        # Responses (one per command) and URCs are never dropped: the driver drains
        # the events after every read, so one read's worth is what can pile up. Noise
        # (a modem babbling) beyond MAX_NOISE is counted instead of kept.
        self._events = Fifo()
        self._dropped_noise = 0  # noise lines a full event queue had no room for
        self._now_ms = 0
        self._drain_until = None
        self._drain_limit = None
        self._rx_since = None  # when the partial line in _rx began to arrive

    # -- commands in, bytes out ------------------------------------------------------
    def send(self, command, now_ms):
        """Queue `command`; it is written once the commands before it have finished."""
        self._now_ms = now_ms
        self._queue.push(command)
        self._start_next()

    def data_to_send(self):
        out = bytes(self._tx)
        self._tx = bytearray()
        return out

    def recover_prompt(self, now_ms):
        """Write ESC so that a modem left at a '>' prompt by a previous run gives it up."""
        self._now_ms = now_ms
        # ESC alone: at a prompt it cancels; in command mode it only clears the line buffer,
        # whereas ESC+CR would earn an ERROR that the next command would take for its own.
        self._tx.extend(ESC)
        self._drain()

    def _drain(self):
        self._drain_until = self._now_ms + DRAIN_MS
        self._drain_limit = self._now_ms + DRAIN_MAX_MS

    def _drain_over(self):
        """The drain ends once the line has been quiet of answers for DRAIN_MS and no
        line is arriving. A line still arriving holds it (it may be a late answer; on a
        serial port a line comes in several reads) until it completes or has not moved
        for DRAIN_MS; only a completed line that is not a URC starts the wait again."""
        now = self._now_ms
        if self._drain_until is None or now < self._drain_until:
            return
        arriving = self._rx and now - self._rx_since < DRAIN_MS
        if arriving and now < self._drain_limit:
            return
        self._drain_until = None
        self._start_next()

    @property
    def now_ms(self):
        return self._now_ms

    @property
    def busy(self):
        return self._current is not None or bool(self._queue)

    @property
    def current(self):
        return self._current

    def _start_next(self):
        if self._current is not None or not self._queue or self._drain_until is not None:
            return
        cmd = self._queue.pop()
        cmd.alive_ms = self._now_ms
        self._current = cmd
        self._lines = []
        self._tx.extend(cmd.text.encode() + b"\r")

    def _finish(self, ok, reason=None, code=None):
        cmd = self._current
        self._events.push(Response(cmd, self._lines, ok, reason, code))
        self._current = None
        self._lines = []
        self._start_next()

    # -- bytes in, events out --------------------------------------------------------
    def receive_data(self, data, now_ms):
        self._now_ms = now_ms
        self._rx.extend(data)
        self._parse()
        if not self._rx:
            self._rx_since = None
        elif self._rx_since is None:
            self._rx_since = now_ms
        self._drain_over()

    def _not_quiet(self):
        if self._drain_until is not None:
            self._drain_until = min(self._now_ms + DRAIN_MS, self._drain_limit)

    def _noise(self, text):
        # Noise while draining may be the late answer the drain waits out.
        self._not_quiet()
        if len(self._events) >= MAX_NOISE:
            self._dropped_noise += 1
        else:
            self._events.push(Noise(text))

    def tick(self, now_ms):
        """Let time pass: a command older than its timeout ends with reason 'timeout'."""
        self._now_ms = now_ms
        cmd = self._current
        if cmd is not None and now_ms - cmd.alive_ms >= cmd.timeout_ms:
            if cmd.payload is not None:
                # The modem may still sit at its prompt; ESC cancels the half-sent SMS.
                self._tx.extend(ESC)
            self._drain()
            self._finish(False, "timeout")
        self._drain_over()

    def next_event(self):
        if self._events:
            return self._events.pop()
        if self._dropped_noise:
            dropped, self._dropped_noise = self._dropped_noise, 0
            return Noise("(%d more lines of noise dropped)" % dropped)
        return NEED_DATA

    def _parse(self):
        while True:
            if self._awaiting_prompt() and self._take_prompt():
                continue
            end = self._line_end()
            if end < 0:
                if len(self._rx) > MAX_LINE:
                    # No terminator within any sane line length: drop it, keep reading.
                    self._noise(_text(self._rx[:40]) + "...(overlong)")
                    self._rx = bytearray()
                return
            raw = self._rx[:end]
            skip = end + 1
            if skip < len(self._rx) and self._rx[end] == 13 and self._rx[skip] == 10:
                skip += 1
            self._rx = self._rx[skip:]
            line = _text(raw).strip()
            if line:
                self._on_line(line)

    def _line_end(self):
        for i in range(len(self._rx)):
            if self._rx[i] in (10, 13):
                return i
        return -1

    def _awaiting_prompt(self):
        cmd = self._current
        return cmd is not None and cmd.payload is not None and not self._lines

    def _take_prompt(self):
        # The prompt is '> ' with no line end; CR/LF may precede it.
        i = 0
        while i < len(self._rx) and self._rx[i] in (10, 13):
            i += 1
        if i < len(self._rx) and self._rx[i] == 62:  # '>'
            j = i + 1
            if j < len(self._rx) and self._rx[j] == 32:
                j += 1
            self._rx = self._rx[j:]
            self._tx.extend(self._current.payload.encode() + CTRL_Z)
            self._lines.append(">")
            return True
        return False

    def _on_line(self, line):
        if self._urc_waiting_pdu is not None:
            urc = self._urc_waiting_pdu
            self._urc_waiting_pdu = None
            urc.pdu = line
            self._events.push(urc)
            return
        cmd = self._current
        if cmd is not None:
            cmd.alive_ms = self._now_ms
        if line == "NO CARRIER" and (cmd is None or cmd.text[:3].upper() not in ("ATD", "ATA")):
            # Only a dial or an answer ends with NO CARRIER; otherwise a caller hung up.
            self._events.push(Urc("NO CARRIER", ""))
            return
        if cmd is not None:
            if line == cmd.text:
                return  # echo (before ATE0 took effect)
            final = _final(line)
            if final is not None:
                if self._lines == [">"]:
                    self._lines = []
                self._finish(final[0], final[1], final[2])
                return
            prefix = cmd.response_prefix()
            if prefix is not None and line.startswith(prefix):
                self._lines.append(line)
                return
            if _is_urc(line):
                self._on_urc(line)
                return
            if self._lines and self._lines[-1] != ">" and self._expects_pdu_line():
                # The line after +CMGR:/+CMGL: is the PDU itself.
                self._lines.append(line)
                return
            if prefix is None:
                self._lines.append(line)  # plain commands answer with bare lines (ATI)
                return
            self._noise(line)
            return
        if _is_urc(line):
            self._on_urc(line)
        else:
            self._noise(line)

    def _expects_pdu_line(self):
        last = self._lines[-1]
        return last.startswith("+CMGR:") or last.startswith("+CMGL:")

    def _on_urc(self, line):
        name, args = _split_urc(line)
        urc = Urc(name, args)
        for prefix in _URC_WITH_PDU:
            if line.startswith(prefix):
                self._urc_waiting_pdu = urc
                return
        self._events.push(urc)
