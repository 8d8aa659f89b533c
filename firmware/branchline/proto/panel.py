"""Sans-I/O codec for the desk button panel (see docs/panel-protocol.md).

A frame is `$<body>*<XX>\\r\\n`: the body is comma-separated ASCII fields, XX the XOR of
the body's bytes in two upper-case hex digits (NMEA's checksum, which panel firmware on
an 8-bit MCU computes in a few instructions).
"""

from branchline.compat import const
from branchline.proto.panel_events import Button, Hello, Led
from branchline.proto.sans_io import NEED_DATA
from branchline.router.codes import MAX_AGENTS
from branchline.text import is_digits

MAX_FRAME = const(80)
MAX_DESK = MAX_AGENTS  # a desk is one of the router's agents

BUTTONS = ("AVAIL", "BREAK", "READY", "NEXT")
LED_STATES = ("OFF", "GREEN", "RED", "AMBER", "GREEN_BLINK", "RED_BLINK", "AMBER_BLINK")


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


def encode_led(desk, state):
    _check_desk(desk)
    if state not in LED_STATES:
        raise PanelProtocolError("unknown LED state %r" % state)
    return frame(("LED", "%d" % desk, state))


def encode_button(desk, button, pressed):
    _check_desk(desk)
    if button not in BUTTONS:
        raise PanelProtocolError("unknown button %r" % button)
    return frame(("BTN", "%d" % desk, button, "1" if pressed else "0"))


def encode_hello(desks, version):
    return frame(("HELLO", "%d" % desks, version))


def _check_desk(desk):
    if not 1 <= desk <= MAX_DESK:
        raise PanelProtocolError("desk %r outside 1..%d" % (desk, MAX_DESK))


def _int_field(text, what):
    if not is_digits(text):
        raise PanelProtocolError("%s %r is not a number" % (what, text))
    return int(text)


def parse_body(body):
    """Decode the fields of one checked frame into Button, Hello or Led."""
    fields = body.split(",")
    kind = fields[0]
    if kind == "BTN":
        if len(fields) != 4:
            raise PanelProtocolError("BTN needs 3 fields, got %d" % (len(fields) - 1))
        desk = _int_field(fields[1], "desk")
        _check_desk(desk)
        if fields[2] not in BUTTONS:
            raise PanelProtocolError("unknown button %r" % fields[2])
        if fields[3] not in ("0", "1"):
            raise PanelProtocolError("button state %r is not 0 or 1" % fields[3])
        return Button(desk, fields[2], fields[3] == "1")
    if kind == "HELLO":
        if len(fields) != 3:
            raise PanelProtocolError("HELLO needs 2 fields, got %d" % (len(fields) - 1))
        return Hello(_int_field(fields[1], "desk count"), fields[2])
    if kind == "LED":
        if len(fields) != 3:
            raise PanelProtocolError("LED needs 2 fields, got %d" % (len(fields) - 1))
        desk = _int_field(fields[1], "desk")
        _check_desk(desk)
        if fields[2] not in LED_STATES:
            raise PanelProtocolError("unknown LED state %r" % fields[2])
        return Led(desk, fields[2])
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
