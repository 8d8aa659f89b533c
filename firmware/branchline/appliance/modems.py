"""The modems: each one's serial link and sans-I/O driver, and the pool that chooses
which modem sends what.

Inbound comes from every modem. Outbound goes through the modem the customer wrote to
when it is in service, else through the least busy one in service; while none is, SMS
wait in the core's outbox and go out when a modem becomes ready. A modem that stops
answering is rebooted (AT+CFUN=1,1), then reopened; the others carry on meanwhile.
"""

import binascii
import hashlib

from branchline.appliance.journal_file import NotDurable
from branchline.core import events
from branchline.proto import at, at_events, modem, modem_events, sans_io

RESETS_BEFORE_REOPEN = 2


class ModemPort:
    def __init__(self, pool, cfg):
        self.pool = pool
        self.app = pool.app
        self.now_ms = pool.app.now_ms
        self.id = cfg["id"]
        self.direct = cfg.get("direct", False)
        self.hangup_after_rings = cfg.get("hangup_after_rings", 2)
        # Signal, registration and SIM, and a sweep that finds a message whose +CMTI
        # got lost, this often.
        self.health_every_ms = cfg.get("health_interval_s", 60) * 1000
        self.driver = modem.ModemDriver(direct=self.direct)
        self.resets = 0
        self.next_health = 0
        self.link = self.app.link("modem:" + self.id, cfg, self._on_data, self._on_open,
                                  self._on_lost)

    @property
    def in_service(self):
        """Open, initialised, and not known to lack a SIM or a network (as last polled):
        a modem without them accepts AT+CMGS only to fail it."""
        health = self.driver.health
        return (
            self.link.is_open
            and self.driver.ready
            and health.sim_ready is not False
            and health.registered is not False
        )

    # -- link --------------------------------------------------------------------
    def _on_open(self):
        self.driver = modem.ModemDriver(direct=self.direct)
        self.driver.start(self.now_ms())
        self.next_health = self.now_ms() + self.health_every_ms
        self.flush()
        # Init begins once the ESC that opens it has drained: tick then, not a period later.
        self.app.later(at.DRAIN_MS / 1000 + 0.01, self.tick)

    def _on_lost(self):
        self.driver = modem.ModemDriver(direct=self.direct)
        self.pool.forget_in_flight(self)

    def _on_data(self, data):
        self.driver.receive_data(data, self.now_ms())
        self.pump()

    def tick(self):
        t = self.now_ms()
        if self.driver.ready and t >= self.next_health:
            self.next_health = t + self.health_every_ms
            self.driver.poll_health(t)
            self.driver.sweep(t)
        self.driver.tick(t)
        self.pump()

    def flush(self):
        self.link.write(self.driver.data_to_send())

    def send_sms(self, out_id, number, text):
        try:
            self.driver.send_sms(out_id, number, text, self.now_ms())
        except ValueError as e:  # a number or text no PDU can carry: final
            self.pool.done(out_id)
            self.app.log.error("sms_refused", out=out_id, reason=str(e))
            self.app.submit(events.make("sms_sent", self.now_ms(), out=out_id, ok=False,
                                        kind="permanent", reason=str(e)))
        self.flush()

    # -- driver events -----------------------------------------------------------
    def pump(self):
        while True:
            ev = self.driver.next_event()
            if ev is sans_io.NEED_DATA:
                break
            handler = _HANDLERS.get(type(ev))
            if handler is None:
                self.app.log.debug("modem_noise", modem=self.id, line=getattr(ev, "line", repr(ev)))
            else:
                handler(self, ev)
        self.flush()

    def _sms_received(self, ev):
        msg = ev.message
        event = events.make(
            "sms_in", self.now_ms(), modem=self.id, text=msg.text, scts=msg.scts_iso(),
            slot=ev.slot,
            # The stored PDU (sender, SMSC timestamp, text, part header) identifies the
            # message whether it comes by +CMT, +CMTI or a sweep, or again after a crash.
            # 64 bits: with a CRC-32 one message in a million would pass for another.
            fp="%s:%s" % (self.id, _fingerprint(ev.pdu)),
            concat=list(msg.concat) if msg.concat is not None else None,
            # Its TP-UDL claims more than the modem gave: the text is what was there.
            truncated=True if msg.truncated else None,
            **{"from": msg.sender})
        if msg.truncated:
            self.app.log.warn("sms_truncated", modem=self.id, slot=ev.slot, chars=len(msg.text))
        self.app.log.info("sms_received", modem=self.id, slot=ev.slot, chars=len(msg.text),
                          encoding=msg.encoding, part=event.get("concat"),
                          **{"from": msg.sender})

        def refused(effects, error):
            # Refused by the core (not for a well-formed SMS, but a modem can report
            # anything): keep the raw PDU for a technician rather than lose it, and free
            # the slot only once that is journaled. Not journaled at all (no memory, no
            # journal): the message stays on the modem for the next sweep.
            if error is not None and not isinstance(error, NotDurable):
                self._keep_raw(ev, str(error))

        self.app.submit(event, after=lambda: self._release(ev.slot), done=refused)

    def _keep_raw(self, ev, reason):
        event = events.make("sms_bad", self.now_ms(), modem=self.id, pdu=ev.pdu, reason=reason)
        self.app.submit(event, after=lambda: self._release(ev.slot))

    def _sms_undecodable(self, ev):
        self.app.log.warn("sms_undecodable", modem=self.id, slot=ev.slot, reason=ev.reason)
        self._keep_raw(ev, ev.reason)

    def _release(self, slot, report_memory=None):
        """A message (or status report) is durable: free its storage slot (a report's in
        the memory it came from), or acknowledge it when it came directly (+CMT, +CDS:
        slot None)."""
        if slot is None:
            self.driver.ack_direct(self.now_ms())
        elif report_memory is not None:
            self.driver.delete_report(slot, self.now_ms(), report_memory)
        else:
            self.driver.delete(slot, self.now_ms())
        self.flush()

    def _pdu_junk(self, ev):
        self.app.log.warn("pdu_junk", modem=self.id, memory=ev.memory, slot=ev.slot,
                          junk=ev.junk)

    def _sms_deleted(self, ev):
        self.app.log.info("sms_deleted", modem=self.id, slot=ev.slot)

    def _sms_sent(self, ev):
        self.app.log.info("sms_sent", modem=self.id, out=ev.ref, mr=ev.message_refs)
        # In flight until the core has it: else another modem could send it again.
        self.app.submit(events.make("sms_sent", self.now_ms(), out=ev.ref, ok=True, modem=self.id,
                                    mr=ev.message_refs),
                        after=lambda: self.pool.done(ev.ref))

    def _sms_failed(self, ev):
        self.app.log.warn("sms_failed", modem=self.id, out=ev.ref, kind=ev.kind,
                          reason=ev.reason)
        if ev.kind == "modem":
            # No SIM, no network...: find out now, so the retry picks another modem.
            self.driver.poll_health(self.now_ms())
        self.app.submit(events.make("sms_sent", self.now_ms(), out=ev.ref, ok=False, kind=ev.kind,
                                    reason=ev.reason, modem=self.id),
                        after=lambda: self.pool.done(ev.ref))

    def _status_report(self, ev):
        r = ev.report
        self.app.log.info("sms_status", modem=self.id, mr=r.message_ref, status=r.status_kind,
                          detail=r.status_text)
        self.app.submit(events.make("sms_status", self.now_ms(), modem=self.id, mr=r.message_ref,
                                    to=r.recipient, status=r.status_kind),
                        after=lambda: self._release(ev.slot, ev.memory))

    def _pdu_ignored(self, ev):
        self.app.log.info("sms_ignored", modem=self.id, memory=ev.memory, slot=ev.slot,
                          reason=ev.reason)

    def _no_report_memory(self, ev):
        self.app.log.info("modem_no_report_memory", modem=self.id, memory=ev.memory,
                          reason=ev.reason)

    def _incoming_call(self, ev):
        self.app.log.info("call_ringing", modem=self.id, rings=ev.rings,
                          **{"from": ev.number or "hidden"})
        # Nobody can take it: hang up at once, the caller gets an SMS. Otherwise let it
        # ring a little, as a person would expect, then turn it into a callback request.
        nobody = not self.app.core.anyone_available()
        if ev.number is not None and (nobody or ev.rings >= self.hangup_after_rings):
            self.driver.hang_up(self.now_ms())

    def _call_ended(self, ev):
        self.app.log.info("call_ended", modem=self.id, rings=ev.rings, by_us=ev.by_us,
                          **{"from": ev.number or "hidden"})
        if ev.number is None:
            return  # a hidden number cannot be called back
        self.app.submit(events.make("call", self.now_ms(), modem=self.id, rings=ev.rings,
                                    **{"from": ev.number}))

    def _health(self, ev):
        self.app.log.info("modem_health", modem=self.id, **ev.as_dict())
        self.app.uplink.set_health(self.id, ev.as_dict())

    def _ready(self, ev):
        self.resets = 0
        self.app.log.info("modem_ready", modem=self.id)
        self.pool.send_owed()

    def _unresponsive(self, ev):
        self.pool.forget_in_flight(self)
        if self.resets < RESETS_BEFORE_REOPEN:
            self.resets += 1
            self.app.log.warn("modem_unresponsive", modem=self.id, action="reboot",
                              timeouts=ev.timeouts)
            self.driver.reset(self.now_ms())
        else:
            self.resets = 0
            self.app.log.warn("modem_unresponsive", modem=self.id, action="reopen",
                              timeouts=ev.timeouts)
            self.link.reopen()

    def _rebooted(self, ev):
        self.pool.forget_in_flight(self)
        self.app.log.warn("modem_rebooted", modem=self.id, urc=ev.urc)

    def _problem(self, ev):
        self.app.log.warn("modem_problem", modem=self.id, reason=ev.reason)

    def _urc(self, ev):
        self.app.log.info("modem_urc", modem=self.id, name=ev.name)


