"""The gateway's side of the panels' bus, sans-I/O: whom to poll next and with what,
what the answers mean, and which panels went quiet. Time is passed in (ms).

The gateway is the bus master: one poll at a time, each answered within POLL_TIMEOUT_MS
or counted missed. Every poll carries the desk's LED, so a panel plugged in again
shows the right state at its first answer, and the number of the last press the
gateway has, so a panel repeats a press until it is acknowledged and the gateway counts
it once. A panel that misses LOST_AFTER polls in a row is lost (one PanelLost); lost
desks and desks whose panel never answered are tried only every RETRY_MS, so the bus
time goes to the panels that are there.
"""

from branchline.compat import const
from branchline.fifo import Fifo
from branchline.proto import panel
from branchline.proto.panel_events import Hello, PanelLost, PanelUp, Pressed, Status
from branchline.proto.sans_io import NEED_DATA

POLL_TIMEOUT_MS = const(50)
POLL_GAP_MS = const(10)  # between one answer and the next poll
LOST_AFTER = const(3)
RETRY_MS = const(1000)

_NEVER = const(0)  # a desk whose panel has not answered yet
_UP = const(1)
_LOST = const(2)


class PanelBus:
    def __init__(self, desks):
        self.desks = list(desks)
        self.leds = {}
        self._buzz = {}  # desk -> buzzer ms for its next poll
        self._last = {}  # desk -> number of the last press taken (None: unknown)
        self._state = {}
        self._misses = {}
        self._retry_at = {}  # desk -> when a lost or silent desk is polled next
        for desk in self.desks:
            self.leds[desk] = "OFF"
            self._last[desk] = None
            self._state[desk] = _NEVER
            self._misses[desk] = 0
            self._retry_at[desk] = 0
        self._turn = 0
        self._awaiting = None  # desk of the poll sent and not yet answered
        self._deadline = 0
        self._next_poll = 0
        self._reader = panel.PanelReader()
        self._events = Fifo()
        self._now = 0

    # -- what the gateway wants shown --------------------------------------------------
    def set_led(self, desk, state):
        if desk in self.leds:
            self.leds[desk] = state

    def buzz(self, desk, ms):
        if desk in self.leds:
            self._buzz[desk] = ms

    def resume(self, desk, press):
        """After a restart: the last press of `desk` the gateway counted (the journal
        has it), so a press the panel repeats because its ack was lost counts once."""
        if desk in self._last:
            self._last[desk] = press

    def state(self, desk):
        """"up", "lost" or "never" (no answer yet)."""
        return ("never", "up", "lost")[self._state[desk]]

    # -- the line ------------------------------------------------------------------------
    def poll(self, now):
        """The next poll to send now (bytes), or None (one is awaited, or none is due)."""
        if self._awaiting is not None:
            if now < self._deadline:
                return None
            self._missed(self._awaiting, now)
        if now < self._next_poll or not self.desks:
            return None
        for _ in range(len(self.desks)):
            desk = self.desks[self._turn]
            self._turn = (self._turn + 1) % len(self.desks)
            if self._state[desk] == _UP or now >= self._retry_at[desk]:
                return self._send(desk, now)
        return None

    def due(self, now):
        """When poll() has something to do next (ms)."""
        if self._awaiting is not None:
            return self._deadline
        soonest = None
        for desk in self.desks:
            at = self._next_poll if self._state[desk] == _UP else max(
                self._next_poll, self._retry_at[desk])
            if soonest is None or at < soonest:
                soonest = at
        return max(now, soonest) if soonest is not None else None

    def _send(self, desk, now):
        self._awaiting = desk
        self._deadline = now + POLL_TIMEOUT_MS
        return panel.encode_poll(desk, self.leds[desk], self._buzz.pop(desk, 0),
                                 self._last[desk])

    def _missed(self, desk, now):
        self._awaiting = None
        self._next_poll = now
        if self._state[desk] != _UP:
            self._retry_at[desk] = now + RETRY_MS
            return
        self._misses[desk] += 1
        if self._misses[desk] >= LOST_AFTER:
            self._state[desk] = _LOST
            self._retry_at[desk] = now + RETRY_MS
            self._events.push(PanelLost(desk))

    def receive_data(self, data, now):
        self._reader.receive_data(data)
        self._now = now

    def next_event(self):
        """Pressed, PanelUp or PanelLost, or NEED_DATA. A bad frame raises
        PanelProtocolError once (the caller logs it; the next call goes on)."""
        while not self._events:
            message = self._reader.next_event()
            if message is NEED_DATA:
                return NEED_DATA
            self._answer(message)
        return self._events.pop()

    def read_all(self):
        """Everything the bytes so far make: (events, errors), errors as messages."""
        events, errors = [], []
        while True:
            try:
                ev = self.next_event()
            except panel.PanelProtocolError as e:
                errors.append(str(e))
                continue
            if ev is NEED_DATA:
                return events, errors
            events.append(ev)

    def _answer(self, message):
        if not isinstance(message, (Status, Hello)):
            raise panel.PanelProtocolError("a %s on the bus: only the gateway polls"
                                           % type(message).__name__.upper())
        desk = message.desk
        if desk != self._awaiting:
            raise panel.PanelProtocolError("desk %d answered a poll of %s" % (
                desk, "nobody" if self._awaiting is None else "desk %d" % self._awaiting))
        self._awaiting = None
        self._next_poll = self._now + POLL_GAP_MS
        was = self._state[desk]
        self._state[desk] = _UP
        self._misses[desk] = 0
        if isinstance(message, Hello):
            self._last[desk] = 0  # its presses are numbered from 1 again
            self._events.push(PanelUp(desk, message.firmware, was == _LOST))
            return
        if was != _UP:
            self._events.push(PanelUp(desk, None, was == _LOST))
        if message.button is None:
            return
        if message.seq == self._last[desk]:
            return  # the ack went missing: the panel sent it again
        self._last[desk] = message.seq
        self._events.push(Pressed(desk, message.button, message.seq))
