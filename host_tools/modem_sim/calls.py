"""Incoming voice calls: RING (or +CRING: VOICE under AT+CRC=1) every ring period, each
followed by +CLIP under AT+CLIP=1; ATH / AT+CHUP hang up; a caller who gives up after
`rings` rings leaves NO CARRIER."""

import time

from host_tools.modem_sim.parser import READ
from host_tools.modem_sim.results import NO_CARRIER, handles


class Call:
    """One incoming call, kept in `ModemSim.calls` for tests."""

    __slots__ = ("number", "max_rings", "rings", "ended_by", "started")

    def __init__(self, number, max_rings):
        self.number = number
        self.max_rings = max_rings  # the caller gives up after this many rings (None: never)
        self.rings = 0
        self.ended_by = None  # None while ringing, then 'modem', 'caller' or 'reset'
        self.started = time.monotonic()

    def __repr__(self):
        return "Call(%r, rings=%d, ended_by=%r)" % (self.number, self.rings, self.ended_by)


class CallCommands:
    def __init__(self, ring_period):
        self.ring_period = ring_period
        self.calls = []
        self._ringing = None  # (Call, Timer of its next ring)

    def reset_call_settings(self):
        self.clip = 0
        self.crc = 0

    # -- the network side ----------------------------------------------------------------
    def call(self, number, rings=None):
        """Someone calls: the first RING now, then one every ring_period. -> the Call."""
        with self.lock:
            if self._ringing is not None:
                raise ValueError("a call from %s is already ringing" % self._ringing[0].number)
            call = Call(number, rings)
            self.calls.append(call)
            self.on_log("incoming call from %s" % number)
            self._ring(call)
            return call

    def _ring(self, call):
        if call.max_rings is not None and call.rings >= call.max_rings:
            self.end_call("caller")
            self.urc(NO_CARRIER)
            return
        call.rings += 1
        self.urc("+CRING: VOICE" if self.crc else "RING")
        if self.clip:
            toa = 145 if call.number.startswith("+") else 129
            self.urc('+CLIP: "%s",%d,"",0,"",0' % (call.number, toa))
        self._ringing = (call, self.later(self.ring_period, self._ring, call))

    def end_call(self, by):
        if self._ringing is None:
            return
        call, timer = self._ringing
        timer.cancel()
        self._ringing = None
        call.ended_by = by
        self.on_log("call from %s ended by %s after %d rings" % (call.number, by, call.rings))

    # -- commands ------------------------------------------------------------------------
    @handles("H", "+CHUP")
    def _hang_up(self, cmd):
        # Hanging up when nothing rings is still OK, as on the modems simulated.
        self.end_call("modem")

    @handles("+CLIP", test="+CLIP: (0,1)")
    def _clip(self, cmd):
        if cmd.op == READ:
            self.info("+CLIP: %d,1" % self.clip)  # 1: CLIP is provisioned on the network
        else:
            self._setting(cmd, "clip", (0, 1))

    @handles("+CRC", test="+CRC: (0,1)")
    def _crc(self, cmd):
        self._setting(cmd, "crc", (0, 1))

