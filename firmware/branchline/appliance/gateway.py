"""The appliance's event path and housekeeping, on either runtime.

Every input becomes an event that is checked, written to the journal (grouped: one
sync per group) and only then applied to the core and acknowledged to the outside world
(a received SMS is deleted from the modem only after its event is durable).

A port subclasses Gateway and gives it its runtime:
- `now_ms()`: wall-clock ms (monotonic from here on: see submit);
- `blocking(function, *args)`: await function(*args) where it does not stall the serial
  lines (a thread on CPython; on MicroPython it runs there and then);
- `job(steps)`: await a long job given as a generator that yields between its steps and
  returns its result (a history rebuild, an erase's rewrite): in a thread on CPython,
  a step at a time between the loop's other work on MicroPython (run_steps, below);
- `later(delay_s, function)`: call it once after a delay; -> a handle with cancel();
- `link(name, cfg, on_data, on_open, on_lost)`: the serial link for a modem's or the
  panel's configuration: open(), write(data) -> False without a port, is_open,
  reopen(), close(); it calls on_data(bytes), on_open() and on_lost()
  (ports/cpython/serial_link.py, ports/micropython/uart_link.py);
- `make_uplink()`: the head-office link (appliance/uplink.py);
- `start_serving()`, `stop_serving()` (async): the port's own services, the console's
  server first, once the modems and the panel are open; `stop()` and `wait_stopped()`
  (async: until stop() or fail()).
"""

import asyncio

from branchline.appliance.journal_file import JournalWriteError, NotDurable
from branchline.appliance.modems import ModemPool
from branchline.appliance.panel import PanelPort
from branchline.core import branch as core_branch
from branchline.core import events, journal
from branchline.core.erasure import redact

TICK_S = 0.5
DISK_CHECK_MS = 60000
MAX_TIMER_S = 3600  # a timer further out is set again then