def _fingerprint(pdu_hex):
    """64 bits of the PDU's SHA-256, in hex (the same on every runtime)."""
    return binascii.hexlify(hashlib.sha256(pdu_hex.encode()).digest()[:8]).decode()


_HANDLERS = {
    modem_events.SmsReceived: ModemPort._sms_received,
    modem_events.SmsUndecodable: ModemPort._sms_undecodable,
    modem_events.PduJunk: ModemPort._pdu_junk,
    modem_events.SmsDeleted: ModemPort._sms_deleted,
    modem_events.SmsSent: ModemPort._sms_sent,
    modem_events.SmsFailed: ModemPort._sms_failed,
    modem_events.StatusReport: ModemPort._status_report,
    modem_events.PduIgnored: ModemPort._pdu_ignored,
    modem_events.NoReportMemory: ModemPort._no_report_memory,
    modem_events.IncomingCall: ModemPort._incoming_call,
    modem_events.CallEnded: ModemPort._call_ended,
    modem_events.Health: ModemPort._health,
    modem_events.ModemReady: ModemPort._ready,
    modem_events.ModemUnresponsive: ModemPort._unresponsive,
    modem_events.ModemRebooted: ModemPort._rebooted,
    modem_events.ModemProblem: ModemPort._problem,
    at_events.Urc: ModemPort._urc,
}


