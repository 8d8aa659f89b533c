"""The desk button panel on CPython: presses become journaled events, LED effects
become frames (docs/panel-protocol.md)."""

from branchline.core import events
from branchline.ports.cpython.clock import now_ms
from branchline.ports.cpython.serial_link import SerialLink
from branchline.proto import panel, panel_events


class PanelPort:
    def __init__(self, app, cfg):
        self.app = app
        self.reader = panel.PanelReader()
        self.link = SerialLink(
            app.loop,
            cfg["port"],
            int(cfg.get("baud", 115200)),
            self._on_data,
            self._send_all_leds,
            self._on_lost,
            app.log,
            "panel",
        )

    def _on_lost(self):
        self.reader = panel.PanelReader()

    def _send_all_leds(self):
        for effect in self.app.core.pending_effects():
            if effect[0] == "led":
                self.set_led(effect[1], effect[2])

    def set_led(self, desk, state):
        self.link.write(panel.encode_led(desk, state))

    def _on_data(self, data):
        self.reader.receive_data(data)
        frames, errors = self.reader.read_all()
        for reason in errors:
            self.app.log.warn("panel_bad_frame", reason=reason)
        for ev in frames:
            if isinstance(ev, panel_events.Hello):
                self.app.log.info("panel_hello", desks=ev.desks, version=ev.version)
                self._send_all_leds()
            elif isinstance(ev, panel_events.Button) and ev.pressed:
                self.app.log.info("panel_button", desk=ev.desk, button=ev.button)
                self.app.submit(events.make("button", now_ms(), desk=ev.desk, button=ev.button))