class Gateway:
    def __init__(self, cfg, log, store, history, boot_count):
        self.cfg = cfg
        self.log = log
        self.core = core_branch.Branch(cfg)
        self.store = store
        self.history = history
        self.boot_count = boot_count
        self.console = None  # the port's: changed(event, effects), publish()
        self.modems = None
        self.panel = None
        self.uplink = None
        self._tick_timer = None
        self._pending = []  # (event, after, done) not yet durable
        self._flusher = None  # the task journaling submitted events, while there are any
        self._last_t = 0
        self.failure = None  # why the gateway stopped itself, if it did
        self._snapshotting = None  # the task writing a snapshot, while one is
        self._snapshot_at = self.now_ms()

    # -- the event path ------------------------------------------------------------
    def submit(self, event, after=None, done=None):
        """Check, journal (grouped), apply, then run `after()` (what the event
        acknowledges, once it is durable) and `done(effects, error)`: error is the
        Rejected that refused it, or None."""
        # Event time never runs backwards (an NTP step on a board without a clock): the
        # core's timers and waits are measured between events.
        if isinstance(event.get("t"), int):
            event["t"] = max(event["t"], self._last_t)
            self._last_t = event["t"]
        try:
            self.core.check(event)
        except core_branch.Rejected as e:
            self.log.warn("event_rejected", kind=event.get("k"), reason=str(e))
            self._tell(done, None, e)
            return
        self._pending.append((event, after, done))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush_all())

    async def _flush_all(self):
        """Journal and apply what was submitted, group by group: while one group is
        being made durable, the next group gathers, so the sync's latency does not cap
        throughput."""
        try:
            while self._pending and self.failure is None:
                await self._flush_group()
        finally:
            self._flusher = None

    async def _flush_group(self):
        batch, self._pending = self._pending, []
        durable = []
        records = []
        for event, after, done in batch:
            try:
                records.append(journal.encode(event))
            except MemoryError as e:  # a board's heap: not refused, not taken now
                self.log.error("event_unjournalable", kind=event.get("k"), reason=repr(e))
                self._tell(done, None, NotDurable("out of memory: try again"))
                continue
            except (TypeError, ValueError) as e:
                # An adapter built an event the journal cannot hold: refuse it alone.
                self.log.error("event_unjournalable", kind=event.get("k"), reason=str(e))
                self._tell(done, None, core_branch.Rejected(str(e)))
                continue
            durable.append((event, after, done))
        if not durable:
            return
        try:
            await self.blocking(self.store.append, records)
        except MemoryError as e:
            # A board's heap had no room for the group: nothing is durable and nothing
            # acknowledged (an SMS stays on the modem, its sweep brings it again).
            self.log.error("journal_write_failed", reason=repr(e), records=len(records))
            for _, _, done in durable:
                self._tell(done, None, NotDurable("out of memory: try again"))
            return
        except Exception as e:  # JournalWriteError, or a journal in a state it cannot be
            # Nothing of this group is durable, so nothing may be acknowledged (no SMS
            # deleted, no request answered OK). Without a journal the appliance cannot
            # keep its promise: stop, and let the supervisor restart it.
            self.log.error("journal_write_failed", reason=str(e) if isinstance(
                e, JournalWriteError) else repr(e), records=len(records))
            for _, _, done in durable:
                self._tell(done, None, NotDurable("journal unavailable"))
            self.fail("journal write failed")
            return
        kinds = {}
        for event, _, _ in durable:
            kinds[event["k"]] = True
        self.log.info("journaled", records=len(records), kinds=",".join(sorted(kinds)))
        for event, after, done in durable:
            try:
                effects = self.core.apply(event)
            except core_branch.Rejected as e:
                # Valid when checked, overtaken by an earlier event of the same group:
                # replay rejects it the same way, so state stays deterministic.
                self.log.warn("event_rejected", kind=event["k"], reason=str(e))
                self._tell(done, None, e)
                continue
            except Exception as e:  # a bug: say so loudly, keep serving the branch
                self.log.error("event_failed", kind=event["k"], reason=repr(e))
                self._tell(done, None, core_branch.Rejected("internal error: %r" % (e,)))
                self._acknowledge(after)  # the event is durable: what it acknowledges is safe
                continue
            try:
                self.run_effects(effects)  # an erase reads the index before it forgets
                self.history.feed(effects, self.core.events_applied)
                if self.console is not None:
                    self.console.changed(event, effects)
            except Exception as e:  # a bug, or no memory left: the rest of the group
                # is journaled and must still be applied, or the core would fall behind
                # its journal until the next start.
                self.log.error("effects_failed", kind=event["k"], reason=repr(e))
            self._acknowledge(after)
            self._tell(done, effects, None)
        try:
            self.history.commit()
            if self.console is not None:
                self.console.publish()
            self._schedule_tick()
            if self.store.since_snapshot >= self.cfg["snapshot_every_events"]:
                self._snapshot("events")
        except Exception as e:  # applied and acknowledged already: say so, carry on
            self.log.error("group_aftermath_failed", reason=repr(e))

    def _tell(self, done, effects, error):
        """The submitter's `done`: its bug must not stop the rest of the group."""
        if done is not None:
            try:
                done(effects, error)
            except Exception as e:
                self.log.error("callback_failed", what="done", reason=repr(e))

    def _acknowledge(self, after):
        if after is not None:
            try:
                after()
            except Exception as e:
                self.log.error("callback_failed", what="after", reason=repr(e))

    def _schedule_tick(self):
        """Have a `tick` event journaled when the core next has something due (a retry,
        a long message's timeout), and not otherwise."""
        due = self.core.next_due()
        if self._tick_timer is not None:
            self._tick_timer.cancel()
            self._tick_timer = None
        if due is None:
            return
        delay = max(0, due - self.now_ms()) / 1000
        if delay > MAX_TIMER_S:  # MicroPython's sleeps overflow past a few days
            self._tick_timer = self.later(MAX_TIMER_S, self._schedule_tick)
        else:
            self._tick_timer = self.later(
                delay, lambda: self.submit(events.make("tick", max(self.now_ms(), due))))

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
                asyncio.create_task(self._erase_from_journal(effect[1], ids, effect[2]))
            elif kind == "missed_break":
                self.log.warn("desk_break_missed_offers", desk=effect[1],
                              misses=self.cfg["max_missed_offers"])

    def fail(self, reason):
        """Stop with an error: the port exits non-zero so a supervisor restarts us."""
        if self.failure is None:
            self.failure = reason
        self.stop()

    def on_uplink_ack(self, seq):
        self.submit(events.make("uplink_ack", self.now_ms(), seq=seq))

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
        """Write the state beside a new journal segment (away from the serial lines,
        one at a time): start-up reads it instead of replaying what came before, and
        the segments it makes unnecessary go."""
        if self._snapshotting is not None:
            return self._snapshotting
        self._snapshot_at = self.now_ms()
        finish = self.store.begin_snapshot(self.core.dump(), events.SCHEMA, self.core.now)

        async def run():
            try:
                records, size, gone, archived = await self.blocking(finish)
                self.log.info("snapshot_written", why=why, records=records, bytes=size,
                              removed=len(gone), archived=len(archived))
                self.history.expire(self.core.now)
            except OSError as e:  # the journal still has everything: carry on
                self.log.error("snapshot_failed", reason=_reason(e))
            finally:
                self._snapshotting = None

        self._snapshotting = asyncio.create_task(run())
        return self._snapshotting

    async def _rebuild_history(self):
        """The history index rebuilt from the journal while the gateway serves; no
        snapshot moves segments into the archive meanwhile (it waits for this)."""
        try:
            await self.history.rebuild(self, self.store, self.core)
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

        job = asyncio.create_task(self.job(self.store.rewrite(transform)))
        self._snapshotting = job
        try:
            files, records = await job
            self.log.info("customer_erased", pseudonym=pseudonym, files=files, records=records,
                          conversations=len(conv_ids))
        except OSError as e:
            self.log.error("erase_rewrite_failed", pseudonym=pseudonym, reason=_reason(e))
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
            self.log.error("archive_trim_failed", reason=_reason(e))
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

    def housekeeping(self, t, state):
        """Once a TICK_S: the modems' timers, the metrics interval, time- and disk-driven
        snapshots. `state` is the ticker's [next metrics, next disk check] (ms)."""
        self.modems.tick()
        if t >= state[0]:
            state[0] = t + self.cfg["metrics_interval_s"] * 1000
            self.submit(events.make("metrics", t))
        if t - self._snapshot_at >= self.cfg["snapshot_every_s"] * 1000 and (
                self.store.since_snapshot):
            self._snapshot("time")
        if t >= state[1] and self._check_disk():
            state[1] = t + DISK_CHECK_MS

    async def _ticker(self):
        # A box that starts with a full card makes room at once.
        state = [self.now_ms() + self.cfg["metrics_interval_s"] * 1000, self.now_ms()]
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.housekeeping(self.now_ms(), state)
            except Exception as e:  # a bug, or no memory for a snapshot: next tick
                self.log.error("housekeeping_failed", reason=repr(e))

    async def run(self):
        self.uplink = self.make_uplink()
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
        await self.start_serving()
        if self.history.rebuild_needed:
            self._snapshotting = asyncio.create_task(self._rebuild_history())
        ticker = asyncio.create_task(self._ticker())
        self.log.info("gateway_started", site=self.cfg["site"], device=self.cfg["device"],
                      boot=self.boot_count)
        await self.wait_stopped()
        self.log.info("gateway_stopping")
        ticker.cancel()
        await self.stop_serving()
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
        await self.uplink.stop()
        self.store.close()
        self.history.close()
        self.log.info("gateway_stopped")


def run_steps(steps):
    """Run the long job `steps` to its end; -> its result."""
    try:
        while True:
            next(steps)
    except StopIteration as e:
        return e.value


def _reason(e):
    return getattr(e, "strerror", None) or str(e)
