"""Desk panels on one bus, on a pseudo-terminal: one simulated panel per desk, each
the reference firmware's own logic (proto/panel_unit.py) answering the gateway's polls.
Buttons are pressed with `press()`; `leds` is what the gateway asked each desk to show;
`unplug()`/`plug()` take a panel off the bus and put it back (started afresh)."""

import threading
import time

from host_tools.pty_device import PtyDevice
from branchline.proto.panel_unit import PanelUnit

FIRMWARE = "panel-sim-2.0"


def _now_ms():
    return int(time.monotonic() * 1000)


class PanelSim(PtyDevice):
    def __init__(self, link, desks=4, on_log=None):
        super().__init__(link)
        self.units = {}
        for desk in range(1, desks + 1):
            self.units[desk] = PanelUnit(desk, FIRMWARE)
        self.on_log = on_log or (lambda text: None)
        self._changed = threading.Condition()
        self._shown = {}

    @property
    def leds(self):
        return {desk: unit.led for desk, unit in self.units.items() if desk in self._shown}

    @property
    def bad_frames(self):
        return sum(unit.bad_frames for unit in self.units.values())

    def press(self, desk, button):
        self.on_log("desk %d presses %s" % (desk, button))
        with self._changed:
            self.units[desk].press(button)

    def unplug(self, desk):
        self.on_log("desk %d's panel unplugged" % desk)
        with self._changed:
            self.units.pop(desk)
            self._shown.pop(desk, None)

    def plug(self, desk):
        self.on_log("desk %d's panel plugged in" % desk)
        with self._changed:
            self.units[desk] = PanelUnit(desk, FIRMWARE)

    def send_raw(self, data):
        self.write(data)

    def wait_led(self, desk, state, timeout):
        with self._changed:
            return self._changed.wait_for(lambda: self.leds.get(desk) == state, timeout)

    def outputs(self, desk):
        """What desk's LED and buzzer show now (colour, buzzer on)."""
        with self._changed:
            return self.units[desk].outputs(_now_ms())

    def on_bytes(self, data):
        now = _now_ms()
        with self._changed:
            for desk, unit in list(self.units.items()):
                answer = unit.receive_data(data, now)
                if not answer:
                    continue
                self.write(answer)
                if self._shown.get(desk) != unit.led:
                    self.on_log("desk %d LED -> %s" % (desk, unit.led))
                    self._shown[desk] = unit.led
                    self._changed.notify_all()
