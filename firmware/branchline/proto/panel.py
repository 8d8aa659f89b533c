"""Sans-I/O codec for the desk button panels' bus (see docs/panel-protocol.md).

A frame is `$<body>*<XX>\r\n`: the body is comma-separated ASCII fields, XX the XOR of
the body's bytes in two upper-case hex digits (NMEA's checksum, which panel firmware on
an 8-bit MCU computes in a few instructions). The gateway polls each desk's panel in
turn (POLL); a panel speaks only to answer a poll of its own desk (STAT, or HELLO after
it started), so any number of panels share one half-duplex line.
"""

from branchline.compat import const
from branchline.proto.panel_events import Hello, Poll, Status
from branchline.proto.sans_io import NEED_DATA
from branchline.text import is_digits

MAX_FRAME = const(80)
# The desks a bus can address; the router's agents number as many (a test holds them
# equal), but a panel's firmware carries only this codec, not the router.
MAX_DESK = const(64)
MAX_SEQ = const(99)  # button presses are numbered 1..99, then 1 again
MAX_BUZZ_MS = const(5000)
MAX_FIRMWARE = const(24)

BUTTONS = ("AVAIL", "BREAK", "READY", "NEXT")
LED_STATES = ("OFF", "GREEN", "RED", "AMBER", "GREEN_BLINK", "RED_BLINK", "AMBER_BLINK")
NONE = "-"  # a field with nothing in it (no press to report, no press acknowledged yet)


class PanelProtocolError(ValueError):
    """A frame broke the protocol; the message names the rule. The stream stays usable."""


def checksum(body):
    x = 0
    for b in body:
        x ^= b
    return x


def frame(fields):
    body = ",".join(fields).encode()
    return b"$" + body + b"*" + ("%02X" % checksum(body)).encode() + b"\r\n"


def next_seq(seq):
    """The number after `seq` (0: none yet) of a desk's presses."""
    return 1 if seq >= MAX_SEQ else seq + 1


def encode_poll(desk, led, buzz_ms, ack):
    """The gateway's poll of `desk`: the LED it must show, the buzzer (ms, 0: quiet), and
    the number of the last press the gateway has (None: it knows of none)."""
    _check_desk(desk)
    if led not in LED_STATES:
        raise PanelProtocolError("unknown LED state %r" % led)
    if not 0 <= buzz_ms <= MAX_BUZZ_MS:
        raise PanelProtocolError("buzz %r outside 0..%d ms" % (buzz_ms, MAX_BUZZ_MS))
    if ack is not None and not 0 <= ack <= MAX_SEQ:
        raise PanelProtocolError("ack %r outside 0..%d" % (ack, MAX_SEQ))
    return frame(("POLL", "%d" % desk, led, "%d" % buzz_ms, NONE if ack is None else "%d" % ack))


def encode_status(desk, seq, button):
    """A panel's answer: its oldest press not yet acknowledged (seq, button), or
    (0, None) when it has none."""
    _check_desk(desk)
    if button is None:
        return frame(("STAT", "%d" % desk, "0", NONE))
    if button not in BUTTONS:
        raise PanelProtocolError("unknown button %r" % button)
    if not 1 <= seq <= MAX_SEQ:
        raise PanelProtocolError("press number %r outside 1..%d" % (seq, MAX_SEQ))
    return frame(("STAT", "%d" % desk, "%d" % seq, button))


def encode_hello(desk, firmware):
    """A panel that started: its answer to polls until the gateway acknowledges 0."""
    _check_desk(desk)
    _check_firmware(firmware)
    return frame(("HELLO", "%d" % desk, firmware))


def _check_desk(desk):
    if not 1 <= desk <= MAX_DESK:
        raise PanelProtocolError("desk %r outside 1..%d" % (desk, MAX_DESK))


def _check_firmware(text):
    if not 0 < len(text) <= MAX_FIRMWARE or any(c == "," or not " " <= c <= "~" for c in text):
        raise PanelProtocolError("firmware name %r: 1..%d printable characters, no comma"
                                 % (text[:40], MAX_FIRMWARE))


def _int_field(text, what, lo, hi):
    if not is_digits(text) or len(text) > 5:
        raise PanelProtocolError("%s %r is not a number" % (what, text))
    value = int(text)
    if not lo <= value <= hi:
        raise PanelProtocolError("%s %d outside %d..%d" % (what, value, lo, hi))
    return value


