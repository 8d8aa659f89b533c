"""The appliance on CPython: wires modems, the panel, the journal, the core, head office
and the agents' console together in one asyncio loop.

Every input becomes an event that is checked, written to the journal (grouped, one
fsync per group) and only then applied to the core and acknowledged to the outside world
(a received SMS is deleted from the modem only after its event is durable).
"""

import asyncio
import binascii
import os
import signal


from branchline.core import branch as core_branch
from branchline.core import journal
from branchline.ports.cpython import console
from branchline.ports.cpython.clock import now_ms
from branchline.ports.cpython.journal_file import FileJournal, JournalWriteError, fsync_dir
from branchline.ports.cpython.mqtt import Uplink
from branchline.ports.cpython.serial_link import SerialLink
from branchline.proto import at, modem, panel

TICK_S = 0.5


class ModemPort:
    """One modem: its serial link and its sans-I/O driver."""

    def __init__(self, app, cfg):
        self.app = app
        self.id = cfg["id"]
        self.direct = cfg.get("direct", False)
        self.driver = modem.ModemDriver(direct=self.direct)
        self.link = SerialLink(
            app.loop,
            cfg["port"],
            int(cfg.get("baud", 115200)),
            self._on_data,
            self._on_open,
            self._on_lost,
            app.log,
            "modem:" + self.id,
        )

    def _on_open(self):
        self.driver = modem.ModemDriver(direct=self.direct)
        self.driver.start(now_ms())
        self.flush()
        # Init begins once the ESC that opens it has drained: tick then, not a period later.
        self.app.loop.call_later(at.DRAIN_MS / 1000.0 + 0.01, self.tick)
        # SMS the core still owes go out again through the fresh driver.
        for effect in self.app.core.pending_effects():
            if effect[0] == "send_sms" and effect[2] == self.id:
                self.send_sms(effect[1], effect[3], effect[4])

    def _on_lost(self):
        self.driver = modem.ModemDriver(direct=self.direct)

    def _on_data(self, data):
        self.driver.receive_data(data, now_ms())
        self.pump()

    def tick(self):
        self.driver.tick(now_ms())
        self.pump()

    def flush(self):
        self.link.write(self.driver.data_to_send())

    def send_sms(self, out_id, number, text):
        if self.link.port is None:
            return  # resent from the outbox when the port reopens
        try:
            self.driver.send_sms(out_id, number, text, now_ms())
        except ValueError as e:
            self.app.log.error("sms_refused", out=out_id, reason=str(e))
            self.app.submit({"k": "sms_sent", "t": now_ms(), "out": out_id, "ok": False,
                             "reason": str(e)})
        self.flush()

    def pump(self):
        while True:
            ev = self.driver.next_event()
            if ev is at.NEED_DATA:
                break
            self._on_event(ev)
        self.flush()

    def _on_event(self, ev):
        log = self.app.log
        t = now_ms()
        if isinstance(ev, modem.SmsReceived):
            msg = ev.message
            event = {
                "k": "sms_in",
                "t": t,
                "modem": self.id,
                "from": msg.sender,
                "text": msg.text,
                "scts": msg.scts_iso(),
                "slot": ev.slot,
                # Same modem, same stored PDU (which includes the SMSC timestamp): same
                # message, even when it is read a second time after a crash.
                "fp": "%s:%08x" % (self.id, binascii.crc32(ev.pdu.encode())),
            }
            log.info("sms_received", modem=self.id, slot=ev.slot, **{"from": msg.sender},
                     chars=len(msg.text), encoding=msg.encoding)
            self.app.submit(event, after=lambda slot=ev.slot: self._release(slot))
        elif isinstance(ev, modem.SmsUndecodable):
            log.warn("sms_undecodable", modem=self.id, slot=ev.slot, reason=ev.reason)
            event = {"k": "sms_bad", "t": t, "modem": self.id, "pdu": ev.pdu,
                     "reason": ev.reason}
            self.app.submit(event, after=lambda slot=ev.slot: self._release(slot))
        elif isinstance(ev, modem.SmsSent):
            log.info("sms_sent", modem=self.id, out=ev.ref, mr=ev.message_refs)
            self.app.submit({"k": "sms_sent", "t": t, "out": ev.ref, "ok": True})
        elif isinstance(ev, modem.SmsFailed):
            log.warn("sms_failed", modem=self.id, out=ev.ref, reason=ev.reason)
            self.app.submit({"k": "sms_sent", "t": t, "out": ev.ref, "ok": False,
                             "reason": ev.reason})
        elif isinstance(ev, modem.SmsDeleted):
            log.info("sms_deleted", modem=self.id, slot=ev.slot)
        elif isinstance(ev, modem.ModemReady):
            log.info("modem_ready", modem=self.id)
        elif isinstance(ev, modem.ModemProblem):
            log.warn("modem_problem", modem=self.id, reason=ev.reason)
        elif isinstance(ev, at.Urc):
            log.info("modem_urc", modem=self.id, name=ev.name)
        else:
            log.debug("modem_noise", modem=self.id, line=getattr(ev, "line", repr(ev)))

    def _release(self, slot):
        """The message is durable: free its storage slot, or acknowledge a direct one."""
        if slot is None:
            self.driver.ack_direct(now_ms())
        else:
            self.driver.delete(slot, now_ms())
        self.flush()


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
        events, errors = self.reader.read_all()
        for reason in errors:
            self.app.log.warn("panel_bad_frame", reason=reason)
        for ev in events:
            if isinstance(ev, panel.Hello):
                self.app.log.info("panel_hello", desks=ev.desks, version=ev.version)
                self._send_all_leds()
            elif isinstance(ev, panel.Button) and ev.pressed:
                self.app.log.info("panel_button", desk=ev.desk, button=ev.button)
                self.app.submit(
                    {"k": "button", "t": now_ms(), "desk": ev.desk, "button": ev.button}
                )


