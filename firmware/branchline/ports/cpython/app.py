"""The appliance on CPython: wires modems, the panel, the journal, the core, head office
and the agents' console together in one asyncio loop.

Every input becomes an event that is checked, written to the journal (grouped, one
fsync per group) and only then applied to the core and acknowledged to the outside world
(a received SMS is deleted from the modem only after its event is durable).
"""

import asyncio
import signal

from branchline.core import branch as core_branch
from branchline.core import events, journal
from branchline.core.erasure import redact
from branchline.ports.cpython.console import ConsoleHost
from branchline.ports.cpython.clock import now_ms
from branchline.ports.cpython.history_feed import History
from branchline.ports.cpython.journal_file import JournalWriteError, write_durably
from branchline.ports.cpython.modem_port import ModemPool
from branchline.ports.cpython.mqtt import Uplink
from branchline.ports.cpython.panel_port import PanelPort
from branchline.ports.cpython.store import Store

TICK_S = 0.5
DISK_CHECK_MS = 60000


class Gateway:
    def __init__(self, cfg, log, state_dir, console_socket):
        """`state_dir` (a startup.StateDir) and `console_socket` were claimed already:
        nothing here opens a port or a connection."""
        self.cfg = cfg
        self.log = log
        self.loop = None
        self.core = core_branch.Branch(cfg)
        self.store = Store(state_dir, log, cfg["retention_days"])
        self.history = History(cfg, state_dir.path, log)
        self.boot_count = self._count_boot(state_dir.join("boot_count"))
        self.console_socket = console_socket
        self.console = ConsoleHost(self, state_dir)
        self.modems = None
        self.panel = None
        self._tick_timer = None
        self.uplink = None
        self._pending = []  # (event, after, future) not yet durable
        self._flusher = None  # the task journaling submitted events, while there are any
        self._last_t = 0
        self._stopped = None
        self.failure = None  # why the gateway stopped itself, if it did
        self._snapshotting = None  # the task writing a snapshot, while one is
        self._snapshot_at = now_ms()

    def _count_boot(self, path):
        try:
            with open(path) as f:
                count = int(f.read().strip() or 0) + 1
        except (OSError, ValueError):
            count = 1
        write_durably(path, b"%d\n" % count)
        return count

    # -- the event path ------------------------------------------------------------
    def submit(self, event, after=None):
        """Check, journal (grouped), apply, then run `after`. Returns a future of the effects
        (or of the Rejected error)."""
        fut = self.loop.create_future()
        # Event time never runs backwards (an NTP step on a board without a clock): the
        # core's timers and waits are measured between events.
        if isinstance(event.get("t"), int):
            event["t"] = max(event["t"], self._last_t)
            self._last_t = event["t"]
        try:
            self.core.check(event)
        except core_branch.Rejected as e:
            fut.set_exception(e)
            fut.exception()  # callers that do not await still must not warn
            self.log.warn("event_rejected", kind=event.get("k"), reason=str(e))
            return fut
        self._pending.append((event, after, fut))
        if self._flusher is None:
            self._flusher = self.loop.create_task(self._flush_all())
        return fut

    async def _flush_all(self):
        """Journal and apply what was submitted, group by group: while one group's fsync
        runs (in a thread, so serial input keeps flowing), the next group gathers, so
        fsync latency does not cap throughput."""
        try:
            while self._pending and self.failure is None:
                await self._flush_group()
        finally:
            self._flusher = None

    async def _flush_group(self):
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
            await self.loop.run_in_executor(None, self.store.append, records)
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
            except Exception as e:  # a bug: say so loudly, keep serving the branch
                self.log.error("event_failed", kind=event["k"], reason=repr(e))
                fut.set_exception(core_branch.Rejected("internal error: %r" % (e,)))
                fut.exception()
                if after is not None:
                    after()  # the event is durable: what it acknowledges is safe
                continue
            self.run_effects(effects)  # an erase reads the index before it forgets
            self.history.feed(effects, self.core.events_applied)
            self.console.changed(event, effects)
            if after is not None:
                after()
            fut.set_result(effects)
        self.history.commit()
        self.console.publish()
        self._schedule_tick()
        if self.store.since_snapshot >= self.cfg["snapshot_every_events"]:
            self._snapshot("events")

    def _schedule_tick(self):
        """Have a `tick` event journaled when the core next has something due (a retry,
        a long message's timeout), and not otherwise."""
        due = self.core.next_due()
        if self._tick_timer is not None:
            self._tick_timer.cancel()
            self._tick_timer = None
        if due is not None:
            delay = max(0.0, (due - now_ms()) / 1000.0)
            self._tick_timer = self.loop.call_later(
                delay, lambda: self.submit(events.make("tick", max(now_ms(), due)))
            )

    def run_effects(self, effects):
        for effect in effects:
            kind = effect[0]
            if kind == "send_sms":
                self.modems.send(effect[1], effect[2], effect[3], effect[4])
            elif kind == "uplink":
                _, seq, what, payload = effect
                self.log.info("uplink_queued", seq=seq, kind=what)
                self.uplink.publish(seq, what, payload)
            elif kind == "led":
                if self.panel is not None:
                    self.panel.set_led(effect[1], effect[2])
            elif kind == "returned":
                self.log.info("returned", conv=effect[1], desk=effect[2])
            elif kind == "refused":
                self.log.warn("refused", reason=effect[1])
            elif kind in ("offered", "accepted"):
                if kind == "offered" and self.panel is not None:
                    self.panel.offered(effect[2])
                conv = self.core.conversations.get(effect[1])  # gone if closed at once
                self.log.info(kind, conv=effect[1], desk=effect[2],
                              queue=conv.queue if conv else None,
                              customer=conv.customer if conv else None,
                              waited_ms=self.core.now - conv.created if conv else None,
                              deadline=conv.at(conv.offer_deadline) if conv else None)
            elif kind == "erase":
                ids = set(self.history.index.conversation_ids(effect[1]))
                self.loop.create_task(self._erase_from_journal(effect[1], ids, effect[2]))
            elif kind == "missed_break":
                self.log.warn("desk_break_missed_offers", desk=effect[1],
                              misses=self.cfg["max_missed_offers"])

    def fail(self, reason):
        """Stop with an error: the CLI exits non-zero so a supervisor restarts us."""
        if self.failure is None:
            self.failure = reason
        self._stopped.set()

    def _on_uplink_ack(self, seq):
        self.submit(events.make("uplink_ack", now_ms(), seq=seq))

    # -- lifecycle -----------------------------------------------------------------
    def replay(self):
        """Rebuild the core from the state folder (before run). Raises
        branch.SnapshotMismatch when the configuration does not fit the saved state."""
        replayed = self.store.load(self.core, self.history.replaying(self.core))
        self.history.caught_up(self.core)
        self._last_t = self.core.now
        self.log.info("journal_replayed", events=replayed, records=self.store.records,
                      conversations=len(self.core.conversations),
                      sms_outbox=len(self.core.sms_outbox),
                      uplink_outbox=len(self.core.uplink_outbox))

    def _snapshot(self, why):
        """Write the state beside a new journal segment (in a thread, one at a time):
        start-up reads it instead of replaying what came before, and the segments it
        makes unnecessary go."""
        if self._snapshotting is not None:
            return self._snapshotting
        self._snapshot_at = now_ms()
        finish = self.store.begin_snapshot(self.core.dump(), events.SCHEMA, self.core.now)

        async def run():
            try:
                records, size, gone, archived = await self.loop.run_in_executor(None, finish)
                self.log.info("snapshot_written", why=why, records=records, bytes=size,
                              removed=len(gone), archived=len(archived))
                self.history.expire(self.core.now)
            except OSError as e:  # the journal still has everything: carry on
                self.log.error("snapshot_failed", reason=e.strerror or str(e))
            finally:
                self._snapshotting = None

        self._snapshotting = self.loop.create_task(run())
        return self._snapshotting

    async def _rebuild_history(self):
        """The history index rebuilt from the journal while the gateway serves; no
        snapshot moves segments into the archive meanwhile (it waits for this)."""
        try:
            await self.history.rebuild(self.loop, self.store, self.core)
        finally:
            self._snapshotting = None

    async def _erase_from_journal(self, customer, conv_ids, pseudonym):
        """After an erase: a snapshot of the state without the number (the older ones
        go), then every kept segment rewritten without it, up to the erase record
        (core/erasure.py). No other snapshot or trim moves files meanwhile."""
        while self._snapshotting is not None:
            await self._snapshotting
        await self._snapshot("erase")
        done = [False]

        def transform(record):
            if done[0]:
                return record  # after the erase: the customer may have written again
            if record.get("k") == "erase" and record.get("customer") == customer:
                done[0] = True
            return redact(record, customer, conv_ids, pseudonym)

        job = self.loop.run_in_executor(None, self.store.rewrite, transform)
        self._snapshotting = job
        try:
            files, records = await job
            self.log.info("customer_erased", pseudonym=pseudonym, files=files, records=records,
                          conversations=len(conv_ids))
        except OSError as e:
            self.log.error("erase_rewrite_failed", pseudonym=pseudonym,
                           reason=e.strerror or str(e))
        finally:
            self._snapshotting = None

    def _check_disk(self):
        """At the ceiling, the archive's oldest segments go first (even inside
        `retention_days`), then the live segments are compacted into the archive (and
        go at the next check); open work and outboxes are never dropped. -> False when
        it must wait for the snapshot being written (which deletes from the archive
        too), to be tried again at the next tick."""
        if self._snapshotting is not None:
            return False
        ceiling = self.cfg["disk_ceiling_mb"] * 1024 * 1024
        try:
            cut, used = self.store.trim(ceiling)
        except OSError as e:
            self.log.error("archive_trim_failed", reason=e.strerror or str(e))
            return True
        if cut:
            self.log.warn("archive_trimmed", removed=len(cut), oldest=cut[0], bytes=used,
                          ceiling_mb=self.cfg["disk_ceiling_mb"])
        if used > ceiling:
            if self.store.since_snapshot:
                self._snapshot("disk")
            else:
                self.log.warn("disk_ceiling_reached", bytes=used,
                              ceiling_mb=self.cfg["disk_ceiling_mb"])
        return True

    async def _ticker(self):
        interval_ms = self.cfg["metrics_interval_s"] * 1000
        next_metrics = now_ms() + interval_ms
        next_disk = now_ms()  # a box that starts with a full card makes room at once
        while True:
            await asyncio.sleep(TICK_S)
            self.modems.tick()
            t = now_ms()
            if t >= next_metrics:
                next_metrics = t + interval_ms
                self.submit(events.make("metrics", t))
            if t - self._snapshot_at >= self.cfg["snapshot_every_s"] * 1000 and (
                    self.store.since_snapshot):
                self._snapshot("time")
            if t >= next_disk and self._check_disk():
                next_disk = t + DISK_CHECK_MS

    async def run(self):
        self.loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.loop.add_signal_handler(sig, self._stopped.set)
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
        self.modems = ModemPool(self, self.cfg.get("modems", []))
        if self.cfg.get("panel"):
            self.panel = PanelPort(self, self.cfg["panel"])
        self.modems.open()
        self._schedule_tick()
        if self.panel is not None:
            self.panel.link.open()
        await self.console.start(self.console_socket)
        if self.history.rebuild_needed:
            self._snapshotting = self.loop.create_task(self._rebuild_history())
        ticker = asyncio.ensure_future(self._ticker())
        self.log.info("gateway_started", site=self.cfg["site"], device=self.cfg["device"],
                      boot=self.boot_count)
        await self._stopped.wait()
        self.log.info("gateway_stopping")
        ticker.cancel()
        await self.console.stop()
        self.modems.close()
        if self.panel is not None:
            self.panel.close()
        if self._flusher is not None:
            await self._flusher  # what was submitted is journaled before we go
        if self._pending:
            await self._flush_all()
        self.history.stop_rebuild()
        if self._snapshotting is not None:
            await self._snapshotting
        if self.store.since_snapshot and self.failure is None:
            await self._snapshot("stop")  # the next start has nothing to replay
        self.uplink.stop()
        self.store.close()
        self.history.close()
        self.log.info("gateway_stopped")
