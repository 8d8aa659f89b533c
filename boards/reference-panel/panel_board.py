"""The reference presence panel on MicroPython: one desk's four buttons (to ground,
with the chip's pull-ups), a red/green LED (amber is both), a piezo buzzer, and the
bus through a UART to an RS-485 transceiver whose driver-enable pin is raised only
while the panel answers. The protocol is branchline.proto.panel_unit, the same code
the appliance's simulator runs; this module only reads pins and drives them.

Copy this file, main.py, board.json and, from the firmware package, branchline/
__init__.py, compat.py, fifo.py, text.py and proto/{__init__, sans_io, panel,
panel_events, panel_unit}.py onto the board (mpremote cp), then set "desk" in
board.json to the desk the panel sits at.
"""

import json
import time

import machine

from branchline.proto.panel_unit import PanelUnit

FIRMWARE = "ref-panel-1.0"
DEBOUNCE_MS = 20  # a button's level must hold this long to count


class Debounced:
    """A button to ground: a press is the level going low and staying low DEBOUNCE_MS."""

    def __init__(self, pin):
        self.pin = pin
        self.stable = pin.value()
        self._seen = self.stable
        self._since = 0

    def pressed(self, now):
        """Did a press become certain at `now`? (Bounces within DEBOUNCE_MS never count.)"""
        level = self.pin.value()
        if level != self._seen:
            self._seen = level
            self._since = now
            return False
        if level != self.stable and now - self._since >= DEBOUNCE_MS:
            self.stable = level
            return level == 0
        return False


class PanelBoard:
    def __init__(self, config):
        u = config["uart"]
        self.uart = machine.UART(u["id"], baudrate=u["baud"], tx=u["tx"], rx=u["rx"])
        self.de = machine.Pin(u["de"], machine.Pin.OUT, value=0)
        self.buttons = []
        for name in sorted(config["buttons"]):
            pin = machine.Pin(config["buttons"][name], machine.Pin.IN, machine.Pin.PULL_UP)
            self.buttons.append((name, Debounced(pin)))
        self.red = machine.Pin(config["led"]["red"], machine.Pin.OUT, value=0)
        self.green = machine.Pin(config["led"]["green"], machine.Pin.OUT, value=0)
        self.buzzer = machine.PWM(machine.Pin(config["buzzer"]["pin"]),
                                  freq=config["buzzer"]["freq"], duty_u16=0)
        self.unit = PanelUnit(config["desk"], FIRMWARE)
        self._buzzing = None

    def step(self, now):
        """One turn of the loop at `now` (ms since start)."""
        data = self.uart.read()
        if data:
            answer = self.unit.receive_data(data, now)
            if answer:
                self.de.value(1)
                self.uart.write(answer)
                self.uart.flush()  # the last byte has left: release the line
                self.de.value(0)
        for name, button in self.buttons:
            if button.pressed(now):
                self.unit.press(name)
        colour, buzz = self.unit.outputs(now)
        self.red.value(1 if colour in ("RED", "AMBER") else 0)
        self.green.value(1 if colour in ("GREEN", "AMBER") else 0)
        if buzz != self._buzzing:
            self._buzzing = buzz
            self.buzzer.duty_u16(32768 if buzz else 0)


def load_config(path="board.json"):
    with open(path) as f:
        return json.load(f)


def run(board):
    """Forever: time as ms since start, immune to ticks_ms() wrapping around."""
    last = time.ticks_ms()
    now = 0
    while True:
        tick = time.ticks_ms()
        now += time.ticks_diff(tick, last)
        last = tick
        board.step(now)
        time.sleep_ms(2)
