"""A desk button panel on a pseudo-terminal: buttons are pressed with `press()`, LED
commands from the appliance land in `leds` (see docs/panel-protocol.md)."""

import threading

from branchline.proto import panel, panel_events
from host_tools.pty_device import PtyDevice

FIRMWARE = "panel-sim-1.0"


class PanelSim(PtyDevice):
    def __init__(self, link, desks=4, on_log=None):
        super().__init__(link)
        self.desks = desks
        self.leds = {}
        self.bad_frames = 0
        self.on_log = on_log or (lambda text: None)
        self._reader = panel.PanelReader()
        self._changed = threading.Condition()

    def on_start(self):
        self.write(panel.encode_hello(self.desks, FIRMWARE))

    def press(self, desk, button):
        """A press and its release: two frames, as the panel's firmware sends them."""
        self.on_log("desk %d presses %s" % (desk, button))
        self.write(panel.encode_button(desk, button, True))
        self.write(panel.encode_button(desk, button, False))

    def send_raw(self, data):
        self.write(data)

    def wait_led(self, desk, state, timeout):
        with self._changed:
            return self._changed.wait_for(lambda: self.leds.get(desk) == state, timeout)

    def on_bytes(self, data):
        self._reader.receive_data(data)
        events, errors = self._reader.read_all()
        for reason in errors:
            self.bad_frames += 1
            self.on_log("bad frame from appliance: %s" % reason)
        for ev in events:
            if isinstance(ev, panel_events.Led):
                with self._changed:
                    if self.leds.get(ev.desk) != ev.state:
                        self.on_log("desk %d LED -> %s" % (ev.desk, ev.state))
                    self.leds[ev.desk] = ev.state
                    self._changed.notify_all()