def _fields(fields, count):
    if len(fields) != count + 1:
        raise PanelProtocolError("%s needs %d fields, got %d" % (fields[0], count, len(fields) - 1))


def parse_body(body):
    """Decode the fields of one checked frame into Poll, Status or Hello."""
    fields = body.split(",")
    kind = fields[0]
    if kind == "POLL":
        _fields(fields, 4)
        desk = _int_field(fields[1], "desk", 1, MAX_DESK)
        if fields[2] not in LED_STATES:
            raise PanelProtocolError("unknown LED state %r" % fields[2])
        buzz = _int_field(fields[3], "buzz", 0, MAX_BUZZ_MS)
        ack = None if fields[4] == NONE else _int_field(fields[4], "ack", 0, MAX_SEQ)
        return Poll(desk, fields[2], buzz, ack)
    if kind == "STAT":
        _fields(fields, 3)
        desk = _int_field(fields[1], "desk", 1, MAX_DESK)
        if fields[3] == NONE:
            if fields[2] != "0":
                raise PanelProtocolError("STAT without a press numbers it 0, not %r" % fields[2])
            return Status(desk, 0, None)
        seq = _int_field(fields[2], "press number", 1, MAX_SEQ)
        if fields[3] not in BUTTONS:
            raise PanelProtocolError("unknown button %r" % fields[3])
        return Status(desk, seq, fields[3])
    if kind == "HELLO":
        _fields(fields, 2)
        desk = _int_field(fields[1], "desk", 1, MAX_DESK)
        _check_firmware(fields[2])
        return Hello(desk, fields[2])
    raise PanelProtocolError("unknown message type %r" % kind)


class PanelReader:
    """Frames in, events out. A bad frame raises PanelProtocolError from next_event once;
    the frame is consumed, so the caller logs it and calls next_event again."""

    def __init__(self):
        self._rx = bytearray()

    def receive_data(self, data):
        self._rx.extend(data)

    def next_event(self):
        self._drop_garbage()
        if self._rx[:1] != b"$":
            return NEED_DATA
        end = self._rx.find(b"\n")
        if end < 0:
            if len(self._rx) > MAX_FRAME:
                self._rx = bytearray()
                raise PanelProtocolError("frame longer than %d bytes" % MAX_FRAME)
            return NEED_DATA
        line = bytes(self._rx[1:end]).rstrip(b"\r")
        self._rx = self._rx[end + 1 :]
        return self._decode(line)

    def read_all(self):
        """Everything complete in the buffer: (events, errors), errors as messages."""
        events, errors = [], []
        while True:
            try:
                ev = self.next_event()
            except PanelProtocolError as e:
                errors.append(str(e))
                continue
            if ev is NEED_DATA:
                return events, errors
            events.append(ev)

    def _drop_garbage(self):
        """Discard bytes before the next '$' (or a whole line without one); report any that
        were not just line ends, so line noise is logged instead of silently eaten."""
        start = self._rx.find(b"$")
        if start == 0:
            return
        if start < 0:
            end = self._rx.find(b"\n")
            if end < 0 and len(self._rx) <= MAX_FRAME:
                return
            start = len(self._rx) if end < 0 else end + 1
        dropped = bytes(self._rx[:start])
        self._rx = self._rx[start:]
        if dropped.strip():  # bytes: ASCII white space on every runtime
            raise PanelProtocolError("%d bytes outside a frame" % len(dropped))

    def _decode(self, line):
        if len(line) > MAX_FRAME:
            raise PanelProtocolError("frame longer than %d bytes" % MAX_FRAME)
        star = line.rfind(b"*")
        if star < 0 or len(line) - star != 3:
            raise PanelProtocolError("frame has no *XX checksum")
        body = line[:star]
        try:
            want = int(line[star + 1 :], 16)
        except ValueError:
            raise PanelProtocolError("checksum %r is not hex" % line[star + 1 :])
        got = checksum(body)
        if want != got:
            raise PanelProtocolError("checksum %02X, frame says %02X" % (got, want))
        for b in body:
            if b < 32 or b > 126:
                raise PanelProtocolError("frame has a non-printable byte 0x%02X" % b)
        return parse_body(body.decode())