class ModemPool:
    def __init__(self, app, configs):
        self.app = app
        self.ports = {}
        for cfg in configs:
            self.ports[cfg["id"]] = ModemPort(self, cfg)
        self._in_flight = {}  # out_id -> ModemPort sending it

    def open(self):
        for port in self.ports.values():
            port.link.open()

    def close(self):
        for port in self.ports.values():
            port.link.close()

    def tick(self):
        for port in self.ports.values():
            port.tick()
        # SMS that found no modem in service go out as soon as one is (its health came
        # back, another modem took over), not only when a modem re-initialises.
        self.send_owed()

    def send(self, out_id, preferred, number, text):
        """Send through `preferred` if in service, else the least busy modem in service;
        with none in service the SMS waits in the outbox for the next one that is."""
        if out_id in self._in_flight:
            return
        port = self.ports.get(preferred) if preferred else None
        if port is None or not port.in_service:
            ready = [p for p in self.ports.values() if p.in_service]
            if not ready:
                self.app.log.warn("sms_waiting", out=out_id, reason="no modem in service")
                return
            port = min(ready, key=lambda p: (p.driver.sending, p.id))
        self._in_flight[out_id] = port
        self.app.log.info("sms_queued", out=out_id, modem=port.id, to=number)
        port.send_sms(out_id, number, text)

    def send_owed(self):
        for effect in self.app.core.outbox.owed():
            self.send(effect[1], effect[2], effect[3], effect[4])

    def done(self, out_id):
        self._in_flight.pop(out_id, None)

    def forget_in_flight(self, port):
        """`port` lost what it was sending (gone, rebooted): those SMS are owed again."""
        for out_id in [o for o, p in self._in_flight.items() if p is port]:
            del self._in_flight[out_id]
