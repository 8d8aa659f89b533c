"""One desk's panel, sans-I/O: the logic of the reference panel firmware
(boards/reference-panel) and of the simulator, so both speak the protocol alike.
Bytes from the bus in, the answer to send out; presses in; what the LED and buzzer
show out. Time is passed in (ms, never running backwards).

Presses wait in a small queue, each numbered, until a poll acknowledges them: a lost
answer or a lost poll repeats a press, never drops or doubles it. After a start the
panel answers HELLO until a poll acknowledges 0, so the gateway knows its numbering
begins again. With no poll for NO_GATEWAY_MS the LED says so (red and amber in turn).
"""

from branchline.compat import const
from branchline.fifo import Fifo
from branchline.proto import panel
from branchline.proto.panel_events import Poll
from branchline.proto.sans_io import NEED_DATA

NO_GATEWAY_MS = const(3000)
BLINK_MS = const(500)  # half a blink period
MAX_PENDING = const(8)  # presses a panel holds for the gateway (more are dropped)


class PanelUnit:
    def __init__(self, desk, firmware):
        self.desk = desk
        self.firmware = firmware
        self.led = "OFF"  # what the gateway asked for
        self.dropped = 0  # presses the queue had no room for
        self.bad_frames = 0
        self._hello = True
        self._pending = Fifo()  # (number, button), oldest first
        self._seq = 0
        self._last_poll = None
        self._buzz_until = 0
        self._reader = panel.PanelReader()

    def press(self, button):
        if len(self._pending) >= MAX_PENDING:
            self.dropped += 1
            return
        self._seq = panel.next_seq(self._seq)
        self._pending.push((self._seq, button))

    def receive_data(self, data, now):
        """-> the bytes to answer with (b"" when nothing on the bus was for this desk)."""
        self._reader.receive_data(data)
        out = b""
        while True:
            try:
                message = self._reader.next_event()
            except panel.PanelProtocolError:
                self.bad_frames += 1
                continue
            if message is NEED_DATA:
                return out
            if isinstance(message, Poll) and message.desk == self.desk:
                out = self._answer(message, now)  # a later poll supersedes an earlier one
            # Other desks' polls and panels' answers share the line: not ours.

    def _answer(self, poll, now):
        self._last_poll = now
        self.led = poll.led
        if poll.buzz_ms:
            self._buzz_until = now + poll.buzz_ms
        if self._hello:
            if poll.ack != 0:
                return panel.encode_hello(self.desk, self.firmware)
            self._hello = False
        while self._pending and self._pending.first()[0] == poll.ack:
            self._pending.pop()
        if not self._pending:
            return panel.encode_status(self.desk, 0, None)
        seq, button = self._pending.first()
        return panel.encode_status(self.desk, seq, button)

    def gateway_seen(self, now):
        return self._last_poll is not None and now - self._last_poll < NO_GATEWAY_MS

    def outputs(self, now):
        """(the LED's colour now: "OFF", "GREEN", "RED" or "AMBER"; the buzzer on?)"""
        phase = (now // BLINK_MS) % 2
        if not self.gateway_seen(now):
            return ("RED" if phase else "AMBER"), False
        led = self.led
        if led.endswith("_BLINK"):
            led = led[:-6] if phase == 0 else "OFF"
        return led, now < self._buzz_until