class Gateway:
    def __init__(self, cfg, log):
        self.cfg = cfg
        self.log = log
        self.loop = None
        self.core = core_branch.Branch(cfg)
        state_dir = cfg.get("state_dir", "state")
        self.journal = FileJournal(os.path.join(state_dir, "journal.bin"), log)
        self.boot_count = self._count_boot(state_dir)
        self.modems = {}
        self.panel = None
        self.uplink = None
        self._pending = []  # (event, after, future) not yet durable
        self._flush_scheduled = False
        self._stopped = None
        self.failure = None  # why the gateway stopped itself, if it did

    def _count_boot(self, state_dir):
        path = os.path.join(state_dir, "boot_count")
        try:
            with open(path) as f:
                count = int(f.read().strip() or 0) + 1
        except (OSError, ValueError):
            count = 1
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % count)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path)
        return count

    # -- the event path ------------------------------------------------------------
    def submit(self, event, after=None):
        """Check, journal (grouped), apply, then run `after`. Returns a future of the effects
        (or of the Rejected error)."""
        fut = self.loop.create_future()
        try:
            self.core.check(event)
        except core_branch.Rejected as e:
            fut.set_exception(e)
            fut.exception()  # callers that do not await still must not warn
            self.log.warn("event_rejected", kind=event.get("k"), reason=str(e))
            return fut
        self._pending.append((event, after, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)
        return fut

    def _flush(self):
        self._flush_scheduled = False
        batch, self._pending = self._pending, []
        durable = []
        records = []
        for event, after, fut in batch:
            try:
                records.append(journal.encode(event))
            except (TypeError, ValueError) as e:
                # An adapter built an event the journal cannot hold: refuse it alone.
                self.log.error("event_unjournalable", kind=event.get("k"), reason=str(e))
                fut.set_exception(core_branch.Rejected(str(e)))
                fut.exception()
                continue
            durable.append((event, after, fut))
        if not durable:
            return
        try:
            self.journal.append(records)
        except JournalWriteError as e:
            # Nothing of this group is durable, so nothing may be acknowledged (no SMS
            # deleted, no request answered OK). Without a journal the appliance cannot
            # keep its promise: stop, and let the supervisor restart it.
            self.log.error("journal_write_failed", reason=str(e), records=len(records))
            for _, _, fut in durable:
                fut.set_exception(core_branch.Rejected("journal unavailable"))
                fut.exception()
            self.fail("journal write failed")
            return
        self.log.info("journaled", records=len(records), kinds=",".join(
            sorted(set(event["k"] for event, _, _ in durable))))
        for event, after, fut in durable:
            try:
                effects = self.core.apply(event)
            except core_branch.Rejected as e:
                # Valid when checked, overtaken by an earlier event of the same group:
                # replay rejects it the same way, so state stays deterministic.
                self.log.warn("event_rejected", kind=event["k"], reason=str(e))
                fut.set_exception(e)
                fut.exception()
                continue
            self.run_effects(effects)
            if after is not None:
                after()
            fut.set_result(effects)

    def run_effects(self, effects):
        for effect in effects:
            kind = effect[0]
            if kind == "send_sms":
                _, out_id, modem_id, number, text = effect
                port = self.modems.get(modem_id) or next(iter(self.modems.values()))
                self.log.info("sms_queued", out=out_id, modem=port.id, to=number)
                port.send_sms(out_id, number, text)
            elif kind == "uplink":
                _, seq, what, payload = effect
                self.log.info("uplink_queued", seq=seq, kind=what)
                self.uplink.publish(seq, what, payload)
            elif kind == "led":
                if self.panel is not None:
                    self.panel.set_led(effect[1], effect[2])
            elif kind == "assigned":
                conv = self.core.conversations[effect[1]]
                self.log.info("assigned", conv=effect[1], desk=effect[2], queue=conv.queue,
                              customer=conv.customer, waited_ms=conv.assigned - conv.created)

    def fail(self, reason):
        """Stop with an error: the CLI exits non-zero so a supervisor restarts us."""
        if self.failure is None:
            self.failure = reason
        self._stopped.set()

    def _on_uplink_ack(self, seq):
        self.submit({"k": "uplink_ack", "t": now_ms(), "seq": seq})

    # -- lifecycle -----------------------------------------------------------------
    def _replay(self):
        events = self.journal.replay()
        for event in events:
            try:
                self.core.apply(event)
            except core_branch.Rejected as e:
                self.log.warn("replay_skipped", kind=event.get("k"), reason=str(e))
        self.log.info("journal_replayed", events=len(events),
                      conversations=len(self.core.conversations),
                      sms_outbox=len(self.core.sms_outbox),
                      uplink_outbox=len(self.core.uplink_outbox))

    async def _ticker(self):
        interval_ms = self.cfg["metrics_interval_s"] * 1000
        next_metrics = now_ms() + interval_ms
        while True:
            await asyncio.sleep(TICK_S)
            for port in self.modems.values():
                port.tick()
            t = now_ms()
            if t >= next_metrics:
                next_metrics = t + interval_ms
                self.submit({"k": "tick", "t": t})

    async def run(self):
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(sig, self._stopped.set)
        self._replay()
        self.uplink = Uplink(
            self.cfg.get("mqtt", {}),
            self.cfg["site"],
            self.cfg["device"],
            self.loop,
            self._on_uplink_ack,
            self.log,
            now_ms,
            self.boot_count,
            self.cfg.get("config_version", 0),
        )
        for effect in self.core.pending_effects():
            if effect[0] == "uplink":
                self.uplink.publish(effect[1], effect[2], effect[3])
        self.uplink.start()
        for mcfg in self.cfg.get("modems", []):
            self.modems[mcfg["id"]] = ModemPort(self, mcfg)
        if self.cfg.get("panel"):
            self.panel = PanelPort(self, self.cfg["panel"])
        for port in self.modems.values():
            port.link.open()
        if self.panel is not None:
            self.panel.link.open()
        runner = await console.start(self, self.cfg.get("console", {}))
        ticker = asyncio.ensure_future(self._ticker())
        self.log.info("gateway_started", site=self.cfg["site"], device=self.cfg["device"],
                      boot=self.boot_count)
        await self._stopped.wait()
        self.log.info("gateway_stopping")
        ticker.cancel()
        await runner.cleanup()
        for port in self.modems.values():
            port.link.close()
        if self.panel is not None:
            self.panel.link.close()
        if self._pending:
            self._flush()
        self.uplink.stop()
        self.journal.close()
        self.log.info("gateway_stopped")
