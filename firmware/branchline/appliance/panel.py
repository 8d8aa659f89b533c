"""The desk panels' bus: polls go out on a timer while the port is open,
presses become journaled events, LED and offer effects ride on the next polls
(docs/panel-protocol.md)."""

import asyncio

from branchline.appliance.link import stop_task
from branchline.core import events
from branchline.proto import panel_events
from branchline.proto.panel_bus import PanelBus

BUZZ_MS = 400  # the buzzer's note when a conversation is offered to a desk


class PanelPort:
    def __init__(self, app, cfg):
        self.app = app
        self.bus = PanelBus(app.core.desks)
        for desk in app.core.desks:
            self.bus.resume(desk, app.core.panel_press(desk))
        self._poller = None
        self.link = app.link("panel", cfg, self._on_data, self._on_open, self._on_lost)

    def _on_open(self):
        for effect in self.app.core.pending_effects():
            if effect[0] == "led":
                self.set_led(effect[1], effect[2])
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll())

    def _on_lost(self):
        poller, self._poller = self._poller, None
        stop_task(poller)

    def close(self):
        self._on_lost()
        self.link.close()

    def set_led(self, desk, state):
        self.bus.set_led(desk, state)

    def offered(self, desk):
        self.bus.buzz(desk, BUZZ_MS)

    def state(self, desk):
        return self.bus.state(desk)

    async def _poll(self):
        now_ms = self.app.now_ms
        me = asyncio.current_task()
        while self._poller is me:
            data = self.bus.poll(now_ms())
            if data is not None:
                self.link.write(data)
            self._drain()
            await asyncio.sleep(max(0.002, (self.bus.due(now_ms()) - now_ms()) / 1000))

    def _on_data(self, data):
        self.bus.receive_data(data, self.app.now_ms())
        self._drain()

    def _drain(self):
        log = self.app.log
        found, errors = self.bus.read_all()
        for reason in errors:
            log.warn("panel_bad_frame", reason=reason)
        for ev in found:
            if isinstance(ev, panel_events.Pressed):
                log.info("panel_button", desk=ev.desk, button=ev.button)
                self.app.submit(events.make("button", self.app.now_ms(), desk=ev.desk,
                                            button=ev.button, press=ev.press))
            elif isinstance(ev, panel_events.PanelUp):
                log.info("panel_up", desk=ev.desk, firmware=ev.firmware or "", back=ev.back)
            elif isinstance(ev, panel_events.PanelLost):
                log.warn("panel_lost", desk=ev.desk)
